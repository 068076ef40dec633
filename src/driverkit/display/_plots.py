"""Plot helpers shared by every result's ``.plot()`` (matplotlib is an optional extra).

Each chart is a function of a tidy frame (what the result's ``plot_data()`` returns) and an
optional Axes, so result classes stay thin: their ``_plot`` calls one of these. All
functions return the Axes they drew on. Colours come from :data:`PALETTE` (Okabe–Ito, safe
for the common forms of colour blindness); labels use the driver names as given.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "GREY",
    "PALETTE",
    "QUADRANT_LABELS",
    "budget_frontier",
    "dominance_lines",
    "get_ax",
    "importance_bars",
    "penalty_reward_chart",
    "priority_matrix",
    "require_matplotlib",
    "scenario_waterfall",
    "sensitivity_curves",
    "stage_colors",
    "table_bar",
]

# Okabe–Ito: a colour-blind-safe qualitative palette.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
GREY = "#999999"
# Quadrants of the priority matrix: (high impact?, high performance?) -> label.
QUADRANT_LABELS = {
    (True, False): "fix first",
    (True, True): "maintain",
    (False, False): "low priority",
    (False, True): "possible overkill",
}


def require_matplotlib() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "Plotting needs matplotlib. Install it with: pip install 'driverkit[plot]'"
        ) from exc
    return plt


def get_ax(ax: Any = None, *, figsize: tuple[float, float] = (7, 4.5)) -> Any:
    """Return ``ax`` or a new Axes on a new figure."""
    if ax is not None:
        return ax
    plt = require_matplotlib()
    _, ax = plt.subplots(figsize=figsize)
    return ax


def _labels(index: Any) -> list[str]:
    return [str(i) for i in index]


def _need(frame: pd.DataFrame, columns: Sequence[str], chart: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        from ..exceptions import DataError

        raise DataError(
            f"The {chart} needs the column(s) {missing} in its data; got "
            f"{[str(c) for c in frame.columns]}."
        )


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


def stage_colors(stages: Sequence[Any]) -> dict[Any, str]:
    """Map each distinct stage (in order of appearance) to a palette colour."""
    out: dict[Any, str] = {}
    for s in stages:
        if s not in out:
            out[s] = PALETTE[len(out) % len(PALETTE)]
    return out


def _whiskers(values: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Non-negative error-bar lengths ``[[below], [above]]`` (NaN bounds draw no whisker)."""
    below = np.where(np.isfinite(low), values - low, 0.0)
    above = np.where(np.isfinite(high), high - values, 0.0)
    return np.vstack([np.clip(below, 0, None), np.clip(above, 0, None)])


def importance_bars(frame: pd.DataFrame, *, ax: Any = None, value: str = "importance",
                    low: str = "ci_low", high: str = "ci_high",
                    stages: Mapping[str, Any] | None = None, title: str = "",
                    xlabel: str | None = None, **kwargs: Any) -> Any:
    """Importance bars, largest on top, with interval whiskers, coloured by journey stage.

    Parameters
    ----------
    frame : pandas.DataFrame
        Indexed by driver, with the ``value`` column and optionally ``low``/``high`` (whiskers)
        and ``stage`` (colour group).
    ax : matplotlib Axes, optional
    value, low, high : str
        Column names of the bar length and the interval.
    stages : dict, optional
        ``{driver: stage}``; overrides a ``stage`` column. Drivers without a stage are grey.
    title, xlabel : str

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from driverkit.display._plots import importance_bars
    >>> t = pd.DataFrame({"importance": [0.1, 0.3], "ci_low": [0.05, 0.2],
    ...                   "ci_high": [0.15, 0.4]}, index=["price", "staff"])
    >>> ax = importance_bars(t, stages={"staff": "Store", "price": "Checkout"})
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['price', 'staff']
    """
    _need(frame, [value], "importance chart")
    ax = get_ax(ax)
    d = frame.sort_values(value, ascending=True)
    y = np.arange(len(d))
    vals = d[value].to_numpy(dtype=float)
    if stages is not None:
        stage = [stages.get(str(i)) for i in d.index]
    elif "stage" in d.columns:
        stage = [None if (isinstance(s, float) and math.isnan(s)) else s for s in d["stage"]]
    else:
        stage = [None] * len(d)
    present = {s for s in stage if s is not None}
    # legend and colours follow the journey order as declared, not the bar order
    declared = list(stages.values()) if stages is not None else [s for s in stage
                                                                  if s is not None]
    cmap = {k: c for k, c in stage_colors(declared).items() if k in present}
    colors = [cmap.get(s, GREY) if s is not None else (PALETTE[0] if not cmap else GREY)
              for s in stage]
    ax.barh(y, vals, color=colors, **kwargs)
    if low in d.columns and high in d.columns:
        err = _whiskers(vals, d[low].to_numpy(dtype=float), d[high].to_numpy(dtype=float))
        ax.errorbar(vals, y, xerr=err, fmt="none", ecolor="#333333", capsize=3, lw=1)
    ax.set_yticks(y, _labels(d.index))
    ax.axvline(0.0, color="black", lw=0.6)
    if cmap:
        from matplotlib.patches import Patch

        handles = [Patch(color=c, label=str(s)) for s, c in cmap.items()]
        ax.legend(handles=handles, title="journey stage", loc="lower right", fontsize=8,
                  title_fontsize=8, frameon=False)
    ax.set_xlabel(xlabel or value)
    ax.set_title(title)
    return ax


