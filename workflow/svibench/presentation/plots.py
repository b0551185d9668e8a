"""Figures from stored draws and traces. Imports neither JAX nor Snakemake.

Every function takes loaded tables (pandas) and writes one PNG atomically.
"""

from __future__ import annotations

import io as _io
import logging

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from .. import io  # noqa: E402
from ..status import usable  # noqa: E402
from . import palette  # noqa: E402

log = logging.getLogger("svibench.plots")


def _finish_panels(fig, axes, used: int, ylabel: str, title: str, path, dpi: int):
    """Hide the grid's unused panels, label the first, title and save the figure."""
    for ax in axes.ravel()[used:]:
        ax.set_axis_off()
    axes[0, 0].set_ylabel(ylabel, fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    _save(fig, path, dpi)


def _save(fig, path, dpi):
    buf = _io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight",
                metadata={"Software": None})  # no version stamp: same draws, same bytes
    plt.close(fig)
    io.write_bytes(path, buf.getvalue())


def corner_columns(columns, max_params: int) -> list[str]:
    """Scalar (global) latents first, then vector elements, at most ``max_params``."""
    scalars = [c for c in columns if "[" not in c]
    vectors = [c for c in columns if "[" in c]
    return (scalars + vectors)[:max_params]


def corner(fits: dict, truth: dict, path, *, title: str, dpi: int = 90,
           max_draws: int = 4000, max_params: int = 8):
    """Corner plot (ChainConsumer) of every usable fit plus the truth.

    ``fits``: ``{label: (draws DataFrame, fit dict)}``, drawn in the given order.
    """
    from chainconsumer import Chain, ChainConsumer, PlotConfig, Truth

    cc = ChainConsumer()
    cols = None
    skipped = []
    for i, (label, (draws, fit)) in enumerate(fits.items()):
        if not usable(draws, fit):
            skipped.append(label)
            continue
        cols = cols or corner_columns(list(draws.columns), max_params)
        sub = draws[cols].iloc[:max_draws].reset_index(drop=True)
        if sub.std().min() <= 0:  # a point mass cannot be drawn as a contour
            skipped.append(label)
            continue
        color = palette.REFERENCE if label == "reference" else palette.method_colour(i)
        cc.add_chain(Chain(samples=sub, name=label, color=color,
                           shade_alpha=0.15, linewidth=1.2))
    if cols is None:
        fig, ax = plt.subplots(figsize=(4, 2))
        ax.text(0.5, 0.5, "no usable fit", ha="center", va="center")
        ax.set_axis_off()
        return _save(fig, path, dpi)
    known = {k: v for k, v in truth.items() if k in cols and v is not None}
    if known:
        cc.add_truth(Truth(location=known, color=palette.TRUTH, name="truth"))
    cc.set_plot_config(PlotConfig(summarise=False, dpi=dpi, label_font_size=10,
                                  tick_font_size=8))
    fig = cc.plotter.plot(columns=cols)
    note = f"{title}" + (f"  (not shown: {', '.join(skipped)})" if skipped else "")
    fig.suptitle(note, fontsize=10, y=1.01)
    _save(fig, path, dpi)


