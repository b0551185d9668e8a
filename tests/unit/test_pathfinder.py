"""Pathfinder and multi-path Pathfinder (BlackJAX) as methods: draws in the model's
own space, accurate on exact posteriors, failures reported, reproducible."""

import json
import time

import numpy as np
import pytest

from svibench import io
from svibench.config import ConfigError, defaults, fit_options, validate
from svibench.data import bound_model, simulate_dataset
from svibench.fitting import run_fit
from svibench.methods import get_method, methods_for
from svibench.models import MODEL_NAMES
from svibench.scheduling import fit_priority

TIMES = {}  # seconds per fit, printed with -s


def options(method: str, **over) -> dict:
    m = get_method(method)
    return {**defaults("pathfinder"), **m.defaults, "draws": 4000, "predictive_draws": 50,
            **over}


def fit(d, model, settings, method, name=None, **over):
    name = name or method
    csv, meta = d / f"{model}.csv", d / f"{model}.json"
    if not csv.exists():
        simulate_dataset(model, "t", settings, csv, meta)
    out = {k: d / name / f for k, f in (("draws", "draws.parquet"), ("trace", "trace.parquet"),
                                         ("fit", "fit.json"), ("mocks", "mocks.parquet"))}
    t0 = time.perf_counter()
    info = run_fit(model, "t", method, csv, meta, options(method, **over), out)
    TIMES[f"{model}/{name}"] = time.perf_counter() - t0
    return info, out


@pytest.fixture(scope="module")
def coin(tmp_path_factory):
    d = tmp_path_factory.mktemp("coin")
    # 12 heads of 20 tosses, f ~ Uniform(0, 1): the posterior is Beta(13, 9)
    return d, {m: fit(d, "coin", {"seed": 1, "n": 20, "heads": 12, "p": None}, m)
               for m in ("pathfinder", "multipathfinder")}


@pytest.fixture(scope="module")
def corrgauss(tmp_path_factory):
    d = tmp_path_factory.mktemp("corrgauss")
    return d, {m: fit(d, "corrgauss", {"seed": 1, "sd_minor": 1.0, "sd_major": 3.0,
                                       "angle_deg": 45.0, "mean": [1.0, -2.0]}, m)
               for m in ("pathfinder", "multipathfinder")}


def test_pathfinder_applies_to_every_model():
    for model in MODEL_NAMES:
        assert {"pathfinder", "multipathfinder"} <= set(methods_for(model)), model


@pytest.mark.parametrize("method", ["pathfinder", "multipathfinder"])
def test_coin_matches_the_exact_beta(coin, method):
    a, b = 13.0, 9.0
    mean, sd = a / (a + b), np.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
    info, out = coin[1][method]
    draws = io.read_parquet(out["draws"])
    assert list(draws.columns) == ["f"] and len(draws) == 4000
    f = draws["f"].to_numpy()
    print(f"\n{method} coin: mean {f.mean():.4f} (exact {mean:.4f}), sd {f.std():.4f} "
          f"(exact {sd:.4f}), {TIMES[f'coin/{method}']:.1f} s, "
          f"{info['gradient_evaluations']} gradient evaluations, k-hat {info['psis']['khat']}")
    assert abs(f.mean() - mean) < 0.1 * sd
    assert abs(f.std() / sd - 1) < 0.2
    assert ((f > 0) & (f < 1)).all()  # the model's own space, not logit
    assert info["status"] == "ok" and info["kind"] == "pathfinder"
    assert info["num_paths"] == (1 if method == "pathfinder" else 4)
    assert info["gradient_evaluations"] > 0 and info["final_elbo"] is not None
    trace = io.read_parquet(out["trace"])
    assert list(trace.columns) == ["path", "iteration", "elbo"]
    assert set(trace["path"]) == set(range(info["num_paths"]))
    assert len(io.read_parquet(out["mocks"])) == 50
    assert not (out["draws"].parent / "params.npz").exists()


@pytest.mark.parametrize("method", ["pathfinder", "multipathfinder"])
def test_corrgauss_matches_the_gaussian(corrgauss, method):
    info, out = corrgauss[1][method]
    draws = io.read_parquet(out["draws"])
    assert list(draws.columns) == ["x", "y"]
    sd = np.sqrt((1 + 9) / 2)  # each coordinate: half of minor and major variance
    x = draws.to_numpy()
    print(f"\n{method} corrgauss: means {x.mean(0).round(3)} (exact [1, -2]), sds "
          f"{x.std(0).round(3)} (exact {sd:.3f}), corr {np.corrcoef(x.T)[0, 1]:.3f} (exact 0.8), "
          f"{TIMES[f'corrgauss/{method}']:.1f} s, {info['gradient_evaluations']} gradient evaluations")
    np.testing.assert_array_less(np.abs(x.mean(0) - [1.0, -2.0]), 0.1 * sd)
    np.testing.assert_array_less(np.abs(x.std(0) / sd - 1), 0.2)
    assert abs(np.corrcoef(x.T)[0, 1] - 0.8) < 0.1  # 45 degrees: (9 - 1) / 2 / 5
    assert info["status"] == "ok"


def test_same_seed_same_draws(coin):
    d, fits = coin
    _, again = fit(d, "coin", None, "multipathfinder", name="again")
    assert again["draws"].read_bytes() == fits["multipathfinder"][1]["draws"].read_bytes()
    _, other = fit(d, "coin", None, "multipathfinder", name="other", seed=4)
    assert other["draws"].read_bytes() != fits["multipathfinder"][1]["draws"].read_bytes()


