"""The report's accuracy tables as data: per (model, dataset) every method ranked
against the reference, and the scaling study's rows. Data in, dicts out; no HTML and
no files (``report`` reads the files and renders these).

Each ranking row is one method (all its seeds): the median over seeds of every metric
with its range over seeds, the noise floor as a row of its own. Whether a value is
beyond its threshold is ``metrics.judge``'s decision: a check the median seed fails
is marked ``bad`` (red), one only some seed fails ``warn`` (orange). Rows are ranked:
finished fits first, then by the number of red marks, then by the sliced Wasserstein
distance.
"""

from __future__ import annotations

import math

import numpy as np

from ..metrics import THRESHOLDS, failed_checks, judge

# the ranking's mark of each of judge's checks
MARK_OF_CHECK = {"mean_err": "mean_err", "sd_ratio": "sd_ratio", "khat": "khat", "mode": "modes"}


def values(ms: list[dict], get) -> list[float]:
    """``get(m)`` of every metrics dict that has it as a finite number."""
    out = []
    for m in ms:
        try:
            v = get(m)
        except (KeyError, TypeError, IndexError):
            v = None
        if v is not None and not (isinstance(v, float) and not math.isfinite(v)):
            out.append(float(v))
    return out


def spread(vals: list[float]) -> dict | None:
    """Median, min, max and count of the values over seeds; None when there are none."""
    if not vals:
        return None
    return {"median": float(np.median(vals)), "min": min(vals), "max": max(vals), "n": len(vals)}


def median_fit(v: dict, modes: list[dict]) -> dict:
    """The median seed as a metrics dict, for ``judge``: each metric's median over the
    seeds; a mode counts as missing when more than half of the seeds miss one."""
    out = {}
    if v["mean_err"]:
        out["mean_err"] = {"value": v["mean_err"]["median"]}
    if v["sd_min"] and v["sd_max"]:
        out["sd_ratio"] = {"value": [v["sd_min"]["median"], v["sd_max"]["median"]]}
    if v["khat"]:
        out["khat"] = v["khat"]["median"]
    if modes:
        missing = [mm for mm in modes if mm["missing"]]
        out["mode_mass"] = {"missing": sorted({n for mm in missing for n in mm["missing"]})
                            if len(missing) * 2 > len(modes) else []}
    return out


def marks(v: dict, modes: list[dict], ok: list[dict], thresholds: dict) -> dict:
    """``{mark: "bad" | "warn" | ""}`` for every check the method's values allow."""
    median = median_fit(v, modes)
    beyond_median = set(failed_checks(judge(median, thresholds)))
    beyond_some_seed = {c for m in ok for c in failed_checks(judge(m, thresholds))}
    present = {"mean_err": "mean_err" in median, "sd_ratio": "sd_ratio" in median,
               "khat": "khat" in median, "mode": bool(modes)}
    return {MARK_OF_CHECK[c]: "bad" if c in beyond_median else ("warn" if c in beyond_some_seed else "")
            for c in MARK_OF_CHECK if present[c]}


