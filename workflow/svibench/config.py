"""Load and validate a study config: JSON schema (with defaults), then semantic checks.

Every problem is a ``ConfigError`` with a one-line message naming the key, raised
before any job runs.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path

import yaml

from .methods import METHODS, get_method, methods_for
from .models import get_model, model_names

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "config" / "schema.yaml"
SVI_KEYS = ("max_steps", "lr", "particles", "chunk", "seed", "elbo", "guide",
            "stop_at_convergence", "convergence", "seed_batch")
NUTS_KEYS = ("warmup", "draws", "chains", "seed", "target_accept", "max_tree_depth", "dense_mass")
PATHFINDER_KEYS = ("seed", "maxiter", "num_paths", "elbo_draws", "draws_per_path", "maxcor",
                   "ftol", "gtol")
# a method kind's config section and the keys a method entry may override
KIND_KEYS = {"svi": ("svi", SVI_KEYS), "nuts": ("nuts", NUTS_KEYS),
             "pathfinder": ("pathfinder", PATHFINDER_KEYS)}


class ConfigError(ValueError):
    """A bad config; ``str(err)`` is one line naming the key."""


def load_schema() -> dict:
    """The schema, parsed once per process (a copy: callers may change it).

    ``validate`` needs it once per method override; parsing it each time with
    PyYAML's pure-Python loader was half of ``snakemake -n`` (issue 6)."""
    return copy.deepcopy(_parsed_schema(SCHEMA_PATH, SCHEMA_PATH.stat().st_mtime_ns))


@functools.lru_cache(maxsize=4)
def _parsed_schema(path: Path, mtime_ns: int) -> dict:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when built with it
    return yaml.load(path.read_text(), Loader=loader)


def defaults(section: str) -> dict:
    """The schema's defaults of one top-level section (``reference``, ``metrics``,
    ``svi``, ...), nested settings filled in: what a validated config holds there when
    the study says nothing. For callers without a validated config (tests, direct
    calls); the schema is the one source of every default."""
    sections = load_schema()["properties"]
    if section not in sections:
        raise KeyError(f"config schema has no section {section!r} (sections: {', '.join(sections)})")
    return _fill_defaults(sections[section], {})


def _fill_defaults(schema: dict, value):
    """Insert ``default`` values of the schema's properties, recursively."""
    if not isinstance(value, dict):
        return value
    for key, sub in schema.get("properties", {}).items():
        if key not in value and "default" in sub:
            value[key] = copy.deepcopy(sub["default"])
        if key in value:
            _fill_defaults(sub, value[key])
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        for key in value:
            if key not in schema.get("properties", {}):
                _fill_defaults(extra, value[key])
    return value


def _where(path) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "config"


def _schema_error(err) -> ConfigError:
    where = _where(err.absolute_path)
    if err.validator == "additionalProperties":
        known = sorted(err.schema.get("properties", {}))
        extra = sorted(set(err.instance) - set(known))
        hint = f" (allowed: {', '.join(known)})" if known else ""
        return ConfigError(f"{where}: unknown key {extra[0]!r}{hint}")
    if err.validator == "required":
        return ConfigError(f"{where}: {err.message}")
    if err.validator == "oneOf" and where.endswith("methods"):
        return ConfigError(f"{where}: must be 'all' or a list of method names "
                           "or {method: {overrides}} mappings")
    if err.validator == "oneOf":
        return ConfigError(f"{where}: must be a method name or a {{method: {{overrides}}}} mapping")
    return ConfigError(f"{where}: {err.message}")


def validate(config: dict) -> dict:
    """Return a normalised copy of ``config``; raise ``ConfigError`` on any problem.

    In the result, ``models[m]["methods"]`` is an ordered ``{method: overrides}``.
    """
    import jsonschema

    if not isinstance(config, dict):
        raise ConfigError("config: must be a mapping of keys to values")
    cfg = copy.deepcopy(config)
    schema = load_schema()
    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(validator.iter_errors(cfg), key=lambda e: (len(e.absolute_path), e.path))
    if errors:
        # The deepest error names the key most precisely.
        best = jsonschema.exceptions.best_match(errors)
        raise _schema_error(best)
    _fill_defaults(schema, cfg)
    if not cfg["models"] and not cfg["scaling"]["enabled"]:
        raise ConfigError("models: the study has no models (and the scaling study is off)")
    for name, entry in cfg["models"].items():
        if "module" in entry:  # a model of your own: imported and registered now
            _user_model(name, entry)
        elif name not in model_names():
            raise ConfigError(f"models.{name}: unknown model (known: {', '.join(model_names())}; "
                              "or `module: path.py` for a model of your own)")
        entry["datasets"] = {ds: _dataset(name, ds, s) for ds, s in entry["datasets"].items()}
        entry["methods"] = _methods(name, entry["methods"])
        _warm_start(name, entry)
    _check_overrides(cfg["svi"], SVI_KEYS, "svi", "svi")
    _scaling(cfg)
    _check_resources(cfg)
    return cfg


