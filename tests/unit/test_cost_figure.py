"""Accuracy against cost: the figure's points from hand-made rows, and Pathfinder's
gradient evaluations to accuracy against auto_mvn's (reached / not reached)."""

import math

import pytest

from svibench.presentation import cost
from svibench.presentation.evalplots import cost_panels


def row(method, seed, grads, seconds, me, sd=(0.9, 1.1), status="ok"):
    fit = {"status": status, "gradient_evaluations": grads, "seconds": {"total": seconds},
           "seeds": {"fit": seed}}
    metrics = {"status": status, "seed": seed,
               "mean_err": None if me is None else {"value": me},
               "sd_ratio": None if me is None else {"value": list(sd)}}
    return cost.cost_row(method, fit, metrics)


def test_a_row_takes_cost_from_fit_json_and_accuracy_from_metrics_json():
    r = row("auto_mvn", 3, 4000, 2.5, 0.1, sd=(0.5, 1.1))
    assert r == {"method": "auto_mvn", "seed": 3, "status": "ok", "gradient_evaluations": 4000,
                 "seconds": 2.5, "mean_err": 0.1, "sd_dev": pytest.approx(math.log(2))}
    bad = row("pathfinder", 4, 300, 1.0, None, status="failed")
    assert bad["status"] == "failed" and bad["mean_err"] is None and bad["sd_dev"] is None
    assert bad["gradient_evaluations"] == 300  # its cost is kept
    assert cost.sd_deviation([0.0, 1.0]) == math.inf  # collapsed


def test_the_figure_draws_one_point_per_seed_and_marks_fits_without_a_score(tmp_path):
    rows = ([row("nuts", 2, 60000, 9.0, 0.02)]
            + [row("auto_mvn", s, 3000 + s, 3.0, 0.05 * s) for s in (1, 2, 3)]
            + [row("pathfinder", 3, 250, 0.8, 0.1), row("pathfinder", 4, 260, 0.9, None,
                                                        status="diverged"),
               row("pathfinder", 5, None, None, 0.1, sd=(0.0, 1.0))])
    out = tmp_path / "cost.png"
    drawn = cost_panels(rows, out, methods=["nuts", "auto_mvn", "pathfinder"],
                        thresholds={"mean_err": 0.25}, title="t", dpi=30)
    assert out.stat().st_size > 1000
    assert set(drawn["points"]) == {"mean_err~gradient_evaluations", "mean_err~seconds",
                                    "sd_dev~gradient_evaluations", "sd_dev~seconds"}
    for panel, pts in drawn["points"].items():
        per = {}
        for method, seed, x, y, kind in pts:
            per.setdefault(method, []).append((seed, kind))
        # every seed with a cost is a point; the diverged one is marked, not dropped
        assert per == {"nuts": [(2, "scored")], "auto_mvn": [(1, "scored"), (2, "scored"),
                                                             (3, "scored")],
                       "pathfinder": [(3, "scored"), (4, "no score")]}, panel
    # the one without a recorded cost is named (once per cost axis), never silently lost
    assert drawn["uncosted"] == [("pathfinder", 5, "gradient_evaluations"),
                                 ("pathfinder", 5, "seconds")]


def test_a_collapsed_fit_is_drawn_clipped(tmp_path):
    drawn = cost_panels([row("auto_laplace", 1, 100, 1.0, 0.1, sd=(0.0, 1.0))],
                        tmp_path / "c.png", methods=["auto_laplace"], dpi=30)
    (*_, y, kind), = drawn["points"]["sd_dev~seconds"]
    assert kind == "clipped" and y == pytest.approx(10.0)


