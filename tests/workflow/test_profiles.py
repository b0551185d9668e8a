"""Rules, profiles and conda envs as Snakemake sees them (no job runs).

`snakemake --lint` reports nothing; only the rules that fit a model ever ask for a
GPU, the slurm-gpu profile gives every one of them one, and they pick their conda env
by it (envs/jax-cuda.yaml with a GPU, envs/jax-cpu.yaml without; the other rules
always the latter). Sizes come from the config's `resources:`.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.workflow

ROOT = Path(__file__).resolve().parents[2]
GPU_RULES = {"fit_svi", "fit_nuts", "warm_start"}
# the batch rules, defined in loops (one per seed set), by the names of the usual seeds
BATCH_RULES = {"fit.smk": ("fit_svi", "fit_pathfinder"),
               "evaluate.smk": ("evaluate_svi", "evaluate_pathfinder")}
PROFILES = ROOT / "workflow/profiles"


def run(*args, cwd, check=True):
    env = dict(os.environ)
    env.pop("JAX_PLATFORMS", None)
    proc = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), *args],
                          cwd=cwd, capture_output=True, text=True, timeout=300, env=env)
    if check:
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


@pytest.fixture()
def work(tmp_path):
    shutil.copy(ROOT / "tests/workflow/tiny.yaml", tmp_path / "tiny.yaml")
    return tmp_path


def test_lint_reports_nothing():
    proc = run("--lint", "--configfile", "config/config.yaml", cwd=ROOT, check=False)
    out = proc.stdout + proc.stderr
    assert "Lints for" not in out, out[-6000:]
    assert proc.returncode == 0, out[-3000:]


def planned_jobs(work, *args):
    """[(rule, {resource: value})] of a dry run of the tiny study."""
    out = run("--configfile", "tiny.yaml", "-n", "--forceall", *args, cwd=work).stdout
    jobs = []
    # (A SLURM profile's dry run lists a group's jobs indented under "Group job".)
    for block in re.split(r"\n(?=[ ]*(?:local)?rule \w+:)", out):
        m = re.match(r"[ ]*(?:local)?rule (\w+):", block)
        if not m or m.group(1) == "all":
            continue
        res = re.search(r"\n\s+resources: (.*)", block)
        assert res, block
        jobs.append((m.group(1), dict(kv.split("=", 1) for kv in res.group(1).split(", "))))
    assert {r for r, _ in jobs} >= GPU_RULES | {"simulate", "plot_corner", "report"}
    return jobs


def gpu_capable(jobs) -> set:
    """Rules whose jobs declare a `gpu` resource (from the config's resources)."""
    return {rule for rule, res in jobs if "gpu" in res}


@pytest.mark.parametrize("config", ["tests/workflow/tiny.yaml", "config/config.yaml"])
def test_only_fit_rules_ask_for_a_gpu(work, config):
    shutil.copy(ROOT / config, work / "tiny.yaml")
    local = planned_jobs(work)
    capable = gpu_capable(local)
    # The fits may get a GPU; simulate, the figures and the report never ask.
    assert capable >= GPU_RULES, capable
    assert not {r for r in capable if r in ("simulate", "report") or r.startswith("plot")}, capable
    assert all(res["gpu"] == "0" for rule, res in local if rule in capable)
    for profile in ("slurm", "slurm-gpu"):
        gpu = profile == "slurm-gpu"
        for rule, res in planned_jobs(work, "--profile", str(PROFILES / profile)):
            if rule in capable:
                # slurm-gpu's set-resources must name every GPU-capable rule.
                assert res["gpu"] == ("1" if gpu else "0"), (profile, rule, res)
                assert res["slurm_partition"] == ("gpu" if gpu else "cpu"), (profile, rule, res)
            else:
                assert "gpu" not in res, (profile, rule, res)
                assert res["slurm_partition"] == "cpu", (profile, rule, res)


def short_rules() -> set:
    """The rules of seconds-long jobs the SLURM profiles group: scoring and figures."""
    return {r for r in rule_blocks() if r.startswith(("evaluate", "plot_"))}


@pytest.mark.parametrize("profile", ["slurm", "slurm-gpu"])
def test_slurm_profiles_group_the_short_jobs(work, profile):
    """Every evaluate and figure job goes into group `short`, at most `size` jobs to a
    submission, each taking the one slot a submission has; nothing else is grouped."""
    prof = yaml.safe_load((PROFILES / profile / "config.yaml").read_text())
    groups = dict(g.split("=") for g in prof["groups"])
    assert set(groups) == short_rules() and set(groups.values()) == {"short"}, groups
    (size,) = [int(c.split("=")[1]) for c in prof["group-components"] if c.startswith("short=")]
    assert prof["resources"] == ["short_slots=1"]
    assert prof["set-resource-scopes"] == ["short_slots=local"]
    for rule in short_rules():
        assert prof["set-resources"][rule] == {"short_slots": 1}, rule
    # The dry run: its top-level jobs are the submissions.
    out = run("--configfile", "tiny.yaml", "-n", "--forceall", "--profile",
              str(PROFILES / profile), cwd=work).stdout
    top = re.findall(r"^(?:local)?rule (\w+):", out, re.M)
    grouped = re.findall(r"^    rule (\w+):", out, re.M)
    n_groups = len(re.findall(r"Group job short ", out))
    assert grouped and set(grouped) <= short_rules(), grouped
    assert not set(top) & short_rules(), top
    # up to `size` connected components a submission; a figure that reads scores joins
    # its evaluate jobs' component (plot_cost), so fewer submissions than jobs / size
    assert 1 <= n_groups <= -(-len(grouped) // size), (n_groups, len(grouped), size)
    submissions = len([r for r in top if r != "all"]) + n_groups
    assert submissions < len(top) - 1 + len(grouped)


def test_config_resources_size_the_rules(work):
    cfg = (work / "tiny.yaml").read_text()
    assert "resources:\n  default: {threads: 1}\n" in cfg
    cfg = cfg.replace(
        "resources:\n  default: {threads: 1}\n",
        "resources:\n  default: {threads: 1, mem_mb: 1234}\n  fit_svi: {mem_mb: 3333, gpu: 1}\n"
        "  plot: {mem_mb: 1111, runtime: 7}\n  report: {runtime: 9}\n")
    (work / "tiny.yaml").write_text(cfg)
    want = {"fit_svi": ("3333", "30", "1"), "fit_nuts": ("1234", "30", "0"),
            "simulate": ("1234", "30", None), "report": ("1234", "9", None)}
    seen = set()
    for rule, res in planned_jobs(work):
        key = "plot" if rule.startswith("plot_") and rule != "plot_warm" else rule
        if key == "plot":
            assert (res["mem_mb"], res["runtime"], res.get("gpu")) == ("1111", "7", None), (rule, res)
        elif key in want:
            assert (res["mem_mb"], res["runtime"], res.get("gpu")) == want[key], (rule, res)
        seen.add(key)
    assert seen >= {"fit_svi", "fit_nuts", "simulate", "report", "plot"}


def rule_blocks() -> dict:
    """{rule name: (parent rule or None, text)} of every rule in workflow/rules/."""
    blocks = {}
    for path in sorted((ROOT / "workflow/rules").glob("*.smk")):
        text = path.read_text()
        heads = list(re.finditer(r"^(?:rule (\w+)|use rule (\w+) as (\w+)(?: with)?):", text, re.M))
        for i, m in enumerate(heads):
            body = text[m.end():heads[i + 1].start() if i + 1 < len(heads) else len(text)]
            if m.group(1):
                blocks[m.group(1)] = (None, body)
            else:
                blocks[m.group(3)] = (m.group(2), body)
        loop = re.search(r"^for .*:\n\n    rule:\n((?:(?:        .*|    \S.*)?\n)+)", text, re.M)
        if loop:  # the batch rules, one rule per seed set (workflow/rules/fit.smk)
            body = re.sub(r"^    ", "", loop.group(1), flags=re.M)
            blocks.update({name: (None, body) for name in BATCH_RULES.get(path.name, ())})
    return blocks


def declares_gpu(rule, blocks) -> bool:
    parent, body = blocks[rule]
    resources = re.search(r"^    resources:\n((?:        .*\n)+)", body, re.M)
    if resources:
        return "gpu=" in resources.group(1)
    return parent is not None and declares_gpu(parent, blocks)


def test_slurm_gpu_profile_names_every_rule_that_may_get_a_gpu():
    blocks = rule_blocks()
    assert GPU_RULES <= set(blocks), sorted(blocks)
    capable = {r for r in blocks if declares_gpu(r, blocks)}
    assert capable >= GPU_RULES
    assert not {r for r in capable if r in ("simulate", "report") or r.startswith("plot")}
    profile = yaml.safe_load((PROFILES / "slurm-gpu/config.yaml").read_text())
    gpu_jobs = {r: res for r, res in profile["set-resources"].items() if "gpu" in res}
    assert set(gpu_jobs) == capable, (
        f"missing from slurm-gpu's set-resources: {sorted(capable - set(gpu_jobs))}; "
        f"named there but asking no GPU: {sorted(set(gpu_jobs) - capable)}")
    for rule in capable:
        assert gpu_jobs[rule] == {"slurm_partition": "gpu", "gpu": 1}, rule
    # Every rule that may get a GPU picks its conda env by it; the others are CPU-only.
    for rule, (parent, body) in blocks.items():
        conda = re.search(r"^    conda:\n\s+(\S+)", body, re.M)
        if rule in capable:
            if conda is None:  # a copy (use rule) keeps its parent's
                assert parent, f"rule {rule} has no conda directive"
            else:
                assert conda.group(1) == "env_from_params", (rule, conda.group(1))
            params = re.search(r"^    params:\n((?:        .*\n)+)", body, re.M)
            assert params is None or "conda_env=jax_env" in params.group(1), rule
        elif conda:
            assert conda.group(1) == "JAX_CPU_ENV", rule


def test_profiles_are_well_formed():
    for name in ("default", "slurm", "slurm-gpu"):
        profile = yaml.safe_load((PROFILES / name / "config.yaml").read_text())
        if name == "default":
            assert "executor" not in profile
            continue
        assert profile["executor"] == "slurm"
        assert profile["slurm-status-command"] == "squeue"
        assert profile["retries"] >= 1 and profile["jobs"] >= 1
        assert profile["default-resources"] == {"slurm_partition": "cpu"}
        # Sizes come from the config, never from a profile.
        for res in [profile["default-resources"], *profile.get("set-resources", {}).values()]:
            assert not {"mem_mb", "runtime", "threads", "cpus_per_task"} & set(res), res


def test_jobs_are_prioritised_by_their_budget(work):
    """The dry run shows the priorities Snakemake schedules by (svibench.scheduling):
    every fit and reference above the jobs that read them, the longer budget higher."""
    out = run("--configfile", "tiny.yaml", "-n", "--forceall", cwd=work).stdout
    prio = {}
    for block in re.split(r"\n(?=(?:local)?rule \w+:)", out):
        m = re.match(r"(?:local)?rule (\w+):", block)
        if not m or m.group(1) == "all":
            continue
        wc = re.search(r"\n\s+wildcards: (.*)", block)
        p = re.search(r"\n\s+priority: (\d+)", block)
        prio[(m.group(1), wc.group(1) if wc else "")] = int(p.group(1)) if p else 0
    fits = {k: v for k, v in prio.items() if k[0] in ("fit_svi", "fit_nuts")}
    assert fits and min(fits.values()) >= 1, fits
    refs = {k: v for k, v in prio.items() if k[0] == "reference"}
    assert refs and min(refs.values()) >= 1, refs
    readers = {k: v for k, v in prio.items() if k[0].startswith(("evaluate", "plot", "report"))}
    assert readers and max(readers.values()) == 0, readers
    # tiny.yaml: coin's beta runs 1500 steps x 4 particles (6), auto_normal 300 x 1 (1);
    # NUTS (150 x 2 + 400) x 8 gradients (6); a NUTS reference outranks an exact one.
    beta = prio[("fit_svi", "fit=coin/small/beta")]
    normal = prio[("fit_svi", "fit=coin/small/auto_normal")]
    assert (beta, normal) == (6, 1)
    assert prio[("fit_nuts", "model=coin, dataset=small, method=nuts, tag=seed2")] == 6
    assert (prio[("reference", "model=hier, dataset=small")]
            > prio[("reference", "model=coin, dataset=small")] == 1)


@pytest.mark.parametrize("study", ["config/seed.yaml", "config/scaling.yaml"])
def test_a_study_file_stands_alone(study):
    """`--configfile X` is study X, not X merged into the default study."""
    proc = run("-n", "--configfile", study, cwd=ROOT, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
