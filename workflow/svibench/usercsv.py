"""Your own data: a CSV instead of a simulation, for a model with ``csv_columns``.

A dataset entry ``{csv: data/user/mine.csv}`` (path relative to the directory
Snakemake runs in, or absolute) is checked when the config is loaded, before any job
runs, and imported by the ``simulate`` rule into ``data/{model}/{dataset}.csv`` and
``.json`` like a simulated dataset (with ``truth: {}``: unknown).

The file: a header row, then one row per observation. The model's ``csv_columns``
(e.g. ``x, y, yerr``, plus ``group`` for grouped data) in any order; other columns
are ignored; header names and values may be padded with spaces; blank lines are
skipped. Every value of those columns must be a finite number, ``yerr > 0``, and
``group`` an integer label (``3`` or ``3.0``; not ``3.5`` or ``a``). Group labels
may be any integers: they are mapped to ``0..J-1`` in increasing order of the label
(label ``group_labels[j]`` of the dataset's JSON is group ``j``, shown as ``m[j]``,
``c[j]`` in the draws).

Every problem is a ``CSVError`` whose message is one line naming the file, the
column and the first bad row (``row`` counts data rows from 1; ``line`` is the line
in the file, the header being line 1).
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

_INT = re.compile(r"[+-]?\d+")


class CSVError(ValueError):
    """A bad user CSV; ``str(err)`` is one line naming file, column and row."""


def columns(model: str) -> tuple[str, ...]:
    """The CSV columns of ``model``: its ``csv_columns`` (``()``: it takes no CSV)."""
    from .models import get_model

    return get_model(model).csv_columns


def supports(model: str) -> bool:
    """Whether ``model`` can take its data from a user CSV."""
    return bool(columns(model))


def csv_models() -> list[str]:
    """Every model that takes a user CSV."""
    from .models import model_names

    return [m for m in model_names() if supports(m)]


def _rows(path: Path):
    """Yield ``(line_number, cells)`` of the non-blank rows of ``path``."""
    try:
        fh = open(path, newline="", encoding="utf-8-sig")
    except FileNotFoundError:
        raise CSVError(f"{path}: file does not exist") from None
    except IsADirectoryError:
        raise CSVError(f"{path}: is a directory, not a CSV file") from None
    except OSError as err:
        raise CSVError(f"{path}: cannot be read ({err.strerror})") from None
    with fh:
        reader = csv.reader(fh)
        try:
            for cells in reader:
                # A blank (or all-space) line is skipped; "," is a row of empty values.
                if len(cells) > 1 or (cells and cells[0].strip()):
                    yield reader.line_num, cells
        except UnicodeDecodeError:
            raise CSVError(f"{path}: not UTF-8 text") from None
        except csv.Error as err:
            raise CSVError(f"{path}: line {reader.line_num}: not valid CSV ({err})") from None


def _float(path, col, row, line, text) -> float:
    value = text.strip()
    where = f"{path}: column {col!r}, row {row} (line {line})"
    if not value:
        raise CSVError(f"{where}: empty value")
    try:
        out = float(value)
    except ValueError:
        raise CSVError(f"{where}: not a number: {value!r}") from None
    if not math.isfinite(out):
        raise CSVError(f"{where}: not a finite number: {value!r}")
    return out


def _label(path, row, line, text) -> int:
    value = text.strip()
    where = f"{path}: column 'group', row {row} (line {line})"
    if _INT.fullmatch(value):
        return int(value)
    try:
        f = float(value)
    except ValueError:
        f = math.nan
    if not value or not math.isfinite(f) or f != int(f):
        raise CSVError(f"{where}: not an integer group label: {value!r}")
    return int(f)


def read_user_csv(path, model: str) -> tuple[pd.DataFrame, list[int] | None]:
    """Validate ``path`` for ``model``; return ``(frame, group_labels)``.

    ``frame`` has the model's columns in the model's order (``group`` already mapped
    to ``0..J-1``); ``group_labels[j]`` is the original label of group ``j`` (None
    for models without groups). Raises ``CSVError``.
    """
    cols = columns(model)
    if not cols:
        raise CSVError(f"model {model} takes no data file (user CSVs: {', '.join(csv_models())})")
    path = Path(path)
    if path.exists() and path.is_file() and path.stat().st_size == 0:
        raise CSVError(f"{path}: file is empty (expected a header row: {', '.join(cols)})")
    rows = _rows(path)
    first = next(rows, None)
    if first is None:
        raise CSVError(f"{path}: file is empty (expected a header row: {', '.join(cols)})")
    header_line, header = first
    names = [h.strip() for h in header]
    index = {}
    for col in cols:
        found = [i for i, n in enumerate(names) if n == col]
        if not found:
            others = [n for n in names if n not in cols]
            close = difflib.get_close_matches(col, others, n=1, cutoff=0.6) or \
                [n for n in others if n.lower() == col.lower()]
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise CSVError(f"{path}: missing column {col!r} (header has: "
                           f"{', '.join(repr(n) for n in names)}{hint})")
        if len(found) > 1:
            raise CSVError(f"{path}: column {col!r} appears {len(found)} times in the header")
        index[col] = found[0]
    values = {col: [] for col in cols}
    n = 0
    for line, cells in rows:
        n += 1
        if len(cells) != len(header):
            raise CSVError(f"{path}: row {n} (line {line}): {len(cells)} fields, "
                           f"the header has {len(header)}")
        for col, i in index.items():
            if col == "group":
                values[col].append(_label(path, n, line, cells[i]))
                continue
            v = _float(path, col, n, line, cells[i])
            if col == "yerr" and v <= 0:
                raise CSVError(f"{path}: column 'yerr', row {n} (line {line}): "
                               f"must be > 0, got {cells[i].strip()!r}")
            values[col].append(v)
    if n == 0:
        raise CSVError(f"{path}: no data rows after the header")
    frame = pd.DataFrame({c: np.asarray(values[c], dtype=np.float64) for c in cols
                          if c != "group"})
    labels = None
    if "group" in values:
        raw = np.asarray(values["group"], dtype=np.int64)
        labels_arr, codes = np.unique(raw, return_inverse=True)
        labels = [int(v) for v in labels_arr]
        frame.insert(0, "group", codes.astype(np.int64))
    return frame[list(cols)], labels


def check(path, model: str) -> None:
    """Raise ``CSVError`` if ``path`` is not a valid data file for ``model``."""
    read_user_csv(path, model)


def sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def import_csv(model: str, dataset: str, src, csv_path, json_path) -> dict:
    """Validate ``src`` and write it as ``data/{model}/{dataset}.csv`` (the model's
    columns, groups mapped to ``0..J-1``) plus its ``.json``; return the JSON."""
    from . import io

    frame, labels = read_user_csv(src, model)
    meta = {"model": model, "dataset": dataset, "source": "csv", "csv": str(src),
            "sha256": sha256(src), "seed": None, "settings": {"csv": str(src)},
            "truth": {}, "rows": len(frame)}
    if labels is not None:
        meta["groups"] = len(labels)
        meta["group_labels"] = labels
    io.write_csv(csv_path, frame)
    io.write_json(json_path, meta)
    return meta
