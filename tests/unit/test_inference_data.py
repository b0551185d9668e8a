"""posterior.nc: every fit and reference as ArviZ InferenceData, beside its Parquet
draws; the evaluate job's ESS / R-hat are ArviZ's, without JAX."""

import json
import os
import subprocess
import sys
from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd
import pytest

from svibench import io
from svibench import inference_data as ID
from svibench.data import simulate_dataset
from svibench.evaluate import evaluate_fit
from svibench.fitting import run_fit
from svibench.models import get_model
from svibench.reference import build_reference

ROOT = Path(__file__).resolve().parents[2]
NUTS = {"warmup": 100, "draws": 200, "chains": 2, "seed": 2, "target_accept": 0.8,
        "max_tree_depth": 6, "dense_mass": False, "predictive_draws": 50}
SVI = {"max_steps": 200, "lr": 0.05, "particles": 1, "chunk": 100, "seed": 3,
       "elbo": "trace", "guide": {}, "draws": 300, "predictive_draws": 50}
FILES = {"draws": "draws.parquet", "trace": "trace.parquet", "params": "params.npz",
         "fit": "fit.json", "mocks": "mocks.parquet", "idata": "posterior.nc"}


def files(d: Path) -> dict:
    return {k: d / f for k, f in FILES.items()}


@pytest.fixture(scope="module")
def hier(tmp_path_factory):
    """A small hier dataset (4 groups), a NUTS and an SVI fit of it, and its data."""
    d = tmp_path_factory.mktemp("hier")
    mod = get_model("hier")
    simulate_dataset("hier", "t", {"seed": 1, **mod.defaults, "groups": 4},
                     d / "t.csv", d / "t.json")
    nuts = run_fit("hier", "t", "nuts", d / "t.csv", d / "t.json", NUTS, files(d / "nuts"))
    svi = run_fit("hier", "t", "auto_normal", d / "t.csv", d / "t.json", SVI, files(d / "svi"))
    return d, nuts, svi


def test_a_nuts_fit_writes_its_inference_data(hier):
    d, info, _ = hier
    idata = ID.read_netcdf(d / "nuts" / "posterior.nc")
    assert set(idata.groups()) == {"posterior", "sample_stats", "posterior_predictive",
                                   "observed_data"}
    post = idata.posterior
    assert set(post.data_vars) == {"m_mu", "m_sig", "c_mu", "c_sig", "m", "c"}
    assert dict(post.sizes) == {"chain": 2, "draw": 100, "group": 4}
    assert post["m"].dims == ("chain", "draw", "group") and post["c_mu"].dims == ("chain", "draw")
    assert "created_at" not in post.attrs and post.attrs["model"] == "hier"
    assert post.attrs["method"] == "nuts"
    # the same numbers as draws.parquet, chain-major
    draws = io.read_parquet(d / "nuts" / "draws.parquet")
    np.testing.assert_array_equal(post["m"].values[1, :, 2], draws["m[2]"].to_numpy()[100:])
    np.testing.assert_array_equal(post["c_sig"].values.ravel(), draws["c_sig"].to_numpy())
    stats = idata.sample_stats
    assert {"diverging", "energy", "n_steps", "tree_depth", "step_size",
            "acceptance_rate"} <= set(stats.data_vars)
    assert stats["diverging"].shape == (2, 100)
    assert int(stats["diverging"].sum()) == info["diagnostics"]["divergences"]
    steps = stats["n_steps"].values
    assert np.all(2 ** (stats["tree_depth"].values - 1) <= steps)
    assert np.all(steps < 2 ** stats["tree_depth"].values) and stats["tree_depth"].max() <= 6
    pp, obs = idata.posterior_predictive, idata.observed_data
    assert pp["y"].dims == ("chain", "draw", "y_dim_0") and pp["y"].shape[:2] == (1, 50)
    assert obs["y"].dims == ("y_dim_0",) and obs["y"].shape == pp["y"].shape[2:]
    summary = az.summary(idata)
    assert {"m[0]", "c[3]", "c_mu"} <= set(summary.index) and summary["r_hat"].notna().all()


