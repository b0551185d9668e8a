"""evaluate_fit on stored files (an exact fit, a shifted one, a diverged one), the
ranking table, and the scaling study's time to accuracy and crossover."""

import numpy as np
import pandas as pd
import pytest

from svibench import io, scaling
from svibench.data import simulate_dataset
from svibench.evaluate import evaluate_fit
from svibench.models import get_model
from svibench.presentation import ranking
from svibench.presentation.report import ranking_html
from svibench.reference import build_reference


@pytest.fixture(scope="module")
def corrgauss(tmp_path_factory):
    d = tmp_path_factory.mktemp("cg")
    simulate_dataset("corrgauss", "t", {**get_model("corrgauss").defaults, "seed": 0},
                     d / "t.csv", d / "t.json")
    ref = {"draws": d / "ref.parquet", "json": d / "ref.json", "mocks": d / "refm.parquet"}
    build_reference("corrgauss", "t", d / "t.csv", d / "t.json", {}, ref)
    return d, ref


def write_fit(d, name, draws, status="ok", kind="svi", **extra):
    fit = {"model": "corrgauss", "dataset": "t", "method": name, "kind": kind, "status": status,
           "steps_run": 100, "seconds": {"compile": 1.0, "run": 2.0, "total": 3.0},
           "seeds": {"fit": 1}, "psis": {"khat": 0.2}, **extra}
    io.write_json(d / f"{name}.json", fit)
    io.write_parquet(d / f"{name}.parquet", draws)
    return {"draws": d / f"{name}.parquet", "fit": d / f"{name}.json"}


def run(d, ref, files, name):
    out = {"metrics": d / f"{name}.metrics.json"}
    return evaluate_fit(files, ref, d / "t.csv", d / "t.json", {}, out), out


def test_an_exact_fit_sits_at_the_floor_and_a_shifted_one_is_flagged(corrgauss):
    d, ref = corrgauss
    cov = get_model("corrgauss").covariance(get_model("corrgauss").defaults)
    z = np.random.default_rng(5).multivariate_normal([0, 0], cov, 4000)
    good, _ = run(d, ref, write_fit(d, "good", pd.DataFrame(z, columns=["x", "y"])), "good")
    assert good["status"] == "ok" and good["flags"] == [] and good["accurate"]
    assert good["mean_err"]["value"] < 3 * good["mean_err"]["floor"] + 0.02
    assert good["khat"] == 0.2 and good["mcmc"] is None and good["predictive"] is None
    assert good["khat_info"]["of"] == "the guide" and good["khat_info"]["threshold"] == 0.7
    # the floor as a distribution over 20 random half-splits, seeded by the metrics seed
    assert good["floor_splits"] == 20 and good["floor_draws"] == good["draws_compared"]
    lo, hi = good["swd"]["floor_band"]
    assert 0 < lo < good["swd"]["floor_median"] < hi
    again, _ = run(d, ref, write_fit(d, "good", pd.DataFrame(z, columns=["x", "y"])), "good")
    assert again["swd"]["floor_band"] == [lo, hi]
    assert good["cost"]["seconds"] == 3.0 and good["reference"]["kind"] == "exact"
    # shifted by half a marginal sd of x (sd sqrt(5)): mean_err 0.5
    shifted = pd.DataFrame(z + [0.5 * np.sqrt(5), 0], columns=["x", "y"])
    bad, _ = run(d, ref, write_fit(d, "bad", shifted), "bad")
    assert bad["mean_err"]["value"] == pytest.approx(0.5, abs=0.05)
    assert bad["flags"] == ["mean_err"] and not bad["accurate"]


def test_a_diverged_fit_has_null_metrics_never_zero(corrgauss):
    d, ref = corrgauss
    draws = pd.DataFrame({"x": [np.nan, 1.0], "y": [0.0, np.inf]})
    m, out = run(d, ref, write_fit(d, "div", draws, status="diverged"), "div")
    saved = io.read_json(out["metrics"])
    assert saved["status"] == "diverged"
    for key in ("mean_err", "sd_ratio", "swd", "energy", "khat", "mcmc"):
        assert saved[key] is None, key
    assert saved["flags"] == []
    # an "ok" fit whose draws are not finite is treated the same way
    m2, _ = run(d, ref, write_fit(d, "nan", draws, status="ok"), "nan")
    assert m2["status"] == "non-finite draws" and m2["mean_err"] is None


