"""Fast batched Newton for the binary logit on many column subsets (the all-subsets engine).

The per-row work of a logit fit is one transcendental function per row and iteration; at
the sizes of survey data (n in the thousands, subsets in the tens of thousands) it, not the
matrix products, sets the cost. This engine therefore spends as few float64 transcendental
passes as it can while returning the same fits as a plain float64 Newton run:

* the iterations that only move the coefficients towards the optimum run in float32
  (linear predictors, ``exp``, score and information), on a centred and scaled design so that
  float32 information matrices are well conditioned;
* each subset ends with exactly one float64 pass at its last iterate, which checks
  convergence with the float64 score (Newton decrement ``gᵀN⁻¹g ≤ eps``) and gives the
  log-likelihood from ``p = 1/(1 + e^{−η})``: ``ℓ = Σ v log p − Σ v(1 − y)η``, where
  ``Σ v log p`` is the log of products of 16 probabilities at a time (one ``log`` per 16
  rows; rows are sorted by weight so a chunk shares one weight);
* a batch's arrays are restricted to the union of its subsets' columns.

Subsets that do not converge, that diverge, or whose linear predictor is extreme
(separation) are handed back to the caller, which refits them with the plain engine.
"""

from __future__ import annotations

import threading

import numpy as np

__all__ = ["FastLogit"]

_F32 = np.float32
_CHUNK = 16  # probabilities multiplied before one log: ≥ (4.7e-15)^16 > 1e-229, no underflow
_EXTREME = 30.0  # beyond this |η| a subset's log-likelihood is recomputed the plain way
_SWITCH = 1e3  # float32 decrement (relative to eps) below which the next pass is float64
_MAX32 = 8  # float32 iterations at most
_REFRESH = (1, 2)  # iterations that refresh the information matrix, and every fourth after
_REFRESH_EVERY = 4