def dominance_lines(conditional: pd.DataFrame, *, ax: Any = None, title: str = "",
                    ylabel: str = "average fit increase", **kwargs: Any) -> Any:
    """Conditional dominance: one line per driver, its mean increase by model size.

    ``conditional`` has one row per driver and one column per model size (0..p−1). A driver
    whose line lies above another's at every size conditionally dominates it.

    Examples
    --------
    >>> import pandas as pd
    >>> from driverkit.display._plots import dominance_lines
    >>> c = pd.DataFrame([[0.3, 0.2], [0.1, 0.05]], index=["a", "b"], columns=[0, 1])
    >>> len(dominance_lines(c).get_lines())
    2
    """
    ax = get_ax(ax)
    sizes = [int(c) if str(c).lstrip("-").isdigit() else c for c in conditional.columns]
    markers = ["o", "s", "^", "D", "v", "P", "X", "*"]
    for i, (name, row) in enumerate(conditional.iterrows()):
        ax.plot(sizes, row.to_numpy(dtype=float), marker=markers[i % len(markers)],
                color=PALETTE[i % len(PALETTE)], label=str(name), **kwargs)
    ax.set_xticks(sizes)
    ax.set_xlabel("number of other drivers in the model")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8, frameon=False, loc="best")
    ax.set_title(title)
    return ax


