"""The tiny study end to end: datasets, every fit, figures and the report."""

import json
import re

import pandas as pd
import pytest
import yaml

from conftest import fit_dir, study_of
from svibench.config import validate

pytestmark = pytest.mark.workflow

EXPECTED_LATENTS = {
    "coin": ["f"], "corrgauss": ["x", "y"], "multimodal": ["x", "y"],
    "linreg": ["theta", "b_perp", "bg_mean", "bg_sigma", "Q"],
    "hier": ["m_mu", "m_sig", "c_mu", "c_sig"] + [f"m[{j}]" for j in range(3)]
            + [f"c[{j}]" for j in range(3)],
}
GROUPS = {"small": 3, "other": 4}


def latents(model, dataset):
    if model != "hier":
        return EXPECTED_LATENTS[model]
    j = range(GROUPS[dataset])
    return ["m_mu", "m_sig", "c_mu", "c_sig"] + [f"m[{i}]" for i in j] + [f"c[{i}]" for i in j]


def study(work):
    return validate(yaml.safe_load((work / "tiny.yaml").read_text()))


def test_datasets_have_their_columns_and_truth(tiny_study):
    csv = pd.read_csv(tiny_study / "data/linreg/small.csv")
    assert list(csv.columns) == ["x", "y", "yerr"] and len(csv) == 15
    hier = pd.read_csv(tiny_study / "data/hier/small.csv")
    assert list(hier.columns) == ["group", "x", "y", "yerr"] and hier["group"].nunique() == 3
    meta = json.loads((tiny_study / "data/hier/small.json").read_text())
    assert meta["seed"] == 1 and set(EXPECTED_LATENTS["hier"]) <= set(meta["truth"])


def test_every_fit_has_draws_with_the_latent_columns_and_fit_json(tiny_study):
    cfg = study(tiny_study)
    for model, entry in cfg["models"].items():
        for dataset in entry["datasets"]:
            for method in entry["methods"]:
                d = fit_dir(tiny_study, model, dataset, method)
                draws = pd.read_parquet(d / "draws.parquet")
                assert list(draws.columns) == latents(model, dataset), (model, method)
                fit = json.loads((d / "fit.json").read_text())
                assert fit["status"] == "ok", (model, method, fit["status"])
                assert set(fit["seconds"]) >= {"compile", "run", "total"}
                assert fit["seeds"]["fit"] == (cfg["nuts"] if method == "nuts" else cfg["svi"])["seed"]
                assert fit["versions"]["numpyro"] == "0.22.0"
                runs = study_of(tiny_study)
                log = runs.fit_log(runs.run(model, dataset, method, d.name))
                assert (tiny_study / log).stat().st_size > 0
                if method == "nuts":
                    assert len(draws) >= cfg["nuts"]["draws"]
                else:
                    assert len(draws) == cfg["draws"] >= 4000
                    budget = entry["methods"][method].get("max_steps", cfg["svi"]["max_steps"])
                    assert fit["options"]["max_steps"] == budget
                    if fit["converged_at"] is None or not fit["options"]["stop_at_convergence"]:
                        assert fit["steps_run"] == budget
                    else:
                        assert fit["converged_at"] <= fit["steps_run"] < budget
                    trace = pd.read_parquet(d / "trace.parquet")
                    assert len(trace) == fit["steps_run"] and trace["loss"].notna().all()
                    assert (d / "params.npz").stat().st_size > 0


def test_posteriors_are_sensible(tiny_study):
    """Not a stub: the tiny fits land near the exact coin posterior (mean 13/22)."""
    for method in ("nuts", "auto_normal", "beta"):
        f = pd.read_parquet(fit_dir(tiny_study, "coin", "small", method) / "draws.parquet")["f"]
        assert f.mean() == pytest.approx(13 / 22, abs=0.03), method
        assert f.std() == pytest.approx(0.102, abs=0.02), method


def test_report_names_every_method_and_embeds_figures(tiny_study):
    html = (tiny_study / "results/report/index.html").read_text()
    cfg = study(tiny_study)
    for model, entry in cfg["models"].items():
        assert f"{model} / " in html
        for method in entry["methods"]:
            assert re.search(rf"<td>{method}</td>", html), method
    assert html.count("data:image/png;base64,") == len(list((tiny_study / "results/figures").rglob("*.png")))
    assert "numpyro" in html and "Provenance" in html
    assert (tiny_study / "results/figures/hier/small/groups.png").stat().st_size > 1000
    assert (tiny_study / "results/figures/multimodal/default/density.png").exists()
    # accuracy against cost: one figure per dataset (rule plot_cost), in the report too
    runs = study_of(tiny_study)
    for d in runs.study_datasets():
        assert (tiny_study / runs.cost_figure(d.model, d.name)).stat().st_size > 1000
    assert html.count("<h3>Accuracy against cost</h3>") == len(runs.study_datasets())


def test_warm_start_continues_from_the_pretrained_params(tiny_study):
    d = tiny_study / "results/fits/hier/other/auto_normal/from-small"
    fit = json.loads((d / "fit.json").read_text())
    assert fit["status"] == "ok" and fit["dataset"] == "other"
    ws = fit["warm_start"]
    assert ws["from"].endswith("results/fits/hier/small/auto_normal/seed1/params.npz")
    # 3 groups -> 4: the hyper-parameters transfer, the per-group params are resized.
    assert {"m_mu_auto_loc", "c_sig_auto_scale"} <= set(ws["transferred"])
    assert {"m_auto_loc", "c_auto_loc"} <= set(ws["resized"]) and not ws["fresh"]
    assert list(pd.read_parquet(d / "draws.parquet").columns) == latents("hier", "other")
    cold = pd.read_parquet(tiny_study / "results/fits/hier/other/auto_normal/seed1/trace.parquet")
    warm = pd.read_parquet(d / "trace.parquet")
    # Continuing from a fit on similar data starts far closer to the optimum.
    assert warm["loss"].iloc[:50].mean() < cold["loss"].iloc[:50].mean()
    html = (tiny_study / "results/report/index.html").read_text()
    assert "Warm start" in html and "small → other" in html
    assert (tiny_study / "results/figures/hier/other/warm-from-small.png").stat().st_size > 1000
