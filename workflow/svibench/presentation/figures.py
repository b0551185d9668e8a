"""Stored files to figures: one function per plot rule (the report is ``report.report``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import io
from ..models import get_model
from . import plots


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
    logpdf, box = get_model(meta["model"]).log_density_2d(meta["settings"])
    plots.density_panels(logpdf, box, _fits(fit_dirs), out,
                         title=f"{meta['model']}: true density and guide draws", dpi=style["dpi"])


def groups_figure(fit_dirs, data_json, data_csv, out, style: dict):
    import pandas as pd

    meta = io.read_json(data_json)
    n_groups = int(pd.read_csv(data_csv)["group"].max()) + 1
    plots.group_errorbars(_fits(fit_dirs), meta["truth"], n_groups, out,
                          title=f"{meta['model']} / {meta['dataset']}: per-group slopes and intercepts",
                          dpi=style["dpi"], labels=meta.get("group_labels"))


def warm_figure(pairs, title: str, out, style: dict):
    """``pairs``: ``[(cold fit dir, warm fit dir)]`` of one (model, from, to)."""
    runs = {}
    for cold, warm in pairs:
        loaded = [(io.read_parquet(Path(d) / "trace.parquet"), io.read_json(Path(d) / "fit.json"))
                  for d in (cold, warm)]
        runs[loaded[1][1]["method"]] = loaded
    plots.warm_curves(runs, out, title=f"warm vs cold start, {title}", dpi=style["dpi"])
