rule report:
    input:
        fits=[f for mo in CFG["models"] for d in CFG["models"][mo]["datasets"]
              for f in fit_files(mo, d)],
        figures=all_figures(),
        warm=all_warm_outputs(),
        warm_figures=warm_figures(),
        evaluation=all_references() + all_metrics() + predictive_figures() + scaling_outputs(),
        code=[str(Path(workflow.basedir) / f"workflow/svibench/{m}.py") for m in ("report", "ranking")],
    output:
        report("results/report/index.html", caption="../report/report.rst", category="Report"),
    params:
        studies=report_studies(),
        warm=report_warm(),
        evaluation=report_evaluation(),
        scaling={"summary": SCALING_SUMMARY, "figure": SCALING_FIGURE} if scaling_outputs() else {},
        config=CFG,
    log:
        "results/logs/report.log",
    threads: rule_resources("report")["threads"]
    resources:
        mem_mb=rule_resources("report")["mem_mb"],
        runtime=rule_resources("report")["runtime"],
    conda:
        JAX_CPU_ENV
    script:
        "../scripts/report.py"
