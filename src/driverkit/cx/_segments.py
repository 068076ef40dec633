"""Segment comparisons: each segment against the rest of the respondents."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_columns, check_fraction, check_random_state
from ..exceptions import DataError, DriverkitError, DriverkitTypeError
from ._common import bh_fdr, group_labels, names_list, resolve_weights, warn_small, z_test
from ._common import plain as _plain
from ._groups import GroupFit, _GroupedResult, fit_group, importance_options

__all__ = ["SegmentComparison", "compare_segments"]

_FUNC = "compare_segments"


def check_bootstrap(bootstrap: Any, func: str) -> int:
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, int | np.integer) \
            or bootstrap < 50:
        raise DriverkitError(
            f"The 'bootstrap' parameter of {func}() must be an integer >= 50 (replicates for "
            f"the standard errors of the importances). Got {bootstrap!r} instead."
        )
    return int(bootstrap)


class SegmentComparison(_GroupedResult):
    """Driver importance and coefficients per segment, each segment against the rest.

    Attributes
    ----------
    table : pandas.DataFrame
        Rows indexed by (``driver``, ``segment``): ``importance`` (in the segment),
        ``share``, ``rank``, ``std_error`` (bootstrap), ``rest_importance`` (all other
        respondents), ``difference`` (segment − rest) with ``ci_low``/``ci_high``,
        ``p_value`` and ``q_value`` (Benjamini–Hochberg over all driver × segment tests),
        ``significant`` (q < alpha); the same for the model coefficient: ``coef``,
        ``rest_coef``, ``coef_difference`` with ``coef_difference_low``/``_high``,
        ``coef_p_value``, ``coef_q_value``; and ``n`` (respondents in the segment).
    results : dict
        ``{segment: ImportanceResult}`` — the full analysis per segment.
    models : dict
        ``{segment: DriverModel}``.
    """

    _title = "Driver importance by segment (segment vs rest)"

    def plot_data(self) -> pd.DataFrame:
        """Importance share (%) per driver (rows) and segment (columns)."""
        return self.table["share"].unstack("segment")

    def _plot(self, ax: Any, **kwargs: Any) -> Any:
        from ..display._plots import PALETTE

        d = self.plot_data()
        d = d.loc[d.mean(axis=1).sort_values().index]
        k = d.shape[1]
        h = 0.8 / k
        y = np.arange(len(d))
        sig = self.table["significant"].unstack("segment").loc[d.index, d.columns]
        for i, seg in enumerate(d.columns):
            bars = ax.barh(y - 0.4 + h / 2 + i * h, d[seg].to_numpy(), h,
                           color=PALETTE[i % len(PALETTE)], label=str(seg), **kwargs)
            for bar, s in zip(bars, sig[seg].to_numpy(), strict=True):
                if s:
                    bar.set_edgecolor("black")
                    bar.set_linewidth(1.2)
        ax.set_yticks(y, [str(i) for i in d.index])
        ax.set_xlabel("share of explained fit (%); outlined: differs from the rest (FDR)")
        ax.set_title(self.title)
        ax.legend(title="segment", fontsize=8, loc="lower right")
        return ax


def _compare(a: GroupFit, b: GroupFit, ci: float) -> dict[str, np.ndarray]:
    diff = (a.importance - b.importance).to_numpy()
    se = np.sqrt(a.std_error.to_numpy() ** 2 + b.std_error.to_numpy() ** 2)
    lo, hi, p = z_test(diff, se, ci)
    cdiff = (a.coef - b.coef).to_numpy()
    cse = np.sqrt(a.coef_se.to_numpy() ** 2 + b.coef_se.to_numpy() ** 2)
    clo, chi, cp = z_test(cdiff, cse, ci)
    return {"difference": diff, "ci_low": lo, "ci_high": hi, "p_value": p,
            "coef_difference": cdiff, "coef_difference_low": clo,
            "coef_difference_high": chi, "coef_p_value": cp}


def compare_segments(data: pd.DataFrame, outcome: str, drivers: Sequence[str], segment: str, *,
                     kind: str = "linear", weights: Any = None, bootstrap: int = 200,
                     seed: Any = None, ci: float = 0.95, alpha: float = 0.05,
                     **importance_options_: Any) -> SegmentComparison:
    """Driver importance per segment, and each segment's drivers tested against the rest.

    Parameters
    ----------
    data : pandas.DataFrame
        Respondents (not modified).
    outcome : str
        Outcome column.
    drivers : list of str
        Driver columns.
    segment : str
        Column with the segment of each respondent (e.g. a CRM segment).
    kind : {"linear", "logit", "ordinal"}, default="linear"
        Importance and model kind.
    weights : str or array-like, optional
        Survey weights.
    bootstrap : int, default=200
        Bootstrap replicates (within each group) for the standard errors of importances.
    seed : int or numpy Generator, optional
    ci : float, default=0.95
    alpha : float, default=0.05
        False-discovery rate for the ``significant`` flag.
    **importance_options
        Passed to :func:`driverkit.importance` (``method``, ``always``, ``fit_index``,
        ``missing`` ...).

    Returns
    -------
    SegmentComparison

    Notes
    -----
    For each segment s, the importance analysis runs on the segment's respondents and on all
    the others ("rest"), each with a respondent bootstrap for standard errors. The test of
    a driver is the Welch-type z-test of the difference, (I_s − I_rest) /
    √(SE_s² + SE_rest²), from independent samples (Welch 1947); the coefficient test is
    the same with the model's (sandwich, with weights) standard errors. p-values are
    adjusted over all driver × segment tests by Benjamini & Hochberg (1995); with exactly
    two segments the two rows of a driver are the same test and count once. Importances
    near zero have skewed bootstrap distributions, so their tests are conservative.
    Segments with fewer than 30 respondents warn (:class:`~driverkit.SmallSampleWarning`).

    Examples
    --------
    >>> import driverkit as dk
    >>> df = dk.make_survey(n=1500, n_drivers=4, kind="linear", seed=1)
    >>> res = dk.compare_segments(df, "satisfaction", df.attrs["truth"]["drivers"],
    ...                           "segment", bootstrap=60, seed=1)
    >>> res.table.index.names
    FrozenList(['driver', 'segment'])
    """
    ci = check_fraction(ci, "ci", _FUNC)
    alpha = check_fraction(alpha, "alpha", _FUNC)
    B = check_bootstrap(bootstrap, _FUNC)
    opts = importance_options(importance_options_, _FUNC)
    rng = check_random_state(seed)
    if not isinstance(data, pd.DataFrame):
        raise DriverkitTypeError(f"{_FUNC}() needs a pandas DataFrame, got {type(data).__name__}.")
    data = _plain(data)
    drv = names_list(drivers, "drivers", _FUNC)
    if segment in drv or segment == outcome:
        raise DriverkitError(f"The segment column '{segment}' is also the outcome or a driver.")
    check_columns(data, [outcome, *drv], role="column")
    labels, levels = group_labels(data, segment, _FUNC, "segment")
    w = resolve_weights(data, weights, _FUNC)
    lab = labels.to_numpy()
    sizes = {lv: int((lab == lv).sum()) for lv in levels}
    notes = warn_small(sizes, "segment", segment)
    tiny = {lv: k for lv, k in sizes.items() if k < len(drv) + 3}
    if tiny:
        desc = ", ".join(f"{lv!r} has only {k} respondents" for lv, k in tiny.items())
        raise DataError(
            f"The segment {desc}: too few to estimate {len(drv)} drivers. Merge it with "
            f"another segment of '{segment}' or drop those rows."
        )

    fits: dict[Any, tuple[GroupFit, GroupFit]] = {}
    two = len(levels) == 2
    for i, lv in enumerate(levels):
        if two and i == 1:
            a, b = fits[levels[0]]
            fits[lv] = (b, a)
            continue
        m = lab == lv
        common: dict[str, Any] = {"weighted": weights is not None, "kind": kind,
                                  "bootstrap": B, "rng": rng, "ci": ci, "opts": opts,
                                  "func": _FUNC, "role": "segment"}
        fa = fit_group(data.loc[m], lv, outcome, drv, w[m], **common)
        fb = fit_group(data.loc[~m], f"rest of {lv}", outcome, drv, w[~m], **common)
        fits[lv] = (fa, fb)

    blocks = []
    for lv in levels:
        a, b = fits[lv]
        cmp_ = _compare(a, b, ci)
        blk = pd.DataFrame({
            "importance": a.importance, "share": a.share, "rank": a.rank,
            "std_error": a.std_error, "rest_importance": b.importance,
            **{k: cmp_[k] for k in ("difference", "ci_low", "ci_high", "p_value")},
            "coef": a.coef, "rest_coef": b.coef,
            **{k: cmp_[k] for k in ("coef_difference", "coef_difference_low",
                                    "coef_difference_high", "coef_p_value")},
            "n": a.n,
        })
        blk.index = pd.MultiIndex.from_arrays([blk.index, [lv] * len(blk)],
                                              names=["driver", "segment"])
        blocks.append(blk)
    table = pd.concat(blocks)
    # FDR over distinct tests (with two segments, the second segment mirrors the first)
    for pcol, qcol in (("p_value", "q_value"), ("coef_p_value", "coef_q_value")):
        if two:
            first = table.xs(levels[0], level="segment")[pcol].to_numpy()
            q1 = bh_fdr(first)
            q = np.concatenate([q1, q1])
        else:
            q = bh_fdr(table[pcol].to_numpy())
        table.insert(table.columns.get_loc(pcol) + 1, qcol, q)
    table.insert(table.columns.get_loc("q_value") + 1, "significant",
                 (table["q_value"] < alpha).to_numpy())
    table = table.reindex(pd.MultiIndex.from_product([list(dict.fromkeys(
        fits[levels[0]][0].importance.index)), levels], names=["driver", "segment"]))

    if table["coef"].isna().any():
        notes.append("Coefficient columns are empty (NaN) for factors and groups, which have no "
                     "single coefficient; compare their importance instead.")
    n_sig = int(table["significant"].sum() if not two else
                table.xs(levels[0], level="segment")["significant"].sum())
    meta = {"outcome": outcome, "segment": segment, "kind": kind,
            "segments": len(levels), "n": len(data),
            "method": fits[levels[0]][0].result.method, "bootstrap": B,
            "test": "Welch-type z (bootstrap SE); Benjamini–Hochberg FDR",
            "significant differences": n_sig, "ci": ci}
    family = ("the drivers (two segments: one test per driver)" if two
              else "all driver × segment tests")
    notes.append(f"difference = segment − rest; q_value: Benjamini–Hochberg over {family}; "
                 f"significant when q < {alpha:g}.")
    notes.append("Importance is in fit units (R² or pseudo-R²) of each group's own model; a "
                 "segment can differ in total fit as well as in the split between drivers "
                 "(compare 'share' for the split).")
    results = {lv: fits[lv][0].result for lv in levels}
    models = {lv: fits[lv][0].model for lv in levels}
    return SegmentComparison(table, results=results, models=models, meta=meta, notes=notes)
