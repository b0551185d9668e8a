"""A fit job draws its posterior predictive mocks; the evaluate job scores them
without starting JAX (issue 6: a JAX start costs a job ~1.3 s)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from svibench import io, seeds
from svibench.data import simulate_dataset
from svibench.evaluate import evaluate_fit
from svibench.fitting import run_fit
from svibench.predictive import observed_in_csv
from svibench.reference import build_reference

ROOT = Path(__file__).resolve().parents[2]
OPTS = {"max_steps": 400, "lr": 0.05, "particles": 1, "chunk": 100, "seed": 3,
        "elbo": "trace", "guide": {}, "draws": 1000, "predictive_draws": 300}


def fit_files(d: Path, name: str) -> dict:
    return {k: d / name / f for k, f in (("draws", "draws.parquet"), ("trace", "trace.parquet"),
                                         ("params", "params.npz"), ("fit", "fit.json"),
                                         ("mocks", "mocks.parquet"))}


@pytest.fixture(scope="module")
def coin(tmp_path_factory):
    d = tmp_path_factory.mktemp("coin")
    simulate_dataset("coin", "t", {"seed": 1, "n": 40, "heads": 12, "p": None},
                     d / "t.csv", d / "t.json")
    ref = {"draws": d / "ref.parquet", "json": d / "ref.json", "mocks": d / "refm.parquet"}
    build_reference("coin", "t", d / "t.csv", d / "t.json", {"predictive_draws": 300}, ref)
    return d, ref


def fit(d: Path, name: str, **opts) -> tuple[dict, dict]:
    out = fit_files(d, name)
    info = run_fit("coin", "t", "auto_normal", d / "t.csv", d / "t.json", {**OPTS, **opts}, out)
    return info, out


def test_a_fit_writes_its_mocks_and_the_same_seed_gives_the_same_mocks(coin):
    d, _ = coin
    info, out = fit(d, "a")
    mocks = io.read_parquet(out["mocks"])
    assert list(mocks.columns) == ["heads"] and len(mocks) == OPTS["predictive_draws"]
    assert info["seeds"]["mocks"] == seeds.mocks(OPTS["seed"])
    # the mocks come from the fitted posterior: 12 of 40 heads observed
    assert 8 < mocks["heads"].mean() < 16 and mocks["heads"].std() > 1
    _, again = fit(d, "b")
    pd.testing.assert_frame_equal(io.read_parquet(again["mocks"]), mocks)
    _, other = fit(d, "c", seed=4)
    assert not io.read_parquet(other["mocks"]).equals(mocks)


def test_no_mocks_when_none_are_asked_for_or_the_fit_diverged(coin):
    d, _ = coin
    info, out = fit(d, "none", predictive_draws=0)
    assert io.read_parquet(out["mocks"]).empty and "mocks" not in info["seeds"]
    info, out = fit(d, "div", lr=1e30, max_steps=300)
    assert info["status"] == "diverged" and io.read_parquet(out["mocks"]).empty


EVALUATE = """
import json, sys
from svibench.evaluate import evaluate_fit
m = evaluate_fit({files}, {ref}, {csv!r}, {meta!r}, {{"predictive_draws": 300}},
                 {{"metrics": {metrics!r}}})
print(json.dumps({{"jax": "jax" in sys.modules, "numpyro": "numpyro" in sys.modules,
                  "predictive": m["predictive"]}}))
"""


def test_evaluate_scores_a_fits_mocks_without_starting_jax(coin):
    d, ref = coin
    _, out = fit(d, "e")
    files = {k: str(out[k]) for k in ("draws", "fit", "mocks")}
    code = EVALUATE.format(files=files, ref={k: str(v) for k, v in ref.items()},
                           csv=str(d / "t.csv"), meta=str(d / "t.json"),
                           metrics=str(d / "e" / "metrics.json"))
    env = {**os.environ, "PYTHONPATH": str(ROOT / "workflow")}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, env=env)
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert not seen["jax"] and not seen["numpyro"]
    # the same numbers as scoring in a process that has JAX loaded
    here = evaluate_fit(files, ref, d / "t.csv", d / "t.json", {"predictive_draws": 300},
                        {"metrics": d / "e" / "here.json"})
    assert seen["predictive"] == here["predictive"]
    pred = here["predictive"]
    assert pred["mocks"] == 300 and pred["points"] == 1 and pred["statistic"] == "heads"
    heads = io.read_parquet(out["mocks"])["heads"].to_numpy()
    lo, hi = np.quantile(heads, [0.05, 0.95])
    assert pred["coverage90"] == float(lo <= 12 <= hi)  # 12 heads observed (the CSV's)
    assert observed_in_csv("coin", d / "t.csv").to_dict() == {"heads": 12.0}
