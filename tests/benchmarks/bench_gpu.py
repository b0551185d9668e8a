"""GPU against every CPU core for ``hier``: SVI steps/s of the engine (``run_svi``) and of
a hand-written loop, per J, on each platform; NUTS ESS/s (``run_nuts``, 2 chains) at
the smaller J.

The hand-written loop is what a careful user writes: NumPyro's own ``SVI.update`` in one
jitted ``lax.scan`` of static length (same model, ``AutoNormal``, ``Adam(0.01)``, one
particle, full batch); the engine runs as many steps with ``stop_at_convergence`` off,
its steps/s from its ``run`` seconds. Neither counts compilation; both get a first call
before the clock. On the GPU the engine runs its steps in loops of static length
(``run_svi_seeds``'s ``static_blocks``); it is also timed with its CPU program, one
loop of traced length (``engine_plain_loop_steps_per_s``), to show what that costs.
Each (J, platform) is a fresh process configured like a fit job: ``configure_jax(gpu=1)``,
or the CPU with ``--cpu-threads`` threads (default: every CPU of the machine, so
GPU/CPU compares with all its cores). Printed per J: engine /
hand-written on each platform (target >= 0.9) and GPU / CPU for both (target at
J = 4096: >= 10 for the engine).

It needs JAX, NumPyro and pandas, not Snakemake: it runs on a lent GPU machine's own
stack. Without a GPU visible to JAX it prints ``skipped: no GPU lent`` and records
that, unless ``--cpu-only`` (the CPU half alone, e.g. to check the script).

    python tests/benchmarks/bench_gpu.py [--quick] [--repeats N] [--groups J ...]
        [--svi-steps N] [--chunk N] [--cpu-threads N] [--cpu-max-groups J]
        [--nuts WARMUP DRAWS] [--nuts-groups J ...] [--cpu-only] [--child-timeout S]

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
platform = configure_jax(gpu={gpu}, threads={threads})
import jax, numpyro
from numpyro.infer import SVI, Trace_ELBO
from numpyro.infer.autoguide import AutoNormal
from numpyro.optim import Adam
from svibench.data import bound_model
from svibench.engine.svi import run_svi
from svibench.models import get_model
mod = get_model("hier")
settings = {{**mod.defaults, "groups": {groups}}}
df, _ = mod.simulate(settings, 1)
arrays, static = mod.prepare(df, settings)
model = bound_model("hier", static)
steps, lr = {steps}, 0.01
out = {{"platform": platform, "device": str(jax.devices()[0]), "jax": jax.__version__,
        "numpyro": numpyro.__version__, "threads": {threads}}}

svi = SVI(model, AutoNormal(model), Adam(lr), Trace_ELBO())
state = svi.init(jax.random.PRNGKey(0), **arrays)

def hand_loop(state, data):
    return jax.lax.scan(lambda s, _: svi.update(s, **data), state, None, length=steps)

t0 = time.perf_counter()
hand = jax.jit(hand_loop).lower(state, arrays).compile()
jax.block_until_ready(hand(state, arrays))
out["hand_compile_and_first_s"] = time.perf_counter() - t0
engine_runs, hand_runs, compiles, plain_runs = [], [], [], []
for _ in range({reps}):  # interleaved, so that a change of load hits both alike
    fit = run_svi(model, AutoNormal(model), arrays, max_steps=steps, lr=lr, chunk={chunk},
                  stop_at_convergence=False)
    engine_runs.append(fit.steps_run / fit.seconds["run"])
    compiles.append(fit.seconds["compile"])
    if platform != "cpu":  # the engine's other step program: one loop of traced length
        fit = run_svi(model, AutoNormal(model), arrays, max_steps=steps, lr=lr,
                      chunk={chunk}, stop_at_convergence=False, static_blocks=False)
        plain_runs.append(fit.steps_run / fit.seconds["run"])
    t0 = time.perf_counter()
    jax.block_until_ready(hand(state, arrays))
    hand_runs.append(steps / (time.perf_counter() - t0))
med = lambda v: sorted(v)[len(v) // 2] if v else None
out.update(engine_steps_per_s=med(engine_runs), hand_steps_per_s=med(hand_runs),
           engine_runs=engine_runs, hand_runs=hand_runs, engine_compile_s=med(compiles),
           engine_plain_loop_steps_per_s=med(plain_runs), engine_plain_loop_runs=plain_runs)
if {nuts}:
    try:  # its diagnostics need ArviZ, which a lent machine's stack may lack
        from svibench.engine.nuts import run_nuts
        fit = run_nuts(model, arrays, warmup={warmup}, draws={draws}, chains=2, seed=2)
        out["nuts_ess_per_s"] = fit.diagnostics["min_ess_bulk"] / fit.seconds["total"]
        out["nuts_seconds"] = fit.seconds["total"]
        out["nuts_chain_method"] = fit.diagnostics["chain_method"]
    except Exception as err:  # noqa: BLE001  (the SVI figures above still count)
        out["nuts_error"] = f"{{type(err).__name__}}: {{err}}"[:300]
print("RESULT " + json.dumps(out))
"""

