"""Posterior predictive mocks (NumPyro Predictive from stored draws) and PSIS k-hat
against cases with known answers."""

import math

import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

from svibench import predictive as P
from svibench.data import bind, bound_model
from svibench.engine.draws import flatten, latent_sites
from svibench.engine.psis import psis_khat
from svibench.engine.svi import run_svi
from svibench.methods import get_method
from svibench.models import get_model


def problem(name, seed=0, **settings):
    mod = get_model(name)
    s = {**mod.defaults, **settings}
    df, _ = mod.simulate(s, seed)
    arrays, static = mod.prepare(df, s)
    return arrays, static


def test_unflatten_inverts_flatten():
    arrays, static = problem("hier", groups=3)
    sites = latent_sites(bound_model("hier", static), arrays)
    rng = np.random.default_rng(0)
    samples = {k: rng.normal(size=(5,) + shape).astype(np.float32) for k, shape in sites.items()}
    back = P.unflatten(flatten(samples, sites), sites)
    for k in sites:
        np.testing.assert_array_equal(back[k], samples[k])


def test_coin_mock_heads_are_binomial():
    arrays, static = problem("coin", n=20, heads=12)
    draws = pd.DataFrame({"f": np.full(4000, 0.3)})
    mock = P.mocks(bind("coin", arrays, static), draws, 4000, seed=1)
    assert list(mock.columns) == ["heads"]
    h = mock["heads"]
    assert h.mean() == pytest.approx(6.0, abs=4 * math.sqrt(4.2 / 4000))
    assert h.var() == pytest.approx(4.2, rel=0.08)
    assert P.observed("coin", arrays).to_dict() == {"heads": 12.0}


def test_linreg_mocks_follow_the_line_when_every_point_is_foreground():
    arrays, static = problem("linreg")
    theta, b_perp = 0.6, 0.2
    draws = pd.DataFrame({"theta": np.full(2000, theta), "b_perp": b_perp, "bg_mean": 0.0,
                          "bg_sigma": 1.0, "Q": 1.0})
    mock = P.mocks(bind("linreg", arrays, static), draws, 2000, seed=2)
    x = np.asarray(arrays["x"])
    line = math.tan(theta) * x + b_perp / math.cos(theta)
    np.testing.assert_allclose(mock.mean().to_numpy(), line, atol=4 * 0.2 / math.sqrt(2000))
    np.testing.assert_allclose(mock.std().to_numpy(), 0.2, rtol=0.1)


def test_coverage_counts_observations_inside_the_central_interval():
    rng = np.random.default_rng(3)
    mock = pd.DataFrame(rng.normal(size=(4000, 4)), columns=[f"y[{i}]" for i in range(4)])
    obs = pd.Series([0.0, 0.5, 3.0, -2.5], index=mock.columns)
    assert P.coverage(mock, obs, 0.9) == 0.5   # |y| < 1.645 for two of the four
    assert P.coverage(mock, obs, 0.5) == 0.5   # |y| < 0.674: 0.0 and 0.5
    s = P.summary(mock, obs, mock)
    assert s["coverage90"] == s["reference_coverage90"] == 0.5 and s["points"] == 4


def gaussian_guide(scale):
    """AutoNormal on corrgauss (sds 3 and 1 along the diagonals) with both scales set."""
    arrays, static = problem("corrgauss")
    fn = bound_model("corrgauss", static)
    guide = get_method("auto_normal").build(fn)
    fit = run_svi(fn, guide, arrays, max_steps=2, lr=0.01, chunk=2)
    params = {k: jnp.zeros(()) if k.endswith("loc") else jnp.asarray(scale, jnp.float32)
              for k in fit.params}
    return fn, guide, params, arrays


def test_khat_of_a_too_narrow_guide_is_large_and_of_a_wide_one_small():
    # Gaussian q against Gaussian p: k = 1 - min variance ratio q/p along an axis.
    narrow = psis_khat(*gaussian_guide(1.0), seed=0)   # k = 1 - 1/9 = 0.89
    wide = psis_khat(*gaussian_guide(3.5), seed=0)     # bounded weights: k < 0
    assert narrow["error"] is None and narrow["khat"] > 0.7
    assert wide["khat"] < 0.0
    assert narrow["particles"] == 4000


def test_khat_of_laplace_uses_its_gaussian_not_the_point_mass():
    arrays, static = problem("corrgauss")
    fn = bound_model("corrgauss", static)
    guide = get_method("auto_laplace").build(fn)
    fit = run_svi(fn, guide, arrays, max_steps=300, lr=0.05, chunk=300)
    out = psis_khat(fn, guide, fit.params, arrays, seed=1)
    # The Laplace approximation of a Gaussian is exact: flat weights, k-hat < 0.5.
    assert out["method"] == "laplace gaussian" and out["khat"] < 0.5


