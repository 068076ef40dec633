"""The report's Excel workbook: raw numbers, real percentages, Excel tables and native charts.

Every table is an Excel table (named header cells, filter buttons) holding the unrounded
numbers of the result's ``.table``; percentages are stored as fractions with a ``%`` format
(so reformatting a cell never shows 863 %); strings are always text cells (a label that starts
with ``=``, ``+``, ``-`` or ``@`` never becomes a formula). Importance, the priority matrix,
the importance–performance map and the budget plan also get native xlsxwriter charts the
client can restyle.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._version import __version__
from ..display._format import Format, _kind, is_money

__all__ = ["write_excel"]

_RATE_COLUMNS = re.compile(r"^(baseline_rate|scenario_rate|delta_rate|prob_\w+|p_top|"
                           r"share_(moved|at_ceiling|at_floor|clipped|beyond_observed))"
                           r"(_low|_high)?$")


def _is_percent_points(column: str) -> bool:
    """Columns that hold percentages as 0–100 numbers (``share``): stored as fractions."""
    return _kind(column.lower()) == "pct"


def _excel_format(column: str, values: pd.Series, fmt: Format) -> str:
    col = column.lower()
    if col in {"p_value", "q_value", "p_asymmetry", "p_greater"}:
        return "0.0000"
    if _is_percent_points(col):
        return "0.0%"
    if _RATE_COLUMNS.match(col):
        return "0.00%"
    if pd.api.types.is_integer_dtype(values) or col in {"rank", "n", "n_obs", "rank_low",
                                                         "rank_high"}:
        return "0"
    if (is_money(col) or col in fmt.money_columns) and fmt.currency:
        from babel.numbers import get_currency_symbol

        symbol = get_currency_symbol(fmt.currency, fmt.locale or "en_US").replace('"', "")
        return f'#,##0 "{symbol}";-#,##0 "{symbol}"'
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
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    if isinstance(value, (pd.Timestamp, _dt.date)):
        return str(value)
    return str(value)


def _headers(frame: pd.DataFrame, fmt: Format) -> tuple[list[str], int]:
    """Unique, non-empty header names: index level(s) first, then the columns."""
    plain = isinstance(frame.index, pd.RangeIndex) and frame.index.name is None
    levels = 0 if plain else frame.index.nlevels
    names = []
    for j in range(levels):
        n = frame.index.names[j]
        names.append(fmt.heading(n) if n is not None else ("name" if levels == 1
                                                           else f"level {j + 1}"))
    names += [fmt.heading(c) for c in frame.columns]
    seen: dict[str, int] = {}
    out = []
    for n in names:
        n = n.strip() or "column"
        k = seen.get(n.lower(), 0)
        seen[n.lower()] = k + 1
        out.append(n if k == 0 else f"{n} ({k + 1})")
    return out, levels


def _write_sheet(wb: Any, ws: Any, frame: pd.DataFrame, fmts: dict[str, Any], fmt: Format,
                 name: str) -> dict[str, int]:
    """One table as an Excel table; returns ``{column: sheet column index}``."""
    headers, levels = _headers(frame, fmt)
    col_fmt = []
    for col in frame.columns:
        spec = _excel_format(str(col), frame[col], fmt)
        if spec not in fmts:
            fmts[spec] = wb.add_format({"num_format": spec})
        col_fmt.append(fmts[spec])
    n = len(frame)
    for i, (label, row) in enumerate(zip(frame.index, frame.itertuples(index=False, name=None),
                                         strict=True), start=1):
        parts = label if levels > 1 else (label,)
        for j in range(levels):
            lab = _cell(parts[j])
            if isinstance(lab, (int, float)) and not isinstance(lab, bool):
                ws.write_number(i, j, lab)
            elif lab is not None:
                ws.write_string(i, j, fmt.label(lab))
        for j, (col, v) in enumerate(zip(frame.columns, row, strict=True), start=levels):
            c = _cell(v)
            cf = col_fmt[j - levels]
            if c is None:
                ws.write_blank(i, j, None, cf)
            elif isinstance(c, bool):
                ws.write_boolean(i, j, c)
            elif isinstance(c, (int, float)):
                if _is_percent_points(str(col)):
                    c = c / 100.0  # a real percentage: the fraction, shown with a % format
                ws.write_number(i, j, c, cf)
            else:
                ws.write_string(i, j, fmt.label(c))  # text, never a formula
    last = max(levels + len(frame.columns) - 1, 0)
    table_name = re.sub(r"\W", "_", f"t_{name}")[:250]
    if not re.match(r"^[A-Za-z_]", table_name):
        table_name = "t_" + table_name
    ws.add_table(0, 0, max(n, 1), last, {
        "name": table_name, "style": "Table Style Light 9", "autofilter": True,
        "columns": [{"header": h, "header_format": fmts["header"]} for h in headers],
    })
    for j, h in enumerate(headers):
        if j < levels:
            values = frame.index.get_level_values(j)[:200]
            width = max([len(h), *[len(fmt.label(v)) for v in values], 6])
            ws.set_column(j, j, min(width + 2, 45))
        else:
            ws.set_column(j, j, min(max(len(h) + 3, 11), 40), col_fmt[j - levels])
    ws.freeze_panes(1, levels)
    return {str(c): j for j, c in enumerate(frame.columns, start=levels)}


def _ref(sheet: str, r0: int, c0: int, r1: int, c1: int) -> list[Any]:
    return [sheet, r0, c0, r1, c1]


def _chart_importance(wb: Any, ws: Any, sheet: str, frame: pd.DataFrame,
                      cols: dict[str, int]) -> bool:
    n = len(frame)
    if "share" not in cols or n == 0:
        return False
    chart = wb.add_chart({"type": "bar"})
    series: dict[str, Any] = {
        "name": "share of the explained fit",
        "categories": _ref(sheet, 1, 0, n, 0),
        "values": _ref(sheet, 1, cols["share"], n, cols["share"]),
        "fill": {"color": "#0072B2"},
    }
    if {"share_low", "share_high", "share"} <= set(frame.columns):
        # the bootstrap interval of each share (percentiles of the replicate shares), as
        # literal error-bar lengths (fractions)
        sh = frame["share"].to_numpy(dtype=float)
        plus = np.nan_to_num((frame["share_high"].to_numpy(dtype=float) - sh) / 100)
        minus = np.nan_to_num((sh - frame["share_low"].to_numpy(dtype=float)) / 100)
        series["x_error_bars"] = {
            "type": "custom", "end_style": 1,
            "plus_values": [round(float(max(v, 0.0)), 6) for v in plus],
            "minus_values": [round(float(max(v, 0.0)), 6) for v in minus],
        }
    chart.add_series(series)
    chart.set_title({"name": "Relative importance"})
    chart.set_x_axis({"num_format": "0%", "major_gridlines": {"visible": True}})
    chart.set_y_axis({"reverse": True})
    chart.set_legend({"none": True})
    chart.set_size({"width": 620, "height": max(300, 26 * n + 90)})
    ws.insert_chart(1, len(frame.columns) + 3, chart)
    return True


def _chart_priority(wb: Any, ws: Any, sheet: str, frame: pd.DataFrame,
                    cols: dict[str, int]) -> None:
    n = len(frame)
    if not {"performance", "impact"} <= set(cols) or n == 0:
        return
    chart = wb.add_chart({"type": "scatter"})
    chart.add_series({
        "name": "drivers",
        "categories": _ref(sheet, 1, cols["performance"], n, cols["performance"]),
        "values": _ref(sheet, 1, cols["impact"], n, cols["impact"]),
        "marker": {"type": "circle", "size": 7, "fill": {"color": "#D55E00"}},
        "data_labels": {"custom": [{"value": f"='{sheet}'!$A${i + 2}"} for i in range(n)],
                        "position": "right", "font": {"size": 8}},
    })
    chart.set_title({"name": "Priority matrix"})
    chart.set_x_axis({"name": "current performance (mean rating)",
                      "major_gridlines": {"visible": False}})
    chart.set_y_axis({"name": "impact of +1 point", "num_format": "#,##0"})
    chart.set_legend({"none": True})
    chart.set_size({"width": 620, "height": 420})
    ws.insert_chart(1, len(frame.columns) + 3, chart)


def _chart_plan(wb: Any, ws: Any, sheet: str, frame: pd.DataFrame, cols: dict[str, int]) -> None:
    n = len(frame)
    if "spend" not in cols or n == 0:
        return
    chart = wb.add_chart({"type": "bar"})
    chart.add_series({
        "name": "spend",
        "categories": _ref(sheet, 1, 0, n, 0),
        "values": _ref(sheet, 1, cols["spend"], n, cols["spend"]),
        "fill": {"color": "#0072B2"},
    })
    chart.set_title({"name": "Budget plan: spend per driver"})
    chart.set_x_axis({"num_format": "#,##0"})
    chart.set_y_axis({"reverse": True})
    chart.set_legend({"none": True})
    chart.set_size({"width": 620, "height": max(300, 26 * n + 90)})
    ws.insert_chart(1, len(frame.columns) + 3, chart)


def _chart_ipma(wb: Any, ws: Any, sheet: str, frame: pd.DataFrame, cols: dict[str, int],
                meta: dict[str, Any]) -> bool:
    """Importance (x) against performance (y), the axes crossing at the two means."""
    n = len(frame)
    if not {"importance", "performance"} <= set(cols) or n == 0:
        return False
    x = frame["importance"].to_numpy(dtype=float)
    y = frame["performance"].to_numpy(dtype=float)
    label_col = frame.index.nlevels - 1  # the innermost index level names the point
    col = chr(ord("A") + label_col)
    chart = wb.add_chart({"type": "scatter"})
    series: dict[str, Any] = {
        "name": "drivers",
        "categories": _ref(sheet, 1, cols["importance"], n, cols["importance"]),
        "values": _ref(sheet, 1, cols["performance"], n, cols["performance"]),
        "marker": {"type": "circle", "size": 7, "fill": {"color": "#1F4E79"},
                   "border": {"color": "#1F4E79"}},
        "data_labels": {"custom": [{"value": f"='{sheet}'!${col}${i + 2}"} for i in range(n)],
                        "position": "right", "font": {"size": 8}},
    }
    for axis, v, name in (("x", x, "importance"), ("y", y, "performance")):
        if {f"{name}_low", f"{name}_high"} <= set(frame.columns):
            # bootstrap intervals as literal error-bar lengths
            plus = np.nan_to_num(frame[f"{name}_high"].to_numpy(dtype=float) - v)
            minus = np.nan_to_num(v - frame[f"{name}_low"].to_numpy(dtype=float))
            series[f"{axis}_error_bars"] = {
                "type": "custom", "end_style": 1,
                "plus_values": [round(float(max(e, 0.0)), 6) for e in plus],
                "minus_values": [round(float(max(e, 0.0)), 6) for e in minus]}
    chart.add_series(series)
    mi = float(meta.get("mean_importance", np.nanmean(x)))
    mp = float(meta.get("mean_performance", np.nanmean(y)))
    # the quadrant split: each axis crosses the other at its mean, tick labels at the edges
    chart.set_title({"name": "Importance–performance map"})
    chart.set_x_axis({"name": "importance (index points per index point of the driver)",
                      "major_gridlines": {"visible": False}, "crossing": mi,
                      "label_position": "low"})
    chart.set_y_axis({"name": "performance (mean index, 0–100)", "crossing": mp,
                      "label_position": "low", "major_gridlines": {"visible": False}})
    chart.set_legend({"none": True})
    chart.set_size({"width": 620, "height": 420})
    ws.insert_chart(1, len(frame.columns) + frame.index.nlevels + 2, chart)
    return True


def write_excel(path: Path, title: str, sections: Sequence[Any], generated: str, *,
                fmt: Format, summary: Any = None, caveat: str = "",
                notes_of: Any = None) -> tuple[list[str], list[str]]:
    """Write the workbook; returns the table sheets and the sheets holding native charts.

    Headers are the results' own column names unless ``labels`` renames them, so the sheets
    read back into the same frames as ``.table``.
    """
    import dataclasses

    fmt = dataclasses.replace(fmt, readable=False)
    try:
        import xlsxwriter
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("report() needs xlsxwriter: pip install 'driverkit[report]'") from exc
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                         "strings_to_numbers": False, "nan_inf_to_errors": False})
    fmts: dict[str, Any] = {
        "header": wb.add_format({"bold": True, "bottom": 1, "bg_color": "#DCE9F5"}),
        "title": wb.add_format({"bold": True, "font_size": 14}),
        "bold": wb.add_format({"bold": True}),
        "wrap": wb.add_format({"text_wrap": True, "valign": "top"}),
    }
    about = wb.add_worksheet("About")
    about.set_column(0, 0, 34)
    about.set_column(1, 1, 100)
    about.write_string(0, 0, title, fmts["title"])
    about.write_string(1, 0, f"driverkit {__version__} · {generated}")
    r = 3
    if summary is not None:
        about.write_string(r, 0, "Executive summary", fmts["bold"])
        r += 1
        for block in summary.blocks:
            about.write_string(r, 0, block.heading, fmts["bold"])
            about.write_string(r, 1, block.lead, fmts["wrap"])
            r += 1
            for b in block.bullets:
                about.write_string(r, 1, f"• {b}", fmts["wrap"])
                r += 1
        about.write_string(r, 0, "Caveats", fmts["bold"])
        about.write_string(r, 1, summary.caveats, fmts["wrap"])
        r += 2
    about.write_string(r, 0, "Sheet", fmts["bold"])
    about.write_string(r, 1, "Contents and notes", fmts["bold"])
    r += 1
    names: list[str] = []
    charted: list[str] = []
    for s in sections:
        for t in s.tables:
            ws = wb.add_worksheet(t.sheet)
            cols = _write_sheet(wb, ws, t.frame, fmts, fmt, t.sheet)
            names.append(t.sheet)
            if not t.caption:
                if s.kind in ("ImportanceResult", "StageImportanceResult"):
                    if _chart_importance(wb, ws, t.sheet, t.frame, cols):
                        charted.append(t.sheet)
                elif s.kind == "PriorityResult" and {"performance", "impact"} <= set(cols):
                    _chart_priority(wb, ws, t.sheet, t.frame, cols)
                    charted.append(t.sheet)
                elif s.kind == "IPMAResult":
                    if _chart_ipma(wb, ws, t.sheet, t.frame, cols, s.obj.meta or {}):
                        charted.append(t.sheet)
                elif s.kind == "Allocation" and "spend" in cols:
                    _chart_plan(wb, ws, t.sheet, t.frame, cols)
                    charted.append(t.sheet)
            label = s.title + (f" — {t.caption}" if t.caption else "")
            about.write_string(r, 0, t.sheet)
            about.write_string(r, 1, label, fmts["wrap"])
            r += 1
            if not t.caption and notes_of is not None:
                for note in notes_of(s):
                    about.write_string(r, 1, f"Note: {note}", fmts["wrap"])
                    r += 1
    r += 1
    about.write_string(r, 0, "Causal caveat", fmts["bold"])
    about.write_string(r, 1, caveat, fmts["wrap"])
    wb.close()
    return names, charted
