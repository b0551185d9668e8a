"""Pathfinder (single- and multi-path) through BlackJAX, on NumPyro's unconstrained
potential.

The model is turned into a log density over its unconstrained latents by NumPyro's
``initialize_model`` (which also draws each path's initial point, ``init_to_uniform``),
BlackJAX's ``vi.pathfinder.approximate`` runs L-BFGS along each path and keeps the
normal approximation of highest ELBO, and the draws are mapped back to the model's
constrained space by ``postprocess_fn``: columns as for any other fit.

- one path (``num_paths=1``): ``draws`` draws of that path's best approximation;
- several paths: ``draws_per_path`` draws of each path's best approximation, pooled
  and importance-resampled (with replacement) with PSIS-smoothed weights
  log p - log q (Zhang et al. 2022, Algorithm 2; BlackJAX's ``multipathfinder``
  with the pool size apart from the ELBO draws, as in Stan). A path whose best ELBO
  is not finite gets weight 0.

Everything after the initial points is one jitted program with the data as
arguments. A NaN or infinite log density is reported (``status`` ``"failed"``: no
valid initial point or no path with a finite ELBO; ``"diverged"``: non-finite draws),
never raised.

Cost (``gradient_evaluations``): per path, 2 + 2 per L-BFGS iteration that ran (the
first point and step, the line search's accepted trial and BlackJAX's evaluation at
the new point; extra line-search trials are not visible and not counted), plus
``elbo_draws`` log densities for each point of the path (start included), plus the
draws whose log density weighs them (PSIS): a log density counts as one evaluation.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np

log = logging.getLogger("svibench.pathfinder")

# Line-search trials per L-BFGS iteration: optax's own default (BlackJAX passes 1000).
# With 1000, four hier paths of maxiter 1000 left XLA's CPU runtime waiting forever
# (every thread idle, the result never ready; jaxlib 0.10.2), where 20 ran in 0.5 s.
MAXLS = 20


@dataclass
class PathfinderFit:
    samples: dict            # site -> (draws, *shape), constrained; {} when failed
    status: str              # "ok" | "diverged" | "failed"
    reason: str | None       # why, where status is not "ok"
    seconds: dict            # init, compile, run, total
    elbo: np.ndarray         # (num_paths, maxiter + 1): ELBO per point of each path
    iterations: list         # L-BFGS iterations run, per path
    best_elbo: list          # per path (None where not finite)
    gradient_evaluations: int
    khat: float | None       # PSIS k-hat of the pooled draws' weights
    extra: dict = field(default_factory=dict)


def _count_iterations(positions) -> np.ndarray:
    """L-BFGS iterations that ran per path: the path's points that moved (a stopped
    path repeats its last point up to ``maxiter``)."""
    import jax

    flat = np.concatenate([np.asarray(x).reshape(x.shape[0], x.shape[1], -1)
                           for x in jax.tree.leaves(positions)], axis=-1)
    moved = np.any(flat[:, 1:] != flat[:, :-1], axis=-1)  # NaN != NaN: a step that ran
    return moved.sum(axis=1)


def run_pathfinder(model_fn, arrays: dict, *, seed: int, draws: int, num_paths: int = 1,
                   maxiter: int = 200, elbo_draws: int = 25, draws_per_path: int = 1000,
                   maxcor: int = 10, ftol: float = 1e-5, gtol: float = 1e-8, maxls: int = MAXLS,
                   sites: dict | None = None, programs: dict | None = None) -> PathfinderFit:
    """Fit ``model_fn(**arrays)`` by Pathfinder with ``num_paths`` paths (one:
    single-path Pathfinder) of at most ``maxiter`` L-BFGS iterations; return
    ``draws`` draws of ``sites`` (default: every latent).

    ``programs``: a dict kept across the seeds of one job. The first seed's compiled
    program is stored there and run for the next ones (the seed, the initial points and
    the data are its arguments; only its settings, held fixed in a job, are compiled
    in): each later seed's ``compile`` is then ~0 s."""
    import jax
    import jax.numpy as jnp
    from blackjax.diagnostics import psis_weights
    from blackjax.vi.pathfinder import approximate, sample
    from numpyro.infer.util import initialize_model

    from .draws import latent_sites

    sites = latent_sites(model_fn, arrays) if sites is None else sites
    t0 = time.perf_counter()
    key_init, key_fit = jax.random.split(jax.random.PRNGKey(seed))
    empty = np.full((num_paths, maxiter + 1), np.nan)

    def failed(reason, seconds):
        log.warning("pathfinder failed: %s", reason)
        return PathfinderFit(samples={}, status="failed", reason=reason, seconds=seconds,
                             elbo=empty, iterations=[0] * num_paths, best_elbo=[None] * num_paths,
                             gradient_evaluations=0, khat=None)

    try:
        info = initialize_model(jax.random.split(key_init, num_paths), model_fn,
                                dynamic_args=True, model_kwargs=arrays)
    except Exception as err:  # noqa: BLE001  (e.g. a NaN or infinite log density everywhere)
        t = time.perf_counter() - t0
        return failed(f"no valid initial point: {type(err).__name__}: {err}",
                      {"init": t, "compile": None, "run": None, "total": t})
    z0 = info.param_info.z  # {site: (num_paths, *unconstrained shape)}
    potential_gen, postprocess_gen = info.potential_fn, info.postprocess_fn
    t_init = time.perf_counter()
    multi = num_paths > 1
    pool = draws_per_path if multi else draws

    def program(key, z0, arrays):
        potential = potential_gen(**arrays)
        postprocess = postprocess_gen(**arrays)

        def logdensity(z):
            return -potential(z)

        k_fit, k_draw, k_resample = jax.random.split(key, 3)
        # One path after another (lax.map), not vmapped: under vmap L-BFGS's per-step
        # `cond` becomes a `select` that runs every one of the maxiter steps, each with
        # a line search of up to maxls trials at a converged point (hier, maxiter 1000:
        # minutes instead of a second).
        best, path_info = jax.lax.map(
            lambda args: approximate(args[0], logdensity, args[1], elbo_draws, maxiter=maxiter,
                                     maxcor=maxcor, ftol=ftol, gtol=gtol, maxls=maxls),
            (jax.random.split(k_fit, num_paths), z0))
        z, logq = jax.vmap(lambda k, s: sample(k, s, pool))(
            jax.random.split(k_draw, num_paths), best)  # (paths, pool, ...)
        logp = jax.vmap(jax.vmap(logdensity))(z)
        ratio = jnp.where(jnp.isfinite(best.elbo)[:, None], logp - logq, -jnp.inf)
        ratio = jnp.where(jnp.isfinite(ratio), ratio, -jnp.inf).ravel()
        log_w, khat = psis_weights(ratio)
        flat = jax.tree.map(lambda x: x.reshape((-1,) + x.shape[2:]), z)
        if multi:
            p = jnp.exp(log_w)
            idx = jax.random.choice(k_resample, ratio.shape[0], (draws,), replace=True,
                                    p=jnp.where(jnp.isfinite(p), p, 0.0))
            flat = jax.tree.map(lambda x: x[idx], flat)
        return (jax.vmap(postprocess)(flat), path_info.path.elbo, path_info.path.position,
                best.elbo, khat)

    programs = {} if programs is None else programs
    compiled = programs.get("pathfinder")
    if compiled is None:
        compiled = programs["pathfinder"] = jax.jit(program).lower(key_fit, z0, arrays).compile()
    t_compiled = time.perf_counter()
    out = jax.block_until_ready(compiled(key_fit, z0, arrays))
    t_run = time.perf_counter()
    constrained, elbo, positions, best_elbo, khat = out
    seconds = {"init": t_init - t0, "compile": t_compiled - t_init, "run": t_run - t_compiled,
               "total": t_run - t0}
    elbo = np.asarray(elbo, dtype=np.float64)
    iterations = _count_iterations(positions)
    best = [float(b) if np.isfinite(b) else None for b in np.asarray(best_elbo)]
    grads = int(np.sum(2 + 2 * iterations + elbo_draws * (iterations + 1)) + num_paths * pool)
    khat = float(khat) if np.isfinite(khat) else None
    samples = {k: np.asarray(constrained[k]) for k in sites}
    status, reason = "ok", None
    if all(b is None for b in best):
        status, reason = "failed", "no path reached a finite ELBO (NaN or infinite log density)"
    elif not all(np.all(np.isfinite(v)) for v in samples.values()):
        status, reason = "diverged", "non-finite draws"
    if status != "ok":
        log.warning("pathfinder %s: %s", status, reason)
    log.info("pathfinder: %d path(s), iterations %s, best ELBO %s, k-hat %s, %.2f s "
             "(compile %.2f s)", num_paths, iterations.tolist(), best, khat, seconds["total"],
             seconds["compile"])
    return PathfinderFit(samples=samples, status=status, reason=reason, seconds=seconds,
                         elbo=elbo, iterations=[int(i) for i in iterations], best_elbo=best,
                         gradient_evaluations=grads, khat=khat,
                         extra={"paths_failed": sum(b is None for b in best)})
