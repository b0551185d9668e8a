"""How reference.csv was made (not part of the workflow): 4 long NUTS chains (10000 draws
each) on the example, thinned by 5, written with a `chain` column, the latents and the
reported `beta`. Run from the repository root:
python examples/own_model/make_reference.py"""
import importlib.util
import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from numpyro.infer import MCMC, NUTS

here = Path(__file__).parent
spec = importlib.util.spec_from_file_location("own_model", here / "model.py")
own = importlib.util.module_from_spec(spec)
spec.loader.exec_module(own)

data = json.loads((here / "data.json").read_text())
x = jnp.asarray(data["x"], jnp.float32)
y = jnp.asarray(data["y"], jnp.int32)
mcmc = MCMC(NUTS(own.model, target_accept_prob=0.95), num_warmup=1000, num_samples=10000,
            num_chains=4, thinning=5, chain_method="sequential", progress_bar=False)
mcmc.run(jax.random.PRNGKey(20261201), N=data["N"], x=x, y=y)
s = mcmc.get_samples(group_by_chain=True)
chains, per = s["alpha"].shape
cols = {"chain": np.repeat(np.arange(chains), per)}
cols["alpha"] = np.asarray(s["alpha"]).ravel()
cols["tau"] = np.asarray(s["tau"]).ravel()
for site in ("z", "beta"):
    for j in range(2):
        cols[f"{site}[{j}]"] = np.asarray(s[site][..., j]).ravel()
pd.DataFrame(cols).to_csv(here / "reference.csv", index=False, float_format="%.6g")
