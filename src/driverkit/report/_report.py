"""``dk.report``: a self-contained HTML report and an Excel workbook of the same tables."""

from __future__ import annotations

import base64
import datetime as _dt
import io
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._results import Result
from .._validation import check_option
from .._version import __version__
from ..display._meta import meta_label
from ..display._render import _ci_level, display_table, format_value
from ..exceptions import DriverkitTypeError
from ._notes import CAUSAL_CAVEAT, GENERAL_ASSUMPTIONS, METHOD_NOTES, method_topics

__all__ = ["ReportFiles", "TableResult", "report"]

# Extra tables a result may carry as attributes; each becomes its own table and sheet.
_EXTRA_TABLES = {
    "conditional": ("conditional dominance", "conditional"),
    "complete": ("complete dominance", "complete"),
    "pairwise": ("pairwise differences", "pairwise"),
    "rank_ci": ("rank intervals", "ranks"),
    "by_driver": ("by driver", "by driver"),
    "diagnostics": ("guardrails: moved, at the ceiling, beyond the observed range", "guardrails"),
    "uncertainty": ("sources of uncertainty", "uncertainty"),
    "comparison": ("model comparison", "comparison"),
}


class TableResult(Result):
    """A plain DataFrame shown as a report section (e.g. the output of :func:`driverkit.frontier`).

    Its chart is the budget frontier when the frame has ``budget`` and ``value`` columns, else a
    bar chart of the first numeric column.

    Examples
    --------
    >>> import pandas as pd
    >>> from driverkit.report import TableResult
    >>> TableResult(pd.DataFrame({"x": [1.0, 2.0]}), title="Two numbers").title
    'Two numbers'
    """

    _title = "Table"

    def _plot(self, ax: Any, **kwargs: Any) -> Any:
        from ..display._plots import budget_frontier, table_bar

        if {"budget", "value"} <= set(self.table.columns):
            return budget_frontier(self.table, ax=ax, title=self.title, **kwargs)
        return table_bar(self.plot_data(), ax=ax, title=self.title, **kwargs)


@dataclass
class ReportFiles:
    """The files written by :func:`report`.

    Attributes
    ----------
    html : pathlib.Path
        The self-contained HTML report.
    excel : pathlib.Path or None
        The Excel workbook (one sheet per table), ``None`` with ``excel=False``.
    sheets : list of str
        The workbook's table sheets, in order (after the ``About`` sheet).
    sections : dict
        ``{section title: [sheet names]}``; the first sheet holds the result's ``.table``, the
        others its extra tables (pairwise differences, conditional dominance, …).
    """

    html: Path
    excel: Path | None = None
    sheets: list[str] = field(default_factory=list)
    sections: dict[str, list[str]] = field(default_factory=dict)

    @property
    def paths(self) -> list[Path]:
        """Every file written."""
        return [self.html] + ([self.excel] if self.excel is not None else [])

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.paths)


@dataclass
class _Table:
    caption: str
    frame: pd.DataFrame
    sheet: str = ""
    ci: float | None = None
    short: str = ""


@dataclass
class _Section:
    title: str
    obj: Any
    kind: str
    tables: list[_Table]
    anchor: str = ""
    charts: list[dict[str, str]] = field(default_factory=list)
    chart_errors: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------
# inputs
# ---------------------------------------------------------------------------------------
def _items(results: Iterable[Any]) -> list[tuple[str | None, Any]]:
    out: list[tuple[str | None, Any]] = []
    for r in results:
        if isinstance(r, Mapping):
            out += [(str(k), v) for k, v in r.items()]
        elif (isinstance(r, tuple) and len(r) == 2 and isinstance(r[0], str)):
            out.append((r[0], r[1]))
        elif isinstance(r, (list, tuple)):
            out += _items(r)
        else:
            out.append((None, r))
    return out


def _is_figure(obj: Any) -> bool:
    return hasattr(obj, "savefig") or (hasattr(obj, "get_figure") and hasattr(obj, "plot")
                                       and not isinstance(obj, (Result, pd.DataFrame)))


