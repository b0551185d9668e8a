"""Datasets: simulate and save, load for fitting.

A dataset loaded for fitting is a ``Problem``: its model resolved once, with the
arrays, static values and the bound model callable that every later step (the fit,
its draws, PSIS, the predictive mocks, the reference) works on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pandas as pd

from . import io
from .models import Model, get_model


@dataclass(frozen=True, eq=False)  # arrays have no truth value: compare by identity
class Problem:
    """One dataset bound to its model.

    ``arrays``: ``{name: jax array}`` (e.g. ``y`` (n,)), passed to jitted code as
    arguments; ``static``: plate sizes, bound into ``fn``; ``meta``: the dataset's
    JSON (``model``, ``dataset``, ``settings``, ``truth``, ...); ``fn``: ``model.model``
    with ``static`` bound, called as ``fn(**arrays)``.
    """

    model: Model
    arrays: dict
    static: dict
    meta: dict
    fn: Callable


def as_model(model: str | Model) -> Model:
    """``model`` itself, or the registered model of that name."""
    return model if isinstance(model, Model) else get_model(model)


def bind(model: str | Model, arrays: dict, static: dict, meta: dict | None = None) -> Problem:
    """A ``Problem`` of prepared ``arrays`` and ``static`` (no files: tests, studies)."""
    model = as_model(model)
    return Problem(model=model, arrays=arrays, static=static, meta=meta or {},
                   fn=model.bind(static))


def simulate_dataset(model: str | Model, dataset: str, settings: dict, csv_path, json_path):
    """Write ``data/{model}/{dataset}.csv`` and its ``.json`` (truth and settings)."""
    model = as_model(model)
    seed = int(settings["seed"])
    gen = {k: v for k, v in settings.items() if k != "seed"}
    df, truth = model.simulate(gen, seed)
    io.write_csv(csv_path, df)
    io.write_json(json_path, {"model": model.name, "dataset": dataset, "seed": seed,
                              "settings": gen, "truth": truth, "rows": len(df)})


def make_dataset(model: str, dataset: str, settings: dict, csv_path, json_path):
    """A dataset entry of the config -> ``data/{model}/{dataset}.csv`` and ``.json``:
    simulated from its seed, or (``{csv: path}``) the user's file, validated, or
    (``{data: path}``) the data of a model of your own (``svibench.usermodel``)."""
    if "data" in settings:  # a model of your own: its data file
        from .usermodel import import_dataset

        import_dataset(model, dataset, settings, csv_path, json_path)
    elif "csv" in settings:
        from .usercsv import import_csv

        import_csv(model, dataset, settings["csv"], csv_path, json_path)
    else:
        simulate_dataset(model, dataset, settings, csv_path, json_path)


def load_problem(model: str | Model, csv_path, json_path) -> Problem:
    """The ``Problem`` of a dataset's CSV and JSON (see ``Model.prepare``)."""
    model = as_model(model)
    meta = io.read_json(json_path)
    arrays, static = model.prepare(read_csv(csv_path), meta["settings"])
    return Problem(model=model, arrays=arrays, static=static, meta=meta, fn=model.bind(static))


def load_dataset(model: str | Model, csv_path, json_path):
    """``(arrays, static, meta)`` of a dataset: ``load_problem``'s parts."""
    p = load_problem(model, csv_path, json_path)
    return p.arrays, p.static, p.meta


def read_csv(csv_path) -> pd.DataFrame:
    """A dataset's CSV as written (an empty file: no columns)."""
    # round_trip: pandas' default fast parser can be 1 ulp off on the 17 digits that
    # io.write_csv writes; this reads back exactly the numbers that were written.
    if not Path(csv_path).stat().st_size:
        return pd.DataFrame()
    return pd.read_csv(csv_path, float_precision="round_trip")


def bound_model(model: str | Model, static: dict):
    """The model callable with its static arguments (plate sizes) bound."""
    return as_model(model).bind(static)
