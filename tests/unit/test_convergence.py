"""The convergence criterion and early stopping."""

import numpy as np
import pytest

from svibench.engine.convergence import convergence_step
from svibench.engine.svi import run_svi


def test_noisy_but_flat_trace_needs_patience_windows():
    rng = np.random.default_rng(0)
    flat = 10.0 + rng.normal(size=300)
    # Three windows: the first has no earlier best to compare with, so at most two
    # flat windows: not converged on a first chunk of 300 steps.
    assert convergence_step(flat, window=100, patience=3) is None
    longer = 10.0 + rng.normal(size=1000)
    assert convergence_step(longer, window=100, patience=3) == 400


def test_a_trend_larger_than_the_noise_is_not_convergence():
    rng = np.random.default_rng(1)
    steps = np.arange(2000)
    descending = 100.0 - 0.01 * steps + 0.5 * rng.normal(size=2000)
    assert convergence_step(descending, window=100, patience=3) is None


def test_descent_then_plateau_converges_after_the_knee():
    rng = np.random.default_rng(2)
    steps = np.arange(3000)
    loss = 5.0 + 50.0 * np.exp(-steps / 200.0) + 0.3 * rng.normal(size=3000)
    at = convergence_step(loss, window=100, patience=3)
    assert at is not None and 800 <= at <= 2000


def test_non_finite_tail_is_ignored():
    loss = np.r_[np.full(500, 1.0), np.nan, np.full(500, 1.0)]
    assert convergence_step(loss, window=100, patience=3) == 400


def _gaussian_model():
    import numpyro
    import numpyro.distributions as dist

    numpyro.sample("z", dist.Normal(3.0, 2.0))


def test_fit_with_known_optimum_converges_and_stops_near_it():
    from numpyro.infer.autoguide import AutoNormal

    guide = AutoNormal(_gaussian_model)
    fit = run_svi(_gaussian_model, guide, {}, max_steps=20_000, lr=0.02, particles=8, chunk=200,
                  stop_at_convergence=True)
    assert fit.converged_at is not None
    assert fit.steps_run < 20_000 and fit.steps_run - fit.converged_at < 200
    assert float(fit.params["z_auto_loc"]) == pytest.approx(3.0, abs=0.1)
    assert float(fit.params["z_auto_scale"]) == pytest.approx(2.0, rel=0.05)


def test_too_few_steps_report_null():
    from numpyro.infer.autoguide import AutoNormal

    guide = AutoNormal(_gaussian_model)
    fit = run_svi(_gaussian_model, guide, {}, max_steps=150, lr=0.02, chunk=50,
                  stop_at_convergence=True)
    assert fit.converged_at is None and fit.steps_run == 150
