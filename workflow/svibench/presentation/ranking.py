"""The report's accuracy tables as data: per (model, dataset) every method ranked
against the reference, and the scaling study's rows. Data in, dicts out; no HTML and
no files (``report`` reads the files and renders these).

Each ranking row is one method (all its seeds): the median over seeds of every metric
with its range over seeds, the noise floor as a row of its own. Whether a value is
beyond its threshold is ``metrics.judge``'s decision: a check the median seed fails
is marked ``bad`` (red, counted in ``red``), one only some seed fails ``warn``
(orange); the cell's ``title`` gives the reason. NUTS is judged on R-hat, divergences,
bulk / tail ESS per chain and chains sitting in separate modes. PSIS k-hat is a
diagnostic (``metrics.khat_note``): marked ``diag``, never counted, so a method without
one gains nothing.

Rows are ranked in tiers: finished fits first, then fits that did not collapse
(``collapsed``: median sd_ratio below ``metrics.COLLAPSED``), then fits with every
seed finished, then by the number of red marks; within a tier by the median sliced
Wasserstein distance, where two rows share a rank (``"2="``) when their gap is
inside the combined spread: half the sum of their ranges over seeds plus the width of
the reference's 95 % floor band (``metrics.floor_band`` over random half-splits).
"""

from __future__ import annotations

import math

import numpy as np

from ..metrics import (THRESHOLDS, collapsed, failed_checks, judge, khat_note, khat_summary,
                       khat_threshold)

# the ranking's mark (its column) of each of judge's checks
MARK_OF_CHECK = {"mean_err": "mean_err", "sd_ratio": "sd_ratio", "mode": "modes",
                 "chains": "modes", "rhat": "rhat", "divergences": "div",
                 "ess_bulk": "ess_bulk", "ess_tail": "ess_tail"}
MCMC_CHECKS = ("rhat", "divergences", "ess_bulk", "ess_tail")


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


def majority(flags: list[bool]) -> bool:
    return sum(flags) * 2 > len(flags)


def median_fit(v: dict, modes: list[dict], chains: int | None = None) -> dict:
    """The median seed as a metrics dict, for ``judge``: each metric's median over the
    seeds; a mode counts as missing (chains as separated) when more than half of the
    seeds miss one (separate them)."""
    out = {}
    if v["mean_err"]:
        out["mean_err"] = {"value": v["mean_err"]["median"]}
    if v["sd_min"] and v["sd_max"]:
        out["sd_ratio"] = {"value": [v["sd_min"]["median"], v["sd_max"]["median"]]}
    if modes:
        missing = [mm for mm in modes if mm["missing"]]
        out["mode_mass"] = {"missing": sorted({n for mm in missing for n in mm["missing"]})
                            if majority([bool(mm["missing"]) for mm in modes]) else [],
                            "separated": majority([bool(mm.get("separated")) for mm in modes])}
        if out["mode_mass"]["separated"]:  # name the chains of the first seed that shows it
            first = next(mm for mm in modes if mm.get("separated"))
            out["mode_mass"].update(modes=first["modes"], by_chain=first.get("by_chain"))
    mc = {k: v[c]["median"] for k, c in (("max_rhat", "rhat"), ("min_ess_bulk", "ess_bulk"),
                                          ("min_ess_tail", "ess_tail"), ("divergences", "div"))
          if v.get(c)}
    if mc:
        out["mcmc"] = {**mc, "chains": chains or 1}
    return out


def check_reasons(reasons: list[str]) -> dict:
    """``{check: reason}`` of ``judge``'s reasons (the first of each check)."""
    out: dict[str, str] = {}
    for r in reasons:
        c = r.split(" ", 1)[0]
        if c in MARK_OF_CHECK:
            out.setdefault(c, r)
    return out


