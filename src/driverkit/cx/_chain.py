"""The loyalty chain: attributes → mediator (satisfaction) → outcome (repurchase), plus the
direct paths from the attributes to the outcome.

Two equations on the same respondents:

- mediator: M = a₀ + Σ_j a_j x_j + e (linear);
- outcome: P(Y = 1) = F(c₀ + Σ_j g_j x_j + b·M) (logit or probit; or linear).

The direct effect of attribute j holds the mediator at its observed value; the indirect
effect flows through it (a_j·b); the total effect is their sum (Baron & Kenny 1986;
product-of-coefficients, MacKinnon 2008). On the probability scale each is an average
marginal effect over respondents.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._progress import progress_bar
from .._results import Result
from .._validation import (
    check_columns,
    check_fraction,
    check_kind,
    check_progress,
    check_random_state,
)
from ..exceptions import DataError, DriverkitError, DriverkitTypeError
from ..stats._glmfit import fit_binary
from ..stats._links import get_link
from ._common import names_list, resolve_weights
from ._common import plain as _plain

__all__ = ["ChainModel", "ChainResult", "chain"]

_FUNC = "chain"
#: The kinds of outcome equation the chain supports (of ``_validation.KINDS``).
KINDS = ("logit", "probit", "linear")


# ------------------------------------------------------------------------------------------
# small, fast re-fitters (bootstrap replicates)
# ------------------------------------------------------------------------------------------
def _wls(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    Xw = X * w[:, None]
    return np.linalg.solve(Xw.T @ X, Xw.T @ y)


def _density(kind: str, eta: np.ndarray) -> np.ndarray:
    """``F'(η)`` of the outcome equation's inverse link (1 for a linear outcome)."""
    if kind == "linear":
        return np.ones_like(eta)
    return get_link(kind).pdf(eta)


def _glm(X: np.ndarray, y: np.ndarray, w: np.ndarray, kind: str, start: np.ndarray
         ) -> np.ndarray:
    """Weighted binary GLM refit warm-started from ``start`` (the full-sample estimate);
    NaN when it fails (the replicate is dropped)."""
    try:
        fit = fit_binary(X, y, w, link=kind, start=start, max_iter=25, line_search=False)
    except np.linalg.LinAlgError:
        return np.full_like(start, np.nan)
    if not np.all(np.isfinite(fit.params)):
        return np.full_like(start, np.nan)
    return fit.params


# ------------------------------------------------------------------------------------------
# effects
# ------------------------------------------------------------------------------------------
def _effects(kind: str, Xd: np.ndarray, m: np.ndarray, w: np.ndarray, a: np.ndarray,
             c: np.ndarray) -> np.ndarray:
    """Effects for parameter sets (vectorised over the leading axis).

    ``a``: (S, 1 + p) mediator intercept and slopes; ``c``: (S, 1 + p + 1) outcome
    intercept, direct slopes and the mediator's coefficient. Returns (S, 6, p): rows
    direct, indirect, total on the probability scale, then on the index scale.
    """
    g = c[:, 1:-1]
    b = c[:, -1]
    A = a[:, 1:]
    if kind == "linear":
        fbar = np.ones(c.shape[0])
    else:
        # chunked over parameter sets: at most ~2.5 million linear predictors at a time
        fbar = np.empty(c.shape[0])
        step = max(1, 2_500_000 // max(Xd.shape[0], 1))
        for s0 in range(0, c.shape[0], step):
            sl = slice(s0, s0 + step)
            eta = c[sl, :1] + g[sl] @ Xd.T + b[sl, None] * m[None, :]
            dens = _density(kind, eta)
            fbar[sl] = dens @ w / w.sum()
    ind = b[:, None] * A
    out = np.empty((c.shape[0], 6, g.shape[1]))
    out[:, 0] = fbar[:, None] * g
    out[:, 1] = fbar[:, None] * ind
    out[:, 2] = out[:, 0] + out[:, 1]
    out[:, 3] = g
    out[:, 4] = ind
    out[:, 5] = g + ind
    return out


_ROWS = ("direct", "indirect", "total", "direct_coef", "indirect_coef", "total_coef")


# ------------------------------------------------------------------------------------------
# the simulator-facing model
# ------------------------------------------------------------------------------------------
class ChainModel:
    """The fitted chain as one predictive model of the outcome from the attribute ratings.

    A scenario that moves attribute ratings from x to x' moves each respondent's mediator
    from M to M + a·(x' − x) (the respondent's own mediator residual is kept), and the
    outcome follows: P' = F(c₀ + g·x' + b·(M + a·(x' − x))). Because M − a·x is fixed per
    respondent, this is a binary model with coefficients g + b·a on the attributes and a
    respondent-specific offset b·(M − a₀ − a·x) that :meth:`design` carries as its last
    column. The offset needs each respondent's *baseline* ratings: :meth:`design` takes them
    from the data the model is bound to (by :func:`chain`, to the rows it was fitted on, or
    by :meth:`bind` / :meth:`ChainResult.simulator`), matched by index label. When some row
    of the data is not found there, the data passed are taken as their own baseline (then
    they must hold the mediator column). Bind the model to the respondents you simulate.

    Parameter vector (as in ``params``): ``[c₀, g₁..g_p, b, a₀, a₁..a_p]``.
    """

    def __init__(self, *, kind: str, drivers: list[str], mediator: str, outcome: str,
                 params: np.ndarray, cov: np.ndarray, scales: dict[str, tuple[float, float]],
                 names: list[str]) -> None:
        self.kind = kind
        self.outcome = outcome
        self.mediator = mediator
        self._drivers = list(drivers)
        self._params = np.asarray(params, float)
        self._cov = np.asarray(cov, float)
        self._scales = dict(scales)
        self._names = list(names)
        self._baseline: pd.DataFrame | None = None

    # --- protocol attributes --------------------------------------------------------------
    @property
    def drivers(self) -> list[str]:
        return list(self._drivers)

    @property
    def covariates(self) -> list[str]:
        return []

    @property
    def scales(self) -> dict[str, tuple[float, float]]:
        return dict(self._scales)

    @property
    def columns(self) -> list[str]:
        return [*self._drivers, "chain_offset"]

    @property
    def terms(self) -> dict[str, list[int]]:
        return {d: [j] for j, d in enumerate(self._drivers)}

    @property
    def params(self) -> pd.Series:
        return pd.Series(self._params, index=self._names, name="estimate")

    @property
    def cov_params(self) -> pd.DataFrame:
        return pd.DataFrame(self._cov, index=self._names, columns=self._names)

    @property
    def n_params(self) -> int:
        return int(self._params.size)

    @property
    def is_fitted(self) -> bool:
        return True

    @property
    def outcome_levels(self) -> None:
        return None

    # --- binding to the respondents ---------------------------------------------------
    def bind(self, data: pd.DataFrame) -> ChainModel:
        """A copy of the model with ``data`` (attribute ratings and the mediator) as the
        respondents' baseline (the model itself is not changed, so a model bound to the
        fitted survey never lends its mediator values to another survey)."""
        check_columns(data, [*self._drivers, self.mediator], role="chain column")
        base = data[[*self._drivers, self.mediator]].astype(float)
        if not base.index.is_unique:
            raise DataError("ChainModel.bind(): the data need a unique index (one label per "
                            "respondent) to match scenario rows to their baseline.")
        out = copy.copy(self)
        out._baseline = base
        return out

    # --- kernel -----------------------------------------------------------------------
    def design(self, data: pd.DataFrame, *, missing: str = "raise") -> np.ndarray:
        """Columns: the (moved) attribute ratings, then M − a·x at the baseline ratings."""
        check_columns(data, self._drivers, role="driver")
        X = data[self._drivers].to_numpy(dtype=float)
        if self._baseline is not None and data.index.isin(self._baseline.index).all():
            base = self._baseline.loc[data.index]
            X0 = base[self._drivers].to_numpy(dtype=float)
            M = base[self.mediator].to_numpy(dtype=float)
        else:
            check_columns(data, [self.mediator], role="mediator")
            X0 = X
            M = data[self.mediator].to_numpy(dtype=float)
        p = len(self._drivers)
        a = self._params[p + 3:]
        resid = M - X0 @ a
        if missing == "raise" and (np.isnan(X).any() or np.isnan(resid).any()):
            raise DataError("Missing attribute or mediator values; drop those rows first.")
        return np.column_stack([X, resid])

    def linear_predictor(self, X: np.ndarray, params: np.ndarray | None = None) -> np.ndarray:
        """η = c₀ + (g + b·a)·x' + b·(M − a·x), the last term being the design's last
        column; ``params`` (P,) → (n,), (S, P) → (S, n)."""
        th = self._params if params is None else np.asarray(params, float)
        p = len(self._drivers)
        c0 = th[..., 0]
        g = th[..., 1 : 1 + p]
        b = th[..., 1 + p]
        a = th[..., 3 + p :]
        Xd, r = X[:, :p], X[:, p]
        if th.ndim == 1:
            return c0 + Xd @ (g + b * a) + b * r
        coef = g + b[:, None] * a
        return c0[:, None] + coef @ Xd.T + b[:, None] * r[None, :]

    def predict_design(self, X: np.ndarray, params: np.ndarray | None = None) -> np.ndarray:
        eta = self.linear_predictor(X, params)
        return eta if self.kind == "linear" else get_link(self.kind).cdf(eta)

    def predict(self, data: pd.DataFrame) -> np.ndarray:
        return self.predict_design(self.design(data))

    def draw_params(self, size: int, rng: Any = None) -> np.ndarray:
        gen = check_random_state(rng)
        vals, vecs = np.linalg.eigh((self._cov + self._cov.T) / 2)
        factor = vecs * np.sqrt(np.clip(vals, 0, None))
        return self._params + gen.standard_normal((size, self._params.size)) @ factor.T

    def __repr__(self) -> str:
        return (f"ChainModel(kind={self.kind!r}, drivers={self._drivers!r}, "
                f"mediator={self.mediator!r}, outcome={self.outcome!r})")


# ------------------------------------------------------------------------------------------
# result
# ------------------------------------------------------------------------------------------
class ChainResult(Result):
    """Direct, indirect and total effects of attributes in a loyalty chain.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per driver: ``direct``, ``indirect``, ``total`` (average marginal effects on
        the outcome's probability scale, per rating point; for a linear outcome the
        coefficients) each with ``<name>_low``/``<name>_high``; ``mediator_coef`` (a_j) and
        ``direct_coef``, ``indirect_coef`` (a_j·b), ``total_coef`` on the index
        (log-odds/probit) scale, with intervals.
    mediator_model, outcome_model : DriverModel
    model : ChainModel
        The chain as one model for ``dk.Simulator`` (scenarios flow through the mediator).
    path_b : float
        The mediator's coefficient in the outcome equation.
    """

    _title = "Loyalty chain: direct, indirect and total effects"

    def __init__(self, table: pd.DataFrame, *, model: ChainModel, mediator_model: Any,
                 outcome_model: Any, replicates: np.ndarray, meta: dict[str, Any],
                 notes: list[str], data: pd.DataFrame) -> None:
        super().__init__(table, meta=meta, notes=notes)
        self.model = model
        self.mediator_model = mediator_model
        self.outcome_model = outcome_model
        self.replicates = replicates
        self.path_b = float(outcome_model.params[model.mediator])
        self._data = data

    def simulator(self, data: pd.DataFrame | None = None, **options: Any) -> Any:
        """A ``dk.Simulator`` whose scenarios flow through the mediator to the outcome."""
        from .. import simulate

        frame = self._data if data is None else _plain(data)
        return simulate.Simulator(self.model, frame, **options)

    def plot_data(self) -> pd.DataFrame:
        """Direct and indirect effects (stacked to the total) per driver."""
        return self.table[["direct", "indirect", "total", "total_low", "total_high"]].copy()

    def _plot(self, ax: Any, **kwargs: Any) -> Any:
        from ..display._plots import PALETTE

        d = self.plot_data().sort_values("total")
        y = np.arange(len(d))
        ax.barh(y, d["direct"], color=PALETTE[0], label="direct", **kwargs)
        ax.barh(y, d["indirect"], left=np.where(
            np.sign(d["indirect"]) == np.sign(d["direct"]), d["direct"], 0.0),
            color=PALETTE[1], label=f"via {self.model.mediator}", **kwargs)
        ax.errorbar(d["total"], y, xerr=[d["total"] - d["total_low"],
                                         d["total_high"] - d["total"]],
                    fmt="o", color="black", ms=3, capsize=2, label="total")
        ax.axvline(0, color="#999999", lw=0.8)
        ax.set_yticks(y, [str(i) for i in d.index])
        unit = "probability" if self.model.kind != "linear" else "outcome"
        ax.set_xlabel(f"effect of +1 rating point on {self.model.outcome} ({unit} scale)")
        ax.set_title(self.title)
        ax.legend(loc="lower right", fontsize=8)
        return ax


def _argument_order(outcome: Any, drivers: Any, mediator: Any) -> tuple[Any, Any, Any]:
    """(outcome, drivers, mediator), accepting the 0.1 order (drivers, mediator, outcome)."""
    if (outcome is not None and not isinstance(outcome, str) and isinstance(drivers, str)
            and isinstance(mediator, str)):
        warnings.warn(
            "chain(data, drivers, mediator, outcome) is deprecated and will be removed in the "
            "next release; call chain(data, outcome, drivers, mediator=...) (the order of "
            "every other driverkit function).", DeprecationWarning, stacklevel=3)
        return mediator, outcome, drivers
    if outcome is None or drivers is None or mediator is None:
        raise DriverkitTypeError(
            f"{_FUNC}() needs outcome=, drivers= and mediator=, e.g. chain(df, 'repurchase', "
            "['staff', 'price'], mediator='satisfaction').")
    return outcome, drivers, mediator


def chain(data: pd.DataFrame, outcome: str | None = None, drivers: Sequence[str] | None = None,
          mediator: str | None = None, *, kind: str = "logit", bootstrap: int = 0,
          seed: Any = None, weights: Any = None, ci: float = 0.95, draws: int = 2000,
          positive: Any = None, progress: bool | None = None) -> ChainResult:
    """Loyalty chain: attributes → mediator → outcome, with direct, indirect and total effects.

    Parameters
    ----------
    data : pandas.DataFrame
        Respondents (not modified). Rows with a missing value in any chain column are
        dropped (listwise) from both equations.
    outcome : str
        The final outcome, e.g. repurchase (0/1).
    drivers : list of str
        Attribute ratings (numeric).
    mediator : str
        The mediator, e.g. overall satisfaction (modelled linearly on the attributes).

        .. versionchanged:: 0.2
           The order is ``(data, outcome, drivers, mediator=...)`` as in every other
           function. The 0.1 order ``chain(data, drivers, mediator, outcome)`` still works
           (recognised by the list in second place) with a :class:`DeprecationWarning`,
           for one release.
    kind : {"logit", "probit", "linear"}, default="logit"
        Model of the outcome on the attributes and the mediator.
    bootstrap : int, default=0
        Respondent bootstrap replicates for the intervals (both equations refitted on each
        resample; percentile intervals). ``0``: Monte Carlo intervals from ``draws``
        parametric draws of the coefficients of both equations.
    seed : int or numpy Generator, optional
    weights : str or array-like, optional
        Survey weights (both equations; average marginal effects are weighted means).
    ci : float, default=0.95
    draws : int, default=2000
        Parametric draws when ``bootstrap=0``.
    positive : optional
        The event value of a binary outcome given as text.
    progress : bool, optional
        A progress bar over the bootstrap replicates (default: only for 500 or more).

    Returns
    -------
    ChainResult

    Notes
    -----
    Mediator: M = a₀ + a·x + e; outcome: η = c₀ + g·x + b·M, P = F(η). On the index scale
    direct_j = g_j, indirect_j = a_j·b, total_j = g_j + a_j·b (product of coefficients;
    Baron & Kenny 1986; MacKinnon 2008). On the probability scale (the table's main
    columns) each is multiplied by the weighted mean density f̄ = Σ w_i F'(η_i) / Σ w_i —
    the average marginal effect of a one-point rise when the mediator moves by a_j and the
    respondent keeps their own mediator residual. For ``kind="linear"`` both scales agree.
    Intervals: percentile intervals of a respondent bootstrap (Preacher & Hayes 2008), or
    of the Monte Carlo method for indirect effects (parametric draws of both equations,
    MacKinnon, Lockwood & Williams 2004; Preacher & Selig 2012). Observational data: the
    decomposition assumes no unmeasured confounding of the mediator and the outcome.

    Examples
    --------
    >>> import driverkit as dk
    >>> df = dk.make_survey(n=1500, n_drivers=4, asymmetric=False, seed=2)
    >>> res = dk.chain(df, "repurchase", df.attrs["truth"]["drivers"],
    ...                mediator="satisfaction", seed=1)
    >>> list(res.table.columns[:3])
    ['direct', 'direct_low', 'direct_high']
    >>> bool((res.table["total"] > 0).all())
    True
    """
    from ..models import DriverModel

    outcome, drivers, mediator = _argument_order(outcome, drivers, mediator)
    progress = check_progress(progress, _FUNC)
    check_kind(kind, _FUNC, KINDS)
    ci = check_fraction(ci, "ci", _FUNC)
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, int | np.integer) \
            or bootstrap < 0 or bootstrap == 1:
        raise DriverkitError(f"The 'bootstrap' parameter of {_FUNC}() must be 0 or an integer "
                             f">= 2 (replicates). Got {bootstrap!r} instead.")
    if isinstance(draws, bool) or not isinstance(draws, int | np.integer) or draws < 100:
        raise DriverkitError(f"The 'draws' parameter of {_FUNC}() must be an integer >= 100. "
                             f"Got {draws!r} instead.")
    rng = check_random_state(seed)
    if not isinstance(data, pd.DataFrame):
        raise DriverkitTypeError(f"{_FUNC}() needs a pandas DataFrame, got {type(data).__name__}.")
    data = _plain(data)
    drv = names_list(drivers, "drivers", _FUNC)
    if not isinstance(mediator, str) or not isinstance(outcome, str):
        raise DriverkitTypeError(f"{_FUNC}() takes the mediator and the outcome as column names.")
    if mediator in drv or outcome in drv or mediator == outcome:
        raise DataError(f"{_FUNC}(): the mediator '{mediator}', the outcome '{outcome}' and the "
                        "drivers must be different columns.")
    check_columns(data, [*drv, mediator, outcome], role="column")
    w_all = resolve_weights(data, weights, _FUNC)
    used = data[[*drv, mediator, outcome]]
    ok = used.notna().all(axis=1).to_numpy()
    notes: list[str] = []
    if not ok.all():
        from .._validation import warn
        from ..exceptions import MissingDataWarning

        k = int((~ok).sum())
        warn(f"{k} respondent(s) with a missing chain value were dropped (listwise).",
             MissingDataWarning)
        notes.append(f"{k} incomplete rows dropped (listwise) from both equations.")
    rows = data.loc[ok]
    w = w_all[ok]
    wt = None if weights is None else w

    med_model = DriverModel(mediator, drv, kind="linear", weights=wt).fit(rows)
    out_model = DriverModel(outcome, [*drv, mediator], kind=kind, weights=wt,
                            positive=positive).fit(rows)
    for m in (med_model, out_model):
        if m.data_ is not None and len(m.data_.factors):
            raise DataError(f"{_FUNC}() needs numeric ratings; {list(m.data_.factors)} are "
                            "text (factors).")
    med_dd, out_dd = med_model.data_, out_model.data_
    assert med_dd is not None and out_dd is not None and med_dd.y is not None
    assert out_dd.y is not None
    Xd: np.ndarray = med_dd.X
    m_obs: np.ndarray = med_dd.y
    y: np.ndarray = out_dd.y
    a_hat = med_model.params.to_numpy()
    c_hat = out_model.params.to_numpy()
    point = _effects(kind, Xd, m_obs, w, a_hat[None, :], c_hat[None, :])[0]

    # --- intervals -----------------------------------------------------------------------
    if bootstrap:
        n = Xd.shape[0]
        X1 = np.column_stack([np.ones(n), Xd])
        Xo = np.column_stack([X1, m_obs])
        reps = []
        bar = progress_bar(int(bootstrap), show=progress, desc="chain bootstrap",
                           unit="replicate", long_run=bootstrap >= 500)
        for _ in range(int(bootstrap)):
            bar.update()
            idx = rng.integers(0, n, n)
            wb = w[idx]
            try:
                a_b = _wls(X1[idx], m_obs[idx], wb)
            except np.linalg.LinAlgError:
                continue
            if kind == "linear":
                c_b = _wls(Xo[idx], y[idx], wb)
            else:
                c_b = _glm(Xo[idx], y[idx], wb * (n / wb.sum()), kind, c_hat)
            if not np.all(np.isfinite(c_b)):
                continue
            reps.append(_effects(kind, Xd[idx], m_obs[idx], wb, a_b[None, :], c_b[None, :])[0])
        bar.close()
        if len(reps) < max(2, 0.9 * bootstrap):
            raise DriverkitError(
                f"Only {len(reps)} of {bootstrap} bootstrap replicates could be refitted; the "
                "outcome is too rare or the drivers too collinear for a bootstrap.")
        replicates = np.stack(reps)
        method = f"respondent bootstrap ({len(reps)} replicates, percentile)"
    else:
        A = med_model.draw_params(draws, rng)
        C = out_model.draw_params(draws, rng)
        replicates = _effects(kind, Xd, m_obs, w, A, C)
        method = f"Monte Carlo ({draws} parametric draws of both equations, percentile)"
    lo_q, hi_q = (1 - ci) / 2, (1 + ci) / 2
    low = np.quantile(replicates, lo_q, axis=0)
    high = np.quantile(replicates, hi_q, axis=0)

    cols: dict[str, np.ndarray] = {}
    for r, name in enumerate(_ROWS):
        if name == "direct_coef":
            mt = med_model.table.loc[drv]
            cols["mediator_coef"] = mt["estimate"].to_numpy()
            cols["mediator_coef_low"] = mt["ci_low"].to_numpy()
            cols["mediator_coef_high"] = mt["ci_high"].to_numpy()
        cols[name] = point[r]
        cols[f"{name}_low"] = low[r]
        cols[f"{name}_high"] = high[r]
    table = pd.DataFrame(cols, index=pd.Index(drv, name="driver"))

    scale = {"logit": "probability (average marginal effect per rating point)",
             "probit": "probability (average marginal effect per rating point)",
             "linear": f"{outcome} units per rating point"}[kind]
    b_row = out_model.table.loc[mediator]
    meta = {
        "mediator": mediator, "outcome": outcome, "kind": kind, "n": out_model.n,
        "path_b": float(b_row["estimate"]),
        "r2_mediator": med_model.r2,
        ("mcfadden_r2_outcome" if kind != "linear" else "r2_outcome"): out_model.r2,
        "scale": scale, "intervals": method, "ci": ci,
    }
    notes.append("direct/indirect/total are on the probability scale (average marginal "
                 "effects); *_coef columns are on the index (log-odds/probit) scale, where "
                 "total_coef = direct_coef + mediator_coef · path b."
                 if kind != "linear" else
                 "Effects are coefficients: total = direct + mediator_coef · path b.")
    notes.append("The split into direct and indirect effects assumes no unmeasured common "
                 "cause of the mediator and the outcome (observational survey).")

    names = (["Intercept", *drv, mediator] + [f"{mediator}:Intercept"]
             + [f"{mediator}:{d}" for d in drv])
    P = len(names)
    cov = np.zeros((P, P))
    k_out = c_hat.size
    cov[:k_out, :k_out] = out_model.cov_params.to_numpy()
    cov[k_out:, k_out:] = med_model.cov_params.to_numpy()
    scales = {d: med_model.scales[d] for d in drv}
    model = ChainModel(kind=kind, drivers=drv, mediator=mediator, outcome=outcome,
                       params=np.concatenate([c_hat, a_hat]), cov=cov, scales=scales,
                       names=names).bind(rows)
    return ChainResult(table, model=model, mediator_model=med_model, outcome_model=out_model,
                       replicates=replicates, meta=meta, notes=notes, data=data)