def priority_matrix(frame: pd.DataFrame, *, ax: Any = None, x: str = "performance",
                    y: str = "impact", low: str | None = None, high: str | None = None,
                    x_split: float | None = None, y_split: float | None = None,
                    title: str = "", xlabel: str | None = None, ylabel: str | None = None,
                    **kwargs: Any) -> Any:
    """The priority matrix: current performance × simulated impact of one step, per driver.

    Quadrants (split at ``x_split``/``y_split``, default the medians): high impact and low
    performance = "fix first"; high impact, high performance = "maintain"; low impact, low
    performance = "low priority"; low impact, high performance = "possible overkill".

    Parameters
    ----------
    frame : pandas.DataFrame
        Indexed by driver with columns ``x`` (e.g. mean rating) and ``y`` (e.g. Δrevenue of a
        one-point improvement) and optionally the interval of ``y`` (``low``/``high``, default
        ``<y>_low``/``<y>_high`` when present).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from driverkit.display._plots import priority_matrix
    >>> t = pd.DataFrame({"performance": [6.0, 8.5, 7.0], "impact": [5.0, 4.0, 1.0]},
    ...                  index=["wait", "staff", "price"])
    >>> ax = priority_matrix(t)
    """
    _need(frame, [x, y], "priority matrix")
    ax = get_ax(ax, figsize=(7, 5.5))
    low = low or (f"{y}_low" if f"{y}_low" in frame.columns else None)
    high = high or (f"{y}_high" if f"{y}_high" in frame.columns else None)
    xs = frame[x].to_numpy(dtype=float)
    ys = frame[y].to_numpy(dtype=float)
    xm = float(np.nanmedian(xs)) if x_split is None else float(x_split)
    ym = float(np.nanmedian(ys)) if y_split is None else float(y_split)
    if "quadrant" in frame.columns:  # the analysis' own classification, when it made one
        quad = [str(q) for q in frame["quadrant"]]
    else:  # which side of the drawn split lines each point lies on
        quad = [QUADRANT_LABELS[(bool(b >= ym), bool(a >= xm))]
                for a, b in zip(xs, ys, strict=True)]
    qcol = {"fix first": PALETTE[5], "maintain": PALETTE[0], "low priority": GREY,
            "possible overkill": PALETTE[1]}
    colors = [qcol.get(q, GREY) for q in quad]
    if low and high and low in frame.columns and high in frame.columns:
        err = _whiskers(ys, frame[low].to_numpy(dtype=float), frame[high].to_numpy(dtype=float))
        ax.errorbar(xs, ys, yerr=err, fmt="none", ecolor="#555555", capsize=3, lw=1, zorder=1)
    ax.scatter(xs, ys, c=colors, s=60, zorder=2, edgecolors="black", linewidths=0.5, **kwargs)
    _annotate_points(ax, _labels(frame.index), xs, ys)
    ax.axvline(xm, color=GREY, lw=0.8, ls="--")
    ax.axhline(ym, color=GREY, lw=0.8, ls="--")
    # Quadrant names in the corners (axes coordinates, so they never hide a point's label).
    for (hi_y, hi_x), label in QUADRANT_LABELS.items():
        ax.text(0.98 if hi_x else 0.02, 0.97 if hi_y else 0.03, label,
                transform=ax.transAxes, ha="right" if hi_x else "left",
                va="top" if hi_y else "bottom", fontsize=9, fontweight="bold",
                color=qcol[label], alpha=0.9)
    ax.set_xlabel(xlabel or x)
    ax.set_ylabel(ylabel or y)
    ax.set_title(title)
    return ax


def _annotate_points(ax: Any, names: Sequence[str], xs: np.ndarray, ys: np.ndarray) -> None:
    """Label points, nudging labels that would overlap (greedy, in axes coordinates)."""
    ax.autoscale_view()
    to_axes = ax.transData + ax.transAxes.inverted()
    placed: list[tuple[float, float]] = []
    order = np.argsort(-np.nan_to_num(ys, nan=-np.inf))
    for i in order:
        if not (np.isfinite(xs[i]) and np.isfinite(ys[i])):
            continue
        px, py = to_axes.transform((xs[i], ys[i]))
        dy = 0.0
        for _ in range(12):
            ty = py + 0.012 + dy
            if all(abs(px - qx) > 0.16 or abs(ty - qy) > 0.035 for qx, qy in placed):
                break
            dy -= 0.035
        placed.append((px, py + 0.012 + dy))
        right = px > 0.78  # near the right edge: label to the left of the point
        ax.annotate(names[i], (xs[i], ys[i]),
                    xytext=(px - 0.012 if right else px + 0.012, py + 0.012 + dy),
                    textcoords="axes fraction", fontsize=8, ha="right" if right else "left",
                    arrowprops=({"arrowstyle": "-", "color": "#999999", "lw": 0.5}
                                if dy else None))


