"""NUTS: chains in parallel over the job's threads against one after the other.

Each run is a fresh process configured like a ``fit_nuts`` job (``configure_jax``):
``threads = chains`` gives ``chain_method="parallel"``, ``threads = 1`` sequential.
All runs share one compilation cache that a discarded first run fills, so the
timings are of sampling, not compiling. draws/s = stored draws / sampling seconds;
ESS/s = smallest bulk ESS over latents / (warm-up + sampling seconds).

    python tests/benchmarks/bench_nuts.py [--quick] [--repeats N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

CASES = [("linreg", None), ("hier", 8)]

CHILD = r"""
import json, sys, time
sys.path.insert(0, {workflow!r})
from svibench.runtime import configure_jax
configure_jax(threads={threads}, cache_dir={cache!r})
from svibench.data import bound_model
from svibench.engine.nuts import run_nuts
from svibench.models import get_model
mod = get_model({model!r})
settings = dict(mod.defaults)
if {groups!r} is not None:
    settings["groups"] = {groups!r}
df, _ = mod.simulate(settings, 1)
arrays, static = mod.prepare(df, settings)
fit = run_nuts(bound_model({model!r}, static), arrays, warmup={warmup}, draws={draws},
               chains={chains}, seed=2)
print("RESULT " + json.dumps({{"seconds": fit.seconds, "diagnostics": fit.diagnostics,
                              "draws": fit.chains * fit.draws_per_chain}}))
"""


def one_run(model, groups, threads, chains, warmup, draws, cache) -> dict:
    code = CHILD.format(workflow=str(C.ROOT / "workflow"), threads=threads, cache=cache,
                        model=model, groups=groups, warmup=warmup, draws=draws, chains=chains)
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    proc = subprocess.run([C.PY, "-c", code], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])


def main(argv=None):
    p = C.add_common_args(argparse.ArgumentParser(description=__doc__.splitlines()[0]), repeats=3)
    p.add_argument("--chains", type=int, default=2, help="chains (= threads of the parallel run)")
    args = p.parse_args(argv)
    started = C.machine()
    reps = C.repeats_of(args, 3)
    warmup, draws = (200, 1000) if args.quick else (500, 4000)
    rows = []
    with tempfile.TemporaryDirectory(prefix="svibench-nuts-cache-") as cache:
        for model, groups in CASES:
            for label, threads in (("parallel", args.chains), ("sequential", 1)):
                one_run(model, groups, threads, args.chains, warmup, draws, cache)  # fills the cache
                runs = [one_run(model, groups, threads, args.chains, warmup, draws, cache)
                        for _ in range(reps)]
                method = runs[0]["diagnostics"]["chain_method"]
                sampling = [r["seconds"]["sampling"] for r in runs]
                total = [r["seconds"]["total"] for r in runs]
                ess = [r["diagnostics"]["min_ess_bulk"] for r in runs]
                n = runs[0]["draws"]
                row = {"model": model, "J": groups, "chains": args.chains, "threads": threads,
                       "chain_method": method, "warmup": warmup, "draws": n,
                       "warmup_s": C.median([r["seconds"]["warmup"] for r in runs]),
                       "sampling_s": C.median(sampling),
                       "draws_per_s": C.median([n / s for s in sampling]),
                       "min_ess_bulk": C.median(ess),
                       "ess_per_s": C.median([e / t for e, t in zip(ess, total)]),
                       "runs": runs}
                rows.append(row)
                print(f"{model} J={groups} {method}: {row['draws_per_s']:.0f} draws/s, "
                      f"{row['ess_per_s']:.0f} ESS/s", flush=True)
    for model, groups in CASES:
        par, seq = [r for r in rows if r["model"] == model and r["J"] == groups]
        par["speedup"] = par["ess_per_s"] / seq["ess_per_s"] if seq["ess_per_s"] else None
    C.table(rows, ["model", "J", "chain_method", "threads", "warmup", "draws", "warmup_s",
                   "sampling_s", "draws_per_s", "min_ess_bulk", "ess_per_s", "speedup"],
            title=f"NUTS, {args.chains} chains: parallel vs sequential (median of {reps})")
    note = C.load_warning(started)
    if note:
        print(note)
    path = C.save("nuts", rows, {"warmup": warmup, "draws": draws, "chains": args.chains,
                                 "repeats": reps, "quick": args.quick}, started, [note])
    print(f"wrote {path}")
    return rows


if __name__ == "__main__":
    main()
