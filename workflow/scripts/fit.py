"""Rules fit_nuts, fit_svi and fit_pathfinder: one fit, its own job."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # noqa: F821
from svibench.runtime import GPUUnavailable, configure_jax  # noqa: E402

sm = snakemake  # noqa: F821
try:
    configure_jax(gpu=sm.resources.get("gpu", 0), threads=sm.threads, cache_dir=sm.params.cache,
                  gpu_fallback=sm.params.gpu_fallback, log_file=sm.log[0])
except GPUUnavailable as err:
    sys.exit(f"svibench: {err}")  # one line, also in the job's log
from svibench.fitting import run_fit  # noqa: E402

w = sm.wildcards
inputs = dict(sm.input.items())
# A warm start continues from the params named in its `init` input.
run_fit(w.model, w.dataset, w.method, inputs["csv"], inputs["meta"],
        dict(sm.params.options), dict(sm.output.items()), init_from=inputs.get("init"))
