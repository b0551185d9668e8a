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
XLA aborts the process on a flag it does not know (jaxlib 0.11.2 no longer knows
that one), so a default flag is passed only where the installed jaxlib knows it
(``known_xla_flags``: checked once per jaxlib, the answer kept in a small JSON file).

With a log file (``start_job``, ``configure_jax``), everything a job says lands in
it: the package's log, Python warnings, an uncaught exception's traceback, and the
process's stderr (fd 2, so JAX's and XLA's C++ messages too). The job's own stderr
then gets only one-line messages (``sys.exit("...")``, or which exception ended
the job and where its traceback is).
"""

from __future__ import annotations

import faulthandler
import gc
import importlib.metadata
import importlib.util
import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
import warnings
from contextlib import contextmanager


# XLA aborts on a flag it does not know: configure_jax passes only those of these the
# installed jaxlib knows (known_xla_flags).
LEGACY_EMITTERS_FLAG = "--xla_cpu_use_fusion_emitters=false"
DEFAULT_XLA_FLAGS = (LEGACY_EMITTERS_FLAG,)
# With ``fast_compile`` (config key), CPU jobs skip LLVM's optimisations: their programs
# run for far less time than they take to compile (a fit of the default study: ~0.1 s
# of steps against ~3 s of compilation).
FAST_COMPILE_FLAGS = ("--xla_backend_optimization_level=0",)
# A step program whose run outweighs its compile still gets XLA's default level: a
# method's ``heavy_steps`` (AutoBNAFNormal's steps ran 2.2x slower at level 0), or a
# budget of at least HEAVY_STEP_GRADIENTS model-gradient evaluations. On hier (8
# groups, 100 particles) level 0 ran a gradient evaluation in ~9 us against ~2 us at
# level 3 (AutoDAIS K=16: 19.6 against 3.8 ms a step), for 0.5-2 s more compile: level
# 3 pays from ~100 000 evaluations; the bar is set above that because a fit that
# converges stops short of its budget.
FULL_OPTIMISATION = {"xla_backend_optimization_level": 3}
HEAVY_STEP_GRADIENTS = 200_000
# The legacy emitters (DEFAULT_XLA_FLAGS) compile small programs faster, but a big
# step program at level 3 runs faster with XLA's new fusion emitters (hier, 100
# particles, ms a step, legacy against new: AutoBNAFNormal 1.9-2.0 / 0.91, AutoDAIS
# K=16 3.4-3.5 / 2.8-2.9, AutoMultivariateNormal 0.113 / 0.088, AutoDiagonalNormal
# 0.151-0.158 / 0.139). They cost up to ~2 s more compile (AutoBNAFNormal 5.9 / 8.0 s
# with an empty cache), so a fit gets them for a budget of HEAVY_STEP_GRADIENTS only.
NEW_EMITTERS = {"xla_cpu_use_fusion_emitters": True}
_fast_compile_on = False  # whether configure_jax added FAST_COMPILE_FLAGS
_legacy_emitters_on = False  # whether configure_jax added LEGACY_EMITTERS_FLAG


def heavy_program_options() -> dict | None:
    """XLA compiler options for a program that should be fully optimised: a copy of
    ``FULL_OPTIMISATION`` when this job compiles with ``FAST_COMPILE_FLAGS``, else None
    (the process's level stands, the user's own ``XLA_FLAGS`` included)."""
    return dict(FULL_OPTIMISATION) if _fast_compile_on else None


def step_program_options(heavy_steps: bool, budget_gradients: int) -> dict | None:
    """XLA options for an SVI fit's step program: ``heavy_program_options()`` when the
    method has ``heavy_steps`` or its budget (model-gradient evaluations,
    ``scheduling.svi_budget_gradients``) reaches ``HEAVY_STEP_GRADIENTS``, with
    ``NEW_EMITTERS`` too for such a budget where the job compiles with the legacy
    emitters; else None (the process's settings, the user's ``XLA_FLAGS`` included)."""
    big = budget_gradients >= HEAVY_STEP_GRADIENTS
    options = (heavy_program_options() or {}) if heavy_steps or big else {}
    if big and _legacy_emitters_on:
        options = {**options, **NEW_EMITTERS}
    return options or None


def xla_flags(current: str, threads: int, defaults=DEFAULT_XLA_FLAGS) -> str:
    """``XLA_FLAGS`` for a job: ``current`` (the user's, kept), ``defaults`` for flags it
    does not set, and ``threads`` host devices (replacing any count in ``current``)."""
    flags = [f for f in current.split() if "host_platform_device_count" not in f]
    named = {f.split("=", 1)[0] for f in flags}
    flags += [f for f in defaults if f.split("=", 1)[0] not in named]
    return " ".join(flags + [f"--xla_force_host_platform_device_count={threads}"])


def svibench_cache_dir() -> str:
    """Where svibench keeps small answers between jobs: ``$SVIBENCH_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/svibench``, else ``~/.cache/svibench``."""
    if os.environ.get("SVIBENCH_CACHE_DIR"):
        return os.environ["SVIBENCH_CACHE_DIR"]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "svibench")


def _jaxlib_key() -> str | None:
    """``"<version> <folder>"`` of the jaxlib that ``import jax`` would load (without
    importing it); None without one."""
    try:
        spec = importlib.util.find_spec("jaxlib")
        version = importlib.metadata.version("jaxlib")
    except (ImportError, ValueError, importlib.metadata.PackageNotFoundError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return f"{version} {os.path.realpath(list(spec.submodule_search_locations)[0])}"


_PROBE = "import jax; jax.devices()"  # XLA parses XLA_FLAGS when its first client starts


def _probe_xla_flags(flags) -> dict:
    """``{flag: known}`` for ``flags`` by starting JAX's CPU client in a fresh interpreter
    with them (XLA aborts naming a flag it does not know). A flag left out of the answer
    could not be told (the probe failed for another reason)."""
    env = {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", "JAX_PLATFORMS")}
    env["JAX_PLATFORMS"] = "cpu"
    left, known = list(flags), {}
    while left:
        env["XLA_FLAGS"] = " ".join(left)
        try:
            out = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True,
                                 text=True, timeout=300, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.SubprocessError):
            return known
        if out.returncode == 0:
            return known | {f: True for f in left}
        # XLA's message names the flag: "Unknown flag in XLA_FLAGS: --xla_..."
        unknown = [f for f in left if f.split("=", 1)[0] in out.stderr]
        if not unknown:
            return known
        known |= {f: False for f in unknown}
        left = [f for f in left if f not in unknown]
    return known


def known_xla_flags(flags, cache_file: str | None = None) -> tuple:
    """Those of ``flags`` (``--name=value``) the installed jaxlib knows; each one dropped
    is logged in one line. Checked once per jaxlib (version and folder) by
    ``_probe_xla_flags`` (~1 s); the answer is kept as JSON in ``cache_file`` (default:
    ``xla_flags.json`` in ``svibench_cache_dir()``). A flag that could not be checked
    is not passed (and not cached: the next job checks again)."""
    flags = tuple(flags)
    if not flags:
        return flags
    key = _jaxlib_key()
    if key is None:
        return flags  # no jaxlib: importing jax fails anyway, with its own message
    path = cache_file or os.path.join(svibench_cache_dir(), "xla_flags.json")
    try:
        with open(path) as f:
            cache = json.load(f)
        if not isinstance(cache, dict):
            cache = {}
    except (OSError, ValueError):
        cache = {}
    seen = cache.get(key) if isinstance(cache.get(key), dict) else {}
    todo = [f for f in flags if not isinstance(seen.get(f), bool)]
    if todo:
        found = _probe_xla_flags(todo)
        if found:
            seen = {**seen, **found}
            cache[key] = seen
            try:  # written whole (rename), so a job running alongside reads old or new
                os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)),
                                           prefix=".xla_flags.")
                with os.fdopen(fd, "w") as f:
                    json.dump(cache, f, indent=1, sort_keys=True)
                os.replace(tmp, path)
            except OSError as err:
                logging.getLogger("svibench").info("could not cache the XLA flags check in %s: %s",
                                                   path, err)
    jaxlib = key.split(" ", 1)[0]
    for f in flags:
        if seen.get(f) is False:
            logging.getLogger("svibench").warning(
                "XLA flag %s not passed: jaxlib %s does not know it", f, jaxlib)
        elif f not in seen:
            logging.getLogger("svibench").warning(
                "XLA flag %s not passed: could not check that jaxlib %s knows it", f, jaxlib)
    return tuple(f for f in flags if seen.get(f) is True)


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


def end_job():
    """End a job whose outputs are written: flush its log and exit at once. Native
    libraries' thread pools (Arrow's) can abort the interpreter's shutdown
    ("terminate called without an active exception", seen once in an evaluate job
    after its metrics were written), which would fail a finished job."""
    import logging

    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


class GPUUnavailable(RuntimeError):
    pass


def configure_jax(*, gpu: int = 0, threads: int = 1, cache_dir: str | None = None,
                  gpu_fallback: str = "error", log_file: str | None = None,
                  fast_compile: bool = False) -> str:
    """Set JAX's platform, host device count and cache; return the platform used.
    ``fast_compile``: on the CPU, also ``FAST_COMPILE_FLAGS`` (config ``fast_compile``)."""
    if "jax" in sys.modules:
        raise RuntimeError("configure_jax must run before jax is imported")
    relax_gc()  # before the imports below
    if log_file:
        setup_logging(log_file)
    threads = max(int(threads or 1), 1)
    current = os.environ.get("XLA_FLAGS", "")
    named = {f.split("=", 1)[0] for f in current.split()}
    # A GPU job that may fall back to the CPU compiles as a CPU job, so that its draws
    # are the CPU run's bit for bit (the flags must be set before JAX starts).
    cpu_like = not int(gpu or 0) or gpu_fallback == "cpu"
    defaults = DEFAULT_XLA_FLAGS + (FAST_COMPILE_FLAGS if fast_compile and cpu_like else ())
    ours = known_xla_flags([f for f in defaults if f.split("=", 1)[0] not in named])
    global _fast_compile_on, _legacy_emitters_on
    _fast_compile_on = any(f in ours for f in FAST_COMPILE_FLAGS)
    _legacy_emitters_on = cpu_like and LEGACY_EMITTERS_FLAG in ours  # a CPU compiler option
    os.environ["XLA_FLAGS"] = xla_flags(current, threads, ours)
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
        "JAX platform %s, %d host device(s), cache %s, XLA_FLAGS %s", platform, threads,
        cache_dir or "off", os.environ["XLA_FLAGS"])
    return platform


class _Tee:
    """A text stream writing to ``streams`` (the log first); its ``fileno`` is the log's."""

    def __init__(self, *streams):
        self.streams = streams

    def write(self, text):
        for s in self.streams:
            s.write(text)
        return len(text)

    def flush(self):
        for s in self.streams:
            s.flush()

    def fileno(self):
        return self.streams[0].fileno()

    def isatty(self):
        return False

    def __getattr__(self, name):  # encoding, errors, ...: the log's
        return getattr(self.streams[0], name)


