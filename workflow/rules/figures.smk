# Figures from stored draws: per dataset its primary fits (the first seed of each
# method), per warm start the cold and warm loss curves, the predictive checks, and
# accuracy against cost (every seed).


rule plot_corner:
    input:
        unpack(figure_inputs()),
        code=PLOT_CODE,
        reference=f"{REFERENCE_DIR}/draws.parquet",
    output:
        report(
            f"{FIGURE_DIR}/corner.png",
            caption="../report/corner.rst",
            category="Corner plots",
            subcategory="{model}",
            labels={"model": "{model}", "dataset": "{dataset}", "figure": "corner"},
        ),
    log:
        "results/logs/plot/{model}/{dataset}/corner.log",
    benchmark:
        "results/benchmarks/plot/{model}/{dataset}/corner.tsv"
    conda:
        JAX_CPU_ENV
    threads: RESOURCES["plot"]["threads"]
    resources:
        **sized("plot"),
    params:
        kind="corner",
        fit_dirs=figure_runs(),
        style=CFG["plots"],
    script:
        "../scripts/plot.py"


use rule plot_corner as plot_loss with:
    input:
        unpack(figure_inputs("svi")),
        code=PLOT_CODE,
    output:
        report(
            f"{FIGURE_DIR}/loss.png",
            caption="../report/loss.rst",
            category="Loss curves",
            subcategory="{model}",
            labels={"model": "{model}", "dataset": "{dataset}", "figure": "loss"},
        ),
    log:
        "results/logs/plot/{model}/{dataset}/loss.log",
    benchmark:
        "results/benchmarks/plot/{model}/{dataset}/loss.tsv"
    params:
        kind="loss",
        fit_dirs=figure_runs("svi"),
        style=CFG["plots"],


use rule plot_corner as plot_density with:
    input:
        unpack(figure_inputs()),
        code=PLOT_CODE,
    output:
        report(
            f"{FIGURE_DIR}/density.png",
            caption="../report/density.rst",
            category="2-D densities",
            subcategory="{model}",
            labels={"model": "{model}", "dataset": "{dataset}", "figure": "density"},
        ),
    log:
        "results/logs/plot/{model}/{dataset}/density.log",
    benchmark:
        "results/benchmarks/plot/{model}/{dataset}/density.tsv"
    wildcard_constraints:
        model=one_of(STUDY.models_with_figure("density")),
    params:
        kind="density",
        fit_dirs=figure_runs(),
        style=CFG["plots"],


use rule plot_corner as plot_groups with:
    input:
        unpack(figure_inputs()),
        code=PLOT_CODE,
    output:
        report(
            f"{FIGURE_DIR}/groups.png",
            caption="../report/groups.rst",
            category="Hierarchical groups",
            subcategory="{model}",
            labels={"model": "{model}", "dataset": "{dataset}", "figure": "groups"},
        ),
    log:
        "results/logs/plot/{model}/{dataset}/groups.log",
    benchmark:
        "results/benchmarks/plot/{model}/{dataset}/groups.tsv"
    wildcard_constraints:
        model=one_of(STUDY.models_with_figure("groups")),
    params:
        kind="groups",
        fit_dirs=figure_runs(),
        style=CFG["plots"],


# Posterior predictive checks: mock data of every method against the observations.
rule plot_predictive:
    input:
        unpack(figure_inputs(files=("mocks.parquet", "fit.json"))),
        ref_mocks=f"{REFERENCE_DIR}/mocks.parquet",
        code=EVALPLOT_CODE,
    output:
        report(
            f"{FIGURE_DIR}/predictive.png",
            caption="../report/predictive.rst",
            category="Predictive checks",
            subcategory="{model}",
            labels={
                "model": "{model}",
                "dataset": "{dataset}",
                "figure": "predictive",
            },
        ),
    log:
        "results/logs/plot/{model}/{dataset}/predictive.log",
    benchmark:
        "results/benchmarks/plot/{model}/{dataset}/predictive.tsv"
    wildcard_constraints:
        model=one_of(STUDY.models_with_predictive()),
    conda:
        JAX_CPU_ENV
    threads: RESOURCES["plot"]["threads"]
    resources:
        **sized("plot"),
    params:
        fit_dirs=figure_runs(),
        style=CFG["plots"],
    script:
        "../scripts/plot_predictive.py"


# Accuracy against cost (gradient evaluations, seconds): every seed of every method,
# from the stored fit.json and metrics.json (never refits).
rule plot_cost:
    input:
        unpack(cost_inputs),
        code=COST_CODE,
    output:
        report(
            f"{FIGURE_DIR}/cost.png",
            caption="../report/cost.rst",
            category="Accuracy against cost",
            subcategory="{model}",
            labels={"model": "{model}", "dataset": "{dataset}", "figure": "cost"},
        ),
    log:
        "results/logs/plot/{model}/{dataset}/cost.log",
    benchmark:
        "results/benchmarks/plot/{model}/{dataset}/cost.tsv"
    conda:
        JAX_CPU_ENV
    threads: RESOURCES["plot"]["threads"]
    resources:
        **sized("plot"),
    params:
        runs=cost_runs,
        style=CFG["plots"],
        thresholds=CFG["metrics"]["thresholds"],
    script:
        "../scripts/plot_cost.py"


# Cold and warm loss curves of the warm starts onto {dataset} from {source}.
rule plot_warm:
    input:
        warm_inputs,
        code=PLOT_CODE,
    output:
        report(
            f"{FIGURE_DIR}/warm-from-{{source}}.png",
            caption="../report/warm.rst",
            category="Warm start",
            subcategory="{model}",
            labels={
                "model": "{model}",
                "dataset": "{dataset}",
                "figure": "warm from {source}",
            },
        ),
    log:
        "results/logs/plot/{model}/{dataset}/warm-from-{source}.log",
    benchmark:
        "results/benchmarks/plot/{model}/{dataset}/warm-from-{source}.tsv"
    conda:
        JAX_CPU_ENV
    threads: RESOURCES["plot"]["threads"]
    resources:
        **sized("plot"),
    params:
        pairs=warm_pairs,
        style=CFG["plots"],
    script:
        "../scripts/plot_warm.py"
