"""The single-fit kernel of binary (logit, probit) and ordinal (cumulative logit) GLMs.

One Newton–Raphson driver with step halving (:func:`newton`) and the per-row pieces it needs —
log-likelihood, score and *observed* information — for a binary GLM (:func:`binary_terms`) and
the proportional-odds model (:func:`ordinal_terms`). Sums over rows are all that a Newton
step needs, so the same pieces serve an in-memory fit (:func:`fit_binary`,
:func:`fit_ordinal`) and the chunked IRLS of :mod:`driverkit.stats._irls` (one data pass per
iteration, the pieces summed over chunks). With the observed information the inverse
information at the optimum is the model-based covariance statsmodels reports (``Logit``,
``Probit``, ``OrderedModel``); for the logit it equals the expected information.

Weights ``v`` multiply each row's log-likelihood (Σ vᵢ ℓᵢ); callers decide their scale
(sampling weights rescaled to sum to n, frequency weights as counts). Warm starts: pass
``start=`` (e.g. the full-sample estimate when refitting a bootstrap replicate).

The batched kernel that fits *every subset* of drivers at once for GLM importance lives in
:mod:`driverkit.importance._glm`; it solves the same likelihood equations.

Examples
--------
>>> import numpy as np
>>> from driverkit.stats._glmfit import fit_binary
>>> rng = np.random.default_rng(0)
>>> x = rng.normal(size=500)
>>> y = (rng.random(500) < 1 / (1 + np.exp(-(0.3 + x)))).astype(float)
>>> fit = fit_binary(np.column_stack([np.ones(500), x]), y)
>>> fit.converged, fit.params.round(2).tolist()
(True, [0.33, 1.22])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ._links import get_link

__all__ = ["GLMFit", "binary_terms", "fit_binary", "fit_ordinal", "newton", "ordinal_terms"]

Evaluate = Callable[[np.ndarray], tuple[float, np.ndarray, np.ndarray, float]]


# --------------------------------------------------------------------------------------
# the Newton driver
# --------------------------------------------------------------------------------------
def newton(evaluate: Evaluate, theta0: np.ndarray, *, tol: float = 1e-10, max_iter: int = 100,
           feasible: Callable[[np.ndarray], bool] | None = None, line_search: bool = True
           ) -> tuple[np.ndarray, float, np.ndarray, float, int, bool]:
    """Maximise a log-likelihood by Newton steps with step halving.

    ``evaluate(θ) -> (loglike, score, information, max|η|)`` (information: the negative
    Hessian). Converged when the largest step is below ``tol·(1 + max|θ|)``. Returns
    ``(θ̂, loglike, information, max|η|, iterations, converged)``; the returned information
    is that of the last evaluated point (within O(|step|) of θ̂). ``line_search=False`` takes
    full steps without checking the log-likelihood (for refits warm-started at the optimum of
    a concave likelihood, e.g. bootstrap replicates; ``evaluate`` may then skip it).
    """
    theta = np.array(theta0, dtype=float)
    ll, g, H, maxeta = evaluate(theta)
    it = 0
    while it < max_iter:
        it += 1
        try:
            step = np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(H, g, rcond=None)[0]
        if not np.all(np.isfinite(step)):
            return theta, ll, H, maxeta, it, False
        if np.max(np.abs(step)) <= tol * (1.0 + np.max(np.abs(theta))):
            return theta + step, ll, H, maxeta, it, True
        if not line_search:
            theta = theta + step
            ll, g, H, maxeta = evaluate(theta)
            continue
        t = 1.0
        for _ in range(40):
            cand = theta + t * step
            if feasible is None or feasible(cand):
                ll_c, g_c, H_c, me_c = evaluate(cand)
                if np.isfinite(ll_c) and ll_c >= ll - 1e-10 * (1 + abs(ll)):
                    break
            t *= 0.5
        else:
            return theta, ll, H, maxeta, it, False
        theta, ll, g, H, maxeta = cand, ll_c, g_c, H_c, me_c
    return theta, ll, H, maxeta, it, False


# --------------------------------------------------------------------------------------
# binary GLM pieces
# --------------------------------------------------------------------------------------
def binary_terms(X: np.ndarray, y: np.ndarray, v: np.ndarray | None, beta: np.ndarray, *,
                 link: str = "logit", intercept: bool = False, loglike: bool = True
                 ) -> tuple[float, np.ndarray, np.ndarray, float]:
    """Log-likelihood, score, observed information and max|η| of a binary GLM.

    ``intercept=True``: ``beta[0]`` is an intercept not stored as a column of ``X`` (saves a
    copy of a large chunk). ``y`` is 0/1; ``v`` row weights or ``None``. ``loglike=False``
    skips the log-likelihood (returned as NaN) when only the Newton step is needed.

    Logit: score Σ vᵢ(yᵢ − pᵢ)xᵢ, information Σ vᵢ pᵢ(1 − pᵢ) xᵢxᵢᵀ. Probit, with
    qᵢ = 2yᵢ − 1 and λᵢ = qᵢ φ(qᵢηᵢ)/Φ(qᵢηᵢ): score Σ vᵢλᵢxᵢ, observed information
    Σ vᵢ λᵢ(λᵢ + ηᵢ) xᵢxᵢᵀ.
    """
    eta = X @ beta[1:] + beta[0] if intercept else X @ beta
    vv = np.ones_like(eta) if v is None else v
    if link == "logit":
        lk = get_link("logit")
        p = lk.cdf(eta)
        # log(1 + e^η) = max(η, 0) + log1p(e^−|η|): exact in both tails, ~3x cheaper than
        # np.logaddexp on survey-sized arrays
        ll = float("nan")
        if loglike:
            softplus = np.maximum(eta, 0.0) + np.log1p(np.exp(-np.abs(eta)))
            ll = float(vv @ (y * eta - softplus))
        r = vv * (y - p)
        s = vv * p * (1.0 - p)
    else:
        lk = get_link(link)
        q = 2.0 * y - 1.0
        qe = q * eta
        logF = lk.log_cdf(qe)
        ll = float(vv @ logF)
        lam = q * np.exp(np.log(lk.pdf(qe)) - logF)  # q φ(qη)/Φ(qη), stable in the tails
        r = vv * lam
        s = vv * lam * (lam + eta)
    if intercept:
        k = beta.size
        g = np.concatenate([[r.sum()], r @ X])
        H = np.empty((k, k))
        H[0, 0] = s.sum()
        H[0, 1:] = H[1:, 0] = s @ X
        H[1:, 1:] = _weighted_gram(X, s)
    else:
        g = r @ X
        H = _weighted_gram(X, s)
    return ll, g, H, float(np.max(np.abs(eta), initial=0.0))


def _weighted_gram(X: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Xᵀ diag(s) X, symmetrised (s may have either sign: probit information away from the
    optimum)."""
    G = (X * s[:, None]).T @ X
    return (G + G.T) / 2


