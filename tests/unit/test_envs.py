"""envs/*.yaml (for `snakemake --sdm conda`) pin what pyproject.toml pins."""

import re
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
ENVS = ("jax-cpu", "jax-cuda")
# Run by Snakemake itself, outside the jobs' environments.
NOT_IN_JOB_ENVS = {"snakemake", "snakemake-executor-plugin-slurm", "pygments"}


def pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def project_pins() -> dict:
    pins = {}
    for dep in pyproject()["dependencies"]:
        req = Requirement(dep)
        (spec,) = req.specifier
        assert spec.operator == "==", f"pyproject.toml: {dep} is not pinned with =="
        pins[canonicalize_name(req.name)] = spec.version
    return pins


def env_file(name):
    return yaml.safe_load((ROOT / f"envs/{name}.yaml").read_text())


def env_pins(name) -> dict:
    """{package: (version, extras)} of an env file's pip section."""
    deps = env_file(name)["dependencies"]
    (pip,) = [d["pip"] for d in deps if isinstance(d, dict)]
    out = {}
    for line in pip:
        req = Requirement(line)
        specs = list(req.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", f"envs/{name}.yaml: {line} is not pinned"
        key = canonicalize_name(req.name)
        assert key not in out, f"envs/{name}.yaml: {req.name} listed twice"
        out[key] = (specs[0].version, frozenset(req.extras))
    return out


@pytest.mark.parametrize("name", ENVS)
def test_env_pins_agree_with_pyproject(name):
    pins = project_pins()
    env = env_pins(name)
    for pkg, (version, _) in env.items():
        assert pkg in pins, f"envs/{name}.yaml pins {pkg}, which pyproject.toml does not list"
        assert version == pins[pkg], f"envs/{name}.yaml: {pkg}=={version}, pyproject.toml: {pins[pkg]}"
    missing = set(pins) - set(env) - NOT_IN_JOB_ENVS
    assert not missing, f"envs/{name}.yaml lacks {sorted(missing)} (pinned in pyproject.toml)"


@pytest.mark.parametrize("name", ENVS)
def test_env_python_satisfies_requires_python(name):
    deps = env_file(name)["dependencies"]
    (python,) = [d for d in deps if isinstance(d, str) and re.match(r"python[=<> ]", d)]
    version = re.search(r"(\d+\.\d+)", python).group(1)
    assert version in SpecifierSet(pyproject()["requires-python"]), python
    assert "pip" in deps


def test_cuda_env_is_the_cpu_env_plus_the_cuda_build_of_jax():
    cpu, cuda = env_pins("jax-cpu"), env_pins("jax-cuda")
    assert cpu.keys() == cuda.keys()
    assert cuda["jax"] == (cpu["jax"][0], frozenset({"cuda12"}))
    assert cpu["jax"][1] == frozenset()
    assert {k: v for k, v in cpu.items() if k != "jax"} == {k: v for k, v in cuda.items() if k != "jax"}
    assert env_file("jax-cpu")["dependencies"][:2] == env_file("jax-cuda")["dependencies"][:2]


def test_the_check_can_fail(tmp_path, monkeypatch):
    """A drifted pin is caught (the comparison is not vacuous)."""
    text = (ROOT / "envs/jax-cpu.yaml").read_text()
    drifted = text.replace("numpyro==0.22.0", "numpyro==0.21.0")
    assert drifted != text
    (tmp_path / "envs").mkdir()
    (tmp_path / "envs/jax-cpu.yaml").write_text(drifted)
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    with pytest.raises(AssertionError, match="numpyro==0.21.0"):
        test_env_pins_agree_with_pyproject("jax-cpu")
