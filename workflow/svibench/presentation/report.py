"""The self-contained comparison report (``results/report/index.html``).

``report`` (the report rule's one call) reads the stored results, the functions
below turn them into table rows, and the templates in ``templates/`` render the page.
Figures are embedded as base64 PNGs so the page opens from a file browser.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml

from .. import io
from ..models import get_model
from . import cost as cost_data
from . import ranking
from .figures import load_fit
from .render import fmt, render


def global_columns(columns) -> list[str]:
    """The scalar latents (vector elements such as ``m[0]`` are left to the figures)."""
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


def data_source(meta: dict) -> str:
    """'' for a simulated dataset; where a user CSV (or your own model and its data)
    came from, for the report."""
    if meta.get("source") == "user":
        given = f"; reference: your draws {meta['reference_draws']}" if meta.get("reference_draws") else ""
        return f". Your model: {meta['module']}, data {meta['data']}{given}."
    if meta.get("source") != "csv":
        return ""
    groups = (f", groups {', '.join(map(str, meta['group_labels']))} shown as 0..{meta['groups'] - 1}"
              if meta.get("group_labels") else "")
    return f". Your data: {meta['csv']} ({meta['rows']} rows{groups}); truth unknown."


def load_evaluation(entry: dict) -> dict:
    """The reference and every fit's metrics.json of one (model, dataset):
    ``{model, dataset, reference, fits: [{...entry's fit, m: metrics}], predictive}``."""
    fits = [{**f, "m": io.read_json(f["metrics"])} for f in entry["fits"]]
    return {"model": entry["model"], "dataset": entry["dataset"],
            "reference": io.read_json(entry["reference"]), "fits": fits,
            "predictive": entry.get("predictive")}


def existing(path):
    """``path`` when the file is there, else None (a figure the study did not make)."""
    return path if path and Path(path).exists() else None


def ranking_html(ev: dict, thresholds: dict | None = None) -> str:
    """The reference line, ranking table and its note of one (model, dataset)."""
    return render("ranking.html", table=ranking.ranking_table(ev, thresholds))


def scaling_html(summary: dict, figure) -> str:
    """The scaling study's section: its verdict, table and figure."""
    return render("scaling.html", summary=summary, rows=ranking.scaling_rows(summary),
                  figure=existing(figure))


def diagnostics_html(studies: list[dict], thresholds: dict | None = None) -> str:
    """The table of which diagnostics can be trusted, over every scored fit of every
    study (``svibench.trust``); '' when no SVI or Pathfinder fit was scored."""
    from .. import trust
    from ..metrics import THRESHOLDS

    fits = [{"dataset": (s["model"], s["dataset"]), "m": f["m"]}
            for s in studies if s.get("evaluation") for f in s["evaluation"]["fits"]]
    table = trust.trust_table(fits, thresholds)
    if not table["fits"]:  # no SVI or Pathfinder fit scored
        return ""
    return render("diagnostics.html", trust=table, thresholds={**THRESHOLDS, **(thresholds or {})})


def cost_section(entry: dict, thresholds: dict | None = None) -> dict:
    """One dataset's accuracy-against-cost section: ``{figure, threshold,
    comparisons}`` from its report_cost entry (``{figure, runs: [{method, dir}]}``):
    ``comparisons`` are ``cost.pathfinder_comparisons`` over every seed's fit.json
    and metrics.json, medians rounded to whole gradient evaluations and the ratio
    checked against the paper's ten times."""
    thr = cost_data.thresholds_of(thresholds)["mean_err"]
    rows = cost_data.load_rows(entry["runs"])
    comparisons = []
    for c in cost_data.pathfinder_comparisons(rows, thr):
        of, against = dict(c["of"]), dict(c["against"])
        for side in (of, against):
            side["median"] = None if side["median"] is None else int(round(side["median"]))
        comparisons.append({**c, "of": of, "against": against,
                            "tenfold": None if c["ratio"] is None else c["ratio"] >= 10})
    return {"figure": existing(entry["figure"]), "threshold": thr, "comparisons": comparisons}


def build_report(studies: list[dict], config: dict, versions: dict, out_path,
                 warm: list[dict] | None = None, scaling: dict | None = None):
    """Write the report from loaded results.

    ``studies``: one per (model, dataset): ``{model, dataset, description, truth,
    entries: [{fit, draws}], figures: [(path, caption)], evaluation}`` (``evaluation``
    as ``load_evaluation`` gives it, or None; ``cost``: ``cost_section``'s, or
    None); ``warm``: ``{model, src, dst, figure,
    rows}`` (``rows`` from ``warm_rows``); ``scaling``: ``{summary, figure}``.
    """
    thresholds = config.get("metrics", {}).get("thresholds")
    shown = []
    for s in studies:
        rows = fit_rows(s["entries"])
        ev = s.get("evaluation")
        shown.append({**s, "anchor": f"{s['model']}-{s['dataset']}", "rows": rows,
                      "columns": list(rows[0]["stats"]) if rows else [],
                      "ranking": ranking.ranking_table(ev, thresholds) if ev else None,
                      "predictive": existing(ev.get("predictive")) if ev else None,
                      "cost": s.get("cost")})
    scaled = ({"summary": scaling["summary"], "rows": ranking.scaling_rows(scaling["summary"]),
               "figure": existing(scaling["figure"])} if scaling else None)
    page = render("report.html", studies=shown, warm=warm or [], scaling=scaled,
                  diagnostics=diagnostics_html(studies, thresholds),
                  versions_yaml=yaml.safe_dump(versions, sort_keys=True),
                  config_yaml=yaml.safe_dump(config, sort_keys=False))
    io.write_text(out_path, page)


def report(studies: list[dict], config: dict, out, warm: list[dict] | None = None,
           evaluation: list[dict] | None = None, scaling: dict | None = None,
           cost: list[dict] | None = None):
    """The report rule: read the stored results and write the report to ``out``.

    ``studies``: ``{model, dataset, data_json, fit_dirs, figures: [(path, caption)]}``;
    ``warm``: ``{model, src, dst, figure, pairs: [(cold dir, warm dir)]}``;
    ``evaluation``: per (model, dataset) its reference and metrics files (see
    ``load_evaluation``); ``scaling``: ``{summary, figure}`` paths of the scaling study;
    ``cost``: per (model, dataset) its cost figure and fits (``Study.report_cost``)."""
    # imported here, not above: importing the presentation package must not import
    # fitting (and its engine) while versions() still lives there
    from ..provenance import versions

    scored = {(e["model"], e["dataset"]): load_evaluation(e) for e in (evaluation or [])}
    thresholds = config.get("metrics", {}).get("thresholds")
    costs = {(e["model"], e["dataset"]): cost_section(e, thresholds) for e in (cost or [])}

    built = []
    for s in studies:
        meta = io.read_json(s["data_json"])
        entries = [{"draws": d, "fit": f} for d, f in (load_fit(p) for p in s["fit_dirs"])]
        built.append({"model": s["model"], "dataset": s["dataset"],
                      "description": get_model(s["model"]).description + data_source(meta),
                      "truth": meta["truth"], "entries": entries, "figures": s["figures"],
                      "evaluation": scored.get((s["model"], s["dataset"])),
                      "cost": costs.get((s["model"], s["dataset"]))})
    warm_built = [{**w, "rows": warm_rows([(io.read_json(Path(c) / "fit.json"),
                                            io.read_json(Path(h) / "fit.json"))
                                           for c, h in w["pairs"]])}
                  for w in (warm or [])]
    scaled = ({"summary": io.read_json(scaling["summary"]), "figure": scaling["figure"]}
              if scaling else None)
    build_report(built, config, versions(), out, warm=warm_built, scaling=scaled)
