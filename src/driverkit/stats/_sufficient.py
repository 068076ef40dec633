"""Sufficient statistics of linear models: weighted count, means and co-moments.

Everything linear in driverkit (OLS/WLS fits, R² of every driver subset, Shapley values,
dominance, relative weights) depends on the data only through the weighted count, the
weighted means and the weighted matrix of centred cross-products ("co-moments"). A
:class:`SufficientStats` holds exactly that, computed in one pass over chunks of rows and
combined exactly with :meth:`SufficientStats.merge`, so files that do not fit in memory,
Dask partitions, segments and waves all reduce to a small ``k × k`` object.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_option
from ..exceptions import DataError, DriverkitError, DriverkitTypeError

__all__ = ["WEIGHT_TYPES", "OLSStats", "SufficientStats", "chunk_stats"]

#: ``"none"`` (unweighted), ``"sampling"`` (survey/probability weights), ``"frequency"``
#: (each row stands for ``w`` identical respondents).
WEIGHT_TYPES = ("none", "sampling", "frequency")
_FORMAT = "driverkit.SufficientStats"
_FORMAT_VERSION = 1


def chunk_stats(X: np.ndarray, w: np.ndarray | None = None) -> tuple[
        int, float, float, float, np.ndarray, np.ndarray]:
    """Moments of one chunk of rows: ``(n, W, Σw², Σlog w, mean, M)``.

    ``M = Σ_i w_i (x_i − x̄)(x_i − x̄)ᵀ`` is computed from the chunk's own weighted mean
    (two passes over data already in memory), which keeps it accurate when the data have a
    large offset; chunks are then combined with :func:`_merge_moments`. Rows must be
    complete (no NaN) and weights non-negative.
    """
    n = int(X.shape[0])
    k = int(X.shape[1])
    if n == 0:
        return 0, 0.0, 0.0, 0.0, np.zeros(k), np.zeros((k, k))
    if w is None:
        W = float(n)
        mean = X.mean(axis=0)
        # raw cross-products minus n·x̄x̄ᵀ avoid a centred copy; fall back to centring when
        # that would cancel more than ~3 digits (means large relative to the spread)
        M = X.T @ X
        M -= W * np.outer(mean, mean)
        d = np.diag(M)
        if not np.all(d * 1e3 >= W * mean * mean):
            Xc = X - mean
            M = Xc.T @ Xc
        return n, W, float(n), 0.0, mean, _symmetrise(M)
    W = float(w.sum())
    W2 = float(w @ w)
    with np.errstate(divide="ignore"):
        slogw = float(np.log(w).sum())
    if W <= 0:
        return n, 0.0, 0.0, slogw, np.zeros(k), np.zeros((k, k))
    mean = (w @ X) / W
    Xc = X - mean
    Xc *= np.sqrt(w)[:, None]
    M = Xc.T @ Xc
    return n, W, W2, slogw, mean, _symmetrise(M)


def _symmetrise(M: np.ndarray) -> np.ndarray:
    return (M + M.T) * 0.5


def _merge_moments(Wa: float, ma: np.ndarray, Ma: np.ndarray, Wb: float, mb: np.ndarray,
                   Mb: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Pairwise (Chan–Golub–LeVeque) update of weighted means and co-moments."""
    if Wb == 0:
        return Wa, ma.copy(), Ma + Mb
    if Wa == 0:
        return Wb, mb.copy(), Ma + Mb
    W = Wa + Wb
    delta = mb - ma
    mean = ma + delta * (Wb / W)
    M = Ma + Mb + np.outer(delta, delta) * (Wa * Wb / W)
    return W, mean, M


