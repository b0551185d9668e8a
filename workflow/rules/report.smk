# The self-contained HTML comparison report.
rule report:
    input:
        STUDY.report_inputs(),
        code=REPORT_CODE,
    output:
        report(S.REPORT, caption="../report/report.rst", category="Report"),
    log:
        "results/logs/report.log",
    benchmark:
        "results/benchmarks/report.tsv"
    conda:
        JAX_CPU_ENV
    threads: RESOURCES["report"]["threads"]
    resources:
        **sized("report"),
    params:
        studies=STUDY.report_studies(),
        warm=STUDY.report_warm(),
        evaluation=STUDY.report_evaluation(),
        scaling=STUDY.report_scaling(),
        cost=STUDY.report_cost(),
        config=CFG,
    script:
        "../scripts/report.py"
