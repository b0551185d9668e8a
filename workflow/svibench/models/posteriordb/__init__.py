"""Eight posteriors of the public posterior database, ported to NumPyro.

Each posterior is vendored in ``data/posteriordb/{data}-{model}/`` (see its README):
the Stan model the port follows, the data, and the published reference draws (Stan
NUTS, 10 chains x 1000 after thinning), which are the reference posterior of the
port (``reference_kind = "posteriordb"``). One module per posterior, a
``PosteriorDB`` subclass each, with the same priors, likelihood and constraints as
its ``model.stan``; that the port is right is shown by our own NUTS agreeing with the
published draws (``svibench.portcheck``).

Conventions:

- the data: ``simulate`` returns the vendored arrays as the dataset's CSV (one column
  per array of the observations' length; the seed is ignored, the truth is empty);
  scalars that shape the model (arK's order ``K``, garch's ``sigma1``) are constants
  of the class, checked against the vendored data by the unit tests;
- the draws: Stan's names, 1-based (``theta[1]``), become ours, 0-based
  (``theta[0]``); a name mapping only. Transformed parameters that Stan reports
  (eight schools' ``theta``, the GP's ``f``) are ``numpyro.deterministic`` sites named
  in ``reported``, so every fit's draws carry them;
- improper flat priors (no prior statement on an unbounded or half-bounded
  parameter) are ``ImproperUniform`` sites on the same support.
"""

from __future__ import annotations

import json
import re
import zipfile
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from ..base import Model

ROOT = Path(__file__).resolve().parents[4] / "data" / "posteriordb"
SOURCE_COMMIT = "28f8d3d6e975315f42aa274a8399f21e07a43b30"


def folder(posterior: str) -> Path:
    return ROOT / posterior


@lru_cache(maxsize=None)
def load_data(posterior: str) -> dict:
    """posteriordb's data of ``posterior``: ``data.json``, or the zip it came in."""
    plain = folder(posterior) / "data.json"
    if plain.exists():
        return json.loads(plain.read_text())
    with zipfile.ZipFile(folder(posterior) / "data.json.zip") as z:
        return json.loads(z.read(z.namelist()[0]))


def load_info(posterior: str) -> dict:
    """posteriordb's ``reference.info.json``: how the reference was made and its checks."""
    return json.loads((folder(posterior) / "reference.info.json").read_text())


def column_name(stan_name: str) -> str:
    """Stan's 1-based name -> our flattened 0-based one: ``theta[1]`` -> ``theta[0]``,
    ``b[2,3]`` -> ``b[1,2]``; a scalar's name is its own."""
    m = re.fullmatch(r"(\w+)\[([\d,]+)\]", stan_name)
    if not m:
        return stan_name
    idx = ",".join(str(int(i) - 1) for i in m.group(2).split(","))
    return f"{m.group(1)}[{idx}]"


def load_reference(posterior: str) -> tuple[pd.DataFrame, int]:
    """The published draws: ``(draws, chains)``, chain-major rows, our column names."""
    with zipfile.ZipFile(folder(posterior) / "reference_draws.json.zip") as z:
        chains = json.loads(z.read(z.namelist()[0]))
    names = list(chains[0])
    cols = {column_name(n): np.concatenate([np.asarray(c[n], dtype=np.float64) for c in chains])
            for n in names}
    return pd.DataFrame(cols), len(chains)


class PosteriorDB(Model):
    """A posteriordb posterior: its data as the dataset, its draws as the reference."""

    posterior: str                  # posteriordb's name, ``{data}-{model}``
    columns: tuple[str, ...]        # the data arrays written to the dataset's CSV
    dim: int                        # unconstrained parameters (Stan's ``parameters``)
    defaults: dict = {}
    has_observations = False        # no posterior predictive mocks (yet)
    reference_kind = "posteriordb"

    def simulate(self, settings: dict, seed: int):
        """The vendored data (``seed`` is ignored: the data are posteriordb's)."""
        data = load_data(self.posterior)
        return pd.DataFrame({c: np.asarray(data[c], dtype=np.float64) for c in self.columns}), {}

    def latent_dim(self, settings: dict) -> int:
        return self.dim

    def published_reference(self):
        draws, chains = load_reference(self.posterior)
        info = load_info(self.posterior)
        record = {"posterior": self.posterior, "source": f"posteriordb@{SOURCE_COMMIT}",
                  "inference": info.get("inference"), "checks_made": info.get("checks_made"),
                  "diagnostics": info.get("diagnostics")}
        return draws, chains, record

    @staticmethod
    def floats(df: pd.DataFrame, *names: str) -> dict:
        import jax.numpy as jnp

        return {n: jnp.asarray(df[n].to_numpy(), jnp.float32) for n in names}
