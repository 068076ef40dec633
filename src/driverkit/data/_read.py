"""Read survey files as they come: separators, decimal commas, encodings, Excel sheets.

Exports from Excel in Nordic and other European locales use ``;`` separators, decimal
commas and Windows-1252 (or UTF-8 with a byte-order mark). :func:`read_table` detects each
of these, says what it detected (so a wrong guess is visible), and lets every guess be
overridden.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..exceptions import ColumnNotFoundError, DataError

__all__ = ["check_read_columns", "read_table"]

_SEPS = [",", ";", "\t", "|"]
_SEP_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_COMMA_DEC = re.compile(r'^"?[+-]?\d+,\d+"?$')
_POINT_DEC = re.compile(r'^"?[+-]?\d+\.\d+"?$')


def _decode(raw: bytes, encoding: str | None) -> tuple[str, str]:
    """(text, label of the encoding used)."""
    if encoding is not None:
        try:
            return raw.decode(encoding), encoding
        except (LookupError, UnicodeDecodeError) as exc:
            raise DataError(f"Could not decode the file as {encoding!r}: {exc}. Try "
                            "--encoding utf-8 or --encoding cp1252.") from None
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="strict"), "UTF-8 with BOM"
    try:
        return raw.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace"), "Windows-1252"


def _sniff_sep(lines: list[str]) -> str:
    """The separator giving the same (largest) number of fields on the sample lines."""
    best, best_score = ",", -1.0
    for sep in _SEPS:
        counts = [len(next(csv.reader([ln], delimiter=sep))) for ln in lines if ln.strip()]
        if not counts or max(counts) < 2:
            continue
        mode = max(set(counts), key=counts.count)
        score = counts.count(mode) / len(counts) * 1000 + mode
        if score > best_score:
            best, best_score = sep, score
    return best


def _sniff_decimal(lines: list[str], sep: str) -> str:
    if sep == ",":
        return "."
    comma = point = 0
    for ln in lines[1:]:
        for f in next(csv.reader([ln], delimiter=sep), []):
            f = f.strip()
            comma += bool(_COMMA_DEC.match(f))
            point += bool(_POINT_DEC.match(f))
    return "," if comma > point else "."


def read_table(path: str | Path, *, sep: str | None = None, decimal: str | None = None,
               encoding: str | None = None, sheet: str | int | None = None,
               ) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read respondents from CSV/TSV/TXT (any of ``,`` ``;`` tab ``|``), Excel or Parquet.

    Parameters
    ----------
    path : str or Path
    sep, decimal, encoding : str, optional
        Override the detected separator, decimal mark (``","`` for decimal commas) and
        text encoding (``"utf-8"``, ``"cp1252"``, ...).
    sheet : str or int, optional
        Excel sheet (name or 0-based position); default the first.

    Returns
    -------
    (DataFrame, dict)
        The data and what was read: ``format``, ``sep``, ``decimal``, ``encoding``,
        ``sheet`` and a one-line ``note`` saying what was detected.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "nordic.csv")
    >>> _ = open(p, "wb").write("id;nöjd;pris\\n1;7,5;8\\n2;6;Vet ej\\n".encode("cp1252"))
    >>> df, info = read_table(p)
    >>> info["sep"], info["decimal"], info["encoding"]
    (';', ',', 'Windows-1252')
    >>> float(df["nöjd"].iloc[0])
    7.5
    """
    p = Path(path)
    if not p.exists():
        raise DataError(f"The data file '{p}' does not exist.")
    name = p.name.lower()
    info: dict[str, Any] = {"file": p.name}
    try:
        if name.endswith((".xlsx", ".xlsm", ".xls")):
            book = pd.ExcelFile(p)
            sheets = list(book.sheet_names)
            if sheet is not None and not isinstance(sheet, int) and str(sheet).isdigit() \
                    and str(sheet) not in sheets:
                sheet = int(str(sheet))
            if sheet is not None and not isinstance(sheet, int) and sheet not in sheets:
                close = difflib.get_close_matches(str(sheet), sheets, n=1)
                raise DataError(
                    f"The workbook '{p.name}' has no sheet '{sheet}'"
                    + (f" (did you mean '{close[0]}'?)" if close else "")
                    + f"; its sheets: {', '.join(sheets)}."
                )
            use = sheets[sheet] if isinstance(sheet, int) else (sheet or sheets[0])
            df = book.parse(use)
            info.update(format="excel", sheet=use)
            info["note"] = (f"Read sheet '{use}' of '{p.name}'"
                            + (f" (the workbook has {len(sheets)} sheets: "
                               f"{', '.join(sheets)}; choose one with --sheet)"
                               if len(sheets) > 1 and sheet is None else "") + ".")
            return df, info
        if name.endswith((".parquet", ".pq")):
            info.update(format="parquet", note=f"Read '{p.name}' (Parquet).")
            return pd.read_parquet(p), info
        if name.endswith((".gz", ".zip", ".bz2", ".xz")):
            df = pd.read_csv(p, sep=sep, decimal=decimal or ".", encoding=encoding,
                             engine="python" if sep is None else "c")
            info.update(format="csv", sep=sep or "detected", decimal=decimal or ".",
                        encoding=encoding or "utf-8",
                        note=f"Read '{p.name}' (compressed text).")
            return df, info
        if not name.endswith((".csv", ".txt", ".tsv", ".tab", ".dat")):
            raise DataError(
                f"Cannot tell the format of '{p.name}'. Use a .csv, .tsv, .txt, .xlsx or "
                ".parquet file."
            )
        raw = p.read_bytes()
    except (OSError, ImportError, ValueError) as exc:
        if isinstance(exc, DataError):
            raise
        raise DataError(f"Could not read '{p}': {exc}") from exc
    text, enc = _decode(raw, encoding)
    lines = text.splitlines()[:50]
    if not lines:
        raise DataError(f"The data file '{p.name}' is empty.")
    if sep is None:
        sep_used = "\t" if name.endswith((".tsv", ".tab")) else _sniff_sep(lines)
        sep_how = "detected"
    else:
        sep_used = {"tab": "\t", "\\t": "\t", "semicolon": ";", "comma": ","}.get(sep, sep)
        sep_how = "given"
    dec = decimal if decimal is not None else _sniff_decimal(lines, sep_used)
    dec = {"comma": ",", "point": ".", "dot": "."}.get(dec, dec)
    try:
        df = pd.read_csv(io.StringIO(text), sep=sep_used, decimal=dec,
                         thousands=None, skipinitialspace=True)
    except (ValueError, pd.errors.ParserError) as exc:
        raise DataError(f"Could not read '{p.name}' with separator {sep_used!r}: {exc}. "
                        "Give the separator with --sep.") from None
    info.update(format="csv", sep=sep_used, decimal=dec, encoding=enc)
    parts = [f"separator {_SEP_NAMES.get(sep_used, repr(sep_used))} ({sep_how})",
             f"decimal {'comma' if dec == ',' else 'point'} "
             f"({'given' if decimal is not None else 'detected'})",
             f"encoding {enc} ({'given' if encoding is not None else 'detected'})"]
    info["note"] = (f"Read '{p.name}': " + ", ".join(parts)
                    + ". Override with --sep, --decimal, --encoding.")
    return df, info


