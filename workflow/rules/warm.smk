rule warm_start:
    input:
        csv="data/{model}/{dst}.csv",
        meta="data/{model}/{dst}.json",
        init=f"{FIT_DIR.format(model='{model}', dataset='{src}', method='{method}')}/params.npz",
    output:
        draws=f"{WARM_DIR}/draws.parquet",
        trace=f"{WARM_DIR}/trace.parquet",
        params=f"{WARM_DIR}/params.npz",
        fit=f"{WARM_DIR}/fit.json",
        mocks=f"{WARM_DIR}/mocks.parquet",
    params:
        options=lambda w: fit_options(CFG, w.model, w.method),
        cache=CFG["compilation_cache"],
        gpu_fallback=CFG["gpu_fallback"],
        conda_env=jax_env,
    wildcard_constraints:
        src="[A-Za-z0-9_]+(?:-(?!to-)[A-Za-z0-9_]+)*",
        dst="[A-Za-z0-9_-]+",
        method="|".join(SVI_METHODS),
    log:
        "results/logs/warm/{model}/{src}-to-{dst}/{method}.log",
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


rule plot_warm:
    input:
        warm=lambda w: [f"{d}/{f}" for d in warm_dirs(w.model, w.src, w.dst)
                        for f in ("trace.parquet", "fit.json")],
        cold=lambda w: [f"{FIT_DIR.format(model=w.model, dataset=w.dst, method=m)}/{f}"
                        for s, d, m in warm_pairs(w.model) if (s, d) == (w.src, w.dst)
                        for f in ("trace.parquet", "fit.json")],
        code=PLOT_CODE,
    output:
        report("results/figures/{model}/{src}-to-{dst}/warm.png", caption="../report/warm.rst",
               category="Warm start", subcategory="{model}"),
    params:
        pairs=lambda w: [(FIT_DIR.format(model=w.model, dataset=w.dst, method=m),
                          WARM_DIR.format(model=w.model, src=w.src, dst=w.dst, method=m))
                         for s, d, m in warm_pairs(w.model) if (s, d) == (w.src, w.dst)],
        style=style(),
    wildcard_constraints:
        src="[A-Za-z0-9_]+(?:-(?!to-)[A-Za-z0-9_]+)*",
        dst="[A-Za-z0-9_-]+",
    log:
        "results/logs/plot/{model}/{src}-to-{dst}/warm.log",
    threads: rule_resources("plot")["threads"]
    resources:
        mem_mb=rule_resources("plot")["mem_mb"],
        runtime=rule_resources("plot")["runtime"],
    conda:
        JAX_CPU_ENV
    script:
        "../scripts/plot_warm.py"
