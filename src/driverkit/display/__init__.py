"""The display layer: one renderer for every result, the shared charts and the palette.

Everything a user sees passes through here: text, HTML and LaTeX rendering of results
(:mod:`._render`), the chart functions each result's ``.plot()`` calls (:mod:`._plots`) and
the colour palette. It is the only part of driverkit that imports matplotlib, and it does so
inside functions, so importing driverkit never loads it. It computes no statistics: it shows
the numbers the analyses hand it.
"""

from ._format import Format, LabelWarning, format_options, make_format
from ._plots import (
    GREY,
    PALETTE,
    QUADRANT_LABELS,
    budget_frontier,
    dominance_lines,
    importance_bars,
    ipma_chart,
    penalty_reward_chart,
    priority_matrix,
    scenario_waterfall,
    sensitivity_curves,
)
from ._render import format_value, render_html, render_latex, render_text

__all__ = [
    "GREY",
    "PALETTE",
    "QUADRANT_LABELS",
    "Format",
    "LabelWarning",
    "budget_frontier",
    "dominance_lines",
    "format_options",
    "format_value",
    "importance_bars",
    "ipma_chart",
    "make_format",
    "penalty_reward_chart",
    "priority_matrix",
    "render_html",
    "render_latex",
    "render_text",
    "scenario_waterfall",
    "sensitivity_curves",
]
