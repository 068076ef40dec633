"""Tracking waves: importance and performance per wave, and their change between waves."""

from __future__ import annotations

import datetime
import numbers
import re
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .._validation import check_columns, check_fraction, check_option, check_random_state, warn
from ..exceptions import DataError, DriverkitError, DriverkitTypeError, WaveOrderWarning
from ._common import (
    bh_fdr,
    group_labels,
    names_list,
    resolve_weights,
    warn_small,
    weighted_mean_se,
    z_test,
)
from ._common import plain as _plain
from ._groups import GroupFit, _GroupedResult, fit_group, importance_options
from ._segments import check_bootstrap

__all__ = ["WaveComparison", "compare_waves"]

_FUNC = "compare_waves"


class WaveComparison(_GroupedResult):
    """Driver importance and performance per survey wave, with the change between waves.

    Attributes
    ----------
    table : pandas.DataFrame
        Rows indexed by (``driver``, ``wave``), waves in order: ``importance``, ``share``,
        ``rank`` with ``rank_low``/``rank_high`` (bootstrap rank interval), ``std_error``;
        ``difference`` (importance change against the reference wave) with
        ``ci_low``/``ci_high``, ``p_value``, ``q_value`` (Benjamini–Hochberg over all
        changes); ``performance`` (weighted mean rating) with ``performance_low``/
        ``performance_high``, ``performance_change`` with ``performance_change_low``/
        ``performance_change_high`` and ``performance_p_value``/``performance_q_value``;
        ``rank_change`` (reference rank − rank: positive = moved up) and
        ``rank_change_within_noise`` (the rank moved but the importance change is not
        significant, q ≥ alpha); ``n`` (respondents in the wave). Change columns are empty (NaN)
        for the first wave, which has nothing to compare with.
    results : dict
        ``{wave: ImportanceResult}``.
    models : dict
        ``{wave: DriverModel}``.
    """

    _title = "Driver importance and performance by wave"

    def plot_data(self) -> pd.DataFrame:
        """Importance share (%) per wave (rows) and driver (columns)."""
        return self.table["share"].unstack("driver")

    def _plot(self, ax: Any, **kwargs: Any) -> Any:
        from ..display._plots import PALETTE

        d = self.plot_data()
        x = np.arange(len(d))
        for i, drv in enumerate(d.columns):
            ax.plot(x, d[drv].to_numpy(), marker="o", color=PALETTE[i % len(PALETTE)],
                    label=str(drv), **kwargs)
        ax.set_xticks(x, [str(w) for w in d.index])
        ax.set_xlabel("wave")
        ax.set_ylabel("importance share (%)")
        ax.set_title(self.title)
        ax.legend(fontsize=7, ncol=2, loc="best")
        return ax


_NUM = re.compile(r"(\d+(?:\.\d+)?)")


def _natural_key(label: Any) -> tuple[Any, ...]:
    """Sort key of text with numbers compared as numbers ("Wave 9" < "Wave 10")."""
    parts = _NUM.split(str(label).strip().lower())
    return tuple((0, float(p)) if i % 2 else (1, p) for i, p in enumerate(parts))


