"""NumPyro's private API is used in one module only, which checks the NumPyro version."""

import ast
import importlib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "workflow" / "svibench"
COMPAT = PACKAGE / "engine" / "_numpyro_compat.py"
# namedtuple's documented API (NumPyro's states are namedtuples), not private names
NAMEDTUPLE_API = {"_replace", "_asdict", "_fields", "_make", "_field_defaults"}
# the one module that patches another library's private API (Snakemake's scheduler),
# and says so in its docstring; it never touches NumPyro
OTHER_LIBRARY_PATCHES = {PACKAGE / "snakemake_patches.py"}


def private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def private_uses(path: Path) -> list[str]:
    """``line: what`` for each private NumPyro import and each private attribute
    (other than the module's own ``self._x`` / ``cls._x``) in the file at ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "numpyro":
            names = node.module.split(".") + [a.name for a in node.names]
            found += [f"{node.lineno}: from {node.module} import {n}" for n in names if private(n)]
        elif isinstance(node, ast.Import):
            found += [f"{node.lineno}: import {a.name}" for a in node.names
                      if a.name.split(".")[0] == "numpyro" and any(map(private, a.name.split(".")))]
        elif isinstance(node, ast.Attribute) and private(node.attr) \
                and node.attr not in NAMEDTUPLE_API \
                and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")) \
                and not (isinstance(node.value, ast.Name) and node.value.id == "os"
                         and node.attr == "_exit"):  # the standard library's documented exit
            found.append(f"{node.lineno}: .{node.attr}")
    return found


def test_numpyro_private_names_are_used_only_in_the_compat_module():
    uses = {str(p.relative_to(PACKAGE)): private_uses(p) for p in sorted(PACKAGE.rglob("*.py"))
            if p != COMPAT and p not in OTHER_LIBRARY_PATCHES}
    uses = {p: u for p, u in uses.items() if u}
    assert not uses, f"use engine/_numpyro_compat.py for NumPyro's private API: {uses}"


def test_the_scan_sees_what_it_looks_for(tmp_path):
    src = tmp_path / "m.py"
    src.write_text("from numpyro.infer.svi import _make_loss_fn\nimport numpyro._src.x\n"
                   "from numpyro import infer\nguide._init_locs\nstate._replace(a=1)\n"
                   "self._mine\n")
    assert private_uses(src) == ["1: from numpyro.infer.svi import _make_loss_fn",
                                 "2: import numpyro._src.x", "4: ._init_locs"]
    assert private_uses(COMPAT)  # the compat module itself holds them all


def test_the_snakemake_patch_leaves_numpyro_alone():
    (patches,) = OTHER_LIBRARY_PATCHES
    nodes = list(ast.walk(ast.parse(patches.read_text())))
    imported = {a.name for n in nodes if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module or "" for n in nodes if isinstance(n, ast.ImportFrom)}
    assert not any(m.split(".")[0] in ("numpyro", "jax", "svibench") for m in imported)
    uses = private_uses(patches)
    assert uses and all(u.endswith(": ._schedule_reevalutation") for u in uses), uses


def test_the_compat_module_refuses_another_numpyro_in_one_line(monkeypatch):
    import numpyro

    from svibench.engine import _numpyro_compat as compat

    monkeypatch.setattr(numpyro, "__version__", "0.23.1")
    try:
        with pytest.raises(ImportError) as err:
            importlib.reload(compat)
    finally:
        monkeypatch.undo()
        importlib.reload(compat)
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith("svibench: engine/_numpyro_compat.py was written for numpyro 0.22.x, "
                          "found 0.23.1; ")
    for ok in ("0.22.0", "0.22.7"):
        compat.check_version(ok)
    for bad in ("0.21.0", "1.22.0", "0.2.2"):
        with pytest.raises(ImportError):
            compat.check_version(bad)
