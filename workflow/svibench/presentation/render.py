"""HTML from the Jinja2 templates in ``templates/`` (autoescaped), and the one number
format of every table."""

from __future__ import annotations

import base64
import math
from functools import cache
from pathlib import Path

import numpy as np

TEMPLATES = Path(__file__).parent / "templates"


def fmt(x, digits: int = 3) -> str:
    """A number for a table: '—' for missing, fixed significant digits otherwise."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "—"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    ax = abs(x)
    if ax != 0 and (ax >= 1e5 or ax < 1e-3):
        return f"{x:.{digits - 1}e}"
    return f"{x:.{digits}g}" if ax >= 1 else f"{x:.{digits}f}".rstrip("0").rstrip(".")


def png_base64(path) -> str:
    """A PNG file as base64 text, so the report embeds it and opens from a file browser."""
    return base64.b64encode(Path(path).read_bytes()).decode()


@cache
def environment():
    """The templates' environment: every value is escaped unless a template says not."""
    import jinja2  # only the report renders; the figure jobs need not load it

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    env.filters["fmt"] = fmt
    env.filters["png_base64"] = png_base64
    return env


def render(template: str, **context) -> str:
    """``template`` (a file name under ``templates/``) rendered with ``context``."""
    return environment().get_template(template).render(**context)