def loss_curves(traces: dict, path, *, title: str, dpi: int = 90):
    """Loss (-ELBO) per step for every SVI fit, one panel each.

    ``traces``: ``{label: (trace DataFrame with step, loss; fit dict)}``.
    """
    n = max(len(traces), 1)
    ncol = min(n, 4)
    nrow = int(np.ceil(n / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.2 * ncol, 2.4 * nrow), squeeze=False)
    for ax, (label, (trace, fit)) in zip(axes.ravel(), traces.items()):
        step, loss = trace["step"].to_numpy(), trace["loss"].to_numpy()
        finite = np.isfinite(loss)
        ax.plot(step[finite], loss[finite], lw=0.5, color=palette.LOSS_RAW)
        if finite.sum() > 20:
            w = max(finite.sum() // 50, 1)
            smooth = pd.Series(loss[finite]).rolling(w, min_periods=1).median()
            ax.plot(step[finite], smooth, lw=1.2, color=palette.LOSS_SMOOTH)
            lo, hi = np.percentile(loss[finite][finite.sum() // 10:], [1, 99])
            pad = 0.5 * (hi - lo) + 1e-6
            ax.set_ylim(lo - pad, hi + 3 * pad)
        if fit.get("status") == "diverged":
            ax.axvline(fit.get("diverged_at") or step[-1], color=palette.HIGHLIGHT, ls="--", lw=1)
            ax.text(0.98, 0.95, "diverged", color=palette.HIGHLIGHT, ha="right", va="top",
                    transform=ax.transAxes, fontsize=8)
        if fit.get("converged_at"):
            ax.axvline(fit["converged_at"], color=palette.CONVERGED, ls=":", lw=1)
        ax.set_title(label, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.set_xlabel("step", fontsize=8)
    _finish_panels(fig, axes, len(traces), "loss (-ELBO)", title, path, dpi)


def density_panels(logpdf, box: float, fits: dict, path, *, title: str, dpi: int = 90,
                   max_points: int = 2000):
    """True 2-D density beside each fit's draws (as points over the density contours).

    ``logpdf(x, y)`` works on numpy grids; ``box`` is the half-width of the view.
    """
    grid = np.linspace(-box, box, 300)
    xx, yy = np.meshgrid(grid, grid, indexing="xy")
    lp = logpdf(xx, yy)
    dens = np.exp(lp - np.nanmax(lp))
    n = len(fits) + 1
    ncol = min(n, 4)
    nrow = int(np.ceil(n / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(2.8 * ncol, 2.8 * nrow), squeeze=False)
    ax0 = axes[0, 0]
    ax0.imshow(dens, origin="lower", extent=(-box, box, -box, box), cmap="Greys")
    ax0.set_title("true density", fontsize=9)
    for ax, (label, (draws, fit)) in zip(axes.ravel()[1:], fits.items()):
        ax.contour(xx, yy, dens, levels=[0.01, 0.1, 0.5], colors=palette.CONTOURS, linewidths=0.6)
        if usable(draws, fit):
            pts = draws[["x", "y"]].to_numpy()[:max_points]
            ax.scatter(pts[:, 0], pts[:, 1], s=1, alpha=0.3, color=palette.DRAWS, rasterized=True)
        else:
            ax.text(0.5, 0.5, fit.get("status", "?"), color=palette.HIGHLIGHT, ha="center",
                    transform=ax.transAxes)
        ax.set_xlim(-box, box)
        ax.set_ylim(-box, box)
        ax.set_title(label, fontsize=9)
    for ax in axes.ravel():
        ax.set_aspect("equal")
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[n:]:
        ax.set_axis_off()
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    _save(fig, path, dpi)


def group_errorbars(fits: dict, truth: dict, n_groups: int, path, *, title: str, dpi: int = 90,
                    labels: list | None = None):
    """Per-group slope ``m[j]`` and intercept ``c[j]``: mean +- sd of each fit, truth.

    ``labels``: the user's group label of each ``j`` (a user CSV), else ``j``."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
    shown = [(lbl, d) for lbl, (d, f) in fits.items() if usable(d, f)]
    width = 0.8 / max(len(shown), 1)
    for ax, site in zip(axes, ("m", "c")):
        cols = [f"{site}[{j}]" for j in range(n_groups)]
        for i, (label, draws) in enumerate(shown):
            x = np.arange(n_groups) - 0.4 + (i + 0.5) * width
            ax.errorbar(x, draws[cols].mean(), yerr=draws[cols].std(), fmt="o", ms=3,
                        lw=1, color=palette.method_colour(i), label=label)
        true = [truth.get(c) for c in cols]
        if all(v is not None for v in true):
            ax.scatter(np.arange(n_groups), true, marker="_", s=300, color=palette.TRUTH,
                       label="truth", zorder=5)
        ax.set_xlabel("group")
        ax.set_ylabel(site)
        ax.set_xticks(np.arange(n_groups), labels=labels if labels else None)
    axes[1].legend(fontsize=7, ncol=2, frameon=False)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    _save(fig, path, dpi)


def warm_curves(pairs: dict, path, *, title: str, dpi: int = 90):
    """Cold and warm loss curves per method, one panel each, convergence marked.

    ``pairs``: ``{method: ((cold trace, cold fit), (warm trace, warm fit))}``.
    """
    n = max(len(pairs), 1)
    ncol = min(n, 3)
    nrow = int(np.ceil(n / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.6 * ncol, 2.6 * nrow), squeeze=False)
    for ax, (method, runs) in zip(axes.ravel(), pairs.items()):
        lows, highs = [], []
        for (trace, fit), label, color in zip(runs, ("cold", "warm"), (palette.COLD, palette.WARM)):
            step, loss = trace["step"].to_numpy(), trace["loss"].to_numpy()
            ok = np.isfinite(loss)
            w = max(ok.sum() // 50, 1)
            smooth = pd.Series(loss[ok]).rolling(w, min_periods=1).median()
            ax.plot(step[ok], smooth, lw=1.2, color=color, label=label)
            if fit.get("converged_at"):
                ax.axvline(fit["converged_at"], color=color, ls=":", lw=1)
            if ok.sum():
                tail = loss[ok][ok.sum() // 2:]
                lows.append(np.percentile(tail, 1))
                highs.append(np.percentile(loss[ok], 60))
        if lows:
            lo, hi = min(lows), max(highs)
            ax.set_ylim(lo - 0.1 * (hi - lo), hi)
        ax.set_title(method, fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7, frameon=False)
    _finish_panels(fig, axes, len(pairs), "loss (-ELBO), running median", title, path, dpi)
