# Validation, the study model, and the small input functions the rules share.
# The study's shape (datasets, runs, paths, targets) is svibench.study: plain Python,
# unit-tested; the rule files only wire rules to it.
import os
import sys
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(workflow.basedir) / "workflow"))

from svibench import study as S
from svibench.config import ConfigError, resources, validate
from svibench.methods import METHODS, get_method
from svibench.snakemake_patches import wake_only_for_the_rate_limit
from svibench.usermodel import ENV as USER_MODELS_ENV, environment as user_models_env

try:
    CFG = validate(config)
except ConfigError as err:
    # One line, before any job runs; nothing is written.
    print(f"svibench config error: {err}", file=sys.stderr)
    sys.exit(1)

STUDY = S.Study(CFG)

# Snakemake's scheduler loop otherwise wakes itself ever more often as jobs finish
# (about half a core of a 2-core machine by mid-study): see svibench.snakemake_patches.
wake_only_for_the_rate_limit()

# Same hash seed in every job, so JAX's persistent cache hits across processes.
# (Set here, read by the jobs: local ones inherit it, SLURM ones get it through
# sbatch --export=ALL.)
os.environ.update(PYTHONHASHSEED="0")
# Models of your own (`module:`): jobs run in processes of their own and import the
# files named here (svibench.models.get_model).
os.environ[USER_MODELS_ENV] = user_models_env(CFG)

RUN_DIR = S.RUN_DIR
DATA = S.DATA
REFERENCE_DIR = S.REFERENCE_DIR
FIGURE_DIR = S.FIGURE_DIR
CODE = Path(workflow.basedir) / "workflow/svibench"
PRESENTATION = CODE / "presentation"
# The code each kind of figure and the report are drawn by: a change reruns them.
PLOT_CODE = [str(PRESENTATION / f) for f in ("figures.py", "plots.py", "palette.py")]
EVALPLOT_CODE = [
    str(PRESENTATION / f) for f in ("evalplots.py", "plots.py", "palette.py")
]
COST_CODE = [
    str(PRESENTATION / f) for f in ("evalplots.py", "cost.py", "plots.py", "palette.py")
] + [str(CODE / "metrics.py")]
REPORT_CODE = (
    [
        str(PRESENTATION / f)
        for f in ("report.py", "ranking.py", "render.py", "figures.py", "cost.py")
    ]
    + [str(p) for p in sorted((PRESENTATION / "templates").glob("*.html"))]
    + [str(CODE / "metrics.py")]
)


def one_of(names):
    """A wildcard pattern matching exactly ``names`` (never anything if none)."""
    return "|".join(names) if names else "(?!)"


def methods_of_kind(kind):
    return [m for m, spec in METHODS.items() if spec.kind == kind]


wildcard_constraints:
    model=one_of(sorted({m for m, _ in STUDY.datasets})),
    dataset=S.NAME_PATTERN,
    method=one_of(list(METHODS)),
    tag=S.TAG_PATTERN,
    source=S.NAME_PATTERN,


# Sizes of each kind of job: config `resources`, one place. Only the fits declare
# `gpu`; a profile's set-resources (workflow/profiles/slurm-gpu) overrides per rule.
RESOURCES = {
    kind: resources(CFG, kind)
    for kind in (
        "simulate",
        "fit_svi",
        "fit_nuts",
        "fit_pathfinder",
        "reference",
        "evaluate",
        "plot",
        "report",
    )
}


def sized(kind, gpu=False):
    """The `resources:` of a kind of job (threads are given separately)."""
    res = RESOURCES[kind]
    out = {"mem_mb": res["mem_mb"], "runtime": res["runtime"]}
    if gpu:
        out["gpu"] = res["gpu"]
    return out


# Conda environments for --sdm conda (paths relative to workflow/rules/).
JAX_CPU_ENV = "../../envs/jax-cpu.yaml"
JAX_CUDA_ENV = "../../envs/jax-cuda.yaml"


def jax_env(wildcards, resources):
    """params.conda_env of the fit rules; the CUDA build of JAX only with a GPU.

    A params function of `resources` is a derived param, so switching between a
    CPU and a GPU run does not by itself trigger a rerun.
    """
    return JAX_CUDA_ENV if resources.get("gpu", 0) else JAX_CPU_ENV


def env_from_params(wildcards, params):
    """The conda directive of the fit rules (see jax_env)."""
    return params.conda_env


# --- input functions and params of the rules ---


def run_of(w):
    return STUDY.run(w.model, w.dataset, w.method, w.tag)


def dataset_of(w):
    return STUDY.dataset(w.model, w.dataset)


def dataset_files(w):
    d = dataset_of(w)
    return {"csv": d.csv, "meta": d.meta}


def fit_inputs(w):
    """The dataset, and for a warm start the params it continues from."""
    run = run_of(w)
    out = dataset_files(w)
    if run.role == "warm":
        out["init"] = STUDY.warm_init(run)
    return out


