"""Known-answer tests of the metrics: identical Gaussians, a shifted one, a narrower one;
ESS / R-hat on independent, autocorrelated and disagreeing chains."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy.special import erf

from svibench import metrics as M

N = 40_000  # reference draws: halves of 20 000


def gauss(rng, n, d=1, shift=0.0, scale=1.0):
    cols = ["a", "b", "c", "d"][:d]
    return pd.DataFrame(shift + scale * rng.normal(size=(n, d)), columns=cols)


def energy_shift(delta):
    """Energy distance of N(0, 1) and N(delta, 1): 2E|X-Y| - E|X-X'| - E|Y-Y'|."""
    exy = 2 / math.sqrt(math.pi) * math.exp(-delta**2 / 4) + delta * erf(delta / 2)
    return 2 * exy - 4 / math.sqrt(math.pi)


def energy_scale(s):
    """Energy distance of N(0, 1) and N(0, s^2)."""
    return 2 * math.sqrt(2 / math.pi) * math.sqrt(1 + s**2) - 2 / math.sqrt(math.pi) * (1 + s)


def test_identical_gaussians_sit_at_the_noise_floor():
    rng = np.random.default_rng(0)
    out = M.score(gauss(rng, 4000, 2), gauss(rng, N, 2), energy_draws=1000)
    assert out["draws_compared"] == 4000
    assert out["mean_err"]["value"] < 0.06 and out["mean_err"]["floor"] < 0.06
    lo, hi = out["sd_ratio"]["value"]
    assert 0.95 < lo <= hi < 1.05
    assert out["swd"]["value"] < 0.06 and out["swd"]["floor"] < 0.06
    assert abs(out["energy"]["value"]) < 0.01 and abs(out["energy"]["floor"]) < 0.01


@pytest.mark.parametrize("delta", [0.5, 1.0])
def test_shifted_gaussian_one_dimension(delta):
    rng = np.random.default_rng(1)
    out = M.score(gauss(rng, 4000, shift=delta), gauss(rng, N), energy_draws=2000)
    assert out["mean_err"]["value"] == pytest.approx(delta, abs=0.05)
    assert out["sd_ratio"]["value"][0] == pytest.approx(1.0, abs=0.05)
    # W1 between two translates is the shift; the energy distance has a closed form.
    assert out["swd"]["value"] == pytest.approx(delta, abs=0.05)
    assert out["energy"]["value"] == pytest.approx(energy_shift(delta), abs=0.03)
    assert out["swd"]["floor"] < 0.05 and abs(out["energy"]["floor"]) < 0.01


def test_shift_in_two_dimensions_is_seen_through_random_projections():
    rng = np.random.default_rng(2)
    q = gauss(rng, 4000, 2)
    q["a"] += 1.0
    out = M.score(q, gauss(rng, N, 2), projections=512)
    assert out["mean_err"]["value"] == pytest.approx(1.0, abs=0.05)
    # Projected shift is |cos phi|; its mean over directions uniform on the circle is 2/pi.
    assert out["swd"]["value"] == pytest.approx(2 / math.pi, abs=0.05)


@pytest.mark.parametrize("s", [0.5, 0.8])
def test_narrower_gaussian(s):
    rng = np.random.default_rng(3)
    out = M.score(gauss(rng, 4000, scale=s), gauss(rng, N), energy_draws=2000)
    assert out["sd_ratio"]["value"][0] == pytest.approx(s, abs=0.03)
    assert out["mean_err"]["value"] < 0.05
    # W1 of N(0,1) and N(0,s^2) is |1 - s| E|Z|.
    assert out["swd"]["value"] == pytest.approx((1 - s) * math.sqrt(2 / math.pi), abs=0.03)
    assert out["energy"]["value"] == pytest.approx(energy_scale(s), abs=0.02)


def test_standardisation_makes_metrics_scale_free():
    rng = np.random.default_rng(4)
    q, ref = gauss(rng, 4000, shift=0.5), gauss(rng, N)
    a = M.score(q, ref)
    b = M.score(q * 7 + 3, ref * 7 + 3)
    for k in ("mean_err", "swd", "energy"):
        assert a[k]["value"] == pytest.approx(b[k]["value"], rel=1e-9)


def test_sd_ratio_reports_the_worst_latents():
    rng = np.random.default_rng(5)
    q = gauss(rng, 4000, 3)
    q["b"] *= 0.5
    q["c"] *= 1.5
    lo, hi = M.score(q, gauss(rng, N, 3))["sd_ratio"]["value"]
    assert lo == pytest.approx(0.5, abs=0.03) and hi == pytest.approx(1.5, abs=0.05)


def test_halves_of_chain_major_draws_split_by_chains():
    ref = np.arange(40).reshape(40, 1).astype(float)
    a, b = M.reference_halves(ref, chains=4)
    assert a[:, 0].tolist() == list(range(20)) and b[:, 0].tolist() == list(range(20, 40))
    a, b = M.reference_halves(ref[:39], chains=1)
    assert len(a) == 19 and len(b) == 20


def test_thin_keeps_every_chain():
    x = np.repeat(np.arange(4), 100).reshape(-1, 1)  # 4 chains of 100, chain-major
    assert set(M.thin(x, 40)[:, 0]) == {0, 1, 2, 3}


def test_mode_mass_flags_a_missing_mode():
    ref = np.r_[np.zeros(500), np.ones(500)]
    both = M.mode_mass(np.r_[np.zeros(480), np.ones(520)], ref, ["minus", "plus"])
    assert both["missing"] == [] and both["fit"] == pytest.approx([0.48, 0.52])
    one = M.mode_mass(np.ones(1000), ref, ["minus", "plus"])
    assert one["missing"] == ["minus"] and one["reference"] == pytest.approx([0.5, 0.5])


def ar1(rng, chains, n, rho, shift=None):
    x = np.zeros((chains, n))
    eps = rng.normal(size=(chains, n)) * math.sqrt(1 - rho**2)
    x[:, 0] = rng.normal(size=chains)
    for t in range(1, n):
        x[:, t] = rho * x[:, t - 1] + eps[:, t]
    return x + (0 if shift is None else np.asarray(shift)[:, None])


def test_ess_of_independent_draws_is_their_number():
    x = np.random.default_rng(6).normal(size=(4, 2000))
    assert M.ess_bulk(x) == pytest.approx(8000, rel=0.1)
    assert M.ess_tail(x) == pytest.approx(8000, rel=0.15)
    assert M.rhat(x) == pytest.approx(1.0, abs=0.005)


def test_ess_of_an_ar1_chain():
    rho = 0.8
    x = ar1(np.random.default_rng(7), 4, 5000, rho)
    expected = 20_000 * (1 - rho) / (1 + rho)
    assert M.ess_bulk(x) == pytest.approx(expected, rel=0.15)
    assert M.ess_tail(x) < 0.5 * 20_000


def test_rhat_catches_chains_that_disagree():
    x = ar1(np.random.default_rng(8), 4, 1000, 0.5, shift=[0, 0, 0, 1.0])
    assert M.rhat(x) > 1.05
    # and the folded R-hat catches chains that differ only in scale
    y = np.random.default_rng(9).normal(size=(4, 1000)) * np.array([1, 1, 1, 3.0])[:, None]
    assert M.rhat(y) > 1.01


def test_mcmc_diagnostics_per_latent_and_extremes():
    rng = np.random.default_rng(10)
    good = rng.normal(size=(2, 1000))
    sticky = ar1(rng, 2, 1000, 0.95)
    df = pd.DataFrame({"good": good.ravel(), "sticky": sticky.ravel()})  # chain-major
    out = M.mcmc_diagnostics(df, chains=2)
    assert out["per_latent"]["good"]["ess_bulk"] > 1500
    assert out["min_ess_bulk"] == out["per_latent"]["sticky"]["ess_bulk"] < 200


def test_flags_follow_the_thresholds():
    ok = {"mean_err": {"value": 0.1}, "sd_ratio": {"value": [0.9, 1.1]}, "khat": 0.3}
    assert M.flags(ok) == [] and M.accurate(ok)
    bad = {"mean_err": {"value": 0.3}, "sd_ratio": {"value": [0.7, 1.1]}, "khat": 0.9,
           "mode_mass": {"missing": ["plus"]}}
    assert M.flags(bad) == ["mean_err", "sd_ratio", "mode"] and not M.accurate(bad)
    assert M.flags({"mean_err": None, "khat": None}) == []
    assert not M.accurate({"mean_err": None})


def test_judge_gives_the_reasons_a_fit_fails():
    bad = {"status": "ok", "mean_err": {"value": 0.41}, "sd_ratio": {"value": [0.03, 1.3]},
           "khat": 0.91, "mode_mass": {"missing": ["plus"]}}
    assert M.judge(bad) == ["mean_err 0.41 > 0.2", "sd_ratio 0.03 < 0.8 (collapsed), 1.3 > 1.2",
                            "mode missing: plus"]
    assert M.judge(bad, {"mean_err": 0.5, "sd_ratio": [0.01, 2.0], "khat": 1.0}) == [
        "mode missing: plus"]
    # a fit that did not finish fails for that alone; its null metrics are not judged
    assert M.judge({"status": "diverged", "mean_err": None}) == ["diverged"]
    assert M.failed_checks(M.judge({"status": "diverged"})) == []
    # at the threshold is within it
    assert M.judge({"mean_err": {"value": 0.2}, "sd_ratio": {"value": [0.8, 1.2]}, "khat": 0.7}) == []


def test_khat_beyond_its_threshold_alone_is_not_a_failure():
    fit = {"status": "ok", "mean_err": {"value": 0.011}, "sd_ratio": {"value": [0.974, 0.974]},
           "khat": 1.3, "khat_info": {"particles": 4000}}
    assert M.judge(fit) == [] and M.flags(fit) == [] and M.accurate(fit)
    # it is a diagnostic note instead, against the sample-size threshold
    assert M.khat_note(fit) == "khat 1.3 > 0.7 (4000 particles)"
    assert M.khat_note({**fit, "khat": 0.69}) is None
    # 1000 particles: min(1 - 1/log10(1000), 0.7) = 2/3, so 0.69 is beyond it
    assert M.khat_note({**fit, "khat": 0.69, "khat_info": {"particles": 1000}}) == \
        "khat 0.69 > 0.667 (1000 particles)"
    assert M.khat_threshold(1000) == pytest.approx(2 / 3)
    assert M.khat_threshold(4000) == 0.7 and M.khat_threshold(None) == 0.7
    assert M.khat_threshold(100, cap=0.7) == pytest.approx(0.5)
    # over several particle sets: the median decides, the spread is shown
    sets = {"median": 1.6, "low": 0.9, "high": 3.9, "values": [0.9, 1.2, 1.6, 2.5, 3.9]}
    assert M.khat_summary(sets)["median"] == 1.6 and M.khat_summary(sets)["n"] == 5
    assert M.khat_note({**fit, "khat": sets}) == "khat 1.6 > 0.7 (4000 particles, 0.9-3.9 over 5 sets)"
    assert M.judge({**fit, "khat": sets}) == []
    assert M.khat_summary({"values": [0.2, 0.4, 0.9]}) == {
        "median": 0.4, "low": 0.2, "high": 0.9, "values": [0.2, 0.4, 0.9], "n": 3}
    assert M.khat_summary(None) is None and M.khat_summary(float("nan")) is None


def nuts(**mc):
    base = {"chains": 4, "max_rhat": 1.001, "min_ess_bulk": 2000.0, "min_ess_tail": 1500.0,
            "divergences": 0}
    return {"status": "ok", "mean_err": {"value": 0.05}, "sd_ratio": {"value": [0.95, 1.05]},
            "khat": None, "mcmc": {**base, **mc}}


def test_nuts_fails_on_rhat_divergences_and_low_ess():
    assert M.judge(nuts()) == []
    # multimodal: chains in separate modes
    assert M.judge(nuts(max_rhat=1.37, min_ess_bulk=9.0, min_ess_tail=450.0)) == [
        "rhat 1.37 >= 1.01", "ess_bulk 9 < 400 (100 per chain x 4)"]
    # hier: 242 divergences, R-hat 1.02, bulk ESS 225 of 4 chains
    assert M.flags(nuts(divergences=242, max_rhat=1.02, min_ess_bulk=225.0)) == [
        "rhat", "divergences", "ess_bulk"]
    assert M.judge(nuts(divergences=1)) == ["divergences 1 (any divergence fails)"]
    assert M.judge(nuts(min_ess_tail=399.0)) == ["ess_tail 399 < 400 (100 per chain x 4)"]
    assert M.judge(nuts(max_rhat=1.0099, min_ess_bulk=400.0, min_ess_tail=400.0)) == []
    assert M.judge(nuts(chains=2, min_ess_bulk=250.0)) == []  # 2 chains need 200
    assert M.judge(nuts(max_rhat=1.02), {"rhat": 1.05}) == []


def test_mode_mass_names_chains_in_separate_modes_and_gives_standard_errors():
    ref = np.r_[np.zeros(500), np.ones(500)]
    # four chains of 100, chain-major: two entirely in each mode; overall 50/50
    split = np.repeat([0, 1, 0, 1], 100)
    mm = M.mode_mass(split, ref, ["minus", "plus"], chains=4, n_eff=9.0)
    assert mm["missing"] == [] and mm["fit"] == [0.5, 0.5] and mm["separated"]
    assert mm["by_chain"] == [[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]]
    assert mm["se"] == pytest.approx([math.sqrt(0.25 / 9)] * 2)
    assert M.judge({"mode_mass": mm}) == [
        "chains in separate modes (share of plus by chain: 0.00, 1.00, 0.00, 1.00)"]
    # mixed chains: 40-60 % in each mode is no separation
    mixed = np.r_[np.repeat([0, 1], [40, 60]), np.repeat([0, 1], [60, 40])]
    assert not M.mode_mass(mixed, ref, ["minus", "plus"], chains=2)["separated"]
    # independent draws: se from the number of draws
    one = M.mode_mass(np.r_[np.zeros(200), np.ones(800)], ref, ["minus", "plus"])
    assert one["se"] == pytest.approx([math.sqrt(0.2 * 0.8 / 1000)] * 2)
    assert one["by_chain"] is None and not one["separated"]


def test_collapsed():
    assert M.collapsed({"sd_ratio": {"value": [0.0, 8.8e-16]}})
    assert not M.collapsed({"sd_ratio": {"value": [0.05, 1.0]}}) and not M.collapsed({"sd_ratio": None})


def test_the_floor_is_a_distribution_over_random_half_splits():
    rng = np.random.default_rng(12)
    ref = gauss(rng, 4000)
    q = gauss(rng, 4000)
    out = M.score(q, ref, floor_splits=100, seed=3, energy_draws=100)
    assert out["floor_splits"] == 100 and out["floor_draws"] == 2000
    # mean_err of two independent halves of n: |N(0, 2/n)|, median 0.6745 sqrt(2/n)
    expected = 0.6745 * math.sqrt(2 / 2000)
    assert out["mean_err"]["floor_median"] == pytest.approx(expected, rel=0.2)
    lo, hi = out["mean_err"]["floor_band"]
    # the 2.5 % and 97.5 % quantiles of |N(0, 2/n)|: 0.0313 and 2.24 sds
    assert lo == pytest.approx(0.0313 * math.sqrt(2 / 2000), abs=0.01)
    assert hi == pytest.approx(2.24 * math.sqrt(2 / 2000), rel=0.25)
    slo, shi = out["sd_ratio"]["floor_band"]
    assert slo < out["sd_ratio"]["floor_median"][0] <= out["sd_ratio"]["floor_median"][1] < shi
    # seeded by the metrics seed: the same seed gives the same band, another seed another
    again = M.score(q, ref, floor_splits=100, seed=3, energy_draws=100)
    assert again["swd"]["floor_band"] == out["swd"]["floor_band"]
    other = M.score(q, ref, floor_splits=100, seed=4, energy_draws=100)
    assert other["swd"]["floor_band"] != out["swd"]["floor_band"]
    # the single floor and the values are unchanged by the splits
    none = M.score(q, ref, floor_splits=0, seed=3, energy_draws=100)
    assert none["swd"]["value"] == out["swd"]["value"] and none["swd"]["floor"] == out["swd"]["floor"]
    assert none["swd"]["floor_band"] is None and none["floor_draws"] is None


def test_a_nuts_reference_is_thinned_to_its_ess_before_the_splits():
    # an AR(1) chain with rho 0.99: neighbours nearly equal, ESS about 20000 / 199
    x = ar1(np.random.default_rng(13), 4, 5000, 0.99).reshape(-1, 1)
    ref = pd.DataFrame({"a": x[:, 0]})
    q = gauss(np.random.default_rng(14), 4000)
    naive = M.score(q, ref, chains=4, floor_splits=50, seed=0, energy_draws=100)
    thinned = M.score(q, ref, chains=4, floor_splits=50, seed=0, ess=100.0, energy_draws=100)
    assert naive["floor_draws"] == 4000 and thinned["floor_draws"] == 50
    # random halves of correlated neighbours look alike: the naive band is far too narrow
    assert thinned["mean_err"]["floor_median"] > 5 * naive["mean_err"]["floor_median"]


def test_numpy_helpers_agree_with_scipy():
    from scipy.spatial.distance import cdist
    from scipy.stats import wasserstein_distance

    rng = np.random.default_rng(11)
    u, v = rng.normal(size=500), rng.gamma(2.0, size=500)
    assert M.wasserstein_1d(u, v) == pytest.approx(wasserstein_distance(u, v), rel=1e-12)
    assert M.wasserstein_1d(u, v[:300]) == pytest.approx(wasserstein_distance(u, v[:300]), rel=1e-12)
    x, y = rng.normal(size=(50, 7)), rng.normal(size=(40, 7))
    np.testing.assert_allclose(M.pairwise_distances(x, y), cdist(x, y), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("chains, ess", [(1, None), (4, 300.0)])
def test_a_stored_floor_table_gives_the_band_score_computes(chains, ess):
    """floor_table computed once per reference: score with it equals score without it,
    for fits of several sizes (the band depends on the draws a half holds)."""
    rng = np.random.default_rng(11)
    ref = pd.DataFrame(gauss(rng, 8000, 3), columns=list("abc"))
    kw = dict(chains=chains, ess=ess, floor_splits=20, seed=2, energy_draws=200)
    fits = [pd.DataFrame(gauss(rng, n, 3), columns=list("abc")) for n in (4000, 500, 100)]
    table = M.floor_table(ref, [len(f) for f in fits], **kw)
    for fit in fits:
        assert M.score(fit, ref, floors=table, **kw) == M.score(fit, ref, **kw)
    # A table of other settings is not used.
    other = M.floor_table(ref, [4000], **{**kw, "seed": 3})
    assert M.score(fits[0], ref, floors=other, **kw) == M.score(fits[0], ref, **kw)
