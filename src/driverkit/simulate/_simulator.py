"""``dk.Simulator``: respondent-level what-if simulation in customers, revenue, profit and ROI."""

from __future__ import annotations

import hashlib
import itertools
import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._validation import (
    check_columns,
    check_kwargs,
    check_option,
    check_random_state,
    suggest,
    warn,
)
from ..exceptions import (
    DataError,
    DriverkitError,
    DriverkitTypeError,
    ExtrapolationWarning,
    MissingDataWarning,
    SuppressorWarning,
)
from ..stats._subsets import single_threaded_blas
from ._checks import (
    _model_sign_flips,
    _outcome_name,
    _outcome_type,
    _suppressor_message,
    check_model_data,
)
from ._engine import Branch, Kernel, Plan
from ._money import (
    BusinessInput,
    Calibration,
    business_input,
    clv,
    fit_logistic_calibration,
    make_calibration,
)
from ._operators import Move, Operator, ToLevel
from ._result import PriorityResult, SensitivityResult, SimulationResult, priority_quadrants
from ._scenario import Scenario, as_scenarios
from ._summaries import SummaryMixin, _Sim
from ._uncertainty import (
    UNCERTAINTY,
    bootstrap_params,
    delta_jacobian,
    delta_params,
)

__all__ = ["Simulator"]

OBJECTIVES = {"profit": "delta_profit", "revenue": "delta_revenue", "rate": "delta_rate",
              "customers": "delta_customers", "mean": "delta_rate"}

MAX_RANDOM_OPERATORS = 10
DELTA_BUSINESS_DRAWS = 2000


