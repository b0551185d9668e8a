"""Fit rules: a batch (fit_svi, fit_pathfinder: a method's seeds on one dataset, each
seed's files in its own run folder) or one run (fit_nuts, warm_start)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # noqa: F821
from svibench.runtime import GPUUnavailable, configure_jax  # noqa: E402

sm = snakemake  # noqa: F821
try:
    configure_jax(gpu=sm.resources.get("gpu", 0), threads=sm.threads, cache_dir=sm.params.cache,
                  gpu_fallback=sm.params.gpu_fallback, log_file=sm.log[0],
                  fast_compile=sm.params.fast_compile)
except GPUUnavailable as err:
    sys.exit(f"svibench: {err}")  # one line, also in the job's log
from svibench.fitting import run_fits  # noqa: E402

inputs = dict(sm.input.items())
outputs = dict(sm.output.items())
if "runs" in sm.params.keys():
    batch = sm.params.runs
    outs = [{key: paths[i] for key, paths in outputs.items()}
            for i in range(len(batch["options"]))]
    run_fits(batch["model"], batch["dataset"], batch["method"], inputs["csv"], inputs["meta"],
             list(zip(map(dict, batch["options"]), outs)))
else:
    w = sm.wildcards
    # A warm start continues from the params named in its `init` input.
    run_fits(w.model, w.dataset, w.method, inputs["csv"], inputs["meta"],
             [(dict(sm.params.options), outputs)], init_from=inputs.get("init"))
