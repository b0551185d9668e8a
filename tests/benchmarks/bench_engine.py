"""Engine overhead: SVI steps per second of ``run_svi`` against a hand-written loop.

The hand-written loop is what a careful user writes without the engine: one jitted
``lax.scan`` over ``optax.adam`` steps on the same ELBO (NumPyro's ``Trace_ELBO``) of
the same model and the same guide (``AutoNormal``), from the same initial params, no
divergence guard, no chunks, no convergence check. ``run_svi`` runs the same number of
steps with ``stop_at_convergence`` off; its steps/s counts its ``run`` seconds (the
chunk loop, the per-chunk convergence check and the final ``get_params``), both
excluding compilation. Ratio = engine / hand-written (target >= 0.9).

    python tests/benchmarks/bench_engine.py [--quick] [--repeats N] [--steps N]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

# --workflow DIR benchmarks another copy of the package (e.g. before a change).
_wf = sys.argv[sys.argv.index("--workflow") + 1] if "--workflow" in sys.argv else C.ROOT / "workflow"
sys.path.insert(0, str(_wf))
from svibench.runtime import configure_jax  # noqa: E402

CASES = [("linreg", None), ("hier", 8), ("hier", 128)]


def dataset(model: str, groups: int | None):
    from svibench.data import bound_model
    from svibench.models import get_model

    mod = get_model(model)
    settings = dict(mod.defaults)
    if groups is not None:
        settings["groups"] = groups
    df, _ = mod.simulate(settings, 1)
    arrays, static = mod.prepare(df, settings)
    return bound_model(model, static), arrays


def hand_loop(model_fn, arrays, steps: int, lr: float, particles: int, seed: int):
    """``(run, args)``: ``run(*args)`` does ``steps`` optax Adam steps in one scan."""
    import jax
    import optax
    from numpyro.infer import SVI, Trace_ELBO
    from numpyro.infer.autoguide import AutoNormal
    from numpyro.optim import Adam

    guide = AutoNormal(model_fn)
    elbo = Trace_ELBO(num_particles=particles)
    svi = SVI(model_fn, guide, Adam(lr), elbo)
    state = svi.init(jax.random.PRNGKey(seed), **arrays)
    u0 = svi.optim.get_params(state.optim_state)   # unconstrained, as SVI optimises them
    constrain = svi.constrain_fn
    tx = optax.adam(lr)

    def loss(u, key, data):
        return elbo.loss(key, constrain(u), model_fn, guide, **data)

    def run(u, opt, key, data):
        def body(carry, k):
            u, opt = carry
            value, grads = jax.value_and_grad(loss)(u, k, data)
            updates, opt = tx.update(grads, opt, u)
            return (optax.apply_updates(u, updates), opt), value

        (u, opt), losses = jax.lax.scan(body, (u, opt), jax.random.split(key, steps))
        return u, losses

    args = (u0, tx.init(u0), jax.random.PRNGKey(seed + 1), arrays)
    compiled = jax.jit(run).lower(*args).compile()
    return compiled, args


def main(argv=None):
    p = C.add_common_args(argparse.ArgumentParser(description=__doc__.splitlines()[0]), repeats=5)
    p.add_argument("--steps", type=int, default=None, help="steps per run (default 5000; 1000 with --quick)")
    p.add_argument("--chunk", type=int, default=200, help="run_svi chunk (the config default)")
    p.add_argument("--particles", type=int, default=1)
    p.add_argument("--workflow", default=None, help="folder holding the svibench package to time")
    args = p.parse_args(argv)
    started = C.machine()
    configure_jax(threads=1)
    from numpyro.infer.autoguide import AutoNormal
    from svibench.engine.svi import run_svi

    steps = args.steps or (1000 if args.quick else 5000)
    reps = C.repeats_of(args, 5)
    lr, seed = 0.01, 0
    rows = []
    for model, groups in CASES:
        model_fn, arrays = dataset(model, groups)
        compiled, cargs = hand_loop(model_fn, arrays, steps, lr, args.particles, seed)
        C.timed(compiled, *cargs)  # its first call
        # Interleaved, so that a change of load hits both alike. The engine builds its
        # SVI and compiles on each call (not timed: its `run` seconds exclude it).
        eng, hand = [], []
        for _ in range(reps):
            fit = run_svi(model_fn, AutoNormal(model_fn), arrays, max_steps=steps, lr=lr,
                          particles=args.particles, chunk=args.chunk, seed=seed,
                          stop_at_convergence=False)
            eng.append(fit.steps_run / fit.seconds["run"])
            sec, _ = C.timed(compiled, *cargs)
            hand.append(steps / sec)
        e, h = C.median(eng), C.median(hand)
        row = {"model": model, "J": groups, "latents": (2 * groups + 4) if groups else 5,
               "particles": args.particles, "steps": steps,
               "engine_steps_per_s": e, "hand_steps_per_s": h, "ratio": e / h,
               "engine_runs": eng, "hand_runs": hand}
        rows.append(row)
        print(f"{model} J={groups}: engine {e:.0f} steps/s, hand-written {h:.0f} steps/s, "
              f"ratio {e / h:.2f}", flush=True)
    C.table(rows, ["model", "J", "latents", "particles", "steps", "engine_steps_per_s",
                   "hand_steps_per_s", "ratio"],
            title=f"Engine overhead (AutoNormal, median of {reps}; target ratio >= 0.9)")
    note = C.load_warning(started)
    if note:
        print(note)
    path = C.save("engine" if not args.workflow else "engine-other", rows, {"steps": steps, "chunk": args.chunk, "repeats": reps,
                                   "quick": args.quick, "guide": "AutoNormal", "lr": lr,
                                   "workflow": str(_wf)},
                  started, [note])
    print(f"wrote {path}")
    return rows


if __name__ == "__main__":
    main()