def test_seeds_of_one_job_share_its_compiled_program_and_draw_as_alone(coin):
    """run_fits runs a job's seeds through the first seed's compiled program: seed 4
    after seed 3 draws exactly what seed 4 draws alone, with no compile of its own."""
    from svibench.fitting import run_fits

    d, _ = coin
    outs = [{k: d / f"batch{s}" / f for k, f in (("draws", "draws.parquet"),
                                                  ("trace", "trace.parquet"),
                                                  ("fit", "fit.json"))} for s in (3, 4)]
    infos = run_fits("coin", "t", "multipathfinder", d / "coin.csv", d / "coin.json",
                     [(options("multipathfinder", seed=s), o) for s, o in zip((3, 4), outs)])
    _, alone = fit(d, "coin", None, "multipathfinder", name="alone4", seed=4)
    assert outs[1]["draws"].read_bytes() == alone["draws"].read_bytes()
    assert infos[1]["seconds"]["compile"] < 0.1 < infos[0]["seconds"]["compile"]


def _nan_model():
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist

    def model():
        x = numpyro.sample("x", dist.Normal(0.0, 1.0))
        numpyro.factor("broken", jnp.nan * x)

    return model


def test_nan_log_density_is_reported_not_raised():
    from svibench.engine.pathfinder import run_pathfinder

    fit = run_pathfinder(_nan_model(), {}, seed=0, draws=100, num_paths=2, maxiter=10)
    assert fit.status == "failed" and "initial point" in fit.reason
    assert fit.samples == {} and fit.gradient_evaluations == 0


def test_nan_beyond_the_start_is_reported_not_raised():
    """A log density that is NaN past x = 1 while its mode is at 5: L-BFGS runs into it."""
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist

    from svibench.engine.pathfinder import run_pathfinder

    def model():
        x = numpyro.sample("x", dist.ImproperUniform(dist.constraints.real, (), ()))
        numpyro.factor("f", jnp.where(x < 1.0, -0.5 * (x - 5.0) ** 2, jnp.nan))

    fit = run_pathfinder(model, {}, seed=0, draws=100, num_paths=2, maxiter=20)
    assert fit.status in ("ok", "diverged", "failed")
    if fit.status == "ok":
        assert np.isfinite(fit.samples["x"]).all()
    else:
        assert fit.reason


def test_a_failed_fit_writes_its_files_and_reason(tmp_path, monkeypatch):
    """The fit job of a model whose log density is NaN: status failed, NaN draws,
    no mocks, no metric to score: the study goes on."""
    import svibench.fitting as fitting
    from svibench.data import load_problem

    def broken(model, csv, meta):
        p = load_problem(model, csv, meta)
        return type(p)(**{**p.__dict__, "fn": _nan_model(), "arrays": {}})

    simulate_dataset("coin", "t", {"seed": 1, "n": 20, "heads": 12, "p": None},
                     tmp_path / "c.csv", tmp_path / "c.json")
    monkeypatch.setattr(fitting, "load_problem", broken)
    monkeypatch.setattr(fitting, "latent_sites", lambda fn, arrays: {"x": ()})
    out = {k: tmp_path / f for k, f in (("draws", "draws.parquet"), ("trace", "trace.parquet"),
                                         ("fit", "fit.json"), ("mocks", "mocks.parquet"))}
    info = run_fit("coin", "t", "pathfinder", tmp_path / "c.csv", tmp_path / "c.json",
                   options("pathfinder", draws=200), out)
    saved = json.loads(out["fit"].read_text())
    assert saved["status"] == info["status"] == "failed" and "initial point" in saved["reason"]
    assert saved["final_elbo"] is None and saved["psis"]["khat"] is None
    draws = io.read_parquet(out["draws"])
    assert list(draws.columns) == ["x"] and draws["x"].isna().all()
    assert io.read_parquet(out["mocks"]).empty


def test_config_sections_and_overrides():
    cfg = validate({"models": {"coin": {"datasets": {"a": {"seed": 1}},
                                        "methods": ["pathfinder", {"multipathfinder":
                                                                   {"num_paths": 8}}]}}})
    single = fit_options(cfg, "coin", "pathfinder")
    multi = fit_options(cfg, "coin", "multipathfinder")
    assert single["num_paths"] == 1 and multi["num_paths"] == 8
    assert single["draws"] == cfg["draws"] and single["seed"] == cfg["pathfinder"]["seed"]
    assert fit_priority(multi, "pathfinder") == fit_priority(single, "pathfinder") == 1
    with pytest.raises(ConfigError, match="unknown key 'lr'"):
        validate({"models": {"coin": {"datasets": {"a": {"seed": 1}},
                                      "methods": [{"pathfinder": {"lr": 0.1}}]}}})
    with pytest.raises(ConfigError, match="pathfinder.maxiter"):
        validate({"models": {"coin": {"datasets": {"a": {"seed": 1}},
                                      "methods": [{"pathfinder": {"maxiter": 0}}]}}})
    # `all` takes them
    cfg = validate({"models": {"coin": {"datasets": {"a": {"seed": 1}}, "methods": "all"}}})
    assert {"pathfinder", "multipathfinder"} <= set(cfg["models"]["coin"]["methods"])
