"""The chunked SVI engine: steps, divergence stop, guides that build and step."""

import numpy as np
import pytest

from svibench.config import fit_options, validate
from svibench.data import bound_model
from svibench.engine.draws import flatten_params, guide_draws, latent_sites
from svibench.engine.svi import run_svi
from svibench.fitting import svi_kwargs
from svibench.methods import METHODS, get_method, methods_for
from svibench.models import MODEL_NAMES, get_model


def problem(name, **settings):
    mod = get_model(name)
    s = dict(mod.defaults, **settings)
    df, truth = mod.simulate(s, 0)
    arrays, static = mod.prepare(df, s)
    return bound_model(name, static), arrays


from svibench.models import POSTERIORDB  # noqa: E402

# posteriordb's eight ports: one per-site guide and one AutoContinuous (every guide on
# all eight adds ~60 cases, minutes on 2 cores)
CASES = [(mo, me) for mo in MODEL_NAMES for me in methods_for(mo) if METHODS[me].kind == "svi"
         and (mo not in POSTERIORDB or me in ("auto_normal", "auto_iaf"))]


@pytest.mark.parametrize("model_name,method", CASES)
def test_every_guide_builds_and_takes_steps(model_name, method, caplog):
    from svibench.engine.svi import tracer_slots

    model, arrays = problem(model_name, **({"groups": 3} if model_name == "hier" else {}))
    m = get_method(method)
    guide = m.build(model, **m.defaults)
    with caplog.at_level("INFO", logger="svibench.svi"):
        fit = run_svi(model, guide, arrays, max_steps=7, lr=0.01, chunk=3, elbo=m.elbo)
    # initialised in one program (engine.svi.compiled_init), an AutoContinuous guide's
    # latent vector laid out as the eager init does (linreg's and hier's site names are
    # not in model order); nothing traced left behind
    from numpyro.infer.autoguide import AutoContinuous

    sites = latent_sites(model, arrays)
    assert "compiled init not possible" not in caplog.text, caplog.text
    assert tracer_slots(getattr(guide, "__dict__", {})) == []
    if isinstance(guide, AutoContinuous):  # the eager init's layout: the model's order
        # (the model's reported deterministic sites are in the draws, not in the guide)
        assert list(guide._init_locs) == [k for k in sites if k not in get_model(model_name).reported]
    assert fit.steps_run == 7 and fit.losses.shape == (7,)
    assert fit.status == "ok" and np.isfinite(fit.losses).all()
    draws = guide_draws(model, guide, fit.params, arrays, 50, 0, sites)
    assert draws.shape[0] == 50 and np.isfinite(draws.to_numpy()).all()
    assert flatten_params(fit.params)


def test_chunking_does_not_change_the_result():
    model, arrays = problem("linreg")
    guide = get_method("auto_diagonal").build(model)
    a = run_svi(model, guide, arrays, max_steps=30, lr=0.01, chunk=30, seed=3)
    guide = get_method("auto_diagonal").build(model)
    b = run_svi(model, guide, arrays, max_steps=30, lr=0.01, chunk=7, seed=3)
    np.testing.assert_allclose(a.losses, b.losses, rtol=1e-5)


def test_divergence_stops_at_the_first_non_finite_step_and_keeps_finite_params():
    model, arrays = problem("hier", groups=3)
    guide = get_method("auto_normal").build(model)
    fit = run_svi(model, guide, arrays, max_steps=2000, lr=1e6, chunk=100)
    assert fit.status == "diverged"
    assert fit.steps_run == fit.diverged_at < 2000
    assert not np.isfinite(fit.losses[-1]) and np.isfinite(fit.losses[:-1]).all()
    assert all(np.isfinite(v).all() for v in flatten_params(fit.params).values())


