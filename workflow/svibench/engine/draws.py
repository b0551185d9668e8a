"""Latent sites of a model and flat draws tables (``m[0]``, ``m[1]``, ...)."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd


def latent_sites(model, data: dict) -> dict:
    """``{site: shape}`` of the model's latent (non-observed, non-auxiliary) sample sites,
    then the deterministic sites named in the callable's ``reported`` (``Model.bind``
    sets it: e.g. a Stan model's transformed parameters, part of its reference)."""
    import jax
    from numpyro import handlers
    from numpyro.infer.initialization import init_to_uniform

    names: list[str] = []
    reported = set(getattr(model, "reported", ()))

    def latent_values(data):
        # init_to_uniform also gives values to improper (flat) sites, which cannot sample.
        seeded = handlers.substitute(handlers.seed(model, jax.random.PRNGKey(0)),
                                     substitute_fn=init_to_uniform)
        tr = handlers.trace(seeded).get_trace(**data)
        names[:] = [name for name, site in tr.items()
                    if site["type"] == "sample" and not site["is_observed"]
                    and not site["infer"].get("is_auxiliary", False)] + [
            name for name, site in tr.items()
            if site["type"] == "deterministic" and name in reported]
        return {name: tr[name]["value"] for name in names}

    # Shapes only: traced abstractly, nothing compiled or run (eagerly, the trace
    # compiles tens of one-op programs, ~1 s in a process that has none yet; issue 6).
    try:
        values = jax.eval_shape(latent_values, data)
    except Exception:  # noqa: BLE001  (e.g. a model branching on values: run it)
        values = latent_values(data)
    return {name: tuple(values[name].shape) for name in names}


def flat_names(name: str, shape: tuple) -> list[str]:
    if shape == ():
        return [name]
    return [f"{name}[{','.join(map(str, idx))}]" for idx in np.ndindex(*shape)]


def flatten(samples: dict, sites: dict) -> pd.DataFrame:
    """``samples[site]`` of shape (n, *shape) -> DataFrame, one float64 column per scalar."""
    cols = {}
    for name, shape in sites.items():
        arr = np.asarray(samples[name], dtype=np.float64)
        arr = arr.reshape(arr.shape[0], -1) if shape else arr.reshape(-1, 1)
        for i, col in enumerate(flat_names(name, shape)):
            cols[col] = arr[:, i]
    return pd.DataFrame(cols)


@functools.lru_cache(maxsize=8)
def _draw_program(model, guide, n: int, sites: tuple):
    """The jitted ``(key, params, data) -> {site: (n, *shape)}`` of ``guide``: built once
    a process, so a batch's seeds trace and compile it once."""
    import jax
    from numpyro.infer import Predictive
    from numpyro.infer.autoguide import AutoGuide

    if isinstance(guide, AutoGuide):
        def draw(key, params, data):
            return guide.sample_posterior(key, params, sample_shape=(n,), **data)
    else:
        def draw(key, params, data):
            return Predictive(model, guide=guide, params=params, num_samples=n,
                              return_sites=list(sites))(key, **data)

    # Jitted, with params and data as arguments: run op by op, drawing compiles tens of
    # one-op programs (AutoLaplace's Hessian hundreds, ~3 s a job); one program hits
    # the persistent cache for every seed and dataset of the same shapes.
    return jax.jit(draw)


def guide_draws(model, guide, params, data: dict, n: int, seed: int, sites: dict) -> pd.DataFrame:
    """``n`` draws of the model's latents from ``guide`` at ``params``.

    Autoguides draw through ``sample_posterior`` (AutoLaplaceApproximation trains as
    a point mass and only there applies its Hessian); hand-written guides are replayed
    through the model with ``Predictive``."""
    import jax

    out = _draw_program(model, guide, n, tuple(sites))(jax.random.PRNGKey(seed), params, data)
    return flatten(out, sites)


def flatten_params(params: dict) -> dict:
    """Guide params (possibly nested pytrees, as for flows) -> ``{key: array}``."""
    import jax

    flat = {}
    for name, value in params.items():
        leaves = jax.tree_util.tree_flatten_with_path(value)[0]
        for path, leaf in leaves:
            key = name + jax.tree_util.keystr(path)
            flat[key] = np.asarray(leaf)
    return flat
