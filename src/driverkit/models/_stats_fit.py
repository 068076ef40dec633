"""Linear driver models from sufficient statistics (no row-level data needed)."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

from ..exceptions import DriverkitError
from ..stats._collinearity import condition_number_from_crossproducts
from ._fitting import FitOutput

__all__ = ["fit_linear_from_stats"]


def fit_linear_from_stats(st: Any, outcome: str, drivers: list[str], *, robust: Any = None,
                          ci: float = 0.95) -> tuple[FitOutput, dict[str, Any]]:
    """OLS/WLS from a :class:`~driverkit.stats.SufficientStats` object.

    The covariance is the classical σ̂²(XᵀWX)⁻¹ (statsmodels ``OLS``/``WLS``, or
    ``GLM(freq_weights=...)`` for frequency weights): a sandwich covariance needs row-level
    residuals, which sufficient statistics do not keep.
    """
    if robust not in (None, False, "nonrobust"):
        raise DriverkitError(
            f"robust={robust!r} needs row-level residuals; sufficient statistics give the "
            "classical covariance only. Fit on the data for a sandwich covariance."
        )
    fit = st.ols(outcome, drivers)
    params = fit.params.to_numpy(float)
    se = fit.std_errors.to_numpy(float)
    tcrit = stats.t.ppf(0.5 + ci / 2, fit.df_resid)
    with np.errstate(divide="ignore", invalid="ignore"):
        tval = np.where(se > 0, params / se, np.nan)
    pv = 2 * stats.t.sf(np.abs(tval), fit.df_resid)
    xtx = st.crossproducts(drivers, intercept=True).to_numpy(float)
    cond = condition_number_from_crossproducts(xtx)
    out = FitOutput(
        params=params, cov=fit.cov_params.to_numpy(float), names=list(fit.params.index),
        std_error=se, ci_low=params - tcrit * se, ci_high=params + tcrit * se, p_value=pv,
        loglike=fit.loglike, loglike_null=float("nan"), r2=fit.r2, result=fit,
        cov_type="nonrobust", df_resid=fit.df_resid, nobs=fit.nobs,
    )
    meta = {"vif": fit.vif.to_numpy(float), "condition_number": cond}
    return out, meta


def is_streamed_source(data: Any) -> bool:
    """A file path, a list of paths or a dask DataFrame (not an in-memory DataFrame)."""
    import os

    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return False
    if isinstance(data, str | os.PathLike):
        return True
    if isinstance(data, list | tuple) and data and all(
            isinstance(p, str | os.PathLike) for p in data):
        return True
    return type(data).__module__.startswith("dask")


def fit_from_source(source: Any, kind: str, outcome: str, drivers: list[str], *,
                    weights: Any, weight_type: str, missing: str, robust: Any,
                    ci: float) -> tuple[FitOutput, dict[str, Any]]:
    """Fit on files or a dask DataFrame without loading them: linear via sufficient
    statistics, logit / ordered logit by chunked Newton–IRLS (one pass per iteration)."""
    from ..stats import logit_irls, ordered_logit_irls, sufficient_stats

    if kind == "linear":
        st = sufficient_stats(source, [*drivers, outcome], weights=weights,
                              weight_type=weight_type, missing=missing)
        out, meta = fit_linear_from_stats(st, outcome, drivers, robust=robust, ci=ci)
        meta["n_dropped"] = getattr(st, "n_dropped", 0)
        return out, meta
    if robust not in (None, False, "nonrobust"):
        raise DriverkitError(
            f"robust={robust!r} is not available for streamed fits (they keep no row-level "
            "scores); fit in memory for a sandwich covariance."
        )
    if kind == "probit":
        raise DriverkitError(
            "Streamed fits support kind='linear', 'logit' and 'ordinal'; load the data for a "
            "probit model."
        )
    fitter = logit_irls if kind == "logit" else ordered_logit_irls
    g = fitter(source, outcome, drivers, weights=weights, weight_type=weight_type,
               missing=missing)
    params = g.params.to_numpy(float)
    se = g.std_errors.to_numpy(float)
    z = stats.norm.ppf(0.5 + ci / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        zval = np.where(se > 0, params / se, np.nan)
    out = FitOutput(
        params=params, cov=g.cov_params.to_numpy(float), names=list(g.params.index),
        std_error=se, ci_low=params - z * se, ci_high=params + z * se,
        p_value=2 * stats.norm.sf(np.abs(zval)), loglike=g.loglike,
        loglike_null=g.loglike_null, r2=g.r2, result=g, cov_type="nonrobust",
        df_resid=float(g.nobs - params.size), nobs=float(g.nobs),
    )
    return out, {"outcome_levels": g.outcome_levels, "n_dropped": g.n_dropped}
