"""low_dim_gauss_mix-low_dim_gauss_mix: a two-component Gaussian mixture.

``mu`` (2) ordered, ``mu ~ N(0, 2)``; ``sigma ~ HalfNormal(2)`` (2);
``theta ~ Beta(5, 5)``; ``y_n ~ theta N(mu_0, sigma_0) + (1 - theta) N(mu_1, sigma_1)``.
The ordered ``mu`` is an ``ImproperUniform`` on ordered vectors with the normal prior
as a factor (Stan's ``mu ~ normal(0, 2)`` on an ``ordered[2]``).
"""

from . import PosteriorDB


class GaussMix(PosteriorDB):
    name = "gauss_mix"
    description = "posteriordb low_dim_gauss_mix: two-component mixture (D=5)"
    posterior = "low_dim_gauss_mix-low_dim_gauss_mix"
    columns = ("y",)
    dim = 5

    def prepare(self, df, settings):
        return self.floats(df, "y"), {}

    def model(self, y):
        import jax.numpy as jnp
        import numpyro
        import numpyro.distributions as dist
        from numpyro.distributions import constraints

        mu = numpyro.sample("mu", dist.ImproperUniform(constraints.ordered_vector, (), (2,)))
        numpyro.factor("mu_prior", dist.Normal(0.0, 2.0).log_prob(mu).sum())
        sigma = numpyro.sample("sigma", dist.HalfNormal(2.0).expand([2]).to_event(1))
        theta = numpyro.sample("theta", dist.Beta(5.0, 5.0))
        mix = dist.MixtureSameFamily(dist.Categorical(probs=jnp.stack([theta, 1.0 - theta])),
                                     dist.Normal(mu, sigma))
        with numpyro.plate("data", y.shape[0]):
            numpyro.sample("y", mix, obs=y)


MODEL = GaussMix()