class FastLogit:
    """Batched logit Newton on column subsets of ``Xa`` (column 0 the intercept).

    Parameters
    ----------
    Xa : ndarray (n, K)
        Design with the intercept in column 0.
    y, v : ndarray (n,)
        0/1 outcome and likelihood weights (positive).
    """

    def __init__(self, Xa: np.ndarray, y: np.ndarray, v: np.ndarray) -> None:
        n, K = Xa.shape
        order = np.argsort(v, kind="stable")  # chunks of equal weight for the log-likelihood
        Xa, y, v = Xa[order], y[order], v[order]
        sw = v / v.sum()
        mu = sw @ Xa
        sd = np.sqrt(np.maximum(sw @ (Xa - mu) ** 2, 0.0))
        mu[0], sd[0] = 0.0, 1.0
        sd = np.where(sd > 1e-12 * np.maximum(1.0, np.abs(mu)), sd, 1.0)
        self.mu, self.sd = mu, sd
        Z = (Xa - mu) / sd
        Z[:, 0] = 1.0
        self.n, self.K = n, K
        Zv = Z * v[:, None]
        self.ZT = np.ascontiguousarray(Z.T)
        self.ZT32 = self.ZT.astype(_F32)
        self.ZvT = np.ascontiguousarray(Zv.T)
        self.ZvT32 = self.ZvT.astype(_F32)
        self.cy = y @ Zv  # score = cy − p·(v∘Z)
        self.c0y = (1.0 - y) @ Zv  # Σ v(1 − y)η = β·c0y
        iu, ju = np.triu_indices(K)
        self.pair_index = np.empty((K, K), dtype=np.intp)
        self.pair_index[iu, ju] = np.arange(iu.size)
        self.pair_index[ju, iu] = np.arange(iu.size)
        self.pairsT32 = np.ascontiguousarray((Zv[:, iu] * Z[:, ju]).T, dtype=_F32)
        cut = np.flatnonzero(np.diff(v)) + 1
        starts = np.union1d(np.arange(0, n, _CHUNK), cut).astype(np.intp)
        self.chunk_starts = starts
        self.chunk_w = v[starts]
        self._local = threading.local()
        self.switch = _SWITCH

    # ---------------------------------------------------------------- parametrisation
    def to_internal(self, beta: np.ndarray, U: np.ndarray) -> np.ndarray:
        """Coefficients on the raw columns ``U`` (U[0] = 0) -> on the centred, scaled ones."""
        out = beta * self.sd[U]
        out[:, 0] = beta[:, 0] + beta @ self.mu[U]
        return out

    def to_external(self, beta: np.ndarray, U: np.ndarray) -> np.ndarray:
        out = beta / self.sd[U]
        out[:, 0] = beta[:, 0] - out[:, 1:] @ self.mu[U][1:]
        return out

    def _buf(self, i: int, rows: int, dtype: type) -> np.ndarray:
        key = (i, np.dtype(dtype).char)
        bufs = self._local.__dict__.setdefault("bufs", {})
        b = bufs.get(key)
        if b is None or b.shape[0] < rows:
            b = bufs[key] = np.empty((max(rows, 16), self.n), dtype=dtype)
        return b[:rows]

    # ---------------------------------------------------------------- one batch
    def fit(self, cols: np.ndarray, beta0: np.ndarray, eps: float, max_iter: int,
            shared: np.ndarray | None = None
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
        """Newton on a batch of subsets with equal column counts.

        ``cols`` (B, m) are sorted column indices with column 0 (the intercept) first;
        ``beta0`` (B, K) starting values in the raw full layout (zero outside each subset);
        ``shared`` (B,) labels subsets with equal starting values (siblings), whose first
        iteration is then computed once. Returns ``(beta (B, K), loglike, ok, extreme,
        iterations)``; ``ok`` is False where the caller must refit with the plain engine
        (not converged, diverged, or |η| > 30 somewhere).
        """
        B, m = cols.shape
        U = np.unique(cols)
        u = U.size
        loc = np.searchsorted(U, cols)
        ZT32, ZvT32 = self.ZT32[U], self.ZvT32[U]
        ZT, ZvT = self.ZT[U], self.ZvT[U]
        cy, c0y = self.cy[U], self.c0y[U]
        gp = self.pair_index[U[:, None], U[None, :]]
        iu, ju = np.triu_indices(u)
        P32 = self.pairsT32[gp[iu, ju]]
        lp = np.empty((u, u), dtype=np.intp)
        lp[iu, ju] = np.arange(iu.size)
        lp[ju, iu] = np.arange(iu.size)
        hidx = lp[loc[:, :, None], loc[:, None, :]].reshape(B, m * m)

        beta = self.to_internal(beta0[:, U], U)
        ll = np.full(B, np.nan)
        ext = np.zeros(B)
        ok = np.zeros(B, dtype=bool)
        act = np.arange(B)
        wide = np.zeros(B, dtype=bool)  # the next pass of this subset is float64
        Ninv = np.zeros((B, m, m))
        checked = np.zeros(B, dtype=bool)  # had a float64 pass
        it = 0
        while act.size and it < max_iter:
            it += 1
            refresh = it in _REFRESH or it % _REFRESH_EVERY == 0
            fin = np.zeros(act.size, dtype=bool)  # leaves the batch this iteration
            w64 = wide[act]
            g = np.empty((act.size, m))
            for is64 in (False, True):
                sel = np.flatnonzero(w64 == is64)
                if sel.size == 0:
                    continue
                idx = act[sel]
                rows = np.arange(idx.size)[:, None]
                if not is64:
                    uniq, inv = idx, None
                    if it == 1 and shared is not None:
                        first, inv = np.unique(shared[idx], return_index=True,
                                               return_inverse=True)[1:]
                        uniq = idx[first]
                    q = np.matmul(beta[uniq].astype(_F32), ZT32,
                                  out=self._buf(1, uniq.size, _F32))
                    np.negative(q, out=q)
                    np.exp(q, out=q)
                    q += 1.0
                    np.reciprocal(q, out=q)
                    s = cy - (q @ ZvT32.T).astype(float)
                    G = None
                    if refresh:
                        np.subtract(q, q * q, out=q)
                        G = q @ P32.T
                    if inv is not None:
                        s = s[inv]
                        G = G[inv] if G is not None else None
                    if G is not None:
                        Ninv[idx] = _inv(np.take_along_axis(G, hidx[idx], axis=1)
                                         .reshape(idx.size, m, m))
                    g[sel] = s[rows, loc[idx]]
                else:
                    b = beta[idx]
                    eta = np.matmul(b, ZT, out=self._buf(0, idx.size, float))
                    ext[idx] = np.maximum(eta.max(axis=1), -eta.min(axis=1))
                    q = eta
                    np.negative(eta, out=q)
                    np.exp(q, out=q)
                    q += 1.0
                    np.reciprocal(q, out=q)
                    s = cy - q @ ZvT.T
                    g[sel] = s[rows, loc[idx]]
                    # log-likelihood at this iterate (used if it has converged)
                    with np.errstate(divide="ignore"):
                        lq = np.log(np.multiply.reduceat(q, self.chunk_starts, axis=1))
                    ll[idx] = lq @ self.chunk_w - b @ c0y
                    # a subset's first float64 pass usually ends it: refresh N only
                    # for subsets whose earlier float64 check failed
                    again = np.flatnonzero(checked[idx])
                    if again.size:
                        qa = q[again]
                        qa -= qa * qa
                        G = qa.astype(_F32) @ P32.T
                        Ninv[idx[again]] = _inv(np.take_along_axis(G, hidx[idx[again]], axis=1)
                                                .reshape(again.size, m, m))
                    checked[idx] = True
            Na = Ninv[act]
            step = np.matmul(Na, g[..., None])[..., 0]
            dec = np.einsum("bm,bm->b", step, g)
            finite = np.isfinite(dec) & np.all(np.isfinite(step), axis=1)
            step[~finite] = 0.0
            full = np.zeros((act.size, u))
            full[np.arange(act.size)[:, None], loc[act]] = step
            beta[act] += full
            # float64 pass: converged when its decrement is small; ℓ was taken before the
            # step, so add the gain of the quadratic model (dec/2)
            done64 = w64 & (dec <= eps) & finite
            ll[act[done64]] += 0.5 * dec[done64]
            ok[act[done64]] = True
            fin |= done64 | ~finite
            wide[act[~w64 & ((dec <= self.switch * eps) | (it >= _MAX32))]] = True
            act = act[~fin]
        ok &= ext <= _EXTREME
        ok &= np.isfinite(ll)
        out = np.zeros((B, self.K))
        out[:, U] = self.to_external(beta, U)
        return out, ll, ok, ext, it


def _inv(N: np.ndarray) -> np.ndarray:
    N = N.astype(float)
    try:
        return np.linalg.inv(N)
    except np.linalg.LinAlgError:
        return np.linalg.pinv(N, hermitian=True)
