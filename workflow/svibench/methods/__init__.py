"""Method registry: name -> how to fit it.

A method is NUTS or an SVI guide. Adding a guide is one entry in ``METHODS``:
its ``build(model, **options)`` returns a NumPyro guide for a model callable.
``models`` limits a hand-written guide to the model it was written for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

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
    kind: str  # "nuts" | "svi"
    description: str
    build: Callable | None = None
    models: frozenset | None = None  # None: any model
    elbo: str = "trace"  # "trace" | "tracegraph" (non-reparameterised guides)
    min_latent_dim: int = 1
    map_objective: bool = False  # trains a point mass: its loss is not an ELBO
    defaults: dict = field(default_factory=dict)  # guide options

    def applies_to(self, model_name: str) -> bool:
        return self.models is None or model_name in self.models


METHODS: dict[str, Method] = {
    m.name: m
    for m in [
        Method("nuts", "nuts", "NumPyro NUTS, several chains"),
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
               _auto("AutoDAIS"), defaults={"K": 4, "eta_max": 0.1}),
        Method("auto_bnaf", "svi", "AutoBNAFNormal: block neural autoregressive flow",
               _flow("AutoBNAFNormal"), min_latent_dim=2, defaults={"num_flows": 1, "hidden_factors": [8, 8]}),
        Method("auto_iaf", "svi", "AutoIAFNormal: inverse autoregressive flow",
               _flow("AutoIAFNormal"), min_latent_dim=2,
               defaults={"num_flows": 2}),
        Method("beta", "svi", "hand-written Beta(alpha, beta) guide for f (exact family)",
               guides.coin_beta, models=frozenset({"coin"})),
        Method("normal", "svi", "hand-written Normal guide for f, truncated to (0, 1)",
               guides.coin_normal, models=frozenset({"coin"})),
        Method("mixture", "svi", "two Gaussians along a rotated axis, mapped to x, y",
               guides.multimodal_mixture, models=frozenset({"multimodal"}),
               elbo="tracegraph"),
        Method("independent", "svi", "independent normals, LogNormal scatter, Beta for Q",
               guides.linreg_independent, models=frozenset({"linreg"})),
    ]
}


def get_method(name: str) -> Method:
    if name not in METHODS:
        raise KeyError(f"unknown method {name!r} (known: {', '.join(METHODS)})")
    return METHODS[name]


def methods_for(model_name: str) -> list[str]:
    """Every method that applies to ``model_name``, in registry order."""
    from ..models import get_model

    mod = get_model(model_name)
    return [m.name for m in METHODS.values()
            if m.applies_to(model_name) and getattr(mod, "LATENT_DIM", 2) >= m.min_latent_dim]
