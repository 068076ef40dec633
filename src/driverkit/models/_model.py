"""``DriverModel``: linear, logit, probit and ordered-logit driver models.

The model object follows scikit-learn's estimator contract (options in ``__init__``,
``fit`` returns ``self``, learned state is clearly named) and is a driverkit
:class:`~driverkit._results.Result` (``.table``, ``summary()``, ``_repr_html_``, ``.plot()``).
Its prediction kernel (``design``, ``linear_predictor``, ``predict_design``,
``draw_params``) is vectorised over parameter draws and is what the simulator, the
optimisers and the CX analyses use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._results import Meta, Result, snake_key
from .._validation import KINDS, check_fraction, check_kwargs, check_option, warn
from ..data import DriverData, prepare
from ..data._prepare import DesignSpec
from ..exceptions import (
    CollinearityWarning,
    DriverkitError,
    SuppressorWarning,
)

# one definition of each diagnostic (re-exported here for the models' users)
from ..stats._collinearity import condition_number
from ..stats._collinearity import vif as vif_from_design
from ..stats._links import LINKS, get_link
from ._fitting import FitOutput, fit_binary, fit_linear, fit_ordinal, thresholds_from_internal

__all__ = ["DriverModel", "condition_number", "vif_from_design"]

_CAUSAL = (
    "Observational survey data: coefficients describe associations, not causal effects; "
    "validate changes with a pilot."
)


def _weighted_corr(X: np.ndarray, w: np.ndarray) -> np.ndarray:
    sw = w / w.sum()
    mu = sw @ X
    Xc = X - mu
    cov = (Xc * sw[:, None]).T @ Xc
    sd = np.sqrt(np.diag(cov))
    return cov / np.outer(sd, sd)


def _binary_from_moments(stats_obj: Any, outcome: str) -> bool:
    """True when the outcome's weighted mean m and variance (divisor Σw) satisfy
    var = m(1 − m) with 0 <= m <= 1, as a 0/1 variable's do (and only a two-point one)."""
    try:
        m = float(stats_obj.mean[outcome])
        v = float(stats_obj.covariance([outcome], ddof=0).iloc[0, 0])
    except Exception:  # statistics without these moments: no evidence of a 0/1 outcome
        return False
    return bool(0.0 <= m <= 1.0 and abs(v - m * (1.0 - m)) <= 1e-9 * max(1.0, m))


def opposite_signs(names: Sequence[str], coef: np.ndarray, corr: np.ndarray,
                   p_value: np.ndarray | None = None) -> pd.DataFrame:
    """Drivers whose coefficient sign is opposite to their correlation with the outcome.

    Such a *suppressor* (Conger 1974) gets its sign from the other drivers, not from its own
    relation with the outcome: moving it alone (a simulated cut or raise) rests on that
    partial effect. Returns one row per flagged driver: ``coef``, ``corr``, ``p_value``.
    """
    coef = np.asarray(coef, float)
    corr = np.asarray(corr, float)
    pv = np.full(coef.shape, np.nan) if p_value is None else np.asarray(p_value, float)
    flag = (np.sign(coef) * np.sign(corr) < 0) & (np.abs(corr) > 1e-8) & np.isfinite(coef)
    idx = np.flatnonzero(flag)
    return pd.DataFrame({"coef": coef[idx], "corr": corr[idx], "p_value": pv[idx]},
                        index=pd.Index([str(names[i]) for i in idx.tolist()], name="driver"))


def describe_signs(flips: pd.DataFrame) -> str:
    """``"x (coefficient −0.12, correlation +0.45)"`` for each flagged driver."""
    def pv(r: Any) -> str:
        return f", p = {r['p_value']:.2g}" if np.isfinite(r["p_value"]) else ""

    return "; ".join(f"{d} (coefficient {r['coef']:+.3g}{pv(r)}, correlation {r['corr']:+.3g})"
                     for d, r in flips.iterrows())


