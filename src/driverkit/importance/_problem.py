"""Input resolution of :func:`driverkit.importance`: one problem whatever the input.

Respondent data, a labelled correlation/covariance matrix or
:class:`~driverkit.stats.SufficientStats` become one :class:`_Problem` (covariance matrix of
the player columns, the always-in covariates and the outcome; groups as players); also the
engines' shared options, collinearity diagnostics and result metadata.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._results import snake_key
from .._validation import check_positive, suggest
from ..exceptions import ColumnNotFoundError, DataError, DriverkitError, DriverkitTypeError
from ..stats._collinearity import (
    condition_number,
    condition_number_from_crossproducts,
    vif_from_corr,
)

METHODS = ("shapley", "dominance", "relative_weights", "pratt", "first", "last", "betasq",
           "car", "all")
ALL_METHODS = ("shapley", "relative_weights", "pratt", "first", "last", "betasq", "car")
#: Kinds importance supports (of the shared ``_validation.KINDS``): no probit subset kernel.
KINDS = ("linear", "logit", "ordinal")
FIT_INDICES = ("mcfadden", "nagelkerke", "cox_snell", "estrella")
CI_METHODS = ("percentile", "bca")
GLM_METHODS = ("shapley", "dominance", "relative_weights", "first", "last", "all")
_FUNC = "importance"


# --------------------------------------------------------------------------------------
# input resolution
# --------------------------------------------------------------------------------------
@dataclass
class _Problem:
    """Everything the engines need, whatever the input was."""

    player_names: list[str]
    players: list[list[int]]  # indices into the m player columns
    members: dict[str, list[str]]
    var_names: list[str]  # m player columns, a always columns, outcome
    C: np.ndarray  # covariance of var_names
    m: int
    a: int
    n: float | None
    source: str  # "data", "matrix" or "stats"
    outcome: str
    Z: np.ndarray | None = None  # (n, m + a + 1) rows in var_names order
    w: np.ndarray | None = None
    strata: np.ndarray | None = None
    dd: Any = None
    weight_type: str = "none"
    notes: list[str] = field(default_factory=list)
    pairwise: bool = False  # Z holds NaN; covariances are pairwise complete
    imputed: list[_Problem] = field(default_factory=list)  # missing="impute": one per set
    crossproducts: np.ndarray | None = None  # [1, X]ᵀW[1, X] of SufficientStats input


def _as_names(x: Any, name: str) -> list[str]:
    if x is None:
        return []
    if isinstance(x, str):
        return [x]
    if isinstance(x, Sequence | pd.Index | np.ndarray):
        return [str(v) for v in x]
    raise DriverkitTypeError(
        f"The '{name}' parameter of importance() must be a name or a list of names. "
        f"Got {type(x).__name__}."
    )


def _check_groups(groups: Any, always: list[str]) -> dict[str, list[str]]:
    if groups is None:
        return {}
    if not isinstance(groups, Mapping):
        raise DriverkitTypeError(
            "The 'groups' parameter of importance() must be a dict mapping a group name to a "
            f"list of drivers, e.g. {{'Checkout': ['pay', 'queue']}}. Got {type(groups).__name__}."
        )
    out: dict[str, list[str]] = {}
    seen: dict[str, str] = {}
    for gname, members in groups.items():
        mem = _as_names(members, "groups")
        if not mem:
            raise DriverkitError(f"The group '{gname}' has no drivers.")
        for d in mem:
            if d in always:
                raise DriverkitError(
                    f"'{d}' is both in covariates= and in the group '{gname}'. A variable is "
                    "either always in the model or a (grouped) driver, not both."
                )
            if d in seen and seen[d] != str(gname):
                raise DriverkitError(
                    f"The driver '{d}' is in two groups ('{seen[d]}' and '{gname}'); a driver "
                    "may belong to one group only."
                )
            if d in seen:
                raise DriverkitError(f"The driver '{d}' is listed twice in group '{gname}'.")
            seen[d] = str(gname)
        out[str(gname)] = mem
    return out


def _players_from(drivers: list[str], driver_cols: Mapping[str, list[int]],
                  groups: dict[str, list[str]]) -> tuple[list[str], list[list[str]]]:
    """Player names and member drivers, in driver order (a group at its first member)."""
    group_of = {d: g for g, mem in groups.items() for d in mem}
    for g, mem in groups.items():
        for d in mem:
            if d not in driver_cols:
                raise ColumnNotFoundError(
                    f"The group '{g}' names '{d}', which is not one of the drivers "
                    f"({', '.join(drivers)}).{suggest(d, drivers)}"
                )
        if g in driver_cols and g not in mem:
            raise DriverkitError(
                f"The group name '{g}' is also the name of a driver outside that group; "
                "rename the group."
            )
    names: list[str] = []
    mems: list[list[str]] = []
    for d in drivers:
        if d in group_of:
            g = group_of[d]
            if g not in names:
                names.append(g)
                mems.append(list(groups[g]))
        else:
            names.append(d)
            mems.append([d])
    return names, mems


def _assemble(drivers: list[str], driver_cols: Mapping[str, list[int]], always_cols: list[int],
              groups: dict[str, list[str]], col_names: list[str]
              ) -> tuple[list[str], list[list[int]], dict[str, list[str]], list[int]]:
    """Players → column lists (into the reordered player columns) and the column order."""
    names, mems = _players_from(drivers, driver_cols, groups)
    order: list[int] = []
    players: list[list[int]] = []
    for mem in mems:
        cols = [c for d in mem for c in driver_cols[d]]
        players.append(list(range(len(order), len(order) + len(cols))))
        order.extend(cols)
    return names, players, dict(zip(names, mems, strict=True)), order + always_cols


def _weighted_cov(Z: np.ndarray, w: np.ndarray) -> np.ndarray:
    mu = np.average(Z, axis=0, weights=w)
    Zc = Z - mu
    return (Zc.T @ (Zc * w[:, None])) / w.sum()


def _from_data(data: pd.DataFrame, outcome: Any, drivers: Any, *, kind: str, weights: Any,
               groups: dict[str, list[str]], always: list[str], missing: str, positive: Any,
               weight_type: str, strata: Any, na_values: Any = None, imputations: int = 20,
               seed: Any = None) -> _Problem:
    from ..data import prepare

    drv = None if drivers is None else _as_names(drivers, "drivers")
    is_formula = isinstance(outcome, str) and "~" in outcome
    if drv is None and not is_formula and groups:
        drv = [d for mem in groups.values() for d in mem]
    if drv is not None:
        both = [d for d in drv if d in always]
        if both:
            raise DriverkitError(
                f"{both} are listed both in drivers and in covariates=; always-in covariates are "
                "not drivers."
            )
    if drv is None and not is_formula:
        raise DriverkitError(
            "importance() needs drivers=[...] (or a formula 'y ~ a + b', or groups=) with "
            "respondent data."
        )
    dd = prepare(data, outcome, drv, kind=kind, weights=weights, covariates=always or None,
                 missing=missing, positive=positive, weight_type=weight_type, func=_FUNC,
                 na_values=na_values, imputations=imputations, seed=seed)
    keep_notes = [n for n in dd.notes if not n.startswith("Scales not declared")]
    if dd.policy == "impute":
        subs = [_problem_core(d, groups, data, strata) for d in dd.imputed]
        first = subs[0]
        first.imputed = subs
        first.notes = keep_notes
        return first
    prob = _problem_core(dd, groups, data, strata)
    prob.notes = keep_notes + prob.notes
    return prob


def _problem_core(dd: Any, groups: dict[str, list[str]], data: pd.DataFrame,
                  strata: Any) -> _Problem:
    """The engines' problem from a prepared design (complete rows, or NaN for pairwise)."""
    driver_cols = {d: list(dd.terms[d]) for d in dd.drivers}
    always_cols = [c for a in dd.covariates for c in dd.terms[a]]
    names, players, members, order = _assemble(dd.drivers, driver_cols, always_cols, groups,
                                                dd.columns)
    col_names = [dd.columns[c] for c in order]
    X = dd.X[:, order]
    y = np.asarray(dd.y, dtype=float)
    Z = np.column_stack([X, y])
    st = None
    if strata is not None:
        st = _strata_values(data, strata, dd.index)
    var_names = [*col_names, str(dd.outcome)]
    m = sum(len(pl) for pl in players)
    n_used = float(dd.n)
    notes: list[str] = []
    if dd.policy == "pairwise":
        from ..models._missing_fit import pairwise_covariance

        C, n_used, notes = pairwise_covariance(Z, dd.w, var_names, dd.weight_type)
    else:
        C = _weighted_cov(Z, dd.w)
    return _Problem(player_names=names, players=players, members=members, var_names=var_names,
                    C=C, m=m, a=len(always_cols), n=n_used, source="data",
                    outcome=str(dd.outcome), Z=Z, w=dd.w, strata=st, dd=dd,
                    weight_type=dd.weight_type, notes=notes,
                    pairwise=dd.policy == "pairwise")


