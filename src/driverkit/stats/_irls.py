"""Logit and ordered-logit fits over chunks: Newton/IRLS with one data pass per iteration.

A GLM's likelihood equations are sums over respondents, so each Newton (for the logit's
canonical link: IRLS) iteration needs only the score and the information matrix, i.e. one
pass of weighted cross-products ``Σ v_i s_i x_i x_iᵀ`` over the chunks of a file or the
partitions of a Dask DataFrame. Memory stays at one chunk plus a ``(k+1) × (k+1)`` matrix;
the estimates are those of the in-memory maximum-likelihood fit (statsmodels ``GLM`` /
``OrderedModel``) to round-off.
"""

from __future__ import annotations

import functools
import itertools
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_positive
from ..exceptions import ConvergenceWarning, DataError, DriverkitError, SeparationError
from ._glmfit import binary_terms, newton, ordinal_terms
from ._sources import _Chunk, _source_kind
from ._stream import _plan, _warn_dropped, run_plan

__all__ = ["GLMStats", "logit_irls", "ordered_logit_irls"]


@dataclass(frozen=True)
class GLMStats:
    """A binary or ordered logit fitted by chunked Newton/IRLS.

    Attributes
    ----------
    kind : {"logit", "ordinal"}
    params : pandas.Series
        Logit: ``Intercept`` then the drivers. Ordinal: the drivers then the thresholds
        ``cut[a|b]`` (increasing; no intercept), as :class:`~driverkit.DriverModel`.
    cov_params : pandas.DataFrame
        Inverse observed information at the estimates (model-based; see Notes of
        :func:`logit_irls` for weights).
    std_errors : pandas.Series
    loglike, loglike_null : float
        Log-likelihood of the model and of the intercept-only (thresholds-only) model.
    r2 : float
        McFadden's pseudo-R² ``1 − loglike / loglike_null``.
    n_obs : int
        Rows used. ``nobs`` is ``sum_weights`` for frequency weights, else ``n_obs``.
    outcome_levels : list
        ``[0, 1]`` for the logit; the ordered categories (sorted values) for the ordinal.
    iterations, passes : int
        Newton iterations and data passes used; ``converged`` says whether the step fell
        below the tolerance.
    """

    kind: str
    params: pd.Series
    cov_params: pd.DataFrame
    std_errors: pd.Series
    loglike: float
    loglike_null: float
    r2: float
    n_obs: int
    nobs: float
    sum_weights: float
    weight_type: str
    n_dropped: int
    outcome_levels: list[Any]
    iterations: int
    passes: int
    converged: bool

    @property
    def aic(self) -> float:
        return -2 * self.loglike + 2 * len(self.params)

    @property
    def bic(self) -> float:
        return -2 * self.loglike + math.log(self.nobs) * len(self.params)


