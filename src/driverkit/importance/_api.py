"""``dk.importance()``: relative importance of drivers, with groups, covariates and bootstrap.

The front-end resolves the input (respondent data, a labelled correlation/covariance matrix or
:class:`~driverkit.stats.SufficientStats`) into one covariance matrix of the player columns,
the always-in covariates and the outcome; partials the covariates out (Schur complement); and
hands the residual correlation matrix to the exact subset kernel
(:mod:`driverkit.stats._subsets`) and the shared Shapley/dominance functions
(:mod:`driverkit.importance._shapley`), to permutation sampling above ``exact_max`` players,
or to the closed-form metrics (:mod:`driverkit.importance._linear`). Binary and ordinal
outcomes use batched GLM subset fits (:mod:`driverkit.importance._glm`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from .._progress import progress_bar
from .._results import Result, snake_key
from .._validation import (
    check_fraction,
    check_int,
    check_kind,
    check_missing,
    check_option,
    check_positive,
    check_progress,
    check_random_state,
    renamed,
    suggest,
    warn,
)
from ..exceptions import (
    ColumnNotFoundError,
    ConvergenceWarning,
    DataError,
    DriverkitError,
    DriverkitTypeError,
    DriverkitWarning,
    SmallSampleWarning,
    SuppressorWarning,
)
from ..stats._collinearity import (
    condition_number,
    condition_number_from_crossproducts,
    vif_from_corr,
)
from ..stats._subsets import (
    SubsetBlock,
    announce_cost,
    map_subset_blocks,
    partial_correlation,
    single_threaded_blas,
    subset_values_batch,
    usable_cores,
)
from . import _bootstrap as bs
from ._linear import LINEAR_METHODS, batch_partial_correlation, linear_metric
from ._sampling import sample_shapley
from ._shapley import LatticeSums, complete_dominance

__all__ = ["ImportanceResult", "SubsetValues", "importance", "subset_values"]

METHODS = ("shapley", "dominance", "relative_weights", "pratt", "first", "last", "betasq",
           "car", "all")
ALL_METHODS = ("shapley", "relative_weights", "pratt", "first", "last", "betasq", "car")
#: Kinds importance supports (of the shared ``_validation.KINDS``): no probit subset kernel.
KINDS = ("linear", "logit", "ordinal")
FIT_INDICES = ("mcfadden", "nagelkerke", "cox_snell", "estrella")
CI_METHODS = ("percentile", "bca")
GLM_METHODS = ("shapley", "dominance", "relative_weights", "first", "last", "all")
_FUNC = "importance"
#: Replicates × subsets per vectorised bootstrap chunk.
_BOOT_CELLS = 1 << 20


# --------------------------------------------------------------------------------------
# result
# --------------------------------------------------------------------------------------
class ImportanceResult(Result):
    """Relative importance of drivers (or groups of drivers).

    Attributes
    ----------
    table : pandas.DataFrame
        Indexed by driver or group name: ``importance`` (raw, R² units), ``share`` (% of the
        total), ``rank`` (1 = most important); with a bootstrap also ``std_error, ci_low,
        ci_high``; with sampled Shapley values ``mc_se`` (Monte Carlo standard error). For
        ``method="all"`` one column of raw importance per method.
    method, kind : str
    r2 : float
        Fit of the full model (drivers and always-in covariates; a pseudo-R² for GLMs).
    r2_always : float
        Fit of the always-in covariates alone (0 without); importances of Shapley and
        relative weights sum to ``r2 - r2_always``.
    conditional : pandas.DataFrame or None
        ``method="dominance"``: mean gain by model size (rows drivers, columns 0..p−1).
    complete : pandas.DataFrame or None
        ``method="dominance"``: share of comparisons in which the row beats the column
        (ties count half; NaN on the diagonal; 1 = complete dominance).
    results : dict
        ``method="all"``: the full result of each method.
    diagnostics : dict
        ``r2``, ``r2_always``, ``vif`` (Series), ``condition_number``, ``rw_shapley_gap`` and
        ``rw_shapley_gap_driver`` when both are available, sampling facts when sampled.
    rank_ci, pairwise : pandas.DataFrame or None
        With a bootstrap: rank intervals and pairwise differences with intervals.
    replicates : pandas.DataFrame or None
        Bootstrap replicates (rows) of each driver's importance.
    groups : dict
        Members of every player (a single driver maps to itself).
    """

    _title = "Relative importance"

    def __init__(self, table: pd.DataFrame, *, method: str, kind: str, r2: float,
                 r2_always: float, meta: dict[str, Any] | None = None,
                 notes: list[str] | None = None, conditional: pd.DataFrame | None = None,
                 complete: pd.DataFrame | None = None,
                 results: dict[str, ImportanceResult] | None = None,
                 diagnostics: dict[str, Any] | None = None,
                 rank_ci: pd.DataFrame | None = None, pairwise: pd.DataFrame | None = None,
                 replicates: pd.DataFrame | None = None,
                 groups: dict[str, list[str]] | None = None,
                 fit_index: str | None = None) -> None:
        title = f"Relative importance ({_METHOD_LABELS.get(method, method)})"
        super().__init__(table, meta=meta, notes=notes, title=title)
        self.method = method
        self.kind = kind
        self.r2 = float(r2)
        self.r2_always = float(r2_always)
        self.conditional = conditional
        self.complete = complete
        self.results = dict(results or {})
        self.diagnostics = dict(diagnostics or {})
        self.rank_ci = rank_ci
        self.pairwise = pairwise
        self.replicates = replicates
        self.groups = dict(groups or {})
        self.fit_index = fit_index

    def summary(self, **options: Any) -> str:
        """Plain-text summary; for dominance also the conditional and complete tables.

        ``labels=``, ``currency=`` and ``locale=`` work as in :meth:`Result.summary`.
        """
        from ..display._format import format_options
        from ..display._render import format_table

        with format_options(self._format(options, "summary")):
            text = super().summary()
            if self.conditional is not None and self.complete is not None:
                cond = self.conditional.copy()
                cond.columns = [f"k={c}" for c in cond.columns]
                text += "\n\nConditional dominance (mean R² gain by number of other drivers)\n"
                text += format_table(cond).to_string()
                text += "\n\nComplete dominance (share of comparisons the row driver wins)\n"
                text += format_table(self.complete).to_string()
        return text

    def plot_data(self) -> pd.DataFrame:
        """Data behind :meth:`plot`: sorted importances, intervals and colour groups."""
        if self.method == "all":
            return self.table.copy()
        df = self.table[["importance", "share"]].copy()
        for col in ("ci_low", "ci_high"):
            if col in self.table:
                df[col] = self.table[col]
        df["group"] = [name if len(self.groups.get(name, [name])) > 1 else ""
                       for name in df.index]
        return df.sort_values("importance", ascending=False)

    def _plot(self, ax: Any, **kwargs: Any) -> Any:
        from ..display._plots import PALETTE

        df = self.plot_data()
        if self.method == "all":
            shares = df.div(df.sum(axis=0).where(df.sum(axis=0) != 0), axis=1) * 100
            shares = shares.iloc[::-1]
            k = shares.shape[1]
            height = 0.8 / k
            y = np.arange(len(shares))
            for i, col in enumerate(shares.columns):
                ax.barh(y + i * height - 0.4 + height / 2, shares[col].to_numpy(), height,
                        color=PALETTE[i % len(PALETTE)], label=col)
            ax.set_yticks(y)
            ax.set_yticklabels([str(s) for s in shares.index])
            ax.set_xlabel("share of explained variance (%)")
            ax.legend(fontsize="small")
            ax.set_title(self.title)
            return ax
        from ..display._plots import importance_bars

        # colour by journey stage when given ({driver: stage} or {stage: [drivers]}),
        # else mark grouped players apart from single drivers
        stages = kwargs.pop("stages", None)
        if stages:
            flat: dict[str, Any] = {}
            for key, val in stages.items():
                if isinstance(val, list | tuple | set):
                    flat.update({str(d): key for d in val})
                else:
                    flat[str(key)] = val
            stages = flat
        elif any(df["group"]):
            stages = {str(n): ("group" if g else "single driver")
                      for n, g in zip(df.index, df["group"], strict=True)}
        unit = "R²" if self.kind == "linear" else f"pseudo-R² ({self.fit_index})"
        return importance_bars(df, ax=ax, stages=stages, title=self.title,
                               xlabel=f"importance ({unit})", **kwargs)


_METHOD_LABELS = {
    "shapley": "Shapley / LMG",
    "dominance": "dominance analysis",
    "relative_weights": "relative weights",
    "pratt": "Pratt",
    "first": "first",
    "last": "last",
    "betasq": "squared beta",
    "car": "CAR scores",
    "all": "all methods",
}


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
# linear engines
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


def _exact_sums(R: np.ndarray, players: list[list[int]], keep_values: bool,
                progress: bool | None) -> tuple[LatticeSums, np.ndarray | None]:
    p = len(players)
    announce_cost(p, keep_values=keep_values)
    acc = LatticeSums(p)
    v = np.empty(1 << p) if keep_values else None
    bar = progress_bar(1 << p, show=progress, desc="subsets", unit_scale=True,
                       long_run=p >= 26)

    def block_sums(blk: SubsetBlock) -> tuple[LatticeSums, int, np.ndarray | None]:
        part = LatticeSums(p)
        part.add_block(blk)
        return part, blk.start, None if v is None else blk.values[:, 0]

    # blocks on the machine's cores; merged in block order (same sums whatever the threads)
    for part, start, vals in map_subset_blocks(R, players, block_sums, progress=bar.update):
        acc.merge(part)
        if v is not None and vals is not None:
            v[start : start + len(vals)] = vals
    bar.close()
    return acc, v


@dataclass
class _Point:
    values: dict[str, np.ndarray]
    conditional: np.ndarray | None = None
    complete: np.ndarray | None = None
    sampling: Any = None


def _linear_point(R: np.ndarray, players: list[list[int]], scale: float, methods: list[str],
                  opts: _Options, need_complete: bool) -> _Point:
    p = len(players)
    out = _Point(values={})
    if "shapley" in methods or "dominance" in methods:
        if p <= opts.exact_max:
            acc, v = _exact_sums(R, players, need_complete, opts.progress)
            cond = acc.conditional()[0] * scale
            shap = cond.mean(axis=1)
            out.values["shapley"] = shap
            out.values["dominance"] = shap
            out.conditional = cond
            if need_complete and v is not None:
                out.complete = complete_dominance(v)
        else:
            res = sample_shapley(R, players, tolerance=opts.tolerance, max_time=opts.max_time,
                                 max_permutations=opts.max_permutations, scale=scale,
                                 rng=opts.rng)
            out.values["shapley"] = res.values
            out.sampling = res
    for m in methods:
        if m in LINEAR_METHODS:
            out.values[m] = linear_metric(m, R, players, scale)[0]
    return out


def _linear_batch_stat(Cb: np.ndarray, prob: _Problem, methods: list[str]) -> np.ndarray:
    """Importances ``(B, len(methods) * p)`` from replicate covariance matrices."""
    R, scale, ok = batch_partial_correlation(Cb, prob.m, prob.a)
    p = len(prob.players)
    B = R.shape[0]
    out = np.empty((B, len(methods) * p))
    for i, meth in enumerate(methods):
        if meth in ("shapley", "dominance"):
            vals = np.empty((B, p))
            chunk = max(1, _BOOT_CELLS >> p)
            for s in range(0, B, chunk):
                v = subset_values_batch(R[s : s + chunk], prob.players)
                acc = LatticeSums(p, v.shape[1])
                acc.add(v, 0)
                vals[s : s + chunk] = acc.shapley()
            vals *= scale[:, None]
        else:
            vals = linear_metric(meth, R, prob.players, scale)
        out[:, i * p : (i + 1) * p] = vals
    out[~ok] = np.nan
    return out


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
        ww = prob.w[:, None] * ok
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


# --------------------------------------------------------------------------------------
# GLM engine
# --------------------------------------------------------------------------------------
def _glm_module() -> Any:
    try:
        from . import _glm
    except ImportError as exc:  # pragma: no cover - until the GLM module lands
        raise DriverkitError(
            "Importance for kind='logit'/'ordinal' needs driverkit.importance._glm, which is "
            "not available in this installation."
        ) from exc
    return _glm


def _glm_fit(prob: _Problem, kind: str, fit_index: str, w: np.ndarray | None = None,
             start: Any = None, progress: Any = None) -> Any:
    """Batched GLM fits of every subset (``start``: an earlier fit to warm-start from)."""
    glm = _glm_module()
    Z = prob.Z
    assert Z is not None
    X = Z[:, : prob.m + prob.a]
    y = Z[:, -1]
    ww = prob.w if w is None else w
    always = list(range(prob.m, prob.m + prob.a)) or None
    return glm.glm_subset_values(X[:, : prob.m] if not always else X, y, ww, kind=kind,
                                 fit_index=fit_index, players=prob.players, always=always,
                                 weight_type=prob.weight_type, start=start,
                                 names=prob.player_names, progress=progress)


def _glm_values(prob: _Problem, kind: str, fit_index: str, w: np.ndarray | None = None,
                start: Any = None) -> tuple[np.ndarray, float, float]:
    """(v relative to the always-in model, full fit, always-only fit) from batched GLM fits."""
    return _unpack_glm(_glm_fit(prob, kind, fit_index, w, start))


def _unpack_glm(res: Any) -> tuple[np.ndarray, float, float]:
    if isinstance(res, tuple):
        v, full, base = res[0], res[1], res[2]
        return np.asarray(v, dtype=float), float(full), float(base)
    v = np.asarray(getattr(res, "v", res), dtype=float)
    full = float(getattr(res, "r2_full", getattr(res, "full", v[-1])))
    base = float(getattr(res, "r2_always", getattr(res, "base", 0.0)))
    return v, full, base


# --------------------------------------------------------------------------------------
# table building
# --------------------------------------------------------------------------------------
def _add_bootstrap(table: pd.DataFrame, summary: Any, reps: np.ndarray | None,
                   names: list[str], ci: float = 0.95) -> dict[str, Any]:
    """Add a bootstrap summary's SE and interval columns; return the result's extra tables.

    ``share_low``/``share_high`` are percentiles of the bootstrap distribution of the shares
    themselves (each replicate's importances over their own sum, in %), not the importance
    interval over the point total (which is too wide and can pass 100 %).
    """
    if summary is None:
        return {}
    table["std_error"] = summary.std_error
    table["ci_low"] = summary.ci_low
    table["ci_high"] = summary.ci_high
    table["share_low"], table["share_high"] = share_interval(reps, ci, len(names))
    return {"rank_ci": summary.rank_ci, "pairwise": summary.pairwise,
            "replicates": pd.DataFrame(reps, columns=names)}


def share_interval(reps: np.ndarray | None, ci: float, p: int) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval of the shares (%) over bootstrap replicates ``(B, p)``.

    Replicates whose importances sum to zero (no share defined) or are not finite are left
    out; with none left the interval is NaN.
    """
    nan = np.full(p, np.nan)
    if reps is None:
        return nan, nan.copy()
    r = np.asarray(reps, dtype=float).reshape(-1, p)
    tot = r.sum(axis=1)
    ok = np.isfinite(r).all(axis=1) & (np.abs(tot) > 1e-300)
    if not ok.any():
        return nan, nan.copy()
    shares = r[ok] / tot[ok, None] * 100.0
    a = (1.0 - ci) / 2.0
    return np.quantile(shares, a, axis=0), np.quantile(shares, 1.0 - a, axis=0)


def _table(names: list[str], imp: np.ndarray) -> pd.DataFrame:
    total = float(np.sum(imp))
    share = imp / total * 100 if total != 0 else np.zeros_like(imp)
    return pd.DataFrame(
        {"importance": imp, "share": share,
         "rank": sps.rankdata(-imp, method="min").astype(int)},
        index=pd.Index(names, name="driver"),
    )


# --------------------------------------------------------------------------------------
# public function
# --------------------------------------------------------------------------------------
def importance(data: Any = None, outcome: str | None = None, drivers: Sequence[str] | None = None,
               *, method: str = "shapley", kind: str = "linear", weights: Any = None,
               groups: Mapping[str, Sequence[str]] | None = None,
               covariates: Sequence[str] | str | None = None, fit_index: str = "mcfadden",
               corr: pd.DataFrame | None = None, n: float | None = None, bootstrap: int = 0,
               ci: float = 0.95, seed: Any = None, missing: str = "listwise",
               strata: Any = None, ci_method: str = "percentile", exact_max: int = 25,
               tolerance: float = 0.001, max_time: float = 60.0,
               max_permutations: int = 200_000, progress: bool | None = None,
               weight_type: str = "sampling", positive: Any = None,
               client: Any = None, na_values: Any = None,
               imputations: int = 20, n_jobs: int | None = None,
               event: Any = None, always: Sequence[str] | str | None = None
               ) -> ImportanceResult:
    """Relative importance of drivers: Shapley/LMG, dominance, relative weights and more.

    Parameters
    ----------
    data : pandas.DataFrame or SufficientStats, optional
        One row per respondent, or sufficient statistics (linear only). Not modified.
    outcome : str
        Outcome column, or a formula ``"y ~ a + b + C(region)"``.
    drivers : list of str, optional
        Driver columns. ``None`` is allowed with a formula, with ``corr=`` (all other
        variables) and with ``groups=`` (their members).
    method : {"shapley", "dominance", "relative_weights", "pratt", "first", "last", \
"betasq", "car", "all"}, default="shapley"
        ``"shapley"`` = LMG = general dominance. ``"all"`` computes every method.
    kind : {"linear", "logit", "ordinal"}, default="linear"
        Binary and ordinal outcomes decompose a pseudo-R² (``fit_index``).
    weights : str or array-like, optional
        Survey (sampling) weights: a column name or one value per row.
    groups : dict, optional
        ``{"Checkout": ["pay", "queue"]}``: each group is one player; drivers in no group stay
        single players; a factor's dummies are always one player.
    covariates : list of str, optional
        Control variables kept in every model (as in :func:`driverkit.fit`); only
        ``r2 - r2_always`` is decomposed.

        .. versionchanged:: 0.2
           Renamed from ``always=``, which still works for one release with a
           :class:`DeprecationWarning`.
    fit_index : {"mcfadden", "nagelkerke", "cox_snell", "estrella"}, default="mcfadden"
        Pseudo-R² for ``kind="logit"``/``"ordinal"``.
    corr : pandas.DataFrame, optional
        A labelled correlation or covariance matrix instead of ``data``.
    n : float, optional
        Sample size behind ``corr`` (needed for a bootstrap from a matrix).
    bootstrap : int, default=0
        Number of bootstrap replicates (respondents resampled; parametric Wishart draws for
        matrix input).
    ci : float, default=0.95
        Confidence level of the intervals.
    seed : int or numpy Generator, optional
        Makes bootstrap and sampling reproducible.
    missing : {"listwise", "pairwise", "mean", "dummy", "impute", "raise"}, default="listwise"
        Skipped answers (see :func:`driverkit.fit`). ``"pairwise"`` (linear only): the
        importances of the pairwise-complete covariance matrix (repaired to the nearest
        correlation matrix if needed), with bootstrap replicates recomputing the pairwise
        covariances. ``"impute"``: importances averaged over the imputed data sets; with
        ``bootstrap=B`` each set is bootstrapped ``ceil(B / imputations)`` times and the
        intervals are percentiles of the pooled replicates (Schomaker & Heumann 2018).
        ``"dummy"``: the "not answered" indicators are always-in covariates.
    na_values : list or dict, optional
        Codes meaning "no answer", made missing first.
    imputations : int, default=20
        Imputed data sets for ``missing="impute"``.
    strata : str or array-like, optional
        Resample within these groups (a column name or one value per row).
    ci_method : {"percentile", "bca"}, default="percentile"
    exact_max : int, default=25
        Largest number of players computed exactly; above it Shapley values are estimated by
        permutation sampling with a Monte Carlo standard error.
    tolerance : float, default=0.001
        Sampling stops when every Monte Carlo standard error is at most this (R² units) ...
    max_time : float, default=60
        ... or after this many seconds ...
    max_permutations : int, default=200000
        ... or after this many sampled orders (the reason is reported).
    progress : bool, optional
        Show progress bars (default: only for long jobs).
    weight_type : {"sampling", "frequency"}, default="sampling"
    positive : optional
        The event value of a binary outcome given as text (``event=`` is an alias).
    client : distributed.Client or "dask", optional
        Run the bootstrap replicates of binary/ordinal importance (one batched refit of
        every subset per replicate) as Dask tasks on this client (``"dask"``: the active
        client or Dask's default scheduler). The replicates are drawn in the same order,
        so the result equals the local run.
    n_jobs : int, optional
        Threads for the bootstrap replicates of binary/ordinal importance (default: up to
        2, the cores of a small machine). The replicates are drawn before they are shared
        out, so the result does not depend on ``n_jobs``.

    Returns
    -------
    ImportanceResult

    Notes
    -----
    Shapley/LMG (Lindeman, Merenda & Gold 1980; Grömping 2006):
    φ_j = Σ_{S ⊆ P∖{j}} |S|!(p−|S|−1)!/p! · [v(S∪{j}) − v(S)], with v(S) the R² of the drivers
    in S (after the always-in covariates). All 2^p values come from one sweep recursion over
    the covariance matrix (O(2^p) rank-one updates, no per-subset regression), so p = 20
    takes a fraction of a second. Dominance (Budescu 1993; Azen & Budescu 2003): conditional
    dominance = mean gain at each model size, general dominance = their mean (= Shapley),
    complete dominance = share of same-subset comparisons won. Relative weights: Johnson
    (2000); for logit Tonidandel & LeBreton (2010). pratt, first, last, betasq and car follow
    R's relaimpo. Bootstrap intervals: Efron & Tibshirani (1993).

    Examples
    --------
    >>> import pandas as pd
    >>> import driverkit as dk
    >>> corr = pd.DataFrame(
    ...     [[1.0, 0.6, 0.3, 0.4, 0.5], [0.6, 1.0, 0.8, 0.1, 0.3], [0.3, 0.8, 1.0, 0.1, 0.1],
    ...      [0.4, 0.1, 0.1, 1.0, 0.5], [0.5, 0.3, 0.1, 0.5, 1.0]],
    ...     index=["y", "x1", "x2", "x3", "x4"], columns=["y", "x1", "x2", "x3", "x4"])
    >>> res = dk.importance(corr=corr, outcome="y")
    >>> res.table["importance"].round(4).tolist()
    [0.2922, 0.0759, 0.0949, 0.1214]
    >>> round(res.r2, 4)
    0.5844
    """
    check_option(method, "method", METHODS, _FUNC)
    check_kind(kind, _FUNC, KINDS)
    check_option(fit_index, "fit_index", FIT_INDICES, _FUNC)
    check_option(ci_method, "ci_method", CI_METHODS, _FUNC)
    ci = check_fraction(ci, "ci", _FUNC)
    B = bs.check_bootstrap(bootstrap)
    exact_max = check_int(exact_max, "exact_max", _FUNC, low=1)
    max_permutations = check_int(max_permutations, "max_permutations", _FUNC, low=2)
    check_positive(tolerance, "tolerance", _FUNC)
    check_positive(max_time, "max_time", _FUNC)
    rng = check_random_state(seed)
    progress = check_progress(progress, _FUNC)
    if n_jobs is None:
        n_jobs = usable_cores(2)
    n_jobs = int(check_int(n_jobs, "n_jobs", _FUNC, low=1))  # type: ignore[arg-type]
    opts = _Options(exact_max, float(tolerance), float(max_time), max_permutations, progress,
                    rng, client, n_jobs)
    always_l = _as_names(renamed(covariates, always, "covariates", "always", _FUNC),
                         "covariates")
    groups_d = _check_groups(groups, always_l)

    # ---- resolve the input -------------------------------------------------------------
    if event is not None:
        if positive is not None and positive != event:
            raise DriverkitError(f"positive={positive!r} and event={event!r} disagree; they "
                                 "name the same thing (the value modelled as 1).")
        positive = event
    if corr is not None and data is not None:
        raise DriverkitError("Give either data= or corr=, not both.")
    if corr is None and data is None:
        raise DriverkitError("importance() needs data= (respondents or SufficientStats) or corr=.")
    if corr is not None or _is_stats(data):
        if kind != "linear":
            raise DriverkitError(
                f"kind='{kind}' needs respondent-level data; a correlation matrix or "
                "sufficient statistics only support linear importance."
            )
        if weights is not None:
            if corr is not None:
                raise DriverkitError("weights= cannot be used with corr=; weight the matrix "
                                     "when you compute it.")
            raise DriverkitError(
                "importance() got weights= together with SufficientStats, which carry their "
                "weights from construction. Drop weights= here, or recompute the statistics "
                "with dk.sufficient_stats(source, columns, weights=...)."
            )
        if strata is not None:
            raise DriverkitError("strata= needs respondent-level data.")
        source = "matrix" if corr is not None else "stats"
        prob = _from_matrix(corr if corr is not None else data, outcome, drivers,
                            groups=groups_d, always=always_l, n=n, source=source)
    else:
        if not isinstance(data, pd.DataFrame):
            raise DriverkitTypeError(
                "data= must be a pandas DataFrame of respondents or SufficientStats; got "
                f"{type(data).__name__}."
            )
        if outcome is None:
            raise DriverkitError("importance() needs outcome= (a column name or a formula).")
        check_missing(missing, _FUNC, kind)
        prob = _from_data(data, outcome, drivers, kind=kind, weights=weights, groups=groups_d,
                          always=always_l, missing=missing, positive=positive,
                          weight_type=weight_type, strata=strata, na_values=na_values,
                          imputations=imputations,
                          seed=None if missing != "impute" else int(rng.integers(2**62)))
    p = len(prob.players)
    if p == 0:
        raise DriverkitError("importance() needs at least one driver.")

    if prob.imputed:
        from ._missing import pooled_importance

        def run_one(sub: _Problem, b: int) -> ImportanceResult:
            if kind == "linear":
                with single_threaded_blas():
                    return _linear_importance(sub, method, opts, b, ci, ci_method)
            with single_threaded_blas():
                return _glm_importance(sub, method, kind, fit_index, opts, b, ci, ci_method)

        return pooled_importance(prob, run_one, B, ci, ImportanceResult, _table)
    if kind == "linear":
        with single_threaded_blas():
            return _linear_importance(prob, method, opts, B, ci, ci_method)
    # GLM products are small and the engine runs its own threads: BLAS threads on top of
    # them contend (measured 12x slower at p = 14 on 2 cores), and a contended timed pilot
    # would send an exact run to sampling
    with single_threaded_blas():
        return _glm_importance(prob, method, kind, fit_index, opts, B, ci, ci_method)


@dataclass(frozen=True)
class SubsetValues:
    """Fit of every subset of players, relative to the always-in model (``v[0] = 0``).

    ``v`` is indexed by bitmask over ``players`` (bit j: player j in the model); ``r2`` is the
    full model's fit and ``r2_always`` that of the always-in covariates alone, so
    ``v[-1] = r2 − r2_always``. R² for linear models, the pseudo-R² ``fit_index`` for GLMs.
    """

    v: np.ndarray
    r2: float
    r2_always: float
    players: list[str]


def subset_values(data: pd.DataFrame, outcome: str, drivers: Sequence[str], *,
                  kind: str = "linear", weights: Any = None,
                  covariates: Sequence[str] | str | None = None, missing: str = "listwise",
                  positive: Any = None, weight_type: str = "sampling",
                  fit_index: str = "mcfadden") -> SubsetValues:
    """Point values of every subset of drivers from the importance engine.

    The same kernels as :func:`importance` (the sweep over the covariance matrix for linear
    models, the batched GLM subset fits otherwise), for callers that need the whole game
    (e.g. Owen values of journey stages). Each driver (a factor: all its dummies) is a player.

    Examples
    --------
    >>> import driverkit as dk
    >>> from driverkit.importance import subset_values
    >>> df = dk.make_survey(n=300, n_drivers=3, seed=4)
    >>> sv = subset_values(df, "satisfaction", df.attrs["truth"]["drivers"])
    >>> len(sv.v), bool(abs(sv.v[-1] - sv.r2) < 1e-12)
    (8, True)
    """
    check_kind(kind, "subset_values", KINDS)
    check_option(fit_index, "fit_index", FIT_INDICES, "subset_values")
    always_l = _as_names(covariates, "covariates")
    prob = _from_data(data, outcome, list(drivers), kind=kind, weights=weights, groups={},
                      always=always_l, missing=missing, positive=positive,
                      weight_type=weight_type, strata=None)
    if kind != "linear":
        v, r2, r2_always = _glm_values(prob, kind, fit_index)
        return SubsetValues(v, r2, r2_always, prob.player_names)
    R, r2, r2_always = partial_correlation(
        prob.C, prob.var_names, prob.m + prob.a, list(range(prob.m)),
        list(range(prob.m, prob.m + prob.a)), what="covariance matrix")
    with single_threaded_blas():
        v = subset_values_batch(R[None], prob.players)[:, 0] * (1.0 - r2_always)
    return SubsetValues(v, float(r2), float(r2_always), prob.player_names)


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


def _linear_importance(prob: _Problem, method: str, opts: _Options, B: int, ci: float,
                       ci_method: str) -> ImportanceResult:
    names = prob.player_names
    p = len(names)
    R, r2, r2_always = partial_correlation(
        prob.C, prob.var_names, prob.m + prob.a, list(range(prob.m)),
        list(range(prob.m, prob.m + prob.a)),
        what="covariance matrix" if prob.source == "data" else "matrix")
    scale = 1.0 - r2_always
    methods = list(ALL_METHODS) if method == "all" else [method]
    if method == "dominance" and p > opts.exact_max:
        raise DriverkitError(
            f"Dominance analysis needs all 2^{p} subsets; p = {p} is above exact_max = "
            f"{opts.exact_max}. Raise exact_max (see the cost estimate) or use "
            "method='shapley', which samples above exact_max."
        )
    need_complete = method == "dominance" or (method == "all" and p <= opts.exact_max)
    compute = list(methods)
    if method == "all" and p <= opts.exact_max:
        compute.append("dominance")
    # the RW-vs-Shapley gap is a diagnostic of every linear result (cheap up to p = 20)
    if "relative_weights" not in compute:
        compute.append("relative_weights")
    if "shapley" not in compute and "dominance" not in compute and p <= min(20, opts.exact_max):
        compute.append("shapley")
    point = _linear_point(R, prob.players, scale, compute, opts, need_complete)

    diag = {"r2": r2, "r2_always": r2_always, **_diagnostics(prob)}
    notes = list(prob.notes)
    shap = point.values.get("shapley")
    rw = point.values.get("relative_weights")
    if shap is not None and rw is not None:
        gap = np.abs(rw - shap)
        j = int(np.argmax(gap))
        diag["rw_shapley_gap"] = float(gap[j])
        diag["rw_shapley_gap_driver"] = names[j]
    if point.sampling is not None:
        sres = point.sampling
        diag.update({"sampled": True, "n_permutations": sres.n_permutations,
                     "stopped_by": sres.stopped_by, "max_mc_se": float(sres.std_error.max()),
                     "sampling_seconds": sres.seconds})
        notes.append(
            f"Shapley values estimated by sampling {sres.n_permutations:,} entry orders "
            f"(antithetic pairs; p = {p} > exact_max = {opts.exact_max}); largest Monte Carlo "
            f"SE {sres.std_error.max():.2g}; stopped by {sres.stopped_by}."
        )
        if sres.stopped_by != "tolerance":
            warn(
                f"Sampled Shapley values stopped by {sres.stopped_by} before reaching the "
                f"tolerance {opts.tolerance:g} (largest MC SE {sres.std_error.max():.3g}). "
                "Raise max_time/max_permutations for more precision.",
                ConvergenceWarning,
            )

    # ---- bootstrap ----------------------------------------------------------------------
    boot: dict[str, bs.BootstrapSummary] = {}
    reps_by: dict[str, np.ndarray] = {}
    if B:
        boot_methods = [m for m in methods]
        if point.sampling is not None and ("shapley" in boot_methods):
            raise DriverkitError(
                f"bootstrap= with sampled Shapley values (p = {p} > exact_max = "
                f"{opts.exact_max}) would need a sampling run per replicate. Raise exact_max "
                "(exact is fast up to p ≈ 25), group drivers, or bootstrap another method."
            )
        reps, jack = _linear_replicates(prob, boot_methods, B, opts, ci_method)
        for i, m in enumerate(boot_methods):
            est = point.values[m]
            r = reps[:, i * p : (i + 1) * p]
            jk = None if jack is None else jack[:, i * p : (i + 1) * p]
            boot[m] = bs.summarize(est, r, names, ci=ci, method=ci_method, jack=jk)
            reps_by[m] = r[np.all(np.isfinite(r), axis=1)]
        s0 = boot[boot_methods[0]]
        if s0.n_failed:
            notes.append(f"{s0.n_failed} of {B} bootstrap resamples were degenerate (singular) "
                         "and were left out.")
        if prob.source != "data":
            notes.append("Bootstrap from a matrix: parametric (Wishart) replicates assuming "
                         "multivariate normal data with n = "
                         f"{prob.n:g}; BCa acceleration set to 0.")
        elif prob.weight_type == "sampling":
            notes.append("Bootstrap resamples respondents with their sampling weights.")
        elif prob.weight_type == "frequency":
            notes.append("Bootstrap resamples rows; with frequency weights a row stands for "
                         "several respondents, so the intervals are too wide if rows are "
                         "aggregated units.")

    from ..models._model import describe_signs

    flips = _sign_flips(prob)
    if len(flips):
        msg = (f"Suppressor sign: {describe_signs(flips)} — the full-model coefficient is "
               f"opposite to the driver's own correlation with '{prob.outcome}'. Its share is "
               "real explained variance, but a simulated cut or raise of it alone rests on that "
               "sign.")
        warn(msg, SuppressorWarning)
        notes.append(msg)

    def build(m: str) -> ImportanceResult:
        table = _table(names, point.values[m])
        if point.sampling is not None and m == "shapley":
            table["mc_se"] = point.sampling.std_error
        extras = _add_bootstrap(table, boot.get(m), reps_by.get(m), names, ci)
        meta = _base_meta(prob, m, "linear", r2, r2_always, None)
        meta["max_vif"] = float(diag["vif"].max()) if "vif" in diag else np.nan
        meta["condition_number"] = diag.get("condition_number", np.nan)
        if len(flips):
            meta["suppressor_signs"] = ", ".join(flips.index)
        if m in boot:
            meta["bootstrap"] = B
            meta["ci"] = ci
            meta["ci_method"] = ci_method
        res_notes = list(notes)
        if m == "relative_weights" and "rw_shapley_gap" in diag:
            res_notes.append(
                f"Relative weights differ from Shapley values by up to "
                f"{diag['rw_shapley_gap']:.3g} (R² units, '{diag['rw_shapley_gap_driver']}')."
            )
        cond = comp = None
        if m == "dominance":
            cond = pd.DataFrame(point.conditional, index=pd.Index(names, name="driver"),
                                columns=pd.RangeIndex(p, name="size"))
            comp = pd.DataFrame(point.complete, index=pd.Index(names, name="driver"),
                                columns=pd.Index(names, name="other"))
        return ImportanceResult(table, method=m, kind="linear", r2=r2, r2_always=r2_always,
                                meta=meta, notes=res_notes, conditional=cond, complete=comp,
                                diagnostics=diag, groups=prob.members, **extras)

    if method != "all":
        return build(method)
    results = {m: build(m) for m in methods}
    if "dominance" in point.values and point.complete is not None:
        results["dominance"] = build("dominance")
    table = pd.DataFrame({m: point.values[m] for m in methods},
                         index=pd.Index(names, name="driver"))
    meta = _base_meta(prob, "all", "linear", r2, r2_always, None)
    return ImportanceResult(table, method="all", kind="linear", r2=r2, r2_always=r2_always,
                            meta=meta, notes=notes, results=results, diagnostics=diag,
                            groups=prob.members)


def _linear_replicates(prob: _Problem, methods: list[str], B: int, opts: _Options,
                       ci_method: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Bootstrap replicates (and jackknife values for BCa) of the linear importances."""
    if prob.source != "data":
        if prob.n is None:
            raise DriverkitError(
                "bootstrap= with corr= needs n= (the sample size behind the matrix)."
            )
        reps = bs.bootstrap_wishart(lambda Cb: _linear_batch_stat(Cb, prob, methods),
                                    prob.C, prob.n, B, opts.rng)
        return reps, None
    Z, w = prob.Z, prob.w
    assert Z is not None and w is not None
    if bs.n_distinct_rows(Z) < 2:
        raise DriverkitError("bootstrap= needs at least 2 distinct respondents (rows); all "
                             "used rows are identical.")

    def stat(W: np.ndarray) -> np.ndarray:
        if prob.pairwise:
            from ._missing import pairwise_batch

            return _linear_batch_stat(pairwise_batch(Z, W), prob, methods)
        return _linear_batch_stat(bs.replicate_covariances(Z, W), prob, methods)

    p = len(prob.players)
    chunk = int(np.clip(_BOOT_CELLS >> p, 16, 500))
    show = opts.progress if opts.progress is not None else (B * (1 << p) > 1 << 24)
    reps = bs.bootstrap_rows(stat, Z.shape[0], B, opts.rng, weights=w, strata=prob.strata,
                             chunk=chunk, progress=bool(show))
    jack = None
    if ci_method == "bca":
        jack = bs.jackknife_rows(stat, Z.shape[0], weights=w, rng=opts.rng, chunk=chunk)
    return reps, jack


def _glm_importance(prob: _Problem, method: str, kind: str, fit_index: str, opts: _Options,
                    B: int, ci: float, ci_method: str) -> ImportanceResult:
    names = prob.player_names
    p = len(names)
    if method not in GLM_METHODS:
        raise DriverkitError(
            f"method='{method}' is defined for linear models only; with kind='{kind}' use one "
            f"of {', '.join(GLM_METHODS)}."
        )
    if method == "relative_weights" and kind != "logit":
        raise DriverkitError("Relative weights for GLMs are defined for kind='logit' only "
                             "(Tonidandel & LeBreton 2010).")
    if method == "relative_weights" and prob.a:
        raise DriverkitError("Logistic relative weights do not support covariates= (always-in); "
                             "use method='shapley' (it partials them out).")
    _warn_epv(prob, kind)
    with_rw = kind == "logit" and not prob.a
    methods = (["shapley", "first", "last"] + (["relative_weights"] if with_rw else [])
               if method == "all" else [method])
    need_v = any(m in ("shapley", "dominance", "first", "last") for m in methods)
    if need_v and not _glm_exact_ok(prob, kind, fit_index, method, opts, B):
        return _glm_sampled(prob, method, kind, fit_index, opts)
    values: dict[str, np.ndarray] = {}
    cond = comp = None
    r2 = r2_always = np.nan
    full_fit = None
    if need_v:
        bar = progress_bar((1 << p) - 1, show=opts.progress, desc="subset models",
                           long_run=opts.long_run)
        try:
            full_fit = _glm_fit(prob, kind, fit_index, progress=bar.update)
        finally:
            bar.close()
        v, r2, r2_always = _unpack_glm(full_fit)
        values.update(_glm_from_v(v, p))
        if method in ("dominance", "all"):
            cond = LatticeSums(p)
            cond.add(v, 0)
            cond = cond.conditional()[0]
            comp = complete_dominance(v)
    if "relative_weights" in methods:
        rw, r2_rw = _glm_rw(prob, fit_index)
        values["relative_weights"] = rw
        if np.isnan(r2):  # the fit index of the full model (one player holding all columns)
            one = _Problem(**{**prob.__dict__, "players": [list(range(prob.m))],
                              "player_names": ["all drivers"]})
            _, r2, r2_always = _glm_values(one, kind, fit_index)
        rw_note = (f"Logistic relative weights (Tonidandel & LeBreton 2010) decompose Menard's "
                   f"standardised R² = {r2_rw:.4f}, not the {fit_index} index.")
    diag: dict[str, Any] = {"r2": r2, "r2_always": r2_always, **_diagnostics(prob)}
    if "shapley" in values and "relative_weights" in values:
        gap = np.abs(values["shapley"] - values["relative_weights"])
        diag["rw_shapley_gap"] = float(gap.max())
        diag["rw_shapley_gap_driver"] = names[int(np.argmax(gap))]
    notes = list(prob.notes)
    if "relative_weights" in values:
        notes.append(rw_note)
    boot: dict[str, bs.BootstrapSummary] = {}
    reps_by: dict[str, np.ndarray] = {}
    boot_meta: dict[str, Any] = {}
    if B:
        Z, w = prob.Z, prob.w
        assert Z is not None and w is not None
        if bs.n_distinct_rows(Z) < 2:
            raise DriverkitError("bootstrap= needs at least 2 distinct respondents (rows).")

        stat = _glm_replicate_stat(prob, kind, fit_index, methods, full_fit)
        from ._glm_boot import replicate_chunk

        chunk = replicate_chunk(Z.shape[0], len(prob.players), kind)
        show = opts.progress if opts.progress is not None else True
        mapper = None
        if opts.client is not None:
            from ..stats._dask import run_tasks

            client = None if isinstance(opts.client, str) else opts.client

            def mapper(fn: Any, batches: list[np.ndarray]) -> list[Any]:
                return run_tasks(fn, batches, client=client)

        with single_threaded_blas():  # threads share the cores instead
            reps = bs.bootstrap_rows(stat, Z.shape[0], B, opts.rng, weights=w,
                                     strata=prob.strata, chunk=chunk,
                                     progress=bool(show) and mapper is None, mapper=mapper,
                                     n_jobs=opts.n_jobs)
        status = reps[:, -1]
        reps = reps[:, :-1]
        boot_meta = {"replicates_failed": int(np.sum(status == 2)),
                     "replicates_refitted": int(np.sum(status == 1))}
        _note_replicates(boot_meta, B, notes)
        jack = None
        if ci_method == "bca":
            jack = bs.jackknife_rows(stat, Z.shape[0], weights=w, rng=opts.rng, max_groups=50,
                                     chunk=chunk)[:, :-1]
        for i, m in enumerate(methods):
            r = reps[:, i * p : (i + 1) * p]
            jk = None if jack is None else jack[:, i * p : (i + 1) * p]
            boot[m] = bs.summarize(values[m], r, names, ci=ci, method=ci_method, jack=jk)
            reps_by[m] = r[np.all(np.isfinite(r), axis=1)]

    def build(m: str) -> ImportanceResult:
        table = _table(names, values[m])
        extras = _add_bootstrap(table, boot.get(m), reps_by.get(m), names, ci)
        meta = _base_meta(prob, m, kind, r2, r2_always, fit_index)
        if m in boot:
            meta["bootstrap"] = B
            meta["ci"] = ci
            meta.update(boot_meta)
        c = k = None
        if m == "dominance":
            c = pd.DataFrame(cond, index=pd.Index(names, name="driver"),
                             columns=pd.RangeIndex(p, name="size"))
            k = pd.DataFrame(comp, index=pd.Index(names, name="driver"),
                             columns=pd.Index(names, name="other"))
        return ImportanceResult(table, method=m, kind=kind, r2=r2, r2_always=r2_always,
                                meta=meta, notes=list(notes), conditional=c, complete=k,
                                diagnostics=diag, groups=prob.members, fit_index=fit_index,
                                **extras)

    if method != "all":
        return build(method)
    results = {m: build(m) for m in methods}
    if cond is not None:
        values["dominance"] = values["shapley"]
        results["dominance"] = build("dominance")
    table = pd.DataFrame({m: values[m] for m in methods}, index=pd.Index(names, name="driver"))
    meta = _base_meta(prob, "all", kind, r2, r2_always, fit_index)
    return ImportanceResult(table, method="all", kind=kind, r2=r2, r2_always=r2_always,
                            meta=meta, notes=notes, results=results, diagnostics=diag,
                            groups=prob.members, fit_index=fit_index)


def _glm_from_v(v: np.ndarray, p: int) -> dict[str, np.ndarray]:
    acc = LatticeSums(p)
    acc.add(v, 0)
    shap = acc.shapley()[0]
    full = (1 << p) - 1
    first = np.array([v[1 << j] for j in range(p)])
    last = np.array([v[full] - v[full & ~(1 << j)] for j in range(p)])
    return {"shapley": shap, "dominance": shap, "first": first, "last": last}


def _glm_rw(prob: _Problem, fit_index: str, w: np.ndarray | None = None
            ) -> tuple[np.ndarray, float]:
    glm = _glm_module()
    Z = prob.Z
    assert Z is not None
    X = Z[:, : prob.m]
    y = Z[:, -1]
    ww = prob.w if w is None else w
    res = glm.logistic_relative_weights(X, y, ww, players=prob.players,
                                        weight_type=prob.weight_type)
    if isinstance(res, tuple):
        return np.asarray(res[0], dtype=float), float(res[1])
    vals = np.asarray(getattr(res, "weights", res), dtype=float)
    return vals, float(getattr(res, "r2", np.sum(vals)))


# --------------------------------------------------------------------------------------
# GLM bootstrap replicates
# --------------------------------------------------------------------------------------
#: Share of failed bootstrap replicates above which a warning is raised.
FAILED_SHARE_WARN = 0.01


def _glm_replicate_stat(prob: _Problem, kind: str, fit_index: str, methods: list[str],
                        full_fit: Any) -> Any:
    """Map replicate weights ``(R, n)`` to ``(R, len(methods)·p + 1)``: the importances of
    each method and, last, the replicate's status (0 ok, 1 refitted, 2 failed: NaN)."""
    from . import _glm_boot

    Z = prob.Z
    assert Z is not None
    p = len(prob.players)
    X = Z[:, : prob.m + prob.a]
    y = Z[:, -1]
    always = list(range(prob.m, prob.m + prob.a)) or None
    need_v = any(m in ("shapley", "dominance", "first", "last") for m in methods)

    def stat(W: np.ndarray) -> np.ndarray:
        R = W.shape[0]
        out = np.full((R, len(methods) * p + 1), np.nan)
        status = np.zeros(R)
        V = None
        if need_v:
            V, st = _glm_boot.replicate_values(
                X if always else X[:, : prob.m], y, W, full_fit, kind=kind,
                fit_index=fit_index, players=prob.players, always=always,
                weight_type=prob.weight_type, names=prob.player_names)
            status = st.astype(float)
        for b in range(R):
            if status[b] == 2:
                continue
            vals: dict[str, np.ndarray] = {}
            if V is not None:
                vals.update(_glm_from_v(V[b], p))
            if "relative_weights" in methods:
                try:
                    rw = _glm_rw(prob, fit_index, W[b])[0]
                except (DriverkitError, np.linalg.LinAlgError):
                    rw = np.full(p, np.nan)
                if not np.all(np.isfinite(rw)):
                    status[b] = 2
                    continue
                vals["relative_weights"] = rw
            row = np.concatenate([vals[m] for m in methods])
            if np.all(np.isfinite(row)):
                out[b, :-1] = row
            else:
                status[b] = 2
        out[:, -1] = status
        return out

    return stat


def _note_replicates(meta: dict[str, Any], B: int, notes: list[str]) -> None:
    """Report refitted and failed bootstrap replicates (a warning above a small share)."""
    failed, refitted = meta["replicates_failed"], meta["replicates_refitted"]
    if refitted:
        notes.append(f"{refitted} of {B} bootstrap replicates needed a robust refit (step "
                     "halving from zero) of some subset models.")
    if failed:
        text = (f"{failed} of {B} bootstrap replicates failed (a subset model did not "
                "converge to a consistent fit, e.g. because of separation in the resample) "
                "and were dropped; the intervals use the other "
                f"{B - failed}.")
        notes.append(text)
        if failed > FAILED_SHARE_WARN * B:
            warn(text, ConvergenceWarning)


# --------------------------------------------------------------------------------------
# GLM: events per parameter, exact-run time estimate, sampled Shapley values
# --------------------------------------------------------------------------------------
#: Events per parameter below which a logit is flagged (Peduzzi et al. 1996).
EPV_WARN = 10.0
#: GLM exact runs estimated longer than this many seconds are announced.
GLM_ANNOUNCE_SECONDS = 10.0
#: All-subsets engine cost per subset relative to the cold fits of the pilot (warm starts,
#: shared first iterations, float32 steering, larger batches): 0.15-0.19 measured for logit
#: p = 14, churn p = 14 and ordinal p = 13 at n = 2,000-5,000 (2026-11-30); rounded up so
#: that estimates err on the long side.
_EXACT_PER_PILOT = 0.25


def _warn_epv(prob: _Problem, kind: str) -> None:
    """Warn when a logit has fewer than 10 events per parameter."""
    if kind != "logit" or prob.Z is None:
        return
    y = prob.Z[:, -1]
    events = int(np.sum(y == 1))
    non_events = int(np.sum(y == 0))
    rarer = min(events, non_events)
    params = prob.m + prob.a
    if params == 0:
        return
    epv = rarer / params
    if epv < EPV_WARN:
        which = "events" if events <= non_events else "non-events"
        warn(f"The logit has {rarer} {which} (the rarer outcome; {events} events, "
             f"{non_events} non-events) for {params} parameters: {epv:.1f} per parameter, "
             f"below {EPV_WARN:g}. Coefficients and importances are unstable at this size "
             "(Peduzzi et al. 1996); group drivers or collect more respondents, and read the "
             "bootstrap intervals.", SmallSampleWarning)


def _glm_pilot_seconds(fitter: Any, p: int, rng: np.random.Generator) -> float:
    """Estimated seconds of the exact all-subsets run, from timed fits of random subsets."""
    import time

    masks = np.unique(rng.integers(1, 1 << p, size=64, dtype=np.int64))
    t0 = time.perf_counter()
    fitter(masks)
    per_fit = (time.perf_counter() - t0) / masks.size
    return per_fit * (1 << p) * getattr(fitter, "exact_per_pilot", _EXACT_PER_PILOT)


def _glm_mask_fitter(prob: _Problem, kind: str, fit_index: str) -> Any:
    """``masks -> values`` of chosen subset models (cross-products formed once)."""
    from ._glm import glm_mask_fitter

    Z = prob.Z
    assert Z is not None
    always = list(range(prob.m, prob.m + prob.a)) or None
    X = Z[:, : prob.m + prob.a] if always else Z[:, : prob.m]
    return glm_mask_fitter(X, Z[:, -1], prob.w, kind=kind, fit_index=fit_index,
                           players=prob.players, always=always,
                           weight_type=prob.weight_type)


def _glm_exact_ok(prob: _Problem, kind: str, fit_index: str, method: str,
                  opts: _Options, B: int) -> bool:
    """Whether to fit all 2^p subsets; announce long exact runs (a timed pilot first)."""
    from ._glm import MAX_PLAYERS

    p = len(prob.players)
    if p <= min(12, opts.exact_max):
        return True
    est = _glm_pilot_seconds(_glm_mask_fitter(prob, kind, fit_index), p,
                             np.random.default_rng(p))
    sampled_ok = method == "shapley"
    # a bootstrap cannot be sampled: it runs exact (announced) whenever exact is possible
    if p <= min(opts.exact_max, MAX_PLAYERS) and (est <= opts.max_time or B):
        total = est * (1 + B / max(opts.n_jobs, 1))
        if total > GLM_ANNOUNCE_SECONDS:
            extra = (f"; about {total:,.0f} s with {B} bootstrap replicates on "
                     f"{opts.n_jobs} thread(s)" if B else "")
            warn(f"Exact {kind} importance over p = {p} drivers fits 2^{p} = {1 << p:,} subset "
                 f"models: estimated {est:,.0f} s (from a timed pilot){extra}.",
                 DriverkitWarning)
            opts.long_run = True
        return True
    why = (f"p = {p} is above exact_max = {opts.exact_max}" if p > opts.exact_max else
           f"p = {p} is above the exact GLM limit of {MAX_PLAYERS}" if p > MAX_PLAYERS else
           f"the exact run would take about {est:,.0f} s (2^{p} = {1 << p:,} subset fits, "
           f"from a timed pilot), more than max_time = {opts.max_time:g} s")
    if B:
        raise DriverkitError(
            f"bootstrap= needs all 2^{p} subset fits per replicate, but {why}. Group drivers "
            "into fewer players, raise max_time/exact_max, or bootstrap "
            "method='relative_weights'.")
    if not sampled_ok:
        raise DriverkitError(
            f"method='{method}' needs all 2^{p} subset fits, but {why}. Use "
            "method='shapley' (sampled above the limit), group drivers into fewer players, "
            "or raise max_time.")
    warn(f"GLM Shapley values are sampled: {why}. Entry orders are sampled until the Monte "
         f"Carlo SE is below {opts.tolerance:g} or max_time = {opts.max_time:g} s runs out.",
         DriverkitWarning)
    return False


def _glm_sampled(prob: _Problem, method: str, kind: str, fit_index: str,
                 opts: _Options) -> ImportanceResult:
    """Permutation-sampled GLM Shapley values (with a Monte Carlo SE per driver)."""
    from ._sampling import sample_shapley_values

    names = prob.player_names
    p = len(names)
    fitter = _glm_mask_fitter(prob, kind, fit_index)
    r2_full = float(fitter(np.array([(1 << p) - 1], dtype=np.int64))[0])
    bar = None
    if opts.progress:  # pragma: no cover - cosmetic
        bar = progress_bar(None, show=True, desc="sampled orders")

    def step(count: int, se: float) -> None:  # pragma: no cover - cosmetic
        if bar is not None:
            bar.n = count
            bar.set_postfix(max_se=f"{se:.2g}")
            bar.refresh()

    res = sample_shapley_values(fitter, p,
                                tolerance=opts.tolerance, max_time=opts.max_time,
                                max_permutations=opts.max_permutations, rng=opts.rng,
                                progress=step)
    if bar is not None:  # pragma: no cover
        bar.close()
    r2_always = np.nan
    if prob.a:
        Z = prob.Z
        assert Z is not None
        r2_always = float(_glm_module().glm_subset_values(
            Z[:, : prob.m + prob.a], Z[:, -1], prob.w, kind=kind, fit_index=fit_index,
            players=[[0]], always=list(range(prob.m, prob.m + prob.a)),
            weight_type=prob.weight_type).r2_always)
    r2 = r2_full + (0.0 if np.isnan(r2_always) else r2_always)
    r2_always = 0.0 if np.isnan(r2_always) else r2_always
    table = _table(names, res.values)
    table["mc_se"] = res.std_error
    notes = list(prob.notes)
    notes.append(f"Shapley values estimated by sampling {res.n_permutations:,} entry orders "
                 f"(antithetic pairs; one {kind} fit per new subset); largest Monte Carlo SE "
                 f"{res.std_error.max():.2g}; stopped by {res.stopped_by}.")
    if res.stopped_by != "tolerance":
        warn(f"Sampled Shapley values stopped by {res.stopped_by} before reaching the "
             f"tolerance {opts.tolerance:g} (largest MC SE {res.std_error.max():.3g}). Raise "
             "max_time/max_permutations for more precision.", ConvergenceWarning)
    diag: dict[str, Any] = {"r2": r2, "r2_always": r2_always, **_diagnostics(prob),
                            "sampled": True, "n_permutations": res.n_permutations,
                            "stopped_by": res.stopped_by,
                            "max_mc_se": float(res.std_error.max()),
                            "sampling_seconds": res.seconds}
    meta = _base_meta(prob, method, kind, r2, r2_always, fit_index)
    meta["sampled"] = True
    return ImportanceResult(table, method=method, kind=kind, r2=r2, r2_always=r2_always,
                            meta=meta, notes=notes, diagnostics=diag, groups=prob.members,
                            fit_index=fit_index)
