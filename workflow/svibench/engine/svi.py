"""Chunked-scan SVI.

One compiled loop runs steps of ``svi.update`` with the data passed as *arguments*
(so one program serves any data of the same shapes); Python checks each ``chunk``
of steps for divergence and convergence and logs progress. A call of the program
runs several chunks when they are short (``GROUP_MAX``); no result depends on how
many. A step whose loss or parameters are non-finite is not applied: the state
stays at the last finite step, the fit stops with ``status = "diverged"`` and the
loss trace ends with that step.
"""

from __future__ import annotations

import logging
import time
import types
from dataclasses import dataclass, field

import numpy as np

log = logging.getLogger("svibench.svi")


@dataclass
class SVIFit:
    params: dict            # constrained guide params
    losses: np.ndarray      # (steps_run,) loss per step; if diverged, the last step's loss or
                            # the params it made are non-finite (it was not applied)
    status: str             # "ok" | "diverged"
    steps_run: int
    seconds: dict           # compile, run, total
    diverged_at: int | None = None
    converged_at: int | None = None
    extra: dict = field(default_factory=dict)
    # The convergence rule's verdict where the fit ended (engine.convergence): the loss
    # still falling beyond its noise (None: diverged, or shorter than the rule's span),
    # its slope there in nats per 100 steps, and the earliest step the rule can stop at.
    trend_left: bool | None = None
    final_slope_per_100: float | None = None
    convergence_floor: int | None = None


def make_elbo(kind: str, particles: int):
    from numpyro.infer import Trace_ELBO, TraceGraph_ELBO

    if kind == "tracegraph":
        return TraceGraph_ELBO(num_particles=particles)
    if kind == "trace":
        return Trace_ELBO(num_particles=particles)
    raise ValueError(f"unknown elbo {kind!r} (trace | tracegraph)")


def _all_finite(tree):
    import jax
    import jax.numpy as jnp

    leaves = [jnp.all(jnp.isfinite(x)) for x in jax.tree.leaves(tree)
              if jnp.issubdtype(jnp.asarray(x).dtype, jnp.inexact)]
    return jnp.all(jnp.stack(leaves)) if leaves else jnp.bool_(True)


def _step_keys(key, n: int, chunk: int):
    """``(key after n steps, keys (chunk, ...))``: the keys ``SVI.update`` would use.

    ``SVI.update`` splits the state's key into the next state's key and the step's
    key, step after step. The same chain is walked here in a loop of its own, before
    the steps: the numbers are the same, and the steps' loop is ~2-5 % faster without
    the key hashing in it (issue 6). Entries ``>= n`` are unused.
    """
    import jax
    import jax.numpy as jnp

    def body(i, carry):
        key, keys = carry
        key, step_key = jax.random.split(key)
        return key, keys.at[i].set(step_key)

    return jax.lax.fori_loop(0, n, body, (key, jnp.zeros((chunk,) + key.shape, key.dtype)))


def _step_keys_static(key, n, width: int):
    """``_step_keys`` with a static trip count: the chain is walked ``width`` times
    (the same keys), and the key after ``n`` steps is picked from it."""
    import jax
    import jax.numpy as jnp

    def body(key, _):
        key, step_key = jax.random.split(key)
        return key, (key, step_key)

    _, (after, keys) = jax.lax.scan(body, key, None, length=width)
    return jnp.where(n > 0, after[jnp.maximum(n - 1, 0)], key), keys


def svi_step(svi, state, step_key, data: dict):
    """``SVI.update(state, **data)`` given the step's key: ``(state, loss)``, with the
    state's own key left as it is (``_step_keys`` advances it)."""
    from ._numpyro_compat import svi_loss_fn

    loss_fn = svi_loss_fn(svi, step_key, data, state.mutable_state)
    (loss, mutable_state), optim_state = svi.optim.eval_and_update(loss_fn, state.optim_state)
    return state._replace(optim_state=optim_state, mutable_state=mutable_state), loss


def _checked_step(svi, state, step_key, data: dict):
    """``svi_step`` and whether its loss and the optimiser state it made are finite:
    ``(state, loss, ok)``, the body of both step loops."""
    import jax.numpy as jnp

    state, loss = svi_step(svi, state, step_key, data)
    return state, loss, jnp.isfinite(loss) & _all_finite(state.optim_state)


