"""Rule floor: the noise floor's band of one reference (floor.json); no JAX needed."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # noqa: F821
from svibench.runtime import start_job  # noqa: E402

sm = snakemake  # noqa: F821
start_job(sm.log[0])
from svibench.evaluate import reference_floor  # noqa: E402

reference_floor({"draws": sm.input.draws, "json": sm.input.json}, dict(sm.params.settings),
                list(sm.params.sizes), {"floor": sm.output.floor})
