"""NUTS with several chains, in parallel over the job's CPU (or GPU) devices."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

log = logging.getLogger("svibench.nuts")


@dataclass
class NUTSFit:
    samples: dict       # site -> (chains, draws_per_chain, *shape)
    seconds: dict       # warmup, sampling, total (compile is inside warmup)
    diagnostics: dict   # divergences, min_n_eff, max_r_hat, min_ess_bulk, ... (run_nuts)
    chains: int
    draws_per_chain: int
    rounds: int = 1     # rounds of sampling that ran (see run_nuts)
    extra: dict | None = None  # NumPyro extra field -> (chains, draws_per_chain)
    # leapfrog steps (one gradient each) over warm-up and sampling, all chains
    gradient_evaluations: int | None = None


# NumPyro's extra fields kept per draw (besides ``diverging``): ArviZ's sample_stats
# (svibench.inference_data.sample_stats); tree depth derives from num_steps.
SAMPLE_STATS = ("energy", "num_steps", "accept_prob", "adapt_state.step_size")


def chain_method(chains: int) -> str:
    """``parallel`` when there is a device per chain (the job's CPU threads are host
    devices); on a single accelerator ``vectorized`` (the chains as one batch: one GPU
    idles if they run one after the other); else ``sequential``."""
    import jax

    if jax.local_device_count() >= chains:
        return "parallel"
    return "vectorized" if jax.default_backend() in ("gpu", "cuda", "rocm") else "sequential"


def run_nuts(model, data: dict, *, warmup: int, draws: int, chains: int, seed: int = 0,
             target_accept: float = 0.8, max_tree_depth: int = 10, dense_mass: bool = False,
             method: str | None = None, max_rounds: int = 1,
             enough: Callable[[dict, int], bool] | None = None) -> NUTSFit:
    """``draws`` is the total over all chains (rounded up to a multiple of chains) of
    one round; ``method``: how the chains run (``chain_method(chains)`` if None).

    After warm-up, rounds of ``draws`` run, each going on from where the chains
    stopped, until ``enough(samples, divergences)`` (every round's samples so far, by
    chain, and their divergences) is true or ``max_rounds`` rounds ran.
    """
    import jax
    from numpyro.infer import MCMC, NUTS

    per_chain = math.ceil(draws / chains)
    method = method or chain_method(chains)
    kernel = NUTS(model, target_accept_prob=target_accept, max_tree_depth=max_tree_depth,
                  dense_mass=dense_mass)
    mcmc = MCMC(kernel, num_warmup=warmup, num_samples=per_chain, num_chains=chains,
                chain_method=method, progress_bar=False, jit_model_args=True)
    key_warm, key = jax.random.split(jax.random.PRNGKey(seed))
    log.info("NUTS: %d chains (%s), %d warmup + %d draws each", chains, method, warmup, per_chain)
    t0 = time.perf_counter()
    # Warm-up's leapfrog steps are collected (its draws with them: collecting changes
    # no draw); its cost counts in gradient_evaluations like sampling's.
    mcmc.warmup(key_warm, extra_fields=("num_steps",), collect_warmup=True, **data)
    leapfrogs = int(np.asarray(mcmc.get_extra_fields()["num_steps"]).sum())
    jax.block_until_ready(mcmc.post_warmup_state)
    t1 = time.perf_counter()
    log.info("warmup done in %.1f s", t1 - t0)
    parts, extras, divergences = [], [], 0
    for rounds in range(1, max_rounds + 1):
        if rounds > 1:  # the chains go on from their last state, with its key
            mcmc.post_warmup_state = mcmc.last_state
            key = mcmc.post_warmup_state.rng_key
        mcmc.run(key, extra_fields=("diverging",) + SAMPLE_STATS, **data)
        part = jax.block_until_ready(mcmc.get_samples(group_by_chain=True))
        parts.append({k: np.asarray(v) for k, v in part.items()})
        extras.append({k: np.asarray(v) for k, v in
                       mcmc.get_extra_fields(group_by_chain=True).items()})
        divergences += int(extras[-1]["diverging"].sum())
        leapfrogs += int(extras[-1]["num_steps"].sum())
        samples = parts[0] if len(parts) == 1 else \
            {k: np.concatenate([p[k] for p in parts], axis=1) for k in parts[0]}
        if enough is not None and enough(samples, divergences):
            break
    t2 = time.perf_counter()
    log.info("sampling done in %.1f s (%d round(s))", t2 - t1, rounds)
    extra = {k: np.concatenate([e[k] for e in extras], axis=1) for k in extras[0]}
    return NUTSFit(samples=samples, chains=chains, draws_per_chain=per_chain * rounds,
                   rounds=rounds, extra=extra,
                   seconds={"compile": None, "warmup": t1 - t0, "run": t2 - t0,
                            "sampling": t2 - t1, "total": t2 - t0},
                   diagnostics=diagnostics(samples, divergences, method),
                   gradient_evaluations=leapfrogs)


def diagnostics(samples: dict, divergences: int, method: str) -> dict:
    """``divergences``, ``chain_method``, NumPyro ``summary``'s classic split ``n_eff``
    and ``r_hat`` (``min_n_eff``, ``max_r_hat``) and ArviZ's rank-normalised ones
    (``min_ess_bulk``, ``min_ess_tail``, ``max_rhat``; ``svibench.metrics``), each the
    extreme over every scalar latent of ``samples`` (site -> (chains, draws, *shape))."""
    from numpyro.diagnostics import summary

    from ..metrics import ess_bulk, ess_tail, rhat

    stats = summary(samples, group_by_chain=True)
    columns = [np.asarray(v, dtype=np.float64).reshape(v.shape[:2] + (-1,))
               for v in samples.values()]
    per = [x[:, :, i] for x in columns for i in range(x.shape[2])]

    def extreme(f, values):
        values = [v for v in values if np.isfinite(v)]
        return f(values) if values else None

    return {"divergences": divergences, "chain_method": method,
            "min_n_eff": extreme(min, [float(np.min(s["n_eff"])) for s in stats.values()]),
            "max_r_hat": extreme(max, [float(np.max(s["r_hat"])) for s in stats.values()]),
            "min_ess_bulk": extreme(min, [ess_bulk(x) for x in per]),
            "min_ess_tail": extreme(min, [ess_tail(x) for x in per]),
            "max_rhat": extreme(max, [rhat(x) for x in per])}
