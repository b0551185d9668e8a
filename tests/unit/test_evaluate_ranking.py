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


def metric(status="ok", me=0.05, sd=(0.95, 1.05), swd=0.05, khat=0.3, seed=1, kind="svi",
           missing=None):
    if status != "ok":
        return {"status": status, "kind": kind, "seed": seed, "mean_err": None, "sd_ratio": None,
                "swd": None, "energy": None, "khat": None, "mcmc": None, "predictive": None,
                "mode_mass": None, "cost": {"seconds": 1.0, "steps": 10}}
    return {"status": "ok", "kind": kind, "seed": seed,
            "mean_err": {"value": me, "floor": 0.01}, "sd_ratio": {"value": list(sd), "floor": [0.99, 1.01]},
            "swd": {"value": swd, "floor": 0.01}, "energy": {"value": 0.01, "floor": 0.001},
            "khat": khat, "mcmc": None, "predictive": None,
            "mode_mass": None if missing is None else {"modes": ["a", "b"], "fit": [1.0, 0.0],
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
    assert rows[2]["marks"] == {"mean_err": "", "sd_ratio": "bad", "khat": "bad"}
    assert rows[3]["v"]["mean_err"] is None and rows[3]["status"].startswith("1/1 diverged")
    html = ranking_html(ev)
    assert html.count("<tr") == 6  # header, noise floor, four methods
    assert "noise floor" in html
    assert '<td class="bad">1/1 diverged</td>' in html and '<td class="bad">0.5–0.9</td>' in html
    assert "(0.05–0.9)" in html  # the spread over seeds
    assert "meets the reference standard" in html


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
    assert scaling.nuts_time_to_accuracy(fit, m) == pytest.approx(4.0 + 6.0 * 100 / 400)
    assert scaling.nuts_time_to_accuracy(fit, {**m, "mcmc": {"min_ess_bulk": 50.0}}) == 10.0
    assert scaling.nuts_time_to_accuracy(fit, {**m, "accurate": False}) is None
    assert scaling.svi_time_to_accuracy({"seconds": {"total": 3.0}}, {"accurate": True}) == 3.0
    assert scaling.svi_time_to_accuracy({"seconds": {"total": 3.0}}, {"accurate": False}) is None


def test_scaling_summary_of_no_fits_says_the_scaling_part_is_off(tmp_path):
    out = tmp_path / "summary.json"
    with pytest.raises(ValueError, match="scaling.enabled is false"):
        scaling.summarise([], out)
    assert not out.exists()  # nothing half-written