def order_waves(s: pd.Series, levels: list[Any], order: Any, wave: str,
                ) -> tuple[list[Any], str, bool]:
    """The waves in time order, how it was found, and whether it is a guess.

    An explicit ``order``, an ordered Categorical, numbers, dates and periods give a known
    order. Text is ordered as dates when every label parses as one, else naturally (numbers
    inside labels compared as numbers, so "Wave 9" comes before "Wave 10"); both are guesses
    and warn. Sorting text as text would make "Wave 10" the baseline before "Wave 9" and flip
    the sign of every change.
    """
    if order is not None:
        order = list(order) if not isinstance(order, str) else [order]
        given = {str(v) for v in order}
        missing = [lv for lv in levels if lv not in order and str(lv) not in given]
        if missing:
            raise DataError(f"order= does not list the wave(s) {missing} of '{wave}'; list "
                            "every wave in time order.")
        pos = {str(v): i for i, v in enumerate(order)}
        return sorted(levels, key=lambda lv: pos[str(lv)]), "as given (order=)", False
    if isinstance(s.dtype, pd.CategoricalDtype) and s.cat.ordered:
        return levels, "the ordered Categorical's order", False
    if all(isinstance(lv, numbers.Real) and not isinstance(lv, bool) for lv in levels):
        return sorted(levels), "numeric order", False
    if all(isinstance(lv, pd.Timestamp | pd.Period | datetime.date) for lv in levels):
        return sorted(levels), "date order", False
    text = [str(lv) for lv in levels]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            dates = pd.to_datetime(pd.Series(text), errors="raise")
        except (ValueError, TypeError, OverflowError):
            dates = None
    if dates is not None and dates.notna().all() and dates.nunique() == len(levels) and \
            any(ch.isdigit() for t in text for ch in t) and not all(t.isdigit() for t in text):
        idx = np.argsort(dates.to_numpy(), kind="stable")
        return [levels[i] for i in idx], "dates read from the labels", True
    return sorted(levels, key=_natural_key), "natural order of the labels", True


def _wave_labels(data: pd.DataFrame, wave: str, freq: str | None) -> tuple[pd.Series, list[Any]]:
    check_columns(data, [wave], role="wave")
    s = data[wave]
    if pd.api.types.is_datetime64_any_dtype(s):
        if freq is not None:
            lab = s.dt.to_period(freq)
            frame = pd.DataFrame({wave: lab}, index=data.index)
            return group_labels(frame, wave, _FUNC, "wave")
        if s.nunique() > 12:
            raise DataError(
                f"The wave column '{wave}' holds {s.nunique()} distinct dates; say how to group "
                "them into waves with freq= (e.g. freq='Q' for quarters, 'M' for months)."
            )
    elif freq is not None:
        raise DriverkitError(f"freq= groups dates into waves, but '{wave}' holds no dates.")
    return group_labels(data, wave, _FUNC, "wave")