ENGINE_TARGET = 0.9   # engine / hand-written loop, on each platform
GPU_TARGET_J, GPU_TARGET = 4096, 10.0  # GPU / all CPU cores for the engine


def gpu_count() -> int:
    env = {**os.environ, "JAX_PLATFORMS": "cuda,cpu"}
    proc = subprocess.run([C.PY, "-c", PROBE], capture_output=True, text=True, env=env)
    try:
        return int(proc.stdout.strip().splitlines()[-1]) if proc.returncode == 0 else 0
    except (ValueError, IndexError):
        return 0


def measure(J: int, gpu: int, threads: int, args, settings: dict) -> dict:
    """One fresh process's row for ``J`` on the GPU (``gpu=1``) or the CPU."""
    nuts = J in settings["nuts_groups"]
    code = CHILD.format(workflow=str(C.ROOT / "workflow"), gpu=gpu, threads=threads, groups=J,
                        reps=settings["repeats"], steps=settings["steps"],
                        chunk=settings["chunk"], nuts=nuts, warmup=settings["warmup"],
                        draws=settings["draws"])
    row = {"J": J, "latents": 2 * J + 4, "platform": "gpu" if gpu else "cpu"}
    try:
        proc = subprocess.run([C.PY, "-c", code], capture_output=True, text=True,
                              env={**os.environ, "PYTHONHASHSEED": "0"},
                              timeout=args.child_timeout)
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip()
                               else f"exit {proc.returncode}")
        row.update(json.loads([x for x in proc.stdout.splitlines()
                               if x.startswith("RESULT ")][-1][7:]))
        row["engine_over_hand"] = row["engine_steps_per_s"] / row["hand_steps_per_s"]
        print(f"J={J} {row['platform']} ({row['threads']} thread(s)): engine "
              f"{row['engine_steps_per_s']:.0f} steps/s, hand-written "
              f"{row['hand_steps_per_s']:.0f}, ratio {row['engine_over_hand']:.2f}"
              + (f"; NUTS {row['nuts_ess_per_s']:.1f} ESS/s ({row['nuts_chain_method']})"
                 if "nuts_ess_per_s" in row else "")
              + (f"; NUTS failed: {row['nuts_error']}" if "nuts_error" in row else ""),
              flush=True)
    except (subprocess.TimeoutExpired, RuntimeError, IndexError, ValueError) as err:
        row["error"] = (f"over {args.child_timeout} s" if isinstance(err, subprocess.TimeoutExpired)
                        else str(err)[-300:])
        print(f"J={J} {row['platform']}: FAILED: {row['error']}", flush=True)
    return row


def per_j(rows: list[dict]) -> list[dict]:
    """A row per J: each platform's engine / hand-written, and GPU / CPU for both."""
    out = []
    for J in sorted({r["J"] for r in rows}):
        got = {r["platform"]: r for r in rows if r["J"] == J and "error" not in r}
        g, c = got.get("gpu"), got.get("cpu")
        row = {"J": J}
        for name, r in (("gpu", g), ("cpu", c)):
            row[f"{name}_engine_over_hand"] = r["engine_over_hand"] if r else None
        for kind in ("engine", "hand"):
            row[f"gpu_over_cpu_{kind}"] = (g[f"{kind}_steps_per_s"] / c[f"{kind}_steps_per_s"]
                                           if g and c else None)
        out.append(row)
    return out