# ======================================================================================
# data passes (local chunks or Dask partitions)
# ======================================================================================
class _Passes:
    """Evaluate ``fn(X, y, w, chunk)`` over all chunks and reduce with ``combine``."""

    def __init__(self, source: Any, outcome: str, drivers: Sequence[str], *, weights: Any,
                 weight_type: str, missing: str, chunksize: int | None,
                 progress: bool | None, func: str, resample: tuple[int, int] | None) -> None:
        self.kind = _source_kind(source, func)
        if self.kind == "stats":
            raise DriverkitError(
                f"{func}() needs the rows: a logit is not determined by sufficient statistics. "
                "Pass the DataFrame, the files or the Dask DataFrame."
            )
        cols = [*drivers, outcome]
        if self.kind == "dask":
            from ._dask import dask_plan

            self.plan = dask_plan(source, cols, weights, weight_type, missing, func)
        else:
            self.plan = _plan(self.kind, source, cols, weights, weight_type, missing, func)
        self.source = source
        self.chunksize = chunksize
        self.progress = progress
        self.resample = resample
        self.count = 0
        self.n_obs = 0
        self.n_dropped = 0
        self._parts: list[Any] | None = None
        self._starts: list[int] | None = None

    def run(self, fn: Callable[..., Any], combine: Callable[[Any, Any], Any]) -> Any:
        self.count += 1
        if self.kind == "dask":
            return self._run_dask(fn, combine)
        resample = self.resample

        def per_chunk(X: np.ndarray, w: np.ndarray | None, chunk: _Chunk) -> Any:
            return fn(X[:, :-1], X[:, -1], _resample(w, chunk, resample), chunk)

        out, n, dropped = run_plan(self.source, self.plan, per_chunk, combine,
                                   chunksize=self.chunksize,
                                   progress=self.progress if self.count == 1 else False)
        self.n_obs, self.n_dropped = n, dropped
        if out is None or n == 0:
            raise DataError("No complete rows to fit.")
        return out

    def _run_dask(self, fn: Callable[..., Any], combine: Callable[[Any, Any], Any]) -> Any:
        from ._dask import _compute, _delayed, partition_starts, tree_reduce

        delayed = _delayed()
        if self._parts is None:
            sub = self.source[self.plan.needed]
            self._parts = sub.to_delayed()
            self._starts = (partition_starts(sub) if self.resample is not None
                            else [0] * len(self._parts))
        starts = self._starts or []
        tasks = [delayed(_dask_part, pure=True)(p, i, self.plan, starts[i], self.resample, fn)
                 for i, p in enumerate(self._parts)]
        out, n, dropped = _compute(tree_reduce(tasks, functools.partial(_dask_comb, combine)))
        self.n_obs, self.n_dropped = n, dropped
        if n == 0:
            raise DataError("No complete rows to fit.")
        return out


def _resample(w: np.ndarray | None, chunk: _Chunk, resample: tuple[int, int] | None
              ) -> np.ndarray | None:
    if resample is None:
        return w
    from ._poisson import poisson_counts

    c = poisson_counts(resample[0], resample[1], chunk.start, len(chunk))
    if chunk.keep is not None:
        c = c[chunk.keep]
    return c if w is None else w * c


def _dask_part(part: pd.DataFrame, i: int, plan: Any, start: int,
               resample: tuple[int, int] | None, fn: Callable[..., Any]) -> Any:
    from ._dask import partition_blocks

    X, w, d, chunk = partition_blocks(part, i, plan, start)
    w = _resample(w, chunk, resample)
    if X.shape[0] == 0:
        return None, 0, d
    return fn(X[:, :-1], X[:, -1], w, chunk), X.shape[0], d


def _dask_comb(combine: Callable[[Any, Any], Any], a: Any, b: Any) -> Any:
    if a[0] is None:
        return b[0], a[1] + b[1], a[2] + b[2]
    if b[0] is None:
        return a[0], a[1] + b[1], a[2] + b[2]
    return combine(a[0], b[0]), a[1] + b[1], a[2] + b[2]


def _sum_tuples(a: tuple[Any, ...], b: tuple[Any, ...]) -> tuple[Any, ...]:
    """Sum elementwise; the last element is a running maximum (max |η|)."""
    return (*[x + y for x, y in zip(a[:-1], b[:-1], strict=True)], max(a[-1], b[-1]))


def _bad_outcome(chunk: _Chunk, pos: int, outcome: str, value: float, what: str) -> DataError:
    rows = np.arange(len(chunk)) if chunk.keep is None else np.flatnonzero(chunk.keep)
    r = int(rows[pos])
    where = f"row {chunk.offset + r + 1:,}"
    if chunk.header_lines:
        where += f" (line {chunk.offset + r + 1 + chunk.header_lines:,} of the file)"
    if chunk.index is not None:
        where += f" (index {chunk.index[r]!r})"
    prefix = "" if chunk.label == "the data" else f"In {chunk.label}, "
    msg = f"{prefix}{where}, column '{outcome}': value {value:g} {what}."
    return DataError(msg[0].upper() + msg[1:])