def fit_options(w):
    return run_of(w).options


def fit_priority(w):
    return run_of(w).priority


def user_csv(w):
    """The simulate rule's input: a dataset from your own CSV takes that file (so a change
    to it reruns the import), a dataset of your own model its data file and the model's
    file; a simulated one takes none."""
    settings = dataset_of(w).settings
    if "data" in settings:
        return {
            "user_data": settings["data"],
            "module": CFG["models"][w.model]["module"],
        }
    return {"user_csv": settings["csv"]} if "csv" in settings else {}


def given_reference(w):
    """The reference rule's input: the reference draws given for a dataset, if any."""
    settings = dataset_of(w).settings
    return (
        {"given": settings["reference_draws"]} if "reference_draws" in settings else {}
    )


def dataset_settings(w):
    return dataset_of(w).settings


def reference_settings(w):
    return STUDY.reference_settings(dataset_of(w))


def reference_priority(w):
    return STUDY.reference_priority(dataset_of(w))


def metrics_settings(w):
    return STUDY.metrics_settings(dataset_of(w))


def run_label(w):
    return run_of(w).label


def figure_runs(kind=None):
    """params.fit_dirs of a dataset's figures: its primary fits (of one kind)."""
    return lambda w: [r.dir for r in STUDY.primary_runs(w.model, w.dataset, kind)]


def figure_inputs(kind=None, files=("draws.parquet", "fit.json", "trace.parquet")):
    def inputs(w):
        d = dataset_of(w)
        return {
            "fits": [
                f"{r.dir}/{f}"
                for r in STUDY.primary_runs(w.model, w.dataset, kind)
                for f in files
            ],
            "meta": d.meta,
            "csv": d.csv,
        }

    return inputs


def cost_runs(w):
    """params.runs of the cost figure: every seed of every method, ``{method, dir}``."""
    return [
        {"method": r.method, "dir": r.dir} for r in STUDY.cost_runs(w.model, w.dataset)
    ]


def cost_inputs(w):
    return {
        "fits": [
            f"{r['dir']}/{f}"
            for r in cost_runs(w)
            for f in ("fit.json", "metrics.json")
        ],
        "meta": dataset_of(w).meta,
    }


def warm_pairs(w):
    """params.pairs of a warm figure: (cold fit folder, warm fit folder) per method."""
    return [
        (STUDY.cold_twin(r).dir, r.dir)
        for r in STUDY.warm_runs(w.model, w.dataset, w.source)
    ]


def warm_inputs(w):
    return [
        f"{d}/{f}"
        for pair in warm_pairs(w)
        for d in pair
        for f in ("trace.parquet", "fit.json")
    ]


# --- the batch fit rules (one job, a method's seeds on one dataset) ---


def batch_of(w):
    return STUDY.batch(w.fit)


def batch_inputs(w):
    first = batch_of(w).first
    return dataset_files(SimpleNamespace(model=first.model, dataset=first.dataset))


def batch_outputs(kind, seeds):
    """Named outputs of a batch rule: per file kind, one path per seed."""
    files = S.SVI_FILES if kind == "svi" else S.FIT_FILES
    return {
        S.FILE_KEYS[f]: [f"results/fits/{{fit}}/seed{seed}/{f}" for seed in seeds]
        for f in files
    }


def batch_runs(w):
    """params.runs: the batch's model, dataset, method and each seed's options."""
    b = batch_of(w)
    return {
        "model": b.first.model,
        "dataset": b.first.dataset,
        "method": b.first.method,
        "options": [r.options for r in b.runs],
    }


def batch_priority(w):
    return batch_of(w).priority


def floor_sizes(w):
    """params.sizes of the floor rule, the numbers of draws of the fits scored against
    this reference."""
    return sorted({int(r.options["draws"]) for r in STUDY.runs_on(w.model, w.dataset)})


def batch_evaluate_inputs(w):
    """Each seed's draws, fit.json and mocks (lists, in seed order), the dataset and
    its reference (and its floor band, from the floor rule)."""
    b = batch_of(w)
    d = STUDY.dataset(b.first.model, b.first.dataset)
    out = {"csv": d.csv, "meta": d.meta}
    for key, f in (
        ("draws", "draws.parquet"),
        ("fit", "fit.json"),
        ("mocks", "mocks.parquet"),
    ):
        out[key] = [f"{r.dir}/{f}" for r in b.runs]
    for key, f in (
        ("ref_draws", "draws.parquet"),
        ("ref_json", "reference.json"),
        ("ref_mocks", "mocks.parquet"),
        ("ref_floor", "floor.json"),
    ):
        out[key] = f"{d.reference_dir}/{f}"
    return out


def batch_metrics_settings(w):
    b = batch_of(w)
    return STUDY.metrics_settings(STUDY.dataset(b.first.model, b.first.dataset))


def batch_labels(w):
    return [r.label for r in batch_of(w).runs]
