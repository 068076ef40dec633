"""Pairwise deletion: pairwise-complete moments, nearest correlation matrix, replicates.

:class:`PairwiseStats` holds per-pair counts, weights and sums (mergeable like
:class:`~driverkit.stats.SufficientStats`), :func:`nearest_correlation` repairs a pairwise
correlation matrix that is not positive semi-definite, and
:func:`pairwise_replicate_covariances` recomputes the pairwise covariances of bootstrap
replicates.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_option
from ..exceptions import DataError, DriverkitError
from ._sufficient import WEIGHT_TYPES, SufficientStats

__all__ = ["PairwiseStats", "nearest_correlation", "pairwise_replicate_covariances"]


# ======================================================================================
# pairwise deletion
# ======================================================================================
def nearest_correlation(R: np.ndarray, *, floor: float = 1e-8, tol: float = 1e-12,
                        max_iter: int = 500) -> np.ndarray:
    """The nearest correlation matrix to a symmetric ``R`` (Higham 2002).

    Alternating projections with Dykstra's correction onto the positive semi-definite cone
    (eigenvalues raised to ``floor`` so the result stays invertible) and onto the unit
    diagonal, in the Frobenius norm.

    Examples
    --------
    >>> import numpy as np
    >>> R = np.array([[1, .9, .1], [.9, 1, .9], [.1, .9, 1]])
    >>> bool(np.linalg.eigvalsh(R)[0] < 0), bool(np.linalg.eigvalsh(nearest_correlation(R))[0] > 0)
    (True, True)
    """
    Y = np.array(R, dtype=float)
    Y = (Y + Y.T) / 2
    dS = np.zeros_like(Y)
    for _ in range(max_iter):
        Rk = Y - dS
        ev, vec = np.linalg.eigh(Rk)
        X = (vec * np.maximum(ev, float(floor))) @ vec.T
        dS = X - Rk
        Y_new = X.copy()
        np.fill_diagonal(Y_new, 1.0)
        done = np.linalg.norm(Y_new - Y) <= tol * max(float(np.linalg.norm(Y)), 1.0)
        Y = Y_new
        if done and np.linalg.eigvalsh(Y)[0] > 0:
            break
    return (Y + Y.T) / 2


def _pair_sums(Z: np.ndarray, w: np.ndarray | None, shift: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per-pair counts, weight sums and shifted first/second moments of rows with NaN."""
    O = ~np.isnan(Z)
    Of = O.astype(float)
    Zc = np.where(O, Z - shift, 0.0)
    ww = np.ones(Z.shape[0]) if w is None else w
    N = Of.T @ Of
    Ow = Of * ww[:, None]
    W = Of.T @ Ow
    W2 = Of.T @ (Of * (ww * ww)[:, None])
    S = (Zc * ww[:, None]).T @ Of  # S[j, k] = Σ_{j,k answered} w (z_j − c_j)
    Q = (Zc * ww[:, None]).T @ Zc
    return N, W, W2, S, Q