def chunk_runner(svi, chunk: int, jit: bool = True, block: int | None = None):
    """``run(state, n_left, data) -> (state, losses (chunk,), finite (chunk,))``.

    Runs steps ``0 .. n_left - 1`` (``n_left <= chunk``) of ``svi.update`` (a loop
    with a traced trip count, so one compiled program runs any number of steps and
    the same step gives the same numbers whatever ``n_left``), with the same keys
    and so the same numbers (``_step_keys``; tests/unit/test_engine.py compares them
    bit for bit). ``finite[i]``: the loss of step ``i`` and the parameters it produced
    are finite; entries ``>= n_left`` are unused.

    No per-step guard: selecting the old state when a step goes non-finite made every
    step wait for a reduction over the whole new state, ~2.5x slower per step (issue
    6). Steps after a non-finite one run on, on garbage; ``run_svi`` then runs the
    chunk again from its start up to the step before (the same program, so the same
    numbers) to recover the last finite state.

    ``block``: the steps run in blocks of ``block`` steps, each block a loop of static
    length (the key chain too), and only the loop over blocks has a traced trip count.
    A loop whose trip count is traced waits on the device's answer at every turn; on
    a GPU that wait is per step. Steps past ``n_left`` in the last block are computed
    and not applied (the state is kept as it was), so every applied step is the step
    the plain loop takes (tests/unit/test_engine.py). None: one loop over the steps.
    """
    import jax
    import jax.numpy as jnp

    if block is not None:
        return _block_runner(svi, chunk, int(block), jit)

    def run(state, n_left, data):
        key, keys = _step_keys(state.rng_key, n_left, chunk)

        def body(i, carry):
            state, losses, finite = carry
            state, loss, ok = _checked_step(svi, state, keys[i], data)
            return state, losses.at[i].set(loss), finite.at[i].set(ok)

        init = (state, jnp.full((chunk,), jnp.nan), jnp.zeros((chunk,), dtype=bool))
        state, losses, finite = jax.lax.fori_loop(0, n_left, body, init)
        return state._replace(rng_key=key), losses, finite

    return jax.jit(run) if jit else run


