"""Bootstrap replicates of logit subset importance, batched over replicates.

A bootstrap replicate re-weights the respondents, so replicate b of subset model S maximises
ℓ_b(β) = Σ_i c_bi w_i ℓ_i(x_iS β). All replicates of one subset share the design columns
X_S, so they are fitted together: the linear predictors, scores and information matrices of
every replicate of S are dense products of the replicate weights ``V`` (R × n) with the
subset's own columns (no columns outside S, unlike the all-subsets engine, which batches
different subsets in a common layout).

Every replicate of S starts from the full-sample estimate β̂_S, where the fitted
probabilities do not depend on the replicate. The first Newton iteration is therefore shared:
score and information of all replicates are one product of ``V`` with columns weighted by the
full-sample residuals and variances. Resampling moves β̂ by O(n^−1/2), so Newton usually
meets the tolerance two iterations later. Nothing is accepted unconverged: a (subset,
replicate) pair that misses the tolerance, or meets a non-finite value, is refitted from
zero with step halving (a damped Newton that raises the likelihood at every step), and a
replicate whose subset models still fail, are non-finite, or give a pseudo-R² outside
[0, 1] or a nested model with a lower likelihood than its parent is reported failed
(``status``), never averaged in.

With the sign s_i = 2y_i − 1 folded into the design, the probability of the observed answer
is q = expit(s·η); then y − p = s(1 − q), p(1 − p) = q(1 − q) and ℓ_i = log q, so each
iteration needs one ``expit`` per respondent and replicate, and the log-likelihood one
``log`` at the converged point.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special

from ..exceptions import DriverkitError
from ._glm import (
    GLMSubsetFits,
    _likelihood_weights,
    _players,
    fit_index_value,
    glm_subset_values,
    subset_layout,
)

__all__ = ["ReplicateFits", "fits_consistent", "logit_replicate_values", "replicate_values"]

_FAST_ITER = 8  # iterations of the shared-start pass before a pair is refitted safely
_SAFE_ITER = 200
_REMAINDER = 1.0 / (36.0 * np.sqrt(3.0))  # sup|(log expit)'''|/6 = (1/(6√3))/6
OK, REFITTED, FAILED = 0, 1, 2


@dataclass
class ReplicateFits:
    """Subset fits of bootstrap replicates.

    Attributes
    ----------
    v : ndarray (R, 2^p)
        Value function of each replicate (fit index relative to the always-only model);
        NaN rows for failed replicates.
    loglike : ndarray (R, 2^p)
    loglike_null : ndarray (R,)
    status : ndarray of int (R,)
        0 = every subset converged in the fast pass, 1 = some subset models were refitted
        with step halving, 2 = failed (dropped: non-finite, not converged or inconsistent).
    r2_full, r2_always : ndarray (R,)
    """

    v: np.ndarray
    loglike: np.ndarray
    loglike_null: np.ndarray
    status: np.ndarray
    r2_full: np.ndarray
    r2_always: np.ndarray


def _solve(H: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Newton steps for a batch of information matrices (pinv where singular)."""
    try:
        return np.linalg.solve(H, g[..., None])[..., 0]
    except np.linalg.LinAlgError:
        out = np.empty_like(g)
        for b in range(H.shape[0]):
            out[b] = np.linalg.pinv(H[b], hermitian=True) @ g[b]
        return out


class _Subset:
    """One subset model's compact design (signed columns and their pair products)."""

    def __init__(self, Xs: np.ndarray, cols: np.ndarray) -> None:
        self.X = np.ascontiguousarray(Xs[:, cols])  # n × m, rows multiplied by s_i
        m = cols.size
        self.m = m
        self.iu, self.ju = np.triu_indices(m)
        self.P = self.X[:, self.iu] * self.X[:, self.ju]  # signs cancel in products

    def info(self, D: np.ndarray) -> np.ndarray:
        """Information matrices (B, m, m) from per-row weights D (B, n)."""
        flat = D @ self.P
        H = np.empty((D.shape[0], self.m, self.m))
        H[:, self.iu, self.ju] = flat
        H[:, self.ju, self.iu] = flat
        return H


