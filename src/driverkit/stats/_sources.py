"""Chunked sources of the streaming engine: DataFrames, CSV and Parquet files.

Files are resolved and read in chunks with bounded memory (pyarrow, never the whole table
at once), and every chunk is converted to numbers with row-level errors naming the file,
row and column.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._progress import progress_bar
from .._validation import suggest
from ..exceptions import ColumnNotFoundError, DataError, DriverkitError, DriverkitTypeError
from ._sufficient import SufficientStats

__all__ = ["CSV_NULL_VALUES", "chunk_matrix", "default_chunksize", "is_dask_collection",
           "iter_chunks", "resolve_files"]

#: Cells read as missing in CSV files. Anything else that does not parse as a number in a
#: numeric column is an error (``"n/a"`` or ``"don't know"`` in a rating usually means a
#: coding problem the analyst should see, not a silent missing value).
CSV_NULL_VALUES = ("", "NA", "NaN", "nan", "NULL", "null")
_PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
_CSV_SUFFIXES = (".csv", ".csv.gz", ".csv.bz2", ".csv.zst", ".txt", ".tsv", ".tsv.gz")


# ======================================================================================
# sources
# ======================================================================================
@dataclass
class _Chunk:
    """A block of consecutive rows: ``frame`` is a pyarrow RecordBatch or pandas frame."""

    label: str  # "the data" or "file 'x.csv'"
    offset: int  # 0-based index of the chunk's first row within its file / frame
    header_lines: int  # lines before the first data row (1 for CSV, 0 otherwise)
    frame: Any
    index: Any = None  # pandas row labels (DataFrame sources)
    start: int = 0  # 0-based index of the first row across all files of the source
    keep: Any = None  # after cleaning: mask of the rows kept (None = all)

    def __len__(self) -> int:
        return int(self.frame.num_rows if hasattr(self.frame, "num_rows") else len(self.frame))


def is_dask_collection(obj: Any) -> bool:
    """True for a ``dask.dataframe.DataFrame`` (checked without importing dask)."""
    mod = type(obj).__module__ or ""
    return mod.startswith("dask") and hasattr(obj, "npartitions") and hasattr(obj, "columns")


def _file_format(path: Path) -> str:
    name = path.name.lower()
    if path.is_dir():
        return "parquet-dir"
    if name.endswith(_PARQUET_SUFFIXES):
        return "parquet"
    if name.endswith(_CSV_SUFFIXES):
        return "csv"
    raise DriverkitError(
        f"Cannot tell the format of '{path}' from its name; use a .csv (optionally .gz) or "
        ".parquet file, or read it yourself and pass a DataFrame."
    )


def resolve_files(source: Any, func: str) -> list[tuple[Path, str]]:
    """Turn a path, a directory of Parquet files or a list of paths into ``(path, fmt)``."""
    items = list(source) if isinstance(source, list | tuple) else [source]
    if not items:
        raise DriverkitError(f"{func}() got an empty list of files.")
    out: list[tuple[Path, str]] = []
    for item in items:
        if not isinstance(item, str | os.PathLike):
            raise DriverkitTypeError(
                f"{func}() got a list containing {type(item).__name__}; a list of sources must "
                "hold file paths (str or pathlib.Path)."
            )
        path = Path(item).expanduser()
        if not path.exists():
            raise DriverkitError(f"{func}(): the file '{path}' does not exist.")
        fmt = _file_format(path)
        if fmt == "parquet-dir":
            parts = sorted(p for p in path.rglob("*") if p.is_file()
                           and p.name.lower().endswith(_PARQUET_SUFFIXES))
            if not parts:
                raise DriverkitError(f"{func}(): the directory '{path}' holds no .parquet files.")
            out.extend((p, "parquet") for p in parts)
        else:
            out.append((path, fmt))
    return out


def _source_kind(source: Any, func: str) -> str:
    if isinstance(source, pd.DataFrame):
        return "frame"
    if isinstance(source, str | os.PathLike) or (
            isinstance(source, list | tuple) and source
            and all(isinstance(s, str | os.PathLike) for s in source)):
        return "files"
    if is_dask_collection(source):
        return "dask"
    if isinstance(source, SufficientStats):
        return "stats"
    raise DriverkitTypeError(
        f"{func}() cannot read a {type(source).__name__}. Pass a pandas DataFrame, a CSV or "
        "Parquet path (or a list of paths, or a directory of Parquet files), or a "
        "dask.dataframe.DataFrame."
    )


def default_chunksize(n_columns: int) -> int:
    """Rows per chunk so that one float64 chunk is about 8 MB (cache-friendly; measured best
    on the scale benchmark among 32k-190k rows for 21 columns)."""
    return max(10_000, (1 << 20) // max(n_columns, 1))


def _csv_header(path: Path) -> list[str]:
    import pyarrow as pa

    with pa.input_stream(str(path), compression="detect") as f:
        head = f.read(1 << 20)
    text = head.decode("utf-8-sig", errors="replace")
    first = text.splitlines()[0] if text else ""
    delim = "\t" if path.name.lower().endswith((".tsv", ".tsv.gz")) else ","
    return next(csv.reader(io.StringIO(first), delimiter=delim), [])


def _check_present(needed: Sequence[str], present: Sequence[str], where: str) -> None:
    for col in needed:
        if col not in present:
            shown = ", ".join(list(present)[:30]) + (" ..." if len(present) > 30 else "")
            raise ColumnNotFoundError(
                f"The column '{col}' is not in {where}.{suggest(col, present)} "
                f"Available columns: {shown}"
            )


def _iter_csv(path: Path, needed: Sequence[str], numeric: Sequence[str], chunksize: int,
              pbar: Any) -> Iterator[_Chunk]:
    import pyarrow as pa
    import pyarrow.csv as pcsv

    label = f"file '{path.name}'"
    header = _csv_header(path)
    _check_present(needed, header, label)
    delim = "\t" if path.name.lower().endswith((".tsv", ".tsv.gz")) else ","
    # block size from the header length: ~chunksize rows per block
    bytes_per_row = max(8 * len(header), 16)
    block = int(min(max(chunksize * bytes_per_row, 1 << 20), 1 << 28))
    convert = pcsv.ConvertOptions(
        include_columns=list(needed),
        column_types={c: pa.float64() for c in numeric},
        null_values=list(CSV_NULL_VALUES),
        strings_can_be_null=True,
    )
    offset = 0
    reader = None
    while True:
        try:
            if reader is None:  # opening reads (and converts) the first block
                reader = pcsv.open_csv(
                    str(path), read_options=pcsv.ReadOptions(block_size=block),
                    parse_options=pcsv.ParseOptions(delimiter=delim), convert_options=convert)
            batch = reader.read_next_batch()
        except StopIteration:
            return
        except pa.ArrowInvalid as e:
            if "conversion error" in str(e):
                _raise_csv_conversion(path, numeric, offset, delim, e)
            raise DataError(f"Cannot read {label} after row {offset:,}: {e}") from None
        m = batch.num_rows
        if m:
            yield _Chunk(label, offset, 1, batch)
            offset += m
            if pbar is not None:
                pbar.update(m)


def _raise_csv_conversion(path: Path, numeric: Sequence[str], start: int, delim: str,
                          err: Exception) -> None:
    """Find the first cell that is not a number (on the error path only) and raise."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    reader = pcsv.open_csv(
        str(path),
        parse_options=pcsv.ParseOptions(delimiter=delim),
        convert_options=pcsv.ConvertOptions(
            include_columns=list(numeric),
            column_types={c: pa.string() for c in numeric},
            null_values=list(CSV_NULL_VALUES),
            strings_can_be_null=True,
        ),
    )
    offset = 0
    for batch in reader:
        m = batch.num_rows
        if offset + m > start:
            for name in numeric:
                _to_float(batch.column(name), name, f"file '{path.name}'", offset, 1)
        offset += m
    raise DataError(f"Cannot read file '{path.name}': {err}") from None


