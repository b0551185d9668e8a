"""The report's accuracy section: per (model, dataset) a ranking table of every method
against the reference, and the scaling study's table.

Each row is one method (all its seeds): the median over seeds of every metric, the
range over seeds beside it when there are several, the noise floor in the first row.
A value beyond its threshold (``mean_err`` > 0.2, ``sd_ratio`` outside [0.8, 1.2],
``khat`` > 0.7, a missing mode) is red; a median within it while some seed is beyond
is orange. Rows are ranked: finished fits first, then by the number of red marks,
then by the sliced Wasserstein distance.
"""

from __future__ import annotations

import html
import math
from pathlib import Path

import numpy as np

from . import io
from .metrics import THRESHOLDS
from .report import fmt


def load(entry: dict) -> dict:
    """Read the reference and every fit's metrics.json of one (model, dataset)."""
    fits = []
    for f in entry["fits"]:
        m = io.read_json(f["metrics"])
        fits.append({**f, "m": m})
    return {"model": entry["model"], "dataset": entry["dataset"],
            "reference": io.read_json(entry["reference"]), "fits": fits,
            "predictive": entry.get("predictive")}


def _vals(ms, get):
    out = []
    for m in ms:
        try:
            v = get(m)
        except (KeyError, TypeError, IndexError):
            v = None
        if v is not None and not (isinstance(v, float) and not math.isfinite(v)):
            out.append(float(v))
    return out


def _stat(vals):
    if not vals:
        return None
    return {"median": float(np.median(vals)), "min": min(vals), "max": max(vals), "n": len(vals)}


def group_rows(ev: dict, thresholds: dict | None = None) -> list[dict]:
    """One row per method (label), its seeds aggregated; ranked."""
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
            "mean_err": _stat(_vals(ok, lambda m: m["mean_err"]["value"])),
            "sd_min": _stat(_vals(ok, lambda m: m["sd_ratio"]["value"][0])),
            "sd_max": _stat(_vals(ok, lambda m: m["sd_ratio"]["value"][1])),
            "swd": _stat(_vals(ok, lambda m: m["swd"]["value"])),
            "energy": _stat(_vals(ok, lambda m: m["energy"]["value"])),
            "khat": _stat(_vals(ok, lambda m: m["khat"])),
            "cover90": _stat(_vals(ok, lambda m: m["predictive"]["coverage90"])),
            "ess_bulk": _stat(_vals(ok, lambda m: m["mcmc"]["min_ess_bulk"])),
            "ess_tail": _stat(_vals(ok, lambda m: m["mcmc"]["min_ess_tail"])),
            "rhat": _stat(_vals(ok, lambda m: m["mcmc"]["max_rhat"])),
            "div": _stat(_vals(ok, lambda m: m["mcmc"]["divergences"])),
            "s_per_ess": _stat(_vals(ok, lambda m: m["mcmc"]["seconds_per_effective_draw"])),
            "seconds": _stat(_vals(ms, lambda m: m["cost"]["seconds"])),
            "steps": _stat(_vals(ms, lambda m: m["cost"]["steps"])),
        }
        modes = [m["mode_mass"] for m in ok if m.get("mode_mass")]
        row["modes"] = modes
        row["missing_modes"] = sum(bool(mm["missing"]) for mm in modes)
        # red: the median beyond; orange: some seed beyond
        marks = {}

        def mark(key, beyond_median, beyond_any):
            marks[key] = "bad" if beyond_median else ("warn" if beyond_any else "")

        me = v["mean_err"]
        if me:
            mark("mean_err", me["median"] > t["mean_err"], me["max"] > t["mean_err"])
        lo, hi = t["sd_ratio"]
        if v["sd_min"] and v["sd_max"]:
            mark("sd_ratio", v["sd_min"]["median"] < lo or v["sd_max"]["median"] > hi,
                 v["sd_min"]["min"] < lo or v["sd_max"]["max"] > hi)
        if v["khat"]:
            mark("khat", v["khat"]["median"] > t["khat"], v["khat"]["max"] > t["khat"])
        if modes:
            mark("modes", row["missing_modes"] * 2 > len(modes), row["missing_modes"] > 0)
        row["v"], row["marks"] = v, marks
        row["red"] = sum(1 for k in marks.values() if k == "bad")
        rows.append(row)
    rows.sort(key=lambda r: (r["n_ok"] == 0, r["status"] != "ok", r["red"],
                             r["v"]["swd"]["median"] if r["v"]["swd"] else math.inf))
    return rows


