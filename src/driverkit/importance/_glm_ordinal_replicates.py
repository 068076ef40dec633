"""Ordered-logit subset fits of many bootstrap replicates at once, from the full-sample fits.

A bootstrap replicate re-weights the respondents, so each of its 2^p subset models is a
weighted proportional-odds model whose optimum lies O(n^−1/2) from the full-sample estimate
of the same subset. The replicates of one chunk share work, as the logit ones do in
:mod:`driverkit.importance._glm_replicates`:

1. **Shared first step.** At the full-sample estimate x_S = (β_S, θ_S) every respondent's
   terms F(a), F(b), f(a), f(b) and the score term F(a) + F(b) − 1 are the same for all
   replicates; only the weights differ. So they are computed once per subset for the
   whole chunk (one float32 pass over the rows), and each replicate's score and
   information at x_S are products with its weights (no transcendental function): its
   first step is a Newton step, and the engine's passes start about where a refit's
   second iteration would.
2. **The engine's checked Newton iterations** from there, on the replicate's rows of
   positive weight (:meth:`~driverkit.importance._glm_ordinal._Ordinal.newton`): float32
   passes while far from the optimum, then float64 passes that test convergence with the
   exact score (Newton decrement at most ``tol · max(1, |ℓ_0|)``, the tolerance of the
   all-subsets engine, so the values are those of a plain refit) and give ℓ. Subsets they
   do not settle, or that end below the null model, are refitted with step halving from
   the full-sample estimates, as in :func:`~driverkit.importance._glm.glm_subset_values`.

A replicate in which some outcome category has no weight has fewer cut points than the
full-sample fits; it is left to the caller (its fits are reported as not converged), which
refits it with the all-subsets engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..exceptions import DriverkitError
from ._glm import GLMSubsetFits, _likelihood_weights, _players, subset_layout
from ._glm_kernel import _solve_batch, level_batches, row_block
from ._glm_ordinal import _ordered_step, _Ordinal

__all__ = ["OrdinalReplicateFits", "ordinal_replicate_fits"]

#: Replicate tolerance, as a multiple of the engine's (as for logit replicates): a subset is
#: accepted when its float64 Newton decrement is at most ``_ACCEPT · tol · max(1, |ℓ_0|)``;
#: the value reported, ℓ(x) + ½·decrement, is then within about 1e-10·|ℓ_0| of the optimum
#: (the decrement times the relative change of the information over the last step, a few
#: per cent), far inside the 1e-6 that bootstrap intervals need.
_ACCEPT = 100.0


@dataclass
class OrdinalReplicateFits:
    """Subset log-likelihoods of a chunk of replicates.

    Attributes
    ----------
    loglike : ndarray (R, 2^p)
        ℓ of every subset model of each replicate (NaN for a replicate left to the caller).
    loglike_null : ndarray (R,)
        ℓ_0 of each replicate's thresholds-only model.
    n : ndarray (R,)
        The ``n`` of the Cox–Snell, Nagelkerke and Estrella formulas per replicate.
    converged : ndarray of bool (R, 2^p)
    fast : ndarray of int (R,)
        Subset models of each replicate settled by the Newton passes from the shared step
        (the rest needed the step-halving refit).
    """

    loglike: np.ndarray
    loglike_null: np.ndarray
    n: np.ndarray
    converged: np.ndarray
    fast: np.ndarray


def ordinal_replicate_fits(X: np.ndarray, y: np.ndarray, W: np.ndarray, full: GLMSubsetFits,
                           *, players: Sequence[Sequence[int]] | None = None,
                           always: Sequence[int] | None = None,
                           weight_type: str = "sampling", tol: float = 1e-10,
                           max_iter: int = 50) -> OrdinalReplicateFits:
    """Log-likelihoods of every subset ordered logit for the replicate weights ``W`` (R, n).

    Parameters
    ----------
    X, y
        Design (n, k) and outcome codes 0..K−1, as given to
        :func:`~driverkit.importance._glm.glm_subset_values` for ``full``.
    W : ndarray (R, n)
        Replicate weights (resampling counts times survey weights).
    full : GLMSubsetFits
        The full-sample fits (``kind="ordinal"``): each subset starts from its ``coef`` and
        ``thetas``.
    players, always, weight_type, tol, max_iter
        As for :func:`~driverkit.importance._glm.glm_subset_values`.

    Returns
    -------
    OrdinalReplicateFits

    Examples
    --------
    >>> import numpy as np
    >>> from driverkit.importance._glm import glm_subset_values
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 3))
    >>> y = np.digitize(X @ [1.0, 0.5, 0.0] + rng.logistic(size=300), [-1.0, 0.0, 1.0])
    >>> full = glm_subset_values(X, y, kind="ordinal")
    >>> W = rng.multinomial(300, np.full(300, 1 / 300), size=2).astype(float)
    >>> fits = ordinal_replicate_fits(X, y, W, full)
    >>> plain = glm_subset_values(X, y, W[1], kind="ordinal").loglike
    >>> bool(np.allclose(fits.loglike[1], plain, rtol=0, atol=1e-8)), bool(fits.converged.all())
    (True, True)
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    W = np.atleast_2d(np.asarray(W, dtype=float))
    n, k = X.shape
    R = W.shape[0]
    players_l, always_l = _players(k, players, always)
    M = 1 << len(players_l)
    member, _ = subset_layout(k, players_l, always_l)
    if (full.coef is None or full.thetas is None or full.coef.shape != (M, k)
            or full.thetas.shape[0] != M):
        raise ValueError("full must be the full-sample ordinal fits of the same problem.")
    J = full.thetas.shape[1]
    codes = y.astype(np.intp)
    n_cat = int(codes.max()) + 1

    out_ll = np.full((R, M), np.nan)
    out_conv = np.zeros((R, M), dtype=bool)
    ll0 = np.full(R, np.nan)
    n_idx = np.full(R, np.nan)
    fast = np.zeros(R, dtype=np.int64)
    V = np.zeros((R, n))
    present_ref: np.ndarray | None = None
    live: list[int] = []
    for r in range(R):
        try:
            vr, n_idx[r] = _likelihood_weights(W[r], n, weight_type)
        except DriverkitError:  # e.g. all weights zero: reported by the caller
            continue
        counts = np.bincount(codes, weights=vr, minlength=n_cat)
        present = np.flatnonzero(counts > 0)
        if present_ref is None and present.size == J + 1:
            present_ref = present
        # a category without weight: fewer cut points than the full-sample fits
        if present_ref is None or not np.array_equal(present, present_ref):
            continue
        props = counts[present] / counts[present].sum()
        ll0[r] = float(np.sum(counts[present] * np.log(props)))
        V[r] = vr
        live.append(r)
    if not live:
        return OrdinalReplicateFits(out_ll, ll0, n_idx, out_conv, fast)
    assert present_ref is not None
    codes = np.searchsorted(present_ref, codes)
    if not always_l:  # the baseline is the thresholds-only model: closed form
        out_ll[live, 0] = ll0[live]
        out_conv[live, 0] = True

    # the chunk's mean weights give the shared information matrices; the replicates'
    # scores are sums of the shared per-row terms with their own weights
    block = row_block(n)
    mean = _Ordinal(X, codes, V[live].mean(axis=0), J, block)
    Vs = V[live][:, mean.order]  # replicate weights in the mean engine's row order
    RL = len(live)
    ZV = (Vs[:, None, :] * mean.Z.T[None]).reshape(RL * k, n).astype(np.float32)
    Vs32 = Vs.astype(np.float32)
    iu, ju = np.triu_indices(k)
    pairsT = np.ascontiguousarray((mean.Z[:, iu] * mean.Z[:, ju]).T, dtype=np.float32)
    cat_w = np.stack([Vs[:, sl].sum(axis=1) for sl in mean.sl], axis=1)  # (RL, J + 1)
    engines: list[_Ordinal] = []
    for r in live:
        keep = V[r] > 0
        nr = int(keep.sum())
        engines.append(_Ordinal(X[keep], codes[keep], V[r][keep], J, row_block(nr)))
        engines[-1].buffers = mean.buffers  # used one after the other: one set of arrays
    eps = tol * np.maximum(1.0, np.abs(ll0))

    for batch, cols in level_batches(member, block, skip_empty=not always_l):
        L, m = cols.shape
        hidx = mean.pair_index[cols[:, :, None], cols[:, None, :]].reshape(L, m * m)
        b_S, t_S = full.coef[batch] * member[batch], full.thetas[batch]
        steps, dec0 = _shared_steps(mean, ZV, pairsT, Vs32, cat_w, b_S, t_S, cols, hidx)
        for i, r in enumerate(live):
            ll, conv, nfast = _fit_replicate(engines[i], cols, b_S, t_S, steps[i], dec0[i],
                                             mean, float(eps[r]), float(ll0[r]), max_iter)
            fast[r] += nfast
            out_ll[r, batch] = ll
            out_conv[r, batch] = conv
    return OrdinalReplicateFits(out_ll, ll0, n_idx, out_conv, fast)


