"""Model fitting back-ends (statsmodels where it is the right tool).

Each ``fit_*`` function takes a validated :class:`~driverkit.data.DriverData` and returns a
:class:`FitOutput` with the estimates on driverkit's parameter layout. Weight conventions
(see the API conventions): *sampling* weights are rescaled to sum to the number of rows and
enter likelihoods as Σ wᵢ ℓᵢ, with a sandwich (HC) covariance by default; *frequency*
weights are counts (n = Σw) with the classical covariance.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import statsmodels.api as sm
from scipy import stats

from .._validation import warn
from ..data import DriverData
from ..exceptions import ConvergenceWarning, SeparationError

__all__ = ["FitOutput", "fit_binary", "fit_linear", "fit_ordinal"]


@dataclass
class FitOutput:
    params: np.ndarray
    cov: np.ndarray
    names: list[str]
    std_error: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    p_value: np.ndarray
    loglike: float
    loglike_null: float
    r2: float
    result: Any
    cov_type: str
    df_resid: float
    nobs: float
    # ordinal: the optimiser's parametrisation (thresholds as first cut + log increments)
    internal_params: np.ndarray | None = None
    internal_cov: np.ndarray | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _resolve_cov_type(robust: Any, dd: DriverData) -> str:
    if robust is None:
        return "HC1" if dd.weight_type == "sampling" else "nonrobust"
    if robust is False:
        return "nonrobust"
    if robust is True:
        return "HC1"
    return str(robust)


def _alpha(ci: float) -> float:
    return 1.0 - ci


def fit_linear(dd: DriverData, *, robust: Any = None, ci: float = 0.95) -> FitOutput:
    """OLS (unweighted), WLS (sampling weights) or frequency-weighted least squares."""
    X = sm.add_constant(dd.X, has_constant="add")
    y = dd.y
    cov_type = _resolve_cov_type(robust, dd)
    kw = {} if cov_type == "nonrobust" else {"cov_type": cov_type}
    if dd.weight_type == "frequency":
        model = sm.GLM(y, X, family=sm.families.Gaussian(), freq_weights=dd.w)
        res = model.fit(**kw)
        wsum = dd.w.sum()
        resid = y - res.fittedvalues
        ybar = np.average(y, weights=dd.w)
        r2 = 1.0 - float(np.sum(dd.w * resid**2) / np.sum(dd.w * (y - ybar) ** 2))
        df_resid = float(wsum - X.shape[1])
        ll, ll0 = float(res.llf), float(res.llnull)
    elif dd.weight_type == "sampling":
        res = sm.WLS(y, X, weights=dd.w).fit(**kw)
        r2 = float(res.rsquared)
        df_resid = float(res.df_resid)
        # Gaussian pseudo-likelihood with weights rescaled to sum to n (documented convention)
        lw = dd.loglike_weights()
        ll, ll0 = _gaussian_ll(y, res.fittedvalues, lw), _gaussian_ll(
            y, np.full_like(y, np.average(y, weights=lw)), lw)
    else:
        res = sm.OLS(y, X).fit(**kw)
        r2 = float(res.rsquared)
        df_resid = float(res.df_resid)
        ll = float(res.llf)
        ll0 = _gaussian_ll(y, np.full_like(y, y.mean()), np.ones_like(y))
    ci_arr = np.asarray(res.conf_int(alpha=_alpha(ci)))
    return FitOutput(
        params=np.asarray(res.params, float),
        cov=np.asarray(res.cov_params(), float),
        names=["Intercept", *dd.columns],
        std_error=np.asarray(res.bse, float),
        ci_low=ci_arr[:, 0],
        ci_high=ci_arr[:, 1],
        p_value=np.asarray(res.pvalues, float),
        loglike=ll,
        loglike_null=ll0,
        r2=r2,
        result=res,
        cov_type=cov_type,
        df_resid=df_resid,
        nobs=float(dd.w.sum()) if dd.weight_type == "frequency" else float(dd.n),
    )


def _gaussian_ll(y: np.ndarray, mu: np.ndarray, w: np.ndarray) -> float:
    n = w.sum()
    s2 = np.sum(w * (y - mu) ** 2) / n
    return float(-0.5 * n * (np.log(2 * np.pi * s2) + 1.0))


def _check_separation_univariate(dd: DriverData) -> None:
    """Name drivers that separate the outcome on their own (the MLE does not exist)."""
    y = dd.y
    pos, neg = (y == 1) & (dd.w > 0), (y == 0) & (dd.w > 0)
    for name, idx in dd.terms.items():
        for j in idx:
            x = dd.X[:, j]
            label = dd.columns[j]
            if name in dd.factors:
                # a dummy level where every respondent has the same outcome
                on = x == 1
                if on.any() and (not (on & pos).any() or not (on & neg).any()):
                    outcome_val = "0" if not (on & pos).any() else "1"
                    raise SeparationError(
                        f"Quasi-complete separation: every respondent with '{label}' has "
                        f"outcome {outcome_val}, so its coefficient is infinite. Merge that "
                        f"level of '{name}' with another, or drop '{name}'."
                    )
                continue
            lo1, hi1 = x[pos].min(), x[pos].max()
            lo0, hi0 = x[neg].min(), x[neg].max()
            if hi0 < lo1 or hi1 < lo0:
                raise SeparationError(
                    f"Perfect separation: the driver '{label}' alone predicts the outcome "
                    f"exactly (every {'high' if hi0 < lo1 else 'low'} value has outcome 1), so "
                    f"the logit coefficient is infinite. Remove '{label}', or use a penalised "
                    "model."
                )
            if (hi0 <= lo1 or hi1 <= lo0) and len(np.unique(x)) > 2:
                raise SeparationError(
                    f"Quasi-complete separation on the driver '{label}': the outcome groups "
                    "overlap only at a single rating, so the coefficient is not finite. "
                    f"Remove '{label}' or collapse its extreme ratings."
                )


def fit_binary(dd: DriverData, *, link: str = "logit", robust: Any = None,
               ci: float = 0.95) -> FitOutput:
    """Binary logit or probit by statsmodels GLM (Binomial family)."""
    _check_separation_univariate(dd)
    X = sm.add_constant(dd.X, has_constant="add")
    lk = sm.families.links.Logit() if link == "logit" else sm.families.links.Probit()
    fam = sm.families.Binomial(link=lk)
    cov_type = _resolve_cov_type(robust, dd)
    kw = {} if cov_type == "nonrobust" else {"cov_type": cov_type}
    if dd.weight_type == "sampling":
        model = sm.GLM(dd.y, X, family=fam, var_weights=dd.loglike_weights())
    elif dd.weight_type == "frequency":
        model = sm.GLM(dd.y, X, family=fam, freq_weights=dd.w)
    else:
        model = sm.GLM(dd.y, X, family=fam)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = model.fit(**kw)
        if link == "probit":
            # observed (not expected) information for the non-canonical link, as sm.Probit
            res = model.fit(method="newton", start_params=res.params, tol=1e-12, maxiter=100,
                            disp=0, **kw)
    eta = X @ np.asarray(res.params)
    separated = any("separation" in str(c.message).lower() for c in caught) or (
        np.abs(eta).max() > 30
    )
    if separated:
        z = np.abs(np.asarray(res.params)[1:] * dd.X.std(axis=0))
        worst = [dd.columns[j] for j in np.argsort(-z)[:3]]
        raise SeparationError(
            "Perfect or quasi-complete separation: a combination of drivers predicts the "
            f"outcome exactly (largest effects: {', '.join(worst)}), so the maximum-likelihood "
            "estimates do not exist. Remove or merge those drivers."
        )
    converged = getattr(res, "converged", None)
    if converged is None:
        converged = bool(getattr(res, "mle_retvals", {}).get("converged", True))
    if not converged:
        warn(f"The {link} fit did not converge.", ConvergenceWarning)
    for c in caught:
        if not issubclass(c.category, DeprecationWarning):
            warnings.warn(c.message, c.category, stacklevel=3)
    ci_arr = np.asarray(res.conf_int(alpha=_alpha(ci)))
    ll, ll0 = float(res.llf), float(res.llnull)
    return FitOutput(
        params=np.asarray(res.params, float),
        cov=np.asarray(res.cov_params(), float),
        names=["Intercept", *dd.columns],
        std_error=np.asarray(res.bse, float),
        ci_low=ci_arr[:, 0],
        ci_high=ci_arr[:, 1],
        p_value=np.asarray(res.pvalues, float),
        loglike=ll,
        loglike_null=ll0,
        r2=1.0 - ll / ll0,
        result=res,
        cov_type=cov_type,
        df_resid=float(res.df_resid),
        nobs=float(dd.w.sum()) if dd.weight_type == "frequency" else float(dd.n),
    )


def thresholds_from_internal(theta: np.ndarray) -> np.ndarray:
    """statsmodels' threshold parametrisation (c₁, log Δ₂, …) → increasing cut points."""
    theta = np.asarray(theta, float)
    out = np.empty_like(theta)
    out[..., 0] = theta[..., 0]
    if theta.shape[-1] > 1:
        out[..., 1:] = theta[..., :1] + np.cumsum(np.exp(theta[..., 1:]), axis=-1)
    return out


