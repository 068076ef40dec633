"""Batched ordered-logit (proportional-odds) Newton engine for all-subset GLM importance.

Used by :func:`driverkit.importance._glm.glm_subset_values` with ``kind="ordinal"``.

The per-respondent work of a fit is a few transcendental functions per Newton pass, so the
engine spends as few float64 ones as it can (the layout follows the binary engine in
:mod:`._glm_logit`):

* a subset's first Newton step is taken from its parent's last float64 pass (the
  full-layout score and information there, kept until the next model size is done), so
  it costs no pass over the respondents;
* passes that only steer Newton towards the optimum run in float32, on standardised
  columns (so that float32 information matrices are well conditioned), with one
  exponential per respondent: every score and information term is a weighted sum of
  F(a), F(b), f(a) and f(b) (see :meth:`_Ordinal._layout`);
* once the float32 decrement is small, or the next one is predicted to be (Newton
  converges quadratically: d_{k+1} ≈ d_k³/d_{k−1}²), a float64 pass computes the exact
  score, the log-likelihood (one exponential per respondent, one logarithm per 16) and the
  information at the same point; the subset has converged when its float64 Newton
  decrement is at most the tolerance, exactly as for the plain engine, and that pass's
  step (with fresh information, so the estimates are those of the plain engine) is the
  last;
* the plain float64 Newton (:meth:`_Ordinal._newton_reference`) is kept for the
  line-search refits of subsets the fast pass does not settle, and as the reference the
  tests compare the fast path with.
"""

from __future__ import annotations

import math
import threading
from typing import Any

import numpy as np

from ._glm_kernel import _BIG, _pair_layout, _softplus_sum, _solve_batch, _Work
from ._glm_kernel import LOG_CHUNK as _CHUNK

_CLIP32 = 80.0  # |η − θ| bound of the float32 passes (e^88.7 overflows float32)
_CLIP64 = 350.0  # η − θ bound of the float64 pass ((1 + A)(A + r) stays finite)
_LOG2E = 1.4426950408889634  # log₂ e: e^x = 2^(x·log₂ e)
_TINY = 1e-280  # a product below this may have lost digits: that log-likelihood is redone
_SWITCH = 1e3  # float32 passes run until the decrement is below _SWITCH × tolerance, ...
_PREDICT = 0.1  # ... or the next one is predicted below _PREDICT × tolerance (from a
_SWITCH_PRED = 1e6  # decrement below _SWITCH_PRED × tolerance and the one before it)
_KEPT_BYTES = 64 << 20  # parents' float64 passes kept for their children: at most per size


# ======================================================================================
# ordered logit (cumulative logit, P(y ≤ j | x) = F(θ_j − xβ))
# ======================================================================================

def _ordered_step(theta: np.ndarray, dth: np.ndarray) -> np.ndarray:
    """Step lengths (1, halved as needed) that keep each row's cut points increasing."""
    t = np.ones(theta.shape[0])
    for _ in range(60):
        ok = np.all(np.diff(theta + t[:, None] * dth, axis=1) > 0, axis=1)
        if ok.all():
            break
        t = np.where(ok, t, t / 2)
    return t

