rule fit_nuts:
    input:
        unpack(data_inputs),
    output:
        draws=f"{FIT_DIR}/draws.parquet",
        trace=f"{FIT_DIR}/trace.parquet",
        fit=f"{FIT_DIR}/fit.json",
        mocks=f"{FIT_DIR}/mocks.parquet",
    params:
        options=lambda w: fit_options(CFG, w.model, w.method),
        cache=CFG["compilation_cache"],
        gpu_fallback=CFG["gpu_fallback"],
        conda_env=jax_env,
    wildcard_constraints:
        method="nuts",
    log:
        "results/logs/fit/{model}/{dataset}/{method}.log",
    priority: fit_job_priority
    threads: rule_resources("fit_nuts")["threads"]
    resources:
        mem_mb=rule_resources("fit_nuts")["mem_mb"],
        runtime=rule_resources("fit_nuts")["runtime"],
        gpu=rule_resources("fit_nuts")["gpu"],
    conda:
        env_from_params
    script:
        "../scripts/fit.py"


rule fit_svi:
    input:
        unpack(data_inputs),
    output:
        draws=f"{FIT_DIR}/draws.parquet",
        trace=f"{FIT_DIR}/trace.parquet",
        params=f"{FIT_DIR}/params.npz",
        fit=f"{FIT_DIR}/fit.json",
        mocks=f"{FIT_DIR}/mocks.parquet",
    params:
        options=lambda w: fit_options(CFG, w.model, w.method),
        cache=CFG["compilation_cache"],
        gpu_fallback=CFG["gpu_fallback"],
        conda_env=jax_env,
    wildcard_constraints:
        method="|".join(SVI_METHODS),
    log:
        "results/logs/fit/{model}/{dataset}/{method}.log",
    priority: fit_job_priority
    threads: rule_resources("fit_svi")["threads"]
    resources:
        mem_mb=rule_resources("fit_svi")["mem_mb"],
        runtime=rule_resources("fit_svi")["runtime"],
        gpu=rule_resources("fit_svi")["gpu"],
    conda:
        env_from_params
    script:
        "../scripts/fit.py"
