"""Weighted moments and sufficient statistics (streaming, mergeable, Dask), chunked GLM fits.

Everything linear in driverkit depends on the data only through weighted cross-products;
this package computes them once, at any scale, and hands them to models and importance.
"""

from __future__ import annotations

from ._stream import (
    grouped_sufficient_stats,
    iter_arrays,
    iter_frames,
    map_chunks,
    sufficient_stats,
)
from ._sufficient import OLSStats, SufficientStats

__all__ = [
    "OLSStats",
    "SufficientStats",
    "grouped_sufficient_stats",
    "iter_arrays",
    "iter_frames",
    "map_chunks",
    "sufficient_stats",
]