def test_an_svi_fit_writes_its_draws_as_one_chain(hier):
    d, _, _ = hier
    idata = az.from_netcdf(d / "svi" / "posterior.nc")
    assert "sample_stats" not in idata.groups()
    assert dict(idata.posterior.sizes) == {"chain": 1, "draw": 300, "group": 4}
    draws = io.read_parquet(d / "svi" / "draws.parquet")
    np.testing.assert_array_equal(idata.posterior["m"].values[0], draws[[f"m[{j}]" for j in range(4)]])
    assert az.summary(idata, kind="stats").shape[0] == draws.shape[1]


def test_the_same_draws_give_the_same_netcdf_bytes(hier, tmp_path):
    """No clock in the file (ArviZ's ``created_at`` is dropped): h5netcdf writes the same
    bytes for the same draws."""
    d, _, _ = hier
    idata = ID.read_netcdf(d / "nuts" / "posterior.nc")
    ID.write_netcdf(idata, tmp_path / "a.nc")
    ID.write_netcdf(ID.read_netcdf(tmp_path / "a.nc"), tmp_path / "b.nc")
    assert (tmp_path / "a.nc").read_bytes() == (tmp_path / "b.nc").read_bytes()
    run_fit("hier", "t", "auto_normal", d / "t.csv", d / "t.json", SVI, files(tmp_path / "svi"))
    assert (tmp_path / "svi" / "posterior.nc").read_bytes() == \
        (d / "svi" / "posterior.nc").read_bytes()


def test_evaluate_reports_arviz_ess_and_rhat_without_jax(hier):
    d, info, _ = hier
    ref = {"draws": d / "ref.parquet", "json": d / "ref.json", "mocks": d / "refm.parquet"}
    draws = io.read_parquet(d / "nuts" / "draws.parquet")
    io.write_parquet(ref["draws"], draws)  # a stand-in reference: ESS/R-hat are the fit's
    io.write_parquet(ref["mocks"], pd.DataFrame())
    io.write_json(ref["json"], {"kind": "nuts", "meets_standard": True, "dataset": "t",
                                "chains": 2, "diagnostics": {"min_ess_bulk": 100.0}})
    fit_files = {"draws": str(d / "nuts" / "draws.parquet"), "fit": str(d / "nuts" / "fit.json"),
                 "mocks": None}
    code = ("import json, sys; from svibench.evaluate import evaluate_fit; "
            f"m = evaluate_fit({fit_files!r}, {ref!r}, {str(d / 't.csv')!r}, "
            f"{str(d / 't.json')!r}, {{'predictive_draws': 0}}, "
            f"{{'metrics': {str(d / 'metrics.json')!r}}}); "
            "print(json.dumps({'jax': sorted(k for k in ('jax', 'numpyro') if k in sys.modules), "
            "'mcmc': m['mcmc']}))")
    code = code.replace("PosixPath(", "str(")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "workflow")}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300, env=env)
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen["jax"] == []
    idata = az.from_netcdf(d / "nuts" / "posterior.nc")
    ess_bulk = az.ess(idata, method="bulk")
    ess_tail = az.ess(idata, method="tail")
    rhat = az.rhat(idata, method="rank")
    mc = seen["mcmc"]
    assert mc["min_ess_bulk"] == pytest.approx(min(float(v.min()) for v in ess_bulk.values()), rel=1e-12)
    assert mc["min_ess_tail"] == pytest.approx(min(float(v.min()) for v in ess_tail.values()), rel=1e-12)
    assert mc["max_rhat"] == pytest.approx(max(float(v.max()) for v in rhat.values()), rel=1e-12)
    # fit.json names NumPyro's classic numbers apart from ArviZ's
    diag = info["diagnostics"]
    assert {"min_n_eff", "max_r_hat", "min_ess_bulk", "min_ess_tail", "max_rhat"} <= set(diag)
    assert diag["min_ess_bulk"] == pytest.approx(mc["min_ess_bulk"], rel=1e-12)
    assert diag["max_rhat"] == pytest.approx(mc["max_rhat"], rel=1e-12)


