"""The self-contained comparison report (``results/report/index.html``).

Figures are embedded as base64 PNGs so the page opens from a file browser.
"""

from __future__ import annotations

import base64
import html
import math
from pathlib import Path

import numpy as np
import yaml

from . import io


def fmt(x, digits: int = 3) -> str:
    """A number for a table: '—' for missing, fixed significant digits otherwise."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "—"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    ax = abs(x)
    if ax != 0 and (ax >= 1e5 or ax < 1e-3):
        return f"{x:.{digits - 1}e}"
    return f"{x:.{digits}g}" if ax >= 1 else f"{x:.{digits}f}".rstrip("0").rstrip(".")


def global_columns(columns) -> list[str]:
    return [c for c in columns if "[" not in c]


def fit_rows(entries: list[dict]) -> list[dict]:
    """One table row per fit: ``entries`` are ``{fit, draws}`` (dicts / DataFrames)."""
    rows = []
    for e in entries:
        fit, draws = e["fit"], e["draws"]
        sec = fit.get("seconds", {})
        row = {"method": fit["method"], "status": fit["status"],
               "steps": fit.get("steps_run"), "elbo": fit.get("final_elbo"),
               "compile": sec.get("compile"), "run": sec.get("run"),
               "converged_at": fit.get("converged_at"), "stats": {}}
        for col in global_columns(draws.columns):
            v = draws[col].to_numpy()
            v = v[np.isfinite(v)]
            row["stats"][col] = (float(v.mean()), float(v.std(ddof=1))) if v.size > 1 else (None, None)
        if fit["kind"] == "nuts":
            d = fit.get("diagnostics", {})
            row["note"] = (f"R̂ {fmt(d.get('max_rhat'))}, min ESS {fmt(d.get('min_ess_bulk'))}, "
                           f"{d.get('divergences', 0)} divergences")
        elif fit["status"] == "diverged":
            row["note"] = f"non-finite loss or parameters at step {fit.get('diverged_at')}"
        else:
            row["note"] = ""
        rows.append(row)
    return rows


def table_html(rows: list[dict], truth: dict) -> str:
    cols = list(rows[0]["stats"]) if rows else []
    head = ("<tr><th>method</th><th>status</th><th>steps</th><th>converged at</th><th>final ELBO</th>"
            "<th>compile s</th><th>run s</th>"
            + "".join(f"<th>{html.escape(c)}</th>" for c in cols) + "<th>notes</th></tr>")
    body = []
    for r in rows:
        cls = "bad" if r["status"] != "ok" else ""
        cells = [html.escape(r["method"]), f'<span class="{cls}">{r["status"]}</span>',
                 fmt(r["steps"]), fmt(r["converged_at"]), fmt(r["elbo"], 5), fmt(r["compile"], 2), fmt(r["run"], 2)]
        for c in cols:
            m, s = r["stats"].get(c, (None, None))
            cells.append("—" if r["status"] != "ok" or m is None else f"{fmt(m)} ± {fmt(s, 2)}")
        cells.append(html.escape(r["note"]))
        body.append(f'<tr class="{cls}">' + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    tr = ["<b>truth</b>", "", "", "", "", "", ""] + [fmt(truth.get(c)) if truth.get(c) is not None
                                                else "unknown" for c in cols] + [""]
    body.append('<tr class="truth">' + "".join(f"<td>{c}</td>" for c in tr) + "</tr>")
    return f"<table>{head}{''.join(body)}</table>"


def warm_rows(pairs: list[tuple[dict, dict]]) -> list[dict]:
    """Cold against warm per method: steps to convergence, seconds, final ELBO."""
    rows = []
    for cold, warm in pairs:
        cs, ws = cold.get("converged_at"), warm.get("converged_at")
        ct, wt = cold["seconds"]["total"], warm["seconds"]["total"]
        ws_info = warm.get("warm_start") or {}
        rows.append({"method": cold["method"], "cold_steps": cs, "warm_steps": ws,
                     "step_ratio": ws / cs if cs and ws else None,
                     "cold_seconds": ct, "warm_seconds": wt,
                     "time_ratio": wt / ct if ct else None,
                     "cold_elbo": cold.get("final_elbo"), "warm_elbo": warm.get("final_elbo"),
                     "status": f"{cold['status']}/{warm['status']}",
                     "transfer": f"{len(ws_info.get('transferred', []))} transferred, "
                                 f"{len(ws_info.get('resized', []))} resized, "
                                 f"{len(ws_info.get('fresh', []))} fresh"})
    return rows


def warm_table_html(rows: list[dict]) -> str:
    head = ("<tr><th>method</th><th>steps to convergence cold</th><th>warm</th><th>warm/cold</th>"
            "<th>seconds cold</th><th>warm</th><th>warm/cold</th><th>final ELBO cold</th>"
            "<th>warm</th><th>status cold/warm</th><th>params</th></tr>")
    body = []
    for r in rows:
        cells = [html.escape(r["method"]), fmt(r["cold_steps"]), fmt(r["warm_steps"]),
                 fmt(r["step_ratio"], 2), fmt(r["cold_seconds"], 2), fmt(r["warm_seconds"], 2),
                 fmt(r["time_ratio"], 2), fmt(r["cold_elbo"], 5), fmt(r["warm_elbo"], 5),
                 r["status"], r["transfer"]]
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return f"<table>{head}{''.join(body)}</table>"


def img_html(path, caption: str) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode()
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(caption)}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


CSS = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222}
table{border-collapse:collapse;font-size:13px;margin:1em 0}
th,td{border:1px solid #ccc;padding:3px 7px;text-align:right}
th{background:#f3f3f3} td:first-child,th:first-child{text-align:left}
tr.bad td{background:#fde0e0} .bad{color:#b00;font-weight:bold}
tr.truth td{background:#eef6ee}
figure{display:inline-block;margin:0.5em;vertical-align:top}
img{max-width:100%} figcaption{font-size:12px;color:#555}
pre{background:#f7f7f7;padding:1em;font-size:12px;overflow:auto}
td.bad{background:#fde0e0} td.warn{background:#fff0cc} .good{color:#070}
tr.floor td{background:#f2f2fa;color:#555} p.note{font-size:12px;color:#555}
"""


