"""Efficient frontier: the optimum for each budget of a sweep (negative = savings targets)."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from .._results import FrameResult
from .._validation import check_fraction, renamed
from ..exceptions import DriverkitError, DriverkitTypeError, InfeasibleError
from ._allocate import optimize_budget
from ._curves import CostCurve
from ._portfolio import select_initiatives
from ._protocol import OBJECTIVES

__all__ = ["FrontierResult", "frontier"]


class FrontierResult(FrameResult):
    """The efficient frontier: the optimal plan and its value for each budget.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per budget: ``budget, chosen, value, net_cost, roi, feasible`` (with a
        simulator also ``value_low, value_high, roi_low, roi_high``; for cost curves
        ``allocation``). Also readable as ``result["value"]``, ``result.iloc[...]``,
        ``len(result)`` (0.1 returned the table itself).
    """

    _title = "Efficient frontier"

    def _plot(self, ax: Any, **kwargs: Any) -> Any:
        from ..display._plots import budget_frontier

        kwargs.setdefault("title", self.title)
        return budget_frontier(self.table, ax=ax, step="allocation" not in self.table.columns,
                               **kwargs)


def _is_curves(obj: Any) -> bool:
    return (isinstance(obj, Mapping) and len(obj) > 0
            and all(isinstance(v, CostCurve) or (callable(v) and not isinstance(v, Mapping)
                                                 and not hasattr(v, "operators"))
                    for v in obj.values()))


def frontier(initiatives_or_curves: Any, budgets: Iterable[float], *, simulator: Any = None,
             sim: Any = None, objective: str | None = None, draws: int = 1000,
             seed: int | None = 0, ci: float = 0.95, **options: Any) -> FrontierResult:
    """The optimal plan and its value for each budget of a sweep.

    Parameters
    ----------
    initiatives_or_curves : initiatives or dict of cost curves
        Initiatives as for :func:`select_initiatives` (discrete frontier), or
        ``{driver: cost curve}`` as for :func:`optimize_budget` (continuous frontier; needs
        ``simulator``).
    budgets : iterable of float
        The budgets to solve for. Negative budgets are savings targets (initiatives only).
    simulator : driverkit.Simulator, optional
        The simulator (``sim=`` is the deprecated 0.1 spelling). With a simulator each plan's
        value also gets an interval from ``simulator.run(plan, draws=draws, seed=seed, ci=ci)``.
    objective : str, optional
        As in the underlying optimiser (default ``"revenue"`` for initiatives, ``"profit"``
        for cost curves).
    draws, seed, ci
        Passed to ``simulator.run`` for the intervals.
    **options
        Any other option of :func:`select_initiatives` / :func:`optimize_budget`
        (``exclusive``, ``requires``, ``max_revenue_at_risk``, ``bounds``, ``risk``, ...).

    Returns
    -------
    FrontierResult
        ``.table`` has one row per budget (in the order given): ``budget``, ``chosen`` (chosen
        initiatives or funded drivers), ``value``, ``net_cost``, ``roi``, ``feasible``; with a
        simulator also ``value_low``, ``value_high``, ``roi_low``, ``roi_high``; for cost curves
        also ``allocation`` (``{driver: spend}``). ``roi`` is Δprofit / net cost (the
        simulator's ``roi``; for known effects ``value / net_cost`` with ``objective="profit"``
        and ``(value − net_cost) / net_cost`` — i.e. margin 1 — with ``"revenue"``); it is NaN
        when the plan costs nothing or saves money (ROI undefined) and for ``"rate"``. A budget
        no plan can meet (e.g. an unreachable savings target) gives ``feasible=False`` and NaN
        value.

    Examples
    --------
    >>> import driverkit as dk
    >>> ini = {"A": {"cost": 40, "delta_revenue": 120}, "B": {"cost": 25, "delta_revenue": 60},
    ...        "C": {"cost": 10, "delta_revenue": 35}, "D": {"cost": -30, "delta_revenue": -8}}
    >>> dk.frontier(ini, [0, 20]).table[["budget", "chosen", "value", "net_cost"]]
       budget     chosen  value  net_cost
    0     0.0     [B, D]   52.0      -5.0
    1    20.0  [A, C, D]  147.0      20.0
    """
    sim_obj = renamed(simulator, sim, "simulator", "sim", "frontier")
    bl = _budgets(budgets)
    check_fraction(ci, "ci", "frontier")
    curves = _is_curves(initiatives_or_curves)
    score = getattr(sim_obj, "outcome_type", "rate") == "score"
    obj = objective or ("mean" if score else "profit" if curves else "revenue")
    if curves and sim_obj is None:
        raise DriverkitError("A frontier over cost curves needs simulator=dk.Simulator(...).")
    rows: list[dict[str, Any]] = []
    for b in bl:
        row: dict[str, Any] = {"budget": b}
        try:
            if curves:
                alloc = optimize_budget(sim_obj, initiatives_or_curves, b, objective=obj,
                                        **options)
                chosen, value = alloc.funded, alloc.value
                net_cost, scenario = alloc.total_spend, alloc.scenario
                row_extra = {"allocation": alloc.table["spend"].to_dict()}
            else:
                port = select_initiatives(initiatives_or_curves, b, simulator=sim_obj,
                                          objective=obj, **options)
                chosen, value, net_cost = port.chosen, port.value, port.net_cost
                scenario, row_extra = port.scenario, {}
        except InfeasibleError:
            row.update({"chosen": None, "value": math.nan, "net_cost": math.nan,
                        "roi": math.nan, "feasible": False})
            if sim_obj is not None:
                row.update({"value_low": math.nan, "value_high": math.nan,
                            "roi_low": math.nan, "roi_high": math.nan})
            if curves:
                row["allocation"] = None
            rows.append(row)
            continue
        row.update({"chosen": chosen, "value": value, "net_cost": net_cost})
        if scenario is not None:
            t = sim_obj.run(scenario, draws=draws, seed=seed, ci=ci).table
            col = OBJECTIVES[obj]
            row["roi"] = float(t["roi"].iloc[0]) if "roi" in t.columns else math.nan
            row["feasible"] = True
            row["value_low"] = float(t[f"{col}_low"].iloc[0])
            row["value_high"] = float(t[f"{col}_high"].iloc[0])
            row["roi_low"] = float(t["roi_low"].iloc[0]) if "roi_low" in t.columns else math.nan
            row["roi_high"] = float(t["roi_high"].iloc[0]) if "roi_high" in t.columns else math.nan
            if net_cost <= 0:
                row["roi"] = row["roi_low"] = row["roi_high"] = math.nan
        else:
            row["roi"] = _known_roi(obj, value, net_cost)
            row["feasible"] = True
        row.update(row_extra)
        rows.append(row)
    out = pd.DataFrame(rows)
    cols = ["budget", "chosen", "value", "net_cost", "roi", "feasible"]
    if sim_obj is not None:
        cols += ["value_low", "value_high", "roi_low", "roi_high"]
    if curves:
        cols.append("allocation")
    meta: dict[str, Any] = {"objective": obj, "budgets": len(bl),
                            "feasible": int(out["feasible"].sum())}
    if sim_obj is not None:
        meta.update({"draws": draws, "ci": ci})
    notes = []
    if not out["feasible"].all():
        notes.append("Budgets no plan can meet (e.g. an unreachable savings target) are "
                     "marked feasible = False with no value.")
    return FrontierResult(out[cols], meta=meta, notes=notes)


def _known_roi(objective: str, value: float, net_cost: float) -> float:
    if net_cost <= 0 or objective == "rate":
        return math.nan
    if objective == "profit":
        return value / net_cost
    return (value - net_cost) / net_cost


def _budgets(budgets: Iterable[float]) -> list[float]:
    items: Iterable[Any] = [budgets] if isinstance(budgets, numbers.Real) else budgets
    try:
        bl = [float(b) for b in items]
    except (TypeError, ValueError) as exc:
        raise DriverkitTypeError(
            f"The 'budgets' parameter of frontier() must be a list of numbers; got {budgets!r}."
        ) from exc
    if not bl or not all(np.isfinite(bl)):
        raise DriverkitError("The 'budgets' of frontier() must be a non-empty list of finite "
                             "numbers.")
    return bl
