"""Stated versus derived importance: what customers say matters against what moves them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .._results import Result
from .._validation import check_columns, check_option
from ..data._prepare import _numeric_or_factor
from ..exceptions import DataError, DriverkitError, DriverkitTypeError
from ._common import names_list, resolve_weights
from ._common import plain as _plain

__all__ = ["StatedDerivedResult", "stated_vs_derived"]

_FUNC = "stated_vs_derived"
QUADRANTS = {
    (True, True): "key driver",          # said and shown to matter
    (False, True): "hidden driver",      # matters more than customers say
    (True, False): "stated only",        # customers say it matters, ratings do not move it
    (False, False): "secondary",
}


class StatedDerivedResult(Result):
    """Stated importance (survey answers) against derived importance (Shapley share).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per driver: ``stated`` (weighted mean of the stated-importance column, or the
        top-box share in %), ``derived`` (Shapley share, %), ``stated_rank``,
        ``derived_rank`` (1 = most important), ``gap`` = stated_rank − derived_rank
        (positive: matters more than customers say), ``quadrant`` and ``stated_column``.
    rank_correlation : float
        Spearman correlation of stated and derived importance across drivers.
    rank_correlation_p : float
        Its p-value (exact permutation distribution for small numbers of drivers).
    importance : ImportanceResult
        The derived-importance analysis.
    """

    _title = "Stated vs derived importance"

    def __init__(self, table: pd.DataFrame, *, rank_correlation: float,
                 rank_correlation_p: float, importance: Any, meta: dict[str, Any],
                 notes: list[str]) -> None:
        super().__init__(table, meta=meta, notes=notes)
        self.rank_correlation = float(rank_correlation)
        self.rank_correlation_p = float(rank_correlation_p)
        self.importance = importance

    def plot_data(self) -> pd.DataFrame:
        """Stated (x) and derived (y) importance with the quadrant of each driver."""
        return self.table[["stated", "derived", "quadrant"]].copy()

    def _plot(self, ax: Any, **kwargs: Any) -> Any:
        from ..display._plots import PALETTE

        d = self.plot_data()
        colors = {q: PALETTE[i % len(PALETTE)] for i, q in enumerate(QUADRANTS.values())}
        for q, g in d.groupby("quadrant", sort=False):
            ax.scatter(g["stated"], g["derived"], color=colors[str(q)], label=str(q), zorder=3,
                       **kwargs)
        for name, r in d.iterrows():
            ax.annotate(str(name), (r["stated"], r["derived"]), fontsize=8,
                        xytext=(4, 3), textcoords="offset points")
        xm, ym = self.meta["quadrant_split_stated"], self.meta["quadrant_split_derived"]
        ax.axvline(xm, color="#999999", lw=0.8, ls="--")
        ax.axhline(ym, color="#999999", lw=0.8, ls="--")
        ax.set_xlabel(f"stated importance ({self.meta['stated']})")
        ax.set_ylabel("derived importance (Shapley share, %)")
        ax.set_title(f"{self.title} (Spearman ρ = {self.rank_correlation:.2f})")
        ax.legend(fontsize=8, loc="best")
        return ax


def _stated_map(stated: Any, drivers: list[str], data: pd.DataFrame) -> dict[str, str]:
    if isinstance(stated, str):
        if "{}" not in stated:
            raise DriverkitTypeError(
                f"The 'stated' parameter of {_FUNC}() must map each driver to its stated-"
                "importance column ({'staff': 'imp_staff', ...}) or be a pattern with '{}' "
                f"for the driver name ('imp_{{}}'). Got {stated!r}."
            )
        return {d: stated.format(d) for d in drivers}
    if not isinstance(stated, Mapping):
        raise DriverkitTypeError(
            f"The 'stated' parameter of {_FUNC}() must be a dict {{driver: column}} or a "
            f"pattern like 'imp_{{}}'. Got {type(stated).__name__}."
        )
    keys = [str(k) for k in stated]
    missing = [d for d in drivers if d not in keys]
    extra = [k for k in keys if k not in drivers]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"no stated-importance column for the driver(s) {missing}")
        if extra:
            parts.append(f"stated columns for {extra}, which are not among the drivers")
        raise DataError(
            f"The stated-importance columns of {_FUNC}() do not match the drivers: "
            + "; ".join(parts) + ". Give exactly one stated column per driver "
            "(stated={driver: column}), or drop the driver."
        )
    cols = [str(stated[d]) for d in drivers]
    dup = sorted({c for c in cols if cols.count(c) > 1})
    if dup:
        raise DataError(f"{_FUNC}(): the stated column(s) {dup} are given for more than one "
                        "driver.")
    return {d: str(stated[d]) for d in drivers}


def stated_vs_derived(data: pd.DataFrame, outcome: str, drivers: Sequence[str], stated: Any, *,
                      stated_summary: str = "mean", top_box: float | None = None,
                      weights: Any = None, **importance_options: Any) -> StatedDerivedResult:
    """Put what customers say matters against what the data show moves the outcome.

    Parameters
    ----------
    data : pandas.DataFrame
        Respondents (not modified).
    outcome : str
        Outcome column.
    drivers : list of str
        Driver (performance rating) columns.
    stated : dict or str
        ``{driver: stated-importance column}`` for every driver, or a pattern such as
        ``"imp_{}"``.
    stated_summary : {"mean", "top_box"}, default="mean"
        Stated importance as the weighted mean answer, or as the weighted share (%) of
        top-box answers.
    top_box : float, optional
        The answer counted as top box (and above); default: the highest answer observed in
        any stated column.
    weights : str or array-like, optional
        Survey weights (stated summaries and the derived analysis).
    **importance_options
        Passed to :func:`driverkit.importance` (``kind``, ``always``, ``bootstrap`` ...);
        the derived importance is the Shapley share.

    Returns
    -------
    StatedDerivedResult

    Notes
    -----
    Derived importance is the Shapley/LMG share (Lindeman, Merenda & Gold 1980; Grömping
    2006); stated importance is the (weighted) mean answer or top-box share, each stated
    column over its own non-missing answers. Ranks: 1 = most important (ties share the
    lower rank); gap = stated_rank − derived_rank (positive: matters more than customers
    say — a *hidden driver*). The rank correlation is Spearman's ρ between the two columns.
    Quadrants split at the mean stated importance and at the mean derived share (100/p %).
    Stated importance tends to be high and undifferentiated, and reflects what customers
    think should matter; derived importance reflects what co-varies with the outcome in
    this sample (Gustafsson & Johnson 2004 compare the approaches).

    Examples
    --------
    >>> import driverkit as dk
    >>> df = dk.make_survey(n=1500, n_drivers=5, kind="linear", stated=True, seed=1)
    >>> res = dk.stated_vs_derived(df, "satisfaction", df.attrs["truth"]["drivers"],
    ...                            "imp_{}")
    >>> list(res.table.columns[:5])
    ['stated', 'derived', 'stated_rank', 'derived_rank', 'gap']
    """
    from ..importance import importance

    check_option(stated_summary, "stated_summary", ("mean", "top_box"), _FUNC)
    for bad in ("method", "groups", "drivers"):
        if bad in importance_options:
            raise DriverkitTypeError(
                f"{_FUNC}() uses Shapley values of the single drivers; do not pass '{bad}'."
            )
    if not isinstance(data, pd.DataFrame):
        raise DriverkitTypeError(f"{_FUNC}() needs a pandas DataFrame, got {type(data).__name__}.")
    data = _plain(data)
    drv = names_list(drivers, "drivers", _FUNC)
    if len(drv) < 2:
        raise DriverkitError(f"{_FUNC}() compares rankings and needs at least two drivers.")
    smap = _stated_map(stated, drv, data)
    check_columns(data, list(smap.values()), role="stated-importance")
    overlap = [c for c in smap.values() if c in drv or c == outcome]
    if overlap:
        raise DataError(f"{_FUNC}(): the stated column(s) {overlap} are also drivers or the "
                        "outcome.")
    w = resolve_weights(data, weights, _FUNC)

    values: dict[str, np.ndarray] = {}
    for d, c in smap.items():
        kind_, s = _numeric_or_factor(data[c], c, "stated-importance")
        if kind_ == "factor":
            raise DataError(f"The stated-importance column '{c}' holds text; code the answers "
                            "as numbers (e.g. 1 = not important … 5 = very important).")
        values[d] = s.to_numpy(dtype=float)
    if top_box is None:
        top = float(np.nanmax(np.concatenate(list(values.values()))))
    else:
        if isinstance(top_box, bool) or not isinstance(top_box, int | float | np.number):
            raise DriverkitTypeError(f"top_box must be a number (an answer); got {top_box!r}.")
        top = float(top_box)
    stated_vals = []
    n_answers = []
    for d in drv:
        x = values[d]
        ok = ~np.isnan(x)
        if not ok.any():
            raise DataError(f"The stated-importance column '{smap[d]}' has no answers.")
        ww = w[ok]
        if stated_summary == "mean":
            stated_vals.append(float(np.sum(ww * x[ok]) / ww.sum()))
        else:
            stated_vals.append(100 * float(np.sum(ww * (x[ok] >= top)) / ww.sum()))
        n_answers.append(int(ok.sum()))

    res = importance(data, outcome, drv, weights=weights, **importance_options)
    derived = res.table.loc[drv, "share"].to_numpy(dtype=float)
    stated_arr = np.array(stated_vals)
    s_rank = pd.Series(-stated_arr).rank(method="min").to_numpy()
    d_rank = pd.Series(-derived).rank(method="min").to_numpy()
    rho, p = stats.spearmanr(stated_arr, derived)
    if not np.isfinite(rho):
        raise DataError(f"{_FUNC}(): the rank correlation is undefined because every driver has "
                        "the same stated (or derived) importance.")
    s_cut = float(stated_arr.mean())
    d_cut = 100.0 / len(drv)
    quad = [QUADRANTS[(bool(s > s_cut), bool(dv > d_cut))] for s, dv in zip(
        stated_arr, derived, strict=True)]
    table = pd.DataFrame({
        "stated": stated_arr, "derived": derived, "stated_rank": s_rank.astype(int),
        "derived_rank": d_rank.astype(int), "gap": (s_rank - d_rank).astype(int),
        "quadrant": quad, "stated_column": [smap[d] for d in drv], "n_stated": n_answers,
    }, index=pd.Index(drv, name="driver"))
    label = "weighted mean" if stated_summary == "mean" else f"top-box % (answers ≥ {top:g})"
    if weights is None:
        label = label.replace("weighted ", "")
    meta = {"outcome": outcome, "stated": label, "derived": "Shapley share (%)",
            "rank correlation (Spearman)": float(rho), "p-value": float(p), "n": len(data),
            "quadrant split (stated)": s_cut, "quadrant split (derived %)": d_cut}
    hidden = [d for d, q in zip(drv, quad, strict=True) if q == "hidden driver"]
    notes = ["gap = stated_rank − derived_rank: positive means the driver moves the outcome "
             "more than customers say it matters."]
    if hidden:
        notes.append(f"Hidden drivers (low stated, high derived importance): {', '.join(hidden)}.")
    if len(drv) < 5:
        notes.append(f"Only {len(drv)} drivers: the rank correlation is very imprecise.")
    return StatedDerivedResult(table, rank_correlation=float(rho), rank_correlation_p=float(p),
                               importance=res, meta=meta, notes=notes)
