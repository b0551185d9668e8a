import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(workflow.basedir) / "workflow"))

from svibench.config import ConfigError, fit_options, resources, validate
from svibench.methods import METHODS, get_method


try:
    CFG = validate(config)
except ConfigError as err:
    # One line, before any job runs; nothing is written.
    print(f"svibench config error: {err}", file=sys.stderr)
    sys.exit(1)

# Same hash seed in every job, so JAX's persistent cache hits across processes.
os.environ["PYTHONHASHSEED"] = "0"

SVI_METHODS = [m for m, spec in METHODS.items() if spec.kind == "svi"]
DENSITY_MODELS = ("corrgauss", "multimodal")
FIT_DIR = "results/fits/{model}/{dataset}/{method}"


wildcard_constraints:
    model="|".join(CFG["models"]),
    dataset="[A-Za-z0-9_-]+",
    method="|".join(METHODS),


def rule_resources(rule):
    return resources(CFG, rule)


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
