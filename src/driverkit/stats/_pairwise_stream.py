"""Pairwise-complete moments of files and Dask frames (pairwise deletion at any scale).

:class:`~driverkit.stats._pairwise.PairwiseStats` are sums, so each chunk of a file or each
Dask partition is summarised on its own and the parts are merged exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ._pairwise import PairwiseStats
from ._stream import iter_frames

__all__ = ["pairwise_stats"]


def _part(frame: pd.DataFrame, columns: list[str], weights: str | None,
          weight_type: str, shift: np.ndarray | None) -> PairwiseStats:
    Z = frame[columns].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    w = None if weights is None else pd.to_numeric(frame[weights]).to_numpy(dtype=float)
    return PairwiseStats.from_arrays(Z, columns, w, weight_type=weight_type, shift=shift)


def pairwise_stats(source: Any, columns: Sequence[str], *, weights: str | None = None,
                   weight_type: str = "sampling", chunksize: int | None = None,
                   progress: bool | None = None) -> PairwiseStats:
    """Pairwise-complete moments of a DataFrame, CSV/Parquet file(s) or a Dask DataFrame.

    Parameters
    ----------
    source : pandas.DataFrame, path(s) or dask.dataframe.DataFrame
    columns : list of str
        Numeric columns (missing answers empty or NaN).
    weights : str, optional
        A weight column (``weight_type`` says what the weights mean).
    chunksize : int, optional
        Rows per chunk for files.

    Returns
    -------
    PairwiseStats
        ``.to_sufficient()`` gives the statistics every linear model and importance method
        takes (``dk.fit(stats, ...)``, ``dk.importance(stats, ...)``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> df = pd.DataFrame({"a": [1, 2, np.nan, 4], "y": [2., np.nan, 5, 8]})
    >>> int(pairwise_stats(df, ["a", "y"]).counts.loc["a", "y"])
    2
    """
    cols = [str(c) for c in columns]
    wt = weight_type if weights is not None else "none"
    read = cols + ([weights] if weights is not None else [])
    if type(source).__module__.startswith("dask"):
        import dask

        parts = [dask.delayed(_part)(p, cols, weights, wt, None)
                 for p in source[read].to_delayed()]
        done = list(dask.compute(*parts))
        merged: PairwiseStats = done[0]
        for p in done[1:]:
            merged = merged.merge(p)
        return merged
    out: PairwiseStats | None = None
    for frame in iter_frames(source, read, chunksize=chunksize, progress=progress):
        part = _part(frame, cols, weights, wt, None if out is None else out._c)
        out = part if out is None else out.merge(part)
    if out is None:
        return PairwiseStats.from_arrays(np.empty((0, len(cols))), cols, weight_type=wt)
    return out
