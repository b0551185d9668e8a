"""One fit = one job: read a dataset, run NUTS or an SVI guide, write the fit folder.

Outputs (``results/fits/{model}/{dataset}/{method}/``): ``draws.parquet``,
``trace.parquet``, ``params.npz`` (SVI), ``fit.json``, ``mocks.parquet``: the
posterior predictive mock datasets of the draws (``svibench.predictive``; empty where
the model has no observations, ``predictive_draws`` is 0 or the fit did not finish),
and ``posterior.nc``: all of them as ArviZ InferenceData (``svibench.inference_data``).
They are drawn here, where the model is traced and JAX is loaded anyway, so that the
``evaluate`` job that scores them needs neither (a JAX start costs a job ~1.3 s).
"""

from __future__ import annotations

import logging
import time

import numpy as np
import pandas as pd

from . import io, seeds
from .data import Problem, load_problem
from .engine.draws import flatten, flatten_params, guide_draws, latent_sites
from .methods import get_method
from .models import Model
from .provenance import versions
from .scheduling import svi_budget_gradients, svi_gradients_per_step
from .status import usable

log = logging.getLogger("svibench.fit")


def final_loss(losses: np.ndarray) -> float | None:
    """Mean loss (-ELBO) over the last 10% of steps (at least one), finite steps only."""
    finite = losses[np.isfinite(losses)]
    if finite.size == 0:
        return None
    tail = finite[-max(1, finite.size // 10):]
    return float(np.mean(tail))


def run_fit(model: str | Model, dataset: str, method: str, data_csv, data_json,
            options: dict, out: dict, init_from=None) -> dict:
    """Fit ``method`` on a dataset of ``model`` (a registered name or a ``Model``) and
    write the files named in ``out`` (keys ``draws``, ``trace``, ``fit``, for SVI
    ``params``, and optionally ``mocks``: ``options["predictive_draws"]`` mock
    datasets, and ``idata``: ``posterior.nc``). Returns fit.json.

    ``init_from``: a ``params.npz`` of the same guide fitted on another dataset
    (warm start); matching params transfer, the rest start fresh."""
    return run_fits(model, dataset, method, data_csv, data_json, [(options, out)],
                    init_from=init_from)[0]


def run_fits(model: str | Model, dataset: str, method: str, data_csv, data_json,
             runs: list[tuple[dict, dict]], init_from=None) -> list[dict]:
    """``run_fit`` for several seeds of one method in one process: ``runs`` holds each
    seed's ``(options, out)``, options equal but for ``seed``. SVI seeds run as one
    compiled program (``engine.svi.run_svi_seeds``); Pathfinder's and NUTS's one after
    another, their programs compiled once. Returns each seed's fit.json."""
    import jax

    t0 = time.perf_counter()
    m = get_method(method)
    problem = load_problem(model, data_csv, data_json)  # the only look-up of the model
    sites = latent_sites(problem.fn, problem.arrays)
    options = [o for o, _ in runs]
    if m.kind == "svi":
        results = run_svi_fits(m, problem, options, sites, init_from)
    elif m.kind == "pathfinder":
        programs: dict = {}  # the first seed's compiled program serves the others
        results = [run_pathfinder_fit(problem, o, sites, programs) for o in options]
    else:
        results = [run_nuts_fit(problem, o, sites) for o in options]
    device = str(jax.devices()[0].platform)
    infos = []
    for (opts, out), res in zip(runs, results):
        info = {"model": problem.model.name, "dataset": dataset, "method": method,
                "kind": m.kind, "latents": list(sites), "options": opts, "device": device}
        infos.append(write_fit(problem, info, res, opts, out, sites, t0))
    return infos


def write_fit(problem: Problem, info: dict, res, options: dict, out: dict, sites: dict,
              t0: float) -> dict:
    """Write one seed's files (``run_fit``'s ``out``) from its ``(draws, trace, extra)``;
    ``seconds.job`` counts from the job's start ``t0`` to this seed's fit.json."""
    draws, trace, extra = res
    stats = extra.pop("sample_stats", None)  # NUTS: per-draw sampler statistics
    guide_params = extra.pop("guide_params", None)  # SVI: flat guide params
    io.write_parquet(out["draws"], draws)
    if "params" in out and guide_params is not None:
        io.write_npz(out["params"], guide_params)
    io.write_parquet(out["trace"], trace)
    info.update(extra)
    mock = None
    if "mocks" in out:
        t_mocks = time.perf_counter()
        seed = seeds.mocks(options["seed"])
        mock = posterior_mocks(problem, draws, info["status"],
                               int(options.get("predictive_draws", 0)), seed, sites)
        io.write_parquet(out["mocks"], mock)
        if not mock.empty:
            info["seeds"]["mocks"] = seed
            info["seconds"]["mocks"] = time.perf_counter() - t_mocks
    if "idata" in out:
        from .inference_data import write_problem_idata

        write_problem_idata(out["idata"], problem, draws, sites,
                            chains=int(info.get("chains") or 1), mocks=mock, stats=stats,
                            attrs={"dataset": info["dataset"], "method": info["method"]})
    info["n_draws"] = len(draws)
    info["seconds"]["job"] = time.perf_counter() - t0
    info["versions"] = versions()
    io.write_json(out["fit"], info)
    log.info("%s on %s/%s seed %s: %s after %s steps, %.1f s", info["method"], info["model"],
             info["dataset"], options["seed"], info["status"], info.get("steps_run"),
             info["seconds"]["total"])
    return info


def posterior_mocks(problem: Problem, draws: pd.DataFrame, status: str, n: int,
                    seed: int, sites: dict | None = None) -> pd.DataFrame:
    """``n`` posterior predictive mock datasets of a fit's ``draws`` (one row each, see
    ``predictive.mocks``); empty for a model without observations, ``n`` = 0, or a
    fit that did not finish or has non-finite draws (nothing to predict from)."""
    from .predictive import mocks

    if not problem.model.has_observations or n <= 0 or not usable(draws, {"status": status}):
        return pd.DataFrame()
    return mocks(problem, draws, n, seed, sites)


def run_nuts_fit(problem: Problem, options: dict, sites: dict):
    from .engine.nuts import run_nuts

    fit = run_nuts(problem.fn, problem.arrays, warmup=options["warmup"], draws=options["draws"],
                   chains=options["chains"], seed=options["seed"],
                   target_accept=options["target_accept"],
                   max_tree_depth=options["max_tree_depth"], dense_mass=options["dense_mass"])
    flat = {k: v.reshape((-1,) + v.shape[2:]) for k, v in fit.samples.items()}
    draws = flatten(flat, sites)
    # NUTS has no loss; its trace is the per-draw potential energy proxy: log density
    # is not stored by default, so record chain/draw indices for convergence checks.
    trace = pd.DataFrame({"chain": np.repeat(np.arange(fit.chains), fit.draws_per_chain),
                          "draw": np.tile(np.arange(fit.draws_per_chain), fit.chains)})
    ok = all(np.all(np.isfinite(v)) for v in flat.values())
    extra = {"status": "ok" if ok else "diverged", "steps_run": options["warmup"] + fit.draws_per_chain,
             "chains": fit.chains, "draws_per_chain": fit.draws_per_chain,
             "diagnostics": fit.diagnostics, "seconds": fit.seconds,
             "gradient_evaluations": fit.gradient_evaluations,
             "seeds": {"fit": options["seed"]}, "final_loss": None, "final_elbo": None,
             "sample_stats": fit.extra}  # for posterior.nc, not fit.json (run_fit pops it)
    return draws, trace, extra


PATHFINDER_KEYS = ("seed", "maxiter", "num_paths", "elbo_draws", "draws_per_path", "maxcor",
                   "ftol", "gtol")


def run_pathfinder_fit(problem: Problem, options: dict, sites: dict, programs=None):
    """Pathfinder (``num_paths`` 1) or multi-path Pathfinder: draws in the model's own
    space; the trace is the ELBO at each L-BFGS iteration of each path. A failed or
    diverged fit (NaN or infinite log density) has all-NaN draws and its reason."""
    from .engine.pathfinder import run_pathfinder

    fit = run_pathfinder(problem.fn, problem.arrays, draws=options["draws"], sites=sites,
                         programs=programs,
                         **{k: options[k] for k in PATHFINDER_KEYS if k in options})
    if fit.samples:
        draws = flatten(fit.samples, sites)
    else:  # no draw at all: NaN rows, as a diverged NUTS fit has
        draws = flatten({k: np.full((options["draws"],) + s, np.nan) for k, s in sites.items()},
                        sites)
    paths, points = fit.elbo.shape
    ran = np.arange(points)[None, :] <= np.asarray(fit.iterations)[:, None]  # start included
    elbo = np.where(np.isfinite(fit.elbo), fit.elbo, np.nan)
    trace = pd.DataFrame({"path": np.repeat(np.arange(paths), points)[ran.ravel()],
                          "iteration": np.tile(np.arange(points), paths)[ran.ravel()],
                          "elbo": elbo.ravel()[ran.ravel()]})
    finite = [b for b in fit.best_elbo if b is not None]
    best = max(finite) if finite and fit.status == "ok" else None
    extra = {"status": fit.status, "reason": fit.reason, "steps_run": int(max(fit.iterations)),
             "num_paths": paths, "iterations": fit.iterations, "best_elbo": fit.best_elbo,
             "paths_failed": fit.extra.get("paths_failed"),
             "gradient_evaluations": fit.gradient_evaluations, "seconds": fit.seconds,
             "seeds": {"fit": options["seed"]},
             "psis": {"khat": fit.khat if fit.status == "ok" else None,
                      "particles": paths * options.get("draws_per_path", 0) if paths > 1
                      else options["draws"],
                      "method": "pathfinder importance weights (log p - log q)",
                      "error": fit.reason},
             "final_loss": None if best is None else -best, "final_elbo": best}
    return draws, trace, extra


def svi_kwargs(options: dict) -> dict:
    """``run_svi`` keyword arguments from a method's resolved options."""
    keys = ("max_steps", "lr", "particles", "chunk", "seed", "elbo", "convergence",
            "stop_at_convergence")
    return {k: options[k] for k in keys if k in options}


def run_svi_fits(m, problem: Problem, options: list[dict], sites: dict, init_from=None):
    """Each seed's ``(draws, trace, extra)`` of an SVI method: the seeds fitted together
    (``run_svi_seeds``), then each seed's draws and PSIS k-hat from the one set-up guide
    at its own params. ``extra["guide_params"]``: the flat params for ``params.npz``."""
    from .engine.svi import run_svi_seeds
    from .runtime import step_program_options

    first = {k: v for k, v in options[0].items() if k != "seed"}
    for o in options[1:]:
        if {k: v for k, v in o.items() if k != "seed"} != first:
            raise ValueError("a batch's fits must differ only in their seed")
    fit_seeds = [int(o["seed"]) for o in options]
    opts = options[0]
    model_fn, arrays = problem.fn, problem.arrays
    guide = m.build(model_fn, **opts.get("guide", {}))
    init_params, warm = None, None
    if init_from is not None:
        from .warm import warm_init_params

        if len(fit_seeds) > 1:
            raise ValueError("a warm start is one fit")
        init_params, report = warm_init_params(
            model_fn, guide, arrays, io.read_npz(init_from), fit_seeds[0])
        warm = {"from": str(init_from), **report}
    kwargs = {k: v for k, v in svi_kwargs(opts).items() if k != "seed"}
    budget = svi_budget_gradients(opts)
    step_options = step_program_options(m.heavy_steps, budget)
    if step_options:
        log.info("%s: step program compiled with %s (%s)", m.name, step_options,
                 "heavy steps" if m.heavy_steps else f"a budget of {budget} gradient evaluations")
    fits = run_svi_seeds(model_fn, guide, arrays, seeds=fit_seeds, init_params=init_params,
                         batch=opts.get("seed_batch", "auto"),
                         step_compiler_options=step_options,
                         **kwargs)
    return [svi_fit_result(m, problem, guide, fit, o, sites, warm)
            for fit, o in zip(fits, options)]


def svi_fit_result(m, problem: Problem, guide, fit, options: dict, sites: dict, warm=None):
    """One seed's ``(draws, trace, extra)`` from its ``SVIFit``."""
    model_fn, arrays = problem.fn, problem.arrays
    draws_seed = seeds.draws(options["seed"])
    draws = guide_draws(model_fn, guide, fit.params, arrays, options["draws"], draws_seed, sites)
    trace = pd.DataFrame({"step": np.arange(1, fit.steps_run + 1, dtype=np.int64),
                          "loss": fit.losses.astype(np.float64)})
    fl = None if m.map_objective else final_loss(fit.losses)
    status = fit.status
    if status == "ok" and not np.all(np.isfinite(draws.to_numpy())):
        status = "diverged"
    if status != "ok":
        # A diverged fit has no final ELBO: missing, never a number from its blow-up.
        fl = None
    extra = {"status": status, "steps_run": fit.steps_run, "diverged_at": fit.diverged_at,
             "converged_at": fit.converged_at, "convergence_floor": fit.convergence_floor,
             "stopped_with_trend": fit.trend_left, "final_slope_per_100": fit.final_slope_per_100,
             "warm_start": warm,
             "seconds": fit.seconds, "seeds": {"fit": options["seed"], "draws": draws_seed},
             "final_loss": fl, "final_elbo": None if fl is None else -fl,
             "guide_params": flatten_params(fit.params)}
    if "batch_seeds" in fit.extra:  # fitted beside these seeds, one program
        extra["batch_seeds"] = fit.extra["batch_seeds"]
    extra["gradient_evaluations"] = fit.steps_run * svi_gradients_per_step(options)
    if m.map_objective:
        extra["final_map_loss"] = final_loss(fit.losses)  # -log joint at the MAP, not an ELBO
    if status == "ok":  # PSIS k-hat needs the built guide: computed here, scored by evaluate
        from .engine.psis import psis_khat

        extra["psis"] = psis_khat(model_fn, guide, fit.params, arrays, seeds.psis(options["seed"]))
    return draws, trace, extra
