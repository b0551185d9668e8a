# Simulates a dataset from its seed, or validates and imports the user's CSV.
rule simulate:
    input:
        unpack(user_csv),
    output:
        csv=f"{DATA}.csv",
        meta=f"{DATA}.json",
    params:
        settings=dataset_settings,
    log:
        "results/logs/simulate/{model}/{dataset}.log",
    threads: 1
    resources:
        **sized("simulate"),
    conda:
        JAX_CPU_ENV
    script:
        "../scripts/simulate.py"