_console = None  # the process's stderr before route_stderr: one-line messages go there too


def route_stderr(log_file: str):
    """Make ``log_file`` (emptied) the process's stderr, fd 2, so that C++ messages (XLA's,
    a fatal abort's) land in it too; return a text stream on it. ``sys.stderr`` then
    writes to the log and to the former stderr (``sys.exit("...")``'s one line shows in
    both); a crash (segfault, abort) dumps the Python stack into the log."""
    global _console
    path = os.path.abspath(log_file)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    for s in (sys.stdout, sys.stderr):
        if s is not None:
            s.flush()
    # O_APPEND: this and any child writing to the same file never overwrite each other.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)
    if _console is None:
        _console = open(os.dup(2), "w", buffering=1, encoding="utf-8", errors="backslashreplace")
    os.dup2(fd, 2)
    os.close(fd)
    log = open(2, "w", buffering=1, encoding="utf-8", errors="backslashreplace", closefd=False)
    sys.stderr = _Tee(log, _console)
    faulthandler.enable(file=log)
    return log


def _one_line(exc_type, exc) -> str:
    text = str(exc).strip().splitlines()
    return f"{exc_type.__name__}: {text[0]}" if text else exc_type.__name__


def log_uncaught(log_file: str):
    """An uncaught exception (main thread or another) goes to the log with its
    traceback; the former stderr gets one line naming it and the log."""
    def hook(exc_type, exc, tb):
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        logging.getLogger("svibench").critical("uncaught exception, the job fails",
                                               exc_info=(exc_type, exc, tb))
        if _console is not None:
            _console.write(f"svibench: {_one_line(exc_type, exc)} (traceback in {log_file})\n")
            _console.flush()

    def thread_hook(args):
        if args.exc_type is SystemExit:
            return
        hook(args.exc_type, args.exc_value, args.exc_traceback)

    sys.excepthook = hook
    threading.excepthook = thread_hook


def _log_warning(message, category, filename, lineno, file=None, line=None):
    """``warnings.showwarning`` as one log line (logging's own adds the source line)."""
    logging.getLogger("py.warnings").warning("%s:%s: %s: %s", filename, lineno,
                                             category.__name__, message)


def setup_logging(log_file: str | None = None, level=logging.INFO):
    """Send the package's log (and warnings) to ``log_file``, or to stderr without one.
    With one, also uncaught exceptions and the process's stderr (``route_stderr``,
    ``log_uncaught``)."""
    handlers = [logging.StreamHandler(sys.stderr)]
    if log_file:
        handlers = [logging.StreamHandler(route_stderr(log_file))]
        log_uncaught(log_file)
    logging.basicConfig(level=level, handlers=handlers, force=True,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.captureWarnings(True)  # (so that captureWarnings(False) restores Python's)
    warnings.showwarning = _log_warning
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
