"""The fast path of issue 6 stays in place (no timings here: counts and behaviour only),
and the pure-Python helpers of tests/benchmarks/ work."""

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def test_schema_is_parsed_once_and_handed_out_as_copies():
    from svibench import config

    config._parsed_schema.cache_clear()
    a = config.load_schema()
    b = config.load_schema()
    assert a == b and a is not b
    a["properties"]["draws"]["default"] = -1  # a caller's change stays with that caller
    assert config.load_schema()["properties"]["draws"]["default"] == 4000
    assert config._parsed_schema.cache_info().misses == 1


def test_validate_parses_the_schema_once():
    from svibench import config

    config._parsed_schema.cache_clear()
    config.validate({"models": {"linreg": {"datasets": {"a": {"seed": 1}},
                                           "methods": ["nuts", {"auto_mvn": {"lr": 0.02}},
                                                       {"auto_normal": {"particles": 4}}]}}})
    assert config._parsed_schema.cache_info().misses == 1


def _compiles(fn):
    """Number of XLA compilations during ``fn()``."""
    from jax import monitoring

    seen = []

    def listener(name, duration, **kwargs):
        if name.endswith("backend_compile_duration"):
            seen.append(name)

    monitoring.register_event_duration_secs_listener(listener)
    try:
        out = fn()
    finally:
        monitoring.unregister_event_duration_listener(listener)
    return len(seen), out


def test_latent_sites_compiles_nothing():
    from svibench.data import bound_model
    from svibench.engine.draws import latent_sites
    from svibench.models import get_model

    mod = get_model("hier")
    settings = {**mod.defaults, "groups": 5}
    df, _ = mod.simulate(settings, 3)
    arrays, static = mod.prepare(df, settings)
    n, sites = _compiles(lambda: latent_sites(bound_model("hier", static), arrays))
    assert sites == {"m_mu": (), "m_sig": (), "c_mu": (), "c_sig": (), "m": (5,), "c": (5,)}
    assert n == 0


def test_latent_sites_of_a_model_that_branches_on_values():
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist

    from svibench.engine.draws import latent_sites

    def model(y=None):
        a = numpyro.sample("a", dist.Normal(0.0, 1.0))
        if float(a) > 100.0:  # needs a concrete value: no abstract tracing
            numpyro.sample("never", dist.Normal(0.0, 1.0))
        numpyro.sample("b", dist.Normal(jnp.zeros(3), 1.0).to_event(1))
        numpyro.sample("y", dist.Normal(a, 1.0), obs=y)

    assert latent_sites(model, {"y": jnp.ones(2)}) == {"a": (), "b": (3,)}


@pytest.fixture
def bench_path():
    sys.path.insert(0, str(BENCH))
    yield
    sys.path.remove(str(BENCH))


HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def write_benchmark(work, rel, seconds, rss, mtime=None):
    """A benchmark file as Snakemake writes it (results/benchmarks/<rel>)."""
    import os

    path = work / "results/benchmarks" / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + f"{seconds:.2f}\t0:00:{int(seconds):02d}\t{rss:.2f}\t900.00\t"
                    f"100.00\t120.00\t0.00\t0.50\t80.00\t{seconds * 0.8:.2f}\n")
    if mtime is not None:
        os.utime(path, (mtime, mtime))


