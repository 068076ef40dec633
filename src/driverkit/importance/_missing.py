"""Importance under pairwise deletion and multiple imputation.

* :func:`pairwise_batch`: bootstrap replicates of the pairwise-complete covariance matrix
  (each repaired to the nearest correlation matrix when it is not positive definite);
* :func:`pooled_importance`: importances averaged over the imputed data sets, with intervals
  from the pooled bootstrap replicates of every set ("MI Boot pooled", Schomaker & Heumann
  2018).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ..stats._pairwise import nearest_correlation, pairwise_replicate_covariances
from . import _bootstrap as bs

__all__ = ["pairwise_batch", "pooled_importance"]


def pairwise_batch(Z: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Pairwise covariances under replicate weights ``W`` (B, n), made positive definite."""
    C = pairwise_replicate_covariances(Z, W)
    for b in range(C.shape[0]):
        d = np.sqrt(np.diag(C[b]))
        if not np.all(np.isfinite(C[b])) or not np.all(d > 0):
            C[b] = np.nan  # a resample without a pair: a failed replicate
            continue
        R = C[b] / np.outer(d, d)
        if np.linalg.eigvalsh(R)[0] <= 1e-10:
            C[b] = nearest_correlation(R) * np.outer(d, d)
    return C


def pooled_importance(prob: Any, run_one: Callable[[Any, int], Any], B: int,
                      ci: float, result_cls: Any, make_table: Callable[..., pd.DataFrame]
                      ) -> Any:
    """Run the importance on every imputed problem and pool.

    The point estimate is the mean over the ``m`` imputed sets; with ``B`` bootstrap
    replicates, each set gets ``ceil(B / m)`` and the pooled replicates give the standard
    errors and percentile intervals (they carry both the sampling and the imputation
    variance). ``result_cls`` and ``make_table`` are the caller's result class and table
    builder.
    """

    subs = prob.imputed
    m = len(subs)
    b_each = math.ceil(B / m) if B else 0
    results = [run_one(sub, b_each) for sub in subs]
    first = results[0]
    names = list(first.table.index)
    if first.method == "all":
        table = sum(r.table for r in results) / m
        extras: dict[str, Any] = {}
    else:
        imp = np.mean([r.table["importance"].to_numpy() for r in results], axis=0)
        table = make_table(names, imp)
        extras = {}
        if B:
            reps = np.vstack([r.replicates.to_numpy() for r in results])
            summ = bs.summarize(imp, reps, names, ci=ci, method="percentile")
            table["std_error"] = summ.std_error
            table["ci_low"] = summ.ci_low
            table["ci_high"] = summ.ci_high
            share_reps = reps / reps.sum(axis=1, keepdims=True) * 100
            a = (1 - ci) / 2
            table["share_low"] = np.quantile(share_reps, a, axis=0)
            table["share_high"] = np.quantile(share_reps, 1 - a, axis=0)
            extras = {"rank_ci": summ.rank_ci, "pairwise": summ.pairwise,
                      "replicates": pd.DataFrame(reps, columns=names)}
        spread = np.std([r.table["importance"].to_numpy() for r in results], axis=0, ddof=1) \
            if m > 1 else np.zeros(len(names))
        table["between_imputations_sd"] = spread
    r2 = float(np.mean([r.r2 for r in results]))
    r2_always = float(np.mean([r.r2_always for r in results]))
    meta = dict(first.meta)
    for key in ("r2", "pseudo_r2"):  # the pooled fit, not the first imputation's
        if key in meta:
            meta[key] = r2
        if f"{key}_always" in meta:
            meta[f"{key}_always"] = r2_always
    meta["missing"] = "impute"
    meta["imputations"] = m
    if B:
        meta["bootstrap"] = b_each * m
    notes = [
        *prob.notes,
        f"Importances averaged over {m} imputed data sets"
        + (f"; intervals from {b_each} bootstrap replicates per set, pooled "
           "(Schomaker & Heumann 2018)." if B else "."),
    ]
    notes += [n for n in first.notes if n not in notes]
    return result_cls(table, method=first.method, kind=first.kind, r2=r2,
                            r2_always=r2_always, meta=meta, notes=notes,
                            diagnostics=first.diagnostics, groups=first.groups,
                            fit_index=first.fit_index, **extras)