def _cell(s, digits=3, cls="", title=""):
    if s is None:
        return f'<td class="{cls}">—</td>'
    text = fmt(s["median"], digits)
    if s["n"] > 1 and s["max"] != s["min"]:
        text += f' <small>({fmt(s["min"], 2)}–{fmt(s["max"], 2)})</small>'
    t = f' title="{html.escape(title)}"' if title else ""
    return f'<td class="{cls}"{t}>{text}</td>'


def _sd_cell(lo, hi, cls):
    if lo is None or hi is None:
        return f'<td class="{cls}">—</td>'
    text = f"{fmt(lo['median'], 3)}–{fmt(hi['median'], 3)}"
    if lo["n"] > 1 and (lo["min"] != lo["max"] or hi["min"] != hi["max"]):
        text += f' <small>({fmt(lo["min"], 2)}–{fmt(hi["max"], 2)})</small>'
    return f'<td class="{cls}">{text}</td>'


def reference_html(ref: dict) -> str:
    kind = ref["kind"]
    s = ref.get("settings", {})
    if kind == "nuts":
        d = ref["diagnostics"]
        what = (f"long-run NUTS ({s.get('parameterisation', '')}): {ref['chains']} chains × "
                f"{ref['draws_per_chain']} draws, min bulk ESS {fmt(d['min_ess_bulk'], 4)}, "
                f"min tail ESS {fmt(d['min_ess_tail'], 4)}, max split R̂ {fmt(d['max_rhat'], 4)}, "
                f"{d['divergences']} divergences")
    elif kind == "grid":
        g = s["grid"]
        what = (f"grid inverse-CDF draws ({ref['n_draws']}): {g['cells']}×{g['cells']} cells over "
                f"the box, cell width {fmt(g['cell_width'])}")
    else:
        what = f"exact posterior, {ref['n_draws']} independent draws"
    if ref["meets_standard"]:
        verdict = '<span class="good">meets the reference standard</span>'
    else:
        verdict = ('<span class="bad">MISSES the reference standard ('
                   + html.escape("; ".join(ref["problems"])) + "): every metric below is "
                   "measured against it and only as good as it</span>")
    return f"<p><b>Reference:</b> {html.escape(what)} — {verdict}.</p>"


def ranking_html(ev: dict, thresholds: dict | None = None) -> str:
    """The ranking table (and reference line) of one (model, dataset)."""
    rows = group_rows(ev, thresholds)
    has = lambda key: any(r["v"][key] for r in rows)  # noqa: E731
    show_modes = any(r["modes"] for r in rows)
    show_ppc = has("cover90")
    show_mcmc = has("ess_bulk")
    head = ["#", "method", "seeds", "status", "mean_err", "sd_ratio min–max", "swd", "energy", "k̂"]
    head += ["mode shares"] if show_modes else []
    head += ["PPC 90% cover"] if show_ppc else []
    head += ["bulk ESS", "tail ESS", "R̂", "div.", "s / eff. draw"] if show_mcmc else []
    head += ["steps", "seconds"]
    out = [reference_html(ev["reference"]),
           "<table class='ranking'><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>"]
    # the noise floor: the same metrics between two halves of the reference
    floor = next((f["m"] for f in ev["fits"] if f["m"].get("mean_err")), None)
    if floor:
        def fl(key, i=None):
            v = floor[key]["floor"]
            return v if i is None else v[i]
        cells = ["", "<i>noise floor</i>", "", "reference halves", f"<td>{fmt(fl('mean_err'))}</td>",
                 f"<td>{fmt(fl('sd_ratio', 0))}–{fmt(fl('sd_ratio', 1))}</td>",
                 f"<td>{fmt(fl('swd'))}</td>", f"<td>{fmt(fl('energy'))}</td>", "<td></td>"]
        if show_modes:
            mm = next((m["mode_mass"] for m in (f["m"] for f in ev["fits"]) if m.get("mode_mass")), None)
            cells.append("<td>" + "/".join(fmt(x, 2) for x in mm["reference"]) + "</td>" if mm else "<td></td>")
        if show_ppc:
            rc = next((m["predictive"].get("reference_coverage90") for m in (f["m"] for f in ev["fits"])
                       if m.get("predictive")), None)
            cells.append(f"<td title='the reference posterior's own coverage'>{fmt(rc)}</td>")
        if show_mcmc:
            cells += ["<td></td>"] * 5
        cells += ["<td></td>", "<td></td>"]
        out.append("<tr class='floor'>" + "".join(c if c.startswith("<td") else f"<td>{c}</td>"
                                                  for c in cells) + "</tr>")
    for i, r in enumerate(rows, 1):
        v, mk = r["v"], r["marks"]
        bad = r["n_ok"] == 0
        cls = "bad" if bad else ""
        seeds = ", ".join(str(s) for s in r["seeds"] if s is not None)
        cells = [f"<td>{i}</td>", f"<td>{html.escape(r['label'])}</td>",
                 f"<td>{seeds if r['n'] > 1 else ''}</td>",
                 f"<td class='{'bad' if r['status'] != 'ok' else ''}'>{html.escape(r['status'])}</td>",
                 _cell(v["mean_err"], cls=mk.get("mean_err", "")),
                 _sd_cell(v["sd_min"], v["sd_max"], mk.get("sd_ratio", "")),
                 _cell(v["swd"]), _cell(v["energy"]),
                 _cell(v["khat"], 2, cls=mk.get("khat", ""))]
        if show_modes:
            if r["modes"]:
                mm = r["modes"][0]
                text = "/".join(fmt(x, 2) for x in mm["fit"])
                if r["missing_modes"]:
                    text += f" <small>missing in {r['missing_modes']}/{len(r['modes'])}</small>"
                cells.append(f"<td class='{mk.get('modes', '')}'>{text}</td>")
            else:
                cells.append("<td>—</td>")
        if show_ppc:
            cells.append(_cell(v["cover90"], 2))
        if show_mcmc:
            cells += [_cell(v["ess_bulk"], 5), _cell(v["ess_tail"], 5), _cell(v["rhat"], 4),
                      _cell(v["div"]), _cell(v["s_per_ess"], 2)]
        cells += [_cell(v["steps"], 6), _cell(v["seconds"], 2)]
        out.append(f"<tr class='{cls}'>" + "".join(cells) + "</tr>")
    out.append("</table>")
    t = {**THRESHOLDS, **(thresholds or {})}
    out.append(f"<p class='note'>Accuracy in reference sds (median over seeds; range in brackets). "
               f"Red: beyond a threshold (mean_err &gt; {t['mean_err']}, sd_ratio outside "
               f"[{t['sd_ratio'][0]}, {t['sd_ratio'][1]}], k̂ &gt; {t['khat']}, a missing mode); "
               f"orange: some seed beyond. Ranked by red marks, then swd. A fit that did not "
               f"finish has no metrics (—), never a zero.</p>")
    return "\n".join(out)


