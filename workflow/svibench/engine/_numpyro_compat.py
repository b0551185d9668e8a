"""Every use of NumPyro's private API in svibench, behind small named functions.

The engine relies on a few of NumPyro's internals (the loss function ``SVI.update``
differentiates, an autoguide's initial locations and latent unpacking). They may change
in any NumPyro release, so they live here only, and importing this module checks that the installed
NumPyro is the one they were written for (tests/unit/test_numpyro_compat.py keeps every
other module off NumPyro's private names).

Importing this module imports NumPyro (and JAX): import it inside the functions that
need it, never at a module's top, so that jobs that do not fit stay free of JAX.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpyro

WRITTEN_FOR = "0.22"  # major.minor of the NumPyro these internals were read from


def check_version(found: str) -> None:
    """Raise ``ImportError`` (one line) unless ``found`` is a NumPyro ``WRITTEN_FOR``.x."""
    if found.split(".")[:2] != WRITTEN_FOR.split("."):
        raise ImportError(
            f"svibench: engine/_numpyro_compat.py was written for numpyro {WRITTEN_FOR}.x, "
            f"found {found}; install numpyro=={WRITTEN_FOR}.* (as envs/*.yaml and "
            "pyproject.toml pin it) or port this module to the new NumPyro internals")


check_version(numpyro.__version__)


def svi_loss_fn(svi, step_key, data: dict, mutable_state):
    """The function ``SVI.update`` differentiates for one step with ``step_key``:
    ``params -> (loss, mutable_state)`` (``numpyro.infer.svi._make_loss_fn``)."""
    from numpyro.infer.svi import _make_loss_fn

    return _make_loss_fn(svi.loss, step_key, svi.constrain_fn, svi.model, svi.guide, (),
                         data, svi.static_kwargs, mutable_state=mutable_state)


def init_locs_order(guide) -> list[str]:
    """The site names of an autoguide's initial locations, in the order it keeps them
    (an ``AutoContinuous`` guide lays its latent vector out in this order)."""
    return list(guide._init_locs)


@contextmanager
def init_locs_in_model_order():
    """While active, every autoguide set up reorders its initial locations into the
    model's site order right after ``AutoGuide._setup_prototype`` sets them (and
    before an ``AutoContinuous`` guide ravels them into its latent vector)."""
    from numpyro.infer.autoguide import AutoGuide

    original = AutoGuide._setup_prototype

    def setup(self, *args, **kwargs):
        original(self, *args, **kwargs)
        locs, trace = self._init_locs, self.prototype_trace
        order = [n for n in trace if n in locs] + [n for n in locs if n not in trace]
        self._init_locs = {n: locs[n] for n in order}

    AutoGuide._setup_prototype = setup
    try:
        yield
    finally:
        AutoGuide._setup_prototype = original


def unpack_latent(guide, z):
    """An ``AutoContinuous`` guide's unconstrained latent vector ``z`` as
    ``{site: value}`` (``AutoContinuous._unpack_latent``)."""
    return guide._unpack_latent(z)