def compare_waves(data: pd.DataFrame, outcome: str, drivers: Sequence[str], wave: str, *,
                  kind: str = "linear", weights: Any = None, reference: str = "previous",
                  freq: str | None = None, bootstrap: int = 200, seed: Any = None,
                  ci: float = 0.95, alpha: float = 0.05, order: Sequence[Any] | None = None,
                  **importance_options_: Any) -> WaveComparison:
    """Importance and performance of drivers per survey wave, and what changed.

    Parameters
    ----------
    data : pandas.DataFrame
        Respondents of all waves (not modified).
    outcome : str
        Outcome column.
    drivers : list of str
        Driver columns.
    wave : str
        Wave column: wave numbers, dates (grouped with ``freq``), an ordered Categorical (its
        order) or text labels (ordered as dates when they all parse as dates, else naturally:
        "Wave 9" before "Wave 10"; a guess, which warns with
        :class:`~driverkit.WaveOrderWarning` — declare the order with ``order=``).
    kind : {"linear", "logit", "ordinal"}, default="linear"
    weights : str or array-like, optional
        Survey weights.
    reference : {"previous", "first"}, default="previous"
        Compare each wave with the wave before it, or with the first wave.
    freq : str, optional
        Period for a date column (pandas frequency: ``"Q"``, ``"M"``, ...).
    bootstrap : int, default=200
        Bootstrap replicates per wave (standard errors and rank intervals).
    seed : int or numpy Generator, optional
    ci : float, default=0.95
    alpha : float, default=0.05
        Level of the within-noise flag and the FDR of significance.
    order : list, optional
        The waves in time order (the first is the baseline).
    **importance_options
        Passed to :func:`driverkit.importance` (``method``, ``always``, ...).

    Returns
    -------
    WaveComparison

    Notes
    -----
    Each wave is analysed on its own respondents with a respondent bootstrap. The change in
    a driver's importance between two waves is tested with the Welch-type z-test
    (I₂ − I₁) / √(SE₁² + SE₂²) (independent samples); performance (the weighted mean rating)
    likewise, with linearisation standard errors Σ w²(x − x̄)² / (Σw)². p-values of all
    changes are adjusted by Benjamini & Hochberg (1995). A rank change is *within noise*
    when the driver's importance change is not significant (q ≥ ``alpha``): the new order
    may be sampling noise. Bootstrap rank intervals per wave are in ``rank_low`` and
    ``rank_high``. Waves with fewer than 30 respondents warn
    (:class:`~driverkit.SmallSampleWarning`).

    Examples
    --------
    >>> import driverkit as dk
    >>> df = dk.make_survey(n=1500, n_drivers=6, kind="linear", waves=2, seed=1)
    >>> res = dk.compare_waves(df, "satisfaction", df.attrs["truth"]["drivers"], "wave",
    ...                        bootstrap=60, seed=1)
    >>> bool(res.table.loc[("delivery_speed", 2), "performance_change"] < 0)
    True
    """
    ci = check_fraction(ci, "ci", _FUNC)
    alpha = check_fraction(alpha, "alpha", _FUNC)
    check_option(reference, "reference", ("previous", "first"), _FUNC)
    B = check_bootstrap(bootstrap, _FUNC)
    opts = importance_options(importance_options_, _FUNC)
    rng = check_random_state(seed)
    if not isinstance(data, pd.DataFrame):
        raise DriverkitTypeError(f"{_FUNC}() needs a pandas DataFrame, got {type(data).__name__}.")
    data = _plain(data)
    drv = names_list(drivers, "drivers", _FUNC)
    if wave in drv or wave == outcome:
        raise DriverkitError(f"The wave column '{wave}' is also the outcome or a driver.")
    check_columns(data, [outcome, *drv], role="column")
    labels, levels = _wave_labels(data, wave, freq)
    levels, how, guessed = order_waves(labels, levels, order, wave)
    if guessed:
        warn(f"compare_waves(): the waves of '{wave}' are text, so their time order is a guess "
             f"({how}): {' < '.join(map(str, levels))}; '{levels[0]}' is the baseline. Pass "
             "order=[...] or an ordered Categorical to state it.", WaveOrderWarning)
    w = resolve_weights(data, weights, _FUNC)
    lab = labels.to_numpy()
    sizes = {lv: int((lab == lv).sum()) for lv in levels}
    notes = warn_small(sizes, "wave", wave)

    fits: dict[Any, GroupFit] = {}
    perf: dict[Any, tuple[np.ndarray, np.ndarray]] = {}
    for lv in levels:
        m = lab == lv
        fits[lv] = fit_group(data.loc[m], lv, outcome, drv, w[m], weighted=weights is not None,
                             kind=kind, bootstrap=B, rng=rng, ci=ci, opts=opts, func=_FUNC,
                             role="wave")
        names = list(fits[lv].importance.index)
        means, ses = [], []
        for name in names:
            if name in drv and pd.api.types.is_numeric_dtype(data[name]):
                x = data.loc[m, name].to_numpy(dtype=float)
                ok = ~np.isnan(x)
                mu, se = weighted_mean_se(x[ok], w[m][ok])
            else:
                mu, se = np.nan, np.nan
            means.append(mu)
            ses.append(se)
        perf[lv] = (np.array(means), np.array(ses))

    names = list(fits[levels[0]].importance.index)
    z = float(stats.norm.ppf(0.5 + ci / 2))
    blocks = []
    for i, lv in enumerate(levels):
        f = fits[lv]
        pm, ps = perf[lv]
        cols: dict[str, Any] = {
            "importance": f.importance.to_numpy(), "share": f.share.to_numpy(),
            "rank": f.rank.to_numpy(), "rank_low": f.rank_low.to_numpy(),
            "rank_high": f.rank_high.to_numpy(), "std_error": f.std_error.to_numpy(),
        }
        nan = np.full(len(names), np.nan)
        ref = None if i == 0 else levels[i - 1] if reference == "previous" else levels[0]
        if ref is None:
            cmp_imp = {"difference": nan, "ci_low": nan, "ci_high": nan, "p_value": nan}
            cmp_perf = {"performance_change": nan, "performance_change_low": nan,
                        "performance_change_high": nan, "performance_p_value": nan}
            rank_change = nan
        else:
            g = fits[ref]
            diff = f.importance.to_numpy() - g.importance.to_numpy()
            se = np.sqrt(f.std_error.to_numpy() ** 2 + g.std_error.to_numpy() ** 2)
            lo, hi, p = z_test(diff, se, ci)
            cmp_imp = {"difference": diff, "ci_low": lo, "ci_high": hi, "p_value": p}
            rm, rs = perf[ref]
            pdiff = pm - rm
            plo, phi, pp = z_test(pdiff, np.sqrt(ps**2 + rs**2), ci)
            cmp_perf = {"performance_change": pdiff, "performance_change_low": plo,
                        "performance_change_high": phi, "performance_p_value": pp}
            rank_change = g.rank.to_numpy() - f.rank.to_numpy()
        cols.update(cmp_imp)
        cols.update({"performance": pm, "performance_low": pm - z * ps,
                     "performance_high": pm + z * ps})
        cols.update(cmp_perf)
        cols["rank_change"] = rank_change
        cols["n"] = f.n
        blk = pd.DataFrame(cols, index=pd.MultiIndex.from_arrays(
            [names, [lv] * len(names)], names=["driver", "wave"]))
        blocks.append(blk)
    table = pd.concat(blocks)
    for pcol, qcol in (("p_value", "q_value"), ("performance_p_value", "performance_q_value")):
        table.insert(table.columns.get_loc(pcol) + 1, qcol, bh_fdr(table[pcol].to_numpy()))
    # a rank change is within noise when the importance change behind it is not significant
    moved = np.nan_to_num(table["rank_change"].to_numpy(), nan=0.0) != 0
    table.insert(table.columns.get_loc("rank_change") + 1, "rank_change_within_noise",
                 moved & ~(table["q_value"].to_numpy() < alpha))
    table = table.reindex(pd.MultiIndex.from_product([names, levels], names=["driver", "wave"]))

    first = levels[0]
    notes.append(f"Changes are against the {'previous' if reference == 'previous' else 'first'} "
                 f"wave; the first wave ({first}) is the baseline, so its change columns are "
                 f"empty (NaN). Wave order: {' < '.join(map(str, levels))} ({how}"
                 f"{', a guess' if guessed else ''}).")
    notes.append("rank_change_within_noise: the driver's rank moved, but its importance did not "
                 f"change significantly (q ≥ {alpha:g}) — do not report the new order as a "
                 "real change; rank_low/rank_high show how uncertain each wave's rank is.")
    if np.isnan(table["performance"]).any():
        notes.append("Performance is empty (NaN) for factors and groups (no single mean "
                     "rating).")
    sig = table[(table["q_value"] < alpha)].index.tolist()
    meta = {"outcome": outcome, "wave": wave, "waves": ", ".join(map(str, levels)),
            "kind": kind, "n": len(data), "method": fits[first].result.method,
            "bootstrap": B, "reference": reference, "baseline": first,
            "wave order": how + (" (guessed)" if guessed else ""),
            "significant importance changes": len(sig), "ci": ci}
    return WaveComparison(table, results={lv: fits[lv].result for lv in levels},
                          models={lv: fits[lv].model for lv in levels}, meta=meta, notes=notes)