def check_read_columns(data: pd.DataFrame, columns: Sequence[str], info: dict[str, Any]
                       ) -> None:
    """Raise naming the separator used and the close matches when a column is absent."""
    present = [str(c) for c in data.columns]
    for col in columns:
        if col is None or col in present:
            continue
        close = difflib.get_close_matches(str(col), present, n=3, cutoff=0.5)
        lowered = [c for c in present if c.strip().lower() == str(col).strip().lower()]
        close = list(dict.fromkeys(lowered + close))
        how = ""
        if info.get("format") == "csv":
            how = (f" (read with separator {_SEP_NAMES.get(info['sep'], repr(info['sep']))}, "
                   f"encoding {info.get('encoding')})")
        hint = ""
        if len(present) == 1 and any(s in present[0] for s in _SEPS):
            hint = " The file was read as one column: give the separator with --sep."
        raise ColumnNotFoundError(
            f"The column '{col}' is not in '{info.get('file', 'the data')}'{how}."
            + (f" Did you mean {close[0]!r}?" if close else "")
            + (f" (other close matches: {', '.join(repr(c) for c in close[1:])})"
               if len(close) > 1 else "")
            + hint + f" Columns: {', '.join(present[:30])}"
            + (" ..." if len(present) > 30 else "")
        )


def read_survey_file(path: str, opts: dict[str, Any], columns: Sequence[Any],
                     echo: Any = None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The command line's reading step: read ``path`` with the reading options in ``opts``
    (popped: ``sep``, ``decimal``, ``encoding``, ``sheet``), say what was detected, check
    the named ``columns`` and return the data with the missing-data options for the
    analysis (``missing``, ``na_values`` as a list, ``imputations``)."""
    df, info = read_table(path, sep=opts.pop("sep", None), decimal=opts.pop("decimal", None),
                          encoding=opts.pop("encoding", None), sheet=opts.pop("sheet", None))
    plain = info.get("format") != "csv" or (info.get("sep") == "," and
                                             info.get("decimal") == "." and
                                             info.get("encoding") == "UTF-8")
    if echo is not None and info.get("note") and not (plain and "sheets:" not in info["note"]):
        echo(info["note"])  # say what was detected whenever it is not the plain default
    check_read_columns(df, [c for c in columns if c], info)
    na = opts.pop("na_values", None)
    if isinstance(na, str):
        na = [v.strip() for v in next(csv.reader([na])) if v.strip()]
    kw: dict[str, Any] = {"missing": opts.pop("missing", None) or "listwise", "na_values": na}
    if opts.get("imputations") is not None:
        kw["imputations"] = int(opts.pop("imputations"))
    else:
        opts.pop("imputations", None)
    return df, kw