class Simulator(SummaryMixin):
    """What-if simulation of driver changes, respondent by respondent.

    Parameters
    ----------
    model : DriverModel
        A fitted model (``dk.fit``) or ``dk.fixed_model``; any object with the prediction
        kernel (``design``, ``predict_design``, ``draw_params``, ``params``, ``drivers``,
        ``scales``) works, e.g. a chain model.
    data : pandas.DataFrame
        The respondents whose ratings a scenario moves (never modified).
    customers : float or distribution, optional
        Number of customers N the respondents represent; default: the weighted number of
        respondents Σw.
    revenue_per_customer : float or distribution, optional
        Revenue per customer R̄: Δrevenue = N·R̄·Δrate.
    revenue : str, optional
        Column of revenue per respondent instead: Δrevenue = N·Σ w_i R_i Δp_i / Σ w_i.
    margin : float or distribution, default=1.0
        Profit margin as a fraction of revenue (0–1): Δprofit = margin·Δrevenue − cost.
    weights : str or array-like, optional
        Survey weights; default: the model's weight column when it is in ``data``.
    target : str, list or callable, optional
        What the simulated "rate" is. Binary models: P(outcome = 1); linear: the mean
        prediction. Ordinal models: ``"top"`` (default, P(top category)), ``"topk"`` (e.g.
        ``"top2"``), ``"bottom"``, ``"expected"`` (expected score, numeric levels), a list of
        levels (P(outcome in them)), or a callable mapping the category probabilities
        (…, n, K) to one value per respondent (e.g. NPS: P(9–10) − P(0–6)). For other kinds a
        callable maps the model's predictions to one value per respondent.
    calibration : float, str or callable, optional
        Map stated intention to observed behaviour, per respondent: a factor c (p ↦ min(cp, 1)),
        the name of a 0/1 column of observed behaviour (CRM) on which a logistic
        recalibration p ↦ expit(a + b·logit p) is fitted (rows with missing values ignored),
        or a callable.
    discount_rate : float, optional
        Per-period discount rate i; adds ``delta_clv`` and ``delta_equity`` (customer equity
        N·ΔCLV with retention = the repurchase rate, margin per period = margin·R̄).
    horizon : int, optional
        Periods of the CLV (default infinite).
    missing : {"listwise", "raise"}, default="listwise"
        Respondents with missing driver ratings (or weights): dropped with a
        :class:`~driverkit.MissingDataWarning` (``"listwise"``, as in :func:`~driverkit.fit`;
        ``"drop"`` is an alias), or an error. A revenue column with missing values is always
        an error: revenue is not imputed or silently dropped.
    extrapolation_threshold : float, default=0.05
        Warn (:class:`~driverkit.ExtrapolationWarning`) when more than this share of the
        respondents in scope is moved outside the observed range of a driver.
    link : str, optional
        For a score outcome (a linear model of e.g. satisfaction 1–10): the name of a 0/1
        column of observed behaviour (repurchase). A logistic regression of it on the
        predicted score, P = expit(a + b·score), turns the score into a rate, so the results
        carry ``delta_rate``, customers and money. Without it a score simulation reports
        ``baseline_mean, scenario_mean, delta_mean`` (scale points) and no customers or money.
    better : {"higher", "lower"}, optional
        Which direction of the outcome is good. ``"lower"`` for churn or complaints: money
        columns count the revenue kept by fewer events (Δrevenue = −N·R̄·Δrate) and the
        optimisers maximise the reduction. Default: the model's ``better`` (``"higher"``).
    rescale : dict, optional
        ``{driver: (low, high)}``: the scale of a driver in ``data`` when it differs from the
        model's (e.g. ``{"staff": (0, 100)}`` for a 1–10 model); ratings are mapped linearly
        onto the model's scale. Without it, data on another scale is an error.

    Attributes
    ----------
    drivers : list of str
        Numeric drivers a scenario may move.
    scales : dict
        ``{driver: (low, high)}`` used for clipping.
    n, customers, has_money

    Notes
    -----
    Every respondent is re-predicted and the predictions are averaged with the survey
    weights: Δrate = Σ w_i [F(η'_i) − F(η_i)] / Σ w_i — never F(η̄') − F(η̄), which ignores
    the non-linearity and the scale ceiling (Hanmer & Kalkan 2013). Ratings are clipped to
    the declared scale. Money: Δcustomers = N·Δrate; Δrevenue = N·R̄·Δrate (or the revenue
    column version); Δprofit = margin·Δrevenue − cost; ROI = Δprofit/cost for cost > 0.
    Intervals: see :meth:`run`.

    Examples
    --------
    >>> import pandas as pd, driverkit as dk
    >>> m = dk.fixed_model("logit", intercept=-4.0, coef={"x1": 0.6, "x2": 0.3},
    ...                    scales={"x1": (1, 10), "x2": (1, 10)})
    >>> df = pd.DataFrame({"x1": [3, 6, 8, 10], "x2": [5, 7, 8, 4]})
    >>> sim = dk.Simulator(m, df, customers=100_000, revenue_per_customer=500, margin=0.3)
    >>> res = sim.run(dk.Scenario("x1 +2", {"x1": dk.shift(2)}))
    >>> float(round(res.table.loc["x1 +2", "delta_rate"], 6))
    0.104999
    """

    def __init__(self, model: Any, data: pd.DataFrame, *, customers: Any = None,
                 revenue_per_customer: Any = None, revenue: str | None = None,
                 margin: Any = 1.0, weights: Any = None, target: Any = None,
                 calibration: Any = None, discount_rate: float | None = None,
                 horizon: int | None = None, missing: str = "listwise",
                 extrapolation_threshold: float = 0.05, link: str | None = None,
                 better: str | None = None, rescale: Mapping[str, Any] | None = None,
                 na_values: Any = None, imputations: int = 20, seed: Any = None,
                 **kwargs: Any) -> None:
        check_kwargs(kwargs, "Simulator")
        if missing != "drop":
            from .._validation import check_missing

            check_missing(missing, "Simulator")
        self._imputed: list[Simulator] = []
        if getattr(model, "is_pls", False):  # latent constructs: see _pls.py
            from ._pls import pls_adapter

            check_columns(data, [])
            if link is None and (revenue is not None or revenue_per_customer is not None):
                raise DriverkitError("Money from a PLS model needs link= (a 0/1 behaviour "
                                     "column) to turn the index into a rate.")
            model, data = pls_adapter(model, data, target=target, link=link, weights=weights)
            target = None
            link = None  # the adapter's model already predicts the linked behaviour
        for attr in ("design", "predict_design", "draw_params", "params", "drivers"):
            if not hasattr(model, attr):
                raise DriverkitTypeError(
                    f"Simulator() needs a driver model (dk.fit(...) or dk.fixed_model(...)); "
                    f"got {type(model).__name__}, which has no '{attr}'."
                )
        if getattr(model, "is_fitted", True) is False:
            raise DriverkitError("The model is not fitted yet; call .fit(data) first.")
        check_columns(data, [])
        if data.attrs:  # pandas deep-copies attrs on every column access (the demo's truth);
            data = data.copy(deep=False)  # the simulator needs none: a shallow copy without
            data.attrs = {}
        better = better if better is not None else getattr(model, "better", None) or "higher"
        check_option(better, "better", ["higher", "lower"], "Simulator")
        self.better = str(better)
        data = check_model_data(model, data, rescale)
        if callable(getattr(model, "bind", None)):
            # a model with per-respondent state (the chain's mediator baseline) is re-bound to
            # these respondents: another survey must never use the fitted survey's values
            model = model.bind(data)
        self.model = model
        self._notes: list[str] = []
        self.extrapolation_threshold = float(extrapolation_threshold)

        if weights is None:
            mw = getattr(model, "weights", None)
            if isinstance(mw, str) and mw in data.columns:
                weights = mw
                self._notes.append(f"Survey weights '{mw}' taken from the model.")
        if na_values is not None or missing in ("impute", "mean", "dummy", "pairwise"):
            data = self._apply_policy(data, weights, na_values, missing, imputations, seed,
                                      dict(customers=customers,
                                           revenue_per_customer=revenue_per_customer,
                                           revenue=revenue, margin=margin, target=target,
                                           calibration=calibration,
                                           discount_rate=discount_rate, horizon=horizon,
                                           extrapolation_threshold=extrapolation_threshold,
                                           link=link, better=better))
        data = self._complete_rows(data, weights, revenue, missing)
        self.data = data
        self.n = len(data)
        if self.n == 0:
            raise DataError("Simulator() got no respondents (empty data).")
        self._w = self._weights(data, getattr(self, "_weights_arg", weights))
        self._X = np.asarray(model.design(data), dtype=float)

        self._setup_drivers(data)
        self._setup_money(data, customers, revenue_per_customer, revenue, margin)
        cal = calibration if isinstance(calibration, str) else make_calibration(calibration)
        self.kernel = Kernel(model, self._X, target=target, calibration=None)
        self.outcome_type = _outcome_type(model, target)
        if link is not None:
            if cal is not None:
                raise DriverkitError("Give link= (score -> behaviour) or calibration= "
                                     "(probability -> behaviour), not both.")
            if self.outcome_type != "score":
                raise DriverkitError(
                    f"link= ties a score outcome to behaviour, but this {self.kernel.kind} "
                    "model already predicts a rate; use calibration='<0/1 column>' to map its "
                    "probabilities to observed behaviour.")
            cal = self._fit_link(data, link)
            self.outcome_type = "rate"
        elif self.outcome_type == "score":
            given = [n for n, v in (("revenue_per_customer", revenue_per_customer),
                                    ("revenue", revenue), ("customers", customers),
                                    ("discount_rate", discount_rate)) if v is not None]
            if given:
                raise DriverkitError(
                    f"The outcome '{_outcome_name(model)}' is a score (a linear model of an "
                    "outcome with more than two values), so a change is in scale points, not "
                    f"customers or money; {', '.join(given)} cannot be used. Give link='<0/1 "
                    "column of observed behaviour, e.g. repurchase>' to turn the score into a "
                    "rate, or fit a binary model of the behaviour.")
        if isinstance(cal, str):
            cal = self._fit_calibration(data, cal)
        if cal is not None:
            v = self.kernel.v0
            if cal.kind != "link" and np.any((v < 0) | (v > 1)):
                raise DriverkitError(
                    "calibration maps probabilities, but the simulated rate of this model is not "
                    "a probability (use a binary or ordinal model, or an ordinal target)."
                )
            self.kernel = Kernel(model, self._X, target=target, calibration=cal)
            if cal.kind == "link":
                self.kernel.target_label = (f"P({cal.column} = 1) linked to "
                                            f"{self.kernel.target_label}")
                self._notes.append(f"Score linked to observed behaviour: {cal.describe()}.")
            else:
                self._notes.append(f"Rates calibrated to observed behaviour: {cal.describe()}.")
        self.calibration = cal
        self._setup_clv(discount_rate, horizon)
        self.sign_flips = _model_sign_flips(model, self.drivers)
        self._moves: dict[Any, Move] = {}
        self._seg_cache: dict[Any, tuple[np.ndarray | None, Any]] = {}
        self._vif_cache: pd.Series | None = None
        self._Wm_all: np.ndarray | None = None

    # ----------------------------------------------------------------------------------
    # setup
    # ----------------------------------------------------------------------------------
    def _needed_columns(self, data: pd.DataFrame) -> list[str]:
        spec = getattr(self.model, "_spec", None)
        if spec is not None and hasattr(spec, "raw_variables"):
            return [c for c in spec.raw_variables if c in data.columns]
        cols = list(self.model.drivers) + list(getattr(self.model, "covariates", []) or [])
        return [c for c in cols if c in data.columns]

    def _complete_rows(self, data: pd.DataFrame, weights: Any, revenue: Any,
                       missing: str) -> pd.DataFrame:
        cols = self._needed_columns(data)
        # revenue gaps are dropped only on explicit request (missing="drop"): by default a
        # revenue column with missing values is an error rather than a smaller customer base
        roles = (weights, revenue) if missing == "drop" else (weights,)
        extra = [c for c in roles if isinstance(c, str) and c in data.columns]
        na = data[cols + extra].isna().any(axis=1)
        if not na.any() or missing == "raise":
            return data
        if weights is not None and not isinstance(weights, str):
            w = np.asarray(weights, dtype=float).ravel()
            if w.size == len(data):
                self._weights_arg = w[~na.to_numpy()]
        warn(f"Simulator(): {int(na.sum())} respondents with missing values in "
             f"{', '.join(c for c in cols + extra if data[c].isna().any())} dropped.",
             MissingDataWarning)
        self._notes.append(f"{int(na.sum())} respondents with missing values dropped.")
        return data.loc[~na.to_numpy()]

    def _apply_policy(self, data: pd.DataFrame, weights: Any, na_values: Any, missing: str,
                      imputations: int, seed: Any, kw: dict[str, Any]) -> pd.DataFrame:
        """na_values, then the missing-data policy (data layer): impute → one simulator
        per imputed copy (``run`` pools them); mean/dummy/pairwise → skipped ratings filled
        (a dummy-adjusted model keeps its fills and indicators)."""
        from ..data._missing import apply_na_values, check_imputations, fill_frame, impute_frames

        cols = self._needed_columns(data)
        data, counts = apply_na_values(data, na_values, cols, "Simulator")
        if counts:
            self._notes.append("Codes treated as missing (na_values): " + "; ".join(
                f"'{c}': " + ", ".join(f"{k!r} ×{v}" for k, v in per.items())
                for c, per in counts.items()) + ".")
        if not data[cols].isna().to_numpy().any() or missing in ("listwise", "raise", "drop"):
            return data
        spec = getattr(self.model, "_spec", None)
        if missing == "impute":
            m = check_imputations(imputations, "Simulator")
            outcome = getattr(self.model, "outcome", None)
            outcome = outcome.split("~")[0].strip() if isinstance(outcome, str) else None
            preds = [outcome] if outcome in data.columns else []
            frames = impute_frames(data, cols, m=m, seed=seed, predictors=preds)
            self._imputed = [Simulator(self.model, f, weights=weights, missing="raise", **kw)
                             for f in frames]
            self._notes.append(f"Skipped ratings multiply imputed ({m} copies); scenarios run "
                               "on every copy and are pooled.")
            return frames[0]
        w = None
        if isinstance(weights, str) and weights in data.columns:
            w = pd.to_numeric(data[weights], errors="coerce").fillna(0).to_numpy(dtype=float)
        out = fill_frame(data, cols, spec, w)
        self._notes.append(f"Skipped ratings filled for simulation (missing='{missing}': "
                           + ("the model's fills and 'not answered' indicators)."
                              if spec is not None and getattr(spec, "indicators", None)
                              else "weighted means)."))
        return out

    def _weights(self, data: pd.DataFrame, weights: Any) -> np.ndarray:
        if weights is None:
            return np.ones(len(data))
        if isinstance(weights, str):
            check_columns(data, [weights], role="weights column")
            w = pd.to_numeric(data[weights], errors="coerce").to_numpy(dtype=float)
            name = f"weights column '{weights}'"
        else:
            w = np.asarray(weights, dtype=float).ravel()
            name = "weights"
            if w.size != len(data):
                raise DataError(f"weights has {w.size} values for {len(data)} respondents.")
        if not np.isfinite(w).all() or np.any(w < 0) or w.sum() <= 0:
            raise DataError(f"The {name} must be finite, non-negative and not all zero.")
        return w

    def _setup_drivers(self, data: pd.DataFrame) -> None:
        model = self.model
        spec = getattr(model, "_spec", None)
        factors = dict(getattr(spec, "factors", {}) or {})
        columns = list(getattr(model, "columns", []) or [])
        terms = dict(getattr(model, "terms", {}) or {})
        model_scales = dict(getattr(model, "scales", {}) or {})
        self._all_drivers = [str(d) for d in model.drivers]
        self._factor_drivers = [d for d in self._all_drivers if d in factors]
        self._col: dict[str, int] = {}
        self._x: dict[str, np.ndarray] = {}
        self._scales: dict[str, tuple[float, float]] = {}
        self._observed: dict[str, tuple[float, float]] = {}
        self._simple: dict[str, bool] = {}
        observed_scale = []
        formula = spec is None or getattr(spec, "formula_spec", None) is not None
        for d in self._all_drivers:
            if d in factors or d not in data.columns:
                continue
            idx = terms.get(d, [columns.index(d)] if d in columns else [])
            if len(idx) != 1:
                continue
            x = pd.to_numeric(data[d], errors="coerce").to_numpy(dtype=float)
            if not np.isfinite(x).all():
                raise DataError(f"Driver '{d}' has missing or non-numeric values; drop or "
                                "impute them (or pass missing='listwise').")
            self._col[d] = int(idx[0])
            self._x[d] = x
            self._observed[d] = (float(x.min()), float(x.max()))
            if d in model_scales:
                lo, hi = model_scales[d]
                self._scales[d] = (float(lo), float(hi))
            else:
                self._scales[d] = self._observed[d]
                observed_scale.append(d)
            self._simple[d] = not formula or self._is_simple(data, d)
        if observed_scale:
            self._notes.append(
                "No declared scale for " + ", ".join(observed_scale) + "; scenarios are clipped "
                "to the observed min/max (declare scales={...} in the model).")
        self.drivers = list(self._col)
        self.scales = {d: self._scales[d] for d in self.drivers}
        groups = getattr(model, "driver_groups", None) or {}
        self.constructs = {g: [d for d in its if d in self._col] for g, its in groups.items()}

    def _is_simple(self, data: pd.DataFrame, d: str) -> bool:
        """True when moving driver d by +1 changes only its own design column, by +1."""
        m = min(len(data), 64)
        sub = data.iloc[:m].copy()
        sub[d] = self._x[d][:m] + 1.0
        try:
            X1 = np.asarray(self.model.design(sub), dtype=float)
        except Exception:
            return False
        diff = X1 - self._X[:m]
        j = self._col[d]
        expect = np.zeros_like(diff)
        expect[:, j] = 1.0
        return bool(np.allclose(diff, expect, rtol=0, atol=1e-9))

    def _setup_money(self, data: pd.DataFrame, customers: Any, rpc: Any, revenue: Any,
                     margin: Any) -> None:
        W = float(self._w.sum())
        if customers is None:
            self.customers = BusinessInput("customers", W, None, f"{W:g} (Σ weights)")
        else:
            self.customers = business_input(customers, "customers", "Simulator()")
        if revenue is not None and rpc is not None:
            raise DriverkitError(
                "Give either revenue_per_customer= (a number) or revenue= (a column of revenue "
                "per respondent), not both."
            )
        self._rev_col: str | None = None
        self._R = np.ones(self.n)
        self.revenue_per_customer: BusinessInput | None = None
        if revenue is not None:
            if not isinstance(revenue, str):
                raise DriverkitTypeError(
                    "revenue= names a column of revenue per respondent; for one number use "
                    "revenue_per_customer=."
                )
            check_columns(data, [revenue], role="revenue column")
            R = pd.to_numeric(data[revenue], errors="coerce").to_numpy(dtype=float)
            bad = ~np.isfinite(R)
            if bad.any():
                raise DataError(
                    f"The revenue column '{revenue}' has {int(bad.sum())} missing or non-numeric "
                    "values; fill them (e.g. 0 for no revenue) or drop those respondents."
                )
            if np.any(R < 0):
                raise DataError(f"The revenue column '{revenue}' has negative values.")
            self._rev_col = revenue
            self._R = R
            rbar = float(np.dot(self._w, R) / W)
            self.revenue_per_customer = BusinessInput("revenue", rbar, None,
                                                      f"column '{revenue}' (mean {rbar:g})")
        elif rpc is not None:
            self.revenue_per_customer = business_input(rpc, "revenue_per_customer",
                                                       "Simulator()")
        self.margin = business_input(margin, "margin", "Simulator()", upper=1.0)
        self.has_money = self.revenue_per_customer is not None
        self._W2 = np.column_stack([self._w, self._w * self._R])

    def _fit_calibration(self, data: pd.DataFrame, column: str) -> Calibration:
        check_columns(data, [column], role="calibration column")
        y = pd.to_numeric(data[column], errors="coerce").to_numpy(dtype=float)
        ok = np.isfinite(y)
        if ok.sum() < 10 or not np.isin(y[ok], [0.0, 1.0]).all():
            raise DataError(
                f"The calibration column '{column}' must hold observed 0/1 behaviour for at "
                "least 10 respondents (missing values are ignored)."
            )
        p = self.kernel.v0
        if np.any((p <= 0) | (p >= 1)):
            raise DriverkitError("A logistic calibration needs predicted probabilities in (0, 1).")
        a, b = fit_logistic_calibration(p[ok], y[ok], self._w[ok])
        return Calibration("logistic", a=a, b=b, n=int(ok.sum()))

    def _fit_link(self, data: pd.DataFrame, column: Any) -> Calibration:
        if not isinstance(column, str):
            raise DriverkitTypeError(
                f"link= names a 0/1 column of observed behaviour; got {type(column).__name__}.")
        check_columns(data, [column], role="link column")
        s = data[column]
        y = (s.astype(float) if s.dtype == bool else pd.to_numeric(s, errors="coerce")
             ).to_numpy(dtype=float)
        ok = np.isfinite(y)
        if ok.sum() < 10 or not np.isin(y[ok], [0.0, 1.0]).all() or np.ptp(y[ok]) == 0:
            raise DataError(
                f"The link column '{column}' must hold observed 0/1 behaviour (both values) for "
                "at least 10 respondents (missing values are ignored).")
        a, b = fit_logistic_calibration(self.kernel.v0[ok], y[ok], self._w[ok], on_score=True)
        cal = Calibration("link", a=a, b=b, n=int(ok.sum()))
        cal.column = column
        return cal

    def _setup_clv(self, discount_rate: Any, horizon: Any) -> None:
        self.discount_rate = None
        self.horizon = horizon
        if discount_rate is None:
            if horizon is not None:
                raise DriverkitError("horizon= needs discount_rate= (the CLV view).")
            return
        if isinstance(discount_rate, bool) or not isinstance(discount_rate, numbers.Real) or \
                not math.isfinite(discount_rate) or discount_rate <= -1:
            raise DriverkitError(f"discount_rate must be a number > -1; got {discount_rate!r}.")
        if not self.has_money:
            raise DriverkitError("The CLV view (discount_rate=) needs revenue_per_customer= or "
                                 "revenue=.")
        v = self.kernel.v0
        if np.any((v < 0) | (v > 1)):
            raise DriverkitError("The CLV view needs a repurchase probability as the rate.")
        self.discount_rate = float(discount_rate)

    # ----------------------------------------------------------------------------------
    # scenarios -> plans
    # ----------------------------------------------------------------------------------
    def _check_driver(self, d: str) -> None:
        if d in self._col:
            return
        if d in self.constructs:
            raise DriverkitError(f"Construct '{d}' cannot be moved here; move its items "
                                 f"({', '.join(self.constructs[d])}) or use a scenario.")
        if d in self._factor_drivers:
            raise DriverkitError(
                f"Driver '{d}' is categorical; scenarios move numeric ratings only."
            )
        known = self.drivers
        if d in self._all_drivers:
            raise DriverkitError(f"Driver '{d}' cannot be moved (not a single numeric column of "
                                 "the data).")
        raise DriverkitError(
            f"Unknown driver '{d}' in the scenario.{suggest(d, known)} Drivers of the model: "
            f"{', '.join(known)}."
        )

    def _segment(self, seg: Any) -> tuple[np.ndarray | None, Any]:
        if seg is None:
            return None, None
        if isinstance(seg, str):
            key: Any = ("col", seg)
        elif isinstance(seg, Mapping):
            key = ("sel", tuple(sorted((str(k), repr(v)) for k, v in seg.items())))
        else:
            arr = np.asarray(seg)
            key = ("mask", hashlib.sha1(np.ascontiguousarray(arr).tobytes()).hexdigest(),
                   arr.shape)
        if key in self._seg_cache:
            return self._seg_cache[key]
        data = self.data
        if isinstance(seg, str):
            check_columns(data, [seg], role="segment column")
            s = data[seg]
            if s.dtype == bool:
                mask = s.to_numpy(dtype=bool)
            else:
                v = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
                if not np.isin(v, [0.0, 1.0]).all():
                    raise DataError(
                        f"The segment column '{seg}' must be boolean (or 0/1); for a category "
                        f"use segment={{'{seg}': value}}."
                    )
                mask = v == 1.0
        elif isinstance(seg, Mapping):
            check_columns(data, list(seg), role="segment column")
            mask = np.ones(self.n, dtype=bool)
            for col, val in seg.items():
                vals = list(val) if isinstance(val, list | tuple | set) else [val]
                mask &= data[col].isin(vals).to_numpy()
        else:
            mask = np.asarray(seg)
            if mask.shape != (self.n,) or mask.dtype != bool:
                raise DriverkitTypeError(
                    f"A segment mask must be a boolean array with one value per respondent "
                    f"({self.n}); got shape {mask.shape} and dtype {mask.dtype}."
                )
        if not mask.any():
            raise DataError(f"The segment {seg!r} selects no respondents.")
        out = (mask, key)
        self._seg_cache[key] = out
        return out

    def _move(self, d: str, op: Operator, mask: np.ndarray | None, key: Any) -> Move:
        ck = (d, op, key)
        mv = self._moves.get(ck)
        if mv is not None:
            return mv
        x = self._x[d]
        scale = self._scales[d]
        if mask is None:
            mv = op.apply(x, self._w, scale, d)
        else:
            sub = op.apply(x[mask], self._w[mask], scale, d)
            new = x.copy()
            new[mask] = sub.new
            clipped = np.zeros(self.n, dtype=bool)
            clipped[mask] = sub.clipped
            prob = None
            if sub.prob is not None:
                prob = np.zeros(self.n)
                prob[mask] = sub.prob
            mv = Move(new=new, prob=prob, clipped=clipped)
        if len(self._moves) > 512:
            self._moves.clear()
        self._moves[ck] = mv
        return mv

    def _factor_move(self, d: str, op: Any, mask: np.ndarray | None
                     ) -> tuple[np.ndarray, dict[int, np.ndarray]]:
        """A categorical driver moved to one level: (probability of moving per respondent,
        design-column changes of those who move)."""
        spec = getattr(self.model, "_spec", None)
        factors = dict(getattr(spec, "factors", {}) or {})
        if not isinstance(op, ToLevel):
            raise DriverkitError(
                f"Driver '{d}' is categorical; move it with dk.set_to(level) or "
                f"dk.share_to(level, share) (levels: {', '.join(map(repr, factors.get(d, [])))})."
            )
        if d not in factors:
            raise DriverkitError(
                f"dk.{op!r} moves a categorical driver, but '{d}' is "
                + ("a numeric rating; use dk.set_to(number)." if d in self._col
                   else "not a driver of the model.") + suggest(d, self._all_drivers))
        levels = list(factors[d])
        target = op.resolve(levels, d)
        current = self.data[d].astype(object).to_numpy()
        prob = op.probabilities(current, levels, d)
        if mask is not None:
            prob = np.where(mask, prob, 0.0)
        idx = list(self.model.terms[d])
        shared = list((getattr(spec, "dropped", {}) or {}).get(d, []))
        if target in shared:
            raise DriverkitError(
                f"dk.{op!r}: the level {target!r} of '{d}' picks the same respondents as a level "
                "of another driver (a question asked only of some customers), so it cannot be "
                "moved on its own; move the other driver instead.")
        kept = [lv for lv in levels[1:] if lv not in shared]
        if len(idx) != len(kept):
            raise DriverkitError(f"Driver '{d}' cannot be moved: its design columns do not "
                                 "match its levels one to one.")
        cd: dict[int, np.ndarray] = {}
        for j, lv in zip(idx, kept, strict=True):
            now = self._X[:, j]
            cd[j] = (1.0 if lv == target else 0.0) - now
        return prob, cd

    def _design_delta(self, dxs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        cols: dict[int, np.ndarray] = {}
        complex_ = {d: dx for d, dx in dxs.items() if not self._simple[d]}
        for d, dx in dxs.items():
            if self._simple[d] and np.any(dx):
                j = self._col[d]
                cols[j] = cols[j] + dx if j in cols else dx
        if complex_:
            mod = self.data.copy()
            for d, dx in complex_.items():
                mod[d] = self._x[d] + dx
            dX = np.asarray(self.model.design(mod), dtype=float) - self._X
            for jj in np.flatnonzero(np.any(dX != 0, axis=0)):
                k = int(jj)
                cols[k] = cols[k] + dX[:, k] if k in cols else dX[:, k]
        if not cols:
            return np.empty(0, dtype=int), np.empty((0, self.n))
        keys = sorted(cols)
        return np.array(keys, dtype=int), np.vstack([cols[j] for j in keys])

    def _compile(self, scenario: Scenario) -> Plan:
        scenario = self._expand(scenario)
        mask, key = self._segment(scenario.segment)
        det: dict[str, np.ndarray] = {}
        rnd: list[tuple[str, np.ndarray, np.ndarray]] = []
        moves: dict[str, Move] = {}
        fac_det: dict[int, np.ndarray] = {}
        fac_rnd: list[tuple[np.ndarray, dict[int, np.ndarray]]] = []
        for d, op in scenario.operators.items():
            if d in self._factor_drivers or isinstance(op, ToLevel):
                prob, cd = self._factor_move(d, op, mask)
                if np.all((prob == 0) | (prob == 1)):
                    for j, v in cd.items():
                        fac_det[j] = fac_det.get(j, 0.0) + v * prob
                else:
                    fac_rnd.append((prob, cd))
                continue
            self._check_driver(d)
            op.check(d, self._scales[d])
            mv = self._move(d, op, mask, key)
            moves[d] = mv
            dx = mv.new - self._x[d]
            if mv.prob is None:
                det[d] = dx
            else:
                rnd.append((d, mv.prob, dx))
        if len(rnd) + len(fac_rnd) > MAX_RANDOM_OPERATORS:
            raise DriverkitError(
                f"Scenario '{scenario.name}' has {len(rnd)} top_box changes; at most "
                f"{MAX_RANDOM_OPERATORS} can be averaged exactly (2^k combinations)."
            )
        branches = []
        for combo in itertools.product((False, True), repeat=len(rnd) + len(fac_rnd)):
            prob: np.ndarray | None = None
            dxs = dict(det)
            for (d, p, dx), on in zip(rnd, combo[: len(rnd)], strict=True):
                f = p if on else 1.0 - p
                prob = f if prob is None else prob * f
                if on:
                    dxs[d] = dx
            extra = dict(fac_det)
            for (p, cd), on in zip(fac_rnd, combo[len(rnd):], strict=True):
                f = p if on else 1.0 - p
                prob = f if prob is None else prob * f
                if on:
                    for j, v in cd.items():
                        extra[j] = extra.get(j, 0.0) + v
            if prob is not None and not np.any(prob):
                continue
            cols, dX = self._design_delta(dxs)
            if extra:
                cols, dX = _add_columns(cols, dX, extra, self.n)
            branches.append(Branch(prob, cols, dX))
        if mask is None:  # one (read-only) weight matrix shared by all plans without segment
            if self._Wm_all is None:
                self._Wm_all = np.column_stack([self._W2, self._w])
                self._Wm_all.setflags(write=False)
                self._Wm_sum = self._Wm_all.sum(axis=0)
            return Plan(scenario.name, branches, self._Wm_all, mask, moves, Wsum=self._Wm_sum)
        Wm = np.column_stack([self._W2, self._w * mask])
        return Plan(scenario.name, branches, Wm, mask, moves)

    def _expand(self, scenario: Scenario) -> Scenario:
        """Construct-level changes (PLS models) applied to each of the construct's items."""
        if not self.constructs:
            return scenario
        from ._pls import expand_groups

        return expand_groups(scenario, self.constructs)

    # ----------------------------------------------------------------------------------
    # numbers
    # ----------------------------------------------------------------------------------
    @staticmethod
    def _quantities(base: np.ndarray, delta: np.ndarray, W: np.ndarray) -> dict[str, Any]:
        """Rates from weighted sums (last axis: w, w·R, w·segment)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return {
                "baseline_rate": base[..., 0] / W[..., 0],
                "scenario_rate": (base[..., 0] + delta[..., 0]) / W[..., 0],
                "delta_rate": delta[..., 0] / W[..., 0],
                "unit_revenue": delta[..., 1] / W[..., 0],
                "segment_baseline_rate": base[..., 2] / W[..., 2],
                "segment_delta_rate": delta[..., 2] / W[..., 2],
            }

    def _money(self, q: Mapping[str, Any], N: Any, R: Any, m: Any, cost: Any,
               ) -> dict[str, Any]:
        """Output columns from rate quantities and business inputs (scalars or arrays)."""
        out: dict[str, Any] = {"delta_rate": q["delta_rate"],
                               "delta_customers": N * q["delta_rate"]}
        if self.has_money:
            unit = q["unit_revenue"] if self._rev_col is not None else R * q["delta_rate"]
            # less is better (churn): fewer events keep revenue, so the gain is −N·R·Δrate
            rev = N * unit if self.better == "higher" else -(N * unit)
            profit = m * rev - cost
            out["delta_revenue"] = rev
            out["delta_profit"] = profit
            cost_a = np.asarray(cost, dtype=float)
            with np.errstate(invalid="ignore", divide="ignore"):
                roi = np.where(cost_a > 0, profit / np.where(cost_a > 0, cost_a, 1.0), np.nan)
            out["roi"] = float(roi) if np.ndim(roi) == 0 else roi
            if self.discount_rate is not None:
                mp = m * R
                r0 = np.clip(q["baseline_rate"], 0.0, 1.0)
                r1 = np.clip(q["scenario_rate"], 0.0, 1.0)
                if self.better == "lower":  # the rate is the event (churn): retention 1 − p
                    r0, r1 = 1.0 - r0, 1.0 - r1
                dclv = (clv(mp, r1, self.discount_rate, self.horizon)
                        - clv(mp, r0, self.discount_rate, self.horizon))
                out["delta_clv"] = dclv
                out["delta_equity"] = N * dclv
        if q.get("has_segment", False):
            out["segment_delta_rate"] = q["segment_delta_rate"]
        return out

    def _point_args(self, scenario: Scenario) -> tuple[float, float, float, float]:
        R = self.revenue_per_customer.point if self.has_money else 0.0  # type: ignore[union-attr]
        return self.customers.point, R, self.margin.point, scenario.cost

    def _point_full(self, plan: Plan, scenario: Scenario,
                    ) -> tuple[dict[str, float], dict[str, Any]]:
        """The point row (output columns) and the rate quantities behind it, at θ̂."""
        base, delta = self.kernel.point(plan)
        q = self._quantities(base, delta, plan.W_total)
        q["has_segment"] = plan.mask is not None
        cols = self._money(q, *self._point_args(scenario))
        out = {k: float(v) for k, v in cols.items()}
        out["baseline_rate"] = float(q["baseline_rate"])
        out["scenario_rate"] = float(q["scenario_rate"])
        if plan.mask is not None:
            out["segment_baseline_rate"] = float(q["segment_baseline_rate"])
        return out, q

    def _point(self, plan: Plan, scenario: Scenario) -> dict[str, float]:
        return self._point_full(plan, scenario)[0]

    def _business_draws(self, S: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        out = {"N": self.customers.draw(S, rng), "m": self.margin.draw(S, rng)}
        out["R"] = (self.revenue_per_customer.draw(S, rng) if self.has_money  # type: ignore[union-attr]
                    else np.zeros(S))
        return out

    def _business_random(self, scenarios: Sequence[Scenario]) -> bool:
        inputs = [self.customers, self.margin, self.revenue_per_customer]
        return any(i is not None and i.is_random for i in inputs) or any(
            s.cost_input.is_random for s in scenarios)

    def _model_uncertain(self) -> bool:
        cov = getattr(self.model, "cov_params", None)
        if cov is None:
            return False
        return bool(np.any(np.asarray(cov, dtype=float) != 0))

    def _simulate(self, scenarios: list[Scenario], plans: list[Plan], *, draws: int,
                  seed: Any, uncertainty: str, progress: bool | None = False,
                  desc: str = "simulate") -> tuple[list[_Sim], dict[str, Any]]:
        """Point estimates and draws for each scenario (common random numbers)."""
        from .._progress import progress_bar

        # automatic bar: only for calls of more than about a billion respondent-draws
        work = self.n * max(draws, 1) * max(sum(not p.is_zero for p in plans), 1)
        with progress_bar(draws if uncertainty != "delta" else None, show=progress,
                          desc=desc, unit="draw", long_run=work >= 1e9) as bar:
            return self._simulate_draws(scenarios, plans, draws=draws, seed=seed,
                                        uncertainty=uncertainty, tick=bar.update)

    def _simulate_draws(self, scenarios: list[Scenario], plans: list[Plan], *, draws: int,
                        seed: Any, uncertainty: str, tick: Any,
                        ) -> tuple[list[_Sim], dict[str, Any]]:
        full = [self._point_full(p, s) for p, s in zip(plans, scenarios, strict=True)]
        points = [f[0] for f in full]
        qpoints = [f[1] for f in full]
        info: dict[str, Any] = {"method": uncertainty, "draws": draws, "dropped": 0}
        ss = _seed_sequence(seed)
        rng_model, rng_bus, rng_cost = (np.random.default_rng(c) for c in ss.spawn(3))
        cost_rngs = [np.random.default_rng(c) for c in
                     np.random.SeedSequence(int(rng_cost.integers(2**63))).spawn(len(plans))]
        bus_random = self._business_random(scenarios)
        model_random = self._model_uncertain() or uncertainty == "bootstrap"
        has_seg = [p.mask is not None for p in plans]

        # --- model part: quantities per draw (or their delta-method jacobian) ---------------
        q_draws: list[dict[str, np.ndarray]] | None = None
        jac: list[dict[str, np.ndarray]] | None = None
        se_cols: list[dict[str, float]] | None = None
        S = draws
        if model_random and uncertainty == "parametric":
            theta = self.model.draw_params(draws, rng_model)
            q_draws = self._draw_quantities(plans, theta, tick=tick)
        elif model_random and uncertainty == "bootstrap":
            theta, rows, dropped = bootstrap_params(self.model, self.data, draws, rng_model)
            info["dropped"] = dropped
            S = theta.shape[0]
            per = [self._draw_quantities(plans, theta[b : b + 1], rows=rows[b], tick=tick)
                   for b in range(S)]
            q_draws = [{k: np.concatenate([per[b][i][k] for b in range(S)]) for k in per[0][i]}
                       for i in range(len(plans))]
        elif model_random:  # delta method
            pm, h = delta_params(self.kernel.theta)
            qpm = self._draw_quantities(plans, pm)
            if bus_random:  # linearised model draws q̂ + J(θ⁽ˢ⁾ − θ̂), joint with business
                jac = [{k: delta_jacobian(v[:, None], h)[0] for k, v in q.items()} for q in qpm]
                S = draws or DELTA_BUSINESS_DRAWS
                dtheta = self.model.draw_params(S, rng_model) - self.kernel.theta
                q_draws = [{k: qp[k] + dtheta @ J[k] for k in J}
                           for qp, J in zip(qpoints, jac, strict=True)]
            else:  # analytic: se of every output column from its own jacobian
                V = np.asarray(self.model.cov_params, dtype=float)
                se_cols = []
                for i, (q, sc) in enumerate(zip(qpm, scenarios, strict=True)):
                    q["has_segment"] = has_seg[i]  # type: ignore[assignment]
                    outs = self._money(q, *self._point_args(sc))
                    se = {}
                    for k, v in outs.items():
                        g = delta_jacobian(np.broadcast_to(np.asarray(v, float),
                                                           (2 * h.size,))[:, None], h)[0]
                        se[k] = float(np.sqrt(max(g @ V @ g, 0.0))) if np.isfinite(g).all() \
                            else float("nan")
                    se_cols.append(se)
                return [_Sim(pt, None, se, None, None)
                        for pt, se in zip(points, se_cols, strict=True)], info
        if not bus_random and q_draws is None:
            return [_Sim(pt, None, None, None, None) for pt in points], info

        S = S or DELTA_BUSINESS_DRAWS
        bus = self._business_draws(S, rng_bus)
        sims = []
        for i, (pt, sc) in enumerate(zip(points, scenarios, strict=True)):
            cost = sc.cost_input.draw(S, cost_rngs[i])
            qp = qpoints[i]
            point_args = self._point_args(sc)
            if q_draws is not None:
                qd = dict(q_draws[i])
            else:
                qd = {k: np.full(S, v) for k, v in qp.items() if k != "has_segment"}
            qd["has_segment"] = has_seg[i]  # type: ignore[assignment]
            joint = self._money(qd, bus["N"], bus["R"], bus["m"], cost)
            model_only = self._money(qd, *point_args)
            business_only = self._money(qp, bus["N"], bus["R"], bus["m"], cost)
            sims.append(_Sim(pt, {k: np.broadcast_to(np.asarray(v, float), (S,)).copy()
                                  for k, v in joint.items()},
                             None, model_only, business_only))
        info["draws"] = S
        return sims, info

    def _draw_quantities(self, plans: list[Plan], theta: np.ndarray, rows: Any = None,
                         tick: Any = None) -> list[dict[str, np.ndarray]]:
        sums = self.kernel.draws(plans, theta, rows=rows, tick=tick)
        out = []
        for (base, delta), plan in zip(sums, plans, strict=True):
            W = plan.W_total if rows is None else plan.Wm[rows].sum(axis=0)
            q = self._quantities(base, delta, W)
            out.append(q)
        return out

    # ----------------------------------------------------------------------------------
    # public API
    # ----------------------------------------------------------------------------------
    def value(self, scenario: Any, objective: str = "profit") -> float:
        """Point estimate of one column of ``run(scenario).table`` (same code path, no draws).

        Parameters
        ----------
        scenario : Scenario or dict
        objective : {"profit", "revenue", "rate", "customers", "mean"}, default="profit"
            Reads ``delta_profit`` | ``delta_revenue`` | ``delta_rate`` | ``delta_customers``;
            ``"mean"`` reads ``delta_mean`` of a score outcome (the only objective a score
            has without ``link=``).

        Examples
        --------
        >>> import pandas as pd, driverkit as dk
        >>> m = dk.fixed_model("logit", intercept=-4.0, coef={"x1": 0.6},
        ...                    scales={"x1": (1, 10)})
        >>> sim = dk.Simulator(m, pd.DataFrame({"x1": [3, 6, 8, 10]}))
        >>> sim.value({"x1": dk.shift(1)}, "rate") > 0
        True
        """
        col = self._objective(objective, "value")
        sc = as_scenarios(scenario)
        if len(sc) != 1:
            raise DriverkitError("value() takes one scenario.")
        if self._imputed:
            return float(np.mean([s.value(sc[0], objective) for s in self._imputed]))
        return self._point(self._compile(sc[0]), sc[0])[col]

    def value_draws(self, scenario: Any, objective: str = "profit", *, draws: int = 1000,
                    seed: Any = None, uncertainty: str = "parametric") -> np.ndarray:
        """The objective over joint model and business-input draws (``draws`` values).

        The same draws as ``run(scenario, draws=draws, seed=seed)`` uses for its interval.
        """
        col = self._objective(objective, "value_draws")
        sc = as_scenarios(scenario)
        if len(sc) != 1:
            raise DriverkitError("value_draws() takes one scenario.")
        draws = _check_draws(draws, "value_draws", allow_zero=False)
        check_option(uncertainty, "uncertainty", UNCERTAINTY, "value_draws")
        if self._imputed:
            seeds = _seed_sequence(seed).spawn(len(self._imputed))
            each = -(-draws // len(self._imputed))
            pooled = np.concatenate([
                s.value_draws(sc[0], objective, draws=each, seed=sd, uncertainty=uncertainty)
                for s, sd in zip(self._imputed, seeds, strict=True)])
            return pooled[:draws]
        plan = self._compile(sc[0])
        sims, _ = self._simulate(sc, [plan], draws=draws, seed=seed, uncertainty=uncertainty)
        s = sims[0]
        if s.draws is not None:
            return s.draws[col].copy()
        if s.se is not None:  # delta method without business randomness: normal draws
            rng = np.random.default_rng(_seed_sequence(seed))
            return s.point[col] + s.se[col] * rng.standard_normal(draws)
        return np.full(draws, s.point[col])

    def _objective(self, objective: str, func: str) -> str:
        check_option(objective, "objective", list(OBJECTIVES), func)
        col = OBJECTIVES[objective]
        if self.outcome_type == "score" and objective != "mean":
            raise DriverkitError(
                f"objective='{objective}' does not apply: the outcome "
                f"'{_outcome_name(self.model)}' is a score (scale points), so a simulation "
                "reports delta_mean and no rates, customers or money. Use objective='mean', or "
                "give the Simulator link='<0/1 behaviour column>' to turn the score into a rate.")
        if self.outcome_type != "score" and objective == "mean":
            raise DriverkitError(
                f"objective='mean' is for score outcomes; this simulator's outcome is a rate "
                f"({self.kernel.target_label}): use objective='rate' (or 'profit'/'revenue').")
        if col in ("delta_revenue", "delta_profit") and not self.has_money:
            raise DriverkitError(
                f"objective='{objective}' needs money: give the Simulator revenue_per_customer= "
                "or revenue= (or use objective='rate')."
            )
        return col

    def run(self, scenarios: Any, *, draws: int = 1000, seed: Any = None, ci: float = 0.95,
            uncertainty: str = "parametric", progress: bool | None = None,
            ) -> SimulationResult:
        """Simulate one or more scenarios with intervals.

        Parameters
        ----------
        scenarios : Scenario, list of Scenario or dict
            A scenario, a list, ``{"driver": operator}`` (one scenario) or
            ``{"name": {driver: operator}}``.
        draws : int, default=1000
            Parameter draws (or bootstrap refits) for the intervals; ``0`` = delta method.
        seed : int or Generator, optional
            Makes the draws reproducible (the point estimates never depend on it).
        ci : float, default=0.95
        uncertainty : {"parametric", "delta", "bootstrap"}, default="parametric"
            ``"bootstrap"`` refits ``model.clone()`` on ``draws`` resamples of the data (which
            must then contain the outcome).
        progress : bool, optional
            Show a progress bar over the draws (default: only for long runs, in a terminal
            or notebook). The bar never changes a number.

        Returns
        -------
        SimulationResult

        Notes
        -----
        Point estimates use the fitted coefficients; draws only give the percentile
        intervals. Scenarios in one call share the same draws, so their differences are
        consistent. Business inputs given as distributions are drawn jointly with the model
        draws; ``.uncertainty`` splits the spread of Δprofit into model and business parts.
        """
        return self._run(scenarios, draws=draws, seed=seed, ci=ci, uncertainty=uncertainty,
                         progress=progress, func="run")

    def _run(self, scenarios: Any, *, draws: int, seed: Any, ci: float, uncertainty: str,
             progress: bool | None, func: str) -> SimulationResult:
        """:meth:`run` on behalf of ``func`` (which names the progress bar and errors)."""
        from .._validation import check_fraction, check_progress

        check_fraction(ci, "ci", func)
        draws = _check_draws(draws, func)
        check_option(uncertainty, "uncertainty", UNCERTAINTY, func)
        progress = check_progress(progress, func)
        if draws == 0:
            if uncertainty == "bootstrap":
                raise DriverkitError("uncertainty='bootstrap' needs draws > 0 (the refits).")
            uncertainty = "delta"
        scs = [self._expand(s) for s in as_scenarios(scenarios)]
        if self._imputed:
            from ._pooled import pool_runs

            m = len(self._imputed)
            seeds = _seed_sequence(seed).spawn(m)
            each = -(-draws // m) if draws else 0
            runs = [s.run(scs, draws=each, seed=sd, ci=ci, uncertainty=uncertainty,
                          progress=progress) for s, sd in zip(self._imputed, seeds,
                                                              strict=True)]
            return pool_runs(runs, ci, self.n)
        # the products here are thin (vectors of respondents); BLAS threads only contend
        with single_threaded_blas():
            plans = [self._compile(s) for s in scs]
            sims, info = self._simulate(scs, plans, draws=draws, seed=seed,
                                        uncertainty=uncertainty, progress=progress, desc=func)
            table, unc, draw_frames = self._table(scs, plans, sims, ci)
            by_driver = self._by_driver(scs, plans, sims)
            diag, warn_msgs = self._diagnostics(scs, plans)
        if getattr(self.model, "kind", None) == "pls" and self.model.link is None:
            table = table.rename(columns=lambda c: c.replace("_rate", "_index")).drop(
                columns=[c for c in table.columns if c.startswith("delta_customers")])
        for msg in warn_msgs:
            warn(msg, ExtrapolationWarning)
        flagged = [d for d in dict.fromkeys(diag["driver"]) if d in self.sign_flips.index]
        notes = self._result_notes(scs, plans, table, diag, info, ci)
        if flagged:
            msg = _suppressor_message(self.sign_flips.loc[flagged], "The scenario moves")
            warn(msg, SuppressorWarning)
            notes.insert(0, msg)
        meta = self._meta(info, ci, draws)
        if flagged:
            meta["suppressor signs"] = ", ".join(flagged)
        return SimulationResult(table, by_driver=by_driver, diagnostics=diag, uncertainty=unc,
                                draws=draw_frames, meta=meta, notes=notes)

    # ----------------------------------------------------------------------------------
    # sensitivity, impact, priority
    # ----------------------------------------------------------------------------------
    def _pick_drivers(self, drivers: Any, func: str) -> list[str]:
        if drivers is None:
            return list(self.drivers)
        ds = [drivers] if isinstance(drivers, str) else [str(d) for d in drivers]
        for d in ds:
            self._check_driver(d)
        return ds

    def sensitivity(self, drivers: Any = None, steps: Any = None, *, draws: int = 1000,
                    seed: Any = None, ci: float = 0.95, uncertainty: str = "parametric",
                    progress: bool | None = None) -> SensitivityResult:
        """Response curves: each driver moved alone by each step (clipped to its scale).

        Parameters
        ----------
        drivers : list of str, optional
            Default: every movable driver.
        steps : iterable of float, default=range(-2, 3)
            Shifts in rating points.
        draws, seed, ci, uncertainty, progress
            As in :meth:`run` (all curves share the same draws).

        Returns
        -------
        SensitivityResult

        Notes
        -----
        A zero step changes nothing and is not simulated. For a logit model every draw is
        evaluated with one exponential per respondent for all the curves: a driver moved by
        δ has F(η + cδ) = r/(e^{−η} + r), r = e^{cδ}, and the sums over respondents at all
        the r of a batch of draws come from Chebyshev moments in r (Mason & Handscomb 2003,
        the generating function of the Chebyshev polynomials), truncated below the rounding
        of double precision, plus exact terms for the respondents whose change is clipped at
        the ends of the scale. The numbers equal running each curve point on its own.

        Examples
        --------
        >>> import pandas as pd, driverkit as dk
        >>> m = dk.fixed_model("logit", intercept=-4.0, coef={"x1": 0.6},
        ...                    scales={"x1": (1, 10)})
        >>> sim = dk.Simulator(m, pd.DataFrame({"x1": [3, 6, 8, 10]}))
        >>> sim.sensitivity(steps=[-1, 0, 1]).table["step"].tolist()
        [-1.0, 0.0, 1.0]
        """
        ds = self._pick_drivers(drivers, "sensitivity")
        st = [float(s) for s in (range(-2, 3) if steps is None else steps)]
        if not st:
            raise DriverkitError("sensitivity() needs at least one step.")
        scs = [Scenario(f"{d} {s:+g}", {d: _shift(s, self._scales[d])}) for d in ds for s in st]
        res = self._run(scs, draws=draws, seed=seed, ci=ci, uncertainty=uncertainty,
                        progress=progress, func="sensitivity")
        t = res.table.reset_index(drop=True)
        t.insert(0, "driver", [d for d in ds for _ in st])
        t.insert(1, "step", [s for _ in ds for s in st])
        t.insert(2, "mean_after", res.diagnostics["mean_after"].to_numpy())
        col = self._main_column()
        meta = dict(res.meta)
        meta.update({"drivers": len(ds), "steps": ", ".join(f"{s:g}" for s in st),
                     "column": col})
        return SensitivityResult(t, meta=meta, notes=res.notes)

    def impact(self, points: float = 5.0, drivers: Any = None, *, draws: int = 1000,
               seed: Any = None, ci: float = 0.95, uncertainty: str = "parametric",
               progress: bool | None = None) -> SimulationResult:
        """ACSI-style impact: each driver raised by ``points`` on its 0–100 rescale, alone.

        +``points`` index points = +``points``/100·(U − L) rating points (0.45 for +5 on a
        1–10 scale), clipped to the scale (Fornell et al. 1996).

        Returns
        -------
        SimulationResult
            One row per driver (scenario ``"<driver> +5 pts"``) with extra columns
            ``driver`` and ``shift`` (rating points).

        Examples
        --------
        >>> import pandas as pd, driverkit as dk
        >>> m = dk.fixed_model("logit", intercept=-4.0, coef={"x1": 0.6},
        ...                    scales={"x1": (1, 10)})
        >>> sim = dk.Simulator(m, pd.DataFrame({"x1": [3, 6, 8, 10]}))
        >>> float(sim.impact(5).table["shift"].iloc[0])
        0.45
        """
        ds = self._pick_drivers(drivers, "impact")
        if isinstance(points, bool) or not isinstance(points, numbers.Real) or \
                not 0 < abs(points) <= 100:
            raise DriverkitError(f"impact(points=...) must be in (0, 100]; got {points!r}.")
        shifts = {d: float(points) / 100.0 * (self._scales[d][1] - self._scales[d][0])
                  for d in ds}
        scs = [Scenario(f"{d} {points:+g} pts", {d: _shift(shifts[d], self._scales[d])})
               for d in ds]
        res = self._run(scs, draws=draws, seed=seed, ci=ci, uncertainty=uncertainty,
                        progress=progress, func="impact")
        res.table.insert(0, "driver", ds)
        res.table.insert(1, "shift", [shifts[d] for d in ds])
        res.meta["impact"] = f"+{points:g} points on the 0–100 rescale of each driver"
        res._title = f"Impact of +{points:g} index points per driver"
        return res

    def priority(self, drivers: Any = None, *, step: float = 1.0, draws: int = 1000,
                 seed: Any = None, ci: float = 0.95, uncertainty: str = "parametric",
                 progress: bool | None = None) -> PriorityResult:
        """Priority table: current performance vs the simulated impact of +``step`` per driver.

        Impact is Δrevenue when the simulator has revenue, else Δrate, with its interval.
        Quadrants split at the medians (as drawn by the priority matrix).

        Examples
        --------
        >>> import pandas as pd, driverkit as dk
        >>> m = dk.fixed_model("logit", intercept=-4.0, coef={"x1": 0.6, "x2": 0.3},
        ...                    scales={"x1": (1, 10), "x2": (1, 10)})
        >>> sim = dk.Simulator(m, pd.DataFrame({"x1": [3, 6, 8, 10], "x2": [5, 7, 8, 4]}))
        >>> list(sim.priority().table.columns)[:2]
        ['performance', 'performance_100']
        """
        ds = self._pick_drivers(drivers, "priority")
        scs = [Scenario(f"{d} {step:+g}", {d: _shift(step, self._scales[d])}) for d in ds]
        res = self._run(scs, draws=draws, seed=seed, ci=ci, uncertainty=uncertainty,
                        progress=progress, func="priority")
        col = self._main_column()
        W = self._w.sum()
        perf = np.array([np.dot(self._w, self._x[d]) / W for d in ds])
        lo = np.array([self._scales[d][0] for d in ds])
        hi = np.array([self._scales[d][1] for d in ds])
        t = pd.DataFrame({
            "performance": perf,
            "performance_100": 100 * (perf - lo) / (hi - lo),
            "step": float(step),
            "impact": res.table[col].to_numpy(),
            "impact_low": res.table[f"{col}_low"].to_numpy(),
            "impact_high": res.table[f"{col}_high"].to_numpy(),
        }, index=pd.Index(ds, name="driver"))
        t["quadrant"] = priority_quadrants(t).to_numpy()
        meta = dict(res.meta)
        meta.update({"impact": col, "step": step})
        return PriorityResult(t, meta=meta, notes=res.notes)

    def _main_column(self) -> str:
        """The column a sensitivity or priority table reports: money, else rate or mean."""
        if self.has_money:
            return "delta_revenue"
        return "delta_mean" if self.outcome_type == "score" else "delta_rate"

    def __repr__(self) -> str:
        return (f"Simulator({getattr(self.model, 'kind', 'model')} model, {self.n} respondents, "
                f"drivers: {', '.join(self.drivers)})")


# ------------------------------------------------------------------------------------------
def _shift(step: float, scale: tuple[float, float]) -> Operator:
    from ._operators import Shift

    width = scale[1] - scale[0]
    return Shift(float(np.clip(step, -width, width)))


def _check_draws(draws: Any, func: str, allow_zero: bool = True) -> int:
    if isinstance(draws, bool) or not isinstance(draws, numbers.Integral) or draws < 0 or (
            draws == 0 and not allow_zero):
        raise DriverkitError(
            f"The 'draws' parameter of {func}() must be an integer >= {0 if allow_zero else 1}. "
            f"Got {draws!r} instead."
        )
    return int(draws)


def _add_columns(cols: np.ndarray, dX: np.ndarray, extra: dict[int, np.ndarray],
                 n: int) -> tuple[np.ndarray, np.ndarray]:
    """Merge design-column changes ``extra`` into a (columns, deltas) pair."""
    merged = {int(j): dX[i] for i, j in enumerate(cols)}
    for j, v in extra.items():
        merged[j] = merged[j] + v if j in merged else np.broadcast_to(v, (n,)).astype(float)
    keys = sorted(merged)
    return np.array(keys, dtype=int), np.vstack([merged[j] for j in keys])


def _seed_sequence(seed: Any) -> np.random.SeedSequence:
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence(int(seed.integers(2**63)))
    if isinstance(seed, np.random.SeedSequence):
        return seed
    check_random_state(seed)  # validates the type
    return np.random.SeedSequence(None if seed is None else int(seed))


