"""Which diagnostics can be trusted: how well each diagnostic a user sees without a
reference predicts that a fit failed against the reference.

Pure NumPy on metrics.json dicts (the report's evaluation); no JAX, no files.

**Failed fit** (the outcome): ``metrics.judge`` fails its ``mean_err`` or ``sd_ratio``
check (mean_err > 0.2 or sd_ratio outside [0.8, 1.2] at the default thresholds) — the
same decision as the ranking's red marks, one source. Only SVI and Pathfinder fits that
finished and were scored against a reference count; every seed of a method is a fit.

**Diagnostics** (each a binary prediction "this fit failed" and a score, higher =
more likely failed); a fit the diagnostic has no value for is left out of its row:

- ``khat``: PSIS k-hat (the median over particle sets) beyond the sample-size threshold
  of ``khat_info`` (min(1 - 1/log10 S, 0.7)); score: k-hat itself.
- ``trend``: the fit stopped with its loss still falling beyond its noise
  (fit.json's ``stopped_with_trend``, in metrics.json's ``cost``); score: 1 or 0.
- ``elbo_rank``: the fit's final ELBO within its (model, dataset), among the fits
  scored there that have one: its fractional rank r = (rank - 1) / (n - 1) from the
  highest ELBO (r = 0) to the lowest (r = 1), ties sharing their mean rank; predicted
  failed when r > 1/2 (the lower half); score: r (so a lower ELBO predicts worse).
  A dataset with a single ELBO gives no rank.

**Counts**: TP (predicted failed, failed), FP (predicted failed, passed), FN
(predicted passed, failed), TN (predicted passed, passed).
**Precision** TP / (TP + FP): of the fits it flags, the share that failed (undefined
when it flags none). **Recall** TP / (TP + FN): of the failed fits, the share it
flags (undefined without a failed fit).
**AUROC**: the probability that a random failed fit scores higher than a random
passing fit, ties counting one half — the Mann-Whitney statistic

    AUROC = (R_pos - n_pos (n_pos + 1) / 2) / (n_pos n_neg),

with R_pos the sum of the failed fits' ranks among all scores (tied scores sharing
their mean rank, which gives ties the half). 1: the score separates failed from
passing fits perfectly; 0.5: no better than chance (a constant score); 0: inverted.
Undefined without a failed or without a passing fit.
"""

from __future__ import annotations

import math

import numpy as np

from . import metrics as M

DIAGNOSTICS = {
    "khat": "k̂ over its threshold",
    "trend": "stopped with a trend",
    "elbo_rank": "ELBO rank within its dataset (lower half)",
}
ACCURACY_CHECKS = ("mean_err", "sd_ratio")


def failed(m: dict, thresholds: dict | None = None) -> bool | None:
    """Whether a scored fit failed on accuracy (``metrics.judge``'s ``mean_err`` or
    ``sd_ratio`` check); None for a fit without those metrics (did not finish)."""
    if m.get("status", "ok") != "ok" or m.get("mean_err") is None or m.get("sd_ratio") is None:
        return None
    return bool(set(ACCURACY_CHECKS) & set(M.flags(m, thresholds)))


