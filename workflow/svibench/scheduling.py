"""Job priorities: the longest jobs start first.

Snakemake's scheduler (its ILP, or the greedy fallback) starts, among the jobs that
are ready, the set with the largest summed ``priority`` that fits the free cores. A
priority in proportion to a job's expected length therefore starts the long fits
first and lets the short ones fill the cores around them (longest processing time
first). Without it a long fit (AutoDAIS for 50 000 steps) may start late and run
alone at the end of the study while the other cores idle (issue 6).

The length is estimated from the budget, in thousands of model-gradient evaluations:
an SVI step costs ``particles`` evaluations (``K`` more for AutoDAIS's annealing), a
NUTS draw about ``LEAPFROGS_PER_DRAW``. It orders jobs; it times nothing.
"""

from __future__ import annotations

import math

LEAPFROGS_PER_DRAW = 8  # a typical tree depth of 3 on these posteriors


def _priority(gradient_evaluations: float) -> int:
    return max(1, math.ceil(gradient_evaluations / 1000))


def svi_gradients_per_step(options: dict) -> int:
    """Model-gradient evaluations of one SVI step: ``particles``, times ``1 + K`` when
    the guide anneals (AutoDAIS's ``K`` leapfrog steps per particle). The fit job
    records ``steps_run`` times this as its ``gradient_evaluations``."""
    return int(options.get("particles", 1)) * (1 + int((options.get("guide") or {}).get("K", 0)))


def svi_budget_gradients(options: dict) -> int:
    """Model-gradient evaluations of an SVI fit's whole budget: ``max_steps`` times
    ``svi_gradients_per_step``."""
    return int(options["max_steps"]) * svi_gradients_per_step(options)


def fit_priority(options: dict, kind: str) -> int:
    """Priority of one fit job from its resolved options (``config.fit_options``).

    ``kind`` is ``"nuts"``, ``"svi"`` or ``"pathfinder"``. NUTS: ``warmup`` per chain
    plus ``draws`` over all chains; SVI: ``max_steps * particles`` (times ``1 + K``
    when the guide anneals); Pathfinder: the lowest (one compiled program, its paths
    and ELBO draws vectorised: seconds, most of them compiling).
    """
    if kind == "nuts":
        draws = int(options["warmup"]) * int(options["chains"]) + int(options["draws"])
        return _priority(draws * LEAPFROGS_PER_DRAW)
    if kind == "pathfinder":
        return 1
    return _priority(svi_budget_gradients(options))


def reference_priority(nuts: bool, settings: dict) -> int:
    """Priority of a reference job (``settings``: config ``reference``): its first
    round of NUTS draws when ``nuts``, else 1 (exact and grid draws take seconds)."""
    if not nuts:
        return 1
    draws = int(settings["chains"]) * (int(settings["warmup"]) + int(settings["draws_per_chain"]))
    return _priority(draws * LEAPFROGS_PER_DRAW)
