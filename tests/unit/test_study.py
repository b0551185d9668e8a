"""The study model: runs, paths and targets of a config, without Snakemake."""

from pathlib import Path

import pytest
import yaml

from svibench.config import validate
from svibench.methods import get_method
from svibench.study import Study, run_dir

ROOT = Path(__file__).resolve().parents[2]


def study(path="tests/workflow/tiny.yaml", **changes) -> Study:
    cfg = yaml.safe_load((ROOT / path).read_text())
    cfg.update(changes)
    return Study(validate(cfg))


def test_every_kind_of_run_is_one_record_in_one_tree():
    s = study()
    roles = {}
    for r in s.runs:
        roles.setdefault(r.role, []).append(r)
        assert r.dir == run_dir(r.model, r.dataset, r.method, r.tag)
        assert r.dir.startswith(f"results/fits/{r.model}/{r.dataset}/{r.method}/")
        assert s.run(r.model, r.dataset, r.method, r.tag) is r
    # tiny.yaml: coin repeats 2 for its SVI guides (auto_normal, beta), NUTS once.
    coin = s.runs_on("coin", "small")
    assert [(r.method, r.tag, r.role) for r in coin] == [
        ("nuts", "seed2", "primary"), ("auto_normal", "seed1", "primary"),
        ("auto_normal", "seed2", "repeat"), ("beta", "seed1", "primary"),
        ("beta", "seed2", "repeat")]
    assert [r.options["seed"] for r in coin] == [2, 1, 2, 1, 2]
    assert coin[3].options["max_steps"] == 1500  # the method's override
    warm, = roles["warm"]
    assert (warm.dataset, warm.source, warm.tag) == ("other", "small", "from-small")
    assert s.warm_init(warm) == "results/fits/hier/small/auto_normal/seed1/params.npz"
    assert s.cold_twin(warm).dir == "results/fits/hier/other/auto_normal/seed1"
    # the scaling study is datasets of its model like any other
    assert sorted({(r.dataset, r.method) for r in roles["scaling"]}) == [
        ("J3", "auto_normal"), ("J3", "nuts"), ("J5", "auto_normal"), ("J5", "nuts")]
    assert all(r.options["predictive_draws"] == 0 for r in roles["scaling"])
    assert len({r.dir for r in s.runs}) == len(s.runs)  # no two runs share a folder


def test_counts_follow_the_config():
    s = study("config/config.yaml")
    cfg = s.cfg
    seeded = lambda model: [m for m in cfg["models"][model]["methods"]  # noqa: E731
                            if get_method(m).kind != "nuts"]
    for model, entry in cfg["models"].items():
        once = len(entry["methods"]) - len(seeded(model))  # NUTS: one job, its chains
        svi = seeded  # SVI guides and Pathfinder: one fit per seed
        n = len(entry["datasets"]) * (len(svi(model)) * int(entry.get("repeats") or cfg["repeats"])
                                      + once)
        n += sum(len(p["methods"]) for p in entry.get("warm_start", []))
        assert len([r for r in s.runs if r.model == model]) == n, model


def test_targets_cover_every_run_reference_and_figure():
    s = study()
    t = set(s.targets())
    for r in s.runs:
        assert f"{r.dir}/fit.json" in t and f"{r.dir}/metrics.json" in t
    for d in s.datasets.values():
        assert f"{d.reference_dir}/reference.json" in t
    assert "results/figures/hier/other/warm-from-small.png" in t
    assert "results/figures/hier/small/groups.png" in t
    assert "results/figures/corrgauss/default/density.png" in t
    assert "results/figures/corrgauss/default/loss.png" in t
    assert "results/figures/coin/small/predictive.png" in t
    # accuracy against cost: every study dataset, its methods' every seed, no warm start
    assert {f"results/figures/{d.model}/{d.name}/cost.png" for d in s.study_datasets()} <= t
    assert [(r.method, r.tag) for r in s.cost_runs("hier", "other")] == [
        ("nuts", "seed2"), ("auto_normal", "seed1"), ("auto_normal", "seed2")]
    assert not any(p.startswith("results/figures/hier/J3") for p in t)  # scaling: no figures
    assert "results/scaling/summary.json" in t and "results/report/index.html" in t


def test_report_order_primary_then_seeds_then_warm():
    s = study()
    ev = {(e["model"], e["dataset"]): e for e in s.report_evaluation()}
    assert [f["label"] for f in ev["hier", "other"]["fits"]] == [
        "nuts", "auto_normal", "auto_normal", "auto_normal (warm from small)"]
    assert [f["fit_dir"].rsplit("/", 2)[1:] for f in ev["coin", "small"]["fits"]] == [
        ["nuts", "seed2"], ["auto_normal", "seed1"], ["beta", "seed1"],
        ["auto_normal", "seed2"], ["beta", "seed2"]]
    assert ("hier", "J3") not in ev


def test_scaling_entries_carry_groups_and_dimension():
    s = study()
    entries = {(e["groups"], e["dim"]) for e in s.scaling_entries()}
    assert entries == {(3, 10), (5, 14)}  # D = 2J + 4 latents of the hierarchical model


def test_unknown_run_names_its_path():
    with pytest.raises(KeyError, match="results/fits/coin/small/auto_normal/seed9"):
        study().run("coin", "small", "auto_normal", "seed9")


def test_a_methods_seeds_on_a_dataset_are_one_fit_job():
    s = study()  # tiny.yaml: repeats 2, so seeds 1 and 2 of every SVI guide
    b = s.batch("coin/small/beta")
    assert b.seeds == (1, 2) and [r.role for r in b.runs] == ["primary", "repeat"]
    assert b.first.options["max_steps"] == 1500  # the method's own options, seed aside
    assert {r.options["seed"] for r in b.runs} == {1, 2}
    # NUTS and warm starts are one run per job; scaling points are batches
    assert "coin/small/nuts" not in s.batches
    assert all(r.role != "warm" for b in s.batches.values() for r in b.runs)
    assert s.batch("hier/J3/auto_normal").seeds == (1, 2)
    rules = {name: (kind, seeds, fits) for name, kind, seeds, fits in s.batch_rules()}
    assert set(rules) == {"fit_svi", "fit_pathfinder"}  # every batch has the usual seeds
    assert "coin/small/beta" in rules["fit_svi"][2] and rules["fit_pathfinder"][2] == []
    assert s.fit_log(b.runs[1]) == "results/logs/fit/coin/small/beta/seeds.log"
    warm = s.warm_runs("hier", "other")[0]
    assert s.fit_log(warm) == "results/logs/fit/hier/other/auto_normal/from-small.log"


def test_a_seed_set_of_its_own_gets_a_rule_of_its_own():
    import yaml

    cfg = yaml.safe_load((ROOT / "tests/workflow/tiny.yaml").read_text())
    cfg["models"]["coin"]["repeats"] = 3
    s = Study(validate(cfg))
    rules = {name: fits for name, _, _, fits in s.batch_rules()}
    assert "coin/small/beta" in rules["fit_svi_seeds1to3"]
    assert "coin/small/beta" not in rules["fit_svi"] and "hier/small/auto_normal" in rules["fit_svi"]
