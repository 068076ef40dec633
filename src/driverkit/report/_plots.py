"""Plot helpers shared by every result's ``.plot()`` (matplotlib is an optional extra)."""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["PALETTE", "get_ax", "require_matplotlib", "table_bar"]

# Okabe–Ito: a colour-blind-safe qualitative palette.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]


def require_matplotlib() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "Plotting needs matplotlib. Install it with: pip install 'driverkit[plot]'"
        ) from exc
    return plt


def get_ax(ax: Any = None) -> Any:
    """Return ``ax`` or a new Axes on a new figure."""
    if ax is not None:
        return ax
    plt = require_matplotlib()
    _, ax = plt.subplots(figsize=(7, 4.5))
    return ax


def table_bar(frame: pd.DataFrame, *, ax: Any, title: str = "", column: str | None = None,
              **kwargs: Any) -> Any:
    """Horizontal bar chart of the first numeric column of ``frame`` (a generic fallback)."""
    num = frame.select_dtypes("number")
    if num.empty:
        raise ValueError("Nothing numeric to plot in this result.")
    col = column or str(num.columns[0])
    values = num[col].sort_values()
    ax.barh([str(i) for i in values.index], values.to_numpy(), color=PALETTE[0], **kwargs)
    ax.set_xlabel(col)
    ax.set_title(title)
    return ax
