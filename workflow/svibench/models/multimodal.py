"""2-D multimodal density on the box (-20, 20)^2.

log density = log[exp(-((u1-b)/s1)^2/2) + exp(-((u1+b)/s1)^2/2)] + log[1/(1+(u2/s2)^2/2)]
with u1 = (x+y)/sqrt(2), u2 = (x-y)/sqrt(2): two modes at u1 = +-b along the diagonal,
heavy (Student-t-like) tails across it.
"""

import numpy as np
import pandas as pd

from .base import Model


def log_density(x, y, s1, s2, b, xp=np):
    """Unnormalised log density; works with numpy (``xp=np``) or jax.numpy."""
    u1 = (x + y) / np.sqrt(2.0)
    u2 = (x - y) / np.sqrt(2.0)
    modes = xp.logaddexp(-0.5 * ((u1 - b) / s1) ** 2, -0.5 * ((u1 + b) / s1) ** 2)
    return modes - xp.log1p(0.5 * (u2 / s2) ** 2)


def grid_sampler(settings: dict, cells: int = 1024):
    """Exact draws by inverse CDF on a ``cells`` x ``cells`` grid over the box:
    pick a cell with probability proportional to its mass (midpoint rule), then a
    uniform point inside it."""
    box = float(settings["box"])
    edges = np.linspace(-box, box, cells + 1)
    mid = 0.5 * (edges[1:] + edges[:-1])
    xx, yy = np.meshgrid(mid, mid, indexing="ij")
    logp = log_density(xx, yy, float(settings["s1"]), float(settings["s2"]), float(settings["b"]))
    p = np.exp(logp - logp.max()).ravel()
    cdf = np.cumsum(p)
    cdf /= cdf[-1]
    h = edges[1] - edges[0]

    def sample(rng: np.random.Generator, n: int) -> pd.DataFrame:
        idx = np.searchsorted(cdf, rng.uniform(size=n), side="right")
        idx = np.minimum(idx, cdf.size - 1)
        i, j = np.unravel_index(idx, (cells, cells))
        x = edges[i] + h * rng.uniform(size=n)
        y = edges[j] + h * rng.uniform(size=n)
        return pd.DataFrame({"x": x, "y": y})

    return sample


class Multimodal(Model):
    name = "multimodal"
    description = "two modes along the diagonal, heavy tails across it, on (-20, 20)^2"
    defaults = {"s1": 0.5, "s2": 2.0, "b": 5.0, "box": 20.0}
    has_observations = False
    csv_columns = ()
    reference_kind = "grid"  # numerical: inverse-CDF draws on a grid over the box
    figures = ("density",)
    modes = ("u1<0", "u1>0")
    guides = ("mixture",)

    log_density = staticmethod(log_density)
    grid_sampler = staticmethod(grid_sampler)

    def latent_dim(self, settings: dict) -> int:
        return 2

    def simulate(self, settings: dict, seed: int):
        row = {k: float(settings[k]) for k in ("s1", "s2", "b", "box")}
        return pd.DataFrame([row]), {}

    def prepare(self, df: pd.DataFrame, settings: dict):
        import jax.numpy as jnp

        return ({k: jnp.asarray(float(settings[k]), jnp.float32) for k in ("s1", "s2", "b")},
                {"box": float(settings["box"])})

    def model(self, s1, s2, b, box=20.0):
        """Latents ``x``, ``y`` scalars on (-box, box); ``s1, s2, b`` scalars."""
        import jax.numpy as jnp
        import numpyro
        import numpyro.distributions as dist

        x = numpyro.sample("x", dist.Uniform(-box, box))
        y = numpyro.sample("y", dist.Uniform(-box, box))
        numpyro.factor("density", log_density(x, y, s1, s2, b, xp=jnp))

    def mode_labels(self, draws: pd.DataFrame) -> np.ndarray:
        """Index into ``modes`` of each draw: the side of the line u1 = 0 it lies on."""
        return ((draws["x"].to_numpy() + draws["y"].to_numpy()) > 0).astype(np.int64)

    def exact_posterior(self, arrays, static, cells: int = 1024):
        settings = {k: float(np.asarray(arrays[k])) for k in ("s1", "s2", "b")}
        settings["box"] = static["box"]
        return grid_sampler(settings, cells)

    def log_density_2d(self, settings: dict):
        s = settings

        def logpdf(x, y):
            return log_density(x, y, s["s1"], s["s2"], s["b"])

        return logpdf, float(s["box"])

    def check_settings(self, s: dict):
        """``(key, problem)`` of the first bad setting, or None (see ``models.checks``)."""
        from . import checks as c

        return c.first_problem(c.positive(s, "s1"), c.positive(s, "s2"), c.at_least(s, "b", 0),
                               c.positive(s, "box"))


MODEL = Multimodal()