def test_gradients_to_accuracy_median_over_seeds_with_not_reached():
    thr = 0.2
    rows = ([row("auto_mvn", s, g, 1.0, me) for s, g, me in
             ((1, 10000, 0.1), (2, 30000, 0.15), (3, 20000, 0.5))]
            + [row("pathfinder", s, g, 1.0, me) for s, g, me in
               ((3, 500, 0.1), (4, 1000, 0.1), (5, 2000, 0.1))]
            + [row("multipathfinder", s, 4000, 1.0, me, status="ok" if me else "failed")
               for s, me in ((3, 0.3), (4, None), (5, 0.1))])
    mvn = cost.gradients_to_accuracy(rows, "auto_mvn", thr)
    # seeds: 10000, 30000, not reached (inf): the median is 30000
    assert mvn == {"method": "auto_mvn", "median": 30000.0, "reached": 2, "seeds": 3}
    pf, mpf = cost.pathfinder_comparisons(rows, thr)
    assert pf["method"] == "pathfinder" and pf["of"]["median"] == 1000.0
    assert pf["ratio"] == pytest.approx(30.0)
    # one seed of three within the threshold (one too far, one failed): not reached
    assert mpf["method"] == "multipathfinder" and mpf["of"]["median"] is None
    assert mpf["of"]["reached"] == 1 and mpf["ratio"] is None
    # half of an even number of seeds is not a majority: not reached
    two = [row("auto_mvn", 1, 100, 1.0, 0.1), row("auto_mvn", 2, 100, 1.0, 0.9)]
    assert cost.gradients_to_accuracy(two, "auto_mvn", thr)["median"] is None
    # the baseline not reaching it leaves no ratio; without the baseline, no comparison
    (c,) = cost.pathfinder_comparisons(two + rows[3:6], thr)
    assert c["against"]["median"] is None and c["of"]["median"] == 1000.0 and c["ratio"] is None
    assert cost.pathfinder_comparisons(rows[3:], thr) == []


def write_run(folder, method, seed, grads, me, status="ok"):
    from svibench import io

    d = folder / method / f"seed{seed}"
    io.write_json(d / "fit.json", {"status": status, "gradient_evaluations": grads,
                                   "seconds": {"total": 1.5}, "seeds": {"fit": seed}})
    io.write_json(d / "metrics.json", {
        "status": status, "seed": seed, "mean_err": None if me is None else {"value": me},
        "sd_ratio": None if me is None else {"value": [0.9, 1.1]}})
    return {"method": method, "dir": str(d)}


def test_the_report_shows_the_gradient_evaluations_to_accuracy(tmp_path):
    from report_inputs import PNG, write_inputs

    from svibench.presentation.report import report

    kw = write_inputs(tmp_path / "in")
    runs = ([write_run(tmp_path, "auto_mvn", s, g, me)
             for s, g, me in ((1, 20000, 0.1), (2, 40000, 0.1), (3, 60000, 0.1))]
            + [write_run(tmp_path, "pathfinder", s, 1000, 0.1) for s in (3, 4, 5)]
            + [write_run(tmp_path, "multipathfinder", s, 5000, me, status)
               for s, me, status in ((3, 0.5, "ok"), (4, None, "failed"), (5, 0.1, "ok"))])
    png = tmp_path / "cost.png"
    png.write_bytes(PNG)
    entry = {"model": "linreg", "dataset": "small", "figure": str(png), "runs": runs}
    out = tmp_path / "index.html"
    report(kw["studies"], kw["config"], out, warm=kw["warm"], evaluation=kw["evaluation"],
           scaling=kw["scaling"], cost=[entry])
    page = out.read_text()
    section = page[page.index("<h3>Accuracy against cost</h3>"):]
    # the config's mean_err threshold (0.25); medians over seeds, the ratio, the verdict
    assert "gradient evaluations to mean_err ≤ 0.25" in section
    assert ("<tr><td>pathfinder</td><td>1000</td><td>3/3</td><td>40000</td><td>3/3</td>"
            "<td>40×</td><td class=\"good\">yes</td></tr>") in section
    assert ("<tr><td>multipathfinder</td><td>not reached</td><td>1/3</td><td>40000</td>"
            "<td>3/3</td><td>—</td><td class=\"\">—</td></tr>") in section
    assert page.count('src="data:image/png;base64,') == 5  # the cost figure too
