"""Correlated 2-D Gaussian density with an improper flat prior on ``x, y``.

sd ``sd_minor`` along (x - y)/sqrt(2) and ``sd_major`` along (x + y)/sqrt(2) with the
default ``angle_deg = 45`` (angle of the major axis from the x axis).
"""

import numpy as np
import pandas as pd

from .base import Model


class CorrGauss(Model):
    name = "corrgauss"
    description = "2-D Gaussian density, sds 1 and 3, major axis at 45 degrees"
    defaults = {"sd_minor": 1.0, "sd_major": 3.0, "angle_deg": 45.0, "mean": [0.0, 0.0]}
    has_observations = False
    csv_columns = ()
    reference_kind = "exact"
    figures = ("density",)

    def latent_dim(self, settings: dict) -> int:
        return 2

    @staticmethod
    def covariance(settings: dict) -> np.ndarray:
        """(2, 2) covariance of the density."""
        a = np.deg2rad(float(settings["angle_deg"]))
        rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        sds = np.array([float(settings["sd_major"]), float(settings["sd_minor"])])
        return rot @ np.diag(sds**2) @ rot.T

    def simulate(self, settings: dict, seed: int):
        """No observations: the CSV holds the shape parameters in one row."""
        row = {k: float(settings[k]) for k in ("sd_minor", "sd_major", "angle_deg")}
        mean = [float(v) for v in settings["mean"]]
        return pd.DataFrame([row]), {"x": mean[0], "y": mean[1]}

    def prepare(self, df: pd.DataFrame, settings: dict):
        import jax.numpy as jnp

        prec = np.linalg.inv(self.covariance(settings))
        return {"prec": jnp.asarray(prec, jnp.float32),
                "mean": jnp.asarray(settings["mean"], jnp.float32)}, {}

    def model(self, prec, mean):
        """Latents ``x``, ``y`` scalars; ``prec`` (2, 2) precision, ``mean`` (2,)."""
        import jax.numpy as jnp
        import numpyro
        import numpyro.distributions as dist
        from numpyro.distributions import constraints

        flat = dist.ImproperUniform(constraints.real, (), ())
        x = numpyro.sample("x", flat)
        y = numpyro.sample("y", flat)
        z = jnp.stack([x, y]) - mean
        numpyro.factor("density", -0.5 * z @ prec @ z)

    def exact_posterior(self, arrays, static):
        cov = np.linalg.inv(np.asarray(arrays["prec"], dtype=np.float64))
        mean = np.asarray(arrays["mean"], dtype=np.float64)

        def sample(rng: np.random.Generator, n: int) -> pd.DataFrame:
            z = rng.multivariate_normal(mean, cov, size=n)
            return pd.DataFrame({"x": z[:, 0], "y": z[:, 1]})

        return sample

    def log_density_2d(self, settings: dict):
        """The Gaussian's log density (float64 from the settings), on a square of four
        major sds."""
        prec = np.linalg.inv(self.covariance(settings))
        mean = np.asarray(settings["mean"], dtype=float)

        def logpdf(x, y):
            dx, dy = x - mean[0], y - mean[1]
            return -0.5 * (prec[0, 0] * dx * dx + 2 * prec[0, 1] * dx * dy + prec[1, 1] * dy * dy)

        return logpdf, 4.0 * float(max(settings["sd_major"], settings["sd_minor"]))

    def check_settings(self, s: dict):
        """``(key, problem)`` of the first bad setting, or None (see ``models.checks``)."""
        from . import checks as c

        return c.first_problem(c.positive(s, "sd_minor"), c.positive(s, "sd_major"),
                               c.finite(s, "angle_deg", "mean"))


MODEL = CorrGauss()
