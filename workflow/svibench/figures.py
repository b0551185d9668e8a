"""Glue from stored files to figures and the report (one function per rule)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import io, plots
from .models import get_model
from .provenance import versions


def load_fit(fit_dir) -> tuple:
    """``(draws, fit)`` of a fit folder."""
    fit_dir = Path(fit_dir)
    return io.read_parquet(fit_dir / "draws.parquet"), io.read_json(fit_dir / "fit.json")


def _fits(fit_dirs) -> dict:
    out = {}
    for d in fit_dirs:
        draws, fit = load_fit(d)
        out[fit["method"]] = (draws, fit)
    return out


def corner_figure(fit_dirs, data_json, out, style: dict, reference=None):
    """Corner plot; ``reference``: the reference posterior's draws, the first chain."""
    meta = io.read_json(data_json)
    fits = _fits(fit_dirs)
    if reference is not None:
        fits = {"reference": (io.read_parquet(reference), {"status": "ok", "method": "reference"}),
                **fits}
    plots.corner(fits, meta["truth"], out,
                 title=f"{meta['model']} / {meta['dataset']}", dpi=style["dpi"],
                 max_draws=style["corner_max_draws"], max_params=style["corner_max_params"])


def loss_figure(fit_dirs, data_json, out, style: dict):
    meta = io.read_json(data_json)
    traces = {}
    for d in fit_dirs:
        fit = io.read_json(Path(d) / "fit.json")
        traces[fit["method"]] = (io.read_parquet(Path(d) / "trace.parquet"), fit)
    plots.loss_curves(traces, out, title=f"{meta['model']} / {meta['dataset']}: loss",
                      dpi=style["dpi"])


def density_figure(fit_dirs, data_json, out, style: dict):
    meta = io.read_json(data_json)
    s = meta["settings"]
    if meta["model"] == "multimodal":
        mod = get_model("multimodal")
        box = float(s["box"])

        def logpdf(x, y):
            return mod.log_density(x, y, s["s1"], s["s2"], s["b"])
    else:
        mod = get_model("corrgauss")
        prec = np.linalg.inv(mod.covariance(s))
        mean = np.asarray(s["mean"], dtype=float)
        box = 4.0 * float(max(s["sd_major"], s["sd_minor"]))

        def logpdf(x, y):
            dx, dy = x - mean[0], y - mean[1]
            return -0.5 * (prec[0, 0] * dx * dx + 2 * prec[0, 1] * dx * dy + prec[1, 1] * dy * dy)
    plots.density_panels(logpdf, box, _fits(fit_dirs), out,
                         title=f"{meta['model']}: true density and guide draws", dpi=style["dpi"])


def groups_figure(fit_dirs, data_json, data_csv, out, style: dict):
    import pandas as pd

    meta = io.read_json(data_json)
    n_groups = int(pd.read_csv(data_csv)["group"].max()) + 1
    plots.group_errorbars(_fits(fit_dirs), meta["truth"], n_groups, out,
                          title=f"hier / {meta['dataset']}: per-group slopes and intercepts",
                          dpi=style["dpi"], labels=meta.get("group_labels"))


def warm_figure(pairs, title: str, out, style: dict):
    """``pairs``: ``[(cold fit dir, warm fit dir)]`` of one (model, from, to)."""
    runs = {}
    for cold, warm in pairs:
        loaded = [(io.read_parquet(Path(d) / "trace.parquet"), io.read_json(Path(d) / "fit.json"))
                  for d in (cold, warm)]
        runs[loaded[1][1]["method"]] = loaded
    plots.warm_curves(runs, out, title=f"warm vs cold start, {title}", dpi=style["dpi"])


def data_source(meta: dict) -> str:
    """'' for a simulated dataset; where a user CSV came from, for the report."""
    if meta.get("source") != "csv":
        return ""
    groups = (f", groups {', '.join(map(str, meta['group_labels']))} shown as 0..{meta['groups'] - 1}"
              if meta.get("group_labels") else "")
    return f". Your data: {meta['csv']} ({meta['rows']} rows{groups}); truth unknown."


def report(studies: list[dict], config: dict, out, warm: list[dict] | None = None,
           evaluation: list[dict] | None = None, scaling: dict | None = None):
    """``studies``: ``{model, dataset, data_json, fit_dirs, figures: [(path, caption)]}``;
    ``warm``: ``{model, src, dst, figure, pairs: [(cold dir, warm dir)]}``;
    ``evaluation``: per (model, dataset) its reference and metrics files (see
    ``ranking.load``); ``scaling``: ``{summary, figure}`` paths of the scaling study."""
    from . import ranking
    from .report import build_report, warm_rows

    scored = {(e["model"], e["dataset"]): ranking.load(e) for e in (evaluation or [])}

    built = []
    for s in studies:
        meta = io.read_json(s["data_json"])
        entries = [{"draws": d, "fit": f} for d, f in (load_fit(p) for p in s["fit_dirs"])]
        built.append({"model": s["model"], "dataset": s["dataset"],
                      "description": get_model(s["model"]).DESCRIPTION + data_source(meta),
                      "truth": meta["truth"], "entries": entries, "figures": s["figures"],
                      "evaluation": scored.get((s["model"], s["dataset"]))})
    warm_built = [{**w, "rows": warm_rows([(io.read_json(Path(c) / "fit.json"),
                                            io.read_json(Path(h) / "fit.json"))
                                           for c, h in w["pairs"]])}
                  for w in (warm or [])]
    scaled = ({"summary": io.read_json(scaling["summary"]), "figure": scaling["figure"]}
              if scaling else None)
    build_report(built, config, versions(), out, warm=warm_built, scaling=scaled)
