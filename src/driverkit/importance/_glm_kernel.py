"""Shared kernel helpers of the batched GLM subset engines (:mod:`._glm`, :mod:`._glm_ordinal`).

Scratch buffers, batched small solves and the column-pair layout of the full-layout design,
kept in one module so the logit and ordered-logit engines import them without a cycle.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import numpy as np

_BIG = 1e300  # stands in for ±∞ thresholds (tanh(±_BIG) = ±1 exactly, no inf·0 in products)
#: probabilities multiplied before one log: where |η| ≤ 30 each is above 4.7e-15, and a
#: product of 16 stays above 1e-229, far from underflow
LOG_CHUNK = 16


def log_chunks(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Chunks of at most :data:`LOG_CHUNK` consecutive rows of equal weight ``v``: their
    first rows and weights, so that Σ v log p = ``log(multiply.reduceat(p, starts)) @ w``
    takes one log per chunk (rows sorted by weight make the chunks full)."""
    cut = np.flatnonzero(np.diff(v)) + 1
    starts = np.union1d(np.arange(0, v.size, LOG_CHUNK), cut).astype(np.intp)
    return starts, v[starts]


def _softplus_sum(x: np.ndarray, v: np.ndarray, tmp: np.ndarray) -> np.ndarray:
    """Σ_i v_i log(1 + e^{x_bi}) for every row b (``tmp`` is scratch of x's shape).

    ``log1p(exp(x))`` is accurate in float64 for every x below the overflow point of exp
    (≈ 709); rows that overflow are recomputed as max(x, 0) + log1p(exp(−|x|)).
    """
    with np.errstate(over="ignore"):
        np.exp(x, out=tmp)
    np.log1p(tmp, out=tmp)
    out = tmp @ v
    bad = ~np.isfinite(out)
    if bad.any():
        xb = x[bad]
        out[bad] = (np.maximum(xb, 0.0) + np.log1p(np.exp(-np.abs(xb)))) @ v
    return out


#: bytes of one (subsets × rows) float64 work array per batch: ~2 MB stays in L2
CACHE_BYTES = 1 << 21


def row_block(n: int, cache_bytes: int = CACHE_BYTES) -> int:
    """Subsets per batch so that one (subsets × ``n`` rows) float64 array fills about
    ``cache_bytes`` (16 to 1024 subsets).

    Examples
    --------
    >>> row_block(2000), row_block(250), row_block(10**6)
    (131, 1024, 16)
    """
    return int(np.clip(cache_bytes // (8 * n), 16, 1024))


def size_levels(order: np.ndarray, sizes: np.ndarray) -> list[np.ndarray]:
    """``order`` (subset indices sorted by size) cut into its runs of equal ``sizes``."""
    if not order.size:
        return []
    return np.split(order, np.flatnonzero(np.diff(sizes[order])) + 1)


def level_batches(member: np.ndarray, block: int, *, skip_empty: bool
                  ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Batches of at most ``block`` subsets of one size, smallest size first: each
    batch's subset indices and their columns ``(L, m)`` (rows of the boolean ``member``).
    ``skip_empty`` leaves out subset 0 (the empty model, known in closed form).

    Examples
    --------
    >>> member = np.array([[0, 0], [1, 0], [0, 1], [1, 1]], dtype=bool)
    >>> [(b.tolist(), c.tolist()) for b, c in level_batches(member, 8, skip_empty=True)]
    [([1, 2], [[0], [1]]), ([3], [[0, 1]])]
    """
    sizes = member.sum(axis=1)
    order = np.argsort(sizes, kind="stable")
    if skip_empty:
        order = order[order != 0]
    for level in size_levels(order, sizes):
        m = int(sizes[level[0]])
        for pos in range(0, level.size, block):
            batch = level[pos : pos + block]
            yield batch, np.nonzero(member[batch])[1].reshape(batch.size, m)


def _pair_layout(K: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Column pairs i ≤ j of a K-column design and the (i, j) → pair position map."""
    iu, ju = np.triu_indices(K)
    index = np.empty((K, K), dtype=np.intp)
    index[iu, ju] = np.arange(iu.size)
    index[ju, iu] = np.arange(iu.size)
    return iu, ju, index


def _solve_batch(N: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Solve N_b s_b = g_b for a batch of symmetric PSD systems (pinv where singular)."""
    try:
        return np.linalg.solve(N, g[..., None])[..., 0]
    except np.linalg.LinAlgError:
        out = np.empty_like(g)
        for b in range(N.shape[0]):
            try:
                out[b] = np.linalg.solve(N[b], g[b])
            except np.linalg.LinAlgError:
                out[b] = np.linalg.pinv(N[b], hermitian=True) @ g[b]
        return out


def _invert_batch(N: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.inv(N)
    except np.linalg.LinAlgError:
        return np.linalg.pinv(N, hermitian=True)


class _Work:
    """Scratch arrays of shape (rows, n) reused across batches (no allocation per step).

    Each thread gets its own set (allocated on its first use), so batches of one engine may
    run on several threads at once.
    """

    def __init__(self, rows: int, n: int, count: int) -> None:
        self.shape = (rows, n)
        self.count = count
        self._local = threading.local()

    @property
    def bufs(self) -> list[np.ndarray]:
        bufs = getattr(self._local, "bufs", None)
        if bufs is None:
            bufs = self._local.bufs = [np.empty(self.shape) for _ in range(self.count)]
        return bufs

    def get(self, i: int, B: int) -> np.ndarray:
        return self.bufs[i][:B]
