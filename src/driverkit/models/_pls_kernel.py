"""The PLS path-modelling kernel, vectorised over many data sets at once.

Every estimate of a PLS path model is a function of the items' (weighted) means and
covariance matrix only: the outer weights come from the iteration on the correlation matrix
R, the construct correlations are W'RW, the paths are regressions on those, the loadings are
RW and the 0–100 indices need the item means and standard deviations. So one code path
serves the point estimate (a batch of one), the bootstrap (B resamples: their moment
matrices come from one matrix product of the resample count matrix with the items' cross
products) and the jackknife of the BCa interval.

The iteration (Wold 1982; Lohmöller 1989; Tenenhaus et al. 2005, CSDA 48, 159–205):
unit starting weights; inner proxies from the construct correlations C = W'RW by the path,
centroid or factorial scheme; outer weights as the covariances of each item with its
construct's proxy (mode A) or the regression of the proxy on the block (mode B); scores
rescaled to unit variance; stop when the largest change of an outer weight is below ``tol``.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np

from ._pls_spec import PLSSpec

__all__ = ["Batch", "estimate_batch", "moments", "resample_moments"]

TOL = 1e-7
MAX_ITER = 300
#: rows of the cross-product matrix per GEMM chunk in :func:`resample_moments`
ROW_CHUNK = 8192


def moments(X: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted mean (p,) and covariance (p, p) with the divisor Σw·(n − 1)/n.

    With unit weights this is the usual n − 1 covariance (as R's ``cov``), so standardised
    construct scores match seminr's.
    """
    W = w.sum()
    m = w @ X / W
    Xc = X - m
    n = X.shape[0]
    cov = (Xc * w[:, None]).T @ Xc / (W * (n - 1) / n)
    return m, cov


