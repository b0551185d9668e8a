"""The colours of every figure, defined once so that a thing looks the same everywhere.

Hex strings throughout: ChainConsumer 1.x rejects named colours.
"""

from __future__ import annotations

# A method's colour is taken by its position in a figure (``method_colour``).
METHODS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#637939", "#843c39", "#7b4173"]
REFERENCE = "#555555"  # the reference posterior: grey in every figure
TRUTH = "#000000"  # what is known: the true values, the observed data
HIGHLIGHT = "#d62728"  # what needs attention: a divergence, the observed count, a threshold
CONVERGED = "#2ca02c"  # the step a fit converged at
LOSS_RAW, LOSS_SMOOTH = "#9ecae1", "#08519c"  # a loss trace and its running median
COLD, WARM = "#1f77b4", "#d62728"  # a fit from scratch and one warm-started
DRAWS = "#1f77b4"  # a guide's draws over a density
CONTOURS = "#999999"  # the true density's contours behind them


def method_colour(position: int) -> str:
    """The colour of the method drawn at ``position`` (cycling through ``METHODS``)."""
    return METHODS[position % len(METHODS)]