def _shared_steps(mean: _Ordinal, ZV: np.ndarray, pairsT: np.ndarray, Vs32: np.ndarray,
                  cat_w: np.ndarray, b_S: np.ndarray, t_S: np.ndarray, cols: np.ndarray,
                  hidx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First Newton steps (RL, L, m + J) of every replicate from the full-sample estimates,
    in the mean engine's standardised coordinates, and their decrements (RL, L).

    The per-row terms at x_S come from one float32 pass of the mean engine; replicate r's
    score and information are sums of them with its weights v_r (see
    :meth:`_Ordinal._layout`): for β products with its weighted columns ``ZV`` and the
    column pairs ``pairsT`` (P, n), for the cut points sums over each category's rows plus the
    category-weight terms. No transcendental function is evaluated per replicate.
    """
    L, m = cols.shape
    J, K, sl = mean.J, mean.K, mean.sl
    RL = Vs32.shape[0]
    tz = t_S - (b_S @ mean.center)[:, None]
    parts = mean._layout(b_S * mean.scale, tz, rows=True)
    S, Fa, Fb, fa, fb, Wt = parts[5:]
    rr, kap, _ = mean._cut_constants(tz)  # (L, J − 1)
    k2r = rr * kap**2
    g = np.empty((RL, L, m + J))
    N = np.empty((RL, L, m + J, m + J))
    gb = (ZV @ S).reshape(RL, K, L).transpose(0, 2, 1)
    g[:, :, :m] = np.take_along_axis(gb, cols[None], axis=2)
    cross = np.empty((RL, L, K, J))
    tt = np.zeros((RL, L, J, J))
    for j in range(J):  # cut point j: upper one of category j, lower one of category j + 1
        up, low = sl[j], sl[j + 1]
        gj = (cat_w[:, j : j + 1] * (kap[None, :, j - 1] if j > 0 else 1.0)
              - Vs32[:, up] @ Fa[up] - Vs32[:, low] @ Fb[low])
        cross[:, :, :, j] = -(ZV[:, up] @ fa[up] + ZV[:, low] @ fb[low]
                              ).reshape(RL, K, L).transpose(0, 2, 1)
        tt[:, :, j, j] += Vs32[:, up] @ fa[up] + Vs32[:, low] @ fb[low]
        if j + 1 < J:  # category j + 1 lies between cut points j and j + 1
            gj -= cat_w[:, j + 1 : j + 2] * (rr[:, j] * kap[:, j])[None]
            c2 = cat_w[:, j + 1 : j + 2] * k2r[None, :, j]
            tt[:, :, j, j] += c2
            tt[:, :, j + 1, j + 1] += c2
            tt[:, :, j, j + 1] = tt[:, :, j + 1, j] = -c2
        g[:, :, m + j] = gj
    N[:, :, :m, m:] = np.take_along_axis(cross, cols[None, :, :, None], axis=2)
    N[:, :, m:, :m] = N[:, :, :m, m:].transpose(0, 1, 3, 2)
    N[:, :, m:, m:] = tt
    for i in range(RL):  # the column pairs: one product per replicate
        G = (pairsT @ (Wt * Vs32[i][:, None])).T.astype(float)
        N[i, :, :m, :m] = np.take_along_axis(G, hidx, axis=1).reshape(L, m, m)
    steps = _solve_batch(N.reshape(RL * L, m + J, m + J), g.reshape(RL * L, m + J))
    steps = steps.reshape(RL, L, m + J)
    dec = np.einsum("rla,rla->rl", steps, g)
    return steps, dec


def _fit_replicate(eng: _Ordinal, cols: np.ndarray, b_S: np.ndarray, t_S: np.ndarray,
                   step: np.ndarray, dec0: np.ndarray, mean: _Ordinal, eps: float,
                   ll0: float, max_iter: int) -> tuple[np.ndarray, np.ndarray, int]:
    """One replicate's batch: the shared step, the engine's checked Newton passes, and the
    step-halving refit (from the full-sample estimates) of whatever they do not settle."""
    L, m = cols.shape
    K = b_S.shape[1]
    # the shared step, shortened where it would break the cut points' order
    tz = t_S - (b_S @ mean.center)[:, None]
    bz = b_S * mean.scale
    dth = step[:, m:]
    t = _ordered_step(tz, dth)
    ok_step = np.all(np.isfinite(step), axis=1)
    t = np.where(ok_step, t, 0.0)
    full_step = np.zeros((L, K))
    np.put_along_axis(full_step, cols, np.where(ok_step[:, None], step[:, :m], 0.0), axis=1)
    bz = bz + t[:, None] * full_step
    tz = tz + t[:, None] * np.where(ok_step[:, None], dth, 0.0)
    b1 = bz / mean.scale
    t1 = tz + (b1 @ mean.center)[:, None]
    prev = np.where(t == 1.0, dec0, np.inf)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        _, _, ll, ok, _, _ = eng.newton(cols, b1, t1, _ACCEPT * eps, max_iter, safe=False,
                                        prev=prev, point=False)
        # a model nests the thresholds-only model, so its maximum cannot be lower
        ok &= ll >= ll0 - eps
        nfast = int(ok.sum())
        if not ok.all():
            bad = np.flatnonzero(~ok)
            _, _, ll_s, ok_s, _, _ = eng.newton(cols[bad], b_S[bad], t_S[bad], eps,
                                                max(max_iter, 100), safe=True)
            ll[bad], ok[bad] = ll_s, ok_s & (ll_s >= ll0 - eps)
    return ll, ok, nfast