def _iter_parquet(path: Path, needed: Sequence[str], chunksize: int,
                  pbar: Any) -> Iterator[_Chunk]:
    import pyarrow.parquet as pq

    label = f"file '{path.name}'"
    pf = pq.ParquetFile(str(path))
    _check_present(needed, pf.schema_arrow.names, label)
    offset = 0
    for batch in pf.iter_batches(batch_size=chunksize, columns=list(needed), use_threads=True):
        m = batch.num_rows
        if m:
            yield _Chunk(label, offset, 0, batch)
            offset += m
            if pbar is not None:
                pbar.update(m)


def _iter_frame(df: pd.DataFrame, needed: Sequence[str], chunksize: int,
                pbar: Any) -> Iterator[_Chunk]:
    _check_present(needed, [str(c) for c in df.columns], "the data")
    sub = df[list(needed)]
    for start in range(0, len(sub), chunksize):
        part = sub.iloc[start:start + chunksize]
        yield _Chunk("the data", start, 0, part, index=part.index, start=start)
        if pbar is not None:
            pbar.update(len(part))


def _progress(total: int | None, progress: bool | None, desc: str) -> Any:
    return progress_bar(total, show=progress, desc=desc, unit="rows", unit_scale=True)


def _total_rows(files: list[tuple[Path, str]]) -> int | None:
    if any(fmt != "parquet" for _, fmt in files):
        return None
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(str(p)).metadata.num_rows for p, _ in files)


