"""Streaming: DataFrames, CSV and Parquet files read in chunks with bounded memory.

:func:`iter_frames` and :func:`run_plan` are the chunk iterators behind the public
entry points (:mod:`._entry`: ``sufficient_stats``, ``map_chunks``), which also route Dask
collections to :mod:`._dask`; this module never imports the Dask engine. Files are read
with pyarrow (never the whole table at once); every chunk is validated, so text in a rating
column fails with the file, row number and column, e.g. ``row 3,000,123, column 'staff':
value 'n/a' is not a number``. The sources themselves (file resolution, chunk readers,
conversion with row-level errors) are in :mod:`._sources`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_option
from ..exceptions import DataError, DriverkitError, DriverkitTypeError, MissingDataWarning
from ._sources import (
    _check_present,
    _Chunk,
    _progress,
    _source_kind,
    _to_float,
    chunk_matrix,
    default_chunksize,
    iter_chunks,
    resolve_files,
)
from ._sufficient import SufficientStats, _merge_moments, _symmetrise, chunk_stats

__all__ = [
    "grouped_sufficient_stats",
    "iter_arrays",
    "iter_frames",
]


_MISSING = ("listwise", "raise")
_WEIGHT_TYPES = ("sampling", "frequency")


# ======================================================================================
# validation of a numeric block: missing values, infinities, weights
# ======================================================================================
@dataclass
class _Plan:
    columns: list[str]
    weights: str | None
    weight_array: np.ndarray | None  # weights given as an array (DataFrame sources)
    weight_type: str
    missing: str
    func: str

    @property
    def needed(self) -> list[str]:
        extra = [self.weights] if self.weights and self.weights not in self.columns else []
        return [*self.columns, *extra]


def _first_bad(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def complete_rows(X: np.ndarray, w: np.ndarray | None, chunk: _Chunk, plan: _Plan
                  ) -> np.ndarray:
    """Validate a block (infinities, weights, missing policy); return the complete-row mask."""
    if w is None or (np.isfinite(w).all() and (w >= 0).all()):
        with np.errstate(invalid="ignore", over="ignore"):
            if np.isfinite(X.sum(axis=1)).all():  # fast path: nothing missing or infinite
                return np.ones(X.shape[0], dtype=bool)
    finite = np.isfinite(X)
    if not finite.all():
        infs = np.isinf(X)
        if infs.any():
            r, c = np.argwhere(infs)[0]
            raise _value_error(chunk, int(r), plan.columns[c], X[r, c], "is infinite")
    if w is not None:
        if np.isnan(w).any():
            r = _first_bad(np.isnan(w))
            raise _value_error(chunk, r, plan.weights or "weights", None,
                               "is missing; give every respondent a weight")
        if np.isinf(w).any() or (w < 0).any():
            r = _first_bad(np.isinf(w) | (w < 0))
            raise _value_error(chunk, r, plan.weights or "weights", w[r],
                               "is not a valid weight (weights must be finite and >= 0)")
    complete = finite.all(axis=1)
    if plan.missing == "raise" and not complete.all():
        r, c = np.argwhere(~finite)[0]
        raise _value_error(chunk, int(r), plan.columns[c], None,
                           "is missing (missing='raise'); use missing='listwise' to drop "
                           "incomplete rows")
    return complete


def clean_block(X: np.ndarray, w: np.ndarray | None, chunk: _Chunk, plan: _Plan
                ) -> tuple[np.ndarray, np.ndarray | None, int]:
    """Apply the missing-data policy; check weights. Returns ``(X, w, n_dropped)``."""
    complete = complete_rows(X, w, chunk, plan)
    n_drop = int(len(complete) - complete.sum())
    if n_drop:
        X = X[complete]
        w = None if w is None else w[complete]
    return X, w, n_drop


def _value_error(chunk: _Chunk, r: int, name: str, value: Any, what: str) -> DataError:
    where = f"row {chunk.offset + r + 1:,}"
    if chunk.header_lines:
        where += f" (line {chunk.offset + r + 1 + chunk.header_lines:,} of the file)"
    if chunk.index is not None:
        where += f" (index {chunk.index[r]!r})"
    prefix = "" if chunk.label == "the data" else f"In {chunk.label}, "
    if value is None:
        msg = f"{prefix}{where}, column '{name}' {what}."
    else:
        shown = f"{float(value):g}" if isinstance(value, float | np.floating) else repr(value)
        msg = f"{prefix}{where}, column '{name}': value {shown} {what}."
    return DataError(msg[0].upper() + msg[1:])


def _plan(source_kind: str, source: Any, columns: Any, weights: Any, weight_type: str,
          missing: str, func: str) -> _Plan:
    if isinstance(columns, str):
        columns = [columns]
    if not isinstance(columns, Sequence | pd.Index) or isinstance(columns, bytes):
        raise DriverkitTypeError(
            f"The 'columns' parameter of {func}() must be a list of column names. "
            f"Got {type(columns).__name__}."
        )
    cols = [str(c) for c in columns]
    if not cols:
        raise DriverkitError(f"{func}() needs at least one column in 'columns'.")
    dups = sorted({c for c in cols if cols.count(c) > 1})
    if dups:
        raise DriverkitError(f"The 'columns' of {func}() repeat {dups}; list each column once.")
    check_option(missing, "missing", _MISSING, func)
    wname: str | None = None
    warr: np.ndarray | None = None
    if weights is not None:
        check_option(weight_type, "weight_type", _WEIGHT_TYPES, func)
        if isinstance(weights, str):
            wname = weights
        elif source_kind == "frame":
            warr = np.asarray(weights, dtype=float).reshape(-1)
            if warr.shape[0] != len(source):
                raise DataError(
                    f"weights has {warr.shape[0]} values but the data have {len(source)} rows;"
                    " pass a column name or one weight per row."
                )
            wname = "weights"
        else:
            raise DriverkitTypeError(
                f"With a file or Dask source, 'weights' of {func}() must be a column name; "
                f"got {type(weights).__name__}."
            )
    return _Plan(cols, wname if warr is None else None, warr,
                 weight_type if weights is not None else "none", missing, func)


# ======================================================================================
# public entry points
# ======================================================================================
def iter_arrays(source: Any, columns: Sequence[str], *, weights: Any = None,
                weight_type: str = "sampling", missing: str = "listwise",
                chunksize: int | None = None, progress: bool | None = None,
                func: str = "iter_arrays") -> Iterator[tuple[np.ndarray, np.ndarray | None,
                                                             int, _Chunk]]:
    """Yield ``(X, w, n_dropped, chunk)``: clean numeric blocks of a DataFrame or files.

    ``X`` holds ``columns`` (complete rows only under ``missing="listwise"``), ``w`` the
    weights (``None`` when unweighted). This is the loop behind :func:`sufficient_stats`
    and the chunked IRLS fits.
    """
    kind = _source_kind(source, func)
    plan = _plan(kind, source, columns, weights, weight_type, missing, func)
    yield from _iter_plan(source, plan, chunksize, progress)


def _iter_plan(source: Any, plan: _Plan, chunksize: int | None, progress: bool | None
               ) -> Iterator[tuple[np.ndarray, np.ndarray | None, int, _Chunk]]:
    it = _iter_plan_sync(source, plan, chunksize, progress)
    if isinstance(source, pd.DataFrame):
        return it
    return prefetch(it)


def _iter_plan_sync(source: Any, plan: _Plan, chunksize: int | None, progress: bool | None
                    ) -> Iterator[tuple[np.ndarray, np.ndarray | None, int, _Chunk]]:
    for chunk in iter_chunks(source, plan.needed, numeric=plan.needed, chunksize=chunksize,
                             progress=progress, func=plan.func):
        yield clean_chunk(chunk, plan)


def clean_chunk(chunk: _Chunk, plan: _Plan
                ) -> tuple[np.ndarray, np.ndarray | None, int, _Chunk]:
    """Numeric block of a raw chunk after validation and listwise deletion."""
    k = len(plan.columns)
    A = chunk_matrix(chunk, plan.needed)
    X = A[:, :k] if A.shape[1] > k else A
    w: np.ndarray | None = None
    if plan.weight_array is not None:
        w = plan.weight_array[chunk.offset:chunk.offset + len(chunk)]
    elif plan.weights is not None:
        w = A[:, plan.needed.index(plan.weights)]
    keep = complete_rows(X, w, chunk, plan)
    dropped = int(len(keep) - keep.sum())
    if dropped:
        X = X[keep]
        w = None if w is None else w[keep]
        chunk.keep = keep
    return X, w, dropped, chunk


@dataclass
class _Unit:
    """One Parquet row group: the unit of parallel work."""

    path: Path
    row_group: int
    offset: int  # first row within the file
    start: int  # first row across all files
    rows: int


def _parquet_units(files: list[tuple[Path, str]], needed: Sequence[str]) -> list[_Unit] | None:
    if any(fmt != "parquet" for _, fmt in files):
        return None
    import pyarrow.parquet as pq

    units: list[_Unit] = []
    start = 0
    for path, _ in files:
        pf = pq.ParquetFile(str(path))
        _check_present(needed, pf.schema_arrow.names, f"file '{path.name}'")
        offset = 0
        md = pf.metadata
        for i in range(md.num_row_groups):
            rows = md.row_group(i).num_rows
            if rows:
                units.append(_Unit(path, i, offset, start, rows))
            offset += rows
            start += rows
    return units


def _iter_unit(u: _Unit, needed: Sequence[str], chunksize: int) -> Iterator[_Chunk]:
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(str(u.path))
    offset = u.offset
    for batch in pf.iter_batches(batch_size=chunksize, row_groups=[u.row_group],
                                 columns=list(needed), use_threads=False):
        m = batch.num_rows
        if m:
            yield _Chunk(f"file '{u.path.name}'", offset, 0, batch,
                         start=u.start + offset - u.offset)
            offset += m


def default_threads() -> int:
    """Worker threads for row-group parallel reading (the machine's CPU count, at most 8)."""
    from ._subsets import usable_cores

    return usable_cores(8)


def run_plan(source: Any, plan: _Plan, fn: Callable[..., Any], combine: Callable[[Any, Any], Any],
             *, chunksize: int | None, progress: bool | None, threads: int | None = None,
             raw_fn: Callable[[_Chunk, Any], Any] | None = None) -> tuple[Any, int, int]:
    """Map ``fn(X, w, chunk)`` over the clean blocks of a source; fold in row order.

    Returns ``(result, n_rows_used, n_dropped)``; ``result`` is None without rows. Parquet
    files are processed row group by row group on ``threads`` worker threads (pyarrow
    decoding and BLAS release the GIL), other sources sequentially with read-ahead. The
    fold order is the row order whatever the thread timing, so results are reproducible.
    ``raw_fn(chunk, scratch)``, if given, is tried first on each raw Parquet chunk (with a
    per-thread ``scratch`` namespace for reusable buffers); it returns None to fall back to
    validation + ``fn`` (missing values, bad weights).
    """
    threads = default_threads() if threads is None else int(threads)
    cs = default_chunksize(len(plan.needed)) if chunksize is None else int(chunksize)
    units = None
    if threads > 1 and _source_kind(source, plan.func) == "files":
        units = _parquet_units(resolve_files(source, plan.func), plan.needed)
    if not units or len(units) < 2:
        out: Any = None
        n = dropped = 0
        for X, w, d, chunk in _iter_plan(source, plan, chunksize, progress):
            n += X.shape[0]
            dropped += d
            r = fn(X, w, chunk)
            out = r if out is None else combine(out, r)
        return out, n, dropped

    pbar = _progress(sum(u.rows for u in units), progress, plan.func)

    import threading

    scratch = threading.local()

    def task(u: _Unit) -> tuple[Any, int, int]:
        acc: Any = None
        n_ = d_ = 0
        for chunk in _iter_unit(u, plan.needed, cs):
            r = None if raw_fn is None else raw_fn(chunk, scratch)
            if r is not None:
                n_ += len(chunk)
            else:
                X, w, d, chunk = clean_chunk(chunk, plan)
                n_ += X.shape[0]
                d_ += d
                r = fn(X, w, chunk)
            acc = r if acc is None else combine(acc, r)
            if pbar is not None:
                pbar.update(len(chunk))
        return acc, n_, d_

    from concurrent.futures import ThreadPoolExecutor

    out = None
    n = dropped = 0
    ex = ThreadPoolExecutor(max_workers=min(threads, len(units)),
                            thread_name_prefix="driverkit-read")
    try:
        with _blas_single_thread():
            futures = [ex.submit(task, u) for u in units]
            for fut in futures:
                r, n_, d_ = fut.result()
                n += n_
                dropped += d_
                if r is not None:
                    out = r if out is None else combine(out, r)
    finally:
        ex.shutdown(wait=True, cancel_futures=True)
        if pbar is not None:
            pbar.close()
    return out, n, dropped


def _blas_single_thread() -> Any:
    """Limit BLAS to one thread while our own threads run (avoids oversubscription)."""
    try:
        from threadpoolctl import threadpool_limits

        return threadpool_limits(limits=1, user_api="blas")
    except ImportError:  # pragma: no cover
        import contextlib

        return contextlib.nullcontext()


def prefetch(iterator: Iterator[Any], depth: int = 1) -> Iterator[Any]:
    """Run ``iterator`` in a background thread, ``depth`` items ahead of the consumer.

    Reading and decoding the next chunk (pyarrow, GIL released) overlaps with the
    computation on the current one (BLAS, GIL released); memory grows by ``depth`` chunks.
    Exceptions are re-raised in the consumer; closing the generator stops the thread.
    """
    import queue
    import threading

    q: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in iterator:
                if not put(("item", item)):
                    return
            put(("done", None))
        except BaseException as e:  # re-raised in the consumer
            put(("error", e))
        finally:
            close = getattr(iterator, "close", None)
            if close is not None and stop.is_set():
                close()

    t = threading.Thread(target=work, name="driverkit-prefetch", daemon=True)
    t.start()
    try:
        while True:
            kind, val = q.get()
            if kind == "item":
                yield val
            elif kind == "error":
                raise val
            else:
                return
    finally:
        stop.set()
        t.join(timeout=5)


def _warn_dropped(n_dropped: int, n_total: int, func: str) -> None:
    if n_dropped:
        warnings.warn(
            f"{func}() dropped {n_dropped:,} of {n_total:,} rows with missing values "
            "(listwise deletion).",
            MissingDataWarning, stacklevel=3,
        )


def _stats_fn(X: np.ndarray, w: np.ndarray | None, chunk: _Chunk) -> tuple[Any, ...]:
    return chunk_stats(X, w)


def _fast_chunk_stats(chunk: _Chunk, scratch: Any, *, plan: _Plan) -> tuple[Any, ...] | None:
    """Moments of a raw chunk in one BLAS call on a reused buffer, or None (use slow path).

    ``Z = √w·[1, X]`` is written into a per-thread buffer (no fresh pages per chunk) and
    ``ZᵀZ`` gives ``W``, ``Σwx`` and ``Σwxxᵀ`` at once; non-finite entries there mean a
    missing or infinite value, which the validating path then handles.
    """
    m = len(chunk)
    k = len(plan.columns)
    if m == 0 or plan.weight_array is not None:
        return None
    buf = getattr(scratch, "buf", None)
    if buf is None or buf.shape[0] < m or buf.shape[1] != k + 1:
        buf = np.empty((m, k + 1), order="F")
        scratch.buf = buf
    Z = buf[:m]
    frame = chunk.frame
    for j, name in enumerate(plan.columns):
        col = frame[name] if isinstance(frame, pd.DataFrame) else frame.column(name)
        Z[:, j + 1] = _to_float(col, name, chunk.label, chunk.offset, chunk.header_lines,
                                chunk.index)
    if plan.weights is None:
        Z[:, 0] = 1.0
        W2 = float(m)
        slogw = 0.0
    else:
        col = frame[plan.weights] if isinstance(frame, pd.DataFrame) else frame.column(
            plan.weights)
        w = _to_float(col, plan.weights, chunk.label, chunk.offset, chunk.header_lines,
                      chunk.index)
        if not (np.isfinite(w).all() and (w >= 0).all()):
            return None
        sw = np.sqrt(w)
        Z[:, 0] = sw
        Z[:, 1:] *= sw[:, None]
        W2 = float(w @ w)
        with np.errstate(divide="ignore"):
            slogw = float(np.log(w).sum())
    G = Z.T @ Z
    if not np.isfinite(G).all():
        return None
    W = float(G[0, 0])
    if W <= 0:
        return m, 0.0, W2, slogw, np.zeros(k), np.zeros((k, k))
    mean = G[0, 1:] / W
    M = G[1:, 1:] - W * np.outer(mean, mean)
    if not np.all(np.diag(M) * 1e3 >= W * mean * mean):
        # cancellation: centre explicitly (√w·(x − x̄) = Z_x − √w·x̄)
        Xc = Z[:, 1:] - Z[:, :1] * mean
        M = Xc.T @ Xc
    return m, W, W2, slogw, mean, _symmetrise(M)


def _merge_stats(a: tuple[Any, ...], b: tuple[Any, ...]) -> tuple[Any, ...]:
    W, mean, M = _merge_moments(a[1], a[4], a[5], b[1], b[4], b[5])
    return a[0] + b[0], W, a[2] + b[2], a[3] + b[3], mean, M


def grouped_sufficient_stats(source: Any, columns: Sequence[str], by: str, *,
                             weights: Any = None, chunksize: int | None = None,
                             weight_type: str = "sampling", missing: str = "listwise",
                             progress: bool | None = None) -> dict[Any, SufficientStats]:
    """One :class:`SufficientStats` per value of ``by`` (segment, wave), in one pass.

    Merging the values of the returned dict gives the statistics of the whole source, so
    segment and wave analyses reuse them instead of re-reading the data. Rows with a
    missing group are dropped (counted in ``n_dropped`` of no group; a warning says how
    many).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from driverkit.stats import grouped_sufficient_stats
    >>> df = pd.DataFrame({"x": [1.0, 2, 3, 4], "y": [2.0, 1, 4, 3], "g": ["a", "b", "a", "b"]})
    >>> parts = grouped_sufficient_stats(df, ["x", "y"], by="g")
    >>> sorted(parts), parts["a"].n_obs
    (['a', 'b'], 2)
    """
    func = "grouped_sufficient_stats"
    kind = _source_kind(source, func)
    if kind not in ("frame", "files"):
        raise DriverkitTypeError(
            f"{func}() reads DataFrames and files; for Dask, group the Dask DataFrame "
            "yourself (ddf[ddf.g == v]) and call sufficient_stats on each part."
        )
    plan = _plan(kind, source, columns, weights, weight_type, missing, func)
    if not isinstance(by, str):
        raise DriverkitTypeError(f"'by' of {func}() must be one column name; got {by!r}.")
    needed = [*plan.needed, by] if by not in plan.needed else plan.needed
    numeric = [c for c in plan.needed if c != by]
    k = len(plan.columns)
    acc: dict[Any, list[Any]] = {}
    dropped_by_group: dict[Any, int] = {}
    no_group = 0
    for chunk in iter_chunks(source, needed, numeric=numeric, chunksize=chunksize,
                             progress=progress, func=func):
        frame = chunk.frame
        gcol = frame[by] if isinstance(frame, pd.DataFrame) else frame.column(by).to_pandas()
        codes, uniques = pd.factorize(pd.Series(np.asarray(gcol, dtype=object)))
        A = chunk_matrix(chunk, plan.needed)
        X = A[:, :k]
        if plan.weight_array is not None:
            w = plan.weight_array[chunk.offset:chunk.offset + len(chunk)]
        elif plan.weights is not None:
            w = A[:, plan.needed.index(plan.weights)]
        else:
            w = None
        no_group += int((codes < 0).sum())
        complete = complete_rows(X, w, chunk, plan)
        for g, key in enumerate(uniques):
            rows = codes == g
            keep = rows & complete
            dropped_by_group[key] = dropped_by_group.get(key, 0) + int(rows.sum() - keep.sum())
            part = chunk_stats(X[keep], None if w is None else w[keep])
            if key not in acc:
                acc[key] = [0, 0.0, 0.0, 0.0, np.zeros(k), np.zeros((k, k))]
            a = acc[key]
            a[0] += part[0]
            a[2] += part[2]
            a[3] += part[3]
            a[1], a[4], a[5] = _merge_moments(a[1], a[4], a[5], part[1], part[4], part[5])
    total_dropped = sum(dropped_by_group.values()) + no_group
    n_total = sum(a[0] for a in acc.values()) + total_dropped
    _warn_dropped(total_dropped, n_total, func)
    out: dict[Any, SufficientStats] = {}
    for key in sorted(acc, key=lambda v: (str(type(v)), v)):
        a = acc[key]
        if a[0] == 0:
            continue
        out[key] = SufficientStats(plan.columns, a[0], a[1], a[4], _symmetrise(a[5]),
                                   weight_type=plan.weight_type, sum_weights_sq=a[2],
                                   sum_log_weights=a[3], n_dropped=dropped_by_group[key])
    return out


def iter_frames(source: Any, columns: Sequence[str] | None = None, *,
                numeric: Sequence[str] | None = None, chunksize: int | None = None,
                progress: bool | None = None) -> Iterator[pd.DataFrame]:
    """Yield pandas DataFrames of consecutive rows of a DataFrame or CSV/Parquet files.

    A generic chunk iterator for code that must process files larger than memory one
    block at a time (the simulator's scenarios, CX tables). Columns listed in ``numeric``
    are converted to float64 with row-level errors for text; the rest are left as read.
    The frames' index continues the row numbering across chunks (0-based per file).
    """
    if columns is None:
        if isinstance(source, pd.DataFrame):
            columns = [str(c) for c in source.columns]
        else:
            raise DriverkitError("iter_frames() on files needs the list of columns to read.")
    numeric = list(numeric or [])
    for chunk in iter_chunks(source, list(columns), numeric=numeric, chunksize=chunksize,
                             progress=progress, func="iter_frames"):
        frame = chunk.frame
        if isinstance(frame, pd.DataFrame):
            df = frame.copy()
        else:
            df = frame.to_pandas()
            df.index = pd.RangeIndex(chunk.offset, chunk.offset + len(df))
        for name in numeric:
            df[name] = chunk_matrix(chunk, [name])[:, 0]
        yield df
