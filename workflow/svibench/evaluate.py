"""One fit scored against its reference: the ``evaluate`` job.

Writes ``metrics.json`` next to the fit's ``fit.json``, scoring the fit's draws and its
posterior predictive ``mocks.parquet`` (drawn by the fit job, ``svibench.fitting``).
It never imports JAX (a NUTS fit's ESS and R-hat are ArviZ's). Keys of ``metrics.json``:

- ``model, dataset, method, kind, status, seed``; ``reference``: its kind, whether
  it meets the standard, its problems;
- ``mean_err``, ``sd_ratio``, ``swd``, ``energy``: ``{"value", "floor",
  "floor_median", "floor_band"}`` (see ``svibench.metrics``: the floor of one split,
  and the median and 95 % band over ``floor_splits`` random half-splits of
  ``floor_draws`` draws), ``draws_compared``;
- ``khat`` (SVI: PSIS k-hat, computed in the fit job: ``{median, low, high, values}``
  over its particle sets, or one number where there was one set), ``khat_info``
  (``particles`` a set, ``sets``, the
  sample-size ``threshold``, what it is ``of``: AutoDAIS's is of its augmented
  sampler), ``mode_mass`` (models with modes: shares with their binomial ``se``; NUTS:
  each chain's shares and whether the chains sit in ``separated`` modes), ``mcmc``
  (NUTS: chains, min bulk / tail ESS, max R-hat, divergences, seconds per effective
  draw), ``predictive`` (share of observed points inside the 90% and 50% predictive
  intervals, beside the reference's);
- ``flags``: the checks the fit fails (``metrics.judge``; k-hat is not one);
  ``notes``: diagnostics beyond their threshold (k-hat); ``collapsed``: some sd_ratio
  below 0.05; ``cost``: seconds and steps, ``converged_at``, ``final_elbo`` and
  ``stopped_with_trend`` (fit.json's; for the report's table of diagnostics,
  ``svibench.trust``).

A fit that did not finish (``status`` not ``ok``) or has non-finite draws gets every
metric ``null`` — never a number.
"""

from __future__ import annotations

import logging
import time

import pandas as pd

from . import config, io
from . import metrics as M
from .methods import METHODS
from .models import Model, get_model
from .status import usable

log = logging.getLogger("svibench.evaluate")

NULL_METRICS = {"mean_err": None, "sd_ratio": None, "swd": None, "energy": None,
                "draws_compared": None, "floor_splits": None, "floor_draws": None,
                "khat": None, "khat_info": None, "mode_mass": None, "mcmc": None,
                "predictive": None, "port_check": None}


def cost(fit: dict) -> dict:
    sec = fit.get("seconds") or {}
    return {"seconds": sec.get("total"), "compile": sec.get("compile"), "run": sec.get("run"),
            "job": sec.get("job"), "steps": fit.get("steps_run"),
            "converged_at": fit.get("converged_at"), "final_elbo": fit.get("final_elbo"),
            "stopped_with_trend": fit.get("stopped_with_trend")}


def mcmc_summary(draws: pd.DataFrame, fit: dict) -> dict:
    chains = int(fit.get("chains") or 1)
    diag = M.mcmc_diagnostics(draws, chains)
    seconds = (fit.get("seconds") or {}).get("total")
    ess = diag["min_ess_bulk"]
    return {"chains": chains, "min_ess_bulk": ess, "min_ess_tail": diag["min_ess_tail"],
            "max_rhat": diag["max_rhat"],
            "divergences": (fit.get("diagnostics") or {}).get("divergences"),
            "seconds_per_effective_draw": seconds / ess if seconds and ess else None}


def khat_value(psis: dict):
    """metrics.json's ``khat`` from fit.json's ``psis``: ``{median, low, high, values}``
    over the particle sets (``khat_sets``, ``khat_spread``), or the one number of a fit
    with a single set (Pathfinder, older fits); None without one."""
    med, sets = psis.get("khat"), psis.get("khat_sets")
    if med is None or not sets:
        return med
    low, high = psis.get("khat_spread") or [min(v for v in sets if v is not None),
                                             max(v for v in sets if v is not None)]
    return {"median": med, "low": low, "high": high,
            "values": [v for v in sets if v is not None]}


def khat_info(fit: dict, thresholds: dict) -> dict:
    """How the fit job computed k-hat: particles (a set's), the number of particle sets
    (1 for Pathfinder's and older fits), the sample-size threshold for a set, what it is
    of, any error."""
    psis = fit.get("psis") or {}
    particles = psis.get("particles")
    sets = psis.get("sets") or (1 if psis.get("khat") is not None else None)
    return {"particles": particles, "sets": sets,
            "threshold": M.khat_threshold(particles, thresholds["khat"]),
            "method": psis.get("method"), "of": METHODS[fit["method"]].khat_of if fit["method"] in METHODS else "the guide",
            "error": psis.get("error")}


def reference_ess(ref_info: dict) -> float | None:
    """A NUTS reference's (or given draws') min bulk ESS (its floor's draws are thinned
    to it)."""
    if ref_info.get("kind") not in ("nuts", "given"):
        return None
    return (ref_info.get("diagnostics") or {}).get("min_ess_bulk")


