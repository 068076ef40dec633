"""Fast batched Newton for the binary logit on many column subsets (the all-subsets engine).

The per-row work of a logit fit is one transcendental function per row and iteration; at
the sizes of survey data (n in the thousands, subsets in the tens of thousands) it, not the
matrix products, sets the cost. This engine therefore spends as few float64 transcendental
passes as it can while returning the same fits as a plain float64 Newton run:

* the iterations that only move the coefficients towards the optimum run in float32
  (linear predictors, ``exp``, score and information), on a centred and scaled design so that
  float32 information matrices are well conditioned;
* each subset ends with one float64 pass at its last iterate, which checks convergence with
  the float64 score (Newton decrement ``gᵀN⁻¹g ≤ eps``) and gives the log-likelihood from
  ``p = 1/(1 + e^{−η})``: ``ℓ = Σ v log p − Σ v(1 − y)η``, where ``Σ v log p`` is the log of
  products of 16 probabilities at a time (one ``log`` per 16 rows; rows are sorted by weight
  so that a chunk shares one weight). The step of that last pass is still taken, and its
  gain predicted by the quadratic model (half the decrement) is added to ℓ;
* a batch's arrays are restricted to the union of its subsets' columns;
* one factor's dummies (mutually exclusive 0/1 columns) form a *block*: rows are sorted by
  level, so the factor's part of η is a per-level constant (``np.repeat``), its score and
  information are sums over row segments, the dummies' own information is diagonal, and each
  Newton system is solved through the Schur complement of that diagonal. A 50-level factor
  then costs about as much as one more column.

Subsets that do not converge, that diverge, or whose linear predictor is extreme
(|η| > 30: near separation) are handed back to the caller, which refits them with the plain
float64 engine, :class:`_Logit` (below; also used for logistic relative weights and for
bootstrap replicates).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._glm_kernel import _invert_batch, _pair_layout, _softplus_sum, _solve_batch, _Work, log_chunks

__all__ = ["FastLogit", "factor_block"]

_F32 = np.float32
_EXTREME = 30.0  # beyond this |η| a subset's log-likelihood is recomputed the plain way
_BOUND_BELOW = 0.999 * _EXTREME  # an upper bound of max |η| below this settles the check
_SWITCH = 1e3  # float32 decrement (times eps) below which the next pass is float64 ...
_PREDICT = 0.1  # ... or when the next decrement is predicted below this (times eps)
_SWITCH_FIRST = 1e5  # ... or after a first (full Newton) step below this (times eps)
_MAX32 = 8  # float32 iterations at most
_REFRESH_ABOVE = 1e6  # refresh the information while the last decrement is above (× eps)
_REFRESH = (1, 2)  # plain engine: iterations that refresh the information matrix ...
_REFRESH_EVERY = 4  # ... and every fourth after that (chord steps in between)


def factor_block(X: np.ndarray, players: Sequence[Sequence[int]], min_width: int = 3
                 ) -> list[int]:
    """The design columns of the widest player whose columns are mutually exclusive 0/1
    dummies (a factor), or ``[]``. Only players of at least ``min_width`` columns count.

    Examples
    --------
    >>> import numpy as np
    >>> codes = np.array([0, 1, 2, 3, 1, 0])
    >>> D = (codes[:, None] == np.arange(1, 4)).astype(float)
    >>> X = np.column_stack([np.arange(6.0), D])
    >>> factor_block(X, [[0], [1, 2, 3]])
    [1, 2, 3]
    """
    best: list[int] = []
    for pl in players:
        if len(pl) < max(min_width, len(best) + 1):
            continue
        D = X[:, list(pl)]
        if np.all((D == 0) | (D == 1)) and np.all(D.sum(axis=1) <= 1):
            best = [int(c) for c in pl]
    return best


class FastLogit:
    """Batched logit Newton on column subsets of ``Xa`` (column 0 the intercept).

    Parameters
    ----------
    Xa : ndarray (n, K)
        Design with the intercept in column 0.
    y, v : ndarray (n,)
        0/1 outcome and likelihood weights (positive).
    block : list of int, optional
        Columns of one factor's dummies (see :func:`factor_block`), handled as a block.
    """

    thread_safe = True  # scratch is per thread

    def __init__(self, Xa: np.ndarray, y: np.ndarray, v: np.ndarray,
                 block: Sequence[int] | None = None) -> None:
        n, K = Xa.shape
        blk = np.asarray(sorted(block or []), dtype=np.intp)
        L = blk.size
        code = (Xa[:, blk] @ np.arange(1, L + 1)).astype(np.intp) if L else np.zeros(n, int)
        order = np.lexsort((v, code))  # by level, then weight (chunks of equal weight)
        Xa, y, v, code = Xa[order], y[order], v[order], code[order]
        dense = np.setdiff1d(np.arange(K), blk)
        self.n, self.K, self.L, self.blk, self.dense = n, K, L, blk, dense
        self.pos = np.full(K, -1, dtype=np.intp)
        self.pos[dense] = np.arange(dense.size)
        X = Xa[:, dense]
        sw = v / v.sum()
        mu = sw @ X
        sd = np.sqrt(np.maximum(sw @ (X - mu) ** 2, 0.0))
        mu[0], sd[0] = 0.0, 1.0
        sd = np.where(sd > 1e-12 * np.maximum(1.0, np.abs(mu)), sd, 1.0)
        self.mu, self.sd = mu, sd
        Z = (X - mu) / sd
        Z[:, 0] = 1.0
        Zv = Z * v[:, None]
        self.ZT = np.ascontiguousarray(Z.T)
        self.zmax = np.abs(Z).max(axis=0)  # |η| ≤ Σ |β_j| max|z_j| (+ max |γ|)
        self.ZT32 = self.ZT.astype(_F32)
        self.ZvT = np.ascontiguousarray(Zv.T)
        self.ZvT32 = self.ZvT.astype(_F32)
        self.cy = y @ Zv  # score = cy − p·(v∘Z)
        self.c0y = (1.0 - y) @ Zv  # Σ v(1 − y)η = β·c0y
        Kd = dense.size
        iu, ju = np.triu_indices(Kd)
        self.pair_index = np.empty((Kd, Kd), dtype=np.intp)
        self.pair_index[iu, ju] = np.arange(iu.size)
        self.pair_index[ju, iu] = np.arange(iu.size)
        self.pairsT32 = np.ascontiguousarray((Zv[:, iu] * Z[:, ju]).T, dtype=_F32)
        self.uniform = bool(np.all(v == v[0]))
        self.v, self.v32 = v, v.astype(_F32)
        if L:
            self.lev_count = np.bincount(code, minlength=L + 1)
            starts = np.concatenate([[0], np.cumsum(self.lev_count)[:-1]])
            self.lev_present = np.flatnonzero(self.lev_count > 0)
            self.lev_starts = starts[self.lev_present]
            self.lev_sl = [slice(int(starts[j]), int(starts[j] + self.lev_count[j]))
                           for j in range(L + 1)]
            self.cyL = np.bincount(code, weights=v * y, minlength=L + 1)[1:]
            self.c0yL = np.bincount(code, weights=v * (1.0 - y), minlength=L + 1)[1:]
        self.chunk_starts, self.chunk_w = log_chunks(v)
        self._local = threading.local()

    # ---------------------------------------------------------------- helpers
    def _buf(self, i: int, rows: int, dtype: type) -> np.ndarray:
        key = (i, np.dtype(dtype).char)
        bufs = self._local.__dict__.setdefault("bufs", {})
        b = bufs.get(key)
        if b is None or b.shape[0] < rows:
            b = bufs[key] = np.empty((max(rows, 16), self.n), dtype=dtype)
        return b[:rows]

    def _levsum(self, A: np.ndarray, weighted: bool) -> np.ndarray:
        """Σ over the rows of each level 1..L of A (times the weights if ``weighted``)."""
        if weighted and not self.uniform:
            A = A * (self.v32 if A.dtype == _F32 else self.v)
        out = np.zeros((A.shape[0], self.L + 1), dtype=A.dtype)
        out[:, self.lev_present] = np.add.reduceat(A, self.lev_starts, axis=1)
        if weighted and self.uniform and self.v[0] != 1.0:
            out *= self.v[0]
        return out[:, 1:]

    def _eta(self, b: np.ndarray, gam: np.ndarray | None, ZT: np.ndarray,
             out: np.ndarray) -> np.ndarray:
        np.matmul(b.astype(out.dtype), ZT, out=out)
        if gam is not None:
            full = np.zeros((gam.shape[0], self.L + 1), dtype=out.dtype)
            full[:, 1:] = gam
            out += np.repeat(full, self.lev_count, axis=1)
        return out

    # ---------------------------------------------------------------- one batch
    def fit(self, cols: np.ndarray, beta0: np.ndarray, eps: float, max_iter: int,
            shared: np.ndarray | None = None
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
        """Newton on a batch of subsets with equal column counts.

        ``cols`` (B, m) are sorted column indices, the intercept (column 0) in each;
        ``beta0`` (B, K) starting values in the raw full layout (zero outside each subset);
        ``shared`` (B,) labels subsets with equal starting values (siblings), whose first
        iteration is then computed once. Returns ``(beta (B, K), loglike, ok, extreme,
        iterations)``; ``ok`` is False where the caller must refit with the plain engine
        (not converged, diverged, or |η| > 30 somewhere). ``extreme`` is each fit's largest
        |η|, or an upper bound of it (Σ|β_j| max|z_j|) where that bound is below 30.
        """
        if not self.L:
            return self._fit(cols, beta0, eps, max_iter, shared, False)
        has = np.asarray(np.isin(cols, self.blk).any(axis=1))
        if has.all() or not has.any():
            return self._fit(cols, beta0, eps, max_iter, shared, bool(has[0]))
        B = cols.shape[0]
        out = (np.zeros((B, self.K)), np.zeros(B), np.zeros(B, dtype=bool), np.zeros(B))
        its = 0
        for part in (np.flatnonzero(has), np.flatnonzero(~has)):
            res = self._fit(cols[part], beta0[part], eps, max_iter,
                            None if shared is None else shared[part], bool(has[part[0]]))
            for dst, src in zip(out, res[:4], strict=True):
                dst[part] = src
            its = max(its, res[4])
        return out[0], out[1], out[2], out[3], its

    def _fit(self, cols: np.ndarray, beta0: np.ndarray, eps: float, max_iter: int,
             shared: np.ndarray | None, with_block: bool
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
        B = cols.shape[0]
        L = self.L if with_block else 0
        dcols = cols[~np.isin(cols, self.blk)].reshape(B, -1) if with_block else cols
        m = dcols.shape[1]
        dpos = self.pos[dcols]
        U = np.unique(dpos)  # dense positions of the batch's columns; U[0] = 0
        u = U.size
        loc = np.searchsorted(U, dpos)
        ZT32, ZvT32 = self.ZT32[U], self.ZvT32[U]
        ZT, ZvT = self.ZT[U], self.ZvT[U]
        zmax = self.zmax[U]
        cy, c0y = self.cy[U], self.c0y[U]
        gp = self.pair_index[U[:, None], U[None, :]]
        iu, ju = np.triu_indices(u)
        P32 = self.pairsT32[gp[iu, ju]]
        lp = np.empty((u, u), dtype=np.intp)
        lp[iu, ju] = np.arange(iu.size)
        lp[ju, iu] = np.arange(iu.size)
        hidx = lp[loc[:, :, None], loc[:, None, :]].reshape(B, m * m)

        raw = beta0[:, self.dense[U]]
        beta = raw * self.sd[U]
        beta[:, 0] = raw[:, 0] + raw @ self.mu[U]
        # factor-block coefficients (no columns without a block: every use is under `if L`)
        gam = beta0[:, self.blk].copy() if L else np.zeros((B, 0))
        ll = np.full(B, np.nan)
        ext = np.zeros(B)
        ok = np.zeros(B, dtype=bool)
        act = np.arange(B)
        wide = np.zeros(B, dtype=bool)  # the next pass of this subset is float64
        checked = np.zeros(B, dtype=bool)  # had a float64 pass
        prev = np.full(B, np.inf)  # last decrement
        # Newton system [[A, C], [Cᵀ, diag(D)]] kept as S = A − C D⁻¹ Cᵀ, C, D⁻¹ (a batched
        # solve per step costs less than an inverse per refresh)
        Sm = np.zeros((B, m, m))
        Cm = np.zeros((B, m, L))
        Dinv = np.zeros((B, L))
        it = 0
        while act.size and it < max_iter:
            it += 1
            w64 = wide[act]
            g = np.empty((act.size, m))
            gL = np.empty((act.size, L))
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
                    q = self._eta(-beta[uniq], -gam[uniq] if L else None, ZT32,
                                  self._buf(1, uniq.size, _F32))  # −η
                    self._prob(q)
                    s = cy - (q @ ZvT32.T).astype(float)
                    sL: Any = self.cyL - self._levsum(q, True) if L else None
                    need = prev[uniq] > _REFRESH_ABOVE * eps  # inf on the first iteration
                    if inv is not None:  # first iteration: every subset refreshes
                        parts = self._info(q, P32, ZvT32, L)
                        s = s[inv]
                        sL = sL[inv] if L else None
                        self._factor(idx, tuple(a[inv] for a in parts), hidx, loc, Sm,
                                     Cm, Dinv)
                    elif need.all():
                        self._factor(idx, self._info(q, P32, ZvT32, L), hidx, loc, Sm,
                                     Cm, Dinv)
                    elif need.any():
                        self._factor(idx[need], self._info(q[need], P32, ZvT32, L), hidx,
                                     loc, Sm, Cm, Dinv)
                else:
                    b = beta[idx]
                    gi: Any = gam[idx] if L else None
                    q = self._eta(-b, -gi if L else None, ZT, self._buf(0, idx.size, float))
                    # max |η| matters only near _EXTREME: where a bound keeps it below
                    # that, the bound stands in for it (two passes over q saved)
                    bound = np.abs(b) @ zmax
                    if L:
                        bound += np.abs(gi).max(axis=1)
                    close = np.flatnonzero(bound > _BOUND_BELOW)
                    if close.size:  # q = −η here
                        bound[close] = np.maximum(q[close].max(axis=1), -q[close].min(axis=1))
                    ext[idx] = bound
                    self._prob(q)
                    s = cy - q @ ZvT.T
                    sL = self.cyL - self._levsum(q, True) if L else None
                    # log-likelihood at this iterate (used if it has converged)
                    with np.errstate(divide="ignore"):
                        lq = np.log(np.multiply.reduceat(q, self.chunk_starts, axis=1))
                    ll[idx] = lq @ self.chunk_w - b @ c0y
                    if L:
                        ll[idx] -= gi @ self.c0yL
                    # a subset's first float64 pass usually ends it: refresh N only for
                    # subsets whose earlier float64 check failed
                    again = np.flatnonzero(checked[idx])
                    if again.size:
                        parts = self._info(q[again].astype(_F32), P32, ZvT32, L)
                        self._factor(idx[again], parts, hidx, loc, Sm, Cm, Dinv)
                    checked[idx] = True
                g[sel] = s[rows, loc[idx]]
                if L:
                    gL[sel] = sL
            # step through the Schur complement of the block's diagonal
            if L:
                a = gL * Dinv[act]
                r = g - np.einsum("bml,bl->bm", Cm[act], a)
                step = _solve_batch(Sm[act], r)
                stepL = a - Dinv[act] * np.einsum("bml,bm->bl", Cm[act], step)
                dec = np.einsum("bm,bm->b", step, g) + np.einsum("bl,bl->b", stepL, gL)
                finite = (np.isfinite(dec) & np.all(np.isfinite(step), axis=1)
                          & np.all(np.isfinite(stepL), axis=1))
                stepL[~finite] = 0.0
                gam[act] += stepL
            else:
                step = _solve_batch(Sm[act], g)
                dec = np.einsum("bm,bm->b", step, g)
                finite = np.isfinite(dec) & np.all(np.isfinite(step), axis=1)
            step[~finite] = 0.0
            full = np.zeros((act.size, u))
            full[np.arange(act.size)[:, None], loc[act]] = step
            beta[act] += full
            # a float64 pass has converged when its decrement is small; ℓ was taken before
            # the step, so add the step's gain predicted by the quadratic model (dec/2)
            done64 = w64 & (dec <= eps) & finite
            ll[act[done64]] += 0.5 * dec[done64]
            ok[act[done64]] = True
            # next pass in float64 when the decrement is small or, from the last two,
            # the next one is predicted to be (quadratic convergence: d_k+1 ≈ d_k³/d_k−1²)
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                pred = np.where(np.isfinite(prev[act]), dec * (dec / prev[act]) ** 2, np.inf)
            near = ((dec <= _SWITCH * eps) | ((dec <= 1e6 * eps) & (pred <= _PREDICT * eps))
                    | ((it == 1) & (dec <= _SWITCH_FIRST * eps)))
            wide[act[~w64 & (near | (it >= _MAX32))]] = True
            prev[act] = dec
            act = act[~(done64 | ~finite)]
        ok &= (ext <= _EXTREME) & np.isfinite(ll)
        out = np.zeros((B, self.K))
        raw = beta / self.sd[U]
        raw[:, 0] = beta[:, 0] - raw[:, 1:] @ self.mu[U][1:]
        out[:, self.dense[U]] = raw
        if L:
            out[:, self.blk] = gam
        return out, ll, ok, ext, it

    @staticmethod
    def _prob(q: np.ndarray) -> None:
        """−η -> p = 1/(1 + e^{−η}) in place."""
        np.exp(q, out=q)
        q += 1.0
        np.reciprocal(q, out=q)

    def _info(self, q: np.ndarray, P32: np.ndarray, ZvT32: np.ndarray, L: int
              ) -> tuple[np.ndarray, ...]:
        """Information pieces at probabilities ``q`` (float32, overwritten): the dense
        column pairs, and with a block the level × column sums and the level diagonal."""
        sq = np.multiply(q, q, out=self._buf(2, q.shape[0], _F32))
        np.subtract(q, sq, out=q)  # p(1 − p)
        G = q @ P32.T
        if not L:
            return (G,)
        C = np.zeros((q.shape[0], L, ZvT32.shape[0]), dtype=_F32)
        for j in range(1, L + 1):
            sl = self.lev_sl[j]
            if sl.stop > sl.start:
                C[:, j - 1] = q[:, sl] @ ZvT32[:, sl].T
        return G, C, self._levsum(q, True)

    @staticmethod
    def _factor(idx: np.ndarray, parts: tuple[np.ndarray, ...], hidx: np.ndarray,
                loc: np.ndarray, Sm: np.ndarray, Cm: np.ndarray, Dinv: np.ndarray
                ) -> None:
        """Store each subset's Newton system (with a block: the Schur complement of the
        block's diagonal) from the information pieces."""
        m = loc.shape[1]
        G = parts[0]
        flat = hidx[idx] + (np.arange(idx.size) * G.shape[1])[:, None]
        A = G.ravel().take(flat).reshape(idx.size, m, m).astype(float)
        if len(parts) > 1:
            C = np.take_along_axis(parts[1], loc[idx][:, None, :], axis=2)  # (b, L, m)
            C = C.transpose(0, 2, 1).astype(float)
            with np.errstate(divide="ignore"):
                Di = 1.0 / parts[2].astype(float)
            A -= np.matmul(C * Di[:, None, :], C.transpose(0, 2, 1))
            Cm[idx], Dinv[idx] = C, Di
        Sm[idx] = A