def test_nuts_fit_gets_mcmc_diagnostics(corrgauss):
    d, ref = corrgauss
    cov = get_model("corrgauss").covariance(get_model("corrgauss").defaults)
    z = np.random.default_rng(6).multivariate_normal([0, 0], cov, 4000)  # 2 chains of 2000
    files = write_fit(d, "nuts", pd.DataFrame(z, columns=["x", "y"]), kind="nuts", chains=2,
                      diagnostics={"divergences": 3})
    m, _ = run(d, ref, files, "nuts")
    assert m["mcmc"]["min_ess_bulk"] == pytest.approx(4000, rel=0.15)
    assert m["mcmc"]["divergences"] == 3 and m["khat"] is None
    assert m["mcmc"]["seconds_per_effective_draw"] == pytest.approx(3.0 / m["mcmc"]["min_ess_bulk"])
    # any divergence fails a NUTS fit, however accurate its draws
    assert m["flags"] == ["divergences"] and m["accurate"]


def test_an_auto_dais_khat_is_labelled_and_beyond_its_threshold_is_only_a_note(corrgauss):
    d, ref = corrgauss
    cov = get_model("corrgauss").covariance(get_model("corrgauss").defaults)
    z = np.random.default_rng(7).multivariate_normal([0, 0], cov, 4000)
    files = write_fit(d, "auto_dais", pd.DataFrame(z, columns=["x", "y"]),
                      psis={"khat": 1.3, "particles": 1000, "method": "psis_diagnostic weights"})
    m, _ = run(d, ref, files, "auto_dais")
    assert m["flags"] == [] and m["notes"] == ["khat 1.3 > 0.667 (1000 particles)"]
    assert m["khat_info"]["threshold"] == pytest.approx(2 / 3)
    assert "augmented sampler" in m["khat_info"]["of"] and m["collapsed"] is False


def metric(status="ok", me=0.05, sd=(0.95, 1.05), swd=0.05, khat=0.3, seed=1, kind="svi",
           missing=None, band=None, mcmc=None, mode_mass=None):
    if status != "ok":
        return {"status": status, "kind": kind, "seed": seed, "mean_err": None, "sd_ratio": None,
                "swd": None, "energy": None, "khat": None, "mcmc": None, "predictive": None,
                "mode_mass": None, "cost": {"seconds": 1.0, "steps": 10}}
    return {"status": "ok", "kind": kind, "seed": seed,
            "mean_err": {"value": me, "floor": 0.01}, "sd_ratio": {"value": list(sd), "floor": [0.99, 1.01]},
            "swd": {"value": swd, "floor": 0.01, "floor_band": band},
            "energy": {"value": 0.01, "floor": 0.001},
            "khat": khat, "mcmc": mcmc, "predictive": None,
            "mode_mass": mode_mass if missing is None else {
                "modes": ["a", "b"], "fit": [1.0, 0.0], "se": [0.0, 0.0],
                "reference": [0.5, 0.5], "missing": missing},
            "cost": {"seconds": 2.0, "steps": 100}}


def evaluation(groups):
    fits = [{"group": g, "label": g, "m": m} for g, ms in groups.items() for m in ms]
    return {"model": "x", "dataset": "y", "fits": fits, "predictive": None,
            "reference": {"kind": "exact", "n_draws": 100, "meets_standard": True, "problems": []}}


