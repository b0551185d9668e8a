"""What produced a result: the versions of Python and of the packages that matter.

Imports nothing of svibench, so that every layer may record it.
"""

from __future__ import annotations

import importlib.metadata
import platform

PACKAGES = ("numpyro", "jax", "jaxlib", "numpy", "snakemake", "chainconsumer", "pandas")


def versions() -> dict:
    """``{"python": "3.x.y", package: version or None (not installed)}`` for ``PACKAGES``."""
    out = {"python": platform.python_version()}
    for pkg in PACKAGES:
        try:
            out[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            out[pkg] = None
    return out