# `resources` entries of the work that may run on a GPU: the fits (every copy of a
# fit rule sizes itself by one of these). No other rule ever asks for a GPU.
GPU_RESOURCE_KEYS = ("fit_svi", "fit_nuts", "fit_pathfinder")


# The job kinds that read `resources` (workflow/rules/*.smk call rule_resources with these).
RESOURCE_RULES = ("default", "simulate", "fit_svi", "fit_nuts", "fit_pathfinder", "reference",
                  "evaluate", "plot", "report")


def _check_resources(cfg: dict):
    """Every `resources` key names a kind of job; only the fits may ask for a GPU."""
    for key, entry in cfg["resources"].items():
        if key not in RESOURCE_RULES:  # a typo would silently size nothing
            raise ConfigError(f"resources.{key}: unknown kind of job "
                              f"(known: {', '.join(RESOURCE_RULES)})")
        if entry.get("gpu") and key not in GPU_RESOURCE_KEYS + ("default",):
            raise ConfigError(f"resources.{key}.gpu: only the fits ({', '.join(GPU_RESOURCE_KEYS)}) "
                              f"use a GPU; {key} never asks for one")


def _scaling(cfg: dict):
    """``scaling.methods`` checked like a model's methods, normalised the same way; the
    scaling datasets (``J<groups>`` of ``scaling.model``) must not clash with the study's."""
    sc = cfg["scaling"]
    model = sc["model"]
    if model not in model_names():
        raise ConfigError(f"scaling.model: unknown model {model!r} (known: {', '.join(model_names())})")
    if "groups" not in get_model(model).defaults:
        raise ConfigError(f"scaling.model: model {model} has no 'groups' setting to scale")
    try:
        sc["methods"] = _methods(model, sc["methods"])
    except ConfigError as err:
        raise ConfigError(str(err).replace(f"models.{model}.methods", "scaling.methods")) from None
    if len(set(sc["groups"])) != len(sc["groups"]):
        raise ConfigError(f"scaling.groups: values must differ, got {sc['groups']}")
    taken = cfg["models"].get(model, {}).get("datasets", {})
    clash = [f"J{j}" for j in sc["groups"] if f"J{j}" in taken] if sc["enabled"] else []
    if clash:
        raise ConfigError(f"models.{model}.datasets.{clash[0]}: the name is taken by the scaling "
                          "study's dataset of that many groups; rename the dataset")


def _dataset(model: str, name: str, settings: dict) -> dict:
    where = f"models.{model}.datasets.{name}"
    if not isinstance(settings, dict):
        raise ConfigError(f"{where}: must be a mapping of generation settings")
    if not isinstance(name, str) or not _valid_name(name):
        raise ConfigError(f"{where}: dataset names may hold letters, digits, '_' and '-' only")
    mod = get_model(model)
    from .usermodel import UserModel

    if isinstance(mod, UserModel) or "data" in settings or "reference_draws" in settings:
        return _own_model_dataset(mod, settings, where)
    if "csv" in settings:
        return _user_dataset(model, settings, where)
    if "seed" not in settings:
        raise ConfigError(f"{where}: needs 'seed' (a simulated dataset) or 'csv' "
                          "(your own data file)")
    seed = settings["seed"]
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ConfigError(f"{where}.seed: must be a non-negative integer, got {seed!r}")
    out = {"seed": seed}
    for key, value in settings.items():
        if key == "seed":
            continue
        if key not in mod.defaults:
            raise ConfigError(f"{where}: unknown setting {key!r} for model {model} "
                              f"(allowed: seed, {', '.join(mod.defaults)})")
        default = mod.defaults[key]
        ok = (isinstance(value, list) and isinstance(default, list)
              and all(_is_number(v) for v in value) and len(value) == len(default)) \
            or (_is_number(value) and not isinstance(default, list)) \
            or (value is None and default is None)
        if not ok:
            raise ConfigError(f"{where}.{key}: must be a number{' list' if isinstance(default, list) else ''}, got {value!r}")
    for key, default in mod.defaults.items():
        out[key] = copy.deepcopy(settings.get(key, default))
    problem = mod.check_settings(out)  # None, "message" or (key, "message")
    if isinstance(problem, tuple):
        raise ConfigError(f"{where}.{problem[0]}: {problem[1]}")
    if problem:
        raise ConfigError(f"{where}: {problem}")
    return out


