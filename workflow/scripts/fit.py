"""Rules fit_nuts and fit_svi: one fit, its own job."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # noqa: F821
from svibench.runtime import configure_jax  # noqa: E402

sm = snakemake  # noqa: F821
configure_jax(gpu=sm.resources.get("gpu", 0), threads=sm.threads, cache_dir=sm.params.cache,
              gpu_fallback=sm.params.gpu_fallback, log_file=sm.log[0])
from svibench.fitting import run_fit  # noqa: E402

run_fit(sm.wildcards.model, sm.wildcards.dataset, sm.wildcards.method, sm.input.csv,
        sm.input.meta, dict(sm.params.options), dict(sm.output.items()))
