"""The study on a real SLURM, through the project's slurm-gpu profile.

Needs the single-node SLURM of tests/cluster/slurm.sh (root, Debian):

    apt-get install -y slurm-wlm munge
    bash tests/cluster/slurm.sh start
    python -m pytest -m cluster tests/cluster

One run of tests/cluster/cluster.yaml goes through `--executor slurm` while the same
study runs locally beside it. While the SLURM run is going, the first attempt of one
fit is killed with `scancel` once its script has started (a job lost on a cluster:
preemption, a node failure, an operator); the profile's `retries` resubmit it.
Everything SLURM knows about the run's jobs is read with `scontrol show job` while
they are alive (SLURM forgets finished jobs after MinJobAge). The profile groups the
short jobs (evaluate, plot_*): up to `group-components` of them share one submission,
so the run makes fewer submissions than it has jobs; the tests count both.
"""

import functools
import math
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.cluster

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "tests/cluster/cluster.yaml"
PROFILE = ROOT / "workflow/profiles/slurm-gpu"
# The rules slurm-gpu gives a GPU (tests/workflow/test_profiles.py checks that these
# are exactly the rules that fit a model).
_PROFILE = yaml.safe_load((PROFILE / "config.yaml").read_text())
GPU_RULES = {r for r, res in _PROFILE["set-resources"].items() if "gpu" in res}
# The short jobs the profile groups: {rule: group}, and jobs per submission of a group.
GROUPS = dict(g.split("=") for g in _PROFILE["groups"])
GROUP_SIZE = {g: int(n) for g, n in (c.split("=") for c in _PROFILE["group-components"])}
# Killed once, on its first attempt: a NUTS fit, the job that runs longest here.
VICTIM = ("fit_nuts", "coin_small_nuts_seed2", "results/logs/fit/coin/small/nuts/seed2.log")
HOW_TO_RUN = ("no SLURM here; to run the cluster tests (as root, Debian): "
              "apt-get install -y slurm-wlm munge && bash tests/cluster/slurm.sh start "
              "&& python -m pytest -m cluster tests/cluster")


@functools.cache
def slurm_up() -> bool:
    if not (shutil.which("sinfo") and shutil.which("sbatch")):
        return False
    try:
        out = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True,
                             timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and any(
        s.strip() in ("idle", "mixed", "allocated", "completing") for s in out.stdout.split())


def job_env():
    env = dict(os.environ)
    for key in ("JAX_PLATFORMS", "XLA_FLAGS", "SLURM_JOB_ID"):
        env.pop(key, None)
    return env


def snakemake_cmd(*args):
    return [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"),
            "--configfile", "cluster.yaml", *args]


def scontrol_jobs() -> dict:
    """{job id: {key: value}} of every job slurmctld still knows."""
    out = subprocess.run(["scontrol", "show", "job", "-o"], capture_output=True, text=True,
                         timeout=30).stdout
    jobs = {}
    for line in out.splitlines():
        fields = dict(re.findall(r"(\w+)=(\S*)", line))
        if "JobId" in fields:
            jobs[fields["JobId"]] = fields
    return jobs


