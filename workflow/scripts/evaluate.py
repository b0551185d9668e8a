"""Rule evaluate: score one fit against its reference (metrics.json); no JAX needed."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # noqa: F821
from svibench.runtime import start_job  # noqa: E402

sm = snakemake  # noqa: F821
start_job(sm.log[0])
from svibench.evaluate import evaluate_fit  # noqa: E402

i = sm.input
evaluate_fit({"draws": i.draws, "fit": i.fit, "mocks": i.mocks},
             {"draws": i.ref_draws, "json": i.ref_json, "mocks": i.ref_mocks,
              "floor": i.ref_floor},
             i.csv, i.meta, dict(sm.params.settings),
             {"metrics": sm.output.metrics}, dataset=sm.params.label)