def best_logit_normal_of_beta_13_9():
    """AutoNormal on coin / twenty (12 heads of 20: Beta(13, 9)) at the logit-normal
    that minimises KL(q || p), found by Gauss-Hermite quadrature of the ELBO: loc 0.385,
    scale 0.443 in logit space (the issue's near-exact guide)."""
    from scipy import optimize, special, stats

    x, w = np.polynomial.hermite_e.hermegauss(80)
    w = w / w.sum()

    def neg_elbo(th):  # -(E_q log p(logit f) + entropy) up to constants
        z = th[0] + np.exp(th[1]) * x
        logp = (stats.beta.logpdf(special.expit(z), 13, 9) + np.log(special.expit(z))
                + np.log(special.expit(-z)))
        return -(np.sum(w * logp) + th[1])

    loc, log_scale = optimize.minimize(neg_elbo, [0.4, np.log(0.4)]).x
    arrays, static = problem("coin", n=20, heads=12)
    fn = bound_model("coin", static)
    guide = get_method("auto_normal").build(fn)
    run_svi(fn, guide, arrays, max_steps=2, lr=0.01, chunk=2)  # sets up the guide
    params = {"f_auto_loc": jnp.asarray(loc, jnp.float32),
              "f_auto_scale": jnp.asarray(np.exp(log_scale), jnp.float32)}
    return fn, guide, params, arrays, loc, np.exp(log_scale)


def test_khat_of_the_best_logit_normal_of_beta_13_9_has_its_spread_and_is_no_red_mark():
    from svibench import seeds
    from svibench.evaluate import khat_value
    from svibench.presentation import ranking
    from svibench.presentation.render import fmt
    from svibench.presentation.report import ranking_html

    fn, guide, params, arrays, loc, scale = best_logit_normal_of_beta_13_9()
    assert loc == pytest.approx(0.385, abs=0.005) and scale == pytest.approx(0.443, abs=0.005)
    psis = psis_khat(fn, guide, params, arrays, seed=seeds.psis(1))
    again = psis_khat(fn, guide, params, arrays, seed=seeds.psis(1))
    other = psis_khat(fn, guide, params, arrays, seed=seeds.psis(2))
    sets = psis["khat_sets"]
    assert psis["error"] is None and psis["sets"] == len(sets) == 5 and psis["particles"] == 4000
    assert len(set(sets)) == 5                      # independent sets: five different values
    assert again["khat_sets"] == sets               # reproducible: same seed, same values
    assert set(other["khat_sets"]).isdisjoint(sets)  # another fit's seed: other sets
    assert psis["khat"] == pytest.approx(np.median(sets))
    assert psis["khat_spread"] == [min(sets), max(sets)] and min(sets) < max(sets)
    assert psis["threshold"] == 0.7                 # min(1 - 1/log10(4000), 0.7)
    # a near-exact guide: k-hat far beyond its threshold (the tail fit of flat weights)
    assert psis["khat"] > psis["threshold"]
    # scored as evaluate does: accurate, k-hat a note with its spread, never a red mark
    m = {"status": "ok", "kind": "svi", "seed": 1,
         "mean_err": {"value": 0.011, "floor": 0.02}, "sd_ratio": {"value": [0.974, 0.974],
                                                                 "floor": [0.98, 0.98]},
         "swd": {"value": 0.02, "floor": 0.02, "floor_band": None},
         "energy": {"value": 0.001, "floor": 0.001}, "khat": khat_value(psis),
         "khat_info": {"particles": 4000, "sets": 5, "of": "the guide"}, "mcmc": None,
         "predictive": None, "mode_mass": None, "cost": {"seconds": 1.0, "steps": 100}}
    ev = {"model": "coin", "dataset": "twenty", "fits": [{"group": "auto_normal", "m": m}],
          "predictive": None,
          "reference": {"kind": "exact", "n_draws": 4000, "meets_standard": True, "problems": []}}
    row = ranking.group_rows(ev)[0]
    assert row["red"] == 0 and "bad" not in row["marks"].values()
    k = row["v"]["khat"]
    assert (k["min"], k["max"], k["n"]) == (min(sets), max(sets), 5) and k["note"]
    html = ranking_html(ev)
    assert '<td class="diag"' in html and "5 values over seeds and particle sets" in html
    assert f'<small>({fmt(min(sets), 2)}–{fmt(max(sets), 2)})</small>' in html