def _as_section(name: str | None, obj: Any, position: int) -> _Section:
    if isinstance(obj, pd.Series):
        obj = obj.to_frame()
    if isinstance(obj, pd.DataFrame):
        obj = TableResult(obj, title=name or f"Table {position}")
    if isinstance(obj, Result) or (hasattr(obj, "table") and hasattr(obj, "title")):
        title = name or str(obj.title)
        tables = [_Table("", obj.table, ci=_ci_level(obj))] if isinstance(
            obj.table, pd.DataFrame) else []
        for attr, (caption, short) in _EXTRA_TABLES.items():
            try:
                extra = getattr(obj, attr, None)
            except Exception:  # a property that does not apply to this result
                extra = None
            if isinstance(extra, pd.DataFrame) and not extra.empty:
                tables.append(_Table(caption, extra, ci=_ci_level(obj), short=short))
        return _Section(title, obj, type(obj).__name__, tables)
    if _is_figure(obj):
        return _Section(name or f"Chart {position}", obj, "Figure", [])
    raise DriverkitTypeError(
        f"report() got an object of type {type(obj).__name__} (item {position}). Pass driverkit "
        "results, pandas DataFrames, matplotlib figures, or (name, object) pairs."
    )


def _unique(name: str, used: set[str], *, limit: int | None = None, casefold: bool = False) -> str:
    base = name[:limit] if limit else name
    cand, k = base, 2
    key = (lambda s: s.lower()) if casefold else (lambda s: s)
    while key(cand) in used:
        suffix = f" ({k})"
        cand = (base[: limit - len(suffix)] if limit else base) + suffix
        k += 1
    used.add(key(cand))
    return cand


def _sheet_base(title: str) -> str:
    """A section title without its parenthetical detail, e.g. "Relative importance"."""
    base = re.sub(r"\s*\([^)]*\)\s*$", "", title).strip()
    return base or title


def _shorten(text: str, room: int) -> str:
    """``text`` cut to at most ``room`` characters, at a word boundary when possible."""
    if len(text) <= room:
        return text
    cut = text[:room + 1].rsplit(" ", 1)[0].rstrip(" -–,;:")
    return cut if len(cut) >= room // 2 else text[:room].rstrip()


def _sheet_name(text: str, used: set[str]) -> str:
    clean = re.sub(r"[\[\]:*?/\\]", "_", text).strip().strip("'") or "Sheet"
    return _unique(clean, used, limit=31, casefold=True)


# ---------------------------------------------------------------------------------------
# charts
# ---------------------------------------------------------------------------------------
def _figure_uri(fig: Any, image_format: str, dpi: int) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format=image_format, dpi=dpi, bbox_inches="tight",
                metadata={"Date": None} if image_format == "svg" else None)
    mime = "image/svg+xml" if image_format == "svg" else "image/png"
    return f"data:{mime};base64,{base64.b64encode(buf.getvalue()).decode('ascii')}"


def _stage_chart(obj: Any, stages: Mapping[str, Any]) -> Any:
    """Importance bars coloured by journey stage (for an importance result's main chart)."""
    from ..display._plots import importance_bars

    def draw(ax: Any) -> Any:
        data = obj.plot_data()
        unit = "R²" if getattr(obj, "kind", "linear") == "linear" else "pseudo-R²"
        return importance_bars(data, ax=ax, stages=stages, title=str(obj.title),
                               xlabel=f"importance ({unit})")

    return draw


def _draw(section: _Section, image_format: str, dpi: int,
          stages: Mapping[str, Any] | None = None) -> None:
    from matplotlib.figure import Figure

    from ..display._plots import dominance_lines

    obj = section.obj
    if section.kind == "Figure":
        fig = obj if hasattr(obj, "savefig") else obj.get_figure()
        section.charts.append({"uri": _figure_uri(fig, image_format, dpi),
                               "caption": section.title})
        return
    jobs: list[tuple[str, Any]] = [(section.title, lambda ax: obj.plot(ax=ax))]
    if (stages and section.kind == "ImportanceResult"
            and {"importance"} <= set(obj.plot_data().columns)):
        jobs[0] = (f"{section.title} by journey stage", _stage_chart(obj, stages))
    cond = next((t.frame for t in section.tables if t.caption == "conditional dominance"), None)
    if cond is not None:
        jobs.append(("Conditional dominance by model size",
                     lambda ax: dominance_lines(cond, ax=ax, title="Conditional dominance")))
    try:
        rows = len(obj.plot_data())
    except Exception:
        rows = 8
    height = float(np.clip(1.6 + 0.32 * rows, 3.2, 7.5))
    for caption, job in jobs:
        fig = Figure(figsize=(7.5, height))
        ax = fig.add_subplot()
        try:
            job(ax)
            fig.tight_layout()
            section.charts.append({"uri": _figure_uri(fig, image_format, dpi),
                                   "caption": caption})
        except Exception as exc:  # a chart must never stop the report; say why it is missing
            section.chart_errors.append(f"{caption}: {type(exc).__name__}: {exc}")