# --------------------------------------------------------------------------------------
# ordinal (proportional-odds logit) pieces
# --------------------------------------------------------------------------------------
def ordinal_terms(X: np.ndarray, codes: np.ndarray, v: np.ndarray | None, theta: np.ndarray,
                  n_categories: int) -> tuple[float, np.ndarray, np.ndarray, float]:
    """Log-likelihood, score, observed information and max|η| of the ordered logit.

    ``theta = (β, c₁ < … < c_{K−1})`` (no intercept); ``codes`` in 0..K−1. Row i contributes
    ``log[F(c_{yᵢ} − ηᵢ) − F(c_{yᵢ−1} − ηᵢ)]`` (McCullagh 1980); the information is assembled
    from its derivatives in η and the two cut points bounding the row's category, so the
    cut-point block is tridiagonal.
    """
    lk = get_link("logit")
    p = X.shape[1]
    K = int(n_categories)
    beta, cuts = theta[:p], theta[p:]
    vv = np.ones(X.shape[0]) if v is None else v
    eta = X @ beta
    ext = np.concatenate([[-np.inf], cuts, [np.inf]])
    a = ext[codes + 1] - eta  # upper threshold
    b = ext[codes] - eta  # lower threshold
    Fa, Fb = lk.cdf(a), lk.cdf(b)
    fa, fb = Fa * (1 - Fa), Fb * (1 - Fb)
    dfa, dfb = fa * (1 - 2 * Fa), fb * (1 - 2 * Fb)
    P = lk.cdf_diff(a, b)
    ll = float(vv @ np.log(P))
    q = fa - fb
    d_eta = -q / P
    d_up = fa / P
    d_lo = -fb / P
    h_ee = (dfa - dfb) / P - (q / P) ** 2
    h_eu = -dfa / P + fa * q / P**2
    h_el = dfb / P - fb * q / P**2
    h_uu = dfa / P - (fa / P) ** 2
    h_ll = -dfb / P - (fb / P) ** 2
    h_ul = fa * fb / P**2
    m = K - 1
    up = codes  # index of the upper threshold in cuts (valid when code < K-1)
    lo = codes - 1  # index of the lower threshold (valid when code > 0)
    has_up = codes < K - 1
    has_lo = codes > 0
    g = np.zeros(p + m)
    g[:p] = (vv * d_eta) @ X
    g[p:] += np.bincount(up[has_up], weights=(vv * d_up)[has_up], minlength=m)
    g[p:] += np.bincount(lo[has_lo], weights=(vv * d_lo)[has_lo], minlength=m)
    H = np.zeros((p + m, p + m))  # Hessian of the log-likelihood (negated at the end)
    s = vv * h_ee
    Xs = X * np.sqrt(np.abs(s))[:, None]
    H[:p, :p] = (Xs * np.sign(s)[:, None]).T @ Xs
    S = np.zeros((X.shape[0], m))
    rows = np.arange(X.shape[0])
    S[rows[has_up], up[has_up]] += (vv * h_eu)[has_up]
    S[rows[has_lo], lo[has_lo]] += (vv * h_el)[has_lo]
    H[:p, p:] = X.T @ S
    H[p:, :p] = H[:p, p:].T
    diag = (np.bincount(up[has_up], weights=(vv * h_uu)[has_up], minlength=m)
            + np.bincount(lo[has_lo], weights=(vv * h_ll)[has_lo], minlength=m))
    H[p:, p:] += np.diag(diag)
    both = has_up & has_lo
    off = np.bincount(lo[both], weights=(vv * h_ul)[both], minlength=m)  # pairs (lo, lo+1)
    idx = np.arange(m - 1)
    H[p + idx, p + idx + 1] += off[:-1]
    H[p + idx + 1, p + idx] += off[:-1]
    return ll, g, -H, float(np.max(np.abs(eta), initial=0.0))