def marks(v: dict, modes: list[dict], ok: list[dict], thresholds: dict,
          chains: int | None = None) -> tuple[dict, dict]:
    """``({mark: "bad" | "warn" | ""}, {mark: reason})`` for every check the method's
    values allow; the reasons (the cells' titles) of the median seed for ``bad``, of
    the first seed beyond for ``warn``."""
    median = median_fit(v, modes, chains)
    at_median = check_reasons(judge(median, thresholds))
    at_seed: dict[str, str] = {}
    for m in ok:
        for c, r in check_reasons(judge(m, thresholds)).items():
            at_seed.setdefault(c, f"seed {m.get('seed')}: {r}")
    present = {"mean_err": "mean_err" in median, "sd_ratio": "sd_ratio" in median,
               "mode": bool(modes), "chains": any(mm.get("by_chain") for mm in modes),
               **{c: "mcmc" in median for c in MCMC_CHECKS}}
    out: dict[str, str] = {}
    titles: dict[str, str] = {}
    rank = {"": 0, "warn": 1, "bad": 2}
    for c, mark in MARK_OF_CHECK.items():
        if not present[c]:
            continue
        cls = "bad" if c in at_median else ("warn" if c in at_seed else "")
        if rank[cls] >= rank[out.get(mark, "")]:
            out[mark] = cls
        reason = at_median.get(c) or at_seed.get(c)
        if reason:
            titles[mark] = "; ".join(filter(None, [titles.get(mark), reason]))
    return out, titles


def khat_cell(ok: list[dict], thresholds: dict) -> dict | None:
    """k-hat over seeds (and over particle sets, where a seed has several): the median
    seed's median, the lowest and highest value, the sample-size threshold, the
    diagnostic note when beyond it and what k-hat is of (AutoDAIS: its augmented
    sampler). None when no seed has one."""
    per = [(m, khat_summary(m.get("khat"))) for m in ok]
    per = [(m, k) for m, k in per if k is not None]
    if not per:
        return None
    meds = [k["median"] for _, k in per]
    particles = [(m.get("khat_info") or {}).get("particles") for m, _ in per]
    particles = [p for p in particles if p]
    s = int(np.median(particles)) if particles else None
    vals = [x for _, k in per for x in (k["values"] or [k["median"]])]
    summary = {"median": float(np.median(meds)), "low": min(k["low"] for _, k in per),
               "high": max(k["high"] for _, k in per), "values": vals}
    info = {"khat": summary, "khat_info": {"particles": s}}
    of = {(m.get("khat_info") or {}).get("of") for m, _ in per} - {None, "the guide"}
    return {"median": summary["median"], "min": summary["low"], "max": summary["high"],
            "n": len(vals), "seeds": len(per), "particles": s,
            "threshold": khat_threshold(s, thresholds["khat"]),
            "note": khat_note(info, thresholds), "of": sorted(of)[0] if of else None}


def mode_cells(modes: list[dict]) -> list[dict]:
    """Per mode: the median share over seeds, its binomial standard error (the median
    seed's) and the range over seeds."""
    if not modes:
        return []
    out = []
    for i, name in enumerate(modes[0]["modes"]):
        shares = [mm["fit"][i] for mm in modes]
        ses = [mm["se"][i] for mm in modes if mm.get("se")]
        out.append({"mode": name, "median": float(np.median(shares)), "min": min(shares),
                    "max": max(shares), "n": len(shares),
                    "se": float(np.median(ses)) if ses else None})
    return out


def floor_width(ok: list[dict], metric: str = "swd") -> float:
    """The width of the reference's 95 % floor band of ``metric`` (median over seeds);
    0 when the metrics carry no band."""
    widths = values(ok, lambda m: m[metric]["floor_band"][1] - m[metric]["floor_band"][0])
    return float(np.median(widths)) if widths else 0.0


def tier(r: dict) -> tuple:
    return (r["n_ok"] == 0, r["collapsed"], r["status"] != "ok", r["red"])


def tied(a: dict, b: dict) -> bool:
    """Same tier and median swd apart by no more than the combined spread: half the sum
    of the two ranges over seeds plus the wider floor band."""
    if tier(a) != tier(b) or not a["v"]["swd"] or not b["v"]["swd"]:
        return False
    sa, sb = a["v"]["swd"], b["v"]["swd"]
    tol = ((sa["max"] - sa["min"]) + (sb["max"] - sb["min"])) / 2 + max(a["floor_width"], b["floor_width"])
    return abs(sa["median"] - sb["median"]) <= tol


