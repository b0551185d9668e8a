"""Robustness end to end: your own data, a diverged fit, safe loading of every
results file, determinism, and a study killed (SIGKILL) at several points."""

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import time
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import ROOT, SNAKEMAKE, fit_dir, snakemake, study_of

pytestmark = pytest.mark.workflow


def sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def hashes(work, pattern="results/fits/**/draws.parquet") -> dict:
    return {str(p.relative_to(work)): sha(p) for p in sorted(Path(work).glob(pattern))
            if p.is_file()}


# --------------------------------------------------------------------------------------
# The robustness study: user CSVs for linreg and hier, a fit forced to diverge.

@pytest.fixture(scope="module")
def robust_study(tmp_path_factory):
    work = tmp_path_factory.mktemp("robust")
    shutil.copy(ROOT / "tests/workflow/robust.yaml", work / "robust.yaml")
    (work / "data/user").mkdir(parents=True)
    for f in ("example_linreg.csv", "example_hier.csv"):
        shutil.copy(ROOT / "data/user" / f, work / "data/user" / f)
    snakemake(work, config=work / "robust.yaml")
    return work


class _Tables(HTMLParser):
    """Rows of the report's tables: ``[(section id, table number, row), ...]``."""

    def __init__(self):
        super().__init__()
        self.rows, self.section, self.table = [], None, 0
        self._row, self._cell = None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "h2" and "id" in attrs:
            self.section = attrs["id"]
        if tag == "table":
            self.table += 1
        if tag == "tr":
            self._row = {"class": attrs.get("class") or "", "cells": []}
        if tag in ("td", "th") and self._row is not None:
            self._cell = ""

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row["cells"].append(self._cell.strip())
            self._cell = None
        if tag == "tr" and self._row is not None:
            self.rows.append((self.section, self.table, self._row))
            self._row = None


def report_tables(work, section):
    """Tables of one section of the report, each ``{row label: (class, {column: cell})}``
    keyed by the row's `method` cell (or its first cell)."""
    p = _Tables()
    p.feed((work / "results/report/index.html").read_text())
    tables = {}
    for sec, table, row in p.rows:
        if sec == section:
            tables.setdefault(table, []).append(row)
    out = []
    for rows in tables.values():
        header = rows[0]["cells"]
        key = header.index("method") if "method" in header else 0
        out.append({r["cells"][key] or r["cells"][0]: (r["class"], dict(zip(header, r["cells"])))
                    for r in rows[1:]})
    return out


def test_user_csv_flows_through_every_fit_figure_and_the_report(robust_study):
    w = robust_study
    cfg = yaml.safe_load((w / "robust.yaml").read_text())
    for model, n_groups in (("linreg", None), ("hier", 4)):
        meta = json.loads((w / f"data/{model}/mine.json").read_text())
        src = w / cfg["models"][model]["datasets"]["mine"]["csv"]
        assert meta["truth"] == {} and meta["source"] == "csv"
        assert meta["sha256"] == sha(src)
        data = pd.read_csv(w / f"data/{model}/mine.csv", float_precision="round_trip")
        user = pd.read_csv(src, float_precision="round_trip")
        assert len(data) == len(user) == meta["rows"]
        np.testing.assert_array_equal(data["y"].to_numpy(), user["y"].to_numpy())
        if n_groups:
            assert meta["group_labels"] == [3, 7, 12, 40]
            # group j of the data is the j-th smallest user label
            np.testing.assert_array_equal(
                np.asarray(meta["group_labels"])[data["group"].to_numpy()], user["group"].to_numpy())
        for method in cfg["models"][model]["methods"]:
            d = fit_dir(w, model, "mine", method, "robust.yaml")
            fit = json.loads((d / "fit.json").read_text())
            assert fit["status"] == "ok", (model, method)
            draws = pd.read_parquet(d / "draws.parquet")
            assert len(draws) == cfg["draws"] and np.isfinite(draws.to_numpy()).all()
            if n_groups:
                assert {f"m[{j}]" for j in range(n_groups)} <= set(draws.columns)
                assert f"m[{n_groups}]" not in draws.columns
        for fig in ("corner", "loss") + (("groups",) if n_groups else ()):
            assert (w / f"results/figures/{model}/mine/{fig}.png").stat().st_size > 1000
        truth = [t["truth"][1] for t in report_tables(w, f"{model}-mine") if "truth" in t]
        assert len(truth) == 1
        latents = [c for c in truth[0] if c in ("theta", "b_perp", "m_mu", "c_sig")]
        assert latents and all(truth[0][c] == "unknown" for c in latents), truth
    html = (w / "results/report/index.html").read_text()
    assert "Your data: data/user/example_hier.csv (48 rows, groups 3, 7, 12, 40 shown as 0..3)" in html


