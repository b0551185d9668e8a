"""Every fit's cost on one scale: ``gradient_evaluations`` in fit.json."""

import numpy as np

from svibench.data import bound_model
from svibench.fitting import run_fit
from svibench.models import get_model
from svibench.scheduling import svi_gradients_per_step

OPTS = {"lr": 0.05, "chunk": 50, "seed": 3, "elbo": "trace", "draws": 200,
        "predictive_draws": 0, "stop_at_convergence": False}


def test_svi_counts_steps_times_particles_times_annealing():
    assert svi_gradients_per_step({"particles": 4, "guide": {}}) == 4
    assert svi_gradients_per_step({"particles": 2, "guide": {"K": 4}}) == 10
    assert svi_gradients_per_step({}) == 1


def test_fit_json_records_gradient_evaluations(tmp_path):
    from svibench.data import simulate_dataset

    csv, meta = tmp_path / "c.csv", tmp_path / "c.json"
    simulate_dataset("coin", "t", {"seed": 1, "n": 20, "heads": 12, "p": None}, csv, meta)

    def out(name):
        return {k: tmp_path / name / f for k, f in (
            ("draws", "draws.parquet"), ("trace", "trace.parquet"), ("params", "params.npz"),
            ("fit", "fit.json"), ("mocks", "mocks.parquet"))}

    svi = run_fit("coin", "t", "auto_normal", csv, meta,
                  {**OPTS, "max_steps": 100, "particles": 3, "guide": {}}, out("svi"))
    assert svi["gradient_evaluations"] == svi["steps_run"] * 3 == 300
    dais = run_fit("coin", "t", "auto_dais", csv, meta,
                   {**OPTS, "max_steps": 50, "particles": 1, "guide": {"K": 4, "eta_max": 0.1}},
                   out("dais"))
    assert dais["gradient_evaluations"] == 50 * 5
    nuts = run_fit("coin", "t", "nuts", csv, meta,
                   {"warmup": 50, "draws": 100, "chains": 1, "seed": 2, "target_accept": 0.8,
                    "max_tree_depth": 10, "dense_mass": False, "predictive_draws": 0},
                   {k: v for k, v in out("nuts").items() if k != "params"})
    # at least one leapfrog step per iteration, at most 2^depth - 1
    assert 150 <= nuts["gradient_evaluations"] <= 150 * 1023


LEAPFROG = """
import json, sys
sys.path.insert(0, sys.argv[1])
import jax
import numpy as np
from numpyro.infer import MCMC, NUTS
from svibench.data import bound_model
from svibench.engine.nuts import run_nuts
from svibench.models import get_model

mod = get_model("linreg")
settings = dict(mod.defaults)
df, _ = mod.simulate(settings, 0)
arrays, static = mod.prepare(df, settings)
model = bound_model("linreg", static)
fit = run_nuts(model, arrays, warmup=60, draws=80, chains=2, seed=5, method="sequential")
mcmc = MCMC(NUTS(model), num_warmup=60, num_samples=40, num_chains=2,
            chain_method="sequential", progress_bar=False, jit_model_args=True)
key_warm, key = jax.random.split(jax.random.PRNGKey(5))
mcmc.warmup(key_warm, **arrays)
mcmc.run(key, **arrays)
plain = mcmc.get_samples(group_by_chain=True)
print(json.dumps({"differ": [s for s, v in plain.items()
                             if np.asarray(v).tobytes() != np.asarray(fit.samples[s]).tobytes()],
                  "sites": sorted(plain), "gradients": int(fit.gradient_evaluations)}))
"""


def test_collecting_leapfrog_steps_changes_no_draw():
    """run_nuts collects warm-up's and sampling's num_steps: the draws are those of a
    plain run without extra fields. In a process with XLA's default optimisation level:
    at level 0 (this process's, ``fast_compile``) the two programs round differently and
    the chains part after a few draws, which says nothing of the sampler."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    workflow = Path(__file__).resolve().parents[2] / "workflow"
    out = subprocess.run([sys.executable, "-c", LEAPFROG, str(workflow)], capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.splitlines()[-1])
    assert "Q" in result["sites"] and result["differ"] == []
    assert result["gradients"] >= 2 * (60 + 40)
