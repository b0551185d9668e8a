"""Scores of a set of draws against a reference posterior (DESIGN.md, "Metrics").

Pure NumPy (SciPy's special functions) on tables of draws; imports neither JAX nor Snakemake (NumPyro's
ESS and R-hat, which import JAX, are loaded only by the MCMC diagnostics).

Everything is computed in *reference-standardised coordinates*: each latent is
centred by the reference mean and divided by the reference sd. A metric of a fit is
computed against one half of the reference (``A``); its **noise floor** is the same
metric between the other half (``B``) and ``A``, at the same number of draws, so a
value at the floor means "as close as an independent reference sample gets".

- ``mean_err``: max over latents of |mean_q - mean_A| / sd_ref;
- ``sd_ratio``: (min, max) over latents of sd_q / sd_A;
- ``swd``: sliced 1-Wasserstein distance, the mean over ``projections`` fixed random
  unit directions (seeded) of the 1-D Wasserstein distance of the projections;
- ``energy``: energy distance 2E|X-Y| - E|X-X'| - E|Y-Y'| (unbiased U-statistics for
  the within-sample terms, so it can be slightly negative), on ``energy_draws``
  evenly thinned draws of each sample.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

THRESHOLDS = {"mean_err": 0.2, "sd_ratio": [0.8, 1.2], "khat": 0.7}
METRIC_NAMES = ("mean_err", "sd_ratio", "swd", "energy")


# --------------------------------------------------------------------------- helpers

def thin(x: np.ndarray, n: int) -> np.ndarray:
    """``n`` evenly spaced rows of ``x`` (all of them if it has at most ``n``).

    Evenly spaced rather than the first ``n`` so that chain-major MCMC draws keep
    every chain."""
    if len(x) <= n:
        return x
    idx = np.round(np.linspace(0, len(x) - 1, n)).astype(np.int64)
    return x[idx]


def as_array(draws, columns) -> np.ndarray:
    """(n, d) float64 array of ``columns`` of a DataFrame (or pass an array through)."""
    if isinstance(draws, pd.DataFrame):
        return draws[list(columns)].to_numpy(dtype=np.float64)
    arr = np.asarray(draws, dtype=np.float64)
    return arr.reshape(len(arr), -1)


def standardiser(reference: np.ndarray):
    """``(mean, sd)`` of each column of the reference; a constant column gets sd 1."""
    mean = reference.mean(axis=0)
    sd = reference.std(axis=0, ddof=1)
    sd = np.where(sd > 0, sd, 1.0)
    return mean, sd


def directions(dim: int, n: int, seed: int) -> np.ndarray:
    """(n, dim) unit vectors uniform on the sphere, fixed by ``seed``."""
    rng = np.random.default_rng(seed)
    v = rng.normal(size=(n, dim))
    return v / np.linalg.norm(v, axis=1, keepdims=True)


# --------------------------------------------------------------------------- metrics
# Each takes two (n, d) arrays already in reference-standardised coordinates.

def mean_err(q: np.ndarray, a: np.ndarray) -> float:
    return float(np.max(np.abs(q.mean(axis=0) - a.mean(axis=0))))


def sd_ratio(q: np.ndarray, a: np.ndarray) -> list[float]:
    r = q.std(axis=0, ddof=1) / a.std(axis=0, ddof=1)
    return [float(r.min()), float(r.max())]


def wasserstein_1d(u: np.ndarray, v: np.ndarray) -> float:
    """Exact 1-Wasserstein distance of two 1-D samples."""
    if len(u) == len(v):  # equal sizes: the mean gap between order statistics
        return float(np.mean(np.abs(np.sort(u) - np.sort(v))))
    from scipy.stats import wasserstein_distance

    return float(wasserstein_distance(u, v))


def swd(q: np.ndarray, a: np.ndarray, projections: int = 128, seed: int = 0) -> float:
    """Sliced 1-Wasserstein distance (one direction, exact, in one dimension)."""
    d = q.shape[1]
    if d == 1:
        return wasserstein_1d(q[:, 0], a[:, 0])
    dirs = directions(d, projections, seed)
    pq, pa = q @ dirs.T, a @ dirs.T
    if len(pq) == len(pa):
        return float(np.mean(np.abs(np.sort(pq, axis=0) - np.sort(pa, axis=0))))
    return float(np.mean([wasserstein_1d(pq[:, k], pa[:, k]) for k in range(projections)]))


def pairwise_distances(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Euclidean distances of every row of ``x`` to every row of ``y`` (n, m)."""
    sq = (x * x).sum(1)[:, None] + (y * y).sum(1)[None, :] - 2.0 * (x @ y.T)
    return np.sqrt(np.maximum(sq, 0.0))


def energy(q: np.ndarray, a: np.ndarray, draws: int = 1000) -> float:
    """Energy distance (squared form) with U-statistics for the within terms."""
    x, y = thin(q, draws), thin(a, draws)
    n, m = len(x), len(y)
    xy = pairwise_distances(x, y).mean()
    xx = pairwise_distances(x, x).sum() / (n * (n - 1))
    yy = pairwise_distances(y, y).sum() / (m * (m - 1))
    return float(2 * xy - xx - yy)


