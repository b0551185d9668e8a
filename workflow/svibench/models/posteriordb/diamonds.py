"""diamonds-diamonds: log price on 24 strongly correlated predictors (brms).

Transformed data: ``Xc`` = the design's columns 2..K centred on their means.
``b ~ N(0, 1)`` (24), ``Intercept ~ StudentT(3, 8, 10)``, ``sigma ~ StudentT(3, 0, 10)``
truncated to (0, inf) (a half Student-t: the folded one);
``Y_i ~ N(Intercept + Xc_i b, sigma)``. ``prior_only`` is 0 in the data: the
likelihood is always on. The generated quantity ``b_Intercept`` is not in the
reference draws and not reported.
"""

import numpy as np

from . import PosteriorDB

PREDICTORS = 24  # the design's columns after its intercept column


class Diamonds(PosteriorDB):
    name = "diamonds"
    description = "posteriordb diamonds: 24 correlated predictors (regression, D=26)"
    posterior = "diamonds-diamonds"
    columns = ("Y",) + tuple(f"x{i}" for i in range(1, PREDICTORS + 1))
    dim = 26

    def simulate(self, settings: dict, seed: int):
        """The vendored data: ``Y`` and the design's columns 2..K as ``x1 .. x24``."""
        import pandas as pd

        from . import load_data

        data = load_data(self.posterior)
        X = np.asarray(data["X"], dtype=np.float64)
        frame = {"Y": np.asarray(data["Y"], dtype=np.float64)}
        frame.update({f"x{i}": X[:, i] for i in range(1, X.shape[1])})
        return pd.DataFrame(frame), {}

    def prepare(self, df, settings):
        import jax.numpy as jnp

        X = df[[f"x{i}" for i in range(1, PREDICTORS + 1)]].to_numpy(dtype=np.float64)
        Xc = X - X.mean(axis=0)
        return {"Xc": jnp.asarray(Xc, jnp.float32),
                "Y": jnp.asarray(df["Y"].to_numpy(), jnp.float32)}, {}

    def model(self, Xc, Y):
        import numpyro
        import numpyro.distributions as dist

        b = numpyro.sample("b", dist.Normal(0.0, 1.0).expand([Xc.shape[1]]).to_event(1))
        intercept = numpyro.sample("Intercept", dist.StudentT(3.0, 8.0, 10.0))
        sigma = numpyro.sample("sigma", dist.FoldedDistribution(dist.StudentT(3.0, 0.0, 10.0)))
        numpyro.sample("y", dist.Normal(intercept + Xc @ b, sigma).to_event(1), obs=Y)


MODEL = Diamonds()