def main(argv=None):
    p = C.add_common_args(argparse.ArgumentParser(description=__doc__.splitlines()[0]), repeats=3)
    p.add_argument("--groups", type=int, nargs="+",
                   help="J values of the SVI table (default 1024 4096 16384 65536)")
    p.add_argument("--svi-steps", type=int, help="SVI steps per timing (default 2000)")
    p.add_argument("--chunk", type=int, default=500, help="run_svi chunk (default 500)")
    p.add_argument("--cpu-threads", type=int, default=os.cpu_count(),
                   help="the CPU side's threads (default: every CPU of the machine)")
    p.add_argument("--cpu-max-groups", type=int, default=16384,
                   help="the CPU side skips larger J (default 16384)")
    p.add_argument("--nuts", type=int, nargs=2, metavar=("WARMUP", "DRAWS"),
                   help="NUTS warm-up and draws over 2 chains (default 300 2000)")
    p.add_argument("--nuts-groups", type=int, nargs="*",
                   help="J values that also time NUTS (default 128 1024 4096; none if empty)")
    p.add_argument("--cpu-only", action="store_true",
                   help="without a GPU, still run the CPU side (checks the script)")
    p.add_argument("--child-timeout", type=float, default=None,
                   help="seconds allowed to one measurement (default: none)")
    args = p.parse_args(argv)
    started = C.machine()
    gpus = gpu_count()
    if gpus == 0 and not args.cpu_only:
        print("GPU: skipped: no GPU lent (JAX sees no GPU on this machine)")
        C.save("gpu", [], {"skipped": "no GPU lent"}, started)
        return []
    nuts_groups = args.nuts_groups if args.nuts_groups is not None else (
        [128] if args.quick else [128, 1024, 4096])
    groups = sorted(set(args.groups or ([1024, 4096] if args.quick else [1024, 4096, 16384, 65536]))
                    | set(nuts_groups))
    warmup, draws = args.nuts or ((100, 400) if args.quick else (300, 2000))
    steps = args.svi_steps or (500 if args.quick else 2000)
    settings = {"repeats": C.repeats_of(args, 3), "steps": steps, "chunk": args.chunk,
                "warmup": warmup, "draws": draws, "nuts_groups": nuts_groups,
                "cpu_threads": args.cpu_threads, "cpu_max_groups": args.cpu_max_groups,
                "gpus": gpus, "quick": args.quick}
    rows = []
    for J in groups:
        if gpus:
            rows.append(measure(J, 1, 1, args, settings))
        if J <= args.cpu_max_groups:
            rows.append(measure(J, 0, args.cpu_threads, args, settings))
    C.table(rows, ["J", "latents", "platform", "threads", "engine_steps_per_s", "hand_steps_per_s",
                   "engine_over_hand", "engine_plain_loop_steps_per_s", "engine_compile_s",
                   "nuts_ess_per_s", "nuts_chain_method", "nuts_error", "error"],
            title=f"hier, AutoNormal, {settings['steps']} steps (median of {settings['repeats']}); "
                  f"NUTS: 2 chains, {warmup}+{draws}")
    summary = per_j(rows)
    C.table(summary, ["J", "gpu_engine_over_hand", "cpu_engine_over_hand", "gpu_over_cpu_engine",
                      "gpu_over_cpu_hand"],
            title=f"Per J (targets: engine / hand-written >= {ENGINE_TARGET}; GPU / "
                  f"{args.cpu_threads} CPU threads for the engine >= {GPU_TARGET:g} at "
                  f"J = {GPU_TARGET_J})")
    if not gpus:
        print("GPU: none lent; the CPU side alone (--cpu-only)")
    path = C.save("gpu", rows + [{"per_J": summary}], settings, started)
    print(f"wrote {path}")
    return rows


if __name__ == "__main__":
    main()
