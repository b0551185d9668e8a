"""Warm start: continue a guide from the params of a fit on another dataset.

Params are matched by name (and, for nested flow params, by path) and shape. When a
plate size differs (J groups 8 -> 12) only the params whose names and shapes match
transfer; the rest keep their fresh initial values, except that with ``resize=True``
(per-site guides such as AutoNormal, whose plate params are exchangeable over groups) a
param whose shape differs only in its sizes starts every element at the mean of the
old elements ("resized"): a fresh, random per-group location under transferred tight
hyper-parameters would start far worse than a cold fit.
"""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger("svibench.warm")


def transfer_params(saved: dict, template: dict, resize: bool = False):
    """``saved``: flat ``{key: array}`` (from params.npz); ``template``: a fresh guide's
    constrained params (possibly nested). Returns ``(init_params, report)`` where
    ``report`` lists the flat names (as in ``engine.draws.flatten_params``) that were
    ``transferred``, ``resized`` and left ``fresh``."""
    import jax
    import jax.numpy as jnp

    init, transferred, resized, fresh = {}, [], [], []
    for name, value in template.items():
        leaves, treedef = jax.tree_util.tree_flatten_with_path(value)
        new_leaves = []
        for path, leaf in leaves:
            key = name + jax.tree_util.keystr(path)
            old = saved.get(key)
            if old is not None and tuple(np.shape(old)) == tuple(np.shape(leaf)):
                new_leaves.append(jnp.asarray(old, dtype=jnp.asarray(leaf).dtype))
                transferred.append(key)
            elif resize and old is not None and np.ndim(old) == np.ndim(leaf) >= 1:
                fill = np.mean(np.asarray(old), axis=tuple(range(np.ndim(old))))
                new_leaves.append(jnp.full(np.shape(leaf), fill, dtype=jnp.asarray(leaf).dtype))
                resized.append(key)
            else:
                new_leaves.append(leaf)
                fresh.append(key)
        init[name] = jax.tree_util.tree_unflatten(treedef, new_leaves)
    return init, {"transferred": transferred, "resized": resized, "fresh": fresh}


def warm_init_params(model, guide, data: dict, saved: dict, seed: int):
    """Initial params for ``guide`` on ``data`` taken from ``saved`` where they fit;
    returns ``(init_params, report)`` as ``transfer_params``."""
    import jax
    from numpyro.infer import SVI, Trace_ELBO
    from numpyro.infer.autoguide import AutoNormal
    from numpyro.optim import Adam

    from .engine.svi import compiled_init

    svi = SVI(model, guide, Adam(1e-3), Trace_ELBO())
    template = svi.get_params(compiled_init(svi, jax.random.PRNGKey(seed), data))
    init, report = transfer_params(saved, template, resize=isinstance(guide, AutoNormal))
    log.info("warm start: transferred %s; resized %s; fresh %s",
             *(", ".join(report[k]) or "none" for k in ("transferred", "resized", "fresh")))
    return init, report
