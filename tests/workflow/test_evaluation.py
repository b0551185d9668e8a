"""The tiny study's references, metrics, repeats, predictive checks, ranking table and
scaling study (issue 4), from the same session run as test_tiny_study."""

import json
import re
from html import unescape

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import study_of

from svibench import metrics as M
from svibench.config import validate
from svibench.reference import check_standard

pytestmark = pytest.mark.workflow

METRIC_KEYS = {"mean_err", "sd_ratio", "swd", "energy", "khat", "mode_mass", "mcmc", "predictive",
               "flags", "cost", "reference", "status", "seed"}


def study(work):
    return validate(yaml.safe_load((work / "tiny.yaml").read_text()))


def read(path):
    return json.loads(path.read_text())


def fit_dirs(work, cfg):
    """Every fit of the tiny study's models: every seed (coin: 2) and warm starts."""
    return [work / r.dir for r in study_of(work).runs if r.role != "scaling"]


def test_every_reference_says_what_it_is(tiny_study):
    cfg = study(tiny_study)
    kinds = {"coin": "exact", "corrgauss": "exact", "multimodal": "grid", "linreg": "nuts", "hier": "nuts"}
    for model, entry in cfg["models"].items():
        for dataset in entry["datasets"]:
            d = tiny_study / f"results/reference/{model}/{dataset}"
            ref = read(d / "reference.json")
            draws = pd.read_parquet(d / "draws.parquet")
            assert ref["kind"] == kinds[model] and len(draws) == ref["n_draws"] >= 4000
            if ref["kind"] == "nuts":
                assert ref["chains"] == 4 and ref["diagnostics"]["min_ess_bulk"] > 0
                assert set(ref["diagnostics"]["per_latent"]) == set(draws.columns)
                # the stored verdict is the standard applied to the stored diagnostics
                problems = check_standard(ref["diagnostics"], ref["chains"], ref["settings"])
                assert ref["problems"] == problems and ref["meets_standard"] is (problems == [])
            else:  # exact and grid draws are independent: they always meet it
                assert ref["meets_standard"] is True and ref["problems"] == []


def test_every_fit_has_metrics_against_its_reference(tiny_study):
    cfg = study(tiny_study)
    dirs = fit_dirs(tiny_study, cfg)
    # tiny.yaml's repeats 2: every SVI method on every dataset has seed 2
    svi = [r for r in study_of(tiny_study).runs
           if r.role in ("primary", "repeat") and r.kind == "svi"]
    assert sum(d.name == "seed2" and d.parent.name != "nuts" for d in dirs) == len(svi) // 2 == 8
    for d in dirs:
        m = read(d / "metrics.json")
        assert METRIC_KEYS <= set(m), d
        fit = read(d / "fit.json")
        if fit["status"] != "ok":
            assert m["mean_err"] is None and m["swd"] is None, d  # missing, never zero
            continue
        # the floor's median lies in its band; the stored verdicts are judge's
        assert m["mean_err"]["floor_band"][0] <= m["mean_err"]["floor_median"] <= m["mean_err"]["floor_band"][1], d
        assert m["floor_splits"] == cfg["metrics"]["floor_splits"] and m["floor_draws"] >= 2, d
        lo, hi = m["sd_ratio"]["value"]
        assert lo <= hi and m["collapsed"] is (lo < M.COLLAPSED), d
        assert m["flags"] == M.flags(m, cfg["metrics"]["thresholds"]), d
        assert m["seed"] == fit["seeds"]["fit"]
        if fit["kind"] == "nuts":
            assert m["khat"] is None and m["mcmc"]["min_ess_bulk"] > 0 and m["mcmc"]["max_rhat"] > 0.9
            assert m["mcmc"]["seconds_per_effective_draw"] > 0
        elif fit["kind"] == "svi":  # the median and spread over particle sets
            sets = fit["psis"]["khat_sets"]
            assert len(sets) == fit["psis"]["sets"] == 5 and len(set(sets)) == 5, d
            assert m["khat"]["median"] == fit["psis"]["khat"] == pytest.approx(np.median(sets)), d
            assert [m["khat"]["low"], m["khat"]["high"]] == fit["psis"]["khat_spread"], d
        else:
            assert isinstance(m["khat"], float), d
        if fit["model"] in ("coin", "linreg", "hier"):
            p = m["predictive"]
            # a share of the observed points: k / points; a 90 % interval holds the 50 % one
            assert p["coverage90"] * p["points"] == pytest.approx(round(p["coverage90"] * p["points"])), d
            assert p["coverage90"] >= p["coverage50"] and "reference_coverage90" in p, d
            assert len(pd.read_parquet(d / "mocks.parquet")) == 200


