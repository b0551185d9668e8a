"""Stored results for a report, written without fitting anything: two studies (one
with an evaluation against its reference, one from a user CSV without), a warm start
and a scaling study. ``write_inputs(folder)`` returns the keyword arguments of
``svibench.presentation.report.report`` (the paths the report rule passes)."""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import pandas as pd

from svibench import io

# a 1x1 PNG: the report only embeds figures, it never opens them
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


def fit_json(method, kind="svi", status="ok", **extra):
    return {"model": "linreg", "dataset": "small", "method": method, "kind": kind,
            "status": status, "steps_run": 1500, "final_elbo": -123.456789,
            "converged_at": 1200, "seconds": {"compile": 1.2345, "run": 3.21, "total": 4.4445,
                                               "warmup": 1.0, "sampling": 2.0},
            "seeds": {"fit": 1}, **extra}


def write_fit(folder: Path, fit: dict, seed: int) -> str:
    rng = np.random.default_rng(seed)
    draws = pd.DataFrame({"m": rng.normal(1.0, 0.1, 200), "c": rng.normal(-0.5, 0.2, 200),
                          "log_f": rng.normal(-1.0, 0.05, 200),
                          "z[0]": rng.normal(size=200)})
    if fit["status"] != "ok":
        draws.iloc[:, :] = np.nan
    io.write_json(folder / "fit.json", fit)
    io.write_parquet(folder / "draws.parquet", draws)
    return str(folder)


def metrics_json(seed, status="ok", me=0.05, sd=(0.95, 1.05), swd=0.05, khat=0.3, kind="svi",
                 missing=None, mcmc=None, cover=None):
    base = {"status": status, "kind": kind, "seed": seed, "cost": {"seconds": 2.5 + seed,
                                                                     "steps": 100 * seed}}
    if status != "ok":
        return {**base, "mean_err": None, "sd_ratio": None, "swd": None, "energy": None,
                "khat": None, "mcmc": None, "predictive": None, "mode_mass": None}
    return {**base, "mean_err": {"value": me, "floor": 0.0123, "floor_median": 0.0118,
                                 "floor_band": [0.0021, 0.0345]},
            "sd_ratio": {"value": list(sd), "floor": [0.987, 1.0123],
                         "floor_median": [0.985, 1.011], "floor_band": [0.961, 1.042]},
            "swd": {"value": swd, "floor": 0.011, "floor_median": 0.0125,
                    "floor_band": [0.0081, 0.0213]},
            "energy": {"value": 0.0042, "floor": 0.00031, "floor_median": 0.00012,
                       "floor_band": [-0.0011, 0.0019]},
            "floor_splits": 20, "floor_draws": 4000,
            "khat": khat, "khat_info": None if khat is None else {"particles": 4000, "of": "the guide"},
            "mcmc": mcmc,
            "predictive": None if cover is None else {"coverage90": cover,
                                                      "reference_coverage90": 0.9},
            "mode_mass": None if missing is None else {"modes": ["a", "b"], "fit": [0.97, 0.03],
                                                       "se": [0.0027, 0.0027],
                                                       "reference": [0.5, 0.5],
                                                       "missing": missing}}


