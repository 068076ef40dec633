"""Relative importance: Shapley/LMG, dominance, relative weights and the classic metrics.

:func:`importance` is the public entry point; it returns an :class:`ImportanceResult`.
The exact all-subsets kernel lives in :mod:`driverkit.stats._subsets`, the shared
Shapley/dominance functions in :mod:`driverkit.importance._shapley`.
"""

from __future__ import annotations

from ._api import ImportanceResult, SubsetValues, importance, subset_values

__all__ = ["ImportanceResult", "SubsetValues", "importance", "subset_values"]
