"""Batched ordered-logit (proportional-odds) Newton engine for all-subset GLM importance.

Used by :func:`driverkit.importance._glm.glm_subset_values` with ``kind="ordinal"``.
"""

from __future__ import annotations

import threading

import numpy as np

from ._glm_kernel import _BIG, _invert_batch, _pair_layout, _softplus_sum, _solve_batch, _Work

_CLIP32 = 80.0  # |η − θ| bound of the float32 passes (e^88.7 overflows float32)
_CLIP64 = 350.0  # η − θ bound of the float64 pass ((1 + A)(A + r) stays finite)
_LOG2E = 1.4426950408889634  # log₂ e: e^x = 2^(x·log₂ e), and exp2 is the faster one
_CHUNK = 16  # probabilities multiplied before one logarithm
_TINY = 1e-280  # a product below this may have lost digits: that log-likelihood is redone
_SWITCH = 1e3  # float32 passes run until the decrement is below _SWITCH × tolerance
_POINT_TOL = 1e-10  # the final step's error allowed from reusing the previous information


# ======================================================================================
# ordered logit (cumulative logit, P(y ≤ j | x) = F(θ_j − xβ))
# ======================================================================================
class _Ordinal:
    """Newton for the proportional-odds model on batches of column subsets.

    With a = θ_y − η, b = θ_{y−1} − η and t_a = tanh(a/2), t_b = tanh(b/2):
    ∂ℓ/∂η = (t_a + t_b)/2 and −∂²ℓ/∂η² = ((1 − t_a²) + (1 − t_b²))/4. Rows are sorted by
    category once, so each cut point's score and cross terms are sums over contiguous row
    slices. The log-likelihood is concave in (β, θ) (Pratt 1981), so Newton runs on the cut
    points themselves, and a step is shortened whenever it would break their order: the cut
    points stay strictly increasing.
    """

    thread_safe = True  # scratch arrays are per thread; batches may run in threads

    def __init__(self, X: np.ndarray, codes: np.ndarray, v: np.ndarray, J: int,
                 block: int) -> None:
        # sums over rows do not care about order: by category (contiguous cut-point terms),
        # then by weight (runs of equal weight share one logarithm in the log-likelihood)
        order = np.lexsort((v, codes))
        X, v, codes = X[order], v[order], codes[order]
        n, K = X.shape
        self.n, self.K, self.J, self.v = n, K, J, v
        self.XT = np.ascontiguousarray(X.T)
        self.XhT = 0.5 * self.XT
        self.Xv = X * v[:, None]
        iu, ju, self.pair_index = _pair_layout(K)
        self.pairsV = self.Xv[:, iu] * X[:, ju]
        starts = np.searchsorted(codes, np.arange(J + 2))
        self.sl = [slice(int(starts[c]), int(starts[c + 1])) for c in range(J + 1)]
        self.n_low = int(starts[J])  # rows below the top category (finite upper cut point)
        self.n_bottom = int(starts[1])  # rows of the bottom category (no lower cut point)
        self.cat_w = np.array([v[sl].sum() for sl in self.sl])
        self.block = block
        # The fast path works on standardised columns z = (x − m)/s, i.e. on β_z = s·β and
        # θ_z = θ − m·β: the same model, and the same Newton decrements (they are invariant
        # under affine reparametrisation), but a well-conditioned information matrix, so
        # float32 copies of it steer Newton to nearly float64 accuracy.
        total = v.sum()
        self.center = (v @ X) / total if total > 0 else np.zeros(K)
        sd = np.sqrt(np.maximum(v @ (X - self.center) ** 2 / total, 0.0)) if total > 0 else 0
        self.scale = np.where(sd > 0, sd, 1.0) * np.ones(K)
        self.Z = np.ascontiguousarray((X - self.center) / self.scale)
        self.zmax = max(float(np.abs(self.Z).max(initial=0.0)), 1.0)
        self.Zv = self.Z * v[:, None]
        self.Z32 = self.Z.astype(np.float32)
        self.Zv32 = self.Zv.astype(np.float32)
        self.pairsZ32 = (self.Zv[:, iu] * self.Z[:, ju]).astype(np.float32)
        self.v32 = v.astype(np.float32)
        # Σ v log P: runs of ≥ _CHUNK rows of equal weight take one log per _CHUNK rows
        first = np.concatenate([[0], np.flatnonzero(np.diff(v)) + 1]).astype(np.intp)
        k = np.diff(np.append(first, n)) // _CHUNK
        blk = (k > 0) & (v[first] > 0)
        self.log_blocks = [(int(a), int(c), float(v[a])) for a, c in zip(first[blk], k[blk],
                                                                          strict=True)]
        covered = np.zeros(n + 1)
        np.add.at(covered, first[blk], 1.0)
        np.add.at(covered, first[blk] + k[blk] * _CHUNK, -1.0)
        self.singles = np.flatnonzero((np.cumsum(covered[:n]) == 0) & (v > 0))
        self.v_singles = v[self.singles]
        self._local = threading.local()  # scratch arrays per thread (batches may run in threads)

    @property
    def work(self) -> _Work:
        """Scratch of the float64 reference passes (one set per thread)."""
        work = getattr(self._local, "work", None)
        if work is None:
            work = self._local.work = _Work(self.block, self.n, 6)
        return work

    def _scratch(self, dtype: type, count: int, B: int) -> list[np.ndarray]:
        """``count`` contiguous scratch arrays of shape (n, B) in ``dtype`` (per thread).

        Respondents are rows, so every category's rows are one contiguous block.
        """
        key = f"bufs_{np.dtype(dtype).name}"
        bufs = getattr(self._local, key, None)
        need = self.n * B
        if bufs is None or bufs[0].size < need or len(bufs) < count:
            size = max(need, self.n * self.block, bufs[0].size if bufs else 0)
            bufs = [np.empty(size, dtype=dtype) for _ in range(max(count, 8))]
            setattr(self._local, key, bufs)
        return [b[:need].reshape(self.n, B) for b in bufs[:count]]

    def _fill(self, out: np.ndarray, cuts: np.ndarray, eta: np.ndarray, upper: bool,
              fill: float) -> None:
        """out = cut point − η per row (upper: θ_y, else θ_{y−1}); ``fill`` where none."""
        for c, sl in enumerate(self.sl):
            j = c if upper else c - 1
            if 0 <= j < self.J:
                np.subtract(cuts[:, j : j + 1], eta[:, sl], out=out[:, sl])
            else:
                out[:, sl] = fill

    def loglike(self, beta: np.ndarray, theta: np.ndarray,
                extreme: np.ndarray | None = None) -> np.ndarray:
        """ℓ = Σ v log(F(a) − F(b)) with F(a) − F(b) = F(a)·F(−b)·(1 − e^{b−a}).

        ``extreme`` (B,) receives how far the fit goes towards a perfect prediction: the
        largest distance of some η_i beyond the outer cut points, or half the widest gap
        between cut points.
        """
        B = beta.shape[0]
        eta = np.matmul(beta, self.XT, out=self.work.get(0, B))
        if extreme is not None:
            gaps = np.diff(theta, axis=1).max(axis=1, initial=0.0) / 2
            extreme[:] = np.maximum.reduce([eta.max(axis=1) - theta[:, -1],
                                            theta[:, 0] - eta.min(axis=1), gaps])
        x = self.work.get(1, B)
        tmp = self.work.get(2, B)
        self._fill(x, theta, eta, True, _BIG)  # a
        np.negative(x, out=x)
        ll = -_softplus_sum(x, self.v, tmp)
        self._fill(x, theta, eta, False, -_BIG)  # b
        ll -= _softplus_sum(x, self.v, tmp)
        th = np.concatenate([np.full((B, 1), -_BIG), theta, np.full((B, 1), _BIG)], axis=1)
        with np.errstate(divide="ignore"):
            gap = np.log(-np.expm1(th[:, :-1] - th[:, 1:]))  # per category, ≤ 0
        ll += np.where(self.cat_w > 0, gap, 0.0) @ self.cat_w
        return ll

    # ----------------------------------------------------------------------------------
    # fast path
    # ----------------------------------------------------------------------------------
    @staticmethod
    def _cut_constants(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per middle category c = 1..J−1: r = e^{θ_{c−1} − θ_c}, κ = 1/(1 − r), log(1 − r)."""
        gap = np.diff(theta, axis=1)
        r = np.maximum(np.exp(-gap), 1e-300)
        one_minus = np.maximum(-np.expm1(-gap), 1e-300)
        return r, 1.0 / one_minus, np.log(one_minus)

    def _full_layout(self, beta: np.ndarray, theta: np.ndarray, f4: type = np.float32
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Score and information terms at (β, θ) in float32, for every column of the layout.

        Returns ``(score_beta (B, K), G (B, pairs), cross (B, K, J), score_theta (B, J),
        info_theta (B, J, J))``. With A = e^{η − θ_c} and r = e^{θ_{c−1} − θ_c} for a
        respondent of category c: F(a) = 1/(1 + A), F(b) = r/(A + r), the cut-point score
        terms f(a)/P = κ(A + r)F(a) and f(b)/P = κ(1 + A)F(b) with κ = 1/(1 − r), and
        f(a)f(b)/P² = rκ² is the same for every respondent of the category. Only one
        exponential per respondent, and no difference of nearly equal probabilities.
        """
        B = beta.shape[0]
        J, K, sl = self.J, self.K, self.sl
        single = f4 == np.float32
        v, Xv = (self.v32, self.Zv32) if single else (self.v, self.Zv)
        X = self.Z32 if single else self.Z
        pairsV = self.pairsZ32 if single else self.pairsZ32.astype(float)
        eta, S, W, A, T1, T2, T3, T4 = self._scratch(f4, 8, B)
        np.matmul(X, beta.T.astype(f4), out=eta)
        th = np.ascontiguousarray(theta.T, dtype=f4)  # (J, B)
        r, kap, _ = self._cut_constants(theta)
        r4 = np.ascontiguousarray(np.maximum(r.T, 1e-30), dtype=f4)
        kap4 = np.ascontiguousarray(kap.T, dtype=f4)
        g_theta = np.zeros((J, B))
        cross = np.zeros((J, K, B))
        tt = np.zeros((B, J, J))

        # steering only, so bounding η − θ₀ (hence every η − θ_c) keeps e^{η − θ} finite
        np.minimum(eta, th[:1] + _CLIP32, out=eta)

        def expo(c: int, cut: int) -> tuple[slice, np.ndarray]:
            s = sl[c]
            a = A[s]
            np.subtract(eta[s], th[cut : cut + 1], out=a)
            np.exp(a, out=a)
            return s, a

        # bottom category: P = F(a)
        s, a = expo(0, 0)
        e, ga, fa = T1[s], T2[s], W[s]
        np.add(a, 1.0, out=e)
        np.divide(a, e, out=ga)  # 1 − F(a) = f(a)/P
        np.negative(ga, out=S[s])
        np.divide(ga, e, out=fa)  # f(a)
        g_theta[0] += v[s] @ ga
        cross[0] -= Xv[s].T @ fa
        tt[:, 0, 0] += v[s] @ fa
        # top category: P = 1 − F(b)
        s, a = expo(J, J - 1)
        e, fb_, fb = T1[s], S[s], W[s]
        np.add(a, 1.0, out=e)
        np.divide(1.0, e, out=fb_)  # F(b) = f(b)/P, also the score term
        np.subtract(1.0, fb_, out=fb)
        np.multiply(fb, fb_, out=fb)  # f(b)
        g_theta[J - 1] -= v[s] @ fb_
        cross[J - 1] -= Xv[s].T @ fb
        tt[:, J - 1, J - 1] += v[s] @ fb
        # middle categories: cut c above, c − 1 below
        for c in range(1, J):
            s, a = expo(c, c)
            rc, kc = r4[c - 1 : c], kap4[c - 1 : c]
            e, d, fa_, fb_, w = T1[s], T2[s], T3[s], T4[s], W[s]
            np.add(a, 1.0, out=e)
            np.add(a, rc, out=d)
            np.divide(1.0, e, out=fa_)  # F(a)
            np.divide(rc, d, out=fb_)  # F(b)
            np.subtract(1.0, fb_, out=w)
            np.subtract(fa_, w, out=S[s])  # F(a) + F(b) − 1
            np.multiply(d, fa_, out=d)
            np.multiply(d, kc, out=d)  # g_a = f(a)/P
            np.multiply(e, fb_, out=e)
            np.multiply(e, kc, out=e)  # g_b = f(b)/P
            g_theta[c] += v[s] @ d
            g_theta[c - 1] -= v[s] @ e
            np.subtract(1.0, fa_, out=a)
            np.multiply(a, fa_, out=a)  # f(a)
            cross[c] -= Xv[s].T @ a
            np.multiply(w, fb_, out=w)  # f(b)
            cross[c - 1] -= Xv[s].T @ w
            np.add(w, a, out=w)
            # −∂²ℓ/∂θ_c² terms g_a(t_a + g_a), t_a = 2F(a) − 1; −∂²ℓ/∂θ_{c−1}² g_b(g_b − t_b)
            np.multiply(fa_, 2.0, out=fa_)
            fa_ -= 1.0
            np.add(fa_, d, out=fa_)
            np.multiply(fa_, d, out=fa_)
            tt[:, c, c] += v[s] @ fa_
            np.multiply(fb_, -2.0, out=fb_)
            fb_ += 1.0
            np.add(fb_, e, out=fb_)
            np.multiply(fb_, e, out=fb_)
            tt[:, c - 1, c - 1] += v[s] @ fb_
            off = -self.cat_w[c] * r[:, c - 1] * kap[:, c - 1] ** 2
            tt[:, c, c - 1] = tt[:, c - 1, c] = off
        score = (Xv.T @ S).T.astype(float)
        G = (pairsV.T @ W).T.astype(float)
        return score, G, cross.transpose(2, 1, 0), g_theta.T, tt

    def _score64(self, beta: np.ndarray, theta: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Exact float64 score and log-likelihood at (β, θ), for the convergence test.

        Returns ``(score_beta (B, K), score_theta (B, J), loglike (B,), extreme (B,),
        exact (B,))``; ``exact`` marks fits whose log-likelihood must come from
        :meth:`loglike` instead (some η − θ₀ beyond the exponent bound, or probabilities
        so small that products of ``_CHUNK`` of them could underflow).

        Each respondent's probability P is formed without differences of probabilities
        (see :meth:`_full_layout`), and Σ v log P is a sum of logs of products of
        ``_CHUNK`` probabilities of equal weight: one logarithm per ``_CHUNK`` respondents.
        Exponentials are powers of two of (η − θ)·log₂e.
        """
        B = beta.shape[0]
        J, sl, v = self.J, self.sl, self.v
        eta, S, A, T1, T2, P = self._scratch(np.float64, 6, B)
        np.matmul(self.Z, beta.T * _LOG2E, out=eta)  # η·log₂e
        th2 = np.ascontiguousarray(theta.T) * _LOG2E
        r, kap, _ = self._cut_constants(theta)
        rT = np.ascontiguousarray(r.T)
        one_r = 1.0 - rT
        g_theta = np.zeros((J, B))
        emax, emin = eta.max(axis=0) / _LOG2E, eta.min(axis=0) / _LOG2E
        gaps = np.diff(theta, axis=1).max(axis=1, initial=0.0) / 2
        extreme = np.maximum.reduce([emax - theta[:, -1], theta[:, 0] - emin, gaps])
        exact = emax - theta[:, 0] > _CLIP64
        np.minimum(eta, th2[:1] + _CLIP64 * _LOG2E, out=eta)

        def expo(c: int, cut: int) -> tuple[slice, np.ndarray]:
            s = sl[c]
            a = A[s]
            np.subtract(eta[s], th2[cut : cut + 1], out=a)
            np.exp2(a, out=a)
            return s, a

        # bottom: P = F(a) = 1/(1 + A); score term −A/(1 + A)
        s, a = expo(0, 0)
        e = T1[s]
        np.add(a, 1.0, out=e)
        np.divide(1.0, e, out=P[s])
        np.multiply(a, P[s], out=S[s])
        g_theta[0] += v[s] @ S[s]
        np.negative(S[s], out=S[s])
        # top: P = 1 − F(b) = A/(1 + A); score term F(b) = 1/(1 + A)
        s, a = expo(J, J - 1)
        e = T1[s]
        np.add(a, 1.0, out=e)
        np.divide(1.0, e, out=S[s])
        np.multiply(a, S[s], out=P[s])
        g_theta[J - 1] -= v[s] @ S[s]
        # middle: P = A(1 − r)/((1 + A)(A + r)); score term (r − A²)/((1 + A)(A + r));
        # g_a = κ(A + r)/(1 + A), g_b = κr(1 + A)/(A + r)
        for c in range(1, J):
            s, a = expo(c, c)
            rc = rT[c - 1 : c]
            e, d, q = T1[s], T2[s], P[s]
            np.add(a, 1.0, out=e)
            np.add(a, rc, out=d)
            np.divide(d, e, out=S[s])
            g_theta[c] += kap[:, c - 1] * (v[s] @ S[s])
            np.divide(e, d, out=S[s])
            g_theta[c - 1] -= (kap * r)[:, c - 1] * (v[s] @ S[s])
            np.multiply(e, d, out=q)
            np.divide(1.0, q, out=q)
            np.multiply(a, q, out=e)
            np.multiply(a, a, out=a)
            np.subtract(rc, a, out=a)
            np.multiply(a, q, out=S[s])
            np.multiply(e, one_r[c - 1 : c], out=q)
        ll = np.zeros(B)
        for a, k, w in self.log_blocks:
            prods = P[a : a + k * _CHUNK].reshape(k, _CHUNK, B).prod(axis=1)
            exact |= np.any(prods < _TINY, axis=0)
            np.log(np.maximum(prods, _TINY), out=prods)
            ll += w * prods.sum(axis=0)
        if self.singles.size:
            ps = P if self.singles.size == self.n else P[self.singles]
            exact |= np.any(ps <= 0.0, axis=0)
            with np.errstate(divide="ignore"):
                np.log(ps, out=ps)
            ll += self.v_singles @ np.maximum(ps, -_BIG)
        return (self.Zv.T @ S).T, g_theta.T, ll, extreme, exact

    def newton(self, cols: np.ndarray, beta: np.ndarray, theta: np.ndarray, eps: float,
               max_iter: int, safe: bool, shared: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
        """Newton on a batch of subsets (see :meth:`_Logit.newton`).

        The fast pass (``safe=False``) steers with float32 score and information until the
        decrement is small, then takes float64 score passes that reuse the last information
        matrix: a subset has converged when its exact float64 decrement is at most ``eps``
        (after a full step that keeps the cut points in order). That last pass also gives
        the log-likelihood, ℓ(x + s) = ℓ(x) + gᵀs/2 up to third-order terms. Siblings
        (``shared``) start from one linear predictor, so their first pass is computed once.
        ``safe=True`` runs the float64 reference Newton with step halving.
        """
        if safe:
            return self._newton_reference(cols, beta, theta, eps, max_iter, safe=True)
        B, m = cols.shape
        J, K = self.J, self.K
        beta, theta = beta * self.scale, theta - (beta @ self.center)[:, None]  # to z scale
        conv = np.zeros(B, dtype=bool)
        ll = np.full(B, np.nan)
        extreme = np.zeros(B)
        exact = np.zeros(B, dtype=bool)  # ℓ must come from loglike() (clipped exponents)
        stage = np.zeros(B, dtype=np.int8)  # 0: float32 pass, 1: float64 score, 2: both
        Ninv = np.zeros((B, m + J, m + J))
        hidx = self.pair_index[cols[:, :, None], cols[:, None, :]].reshape(B, m * m)
        switch = _SWITCH * eps
        moved = np.full(B, np.inf)  # bound on how far any η − θ moved in the last step

        def refresh(sel: np.ndarray, first: bool) -> np.ndarray:
            """float32 score and information at the current point of act[sel]."""
            idx = act[sel]
            if first and shared is not None:  # siblings share their starting point
                one, inverse = np.unique(shared[idx], return_index=True,
                                         return_inverse=True)[1:]
                parts = self._full_layout(beta[idx[one]], theta[idx[one]])
                parts = tuple(x[inverse.ravel()] for x in parts)
            else:
                parts = self._full_layout(beta[idx], theta[idx])
            g32, N = self._assemble(*parts, cols[idx], hidx[idx])
            Ninv[idx] = _invert_batch(N)
            return g32

        act = np.arange(B)
        it = 0
        while it < max_iter and act.size:
            it += 1
            na = act.size
            st = stage[act]
            g = np.empty((na, m + J))
            ll_k = np.zeros(na)
            ext_k = np.zeros(na)
            clip_k = np.zeros(na, dtype=bool)
            sel = np.flatnonzero(st != 1)
            if sel.size:
                g[sel] = refresh(sel, it == 1)
            sel = np.flatnonzero(st >= 1)
            if sel.size:
                idx = act[sel]
                sb, sth, ll_k[sel], ext_k[sel], clip_k[sel] = self._score64(beta[idx],
                                                                            theta[idx])
                g[sel] = np.concatenate([np.take_along_axis(sb, cols[idx], axis=1), sth],
                                        axis=1)
            step = np.matmul(Ninv[act], g[..., None])[..., 0]
            dec = np.einsum("bm,bm->b", step, g)
            # The last step uses the information of the previous point. Its error moves the
            # final point by about (how far η − θ moved since) × |step|, as the logistic
            # density's derivative is at most the density, so where that could show the
            # information is refreshed at the current point first.
            late = ((st == 1) & (dec <= eps)
                    & (moved[act] * np.abs(step).max(axis=1) > _POINT_TOL))
            if late.any():
                sel = np.flatnonzero(late)
                refresh(sel, False)
                step[sel] = np.matmul(Ninv[act[sel]], g[sel][..., None])[..., 0]
                dec[sel] = np.einsum("bm,bm->b", step[sel], g[sel])
            finite = np.isfinite(dec) & np.all(np.isfinite(step), axis=1)
            step[~finite] = 0.0
            full = np.zeros((na, K))
            np.put_along_axis(full, cols[act], step[:, :m], axis=1)
            dth = step[:, m:]
            th_a = theta[act]
            t = np.ones(na)
            for _ in range(60):  # keep the cut points increasing
                ok = np.all(np.diff(th_a + t[:, None] * dth, axis=1) > 0, axis=1)
                if ok.all():
                    break
                t = np.where(ok, t, t / 2)
            beta[act] += t[:, None] * full
            theta[act] = th_a + t[:, None] * dth
            moved[act] = t * (np.abs(step[:, :m]).sum(axis=1) * self.zmax
                              + np.abs(dth).max(axis=1, initial=0.0))
            whole = finite & (t == 1.0)
            done = (st >= 1) & (dec <= eps) & whole
            if done.any():
                # ℓ(x + s) = ℓ(x) + gᵀs − sᵀNs/2 = ℓ(x) + dec/2 up to O(|s|³)
                ll[act[done]] = ll_k[done] + dec[done] / 2
                extreme[act[done]] = ext_k[done]
                exact[act[done]] = clip_k[done]
                conv[act[done]] = True
            stage[act[(st == 0) & whole & (dec <= switch)]] = 1
            stage[act[(st == 1) & ~done]] = 2
            keep = ~(done | ~finite)
            act = act[keep]
        beta /= self.scale
        theta += (beta @ self.center)[:, None]
        redo = ~conv | exact
        if redo.any():
            ext_r = np.zeros(int(redo.sum()))
            ll[redo] = self.loglike(beta[redo], theta[redo], ext_r)
            extreme[redo] = ext_r
        return beta, theta, ll, conv & np.isfinite(ll), extreme, it

    def _assemble(self, score: np.ndarray, G: np.ndarray, cross: np.ndarray,
                  g_theta: np.ndarray, tt: np.ndarray, cols: np.ndarray, hidx: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
        """Each subset's score (β_S, θ) and negative Hessian from the full-layout terms."""
        B, m = cols.shape
        J = self.J
        N = np.empty((B, m + J, m + J))
        N[:, :m, :m] = np.take_along_axis(G, hidx, axis=1).reshape(B, m, m)
        N[:, :m, m:] = np.take_along_axis(cross, cols[:, :, None], axis=1)
        N[:, m:, :m] = N[:, :m, m:].transpose(0, 2, 1)
        N[:, m:, m:] = tt
        g = np.concatenate([np.take_along_axis(score, cols, axis=1), g_theta], axis=1)
        return g, N

    def _newton_reference(self, cols: np.ndarray, beta: np.ndarray, theta: np.ndarray,
                          eps: float, max_iter: int, safe: bool
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                     np.ndarray, int]:
        """Plain float64 Newton with tanh terms (the line-search refit, and a reference)."""

        B, m = cols.shape
        J, K, v, sl = self.J, self.K, self.v, self.sl
        lo, bot = self.n_low, self.n_bottom
        beta, theta = beta.copy(), theta.copy()
        conv = np.zeros(B, dtype=bool)
        act = np.arange(B)
        c_act = cols
        hidx = self.pair_index[cols[:, :, None], cols[:, None, :]].reshape(B, m * m)
        ll = self.loglike(beta, theta) if safe else None
        it = 0
        while it < max_iter:
            it += 1
            na = act.size
            rows = np.arange(na)[:, None]
            b_a, th_a = beta[act], theta[act]
            etah = np.matmul(b_a, self.XhT, out=self.work.get(0, na))  # η/2
            thh = 0.5 * th_a
            ta, tb = self.work.get(1, na), self.work.get(2, na)
            self._fill(ta, thh, etah, True, 1.0)
            np.tanh(ta[:, :lo], out=ta[:, :lo])  # t_a = 1 in the top category
            self._fill(tb, thh, etah, False, -1.0)
            np.tanh(tb[:, bot:], out=tb[:, bot:])  # t_b = −1 in the bottom category
            qa = np.add(ta, tb, out=etah)  # ∂ℓ/∂η = (t_a + t_b)/2; η/2 is not needed again
            g_beta = (0.5 * (qa @ self.Xv))[rows, c_act]
            gb = np.subtract(ta, tb, out=self.work.get(3, na))
            np.maximum(gb, 1e-300, out=gb)
            np.divide(0.5, gb, out=gb)  # 1/(2(t_a − t_b)) = 1/(4P)
            np.multiply(ta, ta, out=qa)
            np.subtract(1.0, qa, out=qa)  # 1 − t_a² = 4 f(a)
            qb = self.work.get(4, na)
            np.multiply(tb, tb, out=qb)
            np.subtract(1.0, qb, out=qb)
            ga = self.work.get(5, na)
            np.multiply(qa, gb, out=ga)  # f(a)/P
            np.multiply(qb, gb, out=gb)  # f(b)/P
            # cut point j is the upper one of category j and the lower one of category j + 1
            g_theta = np.empty((na, J))
            cross = np.empty((na, K, J))
            for j in range(J):
                u, d = sl[j], sl[j + 1]
                g_theta[:, j] = ga[:, u] @ v[u] - gb[:, d] @ v[d]
                cross[:, :, j] = -0.25 * (qa[:, u] @ self.Xv[u] + qb[:, d] @ self.Xv[d])
            # negative Hessian N of (β_S, θ)
            N = np.empty((na, m + J, m + J))
            np.add(qa, qb, out=qa)
            G = 0.25 * (qa @ self.pairsV)
            N[:, :m, :m] = np.take_along_axis(G, hidx, axis=1).reshape(na, m, m)
            N[:, :m, m:] = cross[rows, c_act]
            N[:, m:, :m] = N[:, :m, m:].transpose(0, 2, 1)
            tt = np.zeros((na, J, J))
            for j in range(1, J):  # (j, j − 1): respondents of category j, between both
                tt[:, j, j - 1] = tt[:, j - 1, j] = -((ga[:, sl[j]] * gb[:, sl[j]])
                                                      @ v[sl[j]])
            np.add(ta, ga, out=ta)
            np.multiply(ta, ga, out=ta)  # g_a (t_a + g_a)
            np.subtract(gb, tb, out=tb)
            np.multiply(tb, gb, out=tb)  # g_b (g_b − t_b)
            for j in range(J):
                u, d = sl[j], sl[j + 1]
                tt[:, j, j] = ta[:, u] @ v[u] + tb[:, d] @ v[d]
            N[:, m:, m:] = tt
            g = np.concatenate([g_beta, g_theta], axis=1)
            step = _solve_batch(N, g)
            dec = np.einsum("bm,bm->b", step, g)
            finite = np.isfinite(dec) & np.all(np.isfinite(step), axis=1)
            step[~finite] = 0.0
            full = np.zeros((na, K))
            full[rows, c_act] = step[:, :m]
            dth = step[:, m:]
            t = np.ones(na)
            for _ in range(60):  # keep the cut points increasing
                ok = np.all(np.diff(th_a + t[:, None] * dth, axis=1) > 0, axis=1)
                if ok.all():
                    break
                t = np.where(ok, t, t / 2)
            if safe:
                assert ll is not None
                for _ in range(60):
                    new_ll = self.loglike(b_a + t[:, None] * full, th_a + t[:, None] * dth)
                    bad = ~(new_ll >= ll[act] - 1e-12 * np.abs(ll[act]))
                    if not bad.any():
                        break
                    t = np.where(bad, t / 2, t)
                ll[act] = np.where(bad, ll[act], new_ll)
                t = np.where(bad, 0.0, t)
            beta[act] = b_a + t[:, None] * full
            theta[act] = th_a + t[:, None] * dth
            done = (dec <= eps) & finite & ((t == 1.0) | safe)
            if (done | ~finite).any():
                conv[act[done]] = True
                keep = ~(done | ~finite)
                act, c_act, hidx = act[keep], c_act[keep], hidx[keep]
                if act.size == 0:
                    break
        extreme = np.zeros(B)
        final_ll = self.loglike(beta, theta, extreme)
        return beta, theta, final_ll, conv & np.isfinite(final_ll), extreme, it
