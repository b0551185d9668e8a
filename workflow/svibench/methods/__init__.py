"""Method registry: name -> how to fit it.

A method is NUTS, Pathfinder (single- or multi-path, BlackJAX) or an SVI guide. Adding a guide is one entry in ``METHODS``:
its ``build(model, **options)`` returns a NumPyro guide for a model callable.
A ``hand_written`` guide is written for one model's sites: it applies only to the
models that list it in their ``guides`` (``svibench.models.base.Model``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ..models import Model
from . import guides


def _auto(cls_name: str, **fixed):
    def build(model, **options):
        from numpyro.infer import autoguide

        return getattr(autoguide, cls_name)(model, **{**fixed, **options})

    build.__name__ = f"build_{cls_name}"
    return build


def _flow(cls_name: str):
    def build(model, **options):
        from numpyro.infer import autoguide

        return getattr(autoguide, cls_name)(model, **options)

    return build


@dataclass(frozen=True)
class Method:
    name: str
    kind: str  # "nuts" | "svi" | "pathfinder"
    description: str
    build: Callable | None = None
    hand_written: bool = False  # only for models that list it in Model.guides
    elbo: str = "trace"  # "trace" | "tracegraph" (non-reparameterised guides)
    min_latent_dim: int = 1
    map_objective: bool = False  # trains a point mass: its loss is not an ELBO
    defaults: dict = field(default_factory=dict)  # guide options (Pathfinder: its options)
    # what PSIS k-hat measures for this guide (where it is not the guide's own density)
    khat_of: str = "the guide"
    # Its steps cost more than its programs' full compile: with ``fast_compile`` its
    # step program still gets XLA's full optimisation (``runtime.heavy_program_options``).
    heavy_steps: bool = False

    def applies_to(self, model: Model) -> bool:
        """Whether this method can fit ``model`` (at its default settings' size)."""
        if self.hand_written and self.name not in model.guides:
            return False
        return model.latent_dim(model.defaults) >= self.min_latent_dim


METHODS: dict[str, Method] = {
    m.name: m
    for m in [
        Method("nuts", "nuts", "NumPyro NUTS, several chains"),
        Method("pathfinder", "pathfinder",
               "Pathfinder (BlackJAX): the best normal approximation along one L-BFGS path",
               defaults={"num_paths": 1},
               khat_of="the path's best normal approximation (unconstrained space)"),
        Method("multipathfinder", "pathfinder",
               "multi-path Pathfinder (BlackJAX): several paths' approximations, "
               "PSIS-resampled",
               khat_of="the pooled normal approximations of the paths, before resampling"),
        Method("auto_normal", "svi", "AutoNormal: independent normals per site",
               _auto("AutoNormal")),
        Method("auto_diagonal", "svi", "AutoDiagonalNormal: one diagonal normal",
               _auto("AutoDiagonalNormal")),
        Method("auto_mvn", "svi", "AutoMultivariateNormal: full-covariance normal",
               _auto("AutoMultivariateNormal")),
        Method("auto_lowrank", "svi", "AutoLowRankMultivariateNormal",
               _auto("AutoLowRankMultivariateNormal")),
        Method("auto_laplace", "svi", "AutoLaplaceApproximation: MAP + Hessian",
               _auto("AutoLaplaceApproximation"), map_objective=True),
        Method("auto_dais", "svi", "AutoDAIS: differentiable annealed importance sampling",
               _auto("AutoDAIS"), defaults={"K": 4, "eta_max": 0.1},
               khat_of="AutoDAIS's augmented sampler (not its marginal over the latents)"),
        Method("auto_bnaf", "svi", "AutoBNAFNormal: block neural autoregressive flow",
               _flow("AutoBNAFNormal"), min_latent_dim=2, heavy_steps=True,
               defaults={"num_flows": 1, "hidden_factors": [8, 8]}),
        Method("auto_iaf", "svi", "AutoIAFNormal: inverse autoregressive flow",
               _flow("AutoIAFNormal"), min_latent_dim=2,
               defaults={"num_flows": 2}),
        Method("beta", "svi", "hand-written Beta(alpha, beta) guide for f (exact family)",
               guides.coin_beta, hand_written=True),
        Method("normal", "svi", "hand-written Normal guide for f, truncated to (0, 1)",
               guides.coin_normal, hand_written=True),
        Method("mixture", "svi", "two Gaussians along a rotated axis, mapped to x, y",
               guides.multimodal_mixture, hand_written=True,
               elbo="tracegraph"),
        Method("independent", "svi", "independent normals, LogNormal scatter, Beta for Q",
               guides.linreg_independent, hand_written=True),
    ]
}


def get_method(name: str) -> Method:
    if name not in METHODS:
        raise KeyError(f"unknown method {name!r} (known: {', '.join(METHODS)})")
    return METHODS[name]


def methods_for(model: str | Model) -> list[str]:
    """Every method that applies to ``model`` (a ``Model`` or its name), in registry order."""
    from ..models import get_model

    model = model if isinstance(model, Model) else get_model(model)
    return [m.name for m in METHODS.values() if m.applies_to(model)]
