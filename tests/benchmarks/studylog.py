"""Where a Snakemake run spent its time: per-job wall seconds from Snakemake's own log
(``.snakemake/log/*.snakemake.log``: a timestamp before each job's start and its
``Finished jobid``; 1 s resolution) and, for fits, the split recorded in ``fit.json``.

    python tests/benchmarks/studylog.py WORKDIR     # the newest log of a workflow folder
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from datetime import datetime
from pathlib import Path

STAMP = re.compile(r"^\[(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\]$")
START = re.compile(r"^(?:local)?rule (\w+):$")
JOBID = re.compile(r"^\s+jobid: (\d+)$")
FINISH = re.compile(r"^Finished jobid: (\d+) \(Rule: (\w+)\)$")


def newest_log(workdir: Path) -> Path:
    logs = sorted((Path(workdir) / ".snakemake" / "log").glob("*.snakemake.log"))
    if not logs:
        raise FileNotFoundError(f"no Snakemake log under {workdir}/.snakemake/log")
    return logs[-1]


def job_times(log: Path) -> list[dict]:
    """``[{rule, jobid, start, end, seconds}]`` of the jobs a run executed."""
    stamp, pending_rule, starts, out = None, None, {}, []
    for line in Path(log).read_text().splitlines():
        m = STAMP.match(line)
        if m:
            stamp = datetime.strptime(" ".join(m.group(1).split()), "%a %b %d %H:%M:%S %Y")
            continue
        m = START.match(line)
        if m:
            pending_rule = (m.group(1), stamp)
            continue
        m = JOBID.match(line)
        if m and pending_rule:
            starts[int(m.group(1))] = pending_rule
            pending_rule = None
            continue
        m = FINISH.match(line)
        if m:
            jobid = int(m.group(1))
            rule, begun = starts.get(jobid, (m.group(2), None))
            if begun is not None:
                out.append({"rule": rule, "jobid": jobid, "start": begun.isoformat(),
                            "end": stamp.isoformat(), "seconds": (stamp - begun).total_seconds()})
    return out


def by_rule(jobs: list[dict]) -> list[dict]:
    acc = defaultdict(lambda: {"jobs": 0, "seconds": 0.0, "max": 0.0})
    for j in jobs:
        a = acc[j["rule"]]
        a["jobs"] += 1
        a["seconds"] += j["seconds"]
        a["max"] = max(a["max"], j["seconds"])
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
        for key in ("compile", "warmup", "sampling", "run", "total", "job"):
            if s.get(key) is not None:
                a[key] += s[key]
    return {k: dict(v) for k, v in acc.items()}


def main(argv=None):
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import _common as C

    workdir = Path((argv or sys.argv[1:])[0])
    jobs = job_times(newest_log(workdir))
    C.table(by_rule(jobs), ["rule", "jobs", "seconds", "mean", "max"],
            title=f"Job seconds by rule ({len(jobs)} jobs)")
    print(json.dumps(fit_split(workdir), indent=1))


if __name__ == "__main__":
    main()
