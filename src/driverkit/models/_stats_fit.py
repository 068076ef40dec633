"""Linear driver models from sufficient statistics (no row-level data needed)."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

from ..exceptions import DriverkitError
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
    d = np.sqrt(np.diag(xtx))
    ev = np.linalg.eigvalsh(xtx / np.outer(d, d))
    cond = float(np.sqrt(ev[-1] / ev[0])) if ev[0] > 0 else float("inf")
    out = FitOutput(
        params=params, cov=fit.cov_params.to_numpy(float), names=list(fit.params.index),
        std_error=se, ci_low=params - tcrit * se, ci_high=params + tcrit * se, p_value=pv,
        loglike=fit.loglike, loglike_null=float("nan"), r2=fit.r2, result=fit,
        cov_type="nonrobust", df_resid=fit.df_resid, nobs=fit.nobs,
    )
    meta = {"vif": fit.vif.to_numpy(float), "condition_number": cond}
    return out, meta