def midranks(x) -> np.ndarray:
    """Ranks 1..n of ``x`` in increasing order, tied values sharing their mean rank."""
    x = np.asarray(x, dtype=np.float64)
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x), dtype=np.float64)
    sx = x[order]
    i = 0
    while i < len(x):
        j = i
        while j + 1 < len(x) and sx[j + 1] == sx[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1  # mean of ranks i+1 .. j+1
        i = j + 1
    return ranks


def auroc(scores, labels) -> tuple[float | None, str | None]:
    """``(AUROC, None)`` of ``scores`` for the boolean ``labels`` (True: failed), or
    ``(None, reason)`` when it is undefined (no failed or no passing fit)."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=bool)
    pos, neg = int(y.sum()), int((~y).sum())
    if pos + neg == 0:
        return None, "no fit"
    if pos == 0:
        return None, "no failed fit"
    if neg == 0:
        return None, "no passing fit"
    r = midranks(s)
    return float((r[y].sum() - pos * (pos + 1) / 2) / (pos * neg)), None


def confusion(predicted, labels) -> dict:
    """``{tp, fp, fn, tn}`` of boolean predictions against boolean labels."""
    p = np.asarray(predicted, dtype=bool)
    y = np.asarray(labels, dtype=bool)
    return {"tp": int((p & y).sum()), "fp": int((p & ~y).sum()),
            "fn": int((~p & y).sum()), "tn": int((~p & ~y).sum())}


def precision_recall(c: dict) -> dict:
    """Precision and recall of ``confusion``'s counts, each None with its reason when
    undefined."""
    out = {"precision": None, "precision_reason": None, "recall": None, "recall_reason": None}
    if c["tp"] + c["fp"]:
        out["precision"] = c["tp"] / (c["tp"] + c["fp"])
    else:
        out["precision_reason"] = "no fit predicted failed"
    if c["tp"] + c["fn"]:
        out["recall"] = c["tp"] / (c["tp"] + c["fn"])
    else:
        out["recall_reason"] = "no failed fit"
    return out


def _finite(x) -> bool:
    return x is not None and isinstance(x, (int, float)) and math.isfinite(x)


def elbo_ranks(fits: list[dict]) -> list[float | None]:
    """Each fit's fractional ELBO rank within its ``dataset`` (0: highest ELBO, 1:
    lowest; ties share their mean rank); None without an ELBO or alone in its dataset.
    ``fits``: ``{dataset, m}``."""
    out: list[float | None] = [None] * len(fits)
    groups: dict = {}
    for i, f in enumerate(fits):
        e = (f["m"].get("cost") or {}).get("final_elbo")
        if _finite(e):
            groups.setdefault(f["dataset"], []).append((i, float(e)))
    for items in groups.values():
        if len(items) < 2:
            continue
        r = midranks([-e for _, e in items])  # rank 1: highest ELBO
        for (i, _), ri in zip(items, r):
            out[i] = float((ri - 1) / (len(items) - 1))
    return out


def khat_value(m: dict) -> tuple[float | None, float | None]:
    """A fit's k-hat (median over particle sets) and its threshold, or Nones."""
    kh = M.khat_summary(m.get("khat"))
    if kh is None:
        return None, None
    info = m.get("khat_info") or {}
    thr = info.get("threshold")
    if not _finite(thr):
        thr = M.khat_threshold(info.get("particles"))
    return kh["median"], float(thr)


def predictions(fits: list[dict]) -> dict[str, list]:
    """Per diagnostic, per fit: ``(predicted failed, score)`` or None when the fit has
    no value for it. ``fits``: ``{dataset, m}``."""
    ranks = elbo_ranks(fits)
    out: dict[str, list] = {k: [] for k in DIAGNOSTICS}
    for f, r in zip(fits, ranks):
        k, thr = khat_value(f["m"])
        out["khat"].append(None if k is None else (k > thr, k))
        trend = (f["m"].get("cost") or {}).get("stopped_with_trend")
        out["trend"].append(None if trend is None else (bool(trend), float(bool(trend))))
        out["elbo_rank"].append(None if r is None else (r > 0.5, r))
    return out


def trust_table(fits: list[dict], thresholds: dict | None = None) -> dict:
    """The report's table: ``{"rows": [...], "fits": n, "failed": k}`` over ``fits``
    (``{dataset, m}``: every seed of every method of every dataset; NUTS fits and fits
    without accuracy metrics are left out). Each row: ``diagnostic``, ``label``, ``n``
    (fits it scores), ``failed`` (failed fits among them), ``tp, fp, fn, tn``,
    ``precision``, ``recall``, ``auroc``, and for each undefined value its
    ``*_reason``."""
    scored = []
    for f in fits:
        if f["m"].get("kind") == "nuts":
            continue
        y = failed(f["m"], thresholds)
        if y is not None:
            scored.append({**f, "failed": y})
    preds = predictions(scored)
    rows = []
    for key, label in DIAGNOSTICS.items():
        have = [(p, f["failed"]) for p, f in zip(preds[key], scored) if p is not None]
        pred = [p[0] for p, _ in have]
        score = [p[1] for p, _ in have]
        y = [fy for _, fy in have]
        c = confusion(pred, y)
        a, why = auroc(score, y)
        if not have:
            why = "no fit with this diagnostic"
        pr = precision_recall(c)
        if not have:
            pr["precision_reason"] = pr["recall_reason"] = why
        rows.append({"diagnostic": key, "label": label, "n": len(have), "failed": int(sum(y)),
                     **c, **pr, "auroc": a, "auroc_reason": why})
    return {"rows": rows, "fits": len(scored), "failed": int(sum(f["failed"] for f in scored))}
