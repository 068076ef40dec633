"""The application layer: the client report, the analysis pipeline and the CLI.

:func:`report` writes a self-contained HTML report and an Excel workbook of the same tables;
the ``driverkit`` command line (:mod:`driverkit.report.cli`) runs whole analyses. The chart
functions live in :mod:`driverkit.display` and are re-exported here, where 0.1 had them.
"""

from ..display import (
    PALETTE,
    budget_frontier,
    dominance_lines,
    importance_bars,
    penalty_reward_chart,
    priority_matrix,
    scenario_waterfall,
    sensitivity_curves,
)
from ..simulate._result import priority_quadrants
from ._report import ReportFiles, TableResult, report, stage_map

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
