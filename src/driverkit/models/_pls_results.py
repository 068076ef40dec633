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
    mi, mp = float(meta.get("mean_importance", np.mean(x))), float(
        meta.get("mean_performance", np.mean(y)))
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
    """Constructs as boxes in columns by causal depth, arrows labelled with path estimates.

    Single-construct columns zig-zag and paths that skip a column bend, so that no arrow runs
    through another construct's box.
    """
    depth = _layers(spec)
    pos: dict[str, tuple[float, float]] = {}
    for d in range(depth.max() + 1):
        members = [spec.constructs[k] for k in np.flatnonzero(depth == d)]
        for r, name in enumerate(members):
            y = (len(members) - 1) / 2.0 - r if len(members) > 1 else 0.5 * (d % 2)
            pos[name] = (1.6 * d, y)
    gap = 0.45  # data units kept free around a box's centre
    extent = [np.array(p) for p in pos.values()]
    for k, ((s, t), est) in enumerate(paths["estimate"].items()):
        p0, p1 = np.array(pos[s]), np.array(pos[t])
        v = p1 - p0
        span = abs(int(depth[spec.index_of(t)] - depth[spec.index_of(s)]))
        # bend: the curve's middle passes h data units beside the straight line
        h = 0.0 if span <= 1 else (1.0 if k % 2 else -1.0) * (0.45 + 0.12 * span)
        perp = np.array([-v[1], v[0]]) / max(np.hypot(*v), 1e-12)
        ctrl = (p0 + p1) / 2 + 2 * h * perp
        tt = np.linspace(0.0, 1.0, 60)[:, None]
        curve = (1 - tt) ** 2 * p0 + 2 * (1 - tt) * tt * ctrl + tt**2 * p1
        keep = (np.hypot(*(curve - p0).T) > gap) & (np.hypot(*(curve - p1).T) > gap)
        seg = curve[keep]
        extent += list(seg)
        if len(seg) < 2:
            continue
        sig = "p_value" in paths.columns and paths.loc[(s, t), "p_value"] < 0.05
        color = "#1f4e79" if est >= 0 else "#b03a2e"
        lw = 0.8 + 2.5 * min(abs(float(est)), 1.0)
        ax.plot(seg[:-1, 0], seg[:-1, 1], color=color, lw=lw, zorder=1)
        ax.annotate("", xy=tuple(seg[-1]), xytext=tuple(seg[-2]),
                    arrowprops={"arrowstyle": "-|>", "color": color, "lw": lw,
                                "shrinkA": 0, "shrinkB": 0}, zorder=1)
        mid = seg[len(seg) // 2]
        ax.text(mid[0], mid[1], f"{est:.2f}" + ("*" if sig else ""), fontsize=8, ha="center",
                va="center", zorder=2,
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.9})
    for name, (x, y) in pos.items():
        label = name + (f"\nR² = {r2[name]:.2f}" if name in r2.index else "")
        ax.text(x, y, label, ha="center", va="center", fontsize=8, zorder=3,
                bbox={"boxstyle": "round,pad=0.4", "fc": "#e8eef5", "ec": "#1f4e79"})
    pts = np.array(extent)
    ax.set_xlim(pts[:, 0].min() - 0.8, pts[:, 0].max() + 0.8)
    ax.set_ylim(pts[:, 1].min() - 0.5, pts[:, 1].max() + 0.5)
    ax.set_axis_off()
    ax.set_title(title + ("  (* p < 0.05)" if "p_value" in paths.columns else ""))
    return ax
