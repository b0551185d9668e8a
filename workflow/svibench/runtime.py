"""Configure JAX for one job *before* JAX is imported.

A job given a GPU uses CUDA (without preallocating all GPU memory); a job without
one is pinned to the CPU. ``threads`` CPU devices let NUTS run chains in parallel.
A persistent compilation cache shared by every job of a study skips recompiling
identical programs; it only hits across processes when PYTHONHASHSEED is fixed.

On the CPU, XLA's legacy fusion emitters (``DEFAULT_XLA_FLAGS``) compile a program
in about 60 % of the time of the default MLIR fusion emitters. A short fit job is
compile-bound: NumPyro's eager initialisation alone compiles some 250 one-op
programs. Measured on 2 cores (jax 0.10.2): a linreg AutoMultivariateNormal job 14.5 s
-> 10.5 s with steps/s the same or better (AutoBNAFNormal's steps are ~30 % slower,
its compile 6 s shorter). A flag the user sets in ``XLA_FLAGS`` wins over ours.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
from contextlib import contextmanager


# jax/jaxlib are pinned (pyproject.toml): XLA aborts on a flag it does not know, so
# a version bump must check these still exist.
DEFAULT_XLA_FLAGS = ("--xla_cpu_use_fusion_emitters=false",)


def xla_flags(current: str, threads: int) -> str:
    """``XLA_FLAGS`` for a job: ``current`` (the user's, kept), our defaults for flags it
    does not set, and ``threads`` host devices (replacing any count in ``current``)."""
    flags = [f for f in current.split() if "host_platform_device_count" not in f]
    named = {f.split("=", 1)[0] for f in flags}
    flags += [f for f in DEFAULT_XLA_FLAGS if f.split("=", 1)[0] not in named]
    return " ".join(flags + [f"--xla_force_host_platform_device_count={threads}"])


@contextmanager
def cpus_while_starting(threads: int):
    """While active, the process may run on only ``threads`` of its CPUs; afterwards
    every thread it has may run on all of them again.

    XLA's CPU client sizes its thread pool to the CPUs the process may use when the
    client starts. A compiled loop then hands its work from one pool thread to the
    next, and on a VM every hand-off across cores is a wake-up: a one-thread SVI fit
    on 2 CPUs ran its steps 1.6x slower with a pool of 2 than of 1 (issue 6). Started
    inside this, the pool has ``threads`` threads, enough for ``threads`` parallel
    NUTS chains, and the OS still places them on any CPU. A no-op where the process
    has no more CPUs than that, or the OS has no CPU affinity (macOS).
    """
    get, put = getattr(os, "sched_getaffinity", None), getattr(os, "sched_setaffinity", None)
    allowed = get(0) if get and put else set()
    if len(allowed) <= threads:
        yield
        return
    put(0, sorted(allowed)[:threads])
    try:
        yield
    finally:
        for tid in os.listdir("/proc/self/task"):
            try:
                put(int(tid), allowed)
            except OSError:  # a thread that has ended since
                pass


# A full collection only after this many collections of the middle generation (Python's
# default: 10). Importing JAX, NumPyro and pandas makes some million long-lived objects;
# with the default, CPython scans all of them four times on the way, ~0.15 s of a
# 2.6 s fit job (issue 6). Young objects are still collected as usual.
JOB_GC_THRESHOLD2 = 1000


def relax_gc():
    """Collect the oldest generation rarely: a job is short and allocates its
    long-lived objects (imported modules) up front. Call at a job's start."""
    young, middle, oldest = gc.get_threshold()
    gc.set_threshold(young, middle, max(JOB_GC_THRESHOLD2, oldest))


def start_job(log_file: str | None = None):
    """The start of a job that does not use JAX: its log, and ``relax_gc``."""
    relax_gc()
    setup_logging(log_file)


class GPUUnavailable(RuntimeError):
    pass


def configure_jax(*, gpu: int = 0, threads: int = 1, cache_dir: str | None = None,
                  gpu_fallback: str = "error", log_file: str | None = None) -> str:
    """Set JAX's platform, host device count and cache; return the platform used."""
    if "jax" in sys.modules:
        raise RuntimeError("configure_jax must run before jax is imported")
    relax_gc()  # before the imports below
    if log_file:
        setup_logging(log_file)
    threads = max(int(threads or 1), 1)
    os.environ["XLA_FLAGS"] = xla_flags(os.environ.get("XLA_FLAGS", ""), threads)
    platform = "cuda" if int(gpu or 0) > 0 else "cpu"
    # With a GPU: CUDA first, the CPU still initialised, so that a missing GPU shows
    # as "no gpu device" below (JAX_PLATFORMS=cuda alone dies on an assertion
    # inside JAX when CUDA cannot start). The default device is then the GPU.
    os.environ["JAX_PLATFORMS"] = "cuda,cpu" if platform == "cuda" else "cpu"
    if platform == "cuda":
        os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    import jax  # noqa: E402  (deliberately after the environment is set)

    with cpus_while_starting(threads):
        jax.devices("cpu")  # starts the CPU client (its thread pool): see cpus_while_starting
    if platform == "cuda":
        try:
            jax.devices("gpu")
        except RuntimeError:
            if gpu_fallback != "cpu":
                err = GPUUnavailable(
                    f"job was given {gpu} GPU(s) but JAX sees none "
                    f"(CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES', 'unset')}, "
                    f"JAX devices: {', '.join(d.platform for d in jax.devices())}); "
                    "install envs/jax-cuda.yaml's packages, or set gpu_fallback: cpu "
                    "in the config to run on the CPU")
                logging.getLogger("svibench").error("%s", err)
                raise err
            logging.getLogger("svibench").warning("no GPU visible to JAX; falling back to CPU")
            platform = "cpu"
    jax.config.update("jax_enable_x64", False)
    if cache_dir:
        os.makedirs(cache_dir, exist_ok=True)
        jax.config.update("jax_compilation_cache_dir", os.path.abspath(cache_dir))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
    logging.getLogger("svibench").info(
        "JAX platform %s, %d host device(s), cache %s", platform, threads, cache_dir or "off")
    return platform


def setup_logging(log_file: str | None = None, level=logging.INFO):
    """Send the package's log (and warnings) to ``log_file``, or to stderr without one."""
    handlers = [logging.StreamHandler(sys.stderr)]
    if log_file:
        os.makedirs(os.path.dirname(os.path.abspath(log_file)), exist_ok=True)
        handlers = [logging.FileHandler(log_file, mode="w")]
    logging.basicConfig(level=level, handlers=handlers, force=True,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.captureWarnings(True)
    where = slurm_context()
    if where:
        logging.getLogger("svibench").info("%s", where)


def slurm_context(environ=None) -> str | None:
    """One line naming the SLURM job this process runs in; None outside SLURM.

    Every job's log starts with it, so a log tells which SLURM job wrote it and
    whether SLURM gave that job GPUs.
    """
    env = os.environ if environ is None else environ
    job = env.get("SLURM_JOB_ID")
    if not job:
        return None
    gpus = env.get("SLURM_JOB_GPUS") or env.get("SLURM_STEP_GPUS") or "none"
    return (f"SLURM job {job} on node {env.get('SLURMD_NODENAME', '?')}, "
            f"partition {env.get('SLURM_JOB_PARTITION', '?')}, "
            f"CPUs {env.get('SLURM_CPUS_PER_TASK') or env.get('SLURM_CPUS_ON_NODE', '?')}, "
            f"GPUs {gpus}")
