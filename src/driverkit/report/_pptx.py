"""The report as a PowerPoint deck (python-pptx): summary, charts and native tables.

Slides: title, executive summary, importance, priority matrix, scenarios, budget plan,
caveats, method appendix (only those the results support). Every slide is built on the blank
layout and filled with our own text boxes, so no placeholder ("Click to add title") is ever
left; charts are PNG images rendered at slide resolution; tables are native PowerPoint
tables the client can restyle.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..display._format import Format, for_result, format_options
from ..display._render import display_table

__all__ = ["write_pptx"]

_BLUE = (0x00, 0x72, 0xB2)
_DPI = 150
_MAX_TABLE_ROWS = 12


def _rgb(c: tuple[int, int, int]) -> Any:
    from pptx.dml.color import RGBColor

    return RGBColor(*c)


class _Deck:
    def __init__(self) -> None:
        from pptx import Presentation
        from pptx.util import Inches

        self.prs = Presentation()
        self.prs.slide_width = Inches(13.333)
        self.prs.slide_height = Inches(7.5)
        self.blank = self.prs.slide_layouts[6]

    def slide(self, title: str, subtitle: str = "") -> Any:
        from pptx.util import Inches, Pt

        s = self.prs.slides.add_slide(self.blank)
        for ph in list(s.placeholders):  # the blank layout has none; be sure
            ph._element.getparent().remove(ph._element)
        box = s.shapes.add_textbox(Inches(0.5), Inches(0.3), Inches(12.3), Inches(0.9))
        tf = box.text_frame
        tf.word_wrap = True
        p = tf.paragraphs[0]
        p.text = title
        p.font.size = Pt(28)
        p.font.bold = True
        p.font.color.rgb = _rgb(_BLUE)
        if subtitle:
            q = tf.add_paragraph()
            q.text = subtitle
            q.font.size = Pt(14)
            q.font.color.rgb = _rgb((0x55, 0x55, 0x55))
        return s

    def text(self, slide: Any, paragraphs: Sequence[tuple[str, int, bool]], *, left: float = 0.5,
             top: float = 1.4, width: float = 12.3, height: float = 5.6) -> None:
        from pptx.util import Inches, Pt

        box = slide.shapes.add_textbox(Inches(left), Inches(top), Inches(width), Inches(height))
        tf = box.text_frame
        tf.word_wrap = True
        first = True
        for text, size, bold in paragraphs:
            p = tf.paragraphs[0] if first else tf.add_paragraph()
            first = False
            p.text = text
            p.font.size = Pt(size)
            p.font.bold = bold
            p.space_after = Pt(4)

    def image(self, slide: Any, png: bytes, *, left: float, top: float, width: float,
              height: float) -> None:
        from PIL import Image
        from pptx.util import Inches

        with Image.open(io.BytesIO(png)) as im:
            w, h = im.size
        scale = min(width / (w / _DPI), height / (h / _DPI))
        iw, ih = w / _DPI * scale, h / _DPI * scale
        slide.shapes.add_picture(io.BytesIO(png), Inches(left + (width - iw) / 2), Inches(top),
                                 Inches(iw), Inches(ih))

    def table(self, slide: Any, frame: pd.DataFrame, *, left: float, top: float,
              width: float, ci: float | None = None) -> None:
        from pptx.util import Inches, Pt

        shown = frame.iloc[:_MAX_TABLE_ROWS]
        ft = display_table(shown, ci=ci)
        rows, cols = len(ft) + 1, len(ft.columns) + 1
        height = 0.3 * rows
        shape = slide.shapes.add_table(rows, cols, Inches(left), Inches(top), Inches(width),
                                       Inches(height))
        tbl = shape.table
        tbl.cell(0, 0).text = "driver" if ft.index.name is None else str(ft.index.name)
        for j, c in enumerate(ft.columns, start=1):
            tbl.cell(0, j).text = str(c)
        for i, (idx, row) in enumerate(ft.iterrows(), start=1):
            tbl.cell(i, 0).text = str(idx)
            for j, v in enumerate(row.tolist(), start=1):
                tbl.cell(i, j).text = str(v)
        for r in range(rows):
            for c in range(cols):
                for p in tbl.cell(r, c).text_frame.paragraphs:
                    p.font.size = Pt(10 if rows <= 10 else 9)

    def save(self, path: Path) -> None:
        self.prs.save(str(path))


def _png(figure: tuple[str, Any, bytes]) -> bytes:
    if figure[2]:
        return figure[2]
    buf = io.BytesIO()
    figure[1].savefig(buf, format="png", dpi=_DPI, bbox_inches="tight")
    return buf.getvalue()


def _ci(obj: Any) -> float | None:
    from ..display._render import _ci_level

    return _ci_level(obj)


def _find(sections: Sequence[Any], *kinds: str) -> Any:
    return next((s for s in sections if s.kind in kinds), None)


def _chart_slide(deck: _Deck, section: Any, title: str, subtitle: str, fmt: Format,
                 table: pd.DataFrame | None = None) -> None:
    slide = deck.slide(title, subtitle)
    png = _png(section.figures[0]) if section.figures else None
    if table is not None and png is not None:
        deck.image(slide, png, left=0.4, top=1.45, width=7.4, height=5.7)
        with format_options(for_result(section.obj, fmt)):
            deck.table(slide, table, left=8.0, top=1.6, width=4.9, ci=_ci(section.obj))
    elif png is not None:
        deck.image(slide, png, left=0.8, top=1.45, width=11.7, height=5.8)
    elif table is not None:
        with format_options(for_result(section.obj, fmt)):
            deck.table(slide, table, left=0.8, top=1.6, width=11.7, ci=_ci(section.obj))
    else:  # nothing drawable: say so instead of leaving an empty slide
        deck.text(slide, [("The chart could not be drawn; see the HTML report.", 16, False)])


def write_pptx(path: Path, *, title: str, subtitle: str | None, sections: Sequence[Any],
               summary: Any, methods: Sequence[tuple[str, str]], caveat: str,
               assumptions: Sequence[str], fmt: Format, generated: str) -> list[str]:
    """Write the deck; returns the slide titles in order."""
    deck = _Deck()
    titles: list[str] = []

    def add(t: str) -> str:
        titles.append(t)
        return t

    s = deck.slide(add(title), subtitle or "")
    deck.text(s, [(f"Key-driver analysis · {generated}", 16, False)], top=3.2, height=1.0)

    if summary is not None:
        blocks = list(summary.blocks)
        for k in range(0, len(blocks), 2):
            s = deck.slide(add("Executive summary" + (" (continued)" if k else "")))
            paras: list[tuple[str, int, bool]] = []
            for b in blocks[k:k + 2]:
                paras.append((b.heading, 18, True))
                paras.append((b.lead, 13, False))
                paras += [(f"•  {x}", 12, False) for x in b.bullets]
            deck.text(s, paras)

    imp = _find(sections, "ImportanceResult", "StageImportanceResult")
    if imp is not None:
        have = imp.obj.table.columns
        cols = [c for c in ("share", "share_low", "share_high", "rank") if c in have]
        t = imp.obj.table.sort_values("importance", ascending=False)[cols] \
            if "importance" in imp.obj.table.columns else None
        _chart_slide(deck, imp, add("What drives " + fmt.label(imp.outcome or "the outcome")),
                     imp.title, fmt, t)
    prio = _find(sections, "PriorityResult")
    if prio is not None:
        _chart_slide(deck, prio, add("Priority matrix"),
                     f"outcome: {fmt.label(prio.outcome)}" if prio.outcome else prio.title, fmt)
    scen = _find(sections, "SensitivityResult", "SimulationResult")
    if scen is not None:
        _chart_slide(deck, scen, add("Scenarios: what moves the outcome"),
                     f"outcome: {fmt.label(scen.outcome)}" if scen.outcome else scen.title, fmt)
    plan = _find(sections, "Allocation", "Portfolio")
    if plan is not None:
        t = plan.obj.table
        keep = [c for c in ("spend", "lift", "delta_value", "cost", "value", "chosen")
                if c in t.columns]
        if "spend" in t.columns:
            t = t[t["spend"] > 0].sort_values("spend", ascending=False)
        _chart_slide(deck, plan, add("Budget plan"),
                     f"outcome: {fmt.label(plan.outcome)}" if plan.outcome else plan.title, fmt,
                     t[keep])

    s = deck.slide(add("Caveats"))
    paras = [((summary.caveats if summary is not None else caveat), 14, False)]
    paras += [(f"•  {a}", 12, False) for a in assumptions]
    deck.text(s, paras)

    for k in range(0, max(len(methods), 1), 3):
        s = deck.slide(add("Method appendix" + (" (continued)" if k else "")))
        chunk = methods[k:k + 3] or [("Methods", "See the HTML report.")]
        deck.text(s, [p for h, body in chunk for p in ((h, 14, True), (body, 11, False))])
    deck.save(path)
    return titles
