"""How a job sets JAX up for the GPU it was (or was not) given, and what it logs."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from svibench.config import ConfigError, resources, validate
import svibench.runtime as runtime
from svibench.runtime import DEFAULT_XLA_FLAGS, known_xla_flags, slurm_context, xla_flags

ROOT = Path(__file__).resolve().parents[2]
MADE_UP = "--xla_cpu_no_such_flag=true"  # no XLA knows it: passing it aborts the process


@pytest.fixture(scope="session")
def flags_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("svibench-cache")


@pytest.fixture(autouse=True)
def _own_cache(flags_cache, monkeypatch):
    """The jobs these tests start keep their XLA flags check here, not in ~/.cache."""
    monkeypatch.setenv("SVIBENCH_CACHE_DIR", str(flags_cache))


def job(code: str, **env):
    """Run ``code`` in a fresh interpreter (configure_jax must precede importing JAX)."""
    e = {k: v for k, v in os.environ.items() if k not in ("JAX_PLATFORMS", "XLA_FLAGS")}
    path = [str(ROOT / "workflow")] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])
    e.update(env, PYTHONPATH=os.pathsep.join(path))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env=e)


def jax_sees_a_gpu() -> bool:
    out = job("import jax; print(any(d.platform == 'gpu' for d in jax.devices()))")
    return out.stdout.strip() == "True"


CONFIGURE = ("from svibench.runtime import configure_jax\n"
             "p = configure_jax(gpu={gpu}, threads=2, gpu_fallback='{fallback}', log_file='{log}')\n"
             "import os, jax, jax.numpy as jnp\n"
             "print(p, os.environ['JAX_PLATFORMS'], os.environ.get('XLA_PYTHON_CLIENT_PREALLOCATE'),\n"
             "      len(jax.devices('cpu')), next(iter(jnp.ones(2).devices())).platform)\n")


def test_a_job_without_gpu_is_pinned_to_the_cpu(tmp_path):
    out = job(CONFIGURE.format(gpu=0, fallback="error", log=tmp_path / "a.log"))
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["cpu", "cpu", "None", "2", "cpu"]
    assert "JAX platform cpu, 2 host device(s)" in (tmp_path / "a.log").read_text()


def test_xla_flags_keep_the_users_and_add_the_defaults_it_does_not_set():
    assert xla_flags("", 3).split() == [*DEFAULT_XLA_FLAGS, "--xla_force_host_platform_device_count=3"]
    mine = "--xla_cpu_use_fusion_emitters=true --xla_dump_to=/tmp/x"
    out = xla_flags(f"{mine} --xla_force_host_platform_device_count=8", 1).split()
    # the user's value of a default flag wins; the device count is the job's
    assert out == [*mine.split(), "--xla_force_host_platform_device_count=1"]


def test_the_default_xla_flags_are_ones_this_jaxlib_knows(tmp_path):
    """XLA aborts the process on an unknown flag: a jax bump must not kill every job."""
    out = job(CONFIGURE.format(gpu=0, fallback="error", log=tmp_path / "f.log")
              + "print(jax.jit(lambda x: x + 1)(jnp.ones(3)).sum(), os.environ['XLA_FLAGS'])\n")
    assert out.returncode == 0, out.stderr
    assert "6.0" in out.stdout and DEFAULT_XLA_FLAGS[0] in out.stdout


def test_a_flag_this_jaxlib_does_not_know_is_dropped_in_one_log_line(tmp_path, caplog):
    cache = tmp_path / "flags.json"
    with caplog.at_level(logging.INFO, logger="svibench"):
        assert known_xla_flags([*DEFAULT_XLA_FLAGS, MADE_UP], cache) == DEFAULT_XLA_FLAGS
    (msg,) = [r.getMessage() for r in caplog.records if MADE_UP in r.getMessage()]
    assert "\n" not in msg and "does not know it" in msg
    (answer,) = json.loads(cache.read_text()).values()  # one jaxlib: one answer
    assert answer == {**{f: True for f in DEFAULT_XLA_FLAGS}, MADE_UP: False}


def test_the_xla_flags_check_runs_once_per_jaxlib(tmp_path, monkeypatch):
    cache = tmp_path / "flags.json"
    assert known_xla_flags([MADE_UP, *DEFAULT_XLA_FLAGS], cache) == DEFAULT_XLA_FLAGS

    def no_probe(flags):
        raise AssertionError(f"probed {flags} again")

    monkeypatch.setattr(runtime, "_probe_xla_flags", no_probe)
    assert known_xla_flags([MADE_UP, *DEFAULT_XLA_FLAGS], cache) == DEFAULT_XLA_FLAGS
    # another jaxlib (version or folder): checked afresh; one that cannot be checked
    # is not passed, and not cached as unknown
    monkeypatch.setattr(runtime, "_jaxlib_key", lambda: "9.9.9 /elsewhere/jaxlib")
    monkeypatch.setattr(runtime, "_probe_xla_flags", lambda flags: {})
    assert known_xla_flags(DEFAULT_XLA_FLAGS, cache) == ()
    assert "9.9.9 /elsewhere/jaxlib" not in json.loads(cache.read_text())


def test_a_job_runs_when_a_default_flag_is_unknown_to_its_jaxlib(tmp_path):
    """What a jax bump that drops a default flag does: the job runs without it."""
    log = tmp_path / "u.log"
    code = ("import svibench.runtime as r\n"
            f"r.DEFAULT_XLA_FLAGS = (*r.DEFAULT_XLA_FLAGS, {MADE_UP!r})\n"
            f"r.configure_jax(threads=1, log_file={str(log)!r})\n"
            "import os, jax, jax.numpy as jnp\n"
            "print(jax.jit(lambda x: x + 1)(jnp.ones(3)).sum(), os.environ['XLA_FLAGS'])\n")
    out = job(code)
    assert out.returncode == 0, out.stderr
    assert "6.0" in out.stdout and MADE_UP not in out.stdout and DEFAULT_XLA_FLAGS[0] in out.stdout
    assert f"XLA flag {MADE_UP} not passed: jaxlib" in log.read_text()


def test_an_uncaught_exception_lands_in_the_jobs_log(tmp_path):
    log = tmp_path / "logs" / "e.log"
    code = ("from svibench.runtime import start_job\n"
            f"start_job({str(log)!r})\n"
            "import os, warnings\n"
            "warnings.warn('mind the gap')\n"
            "os.write(2, b'written to fd 2\\n')\n"
            "raise ValueError('boom')\n")
    out = job(code)
    assert out.returncode != 0
    text = log.read_text()
    assert "Traceback (most recent call last)" in text and "ValueError: boom" in text
    assert "UserWarning: mind the gap" in text and "written to fd 2" in text
    # the job's stderr: one line saying what ended it and where the traceback is
    assert out.stderr.strip() == f"svibench: ValueError: boom (traceback in {log})"


def test_xlas_own_messages_land_in_the_jobs_log(tmp_path):
    """A user's flag is passed as given; the abort XLA makes of an unknown one (C++,
    on fd 2) is in the log."""
    log = tmp_path / "x.log"
    out = job(f"from svibench.runtime import configure_jax\nconfigure_jax(log_file={str(log)!r})\n",
              XLA_FLAGS=MADE_UP)
    assert out.returncode != 0
    assert f"Unknown flag in XLA_FLAGS: {MADE_UP}" in log.read_text()
    assert "Unknown flag" not in out.stderr


def test_a_gpu_job_runs_on_the_gpu(tmp_path):
    """Only where JAX sees a GPU (checked on a lent H200; skipped in CI)."""
    if not jax_sees_a_gpu():
        pytest.skip("no GPU JAX can use on this machine")
    out = job(CONFIGURE.format(gpu=1, fallback="error", log=tmp_path / "g.log"))
    assert out.returncode == 0, out.stderr
    platform, platforms, prealloc, _, array_on = out.stdout.split()
    assert (platform, platforms, prealloc, array_on) == ("cuda", "cuda,cpu", "false", "gpu")
    assert "JAX platform cuda" in (tmp_path / "g.log").read_text()


def test_a_gpu_job_without_a_visible_gpu_fails_in_one_line(tmp_path):
    if jax_sees_a_gpu():
        pytest.skip("this machine has a GPU JAX can use")
    log = tmp_path / "b.log"
    code = ("import sys\nfrom svibench.runtime import GPUUnavailable, configure_jax\n"
            f"try:\n    configure_jax(gpu=1, gpu_fallback='error', log_file='{log}')\n"
            "except GPUUnavailable as err:\n    sys.exit(f'svibench: {err}')\n")
    out = job(code)
    assert out.returncode == 1
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("svibench: job was given 1 GPU(s) but JAX sees none")
    assert "gpu_fallback: cpu" in last and "Traceback" not in out.stderr
    assert "JAX sees none" in log.read_text()


def test_a_gpu_job_may_fall_back_to_the_cpu_when_allowed(tmp_path):
    if jax_sees_a_gpu():
        pytest.skip("this machine has a GPU JAX can use")
    out = job(CONFIGURE.format(gpu=1, fallback="cpu", log=tmp_path / "c.log"))
    assert out.returncode == 0, out.stderr
    # CUDA was asked for first, memory is not preallocated, the work runs on the CPU.
    assert out.stdout.split() == ["cpu", "cuda,cpu", "false", "2", "cpu"]
    assert "no GPU visible to JAX; falling back to CPU" in (tmp_path / "c.log").read_text()


def test_slurm_context_names_the_job_and_its_gpus():
    assert slurm_context({}) is None
    env = {"SLURM_JOB_ID": "42", "SLURMD_NODENAME": "n1", "SLURM_JOB_PARTITION": "gpu",
           "SLURM_CPUS_PER_TASK": "4", "SLURM_JOB_GPUS": "0,1"}
    assert slurm_context(env) == "SLURM job 42 on node n1, partition gpu, CPUs 4, GPUs 0,1"
    del env["SLURM_JOB_GPUS"]
    assert slurm_context(env).endswith("GPUs none")


def base_config():
    return yaml.safe_load((ROOT / "tests/workflow/tiny.yaml").read_text())


def test_resources_come_from_the_config_with_defaults():
    cfg = base_config()
    cfg["resources"] = {"default": {"mem_mb": 1500}, "fit_nuts": {"threads": 2, "gpu": 1}}
    cfg = validate(cfg)
    assert resources(cfg, "fit_nuts") == {"threads": 2, "mem_mb": 1500, "runtime": 30, "gpu": 1}
    assert resources(cfg, "plot") == {"threads": 1, "mem_mb": 1500, "runtime": 30, "gpu": 0}


def test_a_resources_entry_for_an_unknown_kind_of_job_is_refused():
    cfg = base_config()
    cfg["resources"] = {"fit_sv": {"threads": 2}}
    with pytest.raises(ConfigError, match=r"^resources\.fit_sv: unknown kind of job \(known: default, "):
        validate(cfg)


@pytest.mark.parametrize("key", ["simulate", "plot", "report"])
def test_only_the_fits_may_ask_for_a_gpu(key):
    cfg = base_config()
    cfg["resources"] = {key: {"gpu": 1}}
    with pytest.raises(ConfigError, match=rf"^resources\.{key}\.gpu: only the fits"):
        validate(cfg)
    cfg["resources"] = {key: {"gpu": 0}, "fit_svi": {"gpu": 2}}
    validate(cfg)


POOL = ("import os\n"
        "before = sorted(os.sched_getaffinity(0))\n"
        "from svibench.runtime import configure_jax\n"
        "configure_jax(threads={threads})\n"
        "import jax, jax.numpy as jnp\n"
        "jax.jit(lambda x: x @ x)(jnp.ones((64, 64))).block_until_ready()\n"
        "pool = [t for t in os.listdir('/proc/self/task')\n"
        "        if open(f'/proc/self/task/{{t}}/comm').read().startswith('tf_XLAEigen')]\n"
        "spread = {{tuple(sorted(os.sched_getaffinity(int(t)))) for t in os.listdir('/proc/self/task')}}\n"
        "print(len(pool), before == sorted(os.sched_getaffinity(0)), spread == {{tuple(before)}})\n")


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
                    reason="needs CPU affinity and 2 CPUs")
def test_a_job_gets_a_cpu_thread_pool_of_its_threads_and_keeps_every_cpu():
    """XLA's pool is sized to the job's threads (a compiled loop does not hop between
    pool threads), yet every thread of the job may still run on any of its CPUs.
    (The pool's threads are named tf_XLAEigen in the pinned jaxlib.)"""
    out = job(POOL.format(threads=1))
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["1", "True", "True"]
    n = len(os.sched_getaffinity(0))
    out = job(POOL.format(threads=n))  # as many as it has CPUs: one pool thread for each
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [str(n), "True", "True"]


GC = ("import gc\n"
      "from svibench.runtime import start_job\n"
      "start_job({log!r})\n"
      "before = gc.get_stats()[2]['collections']\n"
      "import numpyro, pandas\n"
      "print(gc.get_threshold()[2], gc.get_stats()[2]['collections'] - before)\n")


def test_a_job_imports_its_libraries_without_a_full_garbage_collection(tmp_path):
    """Importing JAX, NumPyro and pandas makes about a million long-lived objects;
    Python's default scans them all several times on the way (~0.15 s a job)."""
    out = job(GC.format(log=str(tmp_path / "a.log")))
    assert out.returncode == 0, out.stderr
    threshold, full = map(int, out.stdout.split())
    assert threshold >= 1000 and full == 0


FAST = ("from svibench.runtime import configure_jax, heavy_program_options\n"
        "import os\n"
        "configure_jax(threads=1, fast_compile={fast})\n"
        "import jax, jax.numpy as jnp\n"
        "f = jax.jit(lambda v: (jnp.tanh(v) @ v.T).sum())\n"
        "v = jnp.ones((8, 8)) / 8\n"
        "heavy = f.lower(v).compile(heavy_program_options())(v)\n"
        "print(heavy_program_options())\n"
        "print(os.environ['XLA_FLAGS'])\n"
        "print(float(f(v)), float(heavy))\n")


def test_fast_compile_sets_the_cpu_backend_optimisation_level_and_a_users_flag_wins():
    """``fast_compile`` (config key) adds ``--xla_backend_optimization_level=0`` on the
    CPU (XLA accepts it: the process compiles and runs); a level in the user's own
    XLA_FLAGS is kept instead; without ``fast_compile`` no level is set. A heavy
    program's options restore the full level only where fast_compile set level 0."""
    flag = runtime.FAST_COMPILE_FLAGS[0]
    fast = job(FAST.format(fast=True))
    assert fast.returncode == 0, fast.stderr
    options, flags, values = fast.stdout.splitlines()[-3:]
    assert flag in flags.split()
    assert options == str(runtime.FULL_OPTIMISATION)
    low, high = map(float, values.split())
    assert high == pytest.approx(low, rel=1e-6)
    full = job(FAST.format(fast=False))
    assert full.returncode == 0, full.stderr
    options, flags, values = full.stdout.splitlines()[-3:]
    assert "xla_backend_optimization_level" not in flags and options == "None"
    assert float(values.split()[0]) == pytest.approx(low, rel=1e-6)
    mine = job(FAST.format(fast=True), XLA_FLAGS="--xla_backend_optimization_level=2")
    assert mine.returncode == 0, mine.stderr
    assert mine.stdout.splitlines()[-3] == "None"
    assert "--xla_backend_optimization_level=2" in mine.stdout.split() and flag not in mine.stdout


STEP = ("from svibench.runtime import configure_jax, step_program_options\n"
        "configure_jax(threads=1, fast_compile=True)\n"
        "import jax, jax.numpy as jnp\n"
        "options = step_program_options(False, 10 ** 9)\n"
        "f = jax.jit(lambda v: (jnp.tanh(v) @ v.T).sum())\n"
        "v = jnp.ones((8, 8)) / 8\n"
        "print(options)\n"
        "print(float(f(v)), float(f.lower(v).compile(options)(v)))\n")


def test_a_big_budgets_step_program_gets_the_new_fusion_emitters_unless_the_user_chose():
    """Where the job compiles with the legacy emitters (and jaxlib knows the flag), a
    big budget's step program asks for the new ones; XLA accepts the option (the
    program compiles and computes the same); a user's own emitter flag stands."""
    ours = job(STEP)
    assert ours.returncode == 0, ours.stderr
    options, values = ours.stdout.splitlines()[-2:]
    legacy = runtime.known_xla_flags([runtime.LEGACY_EMITTERS_FLAG])
    assert options == str({**runtime.FULL_OPTIMISATION,
                           **(runtime.NEW_EMITTERS if legacy else {})})
    low, high = map(float, values.split())
    assert high == pytest.approx(low, rel=1e-6)
    mine = job(STEP, XLA_FLAGS="--xla_cpu_use_fusion_emitters=true")
    assert mine.returncode == 0, mine.stderr
    assert mine.stdout.splitlines()[-2] == str(runtime.FULL_OPTIMISATION)


def test_a_step_program_is_fully_optimised_for_heavy_steps_or_a_large_budget(monkeypatch):
    """The step program of a method with ``heavy_steps`` or of a fit whose budget
    reaches ``HEAVY_STEP_GRADIENTS`` gradient evaluations gets the full level under
    fast_compile; such a budget also the new fusion emitters under the legacy ones;
    without either nothing is passed (the process's settings stand)."""
    bar = runtime.HEAVY_STEP_GRADIENTS
    monkeypatch.setattr(runtime, "_fast_compile_on", True)
    monkeypatch.setattr(runtime, "_legacy_emitters_on", False)
    assert runtime.step_program_options(False, bar - 1) is None
    assert runtime.step_program_options(False, bar) == runtime.FULL_OPTIMISATION
    assert runtime.step_program_options(True, 1) == runtime.FULL_OPTIMISATION
    monkeypatch.setattr(runtime, "_legacy_emitters_on", True)
    assert runtime.step_program_options(False, bar) == {**runtime.FULL_OPTIMISATION,
                                                         **runtime.NEW_EMITTERS}
    assert runtime.step_program_options(True, bar - 1) == runtime.FULL_OPTIMISATION
    assert runtime.step_program_options(False, bar - 1) is None
    monkeypatch.setattr(runtime, "_fast_compile_on", False)
    assert runtime.step_program_options(True, 10 * bar) == runtime.NEW_EMITTERS
    monkeypatch.setattr(runtime, "_legacy_emitters_on", False)
    assert runtime.step_program_options(True, 10 * bar) is None