def _strata_values(data: pd.DataFrame, strata: Any, index: pd.Index) -> np.ndarray:
    if isinstance(strata, str):
        if strata not in data.columns:
            raise ColumnNotFoundError(
                f"The strata column '{strata}' is not a column of the data."
                f"{suggest(strata, [str(c) for c in data.columns])}"
            )
        s = data[strata]
    else:
        s = pd.Series(np.asarray(strata), index=data.index)
        if len(s) != len(data):
            raise DataError(f"strata= has {len(s)} values but the data have {len(data)} rows.")
    if not data.index.is_unique:
        raise DataError("Stratified bootstrap needs a unique row index; call "
                        "data.reset_index(drop=True) first.")
    vals = s.loc[index]
    if vals.isna().any():
        raise DataError(f"The strata column '{strata}' has missing values in used rows.")
    return vals.to_numpy()


def _from_matrix(corr: Any, outcome: Any, drivers: Any, *, groups: dict[str, list[str]],
                 always: list[str], n: Any, source: str) -> _Problem:
    if source == "stats":
        cols = [str(c) for c in corr.columns]
    else:
        if not isinstance(corr, pd.DataFrame):
            raise DriverkitTypeError(
                "corr= must be a labelled pandas DataFrame (a correlation or covariance matrix "
                f"with the variable names as index and columns). Got {type(corr).__name__}."
            )
        cols = [str(c) for c in corr.columns]
        idx = [str(c) for c in corr.index]
        if sorted(cols) != sorted(idx) or len(set(cols)) != len(cols):
            raise DriverkitError(
                "corr= must be square with the same variable names as index and columns "
                f"(got columns {cols[:8]} and index {idx[:8]})."
            )
    if not isinstance(outcome, str):
        raise DriverkitTypeError("importance() needs outcome= naming the outcome variable.")
    if outcome not in cols:
        raise ColumnNotFoundError(
            f"The outcome '{outcome}' is not a variable of the matrix.{suggest(outcome, cols)}"
        )
    for a in always:
        if a not in cols:
            raise ColumnNotFoundError(
                f"The always-in variable '{a}' is not a variable of the matrix.{suggest(a, cols)}"
            )
    drv = _as_names(drivers, "drivers") if drivers is not None else None
    if drv is None:
        drv = [c for c in cols if c != outcome and c not in always]
    for d in drv:
        if d not in cols:
            raise ColumnNotFoundError(
                f"The driver '{d}' is not a variable of the matrix.{suggest(d, cols)}"
            )
    if outcome in drv or outcome in always:
        raise DriverkitError(f"The outcome '{outcome}' is also listed as a driver or in "
                             "covariates=.")
    both = [d for d in drv if d in always]
    if both:
        raise DriverkitError(f"{both} are listed both in drivers and in covariates=.")
    if len(set(drv)) != len(drv):
        raise DriverkitError("A driver is listed more than once.")
    driver_cols = {d: [i] for i, d in enumerate(drv)}
    always_cols = list(range(len(drv), len(drv) + len(always)))
    names, players, members, order = _assemble(drv, driver_cols, always_cols, groups, drv)
    ordered = [drv[i] for i in order[: len(drv)]] + list(always)
    var_names = [*ordered, outcome]
    xtx = None
    if source == "stats":
        C = np.asarray(corr.covariance(var_names), dtype=float)
        n_val = float(getattr(corr, "n_obs", np.nan))
        xtx = np.asarray(corr.crossproducts(var_names[:-1], intercept=True), dtype=float)
    else:
        frame = corr.copy()
        frame.index = [str(i) for i in frame.index]
        frame.columns = [str(c) for c in frame.columns]
        try:
            C = frame.loc[var_names, var_names].to_numpy(dtype=float)
        except (TypeError, ValueError) as exc:
            raise DriverkitError(f"corr= must hold numbers: {exc}") from None
        n_val = np.nan
        if n is not None:
            check_positive(n, "n", _FUNC)
            n_val = float(n)
    return _Problem(player_names=names, players=players, members=members, var_names=var_names,
                    C=C, m=len(drv), a=len(always), n=None if np.isnan(n_val) else n_val,
                    source=source, outcome=outcome,
                    crossproducts=xtx)