def test_diverged_fit_is_stopped_kept_and_marked_and_the_study_completes(robust_study):
    w = robust_study
    cfg = yaml.safe_load((w / "robust.yaml").read_text())
    d = fit_dir(w, "coin", "small", "auto_normal", "robust.yaml")
    fit = json.loads((d / "fit.json").read_text())
    assert fit["options"]["lr"] == 1e30
    assert fit["status"] == "diverged"
    assert 1 <= fit["diverged_at"] == fit["steps_run"] < cfg["svi"]["max_steps"]
    # Missing, not zero, and not a number from the blow-up.
    assert fit["final_elbo"] is None and fit["final_loss"] is None
    trace = pd.read_parquet(d / "trace.parquet")
    assert len(trace) == fit["steps_run"] and trace["step"].tolist() == list(range(1, len(trace) + 1))
    assert np.isfinite(trace["loss"].to_numpy()[:-1]).all()
    # The last finite state is kept for inspection: finite params, draws from them.
    with np.load(d / "params.npz", allow_pickle=False) as z:
        params = {k: z[k] for k in z.files}
    assert params and all(np.isfinite(v).all() for v in params.values())
    assert abs(float(params["f_auto_loc"])) > 1e3  # it did take the absurd steps
    assert len(pd.read_parquet(d / "draws.parquet")) == cfg["draws"]
    # The healthy fit beside it is untouched; figures and report exist.
    assert json.loads((fit_dir(w, "coin", "small", "beta", "robust.yaml") / "fit.json").read_text())["status"] == "ok"
    assert (w / "results/figures/coin/small/loss.png").exists()
    tables = report_tables(w, "coin-small")
    rows = [t["auto_normal"] for t in tables if "auto_normal" in t]
    assert rows  # the diverged fit is in the report, in every table of its section
    bookkeeping = ("#", "method", "seeds", "status", "notes", "seconds", "converged at")
    for cls, cells in rows:
        assert "bad" in cls and "diverged" in cells["status"], cells
        for col, cell in cells.items():
            if col in bookkeeping or "step" in col or col.endswith(" s"):
                continue
            assert cell in ("—", ""), (col, cell)  # ELBO, every latent, every metric: missing
    assert any("non-finite" in cells.get("notes", "") for _, cells in rows)
    assert any("±" in t["beta"][1].get("f", "") for t in tables if "beta" in t)
    # Metrics, where the study computes them, are missing for the diverged fit, never 0.
    scored = [f for f in (w / "results").rglob("*.json") if f.name != "fit.json"
              and "coin" in f.parts and "auto_normal" in str(f.relative_to(w))]
    if list((w / "results").rglob("metrics.json")):  # the study scores its fits
        assert (d / "metrics.json") in scored
    for f in scored:
        rel = f.relative_to(w / "results")
        data = json.loads(f.read_text())
        for key in ("mean_err", "sd_ratio", "swd", "energy", "khat", "mode_mass"):
            for value in _find(data, key):
                assert value is None or value == [None, None], (rel, key, value)


def _find(obj, key):
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == key:
                yield v
            else:
                yield from _find(v, key)
    elif isinstance(obj, list):
        for v in obj:
            yield from _find(v, key)


