"""eight_schools-eight_schools_noncentered: the eight schools, non-centred.

``theta_trans ~ N(0, 1)`` (J), ``mu ~ N(0, 5)``, ``tau ~ HalfCauchy(5)``;
``theta = mu + tau theta_trans`` (reported); ``y_j ~ N(theta_j, sigma_j)``.
"""

from . import PosteriorDB


class EightSchools(PosteriorDB):
    name = "eight_schools"
    description = "posteriordb eight schools, non-centred (hierarchical, D=10)"
    posterior = "eight_schools-eight_schools_noncentered"
    columns = ("y", "sigma")
    dim = 10
    reported = ("theta",)

    def prepare(self, df, settings):
        return self.floats(df, "y", "sigma"), {}

    def model(self, y, sigma):
        import numpyro
        import numpyro.distributions as dist

        J = y.shape[0]
        theta_trans = numpyro.sample("theta_trans", dist.Normal(0.0, 1.0).expand([J]).to_event(1))
        mu = numpyro.sample("mu", dist.Normal(0.0, 5.0))
        tau = numpyro.sample("tau", dist.HalfCauchy(5.0))
        theta = numpyro.deterministic("theta", theta_trans * tau + mu)
        numpyro.sample("y", dist.Normal(theta, sigma).to_event(1), obs=y)


MODEL = EightSchools()