def scenario_waterfall(steps: pd.Series | pd.DataFrame, *, ax: Any = None, baseline: float = 0.0,
                       value: str = "delta", total: float | None = None,
                       baseline_label: str = "baseline", total_label: str = "scenario",
                       title: str = "", ylabel: str = "", **kwargs: Any) -> Any:
    """Waterfall from the baseline to the scenario, one step per driver.

    Parameters
    ----------
    steps : Series or DataFrame
        The contribution of each driver (index = driver; a DataFrame uses column ``value``).
    baseline : float
        Starting level (e.g. the baseline repurchase rate, or 0 for Δrevenue).
    total : float, optional
        The joint scenario's level; when it differs from baseline + Σ steps the difference is
        drawn as an "interaction" step so the chart always ends at the joint result.

    Examples
    --------
    >>> import pandas as pd
    >>> from driverkit.display._plots import scenario_waterfall
    >>> ax = scenario_waterfall(pd.Series({"staff": 0.02, "price": -0.01}), baseline=0.6)
    """
    s = steps[value] if isinstance(steps, pd.DataFrame) else steps
    s = s.astype(float)
    ax = get_ax(ax)
    labels = [baseline_label, *_labels(s.index)]
    deltas = list(s.to_numpy())
    end = baseline + float(np.sum(deltas))
    if total is not None and not math.isclose(total, end, rel_tol=1e-9, abs_tol=1e-12):
        labels.append("interaction")
        deltas.append(float(total) - end)
        end = float(total)
    labels.append(total_label)
    x = np.arange(len(labels))
    ax.bar(x[0], baseline, color=GREY, **kwargs)
    level = baseline
    for i, d in enumerate(deltas, start=1):
        color = PALETTE[2] if d >= 0 else PALETTE[5]
        ax.bar(x[i], d, bottom=level, color=color, **kwargs)
        ax.plot([x[i] - 1 + 0.4, x[i] - 0.4], [level, level], color="#555555", lw=0.6)
        level += d
    ax.bar(x[-1], end, color=PALETTE[0], **kwargs)
    ax.plot([x[-1] - 1 + 0.4, x[-1] - 0.4], [level, level], color="#555555", lw=0.6)
    ax.set_xticks(x, labels, rotation=30, ha="right")
    levels = np.cumsum([baseline, *deltas])
    lo, hi = float(min(levels.min(), end)), float(max(levels.max(), end))
    moved = hi - lo
    if baseline != 0 and moved > 0 and abs(baseline) > 5 * moved:
        # Zoom in on the steps: a rate of 0.71 → 0.74 is invisible on a 0–0.74 axis.
        pad = 0.6 * moved
        ax.set_ylim(lo - pad, hi + pad)
        ax.text(0.01, 0.01, "axis does not start at 0", transform=ax.transAxes, fontsize=7,
                color="#555555", va="bottom")
    else:
        ax.axhline(0.0, color="black", lw=0.6)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return ax


def sensitivity_curves(frame: pd.DataFrame, *, ax: Any = None, x: str = "step",
                       y: str = "delta_rate", by: str = "driver", low: str | None = None,
                       high: str | None = None, bands: bool | None = None, title: str = "",
                       xlabel: str | None = None, ylabel: str | None = None,
                       **kwargs: Any) -> Any:
    """Sensitivity curves: the effect of moving each driver by ``x`` rating points.

    ``frame`` is long: one row per (driver, step) with columns ``by``, ``x``, ``y`` and
    optionally the interval ``<y>_low``/``<y>_high``, shaded when ``bands`` is true (default:
    only for up to four curves, where the bands stay readable).

    Examples
    --------
    >>> import pandas as pd
    >>> from driverkit.display._plots import sensitivity_curves
    >>> f = pd.DataFrame({"driver": ["a", "a", "b", "b"], "step": [-1, 1, -1, 1],
    ...                   "delta_rate": [-0.02, 0.015, -0.01, 0.01]})
    >>> len(sensitivity_curves(f).get_lines()) >= 2
    True
    """
    _need(frame, [x, y, by], "sensitivity chart")
    ax = get_ax(ax)
    low = low or (f"{y}_low" if f"{y}_low" in frame.columns else None)
    high = high or (f"{y}_high" if f"{y}_high" in frame.columns else None)
    if bands is None:
        bands = frame[by].nunique() <= 4
    if not bands:
        low = high = None
    for i, (name, g) in enumerate(frame.groupby(by, sort=False)):
        g = g.sort_values(x)
        c = PALETTE[i % len(PALETTE)]
        ax.plot(g[x].to_numpy(dtype=float), g[y].to_numpy(dtype=float), marker="o", ms=3,
                color=c, label=str(name), ls=("-", "--", ":")[i // len(PALETTE) % 3],
                **kwargs)
        if low and high:
            ax.fill_between(g[x].to_numpy(dtype=float), g[low].to_numpy(dtype=float),
                            g[high].to_numpy(dtype=float), color=c, alpha=0.15, lw=0)
    ax.axhline(0.0, color="black", lw=0.6)
    ax.axvline(0.0, color=GREY, lw=0.6)
    ax.set_xlabel(xlabel or f"{x} (rating points)")
    ax.set_ylabel(ylabel or y)
    ax.legend(fontsize=8, frameon=False)
    ax.set_title(title)
    return ax


def budget_frontier(frame: pd.DataFrame, *, ax: Any = None, x: str = "budget", y: str = "value",
                    step: bool = True, title: str = "Efficient frontier",
                    xlabel: str = "budget (negative = savings target)",
                    ylabel: str | None = None, **kwargs: Any) -> Any:
    """Budget frontier: the optimal value for each budget, with its interval when present.

    Examples
    --------
    >>> import pandas as pd
    >>> from driverkit.display._plots import budget_frontier
    >>> f = pd.DataFrame({"budget": [0, 10, 20], "value": [0.0, 25.0, 35.0]})
    >>> ax = budget_frontier(f)
    """
    _need(frame, [x, y], "frontier chart")
    ax = get_ax(ax)
    t = frame.sort_values(x)
    xs = t[x].to_numpy(dtype=float)
    ys = t[y].to_numpy(dtype=float)
    where = "post" if step else None
    if step:
        ax.step(xs, ys, where="post", color=PALETTE[0], marker="o", **kwargs)
    else:
        ax.plot(xs, ys, color=PALETTE[0], marker="o", **kwargs)
    lo, hi = f"{y}_low", f"{y}_high"
    if lo in t.columns and hi in t.columns:
        ax.fill_between(xs, t[lo].to_numpy(dtype=float), t[hi].to_numpy(dtype=float),
                        step=where, color=PALETTE[0], alpha=0.2, lw=0)
    if np.nanmin(xs) < 0 < np.nanmax(xs):
        ax.axvline(0.0, color="black", lw=0.8)
    ax.axhline(0.0, color=GREY, lw=0.6)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel or y)
    ax.set_title(title)
    return ax


