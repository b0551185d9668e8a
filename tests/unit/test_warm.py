"""Warm start: which params transfer, and a warm fit that saves steps."""

import numpy as np
import pytest

from svibench.data import bound_model
from svibench.engine.draws import flatten_params
from svibench.engine.svi import run_svi
from svibench.methods import get_method
from svibench.models import get_model
from svibench.warm import transfer_params, warm_init_params


def test_matching_names_and_shapes_transfer_the_rest_start_fresh():
    saved = {"a": np.ones(3), "b": np.zeros(2), "flow$params[0]": np.full(4, 7.0)}
    template = {"a": np.full(3, 5.0), "b": np.full(4, 5.0), "c": np.full(1, 5.0),
                "flow$params": [np.zeros(4)]}
    init, report = transfer_params(saved, template)
    assert report == {"transferred": ["a", "flow$params[0]"], "resized": [], "fresh": ["b", "c"]}
    assert np.asarray(init["a"]).tolist() == [1.0, 1.0, 1.0]
    assert np.asarray(init["b"]).tolist() == [5.0] * 4
    assert np.asarray(init["flow$params"][0]).tolist() == [7.0] * 4


def test_resize_fills_a_changed_plate_with_the_old_mean():
    init, report = transfer_params({"m_loc": np.array([1.0, 3.0])}, {"m_loc": np.zeros(3)},
                                   resize=True)
    assert report["resized"] == ["m_loc"] and np.asarray(init["m_loc"]).tolist() == [2.0] * 3


def hier(seed, groups):
    mod = get_model("hier")
    s = dict(mod.defaults, groups=groups)
    df, _ = mod.simulate(s, seed)
    arrays, static = mod.prepare(df, s)
    return bound_model("hier", static), arrays


@pytest.mark.parametrize("groups_b,expect_resized", [(4, False), (6, True)])
def test_warm_start_on_hier_converges_in_fewer_steps_than_cold(groups_b, expect_resized):
    opts = dict(max_steps=6000, lr=0.01, chunk=200, stop_at_convergence=True)
    model_a, data_a = hier(1, 4)
    guide_a = get_method("auto_normal").build(model_a)
    fit_a = run_svi(model_a, guide_a, data_a, **opts)
    model_b, data_b = hier(2, groups_b)
    cold = run_svi(model_b, get_method("auto_normal").build(model_b), data_b, **opts)
    guide_b = get_method("auto_normal").build(model_b)
    init, report = warm_init_params(model_b, guide_b, data_b, flatten_params(fit_a.params), 0)
    assert "m_mu_auto_loc" in report["transferred"]
    assert bool(report["resized"]) == expect_resized
    warm = run_svi(model_b, guide_b, data_b, init_params=init, **opts)
    assert cold.converged_at and warm.converged_at
    assert warm.converged_at < cold.converged_at
    # As good an optimum: final losses agree within the ELBO's noise (a few nats here).
    assert abs(np.mean(warm.losses[-100:]) - np.mean(cold.losses[-100:])) < 3.0