def _safe_fit(sub: _Subset, V: np.ndarray, beta0: np.ndarray, eps: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Damped Newton (step halving on ℓ) for rows of ``V``; returns (β, ℓ, converged)."""
    X = sub.X
    beta = beta0.copy()

    def loglike(b: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore", divide="ignore"):
            return np.sum(V * special.log_expit(b @ X.T), axis=1)

    ll = loglike(beta)
    conv = np.zeros(V.shape[0], dtype=bool)
    act = np.arange(V.shape[0])
    for _ in range(_SAFE_ITER):
        Va = V[act]
        Q = special.expit(beta[act] @ X.T)
        g = (Va * (1.0 - Q)) @ X
        step = _solve(sub.info(Va * Q * (1.0 - Q)), g)
        dec = np.einsum("bm,bm->b", step, g)
        finite = np.isfinite(dec) & np.all(np.isfinite(step), axis=1)
        step[~finite] = 0.0
        done = finite & (dec <= eps[act])
        conv[act[done]] = True
        t = np.ones(act.size)
        base = beta[act]
        new = ll[act]
        for _ in range(60):
            trial = loglike(base + t[:, None] * step)
            bad = ~(trial >= ll[act] - 1e-12 * np.abs(ll[act]))
            new = np.where(bad, new, trial)
            if not bad.any():
                break
            t = np.where(bad, t / 2, t)
        t = np.where(bad, 0.0, t)
        beta[act] = base + t[:, None] * step
        # a converged row keeps the likelihood at its last iterate (within tolerance)
        ll[act] = np.where(done, np.maximum(ll[act], new), new)
        keep = ~done & finite & (t > 0)
        act = act[keep]
        if act.size == 0:
            break
    return beta, ll, conv


def logit_replicate_values(X: np.ndarray, y: np.ndarray, W: np.ndarray, coef: np.ndarray, *,
                           fit_index: str = "mcfadden",
                           players: Sequence[Sequence[int]] | None = None,
                           always: Sequence[int] | None = None,
                           weight_type: str = "sampling", tol: float = 1e-10,
                           max_iter: int = _FAST_ITER) -> ReplicateFits:
    """Logit fits of every subset model for a batch of replicate weights.

    Parameters
    ----------
    X, y : ndarray
        Design (n, k) without intercept and 0/1 outcome, as for
        :func:`~driverkit.importance._glm.glm_subset_values`.
    W : ndarray (R, n)
        Replicate weights (resampling counts times survey weights).
    coef : ndarray (2^p, k + 1)
        Full-sample coefficients of every subset (``GLMSubsetFits.coef``): the shared start.
    fit_index, players, always, weight_type, tol
        As for :func:`~driverkit.importance._glm.glm_subset_values`; ``tol`` scales with
        each replicate's |ℓ_0|.
    max_iter : int
        Newton iterations of the fast pass before a pair is refitted with step halving.

    Returns
    -------
    ReplicateFits

    Examples
    --------
    >>> import numpy as np
    >>> from driverkit.importance._glm import glm_subset_values
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 3))
    >>> y = (rng.random(300) < 1 / (1 + np.exp(-X @ [1.0, 0.5, 0.0]))).astype(float)
    >>> full = glm_subset_values(X, y)
    >>> W = rng.multinomial(300, np.full(300, 1 / 300), size=4).astype(float)
    >>> reps = logit_replicate_values(X, y, W, full.coef)
    >>> one = glm_subset_values(X, y, W[2])
    >>> bool(np.allclose(reps.v[2], one.v, atol=1e-9)), reps.status.tolist()
    (True, [0, 0, 0, 0])
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    W = np.atleast_2d(np.asarray(W, dtype=float))
    n, k = X.shape
    R = W.shape[0]
    players_l, always_l = _players(k, players, always)
    p = len(players_l)
    n_masks = 1 << p
    if coef.shape != (n_masks, k + 1):
        raise DriverkitError(f"coef must have shape {(n_masks, k + 1)}; got {coef.shape}.")
    s = 2.0 * y - 1.0
    Xs = np.column_stack([np.ones(n), X]) * s[:, None]
    member, parents = subset_layout(k + 1, [[c + 1 for c in pl] for pl in players_l],
                                    [0] + [c + 1 for c in always_l])
    V = np.empty((R, n))
    n_idx = np.empty(R)
    ll0 = np.full(R, np.nan)
    valid = np.ones(R, dtype=bool)
    for b in range(R):
        try:
            V[b], n_idx[b] = _likelihood_weights(W[b], n, weight_type)
        except DriverkitError:
            V[b], n_idx[b], valid[b] = 0.0, 1.0, False
            continue
        ybar = float(V[b] @ y / V[b].sum())
        if 0 < ybar < 1:
            ll0[b] = V[b].sum() * (ybar * np.log(ybar) + (1 - ybar) * np.log1p(-ybar))
        else:
            valid[b] = False
    eps = tol * np.maximum(1.0, np.abs(np.nan_to_num(ll0)))
    ll = np.full((R, n_masks), np.nan)
    refitted = np.zeros(R, dtype=bool)
    unconverged = np.zeros(R, dtype=bool)
    rows = np.flatnonzero(valid)
    Vr, eps_r = V[rows], eps[rows]
    if not always_l:
        ll[:, 0] = ll0
    first = 0 if always_l else 1
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for mask in range(first, n_masks):
            cols = np.flatnonzero(member[mask])
            sub = _Subset(Xs, cols)
            b0 = coef[mask, cols]
            out, bad = _fast(sub, Vr, b0, eps_r, max_iter)
            if bad.any():
                idx = np.flatnonzero(bad)
                start = np.zeros((idx.size, cols.size))
                Vb = Vr[idx]
                ybar = (Vb @ y) / Vb.sum(axis=1)
                start[:, 0] = special.logit(ybar)  # column 0 is the intercept
                _, ll_s, conv_s = _safe_fit(sub, Vb, start, eps_r[idx])
                out[idx] = ll_s
                refitted[rows[idx]] = True
                unconverged[rows[idx[~conv_s]]] = True
            ll[rows, mask] = out
    idx_all = np.asarray(fit_index_value(ll, ll0[:, None], n_idx[:, None], fit_index))
    base = idx_all[:, 0] if always_l else np.zeros(R)
    v = idx_all - base[:, None]
    v[:, 0] = 0.0
    tol_ll = 1e-7 * np.maximum(1.0, np.abs(np.nan_to_num(ll0)))
    bad_rows = (~valid | ~np.all(np.isfinite(ll), axis=1)
                | np.any(ll > tol_ll[:, None], axis=1)
                | np.any(ll < ll0[:, None] - tol_ll[:, None], axis=1)
                | np.any(ll < ll[:, parents] - tol_ll[:, None], axis=1)
                | ~np.all(np.isfinite(v), axis=1))
    # a separated resample whose fits approach the likelihood's supremum is kept (refitted)
    # unless its values are inconsistent; ``unconverged`` alone is not a failure
    status = np.where(bad_rows, FAILED, np.where(refitted, REFITTED, OK))
    v[bad_rows] = np.nan
    return ReplicateFits(v=v, loglike=ll, loglike_null=ll0, status=status,
                         r2_full=idx_all[:, -1], r2_always=base)


