"""When has an SVI fit converged?

The loss trace is cut into windows of ``window`` steps. A window is *flat* when its
mean loss improves on the best earlier window mean by less than
``rtol * |best| + z * se``, where ``se`` combines the standard errors of the two window
means (the ELBO's own noise, estimated from step-to-step differences so that a trend
does not inflate it). The fit has converged at the end of the ``patience``-th
consecutive flat window. In one sentence: *converged once ``patience`` windows in a
row fail to beat the best earlier window by more than their noise.*
"""

from __future__ import annotations

import numpy as np

DEFAULTS = {"window": 100, "patience": 3, "rtol": 1e-4, "z": 2.0}


def window_stats(losses: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Means and standard errors of the complete windows of ``losses``: (n,), (n,)."""
    n = len(losses) // window
    w = np.asarray(losses[: n * window], dtype=np.float64).reshape(n, window)
    means = w.mean(axis=1)
    # Differences of neighbouring steps remove the trend; their sd is sqrt(2) x noise.
    noise = np.std(np.diff(w, axis=1), axis=1) / np.sqrt(2.0) if window > 1 else np.zeros(n)
    return means, noise / np.sqrt(window)


def convergence_step(losses, window: int = 100, patience: int = 3, rtol: float = 1e-4,
                     z: float = 2.0) -> int | None:
    """The step (1-based count) at which the criterion first holds, or None.

    Only the finite prefix of ``losses`` is considered.
    """
    losses = np.asarray(losses, dtype=np.float64)
    bad = ~np.isfinite(losses)
    if bad.any():
        losses = losses[: int(np.argmax(bad))]
    means, se = window_stats(losses, window)
    if len(means) < patience + 1:
        return None
    best, best_se, run = means[0], se[0], 0
    for k in range(1, len(means)):
        tol = rtol * abs(best) + z * np.hypot(se[k], best_se)
        run = run + 1 if best - means[k] < tol else 0
        if means[k] < best:
            best, best_se = means[k], se[k]
        if run >= patience:
            return (k + 1) * window
    return None