# ======================================================================================
# binary logit: the plain float64 engine (refits; relative weights; replicates)
# ======================================================================================
class _Logit:
    """Newton for the logit on batches of column subsets, in the full column layout.

    With t = tanh(η/2), p = (1 + t)/2, so the score Σ v(y − p)x = c₀ − ½·t·(v∘X) and the
    information Σ v p(1 − p) x xᵀ = ¼(g₀ − t²·(v∘x_i x_j)). Every heavy product is one dense
    GEMM over the batch, and each subset's m × m system is gathered from the pair products.
    """

    def __init__(self, Xa: np.ndarray, y: np.ndarray, v: np.ndarray, block: int) -> None:
        n, K = Xa.shape
        self.n, self.K, self.v = n, K, v
        self.XaT = np.ascontiguousarray(Xa.T)
        self.XhT = 0.5 * self.XaT  # β·XhT = η/2, the argument of tanh
        self.Xv = Xa * v[:, None]
        self.c0 = (y - 0.5) @ self.Xv
        self.cy = y @ self.Xv
        self.cv = v @ Xa
        self._Xa = Xa
        self.pair_index = _pair_layout(K)[2]
        self._pairs: tuple[np.ndarray, np.ndarray] | None = None
        self.work = _Work(block, n, 2)
        self.n_par_extra = 0

    thread_safe = True  # scratch is per thread (_Work); the pair products are built once

    @property
    def pairsV(self) -> np.ndarray:
        """v∘x_i x_j for every column pair (n, K(K+1)/2), built on first use."""
        if self._pairs is None:
            iu, ju, _ = _pair_layout(self.K)
            pairs = self.Xv[:, iu] * self._Xa[:, ju]
            self._pairs = (pairs, pairs.sum(axis=0))
        return self._pairs[0]

    @property
    def g0(self) -> np.ndarray:
        self.pairsV  # noqa: B018 - builds the pair products
        assert self._pairs is not None
        return self._pairs[1]

    def loglike(self, beta: np.ndarray, extreme: np.ndarray | None = None) -> np.ndarray:
        """ℓ = β·Σv y x − Σ v softplus(η), for a batch of full-layout coefficient rows.

        ``extreme`` (B,) receives max_i |η_i| of each row (a separation flag).
        """
        B = beta.shape[0]
        eta = np.matmul(beta, self.XaT, out=self.work.get(0, B))
        if extreme is not None:
            extreme[:] = np.maximum(eta.max(axis=1), -eta.min(axis=1))
        return beta @ self.cy - _softplus_sum(eta, self.v, self.work.get(1, B))

    def _first(self, src: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Full-layout score and pair products (G) at the coefficient rows ``src``."""
        U = src.shape[0]
        T = np.matmul(src, self.XhT, out=self.work.get(1, U))
        np.tanh(T, out=T)
        score_full = self.c0 - 0.5 * (T @ self.Xv)
        np.multiply(T, T, out=T)
        return score_full, 0.25 * (self.g0 - T @ self.pairsV)

    def newton(self, cols: np.ndarray, beta: np.ndarray, theta: np.ndarray, eps: float,
               max_iter: int, safe: bool, shared: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
        """Newton on a batch of subsets with the same number of columns.

        ``cols`` (B, m) are the subsets' columns; ``beta`` (B, K) and ``theta`` (B, J) the
        starting values (full layout, zero outside the subset). ``shared`` (B,) optionally
        groups subsets whose starting linear predictors are equal (children of one parent):
        the first iteration's score and information are then computed once per group.
        Returns ``(beta, theta, loglike, converged, extreme, iterations)``, where
        ``extreme`` is the largest |linear predictor| of each fit (a separation flag).
        """
        B, m = cols.shape
        beta = beta.copy()
        conv = np.zeros(B, dtype=bool)
        act = np.arange(B)
        c_act = cols
        hidx = self.pair_index[cols[:, :, None], cols[:, None, :]].reshape(B, m * m)
        ll = self.loglike(beta) if safe else None
        Ninv = None
        it = 0
        while it < max_iter:
            it += 1
            na = act.size
            rows = np.arange(na)[:, None]
            if it == 1 and shared is not None and not safe:
                first, inverse = np.unique(shared, return_index=True, return_inverse=True)[1:]
                score_full, G = self._first(beta[first])
                score_full, G = score_full[inverse], G[inverse]
            else:
                T = np.matmul(beta[act], self.XhT, out=self.work.get(1, na))  # η/2
                np.tanh(T, out=T)
                score_full = self.c0 - 0.5 * (T @ self.Xv)
                G = None
                if safe or Ninv is None or it in _REFRESH or it % _REFRESH_EVERY == 0:
                    np.multiply(T, T, out=T)
                    G = 0.25 * (self.g0 - T @ self.pairsV)
            score = score_full[rows, c_act]
            if G is not None:
                Ninv = _invert_batch(np.take_along_axis(G, hidx, axis=1).reshape(na, m, m))
            assert Ninv is not None
            step = np.matmul(Ninv, score[..., None])[..., 0]
            dec = np.einsum("bm,bm->b", step, score)
            finite = np.isfinite(dec) & np.all(np.isfinite(step), axis=1)
            step[~finite] = 0.0
            full = np.zeros((na, self.K))
            full[rows, c_act] = step
            if safe:
                assert ll is not None
                t = np.ones(na)
                base = beta[act]
                for _ in range(60):
                    new_ll = self.loglike(base + t[:, None] * full)
                    bad = ~(new_ll >= ll[act] - 1e-12 * np.abs(ll[act]))
                    if not bad.any():
                        break
                    t = np.where(bad, t / 2, t)
                t = np.where(bad, 0.0, t)
                ll[act] = np.where(bad, ll[act], new_ll)
                beta[act] = base + t[:, None] * full
            else:
                beta[act] += full
            done = (dec <= eps) & finite
            if not finite.all() and not safe:  # diverged: leave unconverged, refit safely
                beta[act[~finite]] = np.nan
            if (done | ~finite).any():
                conv[act[done]] = True
                keep = ~(done | ~finite)
                act, c_act, hidx, Ninv = act[keep], c_act[keep], hidx[keep], Ninv[keep]
                if act.size == 0:
                    break
        extreme = np.zeros(B)
        final_ll = self.loglike(np.nan_to_num(beta), extreme)
        ok = conv & np.isfinite(final_ll)
        return beta, theta, final_ll, ok, extreme, it
