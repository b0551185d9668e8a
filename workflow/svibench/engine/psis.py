"""PSIS k-hat of a fitted guide, computed in the fit job (where the guide is built).

Most guides get the log weights log p(x, z) - log q(z) that NumPyro's
``psis_diagnostic`` computes, over fresh guide draws: each particle's log densities of
guide and model through the public ``numpyro.infer.util.log_density``, vmapped and
jitted (the library's own loop runs op by op, 1-5 s a fit). ``AutoLaplaceApproximation``
trains as a point mass and only applies its Gaussian when drawing, so
``psis_diagnostic`` would score the point mass; for it the weights are computed against
the Gaussian it draws from (``get_posterior``, in unconstrained space, with the model's
Jacobian). k-hat is ``metrics.pareto_khat`` of the weights: ArviZ's ``psislw`` k-hat in
NumPy (equal to the last bit, and the same Zhang-Stephens fit, prior and tail as NumPyro's
private estimator; tests/unit/test_arviz_diagnostics.py), so a fit job never imports ArviZ.

k-hat is blind to a missing mode (DESIGN.md, "Facts"): ``mode_mass`` is reported
beside it.

Particle sets: k-hat is computed over ``SETS`` independent sets of ``PARTICLES``
particles each (their keys: ``seeds.psis_set_keys``), all in one jitted, vmapped
program; fit.json's ``psis`` records the median (``khat``), every set's value
(``khat_sets``), their ``khat_spread`` ``[min, max]`` and the sample-size threshold
min(1 - 1/log10(S), 0.7) for S particles a set. One set's k-hat of a near-exact guide
moves by chance (its weights are nearly flat and the tail fit degenerates): the spread
shows by how much. It is a diagnostic, never a failure (``metrics.judge``).

Particles: 4000 a set; the program is built once per guide (a batch's seeds share it)
and the five sets add about 0.04 s a fit on linreg (measured on 2 shared cores; the
compilation, 4-7 s with one set or five, did not differ beyond its noise). A guide
close to the posterior but with lighter tails has nearly flat weights piled at their
minimum, and the generalised Pareto fit to their top degenerates: for the best
logit-normal of coin's Beta(13, 9) (AutoNormal at loc 0.385, scale 0.443) the five
sets' k-hat lie between about 2.8 and 4.0 (median 3.7) although the guide is nearly
exact: a k-hat beyond its threshold is a note beside the accuracy, never a verdict
(tests/unit/test_predictive_psis.py).
"""

from __future__ import annotations

import functools
import logging
import time

import numpy as np

log = logging.getLogger("svibench.psis")

PARTICLES = 4000  # k-hat from 1000-2000 particles can be wild for near-exact guides (see below)
SETS = 5  # independent particle sets: k-hat's median and spread


@functools.lru_cache(maxsize=16)
def _laplace_program(guide, model, n: int):
    """The jitted (sets, n) log weights against the Laplace Gaussian of ``guide``,
    one row per key: built once per guide, so a batch's seeds compile it once."""
    import jax
    from numpyro.infer.util import potential_energy

    from ._numpyro_compat import unpack_latent

    def weights(params, data, keys):
        post = guide.get_posterior(params)  # its Hessian, eagerly, takes ~10x longer

        def log_p(zi):  # log joint in unconstrained space, Jacobian included
            return -potential_energy(model, (), data, unpack_latent(guide, zi))

        def one_set(key):
            z = post.sample(key, (n,))
            return jax.vmap(log_p)(z) - post.log_prob(z)

        return jax.vmap(one_set)(keys)

    # params and data are arguments, not constants: the compiled program is the same
    # for every seed of a guide and hits JAX's persistent cache.
    return jax.jit(weights)


def _laplace_log_weights(guide, params, model, data: dict, n: int, keys) -> np.ndarray:
    """(sets, n) log weights against the Laplace Gaussian, one row per key of ``keys``."""
    return np.asarray(_laplace_program(guide, model, n)(params, data, keys), dtype=np.float64)


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


