"""Per posterior of a finished study: the best guide's accuracy and Pathfinder's, with
their gradient evaluations, and whether Pathfinder reaches AutoMultivariateNormal's
accuracy at >= 10x fewer gradient evaluations (Zhang et al. 2022's claim).

    python tests/benchmarks/cost_summary.py config/posteriordb.yaml [WORKDIR]

Reads each fit's fit.json and metrics.json (as the report's cost table does:
``svibench.presentation.cost``); every figure is a median over a method's seeds.
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "workflow"))

from svibench.config import validate  # noqa: E402
from svibench.presentation.cost import (PATHFINDERS, load_rows, pathfinder_comparisons,  # noqa: E402
                                        thresholds_of)
from svibench.study import Study  # noqa: E402


def _median(values):
    v = [x for x in values if x is not None and math.isfinite(x)]
    return float(np.median(v)) if v else None


def _fmt(x, spec=".3g"):
    return "—" if x is None else format(x, spec)


def method_summary(rows: list[dict]) -> dict:
    """Per method: median mean_err, median sd deviation, median gradient evaluations,
    and how many of its seeds were scored."""
    out = {}
    for m in dict.fromkeys(r["method"] for r in rows):
        mine = [r for r in rows if r["method"] == m]
        out[m] = {"mean_err": _median([r["mean_err"] for r in mine]),
                  "sd_dev": _median([r["sd_dev"] for r in mine]),
                  "grads": _median([r["gradient_evaluations"] for r in mine]),
                  "scored": sum(r["mean_err"] is not None for r in mine), "seeds": len(mine)}
    return out


def main(config: str, workdir: str = ".") -> None:
    cfg = validate(yaml.safe_load(Path(config).read_text()))
    os.chdir(workdir)
    threshold = thresholds_of((cfg.get("metrics") or {}).get("thresholds"))["mean_err"]
    print(f"mean_err threshold {threshold}; sd = exp(median max|log sd_ratio|) - 1")
    print("posterior | best guide (median mean_err, sd off by, grads) | pathfinder | "
          "multipathfinder | auto_mvn | PF/auto_mvn gradient ratio to reach the threshold")
    for entry in Study(cfg).report_cost():
        rows = load_rows(entry["runs"])
        s = method_summary(rows)
        guides = {m: v for m, v in s.items() if m not in PATHFINDERS and m != "nuts"
                  and v["mean_err"] is not None}
        best = min(guides, key=lambda m: guides[m]["mean_err"]) if guides else None

        def cell(m):
            v = s.get(m)
            if v is None:
                return "—"
            sd = None if v["sd_dev"] is None else math.expm1(v["sd_dev"])
            return (f"{m} {_fmt(v['mean_err'])} / {_fmt(sd, '.0%')} / {_fmt(v['grads'], '.3g')}"
                    f" ({v['scored']}/{v['seeds']} scored)")

        ratios = []
        for c in pathfinder_comparisons(rows, threshold):
            r = c["ratio"]
            ratios.append(f"{c['method']}: " + (
                f"{r:.1f}x" if r is not None else
                f"not comparable (reached: {c['of']['reached']}/{c['of']['seeds']} vs "
                f"auto_mvn {c['against']['reached']}/{c['against']['seeds']})"))
        print(f"{entry['model']}/{entry['dataset']} | {cell(best) if best else '—'} | "
              f"{cell('pathfinder')} | {cell('multipathfinder')} | {cell('auto_mvn')} | "
              f"{'; '.join(ratios) or '—'}")


if __name__ == "__main__":
    main(*sys.argv[1:])