def test_ranking_aggregates_seeds_marks_and_ranks():
    ev = evaluation({
        "bad_optimum": [metric(me=0.05, seed=1), metric(me=0.9, seed=2), metric(me=0.06, seed=3)],
        "good": [metric(me=0.02, swd=0.03, seed=s) for s in (1, 2, 3)],
        "narrow": [metric(sd=(0.5, 0.9), khat=0.9)],
        "diverged": [metric(status="diverged")],
    })
    rows = ranking.group_rows(ev)
    assert [r["label"] for r in rows] == ["good", "bad_optimum", "narrow", "diverged"]
    bo = rows[1]
    assert bo["v"]["mean_err"]["median"] == pytest.approx(0.06) and bo["v"]["mean_err"]["max"] == 0.9
    assert bo["marks"]["mean_err"] == "warn"            # one seed of three beyond 0.2
    assert rows[2]["marks"] == {"mean_err": "", "sd_ratio": "bad"} and rows[2]["red"] == 1
    assert rows[2]["v"]["khat"]["note"] == "khat 0.9 > 0.7"  # a diagnostic, not a mark
    assert bo["titles"]["mean_err"] == "seed 2: mean_err 0.9 > 0.2"
    assert [r["rank_label"] for r in rows] == ["1", "2", "3", "4"]
    assert rows[3]["v"]["mean_err"] is None and rows[3]["status"].startswith("1/1 diverged")
    html = ranking_html(ev)
    assert html.count("<tr") == 6  # header, noise floor, four methods
    assert "noise floor" in html
    assert '<td class="bad">1/1 diverged</td>' in html
    assert '<td class="bad" title="sd_ratio 0.5 &lt; 0.8">0.5–0.9</td>' in html
    assert '<td class="diag" title="khat 0.9 &gt; 0.7: threshold' in html
    assert "(0.05–0.9)" in html  # the spread over seeds
    assert "meets the reference standard" in html


NUTS_MC = {"chains": 4, "max_rhat": 1.001, "min_ess_bulk": 3000.0, "min_ess_tail": 2000.0,
           "divergences": 0, "seconds_per_effective_draw": 0.001}


def test_nuts_with_chains_in_separate_modes_is_red_and_not_first():
    # multimodal: each chain in one mode, overall shares right; the best swd of the table
    stuck = {"modes": ["a", "b"], "fit": [0.5, 0.5], "se": [0.17, 0.17], "reference": [0.5, 0.5],
             "missing": [], "by_chain": [[1, 0], [0, 1], [1, 0], [0, 1]], "separated": True}
    ev = evaluation({
        "nuts": [metric(kind="nuts", swd=0.02, khat=None, mode_mass=stuck,
                        mcmc={**NUTS_MC, "max_rhat": 1.37, "min_ess_bulk": 9.0})],
        "mixture": [metric(swd=0.05, mode_mass={**stuck, "se": [0.008, 0.008], "by_chain": None,
                                                "separated": False})],
    })
    rows = ranking.group_rows(ev)
    assert [r["label"] for r in rows] == ["mixture", "nuts"]
    nuts = rows[1]
    assert nuts["marks"] == {"mean_err": "", "sd_ratio": "", "modes": "bad", "rhat": "bad",
                             "div": "", "ess_bulk": "bad", "ess_tail": ""} and nuts["red"] == 3
    assert nuts["titles"]["rhat"] == "rhat 1.37 >= 1.01"
    assert nuts["titles"]["modes"].startswith("chains in separate modes")
    html = ranking_html(ev)
    assert '<td class="bad" title="rhat 1.37 &gt;= 1.01">1.37</td>' in html
    assert "chains in separate modes in 1/1" in html and "0.5±0.17/0.5±0.17" in html
    assert 'title="chains in separate modes (share of b by chain: 0.00, 1.00, 0.00, 1.00)"' in html


def test_nuts_with_divergences_is_red():
    # hier: 242 divergences, R-hat 1.02, bulk ESS 225 over 4 chains
    ev = evaluation({"nuts": [metric(kind="nuts", swd=0.02, khat=None, mcmc={
        **NUTS_MC, "divergences": 242, "max_rhat": 1.02, "min_ess_bulk": 225.0})],
        "auto_mvn": [metric(swd=0.05)]})
    rows = ranking.group_rows(ev)
    assert [r["label"] for r in rows] == ["auto_mvn", "nuts"]
    assert rows[1]["marks"]["div"] == "bad" and rows[1]["red"] == 3
    assert rows[1]["titles"]["div"] == "divergences 242 (any divergence fails)"
    # one seed of three with a divergence: orange, not red
    ev = evaluation({"nuts": [metric(kind="nuts", seed=s, khat=None, mcmc={**NUTS_MC, "divergences": d})
                              for s, d in ((1, 0), (2, 4), (3, 0))]})
    row = ranking.group_rows(ev)[0]
    assert row["marks"]["div"] == "warn" and row["red"] == 0


