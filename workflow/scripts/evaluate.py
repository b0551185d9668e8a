"""Rules evaluate*: score fits against their reference (metrics.json); no JAX needed.
A batch's seeds (lists of inputs and outputs) are scored one after another."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # noqa: F821
from svibench.runtime import end_job, start_job  # noqa: E402

sm = snakemake  # noqa: F821
start_job(sm.log[0])
from svibench.evaluate import evaluate_fit  # noqa: E402

i = sm.input
reference = {"draws": i.ref_draws, "json": i.ref_json, "mocks": i.ref_mocks,
             "floor": i.ref_floor}
if "labels" in sm.params.keys():
    for draws, fit, mocks, metrics, label in zip(i.draws, i.fit, i.mocks, sm.output.metrics,
                                                 sm.params.labels):
        evaluate_fit({"draws": draws, "fit": fit, "mocks": mocks}, reference, i.csv, i.meta,
                     dict(sm.params.settings), {"metrics": metrics}, dataset=label)
else:
    evaluate_fit({"draws": i.draws, "fit": i.fit, "mocks": i.mocks}, reference, i.csv, i.meta,
                 dict(sm.params.settings), {"metrics": sm.output.metrics}, dataset=sm.params.label)
end_job()
