"""``dk.report``: a self-contained HTML report, an Excel workbook and a PowerPoint deck.

The HTML opens with an executive summary generated from the results (:mod:`._summary`);
the sections follow with the charts, the main tables and the notes; technical detail
(solver facts, diagnostics, pairwise tests, extra tables) sits in an appendix. Names and
numbers go through one formatter (:mod:`driverkit.display._format`): ``labels=``,
``currency=`` and ``locale=`` apply to every table, chart, sheet and slide, never to the
results' own ``.table``.
"""

from __future__ import annotations

import base64
import datetime as _dt
import io
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
from ..display._format import Format, current, for_result, format_options, make_format
from ..display._format import plain_numbers as _plain_numbers
from ..display._render import _ci_level, display_table, format_value, is_warning
from ..exceptions import DriverkitError, DriverkitTypeError
from ._notes import CAUSAL_CAVEAT, GENERAL_ASSUMPTIONS, METHOD_NOTES, method_topics
from ._summary import Summary, executive_summary, outcome_of

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

# Tables a result kind shows in its own section (not the appendix), after its ``.table``:
# (caption, sheet suffix, attribute or function of the result).
_SECTION_TABLES: dict[str, list[tuple[str, str, Any]]] = {
    "PLSModel": [
        ("R² of the endogenous constructs", "R2",
         lambda m: pd.DataFrame({"r2": m.r2, "adj_r2": m.adj_r2})),
        ("reliability and convergent validity", "reliability", "reliability"),
        ("mean indices (0–100)", "indices", "index_table"),
    ],
}
# Their technical tables, in the appendix.
_APPENDIX_TABLES: dict[str, list[tuple[str, str, Any]]] = {
    "PLSModel": [
        ("outer weights and loadings", "outer", "outer"),
        ("total effects", "total effects", "total_effects"),
        ("heterotrait–monotrait ratios (HTMT)", "HTMT", "htmt"),
    ],
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
            # cost-curve frontiers (an allocation per budget) are continuous; portfolios step
            kind = kwargs.pop("kind", None) or (
                "continuous" if "allocation" in self.table.columns else None)
            return budget_frontier(self.table, ax=ax, title=self.title, kind=kind, **kwargs)
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
    pptx : pathlib.Path or None
        The PowerPoint deck, ``None`` unless asked for (``pptx=True`` or ``formats``).
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
    pptx: Path | None = None

    @property
    def paths(self) -> list[Path]:
        """Every file written."""
        return [p for p in (self.html, self.excel, self.pptx) if p is not None]

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.paths)


@dataclass
class _Table:
    caption: str
    frame: pd.DataFrame
    sheet: str = ""
    ci: float | None = None
    short: str = ""
    main: bool = False  # a captioned table shown in the section itself, not the appendix


@dataclass
class _Section:
    title: str
    obj: Any
    kind: str
    tables: list[_Table]
    anchor: str = ""
    charts: list[dict[str, str]] = field(default_factory=list)
    chart_errors: list[str] = field(default_factory=list)
    figures: list[tuple[str, Any, bytes]] = field(default_factory=list)
    outcome: str = ""


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
        kind = type(obj).__name__
        for specs, main in ((_SECTION_TABLES.get(kind, []), True),
                            (_APPENDIX_TABLES.get(kind, []), False)):
            for caption, short, get in specs:
                frame = get(obj) if callable(get) else getattr(obj, get)
                if isinstance(frame, pd.DataFrame) and not frame.empty:
                    tables.append(_Table(caption, frame, ci=_ci_level(obj), short=short,
                                         main=main))
        return _Section(title, obj, type(obj).__name__, tables)
    if _is_figure(obj):
        return _Section(name or f"Chart {position}", obj, "Figure", [])
    raise DriverkitTypeError(
        f"report() got an object of type {type(obj).__name__} (item {position}). Pass driverkit "
        "results, pandas DataFrames, matplotlib figures, or (name, object) pairs."
    )


