"""Your own model (``svibench.usermodel``): a NumPyro model in a file outside the
package, named in a config by ``module:``; every bad input is one line naming the key
and the file, raised when the config is read."""

import json
import os

import numpy as np
import pandas as pd
import pytest

from svibench.config import ConfigError, validate
from svibench.models import get_model, model_names, unregister

MODEL = '''
import numpyro
import numpyro.distributions as dist

description = "two means, known noise"
reported = ["gap"]


def model(N, y, sigma=1.0):
    theta = numpyro.sample("theta", dist.Normal(0.0, 10.0).expand([2]).to_event(1))
    numpyro.deterministic("gap", theta[1] - theta[0])
    with numpyro.plate("n", N):
        numpyro.sample("y", dist.Normal(theta, sigma).to_event(1), obs=y)
'''
DATA = {"N": 3, "y": [[0.1, 1.9], [-0.2, 2.3], [0.4, 2.0]]}


@pytest.fixture
def own(tmp_path):
    """A model file, its data and exact reference draws in a folder outside the package;
    ``own(**changes)`` writes them and returns the config of a study of it."""
    made = []

    def make(model=MODEL, data=DATA, draws="default", data_name="data.json", extra=None):
        (tmp_path / "model.py").write_text(model)
        if isinstance(data, dict):
            (tmp_path / data_name).write_text(json.dumps(data))
        elif data is not None:
            (tmp_path / data_name).write_text(data)
        dataset = {"data": str(tmp_path / data_name)}
        if draws is not None:
            if isinstance(draws, str) and draws == "default":
                rng = np.random.default_rng(0)
                draws = pd.DataFrame({"theta[0]": rng.normal(0.1, 0.5, 400),
                                      "theta[1]": rng.normal(2.0, 0.5, 400)})
            draws.to_csv(tmp_path / "draws.csv", index=False)
            dataset["reference_draws"] = str(tmp_path / "draws.csv")
        entry = {"module": str(tmp_path / "model.py"), "datasets": {"a": {**dataset, **(extra or {})}},
                 "methods": ["nuts", "auto_normal"]}
        made.append("mine")
        return {"models": {"mine": entry}}

    yield make
    unregister("mine")


def refused(cfg) -> str:
    with pytest.raises(ConfigError) as err:
        validate(cfg)
    msg = str(err.value)
    assert "\n" not in msg, msg
    return msg


def test_a_model_of_your_own_is_registered_with_its_latents(own):
    cfg = validate(own())
    assert cfg["models"]["mine"]["datasets"]["a"]["data"].endswith("data.json")
    model = get_model("mine")
    assert "mine" in model_names() and model.description == "two means, known noise"
    assert model.reported == ("gap",) and model.latent_dim({}) == 2
    assert list(cfg["models"]["mine"]["methods"]) == ["nuts", "auto_normal"]
    every = own()
    every["models"]["mine"]["methods"] = "all"
    assert "auto_iaf" in validate(every)["models"]["mine"]["methods"]  # D = 2: flows apply


def test_missing_module_file(own, tmp_path):
    cfg = own()
    cfg["models"]["mine"]["module"] = str(tmp_path / "nope.py")
    msg = refused(cfg)
    assert msg.startswith("models.mine.module: ") and "nope.py: file does not exist" in msg


def test_module_that_does_not_import(own):
    msg = refused(own(model="import numpyro\n\ndef model(N, y:\n    pass\n"))
    assert msg.startswith("models.mine.module: ") and "model.py: import failed: SyntaxError (line 3)" in msg
    msg = refused(own(model="import numpyro\nx = 1 / 0\n"))
    assert "model.py: import failed: ZeroDivisionError (line 2): division by zero" in msg
    msg = refused(own(model="import no_such_package_here\n"))
    assert "import failed: ModuleNotFoundError (line 1): No module named 'no_such_package_here'" in msg


def test_module_without_model(own):
    msg = refused(own(model="def mdl(N, y):\n    pass\n"))
    assert msg.startswith("models.mine.module: ") and "model.py: defines no 'model'" in msg
    msg = refused(own(model="model = 3\n"))
    assert "'model' is a int, not a function" in msg


