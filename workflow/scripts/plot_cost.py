"""Rule plot_cost: accuracy against cost of every scored fit of a dataset."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # noqa: F821
from svibench.presentation import evalplots  # noqa: E402
from svibench.runtime import start_job  # noqa: E402

sm = snakemake  # noqa: F821
start_job(sm.log[0])
evalplots.cost_figure(list(sm.params.runs), sm.input.meta, sm.output[0], dict(sm.params.style),
                      thresholds=dict(sm.params.thresholds))