def penalty_reward_chart(frame: pd.DataFrame, *, ax: Any = None, penalty: str = "penalty",
                         reward: str = "reward", cls: str = "kano_class", title: str = "",
                         xlabel: str = "effect on the outcome vs the middle band",
                         **kwargs: Any) -> Any:
    """Penalty/reward chart: penalty (low band, ≤ 0 when low hurts) and reward (high band).

    Drivers are sorted by total leverage |penalty| + reward; the Kano class is printed next to
    each driver's name when the frame has it.

    Examples
    --------
    >>> import pandas as pd
    >>> from driverkit.display._plots import penalty_reward_chart
    >>> t = pd.DataFrame({"penalty": [-0.3, -0.05], "reward": [0.05, 0.2],
    ...                   "kano_class": ["basic", "excitement"]}, index=["clean", "staff"])
    >>> ax = penalty_reward_chart(t)
    """
    _need(frame, [penalty, reward], "penalty/reward chart")
    ax = get_ax(ax)
    d = frame.assign(_lev=frame[penalty].abs() + frame[reward]).sort_values("_lev")
    y = np.arange(len(d))
    pen = d[penalty].to_numpy(dtype=float)
    rew = d[reward].to_numpy(dtype=float)
    ax.barh(y, pen, color=PALETTE[5], label="penalty (low rating)", **kwargs)
    ax.barh(y, rew, color=PALETTE[2], label="reward (high rating)", **kwargs)
    for col, vals in ((penalty, pen), (reward, rew)):
        lo_name, hi_name = f"{col}_low", f"{col}_high"
        if lo_name in d.columns and hi_name in d.columns:
            err = _whiskers(vals, d[lo_name].to_numpy(dtype=float),
                            d[hi_name].to_numpy(dtype=float))
            ax.errorbar(vals, y, xerr=err, fmt="none", ecolor="#333333", capsize=2, lw=0.8)
    names = _labels(d.index)
    if cls in d.columns:
        names = [f"{n} ({c})" for n, c in zip(names, d[cls], strict=True)]
    ax.set_yticks(y, names)
    ax.axvline(0.0, color="black", lw=0.8)
    ax.set_xlabel(xlabel)
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    ax.set_title(title)
    return ax

