"""Reference posteriors: exact draws where the posterior is known, long-run NUTS otherwise.

One job per (model, dataset) writes ``results/reference/{model}/{dataset}/``:

- ``draws.parquet``: one column per scalar latent (as a fit's draws); MCMC rows are
  chain-major;
- ``reference.json``: ``kind`` (``exact`` | ``grid`` | ``nuts`` | ``posteriordb`` | ``given``), ``settings``,
  ``diagnostics``, ``meets_standard`` and the ``problems`` that break it;
- ``mocks.parquet``: posterior predictive mock datasets (data-driven models; empty
  otherwise);
- ``posterior.nc`` (where ``out`` names ``idata``): all of them as ArviZ InferenceData
  (``svibench.inference_data``; NUTS: with its ``sample_stats``).

Kinds:

- ``exact``: the model's ``exact_posterior`` sampler (a Beta posterior, a Gaussian),
  ``exact_draws`` independent draws;
- ``grid``: the model's ``exact_posterior`` as inverse-CDF draws on a ``grid_cells``
  x ``grid_cells`` grid over the prior box ``static["box"]`` (the 2-D multimodal
  density: cell width 40 / cells; 1024 cells: 0.039, an eighth of its narrowest
  scale s1 = 0.5 in the rotated frame);
- ``nuts``: ``chains`` NUTS chains in rounds of ``draws_per_chain`` until the
  posteriordb standard is met — split R-hat < ``max_rhat``, bulk and tail ESS >=
  ``target_ess`` for every latent, no divergences, at least 4 chains — or
  ``max_rounds`` rounds ran. A model may run its reference on a reparameterised
  model of the same posterior (``Model.reference_model``, e.g. non-centred). A reference
  that misses the standard is written with ``meets_standard: false`` and its
  problems, and the report says so beside every metric computed from it.
- ``given``: draws the user gave with a dataset of their own model
  (``reference_draws``; ``svibench.usermodel``), in our flat names, with our
  diagnostics of them;
- ``posteriordb``: the model's ``published_reference``, the draws as published
  (posteriordb: 10 Stan NUTS chains x 1000, chain-major), with the checks they
  passed there (``published``) and our own diagnostics of them; it meets the
  standard when every published check passed and ours (``check_standard``) agree.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import pandas as pd

from . import config, io, seeds
from .data import Problem, load_problem
from .engine.draws import flatten, latent_sites, flat_names
from .models import Model
from .provenance import versions

log = logging.getLogger("svibench.reference")

MIN_CHAINS = 4


def exact_reference(problem: Problem, settings: dict, columns) -> tuple:
    static = problem.static
    kind = problem.model.reference_kind
    kw = {"cells": int(settings["grid_cells"])} if kind == "grid" else {}
    sampler = problem.model.exact_posterior(problem.arrays, static, **kw)
    n = int(settings["exact_draws"])
    draws = sampler(np.random.default_rng(settings["seed"]), n)[list(columns)]
    used = {"seed": settings["seed"], "draws": n}
    if kind == "grid":
        box = float(static["box"])
        cells = int(settings["grid_cells"])
        used["grid"] = {"cells": cells, "box": [-box, box], "cell_width": 2 * box / cells,
                        "rule": "cell mass by the midpoint rule, uniform within the cell"}
    info = {"kind": kind, "chains": 1, "draws_per_chain": n, "settings": used,
            "diagnostics": {"independent_draws": n}, "meets_standard": True, "problems": []}
    return draws, info


def check_standard(diag: dict, chains: int, settings: dict) -> list[str]:
    """The ways a long-run MCMC reference misses the standard (empty: it meets it)."""
    problems = []
    if chains < MIN_CHAINS:
        problems.append(f"{chains} chains (< {MIN_CHAINS})")
    if diag["max_rhat"] is None or diag["max_rhat"] >= settings["max_rhat"]:
        rh = diag["max_rhat"]
        problems.append(f"max split R-hat {rh if rh is None else round(rh, 4)} (>= {settings['max_rhat']})")
    for key, name in (("min_ess_bulk", "bulk"), ("min_ess_tail", "tail")):
        if diag[key] is None or diag[key] < settings["target_ess"]:
            problems.append(f"min {name} ESS {diag[key] if diag[key] is None else round(diag[key])} "
                            f"(< {settings['target_ess']})")
    if diag["divergences"]:
        problems.append(f"{diag['divergences']} divergences")
    return problems


def nuts_reference(problem: Problem, settings: dict, sites: dict) -> tuple:
    """Long multi-chain NUTS in rounds until the standard is met (or max_rounds)."""
    import jax

    from .engine.nuts import run_nuts
    from .metrics import mcmc_diagnostics

    arrays, fn = problem.arrays, problem.fn
    target = problem.model.reference_model(fn)
    reparam = target is not fn
    chains = int(settings["chains"])
    # never "vectorized" (as the fits on one GPU): the references stay those of earlier runs
    method = "parallel" if jax.local_device_count() >= chains else "sequential"
    last = {"round": 0}  # the draws, diagnostics and problems after the last round

    def enough(samples: dict, divergences: int) -> bool:
        per_chain = samples[next(iter(sites))].shape[1]
        flat = {k: samples[k].reshape((chains * per_chain,) + samples[k].shape[2:]) for k in sites}
        draws = flatten(flat, sites)
        diag = mcmc_diagnostics(draws, chains)
        diag["divergences"] = divergences
        problems = check_standard(diag, chains, settings)
        last.update(round=last["round"] + 1, draws=draws, diag=diag, problems=problems)
        log.info("round %d: %d draws per chain, min bulk ESS %.0f, min tail ESS %.0f, "
                 "max R-hat %.4f, %d divergences", last["round"], per_chain,
                 diag["min_ess_bulk"] or 0, diag["min_ess_tail"] or 0,
                 diag["max_rhat"] or float("nan"), divergences)
        # more draws cannot remove divergences: they are reported
        return not [p for p in problems if "divergences" not in p]

    fit = run_nuts(target, arrays, warmup=settings["warmup"],
                   draws=chains * settings["draws_per_chain"], chains=chains,
                   seed=settings["seed"], target_accept=settings["target_accept"],
                   max_tree_depth=settings["max_tree_depth"], dense_mass=settings["dense_mass"],
                   method=method, max_rounds=int(settings["max_rounds"]), enough=enough)
    draws, diag, problems = last["draws"], last["diag"], last["problems"]
    seconds = {"warmup": fit.seconds["warmup"], "total": fit.seconds["total"]}
    used = {k: settings[k] for k in ("seed", "chains", "warmup", "draws_per_chain", "max_rounds",
                                     "target_ess", "max_rhat", "target_accept", "max_tree_depth",
                                     "dense_mass")}
    used.update(rounds=fit.rounds, chain_method=method,
                parameterisation="non-centred (reference_model)" if reparam else "as the model")
    info = {"kind": "nuts", "chains": chains, "draws_per_chain": fit.draws_per_chain, "settings": used,
            "diagnostics": diag, "meets_standard": not problems, "problems": problems,
            "seconds": seconds, "sample_stats": fit.extra}  # popped: for posterior.nc
    return draws, info


def published_reference(problem: Problem, settings: dict) -> tuple:
    """The published draws as the reference (``reference_kind`` ``posteriordb``)."""
    from .metrics import mcmc_diagnostics

    draws, chains, record = problem.model.published_reference()
    diag = mcmc_diagnostics(draws, chains)
    published = record.get("diagnostics") or {}
    diag["divergences"] = int(sum(published.get("divergent_transitions") or [0]))
    checks = record.get("checks_made") or {}
    problems = [f"published check failed: {k}" for k, v in checks.items() if not v]
    if not checks:
        problems.append("no published checks")
    problems += check_standard(diag, chains, settings)
    used = {k: settings[k] for k in ("target_ess", "max_rhat")}
    used.update(source=record.get("source"), posterior=record.get("posterior"),
                inference=record.get("inference"))
    info = {"kind": "posteriordb", "chains": chains, "draws_per_chain": len(draws) // chains,
            "settings": used, "diagnostics": diag,
            "published": {"checks_made": checks, "diagnostics": published},
            "meets_standard": not problems, "problems": problems}
    return draws, info


def given_reference(problem: Problem, settings: dict, sites: dict) -> tuple:
    """Draws the user gave for a dataset of their own model (``reference_draws``), as
    the reference: kind ``given``. Our diagnostics of them are recorded; they meet the
    standard when every latent given has bulk and tail ESS >= ``target_ess`` and, with
    several chains (a ``chain`` column), split R-hat < ``max_rhat`` (any number of
    chains: draws without a ``chain`` column are one)."""
    from .metrics import mcmc_diagnostics
    from .usermodel import read_draws

    path = problem.meta["reference_draws"]
    draws, chains = read_draws(path, sites)
    diag = mcmc_diagnostics(draws, chains)
    diag["divergences"] = 0  # not known: not counted
    # the number of chains is the giver's choice (independent draws are one "chain"),
    # and R-hat needs two
    problems = [p for p in check_standard(diag, chains, settings)
                if not p.startswith(f"{chains} chains") and (chains > 1 or "R-hat" not in p)]
    used = {k: settings[k] for k in ("target_ess", "max_rhat")}
    used.update(source=path, sha256=problem.meta.get("reference_sha256"))
    info = {"kind": "given", "chains": chains, "draws_per_chain": len(draws) // chains,
            "settings": used, "diagnostics": diag, "meets_standard": not problems,
            "problems": problems}
    return draws, info


def build_reference(model: str | Model, dataset: str, data_csv, data_json, settings: dict,
                    out: dict) -> dict:
    """Write ``out["draws"]``, ``out["json"]``, ``out["mocks"]`` and, if ``out`` has it,
    ``out["idata"]`` (``posterior.nc``); return the json.
    ``settings``: the config's ``reference`` section (the schema's defaults for what
    it leaves out)."""
    from .predictive import mocks

    settings = {**config.defaults("reference"), **(settings or {})}
    t0 = time.perf_counter()
    problem = load_problem(model, data_csv, data_json)
    model = problem.model
    sites = latent_sites(problem.fn, problem.arrays)
    columns = [c for name, shape in sites.items() for c in flat_names(name, shape)]
    if problem.meta.get("reference_draws"):  # given with the dataset (your own model)
        draws, info = given_reference(problem, settings, sites)
    elif model.reference_kind == "nuts":
        draws, info = nuts_reference(problem, settings, sites)
    elif model.reference_kind == "posteriordb":
        draws, info = published_reference(problem, settings)
    else:
        draws, info = exact_reference(problem, settings, columns)
    # Given and published draws may leave latents out (posteriordb's gp_pois_regr has
    # f but not f_tilde): the reference, and so posterior.nc, is of the sites they hold.
    sites = {n: s for n, s in sites.items() if flat_names(n, s)[0] in draws.columns}
    stats = info.pop("sample_stats", None)
    if not np.isfinite(draws.to_numpy()).all():
        info["meets_standard"] = False
        info["problems"].append("non-finite draws")
    if model.has_observations and int(settings["predictive_draws"]) > 0:
        mock = mocks(problem, draws, int(settings["predictive_draws"]),
                     seeds.reference_mocks(int(settings["seed"])))
    else:
        mock = pd.DataFrame()
    info = {"model": model.name, "dataset": dataset, **info, "n_draws": len(draws),
            "latents": list(draws.columns), "job_seconds": time.perf_counter() - t0,
            "versions": versions()}
    io.write_parquet(out["draws"], draws)
    io.write_parquet(out["mocks"], mock)
    if "idata" in out:
        from .inference_data import write_problem_idata

        write_problem_idata(out["idata"], problem, draws, sites, chains=int(info["chains"]),
                            mocks=mock, stats=stats, attrs={"dataset": dataset,
                                                            "method": f"reference ({info['kind']})"})
    io.write_json(out["json"], info)
    log.info("reference %s/%s: %s, %d draws, meets standard: %s %s", model.name, dataset,
             info["kind"], len(draws), info["meets_standard"], "; ".join(info["problems"]))
    return info
