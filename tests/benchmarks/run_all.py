"""Run every benchmark (each in its own process) and print the headline figures
against the targets of issue 6. Each script also writes ``results/bench/<name>.json``.

    python tests/benchmarks/run_all.py                 # everything (an hour or more on 2 cores)
    python tests/benchmarks/run_all.py --quick         # small settings: checks the scripts
    python tests/benchmarks/run_all.py --only engine,nuts
    python tests/benchmarks/run_all.py --seed-args "--only linreg --accuracy"
    make bench BENCH_ARGS=--quick

Benchmarks: engine (SVI engine vs a hand-written optax loop), nuts (parallel vs
sequential chains), orchestration (``snakemake -n``, job start-up and the cache),
study (default study cold / rerun / warm, ``snakemake figures``), seed (seed-equivalent
study vs ``plain_script.py``), gpu (skipped without a GPU). Timings from a loaded
machine are noisy: the scripts note the load average.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

ORDER = ["engine", "nuts", "orchestration", "study", "seed", "seeds", "gpu"]


def load(name):
    path = C.BENCH_OUT / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def headlines() -> list[dict]:
    rows = []

    def add(what, value, target, met, unit=""):
        rows.append({"what": what, "value": value, "unit": unit, "target": target,
                     "met": None if met is None else ("yes" if met else "NO")})

    b = load("engine")
    for r in (b or {}).get("rows", []):
        add(f"engine/hand-written steps/s, {r['model']}" + (f" J={r['J']}" if r["J"] else ""),
            r["ratio"], ">= 0.9", r["ratio"] >= 0.9)
    b = load("nuts")
    for r in (b or {}).get("rows", []):
        if r.get("speedup") is not None:
            add(f"NUTS ESS/s parallel/sequential, {r['model']}", r["speedup"], "> 1", r["speedup"] > 1)
    b = load("orchestration")
    for r in (b or {}).get("rows", []):
        if "target_s" in r:
            add(f"{r['what']} ({r['jobs']} jobs)", r["seconds"], f"< {r['target_s']:g} s", r["met"], "s")
        elif r.get("cache") in ("empty cache", "warm cache"):
            add(f"{r['what']}: job process", r["process"], None, None, "s")
    b = load("study")
    if b:
        rows_ = {r.get("what"): r for r in b["rows"] if "what" in r}
        cold = next((r for w, r in rows_.items() if w.startswith("study from scratch, empty")), None)
        for w, r in rows_.items():
            target = met = None
            if w.startswith("rerun") and cold:
                target, met = "<= 0.5 x cold", r["seconds"] <= 0.5 * cold["seconds"]
            if w.startswith("snakemake figures") and cold:
                target, met = "< 0.1 x cold", r["seconds"] < 0.1 * cold["seconds"]
            add(w, r["seconds"], target, met, "s")
    b = load("seed")
    if b:
        for r in b["rows"]:
            if "what" in r and not r["what"].startswith("plain"):
                add(f"seed-equivalent: {r['what']} / plain script", r["ratio_to_plain"], "<= 0.5",
                    r["ratio_to_plain"] <= 0.5)
        acc = next((r["accuracy"] for r in b["rows"] if "accuracy" in r), [])
        if acc:
            worse = [f"{a['model']}/{a['method']}" for a in acc if a["worse"] != "no"]
            add("seed-equivalent: methods less accurate than plain", ", ".join(worse) or "none",
                "none", not worse)
    b = load("gpu")
    if b and b.get("settings", {}).get("skipped"):
        add("GPU", "skipped: no GPU lent", None, None)
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--repeats", type=int, default=None)
    p.add_argument("--only", default=",".join(ORDER), help="comma-separated benchmarks")
    p.add_argument("--seed-args", default="", help="extra arguments of bench_seed.py")
    p.add_argument("--study-args", default="", help="extra arguments of bench_study.py")
    p.add_argument("--summary-only", action="store_true", help="print the headlines of stored results")
    args = p.parse_args(argv)
    started = C.machine()
    failed = []
    if not args.summary_only:
        for name in [n for n in ORDER if n in args.only.split(",")]:
            cmd = [C.PY, str(C.HERE / f"bench_{name}.py")]
            if args.quick:
                cmd.append("--quick")
            if args.repeats:
                cmd += ["--repeats", str(args.repeats)]
            cmd += shlex.split({"seed": args.seed_args, "study": args.study_args}.get(name, ""))
            print(f"\n=== {name}: {' '.join(cmd[1:])}", flush=True)
            t0 = time.perf_counter()
            rc = subprocess.call(cmd)
            print(f"=== {name}: {'ok' if rc == 0 else f'FAILED ({rc})'} in {time.perf_counter() - t0:.0f} s",
                  flush=True)
            if rc:
                failed.append(name)
    print()
    C.table(headlines(), ["what", "value", "unit", "target", "met"],
            title="Headlines (results/bench/*.json)")
    note = C.load_warning(started)
    if note:
        print(note)
    if failed:
        print(f"failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
