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
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .._validation import warn
from ..data import DriverData
from ..exceptions import ConvergenceWarning, DriverkitError, SeparationError
from ..stats._links import get_link

__all__ = ["FitOutput", "fit_binary", "fit_linear", "fit_ordinal"]


def _statsmodels() -> SimpleNamespace:
    """The statsmodels classes used here, imported on first use.

    ``statsmodels.api`` also loads its graphics, time-series and datasets modules (about
    a second); the model modules alone are much lighter, and only fits need them.
    """
    from statsmodels.genmod import families
    from statsmodels.genmod.generalized_linear_model import GLM
    from statsmodels.regression.linear_model import OLS, WLS
    from statsmodels.tools.tools import add_constant

    return SimpleNamespace(GLM=GLM, OLS=OLS, WLS=WLS, add_constant=add_constant,
                           families=families)


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
    sm = _statsmodels()
    X = sm.add_constant(dd.X, has_constant="add")
    y = dd.y
    assert y is not None
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
    return _from_statsmodels(res, dd, ll=ll, ll0=ll0, r2=r2, cov_type=cov_type,
                             df_resid=df_resid, ci=ci)


def _from_statsmodels(res: Any, dd: DriverData, *, ll: float, ll0: float, r2: float,
                      cov_type: str, df_resid: float, ci: float) -> FitOutput:
    """Estimates, SEs, intervals and p-values exactly as statsmodels reports them."""
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
    sm = _statsmodels()
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
    ll, ll0 = float(res.llf), float(res.llnull)
    return _from_statsmodels(res, dd, ll=ll, ll0=ll0, r2=1.0 - ll / ll0, cov_type=cov_type,
                             df_resid=float(res.df_resid), ci=ci)


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


def _internal_from_thresholds(cuts: np.ndarray) -> np.ndarray:
    """Increasing cut points → (c₁, log Δ₂, …), statsmodels' ``OrderedModel`` layout."""
    out = np.empty_like(cuts)
    out[0] = cuts[0]
    out[1:] = np.log(np.diff(cuts))
    return out


def _ordinal_scores(X: np.ndarray, codes: np.ndarray, beta: np.ndarray,
                    cuts: np.ndarray) -> np.ndarray:
    """Per-respondent score vectors ∂ℓᵢ/∂(β, c) of the proportional-odds logit (n × P)."""
    n, k = X.shape
    K1 = cuts.size
    th = np.concatenate([[-np.inf], cuts, [np.inf]])
    eta = X @ beta
    a = th[codes + 1] - eta
    b = th[codes] - eta
    lk = get_link("logit")
    Fa, Fb = lk.cdf(a), lk.cdf(b)
    fa = np.where(np.isfinite(a), Fa * (1 - Fa), 0.0)
    fb = np.where(np.isfinite(b), Fb * (1 - Fb), 0.0)
    P = np.clip(Fa - Fb, 1e-300, None)
    ga, gb = fa / P, fb / P
    S = np.zeros((n, k + K1))
    S[:, :k] = -(ga - gb)[:, None] * X
    up = codes < K1
    S[np.where(up)[0], k + codes[up]] += ga[up]
    lo = codes > 0
    S[np.where(lo)[0], k + codes[lo] - 1] -= gb[lo]
    return S


def fit_ordinal(dd: DriverData, *, robust: Any = None, ci: float = 0.95) -> FitOutput:
    """Ordered logit (proportional odds), fitted by Newton–Raphson with analytic derivatives.

    The estimator is the chunk-capable Newton fit in :func:`driverkit.stats.ordered_logit_irls`
    (it agrees with statsmodels' ``OrderedModel`` to ~1e-8 and is ~50× faster on survey-sized
    data with many categories). Weighted fits multiply each respondent's log-likelihood by
    its weight (sampling weights rescaled to sum to n). The covariance is the inverse
    observed information, or a sandwich with analytic per-respondent scores (HC0/HC1,
    the default with sampling weights). Cut points are reported on their own scale.
    """
    from ..stats import ordered_logit_irls

    assert dd.y is not None
    y = dd.y.astype(int)
    K = int(y.max()) + 1
    k = dd.k
    names = [f"x{j}" for j in range(k)]
    frame = pd.DataFrame(dd.X, columns=names)
    frame["__y__"] = y
    w = None
    if dd.has_weights:
        frame["__w__"] = dd.w
        w = "__w__"
    wt = "frequency" if dd.weight_type == "frequency" else "sampling"
    g = ordered_logit_irls(frame, "__y__", names, weights=w, weight_type=wt, progress=False)
    if not g.converged:
        warn("The ordered logit fit did not converge.", ConvergenceWarning)
    params = g.params.to_numpy(float)
    cov = g.cov_params.to_numpy(float)
    beta, cuts = params[:k], params[k:]
    cov_type = _resolve_cov_type(robust, dd)
    if cov_type != "nonrobust":
        if cov_type not in ("HC0", "HC1"):
            raise DriverkitError(
                f"robust={cov_type!r} is not available for ordinal models; use 'HC0' or 'HC1'."
            )
        lw = dd.loglike_weights()
        S = _ordinal_scores(dd.X, y, beta, cuts) * lw[:, None]
        cov = cov @ (S.T @ S) @ cov
        if cov_type == "HC1":
            cov *= dd.n / (dd.n - params.size)
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    zcrit = stats.norm.ppf(0.5 + ci / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, params / se, np.nan)
    pv = 2 * stats.norm.sf(np.abs(z))
    levels = [str(v) if not isinstance(v, float) or not v.is_integer() else str(int(v))
              for v in (dd.outcome_levels or list(range(K)))]
    cut_names = [f"cut[{levels[i]}|{levels[i + 1]}]" for i in range(K - 1)]
    # the internal (log-increment) layout keeps parametric draws ordered
    internal = np.concatenate([beta, _internal_from_thresholds(cuts)])
    Jg = np.eye(params.size)
    Jg[k:, k:] = np.linalg.inv(_threshold_jacobian(internal[k:]))
    icov = Jg @ cov @ Jg.T
    return FitOutput(
        params=params,
        cov=cov,
        names=[*dd.columns, *cut_names],
        std_error=se,
        ci_low=params - zcrit * se,
        ci_high=params + zcrit * se,
        p_value=pv,
        loglike=float(g.loglike),
        loglike_null=float(g.loglike_null),
        r2=float(g.r2),
        result=g,
        cov_type=cov_type,
        df_resid=float(dd.n - params.size),
        nobs=float(dd.w.sum()) if dd.weight_type == "frequency" else float(dd.n),
        internal_params=internal,
        internal_cov=icov,
        extra={"n_categories": K, "iterations": g.iterations},
    )