def test_studylog_reads_the_benchmark_files(tmp_path, bench_path):
    import json

    import studylog

    fit = tmp_path / "results/fits/coin/small/nuts/seed2"
    fit.mkdir(parents=True)
    (fit / "fit.json").write_text(json.dumps({"kind": "nuts"}))
    write_benchmark(tmp_path, "simulate/coin/small.tsv", 2.0, 150.0, mtime=1000.0)
    write_benchmark(tmp_path, "fit/coin/small/nuts/seed2.tsv", 13.2, 457.16, mtime=2000.0)
    write_benchmark(tmp_path, "fit/coin/small/beta/seed1.tsv", 9.0, 300.0, mtime=2000.0)
    write_benchmark(tmp_path, "plot/coin/small/corner.tsv", 3.0, 200.0, mtime=2000.0)
    write_benchmark(tmp_path, "plot/coin/small/warm-from-other.tsv", 4.0, 210.0, mtime=2000.0)
    write_benchmark(tmp_path, "report.tsv", 1.5, 180.0, mtime=2000.0)
    jobs = {j["file"]: j for j in studylog.job_times(tmp_path)}
    assert {f: (j["rule"], j["seconds"], j["max_rss_mb"]) for f, j in jobs.items()} == {
        "simulate/coin/small.tsv": ("simulate", 2.0, 150.0),
        "fit/coin/small/nuts/seed2.tsv": ("fit_nuts", 13.2, 457.16),
        "fit/coin/small/beta/seed1.tsv": ("fit", 9.0, 300.0),  # no fit.json: kind unknown
        "plot/coin/small/corner.tsv": ("plot_corner", 3.0, 200.0),
        "plot/coin/small/warm-from-other.tsv": ("plot_warm", 4.0, 210.0),
        "report.tsv": ("report", 1.5, 180.0)}
    assert jobs["report.tsv"]["cpu_seconds"] == 1.2
    # Only the jobs of a run that started at t = 1500: the simulation was earlier.
    recent = studylog.job_times(tmp_path, since=1500.0)
    assert sorted(j["rule"] for j in recent) == ["fit", "fit_nuts", "plot_corner", "plot_warm",
                                                 "report"]
    rows = studylog.by_rule(recent)
    assert [r["rule"] for r in rows][:2] == ["fit_nuts", "fit"]
    assert rows[0] == {"rule": "fit_nuts", "jobs": 1, "seconds": 13.2, "max": 13.2,
                       "max_rss_mb": 457.16, "mean": 13.2}


def test_plain_script_subset_scales_budgets(bench_path):
    import yaml
    from plain_script import subset_config

    raw = yaml.safe_load((BENCH.parents[1] / "config" / "seed.yaml").read_text())
    cfg = subset_config(raw, ["linreg", "hier/auto_dais"], 0.1)
    assert list(cfg["models"]) == ["linreg", "hier"]
    assert cfg["models"]["hier"]["methods"] == [
        {"auto_dais": {"max_steps": 5000, "particles": 100, "guide": {"K": 16, "eta_max": 0.12},
                       "convergence": {"window": 2500, "patience": 2}}}]
    assert cfg["svi"]["max_steps"] == 1000 and cfg["nuts"]["warmup"] == 100
    from svibench.config import validate

    validate(cfg)  # still a valid study


def test_seed_bench_judges_accuracy_on_medians_over_fit_seeds(bench_path):
    from bench_seed import less_accurate

    inf = float("inf")
    # One seed a side: the single-run comparison, within the floor or not.
    assert not less_accurate([0.65], [0.63], floor=0.04)
    assert less_accurate([1.30], [0.63], floor=0.04)
    # One unlucky run among three is the fit's noise, not the workflow's doing...
    assert not less_accurate([1.30, 0.60, 0.66], [0.63, 0.90, 0.62], floor=0.04)
    # ...a workflow that is off on every seed is worse...
    assert less_accurate([1.30, 1.25, 1.20], [0.63, 0.65, 0.62], floor=0.04)
    # ...but not when the fits scatter as widely as the gap (coin's Normal guide, stopped
    # at convergence vs its full budget, seeds 1-3)
    assert not less_accurate([0.0075, 0.101, 0.122], [0.010, 0.038, 0.086], floor=0.02)
    # A diverged fit counts as the worst value; both sides diverging is no difference.
    assert less_accurate([inf, inf, 0.6], [0.6, 0.7, inf], floor=0.04)
    assert not less_accurate([inf, 0.6, 0.7], [0.6, 0.7, inf], floor=0.04)
    assert not less_accurate([inf], [inf], floor=0.04)


def test_tolerance_grows_with_the_spread_over_seeds(bench_path):
    import math

    from bench_seed import tolerance

    assert tolerance([0.5], [0.4], floor=0.04) == 0.04  # one seed a side: the floor
    assert tolerance([0.5, 0.5], [0.4, 0.4], floor=0.04) == 0.04  # no spread
    # pooled sd 0.1 (dof 2), n = 2 a side: 2 * 0.1 * sqrt(pi / 2 * (1/2 + 1/2))
    t = tolerance([0.4, 0.6], [0.3, 0.5], floor=0.04)
    assert t == pytest.approx(0.04 + 2 * math.sqrt(0.04 / 2) * math.sqrt(math.pi / 2))
    # a diverged fit (inf) adds no spread: it moves the median
    assert tolerance([0.4, 0.6, float("inf")], [0.3, 0.5], floor=0.04) == pytest.approx(
        0.04 + 2 * math.sqrt(0.04 / 2) * math.sqrt(math.pi / 2 * (1 / 3 + 1 / 2)))


