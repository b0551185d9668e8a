"""The convergence rule (a trend test over the last patience+1 windows) and early stopping."""

import numpy as np
import pytest

from svibench.engine.convergence import convergence_step, final_trend, floor, settings
from svibench.engine.svi import run_svi

RULE = settings()  # the schema's defaults: window 100, patience 5, atol 0.01, z 2
STEPS = np.arange(3000)


def test_the_defaults_come_from_the_config_schema():
    import yaml

    from svibench.config import SCHEMA_PATH

    schema = yaml.safe_load(SCHEMA_PATH.read_text())
    props = schema["properties"]["svi"]["properties"]["convergence"]["properties"]
    assert RULE == {k: v["default"] for k, v in props.items()}
    assert settings({"window": 50}) == {**RULE, "window": 50}
    assert floor(**RULE) == (RULE["patience"] + 1) * RULE["window"]


@pytest.mark.parametrize("seed", range(5))
def test_a_slow_steady_decline_under_noise_is_not_convergence(seed):
    """1 nat per 100 steps under per-step noise of sd 5: every window is within a few
    standard errors of the one before, but the decline goes on for 3000 steps."""
    rng = np.random.default_rng(seed)
    loss = 100.0 - 0.01 * STEPS + 5.0 * rng.normal(size=3000)
    assert convergence_step(loss, **RULE) is None
    trend = final_trend(loss, **RULE)  # a fit ending here says so
    assert not trend.flat and trend.slope_per_100 == pytest.approx(-1.0, abs=0.4)


@pytest.mark.parametrize("seed", range(5))
def test_a_flat_noisy_trace_converges_soon_after_the_floor(seed):
    rng = np.random.default_rng(seed)
    flat = 10.0 + 5.0 * rng.normal(size=3000)
    at = convergence_step(flat, **RULE)
    assert at is not None and floor(**RULE) <= at <= floor(**RULE) + 3 * RULE["window"]
    assert final_trend(flat, **RULE).flat


def test_nothing_converges_before_the_floor():
    exact = np.full(3000, 4.2)  # a near-exact guide: no noise, no trend
    assert convergence_step(exact, **RULE) == floor(**RULE) == 600
    assert convergence_step(exact[:599], **RULE) is None
    assert final_trend(exact[:599], **RULE) is None


def _decay(seed, noise, height=50.0, scale=200.0):
    rng = np.random.default_rng(seed)
    return 5.0 + height * np.exp(-STEPS / scale) + noise * rng.normal(size=3000)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("height,scale,noise,gap_left", [(50.0, 200.0, 0.3, 0.05),
                                                         (20.0, 400.0, 3.0, 0.6)])
def test_an_exponential_decay_converges_once_on_its_plateau(seed, height, scale, noise, gap_left):
    """Not before: the gap to the plateau is small when it stops (under noise of sd 3
    the earlier rule stopped up to 1.6 nats above it, at 1000 steps); not long after."""
    loss = _decay(seed, noise, height, scale)
    at = convergence_step(loss, **RULE)
    assert at is not None and height * np.exp(-at / scale) < gap_left and at <= 2200


@pytest.mark.parametrize("shift", [1e6, -1e4, 123.456])
@pytest.mark.parametrize("trace", ["decay", "flat", "drift"])
def test_adding_a_constant_to_the_loss_changes_nothing(shift, trace):
    rng = np.random.default_rng(7)
    loss = {"decay": _decay(7, 0.3), "flat": 3.0 + 5.0 * rng.normal(size=3000),
            "drift": -0.01 * STEPS + 5.0 * rng.normal(size=3000)}[trace]
    # small losses, with a tolerance that would be tiny: the earlier rtol * |loss| was not
    for rule in (RULE, {**RULE, "window": 50, "patience": 3}):
        assert convergence_step(loss + shift, **rule) == convergence_step(loss, **rule)
        assert final_trend(loss + shift, **rule).flat == final_trend(loss, **rule).flat


def test_autocorrelated_noise_counts_in_the_standard_error():
    """A flat trace whose noise wanders (AR(1), rho 0.9, sd 5) has window means far
    noisier than independent steps would give: with batch means it is still flat."""
    rng = np.random.default_rng(3)
    noise = np.empty(3000)
    noise[0] = rng.normal()
    for i in range(1, 3000):
        noise[i] = 0.9 * noise[i - 1] + np.sqrt(1 - 0.81) * rng.normal()
    assert convergence_step(10.0 + 5.0 * noise, **RULE) <= 1000


def test_window_ends_tested_before_start_are_skipped():
    loss = _decay(0, 0.3)
    at = convergence_step(loss, **RULE)
    assert convergence_step(loss, **RULE, start=at) == at
    assert convergence_step(loss, **RULE, start=at - 99) == at
    later = convergence_step(loss, **RULE, start=at + 1)
    assert later is None or later > at


def test_non_finite_tail_is_ignored():
    loss = np.r_[np.full(700, 1.0), np.nan, np.full(500, 1.0)]
    assert convergence_step(loss, **RULE) == 600
    assert convergence_step(loss[:650], **RULE) == 600
    assert final_trend(loss, **RULE).flat


def _gaussian_model():
    import numpyro
    import numpyro.distributions as dist

    numpyro.sample("z", dist.Normal(3.0, 2.0))


def test_fit_with_known_optimum_converges_and_stops_near_it():
    from numpyro.infer.autoguide import AutoNormal

    guide = AutoNormal(_gaussian_model)
    fit = run_svi(_gaussian_model, guide, {}, max_steps=20_000, lr=0.02, particles=8, chunk=200,
                  stop_at_convergence=True)
    assert fit.converged_at is not None and fit.convergence_floor == 600
    assert fit.steps_run < 20_000 and fit.steps_run - fit.converged_at < 200
    assert fit.trend_left is False
    assert float(fit.params["z_auto_loc"]) == pytest.approx(3.0, abs=0.1)
    assert float(fit.params["z_auto_scale"]) == pytest.approx(2.0, rel=0.05)


def test_a_fit_ending_at_max_steps_while_falling_says_so():
    from numpyro.infer.autoguide import AutoNormal
    from numpyro.infer.initialization import init_to_value

    # A far start and a small learning rate: the loss still falls steadily at the end.
    guide = AutoNormal(_gaussian_model, init_loc_fn=init_to_value(values={"z": -40.0}))
    fit = run_svi(_gaussian_model, guide, {}, max_steps=800, lr=0.01, particles=8, chunk=200,
                  stop_at_convergence=True)
    assert fit.converged_at is None and fit.steps_run == 800
    assert fit.trend_left is True and fit.final_slope_per_100 < -1.0


def test_too_few_steps_report_null():
    from numpyro.infer.autoguide import AutoNormal

    guide = AutoNormal(_gaussian_model)
    fit = run_svi(_gaussian_model, guide, {}, max_steps=150, lr=0.02, chunk=50,
                  stop_at_convergence=True)
    assert fit.converged_at is None and fit.steps_run == 150
    assert fit.trend_left is None and fit.final_slope_per_100 is None
