"""Model registry: one module per built-in model family, each a ``Model`` subclass
(the protocol: ``svibench.models.base``) and its instance ``MODEL``.

``get_model(name)`` returns the instance; ``register(model)`` adds another one (a
test's toy model, a user's own). A model of your own named in a config (``module:``,
``svibench.usermodel``) is registered when the config is validated and, in a job's
process, imported by ``get_model`` from the path the workflow puts in the environment.
Only this package names models: everything else reads a model's capabilities.
"""

from __future__ import annotations

from importlib import import_module

from .base import Model, check_protocol

__all__ = ["MODEL_NAMES", "Model", "get_model", "model_names", "register", "unregister"]

# posteriordb's posteriors (``models/posteriordb/``): built-ins in a package of their own
POSTERIORDB = ("eight_schools", "kidiq", "earnings", "arK", "garch11", "gauss_mix",
               "gp_pois_regr", "diamonds")
MODEL_NAMES = ("coin", "corrgauss", "multimodal", "linreg", "hier") + POSTERIORDB  # the built-in ones

_registered: dict[str, Model] = {}  # models added by ``register``, in order


def register(model: Model, *, replace: bool = False) -> Model:
    """Add the instance ``model`` under ``model.name``; ``replace`` an earlier one of
    that name (never a built-in). Returns it. Raises ``TypeError`` for an object
    that does not keep the protocol, ``ValueError`` for a name already taken."""
    if not isinstance(model, Model):
        raise TypeError(f"register takes a Model instance, got {type(model).__name__}")
    check_protocol(model)
    if model.name in MODEL_NAMES or (model.name in _registered and not replace):
        raise ValueError(f"model {model.name!r} is already registered")
    _registered[model.name] = model
    return model


def unregister(name: str) -> None:
    """Remove a model added by ``register`` (a test's, when it is done)."""
    _registered.pop(name, None)


def model_names() -> tuple[str, ...]:
    """Every model ``get_model`` knows: the built-in ones, then the registered ones."""
    return MODEL_NAMES + tuple(_registered)


def get_model(name: str) -> Model:
    """The ``Model`` instance registered as ``name``."""
    if name in _registered:
        return _registered[name]
    if name not in MODEL_NAMES:
        from ..usermodel import from_environment  # a job's model of your own

        found = from_environment(name)
        if found is not None:
            return found
        raise KeyError(f"unknown model {name!r} (known: {', '.join(model_names())})")
    package = "svibench.models.posteriordb" if name in POSTERIORDB else "svibench.models"
    return import_module(f"{package}.{name}").MODEL

