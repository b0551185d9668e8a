"""An example of your own model: Bayesian logistic regression whose slopes share a
scale, written non-centred (README, "Your own model").

The workflow imports this file from its path and calls ``model(**data)``, the data
being the keys of ``data.json``: ``N`` (a number: passed as it is, so it can size the
plate), ``x`` (N x 2, float32) and ``y`` (N integers, int32).

Latents (the unobserved sample sites): ``alpha``, ``tau`` and ``z`` (2), so the draws
have the columns ``alpha``, ``tau``, ``z[0]``, ``z[1]``; the slopes ``beta = tau * z``
are a deterministic site listed in ``reported``, so every fit's draws carry
``beta[0]``, ``beta[1]`` too.
(Written centred, ``beta ~ Normal(0, tau)``, the posterior has a funnel in which NUTS
diverges.)
"""

import numpyro
import numpyro.distributions as dist

description = "your own model: logistic regression, shared slope scale, non-centred (D=4)"
reported = ["beta"]


def model(N, x, y=None):
    alpha = numpyro.sample("alpha", dist.Normal(0.0, 2.5))
    tau = numpyro.sample("tau", dist.HalfNormal(1.0))
    z = numpyro.sample("z", dist.Normal(0.0, 1.0).expand([2]).to_event(1))
    beta = numpyro.deterministic("beta", tau * z)
    with numpyro.plate("obs", N):
        numpyro.sample("y", dist.Bernoulli(logits=alpha + x @ beta), obs=y)
