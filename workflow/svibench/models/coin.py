"""Coin toss: ``n`` Bernoulli tosses with unknown bias ``f ~ Uniform(0, 1)``.

Exact posterior: Beta(1 + heads, 1 + tails) (the uniform prior is Beta(1, 1)).
"""

import numpy as np
import pandas as pd

from .base import Model


class Coin(Model):
    name = "coin"
    description = "n Bernoulli tosses, f ~ Uniform(0, 1)"
    defaults = {"n": 20, "heads": None, "p": 0.5}
    has_observations = True
    csv_columns = ()  # tosses come from a simulation only
    reference_kind = "exact"
    guides = ("beta", "normal")
    ppc_statistics = ("heads",)

    def latent_dim(self, settings: dict) -> int:
        return 1

    def simulate(self, settings: dict, seed: int):
        """Tosses ``y`` (n,) of 0/1: exactly ``heads`` ones in random order if given,
        else Bernoulli(``p``) draws. Truth ``f`` is ``p`` (or heads / n)."""
        rng = np.random.default_rng(seed)
        n = int(settings["n"])
        heads = settings.get("heads")
        if heads is not None:
            y = np.zeros(n, dtype=np.int64)
            y[: int(heads)] = 1
            rng.shuffle(y)
            f = int(heads) / n  # the count is fixed: p (default 0.5) plays no part
        else:
            f = float(settings["p"])
            y = (rng.uniform(size=n) < f).astype(np.int64)
        return pd.DataFrame({"y": y}), {"f": f}

    def prepare(self, df: pd.DataFrame, settings: dict):
        import jax.numpy as jnp

        return {"y": jnp.asarray(df["y"].to_numpy(), dtype=jnp.float32)}, {}

    def model(self, y=None, n=None):
        """``f`` scalar; ``y`` (n,) observed tosses."""
        import numpyro
        import numpyro.distributions as dist

        f = numpyro.sample("f", dist.Uniform(0.0, 1.0))
        with numpyro.plate("toss", y.shape[0] if y is not None else n):
            numpyro.sample("y", dist.Bernoulli(probs=f), obs=y)

    @staticmethod
    def posterior_params(arrays) -> tuple[float, float]:
        """(alpha, beta) of the exact Beta posterior."""
        y = np.asarray(arrays["y"])
        heads = float(y.sum())
        return 1.0 + heads, 1.0 + (y.size - heads)

    def ppc_statistic(self, y):
        """Posterior predictive statistic of datasets ``y`` (S, n): the number of heads."""
        return ["heads"], y.sum(axis=1, keepdims=True)

    def exact_posterior(self, arrays, static):
        a, b = self.posterior_params(arrays)

        def sample(rng: np.random.Generator, n: int) -> pd.DataFrame:
            return pd.DataFrame({"f": rng.beta(a, b, size=n)})

        return sample

    def check_settings(self, s: dict):
        """``(key, problem)`` of the first bad setting, or None (see ``models.checks``)."""
        from . import checks as c

        if s.get("heads") is None and s.get("p") is None:
            return "heads", "give heads (a count) or p (a probability), not neither"
        problem = c.first_problem(c.integer(s, "n", 1), c.between(s, "p", 0, 1, optional=True))
        if problem or s.get("heads") is None:
            return problem
        return c.first_problem(c.integer(s, "heads", 0), c.between(s, "heads", 0, s["n"]))


MODEL = Coin()