def _threshold_jacobian(theta: np.ndarray) -> np.ndarray:
    m = theta.shape[0]
    J = np.zeros((m, m))
    J[:, 0] = 1.0
    for i in range(1, m):
        J[i, 1 : i + 1] = np.exp(theta[1 : i + 1])
    return J


def fit_ordinal(dd: DriverData, *, robust: Any = None, ci: float = 0.95) -> FitOutput:
    """Ordered logit (proportional odds) by statsmodels ``OrderedModel``.

    Weighted fits multiply each respondent's log-likelihood by its weight (sampling weights
    rescaled to sum to n). Cut points are reported on their own scale with delta-method
    standard errors.
    """
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    y = dd.y.astype(int)
    K = int(y.max()) + 1
    if dd.has_weights:
        lw = dd.loglike_weights()

        class _Weighted(OrderedModel):  # type: ignore[misc]
            def loglikeobs(self, params: np.ndarray) -> np.ndarray:
                return lw * super().loglikeobs(params)

        model = _Weighted(y, dd.X, distr="logit")
    else:
        model = OrderedModel(y, dd.X, distr="logit")
    cov_type = _resolve_cov_type(robust, dd)
    kw = {} if cov_type == "nonrobust" else {"cov_type": cov_type}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = model.fit(method="bfgs", disp=0, maxiter=2000, gtol=1e-8)
        res = model.fit(method="newton", disp=0, maxiter=100, start_params=start.params, **kw)
    if not res.mle_retvals.get("converged", True):
        warnings.warn("The ordered logit fit did not converge.",
ConvergenceWarning, stacklevel=2,
)
    k = dd.k
    internal = np.asarray(res.params, float)
    icov = np.asarray(res.cov_params(), float)
    beta = internal[:k]
    cuts = thresholds_from_internal(internal[k:])
    J = np.eye(internal.size)
    J[k:, k:] = _threshold_jacobian(internal[k:])
    cov = J @ icov @ J.T
    params = np.concatenate([beta, cuts])
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    zcrit = stats.norm.ppf(0.5 + ci / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, params / se, np.nan)
    pv = 2 * stats.norm.sf(np.abs(z))
    levels = [str(v) if not isinstance(v, float) or not v.is_integer() else str(int(v))
              for v in (dd.outcome_levels or list(range(K)))]
    cut_names = [f"cut[{levels[i]}|{levels[i + 1]}]" for i in range(K - 1)]
    lw = dd.loglike_weights()
    counts = np.array([lw[y == c].sum() for c in range(K)])
    props = counts / counts.sum()
    ll0 = float(np.sum(counts[counts > 0] * np.log(props[counts > 0])))
    ll = float(res.llf)
    return FitOutput(
        params=params,
        cov=cov,
        names=[*dd.columns, *cut_names],
        std_error=se,
        ci_low=params - zcrit * se,
        ci_high=params + zcrit * se,
        p_value=pv,
        loglike=ll,
        loglike_null=ll0,
        r2=1.0 - ll / ll0,
        result=res,
        cov_type=cov_type,
        df_resid=float(dd.n - params.size),
        nobs=float(dd.w.sum()) if dd.weight_type == "frequency" else float(dd.n),
        internal_params=internal,
        internal_cov=icov,
        extra={"n_categories": K},
    )
