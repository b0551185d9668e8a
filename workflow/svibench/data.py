"""Datasets: simulate and save, load for fitting."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import io
from .models import get_model


def simulate_dataset(model: str, dataset: str, settings: dict, csv_path, json_path):
    """Write ``data/{model}/{dataset}.csv`` and its ``.json`` (truth and settings)."""
    mod = get_model(model)
    seed = int(settings["seed"])
    gen = {k: v for k, v in settings.items() if k != "seed"}
    df, truth = mod.simulate(gen, seed)
    io.write_csv(csv_path, df)
    io.write_json(json_path, {"model": model, "dataset": dataset, "seed": seed,
                              "settings": gen, "truth": truth, "rows": len(df)})


def make_dataset(model: str, dataset: str, settings: dict, csv_path, json_path):
    """A dataset entry of the config -> ``data/{model}/{dataset}.csv`` and ``.json``:
    simulated from its seed, or (``{csv: path}``) the user's file, validated."""
    if "csv" in settings:
        from .usercsv import import_csv

        import_csv(model, dataset, settings["csv"], csv_path, json_path)
    else:
        simulate_dataset(model, dataset, settings, csv_path, json_path)


def load_dataset(model: str, csv_path, json_path):
    """Return ``(arrays, static, meta)`` for fitting: see ``models`` for the meaning."""
    mod = get_model(model)
    meta = io.read_json(json_path)
    arrays, static = mod.prepare(read_csv(csv_path), meta["settings"])
    return arrays, static, meta


def read_csv(csv_path) -> pd.DataFrame:
    """A dataset's CSV as written (an empty file: no columns)."""
    # round_trip: pandas' default fast parser can be 1 ulp off on the 17 digits that
    # io.write_csv writes; this reads back exactly the numbers that were written.
    if not Path(csv_path).stat().st_size:
        return pd.DataFrame()
    return pd.read_csv(csv_path, float_precision="round_trip")


def bound_model(model: str, static: dict):
    """The model callable with its static arguments (plate sizes) bound."""
    from functools import partial

    fn = get_model(model).model
    return partial(fn, **static) if static else fn
