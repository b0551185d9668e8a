# The scaling study: hier at J groups (config `scaling`), fitted and scored like the
# main study by the same scripts, under data/scaling/ and results/scaling/.


use rule simulate as scaling_simulate with:
    input:
        [],
    output:
        csv=f"{SCALING_DATA}.csv",
        meta=f"{SCALING_DATA}.json",
    params:
        settings=lambda w: scaling_settings(w.dataset),
    wildcard_constraints:
        model=SCALING_MODEL,
        dataset="J[0-9]+",
    log:
        "results/logs/scaling/simulate/{model}/{dataset}.log",


use rule reference as scaling_reference with:
    input:
        csv=f"{SCALING_DATA}.csv",
        meta=f"{SCALING_DATA}.json",
        code=str(Path(workflow.basedir) / "workflow/svibench/reference.py"),
    output:
        draws=f"{SCALING_REF_DIR}/draws.parquet",
        json=f"{SCALING_REF_DIR}/reference.json",
        mocks=f"{SCALING_REF_DIR}/mocks.parquet",
    params:
        settings={**CFG["reference"], "predictive_draws": 0},
        cache=CFG["compilation_cache"],
    wildcard_constraints:
        model=SCALING_MODEL,
        dataset="J[0-9]+",
    log:
        "results/logs/scaling/reference/{model}/{dataset}.log",


use rule fit_nuts as scaling_fit_nuts with:
    input:
        csv=f"{SCALING_DATA}.csv",
        meta=f"{SCALING_DATA}.json",
    output:
        draws=f"{SCALING_FIT_DIR}/draws.parquet",
        trace=f"{SCALING_FIT_DIR}/trace.parquet",
        fit=f"{SCALING_FIT_DIR}/fit.json",
        mocks=f"{SCALING_FIT_DIR}/mocks.parquet",
    params:
        options=lambda w: scaling_fit_options(CFG, w.method),
        cache=CFG["compilation_cache"],
        gpu_fallback=CFG["gpu_fallback"],
        conda_env=jax_env,
    priority: scaling_fit_priority
    wildcard_constraints:
        model=SCALING_MODEL,
        dataset="J[0-9]+",
        method="nuts",
    log:
        "results/logs/scaling/fit/{model}/{dataset}/{method}.log",


use rule fit_svi as scaling_fit_svi with:
    input:
        csv=f"{SCALING_DATA}.csv",
        meta=f"{SCALING_DATA}.json",
    output:
        draws=f"{SCALING_FIT_DIR}/draws.parquet",
        trace=f"{SCALING_FIT_DIR}/trace.parquet",
        params=f"{SCALING_FIT_DIR}/params.npz",
        fit=f"{SCALING_FIT_DIR}/fit.json",
        mocks=f"{SCALING_FIT_DIR}/mocks.parquet",
    params:
        options=lambda w: scaling_fit_options(CFG, w.method),
        cache=CFG["compilation_cache"],
        gpu_fallback=CFG["gpu_fallback"],
        conda_env=jax_env,
    priority: scaling_fit_priority
    wildcard_constraints:
        model=SCALING_MODEL,
        dataset="J[0-9]+",
        method="|".join(SVI_METHODS),
    log:
        "results/logs/scaling/fit/{model}/{dataset}/{method}.log",


use rule evaluate as scaling_evaluate with:
    input:
        draws=f"{SCALING_FIT_DIR}/draws.parquet",
        fit=f"{SCALING_FIT_DIR}/fit.json",
        mocks=f"{SCALING_FIT_DIR}/mocks.parquet",
        csv=f"{SCALING_DATA}.csv",
        meta=f"{SCALING_DATA}.json",
        ref_draws=f"{SCALING_REF_DIR}/draws.parquet",
        ref_json=f"{SCALING_REF_DIR}/reference.json",
        ref_mocks=f"{SCALING_REF_DIR}/mocks.parquet",
        code=EVAL_CODE,
    output:
        metrics=f"{SCALING_FIT_DIR}/metrics.json",
    params:
        settings={**CFG["metrics"], "predictive_draws": 0},
        label=lambda w: w.dataset,
        cache=CFG["compilation_cache"],
        needs_jax=lambda w: needs_jax(w.method),
    wildcard_constraints:
        model=SCALING_MODEL,
        dataset="J[0-9]+",
    log:
        "results/logs/scaling/evaluate/{model}/{dataset}/{method}.log",


# Seconds and mean_err against D, and where SVI overtakes NUTS.
rule scaling_summary:
    input:
        metrics=scaling_metrics(),
        code=str(Path(workflow.basedir) / "workflow/svibench/scaling.py"),
    output:
        summary=SCALING_SUMMARY,
        figure=report(SCALING_FIGURE, caption="../report/scaling.rst", category="Scaling"),
    params:
        entries=[{"groups": int(d[1:]),
                  "fit": f"{SCALING_FIT_DIR.format(model=SCALING_MODEL, dataset=d, method=m)}/fit.json",
                  "metrics": f"{SCALING_FIT_DIR.format(model=SCALING_MODEL, dataset=d, method=m)}/metrics.json"}
                 for d in scaling_datasets() for m in CFG["scaling"]["methods"]],
        thresholds=CFG["metrics"]["thresholds"],
        style=style(),
    log:
        "results/logs/scaling/summary.log",
    threads: 1
    resources:
        mem_mb=rule_resources("plot")["mem_mb"],
        runtime=rule_resources("plot")["runtime"],
    conda:
        JAX_CPU_ENV
    script:
        "../scripts/scaling.py"


rule scaling:
    input:
        scaling_outputs(),
