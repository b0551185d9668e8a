"""Accuracy against cost, one row per fit: the data of the cost figure and of the
report's "gradient evaluations to accuracy" comparison. Imports no plotting library.

A row is ``{method, seed, status, gradient_evaluations, seconds, mean_err, sd_dev}``:
``status`` is the metrics' (``ok``, or why the fit has no score: ``diverged``,
``failed``, ``non-finite draws``); ``seconds`` is fit.json's ``seconds.total``
(compile + run); ``sd_dev`` the worst deviation of the sd: the largest
``|log sd_ratio|`` over latents (0 for a perfect spread; ``inf`` for a collapsed one).
A fit without a score keeps its cost and has ``mean_err`` and ``sd_dev`` None.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .. import io
from ..metrics import THRESHOLDS

# Pathfinder methods compared with the method of the paper's comparison (Zhang et al.
# 2022, Pathfinder, JMLR 23(306)): gradient evaluations to reach the same accuracy.
PATHFINDERS = ("pathfinder", "multipathfinder")
BASELINE = "auto_mvn"


def thresholds_of(config_thresholds: dict | None) -> dict:
    """The study's thresholds (config ``metrics.thresholds``) over the defaults."""
    return {**THRESHOLDS, **(config_thresholds or {})}


def sd_deviation(sd_ratio) -> float | None:
    """``max |log r|`` over the sd_ratio's (min, max); None without one."""
    if sd_ratio is None or any(v is None for v in sd_ratio):
        return None
    return max(abs(math.log(v)) if v > 0 else math.inf for v in sd_ratio)


def cost_row(method: str, fit: dict, metrics: dict) -> dict:
    """One fit's row from its fit.json and metrics.json (see the module docstring)."""
    status = metrics.get("status") or fit.get("status")
    me = (metrics.get("mean_err") or {}).get("value")
    sd = (metrics.get("sd_ratio") or {}).get("value")
    scored = status == "ok" and me is not None
    return {"method": method, "seed": metrics.get("seed", (fit.get("seeds") or {}).get("fit")),
            "status": status if scored or status != "ok" else "no score",
            "gradient_evaluations": fit.get("gradient_evaluations"),
            "seconds": (fit.get("seconds") or {}).get("total"),
            "mean_err": me if scored else None,
            "sd_dev": sd_deviation(sd) if scored else None}


def load_rows(runs: list[dict]) -> list[dict]:
    """``runs``: ``{method, dir}`` of each fit; their rows, in the given order."""
    return [cost_row(r["method"], io.read_json(Path(r["dir"]) / "fit.json"),
                     io.read_json(Path(r["dir"]) / "metrics.json")) for r in runs]


def reached(row: dict, threshold: float) -> bool:
    return row["mean_err"] is not None and row["mean_err"] <= threshold


def gradients_to_accuracy(rows: list[dict], method: str, threshold: float) -> dict | None:
    """A method's gradient evaluations to mean_err <= ``threshold``, over its seeds:
    each seed counts its fit's gradient evaluations when the fit ends within the
    threshold and infinity when it does not (not reached, or no score); ``median``
    is the median of these (None, "not reached", when it is infinite: fewer than
    half its seeds, or half of an even number, reach it). None when the method has
    no row."""
    mine = [r for r in rows if r["method"] == method]
    if not mine:
        return None
    g = [float(r["gradient_evaluations"]) if reached(r, threshold)
         and r["gradient_evaluations"] is not None else math.inf for r in mine]
    med = float(np.median(g))
    return {"method": method, "median": med if math.isfinite(med) else None,
            "reached": sum(math.isfinite(x) for x in g), "seeds": len(g)}


def pathfinder_comparisons(rows: list[dict], threshold: float) -> list[dict]:
    """Each Pathfinder method of the rows against ``BASELINE``:
    ``{method, baseline, of, against, ratio}`` (``of``, ``against``:
    ``gradients_to_accuracy``; ``ratio`` = the baseline's median over Pathfinder's:
    how many times fewer gradient evaluations Pathfinder needs; None when either does
    not reach the threshold). Empty when the baseline or every Pathfinder is absent."""
    base = gradients_to_accuracy(rows, BASELINE, threshold)
    if base is None:
        return []
    out = []
    for m in PATHFINDERS:
        pf = gradients_to_accuracy(rows, m, threshold)
        if pf is None:
            continue
        ratio = (base["median"] / pf["median"]
                 if base["median"] is not None and pf["median"] else None)
        out.append({"method": m, "baseline": BASELINE, "of": pf, "against": base,
                    "ratio": ratio})
    return out
