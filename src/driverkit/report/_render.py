"""One renderer for every result: text, HTML and LaTeX from ``.table``, ``.meta``, ``.notes``.

Display labels and rounding are applied here only; the data in ``.table`` stay raw.
"""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["format_table", "format_value", "render_html", "render_latex", "render_text"]

_PCT_COLUMNS = {"share", "share_low", "share_high", "pct"}
_P_COLUMNS = {"p_value", "q_value", "p_asymmetry"}
_INT_COLUMNS = {"rank", "n", "rank_low", "rank_high", "stated_rank", "derived_rank", "n_obs"}


def format_value(value: Any, column: str = "") -> str:
    """Format one cell for display according to its column's meaning."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return f"{int(value):,}" if abs(int(value)) >= 10_000 else str(int(value))
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if math.isnan(v):
            return "–"
        if math.isinf(v):
            return "∞" if v > 0 else "−∞"
        col = column.lower()
        if col in _P_COLUMNS:
            return "<0.001" if v < 0.001 else f"{v:.3f}"
        if col in _INT_COLUMNS and float(v).is_integer():
            return str(int(v))
        if col in _PCT_COLUMNS or col.endswith("_pct"):
            return f"{v:.1f}%"
        a = abs(v)
        if a >= 1e5:
            return f"{v:,.0f}"
        if a >= 100:
            return f"{v:,.1f}"
        if a == 0:
            return "0"
        if a < 1e-4:
            return f"{v:.2e}"
        return f"{v:.4f}"
    return str(value)


def format_table(table: pd.DataFrame) -> pd.DataFrame:
    """Return a string-valued copy of ``table`` formatted for display."""
    out = pd.DataFrame(index=[str(i) for i in table.index])
    for col in table.columns:
        out[str(col)] = [format_value(v, str(col)) for v in table[col].tolist()]
    out.index.name = table.index.name
    return out


def _meta_lines(meta: dict[str, Any]) -> list[str]:
    return [f"{k}: {format_value(v, k)}" for k, v in meta.items()]


def render_text(result: Any) -> str:
    """Plain-text rendering used by ``summary()`` and ``repr``."""
    lines = [result.title, "=" * len(result.title)]
    lines += _meta_lines(result.meta)
    table = result.table
    if isinstance(table, pd.DataFrame) and not table.empty:
        lines.append("")
        lines.append(format_table(table).to_string())
    if result.notes:
        lines.append("")
        lines += [f"Note: {n}" for n in result.notes]
    return "\n".join(lines)


_CSS = (
    "<style>.dk-result table{border-collapse:collapse;font-size:0.9em}"
    ".dk-result th,.dk-result td{padding:2px 8px;text-align:right}"
    ".dk-result th:first-child,.dk-result td:first-child{text-align:left}"
    ".dk-result thead{border-bottom:1px solid #888}.dk-result .dk-meta{color:#555}"
    ".dk-result .dk-note{color:#8a4b00}</style>"
)


def render_html(result: Any) -> str:
    """HTML fragment for notebooks and reports; every user-supplied string is escaped."""
    esc = html.escape
    parts = [_CSS, '<div class="dk-result">', f"<h4>{esc(result.title)}</h4>"]
    if result.meta:
        facts = " · ".join(f"{esc(str(k))}: {esc(format_value(v, k))}" for k, v in result.meta.items())
        parts.append(f'<p class="dk-meta">{facts}</p>')
    table = result.table
    if isinstance(table, pd.DataFrame) and not table.empty:
        ft = format_table(table)
        head = "".join(f"<th>{esc(str(c))}</th>" for c in ft.columns)
        idx_name = esc(str(ft.index.name)) if ft.index.name is not None else ""
        rows = []
        for idx, row in ft.iterrows():
            cells = "".join(f"<td>{esc(v)}</td>" for v in row.tolist())
            rows.append(f"<tr><th>{esc(str(idx))}</th>{cells}</tr>")
        parts.append(
            f"<table><thead><tr><th>{idx_name}</th>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
        )
    for note in result.notes:
        parts.append(f'<p class="dk-note">⚠ {esc(note)}</p>')
    parts.append("</div>")
    return "".join(parts)


def render_latex(result: Any) -> str:
    """A booktabs LaTeX table of the formatted ``.table``."""
    ft = format_table(result.table)

    def tex(s: str) -> str:
        for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("$", r"\$"),
                     ("#", r"\#"), ("_", r"\_"), ("{", r"\{"), ("}", r"\}")):
            s = s.replace(a, b)
        return s

    cols = "l" + "r" * len(ft.columns)
    lines = [rf"\begin{{tabular}}{{{cols}}}", r"\toprule",
             " & ".join([""] + [tex(str(c)) for c in ft.columns]) + r" \\", r"\midrule"]
    for idx, row in ft.iterrows():
        lines.append(" & ".join([tex(str(idx))] + [tex(v) for v in row.tolist()]) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines)
