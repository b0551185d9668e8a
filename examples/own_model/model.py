"""An example of your own model: Bayesian logistic regression with a hierarchical
prior scale on the slopes (README, "Your own model").

The workflow imports this file from its path and calls ``model(**data)``, the data
being the keys of ``data.json``: ``N`` (a number: passed as it is, so it can size the
plate), ``x`` (N x 2, float32) and ``y`` (N integers, int32).

Latents (the unobserved sample sites): ``alpha``, ``tau`` and ``beta`` (2), so the
draws have the columns ``alpha``, ``tau``, ``beta[0]``, ``beta[1]``; ``odds_ratio``
is a deterministic site listed in ``reported``, so every fit's draws carry
``odds_ratio[0]``, ``odds_ratio[1]`` too.
"""

import numpyro
import numpyro.distributions as dist
from jax import numpy as jnp

description = "your own model: logistic regression, hierarchical slope scale (D=4)"
reported = ["odds_ratio"]


def model(N, x, y=None):
    alpha = numpyro.sample("alpha", dist.Normal(0.0, 2.5))
    tau = numpyro.sample("tau", dist.HalfNormal(1.0))
    beta = numpyro.sample("beta", dist.Normal(0.0, tau).expand([2]).to_event(1))
    numpyro.deterministic("odds_ratio", jnp.exp(beta))
    with numpyro.plate("obs", N):
        numpyro.sample("y", dist.Bernoulli(logits=alpha + x @ beta), obs=y)
