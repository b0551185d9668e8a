"""Hand-written guides. Each ``build(model, **options)`` returns a guide callable
taking the model's arguments; parameters are registered with ``numpyro.param``."""

import math


def coin_beta(model, init_alpha: float = 2.0, init_beta: float = 2.0):
    """``f ~ Beta(alpha, beta)``: the exact posterior family for the coin."""
    import numpyro
    import numpyro.distributions as dist
    from numpyro.distributions import constraints

    def guide(*args, **kwargs):
        a = numpyro.param("alpha", init_alpha, constraint=constraints.positive)
        b = numpyro.param("beta", init_beta, constraint=constraints.positive)
        numpyro.sample("f", dist.Beta(a, b))

    return guide


def coin_normal(model, init_loc: float = 0.5, init_scale: float = 0.2):
    """``f ~ Normal(loc, scale)`` truncated to (0, 1), the support of ``f``."""
    import numpyro
    import numpyro.distributions as dist
    from numpyro.distributions import constraints

    def guide(*args, **kwargs):
        loc = numpyro.param("loc", init_loc, constraint=constraints.unit_interval)
        scale = numpyro.param("scale", init_scale, constraint=constraints.positive)
        numpyro.sample("f", dist.TruncatedNormal(loc, scale, low=0.0, high=1.0))

    return guide


def multimodal_mixture(model, init_b: float = 3.0, init_angle_deg: float = 30.0,
                       init_s1: float = 1.0, init_s2: float = 1.0):
    """Two Gaussians at ``+-b`` along an axis at angle ``theta``, width ``s1`` along
    it and ``s2`` across it, with mixture weight ``w``. Auxiliary draws ``u1, u2``
    are rotated into ``x, y`` (Delta sites; a rotation has unit Jacobian)."""
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist
    from numpyro.distributions import constraints

    def guide(*args, **kwargs):
        b = numpyro.param("b", init_b, constraint=constraints.positive)
        theta = numpyro.param("theta", math.radians(init_angle_deg))
        s1 = numpyro.param("s1", init_s1, constraint=constraints.positive)
        s2 = numpyro.param("s2", init_s2, constraint=constraints.positive)
        w = numpyro.param("w", 0.5, constraint=constraints.unit_interval)
        mix = dist.MixtureSameFamily(
            dist.Categorical(probs=jnp.stack([w, 1.0 - w])),
            dist.Normal(jnp.stack([b, -b]), s1))
        u1 = numpyro.sample("u1", mix, infer={"is_auxiliary": True})
        u2 = numpyro.sample("u2", dist.Normal(0.0, s2), infer={"is_auxiliary": True})
        c, s = jnp.cos(theta), jnp.sin(theta)
        numpyro.sample("x", dist.Delta(c * u1 - s * u2))
        numpyro.sample("y", dist.Delta(s * u1 + c * u2))

    return guide


def linreg_independent(model):
    """Independent factors: Normal for ``b_perp`` and ``bg_mean``, Normal truncated
    to (-pi/2, pi/2) for ``theta``, LogNormal for ``bg_sigma``, Beta for ``Q``."""
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist
    from numpyro.distributions import constraints

    pos = constraints.positive

    def guide(*args, **kwargs):
        t_loc = numpyro.param("theta_loc", 0.0)
        t_scale = numpyro.param("theta_scale", 0.3, constraint=pos)
        numpyro.sample("theta", dist.TruncatedNormal(t_loc, t_scale,
                                                     low=-jnp.pi / 2, high=jnp.pi / 2))
        for name in ("b_perp", "bg_mean"):
            loc = numpyro.param(f"{name}_loc", 0.0)
            scale = numpyro.param(f"{name}_scale", 0.3, constraint=pos)
            numpyro.sample(name, dist.Normal(loc, scale))
        s_loc = numpyro.param("bg_sigma_loc", 0.0)
        s_scale = numpyro.param("bg_sigma_scale", 0.3, constraint=pos)
        numpyro.sample("bg_sigma", dist.LogNormal(s_loc, s_scale))
        qa = numpyro.param("Q_alpha", 4.0, constraint=pos)
        qb = numpyro.param("Q_beta", 1.0, constraint=pos)
        numpyro.sample("Q", dist.Beta(qa, qb))

    return guide