def group_rows(ev: dict, thresholds: dict | None = None) -> list[dict]:
    """One row per method (``group``), its seeds aggregated; ranked.

    ``ev``: ``{reference, fits: [{group, m: metrics dict}]}``."""
    t = {**THRESHOLDS, **(thresholds or {})}
    groups: dict[str, list[dict]] = {}
    for f in ev["fits"]:
        groups.setdefault(f["group"], []).append(f["m"])
    rows = []
    for label, ms in groups.items():
        ok = [m for m in ms if m["status"] == "ok"]
        bad = len(ms) - len(ok)
        row = {"label": label, "kind": ms[0]["kind"], "seeds": [m.get("seed") for m in ms],
               "n": len(ms), "n_ok": len(ok),
               "status": "ok" if not bad else (f"{bad}/{len(ms)} " + ", ".join(
                   sorted({m["status"] for m in ms if m["status"] != "ok"})))}
        v = {
            "mean_err": spread(values(ok, lambda m: m["mean_err"]["value"])),
            "sd_min": spread(values(ok, lambda m: m["sd_ratio"]["value"][0])),
            "sd_max": spread(values(ok, lambda m: m["sd_ratio"]["value"][1])),
            "swd": spread(values(ok, lambda m: m["swd"]["value"])),
            "energy": spread(values(ok, lambda m: m["energy"]["value"])),
            "khat": spread(values(ok, lambda m: m["khat"])),
            "cover90": spread(values(ok, lambda m: m["predictive"]["coverage90"])),
            "ess_bulk": spread(values(ok, lambda m: m["mcmc"]["min_ess_bulk"])),
            "ess_tail": spread(values(ok, lambda m: m["mcmc"]["min_ess_tail"])),
            "rhat": spread(values(ok, lambda m: m["mcmc"]["max_rhat"])),
            "div": spread(values(ok, lambda m: m["mcmc"]["divergences"])),
            "s_per_ess": spread(values(ok, lambda m: m["mcmc"]["seconds_per_effective_draw"])),
            "seconds": spread(values(ms, lambda m: m["cost"]["seconds"])),
            "steps": spread(values(ms, lambda m: m["cost"]["steps"])),
        }
        modes = [m["mode_mass"] for m in ok if m.get("mode_mass")]
        row["modes"] = modes
        row["missing_modes"] = sum(bool(mm["missing"]) for mm in modes)
        row["v"], row["marks"] = v, marks(v, modes, ok, t)
        row["red"] = sum(1 for k in row["marks"].values() if k == "bad")
        rows.append(row)
    rows.sort(key=lambda r: (r["n_ok"] == 0, r["status"] != "ok", r["red"],
                             r["v"]["swd"]["median"] if r["v"]["swd"] else math.inf))
    return rows


def noise_floor(ev: dict) -> dict | None:
    """The same metrics between two halves of the reference (from the first fit that
    has them), the reference's mode shares and its own predictive coverage."""
    ms = [f["m"] for f in ev["fits"]]
    first = next((m for m in ms if m.get("mean_err")), None)
    if not first:
        return None
    modes = next((m["mode_mass"] for m in ms if m.get("mode_mass")), None)
    return {"mean_err": first["mean_err"]["floor"], "sd_ratio": first["sd_ratio"]["floor"],
            "swd": first["swd"]["floor"], "energy": first["energy"]["floor"],
            "mode_shares": modes["reference"] if modes else None,
            "coverage90": next((m["predictive"].get("reference_coverage90") for m in ms
                                if m.get("predictive")), None)}


def ranking_table(ev: dict, thresholds: dict | None = None) -> dict:
    """Everything the ranking table of one (model, dataset) shows: the reference, the
    noise floor, the ranked rows, which optional columns any row fills, the thresholds."""
    rows = group_rows(ev, thresholds)
    return {"reference": ev["reference"], "floor": noise_floor(ev), "rows": rows,
            "show_modes": any(r["modes"] for r in rows),
            "show_ppc": any(r["v"]["cover90"] for r in rows),
            "show_mcmc": any(r["v"]["ess_bulk"] for r in rows),
            "thresholds": {**THRESHOLDS, **(thresholds or {})}}


def scaling_rows(summary: dict) -> list[dict]:
    """The scaling summary's rows, each with ``marks``: ``"bad"`` (or ``""``) for its
    ``mean_err`` and ``sd_ratio`` as judged against the summary's thresholds."""
    out = []
    for r in summary["rows"]:
        fit = {"mean_err": None if r["mean_err"] is None else {"value": r["mean_err"]},
               "sd_ratio": None if r["sd_ratio_min"] is None
               else {"value": [r["sd_ratio_min"], r["sd_ratio_max"]]}}
        beyond = set(failed_checks(judge(fit, summary["thresholds"])))
        out.append({**r, "marks": {c: "bad" if c in beyond else "" for c in ("mean_err", "sd_ratio")}})
    return out
