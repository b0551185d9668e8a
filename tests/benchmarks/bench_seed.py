"""The seed-equivalent study through the workflow against one plain script.

The same fits (``config/seed.yaml``, or a subset: ``--only``, ``--scale``) are run

- by Snakemake, each fit its own job, ``--cores N`` (the machine's CPUs), with an
  empty compilation cache (as the plain script has none) and then again with the
  cache the first run filled (``results/fits`` removed in between); and
- by ``plain_script.py``: one Python process, the fits one after the other.

Both start from the same simulated data (made before the clocks start) and end with
every fit's draws written. Ratio = workflow wall / plain wall (target <= 0.25 from an
empty cache; <= 0.5 before the performance issue). With ``--accuracy`` the workflow
then builds the references and both sets of draws are scored by
``svibench.metrics.score`` (the accuracy issue's metrics): a method is *worse* when
a metric of the workflow's fits exceeds the plain script's by more than the metric's
noise, compared as medians over fit seeds: ``--fit-seeds K`` (default
2) refits both sides, untimed, with the fit seeds + 1 .. K (``refit_seeds.py``,
``plain_script.py --seed-offset``), because one stochastic fit's accuracy is no
measure (AutoDAIS on hier: mean_err 0.6 to 2.5 along one run). The noise is the
metric's floor (the reference's own) plus 2 standard errors of the difference of the
medians, from the spread over seeds (``tolerance``).

The full study is long (tens of minutes on 2 cores): ``--only linreg`` or
``--scale 0.1`` give a subset; one run each by default (``--repeats``).

    python tests/benchmarks/bench_seed.py [--quick] [--only MODEL[/METHOD]] [--scale F]
        [--accuracy [--fit-seeds K]] [--cores N] [--repeats N]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402
from plain_script import subset_config  # noqa: E402

sys.path.insert(0, str(C.ROOT / "workflow"))


def method_names(entry: dict) -> list[str]:
    """The names in a model's ``methods`` list (entries are names or {name: overrides})."""
    return [m if isinstance(m, str) else next(iter(m)) for m in entry["methods"]]


def targets(cfg: dict, kind: str) -> list[str]:
    out = []
    for model, entry in cfg["models"].items():
        for dataset in entry["datasets"]:
            if kind == "data":
                out.append(f"data/{model}/{dataset}.csv")
            elif kind == "reference":
                out.append(f"results/reference/{model}/{dataset}/reference.json")
    if kind == "fits":  # each method's first fit (its run folder: .../{method}/seed{seed})
        from svibench.config import validate
        from svibench.study import Study

        out = [f"{r.dir}/fit.json" for r in Study(validate(cfg)).runs if r.role == "primary"]
    return out


METRICS = ("mean_err", "swd", "energy")  # scored for every fit
JUDGED = ("mean_err", "swd")  # the verdict's (see score_all)


def tolerance(wf: list[float], plain: list[float], floor: float, z: float = 2.0) -> float:
    """How far the workflow's median may lie above the plain script's before it counts
    as less accurate: the metric's noise floor (the reference's own noise) plus ``z``
    standard errors of the difference of the two medians over fit seeds.

    The standard error comes from the fit-to-fit spread: the pooled sd of the finite
    values around their side's mean, times sqrt(pi/2) (a median's standard error
    against a mean's) and sqrt(1/n_wf + 1/n_plain). With one seed a side it is 0: the
    single-run comparison against the floor alone."""
    import numpy as np

    groups = [np.asarray([v for v in side if np.isfinite(v)], dtype=float) for side in (wf, plain)]
    dof = sum(len(g) - 1 for g in groups if len(g))
    if dof <= 0:
        return floor
    sd = float(np.sqrt(sum(((g - g.mean()) ** 2).sum() for g in groups if len(g)) / dof))
    return floor + z * sd * float(np.sqrt(np.pi / 2 * (1 / len(wf) + 1 / len(plain))))


def less_accurate(wf: list[float], plain: list[float], floor: float) -> bool:
    """Is the workflow's fit less accurate than the plain script's by a metric?

    ``wf`` and ``plain``: the metric of each side's fits of one method, one value per
    fit seed (``inf`` where a fit diverged or failed). Worse when the median of ``wf``
    exceeds the median of ``plain`` by more than ``tolerance``: one stochastic fit's
    accuracy is no measure (AutoDAIS on hier: mean_err 0.6 to 2.5 along one run's
    plateau; coin's Normal guide 0.008 to 0.09 over five seeds at its full budget)."""
    import numpy as np

    return bool(np.median(wf) > np.median(plain) + tolerance(wf, plain, floor))