def _is_stats(obj: Any) -> bool:
    return (not isinstance(obj, pd.DataFrame) and hasattr(obj, "covariance")
            and hasattr(obj, "columns"))


# --------------------------------------------------------------------------------------
# engine options, diagnostics and metadata
# --------------------------------------------------------------------------------------
@dataclass
class _Options:
    exact_max: int
    tolerance: float
    max_time: float
    max_permutations: int
    progress: bool | None
    rng: np.random.Generator
    client: Any = None
    n_jobs: int = 1
    long_run: bool = False  # set when a GLM exact run was announced (shows a progress bar)


def _diagnostics(prob: _Problem) -> dict[str, Any]:
    """VIFs and the condition number (one definition each: :mod:`driverkit.stats._collinearity`)."""
    d = prob.m + prob.a
    if d == 0:
        return {}
    C = prob.C[:d, :d]
    s = np.sqrt(np.diag(C))
    vif = pd.Series(vif_from_corr(C / np.outer(s, s)), index=prob.var_names[:d], name="vif")
    if prob.Z is not None and prob.pairwise:  # rows with gaps: from the pairwise moments
        Zd = prob.Z[:, :d]
        ok = ~np.isnan(Zd)
        ww = (np.ones(len(Zd)) if prob.w is None else prob.w)[:, None] * ok
        mu = (np.where(ok, Zd, 0.0) * ww).sum(axis=0) / ww.sum(axis=0)
        M = np.block([[np.ones((1, 1)), mu[None, :]], [mu[:, None], C + np.outer(mu, mu)]])
        cond = condition_number_from_crossproducts(M)
    elif prob.Z is not None:
        cond = condition_number(prob.Z[:, :d], prob.w)
    elif prob.crossproducts is not None:
        cond = condition_number_from_crossproducts(prob.crossproducts)
    else:  # a correlation matrix has no means: the scaled, uncentred design is unknown
        cond = float("nan")
    return {"vif": vif, "condition_number": cond}


