"""Poisson(1) online bootstrap: resampling weights that need no second look at the data.

The classical bootstrap draws n rows with replacement, which needs n up front and random
access. The Poisson bootstrap (Hanley & MacGibbon 2006; Oza & Russell 2001; Chamandy et al.
2012, "Estimating uncertainty for massive data streams") gives every row an independent
Poisson(1) count per replicate instead — the multinomial counts' limit as n grows — so each
replicate is a weighted pass over the same stream, chunk by chunk or partition by partition.

Counts here are a pure function of ``(seed, replicate, global row number)`` (a Philox
counter-based generator positioned at the row), so replicates are identical whatever the
chunk size, file split or Dask partitioning.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..exceptions import DataError, DriverkitTypeError
from ._sufficient import SufficientStats, _merge_moments, _symmetrise, chunk_stats

__all__ = ["poisson_counts", "resolve_seed"]

# P(X <= k) for X ~ Poisson(1), k = 0..19; P(X > 19) < 2**-53.
_CDF = np.cumsum([math.exp(-1) / math.factorial(k) for k in range(20)])


def resolve_seed(seed: Any) -> int:
    """An integer root seed (drawn once when ``seed`` is None, so all passes agree)."""
    if seed is None:
        return int(np.random.SeedSequence().generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise DriverkitTypeError(f"'seed' must be None or an int for the Poisson bootstrap; "
                                 f"got {seed!r}.")
    return int(seed)


def _key(seed: int, replicate: int) -> np.ndarray:
    return np.random.SeedSequence(seed, spawn_key=(int(replicate),)).generate_state(
        2, dtype=np.uint64)


def poisson_counts(seed: int, replicate: int, start: int, m: int) -> np.ndarray:
    """Poisson(1) counts of rows ``start .. start+m-1`` in replicate ``replicate``.

    Deterministic in ``(seed, replicate, row)``: the counts of a row do not depend on how the
    rows are chunked.

    Examples
    --------
    >>> from driverkit.stats._poisson import poisson_counts
    >>> a = poisson_counts(1, 0, 0, 10)
    >>> bool((a[4:] == poisson_counts(1, 0, 4, 6)).all())
    True
    """
    bg = np.random.Philox(key=_key(seed, replicate))
    bg.advance(start // 4)  # one Philox counter step yields four 64-bit outputs
    skip = start % 4
    raw = bg.random_raw(m + skip)[skip:]
    u = (raw >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))
    return np.searchsorted(_CDF, u, side="right").astype(np.float64)


def _replicate_weight_type(weight_type: str) -> str:
    return "frequency" if weight_type == "none" else weight_type


class _Accumulator:
    """Running replicate moments (mergeable, picklable for Dask)."""

    def __init__(self, k: int, B: int) -> None:
        self.B = B
        self.n = 0
        self.W = np.zeros(B)
        self.W2 = np.zeros(B)
        self.slogw = np.zeros(B)
        self.mean = np.zeros((B, k))
        self.M = np.zeros((B, k, k))

    def add(self, X: np.ndarray, w: np.ndarray | None, start: int, m_raw: int,
            keep: np.ndarray | None, root: int) -> None:
        self.n += X.shape[0]
        for b in range(self.B):
            c = poisson_counts(root, b, start, m_raw)
            if keep is not None:
                c = c[keep]
            wb = c if w is None else w * c
            _, W, W2, slogw, mean, M = chunk_stats(X, wb)
            self.W2[b] += W2
            self.slogw[b] += slogw
            self.W[b], self.mean[b], self.M[b] = _merge_moments(
                self.W[b], self.mean[b], self.M[b], W, mean, M)

    def merge(self, other: _Accumulator) -> _Accumulator:
        out = _Accumulator(self.mean.shape[1], self.B)
        out.n = self.n + other.n
        out.W2 = self.W2 + other.W2
        out.slogw = self.slogw + other.slogw
        for b in range(self.B):
            out.W[b], out.mean[b], out.M[b] = _merge_moments(
                self.W[b], self.mean[b], self.M[b], other.W[b], other.mean[b], other.M[b])
        return out

    def result(self, columns: list[str], weight_type: str, dropped: int
               ) -> list[SufficientStats]:
        if self.n == 0:
            raise DataError("No complete rows to bootstrap.")
        wt = _replicate_weight_type(weight_type)
        return [SufficientStats(columns, self.n, float(self.W[b]), self.mean[b],
                                _symmetrise(self.M[b]), weight_type=wt,
                                sum_weights_sq=float(self.W2[b]),
                                sum_log_weights=float(self.slogw[b]),
                                n_dropped=dropped)
                for b in range(self.B)]