def _unique(name: str, used: set[str], *, limit: int | None = None, casefold: bool = False) -> str:
    """``name`` made unique in ``used`` (`` (2)``, `` (3)``…), shortened at a word boundary."""
    base = _shorten(name, limit) if limit else name
    cand, k = base, 2
    key = (lambda s: s.lower()) if casefold else (lambda s: s)
    while key(cand) in used:
        suffix = f" ({k})"
        cand = (_shorten(name, limit - len(suffix)) if limit else base) + suffix
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
    head = text[:room + 1]
    if " " not in head:
        return text[:room].rstrip()
    cut = head.rsplit(" ", 1)[0].rstrip(" -–,;:")
    return cut if len(cut) >= room // 2 else text[:room].rstrip()


def _sheet_name(text: str, used: set[str]) -> str:
    clean = re.sub(r"[\[\]:*?/\\]", "_", text).strip().strip("'") or "Sheet"
    return _unique(clean, used, limit=31, casefold=True)


# ---------------------------------------------------------------------------------------
# charts
# ---------------------------------------------------------------------------------------
def _figure_bytes(fig: Any, image_format: str, dpi: int) -> bytes:
    buf = io.BytesIO()
    # a light PNG compression: several times faster to write, files a little larger
    fig.savefig(buf, format=image_format, dpi=dpi, bbox_inches="tight",
                metadata={"Date": None} if image_format == "svg" else None,
                **({"pil_kwargs": {"compress_level": 3}} if image_format == "png" else {}))
    return buf.getvalue()


def _uri(data: bytes, image_format: str) -> str:
    mime = "image/svg+xml" if image_format == "svg" else "image/png"
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _render_figure(section: _Section, caption: str, fig: Any, image_format: str,
                   dpi: int) -> None:
    """Embed ``fig`` in the HTML and keep a PNG for the deck (one rendering when possible)."""
    data = _figure_bytes(fig, image_format, dpi)
    png = data if image_format == "png" else b""
    section.charts.append({"uri": _uri(data, image_format), "caption": caption})
    section.figures.append((caption, fig, png))


def stage_map(stages: Mapping[str, Any] | None) -> dict[str, str] | None:
    """``{driver: stage}`` from ``{stage: [drivers]}`` or ``{driver: stage}``."""
    if not stages:
        return None
    out: dict[str, str] = {}
    for k, v in stages.items():
        if isinstance(v, (list, tuple, set)):
            out.update({str(d): str(k) for d in v})
        else:
            out[str(k)] = str(v)
    return out


def _stage_chart(obj: Any, stages: Mapping[str, Any]) -> Any:
    """Importance bars coloured by journey stage (for an importance result's main chart)."""
    from ..display._plots import importance_bars

    flat = stage_map(stages) or {}

    def draw(ax: Any) -> Any:
        data = obj.plot_data()
        unit = "R²" if getattr(obj, "kind", "linear") == "linear" else "pseudo-R²"
        return importance_bars(data, ax=ax, stages=flat, title=str(obj.title),
                               xlabel=f"importance ({unit})")

    return draw


def _draw(section: _Section, image_format: str, dpi: int,
          stages: Mapping[str, Any] | None = None) -> None:
    from matplotlib.figure import Figure

    from ..display._plots import dominance_lines, finish_axes

    obj = section.obj
    if section.kind == "Figure":
        fig = obj if hasattr(obj, "savefig") else obj.get_figure()
        _render_figure(section, section.title, fig, image_format, dpi)
        return
    plain = (section.title, lambda ax: obj.plot(ax=ax))
    jobs: list[tuple[str, Any, Any]] = [(*plain, None)]
    if (stages and section.kind == "ImportanceResult"
            and {"importance"} <= set(obj.plot_data().columns)):
        # the stage colouring is a refinement: if it cannot be drawn, the plain chart is
        jobs[0] = (f"{section.title} by journey stage", _stage_chart(obj, stages), plain)
    cond = next((t.frame for t in section.tables if t.caption == "conditional dominance"), None)
    if cond is not None:
        jobs.append(("Conditional dominance by model size",
                     lambda ax: dominance_lines(cond, ax=ax, title="Conditional dominance"),
                     None))
    try:
        rows = len(obj.plot_data())
    except Exception:
        rows = 8
    if section.kind == "SensitivityResult":
        rows = 12
    height = float(np.clip(1.6 + 0.32 * rows, 3.2, 7.5))
    for caption, job, fallback in jobs:
        for attempt in ((caption, job), fallback):
            if attempt is None:
                break
            fig = Figure(figsize=(7.5, height))
            ax = fig.add_subplot()
            try:
                finish_axes(attempt[1](ax) or ax)  # saved with bbox_inches="tight"
            except Exception as exc:  # a chart must never stop the report; say why
                section.chart_errors.append(f"{attempt[0]}: {type(exc).__name__}: {exc}")
                continue
            _render_figure(section, attempt[0], fig, image_format, dpi)
            break