def _block_runner(svi, chunk: int, block: int, jit: bool):
    """``chunk_runner`` with steps in blocks of static length (its ``block``)."""
    import jax
    import jax.numpy as jnp

    blocks = -(-chunk // block)

    def run(state, n_left, data):
        key, keys = _step_keys_static(state.rng_key, n_left, blocks * block)

        def one_block(b, carry):
            def step(j, carry):
                state, losses, finite = carry
                i = b * block + j
                new, loss, ok = _checked_step(svi, state, keys[i], data)
                live = i < n_left
                state = jax.tree.map(lambda n, o: jnp.where(live, n, o), new, state)
                return (state, losses.at[i].set(jnp.where(live, loss, jnp.nan)),
                        finite.at[i].set(ok & live))

            return jax.lax.fori_loop(0, block, step, carry)

        init = (state, jnp.full((blocks * block,), jnp.nan),
                jnp.zeros((blocks * block,), dtype=bool))
        state, losses, finite = jax.lax.fori_loop(0, -(-n_left // block), one_block, init)
        return state._replace(rng_key=key), losses[:chunk], finite[:chunk]

    return jax.jit(run) if jit else run


def _children(obj):
    """(kind, holder, key, child) for what ``obj`` holds; kind says how to put a
    value back: ``item`` (holder[key] = v), ``attr`` (setattr), ``cell`` (a closure
    cell's contents) or ``frozen`` (a tuple's element: cannot be put back)."""
    import functools

    if isinstance(obj, dict):
        return [("item", obj, k, v) for k, v in obj.items()]
    if isinstance(obj, list):
        return [("item", obj, i, v) for i, v in enumerate(obj)]
    if isinstance(obj, (tuple, set, frozenset)):
        return [("frozen", obj, None, v) for v in obj]
    if isinstance(obj, functools.partial):
        return ([("frozen", obj, None, obj.func)] + [("frozen", obj, None, v) for v in obj.args]
                + [("item", obj.keywords, k, v) for k, v in obj.keywords.items()])
    if isinstance(obj, types.FunctionType):
        return [("cell", c, None, c.cell_contents) for c in obj.__closure__ or () if _filled(c)]
    return [("attr", obj, k, v) for k, v in getattr(obj, "__dict__", {}).items()]


def _filled(cell) -> bool:
    try:
        cell.cell_contents
    except ValueError:  # an empty cell
        return False
    return True


_OPAQUE = (str, bytes, int, float, complex, bool, type, types.ModuleType, np.ndarray)


def tracer_slots(root, depth: int = 10) -> list:
    """Where JAX tracers sit in ``root`` (containers, partials, closures, object
    attributes, ``depth`` levels down): (kind, holder, key) as in ``_children``."""
    import jax
    from jax.core import Tracer

    opaque = _OPAQUE + (jax.Array,)  # concrete arrays: nothing traced inside
    slots, seen = [], set()

    def walk(obj, depth):
        if depth == 0 or id(obj) in seen or isinstance(obj, opaque):
            return
        seen.add(id(obj))
        for kind, holder, key, child in _children(obj):
            if isinstance(child, Tracer):
                slots.append((kind, holder, key))
            else:
                walk(child, depth - 1)

    walk(root, depth)
    return slots


def _get(slot):
    kind, holder, key = slot
    if kind == "frozen":
        raise TypeError(f"a traced value sits in a {type(holder).__name__}")
    return holder.cell_contents if kind == "cell" else \
        holder[key] if kind == "item" else getattr(holder, key)


def _put(slot, value):
    kind, holder, key = slot
    if kind == "cell":
        holder.cell_contents = value
    elif kind == "item":
        holder[key] = value
    else:
        object.__setattr__(holder, key, value)


def _latent_order_kept(guide) -> bool:
    """Whether an ``AutoContinuous`` guide lays its latent vector out in the model's
    site order, as NumPyro's eager init does. Under ``jit`` NumPyro's search for a
    valid start returns its sites sorted by name (a ``while_loop`` carry); the order
    sets which coordinate a flow conditions on which (hier's group effects before
    their scale), so a guide set up in another order is not the same guide."""
    from numpyro.infer.autoguide import AutoContinuous

    from ._numpyro_compat import init_locs_order

    if not isinstance(guide, AutoContinuous):
        return True  # others look their sites up by name
    model_order = [name for name, site in guide.prototype_trace.items()
                   if site["type"] == "sample" and not site["is_observed"]]
    return init_locs_order(guide) == model_order


def compiled_init(svi, key, data: dict, init_params=None):
    """``svi.init(key, init_params=init_params, **data)`` as one compiled program.

    NumPyro initialises a guide eagerly: tracing the model, finding a valid start and
    its gradient op by op compiles ~250 one-op programs (5.5 s of a 15 s linreg
    AutoMultivariateNormal job from an empty cache, 1.8 s loading them from a warm
    one); one program takes ~1 s. The guide's set-up runs inside the trace, so what
    it keeps (prototype trace, initial locations, seeded helpers) holds tracers: the
    program returns them and they are put back concrete. An ``AutoContinuous`` guide
    keeps the eager init's layout of its latent vector: under ``jit`` NumPyro's
    ``find_valid_initial_params`` returns the initial locations sorted by name (they
    pass through a ``while_loop`` carry), so they are put back in the model's order
    while the program is traced (``_numpyro_compat.init_locs_in_model_order``).
    Where putting the values back is not possible (a tracer in a tuple), or the layout
    still differs (``_latent_order_kept``), the guide is reset and NumPyro initialises
    it eagerly. Otherwise the start is the eager one up to rounding (checked in
    tests/unit/test_engine.py).
    """
    return compiled_init_seeds(svi, [key], data, init_params)[0]


def compiled_init_seeds(svi, keys: list, data: dict, init_params=None) -> list:
    """``[svi.init(key, ...) for key in keys]`` from one compiled program
    (``compiled_init``), traced and compiled for the first key and run again for the
    others: each state is the one its key gives alone. The guide is left set up as by
    the first key: what a guide keeps of its set-up besides its params (prototype
    trace, initial locations) serves only to build params that the states already
    hold, so one set-up guide steps and draws for every seed. Where the program is not
    possible, each key gets NumPyro's eager init of its own copy."""
    import copy

    import jax

    from ._numpyro_compat import init_locs_in_model_order

    guide = svi.guide
    before = dict(getattr(guide, "__dict__", {}))
    pristine = copy.copy(guide)  # for the eager fallback of keys after the first
    roots = (getattr(guide, "__dict__", {}), svi.__dict__)
    box = {}

    def init(key):
        # data and init_params are closed over, not arguments: what the guide keeps
        # of them (its potential function's closure) is then the concrete arrays.
        state = svi.init(key, init_params=init_params, **data)
        box["slots"] = [s for root in roots for s in tracer_slots(root)]
        return state, [_get(s) for s in box["slots"]]

    try:
        program = jax.jit(init)
        with init_locs_in_model_order():
            state, values = program(keys[0])
        for slot, value in zip(box["slots"], values):
            _put(slot, value)
        left = [s for root in roots for s in tracer_slots(root)]
        if left:
            raise TypeError(f"{len(left)} traced value(s) left in the guide")
        if not _latent_order_kept(guide):
            raise ValueError("the latent vector would be laid out in another order")
        # the other keys: the same program (not traced again: the guide stays as set up)
        return [state] + [program(key)[0] for key in keys[1:]]
    except Exception as err:  # noqa: BLE001  (NumPyro's own init is the fallback)
        log.info("compiled init not possible (%s: %s); initialising eagerly",
                 type(err).__name__, (str(err).splitlines() or [""])[0])
        if hasattr(guide, "__dict__"):
            guide.__dict__.clear()
            guide.__dict__.update(before)
        states = [svi.init(keys[0], init_params=init_params, **data)]
        for key in keys[1:]:
            # the same steps from a fresh copy of the guide: its own set-up for this key
            other = copy.copy(svi)
            other.guide = copy.copy(pristine)
            states.append(other.init(key, init_params=init_params, **data))
        return states


# How the engine spreads a fit's chunks over calls of its compiled program. None of
# these changes a result (tests/unit/test_engine.py): every chunk is checked for
# divergence and convergence as if it ran alone, and a fit that stops inside a call
# takes its state from a rerun of that call's first chunks (the same program, so the
# same numbers).
# - A call runs up to GROUP_MAX chunks, as many as take about CALL_TARGET_S by the
#   last call's speed: each call costs ~0.3 ms however short (its ~30 buffers in and
#   out), 10 % of a 200-step chunk of linreg.
# - After a call shorter than SPECULATE_BELOW_S the next one is dispatched before the
#   one after it is read, so that the host's work (reading, the convergence check, the
#   next dispatch) overlaps the steps; at most that much work (or, after the first
#   call, one chunk) is thrown away when a fit stops.
GROUP_MAX = 16
CALL_TARGET_S = 0.05
SPECULATE_BELOW_S = 0.25


BATCH_MODES = ("auto", "vmap", "loop")


def batch_mode(mode: str, platform: str) -> str:
    """How a job's seeds share their step program: ``vmap`` (one program over a seed
    axis: on a GPU the seeds cost about what one does) or ``loop`` (one program, called
    for each seed in turn: on a CPU, where the seeds' arithmetic adds up either way,
    nothing extra to compile and each seed's numbers bit for bit those it gives alone).
    ``auto``: ``vmap`` on an accelerator, ``loop`` on the CPU."""
    if mode not in BATCH_MODES:
        raise ValueError(f"unknown seed batch mode {mode!r} ({' | '.join(BATCH_MODES)})")
    if mode == "auto":
        return "loop" if platform == "cpu" else "vmap"
    return mode


class _Batch:
    """A fit's states and its compiled step program, for one seed or several.

    ``loop``: the states stay a list and ``chunk_runner``'s program runs each seed's
    state in turn (one seed: just that). ``vmap``: the program is ``vmap``-ed over a
    leading seed axis of the stacked states, each seed its own number of steps (a seed
    with 0 steps keeps its state, key included). Either way
    ``call(state, n) -> (state, losses (S, L), finite (S, L))``.
    """

    def __init__(self, svi, states: list, chunk: int, data: dict, mode: str,
                 compiler_options: dict | None = None, block: int | None = None):
        import jax
        import jax.numpy as jnp

        self.svi, self.size, self.data = svi, len(states), data
        self.get_params = jax.jit(svi.get_params)  # traced on first use, once for every seed
        width = chunk * GROUP_MAX  # steps a call can hold
        # what a seed given no steps returns in loop mode (it is not called)
        self.idle = (jnp.full((width,), jnp.nan), jnp.zeros((width,), dtype=bool))
        self.vmapped = mode == "vmap" and self.size > 1
        run = chunk_runner(svi, chunk * GROUP_MAX, jit=False, block=block)
        if self.vmapped:
            self.state = jax.tree.map(lambda *xs: jnp.stack(xs), *states)
            program = jax.jit(jax.vmap(run, in_axes=(0, 0, None)))
            self.program = program.lower(self.state, np.zeros(self.size, np.int32), data).compile(
                compiler_options)
        else:
            self.state = list(states)
            self.program = jax.jit(run).lower(states[0], 0, data).compile(compiler_options)

    def call(self, state, n: np.ndarray):
        import jax.numpy as jnp

        if self.vmapped:
            return self.program(state, np.asarray(n, dtype=np.int32), self.data)
        out = [self.program(st, int(k), self.data) if k else None for st, k in zip(state, n)]
        states = [o[0] if o else st for o, st in zip(out, state)]
        losses = jnp.stack([o[1] if o else self.idle[0] for o in out])
        finite = jnp.stack([o[2] if o else self.idle[1] for o in out])
        return states, losses, finite

    def params(self, state, s: int) -> dict:
        """Seed ``s``'s constrained params, from one jitted program for every seed
        (eagerly, the constraints' transforms compile tens of one-op programs)."""
        import jax

        if self.vmapped:
            return self.get_params(jax.tree.map(lambda x: x[s], state))
        return self.get_params(state[s])


def run_svi(model, guide, data: dict, *, seed: int = 0, init_params=None, **settings) -> SVIFit:
    """Fit ``guide`` to ``model`` with Adam: ``run_svi_seeds`` for one seed."""
    return run_svi_seeds(model, guide, data, seeds=[seed], init_params=init_params,
                         **settings)[0]


def run_svi_seeds(model, guide, data: dict, *, seeds: list[int], max_steps: int,
                  lr: float, particles: int = 1, chunk: int = 500, elbo: str = "trace",
                  init_params=None, convergence: dict | None = None,
                  stop_at_convergence: bool = False, batch: str = "auto",
                  step_compiler_options: dict | None = None,
                  static_blocks: bool | None = None) -> list[SVIFit]:
    """Fit ``guide`` from each of ``seeds`` with Adam for at most ``max_steps`` steps
    each: one ``SVIFit`` per seed. The guide is left set up (``compiled_init_seeds``):
    it draws for every seed at that seed's params.

    ``data`` is a dict of arrays passed to model and guide as keyword arguments.
    ``convergence`` holds the settings of ``engine.convergence.convergence_step``
    (the config schema's defaults for those left out); with ``stop_at_convergence`` a
    seed's fit ends at the end of the chunk in which it converged.

    The seeds share one compiled program (``_Batch``; ``batch``: ``batch_mode``): each
    seed is initialised as it would be alone (its own key), then every call steps the
    seeds still running; each stops on its own divergence or convergence. With
    ``loop`` a seed's losses and params are bit for bit those of its fit alone; with
    ``vmap`` equal up to float rounding (the batched program may order a reduction
    differently: tests/unit/test_engine.py measures it). ``seconds`` are each seed's:
    the batch's compile, and the run until that seed stopped.
    ``step_compiler_options``: XLA options for the step program alone (e.g.
    ``runtime.heavy_program_options()``), None for the process's.
    ``static_blocks``: the step program loops over chunks of static length
    (``chunk_runner``'s ``block``); None: on an accelerator only, where a loop of
    traced length waits on the device at every step. On the CPU the plain loop.
    """
    from .convergence import convergence_step, final_trend, floor, settings

    import jax
    from numpyro.infer import SVI
    from numpyro.optim import Adam

    conv = settings(convergence)
    size = len(seeds)
    t_start = time.perf_counter()
    svi = SVI(model, guide, Adam(lr), make_elbo(elbo, particles))
    states = compiled_init_seeds(svi, [jax.random.PRNGKey(seed) for seed in seeds], data,
                                 init_params)
    chunk = max(1, min(int(chunk), int(max_steps)))
    platform = str(jax.devices()[0].platform)
    if static_blocks is None:
        static_blocks = platform != "cpu"
    batch = _Batch(svi, states, chunk, data, batch_mode(batch, platform), step_compiler_options,
                   block=chunk if static_blocks else None)
    state = batch.state
    jax.block_until_ready(batch.call(state, np.ones(size, int))[1:])  # a program's first call sets it up
    t_compiled = time.perf_counter()
    compile_s = t_compiled - t_start

    losses = [[] for _ in seeds]
    done = np.zeros(size, dtype=int)
    running = np.ones(size, dtype=bool)
    status, diverged_at = ["ok"] * size, [None] * size
    converged_at, t_stop = [None] * size, [None] * size
    tag = [f"seed {seed}: " if size > 1 else "" for seed in seeds]
    # The first call's speed is not known before it is read: the second goes out
    # ahead anyway (a fit that stops in its first chunk throws one chunk away).
    per_call, pending, quick = 1, None, True
    t_ready = time.perf_counter()
    while running.any():
        start = state
        if pending is None:
            n_call = np.where(running, np.minimum(per_call * chunk, max_steps - done), 0)
            pending = (n_call, batch.call(state, n_call))
        n_call, (state, call_losses, finite) = pending
        n_next = np.where(running, np.minimum(per_call * chunk, max_steps - done - n_call), 0)
        pending = (n_next, batch.call(state, n_next)) if n_next.any() and quick else None
        call_losses = np.asarray(jax.block_until_ready(call_losses))
        finite = np.asarray(finite)
        took, t_ready = time.perf_counter() - t_ready, time.perf_counter()
        quick = took < SPECULATE_BELOW_S
        longest = int(n_call.max())
        per_call = min(GROUP_MAX, max(1, int(CALL_TARGET_S * longest / (took * chunk))))
        keep = n_call.copy()  # steps of this call each seed keeps
        for s in np.flatnonzero(running):
            for lo in range(0, int(n_call[s]), chunk):
                hi = min(lo + chunk, int(n_call[s]))
                piece, ok = call_losses[s, lo:hi], finite[s, lo:hi]
                if not ok.all():
                    # Step `first` (its loss, or the params it made) is the first
                    # non-finite one: it is not applied. The trace ends with it; the
                    # state is the one before it, recomputed from the call's start.
                    first = lo + int(np.argmin(ok))
                    losses[s].append(piece[:first - lo + 1])
                    done[s] += first - lo + 1
                    keep[s], status[s], diverged_at[s] = first, "diverged", int(done[s])
                    running[s] = False
                    log.warning("%snon-finite loss or params at step %d: stopping "
                                "(status diverged)", tag[s], done[s])
                    break
                losses[s].append(piece)
                done[s] += len(piece)
                log.info("%sstep %d/%d  mean loss of chunk %.4f  (%.1f s)", tag[s], done[s],
                         max_steps, float(np.mean(piece)), time.perf_counter() - t_compiled)
                if converged_at[s] is None:
                    # window ends tested at earlier chunks are not tested again
                    converged_at[s] = convergence_step(np.concatenate(losses[s]), **conv,
                                                       start=int(done[s]) - len(piece) + 1)
                    if converged_at[s] is not None:
                        log.info("%sconverged at step %d", tag[s], converged_at[s])
                        if stop_at_convergence:
                            keep[s], running[s] = hi, False
                            break
            if done[s] >= max_steps:
                running[s] = False
            if not running[s]:
                t_stop[s] = time.perf_counter()
        if (keep != n_call).any():
            # a seed stopped inside the call: every seed's state from a rerun of the
            # call's first `keep` steps (the same program, so the same numbers), and the
            # call dispatched ahead is dropped
            state, pending = batch.call(start, keep)[0], None
        elif pending is not None and (pending[0] * ~running).any():
            pending = None  # it steps a seed that has stopped since: dispatched again
    jax.block_until_ready(state)
    fits = []
    for s in range(size):
        params = jax.block_until_ready(batch.params(state, s))
        trace = np.concatenate(losses[s]) if losses[s] else np.zeros(0)
        trend = final_trend(trace, **conv) if status[s] == "ok" else None
        run_s = (t_stop[s] or time.perf_counter()) - t_compiled
        fits.append(SVIFit(
            params=params, losses=trace, status=status[s], steps_run=int(done[s]),
            diverged_at=diverged_at[s], converged_at=converged_at[s],
            trend_left=None if trend is None else not trend.flat,
            final_slope_per_100=None if trend is None else trend.slope_per_100,
            convergence_floor=floor(**conv),
            seconds={"compile": compile_s, "run": run_s, "total": compile_s + run_s},
            extra={"batch_seeds": list(seeds)} if size > 1 else {}))
    return fits
