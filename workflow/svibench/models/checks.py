"""Range checks of simulation settings, for a model's ``check_settings(settings)``.

Each check returns ``None`` or ``(key, message)``; ``first_problem`` gives the first.
``svibench.config`` reports it as ``models.{model}.datasets.{name}.{key}: {message}``
when the config is read, so a bad setting never reaches a job.
"""

from __future__ import annotations

import math


def _num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def integer(s: dict, key: str, lo: int):
    v = s.get(key)
    if not (_num(v) and float(v).is_integer() and v >= lo):
        return key, f"must be an integer >= {lo}, got {v!r}"
    return None


def positive(s: dict, key: str):
    v = s.get(key)
    if not (_num(v) and v > 0):
        return key, f"must be a number > 0, got {v!r}"
    return None


def at_least(s: dict, key: str, lo: float):
    v = s.get(key)
    if not (_num(v) and v >= lo):
        return key, f"must be a number >= {lo}, got {v!r}"
    return None


def between(s: dict, key: str, lo: float, hi: float, *, optional: bool = False):
    v = s.get(key)
    if optional and v is None:
        return None
    if not (_num(v) and lo <= v <= hi):
        return key, f"must be a number in [{lo}, {hi}], got {v!r}"
    return None


def finite(s: dict, *keys: str):
    for key in keys:
        v = s.get(key)
        values = v if isinstance(v, list) else [v]
        if not all(_num(x) for x in values):
            return key, f"must be finite, got {v!r}"
    return None


def first_problem(*problems):
    return next((p for p in problems if p), None)
