"""Your own model end to end: a NumPyro model in a file outside the package (a
temporary folder), its data, and for one dataset reference draws of its own, through
the real Snakemake — simulate (the import), references (given draws; long-run NUTS),
fits, scores, figures and the report."""

import json

import numpy as np
import pandas as pd
import pytest

from conftest import fit_dir, snakemake, study_of

pytestmark = pytest.mark.workflow

MODEL = '''"""Two means with known noise: the posterior is normal, known exactly."""
import numpyro
import numpyro.distributions as dist

description = "two means, known noise (a test's own model)"
reported = ["gap"]


def model(N, y, sigma):
    theta = numpyro.sample("theta", dist.Normal(0.0, 10.0).expand([2]).to_event(1))
    numpyro.deterministic("gap", theta[1] - theta[0])
    with numpyro.plate("n", N):
        numpyro.sample("y", dist.Normal(theta, sigma).to_event(1), obs=y)
'''

STUDY = """
draws: 1000
compilation_cache: .cache/jax
svi: {{max_steps: 300, chunk: 100, lr: 0.05}}
nuts: {{warmup: 150, draws: 400, chains: 2}}
resources:
  default: {{threads: 1}}
plots: {{dpi: 40, corner_max_draws: 300}}
reference: {{warmup: 200, draws_per_chain: 500, max_rounds: 1, target_ess: 500}}
models:
  twomeans:
    module: {own}/model.py
    datasets:
      given: {{data: {own}/data.json, reference_draws: {own}/draws.csv}}
      ours: {{data: {own}/data.json}}
    methods: [nuts, auto_normal]
"""


def exact_posterior(y, sigma, n, rng):
    """Draws of theta: prior N(0, 10^2), N observations of known sd per coordinate."""
    y = np.asarray(y)
    prec = 1 / 100 + len(y) / sigma ** 2
    mean = y.sum(axis=0) / sigma ** 2 / prec
    return mean + rng.normal(size=(n, 2)) / np.sqrt(prec)


@pytest.fixture(scope="module")
def own_study(tmp_path_factory):
    own = tmp_path_factory.mktemp("elsewhere")  # the user's folder: not the package
    work = tmp_path_factory.mktemp("own_study")
    rng = np.random.default_rng(3)
    y = np.column_stack([rng.normal(0.5, 1.0, 8), rng.normal(-1.0, 1.0, 8)]).round(4)
    (own / "model.py").write_text(MODEL)
    (own / "data.json").write_text(json.dumps({"N": 8, "y": y.tolist(), "sigma": 1.0}))
    theta = exact_posterior(y, 1.0, 2000, rng)
    pd.DataFrame({"theta[0]": theta[:, 0], "theta[1]": theta[:, 1],
                  "gap": theta[:, 1] - theta[:, 0]}).to_csv(own / "draws.csv", index=False)
    (work / "own.yaml").write_text(STUDY.format(own=own))
    snakemake(work, config=work / "own.yaml")
    return work, own


def test_own_model_runs_end_to_end(own_study):
    work, own = own_study
    for dataset, kind in (("given", "given"), ("ours", "nuts")):
        ref = json.loads((work / f"results/reference/twomeans/{dataset}/reference.json").read_text())
        assert ref["kind"] == kind and ref["meets_standard"], ref["problems"]
        for method in ("nuts", "auto_normal"):
            d = fit_dir(work, "twomeans", dataset, method, config="own.yaml")
            draws = pd.read_parquet(d / "draws.parquet")
            assert list(draws.columns) == ["theta[0]", "theta[1]", "gap"]  # latents, reported
            metrics = json.loads((d / "metrics.json").read_text())
            assert metrics["reference"]["kind"] == kind
            # an exact family (normal) and NUTS on a normal posterior: close to the reference
            assert metrics["mean_err"]["value"] < 0.3, (dataset, method, metrics["mean_err"])
    given = pd.read_parquet(work / "results/reference/twomeans/given/draws.parquet")
    theirs = pd.read_csv(own / "draws.csv", float_precision="round_trip")
    pd.testing.assert_frame_equal(given, theirs)  # the given draws are the reference
    meta = json.loads((work / "data/twomeans/given.json").read_text())
    assert meta["source"] == "user" and meta["module"] == str(own / "model.py")
    report = (work / "results/report/index.html").read_text()
    assert "two means, known noise" in report and f"your draws ({own / 'draws.csv'})" in report
    assert [p for p, _ in study_of(work, "own.yaml").figures("twomeans", "given")] == [
        "results/figures/twomeans/given/corner.png", "results/figures/twomeans/given/loss.png"]
    assert all((work / p).exists() for p in study_of(work, "own.yaml").figure_targets())


def test_a_changed_model_file_reruns_its_datasets(own_study):
    """The model file is an input of the import: editing it refits (a dry run says so)."""
    work, own = own_study
    proc = snakemake(work, "-n", config=work / "own.yaml")
    assert "Job stats" not in proc.stdout, proc.stdout  # done: nothing reruns
    text = (own / "model.py").read_text()
    (own / "model.py").write_text(text + "\n# edited\n")
    proc = snakemake(work, "-n", config=work / "own.yaml")
    assert "simulate" in proc.stdout and "fit_svi" in proc.stdout, proc.stdout
