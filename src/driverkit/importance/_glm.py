"""Batched logit / ordered-logit fits for every subset of players (GLM relative importance).

Dominance analysis and Shapley values for binary and ordinal outcomes need the fit index
of all 2^p − 1 sub-models (Azen & Traxel 2009). Calling a general GLM fitter 2^p times is
slow; here the fits are *batched*: subsets with the same number of design columns are
stacked, and Newton–Raphson runs on all of them at once (batched matrix products and
solves), each warm-started from its parent subset (the subset without its highest player).

Fit indices (``ℓ_S`` the log-likelihood of the model with players S, ``ℓ_0`` of the
intercept-only/thresholds-only model, ``n`` the number of rows, or Σw for frequency
weights):

* McFadden (1974): ``1 − ℓ_S/ℓ_0``
* Cox & Snell (1989): ``1 − exp(2(ℓ_0 − ℓ_S)/n)``
* Nagelkerke (1991): Cox–Snell / ``(1 − exp(2ℓ_0/n))``
* Estrella (1998): ``1 − (ℓ_S/ℓ_0)^(−2ℓ_0/n)``

Weights: sampling weights are rescaled to sum to the number of rows and enter as
Σ wᵢ ℓᵢ; frequency weights are counts. McFadden is the same either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

from .._validation import check_option, warn
from ..exceptions import ConvergenceWarning, DriverkitError

__all__ = [
    "GLMSubsetFits",
    "fit_index_value",
    "glm_subset_values",
    "logistic_relative_weights",
]

FIT_INDICES = ("mcfadden", "nagelkerke", "cox_snell", "estrella")
_BLOCK_ELEMENTS = 4_000_000  # n × block × columns per batched step (~32 MB of float64)


@dataclass
class GLMSubsetFits:
    """All-subset fits: ``v`` (index relative to the always-only model), log-likelihoods."""

    v: np.ndarray
    loglike: np.ndarray
    loglike_null: float
    r2_full: float
    r2_always: float
    fit_index: str
    n: float
    iterations: int
    coef: np.ndarray | None = None
    thetas: np.ndarray | None = None


def fit_index_value(ll: np.ndarray | float, ll0: float, n: float, fit_index: str) -> Any:
    """Pseudo-R² of log-likelihood(s) ``ll`` against the null ``ll0`` (see module notes)."""
    ll = np.asarray(ll, dtype=float)
    if fit_index == "mcfadden":
        return 1.0 - ll / ll0
    cs = 1.0 - np.exp(2.0 * (ll0 - ll) / n)
    if fit_index == "cox_snell":
        return cs
    if fit_index == "nagelkerke":
        return cs / (1.0 - np.exp(2.0 * ll0 / n))
    if fit_index == "estrella":
        return 1.0 - (ll / ll0) ** (-2.0 * ll0 / n)
    raise DriverkitError(f"Unknown fit index {fit_index!r}.")


def _likelihood_weights(w: np.ndarray | None, n: int, weight_type: str) -> tuple[np.ndarray, float]:
    if w is None:
        return np.ones(n), float(n)
    w = np.asarray(w, dtype=float)
    if weight_type == "frequency":
        return w, float(w.sum())
    return w * (n / w.sum()), float(n)


def _subset_columns(mask: int, players: list[list[int]], base: list[int]) -> list[int]:
    cols = list(base)
    j = 0
    while mask:
        if mask & 1:
            cols.extend(players[j])
        mask >>= 1
        j += 1
    return cols


# ======================================================================================
# binary logit
# ======================================================================================
def _logit_loglike(eta: np.ndarray, y: np.ndarray, v: np.ndarray) -> np.ndarray:
    # Σ v [y·η − log(1 + e^η)], computed stably
    return (v * (y * eta - np.logaddexp(0.0, eta))).sum(axis=1)


def _logit_batch(Xa: np.ndarray, pairs: np.ndarray, pair_index: np.ndarray, y: np.ndarray,
                 v: np.ndarray, cols: np.ndarray, beta: np.ndarray, tol: float,
                 max_iter: int, *, safe: bool = False
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Newton on a batch of subsets with the same number of columns.

    Parameters are kept in the *full* column layout (``beta`` (B, K), zeros outside each
    subset), so every heavy product is one dense matrix product over the whole batch:
    η = βXᵀ, the score (y − p)·X, and the weighted cross-products of all column pairs
    W·[x_i x_j] (``pairs``, n × K(K+1)/2), from which each subset's Hessian is gathered
    (``pair_index`` maps a column pair to its position). ``cols`` (B, m) are the subsets'
    columns. The Hessian is refreshed on the first two iterations and every fourth after
    that (chord steps in between); the log-likelihood is evaluated once at the end, and
    subsets that did not converge are refitted with step halving (``safe=True``).

    Returns (beta, loglike, converged, iterations).
    """
    B, m = cols.shape
    rows = np.arange(B)[:, None]
    conv = np.zeros(B, dtype=bool)
    hidx = pair_index[cols[:, :, None], cols[:, None, :]].reshape(B, m * m)
    eta = beta @ Xa.T
    ll = _logit_loglike(eta, y, v) if safe else None
    Hinv = None
    it = 0
    for it in range(1, max_iter + 1):
        p = special.expit(eta)
        score = ((v * (y - p)) @ Xa)[rows, cols]
        if Hinv is None or it <= 2 or it % 4 == 0 or safe:
            G = (v * p * (1.0 - p)) @ pairs
            H = np.take_along_axis(G, hidx, axis=1).reshape(B, m, m)
            try:
                Hinv = np.linalg.inv(H)
            except np.linalg.LinAlgError:
                Hinv = np.linalg.pinv(H)
        step_sub = np.matmul(Hinv, score[..., None])[..., 0]
        step_sub[conv] = 0.0
        step = np.zeros_like(beta)
        step[rows, cols] = step_sub
        dstep = step @ Xa.T
        t = np.ones(B)
        new_eta = eta + dstep
        if safe:
            assert ll is not None
            new_ll = _logit_loglike(new_eta, y, v)
            for _ in range(40):
                bad = new_ll < ll - 1e-12 * np.abs(ll)
                if not bad.any():
                    break
                t = np.where(bad, t / 2, t)
                new_eta = eta + t[:, None] * dstep
                new_ll = _logit_loglike(new_eta, y, v)
            ll = new_ll
        beta = beta + t[:, None] * step
        eta = new_eta
        conv |= np.abs(t[:, None] * step_sub).max(axis=1) <= tol * (
            1.0 + np.abs(beta).max(axis=1))
        if conv.all():
            break
    final_ll = _logit_loglike(eta, y, v)
    if not safe:
        redo = ~conv | ~np.isfinite(final_ll)
        if redo.any():
            start = np.zeros_like(beta[redo])
            start[:, 0] = beta[redo, 0]
            r_beta, r_ll, r_conv, r_it = _logit_batch(
                Xa, pairs, pair_index, y, v, cols[redo], start, tol, max(max_iter, 100),
                safe=True)
            beta[redo], final_ll[redo], conv[redo] = r_beta, r_ll, r_conv
            it = max(it, r_it)
    return beta, final_ll, conv, it