class Watcher(threading.Thread):
    """Records every SLURM job of a run; cancels the victim's first attempt once."""

    def __init__(self, work: Path, run_name: str):
        super().__init__(daemon=True)
        self.work, self.run_name = work, run_name
        self.jobs: dict = {}
        self.cancelled = None
        self.stop = threading.Event()

    def run(self):
        rule, wildcards, log = VICTIM
        comment = f"rule_{rule}_wildcards_{wildcards}"
        while not self.stop.is_set():
            for jid, fields in scontrol_jobs().items():
                if fields.get("JobName") == self.run_name:
                    self.jobs[jid] = fields
                    if (self.cancelled is None and fields.get("Comment") == comment
                            and fields.get("JobState") == "RUNNING"
                            and f"SLURM job {jid} " in _read(self.work / log)):
                        # Its fit script has started: kill the job under it.
                        subprocess.run(["scancel", jid], check=True, timeout=30)
                        self.cancelled = jid
            self.stop.wait(0.25)


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """(slurm workdir, local workdir, slurm stderr, watcher) of the two runs."""
    if not slurm_up():
        if os.environ.get("CI"):  # .ci/run started it: not answering is a failure
            pytest.fail("CI started SLURM (tests/cluster/slurm.sh start) but `sinfo` "
                        "shows no node ready; see /var/log/slurm/")
        pytest.skip(HOW_TO_RUN)
    slurm, local = tmp_path_factory.mktemp("slurm"), tmp_path_factory.mktemp("local")
    for work in (slurm, local):
        shutil.copy(CONFIG, work / "cluster.yaml")
    t0 = time.monotonic()
    proc = subprocess.Popen(
        # The profile waits 20 s before its first status check (a real cluster's
        # pace); this small one answers at once.
        snakemake_cmd("--profile", str(PROFILE), "--slurm-init-seconds-before-status-checks", "2",
                      "--slurm-jobname-prefix", "svibenchtest"),
        cwd=slurm, env=job_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    # The SLURM run names every job after its run id, printed first.
    first, m = [], None
    for line in proc.stdout:
        first.append(line)
        m = re.search(r"SLURM run ID: (\S+)", line)
        if m:
            break
    assert m, "".join(first)[-3000:]
    watcher = Watcher(slurm, m.group(1))
    watcher.start()
    rest = []
    reader = threading.Thread(target=lambda: rest.extend(proc.stdout), daemon=True)
    reader.start()
    # The same study, locally, beside it.
    loc = subprocess.run(snakemake_cmd("--cores", "2"), cwd=local, env=job_env(),
                         capture_output=True, text=True, timeout=1200)
    try:
        proc.wait(timeout=1200)
    finally:
        if proc.poll() is None:
            proc.kill()
        reader.join(30)
        time.sleep(0.5)
        watcher.stop.set()
        watcher.join(30)
    out = "".join(first + rest)
    print(f"SLURM and local runs took {time.monotonic() - t0:.0f} s together")
    assert loc.returncode == 0, loc.stderr[-4000:]
    assert proc.returncode == 0, out[-6000:]
    for jid, fields in scontrol_jobs().items():  # the last states
        if jid in watcher.jobs:
            watcher.jobs[jid] = fields
    return slurm, local, out, watcher


def rule_of(fields) -> str:
    """The rule of a SLURM job, or `group:NAME` for a group of short jobs."""
    comment = fields["Comment"]
    assert comment.startswith("rule_"), comment
    name = comment[len("rule_"):].split("_wildcards_")[0]
    for group in GROUP_SIZE:
        if name.startswith(f"{group}_"):  # rule_{group}_{its rules, sorted}
            return f"group:{group}"
    return name


def log_rule(log: Path, slurm: Path) -> str:
    """The kind of job that wrote a log: its folder under results/logs (`plot` for
    every figure rule), `report` for the report's."""
    rel = log.relative_to(slurm / "results/logs")
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def planned_jobs(out: str) -> dict:
    """{rule: jobs} of Snakemake's job stats table (without the target rule `all`)."""
    table = out.split("Job stats:", 1)[1].split("total", 1)[0]
    jobs = {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M)}
    jobs.pop("all", None)
    return jobs


def test_every_job_went_through_sbatch(runs):
    slurm, _, out, watcher = runs
    submitted = set(re.findall(r"has been submitted with SLURM jobid (\d+)", out))
    assert submitted and submitted == set(watcher.jobs), (submitted, set(watcher.jobs))
    logs = sorted((slurm / "results/logs").rglob("*.log"))
    # One log per job (a retried job's second attempt rewrote its log), each naming
    # the SLURM job that wrote it, which completed.
    jobs = planned_jobs(out)
    assert len(logs) == sum(jobs.values()), (logs, jobs)
    by_slurm_job: dict = {}
    for log in logs:
        m = re.search(r"SLURM job (\d+) on node ", log.read_text())
        assert m, f"{log} was not written inside a SLURM job"
        assert m.group(1) in submitted
        assert watcher.jobs[m.group(1)]["JobState"] == "COMPLETED", log
        by_slurm_job.setdefault(m.group(1), []).append(log)
    # The short jobs share submissions, at most GROUP_SIZE to one; every other job
    # is a submission of its own.
    (group, size), = GROUP_SIZE.items()
    short = sum(n for rule, n in jobs.items() if GROUPS.get(rule) == group)
    assert short >= 2, jobs
    groups = math.ceil(short / size)
    for jid, its_logs in by_slurm_job.items():
        kinds = {log_rule(log, slurm) for log in its_logs}
        if rule_of(watcher.jobs[jid]) == f"group:{group}":
            assert kinds <= {"evaluate", "plot"} and 1 <= len(its_logs) <= size, its_logs
        else:
            assert len(its_logs) == 1 and not kinds & {"evaluate", "plot"}, its_logs
    assert sum(rule_of(watcher.jobs[j]) == f"group:{group}" for j in by_slurm_job) == groups
    # Submissions: one per job that is not short, one per group, one retry.
    expected = sum(jobs.values()) - short + groups + 1
    print(f"{sum(jobs.values())} jobs ({short} short) in {len(submitted)} submissions "
          f"(one retry); one per job would be {sum(jobs.values()) + 1}")
    assert len(submitted) == expected < sum(jobs.values()), (len(submitted), expected, jobs)
    assert (slurm / "results/report/index.html").stat().st_size > 0


