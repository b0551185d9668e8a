"""ArviZ ``InferenceData`` of a fit or a reference: ``posterior.nc`` beside its draws.

The Parquet files stay the canonical output (byte-stable, read by every later job);
``posterior.nc`` is the same draws for the ecosystem (``az.summary``, ``az.plot_*``):

- ``posterior``: one variable per latent site, dims ``(chain, draw, *site dims)``;
  a vector site's dims are the model's own names (``Model.dims``, e.g. hier's ``m`` and
  ``c`` on ``group``), else ArviZ's ``{site}_dim_{i}``. MCMC draws are chain-major rows
  (``chains`` chains); SVI and exact draws are one chain;
- ``sample_stats`` (NUTS): ``diverging``, ``energy``, ``n_steps``, ``tree_depth``
  (floor(log2(n_steps)) + 1, as Stan counts it), ``step_size``, ``acceptance_rate``;
- ``posterior_predictive``: the mock datasets (``mocks.parquet``: one chain, one draw
  per mock; ``y`` over ``y_dim_0``, or the model's statistic, e.g. coin's ``heads``);
- ``observed_data``: the observations reduced as the mocks are (``y``, or ``heads``).

Written with xarray and h5netcdf, as ArviZ writes it but without importing ArviZ
(~2.5 s a job) or JAX, and without ArviZ's ``created_at`` attribute (a clock
reading), so the same draws give the same file bytes; read back with ArviZ
(tests/unit/test_inference_data.py).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from . import io

ENGINE = "h5netcdf"
# NumPyro extra field -> ArviZ sample_stats name (ArviZ's from_numpyro uses the same)
SAMPLE_STATS = {"diverging": "diverging", "energy": "energy", "num_steps": "n_steps",
                "adapt_state.step_size": "step_size", "accept_prob": "acceptance_rate"}
_COLUMN = re.compile(r"^(?P<name>[^\[\]]+)(?:\[(?P<index>[\d,]+)\])?$")


def columns_to_sites(columns) -> dict:
    """``{site: shape}`` of flat column names (``f``, ``m[0]``, ``m[1]``, ``L[0,1]``): each
    site's shape is one more than its largest index (the inverse of ``flat_names``)."""
    sites: dict = {}
    for col in columns:
        match = _COLUMN.match(col)
        if match is None:
            raise ValueError(f"not a flat latent column: {col!r}")
        index = tuple(int(i) for i in match["index"].split(",")) if match["index"] else ()
        top = sites.setdefault(match["name"], index)
        sites[match["name"]] = tuple(max(a, b) for a, b in zip(top, index))
    return {name: tuple(i + 1 for i in top) for name, top in sites.items()}


def by_site(frame: pd.DataFrame, sites: dict, chains: int) -> dict:
    """Chain-major rows -> ``{site: (chains, draws_per_chain, *shape)}``."""
    from .engine.draws import flat_names

    per = len(frame) // chains
    out = {}
    for name, shape in sites.items():
        arr = frame[flat_names(name, tuple(shape))].to_numpy()[: chains * per]
        out[name] = arr.reshape((chains, per) + tuple(shape))
    return out


def sample_stats(extra: dict) -> dict:
    """ArviZ's ``sample_stats`` of a NUTS run's NumPyro extra fields (``NUTSFit.extra``:
    name -> (chains, draws)): the renamed fields and ``tree_depth``."""
    out = {SAMPLE_STATS[k]: np.asarray(v) for k, v in extra.items() if k in SAMPLE_STATS}
    if "n_steps" in out:
        steps = np.maximum(out["n_steps"].astype(np.int64), 1)
        out["tree_depth"] = (np.floor(np.log2(steps)) + 1).astype(np.int64)
    return out


def _dims(variables: dict, model_dims: dict) -> dict:
    """The dims of the variables the model names (only those whose rank matches)."""
    return {name: list(model_dims[name]) for name, value in variables.items()
            if name in model_dims and len(model_dims[name]) == np.ndim(value) - 2}


# ArviZ's group order (``InferenceData``'s supported groups), for the ones written here
GROUP_ORDER = ("posterior", "posterior_predictive", "sample_stats", "observed_data")


def _dataset(variables: dict, dims: dict, sample_dims: tuple, attrs: dict):
    """An ``xarray.Dataset`` laid out as ArviZ's ``from_dict`` lays it out: each variable
    over ``sample_dims`` then its own dims (``dims[name]``, else ``{name}_dim_{i}``), an
    integer coordinate 0.. on every dim."""
    import xarray as xr

    data_vars, coords = {}, {}
    for name, value in variables.items():
        value = np.asarray(value)
        if value.ndim < len(sample_dims) + 1 and not sample_dims:
            value = np.atleast_1d(value)  # as ArviZ: a scalar observation is 1-D
        own = dims.get(name) or [f"{name}_dim_{i}" for i in range(value.ndim - len(sample_dims))]
        var_dims = (*sample_dims, *own)
        data_vars[name] = (var_dims, value)
        for dim, size in zip(var_dims, value.shape):
            coords.setdefault(dim, np.arange(size))
    return xr.Dataset(data_vars, coords=coords, attrs=dict(attrs))


