"""Reference posteriors: exact samplers against analytic moments, the multimodal grid
against a numerical integral (and its resolution against the metrics' noise floor),
and a real long-run NUTS reference held to the standard."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate

from svibench import io
from svibench import metrics as M
from svibench.data import simulate_dataset
from svibench.models import get_model
from svibench.config import defaults
from svibench.reference import build_reference, check_standard

N = 20_000


def make(tmp_path, model, **settings):
    mod = get_model(model)
    s = {**mod.defaults, **settings, "seed": settings.get("seed", 1)}
    simulate_dataset(model, "t", s, tmp_path / "t.csv", tmp_path / "t.json")
    out = {k: tmp_path / f"{k}.{ext}" for k, ext in
           (("draws", "parquet"), ("json", "json"), ("mocks", "parquet"))}
    return tmp_path / "t.csv", tmp_path / "t.json", out


def test_coin_reference_is_beta_one_plus_heads_one_plus_tails(tmp_path):
    csv, meta, out = make(tmp_path, "coin", n=20, heads=12)
    info = build_reference("coin", "t", csv, meta, {}, out)
    f = io.read_parquet(out["draws"])["f"]
    a, b = 13, 9  # Beta(1 + 12, 1 + 8), not Beta(12, 8)
    mean, var = a / (a + b), a * b / ((a + b) ** 2 * (a + b + 1))
    se = math.sqrt(var / N)
    assert info["kind"] == "exact" and info["meets_standard"] and len(f) == N
    assert abs(f.mean() - mean) < 4 * se
    assert f.var() == pytest.approx(var, rel=0.04)
    assert abs(f.mean() - 12 / 20) > 10 * se  # Beta(12, 8) would be 0.6
    # posterior predictive mocks of the head count come with the reference
    mocks = io.read_parquet(out["mocks"])
    assert list(mocks.columns) == ["heads"] and len(mocks) == defaults("reference")["predictive_draws"]


def test_corrgauss_reference_has_the_analytic_covariance(tmp_path):
    csv, meta, out = make(tmp_path, "corrgauss")
    info = build_reference("corrgauss", "t", csv, meta, {}, out)
    d = io.read_parquet(out["draws"])
    cov = get_model("corrgauss").covariance(get_model("corrgauss").defaults)  # [[5, 4], [4, 5]]
    assert info["kind"] == "exact" and list(d.columns) == ["x", "y"]
    np.testing.assert_allclose(np.cov(d.to_numpy().T), cov, rtol=0.05)
    np.testing.assert_allclose(d.mean(), [0, 0], atol=4 * math.sqrt(5 / N))
    assert io.read_parquet(out["mocks"]).empty  # no observations to predict


def multimodal_moment(fn, s=get_model("multimodal").defaults):
    """E[fn(u1, u2)] under the multimodal density on the box, by nested quadrature in
    the rotated frame (unit Jacobian): |u1 +- u2| <= box * sqrt(2)."""
    r = s["box"] * math.sqrt(2)

    def dens(u2, u1):
        return (math.exp(-0.5 * ((u1 - s["b"]) / s["s1"]) ** 2)
                + math.exp(-0.5 * ((u1 + s["b"]) / s["s1"]) ** 2)) / (1 + 0.5 * (u2 / s["s2"]) ** 2)

    def inner(u1, g):
        lim = r - abs(u1)
        return integrate.quad(lambda u2: g(u1, u2) * dens(u2, u1), -lim, lim, limit=200)[0]

    def outer(g):
        return integrate.quad(lambda u1: inner(u1, g), -r, r, points=[-s["b"], s["b"]],
                              limit=200)[0]

    return outer(fn) / outer(lambda u1, u2: 1.0)


def test_multimodal_grid_matches_a_numerical_integral(tmp_path):
    csv, meta, out = make(tmp_path, "multimodal", seed=0)
    info = build_reference("multimodal", "t", csv, meta, {"exact_draws": 100_000}, out)
    assert info["kind"] == "grid" and info["settings"]["grid"]["cells"] == 1024
    assert info["settings"]["grid"]["cell_width"] == pytest.approx(40 / 1024)
    d = io.read_parquet(out["draws"])
    u1 = (d["x"] + d["y"]) / math.sqrt(2)
    u2 = (d["x"] - d["y"]) / math.sqrt(2)
    for name, g, draws in [("E u1^2", lambda a, b: a * a, u1**2),
                           ("E |u1|", lambda a, b: abs(a), u1.abs()),
                           ("E |u2|", lambda a, b: abs(b), u2.abs()),
                           ("P(|u2| > 5)", lambda a, b: float(abs(b) > 5), (u2.abs() > 5))]:
        exact = multimodal_moment(g)
        se = draws.std() / math.sqrt(len(draws))
        assert abs(draws.mean() - exact) < 4 * se, (name, draws.mean(), exact)
    assert np.mean(u1 > 0) == pytest.approx(0.5, abs=4 * 0.5 / math.sqrt(len(u1)))


def test_multimodal_grid_is_fine_enough_halving_the_cell_changes_no_metric():
    """Draws on a grid with cells half as wide, scored against the 1024-cell grid's,
    stay within the noise floor: the spread of the same metric for independent draws
    of the 1024-cell grid itself. A coarse grid does not — so the check has power."""
    mod = get_model("multimodal")

    def draws(cells, seed, n=20_000):
        return mod.grid_sampler(mod.defaults, cells)(np.random.default_rng(seed), n)

    ref = pd.concat([draws(1024, 1), draws(1024, 2)], ignore_index=True)
    null = [M.score(draws(1024, 10 + k), ref) for k in range(4)]
    fine = M.score(draws(2048, 3), ref)
    coarse = M.score(draws(8, 4), ref)  # cell width 5: the two modes smeared

    def dev(v):
        return max(abs(v[0] - 1), abs(v[1] - 1)) if isinstance(v, list) else abs(v)

    def spread(key):
        return max(dev(n[key]["value"]) for n in null)

    for key in ("mean_err", "sd_ratio", "swd", "energy"):
        assert dev(fine[key]["value"]) <= 2 * spread(key), key
    assert coarse["swd"]["value"] > 4 * spread("swd")


def test_nuts_reference_runs_rounds_and_reports_a_missed_standard(tmp_path):
    """hier (non-centred for the reference, centred latents stored), settings far below
    the standard: it must say so, never pass silently."""
    csv, meta, out = make(tmp_path, "hier", groups=2)
    s = {"chains": 2, "warmup": 150, "draws_per_chain": 150, "max_rounds": 2,
         "target_ess": 4000, "target_accept": 0.9, "predictive_draws": 50}
    info = build_reference("hier", "t", csv, meta, s, out)
    d = io.read_parquet(out["draws"])
    assert info["kind"] == "nuts" and info["settings"]["rounds"] == 2
    assert list(d.columns) == ["m_mu", "m_sig", "c_mu", "c_sig", "m[0]", "m[1]", "c[0]", "c[1]"]
    assert len(d) == 2 * 300 and info["draws_per_chain"] == 300 and info["chains"] == 2
    assert not info["meets_standard"]
    assert any("chains" in p for p in info["problems"])
    assert any("bulk ESS" in p for p in info["problems"])
    assert set(info["diagnostics"]["per_latent"]) == set(d.columns)
    assert info["settings"]["parameterisation"].startswith("non-centred")
    assert io.read_parquet(out["mocks"]).shape[0] == 50


def test_check_standard():
    good = {"max_rhat": 1.002, "min_ess_bulk": 5000, "min_ess_tail": 4100, "divergences": 0}
    s = {"max_rhat": 1.01, "target_ess": 4000}
    assert check_standard(good, 4, s) == []
    bad = {"max_rhat": 1.02, "min_ess_bulk": 5000, "min_ess_tail": 3000, "divergences": 2}
    problems = check_standard(bad, 4, s)
    assert len(problems) == 3 and "2 divergences" in problems
    assert check_standard(good, 2, s) == ["2 chains (< 4)"]
