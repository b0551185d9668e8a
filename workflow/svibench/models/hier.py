"""Hierarchical linear regression: J groups of lines sharing hyper-priors.

``m_j ~ N(m_mu, m_sig)``, ``c_j ~ N(c_mu, c_sig)``; ``m_mu ~ N(0, 15)``,
``m_sig ~ HalfNormal(10)``, ``c_mu ~ N(0, 25)``, ``c_sig ~ HalfNormal(15)``;
``y_i ~ N(m_{g_i} x_i + c_{g_i}, yerr_i)``. 2J + 4 latents.
"""

import numpy as np
import pandas as pd

from .base import Model


class Hier(Model):
    name = "hier"
    description = "J groups of lines with shared hyper-priors (2J + 4 latents)"
    defaults = {"groups": 8, "min_size": 6, "extra_size": 12, "xlim": 10.0,
                "m_mu": 0.5, "m_sig": 0.2, "c_mu": 10.0, "c_sig": 1.0, "err_scale": 2.5}
    has_observations = True
    csv_columns = ("group", "x", "y", "yerr")
    reference_kind = "nuts"
    figures = ("groups",)
    dims = {"m": ["group"], "c": ["group"]}  # ArviZ dims of the per-group sites
    GLOBALS = ("m_mu", "m_sig", "c_mu", "c_sig")

    def latent_dim(self, settings: dict) -> int:
        """``m``, ``c`` per group and the four hyper-parameters (``GLOBALS``)."""
        return 2 * int(settings["groups"]) + len(self.GLOBALS)

    def simulate(self, settings: dict, seed: int):
        """Group sizes ``min_size + Binomial(extra_size, 0.5)``; ``x`` sorted uniform on
        (-xlim, xlim); error bars ``(Poisson(1000)/1000 + 1)/2 * err_scale``."""
        s = settings
        rng = np.random.default_rng(seed)
        J = int(s["groups"])
        m = rng.normal(s["m_mu"], s["m_sig"], size=J)
        c = rng.normal(s["c_mu"], s["c_sig"], size=J)
        frames = []
        for j in range(J):
            n = int(s["min_size"]) + rng.binomial(int(s["extra_size"]), 0.5)
            x = np.sort(rng.uniform(-s["xlim"], s["xlim"], size=n))
            err = (rng.poisson(1000, size=n) / 1000 + 1) / 2 * s["err_scale"]
            y = m[j] * x + c[j] + err * rng.normal(size=n)
            frames.append(pd.DataFrame({"group": j, "x": x, "y": y, "yerr": err}))
        truth = {k: float(s[k]) for k in self.GLOBALS}
        truth.update({f"m[{j}]": float(m[j]) for j in range(J)})
        truth.update({f"c[{j}]": float(c[j]) for j in range(J)})
        return pd.concat(frames, ignore_index=True), truth

    def prepare(self, df: pd.DataFrame, settings: dict):
        import jax.numpy as jnp

        arrays = {"group": jnp.asarray(df["group"].to_numpy(), jnp.int32)}
        arrays.update({k: jnp.asarray(df[k].to_numpy(), jnp.float32) for k in ("x", "y", "yerr")})
        return arrays, {"n_groups": int(df["group"].max()) + 1}

    def model(self, group, x, yerr, y=None, n_groups=1):
        """Hyper-parameters scalars; ``m, c`` (n_groups,); ``group, x, yerr, y`` (n,)."""
        import numpyro
        import numpyro.distributions as dist

        m_mu = numpyro.sample("m_mu", dist.Normal(0.0, 15.0))
        m_sig = numpyro.sample("m_sig", dist.HalfNormal(10.0))
        c_mu = numpyro.sample("c_mu", dist.Normal(0.0, 25.0))
        c_sig = numpyro.sample("c_sig", dist.HalfNormal(15.0))
        with numpyro.plate("groups", n_groups):
            m = numpyro.sample("m", dist.Normal(m_mu, m_sig))
            c = numpyro.sample("c", dist.Normal(c_mu, c_sig))
        with numpyro.plate("data", x.shape[0]):
            numpyro.sample("y", dist.Normal(m[group] * x + c[group], yerr), obs=y)

    def reference_model(self, model_fn):
        """The same posterior, non-centred in ``m`` and ``c`` (no funnel) for the long-run
        NUTS reference; ``m`` and ``c`` stay in its samples as deterministic sites."""
        from numpyro.handlers import reparam
        from numpyro.infer.reparam import LocScaleReparam

        return reparam(model_fn, config={"m": LocScaleReparam(0), "c": LocScaleReparam(0)})

    def check_settings(self, s: dict):
        """``(key, problem)`` of the first bad setting, or None (see ``models.checks``)."""
        from . import checks as c

        return c.first_problem(c.integer(s, "groups", 1), c.integer(s, "min_size", 1),
                               c.integer(s, "extra_size", 0), c.positive(s, "xlim"),
                               c.at_least(s, "m_sig", 0), c.at_least(s, "c_sig", 0),
                               c.positive(s, "err_scale"), c.finite(s, "m_mu", "c_mu"))


MODEL = Hier()
