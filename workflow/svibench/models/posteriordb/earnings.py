"""earnings-logearn_interaction_z: log earnings on standardised height, sex and
their interaction (ARM ch. 4).

Transformed data: ``log_earn = log(earn)``, ``z_height = (height - mean) / sd``
(sample sd, as Stan's ``sd``), ``inter = z_height * male``. ``beta`` (4) flat,
``sigma`` flat on (0, inf);
``log_earn_i ~ N(beta_0 + beta_1 z_height_i + beta_2 male_i + beta_3 inter_i, sigma)``.
"""

import numpy as np

from . import PosteriorDB


class Earnings(PosteriorDB):
    name = "earnings"
    description = "posteriordb earnings: log earnings, height x sex interaction (regression, D=5)"
    posterior = "earnings-logearn_interaction_z"
    columns = ("earn", "height", "male")
    dim = 5

    def prepare(self, df, settings):
        import jax.numpy as jnp

        height = df["height"].to_numpy(dtype=np.float64)
        male = df["male"].to_numpy(dtype=np.float64)
        z = (height - height.mean()) / height.std(ddof=1)
        design = np.column_stack([np.ones_like(z), z, male, z * male])
        return {"design": jnp.asarray(design, jnp.float32),
                "log_earn": jnp.asarray(np.log(df["earn"].to_numpy(dtype=np.float64)), jnp.float32)}, {}

    def model(self, design, log_earn):
        """``design`` (N, 4): intercept, z_height, male, inter."""
        import numpyro
        import numpyro.distributions as dist
        from numpyro.distributions import constraints

        beta = numpyro.sample("beta", dist.ImproperUniform(constraints.real_vector, (), (4,)))
        sigma = numpyro.sample("sigma", dist.ImproperUniform(constraints.positive, (), ()))
        numpyro.sample("y", dist.Normal(design @ beta, sigma).to_event(1), obs=log_earn)


MODEL = Earnings()
