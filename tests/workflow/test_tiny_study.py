"""The tiny study end to end: datasets, every fit, figures and the report."""

import json
import re

import pandas as pd
import pytest
import yaml

from svibench.config import validate

pytestmark = pytest.mark.workflow

EXPECTED_LATENTS = {
    "coin": ["f"], "corrgauss": ["x", "y"], "multimodal": ["x", "y"],
    "linreg": ["theta", "b_perp", "bg_mean", "bg_sigma", "Q"],
    "hier": ["m_mu", "m_sig", "c_mu", "c_sig"] + [f"m[{j}]" for j in range(3)]
            + [f"c[{j}]" for j in range(3)],
}


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
                d = tiny_study / f"results/fits/{model}/{dataset}/{method}"
                draws = pd.read_parquet(d / "draws.parquet")
                assert list(draws.columns) == EXPECTED_LATENTS[model], (model, method)
                fit = json.loads((d / "fit.json").read_text())
                assert fit["status"] == "ok", (model, method, fit["status"])
                assert set(fit["seconds"]) >= {"compile", "run", "total"}
                assert fit["seeds"]["fit"] == (cfg["nuts"] if method == "nuts" else cfg["svi"])["seed"]
                assert fit["versions"]["numpyro"] == "0.22.0"
                assert (tiny_study / f"results/logs/fit/{model}/{dataset}/{method}.log").stat().st_size > 0
                if method == "nuts":
                    assert len(draws) >= cfg["nuts"]["draws"]
                else:
                    assert len(draws) == cfg["draws"] >= 4000
                    assert fit["steps_run"] == cfg["svi"]["max_steps"]
                    trace = pd.read_parquet(d / "trace.parquet")
                    assert len(trace) == fit["steps_run"] and trace["loss"].notna().all()
                    assert (d / "params.npz").stat().st_size > 0


def test_posteriors_are_sensible(tiny_study):
    """Not a stub: the tiny fits land near the exact coin posterior (mean 13/22)."""
    for method in ("nuts", "auto_normal", "beta"):
        f = pd.read_parquet(tiny_study / f"results/fits/coin/small/{method}/draws.parquet")["f"]
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