def finite(x) -> float | None:
    x = float(x)
    return x if abs(x) < float("inf") else None


def fit_metrics(folder: Path, ref, chains: int) -> dict:
    """mean_err, swd, energy of one fit folder's draws (``inf`` for a fit that diverged
    or failed) and its status."""
    from svibench import io
    from svibench import metrics as M

    if not (folder / "fit.json").exists():
        status = "missing"
    else:
        status = io.read_json(folder / "fit.json").get("status", "ok")
    ok = status == "ok" and (folder / "draws.parquet").exists()
    if ok:
        draws = io.read_parquet(folder / "draws.parquet")
        ok = bool(draws.notna().all().all()) and bool(abs(draws.to_numpy()).max() < float("inf"))
    if not ok:
        return {"status": status if status != "ok" else "non-finite",
                **{k: float("inf") for k in METRICS}}
    s = M.score(draws, ref, columns=list(ref.columns), chains=chains)
    return {"status": "ok", **{k: s[k]["value"] for k in METRICS},
            **{f"floor_{k}": s[k]["floor"] for k in METRICS}}


def score_all(work: Path, cfg: dict, offsets=()) -> list[dict]:
    """One row per fit: each side's metrics for the timed run (``wf_*``, ``plain_*``),
    the medians over the timed run and the refits with fit seed + each of ``offsets``
    (``*_med``; folders ``refit-seed+S``, ``plain-seed+S``), and the verdict."""
    import numpy as np

    from svibench import io

    rows = []
    for model, entry in cfg["models"].items():
        for dataset in entry["datasets"]:
            ref_dir = work / "results" / "reference" / model / dataset
            ref = io.read_parquet(ref_dir / "draws.parquet")
            chains = int(io.read_json(ref_dir / "reference.json").get("chains") or 1)
            for method in method_names(entry):
                row = {"model": model, "dataset": dataset, "method": method,
                       "fit_seeds": 1 + len(offsets)}
                sides = {"wf": [work / "results" / "fits"] + [work / f"refit-seed+{o}" for o in offsets],
                         "plain": [work / "plain"] + [work / f"plain-seed+{o}" for o in offsets]}
                values = {}
                for who, roots in sides.items():
                    fits = [fit_metrics(r / model / dataset / method, ref, chains) for r in roots]
                    values[who] = fits
                    timed = fits[0]
                    if timed["status"] != "ok":
                        row[f"{who}_status"] = timed["status"]
                    for k in METRICS:
                        # None stands for a diverged fit's inf in the stored JSON
                        row[f"{who}_{k}"] = finite(timed[k])
                        row[f"{who}_{k}_med"] = finite(np.median([f[k] for f in fits]))
                        row[f"{who}_{k}_seeds"] = [finite(f[k]) for f in fits]
                    row[f"{who}_diverged"] = sum(f["status"] != "ok" for f in fits)
                # the floor is the reference's (half against half): the same for every fit
                scored = [f for fits in values.values() for f in fits if f["status"] == "ok"]
                for k in METRICS:
                    row[f"floor_{k}"] = scored[0][f"floor_{k}"] if scored else None
                # Judged on mean_err and swd, distances whose floor (reference half
                # against half) is a positive noise level. The energy distance is an
                # unbiased estimate: its floor is ~0 and often negative, so it is no noise
                # scale (NUTS against NUTS at the same budget was "worse" by it); it is
                # reported beside them.
                worse = []
                for k in JUDGED:
                    wf, plain = [f[k] for f in values["wf"]], [f[k] for f in values["plain"]]
                    row[f"tol_{k}"] = tolerance(wf, plain, row.get(f"floor_{k}") or 0.0)
                    if less_accurate(wf, plain, row.get(f"floor_{k}") or 0.0):
                        worse.append(k)
                row["worse"] = ",".join(worse) or "no"
                rows.append(row)
    return rows


