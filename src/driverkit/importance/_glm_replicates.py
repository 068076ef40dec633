"""Logit subset fits of many bootstrap replicates at once, from the full-sample solutions.

A bootstrap replicate re-weights the respondents, so each of its 2^p subset models is a
weighted logit whose optimum lies O(n^−1/2) from the full-sample estimate of the same subset.
Fitting every replicate from scratch with the all-subsets engine spends most of its time in
transcendental functions (a tanh per row, subset and iteration, and exp + log1p for the final
log-likelihood). Here the replicates of one chunk share work instead:

1. **Shared first step.** At the full-sample estimate β_S the fitted probabilities of every
   row are the same for all replicates; only the weights differ. So p_S is computed once
   per subset for the whole chunk, the scores Σ_i v_ri (y_i − p_Si) x_i of all replicates
   come from one matrix product with the chunk's weights, and the first step of every
   replicate is its score times one shared inverse information matrix (at β_S, with the
   chunk's mean replicate weights; any positive definite matrix gives a valid step, a close
   one a good step). This stage only steers and runs in float32.
2. **A float32 Newton step** at β_1, on the replicate's own rows of positive weight. Far
   from convergence, single precision costs nothing in the result and halves the work.
   Subsets still far from their optimum after it (small samples) take float32 chord steps
   with the same factored matrix (``_F32_NEWTON``), which cost no float64 transcendental.
3. **Checked float64 iterations.** At each later iterate the log-likelihood, the score and
   the Newton decrement gᵀN⁻¹g (N from an earlier iterate) are computed in float64. A
   subset is accepted when the decrement is at most a replicate tolerance (100 times the
   engine's ``tol · max(1, |ℓ_0|)``, see ``_ACCEPT``; 10 times after chord steps, whose N
   is older), with ℓ(β) plus the predicted gain ½·gᵀN⁻¹g of the remaining Newton step;
   that sum is within about 1e-10·|ℓ_0| of the optimum, where ℓ(β) alone could be
   1e-8·|ℓ_0| below it. The others take a Newton step (the information matrix is
   refreshed unless the decrement is already tiny). Subsets that do not converge within
   ``max_iter``, break down (non-finite values) or run off towards a separation (a row
   with |η| > 30) continue with the engine's Newton iterations and its step-halving refit,
   so no unconverged answer is returned; replicates whose fits are still not converged are
   flagged for the caller.

Information matrices are accumulated in float32 (they only precondition: the score and the
log-likelihood are float64) and factored by a batched Cholesky decomposition whose
triangular inverse F gives both the step FᵀFg and the decrement ‖Fg‖²; the design columns
are centred (Newton steps are affine invariant; the intercept absorbs the shift), which
keeps them well conditioned.

The float64 check computes p = 1/(1 + e^{−η}) (one exp per row) and Σ v log p as the log of
products of up to 16 probabilities of equal weight (one log per chunk), accurate to a few
units in the last place in absolute terms, which is what the sums need.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..exceptions import DriverkitError
from ._glm import GLMSubsetFits, _likelihood_weights, _Logit, _players, subset_layout
from ._glm_kernel import _pair_layout, level_batches, log_chunks, row_block

__all__ = ["LogitReplicateFits", "logit_replicate_fits"]

#: Below this many times the tolerance, a decrement's Newton step reuses the previous
#: information matrix (a chord step; converges nearly as fast that close to the optimum).
_CHORD = 1e4
#: Replicate tolerance, as a multiple of the engine's: a subset is accepted when its Newton
#: decrement is at most ``_ACCEPT · tol · max(1, |ℓ_0|)`` (1e-8·|ℓ_0| by default). The value
#: reported is ℓ(β) + ½·decrement, whose error is of the order of the decrement times the
#: relative change of the information matrix over the last step (a few per cent): about
#: 1e-10·|ℓ_0|, measured at most 2e-10·|ℓ_0| on a 250-respondent survey, far inside the
#: 1e-6 that bootstrap intervals need and the 1e-8 to which the engine's values are kept.
_ACCEPT = 100.0
#: Float32 steering after the first float32 Newton step (multiples of the engine's
#: tolerance, like ``_ACCEPT``): a subset whose Newton decrement there exceeds
#: ``_F32_NEWTON`` is still too far from its optimum for one Newton step to settle it
#: (small samples: the step's error is about 4e-3·decrement² at n = 250, 1e-4·decrement² at
#: n = 2,000, in the units of ``_ACCEPT``), so it takes chord steps in float32 (the same
#: factored information matrix, no float64 transcendental) until its decrement is below
#: ``_F32_CHORD``, at most ``_F32_STEPS`` of them, before the float64 check. These only
#: steer: acceptance is always decided by the float64 check.
_F32_NEWTON = 1e6
_F32_CHORD = 100.0
_F32_STEPS = 4
#: A subset that took float32 chord steps is checked against an information matrix from
#: several steps back (up to ~30 % off at n = 250), so it is accepted only below this
#: multiple of the tolerance, which keeps the error of the ½·decrement correction as small
#: as for a fresh matrix; refreshing the matrix restores ``_ACCEPT``.
_ACCEPT_STALE = 10.0
_EXTREME = 30.0  # beyond this |η| a fit is left to the engine (separation)
_CACHE_BYTES = 1 << 23  # one (subsets × rows) work array near 8 MB: fewer, larger numpy calls


@dataclass
class LogitReplicateFits:
    """Subset log-likelihoods of a chunk of replicates.

    Attributes
    ----------
    loglike : ndarray (R, 2^p)
        ℓ of every subset model of each replicate (NaN for a replicate without a logit,
        e.g. a resample without events).
    loglike_null : ndarray (R,)
        ℓ_0 of each replicate's intercept-only model.
    n : ndarray (R,)
        The ``n`` of the Cox–Snell, Nagelkerke and Estrella formulas per replicate.
    converged : ndarray of bool (R, 2^p)
    fast : ndarray of int (R,)
        Subset models of each replicate accepted after the shared step, one Newton step and
        the check (the rest needed the engine's further iterations).
    """

    loglike: np.ndarray
    loglike_null: np.ndarray
    n: np.ndarray
    converged: np.ndarray
    fast: np.ndarray


class _Rows:
    """One replicate's rows of positive weight, with the products its steps need."""

    def __init__(self, Xa: np.ndarray, y: np.ndarray, v: np.ndarray, iu: np.ndarray,
                 ju: np.ndarray) -> None:
        keep = np.flatnonzero(v > 0)
        keep = keep[np.argsort(v[keep], kind="stable")]  # chunks of equal weight, below
        self.keep = keep
        X, y, v = Xa[keep], y[keep], v[keep]
        self.v = v
        self.n = X.shape[0]
        self.XT = np.ascontiguousarray(X.T)
        self.Xv = X * v[:, None]
        self.cy = y @ self.Xv  # score = cy − p·(v∘X)
        self.c0y = (1.0 - y) @ self.Xv  # Σ v(1 − y)η = β·c0y
        # ℓ = Σ v log p − Σ v(1 − y)η, and Σ v log p is taken as Σ_c w_c log Π_{i∈c} p_i
        # over chunks of at most 16 rows of equal weight w_c: one log per chunk. Where
        # |η| <= 30, p > 9e-14 and a product of 16 stays far above the underflow limit.
        self.chunk_starts, self.chunk_w = log_chunks(v)
        # float32 copies for the information matrices (preconditioners: a relative error
        # of 1e-7 there slows convergence immeasurably) and the first, far-from-converged
        # iterate
        self.pairsV32 = (self.Xv[:, iu] * X[:, ju]).astype(np.float32)
        self.Xv32 = self.Xv.astype(np.float32)
        self.XT32 = self.XT.astype(np.float32)
        self.cy32 = self.cy.astype(np.float32)


def logit_replicate_fits(X: np.ndarray, y: np.ndarray, W: np.ndarray, full: GLMSubsetFits,
                         *, players: Sequence[Sequence[int]] | None = None,
                         always: Sequence[int] | None = None, weight_type: str = "sampling",
                         tol: float = 1e-10,
                         max_iter: int = 50) -> LogitReplicateFits:
    """Log-likelihoods of every subset logit for the replicate weights ``W`` (R, n).

    Parameters
    ----------
    X, y
        Design (n, k) without intercept and 0/1 outcome, as given to
        :func:`~driverkit.importance._glm.glm_subset_values` for ``full``.
    W : ndarray (R, n)
        Replicate weights (resampling counts times survey weights).
    full : GLMSubsetFits
        The full-sample fits (``kind="logit"``): each subset starts from its ``coef``.
    players, always, weight_type, tol, max_iter
        As for :func:`~driverkit.importance._glm.glm_subset_values`.

    Returns
    -------
    LogitReplicateFits

    Examples
    --------
    >>> import numpy as np
    >>> from driverkit.importance._glm import glm_subset_values
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 3))
    >>> y = (rng.random(300) < 1 / (1 + np.exp(-X @ [1.0, 0.5, 0.0]))).astype(float)
    >>> full = glm_subset_values(X, y)
    >>> W = rng.multinomial(300, np.full(300, 1 / 300), size=2).astype(float)
    >>> fits = logit_replicate_fits(X, y, W, full)
    >>> plain = glm_subset_values(X, y, W[1]).loglike
    >>> bool(np.allclose(fits.loglike[1], plain, rtol=0, atol=1e-8)), bool(fits.converged.all())
    (True, True)
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    W = np.atleast_2d(np.asarray(W, dtype=float))
    n, k = X.shape
    R = W.shape[0]
    players_l, always_l = _players(k, players, always)
    p = len(players_l)
    M = 1 << p
    K = k + 1
    member, _ = subset_layout(K, [[c + 1 for c in pl] for pl in players_l],
                              [0] + [c + 1 for c in always_l])
    if full.coef is None or full.coef.shape != (M, K):
        raise ValueError("full must be the full-sample logit fits of the same problem.")
    Xa = np.column_stack([np.ones(n), X])
    # Newton steps are affine invariant: work with centred columns (better conditioned
    # information matrices); the intercept absorbs the shift
    mu = X.mean(axis=0)
    Xc = np.column_stack([np.ones(n), X - mu])
    iu, ju, pair_index = _pair_layout(K)

    out_ll = np.full((R, M), np.nan)
    out_conv = np.zeros((R, M), dtype=bool)
    ll0 = np.full(R, np.nan)
    n_idx = np.full(R, np.nan)
    fast = np.zeros(R, dtype=np.int64)
    V = np.zeros((R, n))
    rows: list[_Rows | None] = []
    for r in range(R):
        try:
            vr, n_idx[r] = _likelihood_weights(W[r], n, weight_type)
        except DriverkitError:  # e.g. all weights zero: reported by the caller
            rows.append(None)
            continue
        ybar = float(vr @ y / vr.sum())
        if not 0.0 < ybar < 1.0:  # no logit exists: the caller reports the replicate
            rows.append(None)
            continue
        V[r] = vr
        ll0[r] = float(vr.sum() * (ybar * np.log(ybar) + (1 - ybar) * np.log1p(-ybar)))
        rows.append(_Rows(Xc, y, vr, iu, ju))
    live = [r for r in range(R) if rows[r] is not None]
    if not live:
        return LogitReplicateFits(out_ll, ll0, n_idx, out_conv, fast)
    if not always_l:  # the baseline is the null model: closed form
        out_ll[:, 0] = ll0
        out_conv[live, 0] = True

    # shared products of the first step (float32: it only steers)
    f32 = np.float32
    Xc32 = Xc.astype(f32)
    XcT32 = np.ascontiguousarray(Xc32.T)
    y32 = y.astype(f32)
    V32 = V[live].astype(f32)
    pairs_mean = ((Xc * V[live].mean(axis=0)[:, None])[:, iu] * Xc[:, ju]).astype(f32)
    block = row_block(n, _CACHE_BYTES)
    sub = max(1, _CACHE_BYTES // (4 * n * K))  # subsets per replicate-score product
    bufs = [np.empty(block * n) for _ in range(3)]
    engines: dict[int, _Logit] = {}

    eps_all = tol * np.maximum(1.0, np.abs(ll0))
    for batch, cols in level_batches(member, block, skip_empty=not always_l):
        L, m = cols.shape
        hidx = pair_index[cols[:, :, None], cols[:, None, :]].reshape(L, m * m)
        bS = full.coef[batch] * member[batch]
        bS_c = bS.copy()
        bS_c[:, 0] += bS[:, 1:] @ mu
        # at β_S the fitted probabilities are the same for every replicate
        with np.errstate(over="ignore"):
            pS = np.exp((-bS_c).astype(f32) @ XcT32)
        pS += 1.0
        np.divide(1.0, pS, out=pS)
        # the first step's information: at β_S with the chunk's mean replicate weights,
        # factored once for all replicates
        GS = (np.subtract(pS, pS * pS) @ pairs_mean).astype(np.float64)
        FS = _inv_factor(np.take_along_axis(GS, hidx, axis=1).reshape(L, m, m))
        # every replicate's score at β_S, Σ_i v_ri (y_i − p_i) x_i, as one product with
        # the replicates' weights (the rows are shared, only the weights differ)
        np.subtract(y32, pS, out=pS)
        G0 = np.empty((len(live), L, K), dtype=f32)
        for a in range(0, L, sub):
            b = min(L, a + sub)
            M = (pS[a:b].T[:, :, None] * Xc32[:, None, :]).reshape(n, (b - a) * K)
            G0[:, a:b] = (V32 @ M).reshape(len(live), b - a, K)
        for i, r in enumerate(live):
            rw = rows[r]
            assert rw is not None
            ll, conv, nfast, b_last = _iterate(rw, G0[i], FS, bS_c, cols, hidx, bufs,
                                               float(eps_all[r]), max_iter)
            if not conv.all():
                bad = np.flatnonzero(~conv)
                b_last[:, 0] -= b_last[:, 1:] @ mu
                ll[bad], conv[bad] = _engine_fit(engines, r, Xa, y, V[r], block, cols[bad],
                                                 b_last[bad], bS[bad], eps_all[r],
                                                 max_iter)
            fast[r] += nfast
            out_ll[r, batch] = ll
            out_conv[r, batch] = conv
    return LogitReplicateFits(out_ll, ll0, n_idx, out_conv, fast)


def _tri_inv(C: np.ndarray) -> np.ndarray:
    """Inverses of a batch of lower-triangular matrices (row by row, all at once)."""
    m = C.shape[1]
    F = np.zeros_like(C)
    d = 1.0 / np.diagonal(C, axis1=1, axis2=2)
    for j in range(m):
        if j:
            F[:, j, :j] = np.matmul(C[:, j : j + 1, :j], F[:, :j, :j])[:, 0, :]
            F[:, j, :j] *= -d[:, j, None]
        F[:, j, j] = d[:, j]
    return F


def _inv_factor(N: np.ndarray) -> np.ndarray:
    """Factors ``F`` with ``FᵀF = N⁻¹`` for a batch of symmetric positive semidefinite N.

    Where every N is positive definite, F is the inverse of its Cholesky factor (a third of
    the work of an inverse); a singular N (a column constant on a resample's rows) gets
    F = diag(s⁻¹ᐟ²)Vᵀ over its positive eigenvalues, so that FᵀF is the pseudo-inverse, and
    a non-finite N a NaN factor (its subset then goes to the engine).
    """
    try:
        C = np.linalg.cholesky(N)
    except np.linalg.LinAlgError:
        C = None
    if C is not None and np.all(np.isfinite(C)):
        return _tri_inv(C)
    F = np.full_like(N, np.nan)
    for b in range(N.shape[0]):
        if not np.all(np.isfinite(N[b])):
            continue
        try:
            F[b] = _tri_inv(np.linalg.cholesky(N[b])[None])[0]
            if np.all(np.isfinite(F[b])):
                continue
        except np.linalg.LinAlgError:
            pass
        s, V = np.linalg.eigh(N[b])
        keep = s > N.shape[1] * np.finfo(float).eps * max(float(s[-1]), 0.0)
        F[b] = 0.0
        F[b][keep] = V[:, keep].T / np.sqrt(s[keep])[:, None]
    return F


def _half(F: np.ndarray, g: np.ndarray) -> np.ndarray:
    """z = F g: ‖z‖² is the decrement gᵀN⁻¹g and Fᵀz the Newton step N⁻¹g."""
    return np.einsum("lab,lb->la", F, g)


def _back(F: np.ndarray, z: np.ndarray) -> np.ndarray:
    return np.einsum("lba,lb->la", F, z)


def _info_factor(rw: _Rows, w32: np.ndarray, hidx: np.ndarray, m: int) -> np.ndarray:
    """Inverse factors of the information matrices of a batch from its rows' weights
    ``w32`` = p(1 − p) (float32)."""
    G = (w32 @ rw.pairsV32).astype(np.float64)
    return _inv_factor(np.take_along_axis(G, hidx, axis=1).reshape(-1, m, m))


def _sigmoid32(rw: _Rows, beta: np.ndarray) -> np.ndarray:
    """p = 1/(1 + e^{−η}) in float32 for a batch of coefficient rows (e^{−η} may overflow
    to ∞, giving p = 0)."""
    pr = (-beta).astype(np.float32) @ rw.XT32
    np.exp(pr, out=pr)
    pr += 1.0
    return np.divide(1.0, pr, out=pr)


def _iterate(rw: _Rows, g0: np.ndarray, FS: np.ndarray, bS: np.ndarray,
             cols: np.ndarray, hidx: np.ndarray, bufs: list[np.ndarray], eps: float,
             max_iter: int) -> tuple[np.ndarray, np.ndarray, int, np.ndarray]:
    """Newton for one replicate's batch of subsets, from the full-sample estimates ``bS``.

    The first step is the replicate's score at β_S, ``g0`` (computed for the whole chunk),
    times the shared inverse information (factor ``FS``); the second is a Newton step
    computed in float32 (it is far from converged), followed by float32 chord steps for
    subsets still far away (see ``_F32_NEWTON``). From then on each iterate's score is
    computed in float64 and checked against the last factored information matrix: a subset
    whose decrement is at most ``_ACCEPT · eps`` is accepted with ℓ(β) + ½·decrement; the
    others take a Newton step, with a fresh information matrix unless the decrement is below
    ``_CHORD · eps``. Returns ``(loglike, converged, number accepted, last coefficients)``;
    unconverged subsets are left to the caller.
    """
    L, m = cols.shape
    nr = rw.n
    lrows = np.arange(L)[:, None]
    ll = np.full(L, np.nan)
    conv = np.zeros(L, dtype=bool)
    beta = bS.copy()
    with np.errstate(all="ignore"):
        # step from β_S with the replicate's score there and the shared information
        g = g0.astype(np.float64)[lrows, cols]
        beta[lrows, cols] += _back(FS, _half(FS, g))
        # a float32 Newton step at β_1
        pr = _sigmoid32(rw, beta)
        g = (rw.cy32 - pr @ rw.Xv32).astype(np.float64)[lrows, cols]
        np.subtract(pr, pr * pr, out=pr)  # p(1 − p)
        F = _info_factor(rw, pr, hidx, m)
        z = _half(F, g)
        dec = np.einsum("la,la->l", z, z)
        step = _back(F, z)
        act = np.flatnonzero(np.all(np.isfinite(step), axis=1))
        beta[act[:, None], cols[act]] += step[act]
        # float32 chord steps while far from the optimum
        far = act[dec[act] > _F32_NEWTON * eps]
        lim = np.full(L, _ACCEPT * eps)
        lim[far] = _ACCEPT_STALE * eps
        flat = beta.reshape(-1)  # beta[l, cols[l]] is flat[at[l]]
        at = lrows * beta.shape[1] + cols
        for _ in range(_F32_STEPS):
            if far.size == 0:
                break
            rows = np.arange(far.size)[:, None]
            pr = _sigmoid32(rw, beta[far])
            g = (rw.cy32 - pr @ rw.Xv32).astype(np.float64)[rows, cols[far]]
            Ff = F[far]
            z = _half(Ff, g)
            dec = np.einsum("la,la->l", z, z)
            ok = np.isfinite(dec)  # F is finite here, so the step is too
            flat[at[far[ok]]] += _back(Ff[ok], z[ok])
            far = far[ok & (dec > _F32_CHORD * eps)]
        c_act, h_act, F, lim = cols[act], hidx[act], F[act], lim[act]
        for _ in range(max_iter):
            if act.size == 0:
                break
            na = act.size
            rows = np.arange(na)[:, None]
            neta = np.matmul(-beta[act], rw.XT, out=bufs[0][: na * nr].reshape(na, nr))
            ext = np.maximum(neta.max(axis=1), -neta.min(axis=1))
            # e^{−η} overflows to ∞ (p = 0) only where |η| > 700: such a subset is extreme
            # (below) and left to the engine
            pr = np.exp(neta, out=bufs[1][: na * nr].reshape(na, nr))
            pr += 1.0
            np.divide(1.0, pr, out=pr)  # p = 1/(1 + e^{−η})
            g = (rw.cy - pr @ rw.Xv)[rows, c_act]
            z = _half(F, g)
            dec = np.einsum("la,la->l", z, z)
            finite = np.isfinite(dec) & np.all(np.isfinite(g), axis=1)
            done = finite & (dec <= lim)
            # a row beyond |η| = 30 (p < 1e-13) marks a fit running off to a separation,
            # where the quadratic model underestimates the remaining gain: the engine
            # iterates those to its own criterion, as in a plain refit
            extreme = done & (ext > _EXTREME)
            done &= ~extreme
            if done.any():
                d = np.flatnonzero(done)
                ll[act[d]] = (_loglike(rw, pr, d) - beta[act[d]] @ rw.c0y
                              + 0.5 * dec[d])
                conv[act[d]] = np.isfinite(ll[act[d]])
            go = np.flatnonzero(finite & ~done & ~extreme)
            if go.size == 0:
                break
            # near the optimum the previous information matrix still gives fast (chord)
            # steps; farther away it is refreshed
            fresh = go[dec[go] > _CHORD * eps]
            F, z = F[go], z[go]
            if fresh.size:
                pg = pr[fresh] if fresh.size < na else pr
                w32 = np.subtract(pg, pg * pg, out=pg).astype(np.float32)  # p(1 − p)
                pos = np.searchsorted(go, fresh)
                F[pos] = _info_factor(rw, w32, h_act[fresh], m)
                z[pos] = _half(F[pos], g[fresh])
            lim = lim[go]
            if fresh.size:
                lim[pos] = _ACCEPT * eps
            act, c_act, h_act = act[go], c_act[go], h_act[go]
            beta[act[:, None], c_act] += _back(F, z)
    return ll, conv, int(conv.sum()), beta


def _loglike(rw: _Rows, p: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Σ v log p of the rows ``d`` of a batch (p per row, every |η| at most ``_EXTREME``)."""
    with np.errstate(divide="ignore"):
        if d.size * 2 > p.shape[0]:  # most rows: reduce all, no gather
            prod = np.multiply.reduceat(p, rw.chunk_starts, axis=1)[d]
        else:
            prod = np.multiply.reduceat(p[d], rw.chunk_starts, axis=1)
        return np.log(prod) @ rw.chunk_w


def _engine_fit(engines: dict[int, _Logit], r: int, Xa: np.ndarray, y: np.ndarray,
                v: np.ndarray, block: int, cols: np.ndarray, b_from: np.ndarray,
                b_start: np.ndarray, eps: float, max_iter: int
                ) -> tuple[np.ndarray, np.ndarray]:
    """The engine's Newton iterations for subsets the fast steps did not settle.

    They continue from β_2 where it is finite, else from the full-sample start, and the
    subsets the fast pass does not converge are refitted with step halving, as in
    :func:`~driverkit.importance._glm.glm_subset_values`.
    """
    eng = engines.get(r)
    if eng is None:
        keep = v > 0
        eng = _Logit(Xa[keep], y[keep], v[keep], block)
        engines[r] = eng
    b0 = np.where(np.all(np.isfinite(b_from), axis=1)[:, None], b_from, b_start)
    th = np.zeros((cols.shape[0], 0))
    ll = np.empty(cols.shape[0])
    conv = np.zeros(cols.shape[0], dtype=bool)
    for pos in range(0, cols.shape[0], block):
        sl = slice(pos, pos + block)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            _, _, lls, ok, _, _ = eng.newton(cols[sl], b0[sl], th[sl], eps, max_iter,
                                             safe=False)
            if not ok.all():
                bad = np.flatnonzero(~ok)
                res = eng.newton(cols[sl][bad], b_start[sl][bad], th[sl][bad], eps,
                                 max(max_iter, 100), safe=True)
                lls[bad], ok[bad] = res[2], res[3]
        ll[sl], conv[sl] = lls, ok
    return ll, conv