class _Ordinal:
    """Newton for the proportional-odds model on batches of column subsets.

    :meth:`newton` is the fast path (module docstring); the plain reference Newton below
    works with a = θ_y − η, b = θ_{y−1} − η and t_a = tanh(a/2), t_b = tanh(b/2):
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
        self.order = order  # engine row i is input row order[i]
        X, v, codes = X[order], v[order], codes[order]
        n, K = X.shape
        self.n, self.K, self.J, self.v = n, K, J, v
        self.XT = np.ascontiguousarray(X.T)
        self.XhT = 0.5 * self.XT
        self.Xv = X * v[:, None]
        iu, ju, self.pair_index = _pair_layout(K)
        self._X, self._pairsV = X, None  # the reference Newton's pair products: on first use
        self._pairs_lock = threading.Lock()
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
        self.zmax_col = np.abs(self.Z).max(axis=0, initial=0.0)
        self.Z1 = np.column_stack([self.Z, np.ones(n)])  # [z, 1]: η − θ in one product
        self.Z1_32 = self.Z1.astype(np.float32)
        self.Zv = self.Z * v[:, None]
        self.Z32 = self.Z.astype(np.float32)
        self.Zv32 = self.Zv.astype(np.float32)
        self.Zv1 = np.column_stack([self.Zv, v])  # the last column gives Σ v·(term)
        self.Zv1_32 = self.Zv1.astype(np.float32)
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
        # the fast passes' (n × batch) arrays, per thread; engines used one after the other
        # on one thread may share them (see ``share_buffers``)
        self.buffers = threading.local()
        # Each converged subset's float64 pass, kept for its children (see :meth:`newton`):
        # entries of the previous and the current model size, keyed by the fitted values
        self._kept: tuple[int, dict[bytes, np.ndarray], dict[bytes, np.ndarray] | None] = (
            -1, {}, None)
        self._kept_lock = threading.Lock()
        P = iu.size
        self._kept_width = 2 * (K + J) + P + K * J + J * J

    @property
    def pairsV(self) -> np.ndarray:
        """v∘x_i x_j for every column pair (n, K(K+1)/2), built on first use (refits only)."""
        with self._pairs_lock:
            if self._pairsV is None:
                iu, ju = np.triu_indices(self.K)
                self._pairsV = self.Xv[:, iu] * self._X[:, ju]
            pairs = self._pairsV
        assert pairs is not None
        return pairs

    @property
    def work(self) -> _Work:
        """Scratch of the float64 reference passes (one set per thread)."""
        work = getattr(self._local, "work", None)
        if work is None:
            work = self._local.work = _Work(self.block, self.n, 6)
        return work

    def _scratch(self, dtype: type, count: int, B: int) -> list[np.ndarray]:
        """``count`` contiguous scratch arrays of shape (n, B) in ``dtype`` (per thread).

        Respondents are rows, so every category's rows are one contiguous block. float32
        arrays are views of the float64 ones (a pass uses one precision), so the two kinds
        of pass share one set of memory.
        """
        bufs = getattr(self.buffers, "bufs", None)
        need = self.n * B
        if bufs is None or bufs[0].size < need or len(bufs) < count:
            size = max(need, self.n * self.block, bufs[0].size if bufs else 0)
            bufs = [np.empty(size) for _ in range(max(count, 8))]
            self.buffers.bufs = bufs
        if np.dtype(dtype) == np.float32:
            return [b.view(np.float32)[:need].reshape(self.n, B) for b in bufs[:count]]
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

    def _layout(self, beta: np.ndarray, theta: np.ndarray, double: bool = False,
                rows: bool = False, info: bool = True) -> tuple[Any, ...]:
        """Score and information terms at (β, θ), for every column of the layout.

        Returns ``(score_beta (B, K), G (B, pairs), cross (B, K, J), score_theta (B, J),
        info_theta (B, J, J))``, and with ``double`` also ``(loglike (B,), extreme (B,),
        exact (B,))``. With ``rows`` (float32 passes only) the per-respondent terms follow:
        ``(S, F(a), F(b), f(a), f(b), f(a) + f(b))``, each (n, B) in the engine's row order
        (views of this thread's scratch, valid until its next pass; the a-terms are
        meaningless in the top category and the b-terms in the bottom one), from which
        the score and information under other weights are sums. ``info=False`` skips the
        information (its three parts are then None).

        ``double=False`` is a steering pass: float32 throughout. ``double=True`` is the
        float64 pass that tests convergence: exact float64 score and log-likelihood, and
        the information (which only shapes the step) from the same float64 terms with its
        large products in float32. ``exact`` marks fits whose log-likelihood must come
        from :meth:`loglike` instead (some η − θ₀ beyond the exponent bound, or
        probabilities so small that products of ``_CHUNK`` of them could underflow).

        For a respondent of category c let A = e^{η − θ_c}, r = e^{θ_{c−1} − θ_c} and
        κ = 1/(1 − r). Then F(a) = 1/(1 + A), F(b) = r/(A + r), and with f = F(1 − F):
        ∂ℓ/∂η = F(a) + F(b) − 1, −∂²ℓ/∂η² = f(a) + f(b); the cut-point terms f(a)/P and
        f(b)/P are κ − F(a) and κr + F(b), and the cut-point information of the category is
        [[Σf(b) + κ²rW, −κ²rW], [−κ²rW, Σf(a) + κ²rW]] for (θ_{c−1}, θ_c), W its weight.
        So every term is a (weighted) sum of F(a), F(b), f(a), f(b): one exponential and
        about a dozen elementwise steps per respondent, and no difference of nearly equal
        probabilities. The probability is P = F(a)(1 − F(b))(1 − r), and Σ v log P is a
        sum of logs of products of ``_CHUNK`` probabilities of equal weight: one logarithm
        per ``_CHUNK`` respondents. float64 exponentials are powers of two of (η − θ)·log₂e.
        """
        B = beta.shape[0]
        J, K, sl, W = self.J, self.K, self.sl, self.cat_w
        f4 = np.float64 if double else np.float32
        v, Zv1 = (self.v, self.Zv1) if double else (self.v32, self.Zv1_32)
        S, Wt, A, Fa, Fb, Ga, Gb, P = self._scratch(f4, 8, B)
        r, kap, _ = self._cut_constants(theta)
        # a = η − θ_c comes from one product per category, [z, 1]·[β, −θ_c] (float64:
        # times log₂e, for exp2); |η| ≤ Σ|β_k|·max|z_k| says when no a can be large
        rhs = np.empty((K + 1, B), dtype=f4)
        if double:
            Z1 = self.Z1
            rhs[:K] = beta.T * _LOG2E
            th = theta.T * -_LOG2E
            rT = np.ascontiguousarray(r.T)
            emax = np.full(B, -np.inf)
            emin = np.full(B, np.inf)
            expf: Any = np.exp2
        else:
            Z1 = self.Z1_32
            rhs[:K] = beta.T
            th = -theta.T
            rT = np.ascontiguousarray(np.maximum(r.T, 1e-30), dtype=f4)
            expf = np.exp
            # steering only: bounding every η − θ_c keeps e^{η − θ} finite in float32
            clip = (np.abs(beta) @ self.zmax_col - theta.min(axis=1)).max() > _CLIP32
        g_theta = np.zeros((J, B))
        cross = np.zeros((J, K, B))
        tt = np.zeros((B, J, J))
        for c, s in enumerate(sl):
            a, fa, ga, fb, gb, sc = A[s], Fa[s], Ga[s], Fb[s], Gb[s], S[s]
            cut = min(c, J - 1)
            rhs[K] = th[cut]
            np.matmul(Z1[s], rhs, out=a)
            if double:
                top = a.max(axis=0, initial=-np.inf) / _LOG2E + theta[:, cut]  # max η
                np.maximum(emax, top, out=emax)
                np.minimum(emin, a.min(axis=0, initial=np.inf) / _LOG2E + theta[:, cut],
                           out=emin)
                if (top - theta[:, cut]).max(initial=-np.inf) > _CLIP64:
                    np.minimum(a, _CLIP64 * _LOG2E, out=a)  # e^{η − θ_c} stays finite
            elif clip:
                np.minimum(a, _CLIP32, out=a)
            expf(a, out=a)
            if c < J:
                np.add(a, 1.0, out=fa)
                np.divide(1.0, fa, out=fa)  # F(a)
                g_theta[c] += W[c] * (kap[:, c - 1] if c > 0 else 1.0) - v[s] @ fa
                if info:
                    np.multiply(a, fa, out=ga)  # 1 − F(a)
            if c > 0:
                rc = rT[c - 1 : c] if c < J else 1.0
                np.add(a, rc, out=gb)
                np.divide(1.0, gb, out=gb)  # 1/(A + r)
                np.multiply(gb, rc, out=fb)  # F(b)
                if rows:
                    P[s] = fb
                g_theta[c - 1] -= v[s] @ fb
                if c < J:
                    g_theta[c - 1] -= W[c] * r[:, c - 1] * kap[:, c - 1]
                np.multiply(gb, a, out=gb)  # 1 − F(b)
            # score term F(a) + F(b) − 1, probability, information weight f(a) + f(b)
            if c == 0:
                np.subtract(fa, 1.0, out=sc)
                if double:
                    P[s] = fa
            elif c == J:
                np.subtract(1.0, gb, out=sc)  # F(b)
                if double:
                    P[s] = gb
            else:
                np.subtract(fa, gb, out=sc)
                if double:
                    p = P[s]
                    np.multiply(fa, gb, out=p)
                    np.multiply(p, 1.0 - rc, out=p)  # F(a)(1 − F(b))(1 − r)
            if not info:
                continue
            if c < J:
                np.multiply(ga, fa, out=ga)  # f(a)
                sums = Zv1[s].T @ ga  # Σ v f(a) z, Σ v f(a)
                cross[c] -= sums[:K]
                tt[:, c, c] += sums[K]
            if c > 0:
                np.multiply(fb, gb, out=fb)  # f(b)
                sums = Zv1[s].T @ fb
                cross[c - 1] -= sums[:K]
                tt[:, c - 1, c - 1] += sums[K]
                if c < J:
                    k2r = W[c] * r[:, c - 1] * kap[:, c - 1] ** 2
                    tt[:, c, c] += k2r
                    tt[:, c - 1, c - 1] += k2r
                    tt[:, c, c - 1] = tt[:, c - 1, c] = -k2r
            if c == 0:
                Wt[s] = ga
            elif c == J:
                Wt[s] = fb
            else:
                np.add(ga, fb, out=Wt[s])
        if double:
            gaps = np.diff(theta, axis=1).max(axis=1, initial=0.0) / 2
            extreme = np.maximum.reduce([emax - theta[:, -1], theta[:, 0] - emin, gaps])
            exact = emax - theta[:, 0] > _CLIP64
        Zv = self.Zv if double else self.Zv32
        score = (Zv.T @ S).T.astype(float, copy=False)
        parts: tuple[Any, ...]
        if info:
            G = (self.pairsZ32.T @ Wt.astype(np.float32, copy=False)).T.astype(float)
            parts = (score, G, cross.transpose(2, 1, 0), g_theta.T, tt)
        else:
            parts = (score, None, None, g_theta.T, None)
        if rows and not double:
            return (*parts, S, Fa, P, Ga, Fb, Wt)
        if not double:
            return parts
        ll = np.zeros(B)
        for a0, k, w in self.log_blocks:
            prods = P[a0 : a0 + k * _CHUNK].reshape(k, _CHUNK, B).prod(axis=1)
            exact |= np.any(prods < _TINY, axis=0)
            np.log(np.maximum(prods, _TINY), out=prods)
            ll += w * prods.sum(axis=0)
        if self.singles.size:
            ps = P if self.singles.size == self.n else P[self.singles]
            exact |= np.any(ps <= 0.0, axis=0)
            with np.errstate(divide="ignore"):
                np.log(ps, out=ps)
            ll += self.v_singles @ np.maximum(ps, -_BIG)
        return (*parts, ll, extreme, exact)

    def newton(self, cols: np.ndarray, beta: np.ndarray, theta: np.ndarray, eps: float,
               max_iter: int, safe: bool, shared: np.ndarray | None = None,
               prev: np.ndarray | None = None, point: bool = True
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
        """Newton on a batch of subsets (see :meth:`_Logit.newton`).

        The fast pass (``safe=False``) steers with float32 passes until the decrement is
        small or, from the last two, the next one is predicted to be (Newton converges
        quadratically), then takes float64 passes (:meth:`_layout` with ``double``): a
        subset has converged when its exact float64 decrement is at most ``eps`` (after a
        full step that keeps the cut points in order). That pass also gives the
        log-likelihood, ℓ(x + s) = ℓ(x) + gᵀs/2 up to third-order terms, and the
        information at the same point for the last step. Siblings (``shared``) start from
        one linear predictor, so their first pass is computed once; and where that
        predictor is a parent's fit from this engine, the parent's last float64 pass (its
        full-layout score and information, kept until the next model size is done) gives
        each child a Newton step without a pass over the data. ``safe=True`` runs the
        float64 reference Newton with step halving. ``prev`` (B,) may give the decrement of
        a step that led to the starting points (for the prediction after the first pass).
        ``point=False`` is for callers that need ℓ only (bootstrap replicates): a float64
        pass then reuses the previous pass's information instead of its own, which
        changes ℓ = ℓ(x) + gᵀN⁻¹g/2 by a fraction of a tolerance and the last step's
        end point (not returned to such callers) by more.
        """
        if safe:
            return self._newton_reference(cols, beta, theta, eps, max_iter, safe=True)
        B, m = cols.shape
        J, K = self.J, self.K
        kept = self._kept_for(m) if shared is not None else None
        keys = ([b.tobytes() + t.tobytes() for b, t in zip(beta, theta, strict=True)]
                if kept is not None else [])
        beta, theta = beta * self.scale, theta - (beta @ self.center)[:, None]  # to z scale
        conv = np.zeros(B, dtype=bool)
        ll = np.full(B, np.nan)
        extreme = np.zeros(B)
        exact = np.zeros(B, dtype=bool)  # ℓ must come from loglike() (clipped exponents)
        wide = np.zeros(B, dtype=bool)  # the next pass of the subset is float64
        # the last decrement
        prev = np.full(B, np.inf) if prev is None else np.array(prev, dtype=float)
        hidx = self.pair_index[cols[:, :, None], cols[:, None, :]].reshape(B, m * m)
        info = np.empty((B, m + J, m + J))  # each subset's last information matrix
        fresh = np.zeros(B, dtype=bool)  # a float64 pass forms its own information
        if kept is not None and kept[0]:
            shared = self._parent_steps(kept[0], keys, shared, cols, hidx, beta, theta, prev)
        store: list[tuple[np.ndarray, tuple[np.ndarray, ...]]] = []  # (subsets, pass)
        act = np.arange(B)
        it = 0
        while it < max_iter and act.size:
            it += 1
            na = act.size
            w64 = wide[act]
            g = np.empty((na, m + J))
            ll_k = np.zeros(na)
            ext_k = np.zeros(na)
            clip_k = np.zeros(na, dtype=bool)
            for double in (False, True):
                sel = np.flatnonzero(w64 == double)
                if sel.size == 0:
                    continue
                idx = act[sel]
                if it == 1 and shared is not None and not double:  # siblings: one pass
                    one, inverse = np.unique(shared[idx], return_index=True,
                                             return_inverse=True)[1:]
                    parts = self._layout(beta[idx[one]], theta[idx[one]])
                    parts = tuple(x[inverse.ravel()] for x in parts)
                elif double and not point and not fresh[idx].any():
                    parts = self._layout(beta[idx], theta[idx], True, info=False)
                else:
                    parts = self._layout(beta[idx], theta[idx], double)
                g[sel], N = self._assemble(parts[0], parts[1], parts[2], parts[3], parts[4],
                                           cols[idx], hidx[idx])
                if N is not None:
                    info[idx] = N
                if double:
                    ll_k[sel], ext_k[sel], clip_k[sel] = parts[5:]
                    fresh[idx] = True  # not settled by this pass: fresh information next
                    if kept is not None and kept[1] is not None and N is not None:
                        store.append((idx, (beta[idx], theta[idx], *parts[:5])))
            step = _solve_batch(info[act], g)
            dec = np.einsum("bm,bm->b", step, g)
            finite = np.isfinite(dec) & np.all(np.isfinite(step), axis=1)
            step[~finite] = 0.0
            full = np.zeros((na, K))
            np.put_along_axis(full, cols[act], step[:, :m], axis=1)
            dth = step[:, m:]
            th_a = theta[act]
            t = _ordered_step(th_a, dth)
            beta[act] += t[:, None] * full
            theta[act] = th_a + t[:, None] * dth
            whole = finite & (t == 1.0)
            done = w64 & (dec <= eps) & whole
            if done.any():
                # ℓ(x + s) = ℓ(x) + gᵀs − sᵀNs/2 = ℓ(x) + dec/2 up to O(|s|³)
                ll[act[done]] = ll_k[done] + dec[done] / 2
                extreme[act[done]] = ext_k[done]
                exact[act[done]] = clip_k[done]
                conv[act[done]] = True
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                pred = np.where(np.isfinite(prev[act]), dec * (dec / prev[act]) ** 2, np.inf)
            near = (dec <= _SWITCH * eps) | ((dec <= _SWITCH_PRED * eps)
                                              & (pred <= _PREDICT * eps))
            wide[act[~w64 & whole & near]] = True
            prev[act] = np.where(whole, dec, np.inf)
            act = act[~(done | ~finite)]
        beta /= self.scale
        theta += (beta @ self.center)[:, None]
        if store:
            assert kept is not None and kept[1] is not None
            self._keep(kept[1], store, conv & ~exact, beta, theta)
        redo = ~conv | exact
        if redo.any():
            ext_r = np.zeros(int(redo.sum()))
            ll[redo] = self.loglike(beta[redo], theta[redo], ext_r)
            extreme[redo] = ext_r
        return beta, theta, ll, conv & np.isfinite(ll), extreme, it

    def _kept_for(self, m: int) -> tuple[dict[bytes, np.ndarray],
                                         dict[bytes, np.ndarray] | None]:
        """(entries of the model size m − 1, the dict for size m or None when a level of
        entries would exceed ``_KEPT_BYTES``). A call with a new size m starts a level:
        the entries of size m − 1 become the parents', older ones are dropped. The levels
        run one after the other (a level's batches may run on threads, and only read the
        previous level), so which entries exist never depends on the threads."""
        with self._kept_lock:
            size, _, current = self._kept
            if m != size:
                older = (current or {}) if m == size + 1 else {}
                big = math.comb(self.K, m) * self._kept_width * 8 > _KEPT_BYTES
                self._kept = (m, older, None if big else {})
            return self._kept[1], self._kept[2]

    def _keep(self, into: dict[bytes, np.ndarray],
              store: list[tuple[np.ndarray, tuple[np.ndarray, ...]]], ok: np.ndarray,
              beta: np.ndarray, theta: np.ndarray) -> None:
        """Keep the last float64 pass of the converged subsets, keyed by their fits (the
        children's starting values, bit for bit): the point (z scale) and the full-layout
        score and information there."""
        for idx, parts in store:
            rows = np.flatnonzero(ok[idx])
            if rows.size == 0:
                continue
            packed = np.concatenate([np.asarray(x[rows], dtype=float).reshape(rows.size, -1)
                                     for x in parts], axis=1)
            for r, b in zip(rows, idx[rows], strict=True):
                into[beta[b].tobytes() + theta[b].tobytes()] = packed[r]

    def _parent_steps(self, parents: dict[bytes, np.ndarray], keys: list[bytes],
                      shared: np.ndarray | None, cols: np.ndarray, hidx: np.ndarray,
                      beta: np.ndarray, theta: np.ndarray, prev: np.ndarray
                      ) -> np.ndarray | None:
        """A Newton step for each subset whose start is a kept parent fit: from the
        parent's last float64 point, with its score and information extended by the new
        columns (``beta``, ``theta`` and ``prev`` are updated in place). Returns the sibling
        labels with each stepped subset on its own (its first pass is its own)."""
        found = [parents.get(k) for k in keys]
        hit = np.flatnonzero([e is not None for e in found])
        if hit.size == 0:
            return shared
        K, J, m = self.K, self.J, cols.shape[1]
        E = np.stack([np.asarray(found[i]) for i in hit])
        cuts = np.cumsum([K, J, K, self._kept_width - 2 * (K + J) - K * J - J * J, K * J, J])
        xb, xt, score, G, cross, gth, tt = np.split(E, cuts, axis=1)
        g, N = self._assemble(score, G, cross.reshape(-1, K, J), gth, tt.reshape(-1, J, J),
                              cols[hit], hidx[hit])
        assert N is not None
        step = _solve_batch(N, g)
        dec = np.einsum("bm,bm->b", step, g)
        ok = np.isfinite(dec) & np.all(np.isfinite(step), axis=1)
        step[~ok] = 0.0
        full = np.zeros((hit.size, K))
        np.put_along_axis(full, cols[hit], step[:, :m], axis=1)
        t = _ordered_step(xt, step[:, m:])
        beta[hit] = xb + t[:, None] * full
        theta[hit] = xt + t[:, None] * step[:, m:]
        prev[hit] = np.where(ok & (t == 1.0), dec, np.inf)
        labels = np.arange(cols.shape[0]) if shared is None else shared.copy()
        labels[hit] = -1 - hit  # parent labels are ≥ 0
        return labels

    def _assemble(self, score: np.ndarray, G: np.ndarray | None, cross: np.ndarray | None,
                  g_theta: np.ndarray, tt: np.ndarray | None, cols: np.ndarray,
                  hidx: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Each subset's score (β_S, θ) and negative Hessian from the full-layout terms
        (None without the information)."""
        B, m = cols.shape
        J = self.J
        g = np.concatenate([np.take_along_axis(score, cols, axis=1), g_theta], axis=1)
        if G is None:
            return g, None
        N = np.empty((B, m + J, m + J))
        N[:, :m, :m] = np.take_along_axis(G, hidx, axis=1).reshape(B, m, m)
        N[:, :m, m:] = np.take_along_axis(cross, cols[:, :, None], axis=1)
        N[:, m:, :m] = N[:, :m, m:].transpose(0, 2, 1)
        N[:, m:, m:] = tt
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
            t = _ordered_step(th_a, dth)
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
