"""The missing-data policies of :func:`~driverkit.data.prepare` (mean, dummy, pairwise, impute).

Kept apart from ``_prepare.py`` so the validation of columns and the policies each stay
readable; :func:`prepare` is the only caller.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import DataError, MissingDataWarning
from . import _missing


def _safe_pair(sc: Any) -> tuple[float, float] | None:
    try:
        lo, hi = (float(b) for b in sc)
        return (lo, hi) if lo < hi else None
    except (TypeError, ValueError):
        return None


def _outcome_scale(bounds: Any, name: str) -> tuple[float, float]:
    pair = _safe_pair(bounds)
    if pair is None or not all(np.isfinite(pair)):
        raise DataError(f"The scale of the outcome '{name}' must be a pair (low, high) with "
                        f"low < high; got {bounds!r}.")
    return pair


def _missing_notes(mmeta: dict[str, Any], n_dropped: int, indicators: dict[str, str]
                   ) -> list[str]:
    notes = []
    for col, per in mmeta.get("na_values removed", {}).items():
        shown = ", ".join(f"{c!r} ×{k}" for c, k in per.items())
        notes.append(f"'{col}': {shown} treated as missing (na_values).")
    pol = mmeta.get("missing", "listwise")
    if pol == "listwise" and n_dropped:
        notes.append(f"{n_dropped} of {mmeta['rows']} rows dropped for missing values "
                     "(listwise).")
    elif pol == "mean":
        notes.append(f"{mmeta.get('cells filled', 0)} missing answers replaced by the mean "
                     "(missing='mean'; shrinks variances).")
    elif pol == "dummy":
        notes.append(f"{mmeta.get('cells filled', 0)} missing answers filled (dummy-variable "
                     "adjustment): 'not answered' indicators kept as covariates: "
                     + ", ".join(indicators) + ".")
    elif pol == "pairwise":
        notes.append("Pairwise deletion: each covariance from the respondents who answered "
                     "both items.")
    return notes


def _fill_policy(missing: str, frame: pd.DataFrame, y: np.ndarray | None,
                 w_raw: np.ndarray | None, data: pd.DataFrame, outcome: str | None,
                 drivers_list: list[str], cov_list: list[str], numeric_cols: list[str],
                 factor_cols: list[str], needed: list[str], fill: dict[str, float],
                 indicators: dict[str, str], na_levels: set[str], mmeta: dict[str, Any],
                 func: str) -> tuple[Any, ...]:
    """Mean fill / dummy-variable adjustment on the rows whose outcome is known."""
    known = np.ones(len(frame), bool) if y is None else ~np.isnan(y)
    ww = np.ones(len(frame)) if w_raw is None else w_raw
    filled_cols: list[str] = []
    n_filled = 0
    cov_list = list(cov_list)
    needed = list(needed)
    numeric_cols = list(numeric_cols)
    frame = frame.copy()
    patterns: dict[bytes, str] = {}
    for name in list(frame.columns):
        na = frame[name].isna().to_numpy()
        if not na[known].any():
            continue
        n_filled += int(na[known].sum())
        filled_cols.append(name)
        if name in factor_cols:
            if missing == "mean":
                raise DataError(
                    f"The categorical driver '{name}' has skipped answers; a mean of categories "
                    "is undefined. Use missing='dummy' (a '(not answered)' level) or "
                    "missing='impute'."
                )
            frame[name] = frame[name].astype(object).where(~na, _missing.NOT_ANSWERED)
            na_levels.add(name)
            continue
        x = frame[name].to_numpy(dtype=float)
        if np.isnan(x[known]).all():
            raise DataError(f"The column '{name}' has no answers among the rows used.")
        v = _missing.weighted_mean_fill(x[known], ww[known])
        fill[name] = v
        frame[name] = np.where(na, v, x)
        if missing == "dummy":
            key = na[known].tobytes()
            if key in patterns:  # skipped by the same respondents: one indicator for both
                continue
            ind = _missing.INDICATOR.format(name)
            patterns[key] = ind
            indicators[ind] = name
            frame[ind] = na.astype(float)
            cov_list.append(ind)
            needed.append(ind)
            numeric_cols.append(ind)
    mmeta["cells filled"] = n_filled
    if missing == "mean":
        _missing.warn_filled("mean", func, filled_cols, n_filled)
    if indicators:
        mmeta["indicators"] = list(indicators)
    return frame, y, w_raw, data, cov_list, numeric_cols, needed


def _pairwise_counts_check(X: np.ndarray, y: np.ndarray | None, columns: list[str],
                           owner: dict[int, str], outcome: str | None, need: int) -> None:
    """Every pair of variables needs respondents who answered both (pairwise deletion)."""
    Z = X if y is None else np.column_stack([X, y])
    names = [owner[j] for j in range(X.shape[1])] + ([str(outcome)] if y is not None else [])
    O = (~np.isnan(Z)).astype(float)
    N = O.T @ O
    k = Z.shape[1]
    worst = None
    for a in range(k):
        for b in range(a, k):
            if names[a] == names[b] and a != b:
                continue
            if worst is None or N[a, b] < worst[0]:
                worst = (N[a, b], a, b)
    if worst is not None and worst[0] < max(3, need if worst[1] != worst[2] else 3):
        n_ab, a, b = worst
        if a == b:
            raise DataError(f"'{names[a]}' has only {int(n_ab)} answers; pairwise deletion "
                            "cannot estimate its variance. Leave it out.")
        raise DataError(
            f"The drivers '{names[a]}' and '{names[b]}' were answered together by only "
            f"{int(n_ab)} respondent(s), so their covariance is "
            f"{'undefined' if n_ab < 2 else 'unreliable'} under missing='pairwise'. "
            "Leave one out, or use missing='impute' or 'dummy' (e.g. for items asked of "
            "different sub-groups)."
        )


def _prepare_imputed(data: pd.DataFrame, frame: pd.DataFrame, y: np.ndarray | None,
                     orig_outcome: Any, orig_drivers: Any, outcome: str | None,
                     needed: list[str], numeric_cols: list[str], factor_cols: list[str],
                     formula: bool, mmeta: dict[str, Any], m: int, seed: Any,
                     kw: dict[str, Any], prepare: Callable[..., Any],
                     _numeric_or_factor: Callable[..., Any]) -> Any:
    """Multiple imputation: ``m`` completed copies of the data, each prepared listwise.

    ``prepare`` and the column classifier are passed in by :func:`prepare` (the caller)."""
    import dataclasses
    import warnings

    if formula:  # classify the formula's raw columns here
        numeric_cols, factor_cols = [], []
        for name in needed:
            kind_, col = _numeric_or_factor(data[name], name, "driver")
            frame[name] = col
            (numeric_cols if kind_ == "numeric" else factor_cols).append(name)
    for name in factor_cols:
        if frame[name].isna().any():
            raise DataError(
                f"The categorical driver '{name}' has skipped answers; missing='impute' "
                "imputes ratings only. Use missing='dummy' (a '(not answered)' level), or "
                f"recode the gaps as their own level: df['{name}'].fillna('Not answered')."
            )
    cols = [c for c in needed if c in numeric_cols]
    Z = frame[cols].to_numpy(dtype=float)
    names = list(cols)
    if y is not None:
        Z = np.column_stack([Z, y])
        names.append(str(outcome))
    dummies = [pd.get_dummies(frame[c].astype(str), drop_first=True, dtype=float)
               for c in factor_cols]
    extra = np.hstack([d.to_numpy() for d in dummies]) if dummies else None
    completed = _missing.impute_chained(Z, m=m, seed=seed, names=names, extra=extra)
    frames: list[pd.DataFrame] = []
    dds: list[Any] = []
    n_y_missing = int(np.isnan(y).sum()) if y is not None else 0
    for Zi in completed:
        fi = data.copy(deep=False)
        for j, c in enumerate(cols):
            fi[c] = Zi[:, j]
        frames.append(fi)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MissingDataWarning)
            dds.append(prepare(fi, orig_outcome, orig_drivers, missing="listwise", **kw))
    n_cells = int(np.isnan(frame[cols].to_numpy(dtype=float)).sum())
    first = dds[0]
    mmeta.update({"missing": "impute", "imputations": m, "cells imputed": n_cells,
                  "rows used": first.n})
    if n_y_missing:
        mmeta["rows dropped (outcome missing)"] = n_y_missing
    for d in dds:
        d.policy = "impute"
        d.missing_meta = dict(mmeta)
    notes = [
        *first.notes,
        f"Multiple imputation: {n_cells} missing answers imputed {m} times by chained "
        "equations with predictive mean matching; estimates pooled over the imputed data "
        "sets (Rubin's rules)."
        + (f" {n_y_missing} rows with a missing outcome used only to impute the drivers."
           if n_y_missing else "")
    ]
    out = dataclasses.replace(first)
    out.notes = notes
    out.imputed = dds
    out.imputed_frames = frames
    return out
