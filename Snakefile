# svibench: how good, and how fast, is each NumPyro SVI guide compared with MCMC?
#   snakemake --cores all                      the default study (config/config.yaml)
#   snakemake --cores 4 --configfile my.yaml   another study
#   snakemake figures --cores 2                figures and report from stored draws

from snakemake.utils import min_version

min_version("9.0")


# The default study only when no --configfile names one: a study file stands alone
# rather than being merged key by key into the default study.
if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/simulate.smk"
include: "workflow/rules/fit.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/report.smk"


rule all:
    input:
        STUDY.targets(),


rule figures:
    input:
        STUDY.figure_targets(),
        S.REPORT,
