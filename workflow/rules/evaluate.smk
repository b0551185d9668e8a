# The reference posterior of each dataset, and the scoring of every run against it.


# One reference posterior per (model, dataset): exact, grid, long-run NUTS, or draws given.
rule reference:
    input:
        unpack(dataset_files),
        unpack(given_reference),
        code=str(CODE / "reference.py"),
    output:
        draws=f"{REFERENCE_DIR}/draws.parquet",
        json=f"{REFERENCE_DIR}/reference.json",
        mocks=f"{REFERENCE_DIR}/mocks.parquet",
        idata=f"{REFERENCE_DIR}/posterior.nc",
    log:
        "results/logs/reference/{model}/{dataset}.log",
    benchmark:
        "results/benchmarks/reference/{model}/{dataset}.tsv"
    priority: reference_priority
    conda:
        JAX_CPU_ENV
    threads: RESOURCES["reference"]["threads"]
    resources:
        **sized("reference"),
    params:
        settings=reference_settings,
        cache=CFG["compilation_cache"],
        fast_compile=CFG["fast_compile"],
    script:
        "../scripts/reference.py"


# The noise floor's band of one reference (metrics.floor_splits random half-splits),
# once for all the fits scored against it rather than in each evaluate job.
rule floor:
    input:
        draws=f"{REFERENCE_DIR}/draws.parquet",
        json=f"{REFERENCE_DIR}/reference.json",
        code=[str(CODE / f"{m}.py") for m in ("metrics", "evaluate")],
    output:
        floor=f"{REFERENCE_DIR}/floor.json",
    log:
        "results/logs/floor/{model}/{dataset}.log",
    benchmark:
        "results/benchmarks/floor/{model}/{dataset}.tsv"
    conda:
        JAX_CPU_ENV
    threads: RESOURCES["evaluate"]["threads"]
    resources:
        **sized("evaluate"),
    params:
        settings=metrics_settings,
        # the numbers of draws of the fits scored against this reference
        sizes=floor_sizes,
    script:
        "../scripts/floor.py"


# metrics.json of each run: its draws and posterior predictive mocks against the
# reference of the dataset it was fitted on. A batch fit's seeds are scored in one job
# (one rule per seed set, as the fits); NUTS and warm starts one run per job.
for rule_name, kind, seeds, fits in STUDY.batch_rules():

    rule:
        name:
            rule_name.replace("fit_", "evaluate_", 1)
        input:
            unpack(batch_evaluate_inputs),
            code=[str(CODE / f"{m}.py") for m in ("metrics", "evaluate", "predictive")],
        output:
            metrics=[f"results/fits/{{fit}}/seed{seed}/metrics.json" for seed in seeds],
        log:
            "results/logs/evaluate/{fit}/seeds.log",
        benchmark:
            "results/benchmarks/evaluate/{fit}/seeds.tsv"
        wildcard_constraints:
            fit=one_of(fits),
        conda:
            JAX_CPU_ENV
        threads: RESOURCES["evaluate"]["threads"]
        resources:
            **sized("evaluate"),
        params:
            settings=batch_metrics_settings,
            labels=batch_labels,
        script:
            "../scripts/evaluate.py"


# metrics.json of one run (NUTS; a warm start below): as above, one run per job.
rule evaluate:
    input:
        unpack(dataset_files),
        draws=f"{RUN_DIR}/draws.parquet",
        fit=f"{RUN_DIR}/fit.json",
        mocks=f"{RUN_DIR}/mocks.parquet",
        ref_draws=f"{REFERENCE_DIR}/draws.parquet",
        ref_json=f"{REFERENCE_DIR}/reference.json",
        ref_mocks=f"{REFERENCE_DIR}/mocks.parquet",
        ref_floor=f"{REFERENCE_DIR}/floor.json",
        code=[str(CODE / f"{m}.py") for m in ("metrics", "evaluate", "predictive")],
    output:
        metrics=f"{RUN_DIR}/metrics.json",
    log:
        "results/logs/evaluate/{model}/{dataset}/{method}/{tag}.log",
    benchmark:
        "results/benchmarks/evaluate/{model}/{dataset}/{method}/{tag}.tsv"
    wildcard_constraints:
        method=one_of(methods_of_kind("nuts")),
    conda:
        JAX_CPU_ENV
    threads: RESOURCES["evaluate"]["threads"]
    resources:
        **sized("evaluate"),
    params:
        settings=metrics_settings,
        label=run_label,
    script:
        "../scripts/evaluate.py"


use rule evaluate as evaluate_warm with:
    wildcard_constraints:
        method=one_of(methods_of_kind("svi")),
        tag=S.WARM_TAG_PATTERN,


# Seconds and mean_err against D, and where SVI overtakes NUTS.
rule scaling_summary:
    input:
        metrics=[e["metrics"] for e in STUDY.scaling_entries()],
        code=[str(CODE / "scaling.py")] + EVALPLOT_CODE,
    output:
        summary=S.SCALING_SUMMARY,
        figure=report(
            S.SCALING_FIGURE, caption="../report/scaling.rst", category="Scaling"
        ),
    log:
        "results/logs/scaling/summary.log",
    benchmark:
        "results/benchmarks/scaling/summary.tsv"
    conda:
        JAX_CPU_ENV
    threads: 1
    resources:
        **sized("plot"),
    params:
        entries=STUDY.scaling_entries(),
        thresholds=CFG["metrics"]["thresholds"],
        style=CFG["plots"],
    script:
        "../scripts/scaling.py"


rule scaling:
    input:
        STUDY.scaling_outputs(),
