"""Where a Snakemake run spent its time: per-job wall seconds and peak memory from the
workflow's ``benchmark:`` files (``results/benchmarks/...``: Snakemake's TSV with
``s``, ``max_rss`` in MB, ``cpu_time``, ...; one per job, rewritten when the job
reruns) and, for fits, the split recorded in ``fit.json``.

    python tests/benchmarks/studylog.py WORKDIR     # every job's last run
"""

from __future__ import annotations

import csv
import json
import math
import sys
from collections import defaultdict
from pathlib import Path

BENCHMARKS = Path("results") / "benchmarks"
# results/benchmarks/<folder>/... -> rule (fits: fit_<kind> from the fit's fit.json;
# figures: plot_<figure>, from the file name).
FOLDER_RULE = {"simulate": "simulate", "reference": "reference", "evaluate": "evaluate",
               "scaling": "scaling_summary", "report.tsv": "report"}


def _number(value: str):
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def read_benchmark(path: Path) -> dict:
    """The last row of one benchmark TSV as numbers (``-`` and NA become None)."""
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    if not rows:
        raise ValueError(f"{path}: no rows")
    return {k: _number(v) for k, v in rows[-1].items() if k != "h:m:s"}


def rule_of(rel: Path, workdir: Path) -> str:
    """The rule whose job wrote ``results/benchmarks/<rel>``."""
    head = rel.parts[0]
    if head == "fit":  # fit/{model}/{dataset}/{method}/{tag}.tsv, a batch's seeds.tsv
        if rel.stem.startswith("from-"):
            return "warm_start"
        method_dir = Path(workdir, "results", "fits", *rel.parts[1:-1])
        fits = sorted(method_dir.glob("seed*/fit.json")) if rel.stem == "seeds" else [
            method_dir / rel.stem / "fit.json"]
        try:
            return f"fit_{json.loads(fits[0].read_text())['kind']}"
        except (IndexError, OSError, ValueError, KeyError):
            return "fit"
    if head == "plot":  # plot/{model}/{dataset}/{figure}.tsv
        return "plot_warm" if rel.stem.startswith("warm-from-") else f"plot_{rel.stem}"
    return FOLDER_RULE.get(head, head)


def job_times(workdir: Path, since: float | None = None) -> list[dict]:
    """``[{rule, file, seconds, max_rss_mb, cpu_seconds, ...}]`` of every job whose
    benchmark file was written at or after ``since`` (epoch seconds; None: every job's
    last run). ``seconds`` is Snakemake's wall time of the job (``s``)."""
    root = Path(workdir) / BENCHMARKS
    out = []
    for path in sorted(root.rglob("*.tsv")):
        if since is not None and path.stat().st_mtime < since - 1:  # 1 s: mtime rounding
            continue
        rel = path.relative_to(root)
        row = read_benchmark(path)
        out.append({"rule": rule_of(rel, workdir), "file": str(rel), "seconds": row.get("s"),
                    "max_rss_mb": row.get("max_rss"), "cpu_seconds": row.get("cpu_time"),
                    "mean_load": row.get("mean_load"), "finished": path.stat().st_mtime})
    return out


def by_rule(jobs: list[dict]) -> list[dict]:
    """Per rule: jobs, total / mean / max wall seconds, and the largest max_rss (MB)."""
    acc = defaultdict(lambda: {"jobs": 0, "seconds": 0.0, "max": 0.0, "max_rss_mb": None})
    for j in jobs:
        a = acc[j["rule"]]
        s = j["seconds"] or 0.0
        a["jobs"] += 1
        a["seconds"] += s
        a["max"] = max(a["max"], s)
        if j.get("max_rss_mb") is not None:
            a["max_rss_mb"] = max(a["max_rss_mb"] or 0.0, j["max_rss_mb"])
    rows = [{"rule": r, **v, "mean": v["seconds"] / v["jobs"]} for r, v in acc.items()]
    return sorted(rows, key=lambda r: -r["seconds"])


def fit_split(workdir: Path) -> dict:
    """Sum over every fit.json under results/: seconds of compile, run and the job, by kind."""
    acc = defaultdict(lambda: defaultdict(float))
    for f in Path(workdir, "results").rglob("fit.json"):
        info = json.loads(f.read_text())
        kind = info.get("kind", "?")
        s = info.get("seconds") or {}
        a = acc[kind]
        a["fits"] += 1
        a["steps"] += info.get("steps_run") or 0
        # a batch's seeds share one compile: counted once, with its first seed
        batch = info.get("batch_seeds")
        shared = batch and (info.get("seeds") or {}).get("fit") != batch[0]
        for key in ("compile", "warmup", "sampling", "run", "total", "job"):
            if s.get(key) is not None and not (shared and key == "compile"):
                a[key] += s[key]
    return {k: dict(v) for k, v in acc.items()}


def main(argv=None):
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import _common as C

    workdir = Path((argv or sys.argv[1:])[0])
    jobs = job_times(workdir)
    C.table(by_rule(jobs), ["rule", "jobs", "seconds", "mean", "max", "max_rss_mb"],
            title=f"Job seconds by rule ({len(jobs)} jobs, benchmark files)")
    print(json.dumps(fit_split(workdir), indent=1))


if __name__ == "__main__":
    main()
