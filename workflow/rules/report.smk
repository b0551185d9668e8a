def report_studies():
    return [{"model": mo, "dataset": d, "data_json": f"data/{mo}/{d}.json",
             "fit_dirs": fit_dirs(mo, d), "figures": figures_of(mo, d)}
            for mo in CFG["models"] for d in CFG["models"][mo]["datasets"]]


rule report:
    input:
        fits=[f for mo in CFG["models"] for d in CFG["models"][mo]["datasets"]
              for f in fit_files(mo, d)],
        figures=all_figures(),
        code=str(Path(workflow.basedir) / "workflow/svibench/report.py"),
    output:
        report("results/report/index.html", caption="../report/report.rst", category="Report"),
    params:
        studies=report_studies(),
        config=CFG,
    log:
        "results/logs/report.log",
    script:
        "../scripts/report.py"
