"""Small helpers shared by the CX analyses (weights, FDR, group labels, z-tests)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .._validation import check_columns, warn
from ..data._prepare import _check_weights, _resolve_weights
from ..exceptions import DataError, DriverkitTypeError, SmallSampleWarning

__all__ = [
    "MIN_GROUP",
    "bh_fdr",
    "group_labels",
    "kish_n",
    "names_list",
    "plain",
    "resolve_weights",
    "weighted_mean_se",
    "z_test",
]

#: Groups (segments, waves) smaller than this trigger a :class:`SmallSampleWarning`.
MIN_GROUP = 30


def plain(data: pd.DataFrame) -> pd.DataFrame:
    """A shallow copy of ``data`` without ``attrs`` (pandas deep-copies attrs on every
    operation, which makes a survey with a large ``attrs["truth"]`` slow to slice)."""
    if not isinstance(data, pd.DataFrame) or not data.attrs:
        return data
    out = data.copy(deep=False)
    out.attrs = {}
    return out


def names_list(x: Any, name: str, func: str) -> list[str]:
    """A list of column names from a string or a sequence (error otherwise)."""
    if isinstance(x, str):
        return [x]
    if isinstance(x, Sequence | pd.Index | np.ndarray) and len(x):
        out = [str(v) for v in x]
        dup = sorted({v for v in out if out.count(v) > 1})
        if dup:
            raise DataError(f"{func}(): the {name} {dup} are listed more than once.")
        return out
    raise DriverkitTypeError(
        f"The '{name}' parameter of {func}() must be a column name or a non-empty list of "
        f"column names. Got {x!r}."
    )


def resolve_weights(data: pd.DataFrame, weights: Any, func: str) -> np.ndarray:
    """Validated weights (ones when ``None``) for every row of ``data``."""
    w, label = _resolve_weights(data, weights, func)
    if w is None:
        return np.ones(len(data))
    _check_weights(w, str(label))
    return w


def kish_n(w: np.ndarray) -> float:
    """Kish's effective sample size (Σw)² / Σw² (= n for equal weights)."""
    w = np.asarray(w, float)
    s2 = float(np.sum(w**2))
    return float(np.sum(w) ** 2 / s2) if s2 > 0 else 0.0


def weighted_mean_se(x: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Weighted mean and its standard error (linearisation, Kish-style for sampling weights)."""
    sw = w.sum()
    m = float(np.sum(w * x) / sw)
    n = x.size
    if n < 2:
        return m, float("nan")
    # ratio-estimator variance: Σ w²(x − m)² / (Σw)² · n/(n−1)
    var = float(np.sum(w**2 * (x - m) ** 2) / sw**2 * n / (n - 1))
    return m, float(np.sqrt(var))


def bh_fdr(p: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (q-values); NaNs are kept out of the family."""
    p = np.asarray(p, float)
    q = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    m = int(ok.sum())
    if m == 0:
        return q
    pv = p[ok]
    order = np.argsort(pv)
    ranked = pv[order] * m / np.arange(1, m + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.clip(ranked, 0.0, 1.0)
    q[ok] = out
    return q


def z_test(diff: np.ndarray, se: np.ndarray, ci: float) -> tuple[np.ndarray, np.ndarray,
                                                                  np.ndarray]:
    """Two-sided normal test of ``diff = 0``: (ci_low, ci_high, p_value)."""
    diff = np.asarray(diff, float)
    se = np.asarray(se, float)
    z = stats.norm.ppf(0.5 + ci / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = np.where(se > 0, diff / se, np.nan)
    p = 2 * stats.norm.sf(np.abs(stat))
    return diff - z * se, diff + z * se, p


def group_labels(data: pd.DataFrame, column: str, func: str, role: str,
                 *, min_groups: int = 2) -> tuple[pd.Series, list[Any]]:
    """The group column (segment, wave) and its levels in order.

    Ordered categoricals keep their order; other values are sorted. Rows with a missing
    label are an error (say which rows to drop).
    """
    check_columns(data, [column], role=role)
    s = data[column]
    if s.isna().any():
        raise DataError(
            f"The {role} column '{column}' has {int(s.isna().sum())} missing value(s). Drop "
            f"those rows or give them a {role} label."
        )
    if isinstance(s.dtype, pd.CategoricalDtype):
        present = set(s.unique())
        levels = [lv for lv in s.cat.categories if lv in present]
    else:
        try:
            levels = sorted(pd.unique(s))
        except TypeError:
            levels = sorted(pd.unique(s), key=str)
    levels = [lv.item() if isinstance(lv, np.generic) else lv for lv in levels]
    if len(levels) < min_groups:
        raise DataError(
            f"{func}() needs at least {min_groups} distinct values in the {role} column "
            f"'{column}'; found {len(levels)} ({', '.join(map(repr, levels))})."
        )
    return s, levels


def warn_small(sizes: dict[Any, int], role: str, column: str) -> list[str]:
    """Warn (SmallSampleWarning) about groups with fewer than :data:`MIN_GROUP` rows."""
    small = {k: v for k, v in sizes.items() if v < MIN_GROUP}
    if not small:
        return []
    desc = ", ".join(f"{k!r} ({v} respondents)" for k, v in small.items())
    msg = (f"The {role}(s) {desc} of '{column}' have fewer than {MIN_GROUP} respondents; their "
           "estimates are unstable and their tests have little power.")
    warn(msg, SmallSampleWarning)
    return [msg]