def to_inference_data(draws: pd.DataFrame, *, chains: int, sites: dict,
                      mocks: pd.DataFrame | None = None, observed: pd.Series | None = None,
                      sample_stats: dict | None = None, dims: dict | None = None,
                      attrs: dict | None = None) -> dict:
    """The groups of an ArviZ ``InferenceData`` (``{group: xarray.Dataset}``, in ArviZ's
    order) of flat ``draws`` (one column per scalar latent, rows chain-major over
    ``chains``) of the latent ``sites`` (``{site: shape}``); built with xarray alone (an
    ArviZ import costs a job ~2.5 s), as ``az.from_dict`` builds them, without its
    ``created_at`` clock reading (tests/unit/test_inference_data.py).

    ``mocks``: posterior predictive mock datasets (one row each, columns as
    ``mocks.parquet``); ``observed``: the observed statistic, indexed like the mocks'
    columns; ``sample_stats``: ``{name: (chains, draws)}`` (``sample_stats(extra)``);
    ``dims``: ``Model.dims``; ``attrs``: every group's attributes."""
    dims = dict(dims or {})
    attrs = dict(attrs or {})
    sample = ("chain", "draw")
    posterior = by_site(draws, sites, chains)
    groups = {"posterior": _dataset(posterior, _dims(posterior, dims), sample, attrs)}
    if mocks is not None and not mocks.empty:
        pp = by_site(mocks, columns_to_sites(mocks.columns), 1)
        groups["posterior_predictive"] = _dataset(pp, _dims(pp, dims), sample, attrs)
    if sample_stats:
        groups["sample_stats"] = _dataset({k: np.asarray(v) for k, v in sample_stats.items()},
                                          {}, sample, attrs)
    if observed is not None and not observed.empty:
        frame = observed.to_frame().T
        obs = {k: v[0, 0] for k, v in by_site(frame, columns_to_sites(frame.columns), 1).items()}
        obs_dims = {k: list(dims[k]) for k, v in obs.items()
                    if k in dims and len(dims[k]) == np.ndim(v)}
        groups["observed_data"] = _dataset(obs, obs_dims, (), attrs)
    return {g: groups[g] for g in GROUP_ORDER if g in groups}


def write_problem_idata(path, problem, draws: pd.DataFrame, sites: dict, *, chains: int,
                        mocks: pd.DataFrame | None = None, stats: dict | None = None,
                        attrs: dict | None = None) -> None:
    """``posterior.nc`` of a fit or a reference of ``problem`` (``svibench.data.Problem``):
    its ``draws``, the NUTS run's extra fields ``stats`` (``NUTSFit.extra``), its mock
    datasets and the model's observations; ``attrs``: ``model`` and these."""
    from .predictive import observed

    model = problem.model
    obs = observed(model, problem.arrays) if model.has_observations else None
    idata = to_inference_data(draws, chains=chains, sites=sites, mocks=mocks, observed=obs,
                              sample_stats=sample_stats(stats) if stats else None,
                              dims=model.dims, attrs={"model": model.name, **(attrs or {})})
    write_netcdf(idata, path)


def _compressible(dtype) -> bool:
    """ArviZ compresses booleans, integers, floats, complex and bytes (zlib)."""
    return dtype.kind in {"b", "i", "u", "f", "c", "S"}


def write_netcdf(idata, path) -> None:
    """``idata`` (``{group: xarray.Dataset}``, or an ``az.InferenceData``) to ``path``
    as ``InferenceData.to_netcdf`` writes it (one NetCDF-4 group per group, zlib on
    numeric variables, through h5netcdf), atomically (``io.atomic_path``)."""
    groups = idata if isinstance(idata, dict) else {g: idata[g] for g in idata.groups()}
    with io.atomic_path(path) as tmp:
        mode = "w"
        for name, data in groups.items():
            encoding = {var: {"zlib": True} for var, values in data.variables.items()
                        if _compressible(values.dtype)}
            data.to_netcdf(str(tmp), mode=mode, group=f"/{name}", engine=ENGINE,
                           encoding=encoding)
            mode = "a"


def read_netcdf(path):
    """``az.from_netcdf`` of ``path``, every group read into memory (file closed)."""
    import arviz as az

    with az.rc_context({"data.load": "eager"}):
        return az.from_netcdf(str(path), engine=ENGINE)