def _pair_products(Xa: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x_i·x_j for every column pair i ≤ j (n × K(K+1)/2) and the pair → position map."""
    K = Xa.shape[1]
    iu, ju = np.triu_indices(K)
    index = np.empty((K, K), dtype=np.intp)
    index[iu, ju] = np.arange(iu.size)
    index[ju, iu] = np.arange(iu.size)
    return Xa[:, iu] * Xa[:, ju], index


# ======================================================================================
# ordered logit (cumulative logit, P(y ≤ j) = F(θ_j − η))
# ======================================================================================
def _ordinal_parts(Xs: np.ndarray, theta: np.ndarray, beta: np.ndarray, y: np.ndarray
                   ) -> tuple[np.ndarray, ...]:
    K1 = theta.shape[1]
    eta = np.einsum("bnm,bm->bn", Xs, beta) if Xs.shape[2] else np.zeros((theta.shape[0],
                                                                          y.size))
    th = np.concatenate([np.full((theta.shape[0], 1), -np.inf), theta,
                         np.full((theta.shape[0], 1), np.inf)], axis=1)
    a = th[:, y + 1] - eta  # upper: θ_y
    b = th[:, y] - eta  # lower: θ_{y−1}
    Fa, Fb = special.expit(a), special.expit(b)
    P = np.clip(Fa - Fb, 1e-300, None)
    del K1
    return a, b, Fa, Fb, P


def _ordinal_loglike(Xs: np.ndarray, theta: np.ndarray, beta: np.ndarray, y: np.ndarray,
                     v: np.ndarray) -> np.ndarray:
    *_, P = _ordinal_parts(Xs, theta, beta, y)
    return (v * np.log(P)).sum(axis=1)


def _ordinal_batch(Xs: np.ndarray, y: np.ndarray, v: np.ndarray, beta: np.ndarray,
                   theta: np.ndarray, Eu: np.ndarray, El: np.ndarray, tol: float,
                   max_iter: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Newton for the proportional-odds model on a batch of designs Xs (B, n, m).

    Eu / El are (n, K−1) one-hot matrices of the upper (θ_y) and lower (θ_{y−1}) thresholds
    of each respondent (zero rows where the threshold is ±∞).
    """
    B, _, m = Xs.shape
    K1 = theta.shape[1]
    conv = np.zeros(B, dtype=bool)
    ll = _ordinal_loglike(Xs, theta, beta, y, v)
    it = 0
    while it < max_iter:
        it += 1
        a, b, Fa, Fb, P = _ordinal_parts(Xs, theta, beta, y)
        fa, fb = Fa * (1 - Fa), Fb * (1 - Fb)
        fa = np.where(np.isfinite(a), fa, 0.0)
        fb = np.where(np.isfinite(b), fb, 0.0)
        dfa = fa * (1 - 2 * Fa)
        dfb = fb * (1 - 2 * Fb)
        ga, gb, ha, hb = fa / P, fb / P, dfa / P, dfb / P
        # score
        s_eta = -(ga - gb) * v
        g_beta = np.einsum("bnm,bn->bm", Xs, s_eta)
        g_theta = (v * ga) @ Eu - (v * gb) @ El
        # Hessian blocks
        d_ee = v * ((ha - hb) - (ga - gb) ** 2)
        c_u = v * (-ha + (ga - gb) * ga)
        c_l = v * (hb - (ga - gb) * gb)
        H = np.empty((B, m + K1, m + K1))
        H[:, :m, :m] = np.matmul(Xs.transpose(0, 2, 1) * d_ee[:, None, :], Xs)
        H[:, :m, m:] = (np.matmul(Xs.transpose(0, 2, 1) * c_u[:, None, :], Eu)
                        + np.matmul(Xs.transpose(0, 2, 1) * c_l[:, None, :], El))
        H[:, m:, :m] = H[:, :m, m:].transpose(0, 2, 1)
        tt = np.zeros((B, K1, K1))
        diag = (v * (ha - ga**2)) @ Eu + (v * (-hb - gb**2)) @ El
        idx = np.arange(K1)
        tt[:, idx, idx] = diag
        if K1 > 1:
            # (j, j−1) entries: respondents whose upper threshold is j and lower is j−1
            off = (v * ga * gb) @ (Eu[:, 1:] * El[:, :-1])
            tt[:, idx[1:], idx[:-1]] = off
            tt[:, idx[:-1], idx[1:]] = off
        H[:, m:, m:] = tt
        g = np.concatenate([g_beta, g_theta], axis=1)
        try:
            step = -np.linalg.solve(H, g[..., None])[..., 0]
        except np.linalg.LinAlgError:
            step = -np.stack([np.linalg.pinv(H[k]) @ g[k] for k in range(B)])
        step[conv] = 0.0
        t = np.ones(B)
        for _ in range(30):
            nb = beta + t[:, None] * step[:, :m]
            nt = theta + t[:, None] * step[:, m:]
            ordered = np.all(np.diff(nt, axis=1) > 0, axis=1) if K1 > 1 else np.ones(B, bool)
            new_ll = np.where(ordered, _ordinal_loglike(Xs, np.where(
                ordered[:, None], nt, theta), nb, y, v), -np.inf)
            bad = new_ll < ll - 1e-12 * np.abs(ll)
            if not bad.any():
                break
            t = np.where(bad, t / 2, t)
        beta, theta, ll = nb, nt, new_ll
        size = np.abs(t[:, None] * step).max(axis=1)
        scale = 1.0 + np.maximum(np.abs(beta).max(axis=1, initial=0), np.abs(theta).max(axis=1))
        conv |= size <= tol * scale
        if conv.all():
            break
    return beta, theta, ll, conv, it


# ======================================================================================
# driver
# ======================================================================================
def glm_subset_values(X: np.ndarray, y: np.ndarray, w: np.ndarray | None = None, *,
                      kind: str = "logit", fit_index: str = "mcfadden",
                      players: Sequence[Sequence[int]] | None = None,
                      always: Sequence[int] | None = None, weight_type: str = "sampling",
                      tol: float = 1e-9, max_iter: int = 50,
                      start: GLMSubsetFits | None = None) -> GLMSubsetFits:
    """Fit index of the logit or ordered logit on every subset of players.

    Parameters
    ----------
    X : ndarray of shape (n, k)
        Design columns (no intercept).
    y : ndarray of shape (n,)
        0/1 outcome (``kind="logit"``) or category codes 0..K−1 (``kind="ordinal"``).
    w : ndarray of shape (n,), optional
        Sampling (default) or frequency weights.
    kind : {"logit", "ordinal"}
    fit_index : {"mcfadden", "nagelkerke", "cox_snell", "estrella"}
    players : list of lists of int, optional
        Design columns of each player (default: one player per column not in ``always``).
    always : list of int, optional
        Columns kept in every model (the baseline of ``v``).
    weight_type : {"sampling", "frequency"}
    tol, max_iter
        Newton convergence: every step below ``tol · (1 + max|θ|)``.
    start : GLMSubsetFits, optional
        Fits of the same problem on other weights (e.g. the full sample when fitting bootstrap
        replicates): each subset starts from its own earlier estimates instead of its
        parent's, which saves Newton iterations.

    Returns
    -------
    GLMSubsetFits
        ``v[m]`` is the index of the model with players ``{j : bit j of m}`` (plus
        ``always``) minus the index of the always-only model; ``v[0] = 0``.
        ``loglike[m]`` are the log-likelihoods; ``r2_full`` / ``r2_always`` the indices of
        the full and always-only models.

    Notes
    -----
    Subsets are processed by number of design columns; each Newton run starts from the
    parent subset's estimates (zeros for the new player's columns), so most converge in
    2–4 iterations. Batched Hessians are formed with one batched matrix product per
    iteration. See Azen & Traxel (2009) for dominance analysis with these indices.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 3))
    >>> y = (rng.random(300) < 1 / (1 + np.exp(-X @ [1.0, 0.5, 0.0]))).astype(float)
    >>> fits = glm_subset_values(X, y)
    >>> fits.v.shape, round(float(fits.v[0]), 12)
    ((8,), 0.0)
    """
    check_option(kind, "kind", ["logit", "ordinal"], "importance")
    check_option(fit_index, "fit_index", list(FIT_INDICES), "importance")
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    n, k = X.shape
    always_l = [int(c) for c in (always or [])]
    if players is None:
        players_l = [[j] for j in range(k) if j not in always_l]
    else:
        players_l = [[int(c) for c in pl] for pl in players]
    p = len(players_l)
    if p > 20:
        raise DriverkitError(
            f"Exact GLM dominance over {p} players needs 2^{p} logit fits; use at most 20 "
            "players (group drivers into journey stages with groups=...)."
        )
    v_w, n_idx = _likelihood_weights(w, n, weight_type)
    if kind == "ordinal":
        codes = y.astype(int)
        K = int(codes.max()) + 1
        counts = np.bincount(codes, weights=v_w, minlength=K)
        if np.any(counts <= 0):
            raise DriverkitError("Every outcome category must occur (with positive weight).")
        props = counts / counts.sum()
        ll0 = float(np.sum(counts * np.log(props)))
        theta0 = special.logit(np.cumsum(props)[:-1])
        Eu = np.zeros((n, K - 1))
        El = np.zeros((n, K - 1))
        up = codes < K - 1
        Eu[np.where(up)[0], codes[up]] = 1.0
        lo = codes > 0
        El[np.where(lo)[0], codes[lo] - 1] = 1.0
        Xa = X  # no intercept: the thresholds play its role
        base_cols = always_l
    else:
        ybar = float(np.sum(v_w * y) / v_w.sum())
        if not 0 < ybar < 1:
            raise DriverkitError("The binary outcome must take both values.")
        ll0 = float(v_w.sum() * (ybar * np.log(ybar) + (1 - ybar) * np.log(1 - ybar)))
        Xa = np.column_stack([np.ones(n), X])
        players_l = [[c + 1 for c in pl] for pl in players_l]
        base_cols = [0] + [c + 1 for c in always_l]
        theta0 = None
        pairs, pair_index = _pair_products(Xa)
    n_masks = 1 << p
    width = Xa.shape[1]
    coef = np.zeros((n_masks, width))  # each subset's estimates in full-column layout
    thetas = np.zeros((n_masks, K - 1)) if kind == "ordinal" else np.zeros((n_masks, 0))
    # warm starts from an earlier fit of the same problem (bootstrap replicates)
    prior_coef = start.coef if start is not None else None
    if prior_coef is not None and prior_coef.shape != coef.shape:
        prior_coef = None
    prior_thetas = start.thetas if start is not None and prior_coef is not None else None
    ll = np.empty(n_masks)
    masks_by_size: dict[int, list[int]] = {}
    sizes = np.zeros(n_masks, dtype=int)
    for mask in range(n_masks):
        m_cols = len(base_cols) + sum(len(players_l[j]) for j in range(p) if mask >> j & 1)
        sizes[mask] = m_cols
        # parents (fewer columns) are always fitted before their children
        masks_by_size.setdefault(m_cols, []).append(mask)
    iters = 0
    not_conv: list[int] = []
    for m_cols in sorted(masks_by_size):
        group = masks_by_size[m_cols]
        if m_cols == 0:  # ordinal, no columns: the null model
            for mask in group:
                ll[mask] = ll0
                thetas[mask] = theta0
            continue
        block = max(1, _BLOCK_ELEMENTS // max(1, n * (m_cols if kind == "ordinal" else 4)))
        for pos in range(0, len(group), block):
            batch = group[pos : pos + block]
            cols = np.array([_subset_columns(mask, players_l, base_cols) for mask in batch])
            parents = np.array([mask & ~(1 << (mask.bit_length() - 1)) if mask else 0
                                for mask in batch])
            if kind == "logit":
                # warm start: the parent's estimates, zero for the new player's columns
                init_full = (prior_coef[batch].copy() if prior_coef is not None
                             else coef[parents].copy())
                init_full[:, 0] = np.where(init_full[:, 0] == 0, special.logit(ybar),
                                           init_full[:, 0])
                beta_full, lls, conv, it = _logit_batch(Xa, pairs, pair_index, y[None, :],
                                                        v_w[None, :], cols, init_full, tol,
                                                        max_iter)
                coef[batch] = beta_full
            else:
                Xs = np.ascontiguousarray(Xa[:, cols].transpose(1, 0, 2))  # (B, n, m)
                src = prior_coef if prior_coef is not None else coef
                rows_from = batch if prior_coef is not None else parents
                init = np.array([src[r, c] for r, c in zip(rows_from, cols, strict=True)])
                if prior_thetas is not None:
                    th_init = prior_thetas[batch]
                else:
                    th_init = np.array([thetas[mask & ~(1 << (mask.bit_length() - 1))]
                                        if mask else theta0 for mask in batch])
                beta, th, lls, conv, it = _ordinal_batch(Xs, codes, v_w[None, :], init,
                                                         th_init, Eu, El, tol, max_iter)
                thetas[batch] = th
                for b_i, mask in enumerate(batch):
                    coef[mask, cols[b_i]] = beta[b_i]
            iters = max(iters, it)
            ll[batch] = lls
            not_conv += [mask for mask, c in zip(batch, conv, strict=True) if not c]
    ll_base = ll[0]  # intercept (thresholds) + always-in columns
    if not_conv:
        warn(f"{len(not_conv)} of {n_masks} subset fits did not converge (e.g. subset mask "
             f"{not_conv[0]}); separation in those sub-models is likely.", ConvergenceWarning)
    idx_all = fit_index_value(ll, ll0, n_idx, fit_index)
    idx_base = float(fit_index_value(ll_base, ll0, n_idx, fit_index))
    v = idx_all - idx_base
    v[0] = 0.0
    return GLMSubsetFits(v=v, loglike=ll, loglike_null=ll0, r2_full=float(idx_all[-1]),
                         r2_always=idx_base, fit_index=fit_index, n=n_idx, iterations=iters,
                         coef=coef, thetas=thetas if kind == "ordinal" else None)


# ======================================================================================
# logistic relative weights
# ======================================================================================
def logistic_relative_weights(X: np.ndarray, y: np.ndarray, w: np.ndarray | None = None, *,
                              players: Sequence[Sequence[int]] | None = None,
                              weight_type: str = "sampling") -> tuple[np.ndarray, float]:
    """Relative weights for a binary logit (Tonidandel & LeBreton 2010).

    Parameters
    ----------
    X : ndarray (n, k)
    y : ndarray (n,), 0/1
    w : ndarray (n,), optional
    players : list of lists of int, optional
        Columns of each player; a player's weight is the sum over its columns.

    Returns
    -------
    weights : ndarray (n_players,)
    r2 : float
        Their sum Σ b*², the (Menard-standardised) R² the weights decompose.

    Notes
    -----
    Johnson's (2000) orthogonalisation Z = X_s Q Λ^{-1/2} Qᵀ of the standardised drivers, a
    logit of y on Z, fully standardised coefficients b*_k = b_k s_{Z_k} R / s_{logit ŷ}
    (Menard 2004; R = corr(y, ŷ)), and weights ε_j = Σ_k Λ*_{jk}² b*_k² with
    Λ* = Q Λ^{1/2} Qᵀ. The weights sum to Σ b*², close to R²_O = corr(y, ŷ)² of the model.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> X = rng.normal(size=(400, 2)); X[:, 1] += 0.5 * X[:, 0]
    >>> y = (rng.random(400) < 1 / (1 + np.exp(-X @ [1.0, 0.3]))).astype(float)
    >>> wts, r2 = logistic_relative_weights(X, y)
    >>> bool(wts[0] > wts[1]), bool(abs(wts.sum() - r2) < 1e-12)
    (True, True)
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    n, k = X.shape
    v_w, _ = _likelihood_weights(w, n, weight_type)
    sw = v_w / v_w.sum()
    mu = sw @ X
    sd = np.sqrt(sw @ (X - mu) ** 2)
    Xs = (X - mu) / sd
    R = (Xs * sw[:, None]).T @ Xs
    lam, Q = np.linalg.eigh(R)
    if lam.min() <= 1e-12 * lam.max():
        raise DriverkitError("The drivers are perfectly collinear; relative weights need a "
                             "non-singular correlation matrix.")
    Z = Xs @ (Q @ np.diag(lam**-0.5) @ Q.T)
    lam_star = Q @ np.diag(lam**0.5) @ Q.T
    Za = np.column_stack([np.ones(n), Z])
    pairs, pair_index = _pair_products(Za)
    beta, _, conv, _ = _logit_batch(Za, pairs, pair_index, y[None, :], v_w[None, :],
                                    np.arange(k + 1)[None, :], np.zeros((1, k + 1)), 1e-10,
                                    100)
    if not conv[0]:
        warn("The logit behind the relative weights did not converge.", ConvergenceWarning)
    b = beta[0, 1:]
    eta = Za @ beta[0]
    phat = special.expit(eta)
    r = float(np.sum(sw * (y - sw @ y) * (phat - sw @ phat))
              / np.sqrt(np.sum(sw * (y - sw @ y) ** 2) * np.sum(sw * (phat - sw @ phat) ** 2)))
    s_eta = float(np.sqrt(sw @ (eta - sw @ eta) ** 2))
    s_z = np.sqrt(sw @ (Z - sw @ Z) ** 2)
    b_star = b * s_z * r / s_eta
    eps = (lam_star**2) @ (b_star**2)
    groups = [[j] for j in range(k)] if players is None else [list(pl) for pl in players]
    weights = np.array([eps[g].sum() for g in groups])
    return weights, float(np.sum(b_star**2))