def test_a_collapsed_fit_ranks_below_a_non_collapsed_one_with_a_better_mean_err():
    ev = evaluation({
        # both fail mean_err and sd_ratio; the collapsed one has no k-hat and a lower swd
        "auto_laplace": [metric(me=2.72, sd=(0.0, 8.8e-16), swd=0.3, khat=None)],
        "auto_mvn": [metric(me=0.41, sd=(0.5, 1.3), swd=0.5, khat=0.95)],
    })
    rows = ranking.group_rows(ev)
    assert [r["label"] for r in rows] == ["auto_mvn", "auto_laplace"]
    assert rows[1]["collapsed"] and not rows[0]["collapsed"]
    assert rows[0]["red"] == rows[1]["red"] == 2  # k-hat 0.95 is no red mark
    assert ">collapsed</span>" in ranking_html(ev)


def test_a_fit_without_khat_gains_nothing_from_it():
    ev = evaluation({"no_khat": [metric(swd=0.10, khat=None, band=[0.01, 0.02])],
                     "bad_khat": [metric(swd=0.05, khat=1.3, band=[0.01, 0.02])]})
    rows = ranking.group_rows(ev)
    assert [r["label"] for r in rows] == ["bad_khat", "no_khat"]
    assert [r["rank_label"] for r in rows] == ["1", "2"] and rows[0]["red"] == rows[1]["red"] == 0
    assert rows[1]["v"]["khat"] is None and rows[0]["v"]["khat"]["note"] == "khat 1.3 > 0.7"


def test_khat_over_particle_sets_shows_its_median_and_spread():
    sets = {"median": 1.6, "low": 0.9, "high": 3.9, "values": [0.9, 1.2, 1.6, 2.5, 3.9]}
    m = {**metric(khat=sets), "khat_info": {"particles": 1000, "of": "the guide"}}
    row = ranking.group_rows(evaluation({"normal": [m]}))[0]
    k = row["v"]["khat"]
    assert (k["median"], k["min"], k["max"], k["n"]) == (1.6, 0.9, 3.9, 5)
    assert k["threshold"] == pytest.approx(2 / 3) and row["red"] == 0
    assert "1.6 <small>(0.9–3.9)</small>" in ranking_html(evaluation({"normal": [m]}))


def test_fits_whose_swd_differ_inside_the_floor_spread_share_a_rank():
    band = [0.010, 0.018]  # width 0.008
    ev = evaluation({"a": [metric(swd=0.050, band=band)], "b": [metric(swd=0.056, band=band)],
                     "c": [metric(swd=0.070, band=band)], "d": [metric(swd=0.075, band=band)]})
    rows = ranking.group_rows(ev)
    assert [(r["label"], r["rank_label"]) for r in rows] == [("a", "1="), ("b", "1="),
                                                              ("c", "3="), ("d", "3=")]
    # without the band the same gaps are differences
    ev = evaluation({"a": [metric(swd=0.050)], "b": [metric(swd=0.056)]})
    assert [r["rank_label"] for r in ranking.group_rows(ev)] == ["1", "2"]
    # the seeds' ranges widen the spread: medians 0.05 and 0.07, ranges 0.03 each
    ev = evaluation({"a": [metric(swd=x, seed=i, band=band) for i, x in enumerate((0.04, 0.05, 0.07))],
                     "b": [metric(swd=x, seed=i, band=band) for i, x in enumerate((0.06, 0.07, 0.09))]})
    assert [r["rank_label"] for r in ranking.group_rows(ev)] == ["1=", "1="]
    assert '<td title="within the combined spread' in ranking_html(ev)
    # a tie never crosses a red mark
    ev = evaluation({"a": [metric(swd=0.050, band=band)],
                     "b": [metric(swd=0.051, band=band, me=0.5)]})
    assert [r["rank_label"] for r in ranking.group_rows(ev)] == ["1", "2"]