def refit_other_seeds(work: Path, study: Path, fit_seeds: int, jobs: int, logs: Path) -> list[int]:
    """Untimed: the plain script and the workflow's fits again with fit seed + 1 ..
    ``fit_seeds``, ``jobs`` processes at a time. Returns the offsets."""
    from concurrent.futures import ThreadPoolExecutor

    offsets = list(range(1, fit_seeds + 1))
    cmds = []
    for o in offsets:
        for name in (f"plain-seed+{o}", f"refit-seed+{o}"):
            shutil.rmtree(work / name, ignore_errors=True)
        cmds.append(([C.PY, str(C.HERE / "plain_script.py"), "--config", str(study),
                      "--data-dir", str(work), "--out", str(work / f"plain-seed+{o}"),
                      "--seed-offset", str(o)], logs / f"seed-plain-seed+{o}.log"))
        cmds.append(([C.PY, str(C.HERE / "refit_seeds.py"), "--work", str(work),
                      "--offset", str(o), "--out", str(work / f"refit-seed+{o}")],
                     logs / f"seed-refit-seed+{o}.log"))
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for f in [pool.submit(C.run_cmd, cmd, log=log) for cmd, log in cmds]:
            try:
                f.result()
            except RuntimeError as err:  # its missing fits count as failed
                print(f"warning: {str(err).splitlines()[0]}", flush=True)
    return offsets


def print_accuracy(acc: list[dict], seeds: int) -> None:
    C.table(acc, ["model", "method", "wf_mean_err", "plain_mean_err", "wf_mean_err_med",
                  "plain_mean_err_med", "tol_mean_err", "wf_swd", "plain_swd",
                  "wf_swd_med", "plain_swd_med", "tol_swd", "wf_diverged",
                  "plain_diverged", "worse"],
            title=f"Accuracy against the reference (lower is better; _med: median over "
                  f"{seeds} fit seeds, a diverged or failed fit = inf; tol: noise floor + 2 se "
                  f"of the medians' difference; worse: wf_med > plain_med + tol)")


def rescore(work: Path, cfg: dict, fit_seeds: int) -> None:
    """``--score-only``: the accuracy table of the run in ``work``, saved into the
    stored seed.json in place of its accuracy rows."""
    offsets = list(range(1, fit_seeds + 1))
    acc = score_all(work, cfg, offsets)
    print_accuracy(acc, 1 + len(offsets))
    stored = C.BENCH_OUT / "seed.json"
    if stored.exists():
        saved = json.loads(stored.read_text())
        for row in saved["rows"]:
            if "accuracy" in row:
                row["accuracy"] = acc
        saved.setdefault("settings", {})["fit_seeds"] = fit_seeds
        stored.write_text(json.dumps(saved, indent=2, default=str))  # as C.save writes it
        print(f"updated {stored}")