def ordinal_start(codes: np.ndarray, v: np.ndarray | None, n_categories: int, p: int
                  ) -> np.ndarray:
    """Starting values: β = 0 and the cut points of the thresholds-only model."""
    V = np.bincount(codes, weights=v, minlength=n_categories).astype(float)
    cum = np.cumsum(V)[:-1] / V.sum()
    return np.concatenate([np.zeros(p), np.log(cum / (1 - cum))])


# --------------------------------------------------------------------------------------
# in-memory fits
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GLMFit:
    """One fitted binary or ordinal GLM (arrays; the caller names the parameters).

    ``information`` is the observed information at the estimates; ``cov`` its inverse
    (pseudo-inverse when singular).
    """

    params: np.ndarray
    loglike: float
    information: np.ndarray
    cov: np.ndarray
    max_eta: float
    iterations: int
    converged: bool


def _finish(theta: np.ndarray, ll: float, H: np.ndarray, maxeta: float, it: int,
            conv: bool) -> GLMFit:
    try:
        cov = np.linalg.inv(H)
    except np.linalg.LinAlgError:
        cov = np.linalg.pinv(H)
    return GLMFit(params=theta, loglike=float(ll), information=H, cov=(cov + cov.T) / 2,
                  max_eta=float(maxeta), iterations=int(it), converged=bool(conv))


def fit_binary(X: np.ndarray, y: np.ndarray, w: np.ndarray | None = None, *,
               link: str = "logit", start: np.ndarray | None = None, tol: float = 1e-10,
               max_iter: int = 100, line_search: bool = True) -> GLMFit:
    """Binary GLM ``P(y = 1) = F(Xβ)`` by Newton with observed information.

    ``X`` is the whole design (include a column of ones for an intercept); ``w`` multiplies
    each row's log-likelihood. ``start``: warm start (default zeros). ``line_search=False``:
    plain Newton steps and no log-likelihood (``loglike`` is NaN), for refits that start at a
    nearby optimum (bootstrap replicates).
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    theta0 = np.zeros(X.shape[1]) if start is None else np.asarray(start, dtype=float)
    # at convergence the last step is below tol, so the log-likelihood and information of
    # the last evaluated point are those of the estimate to O(tol) (no extra data pass)
    theta, ll, H, maxeta, it, conv = newton(
        lambda b: binary_terms(X, y, w, b, link=link, loglike=line_search), theta0, tol=tol,
        max_iter=max_iter, line_search=line_search)
    return _finish(theta, ll, H, maxeta, it, conv)


def fit_ordinal(X: np.ndarray, codes: np.ndarray, w: np.ndarray | None = None, *,
                n_categories: int | None = None, start: np.ndarray | None = None,
                tol: float = 1e-10, max_iter: int = 100) -> GLMFit:
    """Proportional-odds logit (``codes`` 0..K−1, no intercept column in ``X``) by Newton."""
    X = np.asarray(X, dtype=float)
    codes = np.asarray(codes, dtype=np.intp)
    K = int(codes.max()) + 1 if n_categories is None else int(n_categories)
    p = X.shape[1]
    theta0 = (ordinal_start(codes, w, K, p) if start is None
              else np.asarray(start, dtype=float))

    def feasible(theta: np.ndarray) -> bool:
        return bool(np.all(np.diff(theta[p:]) > 0))

    theta, ll, H, maxeta, it, conv = newton(
        lambda t: ordinal_terms(X, codes, w, t, K), theta0, tol=tol, max_iter=max_iter,
        feasible=feasible)
    return _finish(theta, ll, H, maxeta, it, conv)
