"""Model registry: one module per model family.

Each module defines:

- ``NAME``, ``DESCRIPTION``, ``DATA_DRIVEN`` (False for the fixed 2-D densities),
  ``COLUMNS`` (CSV columns the model reads), ``DEFAULTS`` (generation settings);
- ``simulate(settings, seed) -> (DataFrame, truth)``: a dataset and its true latents
  (flattened names, e.g. ``m[0]``), deterministic in ``seed``;
- ``prepare(df, settings) -> (arrays, static)``: arrays are passed to jitted code
  as arguments, static values (plate sizes) are bound into the model;
- ``model(**static, **arrays)``: the NumPyro model; observed sites take ``y``;
- ``exact_posterior(arrays, static)`` (optional): a sampler ``(rng, n) -> DataFrame``;
  ``REFERENCE_KIND`` (optional, default ``exact``) names how it is computed.
"""

from importlib import import_module

MODEL_NAMES = ("coin", "corrgauss", "multimodal", "linreg", "hier")


def get_model(name: str):
    """Return the module implementing model ``name``."""
    if name not in MODEL_NAMES:
        raise KeyError(f"unknown model {name!r} (known: {', '.join(MODEL_NAMES)})")
    return import_module(f"svibench.models.{name}")


def reference_kind(name: str) -> str:
    """How model ``name``'s reference posterior is drawn: ``exact`` or ``grid`` (its
    ``exact_posterior``), else ``nuts`` (long-run NUTS; see ``svibench.reference``)."""
    mod = get_model(name)
    if hasattr(mod, "exact_posterior"):
        return getattr(mod, "REFERENCE_KIND", "exact")
    return "nuts"
