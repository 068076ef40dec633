"""Weighted moments and sufficient statistics (streaming, mergeable, Dask), chunked GLM fits.

Everything linear in driverkit depends on the data only through weighted cross-products;
this package computes them once, at any scale, and hands them to models and importance.
Logit and ordered-logit fits stream too (:func:`logit_irls`), and bootstrap replicates use
Poisson(1) weights that need no second look at the data (:func:`bootstrap_stats`).
"""

from __future__ import annotations

from ._entry import bootstrap_stats, map_chunks, sufficient_stats
from ._irls import GLMStats, logit_irls, ordered_logit_irls
from ._pairwise import PairwiseStats, nearest_correlation
from ._pairwise_stream import pairwise_stats
from ._poisson import poisson_counts
from ._stream import (
    grouped_sufficient_stats,
    iter_arrays,
    iter_frames,
)
from ._sufficient import OLSStats, SufficientStats

__all__ = [
    "GLMStats",
    "OLSStats",
    "PairwiseStats",
    "SufficientStats",
    "bootstrap_stats",
    "grouped_sufficient_stats",
    "iter_arrays",
    "iter_frames",
    "logit_irls",
    "map_chunks",
    "nearest_correlation",
    "ordered_logit_irls",
    "pairwise_stats",
    "poisson_counts",
    "sufficient_stats",
]