def _fast(sub: _Subset, V: np.ndarray, b0: np.ndarray, eps: np.ndarray, max_iter: int
          ) -> tuple[np.ndarray, np.ndarray]:
    """Shared-start Newton for all replicates of one subset: (ℓ per replicate, failed).

    A point β with score g and Newton step s is accepted when the maximum of the local
    quadratic model, ℓ(β) + gᵀs/2, is provably within ``eps`` of ℓ(β + s): the Taylor
    remainder is at most sup|d³ log expit(e)/de³|/6 · Σ vᵢ|xᵢᵀs|³, and Σ vᵢ|xᵢᵀs|³ ≤
    maxᵢ|xᵢᵀs| · sᵀ(XᵀVX)s. That maximum is reported; a further Newton step would change
    it by far less. The first step from the shared start gets a Chebyshev (third-order)
    correction, which usually makes the next point acceptable.
    """
    X = sub.X
    R = V.shape[0]
    ll = np.full(R, np.nan)
    bad = np.zeros(R, dtype=bool)
    MV = sub.info(V)  # XᵀVX of every replicate, for the remainder bound
    cV = V @ X
    # iteration 1 at the full-sample estimate: the same fitted values for every replicate
    q = special.expit(X @ b0)
    d = q * (1.0 - q)
    g = cV - V @ (X * q[:, None])
    H = sub.info(V * d)
    step = _solve(H, g)
    act = np.arange(R)
    beta = np.broadcast_to(b0, (R, b0.size))
    Q: np.ndarray = q
    shared = True
    it = 0
    while True:
        it += 1
        dec = np.einsum("bm,bm->b", step, g)
        finite = np.isfinite(dec) & np.all(np.isfinite(step), axis=1)
        A = step @ X.T
        big = np.maximum(A.max(axis=1), -A.min(axis=1))
        quad = np.einsum("bm,bmk,bk->b", step, MV[act], step)
        done = finite & (big * quad * _REMAINDER <= eps[act])
        if done.any():
            Vd = V[act[done]]
            if shared:
                ll[act[done]] = Vd @ np.log(Q) + 0.5 * dec[done]
            else:
                ll[act[done]] = np.einsum("bn,bn->b", Vd, np.log(Q[done])) + 0.5 * dec[done]
        bad[act[~finite]] = True
        keep = ~done & finite
        if not keep.any() or it >= max_iter:
            bad[act[keep]] = True
            break
        new_beta = beta[keep] + step[keep]
        if shared:  # Chebyshev correction N⁻¹ · ½ Σ vᵢ c₃ᵢ (xᵢᵀs)² xᵢ, c₃ = q(1 − q)(1 − 2q)
            A = A[keep]
            np.multiply(A, A, out=A)
            A *= d * (1.0 - 2.0 * q)
            A *= V[act[keep]]
            new_beta += 0.5 * _solve(H[keep], A @ X)
        act = act[keep]
        beta = new_beta
        shared = False
        Va = V[act]
        Q = special.expit(beta @ X.T)
        VQ = Va * Q
        g = cV[act] - VQ @ X
        D = VQ * Q
        np.subtract(VQ, D, out=D)  # v q (1 − q)
        H = sub.info(D)
        step = _solve(H, g)
    return ll, bad