@dataclass(frozen=True)
class OLSStats:
    """An OLS/WLS fit computed from sufficient statistics (no row-level data).

    Attributes
    ----------
    params : pandas.Series
        ``Intercept`` then one coefficient per regressor.
    cov_params : pandas.DataFrame
        Classical (model-based) covariance of ``params``: ``σ̂² (XᵀWX)⁻¹``.
    std_errors : pandas.Series
        Square roots of the diagonal of ``cov_params``.
    r2, r2_adj : float
        Weighted R² = 1 − SSE/SST (SST about the weighted mean) and its adjusted version.
    scale : float
        ``σ̂² = SSE / df_resid``.
    sse, sst : float
        Weighted residual and total sums of squares.
    n_obs : int
        Number of rows.
    nobs : float
        The sample size used in degrees of freedom and likelihoods: ``sum_weights`` for
        frequency weights, else ``n_obs``.
    df_resid : float
        ``nobs − (k + 1)``.
    loglike, aic, bic : float
        Gaussian log-likelihood at the estimates (as statsmodels computes it) and the
        information criteria with ``k + 1`` parameters.
    vif : pandas.Series
        Variance inflation factors of the regressors (diagonal of the inverse weighted
        correlation matrix).
    condition_number : float
        Condition number of the weighted design with an intercept (statsmodels'
        definition: square root of the ratio of the extreme eigenvalues of ``XᵀWX``).
    weight_type : str
        The weight type of the statistics the fit came from.
    """

    params: pd.Series
    cov_params: pd.DataFrame
    std_errors: pd.Series
    r2: float
    r2_adj: float
    scale: float
    sse: float
    sst: float
    n_obs: int
    nobs: float
    df_resid: float
    loglike: float
    aic: float
    bic: float
    vif: pd.Series
    condition_number: float
    weight_type: str


