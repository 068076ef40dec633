"""Input checks for PLS path models: items, missing answers, survey weights and scales."""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_columns, warn
from ..exceptions import DataError, DriverkitError, DriverkitTypeError, MissingDataWarning
from ._pls_spec import PLSSpec

__all__ = ["PLSData", "prepare_pls_data"]

MISSING = ("listwise", "mean", "raise")


@dataclass
class PLSData:
    """The numbers a PLS fit uses."""

    X: np.ndarray            # (n, p) item ratings, block order
    w: np.ndarray            # (n,) survey weights
    index: pd.Index          # data rows used
    low: np.ndarray          # (p,) declared scale minimum
    width: np.ndarray        # (p,) declared scale width U − L
    scales: dict[str, tuple[float, float]]
    notes: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)


def _weights(data: pd.DataFrame, weights: Any) -> tuple[np.ndarray | None, str | None]:
    if weights is None:
        return None, None
    if isinstance(weights, str):
        check_columns(data, [weights], role="weights column")
        return pd.to_numeric(data[weights], errors="coerce").to_numpy(dtype=float), weights
    w = np.asarray(weights, dtype=float).ravel()
    if w.size != len(data):
        raise DataError(f"weights has {w.size} values for {len(data)} respondents.")
    return w, None


def _scales(scales: Any, spec: PLSSpec, X: np.ndarray,
            notes: list[str]) -> dict[str, tuple[float, float]]:
    out: dict[str, tuple[float, float]] = {}
    owner = {it: spec.constructs[spec.block[k]] for k, it in enumerate(spec.item_names)}
    if scales is None:
        given: dict[str, Any] = {}
    elif isinstance(scales, Mapping):
        given = {}
        for k, v in scales.items():
            if k in spec.items:
                for it in spec.items[k]:
                    given.setdefault(it, v)
            elif k in owner:
                given[k] = v
            else:
                raise DriverkitError(f"scales names '{k}', which is neither an item nor a "
                                     "construct of the model.")
    elif isinstance(scales, Sequence) and len(scales) == 2:
        given = dict.fromkeys(spec.item_names, scales)
    else:
        raise DriverkitTypeError("scales must be (low, high) or a dict {item or construct: "
                                 "(low, high)}.")
    observed = []
    for k, it in enumerate(spec.item_names):
        x = X[:, k]
        lo_obs, hi_obs = float(np.nanmin(x)), float(np.nanmax(x))
        if it in given:
            sc = given[it]
            if not (isinstance(sc, Sequence) and len(sc) == 2
                    and all(isinstance(v, numbers.Real) for v in sc) and sc[0] < sc[1]):
                raise DriverkitError(f"The scale of '{it}' must be (low, high) with low < high; "
                                     f"got {sc!r}.")
            lo, hi = float(sc[0]), float(sc[1])
            if lo_obs < lo or hi_obs > hi:
                raise DataError(
                    f"The item '{it}' (construct '{owner[it]}') has values from {lo_obs:g} to "
                    f"{hi_obs:g}, outside its declared scale ({lo:g}, {hi:g}); fix the scale "
                    "or recode the data (indices and IPMA performance must stay within 0–100)."
                )
            out[it] = (lo, hi)
        else:
            out[it] = (lo_obs, hi_obs)
            observed.append(it)
    if observed:
        notes.append("No declared scale for " + ", ".join(observed) + ": 0–100 indices use "
                     "the observed min/max (declare scales=(1, 10) or a dict).")
    return out


