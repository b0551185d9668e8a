# svibench: how good, and how fast, is each NumPyro SVI guide compared with MCMC?
#   snakemake --cores all                      the default study (config/config.yaml)
#   snakemake --cores 4 --configfile my.yaml   another study
#   snakemake figures --cores 2                figures and report from stored draws

configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/evaluation_targets.smk"
include: "workflow/rules/simulate.smk"
include: "workflow/rules/fit.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/warm.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/scaling.smk"
include: "workflow/rules/report.smk"


rule all:
    input:
        all_fit_outputs(),
        all_warm_outputs(),
        all_figures(),
        warm_figures(),
        evaluation_outputs(),
        "results/report/index.html",


rule figures:
    input:
        all_figures(),
        warm_figures(),
        predictive_figures(),
        "results/report/index.html",