# ---------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------
_MAX_MAIN_ROWS = 40
_MAX_EXTRA_ROWS = 20


def _table_context(t: _Table) -> dict[str, Any]:
    limit = _MAX_EXTRA_ROWS if t.caption else _MAX_MAIN_ROWS
    frame = t.frame.iloc[:limit]
    ft = display_table(frame, ci=t.ci)
    plain_index = isinstance(t.frame.index, pd.RangeIndex) and t.frame.index.name is None
    rows = []
    for i, row in zip(ft.index, ft.itertuples(index=False, name=None), strict=True):
        cells = [{"text": str(v), "long": len(str(v)) > 40} for v in row]
        rows.append({"label": str(i), "cells": cells})
    return {
        "caption": t.caption, "sheet": t.sheet, "show_index": not plain_index,
        "index_name": "" if ft.index.name is None else str(ft.index.name),
        "columns": [str(c) for c in ft.columns], "rows": rows,
        "more": max(len(t.frame) - limit, 0),
    }


def _environment() -> Any:
    try:
        import jinja2
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("report() needs jinja2: pip install 'driverkit[report]'") from exc
    return jinja2.Environment(
        loader=jinja2.PackageLoader("driverkit.report", "templates"),
        autoescape=True,  # every string from the user (titles, driver names, notes) is escaped
        undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True,
    )


def _method_notes(sections: list[_Section]) -> list[tuple[str, str]]:
    topics: list[str] = []
    for s in sections:
        for t in method_topics(s.obj):
            if t not in topics:
                topics.append(t)
    return [METHOD_NOTES[t] for t in topics]


def _assumptions(sections: list[_Section], extra: Iterable[str]) -> list[str]:
    out = list(GENERAL_ASSUMPTIONS)
    for s in sections:
        kind = getattr(s.obj, "kind", None)
        if isinstance(kind, str) and s.kind == "DriverModel":
            line = f"Functional form ({s.title}): {s.obj.meta.get('kind', kind)} model."
            if line not in out:
                out.append(line)
    out += [str(e) for e in extra]
    return out


def _section_notes(section: _Section) -> list[str]:
    notes = getattr(section.obj, "notes", None) or []
    return [str(n) for n in notes if str(n).strip() and not str(n).startswith("Observational")]


# ---------------------------------------------------------------------------------------
# Excel
# ---------------------------------------------------------------------------------------
_RATE_COLUMNS = re.compile(r"^(baseline_rate|scenario_rate|delta_rate)(_low|_high)?$")


def _excel_format(column: str, values: pd.Series) -> str:
    col = column.lower()
    if col in {"p_value", "q_value", "p_asymmetry"}:
        return "0.0000"
    if col.startswith("share") or col.endswith("_pct") or col == "pct":
        return '0.0"%"'
    if _RATE_COLUMNS.match(col):
        return "0.00%"
    if pd.api.types.is_integer_dtype(values) or col in {"rank", "n", "n_obs"}:
        return "0"
    num = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    num = num[np.isfinite(num)]
    biggest = float(np.max(np.abs(num))) if num.size else 0.0
    if biggest >= 1000:
        return "#,##0"
    if biggest >= 10:
        return "#,##0.00"
    return "0.0000"


