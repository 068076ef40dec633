"""Public one-pass entry points: they route a source to the chunk engine or the Dask engine.

The chunk engine (:mod:`._stream`, with the Poisson bootstrap kernel in :mod:`._poisson`)
and the Dask engine (:mod:`._dask`) share their plans and kernels; only these entry points
know both, so the engines never import each other.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_positive
from ..exceptions import DataError, DriverkitTypeError
from ._poisson import _Accumulator, resolve_seed
from ._sources import _source_kind, is_dask_collection
from ._stream import (
    _fast_chunk_stats,
    _merge_stats,
    _plan,
    _stats_fn,
    _warn_dropped,
    iter_frames,
    run_plan,
)
from ._sufficient import SufficientStats, _symmetrise

__all__ = ["bootstrap_stats", "map_chunks", "sufficient_stats"]


def sufficient_stats(source: Any, columns: Sequence[str], *, weights: Any = None,
                     chunksize: int | None = None, weight_type: str = "sampling",
                     missing: str = "listwise", progress: bool | None = None
                     ) -> SufficientStats:
    """Weighted count, means and co-moments of ``columns`` in one pass over ``source``.

    Parameters
    ----------
    source : DataFrame, path, list of paths, dask DataFrame or SufficientStats
        A pandas DataFrame; a CSV (``.csv``, ``.csv.gz``, ``.tsv``) or Parquet path, a list
        of them, or a directory of Parquet files — streamed in chunks with pyarrow, never
        loaded whole; or a ``dask.dataframe.DataFrame`` (computed on the active
        ``distributed`` client, or Dask's default scheduler). Given existing statistics,
        returns their ``columns`` subset.
    columns : list of str
        Numeric columns to summarise (drivers, outcome, numeric covariates).
    weights : str or array-like, optional
        Weight column (or, for a DataFrame, one weight per row). The statistics carry the
        weights from here on; analyses that receive them must not be given weights again.
    chunksize : int, optional
        Rows per chunk (default: about 8 MB of float64 per chunk). Results do not depend
        on it beyond floating-point round-off.
    weight_type : {"sampling", "frequency"}, default="sampling"
        What the weights mean (see :class:`SufficientStats`).
    missing : {"listwise", "raise"}, default="listwise"
        Drop rows with a missing value in any of ``columns`` (with a
        :class:`~driverkit.MissingDataWarning`), or raise naming the first one.
    progress : bool, optional
        Show a tqdm progress bar (default: only in an interactive terminal or notebook).

    Returns
    -------
    SufficientStats

    Raises
    ------
    DataError
        Text in a numeric column, naming the file, row and column (``row 3,000,123, column
        'staff': value 'n/a' is not a number``); infinite values; missing or negative
        weights.
    ColumnNotFoundError
        A column is not in the source.

    Notes
    -----
    One pass: each chunk's weighted means and centred co-moments are computed in memory and
    merged into the running total by the pairwise update of Chan, Golub & LeVeque (1979)
    (see :class:`SufficientStats`). Memory is bounded by a few chunks, whatever the file
    size. In CSV files the cells ``""``, ``NA``, ``NaN``, ``nan``, ``NULL`` and ``null``
    are missing; any other text in a numeric column is an error. Row numbers in messages
    count data rows from 1 (the CSV header is line 1, so row r is on line r + 1).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import driverkit as dk
    >>> rng = np.random.default_rng(1)
    >>> df = pd.DataFrame(rng.normal(size=(1000, 3)), columns=["staff", "price", "nps"])
    >>> st = dk.sufficient_stats(df, ["staff", "price", "nps"], chunksize=300)
    >>> st.n_obs
    1000
    >>> bool(np.allclose(st.covariance().to_numpy(), df.cov().to_numpy()))
    True
    """
    func = "sufficient_stats"
    kind = _source_kind(source, func)
    if kind == "stats":
        SufficientStats.reject_weights(weights, func)
        return source.subset(list(columns) if not isinstance(columns, str) else [columns])
    if chunksize is not None:
        check_positive(chunksize, "chunksize", func)
    if kind == "dask":
        from ._dask import dask_sufficient_stats

        return dask_sufficient_stats(source, columns, weights=weights, weight_type=weight_type,
                                     missing=missing)
    plan = _plan(kind, source, columns, weights, weight_type, missing, func)
    k = len(plan.columns)
    res, n, dropped = run_plan(source, plan, _stats_fn, _merge_stats, chunksize=chunksize,
                               progress=progress,
                               raw_fn=functools.partial(_fast_chunk_stats, plan=plan))
    if res is None:
        res = (0, 0.0, 0.0, 0.0, np.zeros(k), np.zeros((k, k)))
    _, W, W2, slogw, mean, M = res
    _warn_dropped(dropped, n + dropped, func)
    if n == 0:
        raise DataError(
            f"No complete rows in {', '.join(plan.columns)}; every row has a missing value."
        )
    return SufficientStats(plan.columns, n, W, mean, _symmetrise(M), weight_type=plan.weight_type,
                           sum_weights_sq=W2, sum_log_weights=slogw, n_dropped=dropped)


def bootstrap_stats(source: Any, columns: Sequence[str], *, replicates: int = 200,
                    seed: int | None = None, weights: Any = None,
                    weight_type: str = "sampling", chunksize: int | None = None,
                    missing: str = "listwise", progress: bool | None = None
                    ) -> list[SufficientStats]:
    """Sufficient statistics of ``replicates`` Poisson-bootstrap resamples, in one pass.

    Each replicate's statistics are those of the data with row ``i`` weighted by
    ``w_i · c_bi``, ``c_bi ~ Poisson(1)``; feed them to any linear model or importance
    method to get a bootstrap distribution without ever holding the data in memory.
    ``source`` may be a DataFrame, files or a Dask DataFrame (one task per partition; the
    counts depend only on the global row number, so Dask and local results agree).

    Parameters
    ----------
    source, columns, weights, weight_type, chunksize, missing, progress
        As in :func:`~driverkit.sufficient_stats`.
    replicates : int, default=200
        Number of bootstrap replicates ``B``.
    seed : int, optional
        Root seed; replicate ``b`` uses the stream ``(seed, b)``.

    Returns
    -------
    list of SufficientStats
        One per replicate; unweighted data give ``weight_type="frequency"`` (the counts).

    Notes
    -----
    Cost is ``B`` weighted cross-product passes per chunk (``O(B n k²)``), but the data are
    read once. The Poisson bootstrap equals the multinomial bootstrap up to the random total
    ``Σ c_i`` (Hanley & MacGibbon 2006); percentile intervals from it are asymptotically
    equivalent (Chamandy et al. 2012).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from driverkit.stats import bootstrap_stats
    >>> df = pd.DataFrame(np.random.default_rng(0).normal(size=(500, 2)), columns=["x", "y"])
    >>> reps = bootstrap_stats(df, ["x", "y"], replicates=20, seed=1)
    >>> len(reps), reps[0].weight_type
    (20, 'frequency')
    """
    func = "bootstrap_stats"
    check_positive(replicates, "replicates", func)
    B = int(replicates)
    root = resolve_seed(seed)
    kind = _source_kind(source, func)
    if kind == "stats":
        raise DriverkitTypeError(
            "bootstrap_stats() needs the rows (a DataFrame, files or a Dask DataFrame); "
            "sufficient statistics cannot be resampled."
        )
    if kind == "dask":
        from ._dask import dask_bootstrap_stats

        return dask_bootstrap_stats(source, columns, replicates=B, seed=root, weights=weights,
                                    weight_type=weight_type, missing=missing)
    plan = _plan(kind, source, columns, weights, weight_type, missing, func)
    k = len(plan.columns)

    def per_chunk(X: np.ndarray, w: np.ndarray | None, chunk: Any) -> _Accumulator:
        part = _Accumulator(k, B)
        part.add(X, w, chunk.start, len(chunk), chunk.keep, root)
        return part

    acc, _, dropped = run_plan(source, plan, per_chunk, _Accumulator.merge,
                               chunksize=chunksize, progress=progress)
    if acc is None:
        acc = _Accumulator(k, B)
    _warn_dropped(dropped, acc.n + dropped, func)
    return acc.result(plan.columns, plan.weight_type, dropped)


def map_chunks(func: Callable[[pd.DataFrame], Any], source: Any,
               columns: Sequence[str] | None = None, *,
               combine: Callable[[Any, Any], Any] | None = None,
               numeric: Sequence[str] | None = None, chunksize: int | None = None,
               progress: bool | None = None) -> Any:
    """Apply ``func`` to each chunk of ``source`` and fold the results with ``combine``.

    ``combine`` defaults to ``+`` (sums of arrays, merges of :class:`SufficientStats`).
    A Dask DataFrame is processed partition by partition as Dask tasks (``func`` must
    then be picklable), combined in a tree.

    Examples
    --------
    >>> import pandas as pd
    >>> from driverkit.stats import map_chunks
    >>> df = pd.DataFrame({"x": range(10)})
    >>> map_chunks(lambda d: d["x"].sum(), df, chunksize=3)
    np.int64(45)
    """
    import operator

    combine = operator.add if combine is None else combine
    if is_dask_collection(source):
        from ._dask import dask_map_partitions

        return dask_map_partitions(func, source, columns, combine=combine)
    out: Any = None
    first = True
    for df in iter_frames(source, columns, numeric=numeric, chunksize=chunksize,
                          progress=progress):
        r = func(df)
        out = r if first else combine(out, r)
        first = False
    if first:
        raise DataError("map_chunks(): the source has no rows.")
    return out
