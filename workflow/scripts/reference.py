"""Rule reference: the reference posterior of one (model, dataset)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # noqa: F821
from svibench.runtime import configure_jax  # noqa: E402

sm = snakemake  # noqa: F821
settings = dict(sm.params.settings)
# One CPU device per chain, so the reference chains run in parallel (pmap) over the
# job's threads.
configure_jax(threads=max(int(sm.threads), int(settings.get("chains", 1))),
              cache_dir=sm.params.cache, log_file=sm.log[0], fast_compile=sm.params.fast_compile)
from svibench.reference import build_reference  # noqa: E402

w = dict(sm.wildcards.items())
build_reference(w["model"], w["dataset"], sm.input.csv, sm.input.meta, settings,
                dict(sm.output.items()))  # draws, json, mocks and (if listed) idata
