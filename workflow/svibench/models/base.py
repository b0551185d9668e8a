"""The model protocol: what every model family states about itself, once.

A model is a subclass of ``Model`` and one instance of it in the registry
(``svibench.models.get_model``). The rest of the package reads only what is declared
here: no code outside ``models/`` probes a model for optional attributes or names a
model to decide what to do with it.

Shapes below: ``n`` observations, ``S`` draws or mock datasets, ``k`` statistics.
Latent draws are tables with one column per scalar latent, vector sites flattened
as ``m[0]``, ``m[1]``, ...
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Callable

import numpy as np
import pandas as pd

OBSERVED = "y"  # every model's observed site, and the CSV column of its observations
REFERENCE_KINDS = ("exact", "grid", "nuts", "posteriordb")
FIGURES = ("density", "groups")


class Model(ABC):
    """One model family: simulation, data preparation, the NumPyro model, and what it
    offers beyond them (capabilities below, read by the workflow).

    Capabilities (class attributes; subclasses set their own):

    - ``name``: the registry key, also the ``{model}`` of every path;
    - ``description``: one line for the report;
    - ``defaults``: generation settings and their defaults (the keys a config's
      dataset entry may set besides ``seed``);
    - ``has_observations``: whether the model conditions on data (``y``); the fixed
      2-D densities do not, so they get no posterior predictive check;
    - ``csv_columns``: the columns of a user's own CSV in the order ``prepare``
      reads them; ``()``: the model takes no user CSV;
    - ``reference_kind``: how the reference posterior is drawn: ``exact``
      (``exact_posterior``), ``grid`` (``exact_posterior`` on a grid of
      ``cells`` x ``cells``), ``nuts`` (long-run NUTS on ``reference_model``) or
      ``posteriordb`` (published draws: ``published_reference``);
    - ``reported``: names of deterministic sites that are part of the draws beside
      the latent sample sites (e.g. a Stan model's transformed parameters that its
      reference reports);
    - ``figures``: extra per-dataset figures, among ``density`` (2-D density against
      each guide's draws; needs ``log_density_2d``) and ``groups`` (per-group
      estimates of sites ``m[j]``, ``c[j]`` of a ``group`` column);
    - ``modes``: None, or names of the posterior's modes (``mode_labels`` gives each
      draw's index into them), scored as the mass a fit puts on each;
    - ``guides``: hand-written SVI methods (names in ``svibench.methods``) written
      for this model's sites;
    - ``ppc_statistics``: what a posterior predictive mock dataset is reduced to by
      ``ppc_statistic``: ``()`` keeps the observations themselves (``y[0]``,
      ``y[1]``, ...), else the names of its (count) statistics, drawn as histograms;
    - ``dims``: names of the axes of vector sites, ``{site: [dim, ...]}`` (one per
      axis), for the ArviZ InferenceData (``posterior.nc``); a site not named gets
      ArviZ's ``{site}_dim_0``, ...
    """

    name: str
    description: str
    defaults: dict
    has_observations: bool = True
    csv_columns: tuple[str, ...] = ()
    reference_kind: str = "nuts"
    figures: tuple[str, ...] = ()
    modes: tuple[str, ...] | None = None
    guides: tuple[str, ...] = ()
    reported: tuple[str, ...] = ()
    ppc_statistics: tuple[str, ...] = ()
    dims: dict[str, list[str]] = {}

    # -- required ---------------------------------------------------------------

    @abstractmethod
    def simulate(self, settings: dict, seed: int) -> tuple[pd.DataFrame, dict]:
        """A dataset and its true latents, deterministic in ``seed``.

        ``settings``: ``defaults`` with a dataset's values. Returns ``(frame, truth)``:
        the CSV's rows (``n`` observations; a model without observations writes one
        row of its shape parameters) and ``{flat latent name: float}`` (may be empty).
        """

    @abstractmethod
    def prepare(self, df: pd.DataFrame, settings: dict) -> tuple[dict, dict]:
        """``(arrays, static)`` for fitting a dataset.

        ``arrays``: ``{name: jax array}``, e.g. ``y`` (n,), passed to jitted code as
        arguments (one compiled program serves any data of the same shapes);
        ``static``: plain Python values (plate sizes) bound into ``model``.
        """

    @abstractmethod
    def model(self, **kwargs) -> None:
        """The NumPyro model, called as ``model(**static, **arrays)``; observed sites
        take ``y`` (``y=None``: it samples them)."""

    @abstractmethod
    def latent_dim(self, settings: dict) -> int:
        """Number of scalar latents of a dataset generated with ``settings`` (``defaults``
        with a dataset's values); guides that need more than one skip a model of 1."""

    # -- optional, with defaults --------------------------------------------------

    def check_settings(self, settings: dict) -> None | str | tuple[str, str]:
        """The first problem of a dataset's ``settings``: ``None`` (none), a message,
        or ``(key, message)`` (see ``models.checks``); reported when the config is read."""
        return None

    def exact_posterior(self, arrays: dict, static: dict, **options) -> Callable | None:
        """A sampler ``(rng: numpy Generator, S) -> DataFrame`` (S rows, one column per
        scalar latent) of the exact posterior, for ``reference_kind`` ``exact`` or
        ``grid`` (``options``: ``cells`` per axis of the grid); None otherwise."""
        return None

    def published_reference(self) -> tuple[pd.DataFrame, int, dict] | None:
        """``(draws, chains, record)`` of a published reference, for ``reference_kind``
        ``posteriordb``: its draws (chain-major rows, one column per quantity in our
        flat names), its number of chains, and the record of how it was made and the
        checks it passed; None otherwise."""
        return None

    def reference_model(self, model_fn: Callable) -> Callable:
        """The model the long-run NUTS reference runs: the same posterior, possibly
        reparameterised (its latent sites stay in the samples); the model itself here."""
        return model_fn

    def ppc_statistic(self, y: np.ndarray) -> tuple[list[str], np.ndarray]:
        """``(names, values (S, k))`` of mock (or observed, S = 1) datasets ``y (S, n)``:
        the observations themselves here, ``y[i]`` (k = n)."""
        return [f"{OBSERVED}[{i}]" for i in range(y.shape[1])], y

    def mode_labels(self, draws: pd.DataFrame) -> np.ndarray:
        """Index into ``modes`` of each of ``S`` draws: (S,) int; models with ``modes``."""
        raise NotImplementedError(f"model {self.name} declares no modes")

    def log_density_2d(self, settings: dict) -> tuple[Callable, float]:
        """``(logpdf(x, y), half_width)`` of a 2-D target for the ``density`` figure:
        unnormalised log density of numpy arrays ``x, y`` (any equal shapes), drawn on
        the square ``(-half_width, half_width)^2``; models with ``density``."""
        raise NotImplementedError(f"model {self.name} has no 2-D density figure")

    # -- derived ----------------------------------------------------------------

    def bind(self, static: dict) -> Callable:
        """The model callable with its ``static`` arguments (plate sizes) bound; it
        carries ``reported`` (read by ``engine.draws.latent_sites``)."""
        from functools import partial

        fn = partial(self.model, **static)
        fn.reported = tuple(self.reported)
        return fn

    def __repr__(self) -> str:
        return f"<model {self.name}: {type(self).__name__}>"


def check_protocol(model: Model) -> None:
    """Raise ``TypeError`` where ``model``'s capabilities contradict each other or the
    methods it overrides (a mistake found when it is registered, not in a job)."""
    cls = type(model)
    where = f"model {getattr(model, 'name', cls.__name__)!r}"

    def overrides(method: str) -> bool:
        return getattr(cls, method) is not getattr(Model, method)

    for attr in ("name", "description", "defaults"):
        if not hasattr(model, attr):
            raise TypeError(f"{where}: sets no {attr!r}")
    if not (isinstance(model.name, str) and model.name
            and all(c.isalnum() or c == "_" for c in model.name)):
        raise TypeError(f"{where}: name must be letters, digits and '_'")
    if model.reference_kind not in REFERENCE_KINDS:
        raise TypeError(f"{where}: reference_kind {model.reference_kind!r} is not one of "
                        f"{', '.join(REFERENCE_KINDS)}")
    if model.reference_kind == "posteriordb" and not overrides("published_reference"):
        raise TypeError(f"{where}: reference_kind 'posteriordb' needs published_reference")
    if model.reference_kind in ("exact", "grid") and not overrides("exact_posterior"):
        raise TypeError(f"{where}: reference_kind {model.reference_kind!r} needs exact_posterior")
    unknown = set(model.figures) - set(FIGURES)
    if unknown:
        raise TypeError(f"{where}: unknown figures {sorted(unknown)} (known: {', '.join(FIGURES)})")
    if "density" in model.figures and not overrides("log_density_2d"):
        raise TypeError(f"{where}: the density figure needs log_density_2d")
    if model.modes is not None and not overrides("mode_labels"):
        raise TypeError(f"{where}: modes need mode_labels")
    if model.ppc_statistics and not overrides("ppc_statistic"):
        raise TypeError(f"{where}: ppc_statistics need ppc_statistic")
