"""Which diagnostics can be trusted (svibench.trust): counts, precision, recall and
AUROC on hand-made fits whose answers are known, and the report's table."""

import pytest

from svibench import trust
from svibench.presentation.report import build_report


def test_auroc_of_a_perfect_an_inverted_and_a_constant_score():
    y = [True, True, False, False, False]
    assert trust.auroc([0.9, 0.8, 0.1, 0.2, 0.3], y) == (1.0, None)
    assert trust.auroc([0.1, 0.2, 0.9, 0.8, 0.7], y) == (0.0, None)
    assert trust.auroc([1, 1, 1, 1, 1], y) == (0.5, None)  # all tied: chance


def test_auroc_counts_a_tie_between_a_failed_and_a_passing_fit_as_one_half():
    # pairs (pos, neg): (2,1) win, (2,2) tie, (1,1) tie, (1,2) loss -> (1 + 0.5 + 0.5) / 4
    assert trust.auroc([2, 1, 1, 2], [True, True, False, False]) == (0.5, None)
    assert trust.auroc([3, 2, 2, 1], [True, True, False, False]) == (0.875, None)
    assert list(trust.midranks([5, 1, 5, 3])) == [3.5, 1.0, 3.5, 2.0]


def test_auroc_is_undefined_without_a_failed_or_a_passing_fit():
    assert trust.auroc([0.1, 0.2], [False, False]) == (None, "no failed fit")
    assert trust.auroc([0.1, 0.2], [True, True]) == (None, "no passing fit")
    assert trust.auroc([], []) == (None, "no fit")


def test_confusion_precision_and_recall():
    c = trust.confusion([True, True, False, False, True], [True, False, True, False, True])
    assert c == {"tp": 2, "fp": 1, "fn": 1, "tn": 1}
    pr = trust.precision_recall(c)
    assert pr["precision"] == pytest.approx(2 / 3) and pr["recall"] == pytest.approx(2 / 3)
    none = trust.precision_recall(trust.confusion([False, False], [False, False]))
    assert none["precision"] is None and none["precision_reason"] == "no fit predicted failed"
    assert none["recall"] is None and none["recall_reason"] == "no failed fit"


def fit(me=0.05, sd=(0.95, 1.05), khat=0.3, particles=4000, trend=False, elbo=-10.0,
        kind="svi", status="ok"):
    m = {"status": status, "kind": kind,
         "mean_err": {"value": me}, "sd_ratio": {"value": list(sd)},
         "khat": khat, "khat_info": {"particles": particles, "threshold": 0.7},
         "cost": {"final_elbo": elbo, "stopped_with_trend": trend}}
    if status != "ok":
        m["mean_err"] = m["sd_ratio"] = None
    return m


def test_the_failed_fit_is_judges_mean_err_or_sd_ratio():
    assert trust.failed(fit()) is False
    assert trust.failed(fit(me=0.21)) is True
    assert trust.failed(fit(sd=(0.79, 1.0))) is True and trust.failed(fit(sd=(0.9, 1.21))) is True
    assert trust.failed(fit(status="diverged")) is None
    assert trust.failed(fit(me=0.3), {"mean_err": 0.5}) is False  # the thresholds given


def test_a_perfect_predictor_has_auroc_1_and_precision_1():
    # k-hat beyond its threshold exactly on the failed fits; one dataset
    fits = [{"dataset": "d", "m": fit(me=0.5, khat=1.2, trend=True, elbo=-30.0)},
            {"dataset": "d", "m": fit(sd=(0.3, 1.0), khat=0.9, trend=True, elbo=-20.0)},
            {"dataset": "d", "m": fit(khat=0.4, elbo=-12.0)},
            {"dataset": "d", "m": fit(khat=0.1, elbo=-11.0)},
            {"dataset": "d", "m": fit(khat=None, elbo=None, trend=None)},  # no diagnostic
            {"dataset": "d", "m": fit(kind="nuts", khat=None, trend=None, elbo=None)},
            {"dataset": "d", "m": fit(status="diverged")}]
    t = trust.trust_table(fits)
    assert t["fits"] == 5 and t["failed"] == 2  # NUTS and the unfinished fit left out
    rows = {r["diagnostic"]: r for r in t["rows"]}
    for key in ("khat", "trend", "elbo_rank"):
        r = rows[key]
        assert (r["n"], r["failed"], r["tp"], r["fp"], r["fn"], r["tn"]) == (4, 2, 2, 0, 0, 2), key
        assert r["precision"] == 1.0 and r["recall"] == 1.0 and r["auroc"] == 1.0, key