def rank_rows(rows: list[dict]) -> list[dict]:
    """Sort by tier then median swd, and give each row its ``rank`` and ``rank_label``:
    a row tied with its group's first row shares that row's rank (``"2="``)."""
    rows.sort(key=lambda r: (*tier(r), r["v"]["swd"]["median"] if r["v"]["swd"] else math.inf))
    leader = None
    for i, r in enumerate(rows):
        if leader is not None and tied(leader, r):
            r["rank"] = leader["rank"]
            leader["shared"] = r["shared"] = True
        else:
            r["rank"], r["shared"], leader = i + 1, False, r
    for r in rows:
        r["rank_label"] = f"{r['rank']}=" if r["shared"] else str(r["rank"])
    return rows


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
            "khat": khat_cell(ok, t),
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
        chains = values(ok, lambda m: m["mcmc"]["chains"])
        row["modes"] = modes
        row["mode_shares"] = mode_cells(modes)
        row["missing_modes"] = sum(bool(mm["missing"]) for mm in modes)
        row["separated"] = sum(bool(mm.get("separated")) for mm in modes)
        row["v"] = v
        row["marks"], row["titles"] = marks(v, modes, ok, t, int(min(chains)) if chains else None)
        row["red"] = sum(1 for k in row["marks"].values() if k == "bad")
        row["collapsed"] = bool(v["sd_min"]) and collapsed(
            {"sd_ratio": {"value": [v["sd_min"]["median"], v["sd_max"]["median"]]}})
        row["floor_width"] = floor_width(ok)
        rows.append(row)
    return rank_rows(rows)


def noise_floor(ev: dict) -> dict | None:
    """The same metrics between two halves of the reference (from the first fit that
    has them), the reference's mode shares and its own predictive coverage. ``median``
    and ``band``: each metric's median and 95 % band over random half-splits, where
    the metrics carry them (None otherwise)."""
    ms = [f["m"] for f in ev["fits"]]
    first = next((m for m in ms if m.get("mean_err")), None)
    if not first:
        return None
    modes = next((m["mode_mass"] for m in ms if m.get("mode_mass")), None)
    metrics = ("mean_err", "sd_ratio", "swd", "energy")
    return {"mean_err": first["mean_err"]["floor"], "sd_ratio": first["sd_ratio"]["floor"],
            "swd": first["swd"]["floor"], "energy": first["energy"]["floor"],
            "median": {k: first[k].get("floor_median") for k in metrics},
            "band": {k: first[k].get("floor_band") for k in metrics},
            "splits": first.get("floor_splits"),
            "mode_shares": modes["reference"] if modes else None,
            "coverage90": next((m["predictive"].get("reference_coverage90") for m in ms
                                if m.get("predictive")), None)}


def ranking_table(ev: dict, thresholds: dict | None = None) -> dict:
    """Everything the ranking table of one (model, dataset) shows: the reference, the
    noise floor, the ranked rows, which optional columns any row fills, the thresholds."""
    rows = group_rows(ev, thresholds)
    port = next((f["m"]["port_check"] for f in ev["fits"] if f["m"].get("port_check")), None)
    return {"reference": ev["reference"], "floor": noise_floor(ev), "rows": rows,
            "port_check": port,
            "show_modes": any(r["modes"] for r in rows),
            "show_ppc": any(r["v"]["cover90"] for r in rows),
            "show_mcmc": any(r["v"]["ess_bulk"] for r in rows),
            "thresholds": {**THRESHOLDS, **(thresholds or {})}}


def scaling_rows(summary: dict) -> list[dict]:
    """The scaling summary's rows, each with ``marks``: ``"bad"`` (or ``""``) for its
    ``mean_err`` and ``sd_ratio`` as judged against the summary's thresholds, and its
    ``khat`` as one number (the median over particle sets)."""
    out = []
    for r in summary["rows"]:
        fit = {"mean_err": None if r["mean_err"] is None else {"value": r["mean_err"]},
               "sd_ratio": None if r["sd_ratio_min"] is None
               else {"value": [r["sd_ratio_min"], r["sd_ratio_max"]]}}
        beyond = set(failed_checks(judge(fit, summary["thresholds"])))
        kh = khat_summary(r.get("khat"))  # a number, or over several particle sets
        out.append({**r, "khat": kh["median"] if kh else None,
                    "marks": {c: "bad" if c in beyond else "" for c in ("mean_err", "sd_ratio")}})
    return out