class PairwiseStats:
    """Pairwise-complete weighted moments: the sufficient statistics of pairwise deletion.

    For every pair of columns it keeps the number of rows where both are answered, their
    weight sum and the moments over those rows, so covariances are computed "pairwise
    complete" (each from the respondents who answered both items). The statistics are sums,
    so chunks of a file or Dask partitions combine exactly with :meth:`merge`.

    Parameters
    ----------
    columns : list of str
    counts, sum_weights, sum_weights_sq : ndarray (k, k)
        Rows, Σw and Σw² over the rows where both columns are answered.
    sums, squares : ndarray (k, k)
        ``sums[j, k] = Σ w (x_j − c_j)`` and ``squares[j, k] = Σ w (x_j − c_j)(x_k − c_k)``
        over those rows, about the shift ``c``.
    shift : ndarray (k,)
        Centre of the moments (numerical accuracy only; it cancels).
    weight_type : {"none", "sampling", "frequency"}

    Examples
    --------
    >>> import numpy as np
    >>> Z = np.array([[1., 2., 1.], [2., np.nan, 3.], [3., 5., np.nan], [4., 7., 4.],
    ...               [5., 8., 6.]])
    >>> ps = PairwiseStats.from_arrays(Z, ["a", "b", "y"])
    >>> int(ps.counts.loc["a", "b"]), int(ps.counts.loc["b", "y"])
    (4, 3)
    """

    def __init__(self, columns: Sequence[str], counts: Any, sum_weights: Any,
                 sum_weights_sq: Any, sums: Any, squares: Any, shift: Any,
                 weight_type: str = "none") -> None:
        check_option(weight_type, "weight_type", WEIGHT_TYPES, "PairwiseStats")
        self._columns = [str(c) for c in columns]
        self._N = np.asarray(counts, dtype=float)
        self._W = np.asarray(sum_weights, dtype=float)
        self._W2 = np.asarray(sum_weights_sq, dtype=float)
        self._S = np.asarray(sums, dtype=float)
        self._Q = np.asarray(squares, dtype=float)
        self._c = np.asarray(shift, dtype=float)
        self._weight_type = weight_type

    @classmethod
    def from_arrays(cls, Z: Any, columns: Sequence[str], weights: Any = None, *,
                    weight_type: str | None = None, shift: Any = None) -> PairwiseStats:
        """Statistics of an ``(n, k)`` array whose missing answers are NaN."""
        Z = np.asarray(Z, dtype=float)
        if Z.ndim != 2 or Z.shape[1] != len(columns):
            raise DriverkitError(f"Z must be 2-D with {len(columns)} columns; got {Z.shape}.")
        if np.isinf(Z).any():
            raise DataError("Z contains infinite values.")
        w = None if weights is None else np.asarray(weights, dtype=float).reshape(-1)
        if weight_type is None:
            weight_type = "none" if w is None else "sampling"
        if shift is None:
            with np.errstate(invalid="ignore"):
                shift = np.where(np.isnan(Z).all(axis=0), 0.0,
                                 np.nanmean(np.where(np.isnan(Z), np.nan, Z), axis=0)
                                 if Z.shape[0] else 0.0)
        shift = np.nan_to_num(np.asarray(shift, dtype=float))
        N, W, W2, S, Q = _pair_sums(Z, w, shift)
        return cls(columns, N, W, W2, S, Q, shift, weight_type)

    # ------------------------------------------------------------------ combining
    def _shifted(self, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(S, Q) about another shift ``c``: x − c = (x − c₀) + (c₀ − c)."""
        d = self._c - c
        S = self._S + self._W * d[:, None]
        Q = (self._Q + d[:, None] * self._S.T + self._S * d[None, :]
             + self._W * np.outer(d, d))
        return S, Q

    def merge(self, other: PairwiseStats) -> PairwiseStats:
        """Combine with the statistics of other rows (same columns and weight type)."""
        if not isinstance(other, PairwiseStats) or other._columns != self._columns \
                or other._weight_type != self._weight_type:
            raise DriverkitError("merge() needs PairwiseStats over the same columns and "
                                 "weight type.")
        S2, Q2 = other._shifted(self._c)
        return PairwiseStats(self._columns, self._N + other._N, self._W + other._W,
                             self._W2 + other._W2, self._S + S2, self._Q + Q2, self._c,
                             self._weight_type)

    def __add__(self, other: PairwiseStats) -> PairwiseStats:
        return self.merge(other)

    # ------------------------------------------------------------------ accessors
    @property
    def columns(self) -> list[str]:
        return list(self._columns)

    @property
    def counts(self) -> pd.DataFrame:
        """Respondents who answered both columns (the diagonal: each column's answers)."""
        return pd.DataFrame(self._N.astype(int), index=self._columns, columns=self._columns)

    def min_pair(self, columns: Iterable[str] | None = None) -> tuple[int, str, str]:
        """The smallest pairwise count and its pair (the n used for inference)."""
        idx = self._idx(columns)
        N = self._N[np.ix_(idx, idx)]
        a, b = np.unravel_index(int(np.argmin(N)), N.shape)
        return int(N[a, b]), self._columns[idx[a]], self._columns[idx[b]]

    def _idx(self, columns: Iterable[str] | None) -> list[int]:
        if columns is None:
            return list(range(len(self._columns)))
        pos = {c: i for i, c in enumerate(self._columns)}
        return [pos[str(c)] for c in columns]

    @property
    def mean(self) -> pd.Series:
        """Each column's weighted mean over its own answers."""
        d = np.diag(self._S) / np.where(np.diag(self._W) > 0, np.diag(self._W), np.nan)
        return pd.Series(d + self._c, index=self._columns, name="mean")

    def covariance(self, columns: Iterable[str] | None = None) -> pd.DataFrame:
        """Pairwise-complete weighted covariances (divisor Σw of each pair, i.e. ddof 0).

        ``cov[j, k]`` uses the rows where both are answered, with that pair's own means;
        the diagonal holds each column's variance over all its answers. The matrix need not
        be positive semi-definite (see :meth:`to_sufficient`).
        """
        idx = self._idx(columns)
        W = self._W[np.ix_(idx, idx)]
        S = self._S[np.ix_(idx, idx)]
        Q = self._Q[np.ix_(idx, idx)]
        with np.errstate(invalid="ignore", divide="ignore"):
            C = Q / W - (S / W) * (S.T / W)
        names = [self._columns[i] for i in idx]
        return pd.DataFrame((C + C.T) / 2, index=names, columns=names)

    def to_sufficient(self, columns: Iterable[str] | None = None, *,
                      repair: bool = True) -> tuple[SufficientStats, dict[str, Any]]:
        """A :class:`SufficientStats` whose covariance is the pairwise one (repaired if not
        positive definite) and whose sample size is the smallest pairwise count.

        Returns the statistics and facts for ``.meta``: ``n_min`` and its pair, whether the
        matrix was repaired and the largest change of a correlation.
        """
        idx = self._idx(columns)
        names = [self._columns[i] for i in idx]
        n_min, a, b = self.min_pair(names)
        if n_min < 2:
            raise DataError(
                f"'{a}' and '{b}' were answered together by {n_min} respondent(s); pairwise "
                "deletion cannot estimate their covariance. Leave one out or use "
                "missing='impute'."
            )
        C = self.covariance(names).to_numpy()
        sd = np.sqrt(np.diag(C))
        const = [names[i] for i in range(len(names)) if not sd[i] > 0]
        if const:
            raise DataError(f"Column(s) {const} are constant among their answers; drop them.")
        R = C / np.outer(sd, sd)
        info: dict[str, Any] = {"n_min": n_min, "n_min_pair": (a, b), "repaired": False,
                                "max_change": 0.0}
        if np.linalg.eigvalsh(R)[0] <= 1e-10 and repair:
            R2 = nearest_correlation(R)
            info["repaired"] = True
            info["max_change"] = float(np.max(np.abs(R2 - R)))
            R = R2
        k_ab = (self._columns.index(a), self._columns.index(b))
        W = float(self._W[k_ab])
        W2 = float(self._W2[k_ab])
        if self._weight_type == "none":
            W = W2 = float(n_min)
        M = R * np.outer(sd, sd) * W
        st = SufficientStats(names, n_min, W, self.mean.to_numpy()[idx], M,
                             weight_type=self._weight_type, sum_weights_sq=W2)
        return st, info


def pairwise_replicate_covariances(Z: np.ndarray, V: np.ndarray) -> np.ndarray:
    """Pairwise-complete covariances (ddof 0) of ``Z`` (NaN = missing) under each row of
    replicate weights ``V`` (B, n): the bootstrap of pairwise deletion. Shape (B, q, q)."""
    O = (~np.isnan(Z)).astype(float)
    Zc = np.where(O > 0, Z - np.nanmean(Z, axis=0), 0.0)
    out = np.empty((V.shape[0], Z.shape[1], Z.shape[1]))
    for b in range(V.shape[0]):
        v = V[b][:, None]
        Ov = O * v
        W = O.T @ Ov
        S = (Zc * v).T @ O
        Q = (Zc * v).T @ Zc
        with np.errstate(invalid="ignore", divide="ignore"):
            C = Q / W - (S / W) * (S.T / W)
        out[b] = (C + C.T) / 2
    return out
