"""Penalty–reward analysis: asymmetric (Kano-type) drivers.

Each attribute enters the model as two band dummies, low (rating ≤ a) and high (rating > b),
against the middle band. The coefficient of the low dummy is the *penalty* π (≤ 0 when a low
rating hurts), that of the high dummy the *reward* ρ. An attribute whose penalty outweighs
its reward is a *basic* (must-be) attribute, one whose reward outweighs its penalty an
*excitement* (delighter) attribute, otherwise a *performance* (one-dimensional) attribute
(Kano et al. 1984; Brandt 1987; Mittal, Ross & Baldasare 1998).
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .._results import Result
from .._validation import check_columns, check_fraction, check_option, warn
from ..data._prepare import _numeric_or_factor
from ..exceptions import DataError, DriverkitError, DriverkitTypeError, SmallSampleWarning
from ._common import names_list
from ._common import plain as _plain

__all__ = ["BandedModel", "PenaltyRewardResult", "band_columns", "penalty_reward"]

_FUNC = "penalty_reward"
KANO_CLASSES = ("basic", "performance", "excitement")
_MIN_BAND = 30


def band_columns(driver: str) -> tuple[str, str]:
    """Names of the low and high band dummies of ``driver`` in the banded model."""
    return f"{driver}[low]", f"{driver}[high]"


def _check_bands(bands: Any, drivers: list[str]) -> dict[str, tuple[float, float]]:
    """``(a, b)`` for every driver, or a dict ``{driver: (a, b)}``; a < b required."""
    def one(v: Any, label: str) -> tuple[float, float]:
        if (not isinstance(v, Sequence) or isinstance(v, str) or len(v) != 2
                or not all(isinstance(x, numbers.Real) and not isinstance(x, bool) for x in v)
                or not all(np.isfinite(float(x)) for x in v)):
            raise DriverkitTypeError(
                f"The 'bands' parameter of {_FUNC}(){label} must be two numbers (a, b): low = "
                f"rating ≤ a, middle = a < rating ≤ b, high = rating > b. Got {v!r} instead. "
                "For a 1–10 scale banded 1–6 / 7–8 / 9–10 use bands=(6, 8)."
            )
        a, b = float(v[0]), float(v[1])
        if not a < b:
            raise DriverkitError(
                f"The band cut-offs of {_FUNC}(){label} overlap: low = rating ≤ {a:g} and "
                f"high = rating > {b:g} leave no middle band (need a < b). Got {tuple(v)!r}; "
                "for 1–6 / 7–8 / 9–10 use bands=(6, 8)."
            )
        return a, b

    if isinstance(bands, Mapping):
        unknown = [k for k in bands if k not in drivers]
        if unknown:
            raise DriverkitError(
                f"The 'bands' parameter of {_FUNC}() names {unknown}, which are not drivers "
                f"({', '.join(drivers)})."
            )
        missing = [d for d in drivers if d not in bands]
        if missing:
            raise DriverkitError(
                f"The 'bands' dict of {_FUNC}() has no cut-offs for {missing}; give every "
                "driver its (a, b), or pass one pair for all."
            )
        return {d: one(bands[d], f" for '{d}'") for d in drivers}
    pair = one(bands, "")
    return dict.fromkeys(drivers, pair)


def _band_frame(data: pd.DataFrame, drivers: list[str],
                bands: Mapping[str, tuple[float, float]]) -> pd.DataFrame:
    """Band dummies (NaN where the rating is missing) of every driver, in model order."""
    cols: dict[str, np.ndarray] = {}
    for d in drivers:
        kind_, s = _numeric_or_factor(data[d], d, "driver")
        if kind_ == "factor":
            raise DataError(
                f"The driver '{d}' holds text; penalty–reward analysis needs numeric ratings."
            )
        x = s.to_numpy(dtype=float)
        a, b = bands[d]
        miss = np.isnan(x)
        lo = (x <= a).astype(float)
        hi = (x > b).astype(float)
        lo[miss] = np.nan
        hi[miss] = np.nan
        c_lo, c_hi = band_columns(d)
        cols[c_lo], cols[c_hi] = lo, hi
    return pd.DataFrame(cols, index=data.index)


class BandedModel:
    """A fitted penalty–reward model that predicts from raw ratings.

    It wraps the banded :class:`~driverkit.DriverModel` (band dummies as terms) and exposes
    the same prediction kernel (``design``, ``linear_predictor``, ``predict_design``,
    ``predict``, ``draw_params``) with ``design(data)`` mapping the *ratings* of ``data`` to
    band dummies. A simulator that moves ratings therefore sees the asymmetric response:
    a cut that pushes respondents into the low band of a basic attribute costs its large
    penalty, the same raise earns only its small reward.
    """

    def __init__(self, inner: Any, drivers: list[str], bands: dict[str, tuple[float, float]],
                 scales: dict[str, tuple[float, float]]) -> None:
        self.inner = inner
        self.kind = inner.kind
        self.outcome = inner.outcome
        self._drivers = list(drivers)
        self.bands = dict(bands)
        self._scales = dict(scales)

    # --- the attributes the simulator and optimiser read ---------------------------------
    @property
    def drivers(self) -> list[str]:
        return list(self._drivers)

    @property
    def covariates(self) -> list[str]:
        return list(self.inner.covariates)

    @property
    def outcome_type(self) -> str:
        """``"score"`` or ``"rate"``, as the banded model's (see ``DriverModel``)."""
        return str(getattr(self.inner, "outcome_type", "rate"))

    @property
    def scales(self) -> dict[str, tuple[float, float]]:
        return dict(self._scales)

    @property
    def columns(self) -> list[str]:
        return list(self.inner.columns)

    @property
    def terms(self) -> dict[str, list[int]]:
        """One design column per driver (its low-band dummy) so that simulators treat each
        driver as one movable rating; a move changes both band dummies, which a simulator
        finds by rebuilding the design (``design``), never by a unit step in this column."""
        cols = self.columns
        out = {d: [cols.index(band_columns(d)[0])] for d in self._drivers}
        for c in self.covariates:
            out[c] = list(self.inner.terms[c])
        return out

    @property
    def band_terms(self) -> dict[str, list[int]]:
        """Both band-dummy columns of each driver."""
        cols = self.columns
        return {d: [cols.index(c) for c in band_columns(d)] for d in self._drivers}

    @property
    def params(self) -> pd.Series:
        return self.inner.params

    @property
    def cov_params(self) -> pd.DataFrame:
        return self.inner.cov_params

    @property
    def n_params(self) -> int:
        return int(self.inner.n_params)

    @property
    def table(self) -> pd.DataFrame:
        return self.inner.table

    @property
    def outcome_levels(self) -> Any:
        return self.inner.outcome_levels

    @property
    def is_fitted(self) -> bool:
        return True

    @property
    def n(self) -> int:
        return int(self.inner.n)

    @property
    def data_(self) -> Any:
        return self.inner.data_

    # --- kernel -------------------------------------------------------------------------
    def design(self, data: pd.DataFrame, *, missing: str = "raise") -> np.ndarray:
        """Band dummies (and covariates) of ``data``'s ratings, in the model's column order."""
        check_columns(data, self._drivers, role="driver")
        frame = _band_frame(data, self._drivers, self.bands)
        for c in self.covariates:
            frame[c] = data[c]
        return self.inner.design(frame, missing=missing)

    def linear_predictor(self, X: np.ndarray, params: np.ndarray | None = None) -> np.ndarray:
        return self.inner.linear_predictor(X, params)

    def predict_design(self, X: np.ndarray, params: np.ndarray | None = None) -> np.ndarray:
        return self.inner.predict_design(X, params)

    def predict(self, data: pd.DataFrame) -> np.ndarray:
        return self.inner.predict_design(self.design(data))

    def draw_params(self, size: int, rng: Any = None) -> np.ndarray:
        return self.inner.draw_params(size, rng)

    def __repr__(self) -> str:
        return (f"BandedModel(kind={self.kind!r}, outcome={self.outcome!r}, "
                f"drivers={self._drivers!r})")


