"""arK-arK: autoregression of order K = 5.

``alpha ~ N(0, 10)``, ``beta ~ N(0, 10)`` (K), ``sigma ~ HalfCauchy(2.5)``;
``y_t ~ N(alpha + sum_k beta_k y_{t-k}, sigma)`` for t = K+1..T (1-based).
"""

import numpy as np

from . import PosteriorDB


class ArK(PosteriorDB):
    name = "arK"
    description = "posteriordb arK: autoregression of order 5 (time series, D=7)"
    posterior = "arK-arK"
    columns = ("y",)
    dim = 7
    K = 5  # the data's K: the order (a unit test checks it against the vendored data)

    def prepare(self, df, settings):
        import jax.numpy as jnp

        y = df["y"].to_numpy(dtype=np.float64)
        K, T = self.K, len(y)
        # lags[t - K, k - 1] = y[t - k] (0-based t = K..T-1)
        lags = np.column_stack([y[K - k:T - k] for k in range(1, K + 1)])
        return {"lags": jnp.asarray(lags, jnp.float32), "y": jnp.asarray(y[K:], jnp.float32)}, {}

    def model(self, lags, y):
        """``lags`` (T-K, K): ``y[t-1] .. y[t-K]``; ``y`` (T-K,): ``y[t]``."""
        import numpyro
        import numpyro.distributions as dist

        alpha = numpyro.sample("alpha", dist.Normal(0.0, 10.0))
        beta = numpyro.sample("beta", dist.Normal(0.0, 10.0).expand([lags.shape[1]]).to_event(1))
        sigma = numpyro.sample("sigma", dist.HalfCauchy(2.5))
        numpyro.sample("y", dist.Normal(alpha + lags @ beta, sigma).to_event(1), obs=y)


MODEL = ArK()
