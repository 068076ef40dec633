"""Reporting: one renderer for every result, shared charts, the client report and the CLI.

:func:`report` writes a self-contained HTML report and an Excel workbook of the same tables;
the ``driverkit`` command line (:mod:`driverkit.report.cli`) runs whole analyses.
"""

from ._report import ReportFiles, TableResult, report

__all__ = ["ReportFiles", "TableResult", "report"]
