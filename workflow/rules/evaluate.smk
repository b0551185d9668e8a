# References, repeated SVI fits, and the scoring of every fit against its reference.


# One reference posterior per (model, dataset): exact, grid or long-run NUTS.
rule reference:
    input:
        unpack(data_inputs),
        code=str(Path(workflow.basedir) / "workflow/svibench/reference.py"),
    output:
        draws=f"{REF_DIR}/draws.parquet",
        json=f"{REF_DIR}/reference.json",
        mocks=f"{REF_DIR}/mocks.parquet",
    params:
        settings=CFG["reference"],
        cache=CFG["compilation_cache"],
    log:
        "results/logs/reference/{model}/{dataset}.log",
    priority: reference_job_priority
    threads: rule_resources("reference")["threads"]
    resources:
        mem_mb=rule_resources("reference")["mem_mb"],
        runtime=rule_resources("reference")["runtime"],
    conda:
        JAX_CPU_ENV
    script:
        "../scripts/reference.py"


# metrics.json of one fit: its draws and posterior predictive mocks against the reference.
rule evaluate:
    input:
        draws=f"{FIT_DIR}/draws.parquet",
        fit=f"{FIT_DIR}/fit.json",
        mocks=f"{FIT_DIR}/mocks.parquet",
        csv="data/{model}/{dataset}.csv",
        meta="data/{model}/{dataset}.json",
        ref_draws=f"{REF_DIR}/draws.parquet",
        ref_json=f"{REF_DIR}/reference.json",
        ref_mocks=f"{REF_DIR}/mocks.parquet",
        code=EVAL_CODE,
    output:
        metrics=f"{FIT_DIR}/metrics.json",
    params:
        settings=CFG["metrics"],
        label=lambda w: w.dataset,
        cache=CFG["compilation_cache"],
        needs_jax=lambda w: needs_jax(w.method),
    log:
        "results/logs/evaluate/{model}/{dataset}/{method}.log",
    threads: rule_resources("evaluate")["threads"]
    resources:
        mem_mb=rule_resources("evaluate")["mem_mb"],
        runtime=rule_resources("evaluate")["runtime"],
    conda:
        JAX_CPU_ENV
    script:
        "../scripts/evaluate.py"


# Extra seeds of an SVI guide (`repeats`): the same fit with seed + r.
use rule fit_svi as fit_svi_repeat with:
    output:
        draws=f"{REPEAT_DIR}/draws.parquet",
        trace=f"{REPEAT_DIR}/trace.parquet",
        params=f"{REPEAT_DIR}/params.npz",
        fit=f"{REPEAT_DIR}/fit.json",
        mocks=f"{REPEAT_DIR}/mocks.parquet",
    params:
        options=lambda w: {**fit_options(CFG, w.model, w.method), "seed": int(w.seed)},
        cache=CFG["compilation_cache"],
        gpu_fallback=CFG["gpu_fallback"],
        conda_env=jax_env,
    log:
        "results/logs/repeats/{model}/{dataset}/{method}/seed{seed}.log",


use rule evaluate as evaluate_repeat with:
    input:
        draws=f"{REPEAT_DIR}/draws.parquet",
        fit=f"{REPEAT_DIR}/fit.json",
        mocks=f"{REPEAT_DIR}/mocks.parquet",
        csv="data/{model}/{dataset}.csv",
        meta="data/{model}/{dataset}.json",
        ref_draws=f"{REF_DIR}/draws.parquet",
        ref_json=f"{REF_DIR}/reference.json",
        ref_mocks=f"{REF_DIR}/mocks.parquet",
        code=EVAL_CODE,
    output:
        metrics=f"{REPEAT_DIR}/metrics.json",
    log:
        "results/logs/evaluate/{model}/{dataset}/{method}/seed{seed}.log",


# A warm-start fit on {dst} is scored against {dst}'s reference.
use rule evaluate as evaluate_warm with:
    input:
        draws=f"{WARM_DIR}/draws.parquet",
        fit=f"{WARM_DIR}/fit.json",
        mocks=f"{WARM_DIR}/mocks.parquet",
        csv="data/{model}/{dst}.csv",
        meta="data/{model}/{dst}.json",
        ref_draws=f"{REF_DIR.replace('{dataset}', '{dst}')}/draws.parquet",
        ref_json=f"{REF_DIR.replace('{dataset}', '{dst}')}/reference.json",
        ref_mocks=f"{REF_DIR.replace('{dataset}', '{dst}')}/mocks.parquet",
        code=EVAL_CODE,
    output:
        metrics=f"{WARM_DIR}/metrics.json",
    params:
        settings=CFG["metrics"],
        label=lambda w: f"{w.src}-to-{w.dst}",
        cache=CFG["compilation_cache"],
        needs_jax=lambda w: needs_jax(w.method),
    wildcard_constraints:
        src="[A-Za-z0-9_]+(?:-(?!to-)[A-Za-z0-9_]+)*",
        dst="[A-Za-z0-9_-]+",
    log:
        "results/logs/evaluate/{model}/{src}-to-{dst}/{method}.log",


# Posterior predictive checks: mock data of every method against the observations.
rule plot_predictive:
    input:
        mocks=lambda w: [f"{e['fit_dir']}/mocks.parquet" for e in evaluations(w.model, w.dataset)
                         if e["fit_dir"].startswith("results/fits/")],
        fits=lambda w: [f"{e['fit_dir']}/fit.json" for e in evaluations(w.model, w.dataset)
                        if e["fit_dir"].startswith("results/fits/")],
        ref_mocks=f"{REF_DIR}/mocks.parquet",
        csv="data/{model}/{dataset}.csv",
        meta="data/{model}/{dataset}.json",
        code=str(Path(workflow.basedir) / "workflow/svibench/evalplots.py"),
    output:
        report("results/figures/{model}/{dataset}/predictive.png",
               caption="../report/predictive.rst", category="Predictive checks",
               subcategory="{model}"),
    params:
        fit_dirs=lambda w: fit_dirs(w.model, w.dataset),
        style=style(),
    wildcard_constraints:
        model="|".join(PREDICTIVE_MODELS),
    log:
        "results/logs/plot/{model}/{dataset}/predictive.log",
    threads: rule_resources("plot")["threads"]
    resources:
        mem_mb=rule_resources("plot")["mem_mb"],
        runtime=rule_resources("plot")["runtime"],
    conda:
        JAX_CPU_ENV
    script:
        "../scripts/plot_predictive.py"