def _cell(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if math.isnan(v):
            return None
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return v
    if isinstance(value, (list, tuple, set)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {format_value(v)}" for k, v in value.items())
    if isinstance(value, (pd.Timestamp, _dt.date)):
        return str(value)
    return str(value)


def _write_sheet(wb: Any, ws: Any, frame: pd.DataFrame, fmts: dict[str, Any]) -> None:
    """One table: index level(s) first, then the columns; raw values with number formats."""
    header = fmts["header"]
    levels = frame.index.nlevels
    names = [("" if n is None else str(n)) for n in frame.index.names]
    for j, name in enumerate(names):
        ws.write_string(0, j, name, header)
    for j, col in enumerate(frame.columns, start=levels):
        ws.write_string(0, j, str(col), header)
    col_fmt = []
    for col in frame.columns:
        spec = _excel_format(str(col), frame[col])
        if spec not in fmts:
            fmts[spec] = wb.add_format({"num_format": spec})
        col_fmt.append(fmts[spec])
    for j in range(levels):
        values = frame.index.get_level_values(j)[:200]
        width = max([len(names[j]), *[len(str(v)) for v in values], 6])
        ws.set_column(j, j, min(width + 2, 45))
    for i, (label, row) in enumerate(zip(frame.index, frame.itertuples(index=False, name=None),
                                         strict=True), start=1):
        parts = label if levels > 1 else (label,)
        for j, part in enumerate(parts):
            lab = _cell(part)
            if isinstance(lab, (int, float)) and not isinstance(lab, bool):
                ws.write_number(i, j, lab)
            elif lab is not None:
                ws.write_string(i, j, str(lab))
        for j, v in enumerate(row, start=levels):
            c = _cell(v)
            fmt = col_fmt[j - levels]
            if c is None:
                ws.write_blank(i, j, None, fmt)
            elif isinstance(c, bool):
                ws.write_boolean(i, j, c)
            elif isinstance(c, (int, float)):
                ws.write_number(i, j, c, fmt)
            else:
                ws.write_string(i, j, c)  # never a formula, even if it starts with "="
    for j, col in enumerate(frame.columns, start=levels):
        ws.set_column(j, j, min(max(len(str(col)) + 2, 11), 40))
    ws.freeze_panes(1, levels)
    if len(frame):
        ws.autofilter(0, 0, len(frame), levels + len(frame.columns) - 1)


def _write_excel(path: Path, title: str, sections: list[_Section], generated: str) -> list[str]:
    try:
        import xlsxwriter
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("report() needs xlsxwriter: pip install 'driverkit[report]'") from exc
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                         "strings_to_numbers": False, "nan_inf_to_errors": False})
    fmts: dict[str, Any] = {
        "header": wb.add_format({"bold": True, "bottom": 1, "bg_color": "#DCE9F5",
                                 "text_wrap": False}),
        "title": wb.add_format({"bold": True, "font_size": 14}),
        "bold": wb.add_format({"bold": True}),
        "wrap": wb.add_format({"text_wrap": True, "valign": "top"}),
    }
    about = wb.add_worksheet("About")
    about.set_column(0, 0, 34)
    about.set_column(1, 1, 100)
    about.write_string(0, 0, title, fmts["title"])
    about.write_string(1, 0, f"driverkit {__version__} · {generated}")
    about.write_string(3, 0, "Sheet", fmts["bold"])
    about.write_string(3, 1, "Contents and notes", fmts["bold"])
    r = 4
    names: list[str] = []
    for s in sections:
        for t in s.tables:
            ws = wb.add_worksheet(t.sheet)
            _write_sheet(wb, ws, t.frame, fmts)
            names.append(t.sheet)
            label = s.title + (f" — {t.caption}" if t.caption else "")
            about.write_string(r, 0, t.sheet)
            about.write_string(r, 1, label, fmts["wrap"])
            r += 1
            if not t.caption:
                for note in _section_notes(s):
                    about.write_string(r, 1, f"Note: {note}", fmts["wrap"])
                    r += 1
    r += 1
    about.write_string(r, 0, "Causal caveat", fmts["bold"])
    about.write_string(r, 1, CAUSAL_CAVEAT, fmts["wrap"])
    wb.close()
    return names