class PenaltyRewardResult(Result):
    """Penalty–reward (Kano) analysis.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per driver: ``penalty`` (low band vs middle; ≤ 0 when a low rating hurts)
        with ``penalty_low``/``penalty_high``, ``reward`` (high band vs middle) with
        ``reward_low``/``reward_high``, ``asymmetry`` (π + ρ), ``p_value`` (Wald test of
        π + ρ = 0), ``kano_class`` and the band sizes ``low_n, middle_n, high_n``.
    comparison : pandas.DataFrame
        Rows ``linear``, ``banded`` and ``encompassing`` (linear + band dummies) with
        ``loglike, n_params, aic, bic``, and the LR test of each smaller model against the
        encompassing one (``lr_stat, lr_df, p_value``).
    model : BandedModel
        The banded model, usable by ``dk.Simulator``.
    linear_model : DriverModel
        The linear model on the same respondents.
    bands : dict
        ``{driver: (a, b)}``.
    """

    _title = "Penalty–reward analysis (Kano classes)"

    def __init__(self, table: pd.DataFrame, *, comparison: pd.DataFrame, model: BandedModel,
                 linear_model: Any, bands: dict[str, tuple[float, float]], meta: dict[str, Any],
                 notes: list[str]) -> None:
        super().__init__(table, meta=meta, notes=notes)
        self._data: pd.DataFrame | None = None
        self.comparison = comparison
        self.model = model
        self.linear_model = linear_model
        self.bands = bands

    @property
    def classes(self) -> pd.Series:
        """The Kano class of each driver."""
        return self.table["kano_class"].copy()

    def simulator(self, data: pd.DataFrame | None = None, **options: Any) -> Any:
        """A ``dk.Simulator`` on the banded model (asymmetric responses to scenarios)."""
        from .. import simulate

        frame = data if data is not None else self._data
        if frame is None:
            raise DriverkitError("Pass the respondents: result.simulator(data).")
        return simulate.Simulator(self.model, frame, **options)

    def plot_data(self) -> pd.DataFrame:
        """Penalty, reward (with intervals) and the Kano class of each driver."""
        return self.table[["penalty", "penalty_low", "penalty_high", "reward", "reward_low",
                           "reward_high", "kano_class"]].copy()

    def _plot(self, ax: Any, **kwargs: Any) -> Any:
        from ..display._plots import penalty_reward_chart

        return penalty_reward_chart(self.plot_data(), ax=ax, title=self.title, **kwargs)


