"""Rule report: the self-contained HTML comparison report."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # noqa: F821
from svibench.presentation.report import report  # noqa: E402
from svibench.runtime import start_job  # noqa: E402

sm = snakemake  # noqa: F821
start_job(sm.log[0])
report(sm.params.studies, sm.params.config, sm.output[0], warm=sm.params.warm,
       evaluation=sm.params.evaluation, scaling=sm.params.scaling or None,
       cost=sm.params.cost)
