"""The workflow's fits of a finished seed-equivalent run, again with other fit seeds
(untimed): with ``plain_script.py --seed-offset`` it gives ``bench_seed.py --accuracy``
the fit-to-fit spread its verdict needs.

Every ``results/fits/<model>/<dataset>/<method>/fit.json`` of ``--work`` is fitted
again through the job script's own call (``svibench.fitting.run_fit``, the options
of that fit.json) with its fit seed plus ``--offset``; the fit folder is written
under ``--out``. Fits run one after another in this process, with the run's
compilation cache.

    python tests/benchmarks/refit_seeds.py --work W --offset S --out DIR [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "workflow"))


def refit_plan(work: Path, offset: int) -> list[dict]:
    """One entry per fit of ``work``: model, dataset, method and its options with the
    fit seed moved by ``offset``; sorted for a stable order."""
    plan = []
    for f in sorted((work / "results" / "fits").glob("*/*/*/fit.json")):
        info = json.loads(f.read_text())
        options = dict(info["options"])
        options["seed"] = int(options["seed"]) + offset
        plan.append({"model": info["model"], "dataset": info["dataset"],
                     "method": info["method"], "options": options})
    return plan


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--work", required=True, help="the scratch workflow of bench_seed.py")
    p.add_argument("--offset", type=int, required=True, help="added to every fit seed")
    p.add_argument("--out", required=True)
    p.add_argument("--threads", type=int, default=2, help="host devices (NUTS chains)")
    args = p.parse_args(argv)
    work, out = Path(args.work), Path(args.out)
    from svibench.runtime import configure_jax

    configure_jax(threads=args.threads, cache_dir=str(work / ".cache" / "jax"))
    from svibench.fitting import run_fit

    plan = refit_plan(work, args.offset)
    if not plan:
        raise SystemExit(f"refit_seeds: no fit.json under {work / 'results' / 'fits'}")
    for fit in plan:
        folder = out / fit["model"] / fit["dataset"] / fit["method"]
        data = work / "data" / fit["model"] / fit["dataset"]
        paths = {k: folder / name for k, name in (("draws", "draws.parquet"),
                 ("trace", "trace.parquet"), ("fit", "fit.json"), ("params", "params.npz"))}
        t0 = time.perf_counter()
        info = run_fit(fit["model"], fit["dataset"], fit["method"], data.with_suffix(".csv"),
                       data.with_suffix(".json"), fit["options"], paths)
        print(f"{fit['model']}/{fit['dataset']}/{fit['method']} seed {fit['options']['seed']}: "
              f"{info['status']} after {info.get('steps_run')} steps, "
              f"{time.perf_counter() - t0:.1f} s", flush=True)


if __name__ == "__main__":
    main()
