"""Rule plot_predictive: posterior predictive checks of every method of a dataset."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # noqa: F821
from svibench.presentation import evalplots  # noqa: E402
from svibench.runtime import start_job  # noqa: E402

sm = snakemake  # noqa: F821
start_job(sm.log[0])
evalplots.predictive_figure(sm.params.fit_dirs, sm.input.ref_mocks, sm.input.csv, sm.input.meta,
                            sm.output[0], dict(sm.params.style))