def test_default_study_beta_guide_is_exact():
    """On coin, the Beta guide's mean and sd are within 2% of Beta(1+heads, 1+tails)
    with the optimiser settings of the default study."""
    from pathlib import Path

    from svibench.config import load_file

    cfg = load_file(Path(__file__).resolve().parents[2] / "config" / "config.yaml")
    opts = fit_options(cfg, "coin", "beta")
    model, arrays = problem("coin", n=20, heads=12)
    guide = get_method("beta").build(model, **opts["guide"])
    fit = run_svi(model, guide, arrays, **svi_kwargs(opts))
    a, b = float(fit.params["alpha"]), float(fit.params["beta"])
    mean, sd = a / (a + b), np.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
    ea, eb = 13.0, 9.0
    emean, esd = ea / (ea + eb), np.sqrt(ea * eb / ((ea + eb) ** 2 * (ea + eb + 1)))
    assert mean == pytest.approx(emean, rel=0.02)
    assert sd == pytest.approx(esd, rel=0.02)


def test_default_study_mvn_recovers_the_correlated_gaussian():
    """On corrgauss, AutoMultivariateNormal's principal sds are (1, 3) within 3% and the
    major axis is at 45 degrees within 2 degrees, with the default study's settings."""
    from pathlib import Path

    from svibench.config import load_file

    cfg = load_file(Path(__file__).resolve().parents[2] / "config" / "config.yaml")
    opts = fit_options(cfg, "corrgauss", "auto_mvn")
    model, arrays = problem("corrgauss")
    guide = get_method("auto_mvn").build(model, **opts["guide"])
    fit = run_svi(model, guide, arrays, **svi_kwargs(opts))
    L = np.asarray(fit.params["auto_scale_tril"])
    vals, vecs = np.linalg.eigh(L @ L.T)
    sds = np.sqrt(vals)
    assert sds[0] == pytest.approx(1.0, rel=0.03)
    assert sds[1] == pytest.approx(3.0, rel=0.03)
    major = vecs[:, 1] * np.sign(vecs[0, 1])
    assert np.degrees(np.arctan2(major[1], major[0])) == pytest.approx(45.0, abs=2.0)


@pytest.mark.parametrize("model_name,method", [("coin", "beta"), ("corrgauss", "auto_lowrank"),
                                               ("multimodal", "auto_iaf"), ("hier", "auto_normal"),
                                               ("hier", "auto_iaf"), ("linreg", "auto_mvn")])
def test_a_guide_initialises_in_one_compiled_program(model_name, method, caplog):
    """``compiled_init`` (issue 6): a few XLA compiles where NumPyro's eager init makes
    20-400, params shaped as the eager ones, nothing traced left in the guide."""
    import jax
    from jax import monitoring
    from numpyro.infer import SVI
    from numpyro.optim import Adam

    from svibench.engine.svi import compiled_init, make_elbo, tracer_slots

    model, arrays = problem(model_name, **({"groups": 3} if model_name == "hier" else {}))
    m = get_method(method)
    key = jax.random.PRNGKey(4)
    compiles = []

    def listener(name, duration, **kwargs):
        if name.endswith("backend_compile_duration"):
            compiles.append(name)

    def initialise(how):
        guide = m.build(model, **m.defaults)
        svi = SVI(model, guide, Adam(0.01), make_elbo(m.elbo, 2))
        jax.clear_caches()  # count from nothing compiled in this process
        compiles.clear()
        state = svi.init(key, **arrays) if how == "eager" else compiled_init(svi, key, arrays)
        return guide, svi.get_params(state), len(compiles)

    monitoring.register_event_duration_secs_listener(listener)
    try:
        with caplog.at_level("INFO", logger="svibench.svi"):
            guide, params, n_compiled = initialise("compiled")
        _, eager, n_eager = initialise("eager")
    finally:
        monitoring.unregister_event_duration_listener(listener)
    assert "compiled init not possible" not in caplog.text
    # 1-3 programs alone; AutoMultivariateNormal's constraint builds constants eagerly
    # (ensure_compile_time_eval) either way: ~24 alone, ~74 in this test process
    assert n_compiled <= 3 or 3 * n_compiled <= n_eager, (n_compiled, n_eager)
    assert tracer_slots(getattr(guide, "__dict__", {})) == []

    # the eager start, up to rounding (a constrained param goes out and back)
    assert jax.tree_util.tree_structure(params) == jax.tree_util.tree_structure(eager)
    for a, b in zip(jax.tree_util.tree_leaves(params), jax.tree_util.tree_leaves(eager)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)
    # the guide it set up then trains and samples like an eagerly initialised one
    fit = run_svi(model, guide, arrays, max_steps=4, lr=0.01, chunk=2, elbo=m.elbo)
    assert fit.status == "ok" and np.isfinite(fit.losses).all()


