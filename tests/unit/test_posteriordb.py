"""posteriordb's posteriors: the vendored files, the ports, the published reference,
and the proof that each port is right (our NUTS agrees with the published draws)."""

import json

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from svibench import portcheck
from svibench.data import bound_model
from svibench.engine.draws import flat_names, latent_sites
from svibench.models import POSTERIORDB, get_model
from svibench.models.posteriordb import ROOT, column_name, load_data, load_reference

# the small ports: our NUTS runs in seconds (gp_pois_regr and diamonds: the script,
# python -m svibench.portcheck)
SMALL = ("eight_schools", "kidiq", "earnings", "arK", "garch11", "gauss_mix")


def test_vendored_files_and_licence():
    assert (ROOT / "LICENCE.md").exists() and "BSD" in (ROOT / "LICENCE.md").read_text()
    assert "28f8d3d6e975315f42aa274a8399f21e07a43b30" in (ROOT / "README.md").read_text()
    for name in POSTERIORDB:
        folder = ROOT / get_model(name).posterior
        for f in ("model.stan", "posterior.json", "reference.info.json", "reference_draws.json.zip"):
            assert (folder / f).exists(), folder / f
        assert (folder / "data.json").exists() or (folder / "data.json.zip").exists()
        assert json.loads((folder / "posterior.json").read_text())["name"] == folder.name


def test_stan_names_become_ours():
    assert column_name("theta[1]") == "theta[0]"
    assert column_name("b[24]") == "b[23]"
    assert column_name("b[2,3]") == "b[1,2]"
    assert column_name("Intercept") == "Intercept"


def test_scalars_of_the_data_match_the_ports():
    assert get_model("arK").K == load_data("arK-arK")["K"]
    assert get_model("garch11").sigma1 == load_data("garch-garch11")["sigma1"]
    assert load_data("diamonds-diamonds")["prior_only"] == 0
    X = np.asarray(load_data("diamonds-diamonds")["X"])
    assert (X[:, 0] == 1).all() and X.shape[1] == 25  # the intercept column, then 24


@pytest.mark.parametrize("name", POSTERIORDB)
def test_the_draws_of_a_port_carry_every_reference_quantity(name):
    mod = get_model(name)
    df, truth = mod.simulate({}, 0)
    assert truth == {} and len(df) > 0
    arrays, static = mod.prepare(df, {})
    sites = latent_sites(bound_model(mod, static), arrays)
    cols = [c for k, s in sites.items() for c in flat_names(k, s)]
    draws, chains, record = mod.published_reference()
    assert chains == 10 and len(draws) == 10_000 and set(draws.columns) <= set(cols)
    assert record["checks_made"] and all(record["checks_made"].values())
    # the reported (deterministic) sites are the ones beyond the latents
    latent = sum(int(np.prod(s)) for k, s in sites.items() if k not in mod.reported)
    assert latent == mod.latent_dim({})


def test_reference_is_chain_major():
    draws, chains = load_reference("kidiq-kidscore_momiq")
    import zipfile

    with zipfile.ZipFile(ROOT / "kidiq-kidscore_momiq" / "reference_draws.json.zip") as z:
        raw = json.loads(z.read(z.namelist()[0]))
    assert draws["beta[1]"].iloc[1000] == raw[1]["beta[2]"][0]
    assert draws["sigma"].iloc[9999] == raw[9]["sigma"][999]


def test_build_reference_writes_the_published_draws(tmp_path):
    from svibench import io
    from svibench.data import make_dataset
    from svibench.reference import build_reference

    csv, meta = tmp_path / "d.csv", tmp_path / "d.json"
    make_dataset("eight_schools", "posteriordb", {"seed": 0}, csv, meta)
    out = {k: tmp_path / f"{k}.{ext}" for k, ext in
           (("draws", "parquet"), ("json", "json"), ("mocks", "parquet"))}
    info = build_reference("eight_schools", "posteriordb", csv, meta, {}, out)
    draws = io.read_parquet(out["draws"])
    assert info["kind"] == "posteriordb" and info["chains"] == 10 and info["n_draws"] == 10_000
    assert info["meets_standard"], info["problems"]
    assert info["published"]["checks_made"]["r_hat_below_1_01"]
    assert info["diagnostics"]["max_rhat"] < 1.01 and info["diagnostics"]["min_ess_bulk"] > 4000
    assert list(draws.columns) == [f"theta[{j}]" for j in range(8)] + ["mu", "tau"]


