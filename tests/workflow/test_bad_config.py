"""A catalogue of malformed configs, each through the real `snakemake` (a dry run:
the config is checked when the Snakefile is read, before any job).

Every one must exit non-zero with exactly one line of output that names the key,
no Python traceback, and nothing written in results/ (or data/).
"""

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import snakemake

pytestmark = pytest.mark.workflow

ROOT = Path(__file__).resolve().parents[2]

BASE = """
svi: {max_steps: 10}
models:
  coin:
    datasets: {a: {seed: 1}}
    methods: [nuts, auto_normal]
"""

GOOD_CSV = "x,y,yerr\n-1,0.5,0.2\n0,1.1,0.2\n1,1.4,0.2\n"

# (id, config YAML, {path: contents} written beside it, text the one line must hold)
CASES = [
    ("unknown-model", """
models:
  coinn: {datasets: {a: {seed: 1}}, methods: [nuts]}
""", {}, "models.coinn: unknown model"),
    ("unknown-method", """
models:
  coin: {datasets: {a: {seed: 1}}, methods: [nuts, auto_normall]}
""", {}, "models.coin.methods[1]: unknown method 'auto_normall'"),
    ("method-not-for-model", """
models:
  linreg: {datasets: {a: {seed: 1}}, methods: [nuts, beta]}
""", {}, "models.linreg.methods[1]: method 'beta' does not apply to model linreg"),
    ("zero-steps", BASE.replace("max_steps: 10", "max_steps: 0"), {}, "svi.max_steps"),
    ("negative-steps-override", """
models:
  coin: {datasets: {a: {seed: 1}}, methods: [{auto_normal: {max_steps: -5}}]}
""", {}, "models.coin.methods.auto_normal.max_steps"),
    ("zero-lr", BASE.replace("max_steps: 10", "lr: 0"), {}, "svi.lr"),
    ("negative-lr-override", """
models:
  coin: {datasets: {a: {seed: 1}}, methods: [{beta: {lr: -0.01}}]}
""", {}, "models.coin.methods.beta.lr"),
    ("warm-start-unknown-dataset", """
models:
  linreg:
    datasets: {first: {seed: 1}}
    methods: [auto_normal]
    warm_start: [{from: first, to: second, methods: [auto_normal]}]
""", {}, "models.linreg.warm_start[0].to: unknown dataset 'second'"),
    ("dataset-neither-simulated-nor-csv", """
models:
  linreg: {datasets: {a: {n: 20}}, methods: [nuts]}
""", {}, "models.linreg.datasets.a: needs 'seed'"),
    ("dataset-empty", """
models:
  linreg: {datasets: {a: }, methods: [nuts]}
""", {}, "models.linreg.datasets.a"),
    ("steps-not-a-number", BASE.replace("max_steps: 10", "max_steps: many"), {}, "svi.max_steps"),
    ("draws-not-an-integer", "draws: 4000.5\n" + BASE, {}, "draws"),
    ("bool-not-a-string", BASE.replace("svi: {max_steps: 10}", "nuts: {dense_mass: sure}"), {}, "nuts.dense_mass"),
    ("models-a-list", "models: [coin, linreg]\n", {}, "models"),
    ("misspelt-top-level-key", BASE.replace("svi:", "svii:"), {}, "unknown key 'svii'"),
    ("misspelt-svi-key", BASE.replace("max_steps", "learning_rate"), {}, "svi: unknown key 'learning_rate'"),
    ("no-models", "svi: {max_steps: 10}\n", {}, "models: the study has no models (and the scaling study is off)"),
    ("unknown-dataset-setting", BASE.replace("{seed: 1}", "{seed: 1, tosses: 20}"), {},
     "models.coin.datasets.a: unknown setting 'tosses'"),
    ("negative-seed", BASE.replace("{seed: 1}", "{seed: -1}"), {}, "models.coin.datasets.a.seed"),
    ("setting-out-of-range", BASE.replace("{seed: 1}", "{seed: 1, n: 20, heads: 30}"), {},
     "models.coin.datasets.a.heads: must be a number in [0, 20]"),
    ("dataset-name-a-number", BASE.replace("{a: {seed: 1}}", "{1: {seed: 1}}"), {},
     "models.coin.datasets.1: dataset names may hold"),
    ("bad-dataset-name", BASE.replace("{a: {seed: 1}}", "{'my data': {seed: 1}}"), {},
     "models.coin.datasets.my data: dataset names may hold"),
    ("no-methods", BASE.replace("[nuts, auto_normal]", "[]"), {}, "models.coin.methods"),
    ("method-twice", BASE.replace("[nuts, auto_normal]", "[nuts, auto_normal, nuts]"), {},
     "models.coin.methods[2]: method 'nuts' listed twice"),
    ("zero-chains", BASE.replace("svi: {max_steps: 10}", "nuts: {chains: 0}"), {}, "nuts.chains"),
    ("bad-gpu-fallback", "gpu_fallback: maybe\n" + BASE, {}, "gpu_fallback"),
    ("zero-threads", "resources: {fit_svi: {threads: 0}}\n" + BASE, {}, "resources.fit_svi.threads"),
    ("own-model-import-error", """
models:
  mine:
    module: mine/model.py
    datasets: {a: {data: mine/data.json}}
    methods: [auto_normal]
""", {"mine/model.py": "import numpyro\nundefined_name\n", "mine/data.json": "{}"},
     "models.mine.module: mine/model.py: import failed: NameError (line 2)"),
    ("own-model-reference-column-not-a-latent", """
models:
  mine:
    module: mine/model.py
    datasets: {a: {data: mine/data.json, reference_draws: mine/draws.csv}}
    methods: [auto_normal]
""", {"mine/model.py": "import numpyro, numpyro.distributions as dist\n\n"
                       "def model(y):\n    mu = numpyro.sample('mu', dist.Normal(0, 1))\n"
                       "    numpyro.sample('y', dist.Normal(mu, 1), obs=y)\n",
      "mine/data.json": '{"y": [0.5, 1.5]}',
      "mine/draws.csv": "mu,sigma\n" + "0.1,1.0\n" * 100},
     "models.mine.datasets.a.reference_draws: mine/draws.csv: column 'sigma' is not a latent"),
    ("csv-missing-file", """
models:
  linreg: {datasets: {mine: {csv: data/user/mine.csv}}, methods: [auto_normal]}
""", {}, "models.linreg.datasets.mine.csv: data/user/mine.csv: file does not exist"),
    ("csv-misspelt-column", """
models:
  linreg: {datasets: {mine: {csv: data/user/mine.csv}}, methods: [auto_normal]}
""", {"data/user/mine.csv": GOOD_CSV.replace("yerr", "y_err")},
     "data/user/mine.csv: missing column 'yerr'"),
    ("csv-bad-yerr", """
models:
  linreg: {datasets: {mine: {csv: data/user/mine.csv}}, methods: [auto_normal]}
""", {"data/user/mine.csv": GOOD_CSV + "2,2.2,-0.2\n"},
     "data/user/mine.csv: column 'yerr', row 4 (line 5): must be > 0"),
    ("csv-bad-group", """
models:
  hier: {datasets: {mine: {csv: data/user/g.csv}}, methods: [auto_normal]}
""", {"data/user/g.csv": "group,x,y,yerr\n1,0,1,1\nB,1,2,1\n"},
     "data/user/g.csv: column 'group', row 2 (line 3): not an integer group label: 'B'"),
    ("csv-for-a-model-without-data", """
models:
  coin: {datasets: {mine: {csv: data/user/mine.csv}}, methods: [auto_normal]}
""", {"data/user/mine.csv": GOOD_CSV}, "models.coin.datasets.mine.csv: model coin takes no data file"),
]


