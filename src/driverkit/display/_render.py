"""One renderer for every result: text, HTML and LaTeX from ``.table``, ``.meta``, ``.notes``.

Display labels and rounding are applied here only; the data in ``.table`` stay raw.
"""

from __future__ import annotations

import html
import math
import re
from typing import Any

import numpy as np
import pandas as pd

from ._format import Format, current, for_result, format_options, plain_numbers

__all__ = [
    "display_table",
    "format_table",
    "format_value",
    "index_label",
    "is_warning",
    "render_html",
    "render_latex",
    "render_text",
]

def format_value(value: Any, column: str = "") -> str:
    """Format one value for display according to its column's meaning (current formatter).

    Text values that carry e-notation (``"1e+06"``) are rewritten as plain numbers.
    """
    if isinstance(value, str):
        return plain_numbers(value)
    return current().number(value, column)


def index_label(label: Any) -> str:
    """Display label of a row: a MultiIndex tuple becomes ``"a / b"`` (labels applied)."""
    return current().label(label)


def format_table(table: pd.DataFrame) -> pd.DataFrame:
    """Return a string-valued copy of ``table`` formatted for display.

    A MultiIndex is shown as one label per row (``"staff / Business"``).
    """
    fmt = current()
    out = pd.DataFrame(index=[index_label(i) for i in table.index])
    for col in table.columns:
        out[fmt.heading(col)] = _cells(fmt, table[col], str(col))
    if isinstance(table.index, pd.MultiIndex):
        names = [n for n in table.index.names if n is not None]
        out.index.name = " / ".join(fmt.heading(n) for n in names) if names else None
    else:
        out.index.name = None if table.index.name is None else fmt.heading(table.index.name)
    return out


def _cells(fmt: Format, values: pd.Series, column: str) -> list[str]:
    """A column's cells as text; a column of names (drivers, scenarios) gets the labels."""
    vals = values.tolist()
    if vals and all(isinstance(v, str) for v in vals):
        return [fmt.label(v) for v in vals]
    return fmt.column(vals, column)


_MAX_ROWS = 60


def _ci_level(result: Any) -> float | None:
    level = getattr(result, "ci", None)
    if not isinstance(level, (float, np.floating)):
        meta = getattr(result, "meta", {}) or {}
        level = meta.get("ci", meta.get("ci_level"))
    if isinstance(level, (float, np.floating)) and 0 < float(level) < 1:
        return float(level)
    return None


def display_table(table: pd.DataFrame, *, ci: float | None = None) -> pd.DataFrame:
    """Formatted copy of ``table`` with each interval pair shown as one ``[low, high]`` column.

    ``ci_low``/``ci_high`` become ``"95% CI"`` (the level when known, else ``"CI"``) placed
    where ``ci_low`` was; ``x_low``/``x_high`` become ``"x CI"`` placed right after ``x``.
    The raw ``.table`` is never changed; this is for display only.
    """
    fmt = current()
    ft = format_table(table)
    cols = [str(c) for c in table.columns]
    label = f"{100 * ci:g}% CI" if ci is not None else "CI"
    order: list[str] = []
    merged: dict[str, pd.Series] = {}
    done: set[str] = set()
    for c in cols:
        if c in done:
            continue
        if c.endswith("_low") and f"{c[:-4]}_high" in cols:
            base, hi = c[:-4], f"{c[:-4]}_high"
            shown_base = fmt.heading(base)
            name = label if base == "ci" else f"{shown_base} {label if base in cols else 'CI'}"
            fmt_col = "" if base == "ci" else base
            lo_v, hi_v = table[c].tolist(), table[hi].tolist()
            # one set of decimals for the estimate and both bounds
            ref = table[base].tolist() if base in cols else []
            point = next((c for c in ("importance", "estimate") if c in cols), None)
            if base == "ci" and point is not None:
                ref, fmt_col = table[point].tolist(), point
            text = fmt.column(ref + lo_v + hi_v, fmt_col)[len(ref):]
            lo_t, hi_t = text[:len(lo_v)], text[len(lo_v):]
            merged[name] = pd.Series(
                [("" if _isnan(a) and _isnan(b) else f"[{ta}, {tb}]")
                 for a, b, ta, tb in zip(lo_v, hi_v, lo_t, hi_t, strict=True)], index=ft.index)
            if base in cols:
                ft[fmt.heading(base)] = text_of_base(fmt, table, base, lo_v, hi_v)
            done.update({c, hi})
            if base in cols and fmt.heading(base) in order:
                order.insert(order.index(fmt.heading(base)) + 1, name)
            else:
                order.append(name)
            continue
        if c.endswith("_high") and f"{c[:-5]}_low" in cols:
            continue  # placed with its _low partner
        order.append(fmt.heading(c))
        done.add(c)
    out = pd.DataFrame(index=ft.index)
    for name in order:
        out[name] = merged[name] if name in merged else ft[name]
    out.index.name = ft.index.name
    return out


def text_of_base(fmt: Format, table: pd.DataFrame, base: str, lo: list[Any],
                 hi: list[Any]) -> list[str]:
    """The estimate column formatted with the same decimals as its interval."""
    vals = table[base].tolist()
    return fmt.column(vals + lo + hi, base)[: len(vals)]


def _isnan(v: Any) -> bool:
    return v is None or (isinstance(v, (float, np.floating)) and math.isnan(float(v)))


def _shown(table: pd.DataFrame, max_rows: int = _MAX_ROWS) -> tuple[pd.DataFrame, int]:
    """Head and tail of a long table and the number of rows left out."""
    if len(table) <= max_rows:
        return table, 0
    half = max_rows // 2
    return pd.concat([table.iloc[:half], table.iloc[-half:]]), len(table) - 2 * half