def reference_floor(reference_files: dict, settings: dict, sizes, out: dict) -> dict:
    """The ``floor`` job: the noise floor's band of one reference (``floor.json``,
    ``metrics.floor_table``), for fits of ``sizes`` draws, so that each evaluate job
    reads it instead of recomputing it. ``reference_files``: ``draws``, ``json``;
    ``out``: ``floor``."""
    t0 = time.perf_counter()
    settings = {**config.defaults("metrics"), **(settings or {})}
    ref_info = io.read_json(reference_files["json"])
    ref = io.read_parquet(reference_files["draws"])
    table = M.floor_table(ref, sizes, columns=list(ref.columns),
                          chains=int(ref_info.get("chains") or 1),
                          projections=settings["projections"], seed=settings["seed"],
                          energy_draws=settings["energy_draws"],
                          floor_splits=settings["floor_splits"], ess=reference_ess(ref_info))
    io.write_json(out["floor"], table)
    log.info("floor of %s/%s: draws per half %s, %.1f s", ref_info.get("model"),
             ref_info.get("dataset"), sorted(table["floors"], key=int),
             time.perf_counter() - t0)
    return table


def evaluate_fit(fit_files: dict, reference_files: dict, data_csv, data_json, settings: dict,
                 out: dict, dataset: str | None = None) -> dict:
    """``fit_files``: ``draws``, ``fit``, ``mocks`` (optional); ``reference_files``:
    ``draws``, ``json``, ``mocks``, ``floor`` (optional: the reference's floor bands,
    ``reference_floor``; computed here where missing); ``out``: ``metrics``.
    ``dataset``: the name recorded (a warm-start fit's ``{from}-to-{to}``); the fit's
    own by default."""
    t0 = time.perf_counter()
    defaults = config.defaults("metrics")
    settings = {**defaults, **(settings or {})}
    thresholds = {**defaults["thresholds"], **settings["thresholds"]}
    fit = io.read_json(fit_files["fit"])
    draws = io.read_parquet(fit_files["draws"])
    ref_info = io.read_json(reference_files["json"])
    model = fit["model"]
    mod = get_model(model)
    result = {"model": model, "dataset": dataset or fit["dataset"], "method": fit["method"],
              "kind": fit["kind"], "status": fit["status"],
              "seed": (fit.get("seeds") or {}).get("fit"),
              "reference": {"kind": ref_info["kind"], "meets_standard": ref_info["meets_standard"],
                            "problems": ref_info.get("problems", []),
                            "dataset": ref_info["dataset"]},
              **NULL_METRICS, "flags": [], "notes": [], "collapsed": None, "cost": cost(fit)}
    if not usable(draws, fit):
        result["status"] = fit["status"] if fit["status"] != "ok" else "non-finite draws"
        log.warning("%s: status %s, metrics left null", fit["method"], result["status"])
    else:
        ref = io.read_parquet(reference_files["draws"])
        floors = io.read_json(reference_files["floor"]) if reference_files.get("floor") else None
        result.update(M.score(draws, ref, columns=list(ref.columns),
                              chains=int(ref_info.get("chains") or 1),
                              projections=settings["projections"], seed=settings["seed"],
                              energy_draws=settings["energy_draws"],
                              floor_splits=settings["floor_splits"], ess=reference_ess(ref_info),
                              floors=floors))
        if fit["kind"] != "nuts":  # SVI and Pathfinder: PSIS k-hat of the approximation
            result["khat"] = khat_value(fit.get("psis") or {})
            result["khat_info"] = khat_info(fit, thresholds)
        else:
            result["mcmc"] = mcmc_summary(draws, fit)
            if ref_info["kind"] == "posteriordb":  # is the port right? (svibench.portcheck)
                result["port_check"] = port_check(draws, int(fit.get("chains") or 1), ref,
                                                  int(ref_info["chains"]))
                # A NUTS run that fails its own diagnostics cannot judge the port.
                result["port_check"]["inconclusive"] = M.judge({"mcmc": result["mcmc"]},
                                                               thresholds)
        if mod.modes is not None:
            nuts = result["mcmc"] or {}
            result["mode_mass"] = M.mode_mass(mod.mode_labels(draws), mod.mode_labels(ref),
                                              mod.modes, chains=int(nuts.get("chains") or 1),
                                              n_eff=nuts.get("min_ess_bulk"))
        if mod.has_observations and settings["predictive_draws"] > 0 and fit_files.get("mocks"):
            result["predictive"] = predictive_check(
                mod, data_csv, io.read_parquet(fit_files["mocks"]), reference_files.get("mocks"))
        result["flags"] = M.flags(result, thresholds)
        result["notes"] = [n for n in [M.khat_note(result, thresholds)] if n]
        result["collapsed"] = M.collapsed(result)
        result["accurate"] = M.accurate(result, thresholds)
    result["seconds"] = time.perf_counter() - t0
    io.write_json(out["metrics"], result)
    log.info("%s on %s/%s: mean_err %s, flags %s", fit["method"], model, result["dataset"],
             (result["mean_err"] or {}).get("value"), result["flags"])
    return result


def port_check(draws: pd.DataFrame, chains: int, reference: pd.DataFrame,
               reference_chains: int) -> dict:
    """Our NUTS draws (chain-major, ``chains``) against a published reference: every
    quantity's mean within ``portcheck.Z`` combined MCSEs and sd within ``SD_TOL``
    (``portcheck.summarise``: max |mean z|, sd ratio range, ok, failed quantities)."""
    from .portcheck import agreement, summarise

    return summarise(agreement(draws, chains, reference, reference_chains))


def predictive_check(model: Model, data_csv, mock: pd.DataFrame, reference_mocks) -> dict | None:
    """The ``predictive`` entry: the fit's mocks against the observations in
    ``data_csv`` (and the reference's mocks); None when the fit job drew none."""
    from .predictive import observed_in_csv, summary

    if mock.empty:
        return None
    ref = io.read_parquet(reference_mocks) if reference_mocks else None
    return summary(mock, observed_in_csv(model, data_csv), ref)
