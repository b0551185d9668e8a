"""Rules plot_*: one figure from stored draws."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # noqa: F821
from svibench.presentation import figures  # noqa: E402
from svibench.runtime import start_job  # noqa: E402

sm = snakemake  # noqa: F821
start_job(sm.log[0])
kind, dirs, style = sm.params.kind, sm.params.fit_dirs, dict(sm.params.style)
if kind == "groups":
    figures.groups_figure(dirs, sm.input.meta, sm.input.csv, sm.output[0], style)
elif kind == "corner":
    figures.corner_figure(dirs, sm.input.meta, sm.output[0], style,
                          reference=sm.input.get("reference"))
else:
    getattr(figures, f"{kind}_figure")(dirs, sm.input.meta, sm.output[0], style)
