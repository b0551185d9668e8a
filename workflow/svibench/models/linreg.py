"""Straight line with outliers (a two-component mixture likelihood).

Latents: ``theta ~ U(-pi/2, pi/2)`` (angle of the line), ``b_perp ~ N(0, 1)``
(perpendicular offset), ``bg_mean ~ N(0, 1)``, ``bg_sigma ~ HalfNormal(3)``,
``Q ~ U(0, 1)`` (foreground fraction). Slope ``m = tan(theta)``, intercept
``b = b_perp / cos(theta)``. A point is on the line with probability Q (scatter
``yerr``) or background (mean ``bg_mean``, scatter ``sqrt(bg_sigma^2 + yerr^2)``).
"""

import numpy as np
import pandas as pd

from .base import Model


class LinReg(Model):
    name = "linreg"
    description = "line with outliers: 15 points, 2-component mixture likelihood"
    defaults = {"n": 15, "m": 1.0, "b": 0.0, "yerr": 0.2, "outlier_prob": 0.2,
                "bg_mean": 0.0, "bg_sigma": 1.0, "xlim": 2.0}
    has_observations = True
    csv_columns = ("x", "y", "yerr")
    reference_kind = "nuts"
    guides = ("independent",)

    def latent_dim(self, settings: dict) -> int:
        return 5  # theta, b_perp, bg_mean, bg_sigma, Q

    def simulate(self, settings: dict, seed: int):
        """``x`` sorted uniform on (-xlim, xlim), ``y = m x + b + yerr eps``; each point
        independently replaced by ``bg_mean + sqrt(bg_sigma^2 + yerr^2) eps`` with
        probability ``outlier_prob``."""
        s = settings
        rng = np.random.default_rng(seed)
        n = int(s["n"])
        x = np.sort(rng.uniform(-s["xlim"], s["xlim"], size=n))
        yerr = np.full(n, float(s["yerr"]))
        y = s["m"] * x + s["b"] + yerr * rng.normal(size=n)
        outlier = rng.uniform(size=n) < s["outlier_prob"]
        bg = s["bg_mean"] + np.sqrt(s["bg_sigma"] ** 2 + yerr**2) * rng.normal(size=n)
        y = np.where(outlier, bg, y)
        theta = float(np.arctan(s["m"]))
        truth = {"theta": theta, "b_perp": float(s["b"] * np.cos(theta)),
                 "bg_mean": float(s["bg_mean"]), "bg_sigma": float(s["bg_sigma"]),
                 "Q": 1.0 - float(s["outlier_prob"])}
        return pd.DataFrame({"x": x, "y": y, "yerr": yerr}), truth

    def prepare(self, df: pd.DataFrame, settings: dict):
        import jax.numpy as jnp

        return {k: jnp.asarray(df[k].to_numpy(), jnp.float32) for k in ("x", "y", "yerr")}, {}

    def model(self, x, yerr, y=None):
        """Latents are scalars; ``x, yerr, y`` (n,)."""
        import jax.numpy as jnp
        import numpyro
        import numpyro.distributions as dist

        theta = numpyro.sample("theta", dist.Uniform(-jnp.pi / 2, jnp.pi / 2))
        b_perp = numpyro.sample("b_perp", dist.Normal(0.0, 1.0))
        m = numpyro.deterministic("m", jnp.tan(theta))
        b = numpyro.deterministic("b", b_perp / jnp.cos(theta))
        bg_mean = numpyro.sample("bg_mean", dist.Normal(0.0, 1.0))
        bg_sigma = numpyro.sample("bg_sigma", dist.HalfNormal(3.0))
        q = numpyro.sample("Q", dist.Uniform(0.0, 1.0))
        with numpyro.plate("data", x.shape[0]):
            line = dist.Normal(m * x + b, yerr)
            background = dist.Normal(bg_mean, jnp.sqrt(bg_sigma**2 + yerr**2))
            mix = dist.MixtureGeneral(
                dist.Categorical(probs=jnp.stack([q, 1.0 - q])), [line, background])
            numpyro.sample("y", mix, obs=y)

    def check_settings(self, s: dict):
        """``(key, problem)`` of the first bad setting, or None (see ``models.checks``)."""
        from . import checks as c

        return c.first_problem(c.integer(s, "n", 2), c.positive(s, "yerr"), c.positive(s, "xlim"),
                               c.between(s, "outlier_prob", 0, 1), c.at_least(s, "bg_sigma", 0),
                               c.finite(s, "m", "b", "bg_mean"))


MODEL = LinReg()
