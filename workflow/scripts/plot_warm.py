"""Rule plot_warm: cold and warm loss curves of one warm-start pair."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # noqa: F821
from svibench.presentation import figures  # noqa: E402
from svibench.runtime import start_job  # noqa: E402

sm = snakemake  # noqa: F821
start_job(sm.log[0])
w = sm.wildcards
figures.warm_figure(sm.params.pairs, f"{w.model}: {w.source} → {w.dataset}", sm.output[0], dict(sm.params.style))
