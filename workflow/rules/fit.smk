# One fit, its own job, for every kind of run (a method's seeds, warm starts, scaling
# points): svibench.study says which runs a study has and their options.
rule fit_svi:
    input:
        unpack(fit_inputs),
    output:
        draws=f"{RUN_DIR}/draws.parquet",
        trace=f"{RUN_DIR}/trace.parquet",
        params=f"{RUN_DIR}/params.npz",
        fit=f"{RUN_DIR}/fit.json",
        mocks=f"{RUN_DIR}/mocks.parquet",
        idata=f"{RUN_DIR}/posterior.nc",
    log:
        "results/logs/fit/{model}/{dataset}/{method}/{tag}.log",
    benchmark:
        "results/benchmarks/fit/{model}/{dataset}/{method}/{tag}.tsv"
    wildcard_constraints:
        method=one_of(methods_of_kind("svi")),
    priority: fit_priority
    conda:
        env_from_params
    threads: RESOURCES["fit_svi"]["threads"]
    resources:
        **sized("fit_svi", gpu=True),
    params:
        options=fit_options,
        cache=CFG["compilation_cache"],
        gpu_fallback=CFG["gpu_fallback"],
        conda_env=jax_env,
    script:
        "../scripts/fit.py"


# NUTS keeps no guide parameters; its chains run in one job.
use rule fit_svi as fit_nuts with:
    output:
        draws=f"{RUN_DIR}/draws.parquet",
        trace=f"{RUN_DIR}/trace.parquet",
        fit=f"{RUN_DIR}/fit.json",
        mocks=f"{RUN_DIR}/mocks.parquet",
        idata=f"{RUN_DIR}/posterior.nc",
    wildcard_constraints:
        method=one_of(methods_of_kind("nuts")),
    threads: RESOURCES["fit_nuts"]["threads"]
    resources:
        **sized("fit_nuts", gpu=True),


# Pathfinder (single- and multi-path, BlackJAX): no guide parameters, like NUTS.
use rule fit_svi as fit_pathfinder with:
    output:
        draws=f"{RUN_DIR}/draws.parquet",
        trace=f"{RUN_DIR}/trace.parquet",
        fit=f"{RUN_DIR}/fit.json",
        mocks=f"{RUN_DIR}/mocks.parquet",
        idata=f"{RUN_DIR}/posterior.nc",
    wildcard_constraints:
        method=one_of(methods_of_kind("pathfinder")),
    threads: RESOURCES["fit_pathfinder"]["threads"]
    resources:
        **sized("fit_pathfinder", gpu=True),
