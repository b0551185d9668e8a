"""The scaling study: a model with J groups (D latents), SVI guides against NUTS.

Each fit is scored against its own long-run NUTS reference (``metrics.json``). Its
**time to accuracy** is how long it took to get a posterior within the accuracy
thresholds (``mean_err`` <= 0.2 and ``sd_ratio`` within [0.8, 1.2]); a fit that
never gets there has none (infinite):

- SVI: the fit's compile + run seconds (it stops once converged, so this is the
  time to convergence), if the result is accurate;
- NUTS: warm-up plus sampling seconds, all of them, if the draws made are accurate.
  NUTS is judged on every draw it made, so it is charged for every draw: charging
  only the sampling needed for 100 effective draws, while judging all of them, would
  favour NUTS (``mean_err`` is a maximum over the D latents: with 100 effective draws
  each, P(all within 0.2 sd) is about 0.95^D, 0.04 at D = 68).

A point (method, D) with several seeds (SVI: the study's ``repeats``) takes the
median of its seeds' times to accuracy, a seed that never got there counting as
infinite: a point is reached only when most of its seeds reach it.

SVI *overtakes* NUTS at the smallest D from which on, at every D studied, a guide's
time to accuracy is below NUTS's.
"""

from __future__ import annotations

import math
import statistics

from . import io
from .metrics import THRESHOLDS

def nuts_time_to_accuracy(fit: dict, metrics: dict) -> float | None:
    if not metrics.get("accurate"):
        return None
    sec = fit.get("seconds") or {}
    warm, sampling = sec.get("warmup"), sec.get("sampling")
    if warm is None or sampling is None:
        return sec.get("total")
    return warm + sampling


def svi_time_to_accuracy(fit: dict, metrics: dict) -> float | None:
    if not metrics.get("accurate"):
        return None
    return (fit.get("seconds") or {}).get("total")


def row(fit: dict, metrics: dict, groups: int, dim: int) -> dict:
    tta = (nuts_time_to_accuracy(fit, metrics) if fit["kind"] == "nuts"
           else svi_time_to_accuracy(fit, metrics))
    sr = (metrics.get("sd_ratio") or {}).get("value") or [None, None]
    return {"model": fit["model"], "method": fit["method"], "kind": fit["kind"], "J": groups, "D": dim,
            "seed": (fit.get("seeds") or {}).get("fit"),
            "status": metrics["status"], "seconds": (fit.get("seconds") or {}).get("total"),
            "steps": fit.get("steps_run"), "mean_err": (metrics.get("mean_err") or {}).get("value"),
            "mean_err_floor": (metrics.get("mean_err") or {}).get("floor"),
            "sd_ratio_min": sr[0], "sd_ratio_max": sr[1], "khat": metrics.get("khat"),
            "accurate": bool(metrics.get("accurate")), "time_to_accuracy": tta,
            "reference_meets_standard": metrics["reference"]["meets_standard"]}


def point_times(rows: list[dict], method: str) -> dict:
    """``{D: time to accuracy}`` of one method: the median over its seeds at each D
    (``inf`` for a seed that never got there)."""
    by_dim: dict[int, list[float]] = {}
    for r in rows:
        if r["method"] == method:
            t = r["time_to_accuracy"]
            by_dim.setdefault(r["D"], []).append(math.inf if t is None else t)
    return {d: statistics.median(ts) for d, ts in by_dim.items()}


def crossover(rows: list[dict]) -> dict:
    """Per SVI method: the smallest D from which on it beats NUTS's time to accuracy
    (each point the median over its seeds, ``point_times``)."""
    inf = math.inf
    nuts_method = next((r["method"] for r in rows if r["kind"] == "nuts"), None)
    nuts = point_times(rows, nuts_method) if nuts_method else {}
    dims = sorted(nuts)
    out = {}
    for method in dict.fromkeys(r["method"] for r in rows if r["kind"] == "svi"):
        t = point_times(rows, method)
        wins = [d for d in dims if d in t and t[d] < inf and t[d] < nuts[d]]
        first = None
        for d in dims:  # smallest D with a win at it and at every larger D
            if all(e in wins for e in dims if e >= d):
                first = d
                break
        out[method] = {"overtakes_at_D": first, "wins_at_D": wins}
    return out


def verdict(cross: dict) -> str:
    won = {m: c["overtakes_at_D"] for m, c in cross.items() if c["overtakes_at_D"] is not None}
    if not cross:
        return "no SVI method in the study"
    if not won:
        return "no SVI guide overtakes NUTS's time to accuracy at the sizes studied"
    d = min(won.values())
    who = ", ".join(sorted(m for m, v in won.items() if v == d))
    return f"SVI ({who}) overtakes NUTS's time to accuracy from D = {d}"


def summarise(entries: list[dict], out_json, thresholds: dict | None = None) -> dict:
    """``entries``: ``{"groups": J, "dim": D, "fit": path, "metrics": path}`` per fit."""
    if not entries:
        # e.g. `--forcerun scaling_summary` in a study whose scaling part is off.
        raise ValueError("no scaling fits to summarise: the config's scaling.enabled is false "
                         "(run with --configfile config/scaling.yaml)")
    rows = [row(io.read_json(e["fit"]), io.read_json(e["metrics"]), int(e["groups"]), int(e["dim"]))
            for e in entries]
    rows.sort(key=lambda r: (r["D"], r["kind"] != "nuts", r["method"], r["seed"] or 0))
    cross = crossover(rows)
    summary = {"model": rows[0]["model"], "rows": rows, "crossover": cross, "verdict": verdict(cross),
               "thresholds": {**THRESHOLDS, **(thresholds or {})}}
    io.write_json(out_json, summary)
    return summary