def test_changed_user_csv_is_reimported_and_a_broken_one_refused(robust_study):
    w = robust_study
    src = w / "data/user/example_linreg.csv"
    original = src.read_text()
    try:
        src.write_text(original + "p99,9.5,1.0,0.2\n")
        proc = snakemake(w, "-n", config=w / "robust.yaml")
        assert re.search(r"^simulate\s+1$", proc.stdout, re.M), proc.stdout
        assert re.search(r"^fit_svi\s+1$", proc.stdout, re.M), proc.stdout
        before = {**hashes(w, "results/**/*"), **hashes(w, "data/**/*")}
        src.write_text(original + "p99,9.5,1.0,-0.2\n")
        proc = snakemake(w, config=w / "robust.yaml", check=False)
        out = (proc.stdout + proc.stderr).strip()
        assert proc.returncode != 0 and "Traceback" not in out
        assert out.splitlines() == [
            "svibench config error: models.linreg.datasets.mine.csv: data/user/example_linreg.csv: "
            "column 'yerr', row 21 (line 22): must be > 0, got '-0.2'"]
        assert {**hashes(w, "results/**/*"), **hashes(w, "data/**/*")} == {
            **before, "data/user/example_linreg.csv": sha(src)}
    finally:
        src.write_text(original)


# --------------------------------------------------------------------------------------
# Safety: every file of a results folder opens with loaders that never run code.

def _png(path):
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    from matplotlib.image import imread

    assert imread(path).ndim == 3


def _parquet(path):
    import pyarrow.parquet as pq

    table = pq.read_table(path)  # Arrow's own reader: plain columns, no Python objects
    for field in table.schema:
        assert not str(field.type).startswith(("extension", "binary")), field
    assert (table.schema.metadata or {}).get(b"pandas", b"{}").startswith(b"{")
    return table


def _npz(path):
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    assert all(a.dtype != object for a in arrays.values())
    return arrays


def _netcdf(path):
    import arviz as az

    idata = az.from_netcdf(path)  # HDF5 arrays through h5netcdf: no Python objects
    assert "posterior" in idata.groups()
    return idata


SAFE_LOADERS = {
    ".parquet": _parquet,
    ".nc": _netcdf,
    ".tsv": lambda p: pd.read_csv(p, sep="\t"),
    ".npz": _npz,
    ".json": lambda p: json.loads(Path(p).read_text()),
    ".csv": lambda p: pd.read_csv(p),
    ".png": _png,
    ".html": lambda p: Path(p).read_text(encoding="utf-8"),
    ".log": lambda p: Path(p).read_text(errors="replace"),
}


def test_every_results_file_type_loads_with_safe_loaders(tiny_study):
    files = [p for p in (tiny_study / "results").rglob("*") if p.is_file()]
    files += [p for p in (tiny_study / "data").rglob("*") if p.is_file()]
    unknown = sorted({p.suffix or p.name for p in files} - set(SAFE_LOADERS))
    assert not unknown, f"new file type(s) in results/: add a safe loader here: {unknown}"
    seen = set()
    for p in files:
        SAFE_LOADERS[p.suffix](p)
        seen.add(p.suffix)
    assert {".parquet", ".npz", ".json", ".csv", ".png", ".html", ".nc", ".tsv"} <= seen
    assert not [p for p in files if p.name.startswith(".")], "hidden (temporary) files left"


# --------------------------------------------------------------------------------------
# Determinism and interruption.