def prepare_pls_data(data: Any, spec: PLSSpec, *, weights: Any = None, scales: Any = None,
                     missing: str = "listwise", na_values: Any = None) -> PLSData:
    """Check and extract the items (never modifies ``data``)."""
    from .._validation import check_missing
    from ..data._missing import apply_na_values

    missing = check_missing(missing, "pls", allowed=list(MISSING))
    check_columns(data, spec.item_names, role="item")
    owner = {it: spec.constructs[spec.block[k]] for k, it in enumerate(spec.item_names)}
    df, na_counts = apply_na_values(data[spec.item_names], na_values, spec.item_names, "pls")
    cols = {}
    for it in spec.item_names:
        s = df[it]
        if s.dtype == bool:
            s = s.astype(float)
        num = pd.to_numeric(s, errors="coerce")
        bad = num.isna() & s.notna()
        if bad.any():
            ex = s[bad].iloc[0]
            raise DataError(
                f"The item '{it}' (construct '{owner[it]}') has non-numeric values such as "
                f"{ex!r}; recode them or declare them as missing with na_values=[{ex!r}]."
            )
        if num.isna().all():
            raise DataError(f"The item '{it}' (construct '{owner[it]}') has no answers (all "
                            "values missing); drop it from the construct.")
        cols[it] = num.to_numpy(dtype=float)
    X = np.column_stack([cols[it] for it in spec.item_names])
    inf = ~np.isfinite(X) & ~np.isnan(X)
    if inf.any():
        it = spec.item_names[int(np.flatnonzero(inf.any(axis=0))[0])]
        raise DataError(f"The item '{it}' has infinite values.")
    w, wname = _weights(data, weights)
    notes: list[str] = []
    meta: dict[str, Any] = {"missing": missing}
    if na_counts:
        meta["no-answer codes removed"] = sum(sum(v.values()) for v in na_counts.values())
    na = np.isnan(X)
    bad_w = np.zeros(len(X), dtype=bool) if w is None else ~np.isfinite(w)
    index = data.index
    n0 = len(X)
    if bad_w.any():
        if missing == "raise":
            raise DataError(f"{int(bad_w.sum())} survey weights are missing or not numeric.")
        X, na, index = X[~bad_w], na[~bad_w], index[~bad_w]
        w = w[~bad_w]  # type: ignore[index]
        warn(f"pls(): {int(bad_w.sum())} respondents without a survey weight dropped.",
             MissingDataWarning)
    if na.any():
        rows = na.any(axis=1)
        worst = ", ".join(f"{spec.item_names[k]} ({int(na[:, k].sum())})"
                          for k in np.argsort(-na.sum(axis=0))[:3] if na[:, k].any())
        if missing == "raise":
            raise DataError(f"{int(rows.sum())} respondents have missing item answers (most in "
                            f"{worst}); use missing='listwise' or 'mean'.")
        if missing == "listwise":
            share = rows.mean()
            warn(f"pls(): {int(rows.sum())} of {len(X)} respondents ({100 * share:.1f}%) with "
                 f"missing item answers dropped (listwise; most missing: {worst}).",
                 MissingDataWarning)
            notes.append(f"Listwise deletion: {int(rows.sum())} respondents "
                         f"({100 * share:.1f}%) dropped.")
            X, index = X[~rows], index[~rows]
            if w is not None:
                w = w[~rows]
        else:
            from ..data._missing import warn_filled, weighted_mean_fill

            ww = np.ones(len(X)) if w is None else w
            X = X.copy()
            gaps = np.flatnonzero(na.any(axis=0))
            for j in gaps:
                X[na[:, j], j] = weighted_mean_fill(X[:, j], ww)
            warn_filled("mean", "pls", [spec.item_names[j] for j in gaps], int(na.sum()))
            notes.append(f"Mean replacement of {int(na.sum())} missing answers (shrinks "
                         "variances).")
            meta["imputed answers"] = int(na.sum())
    if w is None:
        w = np.ones(len(X))
    elif np.any(w < 0) or w.sum() <= 0:
        raise DataError("The survey weights must be non-negative and not all zero.")
    if len(X) < 3:
        raise DataError(f"pls() needs at least 3 complete respondents; got {len(X)}.")
    meta["respondents in data"] = n0
    meta["respondents used"] = len(X)
    for col, item in enumerate(spec.item_names):
        if np.ptp(X[w > 0, col]) == 0:
            raise DataError(f"The item '{item}' (construct '{owner[item]}') is constant "
                            f"({X[0, col]:g} for every respondent); drop it from the construct.")
    sc = _scales(scales, spec, X, notes)
    low = np.array([sc[it][0] for it in spec.item_names])
    width = np.array([sc[it][1] - sc[it][0] for it in spec.item_names])
    if wname is not None:
        meta["weights"] = wname
    return PLSData(X, w, pd.Index(index), low, width, sc, notes, meta)
