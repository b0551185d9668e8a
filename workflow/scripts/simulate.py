"""Rule simulate: write one dataset and its truth (or import the user's CSV)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # noqa: F821
from svibench.runtime import start_job  # noqa: E402
from svibench.data import make_dataset  # noqa: E402

start_job(snakemake.log[0])  # noqa: F821
w = snakemake.wildcards  # noqa: F821
make_dataset(w.model, w.dataset, snakemake.params.settings,  # noqa: F821
             snakemake.output.csv, snakemake.output.meta)  # noqa: F821