def resample_moments(X: np.ndarray, w: np.ndarray, counts: np.ndarray,
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Means (B, p) and covariances (B, p, p) of B reweighted copies of the data.

    ``counts`` (B, n) holds how often each respondent is drawn (bootstrap) or 0/1 (jackknife).
    All B covariance matrices come from one GEMM per row chunk: (B, n) counts × survey
    weights times the (n, p(p+1)/2) matrix of item cross products (centred at the full-sample
    mean for accuracy). The divisor is Σw (the scale cancels in everything PLS reports).
    """
    n, p = X.shape
    m0 = w @ X / w.sum()
    Xc = X - m0
    iu, ju = np.triu_indices(p)
    Kw = counts * w[None, :]
    Wb = Kw.sum(axis=1)
    S1 = Kw @ Xc
    S2 = np.zeros((counts.shape[0], iu.size))
    for a in range(0, n, ROW_CHUNK):
        P = Xc[a : a + ROW_CHUNK, iu] * Xc[a : a + ROW_CHUNK, ju]
        S2 += Kw[:, a : a + ROW_CHUNK] @ P
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = S1 / Wb[:, None]
        tri = S2 / Wb[:, None] - mean[:, iu] * mean[:, ju]
    cov = np.empty((counts.shape[0], p, p))
    cov[:, iu, ju] = tri
    cov[:, ju, iu] = tri
    return mean + m0, cov


@dataclass
class Batch:
    """Estimates for a batch of B data sets (arrays with a leading B axis)."""

    W: np.ndarray          # (B, p, c) standardised outer weights (block-diagonal)
    R: np.ndarray          # (B, p, p) item correlations
    C: np.ndarray          # (B, c, c) construct correlations
    paths: np.ndarray      # (B, c, c) path matrix, B[i, j] = path i -> j
    total: np.ndarray      # (B, c, c) total effects
    r2: np.ndarray         # (B, c) R² (0 for exogenous constructs)
    loadings: np.ndarray   # (B, p) loading of each item on its construct
    weights: np.ndarray    # (B, p) outer weight of each item
    iterations: np.ndarray  # (B,)
    converged: np.ndarray  # (B,) bool
    ok: np.ndarray         # (B,) bool: finite, no constant item, mode B blocks not singular
    flipped: np.ndarray    # (B,) number of constructs whose sign was aligned
    mean: np.ndarray       # (B, p) item means
    sd: np.ndarray         # (B, p) item standard deviations


def _inner(C: np.ndarray, spec: PLSSpec, scheme: str) -> np.ndarray:
    """Inner weights E (B, c, c): proxy_j = Σ_i E[i, j]·score_i."""
    A = spec.adjacency
    adj = A | A.T
    if scheme == "centroid":
        return np.sign(C) * adj
    if scheme == "factorial":
        return C * adj
    E = C * A.T  # successors k of j enter j's proxy with their correlation
    for j in range(spec.c):
        pr = spec.predecessors(j)
        if pr.size == 0:
            continue
        Cpp = C[:, pr[:, None], pr[None, :]]
        rhs = C[:, pr, j]
        E[:, pr, j] = _solve(Cpp, rhs)
    return E


def _solve(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Batched solve of A x = b (A (B, k, k), b (B, k)); singular systems give NaN."""
    k = b.shape[-1]
    if k == 1:
        with np.errstate(invalid="ignore", divide="ignore"):
            return b / A[..., 0]
    if k == 2:  # closed form: most structural equations have one or two predictors
        a, c_, d = A[:, 0, 0], A[:, 0, 1], A[:, 1, 1]
        with np.errstate(invalid="ignore", divide="ignore"):
            det = a * d - c_ * c_
            return np.stack([(d * b[:, 0] - c_ * b[:, 1]) / det,
                             (a * b[:, 1] - c_ * b[:, 0]) / det], axis=1)
    try:
        return np.linalg.solve(A, b[..., None])[..., 0]
    except np.linalg.LinAlgError:
        out = np.full(b.shape, np.nan)
        for i in range(A.shape[0]):
            with contextlib.suppress(np.linalg.LinAlgError):
                out[i] = np.linalg.solve(A[i], b[i])
        return out


def _block_rw(R: np.ndarray, w: np.ndarray, M: np.ndarray) -> np.ndarray:
    """RW (B, p, c) for block-diagonal W given by the weight vectors w (B, p): one GEMM."""
    Bn, p, _ = R.shape
    return ((R * w[:, None, :]).reshape(Bn * p, p) @ M).reshape(Bn, p, -1)


def _block_sum(Y: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Σ over the items of each block along axis 1 (items are stored block by block)."""
    return np.add.reduceat(Y, starts, axis=1)


def estimate_batch(mean: np.ndarray, cov: np.ndarray, spec: PLSSpec, scheme: str = "path",
                   *, tol: float = TOL, max_iter: int = MAX_ITER,
                   reference: np.ndarray | None = None) -> Batch:
    """PLS estimates for each of B (mean, covariance) pairs.

    Outer weights are kept as one vector per data set (each item loads on one construct),
    so R·W is a single (B·p × p)·(p × c) matrix product and every other step is elementwise.

    Parameters
    ----------
    mean, cov : ndarray (B, p), (B, p, p)
    spec : PLSSpec
    scheme : {"path", "centroid", "factorial"}
    reference : ndarray (p, c), optional
        Outer weights of the full-sample fit: each construct whose weights point the other
        way (negative inner product) is flipped (construct-level sign change, Tenenhaus et
        al. 2005), and counted in ``flipped``.
    """
    Bn, p, _ = cov.shape
    c = spec.c
    blk = spec.block
    rows = np.arange(p)
    var = np.einsum("bii->bi", cov)
    ok = np.isfinite(var).all(axis=1) & (var > 1e-12 * np.maximum(1.0, np.abs(mean) ** 2)).all(1)
    sd = np.sqrt(np.where(var > 0, var, np.nan))
    with np.errstate(invalid="ignore", divide="ignore"):
        R = cov / sd[:, :, None] / sd[:, None, :]
    R[~ok] = np.eye(p)
    M = spec.mask
    starts = np.flatnonzero(np.r_[True, blk[1:] != blk[:-1]])
    if not np.array_equal(blk[starts], np.arange(c)):
        raise AssertionError("items must be stored block by block in construct order")
    single_rows = np.array([int(np.flatnonzero(blk == j)[0]) for j in range(c)
                            if (blk == j).sum() == 1], dtype=int)
    modeB = [(j, np.flatnonzero(blk == j)) for j in range(c)
             if spec.modes[spec.constructs[j]] == "B" and (blk == j).sum() > 1]
    Rbb_inv = []
    for _j, idx in modeB:
        Rbb = R[:, idx[:, None], idx[None, :]]
        ev = np.linalg.eigvalsh(Rbb)
        good = ev[:, 0] > 1e-10 * ev[:, -1]
        ok &= good
        Rbb = np.where(good[:, None, None], Rbb, np.eye(idx.size))
        Rbb_inv.append(np.linalg.inv(Rbb))

    def normalise(wv: np.ndarray, Rs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        RW = _block_rw(Rs, wv, M)
        v = _block_sum(wv * RW[:, rows, blk], starts)
        with np.errstate(invalid="ignore", divide="ignore"):
            s = 1.0 / np.sqrt(v)
        wv = wv * s[:, blk]
        RW *= s[:, None, :]
        if single_rows.size:
            wv[:, single_rows] = 1.0
        return wv, RW

    w, RWa = normalise(np.ones((Bn, p)), R)
    iters = np.zeros(Bn, dtype=int)
    conv = np.zeros(Bn, dtype=bool)
    active = np.flatnonzero(ok)
    Ra, wa, RWa = R[active], w[active], RWa[active]
    Rinv_a = [ri[active] for ri in Rbb_inv]
    for it in range(1, max_iter + 1):
        C = _block_sum(wa[:, :, None] * RWa, starts)
        E = _inner(C, spec, scheme)
        g = np.einsum("bpc,bcp->bp", RWa, E[:, :, blk])
        for (_j, idx), ri in zip(modeB, Rinv_a, strict=True):
            g[:, idx] = np.einsum("bij,bj->bi", ri, g[:, idx])
        wn, RWa = normalise(g, Ra)
        diff = np.abs(wn - wa).max(axis=1)
        done = diff < tol
        wa = wn
        if done.any() or it == max_iter:
            fin = done | (it == max_iter)
            w[active[fin]] = wa[fin]
            iters[active[fin]] = it
            conv[active[done]] = True
            keep = ~fin
            active, Ra, wa, RWa = active[keep], Ra[keep], wa[keep], RWa[keep]
            Rinv_a = [ri[keep] for ri in Rinv_a]
            if active.size == 0:
                break
    bad = ~np.isfinite(w).all(axis=1)
    ok &= ~bad
    w[bad] = 1.0
    flipped = np.zeros(Bn, dtype=int)
    if reference is not None:
        ref = reference[rows, blk]
        dots = _block_sum(w * ref, starts)
        flip = dots < 0
        flipped = flip.sum(axis=1)
        w = w * np.where(flip, -1.0, 1.0)[:, blk]
    W = w[:, :, None] * M
    RW = _block_rw(R, w, M)
    C = _block_sum(w[:, :, None] * RW, starts)
    paths = np.zeros((Bn, c, c))
    r2 = np.zeros((Bn, c))
    for j in range(c):
        pr = spec.predecessors(j)
        if pr.size == 0:
            continue
        b = _solve(C[:, pr[:, None], pr[None, :]], C[:, pr, j])
        paths[:, pr, j] = b
        r2[:, j] = np.einsum("bk,bk->b", b, C[:, pr, j])
    eye = np.eye(c)
    total = (np.linalg.inv(eye - paths) - eye) * spec.reach  # exact zeros off the paths
    loadings = RW[:, rows, blk]
    ok &= np.isfinite(paths).all(axis=(1, 2)) & np.isfinite(loadings).all(axis=1)
    return Batch(W, R, C, paths, total, r2, loadings, w, iters, conv, ok, flipped,
                 mean, sd)


def index_weights(batch: Batch, spec: PLSSpec, low: np.ndarray, width: np.ndarray,
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ACSI index weights, index means and index SDs.

    Items are rescaled to 0–100 by their declared scale, x100 = 100·(x − L)/(U − L), and
    weighted by w̃_i = (w_i/s_i)/Σ_j (w_j/s_j) (w standardised outer weight, s the SD of the
    rescaled item), so the index Σ w̃_i·x100_i is an affine function of the construct score
    with slope sd(index) = 1/Σ_j (w_j/s_j) (Fornell et al. 1996).

    Returns
    -------
    wtilde : (B, p), index_mean : (B, c), index_sd : (B, c)
    """
    s100 = batch.sd * (100.0 / width)
    m100 = (batch.mean - low) * (100.0 / width)
    u = batch.weights / s100
    Bn = u.shape[0]
    S = np.zeros((Bn, spec.c))
    for j in range(spec.c):
        S[:, j] = u[:, spec.block == j].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        wt = u / S[:, spec.block]
        means = np.zeros((Bn, spec.c))
        for j in range(spec.c):
            sel = spec.block == j
            means[:, j] = (wt[:, sel] * m100[:, sel]).sum(axis=1)
        sd_index = 1.0 / S
    return wt, means, sd_index


def standardised_index(batch: Batch, spec: PLSSpec, low: np.ndarray, width: np.ndarray,
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The IPMA convention of seminrExtras: standardised weights normalised to sum 1.

    Index_j = Σ v_i·x100_i with v = w/Σw (no division by the item SDs); importance = the
    standardised total effect × sd(target index)/sd(driver index) with these indices.

    Returns
    -------
    v : (B, p), index_mean : (B, c), unstd_total : (B, c, c)
    """
    Bn = batch.weights.shape[0]
    c = spec.c
    S = np.zeros((Bn, c))
    for j in range(c):
        S[:, j] = batch.weights[:, spec.block == j].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        v = batch.weights / S[:, spec.block]
    m100 = (batch.mean - low) * (100.0 / width)
    VM = (v * batch.sd * (100.0 / width))[:, :, None] * spec.mask
    var = np.einsum("bpi,bpq,bqi->bi", VM, batch.R, VM)  # variance of each index
    means = np.einsum("bp,pc->bc", v * m100, spec.mask)
    sd = np.sqrt(var)
    with np.errstate(invalid="ignore", divide="ignore"):
        total = batch.total * sd[:, None, :] / sd[:, :, None]
    return v, means, total
