# Simulates a dataset from its seed, or validates and imports the user's CSV.
rule simulate:
    input:
        unpack(user_csv),
    output:
        csv="data/{model}/{dataset}.csv",
        meta="data/{model}/{dataset}.json",
    params:
        settings=lambda w: CFG["models"][w.model]["datasets"][w.dataset],
    log:
        "results/logs/simulate/{model}/{dataset}.log",
    threads: 1
    resources:
        mem_mb=rule_resources("simulate")["mem_mb"],
        runtime=rule_resources("simulate")["runtime"],
    conda:
        JAX_CPU_ENV
    script:
        "../scripts/simulate.py"
