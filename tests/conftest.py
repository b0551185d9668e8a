import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "workflow"))
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=2")


def _compile_as_cpu_jobs_do():
    """The tests' own process compiles as the study's CPU jobs do by default
    (``fast_compile``; most of a test's time is compilation). XLA reads XLA_FLAGS once,
    when JAX's first client starts: the flags are set for that moment only, so that the
    jobs and scripts the tests start see the plain environment (and their own
    ``configure_jax`` decides)."""
    from svibench.runtime import DEFAULT_XLA_FLAGS, FAST_COMPILE_FLAGS, known_xla_flags

    plain = os.environ["XLA_FLAGS"]
    named = {f.split("=", 1)[0] for f in plain.split()}
    ours = known_xla_flags([f for f in DEFAULT_XLA_FLAGS + FAST_COMPILE_FLAGS
                            if f.split("=", 1)[0] not in named])
    os.environ["XLA_FLAGS"] = " ".join(plain.split() + list(ours))
    try:
        import jax

        jax.devices()
    finally:
        os.environ["XLA_FLAGS"] = plain


if os.environ.get("JAX_PLATFORMS") == "cpu":
    _compile_as_cpu_jobs_do()
os.environ.setdefault("PYTHONHASHSEED", "0")
