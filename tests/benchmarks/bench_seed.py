"""The seed-equivalent study through the workflow against one plain script.

The same fits (``config/seed.yaml``, or a subset: ``--only``, ``--scale``) are run

- by Snakemake, each fit its own job, ``--cores N`` (the machine's CPUs), with an
  empty compilation cache (as the plain script has none) and then again with the
  cache the first run filled (``results/fits`` removed in between); and
- by ``plain_script.py``: one Python process, the fits one after the other.

Both start from the same simulated data (made before the clocks start) and end with
every fit's draws written. Ratio = workflow wall / plain wall (target <= 0.5). With
``--accuracy`` the workflow then builds the references and both sets of draws are
scored by ``svibench.metrics.score`` (the accuracy issue's metrics): a method is
*worse* when a metric of the workflow's fit exceeds the plain script's by more than
the metric's noise floor.

The full study is long (tens of minutes on 2 cores): ``--only linreg`` or
``--scale 0.1`` give a subset; one run each by default (``--repeats``).

    python tests/benchmarks/bench_seed.py [--quick] [--only MODEL[/METHOD]] [--scale F]
        [--accuracy] [--cores N] [--repeats N]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
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
            else:
                for m in method_names(entry):
                    out.append(f"results/fits/{model}/{dataset}/{m}/fit.json")
    return out


def score_all(work: Path, cfg: dict) -> list[dict]:
    from svibench import io
    from svibench import metrics as M

    rows = []
    for model, entry in cfg["models"].items():
        for dataset in entry["datasets"]:
            ref_dir = work / "results" / "reference" / model / dataset
            ref = io.read_parquet(ref_dir / "draws.parquet")
            chains = int(io.read_json(ref_dir / "reference.json").get("chains") or 1)
            for method in method_names(entry):
                row = {"model": model, "dataset": dataset, "method": method}
                for who, folder in (("wf", work / "results" / "fits" / model / dataset / method),
                                    ("plain", work / "plain" / model / dataset / method)):
                    draws = io.read_parquet(folder / "draws.parquet")
                    status = io.read_json(folder / "fit.json").get("status", "ok")
                    ok = status == "ok" and bool(draws.notna().all().all()) and \
                        bool(abs(draws.to_numpy()).max() < float("inf"))
                    if not ok:
                        row[f"{who}_status"] = status if status != "ok" else "non-finite"
                        continue
                    s = M.score(draws, ref, columns=list(ref.columns), chains=chains)
                    for k in ("mean_err", "swd", "energy"):
                        row[f"{who}_{k}"] = s[k]["value"]
                        row[f"floor_{k}"] = s[k]["floor"]
                # Judged on mean_err and swd, distances whose floor (reference half
                # against half) is a positive noise level. The energy distance is an
                # unbiased estimate: its floor is ~0 and often negative, so it is no noise
                # scale (NUTS against NUTS at the same budget was "worse" by it); it is
                # reported beside them.
                worse = [k for k in ("mean_err", "swd")
                         if row.get(f"wf_{k}") is not None and row.get(f"plain_{k}") is not None
                         and row[f"wf_{k}"] > row[f"plain_{k}"] + row[f"floor_{k}"]]
                if row.get("wf_status") and not row.get("plain_status"):
                    worse.append("status")
                row["worse"] = ",".join(worse) or "no"
                rows.append(row)
    return rows


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
    p.add_argument("--plain-host-devices", type=int, default=1,
                   help="passed to plain_script.py --host-devices (parallel NUTS chains there)")
    args = p.parse_args(argv)
    import yaml

    started = C.machine()
    scale = args.scale if args.scale is not None else (0.02 if args.quick else 1.0)
    only = args.only or (["linreg", "hier/auto_diagonal", "coin"] if args.quick else [])
    reps = C.repeats_of(args, 1) if args.repeats else 1
    cfg = subset_config(yaml.safe_load(Path(args.config).read_text()), only, scale)
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
    from studylog import by_rule, fit_split, job_times, newest_log

    per_rule = by_rule(job_times(newest_log(work)))  # of the last (warm) run
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
                  f"(target: workflow <= 0.5 x plain)")
    acc = []
    if args.accuracy:
        C.snakemake(work, *sm, *targets(cfg, "reference"), cores=args.cores,
                    log=logs / "seed-reference.log")
        acc = score_all(work, cfg)
        C.table(acc, ["model", "method", "wf_mean_err", "plain_mean_err", "floor_mean_err",
                      "wf_swd", "plain_swd", "floor_swd", "wf_energy", "plain_energy",
                      "wf_status", "plain_status", "worse"],
                title="Accuracy against the reference (lower is better; floor = noise)")
    notes = [C.load_warning(), C.scontrol_note()]
    for n in filter(None, notes):
        print(n)
    path = C.save("seed", rows + [{"per_fit": fit_rows, "accuracy": acc, "per_rule_warm": per_rule,
                                   "fit_split_warm": fit_split(work),
                                   "runs": {"cold": cold, "warm": warm, "plain": plain}}],
                  {"config": args.config, "only": only, "scale": scale, "cores": args.cores,
                   "repeats": reps, "plain_host_devices": args.plain_host_devices,
                   "fits": len(fits)}, started, notes)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