def _study_copy(tiny_study, work, **overrides):
    """The config the tiny study ran (its own copy: tests/workflow/tiny.yaml may have
    changed since) in ``work``, with its compiled programs from the tiny study's JAX
    cache (a cache hit must not change a draw) and ``overrides`` of top-level keys."""
    work.mkdir(parents=True, exist_ok=True)
    cfg = yaml.safe_load((tiny_study / "tiny.yaml").read_text())
    cfg["compilation_cache"] = str(tiny_study / cfg.get("compilation_cache", ".cache/jax"))
    cfg.update(overrides)
    (work / "tiny.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    return work / "tiny.yaml"


def test_two_clean_runs_give_byte_identical_draws(tiny_study, tmp_path):
    """A second clean run of the tiny study's fits (every fit and warm start; its
    programs from the first run's compilation cache, so a cache hit must not change a
    draw either) gives the same bytes as the first, complete run."""
    work = tmp_path / "again"
    config = _study_copy(tiny_study, work)
    fits = list(tiny_study.glob("results/fits/**/fit.json"))
    assert len(fits) >= _n_fits(config)
    # (a flag first, so that --configfile, which takes several values, ends before the targets)
    snakemake(work, "--printshellcmds", *sorted(str(p.relative_to(tiny_study)) for p in fits),
              config=config)
    for pattern in ("draws.parquet", "trace.parquet", "params.npz"):
        first = hashes(tiny_study, f"results/fits/**/{pattern}")
        assert first == hashes(work, f"results/fits/**/{pattern}"), pattern
    assert hashes(tiny_study, "data/*/*.csv") == hashes(work, "data/*/*.csv")
    # every run of the study (seeds, warm starts, scaling points), each in its own folder
    assert len(hashes(work, "results/fits/**/draws.parquet")) == len(study_of(work).runs)


def _n_fits(config) -> int:
    cfg = yaml.safe_load(Path(config).read_text())
    return sum(len(e["datasets"]) * len(e["methods"]) for e in cfg["models"].values())


def _session_pids(sid):
    """Processes of session ``sid`` as ``{pid: cmdline}``."""
    out = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()
            if int(fields[3]) == sid:
                out[int(d.name)] = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError, IndexError):
            continue
    return out