def _finish(kind: str, names: list[str], theta: np.ndarray, ll: float, H: np.ndarray,
            ll0: float, passes: _Passes, sum_w: float, iterations: int, converged: bool,
            levels: list[Any], func: str) -> GLMStats:
    plan = passes.plan
    n = passes.n_obs
    # sampling weights enter likelihoods rescaled to sum to n (statsmodels var_weights)
    f = n / sum_w if plan.weight_type == "sampling" else 1.0
    ll, ll0, H = ll * f, ll0 * f, H * f
    try:
        cov = np.linalg.inv(H)
    except np.linalg.LinAlgError:
        cov = np.linalg.pinv(H)
    cov = (cov + cov.T) / 2
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    if not converged:
        warnings.warn(f"{func}() did not converge in {iterations} Newton iterations.",
                      ConvergenceWarning, stacklevel=3)
    _warn_dropped(passes.n_dropped, n + passes.n_dropped, func)
    nobs = sum_w if plan.weight_type == "frequency" else float(n)
    return GLMStats(
        kind=kind, params=pd.Series(theta, index=names, name="estimate"),
        cov_params=pd.DataFrame(cov, index=names, columns=names),
        std_errors=pd.Series(se, index=names, name="std_error"),
        loglike=float(ll), loglike_null=float(ll0), r2=float(1 - ll / ll0) if ll0 else 0.0,
        n_obs=n, nobs=float(nobs), sum_weights=float(sum_w), weight_type=plan.weight_type,
        n_dropped=passes.n_dropped, outcome_levels=levels, iterations=iterations,
        passes=passes.count, converged=converged,
    )


def _check_separation(theta_x: np.ndarray, maxeta: float, drivers: Sequence[str],
                      converged: bool) -> None:
    if maxeta > 30 or (not converged and np.max(np.abs(theta_x), initial=0) > 20):
        order = np.argsort(-np.abs(theta_x))[:3]
        worst = ", ".join(f"'{drivers[j]}'" for j in order)
        raise SeparationError(
            "Perfect or quasi-complete separation: a combination of drivers predicts the "
            f"outcome exactly (largest coefficients: {worst}), so the maximum-likelihood "
            "estimates do not exist. Remove or merge those drivers."
        )


def _common_checks(drivers: Any, outcome: str, tol: float, max_iter: int, func: str
                   ) -> list[str]:
    if isinstance(drivers, str):
        drivers = [drivers]
    drivers = [str(d) for d in drivers]
    if outcome in drivers:
        raise DriverkitError(f"The outcome '{outcome}' is also listed among the drivers.")
    check_positive(tol, "tol", func)
    check_positive(max_iter, "max_iter", func)
    return drivers


# ======================================================================================
# logit
# ======================================================================================
def _logit_chunk(X: np.ndarray, y: np.ndarray, w: np.ndarray | None, chunk: _Chunk, *,
                 beta: np.ndarray, outcome: str) -> tuple[Any, ...]:
    bad = (y != 0) & (y != 1)
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise _bad_outcome(chunk, pos, outcome, float(y[pos]),
                           "is not 0/1; code the binary outcome as 0/1")
    ll, g, H, maxeta = binary_terms(X, y, w, beta, link="logit", intercept=True)
    v = np.ones_like(y) if w is None else w
    sw = float(v.sum())
    swy = float(v @ y)
    return ll, g, H, sw, swy, maxeta