# ---------------------------------------------------------------------------------------
# public
# ---------------------------------------------------------------------------------------
def report(*results: Any, path: str | Path = "driverkit_report.html",
           title: str = "Key-driver analysis", subtitle: str | None = None,
           excel: bool | str | Path = True, image_format: str = "png", dpi: int = 110,
           stages: Mapping[str, Any] | None = None,
           assumptions: Iterable[str] = ()) -> ReportFiles:
    """Write a client report: one self-contained HTML file and an Excel workbook.

    Parameters
    ----------
    *results : driverkit results, DataFrames, figures, ``(name, object)`` pairs or dicts
        The sections, in order. Any :class:`~driverkit._results.Result` (model, importance,
        simulation, allocation, …) contributes its table(s), chart(s) and notes; a DataFrame
        becomes a table section (a frontier table is charted as a frontier); a matplotlib
        Figure or Axes becomes a chart. ``("Title", obj)`` or ``{"Title": obj}`` names a
        section.
    path : str or path, default="driverkit_report.html"
        The HTML file to write. A directory (an existing one, or a path without a suffix)
        receives ``report.html`` and ``report.xlsx``.
    title, subtitle : str
        Shown at the top (escaped, like every string in the report).
    excel : bool or path, default=True
        Also write the workbook (``path`` with suffix ``.xlsx``, or the path given).
    image_format : {"png", "svg"}, default="png"
        How charts are embedded (both as ``data:`` URIs, so the file has no dependencies).
    dpi : int, default=110
        Resolution of PNG charts.
    stages : dict, optional
        ``{driver: journey stage}``: importance charts colour their bars by stage.
    assumptions : iterable of str
        Extra assumptions to list (e.g. where the revenue figures come from).

    Returns
    -------
    ReportFiles
        ``.html`` and ``.excel`` paths and the workbook's sheet names.

    Notes
    -----
    The HTML report holds, per section, the key facts, the chart(s) as embedded images, the
    formatted table(s) (intervals as ``[low, high]``) and the result's notes; then method notes
    for the analyses present (with citations), the assumptions and the causal caveat. Strings
    are escaped by Jinja2's autoescape, so a driver called ``<script>`` shows as text. The
    workbook has an ``About`` sheet and one sheet per table with raw (unrounded) numbers,
    number formats, frozen header row and index column, and filters. Strings are written as
    text, never as formulas.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import pandas as pd
    >>> import driverkit as dk
    >>> t = pd.DataFrame({"budget": [0.0, 10.0], "value": [0.0, 25.0]})
    >>> out = dk.report(("Frontier", t), path=pathlib.Path(tempfile.mkdtemp()) / "r.html")
    >>> out.html.exists(), out.excel.suffix, out.sheets
    (True, '.xlsx', ['Frontier'])
    """
    check_option(image_format, "image_format", ["png", "svg"], "report")
    items = _items(results)
    if not items:
        raise DriverkitTypeError("report() needs at least one result to report.")
    html_path = Path(path)
    if html_path.is_dir() or (not html_path.suffix and not html_path.exists()):
        html_path.mkdir(parents=True, exist_ok=True)
        html_path = html_path / "report.html"
    html_path.parent.mkdir(parents=True, exist_ok=True)
    excel_path: Path | None
    if excel is True:
        excel_path = html_path.with_suffix(".xlsx")
    elif excel is False or excel is None:
        excel_path = None
    else:
        excel_path = Path(excel)

    sections = [_as_section(name, obj, i) for i, (name, obj) in enumerate(items, start=1)]
    titles: set[str] = set()
    sheets: set[str] = {"about"}
    for i, s in enumerate(sections, start=1):
        s.title = _unique(s.title, titles)
        s.anchor = f"dk-section-{i}"
        for t in s.tables:
            base = _sheet_base(s.title)
            label = _shorten(base, 31) if not t.caption else (
                f"{_shorten(base, max(31 - len(t.short) - 1, 6))} {t.short}")
            t.sheet = _sheet_name(label, sheets)
        _draw(s, image_format, dpi, stages)

    generated = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    context = {
        "title": title, "subtitle": subtitle, "version": __version__, "generated": generated,
        "caveat": CAUSAL_CAVEAT, "excel_name": excel_path.name if excel_path else "",
        "sections": [{
            "title": s.title, "anchor": s.anchor, "kind": s.kind,
            "meta": [(meta_label(k), format_value(v, str(k))) for k, v in
                     (getattr(s.obj, "meta", None) or {}).items()],
            "charts": s.charts, "chart_errors": s.chart_errors,
            "tables": [_table_context(t) for t in s.tables],
            "notes": _section_notes(s),
        } for s in sections],
        "methods": _method_notes(sections),
        "assumptions": _assumptions(sections, assumptions),
    }
    html_text = _environment().get_template("report.html.j2").render(**context)
    html_path.write_text(html_text, encoding="utf-8")
    names = _write_excel(excel_path, title, sections, generated) if excel_path else []
    return ReportFiles(html=html_path, excel=excel_path, sheets=names,
                       sections={s.title: [t.sheet for t in s.tables] for s in sections})