def section_html(ev: dict, thresholds: dict | None = None) -> str:
    from .report import img_html

    parts = ["<h3>Accuracy against the reference</h3>", ranking_html(ev, thresholds)]
    if ev.get("predictive") and Path(ev["predictive"]).exists():
        parts.append(img_html(ev["predictive"], "Posterior predictive check"))
    return "\n".join(parts)


def scaling_html(summary: dict, figure) -> str:
    from .report import img_html

    head = ["J", "D", "method", "status", "seconds", "steps", "mean_err", "sd_ratio min–max",
            "k̂", "time to accuracy, s", "reference"]
    out = ["<h2 id='scaling'>Scaling with dimension</h2>",
           f"<p><b>{html.escape(summary['verdict'])}.</b> Time to accuracy: SVI's compile + run "
           f"seconds, NUTS's warm-up plus the sampling needed for {summary['min_ess']} effective "
           "draws, when the result is within the mean_err and sd_ratio thresholds "
           "(— otherwise).</p>",
           "<table><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>"]
    t = summary["thresholds"]
    for r in summary["rows"]:
        me_bad = r["mean_err"] is not None and r["mean_err"] > t["mean_err"]
        sd_bad = r["sd_ratio_min"] is not None and (r["sd_ratio_min"] < t["sd_ratio"][0]
                                                   or r["sd_ratio_max"] > t["sd_ratio"][1])
        cells = [fmt(r["J"]), fmt(r["D"]), html.escape(r["method"]), html.escape(r["status"]),
                 fmt(r["seconds"], 3), fmt(r["steps"]),
                 f"<span class='{'bad' if me_bad else ''}'>{fmt(r['mean_err'])}</span>",
                 f"<span class='{'bad' if sd_bad else ''}'>{fmt(r['sd_ratio_min'])}–{fmt(r['sd_ratio_max'])}</span>",
                 fmt(r["khat"], 2), fmt(r["time_to_accuracy"], 3),
                 "ok" if r["reference_meets_standard"] else "<span class='bad'>below standard</span>"]
        out.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    out.append("</table>")
    if figure and Path(figure).exists():
        out.append(img_html(figure, "Seconds, mean_err and time to accuracy against D"))
    return "\n".join(out)
