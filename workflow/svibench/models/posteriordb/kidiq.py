"""kidiq-kidscore_momiq: kid's test score on mother's IQ (ARM ch. 3).

``beta`` (2) flat, ``sigma ~ HalfCauchy(2.5)``;
``kid_score_i ~ N(beta_0 + beta_1 mom_iq_i, sigma)``.
"""

from . import PosteriorDB


class KidIQ(PosteriorDB):
    name = "kidiq"
    description = "posteriordb kidiq: score on mother's IQ (regression, D=3)"
    posterior = "kidiq-kidscore_momiq"
    columns = ("kid_score", "mom_iq")
    dim = 3

    def prepare(self, df, settings):
        return self.floats(df, "kid_score", "mom_iq"), {}

    def model(self, kid_score, mom_iq):
        import numpyro
        import numpyro.distributions as dist
        from numpyro.distributions import constraints

        beta = numpyro.sample("beta", dist.ImproperUniform(constraints.real_vector, (), (2,)))
        sigma = numpyro.sample("sigma", dist.HalfCauchy(2.5))
        numpyro.sample("y", dist.Normal(beta[0] + beta[1] * mom_iq, sigma).to_event(1),
                       obs=kid_score)


MODEL = KidIQ()
