"""Atomic, pickle-free storage: JSON, Parquet, NPZ, CSV.

Every writer writes to a temporary file in the destination folder and renames it,
so a killed job never leaves a file that looks complete. Readers never execute
code (``allow_pickle=False``).
"""

from __future__ import annotations

import glob
import json
import math
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _umask()


@contextmanager
def atomic_path(path):
    """Yield a temporary path next to ``path``; rename it over ``path`` on success.

    Temporaries of ``path`` left by a killed writer (SIGKILL runs no cleanup) are
    removed first: one job writes a given output, so none is in use.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        stale.unlink(missing_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        # mkstemp makes the file private (0600); give it the mode any new file gets.
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _clean(obj):
    """JSON-safe copy: numpy scalars/arrays to Python, non-finite floats to None."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _clean(obj.tolist())
    if isinstance(obj, np.generic):
        return _clean(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, Path):
        return str(obj)
    return obj


def write_json(path, obj):
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(_clean(obj), indent=2, sort_keys=False) + "\n")


def read_json(path):
    return json.loads(Path(path).read_text())


def write_parquet(path, df: pd.DataFrame):
    with atomic_path(path) as tmp:
        # No pandas index metadata and fixed options: same frame -> same bytes.
        df.to_parquet(tmp, index=False, engine="pyarrow", compression="zstd")


def read_parquet(path) -> pd.DataFrame:
    return pd.read_parquet(path, engine="pyarrow")


def write_csv(path, df: pd.DataFrame):
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False, float_format="%.17g")


def write_npz(path, arrays: dict):
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **{k: np.asarray(v) for k, v in arrays.items()})


def read_npz(path) -> dict:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def write_text(path, text: str):
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_bytes(path, data: bytes):
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