def _user_model(name: str, entry: dict):
    """``module: path``: the file is imported and its model registered as ``name``."""
    from .usermodel import UserModelError, register_entry

    try:
        register_entry(name, entry)
    except UserModelError as err:
        raise ConfigError(f"models.{name}.module: {err}") from None


def _own_model_dataset(mod, settings: dict, where: str) -> dict:
    """``{data: path, reference_draws: path}`` of a model of your own: the data are read
    and the model traced on them, the draws' columns matched to its latents, now."""
    from .usermodel import UserModel, UserModelError, check_dataset

    if not isinstance(mod, UserModel):
        key = "data" if "data" in settings else "reference_draws"
        raise ConfigError(f"{where}.{key}: model {mod.name} is built in; `{key}` is for a "
                          "model of your own (`module:`)")
    extra = sorted(set(settings) - {"data", "reference_draws"})
    if extra:
        raise ConfigError(f"{where}: unknown key {extra[0]!r} (a dataset of your own model "
                          "takes: data, reference_draws)")
    if "data" not in settings:
        raise ConfigError(f"{where}: needs 'data' (the path of a JSON or CSV data file)")
    out = {"data": settings["data"]}
    if settings.get("reference_draws") is not None:
        out["reference_draws"] = settings["reference_draws"]
    try:
        check_dataset(mod, out)
    except UserModelError as err:
        key = f"{where}.{err.key or 'data'}" if err.key != "module" else \
            where.split(".datasets.")[0] + ".module"
        raise ConfigError(f"{key}: {err}") from None
    return out


def _user_dataset(model: str, settings: dict, where: str) -> dict:
    """``{csv: path}``: the file is validated now, before any job runs."""
    from .usercsv import CSVError, check, csv_models, supports

    if not supports(model):
        raise ConfigError(f"{where}.csv: model {model} takes no data file "
                          f"(user CSVs are for: {', '.join(csv_models())})")
    extra = sorted(set(settings) - {"csv"})
    if extra:
        raise ConfigError(f"{where}: unknown key {extra[0]!r} beside 'csv' (a dataset from "
                          "a CSV takes no generation settings)")
    path = settings["csv"]
    if not isinstance(path, str) or not path.strip():
        raise ConfigError(f"{where}.csv: must be the path of a CSV file, got {path!r}")
    inside = Path(path).resolve()
    generated = [Path("data", m).resolve() for m in model_names()]
    if any(inside == g or g in inside.parents for g in generated):
        raise ConfigError(f"{where}.csv: {path} is inside data/<model>/, where the workflow "
                          "writes its datasets; keep your files elsewhere (e.g. data/user/)")
    try:
        check(path, model)
    except CSVError as err:
        raise ConfigError(f"{where}.csv: {err}") from None
    return {"csv": path}


def _methods(model: str, methods) -> dict:
    where = f"models.{model}.methods"
    valid = methods_for(model)
    if methods == "all":
        return {m: {} for m in valid}
    out = {}
    for i, item in enumerate(methods):
        if isinstance(item, dict):
            (name, overrides), = item.items()
        else:
            name, overrides = item, {}
        if name not in METHODS:
            raise ConfigError(f"{where}[{i}]: unknown method {name!r} (known: {', '.join(METHODS)})")
        if name not in valid:
            raise ConfigError(f"{where}[{i}]: method {name!r} does not apply to model {model} "
                              f"(valid: {', '.join(valid)})")
        if name in out:
            raise ConfigError(f"{where}[{i}]: method {name!r} listed twice")
        overrides = {} if overrides is None else overrides
        if not isinstance(overrides, dict):
            raise ConfigError(f"{where}[{i}].{name}: overrides must be a mapping")
        section, keys = KIND_KEYS[get_method(name).kind]
        _check_overrides(overrides, keys, f"{where}.{name}", section)
        out[name] = overrides
    return out