def test_reported_name_that_is_no_site(own):
    msg = refused(own(model=MODEL.replace('reported = ["gap"]', 'reported = ["gapp"]')))
    assert msg.startswith("models.mine.module: ") and "reported name 'gapp'" in msg


def test_missing_data_file(own, tmp_path):
    cfg = own()
    cfg["models"]["mine"]["datasets"]["a"]["data"] = str(tmp_path / "none.json")
    msg = refused(cfg)
    assert msg.startswith("models.mine.datasets.a.data: ") and "none.json: file does not exist" in msg


def test_data_that_does_not_parse(own):
    msg = refused(own(data='{"N": 3, "y": [1, 2,}'))
    assert msg.startswith("models.mine.datasets.a.data: ") and "data.json: line 1: JSON does not parse" in msg
    msg = refused(own(data='[1, 2]'))
    assert "must be a JSON object" in msg
    msg = refused(own(data={"N": 3, "y": [[1, 2], [3]]}))
    assert "key 'y': not a rectangular array of numbers" in msg


def test_data_keys_that_are_not_the_models_arguments(own):
    msg = refused(own(data={**DATA, "z": [1.0, 2.0]}))
    assert msg.startswith("models.mine.datasets.a.data: ")
    assert "data.json: key 'z' is not an argument of model(N, y, sigma) in " in msg and "model.py" in msg
    msg = refused(own(data={"y": DATA["y"]}))
    assert "data.json: no value for argument 'N' of model(N, y, sigma)" in msg


def test_model_that_fails_on_the_data(own):
    msg = refused(own(data={**DATA, "sigma": [1.0, 1.0, 1.0, 1.0, 1.0]}))  # 5 sds for 2 means
    assert msg.startswith("models.mine.datasets.a.data: ")
    assert "model(**data) of" in msg and "fails on these data: ValueError" in msg


def test_data_from_a_csv(own, tmp_path):
    csv_model = MODEL.replace("def model(N, y, sigma=1.0):", "def model(y, sigma=1.0):").replace(
        'numpyro.plate("n", N)', 'numpyro.plate("n", y.shape[0])').replace(
        "expand([2]).to_event(1)", "expand([1]).to_event(1)").replace(
        "theta[1] - theta[0]", "theta[0]").replace(".to_event(1), obs=y)", ", obs=y)")
    cfg = own(model=csv_model, data="y\n0.5\n 1.5\n", data_name="data.csv", draws=None)
    validate(cfg)
    msg = refused(own(model=csv_model, data="y\n0.5\nabc\n", data_name="data.csv", draws=None))
    assert "data.csv: column 'y', row 2: not a finite number: 'abc'" in msg


def test_reference_draws_with_a_column_that_is_no_latent(own):
    draws = pd.DataFrame({"theta[0]": np.zeros(200), "theta[1]": np.ones(200),
                          "thetaa[2]": np.ones(200)})
    msg = refused(own(draws=draws))
    assert msg.startswith("models.mine.datasets.a.reference_draws: ")
    assert "draws.csv: column 'thetaa[2]' is not a latent of the model (latents: theta[0], theta[1], gap)" in msg


def test_reference_draws_missing_part_of_a_site_or_too_few(own):
    msg = refused(own(draws=pd.DataFrame({"theta[0]": np.zeros(200)})))
    assert "draws.csv: column 'theta[1]' missing (site 'theta' needs all" in msg
    msg = refused(own(draws=pd.DataFrame({"theta[0]": np.zeros(20), "theta[1]": np.zeros(20)})))
    assert "draws.csv: 20 draws; a reference needs at least 100" in msg


def test_missing_reference_draws_file(own, tmp_path):
    cfg = own()
    cfg["models"]["mine"]["datasets"]["a"]["reference_draws"] = str(tmp_path / "no.parquet")
    msg = refused(cfg)
    assert msg.startswith("models.mine.datasets.a.reference_draws: ") and "no.parquet: file does not exist" in msg