def test_an_exact_reference_writes_its_inference_data(tmp_path):
    simulate_dataset("coin", "t", {"seed": 1, "n": 40, "heads": 12, "p": None},
                     tmp_path / "t.csv", tmp_path / "t.json")
    out = {"draws": tmp_path / "r.parquet", "json": tmp_path / "r.json",
           "mocks": tmp_path / "m.parquet", "idata": tmp_path / "posterior.nc"}
    build_reference("coin", "t", tmp_path / "t.csv", tmp_path / "t.json",
                    {"predictive_draws": 100, "exact_draws": 2000}, out)
    idata = az.from_netcdf(out["idata"])
    assert dict(idata.posterior.sizes) == {"chain": 1, "draw": 2000}
    assert idata.posterior.attrs["method"] == "reference (exact)"
    assert idata.posterior_predictive["heads"].shape == (1, 100)
    assert idata.observed_data["heads"].values.tolist() == [12.0]  # ArviZ: at least 1-D


def test_columns_to_sites_inverts_flat_names():
    from svibench.engine.draws import flat_names

    sites = {"a": (), "m": (3,), "L": (2, 3)}
    columns = [c for name, shape in sites.items() for c in flat_names(name, shape)]
    assert ID.columns_to_sites(columns) == sites
    assert ID.columns_to_sites(["heads"]) == {"heads": ()}


def test_the_groups_are_laid_out_as_arviz_from_dict_lays_them_out():
    """``to_inference_data`` builds with xarray alone what ``az.from_dict`` builds (but
    its clock and version attributes): dims, coordinates, dtypes and values."""
    from svibench.engine.draws import flat_names

    rng = np.random.default_rng(0)
    sites = {"mu": (), "m": (3,), "L": (2, 2)}
    cols = [c for name, shape in sites.items() for c in flat_names(name, shape)]
    draws = pd.DataFrame(rng.normal(size=(20, len(cols))), columns=cols)
    mocks = pd.DataFrame(rng.normal(size=(5, 4)), columns=[f"y[{i}]" for i in range(4)])
    observed = pd.Series([1.0, 2.0, 3.0, 4.0], index=mocks.columns)
    stats = {"diverging": rng.random((2, 10)) < 0.1, "energy": rng.normal(size=(2, 10))}
    dims = {"m": ["group"], "y": ["obs"]}
    ours = ID.to_inference_data(draws, chains=2, sites=sites, mocks=mocks, observed=observed,
                                sample_stats=stats, dims=dims, attrs={"model": "toy"})
    post = ID.by_site(draws, sites, 2)
    theirs = az.from_dict(posterior=post, sample_stats=stats,
                          posterior_predictive=ID.by_site(mocks, {"y": (4,)}, 1),
                          observed_data={"y": observed.to_numpy()}, dims=dims)
    assert list(ours) == theirs.groups()
    for group in theirs.groups():
        expected = theirs[group].copy()
        expected.attrs = {"model": "toy"}
        assert ours[group].identical(expected), group
    scalar = ID.to_inference_data(draws[["mu"]], chains=1, sites={"mu": ()},
                                  observed=pd.Series([12.0], index=["heads"]))
    assert scalar["observed_data"]["heads"].dims == ("heads_dim_0",)


def test_a_fit_job_imports_neither_arviz_nor_scipy(tmp_path):
    """ArviZ and SciPy cost a fit job ~3 s of imports: its posterior.nc and k-hat need
    neither."""
    code = (
        "import sys; from svibench.data import simulate_dataset; "
        "from svibench.fitting import run_fit; from svibench.models import get_model; "
        f"d = {str(tmp_path)!r}; "
        "simulate_dataset('coin', 't', {'seed': 1, 'n': 20, 'heads': 12, 'p': None}, "
        "d + '/t.csv', d + '/t.json'); "
        f"o = {{k: d + '/' + f for k, f in {FILES!r}.items()}}; "
        f"info = run_fit('coin', 't', 'auto_normal', d + '/t.csv', d + '/t.json', {SVI!r}, o); "
        "assert info['psis']['khat'] is not None, info['psis']; "
        "print(sorted(m for m in ('arviz', 'scipy.stats') if m in sys.modules))")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "workflow")}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300, env=env)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "[]"
    idata = az.from_netcdf(tmp_path / "posterior.nc")
    assert dict(idata.posterior.sizes) == {"chain": 1, "draw": 300}
