"""When has an SVI fit converged? When its loss has no downward trend left that matters.

The rule
--------
The trace is cut into windows of ``window`` steps, counted from step 0. At the end of
each window the *span* of the last ``S = patience + 1`` windows (``N = S * window``
steps) is tested for a trend. The span's steps are averaged in batches of
``b = window // BATCHES_PER_WINDOW`` steps (at least 1), giving batch means ``y_j`` at
batch centres ``t_j``, and a least-squares line is fitted to them::

    beta = sum_j (t_j - t_bar) (y_j - y_bar) / sum_j (t_j - t_bar)^2    (nats per step)
    se   = sqrt( sum_j r_j^2 / (J - 2) / sum_j (t_j - t_bar)^2 ),   r_j the residuals

The fit has converged at the end of the first window where the decline per 100 steps
is within its noise, or below a tolerance::

    -100 * beta  <=  atol + z * 100 * se

Why this form:

- It tests the span *as a whole*: a slow steady decline (1 nat per 100 steps under
  per-step noise of sd 5) is ~4 standard errors over 400 steps, while window-by-window
  comparisons see each step of it inside the noise. The slope's standard error falls
  as ``N^(-3/2)``: a longer ``patience`` catches slower trends.
- Batch means carry the noise of ``b`` neighbouring steps, so the residual scatter
  includes the loss's autocorrelation up to ``b`` steps (Adam's momentum, a guide
  wandering about the optimum); estimated from single steps, the standard error would
  be too small for a correlated trace. Longer correlations still make ``se`` too small,
  which delays the stop, never brings it forward. The residuals are about the fitted
  line, so a trend does not inflate the noise.
- Adding a constant to the loss changes neither ``beta`` nor ``se``: the rule is
  invariant to the ELBO's arbitrary additive constant (an earlier rule had a tolerance
  ``rtol * |loss|``, which was not). ``atol`` is in nats per 100 steps, a scale the
  ELBO has: a near-exact guide has almost no noise, and without ``atol`` the float
  rounding of its last creep would count as a trend.
- It is one-sided: a rising loss is not a trend that more steps would cash in.

The earliest step at which the rule can hold is its *floor*, ``(patience + 1) *
window``. A fit that ends at ``max_steps`` is tested the same way over its last ``N``
steps (``final_trend``): ``trend_left`` then says a decline beyond the tolerance is
still going on, with its slope in nats per 100 steps.

A loss trend is what the rule can see: a fit sitting on a plateau before a later drop
(a saddle) looks converged to it, and to any rule on the loss alone.

The defaults of ``window``, ``patience``, ``atol`` and ``z`` live in the config schema
(``config/schema.yaml``, ``svi.convergence``); ``settings`` fills in what a caller leaves
out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Batches a window's steps are averaged in: enough residual degrees of freedom for the
# slope's standard error (5 * (patience + 1) - 2), batches long enough (20 steps of a
# 100-step window) to carry the short-range autocorrelation of an SVI loss.
BATCHES_PER_WINDOW = 5


def settings(convergence: dict | None = None) -> dict:
    """The rule's settings: ``convergence`` over the schema's defaults."""
    from ..config import load_schema

    props = (load_schema()["properties"]["svi"]["properties"]["convergence"]["properties"])
    return {**{k: v["default"] for k, v in props.items()}, **(convergence or {})}


def floor(window: int, patience: int, **_) -> int:
    """The earliest step at which the rule can hold: a full span of windows."""
    return (int(patience) + 1) * int(window)


@dataclass(frozen=True)
class Trend:
    """A span's least-squares trend. ``slope_per_100``: loss change per 100 steps
    (negative while the loss falls); ``se_per_100``: its standard error; ``flat``: the
    decline is within ``atol + z * se`` (the rule holds)."""

    slope_per_100: float
    se_per_100: float
    flat: bool


def span_trend(span: np.ndarray, window: int, atol: float, z: float) -> Trend:
    """The trend of ``span`` (a whole number of windows of finite losses)."""
    span = np.asarray(span, dtype=np.float64)
    batch = max(1, int(window) // BATCHES_PER_WINDOW)
    n_batches = len(span) // batch
    # Batches aligned to the span's end: the newest steps always count.
    y = span[len(span) - n_batches * batch:].reshape(n_batches, batch).mean(axis=1)
    t = (np.arange(n_batches) + 0.5) * batch
    t = t - t.mean()
    sxx = float(t @ t)
    slope = float(t @ (y - y.mean())) / sxx
    resid = y - y.mean() - slope * t
    dof = max(n_batches - 2, 1)
    se = float(np.sqrt(resid @ resid / dof / sxx))
    flat = -100.0 * slope <= atol + z * 100.0 * se
    return Trend(slope_per_100=100.0 * slope, se_per_100=100.0 * se, flat=bool(flat))


def finite_prefix(losses) -> np.ndarray:
    """``losses`` up to (not including) its first non-finite value."""
    losses = np.asarray(losses, dtype=np.float64)
    bad = ~np.isfinite(losses)
    return losses[: int(np.argmax(bad))] if bad.any() else losses


def convergence_step(losses, *, window: int, patience: int, atol: float, z: float,
                     start: int = 0) -> int | None:
    """The step (1-based count) at the end of the first window where the rule holds,
    or None. Only the finite prefix of ``losses`` is considered; window ends before
    ``start`` are not tested (a caller that tested them already)."""
    losses = finite_prefix(losses)
    window, n_span = int(window), (int(patience) + 1) * int(window)
    first = max(n_span, -(-int(start) // window) * window)
    for end in range(first, len(losses) + 1, window):
        if span_trend(losses[end - n_span:end], window, atol, z).flat:
            return end
    return None


def final_trend(losses, *, window: int, patience: int, atol: float, z: float) -> Trend | None:
    """The trend over the last span of the finite prefix of ``losses`` (None when it
    is shorter than a span): is the loss still falling where the fit ended?"""
    losses = finite_prefix(losses)
    n_span = (int(patience) + 1) * int(window)
    if len(losses) < n_span:
        return None
    return span_trend(losses[-n_span:], window, atol, z)