def fits_consistent(ll: np.ndarray, ll0: float, parents: np.ndarray, v: np.ndarray) -> bool:
    """Whether one replicate's subset fits make sense.

    Every log-likelihood is finite, at most 0, at least the null model's, and at least its
    parent's (the models are nested), and every value is finite.
    """
    tol = 1e-7 * max(1.0, abs(ll0))
    return bool(np.all(np.isfinite(ll)) and np.all(np.isfinite(v)) and np.all(ll <= tol)
                and np.all(ll >= ll0 - tol) and np.all(ll >= ll[parents] - tol))


def replicate_values(X: np.ndarray, y: np.ndarray, W: np.ndarray, full: GLMSubsetFits, *,
                     kind: str = "logit", fit_index: str = "mcfadden",
                     players: Sequence[Sequence[int]] | None = None,
                     always: Sequence[int] | None = None, weight_type: str = "sampling",
                     names: Sequence[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Value functions ``(R, 2^p)`` of bootstrap replicates and their status ``(R,)``.

    Logit replicates are fitted together (:func:`logit_replicate_values`); ordinal ones
    one at a time, warm-started from the full-sample fits ``full``. Every replicate is
    checked (:func:`fits_consistent`; converged or refitted with step halving). A replicate
    that fails is refitted from scratch by the all-subsets engine and checked again; if it
    still fails its row is NaN and its status :data:`FAILED`.
    """
    W = np.atleast_2d(np.asarray(W, dtype=float))
    R = W.shape[0]
    n_masks = full.v.shape[0]
    opts = dict(kind=kind, fit_index=fit_index, players=players, always=always,
                weight_type=weight_type, names=names)
    k = np.asarray(X).shape[1]
    players_l, always_l = _players(k, players, always)
    width = k + 1 if kind == "logit" else k
    shift = 1 if kind == "logit" else 0
    _, parents = subset_layout(width, [[c + shift for c in pl] for pl in players_l],
                               [c + shift for c in always_l])
    v = np.full((R, n_masks), np.nan)
    status = np.full(R, OK)
    if kind == "logit":
        assert full.coef is not None
        reps = logit_replicate_values(X, y, W, full.coef, fit_index=fit_index,
                                      players=players, always=always,
                                      weight_type=weight_type)
        v[:], status[:] = reps.v, reps.status
        todo = np.flatnonzero(status == FAILED)
    else:
        todo = np.arange(R)
    for b in todo:
        for start in ((full, None) if kind != "logit" else (None,)):
            try:
                fit = glm_subset_values(X, y, W[b], start=start, quiet=True, **opts)
            except (DriverkitError, np.linalg.LinAlgError):
                continue
            if fits_consistent(fit.loglike, fit.loglike_null, parents, fit.v):
                v[b] = fit.v
                status[b] = OK if (start is not None and bool(np.all(fit.converged))) \
                    else REFITTED
                break
        else:
            v[b] = np.nan
            status[b] = FAILED
    return v, status