def test_keys_of_a_dataset_of_your_own(own):
    msg = refused(own(extra={"seed": 1}))
    assert msg.startswith("models.mine.datasets.a: unknown key 'seed'")
    msg = refused({"models": {"coin": {"datasets": {"a": {"data": "x.json"}}, "methods": ["nuts"]}}})
    assert msg.startswith("models.coin.datasets.a.data: model coin is built in")
    cfg = own()
    cfg["models"]["coin"] = cfg["models"].pop("mine")
    assert refused(cfg).startswith("models.coin.module: 'coin' is a built-in model")


def test_a_job_imports_the_model_from_the_environment(own, monkeypatch):
    """Jobs are processes of their own: ``get_model`` finds the file through the
    variable that common.smk sets from the validated config."""
    from svibench import usermodel

    cfg = validate(own())
    env = usermodel.environment(cfg)
    unregister("mine")
    with pytest.raises(KeyError):
        get_model("mine")
    monkeypatch.setenv(usermodel.ENV, env)
    model = get_model("mine")
    assert model.reported == ("gap",) and os.path.isabs(json.loads(env)["mine"])


def test_given_reference_is_the_reference(own, tmp_path):
    """The import (rule simulate), the dataset as a fit sees it, and the given draws as
    the reference (kind ``given``), in chain-major order of a ``chain`` column."""
    from svibench import io
    from svibench.data import load_problem, make_dataset
    from svibench.reference import build_reference

    rng = np.random.default_rng(1)
    draws = pd.DataFrame({"chain": np.repeat([1, 0], 300), "theta[0]": rng.normal(0.1, 0.5, 600),
                          "theta[1]": rng.normal(2.0, 0.5, 600)})
    cfg = validate(own(draws=draws))
    settings = cfg["models"]["mine"]["datasets"]["a"]
    make_dataset("mine", "a", settings, tmp_path / "d.csv", tmp_path / "d.json")
    meta = io.read_json(tmp_path / "d.json")
    assert meta["source"] == "user" and meta["settings"]["values"] == DATA and meta["truth"] == {}
    problem = load_problem("mine", tmp_path / "d.csv", tmp_path / "d.json")
    assert problem.static == {"N": 3} and problem.arrays["y"].shape == (3, 2)
    out = {k: tmp_path / "ref" / f for k, f in (("draws", "draws.parquet"), ("json", "reference.json"),
                                                 ("mocks", "mocks.parquet"))}
    info = build_reference("mine", "a", tmp_path / "d.csv", tmp_path / "d.json",
                           {"target_ess": 100}, out)
    assert info["kind"] == "given" and info["chains"] == 2 and info["draws_per_chain"] == 300
    assert info["latents"] == ["theta[0]", "theta[1]"] and info["meets_standard"], info["problems"]
    ref = io.read_parquet(out["draws"])
    np.testing.assert_array_equal(ref["theta[0]"].to_numpy()[:300],
                                  draws["theta[0]"].to_numpy()[300:])  # chain 0 first


def test_the_example_study_is_valid(monkeypatch):
    """config/own_model.yaml and examples/own_model/: the model, its data and its draws."""
    from pathlib import Path

    import yaml

    from svibench.usermodel import read_draws, read_data, split_values, latents

    root = Path(__file__).resolve().parents[2]
    monkeypatch.chdir(root)  # its paths are relative to the repository root
    try:
        cfg = validate(yaml.safe_load((root / "config/own_model.yaml").read_text()))
        entry = cfg["models"]["logistic"]
        assert set(entry["datasets"]) == {"example", "given"}
        model = get_model("logistic")
        arrays, static = split_values(read_data(entry["datasets"]["given"]["data"]))
        sites = latents(model, arrays, static)
        assert sites == {"alpha": (), "tau": (), "z": (2,), "beta": (2,)}
        draws, chains = read_draws(entry["datasets"]["given"]["reference_draws"], sites)
        assert chains == 4 and list(draws.columns) == ["alpha", "tau", "z[0]", "z[1]",
                                                       "beta[0]", "beta[1]"]
    finally:
        unregister("logistic")