# ---------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------
_MAX_MAIN_ROWS = 40
_MAX_EXTRA_ROWS = 20

# Key facts that are about the computation, not the client's question: they go to the appendix.
_TECHNICAL_META = {
    "simulator_calls", "solver", "marginal_roi_spread", "driverkit_version", "interaction_gap",
    "condition number", "condition_number", "max vif", "max_vif", "ci method", "ci_method",
    "covariance", "log-likelihood", "loglike", "log_likelihood", "intervals", "draws",
    "bootstrap", "iterations", "converged", "seed", "engine", "fit_index", "fit index",
    "marginal_roi", "total_spend", "funded_drivers", "value",
}


def _split_meta(obj: Any) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    fmt = current()
    main: list[tuple[str, str]] = []
    tech: list[tuple[str, str]] = []
    for k, v in (getattr(obj, "meta", None) or {}).items():
        text = _plain_numbers(format_value(v, str(k)))
        pair = (fmt.heading(k), text)
        (tech if str(k).lower() in _TECHNICAL_META else main).append(pair)
    return main, tech


# The columns a client reads in the HTML; the workbook always has them all.
_MAIN_COLUMNS = {
    "SensitivityResult": ["driver", "step", "delta_rate", "delta_customers", "delta_revenue",
                          "delta_profit"],
    "SimulationResult": ["scenario_rate", "delta_rate", "delta_revenue", "delta_profit",
                         "cost"],
    "PriorityResult": ["performance", "impact", "quadrant"],
}
_MAX_MAIN_COLUMNS = 9


def _client_columns(frame: pd.DataFrame, kind: str) -> list[str]:
    cols = [str(c) for c in frame.columns]
    wanted = _MAIN_COLUMNS.get(kind)
    if wanted is None:
        if len([c for c in cols if not c.endswith(("_low", "_high"))]) <= _MAX_MAIN_COLUMNS:
            return cols
        bases = [c for c in cols if not c.endswith(("_low", "_high"))][:_MAX_MAIN_COLUMNS]
        wanted = bases
    keep = []
    for c in cols:
        base = c[:-4] if c.endswith("_low") else (c[:-5] if c.endswith("_high") else c)
        if c in wanted or (base in wanted and c != base):
            keep.append(c)
    return keep or cols


def _table_context(t: _Table, kind: str = "") -> dict[str, Any]:
    limit = _MAX_EXTRA_ROWS if t.caption else _MAX_MAIN_ROWS
    frame = t.frame.iloc[:limit]
    hidden = 0
    if not t.caption:
        keep = _client_columns(frame, kind)
        hidden = len(frame.columns) - len(keep)
        frame = frame[keep]
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
        "more": max(len(t.frame) - limit, 0), "hidden": hidden, "main": t.main,
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
    return [_plain_numbers(str(n)) for n in notes
            if str(n).strip() and not str(n).startswith(("Observational", "Causal caveat"))]


def _known_names(sections: list[_Section]) -> set[str]:
    names: set[str] = set()
    for s in sections:
        if hasattr(s.obj, "_names"):
            names |= s.obj._names()
        for t in s.tables:
            names |= {str(c) for c in t.frame.columns}
            names |= {str(v) for v in t.frame.index.get_level_values(0)}
            for c in ("driver", "other", "scenario"):
                if c in t.frame.columns:
                    names |= {str(v) for v in t.frame[c]}
    return names


def _outcome_tag(s: _Section, money_outcome: str) -> str:
    out = outcome_of(s.obj)
    if not out and s.kind in ("Allocation", "Portfolio"):
        out = money_outcome
    return out


# ---------------------------------------------------------------------------------------
# public
# ---------------------------------------------------------------------------------------
_FORMATS = ("html", "xlsx", "pptx")


