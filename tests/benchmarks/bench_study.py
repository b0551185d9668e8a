"""Study wall time (default study) and ``snakemake figures`` after it.

In a scratch copy of the workflow, ``--cores N`` (the machine's CPUs):

1. ``cold``: the default study from scratch, empty compilation cache;
2. ``rerun fits``: ``rm -r results/fits``, run again, the cache warm (target: >= 2x
   faster than 1);
3. ``warm``: the study from scratch again (``results``, ``data``, ``.snakemake``
   removed) with the cache 1 filled;
4. ``figures``: ``snakemake figures --forcerun <figure rules>`` on the finished study,
   median of ``--repeats`` (target: < 10% of 1).

Then where the time went: job seconds and peak memory by rule (from the jobs'
``benchmark:`` files, ``results/benchmarks/``) and the sum of ``fit.json``'s compile /
run / job seconds. A study takes minutes: one run each of 1-3
by default.

    python tests/benchmarks/bench_study.py [--quick] [--config FILE] [--cores N]
        [--phases cold,rerun,warm,figures] [--repeats N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402
from studylog import by_rule, fit_split, job_times  # noqa: E402

FIGURE_RULES = ["plot_corner", "plot_loss", "plot_density", "plot_groups", "plot_warm",
                "plot_predictive", "plot_cost", "scaling_summary", "report"]


def figure_rules(work: Path, scaling: bool) -> list[str]:
    """The rules `make figures` forces, those the workflow defines; ``scaling_summary``
    only when the study has a scaling part (forced, Snakemake runs it even in a
    study without one, which has nothing to summarise)."""
    text = "\n".join(p.read_text() for p in (work / "workflow" / "rules").glob("*.smk"))
    return [r for r in FIGURE_RULES if f"rule {r}:" in text
            and (scaling or r != "scaling_summary")]


def scaling_enabled(work: Path, config: Path | None) -> bool:
    import yaml

    path = work / "study.yaml" if config is not None else work / "config" / "config.yaml"
    return bool((yaml.safe_load(path.read_text()).get("scaling") or {}).get("enabled"))


def main(argv=None):
    p = C.add_common_args(argparse.ArgumentParser(description=__doc__.splitlines()[0]), repeats=3)
    p.add_argument("--config", default=None,
                   help="study config (default: config/config.yaml; tests/workflow/tiny.yaml with --quick)")
    p.add_argument("--cores", type=int, default=os.cpu_count())
    p.add_argument("--phases", default="cold,rerun,warm,figures")
    p.add_argument("--study-repeats", type=int, default=1, help="runs of phases 1-3 (median)")
    args = p.parse_args(argv)
    started = C.machine()
    phases = args.phases.split(",")
    reps = C.repeats_of(args, 3)
    config = Path(args.config) if args.config else (
        C.ROOT / "tests" / "workflow" / "tiny.yaml" if args.quick else None)
    # Without the cold phase, a finished study of an earlier run is reused (code recopied).
    work = C.scratch_workflow("study", fresh="cold" in phases)
    sm = ()
    if config is not None:
        shutil.copy2(config, work / "study.yaml")
        sm = ("--configfile", "study.yaml", "--replace-workflow-config")
    logs = C.BENCH_OUT / "logs"

    def clean(*names):
        for n in names:
            shutil.rmtree(work / n, ignore_errors=True)

    rows, breakdown = [], {}
    results = {}

    def finished() -> bool:
        return (work / "results" / "report" / "index.html").exists()

    for phase in ("cold", "rerun", "warm"):
        if phase not in phases:
            continue
        runs = []
        for r in range(max(1, args.study_repeats)):
            if phase == "cold":
                clean("results", "data", ".snakemake", ".cache")
            elif phase == "rerun":
                if not finished():  # needs a finished study (untimed)
                    C.snakemake(work, *sm, cores=args.cores, log=logs / "study-prep.log")
                clean("results/fits")
            else:  # warm: needs the cache a study filled (untimed)
                if not (work / ".cache").exists():
                    C.snakemake(work, *sm, cores=args.cores, log=logs / "study-prep.log")
                clean("results", "data", ".snakemake")
            since = time.time()
            runs.append(C.snakemake(work, *sm, "--rerun-incomplete", cores=args.cores,
                                    log=logs / f"study-{phase}.log"))
            print(f"study, {phase}: {runs[-1]:.1f} s", flush=True)
        results[phase] = C.median(runs)
        jobs = job_times(work, since)  # the jobs of the last run
        breakdown[phase] = {"by_rule": by_rule(jobs), "fits": fit_split(work), "jobs": len(jobs)}
        rows.append({"what": {"cold": "study from scratch, empty cache",
                              "rerun": "rerun after rm -r results/fits, warm cache",
                              "warm": "study from scratch, warm cache"}[phase],
                     "seconds": results[phase], "jobs": len(jobs), "runs": runs})
    if "figures" in phases:
        if not finished():
            C.snakemake(work, *sm, cores=args.cores, log=logs / "study-figures-prep.log")
        forced = figure_rules(work, scaling_enabled(work, config))
        since = time.time()
        runs = [C.snakemake(work, *sm, "figures", "--forcerun", *forced, cores=args.cores,
                            log=logs / "study-figures.log") for _ in range(reps)]
        jobs = job_times(work, since)  # the last run's (each rewrites its files)
        breakdown["figures"] = {"by_rule": by_rule(jobs), "jobs": len(jobs)}
        rows.append({"what": "snakemake figures (forced), finished study",
                     "seconds": C.median(runs), "jobs": len(jobs), "runs": runs})
        results["figures"] = C.median(runs)
    base = results.get("cold")
    for row in rows:
        row["vs_cold"] = row["seconds"] / base if base else None
    C.table(rows, ["what", "jobs", "seconds", "vs_cold"],
            title=f"Study wall time, {'default study' if config is None else config.name}, "
                  f"{args.cores} cores (targets: rerun <= 0.5 x cold; figures < 0.1 x cold)")
    for phase, b in breakdown.items():
        C.table(b["by_rule"][:12], ["rule", "jobs", "seconds", "mean", "max", "max_rss_mb"],
                title=f"[{phase}] job seconds and peak memory (MB) by rule (benchmark files)")
        for kind, split in (b.get("fits") or {}).items():
            print(f"[{phase}] {kind} fits: " + ", ".join(f"{k} {v:.0f}" for k, v in split.items()))
    notes = [C.load_warning(started), C.scontrol_note()]
    for n in filter(None, notes):
        print(n)
    path = C.save("study", rows + [{"breakdown": breakdown}],
                  {"config": str(config or "config/config.yaml"), "cores": args.cores,
                   "phases": phases, "repeats": reps, "quick": args.quick}, started, notes)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
