"""Plot helpers shared by every result's ``.plot()`` (matplotlib is an optional extra).

Each chart is a function of a tidy frame (what the result's ``plot_data()`` returns) and an
optional Axes, so result classes stay thin: their ``_plot`` calls one of these. All
functions return the Axes they drew on. Colours come from :data:`PALETTE` (Okabe–Ito, safe
for the common forms of colour blindness). Names go through the current formatter
(:mod:`._format`): display labels replace column names, ``$`` is shown literally (never
mathtext), and numeric axes use grouped thousands without offsets or scientific notation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ._format import current, is_money, mpl_escape

__all__ = [
    "GREY",
    "PALETTE",
    "QUADRANT_LABELS",
    "budget_frontier",
    "dominance_lines",
    "finish_axes",
    "get_ax",
    "importance_bars",
    "ipma_chart",
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
    """Tick and point labels: display labels applied, ``$`` escaped for matplotlib."""
    fmt = current()
    return [fmt.text(i) for i in index]


def _t(text: Any) -> str:
    """A title or axis label for matplotlib (column names relabelled, ``$`` literal)."""
    return mpl_escape(current().phrase(str(text)))


def _mark(ax: Any, which: str, column: str) -> None:
    """Remember which column an axis shows, so :func:`finish_axes` can format its ticks."""
    marks = getattr(ax, "_dk_columns", None) or {}
    marks[which] = str(column)
    ax._dk_columns = marks


def finish_axes(ax: Any, fmt: Any = None) -> Any:
    """Apply the formatter to a drawn Axes: labels, literal ``$``, plain number ticks.

    Numeric axes get grouped thousands and no offset or scientific notation (money axes the
    currency); categorical tick labels, legend entries, titles and annotations are relabelled
    and escaped. Safe to call twice.
    """
    from matplotlib.category import StrCategoryFormatter
    from matplotlib.ticker import FixedFormatter, FixedLocator, ScalarFormatter

    fmt = fmt or current()
    axes = [ax] if not isinstance(ax, (list, tuple, np.ndarray)) else list(np.ravel(ax))
    for a in axes:
        marks = getattr(a, "_dk_columns", None) or {}
        for which, axis in (("x", a.xaxis), ("y", a.yaxis)):
            formatter = axis.get_major_formatter()
            if isinstance(formatter, ScalarFormatter) and axis.get_scale() == "linear":
                # the column it shows, else what its title says (a "spend" axis is money)
                fmt.axis(axis, marks.get(which, "") or axis.label.get_text())
            elif isinstance(formatter, FixedFormatter):
                formatter.seq = [fmt.text(v) for v in formatter.seq]
            elif isinstance(formatter, StrCategoryFormatter):
                # bars drawn with names as categories: fix the ticks and relabel them
                mapping = getattr(getattr(axis, "units", None), "_mapping", None) or {}
                if mapping:
                    axis.set_major_locator(FixedLocator(list(mapping.values())))
                    axis.set_major_formatter(FixedFormatter([fmt.text(k) for k in mapping]))
        for text in [a.title, a._left_title, a._right_title, a.xaxis.label, a.yaxis.label,
                     *a.texts]:
            if text.get_text():
                text.set_text(mpl_escape(fmt.phrase(text.get_text())))
        legend = a.get_legend()
        if legend is not None:
            for text in legend.get_texts():
                text.set_text(fmt.text(text.get_text()))
            if legend.get_title().get_text():
                legend.get_title().set_text(mpl_escape(legend.get_title().get_text()))
    return ax


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
    ys = np.arange(len(values))
    ax.barh(ys, values.to_numpy(), color=PALETTE[0], **kwargs)
    lo, hi = f"{col}_low", f"{col}_high"
    if lo in frame.columns and hi in frame.columns:  # the interval of every bar, when known
        err = _whiskers(values.to_numpy(dtype=float),
                        frame.loc[values.index, lo].to_numpy(dtype=float),
                        frame.loc[values.index, hi].to_numpy(dtype=float))
        ax.errorbar(values.to_numpy(dtype=float), ys, xerr=err, fmt="none", ecolor="#333333",
                    capsize=3, lw=1)
    ax.set_yticks(ys, _labels(values.index))
    ax.set_xlabel(_t(col))
    _mark(ax, "x", col)
    ax.set_title(_t(title))
    return finish_axes(ax)


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

        handles = [Patch(color=c, label=current().text(s)) for s, c in cmap.items()]
        ax.legend(handles=handles, title="journey stage", loc="lower right", fontsize=8,
                  title_fontsize=8, frameon=False)
    ax.set_xlabel(_t(xlabel or value))
    _mark(ax, "x", value)
    ax.set_title(_t(title))
    return finish_axes(ax)


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
                color=PALETTE[i % len(PALETTE)], ls=("-", "--", ":")[i // len(PALETTE) % 3],
                label=current().text(name), **kwargs)
    ax.set_xticks(sizes)
    ax.set_xlabel("number of other drivers in the model")
    ax.set_ylabel(_t(ylabel))
    ax.legend(fontsize=8, frameon=False, loc="best")
    ax.set_title(_t(title))
    return finish_axes(ax)


def priority_matrix(frame: pd.DataFrame, *, ax: Any = None, x: str = "performance",
                    y: str = "impact", low: str | None = None, high: str | None = None,
                    x_split: float | None = None, y_split: float | None = None,
                    title: str = "", xlabel: str | None = None, ylabel: str | None = None,
                    quadrant_labels: dict[tuple[bool, bool], str] | None = None,
                    quadrant_colors: dict[str, str] | None = None,
                    split_at: str = "median", **kwargs: Any) -> Any:
    """The priority matrix: current performance × simulated impact of one step, per driver.

    Quadrants (split at ``x_split``/``y_split``, default the medians): high impact and low
    performance = "fix first"; high impact, high performance = "maintain"; low impact, low
    performance = "low priority"; low impact, high performance = "possible overkill". When
    ``frame`` has a ``quadrant`` column (the analysis' own classification), points are
    coloured by it. Point labels are placed where they overlap neither each other nor a
    point, with a leader line when they had to move away.

    Parameters
    ----------
    frame : pandas.DataFrame
        Indexed by driver with columns ``x`` (e.g. mean rating) and ``y`` (e.g. Δrevenue of a
        one-point improvement) and optionally the interval of ``y`` (``low``/``high``, default
        ``<y>_low``/``<y>_high`` when present) and of ``x`` (``<x>_low``/``<x>_high``).
    quadrant_labels : dict, optional
        ``{(high y?, high x?): name}`` to rename the quadrants (see :func:`ipma_chart`).
    split_at : {"median", "mean"}
        Default split of both axes.

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
    names = quadrant_labels or QUADRANT_LABELS
    low = low or (f"{y}_low" if f"{y}_low" in frame.columns else None)
    high = high or (f"{y}_high" if f"{y}_high" in frame.columns else None)
    xs = frame[x].to_numpy(dtype=float)
    ys = frame[y].to_numpy(dtype=float)
    centre = np.nanmean if split_at == "mean" else np.nanmedian
    xm = float(centre(xs)) if x_split is None else float(x_split)
    ym = float(centre(ys)) if y_split is None else float(y_split)
    if "quadrant" in frame.columns and quadrant_labels is None:
        quad = [str(q) for q in frame["quadrant"]]  # the analysis' own classification
    else:  # which side of the drawn split lines each point lies on
        quad = [names[(bool(b >= ym), bool(a >= xm))] for a, b in zip(xs, ys, strict=True)]
    order = [names[k] for k in ((True, False), (True, True), (False, False), (False, True))]
    qcol = quadrant_colors or dict(zip(order, [PALETTE[5], PALETTE[0], GREY, PALETTE[1]],
                                       strict=True))
    colors = [qcol.get(q, GREY) for q in quad]
    if low and high and low in frame.columns and high in frame.columns:
        err = _whiskers(ys, frame[low].to_numpy(dtype=float), frame[high].to_numpy(dtype=float))
        ax.errorbar(xs, ys, yerr=err, fmt="none", ecolor="#555555", capsize=3, lw=1, zorder=1)
    if f"{x}_low" in frame.columns and f"{x}_high" in frame.columns:
        err = _whiskers(xs, frame[f"{x}_low"].to_numpy(dtype=float),
                        frame[f"{x}_high"].to_numpy(dtype=float))
        ax.errorbar(xs, ys, xerr=err, fmt="none", ecolor="#555555", capsize=3, lw=1, zorder=1)
    ax.scatter(xs, ys, c=colors, s=60, zorder=2, edgecolors="black", linewidths=0.5, **kwargs)
    ax.axvline(xm, color=GREY, lw=0.8, ls="--")
    ax.axhline(ym, color=GREY, lw=0.8, ls="--")
    ax.set_xlabel(_t(xlabel or x))
    ax.set_ylabel(_t(ylabel or y))
    _mark(ax, "x", x)
    _mark(ax, "y", y)
    ax.set_title(_t(title))
    # Quadrant names in the corners (axes coordinates, so they never hide a point's label).
    for (hi_y, hi_x), label in names.items():
        ax.text(0.98 if hi_x else 0.02, 0.97 if hi_y else 0.03, mpl_escape(label),
                transform=ax.transAxes, ha="right" if hi_x else "left",
                va="top" if hi_y else "bottom", fontsize=9, fontweight="bold",
                color=qcol.get(label, GREY), alpha=0.9)
    finish_axes(ax)
    _annotate_points(ax, _labels(frame.index), xs, ys)
    return ax


def ipma_chart(frame: pd.DataFrame, *, ax: Any = None, x: str = "importance",
               y: str = "performance", title: str = "Importance–performance map",
               xlabel: str | None = None, ylabel: str | None = None, **kwargs: Any) -> Any:
    """Importance–performance map (IPMA): quadrants split at the means, with intervals.

    The grid of Martilla & James (1977) as used for PLS path models (Ringle & Sarstedt
    2016): importance (e.g. a construct's total effect on the target) on the x axis,
    performance (its 0–100 index) on the y axis. High importance with low performance is
    where to "concentrate here". ``<x>_low``/``<x>_high`` and ``<y>_low``/``<y>_high`` draw
    intervals.

    Examples
    --------
    >>> import pandas as pd
    >>> from driverkit.display._plots import ipma_chart
    >>> t = pd.DataFrame({"importance": [0.4, 0.3, 0.1], "performance": [60.0, 80.0, 70.0],
    ...                   "importance_low": [0.3, 0.2, 0.0], "importance_high": [0.5, 0.4, 0.2]},
    ...                  index=["value", "quality", "image"])
    >>> ax = ipma_chart(t)
    """
    # keys: (high performance?, high importance?)
    names = {(False, True): "concentrate here", (True, True): "keep up the good work",
             (False, False): "low priority", (True, False): "possible overkill"}
    colours = {"concentrate here": PALETTE[5], "keep up the good work": PALETTE[0],
               "low priority": GREY, "possible overkill": PALETTE[1]}
    return priority_matrix(frame, ax=ax, x=x, y=y, title=title, xlabel=xlabel or x,
                           ylabel=ylabel or y, quadrant_labels=names, quadrant_colors=colours,
                           split_at="mean", **kwargs)


def _annotate_points(ax: Any, names: Sequence[str], xs: np.ndarray, ys: np.ndarray) -> None:
    """Label points where a label overlaps no other label, no point and no quadrant name.

    Each label's size is measured once; eight positions around its point are tried (in
    display space), then two rings further out with a leader line; the most crowded points
    are placed first.
    """
    ax.autoscale_view()
    try:
        renderer = ax.figure._get_renderer()
    except Exception:  # pragma: no cover - exotic backends: plain labels
        renderer = None
    ok = np.isfinite(xs) & np.isfinite(ys)
    if renderer is None:
        for i in np.flatnonzero(ok).tolist():
            ax.annotate(names[i], (xs[i], ys[i]), xytext=(7, 5), textcoords="offset points",
                        fontsize=8)
        return
    pts = ax.transData.transform(np.column_stack([np.where(ok, xs, 0), np.where(ok, ys, 0)]))
    frame = ax.get_window_extent(renderer)
    px_per_pt = renderer.points_to_pixels(1.0)
    r = 5.0 * px_per_pt  # half a marker
    taken = [(px - r, py - r, px + r, py + r) for (px, py), good in zip(pts, ok, strict=True)
             if good]
    w, h, x0, y0 = frame.width, frame.height, frame.x0, frame.y0
    band = 16 * px_per_pt  # the quadrant names in the corners
    taken += [(x0, y0 + h - band, x0 + 0.35 * w, y0 + h),
              (x0 + 0.65 * w, y0 + h - band, x0 + w, y0 + h),
              (x0, y0, x0 + 0.35 * w, y0 + band), (x0 + 0.65 * w, y0, x0 + w, y0 + band)]
    probe = ax.text(0, 0, "", fontsize=8)
    sizes = []
    for name in names:
        probe.set_text(name)
        bb = probe.get_window_extent(renderer)
        sizes.append((bb.width, bb.height))
    probe.remove()
    crowd = [int(np.sum(np.hypot(*(pts - pts[i]).T) < 60 * px_per_pt)) for i in range(len(pts))]
    order = sorted((i for i in range(len(xs)) if ok[i]), key=lambda i: -crowd[i])
    offsets = [(7, 4), (7, -4), (-7, 4), (-7, -4), (0, 9), (0, -9), (12, 0), (-12, 0)]
    for i in order:
        tw, th = sizes[i]
        chosen = None
        for ring in (1.0, 2.4, 3.8):
            for dx, dy in offsets:
                ox, oy = dx * ring * px_per_pt, dy * ring * px_per_pt
                left = pts[i][0] + ox - (tw if dx < 0 else (tw / 2 if dx == 0 else 0))
                bottom = pts[i][1] + oy - (th if dy < 0 else 0)
                box = (left - 1, bottom - 1, left + tw + 1, bottom + th + 1)
                inside = (box[0] >= x0 and box[2] <= x0 + w and box[1] >= y0
                          and box[3] <= y0 + h)
                clash = any(box[0] < t[2] and box[2] > t[0] and box[1] < t[3] and box[3] > t[1]
                            for t in taken)
                if inside and not clash:
                    chosen = (dx * ring, dy * ring, ring, box)
                    break
            if chosen:
                break
        if chosen is None:  # crowded beyond repair: keep the label next to its point
            ax.annotate(names[i], (xs[i], ys[i]), xytext=(7, 4), textcoords="offset points",
                        fontsize=8)
            continue
        ox, oy, ring, box = chosen
        taken.append(box)
        ax.annotate(names[i], (xs[i], ys[i]), xytext=(ox, oy), textcoords="offset points",
                    fontsize=8, ha="left" if ox > 0 else ("right" if ox < 0 else "center"),
                    va="bottom" if oy >= 0 else "top",
                    arrowprops=({"arrowstyle": "-", "color": "#999999", "lw": 0.5}
                                if ring > 1.0 else None))


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
    labels = [current().label(baseline_label), *_labels(s.index)]
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
    ax.set_xticks(x, [mpl_escape(v) for v in labels], rotation=30, ha="right")
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
    ax.set_ylabel(_t(ylabel))
    _mark(ax, "y", ylabel or value)
    ax.set_title(_t(title))
    return finish_axes(ax)


def sensitivity_curves(frame: pd.DataFrame, *, ax: Any = None, x: str = "step",
                       y: str = "delta_rate", by: str = "driver", low: str | None = None,
                       high: str | None = None, bands: bool | None = None, title: str = "",
                       xlabel: str | None = None, ylabel: str | None = None,
                       highlight: int | None = 5, **kwargs: Any) -> Any:
    """Sensitivity curves: the effect of moving each driver by ``x`` rating points.

    ``frame`` is long: one row per (driver, step) with columns ``by``, ``x``, ``y`` and
    optionally the interval ``<y>_low``/``<y>_high``. With more than ``highlight`` drivers,
    the ``highlight`` with the largest effect are drawn in distinct colours and labelled at
    the end of their line; the others are thin grey lines (labelled too, so none is
    anonymous), never a legend of repeated colours. Bands (the interval) are shaded for the
    highlighted curves when ``bands`` is true (default: when at most four are coloured).

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
    groups = [(name, g.sort_values(x)) for name, g in frame.groupby(by, sort=False)]
    size = {name: float(np.nanmax(np.abs(g[y].to_numpy(dtype=float)))) if len(g) else 0.0
            for name, g in groups}
    colours = [c for c in PALETTE if c not in ("#F0E442",)]  # yellow is unreadable on white
    k = len(groups) if highlight is None else min(int(highlight), len(groups), len(colours))
    top = sorted(size, key=lambda n: -size[n])[:k]
    if bands is None:
        bands = len(top) <= 4
    if not bands:
        low = high = None
    ends: list[tuple[float, float, str, str]] = []
    for name, g in groups:
        xs = g[x].to_numpy(dtype=float)
        ys = g[y].to_numpy(dtype=float)
        if name in top:
            c = colours[top.index(name)]
            ax.plot(xs, ys, marker="o", ms=3, color=c, lw=2, zorder=3,
                    label=current().text(name), **kwargs)
            if low and high:
                ax.fill_between(xs, g[low].to_numpy(dtype=float), g[high].to_numpy(dtype=float),
                                color=c, alpha=0.15, lw=0)
        else:
            c = "#BBBBBB"
            ax.plot(xs, ys, color=c, lw=1, zorder=2, label=current().text(name), **kwargs)
        if len(xs):
            ends.append((float(xs[-1]), float(ys[-1]), current().text(name), c))
    _end_labels(ax, ends)
    ax.axhline(0.0, color="black", lw=0.6)
    ax.axvline(0.0, color=GREY, lw=0.6)
    ax.set_xlabel(_t(xlabel or f"{x} (rating points)"))
    ax.set_ylabel(_t(ylabel or y))
    _mark(ax, "y", y)
    ax.set_title(_t(title))
    return finish_axes(ax)


def _end_labels(ax: Any, ends: list[tuple[float, float, str, str]]) -> None:
    """Names just right of the plot, at their line's end, spread so they do not overlap."""
    if not ends:
        return
    ax.autoscale_view()
    lo, hi = ax.get_ylim()
    gap = 0.045 * (hi - lo)
    ends = sorted(ends, key=lambda e: e[1])
    ypos = [e[1] for e in ends]
    for i in range(1, len(ypos)):
        ypos[i] = max(ypos[i], ypos[i - 1] + gap)
    overflow = ypos[-1] - hi + gap / 2
    if overflow > 0:
        ypos = [v - overflow for v in ypos]
        for i in range(len(ypos) - 2, -1, -1):
            ypos[i] = min(ypos[i], ypos[i + 1] - gap)
    for (xe, ye, name, colour), yl in zip(ends, ypos, strict=True):
        ax.annotate(name, (xe, ye), xytext=(1.02, yl), textcoords=("axes fraction", "data"),
                    fontsize=7.5, color=colour if colour != "#BBBBBB" else "#777777",
                    va="center", ha="left", annotation_clip=False,
                    arrowprops={"arrowstyle": "-", "color": "#DDDDDD", "lw": 0.5})


def budget_frontier(frame: pd.DataFrame, *, ax: Any = None, x: str = "budget", y: str = "value",
                    step: bool | None = None, kind: str | None = None,
                    title: str = "Efficient frontier",
                    xlabel: str = "budget (negative = savings target)",
                    ylabel: str | None = None, **kwargs: Any) -> Any:
    """Budget frontier: the optimal value for each budget, with its interval when present.

    Parameters
    ----------
    kind : {"continuous", "discrete"}, optional
        ``"continuous"`` (cost curves: any spend is possible) draws a smooth curve through the
        optimised budgets; ``"discrete"`` (a portfolio of initiatives: the value only changes
        when another initiative becomes affordable) draws steps. Default: from ``step``
        (``True`` → discrete), else ``frame.attrs["kind"]``, else discrete.

    Examples
    --------
    >>> import pandas as pd
    >>> from driverkit.display._plots import budget_frontier
    >>> f = pd.DataFrame({"budget": [0, 10, 20], "value": [0.0, 25.0, 35.0]})
    >>> ax = budget_frontier(f, kind="continuous")
    """
    _need(frame, [x, y], "frontier chart")
    if kind is None:
        kind = ("discrete" if step else "continuous") if step is not None else str(
            frame.attrs.get("kind", "discrete"))
    if kind not in ("continuous", "discrete"):
        from ..exceptions import DriverkitError

        raise DriverkitError(f"budget_frontier(kind={kind!r}): use 'continuous' or 'discrete'.")
    ax = get_ax(ax)
    t = frame.sort_values(x)
    xs = t[x].to_numpy(dtype=float)
    ys = t[y].to_numpy(dtype=float)
    discrete = kind == "discrete"
    if discrete:
        ax.step(xs, ys, where="post", color=PALETTE[0], marker="o", ms=4, **kwargs)
    elif len(xs) >= 3:
        # a monotone cubic through the optimised budgets: continuous, no overshoot
        from scipy.interpolate import PchipInterpolator

        grid = np.linspace(xs.min(), xs.max(), 200)
        ax.plot(grid, PchipInterpolator(xs, ys)(grid), color=PALETTE[0], **kwargs)
        ax.plot(xs, ys, "o", color=PALETTE[0], ms=3)
    else:
        ax.plot(xs, ys, color=PALETTE[0], marker="o", **kwargs)
    lo, hi = f"{y}_low", f"{y}_high"
    if lo in t.columns and hi in t.columns:
        ax.fill_between(xs, t[lo].to_numpy(dtype=float), t[hi].to_numpy(dtype=float),
                        step="post" if discrete else None, color=PALETTE[0], alpha=0.2, lw=0)
        err = _whiskers(ys, t[lo].to_numpy(dtype=float), t[hi].to_numpy(dtype=float))
        ax.errorbar(xs, ys, yerr=err, fmt="none", ecolor=PALETTE[0], capsize=2, lw=0.8)
    if np.nanmin(xs) < 0 < np.nanmax(xs):
        ax.axvline(0.0, color="black", lw=0.8)
    ax.axhline(0.0, color=GREY, lw=0.6)
    ax.set_xlabel(_t(xlabel))
    ax.set_ylabel(_t(ylabel or y))
    _mark(ax, "x", x)
    money = (is_money(ylabel or y) or y in current().money_columns
             or str(frame.attrs.get("objective", "")) != "rate")
    _mark(ax, "y", "revenue" if money else y)
    ax.set_title(_t(title))
    return finish_axes(ax)


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
        names = [f"{n} ({mpl_escape(c)})" for n, c in zip(names, d[cls], strict=True)]
    ax.set_yticks(y, names)
    ax.axvline(0.0, color="black", lw=0.8)
    ax.set_xlabel(_t(xlabel))
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    ax.set_title(_t(title))
    return finish_axes(ax)