def test_ranking_marks_a_missing_mode_and_a_failed_reference():
    ev = evaluation({"one_mode": [metric(missing=["a"])]})
    ev["reference"] = {"kind": "nuts", "chains": 4, "draws_per_chain": 100, "settings": {},
                       "diagnostics": {"min_ess_bulk": 300, "min_ess_tail": 200, "max_rhat": 1.02,
                                       "divergences": 0},
                       "meets_standard": False, "problems": ["min bulk ESS 300 (< 4000)"]}
    rows = ranking.group_rows(ev)
    assert rows[0]["marks"]["modes"] == "bad" and rows[0]["red"] == 1
    html = ranking_html(ev)
    assert "MISSES the reference standard" in html and "min bulk ESS 300" in html


def row(method, kind, D, tta, seconds=1.0):
    return {"method": method, "kind": kind, "D": D, "time_to_accuracy": tta, "seconds": seconds}


def test_crossover_is_the_smallest_D_from_which_svi_always_wins():
    rows = [row("nuts", "nuts", 20, 5.0), row("nuts", "nuts", 68, 20.0), row("nuts", "nuts", 260, 90.0),
            row("fast", "svi", 20, 8.0), row("fast", "svi", 68, 10.0), row("fast", "svi", 260, 30.0),
            row("wrong", "svi", 20, None), row("wrong", "svi", 68, 1.0), row("wrong", "svi", 260, None),
            row("late", "svi", 20, 1.0), row("late", "svi", 68, 30.0), row("late", "svi", 260, 50.0)]
    c = scaling.crossover(rows)
    assert c["fast"] == {"overtakes_at_D": 68, "wins_at_D": [68, 260]}
    assert c["wrong"]["overtakes_at_D"] is None and c["wrong"]["wins_at_D"] == [68]
    assert c["late"]["overtakes_at_D"] == 260   # won at 20 but lost at 68
    assert scaling.verdict(c) == "SVI (fast) overtakes NUTS's time to accuracy from D = 68"
    assert "no SVI guide" in scaling.verdict({"a": {"overtakes_at_D": None}})


def test_time_to_accuracy():
    fit = {"kind": "nuts", "seconds": {"warmup": 4.0, "sampling": 6.0, "total": 10.0}}
    m = {"accurate": True, "mcmc": {"min_ess_bulk": 400.0}}
    # judged on all its draws, charged for all of them: never fewer seconds than it ran
    assert scaling.nuts_time_to_accuracy(fit, m) == pytest.approx(10.0)
    assert scaling.nuts_time_to_accuracy({**fit, "seconds": {"total": 12.0}}, m) == 12.0
    assert scaling.nuts_time_to_accuracy(fit, {**m, "accurate": False}) is None
    assert scaling.svi_time_to_accuracy({"seconds": {"total": 3.0}}, {"accurate": True}) == 3.0
    assert scaling.svi_time_to_accuracy({"seconds": {"total": 3.0}}, {"accurate": False}) is None


def test_a_scaling_point_is_the_median_of_its_seeds():
    def row(method, kind, d, t):
        return {"method": method, "kind": kind, "D": d, "time_to_accuracy": t}

    rows = [row("nuts", "nuts", 20, 10.0), row("nuts", "nuts", 68, 30.0),
            # 2 of 3 seeds reach it: the median is a time; 1 of 3: never
            row("g", "svi", 20, 5.0), row("g", "svi", 20, None), row("g", "svi", 20, 7.0),
            row("g", "svi", 68, 5.0), row("g", "svi", 68, None), row("g", "svi", 68, None)]
    assert scaling.point_times(rows, "g") == {20: 7.0, 68: float("inf")}
    c = scaling.crossover(rows)
    assert c["g"] == {"overtakes_at_D": None, "wins_at_D": [20]}


def test_scaling_summary_of_no_fits_says_the_scaling_part_is_off(tmp_path):
    out = tmp_path / "summary.json"
    with pytest.raises(ValueError, match="scaling.enabled is false"):
        scaling.summarise([], out)
    assert not out.exists()  # nothing half-written