def test_refit_plan_moves_every_fit_seed(tmp_path, bench_path):
    import json

    from refit_seeds import refit_plan

    for method, seed in (("nuts", 2), ("auto_dais", 1)):
        folder = tmp_path / "results" / "fits" / "hier" / "first" / method
        folder.mkdir(parents=True)
        (folder / "fit.json").write_text(json.dumps(
            {"model": "hier", "dataset": "first", "method": method,
             "options": {"seed": seed, "max_steps": 10}}))
    plan = refit_plan(tmp_path, 3)
    assert [(f["method"], f["options"]["seed"]) for f in plan] == [("auto_dais", 4), ("nuts", 5)]
    assert plan[0]["options"]["max_steps"] == 10


def test_a_diverged_fit_keeps_exactly_the_state_before_its_first_bad_step():
    """The engine runs a chunk unguarded and recomputes the last finite state: it is the
    state of a fit that stopped one step earlier, bit for bit."""
    import numpy as np

    from svibench.data import bound_model
    from svibench.engine.svi import run_svi
    from svibench.methods import get_method
    from svibench.models import get_model

    mod = get_model("coin")
    s = dict(mod.defaults, n=20, heads=12)
    df, _ = mod.simulate(s, 1)
    arrays, static = mod.prepare(df, s)
    model = bound_model("coin", static)
    kw = dict(lr=1e3, chunk=4, seed=0)  # the update goes non-finite at step 3
    fit = run_svi(model, get_method("auto_normal").build(model), arrays, max_steps=200, **kw)
    # ...not the first of its chunk: the chunk's good steps are run again
    assert fit.status == "diverged" and (fit.diverged_at - 1) % 4 > 0
    before = run_svi(model, get_method("auto_normal").build(model), arrays,
                     max_steps=fit.diverged_at - 1, **kw)
    assert before.status == "ok"
    np.testing.assert_array_equal(fit.losses[:-1], before.losses)
    for name, value in before.params.items():
        np.testing.assert_array_equal(np.asarray(fit.params[name]), np.asarray(value))


def test_gpu_bench_compares_each_j_across_platforms_and_with_the_hand_loop(bench_path):
    """Per J: engine / hand-written on each platform, GPU / CPU for both; a platform
    that failed or was not run gives no ratio rather than a number."""
    from bench_gpu import per_j

    def row(J, platform, engine, hand, **extra):
        return {"J": J, "platform": platform, "engine_steps_per_s": engine,
                "hand_steps_per_s": hand, "engine_over_hand": engine / hand, **extra}

    rows = [row(1024, "gpu", 9000.0, 10000.0), row(1024, "cpu", 900.0, 1000.0),
            row(4096, "gpu", 6000.0, 8000.0), row(4096, "cpu", 500.0, 400.0, error="boom"),
            row(65536, "gpu", 4000.0, 5000.0)]
    by_j = {r["J"]: r for r in per_j(rows)}
    assert list(by_j) == [1024, 4096, 65536]
    assert by_j[1024]["gpu_over_cpu_engine"] == pytest.approx(10.0)
    assert by_j[1024]["gpu_over_cpu_hand"] == pytest.approx(10.0)
    assert by_j[1024]["gpu_engine_over_hand"] == pytest.approx(0.9)
    assert by_j[1024]["cpu_engine_over_hand"] == pytest.approx(0.9)
    assert by_j[4096]["cpu_engine_over_hand"] is None  # its CPU run failed
    assert by_j[4096]["gpu_over_cpu_engine"] is None
    assert by_j[4096]["gpu_engine_over_hand"] == pytest.approx(0.75)
    assert by_j[65536]["gpu_over_cpu_hand"] is None  # no CPU run at that size


def test_the_load_note_counts_other_processes_cpu_not_the_benchmarks_own(bench_path):
    """A benchmark busy on every core is not "other work"; CPU used by others is."""
    import _common as C

    start = {"cpu": {"wall": 100.0, "busy": 1000.0, "ours": 10.0}}
    # 60 s on 2 cores, all of it this process's children (the study it timed)
    own = {"wall": 160.0, "busy": 1120.0, "ours": 130.0}
    assert C.load_warning(start, now=own) is None
    # the same, and another process used half a core meanwhile
    shared = {"wall": 160.0, "busy": 1150.0, "ours": 130.0}
    note = C.load_warning(start, now=shared)
    assert note and "30 CPU-seconds" in note and "0.50 cores" in note
    snap = C.cpu_snapshot()  # this machine's own counters, where it has /proc/stat
    assert snap is None or (snap["busy"] > 0 and snap["ours"] > 0)
