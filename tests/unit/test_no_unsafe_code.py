"""Safety: no pickle, eval or exec anywhere in the shipped code; loading never runs code.

The scan reads Python tokens (comments and strings are not code, so prose such as
"nothing is pickled" is allowed) of the package, the scripts, the rule files and the
Snakefile.
"""

import io
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Names whose mere use in code is refused.
BANNED_NAMES = {
    "pickle", "cPickle", "_pickle", "cloudpickle", "dill", "joblib", "marshal", "shelve",
    "read_pickle", "to_pickle", "eval", "exec", "__import__", "unsafe_load", "full_load",
    "UnsafeLoader", "FullLoader", "CLoader", "CUnsafeLoader", "CFullLoader",
}


def shipped_files():
    files = [ROOT / "Snakefile"]
    files += sorted((ROOT / "workflow").rglob("*.py"))
    files += sorted((ROOT / "workflow").rglob("*.smk"))
    return [f for f in files if "__pycache__" not in f.parts]


def problems(source: str) -> list[str]:
    """Unsafe constructs in ``source`` as ``'line N: what'``."""
    toks = [t for t in tokenize.generate_tokens(io.StringIO(source).readline)
            if t.type in (tokenize.NAME, tokenize.OP)]
    out = []
    for i, t in enumerate(toks):
        prev = toks[i - 1].string if i else ""
        prev2 = toks[i - 2].string if i > 1 else ""
        nxt = toks[i + 1].string if i + 1 < len(toks) else ""
        nxt2 = toks[i + 2].string if i + 2 < len(toks) else ""
        where = f"line {t.start[0]}"
        if t.type != tokenize.NAME:
            continue
        if t.string in BANNED_NAMES:
            out.append(f"{where}: {t.string}")
        elif t.string == "allow_pickle" and nxt == "=" and nxt2 != "False":
            out.append(f"{where}: allow_pickle={nxt2}")
        elif t.string == "Loader" and prev == "." and prev2 == "yaml":
            out.append(f"{where}: yaml.Loader (constructs Python objects)")
        elif t.string in ("load", "load_all") and prev == "." and prev2 == "yaml":
            # Allowed only with an explicit Loader= (the unsafe ones are banned above).
            depth, j, has_loader = 0, i + 1, False
            while j < len(toks):
                depth += {"(": 1, ")": -1}.get(toks[j].string, 0)
                if toks[j].string == "Loader" and j + 1 < len(toks) and toks[j + 1].string == "=":
                    has_loader = True
                if depth == 0:
                    break
                j += 1
            if not has_loader:
                out.append(f"{where}: yaml.{t.string} without Loader= (use yaml.safe_load)")
        elif t.string == "compile" and prev != "." and nxt == "(":
            out.append(f"{where}: compile(")
    return out


def test_scanner_finds_what_it_must():
    bad = ("import pickle\nx = eval('1')\nexec('y=1')\nnp.load(p, allow_pickle=True)\n"
           "yaml.load(s, Loader=yaml.Loader)\ndf = pd.read_pickle(p)\ncode = compile('1', 'f', 'eval')\n")
    found = problems(bad)
    for piece in ("pickle", "eval", "exec", "allow_pickle=True", "yaml.Loader", "read_pickle", "compile("):
        assert any(piece in p for p in found), (piece, found)
    ok = ('"""Nothing is pickled; never eval."""\n# pickle is banned\nnp.load(p, allow_pickle=False)\n'
          "yaml.safe_load(s)\nrunner = jax.jit(f).lower(x).compile()\nmy_evaluate(x)\n"
          "yaml.load(t, Loader=getattr(yaml, 'CSafeLoader', yaml.SafeLoader))\n")
    assert problems("yaml.load(s)\n") and problems("yaml.load(s, Loader=yaml.CLoader)\n")
    assert problems(ok) == []


@pytest.mark.parametrize("path", shipped_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_pickle_eval_or_exec_in_shipped_code(path):
    assert problems(path.read_text()) == [], path


def test_the_scan_covers_the_package_scripts_and_rules():
    names = {str(p.relative_to(ROOT)) for p in shipped_files()}
    assert {"Snakefile", "workflow/svibench/io.py", "workflow/scripts/fit.py",
            "workflow/rules/fit.smk", "workflow/svibench/usercsv.py"} <= names
