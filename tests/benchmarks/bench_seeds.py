"""Seeds as a batch: the wall time of a fit job's SVI work for 1, 3 and 10 seeds.

Each measurement is a fresh process (as a fit job is) with JAX's persistent cache off,
timing ``run_svi_seeds`` on one dataset: set-up, compile (the seeds' init and the step
program) and ``max_steps`` steps per seed with the stop at convergence off, so that
every seed does the same work. Reported: the process's wall, the fit's compile and
run seconds, and the ratio of S seeds' wall to one seed's (target: 3 seeds <= 1.5x).
Equality: each seed's params in the batch against the same seed fitted alone
(the largest absolute difference; float rounding, see ``run_svi_seeds``).

    python tests/benchmarks/bench_seeds.py [--quick] [--repeats N]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

CASES = [("linreg", "auto_diagonal", None), ("hier", "auto_normal", 8),
         ("corrgauss", "auto_iaf", None)]
SIZES = (1, 3, 10)


def child(model: str, method: str, groups, size: int, steps: int, compare: bool) -> dict:
    t0 = time.perf_counter()
    sys.path.insert(0, str(C.ROOT / "workflow"))
    from svibench.runtime import configure_jax

    configure_jax(gpu=0, threads=1, cache_dir="")
    import numpy as np

    from svibench.data import bound_model
    from svibench.engine.draws import flatten_params
    from svibench.engine.svi import run_svi, run_svi_seeds
    from svibench.methods import get_method
    from svibench.models import get_model

    mod = get_model(model)
    settings = dict(mod.defaults, **({"groups": groups} if groups else {}))
    df, _ = mod.simulate(settings, 1)
    arrays, static = mod.prepare(df, settings)
    fn = bound_model(model, static)
    m = get_method(method)
    opts = dict(max_steps=steps, lr=0.01, chunk=200, elbo=m.elbo)
    seeds = list(range(1, size + 1))
    fits = run_svi_seeds(fn, m.build(fn, **m.defaults), arrays, seeds=seeds, **opts)
    wall = time.perf_counter() - t0
    out = {"wall": wall, "compile": fits[0].seconds["compile"],
           "run": max(f.seconds["run"] for f in fits)}
    if compare:  # each seed alone, after the timing
        diffs = []
        for seed, fit in zip(seeds[:3], fits):
            alone = run_svi(fn, m.build(fn, **m.defaults), arrays, seed=seed, **opts)
            a, b = flatten_params(alone.params), flatten_params(fit.params)
            diffs.append(max(float(np.max(np.abs(a[k] - b[k]))) for k in a))
        out["max_param_diff"] = max(diffs)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--child", nargs=5)
    args = ap.parse_args()
    if args.child:
        model, method, groups, size, steps = args.child
        res = child(model, method, int(groups) or None, int(size), int(steps),
                    compare=int(size) > 1)
        print("RESULT " + json.dumps(res))
        return
    started = C.machine()
    steps = 200 if args.quick else 2000
    cases = CASES[:1] if args.quick else CASES
    sizes = SIZES[:2] if args.quick else SIZES
    rows = []
    for model, method, groups in cases:
        runs = {s: [] for s in sizes}
        for _ in range(args.repeats):
            for size in sizes:  # interleaved: load drifts hit every size alike
                proc = subprocess.run([C.PY, __file__, "--child", model, method,
                                       str(groups or 0), str(size), str(steps)],
                                      capture_output=True, text=True, check=True)
                line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")][-1]
                runs[size].append(json.loads(line[7:]))
        one = C.median([r["wall"] for r in runs[sizes[0]]])
        for size in sizes:
            walls = [r["wall"] for r in runs[size]]
            rows.append({"model": model, "method": method, "J": groups, "seeds": size,
                         "steps": steps, "wall": C.median(walls), "walls": walls,
                         "compile": C.median([r["compile"] for r in runs[size]]),
                         "run": C.median([r["run"] for r in runs[size]]),
                         "x_one_seed": C.median(walls) / one,
                         "max_param_diff": max((r.get("max_param_diff") or 0.0)
                                               for r in runs[size]) if size > 1 else None})
    cols = ["model", "method", "seeds", "wall", "compile", "run", "x_one_seed", "max_param_diff"]
    print(" | ".join(cols))
    for r in rows:
        print(" | ".join(C.fmt(r[c]) for c in cols))
    C.save("seeds", rows, {"steps": steps, "repeats": args.repeats, "sizes": sizes}, started,
           notes=[C.load_warning(started)])


if __name__ == "__main__":
    main()