def iter_chunks(source: Any, needed: Sequence[str], *, numeric: Sequence[str] = (),
                chunksize: int | None = None, progress: bool | None = None,
                func: str = "sufficient_stats") -> Iterator[_Chunk]:
    """Yield raw chunks (pyarrow batches or pandas frames) of a DataFrame or files."""
    kind = _source_kind(source, func)
    if kind not in ("frame", "files"):
        raise DriverkitTypeError(f"{func}() cannot iterate over a {type(source).__name__}.")
    chunksize = default_chunksize(len(needed)) if chunksize is None else int(chunksize)
    if kind == "frame":
        pbar = _progress(len(source), progress if len(source) > 10 * chunksize else False, func)
        try:
            yield from _iter_frame(source, needed, chunksize, pbar)
        finally:
            if pbar is not None:
                pbar.close()
        return
    files = resolve_files(source, func)
    pbar = _progress(_total_rows(files), progress, func)
    start = 0
    try:
        for path, fmt in files:
            if fmt == "csv":
                it = _iter_csv(path, needed, numeric, chunksize, pbar)
            else:
                it = _iter_parquet(path, needed, chunksize, pbar)
            for chunk in it:
                chunk.start = start
                start += len(chunk)
                yield chunk
    finally:
        if pbar is not None:
            pbar.close()


# ======================================================================================
# conversion with row-level errors
# ======================================================================================
def _bad_value_error(label: str, row0: int, header_lines: int, name: str, value: Any,
                     index_label: Any = None) -> DataError:
    where = f"row {row0 + 1:,}"
    if header_lines:
        where += f" (line {row0 + 1 + header_lines:,} of the file)"
    if index_label is not None:
        where += f" (index {index_label!r})"
    prefix = "" if label == "the data" else f"In {label}, "
    msg = (f"{prefix}{where}, column '{name}': value {str(value)!r} is not a number. "
           f"Fix the value, or leave the cell empty if it is missing"
           f"{' (empty, NA and NaN are read as missing)' if header_lines else ''}.")
    return DataError(msg[0].upper() + msg[1:])


def _to_float(col: Any, name: str, label: str, offset: int, header_lines: int,
              index: Any = None) -> np.ndarray:
    """A pyarrow or pandas column as float64 (NaN for missing), or a row-level DataError."""
    if isinstance(col, pd.Series):
        return _series_to_float(col, name, label, offset, index)
    import pyarrow as pa
    import pyarrow.compute as pc

    t = col.type
    if pa.types.is_floating(t):
        out = col.to_numpy(zero_copy_only=False)
        return out if out.dtype == np.float64 else out.astype(np.float64)
    if pa.types.is_integer(t) or pa.types.is_boolean(t) or pa.types.is_decimal(t):
        return pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False)
    if pa.types.is_dictionary(t):
        col = col.cast(t.value_type) if hasattr(col, "cast") else pc.cast(col, t.value_type)
        return _to_float(col, name, label, offset, header_lines, index)
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        try:
            return pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            s = col.to_pandas()
            return _series_to_float(s, name, label, offset, None, header_lines)
    if pa.types.is_null(t):
        return np.full(len(col), np.nan)
    raise DataError(
        f"The column '{name}' in {label} has type {t}; a numeric column is needed. "
        "Convert it to numbers (or leave it out)."
    )


def _series_to_float(s: pd.Series, name: str, label: str, offset: int, index: Any,
                     header_lines: int = 0) -> np.ndarray:
    if isinstance(s.dtype, pd.CategoricalDtype):
        raise DataError(
            f"The column '{name}' is categorical; sufficient statistics need numeric columns. "
            "Code factors as 0/1 dummy columns first (or use dk.fit on the DataFrame)."
        )
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
        return s.to_numpy(dtype=np.float64, na_value=np.nan)
    if pd.api.types.is_datetime64_any_dtype(s) or pd.api.types.is_timedelta64_dtype(s):
        raise DataError(f"The column '{name}' holds dates/times; a numeric column is needed.")
    text = s.astype(object)
    stripped = text.map(lambda v: v.strip() if isinstance(v, str) else v)
    missing = stripped.isna() | stripped.isin(CSV_NULL_VALUES)
    num = pd.to_numeric(stripped.where(~missing, None), errors="coerce")
    bad = num.isna().to_numpy() & ~missing.to_numpy()
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        idx = None if index is None else index[pos]
        raise _bad_value_error(label, offset + pos, header_lines, name, text.iloc[pos], idx)
    return num.to_numpy(dtype=np.float64, na_value=np.nan)


def chunk_matrix(chunk: _Chunk, names: Sequence[str]) -> np.ndarray:
    """The named numeric columns of a chunk as an ``(m, k)`` Fortran-ordered float64 array."""
    m = len(chunk)
    frame = chunk.frame
    if not isinstance(frame, pd.DataFrame) and m:
        import pyarrow as pa

        sel = frame.select(list(names))
        if all(pa.types.is_float64(t) for t in sel.schema.types):
            # one column-major copy in C++ (nulls become NaN)
            return np.asarray(sel.to_tensor(null_to_nan=True, row_major=False).to_numpy())
    X = np.empty((m, len(names)), dtype=np.float64, order="F")
    for j, name in enumerate(names):
        col = frame[name] if isinstance(frame, pd.DataFrame) else frame.column(name)
        X[:, j] = _to_float(col, name, chunk.label, chunk.offset, chunk.header_lines,
                            chunk.index)
    return X