def test_a_group_asks_for_one_job_s_cpus_and_all_its_runtime(runs):
    """A group's jobs run one after another in one CPU (short_slots), and its time
    limit is their runtimes added up (cluster.yaml: 10 minutes each)."""
    slurm, _, _, watcher = runs
    cfg = yaml.safe_load(CONFIG.read_text())["resources"]["default"]
    seen = 0
    for log in (slurm / "results/logs").rglob("*.log"):
        jid = re.search(r"SLURM job (\d+) ", log.read_text()).group(1)
        fields = watcher.jobs[jid]
        if rule_of(fields) != "group:short":
            continue
        seen += 1
        members = sum(f"SLURM job {jid} " in p.read_text()
                      for p in (slurm / "results/logs").rglob("*.log"))
        assert fields["NumCPUs"] == "1", fields
        assert fields["MinMemoryNode"] == f"{cfg['mem_mb']}M", fields
        hours, minutes = divmod(members * cfg["runtime"], 60)
        assert fields["TimeLimit"] == f"{hours:02d}:{minutes:02d}:00", (members, fields)
    assert seen >= 2


def test_fit_rules_asked_for_a_gpu_and_the_others_did_not(runs):
    slurm, _, _, watcher = runs
    rules = {}
    for jid, fields in watcher.jobs.items():
        rule = rule_of(fields)
        rules.setdefault(rule, []).append(jid)
        if rule in GPU_RULES:
            assert fields.get("TresPerJob") == "gres:gpu:1", (rule, fields)
            assert fields["Partition"] == "gpu", (rule, fields)
        else:
            assert "gpu" not in fields.get("TresPerJob", ""), (rule, fields)
            assert "gpu" not in fields.get("TRES", ""), (rule, fields)
            assert fields["Partition"] == "cpu", (rule, fields)
    assert set(rules) >= {"fit_svi", "fit_nuts", "simulate", "group:short", "report"}
    # Inside the jobs: SLURM gave each fit a GPU, JAX saw none (it is fake) and the
    # fit fell back to the CPU as the config allows; the other jobs had no GPU.
    for log in (slurm / "results/logs").rglob("*.log"):
        text = log.read_text()
        jid, gpus = re.search(r"SLURM job (\d+) .*, GPUs (\S+)", text).groups()
        if rule_of(watcher.jobs[jid]) in GPU_RULES:
            assert gpus != "none", log
            assert "no GPU visible to JAX; falling back to CPU" in text, log
        else:
            assert gpus == "none", log


def test_draws_are_identical_to_the_local_run(runs):
    slurm, local, _, _ = runs
    draws = sorted(p.relative_to(slurm) for p in (slurm / "results").rglob("draws.parquet"))
    assert len([d for d in draws if d.parts[1] == "fits"]) == 5, draws
    assert draws == sorted(p.relative_to(local) for p in (local / "results").rglob("draws.parquet"))
    for rel in draws:
        assert (slurm / rel).read_bytes() == (local / rel).read_bytes(), rel
    # The local run had no SLURM around it.
    assert "SLURM job" not in (local / VICTIM[2]).read_text()


def test_a_job_killed_on_its_first_attempt_is_retried(runs):
    slurm, _, out, watcher = runs
    rule, wildcards, log = VICTIM
    assert watcher.cancelled, f"the {rule} job finished before it could be cancelled"
    first = watcher.jobs[watcher.cancelled]
    assert first["JobState"] == "CANCELLED", first
    attempts = sorted((int(j) for j, f in watcher.jobs.items()
                       if f["Comment"] == f"rule_{rule}_wildcards_{wildcards}"))
    assert len(attempts) == 2 and attempts[0] == int(watcher.cancelled), attempts
    assert watcher.jobs[str(attempts[1])]["JobState"] == "COMPLETED"
    assert f"SLURM-job '{watcher.cancelled}' failed" in out
    # The study completed; the log is the second attempt's.
    assert f"SLURM job {attempts[1]} " in (slurm / log).read_text()
    assert (slurm / "results/fits/coin/small/nuts/seed2/fit.json").exists()
