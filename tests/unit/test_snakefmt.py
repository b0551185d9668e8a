"""The rule files are formatted as snakefmt (the Snakemake workflow catalog's style) has them."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_rule_files_are_snakefmt_clean():
    exe = shutil.which("snakefmt", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.fail("snakefmt is not installed (pip install -e '.[test]')")
    files = [str(ROOT / "Snakefile")] + sorted(str(p) for p in (ROOT / "workflow/rules").glob("*.smk"))
    proc = subprocess.run([exe, "--check", *files], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