def build_report(studies: list[dict], config: dict, versions: dict, out_path,
                 warm: list[dict] | None = None, scaling: dict | None = None):
    """Write the report.

    ``studies``: one per (model, dataset): ``{model, dataset, description, truth,
    entries: [{fit, draws}], figures: [(path, caption)]}``.
    """
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>svibench report"
             f"</title><style>{CSS}</style></head><body><h1>svibench: SVI guides against NUTS</h1>",
             "<p>Per model and dataset: every method's status, optimisation steps, final "
             "ELBO (mean over the last 10% of steps), compile and run seconds, and the "
             "posterior mean ± sd of every global latent, with the true values used to "
             "simulate the data. Failed or diverged fits are marked red and their "
             "estimates are not shown.</p>", "<h2>Contents</h2><ul>"]
    for s in studies:
        anchor = f"{s['model']}-{s['dataset']}"
        parts.append(f"<li><a href='#{anchor}'>{s['model']} / {s['dataset']}</a></li>")
    if warm:
        parts.append("<li><a href='#warm'>Warm start</a></li>")
    if scaling:
        parts.append("<li><a href='#scaling'>Scaling with dimension</a></li>")
    parts.append("<li><a href='#provenance'>Provenance</a></li></ul>")
    for s in studies:
        anchor = f"{s['model']}-{s['dataset']}"
        parts.append(f"<h2 id='{anchor}'>{html.escape(s['model'])} / "
                     f"{html.escape(s['dataset'])}</h2><p>{html.escape(s['description'])}</p>")
        if s.get("evaluation"):  # ranking against the reference (svibench.ranking)
            from .ranking import section_html

            parts.append(section_html(s["evaluation"], config.get("metrics", {}).get("thresholds")))
            parts.append("<h3>Posterior summaries</h3>")
        parts.append(table_html(fit_rows(s["entries"]), s["truth"]))
        for path, caption in s["figures"]:
            parts.append(img_html(path, caption))
    if warm:
        parts.append("<h2 id='warm'>Warm start</h2><p>A guide pre-trained on one dataset "
                     "continues from its parameters on another (warm) against a fit from "
                     "scratch (cold). Steps to convergence use the criterion of the config's "
                     "<code>svi.convergence</code> (—: not converged within max_steps); "
                     "'resized' params started at the mean of the pre-trained group values.</p>")
        for w in warm:
            parts.append(f"<h3>{html.escape(w['model'])}: {html.escape(w['src'])} → "
                         f"{html.escape(w['dst'])}</h3>")
            parts.append(warm_table_html(w["rows"]))
            parts.append(img_html(w["figure"], "cold and warm loss curves"))
    if scaling:
        from .ranking import scaling_html

        parts.append(scaling_html(scaling["summary"], scaling["figure"]))
    parts.append("<h2 id='provenance'>Provenance</h2><h3>Package versions</h3><pre>"
                 + html.escape(yaml.safe_dump(versions, sort_keys=True)) + "</pre>")
    parts.append("<h3>Config (validated, with defaults)</h3><pre>"
                 + html.escape(yaml.safe_dump(config, sort_keys=False)) + "</pre></body></html>")
    io.write_text(out_path, "\n".join(parts))