@functools.lru_cache(maxsize=16)
def _guide_program(guide, model, n: int):
    """The jitted (sets, n) log weights of ``guide``, one row of ``n`` particles per
    key: built once per guide, so a batch's seeds compile it once."""
    import jax

    def weights(params, data, keys):
        def one_set(key):
            return jax.vmap(lambda k: guide_log_weight(k, params, model, guide, data))(
                jax.random.split(key, n))

        return jax.vmap(one_set)(keys)

    return jax.jit(weights)


def _guide_log_weights(guide, params, model, data: dict, n: int, keys) -> np.ndarray:
    """What ``psis_diagnostic`` computes, jitted (its own vmap runs op by op: 1-5 s):
    (sets, n) log weights, one row of ``n`` particles per key of ``keys``."""
    return np.asarray(_guide_program(guide, model, n)(params, data, keys), dtype=np.float64)


def pareto_khats(log_weights) -> np.ndarray:
    """k-hat of each row of (sets, n) ``log_weights`` (``metrics.pareto_khat``)."""
    from ..metrics import pareto_khat

    return np.array([pareto_khat(row) for row in np.atleast_2d(log_weights)])


def psis_khat(model, guide, params, data: dict, seed: int, particles: int = PARTICLES,
              sets: int = SETS) -> dict:
    """k-hat of a guide at ``params`` over ``sets`` independent sets of ``particles``
    particles (keys ``seeds.psis_set_keys(seed, sets)``: ``seed`` is the PSIS seed, a
    fit's ``seeds.psis(fit seed)``). Returns ``{"khat"`` (the median over the sets),
    ``"khat_sets"`` (each set's, in key order), ``"khat_spread"`` (``[min, max]``),
    ``"threshold"`` (min(1 - 1/log10(S), 0.7) for S = ``particles``), ``"particles"``
    (a set's), ``"sets"``, ``"method"``, ``"seconds"``, ``"error"}``; a guide k-hat
    cannot be computed for gets ``khat: None`` and the reason, never a number."""
    from numpyro.infer.autoguide import AutoLaplaceApproximation

    from .. import seeds
    from ..metrics import khat_threshold

    t0 = time.perf_counter()
    keys = seeds.psis_set_keys(seed, sets)
    out = {"khat": None, "khat_sets": None, "khat_spread": None,
           "threshold": khat_threshold(particles), "particles": particles, "sets": sets,
           "error": None}
    try:
        if isinstance(guide, AutoLaplaceApproximation):
            lw = _laplace_log_weights(guide, params, model, data, particles, keys)
            out["method"] = "laplace gaussian"
        else:
            lw = _guide_log_weights(guide, params, model, data, particles, keys)
            out["method"] = "psis_diagnostic weights"
        finite = np.isfinite(lw)
        if not finite.all():
            raise FloatingPointError(f"{int((~finite).sum())} non-finite log weights")
        ks = pareto_khats(lw)
        out["khat_sets"] = [float(k) if np.isfinite(k) else None for k in ks]
        good = ks[np.isfinite(ks)]
        if good.size == 0:
            out["error"] = "k-hat is not finite (too few tail weights)"
        else:
            out["khat"] = float(np.median(good))
            out["khat_spread"] = [float(good.min()), float(good.max())]
            if good.size < ks.size:
                out["error"] = f"{ks.size - good.size} of {ks.size} sets' k-hat not finite"
    except Exception as err:  # noqa: BLE001  (reported, never silently zero)
        out["error"] = f"{type(err).__name__}: {err}"
        log.warning("PSIS k-hat failed: %s", out["error"])
    out["seconds"] = time.perf_counter() - t0
    log.info("PSIS k-hat %s, spread %s (%d sets of %d particles, %.1f s)", out["khat"],
             out["khat_spread"], sets, particles, out["seconds"])
    return out
