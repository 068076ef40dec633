"""The Dask engine: sufficient statistics, chunked fits and replicates as Dask tasks.

Dask is optional (``pip install 'driverkit[dask]'``). driverkit never starts a cluster
itself: it computes on the active ``distributed`` client if there is one, else on Dask's
default (threaded) scheduler. To use a cluster of several machines, start a scheduler and
workers there (``dask scheduler`` / ``dask worker tcp://host:8786``, or a deployment such
as dask-jobqueue, dask-kubernetes or Coiled), make driverkit importable on every worker,
and connect before calling driverkit::

    from distributed import Client
    client = Client("tcp://scheduler-host:8786")
    ddf = dask.dataframe.read_parquet("s3://bucket/survey/*.parquet")
    stats = dk.sufficient_stats(ddf, ["staff", "price", "satisfaction"], weights="weight")

Each partition is reduced to a ``k × k`` summary on its worker; only those small summaries
travel to the client, where they are merged exactly (see :class:`SufficientStats`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import DriverkitError, DriverkitTypeError
from ._poisson import _Accumulator
from ._sources import _Chunk, chunk_matrix
from ._stream import _Plan, _plan, _warn_dropped, complete_rows
from ._sufficient import SufficientStats, _merge_moments, _symmetrise, chunk_stats

__all__ = [
    "DASK_HINT",
    "dask_bootstrap_stats",
    "dask_map_partitions",
    "dask_sufficient_stats",
    "partition_blocks",
    "require_dask",
    "run_tasks",
    "tree_reduce",
]

DASK_HINT = "Install the Dask extra: pip install 'driverkit[dask]'"


def require_dask() -> Any:
    """Import ``dask`` or raise an ImportError that says how to install it."""
    try:
        import dask
        import dask.dataframe
    except ImportError as e:  # pragma: no cover - exercised only without dask
        raise ImportError(f"This needs Dask, which is not installed. {DASK_HINT}") from e
    return dask


def _delayed() -> Callable[..., Any]:
    require_dask()
    from dask import delayed

    return delayed


def tree_reduce(items: list[Any], combine: Callable[[Any, Any], Any]) -> Any:
    """Pairwise-reduce delayed objects in a balanced tree (depth ``log2(len)``)."""
    delayed = _delayed()
    if not items:
        raise DriverkitError("Nothing to reduce: the Dask DataFrame has no partitions.")
    comb = delayed(combine, pure=True)
    while len(items) > 1:
        nxt = [comb(items[i], items[i + 1]) for i in range(0, len(items) - 1, 2)]
        if len(items) % 2:
            nxt.append(items[-1])
        items = nxt
    return items[0]


def _compute(obj: Any) -> Any:
    dask = require_dask()
    (out,) = dask.compute(obj)
    return out


def _check_columns(ddf: Any, needed: Sequence[str]) -> None:
    from .._validation import suggest
    from ..exceptions import ColumnNotFoundError

    present = [str(c) for c in ddf.columns]
    for c in needed:
        if c not in present:
            raise ColumnNotFoundError(
                f"The column '{c}' is not in the Dask DataFrame.{suggest(c, present)} "
                f"Available columns: {', '.join(present[:30])}"
            )


def partition_blocks(part: pd.DataFrame, i: int, plan: _Plan, start: int = 0, offset: int = 0
                     ) -> tuple[np.ndarray, np.ndarray | None, int, _Chunk]:
    """Clean numeric block ``(X, w, n_dropped, chunk)`` of partition ``i`` (runs on a worker).

    ``start`` is the global row number of the first row (for resampling); ``offset`` the
    position of ``part`` within the partition (for row numbers in messages).
    """
    chunk = _Chunk(f"partition {i} of the Dask DataFrame", offset, 0, part, index=part.index,
                   start=start)
    A = chunk_matrix(chunk, plan.needed)
    k = len(plan.columns)
    X = A[:, :k] if A.shape[1] > k else A
    w = A[:, plan.needed.index(plan.weights)] if plan.weights is not None else None
    keep = complete_rows(X, w, chunk, plan)
    d = int(len(keep) - keep.sum())
    if d:
        X = X[keep]
        w = None if w is None else w[keep]
        chunk.keep = keep
    return X, w, d, chunk


def _partition_stats(part: pd.DataFrame, i: int, plan: _Plan) -> tuple[Any, ...]:
    from types import SimpleNamespace

    from ._sources import default_chunksize
    from ._stream import _fast_chunk_stats

    label = f"partition {i} of the Dask DataFrame"
    k = len(plan.columns)
    cs = default_chunksize(len(plan.needed))
    scratch = SimpleNamespace()  # one reused buffer for the slices of this partition
    acc: tuple[Any, ...] = (0, 0.0, 0.0, 0.0, np.zeros(k), np.zeros((k, k)), 0)
    for a in range(0, max(len(part), 1), cs):
        sl = part.iloc[a:a + cs]
        chunk = _Chunk(label, a, 0, sl, index=sl.index)
        fast = _fast_chunk_stats(chunk, scratch, plan=plan) if len(sl) else None
        if fast is not None:
            acc = _merge_tuples(acc, (*fast, 0))
        else:
            X, w, d, _ = partition_blocks(sl, i, plan, offset=a)
            acc = _merge_tuples(acc, (*chunk_stats(X, w), d))
    return acc


def _merge_tuples(a: tuple[Any, ...], b: tuple[Any, ...]) -> tuple[Any, ...]:
    W, mean, M = _merge_moments(a[1], a[4], a[5], b[1], b[4], b[5])
    return (a[0] + b[0], W, a[2] + b[2], a[3] + b[3], mean, M, a[6] + b[6])


def dask_plan(ddf: Any, columns: Sequence[str], weights: Any, weight_type: str, missing: str,
              func: str) -> _Plan:
    require_dask()
    if weights is not None and not isinstance(weights, str):
        raise DriverkitTypeError(
            f"With a Dask DataFrame, 'weights' of {func}() must be a column name; got "
            f"{type(weights).__name__}."
        )
    plan = _plan("dask", ddf, columns, weights, weight_type, missing, func)
    _check_columns(ddf, plan.needed)
    return plan


def dask_sufficient_stats(ddf: Any, columns: Sequence[str], *, weights: Any = None,
                          weight_type: str = "sampling", missing: str = "listwise"
                          ) -> SufficientStats:
    """:func:`~driverkit.sufficient_stats` of a ``dask.dataframe.DataFrame``.

    One task per partition computes that partition's count, means and co-moments; the
    results are merged in a balanced tree of pairwise updates. Runs on the active
    ``distributed`` client (or Dask's default scheduler).
    """
    func = "sufficient_stats"
    plan = dask_plan(ddf, columns, weights, weight_type, missing, func)
    delayed = _delayed()
    parts = ddf[plan.needed].to_delayed()
    tasks = [delayed(_partition_stats, pure=True)(p, i, plan) for i, p in enumerate(parts)]
    n, W, W2, slogw, mean, M, dropped = _compute(tree_reduce(tasks, _merge_tuples))
    _warn_dropped(dropped, n + dropped, func)
    if n == 0:
        from ..exceptions import DataError

        raise DataError(f"No complete rows in {', '.join(plan.columns)}.")
    return SufficientStats(plan.columns, n, W, mean, _symmetrise(M),
                           weight_type=plan.weight_type, sum_weights_sq=W2,
                           sum_log_weights=slogw, n_dropped=dropped)


def partition_starts(ddf: Any) -> list[int]:
    """Global row number of the first row of every partition (one counting pass)."""
    lengths = _compute(ddf.map_partitions(len, meta=(None, "int64")))
    return [int(v) for v in np.concatenate([[0], np.cumsum(np.asarray(lengths))[:-1]])]


def _partition_bootstrap(part: pd.DataFrame, i: int, plan: _Plan, start: int, B: int,
                         root: int) -> Any:
    X, w, d, chunk = partition_blocks(part, i, plan, start)
    acc = _Accumulator(len(plan.columns), B)
    acc.add(X, w, start, len(part), chunk.keep, root)
    return acc, d


def _merge_boot(a: Any, b: Any) -> Any:
    return a[0].merge(b[0]), a[1] + b[1]


def dask_bootstrap_stats(ddf: Any, columns: Sequence[str], *, replicates: int, seed: int,
                         weights: Any = None, weight_type: str = "sampling",
                         missing: str = "listwise") -> list[SufficientStats]:
    """:func:`~driverkit.stats.bootstrap_stats` with one Dask task per partition."""
    func = "bootstrap_stats"
    plan = dask_plan(ddf, columns, weights, weight_type, missing, func)
    delayed = _delayed()
    sub = ddf[plan.needed]
    starts = partition_starts(sub)
    tasks = [delayed(_partition_bootstrap, pure=True)(p, i, plan, starts[i], replicates, seed)
             for i, p in enumerate(sub.to_delayed())]
    acc, dropped = _compute(tree_reduce(tasks, _merge_boot))
    _warn_dropped(dropped, acc.n + dropped, func)
    return acc.result(plan.columns, plan.weight_type, dropped)


def _apply_partition(func: Callable[[pd.DataFrame], Any], part: pd.DataFrame) -> Any:
    return func(part)


def dask_map_partitions(func: Callable[[pd.DataFrame], Any], ddf: Any,
                        columns: Sequence[str] | None, *,
                        combine: Callable[[Any, Any], Any]) -> Any:
    """Apply ``func`` to every partition (as Dask tasks) and tree-combine the results."""
    delayed = _delayed()
    src = ddf if columns is None else ddf[list(columns)]
    parts = src.to_delayed()
    tasks = [delayed(_apply_partition, pure=True)(func, p) for p in parts]
    return _compute(tree_reduce(tasks, combine))


def run_tasks(func: Callable[..., Any], items: Sequence[Any], *args: Any,
              client: Any = None) -> list[Any]:
    """Evaluate ``func(item, *args)`` for every item as Dask tasks; results in order.

    For bootstrap replicates and batches of subset fits: ``args`` (e.g. the data) are
    scattered once to the workers rather than shipped with every task. Uses ``client``,
    else the active ``distributed`` client, else Dask's default scheduler.

    Examples
    --------
    >>> from driverkit.stats._dask import run_tasks
    >>> run_tasks(pow, [1, 2, 3], 2)
    [1, 4, 9]
    """
    dask = require_dask()
    if client is None:
        try:
            from distributed import get_client

            client = get_client()
        except (ImportError, ValueError):
            client = None
    if client is not None:
        scattered = [client.scatter(a, broadcast=True) if _is_big(a) else a for a in args]
        futures = client.map(func, list(items), *[[a] * len(items) for a in scattered],
                             pure=False)
        return list(client.gather(futures))
    delayed = _delayed()
    tasks = [delayed(func, pure=False)(item, *args) for item in items]
    return list(dask.compute(*tasks))


def _is_big(obj: Any) -> bool:
    return isinstance(obj, pd.DataFrame | np.ndarray) and getattr(obj, "size", 0) > 10_000
