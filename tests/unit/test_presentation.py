"""The presentation package: it only reads (never imports fitting, the engine or JAX),
its modules import one another without a circle, its colours come from one palette,
its templates ship with it, and the report renders stored results."""

import ast
import fnmatch
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from report_inputs import write_inputs

from svibench.presentation import ranking
from svibench.presentation.report import report

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "workflow/svibench/presentation"
MODULES = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")
# what re-rendering figures and the report must never load
FORBIDDEN = ("jax", "numpyro", "snakemake", "svibench.fitting", "svibench.engine",
             "svibench.methods")


def svibench_imports(path: Path) -> set[str]:
    """The svibench modules a file imports (module level or inside functions)."""
    package = ["svibench", "presentation"]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            mod = ".".join(base + ([node.module] if node.module else []))
            names = [f"{mod}.{a.name}" for a in node.names] if not node.module else [mod]
            out.update(n for n in names if n.startswith("svibench"))
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("svibench"))
    return out


def test_presentation_modules_import_each_other_without_a_circle():
    graph = {m: {i.split(".")[2] for i in svibench_imports(PACKAGE / f"{m}.py")
                 if i.startswith("svibench.presentation.")} for m in MODULES}
    done, path = set(), []

    def visit(m):
        assert m not in path, f"import circle: {' -> '.join(path[path.index(m):] + [m])}"
        if m in done:
            return
        path.append(m)
        for n in sorted(graph.get(m, ())):
            visit(n)
        path.pop()
        done.add(m)

    for m in MODULES:
        visit(m)


@pytest.mark.parametrize("module", MODULES)
def test_a_presentation_module_imports_alone_and_loads_no_fitting_code(module):
    code = (f"import sys; import svibench.presentation.{module}; "
            f"print([m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r} "
            f"or m.startswith({FORBIDDEN!r})])")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT / "workflow", check=True,
                         capture_output=True, text=True).stdout.strip()
    assert out == "[]", f"svibench.presentation.{module} loads {out}"


def test_the_figures_take_their_colours_from_the_palette():
    for name in ("plots.py", "evalplots.py", "figures.py"):
        assert not re.findall(r"#[0-9a-fA-F]{6}\b", (PACKAGE / name).read_text()), name


def test_the_templates_ship_with_the_package():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    patterns = data["package-data"]["svibench.presentation"]
    templates = sorted(p.relative_to(PACKAGE).as_posix() for p in (PACKAGE / "templates").iterdir())
    assert templates
    for t in templates:
        assert any(fnmatch.fnmatch(t, pat) for pat in patterns), f"{t} is not in package-data"


def test_the_report_renders_stored_results(tmp_path):
    kw = write_inputs(tmp_path / "in")
    out = tmp_path / "index.html"
    report(kw["studies"], kw["config"], out, warm=kw["warm"], evaluation=kw["evaluation"],
           scaling=kw["scaling"])
    page = out.read_text()
    for section in ("linreg-small", "hier-mine", "warm", "scaling", "provenance"):
        assert f'<a href="#{section}">' in page and f'id="{section}"' in page, section
    assert "{{" not in page and "{%" not in page
    # every figure inline: the study's corner plot, the predictive check, warm, scaling
    assert page.count('src="data:image/png;base64,') == 4
    # user text is escaped; the config's thresholds reach the ranking's note
    assert "normal &lt;auto&gt;" in page and "a &lt;b&gt;config&lt;/b&gt; &amp; more" in page
    assert "mean_err &gt; 0.25" in page
    # the ranking: six methods under the noise floor (its median and band over 20
    # half-splits), a seed's outlier orange with its reason
    table = page[page.index('class="ranking"'):page.index('class="note"')]
    assert table.count("<tr") == 8
    assert "20 reference half-splits" in table and "0.0125 <small>(0.0081–0.0213)</small>" in table
    assert '<td class="warn" title="seed 2: mean_err 0.9 &gt; 0.25">0.06 <small>(0.05–0.9)</small></td>' in page
    # NUTS with 242 divergences, R-hat 1.02 and bulk ESS 225 of 4 chains: red, with reasons
    assert '<td class="bad" title="divergences 242 (any divergence fails)">242</td>' in table
    assert '<td class="bad" title="rhat 1.02 &gt;= 1.01">1.02</td>' in table
    # ranked: nuts and normal tie (the same swd, no red mark); narrow and nuts (short) have
    # red marks; the collapsed Laplace is last but for the fit that did not finish,
    # though its swd is the lowest and nuts (short) has more red marks; k-hat is no mark
    order = re.findall(r"<tr class=\"[a-z]*\"><td[^>]*>(\d+=?)</td><td>([^<]+)</td>", table)
    assert order == [("1=", "nuts"), ("1=", "normal &lt;auto&gt;"), ("3", "narrow"),
                     ("4", "nuts (short)"), ("5", "auto_laplace"), ("6", "flow")]
    assert '<td class="bad">ok <span title="sd_ratio 0 &lt; 0.8 (collapsed)">collapsed</span></td>' in table
    assert '<td class="diag" title="khat 0.9 &gt; 0.7 (4000 particles): threshold' in table
    # posterior summaries: a diverged fit shows no estimates; an unknown truth says so
    assert '<tr class="bad"><td>flow</td><td><span class="bad">diverged</span></td>' in page
    assert "<td>unknown</td>" in page and "; truth unknown." in page
    # warm start: 1000 steps cold, 250 warm
    assert "<td>1000</td><td>250</td><td>0.25</td>" in page
    # scaling: the inaccurate guide's mean_err and sd_ratio are red
    assert '<span class="bad">0.35</span>' in page and '<span class="bad">0.5–1.1</span>' in page


def test_scaling_rows_are_judged_by_the_thresholds_of_the_summary():
    summary = {"thresholds": {"mean_err": 0.5, "sd_ratio": [0.4, 2.0], "khat": 0.7},
               "rows": [{"mean_err": 0.35, "sd_ratio_min": 0.5, "sd_ratio_max": 1.1},
                        {"mean_err": 0.6, "sd_ratio_min": 0.3, "sd_ratio_max": 1.1},
                        {"mean_err": None, "sd_ratio_min": None, "sd_ratio_max": None}]}
    summary["rows"][0]["khat"] = {"median": 1.6, "low": 0.9, "high": 3.9, "values": []}
    assert [r.get("khat") for r in ranking.scaling_rows(summary)] == [1.6, None, None]
    assert [r["marks"] for r in ranking.scaling_rows(summary)] == [
        {"mean_err": "", "sd_ratio": ""}, {"mean_err": "bad", "sd_ratio": "bad"},
        {"mean_err": "", "sd_ratio": ""}]
