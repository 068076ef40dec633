"""Result objects of PLS impacts and IPMA, and the two PLS charts.

The charts draw on a matplotlib Axes through its own methods only (no matplotlib import
here: the Axes comes from the display layer via :meth:`Result.plot`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._results import Result
from ._pls_spec import PLSSpec

__all__ = ["IPMAResult", "ImpactResult", "draw_ipma", "draw_path_diagram"]


class ImpactResult(Result):
    """ACSI impacts of driver constructs on a target index (``.table`` by driver)."""

    _title = "Impact on the target index"

    def plot_data(self) -> pd.DataFrame:
        cols = [c for c in ("impact", "ci_low", "ci_high") if c in self.table.columns]
        return self.table[cols].rename(columns={"impact": "estimate"})


class IPMAResult(Result):
    """Importance–performance map (``.table``: importance, performance, quadrant, intervals)."""

    _title = "Importance–performance map"

    def _plot(self, ax: Any, **kwargs: Any) -> Any:
        return draw_ipma(ax, self.table, self.meta, title=self.title, **kwargs)


def draw_ipma(ax: Any, table: pd.DataFrame, meta: dict[str, Any], *, title: str = "",
              annotate: bool = True) -> Any:
    """Importance (x) against performance (y) with interval bars and mean-split quadrants."""
    x = table["importance"].to_numpy(dtype=float)
    y = table["performance"].to_numpy(dtype=float)
    xerr = yerr = None
    if "importance_low" in table.columns:
        xerr = np.vstack([x - table["importance_low"].to_numpy(float),
                          table["importance_high"].to_numpy(float) - x])
        yerr = np.vstack([y - table["performance_low"].to_numpy(float),
                          table["performance_high"].to_numpy(float) - y])
    ax.errorbar(x, y, xerr=xerr, yerr=yerr, fmt="o", color="#1f4e79", ecolor="#9db4cc",
                capsize=2, zorder=3)
    mi, mp = float(meta.get("mean importance", np.mean(x))), float(
        meta.get("mean performance", np.mean(y)))
    ax.axvline(mi, color="grey", lw=0.8, ls="--")
    ax.axhline(mp, color="grey", lw=0.8, ls="--")
    if annotate:
        for lab, xi, yi in zip(table.index, x, y, strict=True):
            text = lab[-1] if isinstance(lab, tuple) else str(lab)
            ax.annotate(text, (xi, yi), textcoords="offset points", xytext=(5, 4), fontsize=8)
    ax.set_xlabel("Importance (index points per index point of the driver)")
    ax.set_ylabel("Performance (mean index, 0–100)")
    ax.set_title(title)
    ax.text(0.99, 0.01, "Quadrants split at the mean importance and mean performance",
            transform=ax.transAxes, ha="right", va="bottom", fontsize=7, color="grey")
    return ax


def _layers(spec: PLSSpec) -> np.ndarray:
    """Column of each construct in the diagram: its longest distance from an exogenous one."""
    c = spec.c
    depth = np.zeros(c, dtype=int)
    for _ in range(c):
        for i, j in zip(*np.nonzero(spec.adjacency), strict=True):
            depth[j] = max(depth[j], depth[i] + 1)
    return depth


def draw_path_diagram(ax: Any, spec: PLSSpec, paths: pd.DataFrame, r2: pd.Series, *,
                      title: str = "PLS path model") -> Any:
    """Constructs as boxes in columns by causal depth, arrows labelled with path estimates."""
    depth = _layers(spec)
    pos: dict[str, tuple[float, float]] = {}
    for d in range(depth.max() + 1):
        members = [spec.constructs[k] for k in np.flatnonzero(depth == d)]
        for r, name in enumerate(members):
            pos[name] = (float(d), (len(members) - 1) / 2.0 - r)
    for (s, t), est in paths["estimate"].items():
        (x0, y0), (x1, y1) = pos[s], pos[t]
        sig = "p_value" in paths.columns and paths.loc[(s, t), "p_value"] < 0.05
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                    arrowprops={"arrowstyle": "->", "color": "#1f4e79" if est >= 0 else "#b03a2e",
                                "lw": 0.8 + 3.0 * min(abs(float(est)), 1.0),
                                "shrinkA": 28, "shrinkB": 28})
        ax.text(x0 + 0.45 * (x1 - x0), y0 + 0.45 * (y1 - y0) + 0.08,
                f"{est:.2f}" + ("*" if sig else ""), fontsize=8, ha="center",
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8})
    for name, (x, y) in pos.items():
        label = name + (f"\nR² = {r2[name]:.2f}" if name in r2.index else "")
        ax.text(x, y, label, ha="center", va="center", fontsize=9,
                bbox={"boxstyle": "round,pad=0.4", "fc": "#e8eef5", "ec": "#1f4e79"})
    ax.set_xlim(-0.6, depth.max() + 0.6)
    ys = [p[1] for p in pos.values()]
    ax.set_ylim(min(ys) - 0.7, max(ys) + 0.7)
    ax.set_axis_off()
    ax.set_title(title + ("  (* p < 0.05)" if "p_value" in paths.columns else ""))
    return ax
