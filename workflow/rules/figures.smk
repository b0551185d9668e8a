rule plot_corner:
    input:
        unpack(plot_inputs()),
        reference=f"{REF_DIR}/draws.parquet",
    output:
        report("results/figures/{model}/{dataset}/corner.png",
               caption="../report/corner.rst", category="Corner plots", subcategory="{model}"),
    params:
        kind="corner",
        fit_dirs=fit_dirs_param(),
        style=style(),
    log:
        "results/logs/plot/{model}/{dataset}/corner.log",
    threads: rule_resources("plot")["threads"]
    resources:
        mem_mb=rule_resources("plot")["mem_mb"],
        runtime=rule_resources("plot")["runtime"],
    conda:
        JAX_CPU_ENV
    script:
        "../scripts/plot.py"


rule plot_loss:
    input:
        unpack(plot_inputs("svi")),
    output:
        report("results/figures/{model}/{dataset}/loss.png",
               caption="../report/loss.rst", category="Loss curves", subcategory="{model}"),
    params:
        kind="loss",
        fit_dirs=fit_dirs_param("svi"),
        style=style(),
    log:
        "results/logs/plot/{model}/{dataset}/loss.log",
    threads: rule_resources("plot")["threads"]
    resources:
        mem_mb=rule_resources("plot")["mem_mb"],
        runtime=rule_resources("plot")["runtime"],
    conda:
        JAX_CPU_ENV
    script:
        "../scripts/plot.py"


rule plot_density:
    input:
        unpack(plot_inputs()),
    output:
        report("results/figures/{model}/{dataset}/density.png",
               caption="../report/density.rst", category="2-D densities", subcategory="{model}"),
    params:
        kind="density",
        fit_dirs=fit_dirs_param(),
        style=style(),
    wildcard_constraints:
        model="|".join(DENSITY_MODELS),
    log:
        "results/logs/plot/{model}/{dataset}/density.log",
    threads: rule_resources("plot")["threads"]
    resources:
        mem_mb=rule_resources("plot")["mem_mb"],
        runtime=rule_resources("plot")["runtime"],
    conda:
        JAX_CPU_ENV
    script:
        "../scripts/plot.py"


rule plot_groups:
    input:
        unpack(plot_inputs()),
    output:
        report("results/figures/{model}/{dataset}/groups.png",
               caption="../report/groups.rst", category="Hierarchical groups", subcategory="{model}"),
    params:
        kind="groups",
        fit_dirs=fit_dirs_param(),
        style=style(),
    wildcard_constraints:
        model="hier",
    log:
        "results/logs/plot/{model}/{dataset}/groups.log",
    threads: rule_resources("plot")["threads"]
    resources:
        mem_mb=rule_resources("plot")["mem_mb"],
        runtime=rule_resources("plot")["runtime"],
    conda:
        JAX_CPU_ENV
    script:
        "../scripts/plot.py"
