"""Setting up a ``Simulator`` from its data (a mixin of :class:`~driverkit.simulate.Simulator`).

Complete rows, weights, drivers and scales, money inputs, calibration and the CLV view.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_columns, warn
from ..exceptions import DataError, DriverkitError, DriverkitTypeError, MissingDataWarning
from ._money import BusinessInput, Calibration, business_input, fit_logistic_calibration

__all__ = ["SetupMixin"]


class SetupMixin:
    """The parts of ``Simulator.__init__`` that read the data (needs the simulator's state)."""

    model: Any
    kernel: Any
    n: int
    _notes: list[str]
    _w: np.ndarray
    _X: np.ndarray
    _weights_arg: np.ndarray
    customers: BusinessInput
    margin: BusinessInput
    has_money: bool
    discount_rate: float | None
    horizon: Any

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
