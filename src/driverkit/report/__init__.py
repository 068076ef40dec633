"""Reporting: one renderer for every result, shared charts, the client report and the CLI.

:func:`report` writes a self-contained HTML report and an Excel workbook of the same tables;
the chart functions below draw from tidy frames (each result's ``.plot()`` uses them); the
``driverkit`` command line (:mod:`driverkit.report.cli`) runs whole analyses.
"""

from ._pipeline import stage_map
from ._plots import (
    PALETTE,
    budget_frontier,
    dominance_lines,
    importance_bars,
    penalty_reward_chart,
    priority_matrix,
    priority_quadrants,
    scenario_waterfall,
    sensitivity_curves,
)
from ._report import ReportFiles, TableResult, report

__all__ = [
    "PALETTE",
    "ReportFiles",
    "TableResult",
    "budget_frontier",
    "dominance_lines",
    "importance_bars",
    "penalty_reward_chart",
    "priority_matrix",
    "priority_quadrants",
    "report",
    "scenario_waterfall",
    "sensitivity_curves",
    "stage_map",
]
