"""``dk.missing_report``: how much is missing, in which patterns, and what each policy keeps."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._results import Result
from .._validation import check_columns
from ..exceptions import DriverkitTypeError
from . import _checks, _missing

__all__ = ["MissingReport", "missing_report"]


class MissingReport(Result):
    """Missing answers per column and per pattern, and the rows each policy keeps.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per column: ``answered``, ``missing``, ``share_missing`` (%) and
        ``codes_removed`` (cells that ``na_values`` turned into missing), sorted by share.
    patterns : pandas.DataFrame
        The most common patterns: one row each, ``x`` marking a missing column, with
        ``rows`` and ``share`` (%).
    policies : pandas.DataFrame
        Rows each ``missing=`` policy analyses (``listwise``: complete rows; ``pairwise``:
        the smallest number of respondents who answered a pair; the others every row).
    meta, notes
    """

    _title = "Missing answers"

    def __init__(self, table: pd.DataFrame, *, patterns: pd.DataFrame,
                 policies: pd.DataFrame, meta: dict[str, Any], notes: list[str]) -> None:
        super().__init__(table, meta=meta, notes=notes)
        self.patterns = patterns
        self.policies = policies

    def summary(self, *, labels: dict[str, str] | None = None, currency: str | None = None,
                locale: str | None = None) -> str:
        """Plain text: the per-column table, the policies and the top patterns.

        ``labels``, ``currency`` and ``locale`` work as in :meth:`Result.summary`.
        """
        text = super().summary(labels=labels, currency=currency, locale=locale)
        text += "\n\nRows analysed by each policy\n" + self.policies.to_string()
        text += "\n\nMost common patterns (x = missing)\n" + self.patterns.to_string()
        return text

    def plot_data(self) -> pd.DataFrame:
        return self.table[["share_missing"]].copy()


def missing_report(data: pd.DataFrame, columns: Sequence[str] | None = None, *,
                   na_values: Any = None, top: int = 10) -> MissingReport:
    """Tabulate missing answers per column and per pattern, and the rows each policy keeps.

    Parameters
    ----------
    data : pandas.DataFrame
        Respondents (never modified).
    columns : list of str, optional
        The columns of the analysis (outcome and drivers); default every column.
    na_values : list or dict, optional
        "No answer" codes, applied first and counted per column.
    top : int, default=10
        Number of patterns shown.

    Returns
    -------
    MissingReport

    Examples
    --------
    >>> import numpy as np, pandas as pd, driverkit as dk
    >>> df = pd.DataFrame({"y": [1, 2, 3, 4], "a": [1, np.nan, 3, 99], "b": [2, 3, np.nan, 5]})
    >>> rep = dk.missing_report(df, ["y", "a", "b"], na_values=[99])
    >>> rep.table["missing"].to_dict()
    {'a': 2, 'b': 1, 'y': 0}
    >>> int(rep.policies.loc["listwise", "rows"])
    1
    """
    if not isinstance(data, pd.DataFrame):
        raise DriverkitTypeError(
            f"missing_report() needs a pandas DataFrame, got {type(data).__name__}."
        )
    cols = [str(c) for c in data.columns] if columns is None else (
        [columns] if isinstance(columns, str) else list(columns))
    data = _checks.check_labels(data, cols, "missing_report")
    check_columns(data, cols, role="column")
    frame, counts = _missing.apply_na_values(data.loc[:, cols], na_values, cols,
                                             "missing_report")
    na = frame.isna()
    n = len(frame)
    miss = na.sum()
    table = pd.DataFrame({
        "answered": (n - miss).astype(int),
        "missing": miss.astype(int),
        "share_missing": (miss / n * 100) if n else miss * 0.0,
        "codes_removed": [sum(counts.get(c, {}).values()) for c in cols],
    }, index=pd.Index(cols, name="column"))
    table = table.sort_values(["share_missing"], ascending=False, kind="stable")
    key = na.to_numpy()
    if n:
        uniq, freq = np.unique(key, axis=0, return_counts=True)
        order = np.argsort(-freq, kind="stable")[:top]
        pat = pd.DataFrame(np.where(uniq[order], "x", ""), columns=cols)
        pat["rows"] = freq[order]
        pat["share"] = freq[order] / n * 100
        pat.index = pd.RangeIndex(1, len(pat) + 1, name="pattern")
    else:
        pat = pd.DataFrame(columns=[*cols, "rows", "share"])
    complete = int((~key.any(axis=1)).sum()) if n else 0
    O = (~key).astype(float)
    N = O.T @ O if n else np.zeros((len(cols), len(cols)))
    k = len(cols)
    if k > 1:
        iu = np.triu_indices(k, 1)
        j = int(np.argmin(N[iu]))
        a, b = cols[iu[0][j]], cols[iu[1][j]]
        pair_n = int(N[iu][j])
    else:
        a = b = cols[0] if cols else ""
        pair_n = int(N[0, 0]) if k else 0
    policies = pd.DataFrame({
        "rows": [complete, pair_n, n, n, n],
        "share": [complete / n * 100 if n else 0.0, pair_n / n * 100 if n else 0.0,
                  100.0, 100.0, 100.0],
        "note": ["complete rows only", f"smallest pair: '{a}' with '{b}'",
                 "skipped answers set to the mean", "mean fill + 'not answered' indicators",
                 "multiple imputation (20 data sets by default)"],
    }, index=pd.Index(["listwise", "pairwise", "mean", "dummy", "impute"], name="policy"))
    meta: dict[str, Any] = {"rows": n, "columns": len(cols), "complete rows": complete,
                            "cells missing": int(key.sum())}
    notes = []
    if counts:
        notes.append("na_values turned " + "; ".join(
            f"'{c}': " + ", ".join(f"{code!r} ×{v}" for code, v in per.items())
            for c, per in counts.items()) + " into missing answers.")
    if n and complete < 0.5 * n:
        notes.append(f"Listwise deletion would keep only {complete} of {n} rows "
                     f"({complete / n:.0%}); consider missing='impute'.")
    if k > 1 and pair_n < 3:
        notes.append(f"'{a}' and '{b}' were answered together by {pair_n} respondent(s): "
                     "pairwise deletion cannot use this pair.")
    return MissingReport(table, patterns=pat, policies=policies, meta=meta, notes=notes)
