import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(workflow.basedir) / "workflow"))

from svibench.config import ConfigError, fit_options, resources, scaling_fit_options, validate
from svibench.methods import METHODS, get_method
from svibench.models import reference_kind
from svibench.scheduling import fit_priority, reference_priority


try:
    CFG = validate(config)
except ConfigError as err:
    # One line, before any job runs; nothing is written.
    print(f"svibench config error: {err}", file=sys.stderr)
    sys.exit(1)

# Same hash seed in every job, so JAX's persistent cache hits across processes.
# (Set here, read by the jobs: local ones inherit it, SLURM ones get it through
# sbatch --export=ALL.)
os.environ.update(PYTHONHASHSEED="0")

SVI_METHODS = [m for m, spec in METHODS.items() if spec.kind == "svi"]
DENSITY_MODELS = ("corrgauss", "multimodal")
FIT_DIR = "results/fits/{model}/{dataset}/{method}"


wildcard_constraints:
    model="|".join(CFG["models"]),
    dataset="[A-Za-z0-9_-]+",
    method="|".join(METHODS),


def rule_resources(rule):
    """threads, mem_mb, runtime, gpu of a rule: config `resources`, one place.

    Only the fit rules declare `gpu`; the others never ask for one. A profile's
    set-resources (workflow/profiles/slurm-gpu) overrides these per rule.
    """
    return resources(CFG, rule)


def fit_job_priority(wildcards):
    """Longest fits first (svibench.scheduling): a long fit never runs alone at the end."""
    return fit_priority(fit_options(CFG, wildcards.model, wildcards.method),
                        get_method(wildcards.method).kind)


def scaling_fit_priority(wildcards):
    return fit_priority(scaling_fit_options(CFG, wildcards.method),
                        get_method(wildcards.method).kind)


def reference_job_priority(wildcards):
    return reference_priority(reference_kind(wildcards.model) == "nuts", CFG["reference"])


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
    env = params.get("conda_env")
    if env is None:
        raise ValueError("params.conda_env is missing; a copy of a fit rule that sets "
                         "its own params must keep conda_env=jax_env")
    return env


def fits_of(model):
    """(dataset, method) pairs of a model in the study."""
    entry = CFG["models"][model]
    return [(d, m) for d in entry["datasets"] for m in entry["methods"]]


def fit_dirs(model, dataset, kind=None):
    return [FIT_DIR.format(model=model, dataset=dataset, method=m)
            for m in CFG["models"][model]["methods"]
            if kind is None or get_method(m).kind == kind]


def fit_files(model, dataset, kind=None, files=("draws.parquet", "fit.json")):
    return [f"{d}/{f}" for d in fit_dirs(model, dataset, kind) for f in files]


def all_fit_outputs():
    return [f"{FIT_DIR.format(model=mo, dataset=d, method=me)}/fit.json"
            for mo in CFG["models"] for d, me in fits_of(mo)]


def figures_of(model, dataset):
    """Figure paths of one (model, dataset) with their captions."""
    base = f"results/figures/{model}/{dataset}"
    out = [(f"{base}/corner.png", "Corner plot: NUTS, every guide and the truth"),
           (f"{base}/loss.png", "Loss (-ELBO) per step of every SVI fit")]
    if not fit_dirs(model, dataset, "svi"):
        out.pop()
    if model in DENSITY_MODELS:
        out.append((f"{base}/density.png", "True density beside each method's draws"))
    if model == "hier":
        out.append((f"{base}/groups.png", "Per-group slopes and intercepts: mean ± sd"))
    return out


def all_figures():
    return [p for mo in CFG["models"] for d in CFG["models"][mo]["datasets"]
            for p, _ in figures_of(mo, d)]


def style():
    return CFG["plots"]


# Helpers of the rule files, kept here because `snakemake --lint` wants those
# files free of functions.

def data_inputs(w):
    return {"csv": f"data/{w.model}/{w.dataset}.csv", "meta": f"data/{w.model}/{w.dataset}.json"}


def user_csv(w):
    """The simulate rule's input: a dataset from your own CSV takes that file (so a change
    to it reruns the import); a simulated one takes none."""
    settings = CFG["models"].get(w.model, {}).get("datasets", {}).get(w.dataset, {})
    return {"user_csv": settings["csv"]} if "csv" in settings else {}


PLOT_CODE = str(Path(workflow.basedir) / "workflow/svibench/plots.py")


def plot_inputs(kind=None):
    def inputs(w):
        return {"fits": fit_files(w.model, w.dataset, kind, ("draws.parquet", "fit.json", "trace.parquet")),
                "meta": f"data/{w.model}/{w.dataset}.json",
                "csv": f"data/{w.model}/{w.dataset}.csv",
                "code": PLOT_CODE}
    return inputs


def fit_dirs_param(kind=None):
    return lambda w: fit_dirs(w.model, w.dataset, kind)


def report_studies():
    return [{"model": mo, "dataset": d, "data_json": f"data/{mo}/{d}.json",
             "fit_dirs": fit_dirs(mo, d), "figures": figures_of(mo, d)}
            for mo in CFG["models"] for d in CFG["models"][mo]["datasets"]]


WARM_DIR = "results/warm/{model}/{src}-to-{dst}/{method}"


def warm_pairs(model):
    """(from, to, method) of a model's warm starts."""
    return [(p["from"], p["to"], m) for p in CFG["models"][model].get("warm_start", [])
            for m in p["methods"]]


def warm_dirs(model, src, dst):
    return [WARM_DIR.format(model=model, src=src, dst=dst, method=m)
            for s, d, m in warm_pairs(model) if (s, d) == (src, dst)]


def all_warm_outputs():
    return [f"{WARM_DIR.format(model=mo, src=s, dst=d, method=me)}/fit.json"
            for mo in CFG["models"] for s, d, me in warm_pairs(mo)]


def warm_figures():
    out = []
    for mo in CFG["models"]:
        for s, d in dict.fromkeys((s, d) for s, d, _ in warm_pairs(mo)):
            out.append(f"results/figures/{mo}/{s}-to-{d}/warm.png")
    return out


def report_warm():
    out = []
    for mo in CFG["models"]:
        for s, d in dict.fromkeys((s, d) for s, d, _ in warm_pairs(mo)):
            out.append({"model": mo, "src": s, "dst": d,
                        "figure": f"results/figures/{mo}/{s}-to-{d}/warm.png",
                        "pairs": [(FIT_DIR.format(model=mo, dataset=d, method=m),
                                   WARM_DIR.format(model=mo, src=s, dst=d, method=m))
                                  for s2, d2, m in warm_pairs(mo) if (s2, d2) == (s, d)]})
    return out