def test_compiled_init_falls_back_to_numpyro_where_a_tracer_cannot_be_put_back(caplog):
    import jax
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist
    from numpyro.infer import SVI, Trace_ELBO
    from numpyro.optim import Adam

    from svibench.engine.svi import compiled_init

    def model(y=None):
        mu = numpyro.sample("mu", dist.Normal(0.0, 1.0))
        numpyro.sample("y", dist.Normal(mu, 1.0), obs=y)

    class KeepsATuple:
        """A guide that keeps a value it computed in a tuple (immutable)."""

        def __call__(self, y=None):
            loc = numpyro.param("loc", jnp.array(0.5))
            self.kept = (loc * 2.0,)
            numpyro.sample("mu", dist.Normal(loc, 1.0))

    guide = KeepsATuple()
    svi = SVI(model, guide, Adam(0.01), Trace_ELBO())
    with caplog.at_level("INFO", logger="svibench.svi"):
        state = compiled_init(svi, jax.random.PRNGKey(0), {"y": jnp.ones(3)})
    assert "compiled init not possible (TypeError: a traced value sits in a tuple)" in caplog.text
    assert float(svi.get_params(state)["loc"]) == 0.5
    assert float(guide.kept[0]) == 1.0  # concrete: NumPyro's eager init ran


def _fit_both_ways(monkeypatch, model, arrays, method, **kwargs):
    """The same fit run one chunk per call, each read before the next is dispatched,
    and GROUP_MAX chunks per call, each dispatched before the last is read."""
    from svibench.engine import svi as E

    fits = []
    for seconds in (0.0, 60.0):  # never / always one ahead, 1 / GROUP_MAX chunks a call
        monkeypatch.setattr(E, "SPECULATE_BELOW_S", seconds)
        monkeypatch.setattr(E, "CALL_TARGET_S", seconds)
        guide = get_method(method).build(model)
        fits.append(run_svi(model, guide, arrays, **kwargs))
    return fits


def _same_fit(a, b):
    import jax

    assert (a.steps_run, a.converged_at, a.diverged_at, a.status) == \
        (b.steps_run, b.converged_at, b.diverged_at, b.status)
    np.testing.assert_array_equal(a.losses, b.losses)
    for x, y in zip(jax.tree_util.tree_leaves(a.params), jax.tree_util.tree_leaves(b.params)):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def test_how_chunks_are_spread_over_calls_changes_no_result(monkeypatch):
    """Chunks grouped into one call (engine.svi.GROUP_MAX) and dispatched one call
    ahead (SPECULATE_BELOW_S): a fit that stops at convergence inside a call takes its
    state from a rerun of that call's first chunks, and drops the call dispatched
    ahead: the same steps, losses and params as a fit that runs a chunk per call."""
    from svibench.engine.svi import GROUP_MAX

    model, arrays = problem("linreg")
    a, b = _fit_both_ways(monkeypatch, model, arrays, "auto_diagonal", max_steps=20000,
                          lr=0.01, chunk=50, seed=3, stop_at_convergence=True)
    assert a.converged_at is not None and a.steps_run < 20000  # it stopped early,
    assert a.steps_run % (50 * GROUP_MAX)  # inside a call of GROUP_MAX chunks
    _same_fit(a, b)


def test_a_fit_diverging_inside_a_call_of_many_chunks_stops_as_with_one(monkeypatch):
    model, arrays = problem("hier", groups=3)
    a, b = _fit_both_ways(monkeypatch, model, arrays, "auto_normal", max_steps=2000,
                          lr=2.0, chunk=10)  # diverges after ~1650 steps
    assert a.status == "diverged" and a.steps_run > 170 and a.steps_run % 10  # inside a call
    _same_fit(a, b)
    # what it keeps is the state after its last finite step
    c = run_svi(model, get_method("auto_normal").build(model), arrays,
                max_steps=a.steps_run - 1, lr=2.0, chunk=10)
    assert c.status == "ok"
    np.testing.assert_array_equal(c.losses, a.losses[:-1])
    for x, y in zip(flatten_params(a.params).values(), flatten_params(c.params).values()):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("method", ["auto_normal", "auto_iaf"])