def test_each_reference_s_floor_is_computed_once_and_changes_no_metric(tiny_study):
    """Rule floor writes the band of every reference once (floor.json, one entry per
    size its fits compare at); an evaluate job scoring without it writes the same
    metrics.json (a NUTS reference, thinned to its ESS, and an exact one)."""
    from svibench.evaluate import evaluate_fit

    s = study_of(tiny_study)
    for model, dataset, method in (("hier", "small", "nuts"), ("coin", "small", "auto_normal")):
        ref_dir = tiny_study / f"results/reference/{model}/{dataset}"
        floor = read(ref_dir / "floor.json")
        assert floor["floors"] and floor["settings"]["floor_splits"] == 20
        run = next(r for r in s.runs_on(model, dataset) if r.method == method)
        d = tiny_study / run.dir
        stored = read(d / "metrics.json")
        assert str(stored["floor_draws"]) in floor["floors"]
        data = tiny_study / f"data/{model}/{dataset}"
        out = d / "metrics-no-floor.json"
        evaluate_fit({"draws": d / "draws.parquet", "fit": d / "fit.json", "mocks": d / "mocks.parquet"},
                     {"draws": ref_dir / "draws.parquet", "json": ref_dir / "reference.json",
                      "mocks": ref_dir / "mocks.parquet"},
                     f"{data}.csv", f"{data}.json", s.metrics_settings(s.dataset(model, dataset)),
                     {"metrics": out}, dataset=run.label)
        again = read(out)
        out.unlink()
        assert stored.pop("seconds") >= 0 and again.pop("seconds") >= 0
        assert again == stored, (model, dataset, method)


def test_exact_family_guides_are_scored_as_accurate(tiny_study):
    beta = read(tiny_study / "results/fits/coin/small/beta/seed1/metrics.json")
    assert beta["flags"] == [] and beta["mean_err"]["value"] < 0.2 and M.khat_summary(beta["khat"])["median"] < 0.7
    mix = read(tiny_study / "results/fits/multimodal/default/mixture/seed1/metrics.json")
    assert mix["mode_mass"]["missing"] == [] and mix["mode_mass"]["reference"] == pytest.approx([0.5, 0.5], abs=0.02)


def test_report_ranks_every_method_against_the_reference(tiny_study):
    html = (tiny_study / "results/report/index.html").read_text()
    cfg = study(tiny_study)
    n_sets = sum(len(e["datasets"]) for e in cfg["models"].values())
    assert html.count("Accuracy against the reference") == n_sets
    assert html.count("<i>noise floor</i>") == n_sets
    assert html.count("<b>Reference:</b>") == n_sets
    tables = re.findall(r"<table class=[\"']ranking[\"']>(.*?)</table>", html, flags=re.S)
    assert len(tables) == n_sets
    for model, entry in cfg["models"].items():
        for method in entry["methods"]:
            assert any(f"<td>{method}</td>" in t for t in tables), method
    assert "auto_normal (warm from small)" in html
    assert "<td>1, 2</td>" in html  # coin's repeated guides list their seeds
    assert "Posterior predictive check" in html
    trust = re.findall(r"<table class=[\"']trust[\"']>(.*?)</table>", html, flags=re.S)
    assert len(trust) == 1 and "k̂ over its threshold" in trust[0]  # over the whole study
    # hier's auto_normal, 300 steps, is far off: red cells
    hier = tables[[m for m in cfg["models"] for _ in cfg["models"][m]["datasets"]].index("hier")]
    assert "class='bad'" in hier or 'class="bad"' in hier
    for model in ("coin", "linreg", "hier"):
        for dataset in cfg["models"][model]["datasets"]:
            assert (tiny_study / f"results/figures/{model}/{dataset}/predictive.png").stat().st_size > 1000


def test_scaling_study(tiny_study):
    s = read(tiny_study / "results/scaling/summary.json")
    # tiny.yaml's repeats 2: auto_normal twice per point (seeds 1, 2), NUTS once
    assert [(r["J"], r["D"], r["method"], r["seed"]) for r in s["rows"]] == [
        (3, 10, "nuts", 2), (3, 10, "auto_normal", 1), (3, 10, "auto_normal", 2),
        (5, 14, "nuts", 2), (5, 14, "auto_normal", 1), (5, 14, "auto_normal", 2)]
    assert set(s["crossover"]) == {"auto_normal"} and s["verdict"]
    assert (tiny_study / "results/figures/scaling/scaling.png").stat().st_size > 1000
    html = (tiny_study / "results/report/index.html").read_text()
    assert "Scaling with dimension" in html and s["verdict"] in unescape(html)
