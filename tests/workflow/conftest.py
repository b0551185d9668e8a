import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]


def snakemake(workdir, *args, config=None, check=True, timeout=1500):
    """Run the project's Snakefile in ``workdir``; return the CompletedProcess."""
    cmd = SNAKEMAKE + ["-s", str(ROOT / "Snakefile"), "--directory", str(workdir),
                       "--cores", "2", "--quiet", "rules"]
    if config:
        cmd += ["--configfile", str(config)]
    cmd += list(args)
    env = dict(os.environ)
    env.pop("JAX_PLATFORMS", None)
    env.pop("XLA_FLAGS", None)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed ({proc.returncode}):\n{proc.stderr[-6000:]}")
    return proc


@pytest.fixture(scope="session")
def tiny_study(tmp_path_factory):
    """The tiny study run once end to end; yields its working directory."""
    work = tmp_path_factory.mktemp("tiny")
    shutil.copy(ROOT / "tests/workflow/tiny.yaml", work / "tiny.yaml")
    snakemake(work, config=work / "tiny.yaml")
    return work


def study_of(work, config="tiny.yaml"):
    """The study model (svibench.study) of a config file in ``work``."""
    import yaml

    from svibench.config import validate
    from svibench.study import Study

    return Study(validate(yaml.safe_load((Path(work) / config).read_text())))


def fit_dir(work, model, dataset, method, config="tiny.yaml") -> Path:
    """The folder of a method's first fit (its first seed) on a dataset."""
    run, = [r for r in study_of(work, config).primary_runs(model, dataset) if r.method == method]
    return Path(work) / run.dir