def test_a_published_reference_without_some_latents_writes_their_inference_data(tmp_path):
    """gp_pois_regr's published draws hold ``f`` and the hyperparameters but not the
    latent ``f_tilde``: the reference and its posterior.nc are of what they hold."""
    import arviz as az

    from svibench.data import make_dataset
    from svibench.reference import build_reference

    csv, meta = tmp_path / "d.csv", tmp_path / "d.json"
    make_dataset("gp_pois_regr", "posteriordb", {"seed": 0}, csv, meta)
    out = {k: tmp_path / f"{k}.{ext}" for k, ext in
           (("draws", "parquet"), ("json", "json"), ("mocks", "parquet"), ("idata", "nc"))}
    build_reference("gp_pois_regr", "posteriordb", csv, meta, {}, out)
    post = az.from_netcdf(out["idata"]).posterior
    assert "f" in post.data_vars and "f_tilde" not in post.data_vars
    assert dict(post.sizes)["chain"] == 10


# -- portcheck ----------------------------------------------------------------------

def _chains(rng, chains, per, loc, scale, rho=0.5):
    """AR(1) chains with stationary N(loc, scale^2): correlated draws, chain-major."""
    x = np.empty((chains, per))
    x[:, 0] = rng.normal(size=chains)
    for t in range(1, per):
        x[:, t] = rho * x[:, t - 1] + np.sqrt(1 - rho**2) * rng.normal(size=chains)
    return (loc + scale * x).reshape(-1)


def test_agreement_of_agreeing_and_disagreeing_draws():
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"a": _chains(rng, 10, 1000, 1.0, 2.0), "b": _chains(rng, 10, 1000, 0.0, 1.0)})
    same = pd.DataFrame({"a": _chains(rng, 4, 1000, 1.0, 2.0), "b": _chains(rng, 4, 1000, 0.0, 1.0),
                         "extra": rng.normal(size=4000)})
    res = portcheck.agreement(same, 4, ref, 10)
    assert set(res) == {"a", "b"} and all(v["ok"] for v in res.values()), res
    assert portcheck.summarise(res)["ok"]
    # a shifted mean (0.3 sd: ~10 combined MCSE) and a 20 % wider sd both fail
    off = pd.DataFrame({"a": _chains(rng, 4, 1000, 1.6, 2.0), "b": _chains(rng, 4, 1000, 0.0, 1.2)})
    res = portcheck.agreement(off, 4, ref, 10)
    assert not res["a"]["ok"] and abs(res["a"]["mean_z"]) > 4
    assert not res["b"]["ok"] and res["b"]["sd_ratio"] == pytest.approx(1.2, abs=0.06)
    assert not portcheck.summarise(res)["ok"]


