# A fit job per SVI or Pathfinder method and dataset: its seeds together (the SVI
# seeds as one compiled program), each seed's files in its own run folder. One rule
# per seed set (svibench.study.Study.batch_rules): fit_svi and fit_pathfinder for the
# study's usual seeds. Warm starts and NUTS are one run per job.
for rule_name, kind, seeds, fits in STUDY.batch_rules():

    rule:
        name:
            rule_name
        input:
            unpack(batch_inputs),
        output:
            **batch_outputs(kind, seeds),
        log:
            "results/logs/fit/{fit}/seeds.log",
        benchmark:
            "results/benchmarks/fit/{fit}/seeds.tsv"
        wildcard_constraints:
            fit=one_of(fits),
        priority: batch_priority
        conda:
            env_from_params
        threads: RESOURCES[f"fit_{kind}"]["threads"]
        resources:
            **sized(f"fit_{kind}", gpu=True),
        params:
            runs=batch_runs,
            cache=CFG["compilation_cache"],
            fast_compile=CFG["fast_compile"],
            gpu_fallback=CFG["gpu_fallback"],
            conda_env=jax_env,
        script:
            "../scripts/fit.py"


# A warm start: one SVI run continued from its method's first fit on another dataset.
rule warm_start:
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
        tag=S.WARM_TAG_PATTERN,
    priority: fit_priority
    conda:
        env_from_params
    threads: RESOURCES["fit_svi"]["threads"]
    resources:
        **sized("fit_svi", gpu=True),
    params:
        options=fit_options,
        cache=CFG["compilation_cache"],
        fast_compile=CFG["fast_compile"],
        gpu_fallback=CFG["gpu_fallback"],
        conda_env=jax_env,
    script:
        "../scripts/fit.py"


# NUTS keeps no guide parameters; its chains run in one job.
use rule warm_start as fit_nuts with:
    output:
        draws=f"{RUN_DIR}/draws.parquet",
        trace=f"{RUN_DIR}/trace.parquet",
        fit=f"{RUN_DIR}/fit.json",
        mocks=f"{RUN_DIR}/mocks.parquet",
        idata=f"{RUN_DIR}/posterior.nc",
    wildcard_constraints:
        method=one_of(methods_of_kind("nuts")),
        tag=S.SEED_TAG_PATTERN,
    threads: RESOURCES["fit_nuts"]["threads"]
    resources:
        **sized("fit_nuts", gpu=True),
