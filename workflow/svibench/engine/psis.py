"""PSIS k-hat of a fitted guide, computed in the fit job (where the guide is built).

Most guides get the log weights log p(x, z) - log q(z) that NumPyro's
``psis_diagnostic`` computes, over fresh guide draws: each particle's log densities of
guide and model through the public ``numpyro.infer.util.log_density``, vmapped and
jitted (the library's own loop runs op by op, 1-5 s a fit). ``AutoLaplaceApproximation``
trains as a point mass and only applies its Gaussian when drawing, so
``psis_diagnostic`` would score the point mass; for it the weights are computed against
the Gaussian it draws from (``get_posterior``, in unconstrained space, with the model's
Jacobian). k-hat is ArviZ's ``psislw`` of the weights (the same Zhang-Stephens fit, prior
and tail as NumPyro's private estimator; tests/unit/test_arviz_diagnostics.py).

k-hat is blind to a missing mode (DESIGN.md, "Facts"): ``mode_mass`` is reported
beside it.

Particles: 4000. With 1000 or 2000, a guide close to the posterior but with lighter
tails (AutoNormal's logit-normal against coin's Beta(13, 9)) has nearly flat weights
piled at their minimum, and the generalised Pareto fit to the top 95 / 135 of them
gives k-hat 3-5; from 4000 particles on it settles at 0.3-0.6 (checked with exact
weights; the same Zhang-Stephens fit as ArviZ).
"""

from __future__ import annotations

import logging
import time

import numpy as np

log = logging.getLogger("svibench.psis")

PARTICLES = 4000  # k-hat from 1000-2000 particles can be wild for near-exact guides (see below)


def _laplace_log_weights(guide, params, model, data: dict, n: int, key) -> np.ndarray:
    import jax
    from numpyro.infer.util import potential_energy

    from ._numpyro_compat import unpack_latent

    def weights(params, data, key):
        post = guide.get_posterior(params)  # its Hessian, eagerly, takes ~10x longer
        z = post.sample(key, (n,))

        def log_p(zi):  # log joint in unconstrained space, Jacobian included
            return -potential_energy(model, (), data, unpack_latent(guide, zi))

        return jax.vmap(log_p)(z) - post.log_prob(z)

    # params and data are arguments, not constants: the compiled program is the same
    # for every seed of a guide and hits JAX's persistent cache.
    return np.asarray(jax.jit(weights)(params, data, key), dtype=np.float64)


def guide_log_weight(key, params, model, guide, data: dict):
    """log p(x, z) - log q(z) of one guide draw ``z`` made with ``key``: one particle of
    ``psis_diagnostic``, through public NumPyro only (its seeds split as the library's)."""
    import jax
    from numpyro import handlers
    from numpyro.infer.util import log_density

    model_key, guide_key = jax.random.split(key)
    log_q, guide_trace = log_density(handlers.seed(guide, guide_key), (), data, params)
    log_p, _ = log_density(handlers.replay(handlers.seed(model, model_key), guide_trace),
                           (), data, params)
    return log_p - log_q


def _guide_log_weights(guide, params, model, data: dict, n: int, key) -> np.ndarray:
    """What ``psis_diagnostic`` computes, jitted (its own vmap runs op by op: 1-5 s)."""
    import jax

    def weights(params, data, key):
        return jax.vmap(lambda k: guide_log_weight(k, params, model, guide, data))(
            jax.random.split(key, n))

    return np.asarray(jax.jit(weights)(params, data, key), dtype=np.float64)


def pareto_khat(log_weights) -> float:
    """The generalised Pareto shape k-hat of ``log_weights``' upper tail (ArviZ's
    ``psislw``; ``inf`` when the tail has too few weights to fit)."""
    import arviz as az

    return float(az.psislw(np.array(log_weights, dtype=np.float64))[1])


def psis_khat(model, guide, params, data: dict, seed: int, particles: int = PARTICLES) -> dict:
    """``{"khat", "particles", "seconds", "error"}`` of a guide at ``params``; a guide
    k-hat cannot be computed for gets ``khat: None`` and the reason, never a number."""
    import jax
    from numpyro.infer.autoguide import AutoLaplaceApproximation

    t0 = time.perf_counter()
    key = jax.random.PRNGKey(seed)
    out = {"khat": None, "particles": particles, "error": None}
    try:
        if isinstance(guide, AutoLaplaceApproximation):
            lw = _laplace_log_weights(guide, params, model, data, particles, key)
            out["method"] = "laplace gaussian"
        else:
            lw = _guide_log_weights(guide, params, model, data, particles, key)
            out["method"] = "psis_diagnostic weights"
        finite = np.isfinite(lw)
        if not finite.all():
            raise FloatingPointError(f"{int((~finite).sum())} non-finite log weights")
        out["khat"] = float(pareto_khat(lw))
        if out["khat"] is not None and not np.isfinite(out["khat"]):
            out["error"], out["khat"] = "k-hat is not finite (too few tail weights)", None
    except Exception as err:  # noqa: BLE001  (reported, never silently zero)
        out["error"] = f"{type(err).__name__}: {err}"
        log.warning("PSIS k-hat failed: %s", out["error"])
    out["seconds"] = time.perf_counter() - t0
    log.info("PSIS k-hat %s (%d particles, %.1f s)", out["khat"], particles, out["seconds"])
    return out
