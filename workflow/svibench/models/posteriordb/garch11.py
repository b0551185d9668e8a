"""garch-garch11: GARCH(1, 1) volatility.

``mu`` flat, ``alpha0`` flat on (0, inf), ``alpha1`` flat on (0, 1), ``beta1`` flat
on (0, 1 - alpha1); ``sigma_1 = sigma1`` (data),
``sigma_t = sqrt(alpha0 + alpha1 (y_{t-1} - mu)^2 + beta1 sigma_{t-1}^2)``;
``y_t ~ N(mu, sigma_t)``.

``beta1``'s bound depends on ``alpha1``. Autoguides take each site's support from a
prototype trace (a fixed bound), so ``beta1`` is written as Stan transforms it:
``beta1 = (1 - alpha1) beta1_unit`` with ``beta1_unit`` on (0, 1) and the Jacobian
``log(1 - alpha1)`` as a factor (the flat density on (0, 1 - alpha1), in
``beta1_unit``); ``beta1`` is reported. Same posterior, same unconstrained space as
Stan's.
"""

from . import PosteriorDB


class Garch11(PosteriorDB):
    name = "garch11"
    description = "posteriordb garch11: GARCH(1,1) volatility (time series, constrained, D=4)"
    posterior = "garch-garch11"
    columns = ("y",)
    dim = 4
    reported = ("beta1",)
    sigma1 = 0.5  # the data's sigma1 (a unit test checks it against the vendored data)

    def prepare(self, df, settings):
        return self.floats(df, "y"), {}

    def model(self, y):
        import jax
        import jax.numpy as jnp
        import numpyro
        import numpyro.distributions as dist
        from numpyro.distributions import constraints

        mu = numpyro.sample("mu", dist.ImproperUniform(constraints.real, (), ()))
        alpha0 = numpyro.sample("alpha0", dist.ImproperUniform(constraints.positive, (), ()))
        alpha1 = numpyro.sample("alpha1", dist.Uniform(0.0, 1.0))
        unit = numpyro.sample("beta1_unit", dist.Uniform(0.0, 1.0))
        numpyro.factor("beta1_jacobian", jnp.log1p(-alpha1))
        beta1 = numpyro.deterministic("beta1", (1.0 - alpha1) * unit)

        def step(sigma_prev, y_prev):
            sigma = jnp.sqrt(alpha0 + alpha1 * (y_prev - mu) ** 2 + beta1 * sigma_prev**2)
            return sigma, sigma

        s1 = jnp.asarray(self.sigma1, y.dtype)
        _, rest = jax.lax.scan(step, s1, y[:-1])
        sigma = jnp.concatenate([s1[None], rest])
        numpyro.sample("y", dist.Normal(mu, sigma).to_event(1), obs=y)


MODEL = Garch11()