def test_an_evaluate_job_checks_a_port_and_the_report_says_so(tmp_path):
    """A NUTS fit scored against a posteriordb reference carries ``port_check`` in its
    metrics.json (without JAX), and the ranking's reference line says whether the port
    agrees, naming the quantities that do not."""
    import json
    import os
    import subprocess
    import sys

    from svibench import io
    from svibench.data import make_dataset
    from svibench.presentation.ranking import ranking_table
    from svibench.presentation.render import render
    from svibench.reference import build_reference

    csv, meta = tmp_path / "d.csv", tmp_path / "d.json"
    make_dataset("eight_schools", "posteriordb", {"seed": 0}, csv, meta)
    ref = {k: tmp_path / f"ref-{k}.{ext}" for k, ext in
           (("draws", "parquet"), ("json", "json"), ("mocks", "parquet"))}
    build_reference("eight_schools", "posteriordb", csv, meta, {}, ref)
    published = io.read_parquet(ref["draws"])
    rng = np.random.default_rng(0)
    fits = {}
    for name, shift in (("agrees", 0.0), ("off", 3.0)):
        draws = published.iloc[:4000].reset_index(drop=True).copy()  # 4 chains of theirs
        draws["mu"] += shift
        draws["tau"] = np.abs(draws["tau"] + rng.normal(scale=1e-3, size=len(draws)))
        d = tmp_path / name
        d.mkdir()
        io.write_parquet(d / "draws.parquet", draws)
        io.write_json(d / "fit.json", {"model": "eight_schools", "dataset": "posteriordb",
                                        "method": "nuts", "kind": "nuts", "status": "ok",
                                        "chains": 4, "seeds": {"fit": 2},
                                        "diagnostics": {"divergences": 0}})
        fits[name] = d
    code = ("import json, sys; from svibench.evaluate import evaluate_fit; "
            "m = evaluate_fit({'draws': sys.argv[1] + '/draws.parquet', 'fit': sys.argv[1] + "
            "'/fit.json', 'mocks': None}, json.loads(sys.argv[2]), sys.argv[3], sys.argv[4], "
            "{'predictive_draws': 0}, {'metrics': sys.argv[1] + '/metrics.json'}); "
            "print(json.dumps(sorted(k for k in ('jax', 'numpyro') if k in sys.modules)))")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "workflow")}
    refs = json.dumps({k: str(v) for k, v in ref.items()})
    for d in fits.values():
        run = subprocess.run([sys.executable, "-c", code, str(d), refs, str(csv), str(meta)],
                             capture_output=True, text=True, timeout=300, env=env)
        assert run.returncode == 0, run.stderr
        assert run.stdout.strip().splitlines()[-1] == "[]"  # no JAX in an evaluate job
    good = io.read_json(fits["agrees"] / "metrics.json")["port_check"]
    bad = io.read_json(fits["off"] / "metrics.json")["port_check"]
    assert good["ok"] and good["failed"] == [] and good["max_abs_mean_z"] < 4
    assert not bad["ok"] and bad["failed"] == ["mu"] and bad["max_abs_mean_z"] > 4
    assert good["inconclusive"] == [] == bad["inconclusive"]  # the NUTS run itself is fine
    for name, says in (("agrees", "the port agrees"), ("off", "the port DISAGREES on mu")):
        ev = {"reference": io.read_json(ref["json"]),
              "fits": [{"method": "nuts", "group": "nuts",
                        "m": io.read_json(fits[name] / "metrics.json")}]}
        html = render("ranking.html", table=ranking_table(ev))
        assert "posteriordb&#39;s published draws" in html or "posteriordb's published draws" in html
        assert says in html
    # a NUTS run that fails its own diagnostics gives no verdict on the port
    m = io.read_json(fits["off"] / "metrics.json")
    m["port_check"]["inconclusive"] = ["rhat 2.62 >= 1.01"]
    ev = {"reference": io.read_json(ref["json"]), "fits": [{"method": "nuts", "group": "nuts", "m": m}]}
    html = render("ranking.html", table=ranking_table(ev))
    assert "no verdict: our NUTS run fails its own diagnostics (rhat 2.62" in html
    assert "DISAGREES" not in html


def test_mcse_counts_autocorrelation():
    rng = np.random.default_rng(1)
    x = _chains(rng, 4, 2000, 0.0, 1.0, rho=0.9).reshape(4, 2000)
    # AR(1) with rho 0.9: ESS about n (1 - rho) / (1 + rho) = 8000 / 19
    assert 250 < portcheck.mean_ess(x) < 650


@pytest.mark.parametrize("name", SMALL)
def test_our_nuts_on_each_small_port_agrees_with_posteriordb(name):
    res = portcheck.check(name, chains=4, warmup=300, draws_per_chain=500)
    bad = {k: v for k, v in res.items() if not v["ok"]}
    assert not bad, bad
