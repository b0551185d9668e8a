"""Your own model: a NumPyro model in a Python file of yours, named in a study config.

A ``models:`` entry with a ``module:`` key is a model of your own::

    models:
      my_model:                                   # its name: letters, digits, '_'
        module: examples/own_model/model.py       # the file that defines it
        datasets:
          small: {data: examples/own_model/data.json}
          given: {data: examples/own_model/data.json,
                  reference_draws: examples/own_model/reference.csv}
        methods: [nuts, auto_normal, auto_mvn]    # or: all

The file (the only code of yours that runs; it is imported with ``importlib`` from its
path, never evaluated or unpickled) must define ``model``, a NumPyro model called as
``model(**data)``. It may define ``reported`` (names of ``numpyro.deterministic``
sites that are part of the draws, e.g. transformed parameters), ``description`` (one
line for the report) and ``dims`` (``{site: [dim, ...]}`` for ArviZ).

- **Data** (``data:``): a JSON object ``{argument: value}`` or a CSV (one column per
  argument, one row per observation). A list (nested lists: an array) becomes a JAX
  array, int32 when every element is an integer, else float32; a scalar (a JSON
  number or boolean) is passed as it is, bound into the model before tracing, so it
  may size a plate. The keys must be ``model``'s arguments, and every argument
  without a default must have one.
- **Latents** are the model's unobserved sample sites, named as the sites; the draws
  flatten a vector or matrix site to ``site[i]``, ``site[i,j]`` (0-based), as every
  other model's. Sample sites with ``obs=`` are observations.
- **Reference draws** (``reference_draws:``, optional): a CSV or Parquet file with one
  column per scalar latent in those flat names (a site either with all its columns
  or none; at least one site) and optionally a ``chain`` column of integer chain
  labels (equal draws per chain). They are the reference the fits are scored against
  (reference kind ``given``); without them the workflow runs a long-run NUTS reference
  of its own (kind ``nuts``), held to the same standard as the built-in models'.

Everything is checked when the config is read, before any job runs: the file is
imported, the data read and the model traced on it (``jax.eval_shape``: shapes only,
on the CPU), the reference draws' columns matched to its latents. Each problem is a
``UserModelError`` of one line naming the file; ``svibench.config`` prefixes the key.

Jobs run in processes of their own: the rules' ``common.smk`` puts every user model's
path in the environment variable ``SVIBENCH_USER_MODELS`` (``environment``), which
jobs inherit, and ``svibench.models.get_model`` imports the file from there
(``from_environment``) when a job asks for the model by name.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import json
import math
import os
import sys
import traceback
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from .models.base import Model

ENV = "SVIBENCH_USER_MODELS"
DATA_SUFFIXES = (".json", ".csv")
DRAWS_SUFFIXES = (".csv", ".parquet", ".pq")
CHAIN = "chain"          # the optional chain column of reference draws
MIN_REFERENCE_DRAWS = 100


class UserModelError(ValueError):
    """A bad model file, data file or reference draws; ``str(err)`` is one line.
    ``key``: the config key of the file at fault (``module``, ``data``,
    ``reference_draws``), where the caller does not know it."""

    def __init__(self, message: str, key: str | None = None):
        super().__init__(message)
        self.key = key


def _one_line(text) -> str:
    lines = [ln.strip() for ln in str(text).strip().splitlines() if ln.strip()]
    return lines[0] if lines else ""


def _failure(err: BaseException, path: Path) -> str:
    """``Type: message`` of an exception, with the line of ``path`` it was raised from."""
    line = None
    if isinstance(err, SyntaxError) and err.filename and \
            Path(err.filename).resolve() == path.resolve():
        line = err.lineno
    else:
        for frame in traceback.extract_tb(err.__traceback__):
            if Path(frame.filename).resolve() == path.resolve():
                line = frame.lineno
    at = f" (line {line})" if line else ""
    msg = _one_line(err.msg if isinstance(err, SyntaxError) else err)
    return f"{type(err).__name__}{at}: {msg}" if msg else f"{type(err).__name__}{at}"


def _existing_file(path, what: str, suffixes) -> Path:
    if not isinstance(path, str) or not path.strip():
        raise UserModelError(f"must be the path of {what}, got {path!r}")
    p = Path(path)
    if not p.exists():
        raise UserModelError(f"{path}: file does not exist")
    if not p.is_file():
        raise UserModelError(f"{path}: is not a file")
    if p.suffix.lower() not in suffixes:
        raise UserModelError(f"{path}: {what} must end in {' or '.join(suffixes)}")
    return p


# --------------------------------------------------------------------------- the module

def load_module(path, name: str):
    """Import the file ``path`` as a module (``svibench_user_{name}``); check its contract."""
    p = _existing_file(path, "a Python file", (".py",))
    modname = f"svibench_user_{name}"
    spec = importlib.util.spec_from_file_location(modname, p)
    module = importlib.util.module_from_spec(spec)
    sys.modules[modname] = module  # as an import would (dataclasses, pickling-free typing)
    try:
        spec.loader.exec_module(module)
    except Exception as err:  # noqa: BLE001  (anything the user's file raises: one line)
        sys.modules.pop(modname, None)
        raise UserModelError(f"{path}: import failed: {_failure(err, p)}") from None
    fn = getattr(module, "model", None)
    if fn is None:
        raise UserModelError(f"{path}: defines no 'model' (a NumPyro model called as "
                             "model(**data))")
    if not callable(fn):
        raise UserModelError(f"{path}: 'model' is a {type(fn).__name__}, not a function")
    reported = getattr(module, "reported", ())
    if isinstance(reported, str) or not all(isinstance(r, str) for r in reported):
        raise UserModelError(f"{path}: 'reported' must be a list of site names, got {reported!r}")
    description = getattr(module, "description", None)
    if description is not None and not isinstance(description, str):
        raise UserModelError(f"{path}: 'description' must be a string")
    dims = getattr(module, "dims", {})
    if not isinstance(dims, dict):
        raise UserModelError(f"{path}: 'dims' must be a mapping {{site: [dim, ...]}}")
    return module


class UserModel(Model):
    """A model from a file of the user's: its data are imported, not simulated; its
    reference is given draws or long-run NUTS; no posterior predictive check (which of
    its sample sites is "the" observation is not known)."""

    defaults: dict = {}
    has_observations = False
    reference_kind = "nuts"

    def __init__(self, name: str, path, module):
        self.name = name
        self.path = str(path)
        self.module = module
        self.reported = tuple(getattr(module, "reported", ()))
        self.dims = dict(getattr(module, "dims", {}))
        self.description = getattr(module, "description", None) or f"your own model ({path})"
        self.checked_dims: dict[str, int] = {}  # latent dimension of each dataset checked

    def model(self, **kwargs) -> None:
        return self.module.model(**kwargs)

    def bind(self, static: dict):
        fn = partial(self.module.model, **static)
        fn.reported = self.reported
        return fn

    def simulate(self, settings: dict, seed: int):
        raise NotImplementedError(f"model {self.name} is your own: its datasets are files "
                                  "({data: path}), not simulations")

    def prepare(self, df: pd.DataFrame, settings: dict):
        """The dataset's values, stored in its JSON (``settings.values``) by
        ``import_dataset``."""
        return split_values(settings["values"])

    def latent_dim(self, settings: dict) -> int:
        if "values" in settings or "data" in settings:
            values = settings.get("values")
            if values is None:
                values = read_data(settings["data"])
            arrays, static = split_values(values)
            return sum(int(np.prod(s)) for s in latents(self, arrays, static).values())
        # the model's size in general (which methods apply): its smallest dataset's
        return min(self.checked_dims.values()) if self.checked_dims else 1


# --------------------------------------------------------------------------- data

def read_data(path) -> dict:
    """``{argument: value}`` of a data file (JSON object or CSV); values as JSON gives
    them (lists, numbers), a CSV's columns as lists."""
    p = _existing_file(path, "a data file", DATA_SUFFIXES)
    if p.suffix.lower() == ".json":
        try:
            values = json.loads(p.read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            raise UserModelError(f"{path}: not UTF-8 text") from None
        except json.JSONDecodeError as err:
            raise UserModelError(f"{path}: line {err.lineno}: JSON does not parse "
                                 f"({err.msg})") from None
        if not isinstance(values, dict):
            raise UserModelError(f"{path}: must be a JSON object {{argument: value}}, "
                                 f"not a {type(values).__name__}")
    else:
        try:
            frame = pd.read_csv(p, skipinitialspace=True, float_precision="round_trip")
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
            raise UserModelError(f"{path}: not a readable CSV ({_one_line(err)})") from None
        if frame.empty:
            raise UserModelError(f"{path}: no data rows")
        frame.columns = [str(c).strip() for c in frame.columns]
        values = {}
        for col in frame.columns:
            num = pd.to_numeric(frame[col], errors="coerce")
            bad = np.flatnonzero(num.isna().to_numpy() | ~np.isfinite(num.to_numpy(dtype=float)))
            if bad.size:
                raise UserModelError(f"{path}: column {col!r}, row {bad[0] + 1}: not a finite "
                                     f"number: {frame[col].iloc[bad[0]]!r}")
            values[col] = num.tolist()
    for key, value in values.items():
        _check_value(path, key, value)
    return values


def _check_value(path, key, value):
    if isinstance(value, (bool, int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise UserModelError(f"{path}: key {key!r}: not a finite number")
        return
    if not isinstance(value, list):
        raise UserModelError(f"{path}: key {key!r}: a {type(value).__name__}; values are "
                             "numbers or (nested) lists of numbers")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (ValueError, TypeError):
        raise UserModelError(f"{path}: key {key!r}: not a rectangular array of numbers") from None
    if arr.size == 0:
        raise UserModelError(f"{path}: key {key!r}: an empty array")
    if not np.isfinite(arr).all():
        raise UserModelError(f"{path}: key {key!r}: not every value is a finite number")


def _all_integers(value) -> bool:
    if isinstance(value, list):
        return all(_all_integers(v) for v in value)
    return isinstance(value, int) and not isinstance(value, bool)


def split_values(values: dict) -> tuple[dict, dict]:
    """``(arrays, static)``: lists as JAX arrays (int32 if all integers, else float32),
    scalars as they are (bound into the model)."""
    import jax.numpy as jnp

    arrays, static = {}, {}
    for key, value in values.items():
        if isinstance(value, list):
            dtype = jnp.int32 if _all_integers(value) else jnp.float32
            arrays[key] = jnp.asarray(np.asarray(value), dtype)
        else:
            static[key] = value
    return arrays, static


def check_arguments(fn, values: dict, data_path, module_path) -> None:
    """The data's keys against ``model``'s arguments: none unknown, none missing."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return  # no signature to check against (a builtin, a C function)
    kinds = inspect.Parameter
    named = [n for n, p in params.items() if p.kind in (kinds.POSITIONAL_OR_KEYWORD,
                                                         kinds.KEYWORD_ONLY)]
    listed = f"model({', '.join(named)}) in {module_path}"
    if not any(p.kind == kinds.VAR_KEYWORD for p in params.values()):
        for key in values:
            if key not in named:
                raise UserModelError(f"{data_path}: key {key!r} is not an argument of {listed}")
    for n in named:
        if params[n].default is kinds.empty and n not in values:
            raise UserModelError(f"{data_path}: no value for argument {n!r} of {listed}")


def latents(model: UserModel, arrays: dict, static: dict) -> dict:
    """``{site: shape}`` of the model's latents (and reported sites) on these data."""
    from .engine.draws import latent_sites

    return latent_sites(model.bind(static), arrays)


def _cpu_only():
    """Trace on the CPU: the process that reads the config is no job and must not take
    a GPU (JAX would preallocate its memory). Leaves the environment alone."""
    import jax

    try:
        jax.config.update("jax_platforms", "cpu")
    except Exception:  # noqa: BLE001  (backends already started: keep them)
        pass


def check_dataset(model: UserModel, settings: dict) -> dict:
    """Check ``{data, reference_draws}`` of a dataset of ``model``; return the latents
    ``{site: shape}``. Raises ``UserModelError``."""
    values = read_data(settings["data"])
    check_arguments(model.module.model, values, settings["data"], model.path)
    _cpu_only()
    arrays, static = split_values(values)
    try:
        sites = latents(model, arrays, static)
    except Exception as err:  # noqa: BLE001  (the user's model on the user's data)
        raise UserModelError(f"{settings['data']}: model(**data) of {model.path} fails on "
                             f"these data: {_failure(err, Path(model.path))}") from None
    missing = [r for r in model.reported if r not in sites]
    if missing:
        raise UserModelError(f"{model.path}: reported name {missing[0]!r} is not a "
                             "numpyro.deterministic site of model", key="module")
    if not [s for s in sites if s not in model.reported]:
        raise UserModelError(f"{model.path}: model has no latent sample site (every "
                             "sample site is observed)", key="module")
    model.checked_dims[settings["data"]] = sum(int(np.prod(s)) for n, s in sites.items()
                                        if n not in model.reported)
    if settings.get("reference_draws") is not None:
        try:
            read_draws(settings["reference_draws"], sites)
        except UserModelError as err:
            raise UserModelError(str(err), key="reference_draws") from None
    return sites


# --------------------------------------------------------------------------- reference draws

def read_draws(path, sites: dict) -> tuple[pd.DataFrame, int]:
    """``(draws, chains)`` of a reference draws file: columns in the model's flat order
    (the sites it has), chain-major rows. Raises ``UserModelError``."""
    from .engine.draws import flat_names

    p = _existing_file(path, "reference draws", DRAWS_SUFFIXES)
    try:
        if p.suffix.lower() == ".csv":  # round_trip: the numbers as written, to the last bit
            frame = pd.read_csv(p, skipinitialspace=True, float_precision="round_trip")
        else:
            frame = pd.read_parquet(p)
    except Exception as err:  # noqa: BLE001  (a file pandas cannot read: one line)
        raise UserModelError(f"{path}: cannot be read ({_one_line(err)})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    flat = {name: flat_names(name, tuple(shape)) for name, shape in sites.items()}
    known = {c for cols in flat.values() for c in cols}
    for col in frame.columns:
        if col != CHAIN and col not in known:
            raise UserModelError(f"{path}: column {col!r} is not a latent of the model "
                                 f"(latents: {', '.join(c for cols in flat.values() for c in cols)})")
    columns = []
    for name, cols in flat.items():
        have = [c for c in cols if c in frame.columns]
        if have and len(have) < len(cols):
            lost = next(c for c in cols if c not in frame.columns)
            raise UserModelError(f"{path}: column {lost!r} missing (site {name!r} needs all "
                                 f"of its {len(cols)} columns, or none)")
        columns += have
    if not columns:
        raise UserModelError(f"{path}: no column of a latent (latents: "
                             f"{', '.join(c for cols in flat.values() for c in cols)})")
    if len(frame) < MIN_REFERENCE_DRAWS:
        raise UserModelError(f"{path}: {len(frame)} draws; a reference needs at least "
                             f"{MIN_REFERENCE_DRAWS}")
    for col in columns:
        num = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(~np.isfinite(num))
        if bad.size:
            raise UserModelError(f"{path}: column {col!r}, row {bad[0] + 1}: not a finite "
                                 f"number: {frame[col].iloc[bad[0]]!r}")
    chains = 1
    if CHAIN in frame.columns:
        labels = pd.to_numeric(frame[CHAIN], errors="coerce").to_numpy(dtype=float)
        if not (np.isfinite(labels).all() and (labels == np.round(labels)).all()):
            raise UserModelError(f"{path}: column 'chain' must hold integer chain labels")
        counts = pd.Series(labels).value_counts()
        if counts.nunique() != 1:
            raise UserModelError(f"{path}: chains of unequal length ({counts.min()} to "
                                 f"{counts.max()} draws); give each chain as many")
        chains = len(counts)
        frame = frame.iloc[np.argsort(labels, kind="stable")]
    draws = frame[columns].apply(pd.to_numeric).astype(np.float64).reset_index(drop=True)
    return draws, chains


def _shown(path) -> str:
    """``path`` relative to the working directory where it lies inside it (a job gets
    the absolute path), else as it is."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# --------------------------------------------------------------------------- the workflow

def import_dataset(model: str, dataset: str, settings: dict, csv_path, json_path) -> dict:
    """The ``simulate`` rule for a dataset of a user model: its values into
    ``data/{model}/{dataset}.json`` (``settings.values``, where ``prepare`` reads them),
    with the paths and sha256 of the model file, data file and reference draws; the CSV
    holds a CSV's columns (empty for JSON data)."""
    from . import io
    from .models import get_model

    mod = get_model(model)
    values = read_data(settings["data"])
    meta = {"model": model, "dataset": dataset, "source": "user", "module": _shown(mod.path),
            "module_sha256": sha256(mod.path), "data": settings["data"],
            "sha256": sha256(settings["data"]), "seed": None,
            "reference_draws": settings.get("reference_draws"),
            "settings": {"data": settings["data"], "values": values},
            "truth": {}, "rows": None}
    if meta["reference_draws"]:
        meta["reference_sha256"] = sha256(meta["reference_draws"])
    if Path(settings["data"]).suffix.lower() == ".csv":
        frame = pd.DataFrame(values)
        meta["rows"] = len(frame)
        io.write_csv(csv_path, frame)
    else:
        Path(csv_path).parent.mkdir(parents=True, exist_ok=True)
        with io.atomic_path(csv_path) as tmp:
            tmp.write_text("")
    io.write_json(json_path, meta)
    return meta


def register_entry(name: str, entry: dict) -> UserModel:
    """Import ``entry["module"]`` and register it as model ``name`` (replacing an earlier
    registration of that name). Raises ``UserModelError``."""
    from .models import MODEL_NAMES, register

    if name in MODEL_NAMES:
        raise UserModelError(f"{name!r} is a built-in model; give your own another name")
    if not name or not all(c.isalnum() or c == "_" for c in name):
        raise UserModelError(f"model name {name!r}: letters, digits and '_' only")
    path = entry["module"]
    module = load_module(path, name)
    return register(UserModel(name, path, module), replace=True)


def environment(cfg: dict) -> str:
    """The value of ``SVIBENCH_USER_MODELS`` for a validated config: ``{name: absolute
    path}`` of every user model, as JSON."""
    return json.dumps({name: str(Path(entry["module"]).resolve())
                       for name, entry in cfg["models"].items() if "module" in entry},
                      sort_keys=True)


def from_environment(name: str) -> Model | None:
    """The user model ``name`` named in ``SVIBENCH_USER_MODELS``, imported and
    registered; None if it is not there."""
    from .models import register

    try:
        paths = json.loads(os.environ.get(ENV) or "{}")
    except json.JSONDecodeError:
        return None
    if name not in paths:
        return None
    return register(UserModel(name, paths[name], load_module(paths[name], name)), replace=True)