def _warm_start(model: str, entry: dict):
    for i, pair in enumerate(entry.get("warm_start", [])):
        where = f"models.{model}.warm_start[{i}]"
        for key in ("from", "to"):
            if pair[key] not in entry["datasets"]:
                raise ConfigError(f"{where}.{key}: unknown dataset {pair[key]!r} "
                                  f"(datasets of {model}: {', '.join(entry['datasets'])})")
        if pair["from"] == pair["to"]:
            raise ConfigError(f"{where}: 'from' and 'to' are the same dataset")
        for j, method in enumerate(pair["methods"]):
            if method not in entry["methods"] or get_method(method).kind != "svi":
                svi = [m for m in entry["methods"] if get_method(m).kind == "svi"]
                raise ConfigError(f"{where}.methods[{j}]: {method!r} is not an SVI method of "
                                  f"this study's {model} (choose from: {', '.join(svi)})")


def _check_overrides(overrides: dict, allowed, where: str, section: str):
    """``overrides`` of the config ``section`` (``svi``, ``nuts``, ``pathfinder``)."""
    schema = load_schema()["properties"][section]
    import jsonschema

    for key, value in overrides.items():
        if key not in allowed:
            raise ConfigError(f"{where}: unknown key {key!r} (allowed: {', '.join(allowed)})")
        err = jsonschema.exceptions.best_match(
            jsonschema.Draft7Validator(schema["properties"][key]).iter_errors(value))
        if err is not None:
            raise ConfigError(f"{where}.{key}: {err.message}")


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _valid_name(name: str) -> bool:
    return bool(name) and all(c.isalnum() or c in "_-" for c in name) and "-to-" not in name


def fit_options(cfg: dict, model: str, method: str) -> dict:
    """Resolved options for one fit: the svi/nuts/pathfinder defaults with the method's
    overrides."""
    m = get_method(method)
    overrides = cfg["models"][model]["methods"][method]
    # mocks are drawn in the fit job, like its draws (see svibench.fitting)
    predictive = {"predictive_draws": cfg["metrics"]["predictive_draws"]}
    if m.kind == "nuts":
        return {**cfg["nuts"], **overrides, **predictive}
    if m.kind == "pathfinder":  # a method's own defaults (pathfinder: one path) over the section
        return {**cfg["pathfinder"], **m.defaults, **overrides, "draws": cfg["draws"],
                **predictive}
    opts = {**cfg["svi"], **overrides}
    opts["guide"] = {**m.defaults, **cfg["svi"].get("guide", {}), **overrides.get("guide", {})}
    opts["elbo"] = m.elbo if opts.get("elbo", "default") == "default" else opts["elbo"]
    opts["convergence"] = {**cfg["svi"]["convergence"], **overrides.get("convergence", {})}
    opts["draws"] = cfg["draws"]
    return {**opts, **predictive}


def scaling_fit_options(cfg: dict, method: str) -> dict:
    """Options of a scaling-study fit: as ``fit_options`` with ``scaling.methods``."""
    model = cfg["scaling"]["model"]
    study = {**cfg, "models": {model: {"methods": cfg["scaling"]["methods"]}}}
    # the scaling study scores accuracy and time only: no predictive mocks
    return {**fit_options(study, model, method), "predictive_draws": 0}


def repeats(cfg: dict, model: str) -> int:
    """Fits per SVI guide of ``model`` (its own ``repeats`` over the top-level one)."""
    return int(cfg["models"][model].get("repeats") or cfg["repeats"])


def resources(cfg: dict, rule: str) -> dict:
    """threads, mem_mb, runtime, gpu for ``rule`` (its entry over ``default``)."""
    base = {"threads": 1, "mem_mb": 2000, "runtime": 30, "gpu": 0}
    base.update(cfg["resources"].get("default", {}))
    base.update(cfg["resources"].get(rule, {}))
    return base


def load_file(path) -> dict:
    """Read and validate a YAML config file."""
    try:
        raw = yaml.safe_load(Path(path).read_text())
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        at = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}:{at} YAML does not parse ({getattr(err, 'problem', err)})") from None
    return validate(raw)