def test_a_chunk_takes_numpyros_svi_update_steps(method):
    """chunk_runner hashes SVI.update's chain of keys ahead of the steps
    (engine.svi._step_keys): the same keys, losses and states as NumPyro's update."""
    import jax
    import jax.numpy as jnp
    from numpyro.infer import SVI
    from numpyro.optim import Adam

    from svibench.engine.svi import chunk_runner, make_elbo

    model, arrays = problem("hier", groups=3)
    m = get_method(method)
    svi = SVI(model, m.build(model, **m.defaults), Adam(0.01), make_elbo(m.elbo, 2))
    state = svi.init(jax.random.PRNGKey(1), **arrays)

    def numpyro_steps(state, n, data):
        def body(i, carry):
            state, losses = carry
            state, loss = svi.update(state, **data)
            return state, losses.at[i].set(loss)
        return jax.lax.fori_loop(0, n, body, (state, jnp.full((9,), jnp.nan)))

    ours, losses, finite = chunk_runner(svi, 9)(state, 7, arrays)
    theirs, their_losses = jax.jit(numpyro_steps)(state, 7, arrays)
    np.testing.assert_array_equal(ours.rng_key, theirs.rng_key)
    assert finite[:7].all() and np.isnan(losses[7:]).all()
    np.testing.assert_allclose(losses[:7], their_losses[:7], rtol=1e-6)
    for a, b in zip(jax.tree.leaves(ours.optim_state), jax.tree.leaves(theirs.optim_state)):
        # two programs: XLA may round differently (1.8e-7 on a 0.035 entry at level 0;
        # 1.5e-6 on a -0.0075 entry of an IAF weight matrix whose entries reach 12):
        # float32 rounding at the leaf's own scale
        b = np.asarray(b)
        np.testing.assert_allclose(np.asarray(a), b, rtol=1e-5,
                                   atol=1e-6 * max(1.0, float(np.abs(b).max())))


@pytest.mark.parametrize("model_name,method", [("linreg", "auto_diagonal"),
                                               ("corrgauss", "auto_iaf")])
def test_seeds_fitted_as_one_batch_are_each_seed_fitted_alone(model_name, method):
    """run_svi_seeds: each seed of a vmapped batch stops where it stops alone (its own
    convergence) with its losses and params equal up to float rounding (the batched
    program may order a reduction differently); the seeds differ from each other."""
    from svibench.engine.svi import run_svi_seeds

    model, arrays = problem(model_name)
    m = get_method(method)
    opts = dict(max_steps=1500, lr=0.01, chunk=100, stop_at_convergence=True, elbo=m.elbo)
    alone = [run_svi(model, m.build(model, **m.defaults), arrays, seed=s, **opts)
             for s in (1, 2, 3)]
    for mode in ("vmap", "loop"):
        batch = run_svi_seeds(model, m.build(model, **m.defaults), arrays, seeds=[1, 2, 3],
                              batch=mode, **opts)
        for a, b in zip(alone, batch):
            assert (b.status, b.steps_run, b.converged_at) == (a.status, a.steps_run, a.converged_at)
            pa, pb = flatten_params(a.params).values(), flatten_params(b.params).values()
            if mode == "loop":  # the program each seed runs alone: the same numbers
                np.testing.assert_array_equal(b.losses, a.losses)
                for x, y in zip(pa, pb):
                    np.testing.assert_array_equal(y, x)
            else:
                np.testing.assert_allclose(b.losses, a.losses, rtol=1e-4, atol=1e-3)
                for x, y in zip(pa, pb):
                    np.testing.assert_allclose(y, x, rtol=1e-4, atol=1e-5)
        assert not np.allclose(batch[0].losses[:50], batch[1].losses[:50])