def report(*results: Any, path: str | Path = "driverkit_report.html",
           title: str = "Key-driver analysis", subtitle: str | None = None,
           excel: bool | str | Path = True, pptx: bool | str | Path = False,
           formats: Iterable[str] | None = None, labels: Mapping[str, str] | None = None,
           currency: str | None = None, locale: str | None = None, summary: bool = True,
           image_format: str = "png", dpi: int = 110,
           stages: Mapping[str, Any] | None = None,
           assumptions: Iterable[str] = (), warnings: Iterable[str] = ()) -> ReportFiles:
    """Write a client report: one self-contained HTML file, an Excel workbook, a deck.

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
        receives ``report.html``, ``report.xlsx`` and ``report.pptx``.
    title, subtitle : str
        Shown at the top (escaped, like every string in the report).
    excel : bool or path, default=True
        Also write the workbook (``path`` with suffix ``.xlsx``, or the path given).
    pptx : bool or path, default=False
        Also write a PowerPoint deck (``path`` with suffix ``.pptx``, or the path given).
    formats : iterable of {"html", "xlsx", "pptx"}, optional
        The files to write, instead of ``excel``/``pptx`` (the HTML is always written).
    labels : dict, optional
        ``{column or driver: display label}`` (e.g. the survey question) used wherever a
        person reads a name: tables, charts, summary, workbook, deck. Never changes
        ``.table``. Names that no result has trigger a :class:`LabelWarning`.
    currency, locale : str, optional
        Money and number formatting with Babel, e.g. ``currency="SEK", locale="sv_SE"`` →
        ``1 234 567 kr``. Unknown codes raise :class:`~driverkit.DriverkitError`.
    summary : bool, default=True
        Open the report with the executive summary generated from the results.
    image_format : {"png", "svg"}, default="png"
        How charts are embedded in the HTML (``data:`` URIs; the file has no dependencies).
    dpi : int, default=110
        Resolution of PNG charts in the HTML (the deck uses 150).
    stages : dict, optional
        ``{driver: journey stage}`` or ``{stage: [drivers]}``: importance charts colour their
        bars by stage.
    assumptions : iterable of str
        Extra assumptions to list (e.g. where the revenue figures come from).
    warnings : iterable of str
        Warnings raised while computing the results, listed in the appendix.

    Returns
    -------
    ReportFiles
        ``.html``, ``.excel`` and ``.pptx`` paths and the workbook's sheet names.

    Notes
    -----
    The HTML report opens with the executive summary (what drives the importance outcome,
    which drivers are statistically indistinguishable, the best-value improvements and where
    service can be cut with the least money at risk, the recommended plan with its interval,
    the caveats), each block naming its outcome. Then, per section: the key facts, chart(s),
    the main table (intervals as ``[low, high]``) and notes (warnings marked ⚠). Technical
    detail — solver facts, diagnostics, pairwise tests, rank intervals — is in the appendix,
    followed by method notes, assumptions and the causal caveat. Strings are escaped by
    Jinja2's autoescape (a driver called ``<script>`` shows as text) and ``$`` never starts
    mathtext in charts. The workbook holds every table as an Excel table with raw numbers,
    percentages as fractions, and native charts for importance, the priority matrix and the
    plan; text cells are never formulas.

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
    if formats is not None:
        chosen = [str(f).lower().lstrip(".") for f in formats]
        for f in chosen:
            check_option(f, "formats", list(_FORMATS), "report")
        excel = excel if (excel not in (True, False) and "xlsx" in chosen) else "xlsx" in chosen
        pptx = pptx if (pptx not in (True, False) and "pptx" in chosen) else "pptx" in chosen
    items = _items(results)
    if not items:
        raise DriverkitTypeError("report() needs at least one result to report.")
    html_path = Path(path)
    if html_path.is_dir() or (not html_path.suffix and not html_path.exists()):
        html_path.mkdir(parents=True, exist_ok=True)
        html_path = html_path / "report.html"
    html_path.parent.mkdir(parents=True, exist_ok=True)

    def target(flag: Any, suffix: str) -> Path | None:
        if flag is True:
            return html_path.with_suffix(suffix)
        if flag is False or flag is None:
            return None
        return Path(flag)

    excel_path = target(excel, ".xlsx")
    pptx_path = target(pptx, ".pptx")
    if pptx_path is not None:
        try:
            import pptx as _pptx  # noqa: F401
        except ImportError as exc:
            raise DriverkitError("report(pptx=...) needs python-pptx: "
                                 "pip install 'driverkit[report]'") from exc

    sections = [_as_section(name, obj, i) for i, (name, obj) in enumerate(items, start=1)]
    base_fmt = make_format(labels, currency, locale, known=_known_names(sections),
                           func="report")
    import dataclasses

    fmt: Format = dataclasses.replace(base_fmt, readable=True)
    objs = [s.obj for s in sections]
    money_outcome = next((outcome_of(s.obj) for s in sections if s.kind in (
        "PriorityResult", "SensitivityResult", "SimulationResult") and outcome_of(s.obj)), "")
    titles: set[str] = set()
    sheets: set[str] = {"about"}
    warn_list = [str(w) for w in warnings]
    with format_options(fmt):
        for i, s in enumerate(sections, start=1):
            s.outcome = _outcome_tag(s, money_outcome)
            s.title = _unique(s.title, titles)
            s.anchor = f"dk-section-{i}"
            for t in s.tables:
                base = _sheet_base(s.title)
                label = _shorten(base, 31) if not t.caption else (
                    f"{_shorten(base, max(31 - len(t.short) - 1, 6))} {t.short}")
                t.sheet = _sheet_name(label, sheets)
            with format_options(for_result(s.obj, fmt)):
                # with a deck, render once at slide resolution and reuse it in the HTML
                _draw(s, image_format, max(dpi, 150) if pptx_path is not None else dpi, stages)
        summ: Summary | None = (executive_summary(objs, fmt, caveat=CAUSAL_CAVEAT,
                                                  warnings=warn_list) if summary else None)
        generated = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
        contexts = []
        appendix = []
        for s in sections:
            with format_options(for_result(s.obj, fmt)):
                main_meta, tech_meta = _split_meta(s.obj)
                tables = [_table_context(t, s.kind) for t in s.tables]
                notes = _section_notes(s)
            ctx = {
                "title": s.title, "anchor": s.anchor, "kind": s.kind, "outcome": s.outcome,
                "meta": main_meta, "charts": s.charts, "chart_errors": s.chart_errors,
                "tables": [t for t in tables if not t["caption"] or t["main"]],
                "warnings": [n for n in notes if is_warning(n)],
                "notes": [n for n in notes if not is_warning(n)],
            }
            contexts.append(ctx)
            extra = [t for t in tables if t["caption"] and not t["main"]]
            if tech_meta or extra:
                appendix.append({"title": s.title, "anchor": f"{s.anchor}-detail",
                                 "meta": tech_meta, "tables": extra})
        context = {
            "title": title, "subtitle": subtitle, "version": __version__,
            "generated": generated, "caveat": CAUSAL_CAVEAT,
            "excel_name": excel_path.name if excel_path else "",
            "pptx_name": pptx_path.name if pptx_path else "",
            "summary": summ, "sections": contexts, "appendix": appendix,
            "run_warnings": [_plain_numbers(w) for w in warn_list],
            "methods": _method_notes(sections),
            "assumptions": _assumptions(sections, assumptions),
        }
        html_text = _environment().get_template("report.html.j2").render(**context)
        html_path.write_text(html_text, encoding="utf-8")
        names: list[str] = []
        if excel_path is not None:
            from ._excel import write_excel

            names, _ = write_excel(excel_path, title, sections, generated, fmt=fmt,
                                   summary=summ, caveat=CAUSAL_CAVEAT, notes_of=_section_notes)
        if pptx_path is not None:
            from ._pptx import write_pptx

            write_pptx(pptx_path, title=title, subtitle=subtitle, sections=sections,
                       summary=summ, methods=_method_notes(sections), caveat=CAUSAL_CAVEAT,
                       assumptions=_assumptions(sections, assumptions), fmt=fmt,
                       generated=generated)
    return ReportFiles(html=html_path, excel=excel_path, sheets=names,
                       sections={s.title: [t.sheet for t in s.tables] for s in sections},
                       pptx=pptx_path)