class SufficientStats:
    """Weighted count, means and co-moments of a set of numeric columns.

    Build one with :func:`driverkit.sufficient_stats` (DataFrame, CSV/Parquet files, Dask)
    or :meth:`from_arrays`; combine chunks, segments or waves exactly with :meth:`merge`
    (or ``a + b``). Linear models and importance methods need nothing else.

    Parameters
    ----------
    columns : sequence of str
        Column names, in order.
    n_obs : int
        Number of rows summarised (after listwise deletion).
    sum_weights : float
        ``W = Σ w_i`` (``n_obs`` when unweighted).
    mean : array-like of shape (k,)
        Weighted means ``Σ w_i x_i / W``.
    comoments : array-like of shape (k, k)
        ``M = Σ w_i (x_i − x̄)(x_i − x̄)ᵀ``.
    weight_type : {"none", "sampling", "frequency"}, default="none"
        What the weights mean; it fixes the degrees of freedom of covariances and SEs.
    sum_weights_sq : float, optional
        ``Σ w_i²`` (Kish's effective sample size ``W²/Σw²``). Defaults to ``n_obs`` when
        unweighted.
    sum_log_weights : float, default=0.0
        ``Σ log w_i`` (the Gaussian WLS log-likelihood needs it).
    n_dropped : int, default=0
        Rows dropped by listwise deletion while the statistics were computed.

    Notes
    -----
    Chunks are combined with the pairwise update of Chan, Golub & LeVeque (1979), in its
    weighted form (West 1979; Pébay 2008): with ``δ = x̄_b − x̄_a``,

    ``W = W_a + W_b``, ``x̄ = x̄_a + δ W_b / W``, ``M = M_a + M_b + δ δᵀ W_a W_b / W``.

    Each chunk's co-moments are computed about its own mean, so no catastrophic
    cancellation occurs when ratings sit far from zero. The update is exact in exact
    arithmetic and therefore associative and commutative; in floating point different
    merge orders agree to a few ulps.

    Covariance degrees of freedom (``ddof``): unweighted ``M / (n − ddof)``; frequency
    weights ``M / (W − ddof)`` (the expanded-data estimator); sampling weights
    ``M / (W − ddof · Σw²/W)`` (the unbiased "reliability weights" estimator, numpy's
    ``aweights``). Correlations do not depend on the convention.

    Examples
    --------
    >>> import numpy as np
    >>> from driverkit.stats import SufficientStats
    >>> X = np.array([[1.0, 2.0], [2.0, 4.5], [3.0, 5.0], [4.0, 8.5]])
    >>> a = SufficientStats.from_arrays(X[:2], ["x", "y"])
    >>> b = SufficientStats.from_arrays(X[2:], ["x", "y"])
    >>> both = a.merge(b)
    >>> both.n_obs, round(float(both.mean["y"]), 3)
    (4, 5.0)
    >>> bool(np.allclose(both.covariance().to_numpy(), np.cov(X.T)))
    True
    """

    __slots__ = (
        "_M",
        "_W",
        "_W2",
        "_columns",
        "_mean",
        "_n",
        "_n_dropped",
        "_slogw",
        "_weight_type",
    )

    def __init__(self, columns: Sequence[str], n_obs: int, sum_weights: float,
                 mean: Any, comoments: Any, *, weight_type: str = "none",
                 sum_weights_sq: float | None = None, sum_log_weights: float = 0.0,
                 n_dropped: int = 0) -> None:
        check_option(weight_type, "weight_type", WEIGHT_TYPES, "SufficientStats")
        cols = [str(c) for c in columns]
        if len(set(cols)) != len(cols):
            dup = sorted({c for c in cols if cols.count(c) > 1})
            raise DriverkitError(f"SufficientStats columns must be unique; repeated: {dup}.")
        k = len(cols)
        m = np.array(mean, dtype=float).reshape(-1)
        M = np.array(comoments, dtype=float)
        if m.shape != (k,) or M.shape != (k, k):
            raise DriverkitError(
                f"SufficientStats with {k} columns needs a mean of length {k} and a {k}×{k} "
                f"co-moment matrix; got shapes {m.shape} and {M.shape}."
            )
        if int(n_obs) < 0 or not np.isfinite(sum_weights) or sum_weights < 0:
            raise DriverkitError("n_obs and sum_weights must be non-negative and finite.")
        if not (np.isfinite(m).all() and np.isfinite(M).all()):
            raise DataError("SufficientStats means and co-moments must be finite.")
        m.flags.writeable = False
        M.flags.writeable = False
        self._columns = cols
        self._n = int(n_obs)
        self._W = float(sum_weights)
        self._W2 = float(self._n if sum_weights_sq is None else sum_weights_sq)
        self._slogw = float(sum_log_weights)
        self._mean = m
        self._M = M
        self._weight_type = weight_type
        self._n_dropped = int(n_dropped)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_arrays(cls, X: Any, columns: Sequence[str], weights: Any = None, *,
                    weight_type: str | None = None) -> SufficientStats:
        """Statistics of an in-memory ``(n, k)`` array (rows must be complete).

        ``weight_type`` defaults to ``"sampling"`` when weights are given, else ``"none"``.
        """
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[1] != len(columns):
            raise DriverkitError(
                f"X must be a 2-D array with one column per name ({len(columns)}); "
                f"got shape {X.shape}."
            )
        w = None if weights is None else np.asarray(weights, dtype=float).reshape(-1)
        if weight_type is None:
            weight_type = "none" if w is None else "sampling"
        if (w is None) != (weight_type == "none"):
            raise DriverkitError(
                "weight_type='none' goes with weights=None and vice versa; got "
                f"weight_type={weight_type!r} with weights {'absent' if w is None else 'given'}."
            )
        if w is not None and w.shape[0] != X.shape[0]:
            raise DataError(f"weights has {w.shape[0]} values but X has {X.shape[0]} rows.")
        if not np.isfinite(X).all():
            raise DataError("X contains missing or infinite values; drop those rows first.")
        if w is not None and (not np.isfinite(w).all() or (w < 0).any()):
            raise DataError("weights must be finite and >= 0.")
        n, W, W2, slogw, mean, M = chunk_stats(X, w)
        return cls(columns, n, W, mean, M, weight_type=weight_type, sum_weights_sq=W2,
                   sum_log_weights=slogw)

    @classmethod
    def empty(cls, columns: Sequence[str], weight_type: str = "none") -> SufficientStats:
        """Statistics of zero rows (the identity of :meth:`merge`)."""
        k = len(columns)
        return cls(columns, 0, 0.0, np.zeros(k), np.zeros((k, k)), weight_type=weight_type,
                   sum_weights_sq=0.0)

    # ------------------------------------------------------------------ accessors
    @property
    def columns(self) -> list[str]:
        """Column names, in order."""
        return list(self._columns)

    @property
    def n_obs(self) -> int:
        """Number of rows summarised."""
        return self._n

    @property
    def sum_weights(self) -> float:
        """``Σ w_i`` (equals ``n_obs`` when unweighted)."""
        return self._W

    @property
    def sum_weights_sq(self) -> float:
        """``Σ w_i²``."""
        return self._W2

    @property
    def sum_log_weights(self) -> float:
        """``Σ log w_i`` (0 when unweighted; ``-inf`` if a weight is zero)."""
        return self._slogw

    @property
    def n_effective(self) -> float:
        """Kish's effective sample size ``W² / Σw²`` (``n_obs`` when unweighted).

        For frequency weights this is the number of respondents represented, ``W``.
        """
        if self._weight_type == "frequency":
            return self._W
        return self._W**2 / self._W2 if self._W2 > 0 else 0.0

    @property
    def n_dropped(self) -> int:
        """Rows dropped by listwise deletion."""
        return self._n_dropped

    @property
    def weight_type(self) -> str:
        """``"none"``, ``"sampling"`` or ``"frequency"``."""
        return self._weight_type

    @property
    def has_weights(self) -> bool:
        return self._weight_type != "none"

    @property
    def mean(self) -> pd.Series:
        """Weighted means, indexed by column."""
        return pd.Series(self._mean.copy(), index=self.columns, name="mean")

    @property
    def comoments(self) -> pd.DataFrame:
        """``M = Σ w_i (x_i − x̄)(x_i − x̄)ᵀ`` as a labelled DataFrame."""
        return pd.DataFrame(self._M.copy(), index=self.columns, columns=self.columns)

    def __len__(self) -> int:
        return self._n

    def __repr__(self) -> str:
        k = len(self._columns)
        shown = ", ".join(self._columns[:6]) + (", ..." if k > 6 else "")
        w = "" if self._weight_type == "none" else (
            f", {self._weight_type} weights summing to {self._W:,.6g}")
        return f"SufficientStats(n_obs={self._n:,}, {k} columns [{shown}]{w})"

    # ------------------------------------------------------------------ selection
    def _indices(self, columns: Iterable[str] | None, what: str = "column") -> list[int]:
        if columns is None:
            return list(range(len(self._columns)))
        if isinstance(columns, str):
            columns = [columns]
        pos = {c: i for i, c in enumerate(self._columns)}
        out = []
        for c in columns:
            if c not in pos:
                from .._validation import suggest
                from ..exceptions import ColumnNotFoundError

                raise ColumnNotFoundError(
                    f"The {what} '{c}' is not in these sufficient statistics.{suggest(c, pos)} "
                    f"They hold: {', '.join(self._columns)}. Recompute them with "
                    "dk.sufficient_stats(source, columns=[...]) including it."
                )
            out.append(pos[c])
        return out

    def subset(self, columns: Iterable[str]) -> SufficientStats:
        """The statistics of some of the columns (same rows), in the order given."""
        idx = self._indices(columns)
        return SufficientStats(
            [self._columns[i] for i in idx], self._n, self._W, self._mean[idx],
            self._M[np.ix_(idx, idx)], weight_type=self._weight_type, sum_weights_sq=self._W2,
            sum_log_weights=self._slogw, n_dropped=self._n_dropped,
        )

    # ------------------------------------------------------------------ moments
    def _denominator(self, ddof: float) -> float:
        if self._weight_type == "none":
            d = self._n - ddof
        elif self._weight_type == "frequency":
            d = self._W - ddof
        else:
            d = self._W - ddof * (self._W2 / self._W if self._W > 0 else 0.0)
        if not d > 0:
            raise DataError(
                f"Too few observations for a covariance: n_obs={self._n}, "
                f"sum_weights={self._W:g}, ddof={ddof}. Add data or lower ddof."
            )
        return float(d)

    def covariance(self, columns: Iterable[str] | None = None, ddof: float = 1) -> pd.DataFrame:
        """Weighted covariance matrix (see Notes of the class for ``ddof``).

        Parameters
        ----------
        columns : list of str, optional
            Which columns (default all), in this order.
        ddof : float, default=1
            Delta degrees of freedom; 0 gives ``M / W``.

        Returns
        -------
        pandas.DataFrame
        """
        idx = self._indices(columns)
        cov = self._M[np.ix_(idx, idx)] / self._denominator(ddof)
        names = [self._columns[i] for i in idx]
        return pd.DataFrame(cov, index=names, columns=names)

    def correlation(self, columns: Iterable[str] | None = None) -> pd.DataFrame:
        """Weighted Pearson correlation matrix.

        Raises
        ------
        DataError
            If a column is constant (its correlation is undefined), naming it.
        """
        idx = self._indices(columns)
        M = self._M[np.ix_(idx, idx)]
        d = np.diag(M).copy()
        names = [self._columns[i] for i in idx]
        tiny = self._W * (1e-12 * np.abs(self._mean[idx])) ** 2
        bad = [names[i] for i in range(len(idx)) if not d[i] > tiny[i]]
        if bad:
            raise DataError(
                f"Column(s) {', '.join(repr(b) for b in bad)} are constant in these "
                "statistics, so their correlations are undefined. Drop them."
            )
        s = 1.0 / np.sqrt(d)
        R = M * s[:, None] * s[None, :]
        np.fill_diagonal(R, 1.0)
        R = np.clip(R, -1.0, 1.0)
        return pd.DataFrame(R, index=names, columns=names)

    def std(self, columns: Iterable[str] | None = None, ddof: float = 1) -> pd.Series:
        """Weighted standard deviations."""
        cov = self.covariance(columns, ddof=ddof)
        return pd.Series(np.sqrt(np.diag(cov.to_numpy())), index=cov.index, name="std")

    def crossproducts(self, columns: Iterable[str] | None = None, *,
                      intercept: bool = True) -> pd.DataFrame:
        """Uncentred weighted cross-products ``XᵀWX`` (with a leading ``Intercept`` column)."""
        idx = self._indices(columns)
        m = self._mean[idx]
        XtX = self._M[np.ix_(idx, idx)] + self._W * np.outer(m, m)
        names = [self._columns[i] for i in idx]
        if intercept:
            Wm = self._W * m
            XtX = np.block([[np.array([[self._W]]), Wm[None, :]], [Wm[:, None], XtX]])
            names = ["Intercept", *names]
        return pd.DataFrame(XtX, index=names, columns=names)

    # ------------------------------------------------------------------ combining
    def merge(self, other: SufficientStats) -> SufficientStats:
        """Combine with the statistics of other rows (exactly; see the class Notes).

        The two must hold the same columns (``other`` may list them in another order) and
        the same ``weight_type``.
        """
        if not isinstance(other, SufficientStats):
            raise DriverkitTypeError(
                f"merge() needs another SufficientStats, got {type(other).__name__}."
            )
        if set(other._columns) != set(self._columns):
            missing = sorted(set(self._columns) ^ set(other._columns))
            raise DriverkitError(
                "Cannot merge SufficientStats over different columns; they differ in "
                f"{missing}. Compute both with the same columns=[...]."
            )
        if other._weight_type != self._weight_type:
            raise DriverkitError(
                f"Cannot merge SufficientStats with weight_type {self._weight_type!r} and "
                f"{other._weight_type!r}; compute both with the same weights."
            )
        if other._columns != self._columns:
            other = other.subset(self._columns)
        W, mean, M = _merge_moments(self._W, self._mean, self._M, other._W, other._mean,
                                    other._M)
        return SufficientStats(
            self._columns, self._n + other._n, W, mean, _symmetrise(M),
            weight_type=self._weight_type, sum_weights_sq=self._W2 + other._W2,
            sum_log_weights=self._slogw + other._slogw,
            n_dropped=self._n_dropped + other._n_dropped,
        )

    def __add__(self, other: SufficientStats) -> SufficientStats:
        if not isinstance(other, SufficientStats):
            return NotImplemented
        return self.merge(other)

    @classmethod
    def merge_all(cls, parts: Iterable[SufficientStats]) -> SufficientStats:
        """Merge many statistics by pairwise (tree) reduction."""
        items = list(parts)
        if not items:
            raise DriverkitError("merge_all() needs at least one SufficientStats.")
        while len(items) > 1:
            nxt = [items[i].merge(items[i + 1]) for i in range(0, len(items) - 1, 2)]
            if len(items) % 2:
                nxt.append(items[-1])
            items = nxt
        return items[0]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SufficientStats):
            return NotImplemented
        return (self._columns == other._columns and self._n == other._n
                and self._W == other._W and self._W2 == other._W2
                and self._weight_type == other._weight_type
                and (self._slogw == other._slogw)
                and np.array_equal(self._mean, other._mean)
                and np.array_equal(self._M, other._M)
                and self._n_dropped == other._n_dropped)

    __hash__ = None  # type: ignore[assignment]

    # ------------------------------------------------------------------ serialisation
    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (floats round-trip exactly through :mod:`json`)."""
        return {
            "format": _FORMAT,
            "version": _FORMAT_VERSION,
            "columns": list(self._columns),
            "weight_type": self._weight_type,
            "n_obs": self._n,
            "n_dropped": self._n_dropped,
            "sum_weights": self._W,
            "sum_weights_sq": self._W2,
            "sum_log_weights": self._slogw,
            "mean": [float(v) for v in self._mean],
            "comoments": [[float(v) for v in row] for row in self._M],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SufficientStats:
        """Rebuild statistics written by :meth:`to_dict`."""
        if not isinstance(d, Mapping):
            raise DriverkitTypeError(f"from_dict() needs a dict, got {type(d).__name__}.")
        if d.get("format") != _FORMAT:
            raise DriverkitError(
                f"This dict is not a serialised SufficientStats (format={d.get('format')!r})."
            )
        def field(name: str, conv: Any, default: Any = None) -> Any:
            if name not in d:
                if default is not None:
                    return default
                raise DriverkitError(f"Serialised SufficientStats lacks the field '{name}'.")
            try:
                value = conv(d[name])
            except (TypeError, ValueError, OverflowError) as exc:
                raise DriverkitError(
                    f"Serialised SufficientStats has an invalid '{name}': {d[name]!r:.80} "
                    f"({exc}).") from None
            if isinstance(value, float | int) and (not math.isfinite(value) or value < 0) \
                    and name != "sum_log_weights":
                raise DriverkitError(f"Serialised SufficientStats has an invalid '{name}': "
                                     f"{value!r} (must be a finite number >= 0).")
            return value

        def array(x: Any) -> np.ndarray:
            a = np.asarray(x, dtype=float)
            if not np.isfinite(a).all():
                raise ValueError("non-finite values")
            return a

        def names(x: Any) -> list[str]:
            if isinstance(x, str) or not isinstance(x, Sequence) or not x:
                raise TypeError("expected a non-empty list of column names")
            return [str(c) for c in x]

        if field("version", int, 0) > _FORMAT_VERSION:
            raise DriverkitError(
                f"SufficientStats format version {d['version']} is newer than this driverkit "
                f"understands ({_FORMAT_VERSION}); upgrade driverkit."
            )
        sum_log = field("sum_log_weights", float)
        if not math.isfinite(sum_log):
            raise DriverkitError("Serialised SufficientStats has a non-finite 'sum_log_weights'.")
        return cls(field("columns", names), field("n_obs", int), field("sum_weights", float),
                   field("mean", array), field("comoments", array),
                   weight_type=field("weight_type", str),
                   sum_weights_sq=field("sum_weights_sq", float), sum_log_weights=sum_log,
                   n_dropped=field("n_dropped", int, 0))

    # ------------------------------------------------------------------ OLS
    def _nobs(self) -> float:
        return self._W if self._weight_type == "frequency" else float(self._n)

    def ols(self, outcome: str, columns: Iterable[str] | None = None) -> OLSStats:
        """Least-squares fit of ``outcome`` on ``columns`` plus an intercept.

        Parameters
        ----------
        outcome : str
            The outcome column.
        columns : list of str, optional
            Regressors (default: every other column).

        Returns
        -------
        OLSStats

        Notes
        -----
        ``β = M_xx⁻¹ M_xy`` on the co-moments, intercept ``ȳ − x̄ᵀβ``; ``SSE = M_yy − M_xyᵀβ``,
        ``R² = 1 − SSE / M_yy``. The covariance of the estimates is the classical
        ``σ̂² (XᵀWX)⁻¹`` with ``σ̂² = SSE / df_resid``:

        * unweighted: ``df_resid = n − k − 1`` (statsmodels ``OLS``);
        * frequency weights: ``df_resid = W − k − 1`` — identical to OLS on the data with
          each row repeated ``w_i`` times (statsmodels ``GLM(..., freq_weights=w)``);
        * sampling weights: ``df_resid = n − k − 1`` and weights treated as precision
          weights — statsmodels ``WLS(y, X, weights=w)``, invariant to rescaling ``w``.
          This is *model-based*: a design-based (sandwich/HC) SE needs row-level residuals,
          which sufficient statistics do not keep; fit in memory with ``robust=`` for it.

        Examples
        --------
        >>> import numpy as np
        >>> from driverkit.stats import SufficientStats
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(200, 2)); y = 1 + x @ [0.5, -0.2] + rng.normal(size=200)
        >>> st = SufficientStats.from_arrays(np.column_stack([x, y]), ["a", "b", "y"])
        >>> fit = st.ols("y")
        >>> list(fit.params.index)
        ['Intercept', 'a', 'b']
        """
        yi = self._indices([outcome], "outcome")[0]
        if columns is None:
            xi = [i for i in range(len(self._columns)) if i != yi]
        else:
            xi = self._indices(columns, "driver")
            if yi in xi:
                raise DriverkitError(f"The outcome '{outcome}' is also listed among the drivers.")
        names = [self._columns[i] for i in xi]
        p = len(xi)
        nobs = self._nobs()
        df_resid = nobs - p - 1
        if not df_resid > 0:
            raise DataError(
                f"Too few observations ({nobs:g}) for an intercept and {p} driver(s)."
            )
        Myy = float(self._M[yi, yi])
        if p:
            Mxx = self._M[np.ix_(xi, xi)]
            Mxy = self._M[xi, yi]
            Minv = _inverse_pd(Mxx, names, self._W * (1e-12 * self._mean[xi]) ** 2)
            beta = Minv @ Mxy
            sse = Myy - float(Mxy @ beta)
            # one refinement step against round-off in M_xy - M_xx beta
            beta = beta + Minv @ (Mxy - Mxx @ beta)
            sse = max(Myy - 2 * float(Mxy @ beta) + float(beta @ Mxx @ beta), 0.0)
        else:
            Minv = np.zeros((0, 0))
            beta = np.zeros(0)
            sse = Myy
        xbar = self._mean[xi]
        intercept = float(self._mean[yi] - xbar @ beta)
        scale = sse / df_resid
        cov = np.empty((p + 1, p + 1))
        cov[1:, 1:] = Minv * scale
        cxb = Minv @ xbar
        cov[0, 0] = scale * (1.0 / self._W + float(xbar @ cxb))
        cov[0, 1:] = cov[1:, 0] = -scale * cxb
        idx = ["Intercept", *names]
        params = pd.Series(np.concatenate([[intercept], beta]), index=idx, name="estimate")
        cov_df = pd.DataFrame(cov, index=idx, columns=idx)
        se = pd.Series(np.sqrt(np.clip(np.diag(cov), 0, None)), index=idx, name="std_error")
        if not Myy > self._W * (1e-12 * abs(self._mean[yi])) ** 2:
            raise DataError(f"The outcome '{outcome}' is constant; R² is undefined.")
        r2 = 1.0 - sse / Myy
        r2_adj = 1.0 - (1.0 - r2) * (nobs - 1) / df_resid
        # Gaussian log-likelihood as statsmodels: WLS adds ½Σlog w; frequency = expanded data
        if self._weight_type == "sampling":
            llf = (-nobs / 2 * (math.log(2 * math.pi * sse / nobs) + 1)
                   + 0.5 * self._slogw)
        else:
            llf = -nobs / 2 * (math.log(2 * math.pi * sse / nobs) + 1) if sse > 0 else math.inf
        k_params = p + 1
        aic = -2 * llf + 2 * k_params
        bic = -2 * llf + math.log(nobs) * k_params
        if p:
            d = np.sqrt(np.diag(Mxx))
            vif = pd.Series(np.diag(Minv) * d * d, index=names, name="vif")
        else:
            vif = pd.Series([], dtype=float, name="vif")
        xtx = self.crossproducts(names, intercept=True).to_numpy()
        ev = np.linalg.eigvalsh(xtx)
        cond = float(np.sqrt(ev[-1] / ev[0])) if ev[0] > 0 else float("inf")
        return OLSStats(params=params, cov_params=cov_df, std_errors=se, r2=float(r2),
                        r2_adj=float(r2_adj), scale=float(scale), sse=float(sse), sst=Myy,
                        n_obs=self._n, nobs=float(nobs), df_resid=float(df_resid),
                        loglike=float(llf), aic=float(aic), bic=float(bic), vif=vif,
                        condition_number=cond, weight_type=self._weight_type)

    def r2(self, outcome: str, columns: Iterable[str]) -> float:
        """R² of the regression of ``outcome`` on ``columns`` (with an intercept)."""
        return self.ols(outcome, columns).r2

    @staticmethod
    def reject_weights(weights: Any, func: str) -> None:
        """Raise if ``weights`` is given together with statistics (they carry their own)."""
        if weights is not None:
            raise DriverkitError(
                f"{func}() got weights= together with SufficientStats, which carry their "
                "weights from construction. Drop weights= here, or recompute the statistics "
                "with dk.sufficient_stats(source, columns, weights=...)."
            )


def _inverse_pd(A: np.ndarray, names: list[str], tiny: np.ndarray) -> np.ndarray:
    """Inverse of a positive-definite co-moment block, scaled for conditioning.

    Raises :class:`DataError` naming the columns involved when the block is singular.
    """
    diag = np.diag(A)
    const = [names[i] for i in range(len(diag)) if not diag[i] > tiny[i]]
    if const:
        raise DataError(
            f"Driver(s) {', '.join(repr(c) for c in const)} are constant; drop them."
        )
    d = np.sqrt(diag)
    R = A / d[:, None] / d[None, :]
    try:
        L = np.linalg.cholesky(R)
    except np.linalg.LinAlgError:
        L = None
    ev, vec = np.linalg.eigh(R)
    if L is None or ev[0] < 1e-12 * max(ev[-1], 1.0):
        v = vec[:, 0]
        involved = [names[i] for i in np.argsort(-np.abs(v)) if abs(v[i]) > 0.1]
        raise DataError(
            "The drivers are perfectly collinear (singular cross-product matrix); the "
            f"combination involves {', '.join(repr(c) for c in involved)}. Drop one of them."
        )
    Linv = np.linalg.inv(L)
    Rinv = Linv.T @ Linv
    return Rinv / d[:, None] / d[None, :]