class DriverModel(Result):
    """A driver model linking ratings to an outcome.

    Parameters
    ----------
    outcome : str
        Outcome column, or a formula ``"repurchase ~ staff + price + C(region)"``.
    drivers : list of str, optional
        Driver columns (not with a formula).
    kind : {"linear", "logit", "probit", "ordinal"}, default="linear"
        ``"ordinal"`` is the proportional-odds (ordered logit) model.
    weights : str or array-like, optional
        Survey weights (a column name or one value per row).
    covariates : list of str, optional
        Control variables kept in the model but not reported as drivers.
    scales : dict, optional
        Declared rating bounds, e.g. ``{"staff": (1, 10)}``; default: observed min/max.
    missing : {"listwise", "pairwise", "mean", "dummy", "impute", "raise"}, default="listwise"
        Skipped answers (see :func:`driverkit.data.prepare`): ``"pairwise"`` fits a linear
        model from pairwise-complete covariances (classical SEs on the smallest pairwise n);
        ``"impute"`` fits every imputed data set and pools by Rubin's rules (the table gains
        ``fmi``, the fraction of missing information); ``"dummy"`` adds "not answered"
        indicators as covariates.
    na_values : list or dict, optional
        Codes meaning "no answer" (``[99, "Don't know"]``), made missing first.
    imputations : int, default=20
        Imputed data sets for ``missing="impute"``.
    seed : int, optional
        Makes the imputations reproducible.
    robust : None, bool or {"HC0", "HC1", "HC2", "HC3"}, default=None
        Covariance type. ``None``: a sandwich (HC1) covariance with sampling weights,
        classical otherwise.
    positive : optional
        The event value when a binary outcome is given as two text values (``event=`` is
        an alias).
    better : {"higher", "lower"}, optional
        Which direction of the outcome is good; ``"lower"`` for churn or complaints (read by
        :class:`~driverkit.Simulator` and the optimisers, so fewer events count as a gain).
    weight_type : {"sampling", "frequency"}, default="sampling"
    ci : float, default=0.95
        Confidence level of ``ci_low``/``ci_high``.
    vif_threshold : float, default=10
        Warn (:class:`~driverkit.CollinearityWarning`) when a VIF exceeds it.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per term (``Intercept``, drivers, ``term[level]`` dummies, ``cut[a|b]``) with
        ``estimate, std_error, ci_low, ci_high, p_value, vif``.
    params, cov_params : pandas.Series, pandas.DataFrame
    n, r2, loglike, loglike_null, aic, bic, condition_number, vif
    data_ : DriverData
    result_ : statsmodels results object

    Notes
    -----
    Linear models are OLS (WLS with sampling weights); binary models are GLMs with a
    logit or probit link; ordinal models are proportional-odds logits
    (McCullagh 1980), all fitted by statsmodels. ``r2`` is R² for linear models and
    McFadden's pseudo-R² 1 − ℓ/ℓ₀ otherwise (McFadden 1974). The condition number is
    Belsley's (1980) for the column-equilibrated design with intercept.

    Examples
    --------
    >>> import driverkit as dk
    >>> df = dk.make_survey(n=500, n_drivers=4, seed=1)
    >>> drivers = df.attrs["truth"]["drivers"]
    >>> m = dk.DriverModel("repurchase", drivers, kind="logit").fit(df)
    >>> list(m.table.columns)
    ['estimate', 'std_error', 'ci_low', 'ci_high', 'p_value', 'vif']
    """

    _title = "Driver model"

    def __init__(
        self,
        outcome: str,
        drivers: Sequence[str] | None = None,
        *,
        kind: str = "linear",
        weights: Any = None,
        covariates: Sequence[str] | None = None,
        scales: Mapping[str, Any] | None = None,
        missing: str = "listwise",
        robust: Any = None,
        positive: Any = None,
        weight_type: str = "sampling",
        ci: float = 0.95,
        vif_threshold: float = 10.0,
        na_values: Any = None,
        imputations: int = 20,
        seed: Any = None,
        better: str | None = None,
        event: Any = None,
        **kwargs: Any,
    ) -> None:
        check_kwargs(kwargs, "DriverModel")
        if event is not None:
            if positive is not None and positive != event:
                raise DriverkitError(f"positive={positive!r} and event={event!r} disagree; "
                                     "they name the same thing (the value modelled as 1).")
            positive = event
        if better is not None:
            check_option(better, "better", ["higher", "lower"], "DriverModel")
        check_option(kind, "kind", KINDS, "DriverModel")
        check_fraction(ci, "ci", "DriverModel")
        if robust not in (None, True, False, "nonrobust", "HC0", "HC1", "HC2", "HC3"):
            check_option(robust, "robust", [None, True, False, "HC0", "HC1", "HC2", "HC3"],
                         "DriverModel")
        self.outcome = outcome
        self._drivers_arg = None if drivers is None else list(drivers) if not isinstance(
            drivers, str) else [drivers]
        self.kind = kind
        self.weights = weights
        self._covariates_arg = covariates
        self._scales_arg = scales
        self.missing = missing
        self.robust = robust
        self.positive = positive
        self.better = better
        self.weight_type = weight_type
        self.ci = ci
        self.vif_threshold = vif_threshold
        self.na_values = na_values
        self.imputations = imputations
        self.seed = seed
        self._fit: FitOutput | None = None
        self.data_: DriverData | None = None
        self._spec: DesignSpec | None = None
        self._fixed = False
        self._outcome_type: str | None = None  # declared by fixed_model(outcome_type=)

    # ------------------------------------------------------------------------------
    def clone(self) -> DriverModel:
        """An unfitted copy with the same options (for bootstrap refits)."""
        if self._fixed:
            raise DriverkitError("A fixed model has no data to refit; it cannot be cloned.")
        return DriverModel(
            self.outcome, self._drivers_arg, kind=self.kind, weights=self.weights,
            covariates=self._covariates_arg, scales=self._scales_arg, missing=self.missing,
            robust=self.robust, positive=self.positive, weight_type=self.weight_type,
            ci=self.ci, vif_threshold=self.vif_threshold, na_values=self.na_values,
            imputations=self.imputations, seed=self.seed, better=self.better,
        )

    def fit(self, data: Any) -> DriverModel:
        """Fit the model to ``data`` (a DataFrame, or :class:`SufficientStats` for linear)."""
        if not isinstance(data, pd.DataFrame) and hasattr(data, "covariance"):
            return self._fit_from_stats(data)
        from ._stats_fit import is_streamed_source

        if is_streamed_source(data):
            return self._fit_from_source(data)
        dd = prepare(
            data, self.outcome, self._drivers_arg, kind=self.kind, weights=self.weights,
            covariates=self._covariates_arg, scales=self._scales_arg, missing=self.missing,
            positive=self.positive, weight_type=self.weight_type, func="fit",
            na_values=self.na_values, imputations=self.imputations, seed=self.seed,
        )
        from ._missing_fit import fit_pairwise, fit_pooled

        if dd.policy == "impute":
            out = fit_pooled([self._fit_one(d) for d in dd.imputed], ci=self.ci,
                             linear=self.kind == "linear")
        elif dd.policy == "pairwise":
            out, pw_meta = fit_pairwise(dd, robust=self.robust, ci=self.ci)
            self._pairwise_meta = pw_meta
        else:
            out = self._fit_one(dd)
        self.data_ = dd
        self._spec = dd.spec
        self._fit = out
        if dd.policy == "pairwise":
            self._vif = self._pairwise_meta["vif"]
            self._cond = self._pairwise_meta["condition_number"]
        else:
            self._vif = vif_from_design(dd.X, dd.w) if dd.k else np.empty(0)
            self._cond = condition_number(dd.X, dd.w) if dd.k else 1.0
        self._warn_collinearity()
        self._warn_suppressors()
        return self

    def _fit_one(self, dd: DriverData) -> FitOutput:
        if self.kind == "linear":
            return fit_linear(dd, robust=self.robust, ci=self.ci)
        if self.kind in ("logit", "probit"):
            return fit_binary(dd, link=self.kind, robust=self.robust, ci=self.ci)
        return fit_ordinal(dd, robust=self.robust, ci=self.ci)

    def _fit_from_stats(self, stats_obj: Any) -> DriverModel:
        if self.kind != "linear":
            raise DriverkitError(
                "Sufficient statistics determine only linear models; for kind="
                f"'{self.kind}' pass the data (or use driverkit's chunked IRLS)."
            )
        if self._drivers_arg is None:
            raise DriverkitError("With sufficient statistics, pass drivers=[...] explicitly.")
        if self.weights is not None:
            stats_obj.reject_weights(self.weights, "fit")
        from ._stats_fit import fit_linear_from_stats

        out, meta = fit_linear_from_stats(stats_obj, self.outcome, self._drivers_arg,
                                          robust=self.robust, ci=self.ci)
        self._fit = out
        self.data_ = None
        cols = list(self._drivers_arg)
        self._spec = DesignSpec(columns=cols, terms={c: [i] for i, c in enumerate(cols)},
                                numeric=cols, factors={}, order=cols)
        self._stats_meta = meta
        self._outcome_binary = _binary_from_moments(stats_obj, self.outcome)
        self._fixed_scales = {k: (float(v[0]), float(v[1]))
                              for k, v in (self._scales_arg or {}).items()}
        self._vif = meta["vif"]
        self._cond = meta["condition_number"]
        self._warn_collinearity()
        return self

    def _fit_from_source(self, source: Any) -> DriverModel:
        if self._drivers_arg is None or "~" in self.outcome:
            raise DriverkitError(
                "Streamed fits (files, dask) need outcome and drivers=[...] as column names."
            )
        if self.positive is not None:
            raise DriverkitError("positive= is not supported for streamed fits; use a 0/1 "
                                 "outcome column.")
        from ._stats_fit import fit_from_source

        out, meta = fit_from_source(
            source, self.kind, self.outcome, list(self._drivers_arg), weights=self.weights,
            weight_type=self.weight_type, missing=self.missing, robust=self.robust, ci=self.ci)
        cols = list(self._drivers_arg)
        self._fit = out
        self.data_ = None
        self._spec = DesignSpec(columns=cols, terms={c: [i] for i, c in enumerate(cols)},
                                numeric=cols, factors={}, order=cols)
        self._stats_meta = meta
        self._vif = meta.get("vif", np.full(len(cols), np.nan))
        self._cond = meta.get("condition_number", np.nan)
        self._fixed_scales = {k: (float(v[0]), float(v[1]))
                              for k, v in (self._scales_arg or {}).items()}
        self._warn_collinearity()
        return self

    def _warn_collinearity(self) -> None:
        if len(self._vif) and np.nanmax(np.r_[self._vif, -np.inf]) > self.vif_threshold:
            names = self.columns
            high = [f"{names[j]} ({self._vif[j]:.1f})" for j in np.argsort(-self._vif)
                    if self._vif[j] > self.vif_threshold]
            warn(
                "High variance inflation: " + ", ".join(high[:6]) + ". Coefficients of "
                "these drivers are unstable; prefer relative importance (dk.importance) for "
                "ranking them.",
                CollinearityWarning,
            )

    @property
    def sign_flips(self) -> pd.DataFrame:
        """Numeric drivers whose coefficient sign is opposite to their (weighted) correlation
        with the outcome (suppressors): ``coef``, ``corr``, ``p_value`` per flagged driver.

        Empty for fixed models and models without respondent data.
        """
        cached = getattr(self, "_sign_flips", None)
        if cached is not None:
            return cached.copy()
        dd = self.data_
        out = pd.DataFrame({"coef": [], "corr": [], "p_value": []},
                           index=pd.Index([], name="driver"))
        if dd is not None and dd.y is not None and self._fit is not None and dd.n > 2:
            names, coefs, corrs, pvals = [], [], [], []
            tab = self.table
            y = np.asarray(dd.y, float)
            for d in dd.drivers:
                cols = dd.terms.get(d, [])
                if len(cols) != 1 or d in dd.factors or d not in tab.index:
                    continue
                x = dd.X[:, cols[0]]
                c = _weighted_corr(np.column_stack([x, y]), dd.w)[0, 1]
                names.append(d)
                coefs.append(float(tab.loc[d, "estimate"]))
                corrs.append(float(c))
                pvals.append(float(tab.loc[d, "p_value"]))
            if names:
                out = opposite_signs(names, np.array(coefs), np.array(corrs), np.array(pvals))
        self._sign_flips = out
        return out.copy()

    def _warn_suppressors(self) -> None:
        self._sign_flips = None
        flips = self.sign_flips
        if len(flips):
            warn(f"Coefficient sign opposite to the driver's correlation with "
                 f"'{self.outcome.split('~')[0].strip()}' (a suppressor): "
                 f"{describe_signs(flips)}. The sign comes from the other drivers; a "
                 "simulated cut or raise of this driver alone rests on it — check it before "
                 "acting.", SuppressorWarning)

    # ------------------------------------------------------------------------------
    def _check_fitted(self) -> FitOutput:
        if self._fit is None:
            raise DriverkitError("This DriverModel is not fitted yet; call .fit(data) first.")
        return self._fit

    @property
    def is_fitted(self) -> bool:
        return self._fit is not None

    @property
    def drivers(self) -> list[str]:
        if self.data_ is not None:
            return list(self.data_.drivers)
        if self._spec is not None:
            return [t for t in self._spec.terms if t not in self.covariates]
        return list(self._drivers_arg or [])

    @property
    def covariates(self) -> list[str]:
        if self.data_ is not None:
            return list(self.data_.covariates)
        c = self._covariates_arg
        return [] if c is None else [c] if isinstance(c, str) else list(c)

    @property
    def columns(self) -> list[str]:
        """Design column names (no intercept)."""
        return list(self._spec.columns) if self._spec is not None else []

    @property
    def terms(self) -> dict[str, list[int]]:
        return dict(self._spec.terms) if self._spec is not None else {}

    @property
    def scales(self) -> dict[str, tuple[float, float]]:
        if self.data_ is not None:
            return dict(self.data_.scales)
        return dict(getattr(self, "_fixed_scales", {}) or {})

    @property
    def outcome_type(self) -> str:
        """``"score"`` or ``"rate"``: what a simulated change of this model's outcome means.

        A linear model of an outcome with more than two distinct values (satisfaction 1–10)
        predicts a *score*: simulations report mean changes in scale points, never customers
        or money. A linear model of a 0/1 outcome (linear probability model), binary and
        ordinal models predict *rates* (probabilities). A ``fixed_model`` is a rate model
        unless declared with ``outcome_type="score"``; a linear model fitted from sufficient
        statistics is a score model unless its outcome was 0/1.
        """
        declared = getattr(self, "_outcome_type", None)
        if declared is not None:
            return str(declared)
        if self.kind != "linear" or self._fixed:
            return "rate"
        if self.data_ is not None and self.data_.y is not None:
            y = np.asarray(self.data_.y, dtype=float)
            return "score" if np.unique(y[np.isfinite(y)]).size > 2 else "rate"
        meta = getattr(self, "_stats_meta", {}) or {}
        levels = meta.get("outcome_levels")
        if levels is not None:
            return "rate" if len(levels) <= 2 else "score"
        # sufficient statistics: a 0/1 outcome has population variance m(1 − m)
        return "rate" if getattr(self, "_outcome_binary", False) else "score"

    @property
    def outcome_levels(self) -> list[Any] | None:
        if self.data_ is None:
            return getattr(self, "_stats_meta", {}).get("outcome_levels")
        return self.data_.outcome_levels

    @property
    def params(self) -> pd.Series:
        out = self._check_fitted()
        return pd.Series(out.params, index=out.names, name="estimate")

    @property
    def cov_params(self) -> pd.DataFrame:
        out = self._check_fitted()
        return pd.DataFrame(out.cov, index=out.names, columns=out.names)

    @property
    def n(self) -> int:
        out = self._check_fitted()
        return round(out.nobs)

    @property
    def r2(self) -> float:
        return float(self._check_fitted().r2)

    @property
    def loglike(self) -> float:
        return float(self._check_fitted().loglike)

    @property
    def loglike_null(self) -> float:
        return float(self._check_fitted().loglike_null)

    @property
    def aic(self) -> float:
        out = self._check_fitted()
        k = out.params.size + (1 if self.kind == "linear" else 0)
        return float(-2 * out.loglike + 2 * k)

    @property
    def bic(self) -> float:
        out = self._check_fitted()
        k = out.params.size + (1 if self.kind == "linear" else 0)
        return float(-2 * out.loglike + np.log(out.nobs) * k)

    @property
    def condition_number(self) -> float:
        self._check_fitted()
        return float(self._cond)

    @property
    def vif(self) -> pd.Series:
        self._check_fitted()
        return pd.Series(self._vif, index=self.columns, name="vif")

    @property
    def result_(self) -> Any:
        return self._check_fitted().result

    @property
    def cov_type(self) -> str:
        return self._check_fitted().cov_type

    # ------------------------------------------------------------------------------
    @property
    def table(self) -> pd.DataFrame:
        out = self._check_fitted()
        vif = np.full(len(out.names), np.nan)
        pos = {c: i for i, c in enumerate(out.names)}
        for c, v in zip(self.columns, self._vif, strict=False):
            if c in pos:
                vif[pos[c]] = v
        tab = pd.DataFrame(
            {
                "estimate": out.params,
                "std_error": out.std_error,
                "ci_low": out.ci_low,
                "ci_high": out.ci_high,
                "p_value": out.p_value,
                "vif": vif,
            },
            index=pd.Index(out.names, name="term"),
        )
        if "fmi" in out.extra:
            tab["fmi"] = out.extra["fmi"]
        return tab

    @table.setter
    def table(self, value: Any) -> None:  # Result.__init__ is not used; keep it read-only
        raise AttributeError("DriverModel.table is computed from the fit and cannot be set.")

    @property
    def meta(self) -> Meta:
        out = self._check_fitted()
        m = Meta({
            "outcome": self.outcome.split("~")[0].strip(),
            "kind": {"linear": "linear (OLS)", "logit": "binary logit", "probit": "binary probit",
                     "ordinal": "ordered logit"}[self.kind],
            "n": self.n,
        })
        if self._fixed:
            m.pop("n")
        elif self.kind == "linear":
            m["r2"] = out.r2
        else:
            m["mcfadden_r2"] = out.r2
            m["loglike"] = out.loglike
        if not self._fixed:
            m["condition_number"] = self._cond
        m["covariance"] = out.cov_type
        m["ci"] = self.ci
        if getattr(self, "better", None) is not None:
            m["better"] = f"{self.better} values of the outcome"
        flips = self.sign_flips
        if len(flips):
            m["suppressor_signs"] = ", ".join(flips.index)
        if self.data_ is not None:
            mm = self.data_.missing_meta
            m["missing"] = mm.get("missing", "listwise")
            for key in ("rows", "rows used", "rows dropped (listwise)", "imputations",
                        "cells imputed", "cells filled", "indicators", "na_values removed"):
                if key in mm:
                    m[snake_key(key)] = mm[key]
            if self.data_.policy == "pairwise":
                pm = self._pairwise_meta
                m["smallest_pairwise_n"] = pm["n_min"]
        return m

    @meta.setter
    def meta(self, value: Any) -> None:
        pass

    @property
    def notes(self) -> list[str]:
        if self._fit is None:
            return []
        notes = []
        if self.data_ is not None:
            notes += self.data_.notes
            if self.data_.policy == "pairwise":
                notes += self._pairwise_meta["notes"]
        if len(self._vif) and np.max(self._vif) > self.vif_threshold:
            notes.append(f"Largest VIF {np.max(self._vif):.1f} > {self.vif_threshold:g}: "
                         "collinear drivers, coefficients unstable.")
        flips = self.sign_flips
        if len(flips):
            notes.append("Sign opposite to the driver's own correlation with the outcome "
                         f"(suppressor): {describe_signs(flips)}.")
        if self._fixed:
            notes.append("Fixed model: coefficients are given, not estimated (no sampling "
                         "uncertainty; p-values undefined).")
        notes.append(_CAUSAL)
        return notes

    @notes.setter
    def notes(self, value: Any) -> None:
        pass

    @property
    def title(self) -> str:
        return "Driver model" if not self._fixed else "Driver model (fixed coefficients)"

    def plot_data(self) -> pd.DataFrame:
        """Coefficients of the drivers with their intervals (no intercept or cut points)."""
        tab = self.table
        keep = [t for t in tab.index if t != "Intercept" and not t.startswith("cut[")]
        return tab.loc[keep, ["estimate", "ci_low", "ci_high", "p_value"]].copy()

    def _plot(self, ax: Any, **kwargs: Any) -> Any:
        from ..display._plots import PALETTE

        d = self.plot_data().sort_values("estimate")
        y = np.arange(len(d))
        ax.errorbar(d["estimate"], y, xerr=[d["estimate"] - d["ci_low"],
                                            d["ci_high"] - d["estimate"]],
                    fmt="o", color=PALETTE[0], ecolor="#666666", capsize=3, **kwargs)
        ax.axvline(0, color="#999999", lw=0.8)
        ax.set_yticks(y, [str(i) for i in d.index])
        ax.set_xlabel(f"coefficient ({self.ci:.0%} CI)")
        ax.set_title(f"{self.title}: {self.meta['outcome']}")
        return ax

    # ------------------------------------------------------------------------------
    # prediction kernel
    # ------------------------------------------------------------------------------
    def design(self, data: pd.DataFrame, *, missing: str = "raise") -> np.ndarray:
        """The ``(n, k)`` design (no intercept) of ``data``, same columns as ``.columns``."""
        self._check_fitted()
        assert self._spec is not None
        return self._spec.transform(data, missing=missing)

    @property
    def n_params(self) -> int:
        return int(self._check_fitted().params.size)

    def _split(self, params: np.ndarray) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
        """(intercept, coefficients, cut points) from a parameter array (…, P)."""
        k = len(self.columns)
        if self.kind == "ordinal":
            return None, params[..., :k], params[..., k:]
        return params[..., 0], params[..., 1 : 1 + k], None

    def linear_predictor(self, X: np.ndarray, params: np.ndarray | None = None) -> np.ndarray:
        """η = intercept + Xβ; ``params`` of shape (P,) → (n,), (S, P) → (S, n)."""
        p = self._check_fitted().params if params is None else np.asarray(params, float)
        b0, beta, _ = self._split(p)
        eta = beta @ X.T if p.ndim == 2 else X @ beta
        if b0 is not None:
            eta = eta + (b0[:, None] if p.ndim == 2 else b0)
        return eta

    def predict_design(self, X: np.ndarray, params: np.ndarray | None = None) -> np.ndarray:
        """Predictions from a design: linear → E[y]; logit/probit → P(y = 1);
        ordinal → category probabilities (…, n, K)."""
        p = self._check_fitted().params if params is None else np.asarray(params, float)
        eta = self.linear_predictor(X, p)
        if self.kind == "linear":
            return eta
        if self.kind in LINKS:
            return get_link(self.kind).cdf(eta)
        _, _, cuts = self._split(p)
        assert cuts is not None
        F = get_link("logit").cdf  # proportional odds: cumulative logit
        if p.ndim == 2:
            cum = F(cuts[:, None, :] - eta[:, :, None])
        else:
            cum = F(cuts[None, :] - eta[:, None])
        ones = np.ones((*cum.shape[:-1], 1))
        zeros = np.zeros((*cum.shape[:-1], 1))
        full = np.concatenate([zeros, cum, ones], axis=-1)
        return np.diff(full, axis=-1)

    def predict(self, data: pd.DataFrame) -> np.ndarray:
        """Predict for new respondents (see :meth:`predict_design`)."""
        return self.predict_design(self.design(data))

    def draw_params(self, size: int, rng: Any = None) -> np.ndarray:
        """Parametric draws θ⁽ˢ⁾ ~ N(θ̂, V̂) of shape (size, P) (Krinsky & Robb 1986).

        Ordinal cut points are drawn on the log-increment scale so they stay ordered.
        A fixed model returns copies of its parameters.
        """
        from .._validation import check_random_state

        out = self._check_fitted()
        gen = check_random_state(rng)
        if self._fixed or not np.any(out.cov):
            return np.tile(out.params, (size, 1))
        if (self.kind == "ordinal" and out.internal_params is not None
                and out.internal_cov is not None):
            z = _mvn(gen, out.internal_params, out.internal_cov, size)
            k = len(self.columns)
            return np.concatenate([z[:, :k], thresholds_from_internal(z[:, k:])], axis=1)
        return _mvn(gen, out.params, out.cov, size)


def _mvn(gen: np.random.Generator, mean: np.ndarray, cov: np.ndarray, size: int) -> np.ndarray:
    # eigen-based factor: robust to a covariance that is only positive semi-definite
    vals, vecs = np.linalg.eigh((cov + cov.T) / 2)
    factor = vecs * np.sqrt(np.clip(vals, 0, None))
    return mean + gen.standard_normal((size, mean.size)) @ factor.T
