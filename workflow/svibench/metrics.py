"""Scores of a set of draws against a reference posterior (DESIGN.md, "Metrics").

Pure NumPy (SciPy's special functions) on tables of draws; imports neither JAX nor
Snakemake (the MCMC diagnostics are ArviZ's, which needs neither).

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

The single floor (one split) is joined by the floor as a distribution: the same
metrics over ``floor_splits`` (>= 20) random half-splits of the reference, seeded,
giving each metric's ``floor_median`` and 95 % ``floor_band`` (for a NUTS reference the
draws are first thinned to its ESS, so the halves are nearly independent draws). The
report's ranking takes two methods as different only when their gap exceeds the band.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

# khat: the cap of k-hat's sample-size threshold (a diagnostic, never a failure);
# rhat, ess_per_chain: NUTS fails at R-hat >= rhat or bulk / tail ESS < ess_per_chain
# times its chains (and at any divergence)
THRESHOLDS = {"mean_err": 0.2, "sd_ratio": [0.8, 1.2], "khat": 0.7, "rhat": 1.01,
              "ess_per_chain": 100}
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


def floor_pool(ref: np.ndarray, ess: float | None) -> np.ndarray:
    """The draws a floor's random halves come from: a NUTS reference thinned evenly to
    its effective sample size ``ess``, any other reference as it is."""
    if ess is not None and math.isfinite(ess) and ess >= 4:
        return thin(ref, int(ess))
    return ref


def floor_size(pool: int, m: int) -> int:
    """Draws a half of a floor split holds: ``m``, at most half the ``pool``."""
    return max(2, min(m, pool // 2))


def floor_distribution(ref: np.ndarray, m: int, *, splits: int = 20, seed: int = 0,
                       ess: float | None = None, projections: int = 128,
                       energy_draws: int = 1000) -> dict:
    """The noise floor as a distribution: every metric between the two halves of
    ``splits`` random half-splits of the (standardised) reference, at ``m`` draws a
    half (fewer when the halves are smaller).

    ``ess``: a NUTS reference's effective sample size: its draws are first thinned
    evenly to ``ess`` rows, about one per autocorrelation time, so the random halves
    hold nearly independent draws (a random split of correlated neighbours would
    understate the noise). Returns ``{"values": {metric: [one per split]}, "draws": n}``
    (``sd_ratio``'s values are ``[min, max]`` pairs). Seeded by ``seed``: the same
    reference and settings give the same floor."""
    ref = floor_pool(ref, ess)
    half = len(ref) // 2
    n = floor_size(len(ref), m)
    rng = np.random.default_rng([int(seed), 20_240_601])
    kw = {"projections": projections, "seed": seed, "energy_draws": energy_draws}
    out: dict[str, list] = {k: [] for k in METRIC_NAMES}
    for _ in range(splits):
        perm = rng.permutation(len(ref))
        a = thin(ref[np.sort(perm[:half])], n)
        b = thin(ref[np.sort(perm[half:2 * half])], n)
        for k, v in compare(b, a, **kw).items():
            out[k].append(v)
    return {"values": out, "draws": int(n)}


def band(values, level: float = 0.95) -> tuple[float, list[float]]:
    """Median and central ``level`` interval of ``values``."""
    v = np.asarray(values, dtype=np.float64)
    q = (1 - level) / 2
    lo, hi = np.quantile(v, [q, 1 - q])
    return float(np.median(v)), [float(lo), float(hi)]


def floor_summary(dist: dict) -> dict:
    """``{metric: {"floor_median", "floor_band"}}`` of ``floor_distribution``'s values:
    ``sd_ratio``'s median is the ``[min, max]`` pair of medians and its band runs from
    the 2.5 % quantile of the min to the 97.5 % quantile of the max."""
    out = {}
    for k, vals in dist["values"].items():
        if k == "sd_ratio":
            arr = np.asarray(vals, dtype=np.float64)
            (mlo, (blo, _)), (mhi, (_, bhi)) = band(arr[:, 0]), band(arr[:, 1])
            out[k] = {"floor_median": [mlo, mhi], "floor_band": [blo, bhi]}
        else:
            med, b = band(vals)
            out[k] = {"floor_median": med, "floor_band": b}
    return out


def standardised(draws, reference: np.ndarray) -> np.ndarray:
    """``draws`` (an array) in the coordinates of ``reference``: centred by its mean,
    divided by its sd."""
    mean, sd = standardiser(reference)
    return (draws - mean) / sd


def floor_settings(columns, chains: int, reference_draws: int, *, projections: int,
                   seed: int, energy_draws: int, floor_splits: int, ess) -> dict:
    """Everything a reference's floor band depends on besides its draws: a stored
    table (``floor_table``) is used only where these are the same."""
    return {"columns": list(columns), "chains": int(chains),
            "reference_draws": int(reference_draws), "projections": int(projections),
            "seed": int(seed), "energy_draws": int(energy_draws),
            "floor_splits": int(floor_splits), "ess": None if ess is None else float(ess)}


def floor_table(reference_draws, sizes, *, columns=None, chains: int = 1,
                projections: int = 128, seed: int = 0, energy_draws: int = 1000,
                floor_splits: int = 20, ess: float | None = None) -> dict:
    """The floor bands of one reference, once for every fit scored against it.

    The band (``floor_median``, ``floor_band``: ``floor_distribution`` over
    ``floor_splits`` random half-splits) depends only on the reference, the settings
    and the draws a half holds, which ``score`` takes from the fit's number of draws.
    ``sizes``: the numbers of draws of the fits. Returns ``{"settings":
    floor_settings(...), "floors": {str(draws a half holds): {metric: {"floor_median",
    "floor_band"}}}}``; ``score(..., floors=table)`` then gives what it computes
    without it, to the last bit."""
    columns = list(columns if columns is not None else reference_draws.columns)
    raw = as_array(reference_draws, columns)
    ref = standardised(raw, raw)
    a, b = reference_halves(ref, chains)
    pool = len(floor_pool(ref, ess))
    floors: dict[str, dict] = {}
    if floor_splits > 0:
        for size in sorted({int(s) for s in sizes}):
            m = min(size, len(a), len(b))
            if str(floor_size(pool, m)) not in floors:
                dist = floor_distribution(ref, m, splits=floor_splits, seed=seed, ess=ess,
                                          projections=projections, energy_draws=energy_draws)
                floors[str(dist["draws"])] = floor_summary(dist)
    settings = floor_settings(columns, chains, len(ref), projections=projections, seed=seed,
                              energy_draws=energy_draws, floor_splits=floor_splits, ess=ess)
    return {"settings": settings, "floors": floors}


def score(fit_draws, reference_draws, *, columns=None, chains: int = 1,
          projections: int = 128, seed: int = 0, energy_draws: int = 1000,
          floor_splits: int = 20, ess: float | None = None, floors: dict | None = None) -> dict:
    """Each metric of the fit with its noise floor.

    Returns ``{metric: {"value", "floor", "floor_median", "floor_band"},
    "draws_compared": m, "floor_splits": n, "floor_draws": k}``; the fit (``m`` evenly
    thinned draws) and half ``B`` are both compared with ``m`` draws of half ``A``,
    where ``m`` is the smallest of the three sizes (``floor``: that one split).
    ``floor_median`` and ``floor_band`` (95 %) come from ``floor_splits`` random
    half-splits of ``k`` draws each (``floor_distribution``; ``ess``: a NUTS
    reference's bulk ESS, to which it is thinned first). ``floor_splits`` 0 skips
    them (``null``). ``floors``: the reference's ``floor_table``; its band is taken
    from there when it was computed with these settings for this many draws, else
    computed here (the same numbers either way)."""
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
    out = {k: {"value": value[k], "floor": floor[k], "floor_median": None, "floor_band": None}
           for k in METRIC_NAMES}
    out["draws_compared"] = int(m)
    out["floor_splits"], out["floor_draws"] = int(floor_splits), None
    if floor_splits > 0:
        n = floor_size(len(floor_pool(ref, ess)), m)
        stored = None
        if floors is not None and floors.get("settings") == floor_settings(
                columns, chains, len(ref), floor_splits=floor_splits, ess=ess, **kw):
            stored = floors.get("floors", {}).get(str(n))
        if stored is None:
            dist = floor_distribution(ref, m, splits=floor_splits, ess=ess, **kw)
            stored = floor_summary(dist)
        for k, v in stored.items():
            out[k].update(v)
        out["floor_draws"] = n
    return out


def mode_shares(labels: np.ndarray, k: int) -> np.ndarray:
    """Share of ``labels`` (indices 0..k-1) in each of ``k`` modes."""
    labels = np.asarray(labels, dtype=np.int64)
    return np.bincount(labels, minlength=k)[:k] / max(len(labels), 1)


SEPARATED = 0.5  # chains whose shares of a mode differ by more than this sit in separate modes


def mode_mass(fit_labels: np.ndarray, reference_labels: np.ndarray, names, *,
              chains: int = 1, n_eff: float | None = None) -> dict:
    """Share of draws in each mode, the fit's beside the reference's.

    A mode is *missing* when the fit puts less than a tenth of the reference's share
    in it (modes holding under 5% of the reference are not counted). ``se``: the
    binomial standard error of each fit share, sqrt(p (1 - p) / n) with ``n`` the
    number of draws, or ``n_eff`` (a NUTS fit's effective sample size) when given.
    ``chains`` >= 2 (chain-major draws): ``by_chain`` holds each chain's shares, and
    ``separated`` is true when, for some counted mode, two chains' shares differ by
    more than ``SEPARATED`` (e.g. one chain entirely in one mode and another entirely
    in the other): the chains did not mix between the modes."""
    k = len(names)
    fit_labels = np.asarray(fit_labels, dtype=np.int64)
    fit = mode_shares(fit_labels, k)
    ref = mode_shares(reference_labels, k)
    missing = [str(n) for n, f, r in zip(names, fit, ref) if r >= 0.05 and f < 0.1 * r]
    n = float(n_eff) if n_eff is not None and math.isfinite(n_eff) and n_eff > 0 else len(fit_labels)
    se = np.sqrt(fit * (1 - fit) / max(n, 1.0))
    out = {"modes": [str(n) for n in names], "fit": fit.tolist(), "se": se.tolist(),
           "reference": ref.tolist(), "missing": missing, "by_chain": None, "separated": False}
    if chains >= 2 and len(fit_labels) >= chains:
        per = len(fit_labels) // chains
        shares = np.array([mode_shares(fit_labels[c * per:(c + 1) * per], k) for c in range(chains)])
        counted = ref >= 0.05
        spread_ = shares.max(axis=0) - shares.min(axis=0)
        out["by_chain"] = shares.tolist()
        out["separated"] = bool((spread_[counted] > SEPARATED).any())
    return out


# --------------------------------------------------------------------------- MCMC
# Rank-normalised split R-hat, bulk and tail ESS (Vehtari et al. 2021): ArviZ's
# (``az.ess``, ``az.rhat``; pure NumPy / SciPy, no JAX). They replaced copies built on
# NumPyro's ``effective_sample_size``; tests/unit/test_arviz_diagnostics.py shows
# where the two agree (to rounding) and why they may not (ArviZ's Geyer sum keeps one
# more autocorrelation and caps ESS at S log10 S for antithetic chains).

def ess_bulk(x: np.ndarray) -> float:
    """Bulk ESS of one latent, ``x`` of shape (chains, draws)."""
    import arviz as az

    return float(az.ess(np.asarray(x, dtype=np.float64), method="bulk"))


def ess_mean(x: np.ndarray) -> float:
    """ESS of the mean of one latent, ``x`` of shape (chains, draws): split chains, no
    rank normalisation (what the Monte Carlo standard error of a mean, sd / sqrt(ESS),
    needs); NaN for a constant ``x``."""
    import arviz as az

    x = np.asarray(x, dtype=np.float64)
    if np.ptp(x) == 0:
        return float("nan")
    return float(az.ess(x, method="mean"))


def ess_tail(x: np.ndarray) -> float:
    """Tail ESS: the smaller ESS of the 5% and 95% quantile indicators."""
    import arviz as az

    return float(az.ess(np.asarray(x, dtype=np.float64), method="tail"))


def rhat(x: np.ndarray) -> float:
    """Rank-normalised split R-hat: the larger of the bulk and the folded one (NaN for
    fewer than 2 chains or 4 draws)."""
    import arviz as az

    x = np.asarray(x, dtype=np.float64)
    if x.shape[0] < 2 or x.shape[1] < 4:
        return float("nan")
    return float(az.rhat(x, method="rank"))


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

# The checks, in the order their reasons are given; a reason starts with its check's
# name, so ``flags`` (stored in metrics.json) is the names of the reasons. ``chains``:
# a NUTS fit whose chains sit in different modes. PSIS k-hat is not among them: it is
# a diagnostic (``khat_note``), never a failure.
CHECKS = ("mean_err", "sd_ratio", "mode", "chains", "rhat", "divergences", "ess_bulk",
          "ess_tail")
COLLAPSED = 0.05  # an sd_ratio below this is a collapsed fit, not merely a narrow one


def _num(x) -> str:
    return f"{x:.3g}"


def collapsed(metrics: dict) -> bool:
    """Some latent's sd_ratio below ``COLLAPSED``: the fit is (nearly) a point mass."""
    sr = (metrics.get("sd_ratio") or {}).get("value")
    return sr is not None and sr[0] is not None and sr[0] < COLLAPSED


def _mcmc_reasons(mc: dict, t: dict) -> list[str]:
    out = []
    rh = mc.get("max_rhat")
    if rh is not None and math.isfinite(rh) and rh >= t["rhat"]:
        out.append(f"rhat {_num(rh)} >= {_num(t['rhat'])}")
    div = mc.get("divergences")
    if div is not None and div > 0:
        out.append(f"divergences {_num(div)} (any divergence fails)")
    chains = int(mc.get("chains") or 1)
    need = t["ess_per_chain"] * chains
    for key, name in (("min_ess_bulk", "ess_bulk"), ("min_ess_tail", "ess_tail")):
        ess = mc.get(key)
        if ess is not None and ess < need:
            out.append(f"{name} {_num(ess)} < {_num(need)} ({_num(t['ess_per_chain'])} per chain "
                       f"x {chains})")
    return out


def judge(metrics: dict, thresholds: dict | None = None) -> list[str]:
    """The reasons a fit fails, e.g. ``"mean_err 0.41 > 0.2"``, ``"sd_ratio 0.03 < 0.8
    (collapsed)"``, ``"mode missing: b"``, ``"chains in separate modes ..."``, ``"rhat
    1.37 >= 1.01"``, ``"divergences 242 ..."``, ``"ess_bulk 9 < 400 ..."``; empty when
    it passes.

    This is the one place that decides "beyond the threshold": the evaluation's flags,
    the ranking's marks (on the medians over seeds and on each seed) and the scaling
    table all ask it (and ``khat_note`` for the k-hat diagnostic). ``metrics`` has the
    layout of metrics.json; a key that is absent or null (a metric the method cannot
    have) is not judged, and since a passed check earns nothing, a missing one gives
    no advantage. NUTS (``mcmc``): R-hat >= ``rhat``, any divergence, bulk or tail ESS
    below ``ess_per_chain`` per chain. A fit that did not finish (``status`` other than
    ``ok``) fails for that reason alone: its metrics are null. Thresholds not given
    take ``THRESHOLDS``."""
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
    mm = metrics.get("mode_mass")
    if mm and mm.get("missing"):
        out.append("mode missing: " + ", ".join(map(str, mm["missing"])))
    if mm and mm.get("separated"):
        shares = mm.get("by_chain")
        detail = ""
        if shares and mm.get("modes"):
            detail = f" (share of {mm['modes'][-1]} by chain: " + ", ".join(
                f"{c[-1]:.2f}" for c in shares) + ")"
        out.append("chains in separate modes" + detail)
    if metrics.get("mcmc"):
        out += _mcmc_reasons(metrics["mcmc"], t)
    return out


def gpd_fit(tail: np.ndarray) -> tuple[float, float]:
    """Shape k and scale sigma of a generalised Pareto fit to sorted positive
    exceedances ``tail`` (n of them): Zhang and Stephens' (2009) empirical Bayes
    estimate with the weak prior of Vehtari et al. (2024, appendix G).

    Over m = 30 + floor(sqrt(n)) candidates b_j = 1/x_n + (1 - sqrt(m/(j - 1/2))) /
    (3 x_q) (x_q the first quartile), each with k_j = mean(log1p(-b_j x)) and profile
    log-likelihood L_j = n (log(-b_j/k_j) - k_j - 1), b is the posterior mean of the b_j
    under weights w_j = 1 / sum_i exp(L_i - L_j) (those under 10 eps dropped); then
    k = mean(log1p(-b x)), sigma = -k/b, and k is shrunk towards 0.5 with prior weight
    10: k <- (n k + 5) / (n + 10). The same operations, in the same order, as ArviZ's
    ``_gpdfit``, so the values are equal to the last bit (tests/unit/test_arviz_diagnostics.py).
    """
    n = len(tail)
    m = 30 + int(n**0.5)
    b = 1 - np.sqrt(m / (np.arange(1, m + 1, dtype=float) - 0.5))
    b /= 3 * tail[int(n / 4 + 0.5) - 1]
    b += 1 / tail[-1]
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        k = np.log1p(-b[:, None] * tail).mean(axis=1)
        profile = n * (np.log(-(b / k)) - k - 1)
        w = 1 / np.exp(profile - profile[:, None]).sum(axis=1)
    keep = w >= 10 * np.finfo(float).eps
    if not np.all(keep):
        w, b = w[keep], b[keep]
    w /= w.sum()
    b_post = np.sum(b * w)
    k_post = np.log1p(-b_post * tail).mean()
    sigma = -k_post / b_post
    return float((n * k_post + 10 * 0.5) / (n + 10)), float(sigma)


def pareto_khat(log_weights) -> float:
    """PSIS k-hat of importance ``log_weights`` (S of them; Vehtari et al. 2024,
    algorithm 1): the generalised Pareto shape of the largest M = ceil(min(S/5,
    3 sqrt(S))) weights' exceedances over the weight just below them (``gpd_fit``);
    ``inf`` when at most 4 weights lie above that cut. k-hat < min(1 - 1/log10(S), 0.7)
    (``khat_threshold``) means importance sampling from the proposal is reliable.
    ArviZ's ``psislw`` k-hat, in NumPy alone (ArviZ's import costs a job ~2.5 s)."""
    x = np.array(log_weights, dtype=np.float64).ravel()
    x -= np.max(x)
    s = x.size
    cut = -int(np.ceil(min(s / 5.0, 3 * s**0.5))) - 1
    cutoff = max(np.sort(x)[cut], np.log(np.finfo(float).tiny))
    tail = np.sort(x[x > cutoff])
    if tail.size <= 4:
        return math.inf
    return gpd_fit(np.exp(tail) - np.exp(cutoff))[0]


def khat_threshold(particles=None, cap: float = 0.7) -> float:
    """PSIS k-hat's sample-size-aware threshold min(1 - 1/log10(S), ``cap``) for ``S``
    particles (Vehtari et al. 2024); ``cap`` alone when ``S`` is unknown."""
    if not particles or particles <= 1:
        return float(cap)
    return float(min(1 - 1 / math.log10(particles), cap))


def khat_summary(khat) -> dict | None:
    """k-hat as ``{median, low, high, values, n}``: from one number (all four the same,
    ``n`` 1) or from ``{median, low, high, values}`` over several particle sets (missing
    entries filled from ``values``); None when there is none or it is not finite."""
    if khat is None:
        return None
    if isinstance(khat, dict):
        vals = [float(v) for v in (khat.get("values") or []) if v is not None and math.isfinite(v)]
        med = khat.get("median", float(np.median(vals)) if vals else None)
        if med is None or not math.isfinite(med):
            return None
        low = khat.get("low", min(vals) if vals else med)
        high = khat.get("high", max(vals) if vals else med)
        return {"median": float(med), "low": float(low), "high": float(high), "values": vals,
                "n": len(vals) or 1}
    k = float(khat)
    if not math.isfinite(k):
        return None
    return {"median": k, "low": k, "high": k, "values": [k], "n": 1}


def khat_note(metrics: dict, thresholds: dict | None = None) -> str | None:
    """The k-hat diagnostic of a fit, when its (median) k-hat is beyond the
    sample-size threshold for the particles it used (``khat_info.particles``), e.g.
    ``"khat 1.3 > 0.7 (4000 particles)"``; None otherwise or without a k-hat. Never a
    failure: k-hat is unstable for near-exact guides, so it ranks no method."""
    t = {**THRESHOLDS, **(thresholds or {})}
    kh = khat_summary(metrics.get("khat"))
    if kh is None:
        return None
    particles = (metrics.get("khat_info") or {}).get("particles")
    thr = khat_threshold(particles, t["khat"])
    if kh["median"] <= thr:
        return None
    spread_ = f", {_num(kh['low'])}-{_num(kh['high'])} over {kh['n']} sets" if kh["n"] > 1 else ""
    s = f" ({particles} particles{spread_})" if particles else (f" ({spread_[2:]})" if spread_ else "")
    return f"khat {_num(kh['median'])} > {_num(thr)}{s}"


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
