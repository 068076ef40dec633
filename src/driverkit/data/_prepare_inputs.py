"""Validation of the inputs of :func:`~driverkit.data.prepare` other than the drivers.

Column lists, weights (resolved, checked, rescaled), binary and ordinal outcomes, declared
scales and the collinearity check of the design.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_columns, suggest
from ..exceptions import (
    DataError,
    DriverkitTypeError,
)
from . import _checks
from ._design import _numeric_or_factor


def _as_list(x: Any, name: str, func: str) -> list[str]:
    if x is None:
        return []
    if isinstance(x, str):
        return [x]
    if isinstance(x, Sequence | pd.Index | np.ndarray):
        return [str(v) if not isinstance(v, str) else v for v in x]
    raise DriverkitTypeError(
        f"The '{name}' parameter of {func}() must be a column name or a list of column names. "
        f"Got {type(x).__name__}."
    )


def _resolve_weights(
    data: pd.DataFrame, weights: Any, func: str
) -> tuple[np.ndarray | None, str | None]:
    if weights is None:
        return None, None
    if isinstance(weights, str):
        check_columns(data, [weights], role="weights")
        s = data[weights]
        if not pd.api.types.is_numeric_dtype(s):
            raise DataError(f"The weights column '{weights}' must be numeric (got {s.dtype}).")
        return s.to_numpy(dtype=float), weights
    if isinstance(weights, pd.Series):
        return _checks.align_weights(data, weights), str(weights.name or "weights")
    arr = np.asarray(weights, dtype=float).ravel()
    if arr.shape[0] != len(data):
        raise DataError(
            f"weights has {arr.shape[0]} values but the data have {len(data)} rows; pass a "
            "column name or one weight per row."
        )
    return arr, "weights"


def _check_weights(w: np.ndarray, label: str) -> None:
    if np.isnan(w).any():
        raise DataError(
            f"The weights '{label}' contain {int(np.isnan(w).sum())} missing value(s). "
            "Give every respondent a weight (or drop those rows)."
        )
    if not np.isfinite(w).all():
        raise DataError(f"The weights '{label}' contain infinite values.")
    if (w < 0).any():
        raise DataError(
            f"The weights '{label}' contain {int((w < 0).sum())} negative value(s) "
            f"(smallest {w.min():g}). Survey weights must be >= 0."
        )
    if w.max() <= 0:
        raise DataError(f"The weights '{label}' are all zero; at least one must be positive.")


def _rescale_weights(w: np.ndarray, label: str, weight_type: str) -> np.ndarray:
    """Sampling weights so large or small that sums overflow or underflow are rescaled.

    Sampling weights matter only relative to each other, so dividing by their largest value
    changes no estimate; frequency weights count respondents and cannot be rescaled.
    """
    top = float(w.max())
    with np.errstate(over="ignore"):
        total = float(w.sum())
    if np.isfinite(total) and 1e-100 < top < 1e100:
        return w
    if weight_type == "frequency":
        raise DataError(
            f"The frequency weights '{label}' range up to {top:g}; their sum "
            f"{'overflows' if not np.isfinite(total) else 'underflows'}. Frequency weights "
            "count respondents; pass them as sampling weights or fix the column."
        )
    scaled = w / top
    scaled = scaled / scaled.mean()
    if (scaled[w > 0] == 0).any():
        raise DataError(
            f"The weights '{label}' span more than 300 orders of magnitude "
            f"({w[w > 0].min():g} to {top:g}); the smallest ones are zero in double "
            "precision. Check the weight column."
        )
    return scaled


def _binary_outcome(s: pd.Series, name: str, positive: Any) -> tuple[np.ndarray, list[Any]]:
    vals = pd.unique(s.dropna())
    if len(vals) > 2:
        shown = ", ".join(f"{v:g}" if isinstance(v, float | np.floating) else repr(v)
                          for v in sorted(vals, key=str)[:6])
        raise DataError(
            f"The outcome '{name}' has {len(vals)} distinct values "
            f"({shown}{' ...' if len(vals) > 6 else ''}) "
            "but a binary model (logit/probit) needs exactly two. Try kind='ordinal' or "
            "kind='linear', or recode the outcome to 0/1."
        )
    if len(vals) < 2:
        raise DataError(
            f"The outcome '{name}' takes only one value ({vals[0]!r} if any); a binary model "
            "needs both outcomes among the respondents."
        )
    if positive is not None:
        positive = _match_level(positive, vals)
        if positive not in set(vals):
            raise DataError(
                f"positive={positive!r} is not a value of the outcome '{name}' "
                f"(values: {', '.join(map(repr, vals))})."
            )
        negative = next(v for v in vals if v != positive)
        y = (s == positive).astype(float).to_numpy(copy=True)
        y[s.isna().to_numpy()] = np.nan
        return y, [negative, positive]
    if pd.api.types.is_bool_dtype(s):
        return s.astype(float).to_numpy(copy=True), [False, True]
    if pd.api.types.is_numeric_dtype(s):
        num = s.astype(float)
        if set(np.unique(num.dropna())) <= {0.0, 1.0}:
            return num.to_numpy(copy=True), [0, 1]
        raise DataError(
            f"The outcome '{name}' takes the values {sorted(vals)}; a binary model needs 0/1. "
            f"Pass positive=<value of the event> (e.g. positive={max(vals)!r})."
        )
    eventish = {"yes", "y", "true", "1", "churn", "churned", "bought", "repurchase"}
    guess = next((v for v in vals if str(v).strip().lower() in eventish), sorted(vals, key=str)[-1])
    raise DataError(
        f"The outcome '{name}' has the text values {', '.join(map(repr, vals))}. Name the "
        f"event with positive= (command line: --positive), e.g. positive={guess!r}."
    )


def _match_level(value: Any, vals: Any) -> Any:
    """The outcome value ``value`` names: ``"2"`` matches the number 2 and vice versa."""
    if value in set(vals):
        return value
    for v in vals:
        if str(v).strip() == str(value).strip():
            return v
        try:
            if float(str(v).strip()) == float(str(value).strip()):
                return v
        except ValueError:
            continue
    return value


def _ordinal_outcome(s: pd.Series, name: str) -> tuple[np.ndarray, list[Any]]:
    if isinstance(s.dtype, pd.CategoricalDtype):
        if not s.cat.ordered:
            raise DataError(
                f"The ordinal outcome '{name}' is an unordered Categorical. Make it ordered, "
                "e.g. s.cat.as_ordered() or pd.Categorical(..., ordered=True, categories=[...])."
            )
        present = set(s.dropna().unique())
        levels = [c for c in s.cat.categories if c in present]
        mapping = {lv: i for i, lv in enumerate(levels)}
        y = np.array([mapping.get(v, np.nan) if not pd.isna(v) else np.nan for v in s], dtype=float)
    else:
        kind_, num = _numeric_or_factor(s, name, "outcome")
        if kind_ == "factor":
            raise DataError(
                f"The ordinal outcome '{name}' holds unordered text; its order is unknown. "
                "Convert it to an ordered pandas Categorical with the categories in order."
            )
        levels = sorted(np.unique(num.dropna()).tolist())
        mapping = {lv: i for i, lv in enumerate(levels)}
        y = np.array([mapping[v] if not np.isnan(v) else np.nan for v in num.to_numpy()])
    if len(levels) < 2:
        raise DataError(f"The ordinal outcome '{name}' needs at least two categories.")
    return y, levels


def _check_scales(scales: Mapping[str, Any] | None, numeric_drivers: list[str], func: str,
                  all_drivers: list[str]) -> dict[str, tuple[float, float]]:
    if scales is None:
        return {}
    if not isinstance(scales, Mapping):
        raise DriverkitTypeError(
            f"The 'scales' parameter of {func}() must be a dict like {{'staff': (1, 10)}}."
        )
    out: dict[str, tuple[float, float]] = {}
    for name, bounds in scales.items():
        if name not in all_drivers:
            raise DataError(
                f"scales names '{name}', which is not a driver.{suggest(name, all_drivers)}"
            )
        if name not in numeric_drivers:
            raise DataError(f"scales names '{name}', a categorical driver; scales are for ratings.")
        try:
            lo, hi = (float(b) for b in bounds)
        except (TypeError, ValueError):
            raise DataError(
                f"The scale of '{name}' must be a pair (low, high), got {bounds!r}."
            ) from None
        if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
            raise DataError(f"The scale of '{name}' must satisfy low < high; got ({lo:g}, {hi:g}).")
        out[name] = (lo, hi)
    return out


def _collinearity_check(X: np.ndarray, w: np.ndarray, columns: list[str],
                        owner: dict[int, str]) -> None:
    """Raise naming the drivers involved when the design is rank deficient."""
    sw = w / w.sum()
    mu = sw @ X
    Xc = (X - mu) * np.sqrt(sw)[:, None]
    sd = np.sqrt((Xc**2).sum(axis=0))
    for j in range(X.shape[1]):
        if sd[j] <= 1e-12 * max(1.0, abs(mu[j])):
            name = owner[j]
            what = f"the dummy '{columns[j]}'" if columns[j] != name else "it"
            raise DataError(
                f"The driver '{name}' is constant among the respondents used ({what} takes a "
                "single value), so its effect cannot be estimated. Remove it from the drivers."
            )
    Z = Xc / sd
    # duplicated columns first: the clearest message
    corr = Z.T @ Z
    k = X.shape[1]
    for a in range(k):
        for b in range(a + 1, k):
            if abs(corr[a, b]) > 1 - 1e-10 and owner[a] != owner[b]:
                raise DataError(
                    f"The drivers '{owner[a]}' and '{owner[b]}' are perfectly correlated "
                    f"(r = {corr[a, b]:+.6f}); they carry the same information. Keep one of them."
                )
    evals, evecs = np.linalg.eigh(corr)
    if evals[0] < 1e-10 * max(1.0, evals[-1]):
        v = evecs[:, 0]
        involved = [owner[j] for j in np.argsort(-np.abs(v)) if abs(v[j]) > 1e-3]
        names = list(dict.fromkeys(involved))
        raise DataError(
            "The drivers " + ", ".join(f"'{n}'" for n in names) + " are perfectly collinear "
            "(one is an exact linear combination of the others). Drop one of them, or combine "
            "them into an index."
        )
