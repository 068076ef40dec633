"""Bootstrap inference for importance values: respondent resampling, intervals, ranks, pairs.

Replicates resample respondents with replacement (within strata when given), carrying their
survey weights: replicate b gives respondent i the weight ``c_bi · w_i`` where ``c_b`` are
multinomial counts. For linear importance only the weighted covariance matrix of a replicate
is needed, so a replicate costs one small ``Zᵀ diag(c w) Z`` product plus the fast subset
kernel, run for a whole chunk of replicates at once. With a correlation/covariance matrix as
input (no respondents) a parametric bootstrap draws Wishart matrices with ``n − 1`` degrees of
freedom instead.

Intervals: percentile and BCa (Efron 1987; Efron & Tibshirani 1993, ch. 14) with the
acceleration from a (grouped, for large n) jackknife; ranks (1 = most important) and pairwise
differences get percentile intervals and a bootstrap p-value.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from .._progress import progress_bar
from ..exceptions import DriverkitError

__all__ = [
    "BootstrapSummary",
    "bootstrap_rows",
    "bootstrap_wishart",
    "check_bootstrap",
    "jackknife_rows",
    "n_distinct_rows",
    "replicate_covariances",
    "resample_counts",
    "summarize",
]

StatBatch = Callable[[np.ndarray], np.ndarray]


def resample_counts(n: int, size: int, rng: np.random.Generator,
                    strata: np.ndarray | None = None) -> np.ndarray:
    """Multinomial resampling counts ``(size, n)``: each row sums to n (to n_h per stratum)."""
    counts = np.zeros((size, n), dtype=np.int64)
    if strata is None:
        counts[:] = rng.multinomial(n, np.full(n, 1.0 / n), size=size)
        return counts
    for h in pd.unique(strata):
        idx = np.flatnonzero(strata == h)
        counts[:, idx] = rng.multinomial(len(idx), np.full(len(idx), 1.0 / len(idx)), size=size)
    return counts


def replicate_covariances(Z: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Weighted covariance matrices ``(B, d, d)`` of the rows of ``Z`` under weights ``W``."""
    center = np.average(Z, axis=0, weights=W.sum(axis=0) if W.sum() > 0 else None)
    Zc = Z - center
    out = np.empty((W.shape[0], Z.shape[1], Z.shape[1]))
    for b in range(W.shape[0]):
        wb = W[b]
        sw = wb.sum()
        mb = (wb @ Zc) / sw
        out[b] = (Zc.T @ (Zc * wb[:, None])) / sw - np.outer(mb, mb)
    return out


def _progress_bar(total: int, show: bool | None, desc: str) -> Any:
    # automatic (None) stays quiet here: the callers decide what is a long run
    return progress_bar(total, show=show, desc=desc, unit="replicate", long_run=False)


def _thread_mapper(n_jobs: int, bar: Any) -> Callable[[StatBatch, list[np.ndarray]],
                                                      list[np.ndarray]]:
    """A mapper running the batches on a thread pool, results in batch order."""

    def run(fn: StatBatch, batches: list[np.ndarray]) -> list[np.ndarray]:
        from concurrent.futures import ThreadPoolExecutor

        def one(W: np.ndarray) -> np.ndarray:
            out = np.asarray(fn(W), dtype=float)
            bar.update(W.shape[0])
            return out

        try:
            with ThreadPoolExecutor(max_workers=n_jobs) as pool:
                return list(pool.map(one, batches))
        finally:
            bar.close()

    return run


