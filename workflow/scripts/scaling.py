"""Rule scaling_summary: the scaling study's summary table and figure."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # noqa: F821
from svibench import scaling  # noqa: E402
from svibench.presentation import evalplots  # noqa: E402
from svibench.runtime import start_job  # noqa: E402

sm = snakemake  # noqa: F821
start_job(sm.log[0])
summary = scaling.summarise(list(sm.params.entries), sm.output.summary, dict(sm.params.thresholds))
evalplots.scaling_figure(summary, sm.output.figure, dpi=dict(sm.params.style)["dpi"])
