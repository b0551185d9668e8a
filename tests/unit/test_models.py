"""Each model's log density against a hand-computed value; simulators' shapes and seeds."""

import math

import jax.numpy as jnp
import numpy as np
import pytest
from numpyro.infer.util import log_density
from scipy import stats

from svibench.data import bound_model
from svibench.models import MODEL_NAMES, get_model


def logp(model_name, arrays, static, params):
    fn = bound_model(model_name, static)
    return float(log_density(fn, (), arrays, params)[0])


def test_coin_log_density():
    y = jnp.array([1.0, 0.0, 1.0, 1.0])
    # Uniform prior contributes log 1 = 0; Bernoulli: 3 log f + log(1 - f).
    assert logp("coin", {"y": y}, {}, {"f": 0.3}) == pytest.approx(3 * math.log(0.3) + math.log(0.7), rel=1e-5)


def test_corrgauss_log_density_is_the_gaussian_factor():
    mod = get_model("corrgauss")
    arrays, static = mod.prepare(None, mod.defaults)
    cov = mod.covariance(mod.defaults)
    z = np.array([1.0, -0.5])
    expected = -0.5 * z @ np.linalg.inv(cov) @ z
    assert logp("corrgauss", arrays, static, {"x": 1.0, "y": -0.5}) == pytest.approx(expected, rel=1e-5)


def test_corrgauss_covariance_has_the_stated_axes():
    cov = get_model("corrgauss").covariance({"sd_minor": 1.0, "sd_major": 3.0, "angle_deg": 45.0})
    vals, vecs = np.linalg.eigh(cov)
    assert np.sqrt(vals) == pytest.approx([1.0, 3.0])
    major = vecs[:, 1] * np.sign(vecs[0, 1])
    assert math.degrees(math.atan2(major[1], major[0])) == pytest.approx(45.0)


def test_multimodal_log_density():
    mod = get_model("multimodal")
    arrays, static = mod.prepare(None, mod.defaults)
    x, y = 3.0, 4.0
    u1, u2 = (x + y) / math.sqrt(2), (x - y) / math.sqrt(2)
    s1, s2, b = 0.5, 2.0, 5.0
    factor = math.log(math.exp(-0.5 * ((u1 - b) / s1) ** 2) + math.exp(-0.5 * ((u1 + b) / s1) ** 2)) \
        + math.log(1 / (1 + (u2 / s2) ** 2 / 2))
    prior = 2 * math.log(1 / 40)
    assert logp("multimodal", arrays, static, {"x": x, "y": y}) == pytest.approx(factor + prior, rel=1e-5)


def test_linreg_log_density():
    x = np.array([-1.0, 0.5]); y = np.array([-0.8, 2.0]); yerr = np.array([0.2, 0.2])
    p = {"theta": 0.7, "b_perp": 0.1, "bg_mean": 0.3, "bg_sigma": 1.5, "Q": 0.8}
    m, b = math.tan(p["theta"]), p["b_perp"] / math.cos(p["theta"])
    like = sum(math.log(p["Q"] * stats.norm.pdf(yi, m * xi + b, ei)
                        + (1 - p["Q"]) * stats.norm.pdf(yi, p["bg_mean"], math.hypot(p["bg_sigma"], ei)))
               for xi, yi, ei in zip(x, y, yerr))
    prior = (math.log(1 / math.pi) + stats.norm.logpdf(p["b_perp"]) + stats.norm.logpdf(p["bg_mean"])
             + stats.halfnorm.logpdf(p["bg_sigma"], scale=3) + 0.0)
    arrays = {"x": jnp.array(x), "y": jnp.array(y), "yerr": jnp.array(yerr)}
    assert logp("linreg", arrays, {}, p) == pytest.approx(like + prior, rel=1e-5)


def test_hier_log_density():
    group = np.array([0, 1, 1]); x = np.array([1.0, -2.0, 3.0])
    y = np.array([10.0, 9.0, 12.0]); yerr = np.array([2.0, 2.5, 3.0])
    p = {"m_mu": 0.4, "m_sig": 0.3, "c_mu": 9.5, "c_sig": 1.2,
         "m": np.array([0.5, 0.6]), "c": np.array([9.0, 10.5])}
    expected = (stats.norm.logpdf(0.4, 0, 15) + stats.halfnorm.logpdf(0.3, scale=10)
                + stats.norm.logpdf(9.5, 0, 25) + stats.halfnorm.logpdf(1.2, scale=15)
                + stats.norm.logpdf(p["m"], 0.4, 0.3).sum() + stats.norm.logpdf(p["c"], 9.5, 1.2).sum()
                + stats.norm.logpdf(y, p["m"][group] * x + p["c"][group], yerr).sum())
    arrays = {"group": jnp.array(group), "x": jnp.array(x), "y": jnp.array(y), "yerr": jnp.array(yerr)}
    params = {k: jnp.asarray(v) for k, v in p.items()}
    assert logp("hier", arrays, {"n_groups": 2}, params) == pytest.approx(expected, rel=1e-5)


EXPECTED_COLUMNS = {"coin": ["y"], "linreg": ["x", "y", "yerr"], "hier": ["group", "x", "y", "yerr"]}


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_simulate_is_deterministic_in_its_seed(name):
    mod = get_model(name)
    a, ta = mod.simulate(dict(mod.defaults), 3)
    b, tb = mod.simulate(dict(mod.defaults), 3)
    assert a.equals(b) and ta == tb
    if mod.has_observations:
        c, _ = mod.simulate(dict(mod.defaults), 4)
        assert not a.equals(c)
        assert list(a.columns) == EXPECTED_COLUMNS[name]


def test_simulated_shapes():
    coin = get_model("coin")
    df, truth = coin.simulate({"n": 20, "heads": 12, "p": None}, 1)
    assert len(df) == 20 and df["y"].sum() == 12 and truth["f"] == pytest.approx(0.6)
    lin = get_model("linreg")
    df, truth = lin.simulate(dict(lin.defaults), 1)
    assert len(df) == 15 and np.all(np.diff(df["x"]) >= 0) and (df["yerr"] == 0.2).all()
    assert truth["theta"] == pytest.approx(math.pi / 4) and truth["Q"] == pytest.approx(0.8)
    hier = get_model("hier")
    df, truth = hier.simulate(dict(hier.defaults, groups=5), 1)
    sizes = df.groupby("group").size()
    assert len(sizes) == 5 and sizes.min() >= 6 and sizes.max() <= 18
    assert {f"m[{j}]" for j in range(5)} <= set(truth) and len(truth) == 2 * 5 + 4
    assert df["yerr"].between(2.5 * 0.5 * (1 + 0.85), 2.5 * 0.5 * (1 + 1.15)).all()


def test_multimodal_grid_sampler_matches_numerical_moments():
    mod = get_model("multimodal")
    draws = mod.grid_sampler(mod.defaults, cells=512)(np.random.default_rng(0), 200_000)
    u1 = (draws["x"] + draws["y"]) / math.sqrt(2)
    # Two symmetric modes at +-b with width s1 along u1.
    assert abs(u1.mean()) < 0.05
    assert np.mean(np.abs(u1)) == pytest.approx(5.0, abs=0.05)
    assert np.mean(u1 > 0) == pytest.approx(0.5, abs=0.01)