def _start(work, config, *extra):
    """Snakemake in its own session (so the whole run can be killed); ``.log`` is
    the file its output goes to."""
    cmd = SNAKEMAKE + ["-s", str(ROOT / "Snakefile"), "--directory", str(work), "--cores", "2",
                       "--quiet", "rules", "--configfile", str(config), *extra]
    env = {k: v for k, v in os.environ.items() if k not in ("JAX_PLATFORMS", "XLA_FLAGS")}
    path = work.parent / f"{work.name}-run-{time.monotonic_ns()}.out"
    with open(path, "w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
    proc.log = path
    return proc


def _wait_for(proc, condition, timeout=900, poll=0.2):
    """Poll until ``condition()``; False if the run ended first."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        if proc.poll() is not None:
            return False
        time.sleep(poll)
    raise AssertionError(f"the run neither ended nor reached its point in {timeout} s")


def _n(work, pattern):
    return len(list((work / "results").glob(pattern))) if (work / "results").exists() else 0


def _partial_outputs(work):
    """Fit folders with some outputs but no fit.json: a job killed between its writes."""
    root = work / "results/fits"
    return [d for d in root.glob("*/*/*/*") if d.is_dir() and not (d / "fit.json").exists()
            and any(d.iterdir())] if root.exists() else []


def _jobs(proc, script):
    """PIDs of the running jobs of ``proc`` whose script is ``script`` (fit.py, plot.py)."""
    return [p for p, c in _session_pids(proc.pid).items() if f".{script} " in c + " "]


def _make_run(work, config, said, condition=lambda proc: False, poll=0.2, timeout=900):
    """Start the study the way the README says (`make run`: --rerun-incomplete) and poll
    ``condition(proc)`` from its first moment (on a quick machine a kill point can pass
    within seconds); the running process once it holds, None if the study finished
    first. If Snakemake answers that the directory is locked (a hard kill left the
    lock), run `make unlock` (--unlock) and start again."""
    for _ in range(2):
        proc = _start(work, config, "--rerun-incomplete")
        if _wait_for(proc, lambda: condition(proc), timeout=timeout, poll=poll):
            return proc
        out = proc.log.read_text()
        if proc.returncode != 0 and "--unlock" in out:
            said.append(out)
            snakemake(work, "--unlock", config=config)
            continue
        assert proc.returncode == 0, out[-3000:]
        return None
    raise AssertionError("still locked after --unlock")


def _remove_fits(work, n):
    """Delete the run folders of the last ``n`` fitted methods (every seed of a batch),
    as a user deleting results would: the next run has those fits to do again."""
    done = sorted({f.parent.parent for f in (work / "results/fits").glob("*/*/*/*/fit.json")})
    for folder in done[-n:]:
        shutil.rmtree(folder)


def test_killed_study_resumes_to_byte_identical_draws(tiny_study, tmp_path):
    work = tmp_path / "killed"
    # Compiled programs from the first run's cache: quicker, and compilation is not
    # what this test is about (JAX tolerates a cache entry cut short by a kill). The
    # scaling study is left out (a study of its own, and the slowest part).
    config = _study_copy(tiny_study, work, scaling={"enabled": False})
    n_fits = lambda: _n(work, "fits/**/fit.json")  # noqa: E731
    # (what is killed, how, when): each point is reached anew in its own run.
    kill_points = [
        ("whole run, first fits running", "group", 0.2, lambda p, base: _jobs(p, "fit.py")),
        ("whole run, a fit between its output files", "group", 0.005,
         lambda p, base: set(_partial_outputs(work)) - base[1]),
        ("one fit job, as the OOM killer would", "job", 0.2, lambda p, base: _jobs(p, "fit.py")),
        ("whole run, two more fits done", "group", 0.2, lambda p, base: n_fits() >= base[0] + 2),
        ("whole run, figures being drawn", "group", 0.2, lambda p, base: _jobs(p, "plot.py")),
    ]
    killed, said, partial = [], [], []
    for label, how, poll, condition in kill_points:
        for _ in range(3):
            base = (n_fits(), set(_partial_outputs(work)))
            proc = _make_run(work, config, said, lambda p: condition(p, base), poll)
            if proc is not None:
                break
            # The study finished before this point (a quick machine, or the last kill
            # left little to do): give the next run fits to do again.
            _remove_fits(work, 2)
        else:
            raise AssertionError(f"kill point never reached: {label}")
        if how == "group":
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            for pid in _jobs(proc, "fit.py")[:1]:
                os.kill(pid, signal.SIGKILL)
        proc.wait(timeout=600)
        if how == "job" and proc.returncode == 0:
            continue  # the job had finished in the meantime: nothing was killed
        assert proc.returncode != 0, label
        killed.append(label)
        # Nothing that looks complete is half-written: every fit.json there parses and
        # sits beside its draws, which load.
        for f in (work / "results/fits").rglob("fit.json"):
            assert json.loads(f.read_text())["status"] in ("ok", "diverged")
            pd.read_parquet(f.parent / "draws.parquet")
        if _partial_outputs(work):
            # A job killed between its writes: plain Snakemake names the files as
            # incomplete and says to rerun with --rerun-incomplete (what `make run` does).
            partial.append(label)
            plain = snakemake(work, "-n", config=config, check=False)
            out = plain.stdout + plain.stderr
            # Seen in CI under heavy load: a job killed before Snakemake recorded it as
            # started leaves outputs that plain Snakemake does not flag; then it simply
            # reruns the job. When it does flag them, its message must say what to do.
            if plain.returncode != 0:
                assert "incomplete" in out and "--rerun-incomplete" in out, out
            said.append(out)
    assert len(killed) >= 4, killed
    assert any("--unlock" in m for m in said)  # a hard kill leaves Snakemake's lock
    print(f"killed at: {killed}; partial outputs after: {partial}")
    assert _make_run(work, config, said, timeout=1500) is None  # `make run`, to the end
    assert (work / "results/report/index.html").exists()
    drawn = hashes(work, "results/**/draws.parquet")
    scaling = tuple(r.dir + "/" for r in study_of(tiny_study).runs if r.role == "scaling")
    first = {k: v for k, v in hashes(tiny_study, "results/**/draws.parquet").items()
             if not k.startswith(scaling) and "/reference/hier/J" not in k}
    assert drawn == first and len(drawn) >= _n_fits(config)
    assert not [p for p in (work / "results").rglob("*.tmp")]
    again = snakemake(work, "-n", config=config)
    assert "Nothing to be done" in again.stdout + again.stderr