def run_case(tmp_path, text, files):
    work = tmp_path / "work"
    work.mkdir(parents=True)
    for rel, contents in files.items():
        (work / rel).parent.mkdir(parents=True, exist_ok=True)
        (work / rel).write_text(contents)
    config = work / "study.yaml"
    config.write_text(text)
    # As a user would run it: Snakemake's own (quiet) output, dry run first.
    proc = snakemake(work, "-n", config=config, check=False, timeout=120)
    return work, proc


def assert_refused(work, proc, expected):
    out = (proc.stdout + proc.stderr).strip()
    lines = out.splitlines()
    assert proc.returncode != 0, out
    assert "Traceback" not in out, out
    assert len(lines) == 1, out
    assert lines[0].startswith("svibench config error: "), out
    assert expected in lines[0], out
    assert not (work / "results").exists()
    assert not [p for p in (work / "data").rglob("*") if "user" not in p.parts] \
        if (work / "data").exists() else True


@pytest.mark.parametrize("case_id, text, files, expected", CASES, ids=[c[0] for c in CASES])
def test_malformed_config_is_refused_in_one_line(tmp_path, case_id, text, files, expected):
    work, proc = run_case(tmp_path, text, files)
    assert_refused(work, proc, expected)


def test_catalogue_is_long_enough_and_its_base_is_valid(tmp_path):
    """Guards the catalogue itself: the base config passes, so each case fails for its reason."""
    assert len(CASES) >= 15
    work, proc = run_case(tmp_path, BASE, {})
    assert proc.returncode == 0, proc.stderr
    work2, proc2 = run_case(tmp_path / "csv", CASES[-1][1].replace("coin", "linreg"),
                            {"data/user/mine.csv": GOOD_CSV})
    assert proc2.returncode == 0, proc2.stderr
    assert not (work / "results").exists()  # a dry run writes nothing either