def write_inputs(folder) -> dict:
    folder = Path(folder)
    data = folder / "data"
    io.write_json(data / "small.json", {"model": "linreg", "dataset": "small",
                                        "truth": {"m": 1.0, "c": -0.5, "log_f": None}})
    io.write_json(data / "mine.json", {"model": "hier", "dataset": "mine", "source": "csv",
                                       "csv": "my.csv", "rows": 40, "groups": 2,
                                       "group_labels": ["north", "south"], "truth": {}})
    png = folder / "fig.png"
    png.write_bytes(PNG)

    fits = folder / "fits"
    small = [write_fit(fits / "nuts", fit_json("nuts", "nuts", diagnostics={
                 "max_rhat": 1.0021, "min_ess_bulk": 1234.5, "divergences": 2}), 1),
             write_fit(fits / "normal", fit_json("normal <auto>"), 2),
             write_fit(fits / "flow", fit_json("flow", status="diverged", diverged_at=77), 3)]
    mine = [write_fit(fits / "mine", {**fit_json("normal"), "model": "hier"}, 4)]

    ev = folder / "eval"
    io.write_json(ev / "reference.json", {
        "kind": "nuts", "chains": 4, "draws_per_chain": 5000,
        "settings": {"parameterisation": "centred"},
        "diagnostics": {"min_ess_bulk": 3000.4, "min_ess_tail": 2500.2, "max_rhat": 1.0123,
                        "divergences": 1},
        "meets_standard": False, "problems": ["min bulk ESS 3000 (< 4000)", "1 divergence"]})
    groups = {
        "nuts": [metrics_json(1, kind="nuts", me=0.01, khat=None,
                              mcmc={"min_ess_bulk": 1500.0, "min_ess_tail": 900.0,
                                    "max_rhat": 1.004, "divergences": 0,
                                    "seconds_per_effective_draw": 0.00123}, cover=0.91)],
        "normal <auto>": [metrics_json(s, me=m, cover=0.88, missing=miss)
                          for s, m, miss in ((1, 0.05, []), (2, 0.9, ["b"]), (3, 0.06, []))],
        "narrow": [metrics_json(1, sd=(0.5, 0.9), khat=0.9, cover=0.6, missing=["b"])],
        "nuts (short)": [metrics_json(1, kind="nuts", me=0.02, khat=None, cover=0.9,
                                      mcmc={"chains": 4, "min_ess_bulk": 225.0, "min_ess_tail": 310.0,
                                            "max_rhat": 1.02, "divergences": 242,
                                            "seconds_per_effective_draw": 0.01})],
        "auto_laplace": [metrics_json(1, me=2.72, sd=(0.0, 8.8e-16), swd=0.04, khat=None,
                                      cover=0.1)],
        "flow": [metrics_json(1, status="diverged")],
    }
    fit_entries = []
    for label, ms in groups.items():
        for m in ms:
            path = ev / f"{label}-{m['seed']}.json"
            io.write_json(path, m)
            fit_entries.append({"method": label, "label": label, "group": label,
                                "fit_dir": "unused", "metrics": str(path)})
    evaluation = [{"model": "linreg", "dataset": "small", "reference": str(ev / "reference.json"),
                   "fits": fit_entries, "predictive": str(png)}]

    warm_dirs = []
    for name, conv in (("cold", 1000), ("warm", 250)):
        d = folder / "warm" / name
        io.write_json(d / "fit.json", {**fit_json("normal"), "converged_at": conv,
                                       "warm_start": {"transferred": ["a", "b"], "resized": ["c"],
                                                      "fresh": []} if name == "warm" else None})
        warm_dirs.append(str(d))
    warm = [{"model": "hier", "src": "J8", "dst": "J12", "figure": str(png),
             "pairs": [tuple(warm_dirs)]}]

    summary = {"verdict": "SVI (normal) overtakes NUTS's time to accuracy from D = 68",
               "thresholds": {"mean_err": 0.2, "sd_ratio": [0.8, 1.2], "khat": 0.7},
               "rows": [{"J": 8, "D": 20, "method": "nuts", "status": "ok", "seconds": 12.5,
                         "steps": 2000, "mean_err": 0.01, "sd_ratio_min": 0.97,
                         "sd_ratio_max": 1.03, "khat": None, "time_to_accuracy": 10.25,
                         "reference_meets_standard": True},
                        {"J": 8, "D": 20, "method": "normal", "status": "ok", "seconds": 3.5,
                         "steps": 900, "mean_err": 0.35, "sd_ratio_min": 0.5,
                         "sd_ratio_max": 1.1, "khat": 0.82, "time_to_accuracy": None,
                         "reference_meets_standard": False},
                        {"J": 8, "D": 20, "method": "flow", "status": "diverged",
                         "seconds": 1.0, "steps": 10, "mean_err": None, "sd_ratio_min": None,
                         "sd_ratio_max": None, "khat": None, "time_to_accuracy": None,
                         "reference_meets_standard": True}]}
    io.write_json(folder / "scaling.json", summary)

    studies = [{"model": "linreg", "dataset": "small", "data_json": str(data / "small.json"),
                "fit_dirs": small, "figures": [(str(png), "Corner plot <all methods>")]},
               {"model": "hier", "dataset": "mine", "data_json": str(data / "mine.json"),
                "fit_dirs": mine, "figures": []}]
    config = {"metrics": {"thresholds": {"mean_err": 0.25}}, "note": "a <b>config</b> & more"}
    return {"studies": studies, "config": config, "warm": warm, "evaluation": evaluation,
            "scaling": {"summary": str(folder / "scaling.json"), "figure": str(png)}}