def logit_irls(source: Any, outcome: str, drivers: Sequence[str], *, weights: Any = None,
               weight_type: str = "sampling", chunksize: int | None = None,
               missing: str = "listwise", tol: float = 1e-10, max_iter: int = 100,
               progress: bool | None = None, resample: tuple[int, int] | None = None,
               start: Any = None) -> GLMStats:
    """Binary logit by IRLS over chunks or Dask partitions (one data pass per iteration).

    Parameters
    ----------
    source : DataFrame, path(s) or dask DataFrame
        As in :func:`~driverkit.sufficient_stats`. Files are re-read on every iteration
        (memory stays at one chunk); persist a Dask DataFrame (``ddf.persist()``) if the
        cluster has memory for it.
    outcome : str
        A 0/1 column.
    drivers : list of str
        Numeric predictors (an intercept is added).
    weights, weight_type, chunksize, missing, progress
        As in :func:`~driverkit.sufficient_stats`.
    tol : float, default=1e-10
        Stop when every Newton step is below ``tol · (1 + max|θ|)``.
    max_iter : int, default=100
    resample : (seed, replicate), optional
        Fit Poisson-bootstrap replicate ``replicate`` (weights times Poisson(1) counts that
        depend only on the row; see :func:`~driverkit.stats.bootstrap_stats`).
    start : array-like, optional
        Starting values (``Intercept`` first), e.g. the full-data estimates for replicates.

    Returns
    -------
    GLMStats

    Raises
    ------
    SeparationError
        The outcome is perfectly predicted; names the drivers with the largest effects.
    DataError
        An outcome value other than 0/1, naming its row.

    Notes
    -----
    Newton–Raphson on the log-likelihood ``Σ v_i [y_i η_i − log(1 + e^{η_i})]`` — identical to
    IRLS for the canonical logit link (McCullagh & Nelder 1989, §2.5; Green 1984) — with the
    score ``Σ v_i (y_i − p_i) x_i`` and information ``Σ v_i p_i(1 − p_i) x_i x_iᵀ`` accumulated
    chunk by chunk (Komarek & Moore 2005 for the large-n case). Steps are halved if the
    log-likelihood would fall. Likelihood weights ``v``: frequency weights as given; sampling
    weights rescaled to sum to n (statsmodels ``GLM(var_weights=w·n/Σw)``, the convention of
    :class:`~driverkit.DriverModel`); the covariance is the inverse information
    (model-based; a design-based sandwich needs row-level scores, use ``dk.fit`` in memory).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from driverkit.stats import logit_irls
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"x": rng.normal(size=2000)})
    >>> df["y"] = (rng.random(2000) < 1 / (1 + np.exp(-(0.5 + df.x)))).astype(int)
    >>> fit = logit_irls(df, "y", ["x"], chunksize=500)
    >>> list(fit.params.index), fit.converged
    (['Intercept', 'x'], True)
    """
    func = "logit_irls"
    drivers = _common_checks(drivers, outcome, tol, max_iter, func)
    passes = _Passes(source, outcome, drivers, weights=weights, weight_type=weight_type,
                     missing=missing, chunksize=chunksize, progress=progress, func=func,
                     resample=resample)
    k = len(drivers)
    totals: dict[str, float] = {}

    def evaluate(theta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray, float]:
        fn = functools.partial(_logit_chunk, beta=theta, outcome=outcome)
        ll, g, H, sw, swy, maxeta = passes.run(fn, _sum_tuples)
        totals["sw"], totals["swy"] = sw, swy
        return ll, g, H, maxeta

    theta0 = np.zeros(k + 1) if start is None else np.asarray(start, dtype=float).copy()
    if theta0.shape != (k + 1,):
        raise DriverkitError(f"'start' must have {k + 1} values (Intercept first).")
    theta, ll, H, maxeta, it, conv = newton(evaluate, theta0, tol=tol, max_iter=int(max_iter))
    sw, swy = totals["sw"], totals["swy"]
    if swy <= 0 or swy >= sw:
        raise DataError(f"The outcome '{outcome}' takes only one value; a logit needs both 0 "
                        "and 1.")
    _check_separation(theta[1:], maxeta, drivers, conv)
    ybar = swy / sw
    ll0 = sw * (ybar * math.log(ybar) + (1 - ybar) * math.log1p(-ybar))
    return _finish("logit", ["Intercept", *drivers], theta, ll, H, ll0, passes, sw, it, conv,
                   [0, 1], func)


# ======================================================================================
# ordered logit (proportional odds)
# ======================================================================================
def _level_chunk(X: np.ndarray, y: np.ndarray, w: np.ndarray | None, chunk: _Chunk
                 ) -> dict[float, float]:
    v = np.ones_like(y) if w is None else w
    vals, inv = np.unique(y, return_inverse=True)
    sums = np.bincount(inv, weights=v, minlength=len(vals))
    return dict(zip(vals.tolist(), sums.tolist(), strict=True))


def _merge_counts(a: dict[float, float], b: dict[float, float]) -> dict[float, float]:
    out = dict(a)
    for key, val in b.items():
        out[key] = out.get(key, 0.0) + val
    return out


