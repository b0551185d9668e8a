"""GPU against CPU for ``hier`` at J = 128, 1024, 4096: SVI steps/s (AutoNormal,
``run_svi``) and NUTS ESS/s (``run_nuts``, 2 chains). Each measurement is a fresh
process configured like a fit job (``configure_jax(gpu=1)`` or the CPU). Without a
GPU visible to JAX it prints ``skipped: no GPU lent`` and records that.

    python tests/benchmarks/bench_gpu.py [--quick] [--repeats N] [--groups 128 1024 4096]
        [--svi-steps N] [--nuts WARMUP DRAWS] [--child-timeout S]

A measurement that fails or outlasts ``--child-timeout`` is recorded with its error
and the others still run (a device is lent for minutes, not hours).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

PROBE = "import jax; print(len(jax.devices('gpu')))"

CHILD = r"""
import json, sys, time
sys.path.insert(0, {workflow!r})
from svibench.runtime import configure_jax
platform = configure_jax(gpu={gpu}, threads=2)
import jax, numpyro
from numpyro.infer.autoguide import AutoNormal
from svibench.data import bound_model
from svibench.engine.nuts import run_nuts
from svibench.engine.svi import run_svi
from svibench.models import get_model
mod = get_model("hier")
settings = {{**mod.defaults, "groups": {groups}}}
df, _ = mod.simulate(settings, 1)
arrays, static = mod.prepare(df, settings)
model = bound_model("hier", static)
out = {{"platform": platform, "device": str(jax.devices()[0]), "jax": jax.__version__,
        "numpyro": numpyro.__version__}}
svi = []
for _ in range({reps}):
    fit = run_svi(model, AutoNormal(model), arrays, max_steps={steps}, lr=0.01, chunk=500,
                  stop_at_convergence=False)
    svi.append(fit.steps_run / fit.seconds["run"])
out["svi_steps_per_s"] = sorted(svi)[len(svi) // 2]
fit = run_nuts(model, arrays, warmup={warmup}, draws={draws}, chains=2, seed=2)
out["nuts_ess_per_s"] = fit.diagnostics["min_ess_bulk"] / fit.seconds["total"]
out["nuts_seconds"] = fit.seconds["total"]
out["nuts_chain_method"] = fit.diagnostics["chain_method"]
print("RESULT " + json.dumps(out))
"""


def gpu_count() -> int:
    env = {**os.environ, "JAX_PLATFORMS": "cuda,cpu"}
    proc = subprocess.run([C.PY, "-c", PROBE], capture_output=True, text=True, env=env)
    try:
        return int(proc.stdout.strip().splitlines()[-1]) if proc.returncode == 0 else 0
    except (ValueError, IndexError):
        return 0


def main(argv=None):
    p = C.add_common_args(argparse.ArgumentParser(description=__doc__.splitlines()[0]), repeats=3)
    p.add_argument("--groups", type=int, nargs="+", help="J values (default 128 1024 4096)")
    p.add_argument("--svi-steps", type=int, help="SVI steps per timing (default 2000)")
    p.add_argument("--nuts", type=int, nargs=2, metavar=("WARMUP", "DRAWS"),
                   help="NUTS warm-up and draws over 2 chains (default 300 2000)")
    p.add_argument("--child-timeout", type=float, default=None,
                   help="seconds allowed to one measurement (default: none)")
    args = p.parse_args(argv)
    started = C.machine()
    if gpu_count() == 0:
        print("GPU: skipped: no GPU lent (JAX sees no GPU on this machine)")
        C.save("gpu", [], {"skipped": "no GPU lent"}, started)
        return []
    reps = C.repeats_of(args, 3)
    groups = args.groups or ([128, 1024] if args.quick else [128, 1024, 4096])
    steps = args.svi_steps or (500 if args.quick else 2000)
    warmup, draws = args.nuts or ((100, 400) if args.quick else (300, 2000))
    rows = []
    for J in groups:
        for gpu in (1, 0):
            code = CHILD.format(workflow=str(C.ROOT / "workflow"), gpu=gpu, groups=J, reps=reps,
                                steps=steps, warmup=warmup, draws=draws)
            row = {"J": J, "latents": 2 * J + 4, "platform": "gpu" if gpu else "cpu"}
            try:
                proc = subprocess.run([C.PY, "-c", code], capture_output=True, text=True,
                                      env={**os.environ, "PYTHONHASHSEED": "0"},
                                      timeout=args.child_timeout)
                if proc.returncode != 0:
                    raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip()
                                       else f"exit {proc.returncode}")
                res = json.loads([x for x in proc.stdout.splitlines()
                                  if x.startswith("RESULT ")][-1][7:])
                row.update(res)
                print(f"J={J} {res['platform']}: {res['svi_steps_per_s']:.0f} SVI steps/s, "
                      f"{res['nuts_ess_per_s']:.1f} NUTS ESS/s ({res['nuts_chain_method']})",
                      flush=True)
            except (subprocess.TimeoutExpired, RuntimeError, IndexError, ValueError) as err:
                row["error"] = (f"over {args.child_timeout} s" if isinstance(err, subprocess.TimeoutExpired)
                                else str(err)[-300:])
                print(f"J={J} {row['platform']}: FAILED: {row['error']}", flush=True)
            rows.append(row)
    C.table(rows, ["J", "latents", "platform", "svi_steps_per_s", "nuts_ess_per_s", "nuts_seconds",
                   "nuts_chain_method", "error"],
            title=f"hier on CPU vs GPU (SVI: median of {reps}; NUTS: 2 chains, {warmup}+{draws})")
    path = C.save("gpu", rows, {"steps": steps, "warmup": warmup, "draws": draws,
                                "repeats": reps, "quick": args.quick}, started)
    print(f"wrote {path}")
    return rows


if __name__ == "__main__":
    main()
