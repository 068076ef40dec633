"""Input checks of the data layer that catch silently wrong numbers.

* column labels: duplicated names and non-text labels (``0, 1, 2`` from ``header=None``);
* weights given as a Series are aligned by index, never by position;
* "don't know" codes (99, −99, 999) inside rating columns and numbers read as text with
  decimal commas are reported with the column and the values, pointing to ``na_values=`` and
  ``decimal=``;
* magnitudes that overflow the cross-products (1e300) are errors.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from .._validation import warn
from ..exceptions import DataError, DataQualityWarning

__all__ = ["align_weights", "check_labels", "warn_code_values", "warn_decimal_comma"]

#: Largest magnitude accepted in a numeric input: beyond 2**53 integers are not exact and
#: squares of values near 1e154 overflow, so such values are export errors, not ratings.
MAX_ABS = 1e15
_CODE_RE = re.compile(r"^-?(9+|9+8|9+7|8{2,}|7{2,})$")
_COMMA_NUMBER = re.compile(r"^[+-]?\d+,\d+$")


def check_labels(data: pd.DataFrame, used: list[Any], func: str) -> pd.DataFrame:
    """Reject duplicated used columns; give non-text labels their text form.

    Returns ``data`` itself, or a relabelled view (columns as ``str``) when some labels are
    not text, so ``drivers=[1, 2]`` and ``drivers=["1", "2"]`` both work.
    """
    cols = list(data.columns)
    if not all(isinstance(c, str) for c in cols):
        as_text = [str(c) for c in cols]
        clash = sorted({c for c in as_text if as_text.count(c) > 1})
        if clash:
            raise DataError(
                f"The data have columns whose names coincide as text ({clash}, e.g. 1 and "
                "'1'). Rename them, e.g. df.columns = [str(c) for c in df.columns] after "
                "fixing the duplicates."
            )
        data = data.set_axis(as_text, axis=1)
        cols = as_text
    dup = sorted({str(c) for c in used if c is not None and cols.count(str(c)) > 1})
    if dup:
        raise DataError(
            f"The column name(s) {dup} occur more than once in the data, so {func}() cannot "
            "tell which one to use. Rename the duplicates (e.g. pandas reads them as 'x.1')."
        )
    return data


def align_weights(data: pd.DataFrame, weights: pd.Series) -> np.ndarray:
    """Weights given as a Series, matched to the data's rows by index label."""
    if weights.index.equals(data.index):
        return weights.to_numpy(dtype=float)
    if not data.index.is_unique or not weights.index.is_unique:
        raise DataError(
            "weights is a Series whose index differs from the data's and one of the two "
            "indexes has repeated labels, so the weights cannot be matched to respondents. "
            "Pass a column name, or a Series with the data's index."
        )
    missing = data.index.difference(weights.index)
    if len(missing):
        shown = ", ".join(repr(v) for v in list(missing[:5]))
        raise DataError(
            f"weights is a Series indexed differently from the data: {len(missing)} "
            f"respondent label(s) have no weight (e.g. {shown}). Weights are matched by "
            "index label, never by position; align them or pass weights=df['w']."
        )
    return weights.reindex(data.index).to_numpy(dtype=float)


def check_magnitude(x: np.ndarray, name: str, role: str) -> None:
    """Raise for values too large to be answers (they overflow the cross-products)."""
    with np.errstate(invalid="ignore"):
        big = np.abs(x) > MAX_ABS
    big &= np.isfinite(x)
    if big.any():
        shown = ", ".join(f"{v:g}" for v in pd.unique(x[big])[:3])
        raise DataError(
            f"The {role} '{name}' has {int(big.sum())} value(s) of magnitude above "
            f"{MAX_ABS:g} ({shown}); these are not survey answers (an export error or a "
            "code). Recode them as missing (na_values=) or rescale the column."
        )


def _is_code(v: float) -> bool:
    return bool(float(v).is_integer() and _CODE_RE.match(str(int(v))))


def code_like_values(x: np.ndarray, scale: tuple[float, float] | None = None) -> list[float]:
    """Values of ``x`` that look like "don't know" codes (99, −99, 999, 98, ...).

    A value qualifies when it is such a code, isolated (at most 30 % of the answers) and far
    outside the rest: beyond the declared scale, or farther than half the spread of the
    other answers beyond their range.
    """
    v = x[np.isfinite(x)]
    if v.size < 5:
        return []
    uniq = np.unique(v)
    cand = [u for u in uniq if _is_code(u)]
    if not cand:
        return []
    rest = v[~np.isin(v, cand)]
    if rest.size < 0.7 * v.size or np.unique(rest).size < 3:
        return []
    if scale is not None:
        lo, hi = scale
        return [float(c) for c in cand
                if (c > hi and rest.max() <= hi) or (c < lo and rest.min() >= lo)]
    lo, hi = float(rest.min()), float(rest.max())
    span = hi - lo
    return [float(c) for c in cand if c > hi + 0.5 * span or c < lo - 0.5 * span]


def warn_code_values(x: np.ndarray, name: str, scale: tuple[float, float] | None = None
                     ) -> None:
    """Warn naming the column and the code-like values (see :func:`code_like_values`)."""
    codes = code_like_values(x, scale)
    if not codes:
        return
    counts = ", ".join(f"{c:g} ({int((x == c).sum())}×)" for c in codes)
    rest = x[np.isfinite(x) & ~np.isin(x, codes)]
    warn(
        f"The column '{name}' holds {counts}, far outside its other answers "
        f"({rest.min():g}..{rest.max():g}); these look like 'don't know' codes and would be "
        f"analysed as ratings. Pass na_values={[int(c) for c in codes]!r} (or "
        f"na_values={{'{name}': [...]}}) to treat them as missing.",
        DataQualityWarning,
    )


def comma_decimal_values(s: pd.Series) -> list[str]:
    """Text values that read as numbers with a decimal comma ("3,5"), if most values do."""
    nonnull = s.dropna().astype(str).str.strip()
    if nonnull.empty:
        return []
    comma = nonnull[nonnull.str.match(_COMMA_NUMBER)]
    plain = pd.to_numeric(nonnull, errors="coerce").notna()
    if len(comma) == 0 or (len(comma) + int(plain.sum())) < 0.9 * len(nonnull):
        return []
    return list(pd.unique(comma))[:4]


def warn_decimal_comma(s: pd.Series, name: str, role: str) -> None:
    """Warn when a text column is numbers with decimal commas (it would become a factor)."""
    shown = comma_decimal_values(s)
    if shown:
        warn(
            f"The {role} column '{name}' is text, but its values read as numbers with a "
            f"decimal comma ({', '.join(repr(v) for v in shown)}); it would be analysed as "
            f"a categorical with {s.nunique()} levels. Read the file with decimal=',' "
            f"(pandas.read_csv(..., decimal=','), or --decimal , on the command line) or "
            f"convert it: pd.to_numeric(df['{name}'].str.replace(',', '.')).",
            DataQualityWarning,
        )