def bootstrap_rows(stat_batch: StatBatch, n: int, B: int, rng: np.random.Generator, *,
                   weights: np.ndarray | None = None, strata: np.ndarray | None = None,
                   chunk: int = 250, progress: bool = False,
                   mapper: Any = None, n_jobs: int = 1) -> np.ndarray:
    """Run ``B`` respondent-bootstrap replicates of ``stat_batch``.

    Parameters
    ----------
    stat_batch : callable
        Maps replicate weights ``(b, n)`` to statistics ``(b, p)`` (NaN rows for replicates
        where the statistic does not exist, e.g. a singular resample).
    n : int
        Number of respondents.
    B : int
        Number of replicates.
    weights : (n,) array, optional
        Survey weights carried by the resampled respondents.
    strata : (n,) array, optional
        Resample within these groups.
    mapper : callable, optional
        ``mapper(stat_batch, [weights batches]) -> [results]`` evaluates the batches
        elsewhere (e.g. as Dask tasks); the batches are drawn first, in the same order as the
        local loop, so the replicates are identical.
    n_jobs : int, default=1
        Evaluate the batches on this many threads (``stat_batch`` must release the GIL in
        its heavy work, as NumPy products do). The batches are the same whatever the number
        of threads, so the replicates are identical.

    Returns
    -------
    (B, p) array
    """
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    if mapper is None and n_jobs > 1 and chunk < B:
        mapper = _thread_mapper(n_jobs, _progress_bar(B, progress, "bootstrap"))
    if mapper is not None:
        batches = []
        done = 0
        while done < B:
            size = min(chunk, B - done)
            batches.append(resample_counts(n, size, rng, strata) * w[None, :])
            done += size
        results = mapper(stat_batch, batches)
        return np.concatenate([np.asarray(r, dtype=float) for r in results], axis=0)
    out: list[np.ndarray] = []
    bar = _progress_bar(B, progress, "bootstrap")
    done = 0
    while done < B:
        size = min(chunk, B - done)
        counts = resample_counts(n, size, rng, strata)
        out.append(np.asarray(stat_batch(counts * w[None, :]), dtype=float))
        done += size
        bar.update(size)
    bar.close()
    return np.concatenate(out, axis=0)


def bootstrap_wishart(stat_cov: StatBatch, C: np.ndarray, n: float, B: int,
                      rng: np.random.Generator, *, chunk: int = 250) -> np.ndarray:
    """Parametric bootstrap from a covariance matrix: Wishart(n − 1, C/(n − 1)) replicates."""
    df = float(n) - 1.0
    if df < C.shape[0]:
        raise DriverkitError(
            f"A parametric bootstrap from a matrix needs n − 1 >= {C.shape[0]} (the number of "
            f"variables); got n = {n:g}."
        )
    dist = sps.wishart(df=df, scale=C / df)
    out: list[np.ndarray] = []
    done = 0
    while done < B:
        size = min(chunk, B - done)
        draws = dist.rvs(size=size, random_state=rng)
        draws = np.asarray(draws).reshape(size, C.shape[0], C.shape[0]) / df
        out.append(np.asarray(stat_cov(draws), dtype=float))
        done += size
    return np.concatenate(out, axis=0)


def jackknife_rows(stat_batch: StatBatch, n: int, *, weights: np.ndarray | None = None,
                   rng: np.random.Generator | None = None, max_groups: int = 500,
                   chunk: int = 250) -> np.ndarray:
    """Delete-one (or, for n > ``max_groups``, delete-a-group) jackknife values ``(G, p)``."""
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    if n <= max_groups:
        groups = np.arange(n)
        G = n
    else:
        rng = np.random.default_rng(0) if rng is None else rng
        groups = rng.permutation(n) % max_groups
        G = max_groups
    out: list[np.ndarray] = []
    for g0 in range(0, G, chunk):
        gs = np.arange(g0, min(G, g0 + chunk))
        W = np.where(groups[None, :] == gs[:, None], 0.0, w[None, :])
        out.append(np.asarray(stat_batch(W), dtype=float))
    return np.concatenate(out, axis=0)


@dataclass
class BootstrapSummary:
    """Per-player and per-pair bootstrap summaries."""

    std_error: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    rank_ci: pd.DataFrame
    pairwise: pd.DataFrame
    n_valid: int
    n_failed: int