def main(argv=None):
    p = C.add_common_args(argparse.ArgumentParser(description=__doc__.splitlines()[0]), repeats=1)
    p.add_argument("--config", default=str(C.ROOT / "config" / "seed.yaml"))
    p.add_argument("--only", action="append", default=[], metavar="MODEL[/METHOD]")
    p.add_argument("--scale", type=float, default=None, help="budget factor (0.02 with --quick)")
    p.add_argument("--cores", type=int, default=os.cpu_count())
    p.add_argument("--accuracy", action="store_true", help="also build references and score both")
    p.add_argument("--reuse-plain", action="store_true",
                   help="keep the plain script's draws and wall time from the last run of the same "
                        "fits and budgets (it ignores convergence settings): only the workflow reruns")
    p.add_argument("--fit-seeds", type=int, default=2,
                   help="with --accuracy: refit both sides (untimed) with this many other fit "
                        "seeds and judge on the medians over seeds (0: the timed run only)")
    p.add_argument("--score-only", action="store_true",
                   help="no runs: score the last run's fits again (its refits with --fit-seeds) "
                        "and replace the accuracy rows of results/bench/seed.json")
    p.add_argument("--plain-host-devices", type=int, default=1,
                   help="passed to plain_script.py --host-devices (parallel NUTS chains there)")
    args = p.parse_args(argv)
    import yaml

    started = C.machine()
    scale = args.scale if args.scale is not None else (0.02 if args.quick else 1.0)
    only = args.only or (["linreg", "hier/auto_diagonal", "coin"] if args.quick else [])
    reps = C.repeats_of(args, 1) if args.repeats else 1
    cfg = subset_config(yaml.safe_load(Path(args.config).read_text()), only, scale)
    if args.score_only:
        return rescore(C.scratch_root() / "seed", cfg, args.fit_seeds)
    work = C.scratch_workflow("seed", fresh=not args.reuse_plain)
    study = work / "bench_seed.yaml"
    study.write_text("# generated by tests/benchmarks/bench_seed.py\n" + yaml.safe_dump(cfg, sort_keys=False))
    sm = ("--configfile", str(study), "--replace-workflow-config")
    logs = C.BENCH_OUT / "logs"
    C.snakemake(work, *sm, *targets(cfg, "data"), cores=args.cores, log=logs / "seed-data.log")
    fits = targets(cfg, "fits")
    print(f"{len(fits)} fits, budgets x {scale}, {args.cores} cores", flush=True)

    cold, warm, plain = [], [], []
    for r in range(reps):
        shutil.rmtree(work / ".cache", ignore_errors=True)
        shutil.rmtree(work / "results" / "fits", ignore_errors=True)
        cold.append(C.snakemake(work, *sm, *fits, cores=args.cores, log=logs / "seed-workflow-cold.log"))
        print(f"workflow, empty cache: {cold[-1]:.1f} s", flush=True)
        shutil.rmtree(work / "results" / "fits", ignore_errors=True)
        warm_started = time.time()
        warm.append(C.snakemake(work, *sm, *fits, cores=args.cores, log=logs / "seed-workflow-warm.log"))
        print(f"workflow, warm cache: {warm[-1]:.1f} s", flush=True)
        previous = C.BENCH_OUT / "seed.json"
        if args.reuse_plain and (work / "plain" / "summary.json").exists() and previous.exists():
            runs = next(r["runs"] for r in json.loads(previous.read_text())["rows"] if "runs" in r)
            plain.append(C.median(runs["plain"]))
            print(f"plain script: {plain[-1]:.1f} s (reused from the last run)", flush=True)
            continue
        shutil.rmtree(work / "plain", ignore_errors=True)
        plain.append(C.run_cmd([C.PY, str(C.HERE / "plain_script.py"), "--config", str(study),
                                "--data-dir", str(work), "--out", str(work / "plain"),
                                "--host-devices", str(args.plain_host_devices)],
                               log=logs / "seed-plain.log"))
        print(f"plain script: {plain[-1]:.1f} s", flush=True)
    from studylog import by_rule, fit_split, job_times

    per_rule = by_rule(job_times(work, warm_started))  # of the last (warm) run
    wf_fits = {}
    for f in (work / "results" / "fits").rglob("fit.json"):
        info = json.loads(f.read_text())
        wf_fits[(info["model"], info["method"])] = info
    plain_fits = json.loads((work / "plain" / "summary.json").read_text())["fits"]
    fit_rows = []
    for pf in plain_fits:
        wf = wf_fits.get((pf["model"], pf["method"]), {})
        s = wf.get("seconds") or {}
        fit_rows.append({"model": pf["model"], "method": pf["method"], "plain_s": pf["seconds"],
                         "wf_job_s": s.get("job"), "wf_steps": wf.get("steps_run"),
                         "wf_status": wf.get("status"),
                         "budget": (wf.get("options") or {}).get("max_steps")})
    C.table(fit_rows, ["model", "method", "plain_s", "wf_job_s", "wf_steps", "budget", "wf_status"],
            title="Per fit: plain script's seconds (in its process) vs the workflow job's "
                  "(inside the job, warm cache)")
    c, w, pl = C.median(cold), C.median(warm), C.median(plain)
    rows = [{"what": "workflow, empty cache", "seconds": c, "ratio_to_plain": c / pl},
            {"what": "workflow, warm cache", "seconds": w, "ratio_to_plain": w / pl},
            {"what": "plain script (one process)", "seconds": pl, "ratio_to_plain": 1.0}]
    C.table(rows, ["what", "seconds", "ratio_to_plain"],
            title=f"Seed-equivalent study, {len(fits)} fits, budgets x {scale} "
                  f"(target: workflow <= 0.25 x plain, empty cache)")
    acc = []
    if args.accuracy:
        C.snakemake(work, *sm, *targets(cfg, "reference"), cores=args.cores,
                    log=logs / "seed-reference.log")
        offsets = refit_other_seeds(work, study, args.fit_seeds, args.cores, logs) \
            if args.fit_seeds > 0 else []
        acc = score_all(work, cfg, offsets)
        print_accuracy(acc, 1 + len(offsets))
    notes = [C.load_warning(started), C.scontrol_note()]
    for n in filter(None, notes):
        print(n)
    path = C.save("seed", rows + [{"per_fit": fit_rows, "accuracy": acc, "per_rule_warm": per_rule,
                                   "fit_split_warm": fit_split(work),
                                   "runs": {"cold": cold, "warm": warm, "plain": plain}}],
                  {"config": args.config, "only": only, "scale": scale, "cores": args.cores,
                   "repeats": reps, "plain_host_devices": args.plain_host_devices,
                   "fit_seeds": args.fit_seeds if args.accuracy else None,
                   "fits": len(fits)}, started, notes)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