def test_elbo_rank_is_within_each_dataset_and_ties_share_a_rank():
    fits = [{"dataset": "a", "m": fit(elbo=-100.0)}, {"dataset": "a", "m": fit(elbo=-50.0)},
            {"dataset": "b", "m": fit(elbo=5.0)}, {"dataset": "b", "m": fit(elbo=5.0)},
            {"dataset": "b", "m": fit(elbo=7.0)}, {"dataset": "c", "m": fit(elbo=1.0)}]
    assert trust.elbo_ranks(fits) == [1.0, 0.0, 0.75, 0.75, 0.0, None]


def test_undefined_values_carry_their_reason():
    t = trust.trust_table([{"dataset": "d", "m": fit(khat=0.1)},
                           {"dataset": "d", "m": fit(khat=0.2, elbo=-5.0)}])
    r = {r["diagnostic"]: r for r in t["rows"]}
    assert r["khat"]["auroc"] is None and r["khat"]["auroc_reason"] == "no failed fit"
    assert r["khat"]["recall_reason"] == "no failed fit"
    assert r["khat"]["precision_reason"] == "no fit predicted failed"
    empty = trust.trust_table([{"dataset": "d", "m": fit(khat=None, trend=None, elbo=None)}])
    assert all(r["auroc_reason"] == "no fit with this diagnostic" for r in empty["rows"])


def test_the_report_shows_the_table_of_diagnostics(tmp_path):
    ms = [fit(me=0.5, khat=1.2, trend=True, elbo=-30.0), fit(khat=0.4, elbo=-12.0),
          fit(khat=0.5, elbo=-11.0)]
    ev = {"model": "m", "dataset": "d", "predictive": None,
          "reference": {"kind": "exact", "n_draws": 100, "meets_standard": True, "problems": []},
          "fits": [{"group": f"g{i}", "label": f"g{i}",
                    "m": {**m, "seed": 1, "swd": {"value": 0.1, "floor": 0.01},
                          "energy": {"value": 0.01, "floor": 0.001},
                          "mean_err": {**m["mean_err"], "floor": 0.01},
                          "sd_ratio": {**m["sd_ratio"], "floor": [0.99, 1.01]},
                          "mcmc": None, "predictive": None, "mode_mass": None,
                          "cost": {**m["cost"], "seconds": 1.0, "steps": 10}}}
                   for i, m in enumerate(ms)]}
    study = {"model": "m", "dataset": "d", "description": "", "truth": {}, "entries": [],
             "figures": [], "evaluation": ev}
    out = tmp_path / "index.html"
    build_report([study], {}, {}, out)
    html = out.read_text()
    assert 'id="diagnostics"' in html and "Which diagnostics can be trusted" in html
    table = html[html.index('id="diagnostics"'):]
    assert "k̂ over its threshold" in table and "stopped with a trend" in table
    assert "<td>1</td><td>0</td><td>0</td><td>2</td>" in table  # khat: TP FP FN TN


def test_the_report_gives_the_reason_of_an_undefined_value(tmp_path):
    ok = {"status": "ok", "kind": "svi", "seed": 1, "mean_err": {"value": 0.05, "floor": 0.01},
          "sd_ratio": {"value": [0.95, 1.05], "floor": [0.99, 1.01]},
          "swd": {"value": 0.1, "floor": 0.01}, "energy": {"value": 0.01, "floor": 0.001},
          "khat": 0.3, "khat_info": {"particles": 4000, "threshold": 0.7}, "mcmc": None,
          "predictive": None, "mode_mass": None,
          "cost": {"seconds": 1.0, "steps": 10, "final_elbo": -3.0, "stopped_with_trend": False}}
    ev = {"model": "m", "dataset": "d", "predictive": None, "fits": [{"group": "g", "m": ok}],
          "reference": {"kind": "exact", "n_draws": 100, "meets_standard": True, "problems": []}}
    study = {"model": "m", "dataset": "d", "description": "", "truth": {}, "entries": [],
             "figures": [], "evaluation": ev}
    build_report([study], {}, {}, tmp_path / "a.html")
    html = (tmp_path / "a.html").read_text()
    assert '<td title="undefined: no failed fit">– <small>(no failed fit)</small></td>' in html
    nuts = {**ok, "kind": "nuts", "khat": None}
    build_report([{**study, "evaluation": {**ev, "fits": [{"group": "nuts", "m": nuts}]}}],
                 {}, {}, tmp_path / "b.html")
    assert 'id="diagnostics"' not in (tmp_path / "b.html").read_text()  # nothing to score