def _bca_limits(est: np.ndarray, reps: np.ndarray, jack: np.ndarray | None,
                alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """BCa quantile levels per column (Efron 1987)."""
    B = reps.shape[0]
    below = (reps < est).sum(axis=0) + 0.5 * (reps == est).sum(axis=0)
    prop = np.clip(below / B, 1.0 / (B + 1), B / (B + 1))
    z0 = sps.norm.ppf(prop)
    if jack is not None and jack.shape[0] > 2:
        d = jack.mean(axis=0) - jack
        num = (d**3).sum(axis=0)
        den = 6.0 * np.power((d**2).sum(axis=0), 1.5)
        a = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
    else:
        a = np.zeros(reps.shape[1])
    zl, zh = sps.norm.ppf(alpha / 2), sps.norm.ppf(1 - alpha / 2)
    lo = sps.norm.cdf(z0 + (z0 + zl) / (1 - a * (z0 + zl)))
    hi = sps.norm.cdf(z0 + (z0 + zh) / (1 - a * (z0 + zh)))
    return lo, hi


def _intervals(est: np.ndarray, reps: np.ndarray, ci: float, method: str,
               jack: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    alpha = 1.0 - ci
    if method == "bca":
        lo_q, hi_q = _bca_limits(est, reps, jack, alpha)
        lo = np.array([np.quantile(reps[:, j], lo_q[j]) for j in range(reps.shape[1])])
        hi = np.array([np.quantile(reps[:, j], hi_q[j]) for j in range(reps.shape[1])])
        return lo, hi
    return np.quantile(reps, alpha / 2, axis=0), np.quantile(reps, 1 - alpha / 2, axis=0)


def _ranks(x: np.ndarray) -> np.ndarray:
    """Rank 1 = largest, ties share the smallest rank; works on ``(..., p)``."""
    return sps.rankdata(-x, method="min", axis=-1)


def summarize(est: np.ndarray, reps: np.ndarray, names: Sequence[str], *, ci: float = 0.95,
              method: str = "percentile", jack: np.ndarray | None = None) -> BootstrapSummary:
    """Standard errors, intervals, rank intervals and pairwise differences from replicates.

    Replicates with non-finite values (failed resamples) are dropped and counted.
    """
    est = np.asarray(est, dtype=float)
    ok = np.all(np.isfinite(reps), axis=1)
    n_failed = int((~ok).sum())
    reps = reps[ok]
    if reps.shape[0] < 2:
        raise DriverkitError(
            "Fewer than 2 bootstrap replicates could be computed (every resample was "
            "degenerate). Check the data for near-constant drivers or use more respondents."
        )
    if jack is not None:
        jack = jack[np.all(np.isfinite(jack), axis=1)]
    se = reps.std(axis=0, ddof=1)
    lo, hi = _intervals(est, reps, ci, method, jack)
    alpha = 1.0 - ci
    names = [str(x) for x in names]
    rk = _ranks(reps)
    rank_ci = pd.DataFrame(
        {
            "rank": _ranks(est),
            "rank_low": np.quantile(rk, alpha / 2, axis=0, method="lower").astype(int),
            "rank_high": np.quantile(rk, 1 - alpha / 2, axis=0, method="higher").astype(int),
            "p_top": (rk == 1).mean(axis=0),
        },
        index=pd.Index(names, name="driver"),
    )
    rows = []
    p = len(names)
    for i in range(p):
        for j in range(i + 1, p):
            d_reps = reps[:, i] - reps[:, j]
            d_est = est[i] - est[j]
            d_jack = None if jack is None else (jack[:, i] - jack[:, j])[:, None]
            dlo, dhi = _intervals(np.array([d_est]), d_reps[:, None], ci, method, d_jack)
            share_pos = float((d_reps > 0).mean() + 0.5 * (d_reps == 0).mean())
            pval = min(1.0, 2.0 * min(share_pos, 1.0 - share_pos))
            rows.append({
                "driver": names[i], "other": names[j], "difference": d_est,
                "std_error": float(d_reps.std(ddof=1)), "ci_low": float(dlo[0]),
                "ci_high": float(dhi[0]), "p_greater": share_pos, "p_value": pval,
            })
    pairwise = pd.DataFrame(rows, columns=["driver", "other", "difference", "std_error", "ci_low",
                                           "ci_high", "p_greater", "p_value"])
    return BootstrapSummary(std_error=se, ci_low=lo, ci_high=hi, rank_ci=rank_ci,
                            pairwise=pairwise, n_valid=int(reps.shape[0]), n_failed=n_failed)


def n_distinct_rows(*arrays: np.ndarray) -> int:
    """Number of distinct rows of the column-stacked arrays (stops counting at 2)."""
    Z = np.column_stack([np.asarray(a, dtype=float).reshape(len(a), -1) for a in arrays])
    if Z.shape[0] == 0:
        return 0
    first = Z[0]
    same = np.all((first == Z) | (np.isnan(Z) & np.isnan(first)), axis=1)
    return 1 if same.all() else 2


def check_bootstrap(B: int, func: str = "importance") -> int:
    """Validate the number of replicates (0 = none)."""
    if isinstance(B, bool) or not isinstance(B, int | np.integer):
        raise DriverkitError(
            f"The 'bootstrap' parameter of {func}() must be a non-negative integer (number of "
            f"replicates). Got {B!r} instead."
        )
    if B < 0 or B == 1:
        raise DriverkitError(
            f"The 'bootstrap' parameter of {func}() must be 0 (no bootstrap) or at least 2 "
            f"replicates. Got {B} instead."
        )
    return int(B)