def _ordinal_chunk(X: np.ndarray, y: np.ndarray, w: np.ndarray | None, chunk: _Chunk, *,
                   theta: np.ndarray, levels: np.ndarray, outcome: str) -> tuple[Any, ...]:
    K = len(levels)
    code = np.searchsorted(levels, y)
    code = np.clip(code, 0, K - 1)
    bad = levels[code] != y
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise _bad_outcome(chunk, pos, outcome, float(y[pos]), "is not one of the outcome "
                           "categories seen in the data")
    return ordinal_terms(X, code, w, theta, K)


def _level_name(v: float) -> Any:
    return int(v) if float(v).is_integer() else v


def ordered_logit_irls(source: Any, outcome: str, drivers: Sequence[str], *,
                       weights: Any = None, weight_type: str = "sampling",
                       chunksize: int | None = None, missing: str = "listwise",
                       tol: float = 1e-10, max_iter: int = 100, progress: bool | None = None,
                       resample: tuple[int, int] | None = None) -> GLMStats:
    """Ordered (proportional-odds) logit by Newton over chunks or Dask partitions.

    ``P(y ≤ c_j | x) = F(θ_j − xᵀβ)`` with the logistic ``F`` and increasing thresholds
    ``θ``; no intercept (it is absorbed in the thresholds), as statsmodels ``OrderedModel``
    and R's ``MASS::polr``. The outcome must be numeric (e.g. 0–10 likelihood to recommend);
    its distinct values, in order, are the categories. One pass finds the categories and
    their weighted counts (which give the starting thresholds); then each Newton iteration
    is one pass accumulating the score and the observed information. Parameters and
    arguments otherwise as in :func:`logit_irls`.

    Notes
    -----
    McCullagh (1980). The observed information is assembled from the per-respondent
    derivatives of ``log[F(θ_k − η) − F(θ_{k−1} − η)]`` with respect to ``η`` and the two
    thresholds bounding the respondent's category; it is block-tridiagonal in the thresholds.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from driverkit.stats import ordered_logit_irls
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=3000)
    >>> y = np.digitize(x + rng.logistic(size=3000), [-1.0, 0.5, 2.0])
    >>> fit = ordered_logit_irls(pd.DataFrame({"x": x, "y": y}), "y", ["x"])
    >>> list(fit.params.index)
    ['x', 'cut[0|1]', 'cut[1|2]', 'cut[2|3]']
    """
    func = "ordered_logit_irls"
    drivers = _common_checks(drivers, outcome, tol, max_iter, func)
    passes = _Passes(source, outcome, drivers, weights=weights, weight_type=weight_type,
                     missing=missing, chunksize=chunksize, progress=progress, func=func,
                     resample=resample)
    counts = passes.run(_level_chunk, _merge_counts)
    counts = {k_: v_ for k_, v_ in counts.items() if v_ > 0}
    levels = np.array(sorted(counts))
    if len(levels) < 2:
        raise DataError(f"The outcome '{outcome}' takes only one value; an ordered logit needs "
                        "at least two categories.")
    if len(levels) > 50:
        raise DataError(
            f"The outcome '{outcome}' has {len(levels)} distinct values; an ordered logit needs "
            "a few ordered categories (e.g. 0–10). Did you mean a linear model?"
        )
    V = np.array([counts[v] for v in levels])
    sw = float(V.sum())
    cum = np.cumsum(V)[:-1] / sw
    p = len(drivers)
    theta0 = np.concatenate([np.zeros(p), np.log(cum / (1 - cum))])
    ll0 = float(V @ np.log(V / sw))

    def evaluate(theta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray, float]:
        fn = functools.partial(_ordinal_chunk, theta=theta, levels=levels, outcome=outcome)
        return passes.run(fn, _sum_tuples)

    def feasible(theta: np.ndarray) -> bool:
        return bool(np.all(np.diff(theta[p:]) > 0))

    theta, ll, H, maxeta, it, conv = newton(evaluate, theta0, tol=tol, max_iter=int(max_iter),
                                             feasible=feasible)
    _check_separation(theta[:p], maxeta, drivers, conv)
    names_lv = [_level_name(v) for v in levels]
    cuts = [f"cut[{a}|{b}]" for a, b in itertools.pairwise(names_lv)]
    return _finish("ordinal", [*drivers, *cuts], theta, ll, H, ll0, passes, sw, it, conv,
                   names_lv, func)
