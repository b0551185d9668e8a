# Simulates a dataset from its seed, or validates and imports the user's CSV.
rule simulate:
    input:
        unpack(user_csv),
    output:
        csv=f"{DATA}.csv",
        meta=f"{DATA}.json",
    log:
        "results/logs/simulate/{model}/{dataset}.log",
    benchmark:
        "results/benchmarks/simulate/{model}/{dataset}.tsv"
    conda:
        JAX_CPU_ENV
    threads: 1
    resources:
        **sized("simulate"),
    params:
        settings=dataset_settings,
    script:
        "../scripts/simulate.py"