def _meta_lines(meta: dict[str, Any]) -> list[str]:
    fmt = current()
    return [f"{_meta_heading(fmt, k)}: {format_value(v, k)}" for k, v in meta.items()]


def _meta_heading(fmt: Any, key: Any) -> str:
    """``.meta`` keys are snake_case data; unlike table columns they are always shown with
    their readable labels ("condition_number" → "condition number")."""
    import dataclasses

    return dataclasses.replace(fmt, readable=True).heading(key)


def render_text(result: Any) -> str:
    """Plain-text rendering used by ``summary()`` and ``repr``."""
    with format_options(for_result(result)):
        return _render_text(result)


def _render_text(result: Any) -> str:
    lines = [result.title, "=" * len(result.title)]
    lines += _meta_lines(result.meta)
    table = result.table
    if isinstance(table, pd.DataFrame) and not table.empty:
        shown, cut = _shown(table)
        lines.append("")
        text = display_table(shown, ci=_ci_level(result)).to_string()
        if cut:
            body = text.splitlines()
            head = 1 + (1 if table.index.name is not None else 0) + _MAX_ROWS // 2
            body.insert(head, f"... ({cut} more rows) ...")
            text = "\n".join(body)
        lines.append(text)
    if result.notes:
        lines.append("")
        lines += [f"{'Warning' if is_warning(n) else 'Note'}: {n}" for n in result.notes]
    return "\n".join(lines)


_CSS = (
    "<style>.dk-result table{border-collapse:collapse;font-size:0.9em}"
    ".dk-result th,.dk-result td{padding:2px 8px;text-align:right;white-space:nowrap}"
    ".dk-result th:first-child,.dk-result td:first-child{text-align:left}"
    ".dk-result thead{border-bottom:1px solid #888}.dk-result .dk-meta{color:#555}"
    ".dk-result .dk-notes{margin:0.4em 0;padding:0.3em 0.6em;border-left:3px solid #E69F00;"
    "list-style:none;color:#8a4b00}.dk-result .dk-more{color:#555;font-style:italic}</style>"
)


def render_html(result: Any) -> str:
    """HTML fragment for notebooks and reports; every user-supplied string is escaped."""
    with format_options(for_result(result)):
        return _render_html(result)


def _render_html(result: Any) -> str:
    esc = html.escape
    fmt = current()
    parts = [_CSS, '<div class="dk-result">', f"<h4>{esc(result.title)}</h4>"]
    if result.meta:
        facts = " · ".join(f"{esc(_meta_heading(fmt, k))}: {esc(format_value(v, str(k)))}"
                           for k, v in result.meta.items())
        parts.append(f'<p class="dk-meta">{facts}</p>')
    table = result.table
    if isinstance(table, pd.DataFrame) and not table.empty:
        shown, cut = _shown(table)
        ft = display_table(shown, ci=_ci_level(result))
        head = "".join(f"<th>{esc(str(c))}</th>" for c in ft.columns)
        idx_name = esc(str(ft.index.name)) if ft.index.name is not None else ""
        rows = []
        for i, (idx, row) in enumerate(ft.iterrows()):
            if cut and i == _MAX_ROWS // 2:
                rows.append(f'<tr><td class="dk-more" colspan="{len(ft.columns) + 1}">'
                            f"… {cut} more rows …</td></tr>")
            cells = "".join(f"<td>{esc(v)}</td>" for v in row.tolist())
            rows.append(f"<tr><th>{esc(str(idx))}</th>{cells}</tr>")
        parts.append(
            f"<table><thead><tr><th>{idx_name}</th>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
        )
    if result.notes:
        items = "".join(
            f'<li class="dk-warning">⚠ {esc(str(n))}</li>' if is_warning(n)
            else f'<li class="dk-note">{esc(str(n))}</li>' for n in result.notes)
        parts.append(f'<ul class="dk-notes">{items}</ul>')
    parts.append("</div>")
    return "".join(parts)


_WARNING_WORDS = re.compile(
    r"\b(warn\w*|dropped|extrapolat\w*|cannot|could not|did not converge|not converge\w*|"
    r"unstable|separation|outside the observed|beyond the observed|too few|fewer than|"
    r"collinear\w*|singular|failed|caution|unreliable|at the top of its scale|illustrative)\b",
    re.IGNORECASE)


def is_warning(note: Any) -> bool:
    """Whether a note warns about these data (shown with ⚠) or states method (shown plainly).

    Examples
    --------
    >>> is_warning("220 respondents with missing values dropped.")
    True
    >>> is_warning("Bootstrap resamples respondents with their sampling weights.")
    False
    """
    text = str(note)
    return bool(_WARNING_WORDS.search(text))


def render_latex(result: Any) -> str:
    """A booktabs LaTeX table of the formatted ``.table`` (intervals as ``[low, high]``)."""
    with format_options(for_result(result)):
        return _render_latex(result)


def _render_latex(result: Any) -> str:
    ft = display_table(result.table, ci=_ci_level(result))

    def tex(s: str) -> str:
        for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("$", r"\$"),
                     ("#", r"\#"), ("_", r"\_"), ("{", r"\{"), ("}", r"\}"),
                     ("~", r"\textasciitilde{}"), ("^", r"\textasciicircum{}")):
            s = s.replace(a, b)
        return s

    cols = "l" + "r" * len(ft.columns)
    lines = [rf"\begin{{tabular}}{{{cols}}}", r"\toprule",
             " & ".join([""] + [tex(str(c)) for c in ft.columns]) + r" \\", r"\midrule"]
    for idx, row in ft.iterrows():
        lines.append(" & ".join([tex(str(idx))] + [tex(v) for v in row.tolist()]) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines)
