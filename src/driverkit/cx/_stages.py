"""Journey stages: importance of each stage (group Shapley) and of each driver within it.

The stage level is the Shapley value of the stages as players (each stage enters or leaves
the model with all its drivers). The driver level is the Owen value (Owen 1977): the
Shapley value of the game played in two steps — stages join in random order and, when a
stage joins, its drivers join in random order — so a stage's drivers' values add up exactly
to the stage's importance, and the two levels can be read together.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from math import factorial
from typing import Any

import numpy as np
import pandas as pd

from .._results import Result
from .._validation import check_option, renamed
from ..exceptions import DataError, DriverkitError, DriverkitTypeError
from ._common import plain as _plain

__all__ = ["StageImportanceResult", "owen_values", "stage_importance"]

_FUNC = "stage_importance"
_MAX_P = 20
_MAX_GLM_P = 12


def owen_values(v: np.ndarray, blocks: Sequence[Sequence[int]]) -> np.ndarray:
    """Owen values of the players from subset values ``v`` (bitmask-indexed, v[0] = 0).

    ``blocks`` partitions the players 0..p−1 (a priori unions: journey stages).

    φ_j = Σ_{T ⊆ M∖{k}} Σ_{S ⊆ B_k∖{j}} |T|!(m−|T|−1)!/m! · |S|!(b−|S|−1)!/b! ·
    [v(Q_T ∪ S ∪ {j}) − v(Q_T ∪ S)], where B_k (size b) is j's block, m the number of
    blocks and Q_T the union of the blocks in T (Owen 1977).
    """
    v = np.asarray(v, float)
    p = int(v.shape[0]).bit_length() - 1
    m = len(blocks)
    bmask = [sum(1 << j for j in blk) for blk in blocks]
    phi = np.zeros(p)
    for k, blk in enumerate(blocks):
        others = [bmask[i] for i in range(m) if i != k]
        b = len(blk)
        # all unions of other blocks with their weights
        t_masks, t_w = [], []
        for r in range(len(others) + 1):
            wt = factorial(r) * factorial(m - r - 1) / factorial(m)
            for combo in itertools.combinations(others, r):
                t_masks.append(sum(combo))
                t_w.append(wt)
        tm = np.array(t_masks, dtype=np.int64)
        tw = np.array(t_w)
        for j in blk:
            rest = [i for i in blk if i != j]
            for r in range(len(rest) + 1):
                ws = factorial(r) * factorial(b - r - 1) / factorial(b)
                for combo in itertools.combinations(rest, r):
                    s = sum(1 << i for i in combo)
                    gain = v[tm | s | (1 << j)] - v[tm | s]
                    phi[j] += ws * float(tw @ gain)
    return phi


class StageImportanceResult(Result):
    """Importance of journey stages and of the drivers within each stage.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per driver (grouped by stage, stages by importance): ``stage``,
        ``stage_importance``, ``stage_share`` (%), ``stage_rank`` (group Shapley of the
        stage), ``importance`` (the driver's Owen value; they add up to the stage's
        importance), ``share`` (% of the total), ``share_in_stage`` (%),
        ``rank_in_stage``, and ``shapley`` (the driver's ordinary Shapley value among all
        drivers, for reference). With a bootstrap (``bootstrap=B``) also
        ``stage_importance_low``/``stage_importance_high``.
    stages : ImportanceResult
        The stage-level result of ``dk.importance(groups=stages)``.
    drivers_result : ImportanceResult
        The driver-level ``dk.importance`` result (ordinary Shapley values).
    """

    _title = "Importance by journey stage"

    def __init__(self, table: pd.DataFrame, *, stages: Any, drivers_result: Any,
                 meta: dict[str, Any], notes: list[str]) -> None:
        super().__init__(table, meta=meta, notes=notes)
        self.stages = stages
        self.drivers_result = drivers_result

    def plot_data(self) -> pd.DataFrame:
        """Driver importances (Owen values) with their stage, largest first."""
        return self.table[["importance", "share", "stage"]].sort_values(
            "importance", ascending=False)

    def _plot(self, ax: Any, **kwargs: Any) -> Any:
        from ..display._plots import importance_bars

        return importance_bars(self.plot_data(), ax=ax, title=self.title, **kwargs)


def _check_stages(stages: Any, data: pd.DataFrame) -> dict[str, list[str]]:
    if not isinstance(stages, Mapping) or not stages:
        raise DriverkitTypeError(
            f"The 'stages' parameter of {_FUNC}() must be a dict {{stage: [drivers]}}, e.g. "
            "{'before': ['website_ease'], 'during': ['checkout_speed', 'staff']}. "
            f"Got {stages!r}."
        )
    out: dict[str, list[str]] = {}
    seen: dict[str, str] = {}
    for s, mem in stages.items():
        members = [mem] if isinstance(mem, str) else list(mem)
        if not members:
            raise DataError(f"The stage '{s}' of {_FUNC}() has no drivers.")
        for d in members:
            if d in seen:
                raise DataError(
                    f"The driver '{d}' is in two stages ('{seen[d]}' and '{s}'); a driver "
                    "belongs to one stage."
                )
            seen[d] = str(s)
        out[str(s)] = [str(d) for d in members]
    return out


def stage_importance(data: pd.DataFrame, outcome: str, stages: Mapping[str, Sequence[str]], *,
                     kind: str = "linear", weights: Any = None,
                     covariates: Sequence[str] | None = None,
                     always: Sequence[str] | None = None, **importance_options: Any
                     ) -> StageImportanceResult:
    """Importance of journey stages (group Shapley) and of each driver within its stage.

    Parameters
    ----------
    data : pandas.DataFrame
        Respondents (not modified).
    outcome : str
        Outcome column.
    stages : dict
        ``{stage: [drivers]}`` in journey order (e.g. before / during / after purchase);
        every driver in exactly one stage.
    kind : {"linear", "logit"}, default="linear"
        Linear: R² decomposed; logit: McFadden pseudo-R² (up to 12 drivers).
    weights : str or array-like, optional
        Survey weights.
    covariates : list of str, optional
        Control variables in every model (only the rest of the fit is decomposed).
        ``always=`` is the 0.1 name (deprecated).
    **importance_options
        Passed to :func:`driverkit.importance` for the stage level (``bootstrap``, ``seed``,
        ``ci``, ``missing`` ...).

    Returns
    -------
    StageImportanceResult

    Notes
    -----
    Stage level: Shapley values with each stage as one player (v(S) uses all drivers of
    the stages in S; Grömping 2006 on groups). Driver level: Owen values (Owen 1977) of the
    same v over single drivers with the stages as a priori unions, so that drivers add up
    to their stage and stages to R² (minus the always-in part). The ordinary Shapley value
    of each driver is shown alongside (column ``shapley``): it credits shared variance
    across stages, the Owen value first within the stage.

    Examples
    --------
    >>> import driverkit as dk
    >>> df = dk.make_survey(n=1000, kind="linear", seed=1)
    >>> res = dk.stage_importance(df, "satisfaction", df.attrs["truth"]["stages"])
    >>> sums = res.table.groupby("stage")["importance"].sum()
    >>> bool((abs(sums - res.stages.table["importance"]) < 1e-9).all())
    True
    """
    from ..importance import importance, subset_values

    check_option(kind, "kind", ("linear", "logit"), _FUNC)
    if not isinstance(data, pd.DataFrame):
        raise DriverkitTypeError(f"{_FUNC}() needs a pandas DataFrame, got {type(data).__name__}.")
    for bad in ("groups", "drivers", "method"):
        if bad in importance_options:
            raise DriverkitTypeError(
                f"{_FUNC}() sets '{bad}' itself (the stages are the groups; Shapley values); "
                "do not pass it."
            )
    if kind == "logit" and importance_options.get("fit_index", "mcfadden") != "mcfadden":
        raise DriverkitError(
            f"{_FUNC}(kind='logit') decomposes McFadden's pseudo-R²; fit_index="
            f"{importance_options['fit_index']!r} is not supported here."
        )
    data = _plain(data)
    st = _check_stages(stages, data)
    drivers = [d for mem in st.values() for d in mem]
    p = len(drivers)
    limit = _MAX_P if kind == "linear" else _MAX_GLM_P
    if p > limit:
        raise DriverkitError(
            f"{_FUNC}() computes exact Owen values for up to {limit} drivers with "
            f"kind='{kind}'; got {p}. Use dk.importance(groups=stages) for the stage level."
        )
    always = renamed(covariates, always, "covariates", "always", _FUNC)
    always_l = [] if always is None else ([always] if isinstance(always, str) else list(always))
    opts = {"kind": kind, "weights": weights, "covariates": always_l or None,
            **importance_options}
    res_stage = importance(data, outcome, drivers, groups=st, **opts)
    boot_opts = {k: v for k, v in opts.items() if k not in ("bootstrap", "ci_method")}
    res_drv = importance(data, outcome, drivers, **boot_opts)

    # the whole game (every subset of drivers) from the importance engine
    sv = subset_values(data, outcome, drivers, kind=kind, weights=weights,
                       covariates=always_l or None,
                       missing=importance_options.get("missing", "listwise"),
                       positive=importance_options.get("positive"),
                       weight_type=importance_options.get("weight_type", "sampling"))
    v = sv.v
    idx = {d: j for j, d in enumerate(drivers)}
    blocks = [[idx[d] for d in mem] for mem in st.values()]
    phi = owen_values(v, blocks)

    stab = res_stage.table
    total = float(phi.sum())
    rows = []
    order = sorted(st, key=lambda s: -float(stab.loc[s, "importance"]))
    for s in order:
        mem = st[s]
        vals = phi[[idx[d] for d in mem]]
        within = pd.Series(vals, index=mem).rank(ascending=False, method="min")
        s_imp = float(vals.sum())
        for d in sorted(mem, key=lambda d: -phi[idx[d]]):
            row = {
                "stage": s,
                "stage_importance": float(stab.loc[s, "importance"]),
                "stage_share": float(stab.loc[s, "share"]),
                "stage_rank": int(stab.loc[s, "rank"]),
                "importance": float(phi[idx[d]]),
                "share": 100 * float(phi[idx[d]]) / total if total > 0 else float("nan"),
                "share_in_stage": 100 * float(phi[idx[d]]) / s_imp if s_imp > 0
                else float("nan"),
                "rank_in_stage": int(within[d]),
                "shapley": float(res_drv.table.loc[d, "importance"]),
            }
            if "ci_low" in stab.columns:
                row["stage_importance_low"] = float(stab.loc[s, "ci_low"])
                row["stage_importance_high"] = float(stab.loc[s, "ci_high"])
            rows.append(row)
    table = pd.DataFrame(rows, index=pd.Index([d for s in order for d in sorted(
        st[s], key=lambda d: -phi[idx[d]])], name="driver"))
    fit = "R²" if kind == "linear" else "McFadden R²"
    key = "r2" if kind == "linear" else "mcfadden_r2"
    meta = {"outcome": outcome, "kind": kind, "n": res_stage.meta.get("n"), key: res_stage.r2,
            "stages": len(st), "drivers": p}
    if res_stage.r2_always:
        meta[f"{key}_always"] = res_stage.r2_always
    notes = [
        "Stage importance: Shapley value of each stage as one player (group Shapley). Driver "
        "importance: Owen value — drivers add up to their stage, stages to the explained "
        f"{fit}.",
        "Column 'shapley' is each driver's ordinary Shapley value among all drivers.",
    ]
    return StageImportanceResult(table, stages=res_stage, drivers_result=res_drv, meta=meta,
                                 notes=notes)
