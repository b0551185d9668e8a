"""Whether a fit's draws can be used at all: one rule for scores, mocks and figures.

Imports nothing of svibench, so that every layer may use it.
"""

from __future__ import annotations

import numpy as np


def usable(draws, fit: dict) -> bool:
    """A fit's ``draws`` (a table, one row a draw) are usable when the fit finished
    (``fit["status"] == "ok"``), there are at least two draws (a spread needs two)
    and every one is finite. An unusable fit gets no metric, mock or figure: missing,
    never a number."""
    return (fit.get("status") == "ok" and len(draws) > 1
            and bool(np.isfinite(draws.to_numpy()).all()))