def test_evaluate_takes_the_floor_band_from_its_reference_s_floor_json(corrgauss, monkeypatch):
    """The floor job's floor.json gives every evaluate job the band it computed itself
    before, to the last bit: metrics.json is the same with or without it."""
    import json

    from svibench import metrics as M
    from svibench.evaluate import reference_floor

    d, ref = corrgauss
    cov = get_model("corrgauss").covariance(get_model("corrgauss").defaults)
    z = pd.DataFrame(np.random.default_rng(8).multivariate_normal([0, 0], cov, 4000),
                     columns=["x", "y"])
    fits = [write_fit(d, "floor4000", z), write_fit(d, "floor1000", z.iloc[:1000])]
    before = [run(d, ref, files, f"before{i}")[1]["metrics"] for i, files in enumerate(fits)]
    table = reference_floor(ref, {}, [4000, 1000, 4000], {"floor": d / "floor.json"})
    assert sorted(table["floors"], key=int) == ["1000", "4000"]
    assert json.loads((d / "floor.json").read_text()) == table

    def recomputed(*args, **kwargs):
        raise AssertionError("the floor band was recomputed")

    monkeypatch.setattr(M, "floor_distribution", recomputed)
    for i, files in enumerate(fits):
        out = {"metrics": d / f"after{i}.metrics.json"}
        evaluate_fit(files, {**ref, "floor": d / "floor.json"}, d / "t.csv", d / "t.json", {}, out)
        old, new = (json.loads(p.read_text()) for p in (before[i], out["metrics"]))
        assert old.pop("seconds") >= 0 and new.pop("seconds") >= 0
        assert new == old and new["floor_draws"] == [4000, 1000][i]
        assert new["swd"]["floor_band"] is not None
    # Other settings than the table's (another metrics seed): computed in the job.
    monkeypatch.undo()
    other, _ = run(d, ref, fits[0], "seed1")
    out = {"metrics": d / "seed1-floor.metrics.json"}
    via = evaluate_fit(fits[0], {**ref, "floor": d / "floor.json"}, d / "t.csv", d / "t.json",
                       {"seed": 1}, out)
    direct = evaluate_fit(fits[0], ref, d / "t.csv", d / "t.json", {"seed": 1},
                          {"metrics": d / "seed1-direct.metrics.json"})
    assert via["swd"] == direct["swd"] and via["swd"] != other["swd"]


def test_khat_over_particle_sets_reaches_metrics_json_as_median_and_spread(corrgauss):
    d, ref = corrgauss
    cov = get_model("corrgauss").covariance(get_model("corrgauss").defaults)
    z = np.random.default_rng(6).multivariate_normal([0, 0], cov, 4000)
    psis = {"khat": 0.9, "khat_sets": [0.5, 0.8, 0.9, 1.1, 1.4], "khat_spread": [0.5, 1.4],
            "threshold": 0.7, "particles": 4000, "sets": 5, "method": "psis_diagnostic weights"}
    m, _ = run(d, ref, write_fit(d, "sets", pd.DataFrame(z, columns=["x", "y"]), psis=psis),
               "sets")
    assert m["khat"] == {"median": 0.9, "low": 0.5, "high": 1.4,
                         "values": [0.5, 0.8, 0.9, 1.1, 1.4]}
    assert m["khat_info"]["sets"] == 5 and m["khat_info"]["particles"] == 4000
    assert m["flags"] == [] and m["notes"] == ["khat 0.9 > 0.7 (4000 particles, 0.5-1.4 over 5 sets)"]


def test_the_report_labels_auto_dais_khat_as_of_its_augmented_sampler():
    of = "AutoDAIS's augmented sampler (not its marginal over the latents)"
    m = {**metric(khat=0.4), "khat_info": {"particles": 4000, "of": of}}
    html = ranking_html(evaluation({"auto_dais": [m], "auto_normal": [metric(khat=0.4)]}))
    assert html.count("<small>(aug.)</small>") == 1
    assert "k̂ of AutoDAIS&#39;s augmented sampler" in html