def _classify(pi: float, rho: float, p: float, alpha: float) -> str:
    if np.isfinite(p) and p < alpha:
        if abs(pi) > rho:
            return "basic"
        if rho > abs(pi):
            return "excitement"
    return "performance"


def penalty_reward(data: pd.DataFrame, outcome: str, drivers: Sequence[str], *,
                   bands: Any = (6, 8), kind: str = "linear", weights: Any = None,
                   covariates: Sequence[str] | None = None, alpha: float = 0.05,
                   ci: float = 0.95, **fit_options: Any) -> PenaltyRewardResult:
    """Penalty–reward analysis: which attributes are basics, performance or excitement.

    Parameters
    ----------
    data : pandas.DataFrame
        Respondents (not modified).
    outcome : str
        Outcome column (satisfaction, repurchase, recommend ...).
    drivers : list of str
        Attribute ratings.
    bands : (a, b) or dict, default=(6, 8)
        Band cut-offs: low = rating ≤ a, middle = a < rating ≤ b, high = rating > b
        (the default is 1–6 / 7–8 / 9–10 on a 1–10 scale). A dict gives each driver its own
        ``(a, b)``. ``a < b`` is required.
    kind : {"linear", "logit", "probit", "ordinal"}, default="linear"
        Model of the outcome; penalty and reward are on its coefficient scale (outcome
        points, log-odds, probit index, ordinal log-odds).
    weights : str or array-like, optional
        Survey weights.
    covariates : list of str, optional
        Controls kept in every model.
    alpha : float, default=0.05
        Level of the asymmetry test that decides the Kano class.
    ci : float, default=0.95
        Confidence level of the penalty and reward intervals.
    **fit_options
        Passed to :class:`~driverkit.DriverModel` (``robust``, ``positive``, ``missing``,
        ``scales`` ...).

    Returns
    -------
    PenaltyRewardResult

    Notes
    -----
    One model holds both band dummies of every attribute:
    y = β₀ + Σ_j (π_j·[x_j ≤ a_j] + ρ_j·[x_j > b_j]) + controls + ε (or its logit/ordinal
    version), so π_j is the effect of a low rating against a middle one and ρ_j that of a
    high rating (Brandt 1987; Mittal, Ross & Baldasare 1998). The asymmetry test is the Wald
    test of π_j + ρ_j = 0 with the model's covariance (sandwich with sampling weights):
    ``basic`` when |π| > ρ at p < ``alpha``, ``excitement`` when ρ > |π| at p < ``alpha``,
    otherwise ``performance`` (Kano et al. 1984 for the classes).

    The banded and the linear model are not nested, so ``.comparison`` reports AIC/BIC of
    both and LR tests of each against the *encompassing* model (ratings plus band dummies),
    which nests both: a small p-value for ``linear`` means the linear form misses the
    asymmetry. With sampling weights the likelihoods are pseudo-likelihoods and the LR test
    is approximate.

    Examples
    --------
    >>> import driverkit as dk
    >>> df = dk.make_survey(n=2000, n_drivers=6, kind="linear", seed=1)
    >>> res = dk.penalty_reward(df, "satisfaction", df.attrs["truth"]["drivers"])
    >>> list(res.table.columns[:3])
    ['penalty', 'penalty_low', 'penalty_high']
    >>> res.table.loc["staff_friendliness", "kano_class"]
    'excitement'
    """
    from ..models import DriverModel

    ci = check_fraction(ci, "ci", _FUNC)
    alpha = check_fraction(alpha, "alpha", _FUNC)
    check_option(kind, "kind", ("linear", "logit", "probit", "ordinal"), _FUNC)
    if not isinstance(data, pd.DataFrame):
        raise DriverkitTypeError(f"{_FUNC}() needs a pandas DataFrame, got {type(data).__name__}.")
    data = _plain(data)
    drv = names_list(drivers, "drivers", _FUNC)
    cov = [] if covariates is None else names_list(covariates, "covariates", _FUNC)
    check_columns(data, [outcome, *drv, *cov], role="column")
    band = _check_bands(bands, drv)

    bf = _band_frame(data, drv, band)
    keep_cols = [outcome, *cov]
    if isinstance(weights, str):
        check_columns(data, [weights], role="weights")
        keep_cols.append(weights)
    extra = data[[c for c in dict.fromkeys(keep_cols) if c not in bf.columns]]
    frame = pd.concat([extra, bf, data[drv]], axis=1)
    rows_ok = frame[[outcome, *drv, *cov]].notna().all(axis=1).to_numpy()

    # band sizes (complete cases) and empty / thin bands
    notes: list[str] = []
    sizes: dict[str, tuple[int, int, int]] = {}
    for d in drv:
        c_lo, c_hi = band_columns(d)
        lo = int(bf.loc[rows_ok, c_lo].sum())
        hi = int(bf.loc[rows_ok, c_hi].sum())
        mid = int(rows_ok.sum()) - lo - hi
        sizes[d] = (lo, mid, hi)
        a, b = band[d]
        empty = [nm for nm, k in (("low", lo), ("middle", mid), ("high", hi)) if k == 0]
        if empty:
            raise DataError(
                f"The {' and '.join(empty)} band of '{d}' is empty (low ≤ {a:g} < middle ≤ "
                f"{b:g} < high; counts {lo}/{mid}/{hi}). Choose cut-offs inside the observed "
                f"ratings of '{d}' (bands={{'{d}': (a, b)}} sets them per driver), or drop it."
            )
        thin = [nm for nm, k in (("low", lo), ("middle", mid), ("high", hi)) if k < _MIN_BAND]
        if thin:
            msg = (f"The {'/'.join(thin)} band of '{d}' has fewer than {_MIN_BAND} respondents "
                   f"(low/middle/high = {lo}/{mid}/{hi}); its penalty or reward is imprecise.")
            warn(msg, SmallSampleWarning)
            notes.append(msg)

    band_cols = [c for d in drv for c in band_columns(d)]
    common = {"kind": kind, "weights": weights, "covariates": cov or None, "ci": ci,
              **fit_options}
    common.setdefault("vif_threshold", np.inf)
    banded = DriverModel(outcome, band_cols, **common).fit(frame)
    linear = DriverModel(outcome, drv, **common).fit(frame)
    encompassing = DriverModel(outcome, [*drv, *band_cols], **common).fit(frame)

    # --- penalty, reward, asymmetry test ------------------------------------------------
    params = banded.params
    V = banded.cov_params
    tab = banded.table
    z = stats.norm.ppf(0.5 + ci / 2)
    rows = []
    for d in drv:
        c_lo, c_hi = band_columns(d)
        pi, rho = float(params[c_lo]), float(params[c_hi])
        var = float(V.loc[c_lo, c_lo] + V.loc[c_hi, c_hi] + 2 * V.loc[c_lo, c_hi])
        se = float(np.sqrt(max(var, 0.0)))
        asym = pi + rho
        p = float(2 * stats.norm.sf(abs(asym) / se)) if se > 0 else float("nan")
        rows.append({
            "penalty": pi, "penalty_low": float(tab.loc[c_lo, "ci_low"]),
            "penalty_high": float(tab.loc[c_lo, "ci_high"]),
            "reward": rho, "reward_low": float(tab.loc[c_hi, "ci_low"]),
            "reward_high": float(tab.loc[c_hi, "ci_high"]),
            "asymmetry": asym, "asymmetry_low": asym - z * se, "asymmetry_high": asym + z * se,
            "p_value": p, "kano_class": _classify(pi, rho, p, alpha),
            "low_n": sizes[d][0], "middle_n": sizes[d][1], "high_n": sizes[d][2],
        })
    table = pd.DataFrame(rows, index=pd.Index(drv, name="driver"))
    wrong = [d for d, r in table.iterrows()
             if (r["penalty_low"] > 0) or (r["reward_high"] < 0)]
    if wrong:
        notes.append(f"Unexpected signs for {wrong}: a low rating helps or a high rating hurts "
                     "(significantly). Check the coding of these items before reading the "
                     "class.")

    # --- model comparison --------------------------------------------------------------
    def facts(m: Any) -> dict[str, float]:
        k = m.n_params + (1 if m.kind == "linear" else 0)
        return {"loglike": m.loglike, "n_params": k, "aic": m.aic, "bic": m.bic}

    comp = pd.DataFrame([facts(linear), facts(banded), facts(encompassing)],
                        index=pd.Index(["linear", "banded", "encompassing"], name="model"))
    ll_enc = encompassing.loglike
    lr, dfs, ps = [], [], []
    for name in ("linear", "banded"):
        stat = max(2.0 * (ll_enc - comp.loc[name, "loglike"]), 0.0)
        df_ = int(comp.loc["encompassing", "n_params"] - comp.loc[name, "n_params"])
        lr.append(stat)
        dfs.append(float(df_))
        ps.append(float(stats.chi2.sf(stat, df_)) if df_ > 0 else float("nan"))
    comp["lr_stat"] = [*lr, np.nan]
    comp["lr_df"] = [*dfs, np.nan]
    comp["p_value"] = [*ps, np.nan]
    preferred = str(comp["aic"].idxmin())
    notes.append("The encompassing model holds both the ratings and the band dummies; "
                 "LR tests of the linear and the banded model are against it (they are not "
                 "nested in each other).")
    notes.append(f"Kano class from the Wald test of penalty + reward = 0 at p < {alpha:g}: "
                 "basic when |penalty| > reward, excitement when reward > |penalty|.")
    scale = {"linear": "outcome units", "logit": "log-odds", "probit": "probit index",
             "ordinal": "cumulative log-odds"}[kind]
    meta = {
        "outcome": outcome, "kind": kind, "n": banded.n,
        "bands": (", ".join(f"{d}: ≤{a:g} / >{b:g}" for d, (a, b) in band.items())
                  if len(set(band.values())) > 1 else
                  f"low ≤ {next(iter(band.values()))[0]:g} < middle ≤ "
                  f"{next(iter(band.values()))[1]:g} < high"),
        "scale": scale,
        "AIC linear": comp.loc["linear", "aic"], "AIC banded": comp.loc["banded", "aic"],
        "preferred (AIC)": preferred,
        "ci": ci,
    }
    if comp.loc["linear", "p_value"] < alpha:
        notes.append("The linear model is rejected against the encompassing one "
                     f"(LR p = {comp.loc['linear', 'p_value']:.3g}): effects are asymmetric.")
    scales = {d: linear.scales[d] for d in drv}
    model = BandedModel(banded, drv, band, scales)
    res = PenaltyRewardResult(table, comparison=comp, model=model, linear_model=linear,
                              bands=band, meta=meta, notes=notes)
    res._data = data
    return res
