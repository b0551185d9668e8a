"""Figures of the evaluation: posterior predictive checks, the scaling study, and
accuracy against cost.

Imports neither JAX nor Snakemake; every function writes one PNG atomically.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from .. import io
from ..scaling import point_times
from ..models import get_model
from . import palette
from .plots import _save, plt

MAX_GROUPS = 4  # hier: groups shown in the predictive figure


def _runs(fit_dirs, ref_mocks) -> list[tuple[str, pd.DataFrame, str]]:
    """``[(label, mocks, status)]``: the reference first, then each fit."""
    out = [("reference", io.read_parquet(ref_mocks), "ok")]
    for d in fit_dirs:
        fit = io.read_json(Path(d) / "fit.json")
        out.append((fit["method"], io.read_parquet(Path(d) / "mocks.parquet"), fit["status"]))
    return out


def _band(ax, x, mock: pd.DataFrame, cols, color):
    q = mock[cols].quantile([0.05, 0.25, 0.75, 0.95]).to_numpy()
    ax.fill_between(x, q[0], q[3], color=color, alpha=0.18, lw=0, label="90%")
    ax.fill_between(x, q[1], q[2], color=color, alpha=0.4, lw=0, label="50%")


def _missing(ax, status):
    ax.text(0.5, 0.5, f"no mocks ({status})", color=palette.HIGHLIGHT, ha="center", va="center",
            transform=ax.transAxes, fontsize=8)


def predictive_figure(fit_dirs, ref_mocks, data_csv, data_json, out, style: dict):
    meta = io.read_json(data_json)
    data = pd.read_csv(data_csv)
    runs = _runs(fit_dirs, ref_mocks)
    title = f"{meta['model']} / {meta['dataset']}: posterior predictive"
    if get_model(meta["model"]).ppc_statistics:  # a count per mock dataset: its histogram
        return coin_heads(runs, int(data["y"].sum()), len(data), out, title=title,
                          dpi=style["dpi"])
    return predictive_bands(runs, data, out, title=title, dpi=style["dpi"])


def coin_heads(runs, heads: int, n: int, path, *, title: str, dpi: int = 90):
    """Distribution of mock head counts per method against the observed count."""
    fig, ax = plt.subplots(figsize=(6.5, 3.4))
    bins = np.arange(-0.5, n + 1.5)
    for i, (label, mock, status) in enumerate(runs):
        if mock.empty:
            continue
        color = palette.REFERENCE if label == "reference" else palette.method_colour(i)
        ax.hist(mock["heads"], bins=bins, density=True, histtype="step", color=color,
                lw=2.2 if label == "reference" else 1.0, label=label)
    ax.axvline(heads, color=palette.HIGHLIGHT, ls="--", lw=1.5, label=f"observed ({heads})")
    ax.set_xlabel("heads in a mock dataset")
    ax.set_ylabel("share of mocks")
    ax.legend(fontsize=7, frameon=False, ncol=2)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    _save(fig, path, dpi)


def predictive_bands(runs, data: pd.DataFrame, path, *, title: str, dpi: int = 90):
    """The data with each method's 50% and 90% predictive bands, one row per method
    (reference first), one column per group (hier: the first few)."""
    groups = (sorted(data["group"].unique())[:MAX_GROUPS] if "group" in data else [None])
    nrow, ncol = len(runs), len(groups)
    fig, axes = plt.subplots(nrow, ncol, figsize=(2.6 * ncol + 0.6, 1.7 * nrow + 0.6),
                             squeeze=False, sharex="col", sharey="col")
    for r, (label, mock, status) in enumerate(runs):
        color = palette.REFERENCE if label == "reference" else palette.method_colour(r)
        for c, g in enumerate(groups):
            ax = axes[r, c]
            rows = np.arange(len(data)) if g is None else np.flatnonzero(data["group"] == g)
            rows = rows[np.argsort(data["x"].to_numpy()[rows], kind="stable")]
            x = data["x"].to_numpy()[rows]
            if mock.empty:
                _missing(ax, status)
            else:
                _band(ax, x, mock, [f"y[{i}]" for i in rows], color)
            ax.errorbar(x, data["y"].to_numpy()[rows], yerr=data["yerr"].to_numpy()[rows],
                        fmt="o", ms=2.5, lw=0.8, color=palette.TRUTH)
            ax.tick_params(labelsize=7)
            if c == 0:
                ax.set_ylabel(label, fontsize=8)
            if r == 0 and g is not None:
                ax.set_title(f"group {g}", fontsize=8)
    axes[0, -1].legend(fontsize=6, frameon=False, loc="best")
    fig.suptitle(title + "  (bands: 50% and 90% of mock data)", fontsize=10)
    fig.tight_layout()
    _save(fig, path, dpi)


def scaling_figure(summary: dict, path, *, dpi: int = 90):
    """Seconds, mean_err and time-to-accuracy against the dimension D, per method: a
    point per seed, the line through each D's median."""
    rows = pd.DataFrame(summary["rows"])
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    thr = summary["thresholds"]["mean_err"]
    for i, (method, df) in enumerate(rows.groupby("method", sort=False)):
        df = df.sort_values("D")
        color = palette.method_colour(i)
        style = dict(color=color, lw=1.2, label=method)
        dots = dict(color=color, s=12)
        mid = df.groupby("D")[["seconds", "mean_err"]].median()
        axes[0].plot(mid.index, mid["seconds"], **style)
        axes[0].scatter(df["D"], df["seconds"], **dots)
        axes[1].plot(mid.index, mid["mean_err"], **style)
        axes[1].scatter(df["D"], df["mean_err"], **dots)
        tta = df["time_to_accuracy"].astype(float)
        points = point_times(summary["rows"], method)
        dims_reached = [d for d in sorted(points) if np.isfinite(points[d])]
        axes[2].plot(dims_reached, [points[d] for d in dims_reached], **style)
        axes[2].scatter(df["D"], tta, **dots)
        never = df[tta.isna() & df["seconds"].notna()]
        axes[2].scatter(never["D"], never["seconds"], marker="x", color=color, s=30)
    axes[1].axhline(thr, color=palette.HIGHLIGHT, ls="--", lw=1)
    from matplotlib.ticker import FixedLocator, NullLocator, ScalarFormatter

    dims = sorted(rows["D"].unique())
    for ax, ylabel in zip(axes, ("seconds (compile + run)", "mean_err (sd of reference)",
                                 "time to accuracy, s (x: not accurate)")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.xaxis.set_major_locator(FixedLocator(dims))  # label exactly the D studied
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xlabel("D (latent dimension)")
        ax.set_ylabel(ylabel, fontsize=9)
        ax.tick_params(labelsize=8)
    axes[0].legend(fontsize=7, frameon=False)
    fig.suptitle(f"{summary['model']}: SVI and NUTS as the number of groups grows; "
                 + summary["verdict"], fontsize=9)
    fig.tight_layout()
    _save(fig, path, dpi)


def cost_figure(runs, data_json, out, style: dict, thresholds: dict | None = None):
    """The plot_cost rule: ``runs`` (``{method, dir}``: every scored fit of a dataset, a
    method's seeds each) read from their fit.json and metrics.json; ``methods`` in
    the order of the dataset's other figures give the colours."""
    from .cost import load_rows

    meta = io.read_json(data_json)
    methods = list(dict.fromkeys(r["method"] for r in runs))
    return cost_panels(load_rows(runs), out, methods=methods, thresholds=thresholds,
                       title=f"{meta['model']} / {meta['dataset']}: accuracy against cost",
                       dpi=style["dpi"])


COST_X = (("gradient_evaluations", "log-density gradient evaluations"),
          ("seconds", "seconds (compile + run)"))
COST_Y = (("mean_err", "mean_err (sd of reference)"),
          ("sd_dev", "worst |log sd_ratio| over latents"))
LOG_FLOOR = 1e-4  # an accuracy of exactly 0 is drawn here (a log axis has no 0)
SD_DEV_CAP = 10.0  # a collapsed fit (sd_ratio 0, |log| infinite) is drawn here, as ▲


def _decades(values) -> tuple[float, float]:
    """Log-axis limits a little beyond the powers of ten around the positive ``values``
    (at least one decade), so that every panel has labelled ticks and no point sits on
    an edge."""
    v = [x for x in values if x is not None and np.isfinite(x) and x > 0]
    if not v:
        return 0.1 / 1.5, 10.0 * 1.5
    a, b = math.floor(math.log10(min(v))), math.ceil(math.log10(max(v)))
    return 10.0 ** a / 1.5, 10.0 ** max(b, a + 1) * 1.5


def cost_panels(rows: list[dict], path, *, methods: list[str], thresholds: dict | None = None,
                title: str = "", dpi: int = 90) -> dict:
    """Accuracy (mean_err; worst |log sd_ratio|) against cost (gradient evaluations;
    seconds), log axes, one point per fit (``cost.cost_row``'s rows): a method's seeds
    share its colour (its position in ``methods`` + 1: the colours of the corner and
    predictive figures, whose first colour is the reference's). A fit with no score
    (diverged, failed, non-finite draws) is an ✕ on the panel's top edge at its cost;
    one without a recorded cost is named in the title. The thresholds (config
    ``metrics.thresholds``) are dashed lines. Returns what was drawn: ``points``
    ``{panel: [(method, seed, x, y, kind)]}`` (``kind`` ``scored``, ``clipped`` or
    ``no score``) and ``uncosted`` ``[(method, seed, cost key)]``."""
    from .cost import thresholds_of

    from matplotlib.ticker import NullFormatter

    t = thresholds_of(thresholds)
    lo, hi = t["sd_ratio"]
    fig, axes = plt.subplots(2, 2, figsize=(10, 6.6), squeeze=False)
    drawn: dict = {}
    uncosted = []
    colour = {m: palette.method_colour(i + 1) for i, m in enumerate(methods)}
    for r, (ykey, ylabel) in enumerate(COST_Y):
        for c, (xkey, xlabel) in enumerate(COST_X):
            ax = axes[r, c]
            pts = drawn.setdefault(f"{ykey}~{xkey}", [])
            for row in rows:
                x, y = row[xkey], row[ykey]
                col = colour.get(row["method"], palette.HIGHLIGHT)
                if x is None or not np.isfinite(x) or x <= 0:
                    if r == 0:
                        uncosted.append((row["method"], row["seed"], xkey))
                    continue
                if y is None:  # no score: at its cost on the top edge
                    ax.plot([x], [1.0], ls="none", marker="x", ms=7, mew=1.5, color=col,
                            transform=ax.get_xaxis_transform(), clip_on=False)
                    pts.append((row["method"], row["seed"], x, None, "no score"))
                    continue
                kind = "clipped" if y > SD_DEV_CAP else "scored"
                y = min(max(y, LOG_FLOOR), SD_DEV_CAP)
                ax.plot([x], [y], ls="none", marker="^" if kind == "clipped" else "o", ms=5,
                        color=col, alpha=0.85)
                pts.append((row["method"], row["seed"], x, y, kind))
            lines = ([t["mean_err"]] if ykey == "mean_err" else [math.log(hi), -math.log(lo)])
            for level, ls in zip(lines, ("--", ":")):
                ax.axhline(level, color=palette.HIGHLIGHT, ls=ls, lw=1)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlim(*_decades([p[2] for p in pts]))
            ax.set_ylim(*_decades([p[3] for p in pts if p[3] is not None] + lines))
            for axis in (ax.xaxis, ax.yaxis):  # label the powers of ten only
                axis.set_minor_formatter(NullFormatter())
            ax.set_xlabel(xlabel, fontsize=9)
            ax.set_ylabel(ylabel, fontsize=9)
            ax.tick_params(labelsize=8)
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], ls="none", marker="o", color=colour[m], label=m) for m in methods]
    handles += [Line2D([], [], ls="none", marker="x", color=palette.TRUTH,
                       label="no score (diverged / failed)"),
                Line2D([], [], color=palette.HIGHLIGHT, ls="--",
                       label=f"mean_err {t['mean_err']:g}; sd_ratio {hi:g}"),
                Line2D([], [], color=palette.HIGHLIGHT, ls=":", label=f"sd_ratio {lo:g}")]
    if any(k == "clipped" for p in drawn.values() for *_, k in p):
        handles.append(Line2D([], [], ls="none", marker="^", color=palette.TRUTH,
                              label=f"collapsed (|log sd_ratio| > {SD_DEV_CAP:g})"))
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 5), fontsize=7,
               frameon=False, bbox_to_anchor=(0.5, -0.02))
    note = ("\nnot drawn, no cost recorded: "
            + ", ".join(f"{m} seed {s} ({x})" for m, s, x in uncosted)) if uncosted else ""
    fig.suptitle(f"{title}: one point per seed{note}", fontsize=10)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    _save(fig, path, dpi)
    return {"points": drawn, "uncosted": uncosted}
