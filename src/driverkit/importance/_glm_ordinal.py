"""Batched ordered-logit (proportional-odds) Newton engine for all-subset GLM importance.

Used by :func:`driverkit.importance._glm.glm_subset_values` with ``kind="ordinal"``.
"""

from __future__ import annotations

import numpy as np

from ._glm_kernel import _BIG, _pair_layout, _softplus_sum, _solve_batch, _Work


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

    def __init__(self, X: np.ndarray, codes: np.ndarray, v: np.ndarray, J: int,
                 block: int) -> None:
        order = np.argsort(codes, kind="stable")  # sums over rows do not care about order
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
        self.work = _Work(block, n, 6)

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

    def newton(self, cols: np.ndarray, beta: np.ndarray, theta: np.ndarray, eps: float,
               max_iter: int, safe: bool, shared: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
        """Newton on a batch of subsets (see :meth:`_Logit.newton`; ``shared`` is unused)."""
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
