"""Posterior predictive checks from stored draws.

Mock datasets are drawn with NumPyro's ``Predictive`` from the model and a set of
stored posterior draws (a fit's or the reference's), so the likelihood is the
model's own. A mock dataset is reduced by the model's ``ppc_statistic(y) -> (names,
values)``: a count (``Model.ppc_statistics``) or the observations themselves, one
column ``y[i]`` per point.

``mocks.parquet`` (one row per mock dataset, one column per statistic) is what the
figures draw; ``coverage`` is the number that goes into ``metrics.json``: the share of
observed statistics inside the central 90% interval of the mocks.
"""

from __future__ import annotations

import functools

import inspect

import numpy as np
import pandas as pd

from .data import Problem, as_model
from .models import Model
from .models.base import OBSERVED  # every model's observed site


def unflatten(draws: pd.DataFrame, sites: dict) -> dict:
    """Flat draws (``m[0]``, ``m[1]``, ...) -> ``{site: (n, *shape)}``; the inverse of
    ``engine.draws.flatten``."""
    from .engine.draws import flat_names

    out = {}
    for name, shape in sites.items():
        cols = flat_names(name, shape)
        arr = draws[cols].to_numpy(dtype=np.float32)
        out[name] = arr.reshape((len(draws),) + tuple(shape))
    return out


def statistic(model: Model, y: np.ndarray) -> tuple[list[str], np.ndarray]:
    """``(names, values (S, k))`` of mock (or observed, S = 1) datasets ``y (S, n)``."""
    return model.ppc_statistic(np.atleast_2d(np.asarray(y, dtype=np.float64)))


def model_kwargs(model: Model, arrays: dict) -> dict:
    """Keyword arguments that make the model *sample* its observations."""
    kw = {k: v for k, v in arrays.items() if k != OBSERVED}
    kw[OBSERVED] = None
    params = inspect.signature(model.model).parameters
    if "n" in params and OBSERVED in arrays:  # a plate sized by the data
        kw["n"] = int(np.asarray(arrays[OBSERVED]).shape[0])
    return kw


@functools.lru_cache(maxsize=8)
def _predict_program(fn, fixed: tuple):
    """The jitted mock-data program of model function ``fn`` (its sizes and ``y=None``
    in ``fixed``): built once a process, so a batch's seeds trace and compile it once."""
    import jax
    from numpyro.infer import Predictive

    def predict(key, samples, data):
        pred = Predictive(fn, posterior_samples=samples, return_sites=[OBSERVED])
        return pred(key, **data, **dict(fixed))[OBSERVED]

    # draws and data as arguments: one compiled program per model and data shape,
    # found in JAX's persistent cache by every later fit of the dataset
    return jax.jit(predict)


def mocks(problem: Problem, draws: pd.DataFrame, n: int, seed: int,
          sites: dict | None = None) -> pd.DataFrame:
    """``n`` mock datasets (reduced to the model's statistic), one per evenly thinned
    posterior draw of ``draws`` (one column per scalar latent of ``problem``; its
    ``sites``, ``{site: shape}``, found from the model when not given)."""
    import jax

    from .engine.draws import latent_sites
    from .metrics import thin

    fn, arrays = problem.fn, problem.arrays
    sites = latent_sites(fn, arrays) if sites is None else sites
    idx = thin(np.arange(len(draws)), n)
    samples = unflatten(draws.iloc[idx].reset_index(drop=True), sites)
    kw = model_kwargs(problem.model, arrays)
    data = {k: v for k, v in kw.items() if v is not None and not isinstance(v, int)}
    fixed = tuple(sorted((k, v) for k, v in kw.items() if k not in data))  # y=None, sizes
    y = np.asarray(_predict_program(fn, fixed)(jax.random.PRNGKey(seed), samples, data))
    names, values = statistic(problem.model, y.reshape(len(idx), -1))
    return pd.DataFrame(values.astype(np.float64), columns=names)


def observed(model: str | Model, arrays: dict) -> pd.Series:
    """The observed statistic, indexed like the mocks' columns."""
    names, values = statistic(as_model(model), np.asarray(arrays[OBSERVED])[None, :])
    return pd.Series(values[0], index=names)


def observed_in_csv(model: str | Model, csv_path) -> pd.Series:
    """``observed`` from a dataset's CSV, without JAX: its ``y`` column as the model
    sees it (float32, as ``prepare`` casts it)."""
    from .data import read_csv

    y = read_csv(csv_path)[OBSERVED].to_numpy().astype(np.float32)
    return observed(model, {OBSERVED: y})


def interval(mock: pd.DataFrame, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Central ``level`` interval of each statistic over the mock datasets."""
    lo = (1 - level) / 2
    q = mock.quantile([lo, 1 - lo]).to_numpy()
    return q[0], q[1]


def coverage(mock: pd.DataFrame, obs: pd.Series, level: float = 0.9) -> float | None:
    """Share of observed statistics inside the central ``level`` interval (inclusive)."""
    if mock.empty or obs.empty:
        return None
    lo, hi = interval(mock[obs.index], level)
    v = obs.to_numpy()
    return float(np.mean((v >= lo) & (v <= hi)))


def summary(mock: pd.DataFrame, obs: pd.Series, reference: pd.DataFrame | None) -> dict:
    """The ``predictive`` entry of ``metrics.json``."""
    out = {"statistic": "heads" if list(obs.index) == ["heads"] else "observations",
           "mocks": int(len(mock)), "points": int(len(obs)),
           "coverage90": coverage(mock, obs, 0.9), "coverage50": coverage(mock, obs, 0.5)}
    if reference is not None and not reference.empty:
        out["reference_coverage90"] = coverage(reference, obs, 0.9)
        out["reference_coverage50"] = coverage(reference, obs, 0.5)
    return out
