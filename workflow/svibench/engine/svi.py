"""Chunked-scan SVI.

One jitted ``lax.scan`` runs ``chunk`` steps of ``svi.update`` with the data passed
as *arguments* (so one compiled program serves any data of the same shapes); Python
loops over chunks to log progress and check for divergence. A step whose loss or
parameters are non-finite is not applied: the state stays at the last finite step,
the fit stops with ``status = "diverged"`` and the loss trace ends with that step.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field

import numpy as np

log = logging.getLogger("svibench.svi")


@dataclass
class SVIFit:
    params: dict            # constrained guide params
    losses: np.ndarray      # (steps_run,) loss per step; last one non-finite if diverged
    status: str             # "ok" | "diverged"
    steps_run: int
    seconds: dict           # compile, run, total
    diverged_at: int | None = None
    converged_at: int | None = None
    extra: dict = field(default_factory=dict)


def make_elbo(kind: str, particles: int):
    from numpyro.infer import Trace_ELBO, TraceGraph_ELBO

    if kind == "tracegraph":
        return TraceGraph_ELBO(num_particles=particles)
    if kind == "trace":
        return Trace_ELBO(num_particles=particles)
    raise ValueError(f"unknown elbo {kind!r} (trace | tracegraph)")


def _all_finite(tree):
    import jax
    import jax.numpy as jnp

    leaves = [jnp.all(jnp.isfinite(x)) for x in jax.tree.leaves(tree)
              if jnp.issubdtype(jnp.asarray(x).dtype, jnp.inexact)]
    return jnp.all(jnp.stack(leaves)) if leaves else jnp.bool_(True)


def chunk_runner(svi, chunk: int):
    """``run(state, n_left, data) -> (state, losses (chunk,), finite (chunk,))``.

    Runs steps ``0 .. n_left - 1`` (a loop with a traced trip count, so one compiled
    program serves the last, shorter chunk too). ``finite[i]``: the loss of step ``i``
    and the parameters it produced are finite; entries ``>= n_left`` are unused.

    No per-step guard: selecting the old state when a step goes non-finite made every
    step wait for a reduction over the whole new state, ~2.5x slower per step (issue
    6). Steps after a non-finite one run on, on garbage; ``run_svi`` then runs the
    chunk again from its start up to the step before (the same program, so the same
    numbers) to recover the last finite state.
    """
    import jax
    import jax.numpy as jnp

    def run(state, n_left, data):
        def body(i, carry):
            state, losses, finite = carry
            state, loss = svi.update(state, **data)
            ok = jnp.isfinite(loss) & _all_finite(state.optim_state)
            return state, losses.at[i].set(loss), finite.at[i].set(ok)

        init = (state, jnp.full((chunk,), jnp.nan), jnp.zeros((chunk,), dtype=bool))
        return jax.lax.fori_loop(0, n_left, body, init)

    return jax.jit(run)


def run_svi(model, guide, data: dict, *, max_steps: int, lr: float, particles: int = 1,
            chunk: int = 500, seed: int = 0, elbo: str = "trace", init_params=None,
            convergence: dict | None = None, stop_at_convergence: bool = False) -> SVIFit:
    """Fit ``guide`` to ``model`` with Adam for at most ``max_steps`` steps.

    ``data`` is a dict of arrays passed to model and guide as keyword arguments.
    ``convergence`` holds the settings of ``engine.convergence.convergence_step``
    (its defaults if None); with ``stop_at_convergence`` the fit ends at the end of
    the chunk in which it converged.
    """
    from .convergence import DEFAULTS, convergence_step

    conv = {**DEFAULTS, **(convergence or {})}
    converged_at = None
    import jax
    from numpyro.infer import SVI
    from numpyro.optim import Adam

    t_start = time.perf_counter()
    svi = SVI(model, guide, Adam(lr), make_elbo(elbo, particles))
    state = svi.init(jax.random.PRNGKey(seed), init_params=init_params, **data)
    chunk = max(1, min(int(chunk), int(max_steps)))
    runner = chunk_runner(svi, chunk).lower(state, chunk, data).compile()
    t_compiled = time.perf_counter()
    compile_s = t_compiled - t_start

    losses, done, status, diverged_at = [], 0, "ok", None
    n_chunks = math.ceil(max_steps / chunk)
    for c in range(n_chunks):
        n_left = min(chunk, max_steps - done)
        start = state
        state, chunk_losses, finite = runner(state, n_left, data)
        chunk_losses = np.asarray(jax.block_until_ready(chunk_losses))[:n_left]
        finite = np.asarray(finite)[:n_left]
        if not finite.all():
            # Step `first` (its loss, or the params it made) is the first non-finite
            # one: it is not applied. The trace ends with it; the state is the one
            # before it, recomputed from the chunk's start.
            first = int(np.argmin(finite))
            state = runner(start, first, data)[0] if first else start
            losses.append(chunk_losses[:first + 1])
            done += first + 1
            status, diverged_at = "diverged", done
            log.warning("non-finite loss or params at step %d: stopping (status diverged)", done)
            break
        losses.append(chunk_losses)
        done += n_left
        log.info("step %d/%d  mean loss of chunk %.4f  (%.1f s)", done, max_steps,
                 float(np.mean(chunk_losses)), time.perf_counter() - t_compiled)
        if converged_at is None:
            converged_at = convergence_step(np.concatenate(losses), **conv)
            if converged_at is not None:
                log.info("converged at step %d", converged_at)
                if stop_at_convergence:
                    break
    params = jax.block_until_ready(svi.get_params(state))
    t_end = time.perf_counter()
    return SVIFit(params=params, losses=np.concatenate(losses) if losses else np.zeros(0),
                  status=status, steps_run=done, diverged_at=diverged_at,
                  converged_at=converged_at,
                  seconds={"compile": compile_s, "run": t_end - t_compiled,
                           "total": t_end - t_start})
