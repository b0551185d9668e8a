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


# -- the protocol ---------------------------------------------------------------

def test_every_built_in_model_keeps_the_protocol():
    from svibench.models.base import Model, check_protocol

    for name in MODEL_NAMES:
        mod = get_model(name)
        assert isinstance(mod, Model) and mod.name == name and mod.description
        check_protocol(mod)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_latent_dim_counts_the_simulated_latents(name):
    mod = get_model(name)
    settings = dict(mod.defaults, **({"groups": 5} if "groups" in mod.defaults else {}))
    df, _ = mod.simulate(settings, 0)
    arrays, static = mod.prepare(df, settings)
    from svibench.engine.draws import latent_sites

    sites = latent_sites(bound_model(mod, static), arrays)
    latent = {k: s for k, s in sites.items() if k not in mod.reported}  # reported: deterministic
    assert sum(int(np.prod(shape)) for shape in latent.values()) == mod.latent_dim(settings)


def test_capabilities_replace_the_old_special_cases():
    assert get_model("hier").latent_dim({"groups": 8}) == 20
    assert [n for n in MODEL_NAMES if get_model(n).csv_columns] == ["linreg", "hier"]
    assert [n for n in MODEL_NAMES if "density" in get_model(n).figures] == ["corrgauss", "multimodal"]
    from svibench.models import POSTERIORDB

    assert [n for n in MODEL_NAMES if not get_model(n).has_observations] == [
        "corrgauss", "multimodal", *POSTERIORDB]
    assert {n: get_model(n).reference_kind for n in MODEL_NAMES} == {
        "coin": "exact", "corrgauss": "exact", "multimodal": "grid", "linreg": "nuts", "hier": "nuts",
        **{n: "posteriordb" for n in POSTERIORDB}}
    assert get_model("multimodal").modes == ("u1<0", "u1>0")
    # the reference of a model without a reparameterisation runs the model itself
    fn = bound_model("linreg", {})
    assert get_model("linreg").reference_model(fn) is fn
    assert get_model("hier").reference_model(fn) is not fn


TOY = '''
import numpy as np
import pandas as pd

from svibench.models import Model


class Toy(Model):
    """y_i ~ Normal(mu, 1), mu ~ Normal(0, 10)."""

    name = "{name}"
    description = "toy: a normal mean"
    defaults = {{"n": 10, "mu": 1.5}}
    csv_columns = ("y",)

    def simulate(self, settings, seed):
        rng = np.random.default_rng(seed)
        y = settings["mu"] + rng.normal(size=int(settings["n"]))
        return pd.DataFrame({{"y": y}}), {{"mu": float(settings["mu"])}}

    def prepare(self, df, settings):
        import jax.numpy as jnp

        return {{"y": jnp.asarray(df["y"].to_numpy(), jnp.float32)}}, {{}}

    def model(self, y=None, n=None):
        import numpyro
        import numpyro.distributions as dist

        mu = numpyro.sample("mu", dist.Normal(0.0, 10.0))
        with numpyro.plate("data", y.shape[0] if y is not None else n):
            numpyro.sample("y", dist.Normal(mu, 1.0), obs=y)

    def latent_dim(self, settings):
        return 1
'''


def load_toy(tmp_path, name):
    import importlib.util

    path = tmp_path / f"{name}.py"
    path.write_text(TOY.format(name=name))
    spec = importlib.util.spec_from_file_location(f"toy_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.Toy()


def test_a_registered_model_is_simulated_and_fitted_like_a_built_in_one(tmp_path):
    from svibench import io
    from svibench.config import validate
    from svibench.data import simulate_dataset
    from svibench.fitting import run_fit
    from svibench.methods import methods_for
    from svibench.models import model_names, register, unregister

    toy = load_toy(tmp_path, "toy_normal")
    register(toy)
    try:
        assert get_model("toy_normal") is toy and "toy_normal" in model_names()
        assert "auto_normal" in methods_for("toy_normal")
        assert "auto_iaf" not in methods_for("toy_normal")  # one latent: flows skip it
        assert "beta" not in methods_for("toy_normal")  # another model's hand-written guide
        cfg = validate({"models": {"toy_normal": {"datasets": {"a": {"seed": 1, "n": 12}},
                                                  "methods": ["auto_normal"]}}})
        assert cfg["models"]["toy_normal"]["datasets"]["a"] == {"seed": 1, "n": 12, "mu": 1.5}
        simulate_dataset("toy_normal", "a", {"seed": 1, "n": 12, "mu": 1.5},
                         tmp_path / "a.csv", tmp_path / "a.json")
        out = {k: tmp_path / "fit" / f for k, f in (
            ("draws", "draws.parquet"), ("trace", "trace.parquet"), ("params", "params.npz"),
            ("fit", "fit.json"), ("mocks", "mocks.parquet"))}
        opts = {"max_steps": 30, "lr": 0.05, "particles": 1, "chunk": 10, "seed": 0,
                "elbo": "trace", "guide": {}, "draws": 50, "predictive_draws": 5}
        info = run_fit("toy_normal", "a", "auto_normal", tmp_path / "a.csv", tmp_path / "a.json",
                       opts, out)
        assert info["status"] == "ok" and info["model"] == "toy_normal" and info["latents"] == ["mu"]
        draws = io.read_parquet(out["draws"])
        assert list(draws.columns) == ["mu"] and len(draws) == 50 and np.isfinite(draws["mu"]).all()
        assert io.read_parquet(out["mocks"]).shape == (5, 12)  # one column y[i] per point
    finally:
        unregister("toy_normal")
    assert "toy_normal" not in model_names()
    with pytest.raises(KeyError, match="unknown model 'toy_normal'"):
        get_model("toy_normal")


def test_register_refuses_a_taken_name_and_a_broken_protocol(tmp_path):
    from svibench.models import register

    toy = load_toy(tmp_path, "coin")
    with pytest.raises(ValueError, match="already registered"):
        register(toy)
    bad = load_toy(tmp_path, "toy_exact")
    bad.reference_kind = "exact"  # without an exact_posterior
    with pytest.raises(TypeError, match="needs exact_posterior"):
        register(bad)
    bad = load_toy(tmp_path, "toy_density")
    bad.figures = ("density",)  # without log_density_2d
    with pytest.raises(TypeError, match="needs log_density_2d"):
        register(bad)
    with pytest.raises(TypeError, match="takes a Model instance"):
        register(get_model)


def test_no_model_is_named_outside_models():
    """Code outside ``models/`` reads capabilities; it never names a model (docstrings
    aside: they may give examples)."""
    import ast
    import re
    from pathlib import Path

    package = Path(__file__).resolve().parents[2] / "workflow" / "svibench"
    pending = set()
    word = re.compile(r"\b(" + "|".join(MODEL_NAMES) + r")\b")
    found = []
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package)
        if rel.parts[0] == "models" or str(rel) in pending:
            continue
        tree = ast.parse(path.read_text())
        docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                      if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef,
                                           ast.AsyncFunctionDef))
                      and node.body and isinstance(node.body[0], ast.Expr)
                      and isinstance(node.body[0].value, ast.Constant)}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                    and id(node) not in docstrings and word.search(node.value)):
                found.append(f"{rel}:{node.lineno}: {node.value!r}")
    assert not found, "model names outside models/:\n" + "\n".join(found)