def test_the_real_run_refuses_too_and_writes_nothing(tmp_path):
    """Not only the dry run: a real run with a bad CSV stops before any job."""
    text, files, expected = CASES[-3][1], CASES[-3][2], CASES[-3][3]
    work = tmp_path / "work"
    work.mkdir()
    for rel, contents in files.items():
        (work / rel).parent.mkdir(parents=True, exist_ok=True)
        (work / rel).write_text(contents)
    (work / "study.yaml").write_text(text)
    proc = snakemake(work, config=work / "study.yaml", check=False, timeout=120)
    assert_refused(work, proc, expected)


# Files Snakemake itself cannot read: it parses --configfile before the Snakefile runs.
UNREADABLE = [
    ("yaml-does-not-parse", "models:\n  coin: {datasets: {a: {seed: 1}}, methods: [nuts\n",
     "line 3, column 1: YAML does not parse"),
    ("yaml-bad-indent", "models:\n  coin:\n    datasets: {a: {seed: 1}}\n   methods: [nuts]\n",
     "YAML does not parse"),
    ("yaml-tab", "models:\n\tcoin: {}\n", "line 2, column 1: YAML does not parse"),
    ("empty-file", "", "file is empty"),
    ("not-a-mapping", "- coin\n- linreg\n", "must be a mapping of keys to values, not a list"),
]


@pytest.mark.parametrize("case_id, text, expected", UNREADABLE, ids=[c[0] for c in UNREADABLE])
def test_config_that_does_not_parse(tmp_path, case_id, text, expected):
    """Snakemake's own answer: non-zero, no traceback, nothing written, though in two
    lines that name neither file nor line (its WorkflowError). `make run` runs
    svibench.precheck first, which says it in one line with file and line."""
    work, proc = run_case(tmp_path, text, {})
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "Traceback" not in out, out
    assert "WorkflowError" in out and "Config file" in out, out
    assert not (work / "results").exists() and not (work / "data").exists()

    pre = subprocess.run([sys.executable, "-m", "svibench.precheck", str(work / "study.yaml")],
                         capture_output=True, text=True, cwd=ROOT / "workflow")
    lines = (pre.stdout + pre.stderr).strip().splitlines()
    assert pre.returncode == 1 and len(lines) == 1, lines
    assert lines[0].startswith(f"svibench config error: {work / 'study.yaml'}:"), lines
    assert expected in lines[0], lines


def test_precheck_refuses_a_missing_file_and_a_repeated_key(tmp_path):
    """A missing --configfile makes Snakemake print a traceback; a key given twice is
    silently the last one in YAML. The precheck of `make run` names both in one line."""
    (tmp_path / "twice.yaml").write_text("svi: {lr: 0.1}\nmodels: {}\nsvi:\n  lr: 0.2\n")
    for name, expected in (("missing.yaml", "file does not exist"),
                           ("twice.yaml", "line 3: key 'svi' given twice (first on line 1)")):
        pre = subprocess.run([sys.executable, "-m", "svibench.precheck", str(tmp_path / name)],
                             capture_output=True, text=True, cwd=ROOT / "workflow")
        lines = (pre.stdout + pre.stderr).strip().splitlines()
        assert pre.returncode == 1 and len(lines) == 1 and expected in lines[0], lines
    ok = subprocess.run([sys.executable, "-m", "svibench.precheck", str(ROOT / "config/config.yaml"),
                         str(ROOT / "tests/workflow/tiny.yaml")], capture_output=True, text=True,
                        cwd=ROOT / "workflow")
    assert ok.returncode == 0 and not ok.stderr


def test_make_run_prechecks_the_config_before_snakemake():
    makefile = (ROOT / "Makefile").read_text()
    for target in ("run:", "figures:"):
        recipe = makefile.split(f"\n{target}", 1)[1].split("\n\n", 1)[0]
        lines = [ln.strip() for ln in recipe.splitlines() if ln.startswith("\t")]
        assert lines[0] == "@$(PRECHECK)" and "snakemake" in lines[1], (target, lines)
    assert "-m svibench.precheck" in makefile