def compare(q: np.ndarray, a: np.ndarray, *, projections: int = 128, seed: int = 0,
            energy_draws: int = 1000) -> dict:
    """All four metrics of ``q`` against ``a`` (both standardised, same columns)."""
    return {"mean_err": mean_err(q, a), "sd_ratio": sd_ratio(q, a),
            "swd": swd(q, a, projections, seed), "energy": energy(q, a, energy_draws)}


# --------------------------------------------------------------------------- the score

def reference_halves(reference: np.ndarray, chains: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Split reference draws into two halves ``(A, B)``.

    Chain-major MCMC draws with an even number (>= 2) of chains are split by chains
    (the first half of the chains against the second), so the floor includes the
    chains' autocorrelation; independent draws (``chains == 1``) are split in the
    middle."""
    n = len(reference)
    if chains >= 2 and chains % 2 == 0 and n % chains == 0:
        half = (chains // 2) * (n // chains)
    else:
        half = n // 2
    return reference[:half], reference[half:]


def score(fit_draws, reference_draws, *, columns=None, chains: int = 1,
          projections: int = 128, seed: int = 0, energy_draws: int = 1000) -> dict:
    """Each metric of the fit with its noise floor.

    Returns ``{metric: {"value": ..., "floor": ...}, "draws_compared": m}``; the fit
    (``m`` evenly thinned draws) and half ``B`` are both compared with ``m`` draws
    of half ``A``, where ``m`` is the smallest of the three sizes."""
    columns = list(columns if columns is not None else reference_draws.columns)
    ref = as_array(reference_draws, columns)
    q = as_array(fit_draws, columns)
    mean, sd = standardiser(ref)
    ref, q = (ref - mean) / sd, (q - mean) / sd
    a, b = reference_halves(ref, chains)
    m = min(len(q), len(a), len(b))
    q, a, b = thin(q, m), thin(a, m), thin(b, m)
    kw = {"projections": projections, "seed": seed, "energy_draws": energy_draws}
    value, floor = compare(q, a, **kw), compare(b, a, **kw)
    out = {k: {"value": value[k], "floor": floor[k]} for k in METRIC_NAMES}
    out["draws_compared"] = int(m)
    return out


def mode_mass(fit_labels: np.ndarray, reference_labels: np.ndarray, names) -> dict:
    """Share of draws in each mode, the fit's beside the reference's.

    A mode is *missing* when the fit puts less than a tenth of the reference's share
    in it (modes holding under 5% of the reference are not counted)."""
    k = len(names)
    fit = np.bincount(np.asarray(fit_labels, dtype=np.int64), minlength=k)[:k] / max(len(fit_labels), 1)
    ref = np.bincount(np.asarray(reference_labels, dtype=np.int64), minlength=k)[:k] / max(len(reference_labels), 1)
    missing = [str(n) for n, f, r in zip(names, fit, ref) if r >= 0.05 and f < 0.1 * r]
    return {"modes": [str(n) for n in names], "fit": fit.tolist(), "reference": ref.tolist(),
            "missing": missing}


# --------------------------------------------------------------------------- MCMC
# Rank-normalised split R-hat, bulk and tail ESS (Vehtari et al. 2021), built on
# NumPyro's effective_sample_size and split_gelman_rubin.

def _split(x: np.ndarray) -> np.ndarray:
    """(chains, draws) -> (2 chains, draws // 2): each chain cut in two halves."""
    half = x.shape[1] // 2
    return np.concatenate([x[:, :half], x[:, -half:]], axis=0)


def rankdata(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n of the pooled values, ties given their average rank (shape kept)."""
    _, inverse, counts = np.unique(x.ravel(), return_inverse=True, return_counts=True)
    average = np.cumsum(counts) - (counts - 1) / 2.0
    return average[inverse].reshape(x.shape)


def rank_normalise(x: np.ndarray) -> np.ndarray:
    """Normal scores of the pooled ranks (fractional offset 3/8, Blom)."""
    from scipy.special import ndtri

    return ndtri((rankdata(x) - 0.375) / (x.size + 0.25))


def _ess(x: np.ndarray) -> float:
    from numpyro.diagnostics import effective_sample_size

    if np.ptp(x) == 0:
        return float("nan")
    return float(effective_sample_size(x))


def ess_bulk(x: np.ndarray) -> float:
    """Bulk ESS of one latent, ``x`` of shape (chains, draws)."""
    return _ess(rank_normalise(_split(np.asarray(x, dtype=np.float64))))


def ess_tail(x: np.ndarray) -> float:
    """Tail ESS: the smaller ESS of the 5% and 95% quantile indicators."""
    x = _split(np.asarray(x, dtype=np.float64))
    lo, hi = np.quantile(x, [0.05, 0.95])
    return float(np.nanmin([_ess((x <= lo).astype(np.float64)), _ess((x >= hi).astype(np.float64))]))


def rhat(x: np.ndarray) -> float:
    """Rank-normalised split R-hat: the larger of the bulk and the folded one."""
    from numpyro.diagnostics import split_gelman_rubin

    x = np.asarray(x, dtype=np.float64)
    if x.shape[1] < 4:
        return float("nan")
    bulk = split_gelman_rubin(rank_normalise(x))
    folded = split_gelman_rubin(rank_normalise(np.abs(x - np.median(x))))
    return float(max(bulk, folded))


def by_chain(draws, columns, chains: int) -> dict:
    """Chain-major rows -> ``{column: (chains, draws_per_chain)}``."""
    arr = as_array(draws, columns)
    per = len(arr) // chains
    return {c: arr[: per * chains, i].reshape(chains, per) for i, c in enumerate(columns)}


def mcmc_diagnostics(draws, chains: int, columns=None) -> dict:
    """Per-latent bulk / tail ESS and R-hat of chain-major draws, with their extremes."""
    columns = list(columns if columns is not None else draws.columns)
    per = {}
    for c, x in by_chain(draws, columns, chains).items():
        per[c] = {"ess_bulk": ess_bulk(x), "ess_tail": ess_tail(x),
                  "rhat": rhat(x) if chains >= 2 else None}
    ess_b = [v["ess_bulk"] for v in per.values() if v["ess_bulk"] is not None and math.isfinite(v["ess_bulk"])]
    ess_t = [v["ess_tail"] for v in per.values() if v["ess_tail"] is not None and math.isfinite(v["ess_tail"])]
    rh = [v["rhat"] for v in per.values() if v["rhat"] is not None and math.isfinite(v["rhat"])]
    return {"min_ess_bulk": min(ess_b) if ess_b else None,
            "min_ess_tail": min(ess_t) if ess_t else None,
            "max_rhat": max(rh) if rh else None, "per_latent": per}


# --------------------------------------------------------------------------- verdict

# The accuracy checks, in the order their reasons are given; a reason starts with its
# check's name, so ``flags`` (stored in metrics.json) is the names of the reasons.
CHECKS = ("mean_err", "sd_ratio", "khat", "mode")
COLLAPSED = 0.05  # an sd_ratio below this is a collapsed fit, not merely a narrow one


def _num(x) -> str:
    return f"{x:.3g}"


def judge(metrics: dict, thresholds: dict | None = None) -> list[str]:
    """The reasons a fit fails, e.g. ``"mean_err 0.41 > 0.2"``, ``"sd_ratio 0.03 < 0.8
    (collapsed)"``, ``"khat 0.91 > 0.7"``, ``"mode missing: b"``; empty when it passes.

    This is the one place that decides "beyond the threshold": the evaluation's flags,
    the ranking's marks (on the medians over seeds and on each seed) and the scaling
    table all ask it. ``metrics`` has the layout of metrics.json; a key that is absent
    or null (a metric the method cannot have) is not judged. A fit that did not finish
    (``status`` other than ``ok``) fails for that reason alone: its metrics are null.
    Thresholds not given take ``THRESHOLDS``."""
    t = {**THRESHOLDS, **(thresholds or {})}
    status = metrics.get("status", "ok")
    if status != "ok":
        return [str(status)]
    out = []
    me = (metrics.get("mean_err") or {}).get("value")
    if me is not None and me > t["mean_err"]:
        out.append(f"mean_err {_num(me)} > {_num(t['mean_err'])}")
    sr = (metrics.get("sd_ratio") or {}).get("value")
    if sr is not None:
        lo, hi = t["sd_ratio"]
        beyond = []
        if sr[0] < lo:
            beyond.append(f"{_num(sr[0])} < {_num(lo)}" + (" (collapsed)" if sr[0] < COLLAPSED else ""))
        if sr[1] > hi:
            beyond.append(f"{_num(sr[1])} > {_num(hi)}")
        if beyond:
            out.append("sd_ratio " + ", ".join(beyond))
    kh = metrics.get("khat")
    if kh is not None and kh > t["khat"]:
        out.append(f"khat {_num(kh)} > {_num(t['khat'])}")
    mm = metrics.get("mode_mass")
    if mm and mm.get("missing"):
        out.append("mode missing: " + ", ".join(map(str, mm["missing"])))
    return out


def failed_checks(reasons: list[str]) -> list[str]:
    """The names (``CHECKS``) of the accuracy checks among ``judge``'s reasons."""
    names = [r.split(" ", 1)[0] for r in reasons]
    return [n for n in names if n in CHECKS]


def flags(metrics: dict, thresholds: dict | None = None) -> list[str]:
    """Names of the accuracy checks a fit fails (metrics.json's ``flags``)."""
    return failed_checks(judge(metrics, thresholds))


def accurate(metrics: dict, thresholds: dict | None = None) -> bool:
    """Mean and sd within the thresholds (the scaling study's time-to-accuracy test)."""
    if metrics.get("mean_err") is None:
        return False
    return not {"mean_err", "sd_ratio"} & set(flags(metrics, thresholds))
