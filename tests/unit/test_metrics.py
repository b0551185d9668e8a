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
    assert M.flags(bad) == ["mean_err", "sd_ratio", "khat", "mode"] and not M.accurate(bad)
    assert M.flags({"mean_err": None, "khat": None}) == []
    assert not M.accurate({"mean_err": None})



def test_judge_gives_the_reasons_a_fit_fails():
    bad = {"status": "ok", "mean_err": {"value": 0.41}, "sd_ratio": {"value": [0.03, 1.3]},
           "khat": 0.91, "mode_mass": {"missing": ["plus"]}}
    assert M.judge(bad) == ["mean_err 0.41 > 0.2", "sd_ratio 0.03 < 0.8 (collapsed), 1.3 > 1.2",
                            "khat 0.91 > 0.7", "mode missing: plus"]
    assert M.judge(bad, {"mean_err": 0.5, "sd_ratio": [0.01, 2.0], "khat": 1.0}) == [
        "mode missing: plus"]
    # a fit that did not finish fails for that alone; its null metrics are not judged
    assert M.judge({"status": "diverged", "mean_err": None}) == ["diverged"]
    assert M.failed_checks(M.judge({"status": "diverged"})) == []
    # at the threshold is within it
    assert M.judge({"mean_err": {"value": 0.2}, "sd_ratio": {"value": [0.8, 1.2]}, "khat": 0.7}) == []

def test_numpy_helpers_agree_with_scipy():
    from scipy.spatial.distance import cdist
    from scipy.stats import rankdata, wasserstein_distance

    rng = np.random.default_rng(11)
    u, v = rng.normal(size=500), rng.gamma(2.0, size=500)
    assert M.wasserstein_1d(u, v) == pytest.approx(wasserstein_distance(u, v), rel=1e-12)
    assert M.wasserstein_1d(u, v[:300]) == pytest.approx(wasserstein_distance(u, v[:300]), rel=1e-12)
    x, y = rng.normal(size=(50, 7)), rng.normal(size=(40, 7))
    np.testing.assert_allclose(M.pairwise_distances(x, y), cdist(x, y), rtol=1e-9, atol=1e-9)
    ties = np.array([[3.0, 1.0, 3.0], [2.0, 1.0, 5.0]])
    np.testing.assert_array_equal(M.rankdata(ties), rankdata(ties, axis=None).reshape(2, 3))
