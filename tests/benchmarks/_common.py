"""Shared helpers of the benchmark scripts (tests/benchmarks/*.py).

Every script prints a table and writes ``results/bench/<name>.json``: the rows, the
settings, the machine (CPUs, load average and CPU counters before and after,
versions), a note where other processes used the CPUs meanwhile, and, for each
timing, every run and their median. JAX timings block on the results
(``jax.block_until_ready``) before the clock stops.

Studies run in a scratch copy of the workflow (``$SVIBENCH_BENCH_WORK`` or
``<tmp>/svibench-bench/<name>``) so that a benchmark never touches this checkout's
``results/``, ``data/`` or ``.cache/``.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
BENCH_OUT = ROOT / "results" / "bench"
PY = sys.executable


def snakemake_exe() -> str:
    """The snakemake next to this Python (the venv's), else the one on PATH."""
    local = Path(PY).with_name("snakemake")
    return str(local) if local.exists() else (shutil.which("snakemake") or "snakemake")


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def timed(fn, *args, **kwargs):
    """``(seconds, result)`` of one call; the result is blocked on when it is a JAX value."""
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    try:
        import jax

        out = jax.block_until_ready(out)
    except Exception:  # noqa: BLE001  (not JAX values, or JAX not imported)
        pass
    return time.perf_counter() - t0, out


def run_cmd(cmd, *, cwd=None, env=None, timeout=None, log=None, check=True) -> float:
    """Run a command; return its wall seconds. Output goes to ``log`` (a path) or is
    captured and shown only if the command fails."""
    full_env = {**os.environ, **(env or {})}
    t0 = time.perf_counter()
    if log:
        Path(log).parent.mkdir(parents=True, exist_ok=True)
        with open(log, "w") as fh:
            proc = subprocess.run(cmd, cwd=cwd, env=full_env, stdout=fh, stderr=subprocess.STDOUT,
                                  timeout=timeout)
    else:
        proc = subprocess.run(cmd, cwd=cwd, env=full_env, capture_output=True, text=True,
                              timeout=timeout)
    wall = time.perf_counter() - t0
    if check and proc.returncode != 0:
        tail = Path(log).read_text()[-4000:] if log else (proc.stdout or "")[-2000:] + (proc.stderr or "")[-4000:]
        raise RuntimeError(f"command failed ({proc.returncode}): {' '.join(map(str, cmd))}\n{tail}")
    return wall


def cpu_snapshot() -> dict | None:
    """CPU seconds the whole machine has been busy (``/proc/stat``: user, nice, system,
    irq, softirq; not idle, iowait or steal) and those of this process and its waited-for
    descendants (``os.times``), with the wall clock; None without ``/proc/stat``."""
    try:
        with open("/proc/stat") as fh:
            fields = [int(v) for v in fh.readline().split()[1:8]]
    except (OSError, ValueError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq = fields
    t = os.times()
    return {"wall": time.time(),
            "busy": (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK"),
            "ours": t.user + t.system + t.children_user + t.children_system}


def machine() -> dict:
    import importlib.metadata as md

    out = {"host": platform.node(), "cpus": os.cpu_count(), "python": platform.python_version(),
           "loadavg": list(os.getloadavg()), "cpu": cpu_snapshot()}
    for pkg in ("jax", "jaxlib", "numpyro", "snakemake", "optax"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = None
    return out


OTHER_CORES_LIMIT = 0.25  # cores that other processes may use on average, unnoted


def load_warning(started: dict | None = None, limit: float | None = None,
                 now: dict | None = None) -> str | None:
    """A line when other work shared the CPUs. With ``started`` (``machine()`` at the
    benchmark's start, holding a ``cpu_snapshot``): the CPU seconds the machine was
    busy since, less this process's and its children's, over the wall time: more than
    ``limit`` cores (``OTHER_CORES_LIMIT``) on average. Without it, the 1-minute load
    average against half the CPUs (which counts the benchmark's own work too)."""
    before = (started or {}).get("cpu")
    now = now or cpu_snapshot()
    if before and now and now["wall"] > before["wall"]:
        others = max(0.0, (now["busy"] - before["busy"]) - (now["ours"] - before["ours"]))
        cores = others / (now["wall"] - before["wall"])
        limit = OTHER_CORES_LIMIT if limit is None else limit
        if cores > limit:
            return (f"note: other processes used {others:.0f} CPU-seconds during the run "
                    f"({cores:.2f} cores on average): timings are noisy")
        return None
    load1 = os.getloadavg()[0]
    limit = limit if limit is not None else 0.5 * (os.cpu_count() or 1)
    if load1 > limit:
        return (f"note: load average {load1:.1f} on {os.cpu_count()} CPUs: other work is "
                "running, timings are noisy")
    return None


def save(name: str, rows: list[dict], settings: dict, started: dict, notes=()) -> Path:
    BENCH_OUT.mkdir(parents=True, exist_ok=True)
    path = BENCH_OUT / f"{name}.json"
    payload = {"benchmark": name, "date": time.strftime("%Y-%m-%d %H:%M:%S"),
               "settings": settings, "machine_start": started, "machine_end": machine(),
               "notes": [n for n in notes if n], "rows": rows}
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=2, default=str))
    tmp.replace(path)
    return path


def fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        if v == 0:
            return "0"
        if abs(v) >= 100:
            return f"{v:.0f}"
        if abs(v) >= 10:
            return f"{v:.1f}"
        if abs(v) >= 0.01:
            return f"{v:.2f}"
        return f"{v:.2g}"
    return str(v)


def table(rows: list[dict], columns: list[str], title: str | None = None) -> str:
    cells = [[fmt(r.get(c)) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    lines = []
    if title:
        lines.append(title)
    lines.append("  ".join(c.ljust(w) for c, w in zip(columns, widths)))
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in cells]
    text = "\n".join(lines)
    print(text, flush=True)
    return text


# ------------------------------------------------------------------ scratch workflows

COPY = ("Snakefile", "workflow", "config", "envs", "pyproject.toml")
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".snakemake", "results", ".cache")


def scratch_root() -> Path:
    return Path(os.environ.get("SVIBENCH_BENCH_WORK")
                or Path(tempfile.gettempdir()) / "svibench-bench")


def scratch_workflow(name: str, *, fresh: bool = True) -> Path:
    """A copy of this checkout's workflow (code, config, ``data/user``) to run studies in."""
    dest = scratch_root() / name
    if fresh and dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for item in COPY:
        src = ROOT / item
        if not src.exists():
            continue
        target = dest / item
        if target.exists():
            shutil.rmtree(target) if target.is_dir() else target.unlink()
        if src.is_dir():
            shutil.copytree(src, target, ignore=IGNORE)
        else:
            shutil.copy2(src, target)
    user = ROOT / "data" / "user"
    if user.exists() and not (dest / "data" / "user").exists():
        shutil.copytree(user, dest / "data" / "user")
    return dest


_SCONTROL = {}


def scontrol_seconds() -> float | None:
    """Seconds ``scontrol show config`` takes here (None: no SLURM client installed).

    snakemake-executor-plugin-slurm runs it when Snakemake imports its plugins, i.e.
    at the start of *every* ``snakemake`` command, local ones included. Where the
    SLURM client is installed but no controller answers (a machine that ran the
    cluster tests), it takes ~9 s to fail; without SLURM, or on a cluster, it is
    instant."""
    if "seconds" not in _SCONTROL:
        exe = shutil.which("scontrol")
        if exe is None:
            _SCONTROL["seconds"] = None
        else:
            t0 = time.perf_counter()
            subprocess.run([exe, "show", "config"], capture_output=True, timeout=30)
            _SCONTROL["seconds"] = time.perf_counter() - t0
    return _SCONTROL["seconds"]


def no_slow_scontrol_env() -> dict:
    """Environment whose PATH starts with a ``scontrol`` that fails at once (as on a
    machine without SLURM), when the real one is slow; else nothing to change."""
    sec = scontrol_seconds()
    if sec is None or sec < 1.0:
        return {}
    stub = Path(tempfile.gettempdir()) / "svibench-bench-stub"
    stub.mkdir(exist_ok=True)
    exe = stub / "scontrol"
    exe.write_text("#!/bin/sh\necho 'scontrol: stubbed by svibench benchmarks' >&2\nexit 1\n")
    exe.chmod(0o755)
    return {"PATH": f"{stub}{os.pathsep}{os.environ.get('PATH', '')}"}


def scontrol_note() -> str | None:
    sec = scontrol_seconds()
    if sec is not None and sec >= 1.0:
        return (f"note: `scontrol show config` takes {sec:.1f} s here (SLURM client, no "
                "controller); Snakemake's SLURM plugin runs it at every start. Study and "
                "figure timings stub it out (as without SLURM); the dry-run table shows both.")
    return None


def snakemake(workdir: Path, *args, cores=None, log=None, configfile=None, timeout=None,
              env=None) -> float:
    """Wall seconds of one ``snakemake`` run in ``workdir`` (a slow ``scontrol`` stubbed)."""
    cmd = [snakemake_exe(), "--cores", str(cores or os.cpu_count() or 1)]
    if configfile:
        cmd += ["--configfile", str(configfile)]
    cmd += list(args)
    return run_cmd(cmd, cwd=workdir, log=log, timeout=timeout,
                   env={**no_slow_scontrol_env(), **(env or {})})


def add_common_args(parser, repeats: int = 3):
    parser.add_argument("--quick", action="store_true",
                        help="small settings: checks the script, numbers are indicative only")
    parser.add_argument("--repeats", type=int, default=None,
                        help=f"runs per timing, the median reported (default {repeats}; 2 with --quick)")
    return parser


def repeats_of(args, default: int = 3) -> int:
    if args.repeats:
        return max(1, args.repeats)
    return 2 if args.quick else default