def test_a_diverging_seed_stops_alone_and_the_others_run_on():
    """At lr 2 hier's AutoNormal blows up after 1000-2500 steps. The path there is
    chaotic: the vmapped batch's rounding (see above) moves the step it blows up at, so
    only the early losses are compared with each seed alone; looped, every step is
    the one alone."""
    from svibench.engine.svi import run_svi_seeds

    model, arrays = problem("hier", groups=3)
    m = get_method("auto_normal")
    opts = dict(max_steps=3000, lr=2.0, chunk=10)
    batch = run_svi_seeds(model, m.build(model), arrays, seeds=[0, 1], batch="vmap", **opts)
    assert [b.status for b in batch] == ["diverged", "diverged"]
    assert batch[0].diverged_at != batch[1].diverged_at  # the later one ran on alone
    for seed, b in zip((0, 1), batch):
        assert b.steps_run == b.diverged_at == len(b.losses)
        # the last step's loss or the params it made are non-finite: it is not applied
        assert np.isfinite(b.losses[:-1]).all()
        assert all(np.isfinite(v).all() for v in flatten_params(b.params).values())
        a = run_svi(model, m.build(model), arrays, seed=seed, **{**opts, "max_steps": 100})
        np.testing.assert_allclose(b.losses[:100], a.losses, rtol=1e-3)
    looped = run_svi_seeds(model, m.build(model), arrays, seeds=[0, 1], batch="loop", **opts)
    alone = run_svi(model, m.build(model), arrays, seed=1, **opts)
    assert looped[0].diverged_at != looped[1].diverged_at
    assert looped[1].diverged_at == alone.diverged_at
    np.testing.assert_array_equal(looped[1].losses, alone.losses)


def test_steps_in_blocks_of_static_length_are_the_plain_loops_steps():
    """chunk_runner's ``block`` (the program the engine uses on an accelerator): the
    same key chain, bit for bit; 7 steps in blocks of 3 apply 7 steps, not 9 (the
    last block's two extra steps are computed and dropped); losses, params and
    finiteness equal the plain loop's up to float rounding (another program), and
    unused entries are NaN as there. A whole fit takes the same number of steps."""
    import jax
    from numpyro.infer import SVI
    from numpyro.optim import Adam

    from svibench.engine.svi import chunk_runner, make_elbo, run_svi_seeds

    model, arrays = problem("hier", groups=3)
    m = get_method("auto_normal")
    svi = SVI(model, m.build(model), Adam(0.05), make_elbo(m.elbo, 1))
    state = svi.init(jax.random.PRNGKey(1), **arrays)
    plain = chunk_runner(svi, 9)
    blocks = chunk_runner(svi, 9, block=3)
    for n in (0, 3, 7, 9):
        a, la, fa = plain(state, n, arrays)
        b, lb, fb = blocks(state, n, arrays)
        np.testing.assert_array_equal(b.rng_key, a.rng_key)
        np.testing.assert_array_equal(np.isnan(lb), np.isnan(la))
        np.testing.assert_allclose(lb[:n], la[:n], rtol=1e-5)
        np.testing.assert_array_equal(fb[:n], fa[:n])
        assert not np.asarray(fb[n:]).any()
        for x, y in zip(jax.tree.leaves(a.optim_state), jax.tree.leaves(b.optim_state)):
            np.testing.assert_allclose(np.asarray(y), np.asarray(x), rtol=1e-5, atol=1e-6)
    # the dropped steps would have moved the params far beyond rounding
    nine, _, _ = plain(state, 9, arrays)
    seven, _, _ = blocks(state, 7, arrays)
    moved = [np.abs(np.asarray(x) - np.asarray(y)).max()
             for x, y in zip(jax.tree.leaves(nine.optim_state), jax.tree.leaves(seven.optim_state))]
    assert max(moved) > 1e-3

    model, arrays = problem("linreg")
    opts = dict(max_steps=20000, lr=0.01, chunk=50, stop_at_convergence=True)
    fits = [run_svi_seeds(model, get_method("auto_diagonal").build(model), arrays, seeds=[3],
                          static_blocks=static, **opts)[0] for static in (False, True)]
    assert fits[0].converged_at is not None
    assert (fits[1].steps_run, fits[1].converged_at) == (fits[0].steps_run, fits[0].converged_at)
    np.testing.assert_allclose(fits[1].losses, fits[0].losses, rtol=1e-5)
