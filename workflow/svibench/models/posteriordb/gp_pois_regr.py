"""gp_pois_regr-gp_pois_regr: a latent Gaussian process with Poisson counts.

``rho ~ Gamma(25, 4)``, ``alpha ~ HalfNormal(2)``, ``f_tilde ~ N(0, 1)`` (N);
``f = L f_tilde`` (reported), ``L L' = alpha^2 exp(-(x_i - x_j)^2 / (2 rho^2)) + jitter I``;
``k_i ~ Poisson(exp(f_i))``.

The jitter: Stan adds 1e-10, below float32's resolution (our jobs run in float32),
where the Cholesky factor of this 11-point kernel fails for most of the posterior.
Here it is ``1e-6 alpha^2`` (no failure on alpha in (0.05, 20), rho in (0.5, 40)):
``f`` gains white noise of sd ``0.001 alpha``, under 0.1 % of its posterior variance.
"""

from . import PosteriorDB

JITTER = 1e-6  # relative to alpha^2 (see the module's docstring)


class GPPoisRegr(PosteriorDB):
    name = "gp_pois_regr"
    description = "posteriordb gp_pois_regr: latent GP, Poisson counts (D=13)"
    posterior = "gp_pois_regr-gp_pois_regr"
    columns = ("x", "k")
    dim = 13
    reported = ("f",)

    def prepare(self, df, settings):
        import jax.numpy as jnp

        return {"x": jnp.asarray(df["x"].to_numpy(), jnp.float32),
                "k": jnp.asarray(df["k"].to_numpy(), jnp.float32)}, {}

    def model(self, x, k):
        import jax.numpy as jnp
        import numpyro
        import numpyro.distributions as dist

        N = x.shape[0]
        rho = numpyro.sample("rho", dist.Gamma(25.0, 4.0))
        alpha = numpyro.sample("alpha", dist.HalfNormal(2.0))
        f_tilde = numpyro.sample("f_tilde", dist.Normal(0.0, 1.0).expand([N]).to_event(1))
        d2 = (x[:, None] - x[None, :]) ** 2
        cov = alpha**2 * (jnp.exp(-d2 / (2.0 * rho**2)) + JITTER * jnp.eye(N))
        f = numpyro.deterministic("f", jnp.linalg.cholesky(cov) @ f_tilde)
        numpyro.sample("y", dist.Poisson(jnp.exp(f)).to_event(1), obs=k)


MODEL = GPPoisRegr()