def _base_meta(prob: _Problem, method: str, kind: str, r2: float, r2_always: float,
               fit_index: str | None) -> dict[str, Any]:
    meta: dict[str, Any] = {"outcome": prob.outcome, "method": method, "kind": kind}
    if prob.n is not None:
        meta["n"] = int(prob.n) if float(prob.n).is_integer() else prob.n
    meta["drivers"] = len(prob.players)
    label = "r2" if kind == "linear" else "pseudo_r2"
    if kind != "linear":
        meta["fit_index"] = fit_index
    meta[label] = r2
    if prob.a:
        meta[f"{label}_always"] = r2_always
    mm = getattr(prob.dd, "missing_meta", None) or {}
    if mm.get("missing", "listwise") != "listwise" or mm.get("rows dropped (listwise)") \
            or mm.get("na_values removed"):
        for key in ("missing", "rows", "rows used", "rows dropped (listwise)", "cells filled",
                    "indicators", "na_values removed"):
            if key in mm:
                meta[snake_key(key)] = mm[key]
        if prob.pairwise:
            meta["smallest_pairwise_n"] = int(prob.n) if prob.n is not None else None
    return meta


def _sign_flips(prob: _Problem) -> pd.DataFrame:
    """Single-column drivers whose full-model coefficient has the opposite sign to their
    correlation with the outcome (suppressors), from the covariance matrix."""
    from ..models._model import opposite_signs

    k = prob.m + prob.a
    C = np.asarray(prob.C, float)
    single = [(name, cols[0]) for name, cols in zip(prob.player_names, prob.players,
                                                    strict=True) if len(cols) == 1]
    if not single or C.shape[0] != k + 1:
        return opposite_signs([], np.empty(0), np.empty(0))
    try:
        beta = np.linalg.lstsq(C[:k, :k], C[:k, k], rcond=None)[0]
    except np.linalg.LinAlgError:
        return opposite_signs([], np.empty(0), np.empty(0))
    d = np.sqrt(np.clip(np.diag(C), 0, None))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = C[:k, k] / (d[:k] * d[k])
    idx = [j for _, j in single]
    return opposite_signs([n for n, _ in single], beta[idx], corr[idx])
