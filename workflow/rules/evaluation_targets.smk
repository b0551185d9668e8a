# Targets and helpers of references, repeats, metrics and the scaling study
# (functions only: the rules are in reference.smk, evaluate.smk, scaling.smk).

from svibench.config import repeats as repeats_of, scaling_fit_options

REF_DIR = "results/reference/{model}/{dataset}"
REPEAT_DIR = "results/repeats/{model}/{dataset}/{method}/seed{seed}"
PREDICTIVE_MODELS = ("coin", "linreg", "hier")
SCALING_MODEL = "hier"
SCALING_DATA = "data/scaling/{model}/{dataset}"
SCALING_FIT_DIR = "results/scaling/fits/{model}/{dataset}/{method}"
SCALING_REF_DIR = "results/scaling/reference/{model}/{dataset}"
SCALING_FIGURE = "results/figures/scaling/scaling.png"
SCALING_SUMMARY = "results/scaling/summary.json"
EVAL_CODE = [str(Path(workflow.basedir) / f"workflow/svibench/{m}.py")
             for m in ("metrics", "evaluate", "predictive")]


def reference_files(d):
    return {"ref_draws": f"{d}/draws.parquet", "ref_json": f"{d}/reference.json",
            "ref_mocks": f"{d}/mocks.parquet"}


def needs_jax(method):
    """An evaluate job imports JAX only for MCMC diagnostics (numpyro.diagnostics): the
    predictive mocks it scores are drawn by the fit job."""
    return method == "nuts"


def all_references():
    return [f"{REF_DIR.format(model=mo, dataset=d)}/reference.json"
            for mo in CFG["models"] for d in CFG["models"][mo]["datasets"]]


def repeat_seeds(model, method):
    """Seeds of a guide's extra fits: the fit's seed + 1, + 2, ... (none for NUTS)."""
    if get_method(method).kind != "svi":
        return []
    base = fit_options(CFG, model, method)["seed"]
    return [base + r for r in range(1, repeats_of(CFG, model))]


def evaluations(model, dataset):
    """Every scored fit of a (model, dataset): ``{method, seed, label, fit_dir, metrics}``;
    the primary fits first, then repeats, then warm starts onto this dataset."""
    out = []
    for m in CFG["models"][model]["methods"]:
        d = FIT_DIR.format(model=model, dataset=dataset, method=m)
        out.append({"method": m, "label": m, "group": m, "fit_dir": d,
                    "metrics": f"{d}/metrics.json"})
        for s in repeat_seeds(model, m):
            d = REPEAT_DIR.format(model=model, dataset=dataset, method=m, seed=s)
            out.append({"method": m, "label": m, "group": m, "fit_dir": d,
                        "metrics": f"{d}/metrics.json"})
    for src, dst, m in warm_pairs(model):
        if dst == dataset:
            d = WARM_DIR.format(model=model, src=src, dst=dst, method=m)
            label = f"{m} (warm from {src})"
            out.append({"method": m, "label": label, "group": label, "fit_dir": d,
                        "metrics": f"{d}/metrics.json"})
    return out


def all_metrics():
    return [e["metrics"] for mo in CFG["models"] for d in CFG["models"][mo]["datasets"]
            for e in evaluations(mo, d)]


def predictive_figures():
    return [f"results/figures/{mo}/{d}/predictive.png" for mo in CFG["models"]
            if mo in PREDICTIVE_MODELS and CFG["metrics"]["predictive_draws"] > 0
            for d in CFG["models"][mo]["datasets"]]


def report_evaluation():
    """params.evaluation of the report: per (model, dataset), its reference and fits."""
    return [{"model": mo, "dataset": d,
             "reference": f"{REF_DIR.format(model=mo, dataset=d)}/reference.json",
             "fits": evaluations(mo, d),
             "predictive": (f"results/figures/{mo}/{d}/predictive.png"
                            if f"results/figures/{mo}/{d}/predictive.png" in predictive_figures()
                            else None)}
            for mo in CFG["models"] for d in CFG["models"][mo]["datasets"]]


def scaling_datasets():
    sc = CFG["scaling"]
    return [f"J{j}" for j in sc["groups"]] if sc["enabled"] else []


def scaling_settings(dataset):
    from svibench.models import get_model

    return {**get_model(SCALING_MODEL).DEFAULTS, "seed": CFG["scaling"]["seed"],
            "groups": int(dataset[1:])}


def scaling_metrics():
    return [f"{SCALING_FIT_DIR.format(model=SCALING_MODEL, dataset=d, method=m)}/metrics.json"
            for d in scaling_datasets() for m in CFG["scaling"]["methods"]]


def scaling_outputs():
    return [SCALING_SUMMARY, SCALING_FIGURE] if scaling_datasets() else []


def evaluation_outputs():
    """Everything this stage adds to `all`."""
    return all_references() + all_metrics() + predictive_figures() + scaling_outputs()
