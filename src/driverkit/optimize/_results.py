"""Result objects of the optimisers: :class:`Allocation` and :class:`Portfolio`."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .._results import Result
from .._version import __version__

__all__ = ["Allocation", "Portfolio", "plot_frontier"]


class Allocation(Result):
    """The answer of :func:`driverkit.optimize_budget`: spend per driver.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per driver (index) with ``spend``, ``lift`` (rating points bought),
        ``delta_value`` (the objective of that driver's shift alone, its own spend as cost),
        ``marginal_roi`` (change of the objective per extra unit of spend on the driver, at
        the optimum; for ``"profit"`` net of the spend itself), ``status``
        (``funded``/``unfunded``/``at upper bound``/``at lower bound``) and ``reason`` (why an
        unfunded driver got nothing).
    value : float
        The objective's value of the plan: equals the objective's column of
        ``sim.run(allocation.scenario).table`` to the last digit.
    scenario : driverkit.Scenario
        The plan as a scenario of shifts, ``cost`` = total spend.
    solver : scipy.optimize.OptimizeResult
        The raw result of the solver run that produced the plan.
    objective : str
        ``"profit"``, ``"revenue"`` or ``"rate"``.
    total_spend : float
        Sum of ``spend``.
    marginal_roi : float
        The common marginal ROI of funded drivers strictly inside their bounds (NaN when no
        such driver exists; see ``meta``).
    risk_value : float or None
        The risk measure that was optimised (``risk=...``), else ``None``.
    """

    _title = "Budget allocation"

    def __init__(self, table: pd.DataFrame, *, value: float, scenario: Any, solver: Any,
                 objective: str, total_spend: float, marginal_roi: float,
                 risk_value: float | None = None, meta: dict[str, Any] | None = None,
                 notes: list[str] | None = None) -> None:
        meta = dict(meta or {})
        meta.setdefault("driverkit_version", __version__)
        super().__init__(table, meta=meta, notes=notes)
        self.value = float(value)
        self.scenario = scenario
        self.solver = solver
        self.objective = objective
        self.total_spend = float(total_spend)
        self.marginal_roi = float(marginal_roi)
        self.risk_value = risk_value

    @property
    def funded(self) -> list[str]:
        """Drivers with positive spend, in table order."""
        return [str(d) for d in self.table.index[self.table["spend"] > 0]]

    def plot_data(self) -> pd.DataFrame:
        return self.table[["spend", "lift", "delta_value", "marginal_roi"]].copy()

    def _plot(self, ax: Any, **kwargs: Any) -> Any:
        from ..display._plots import PALETTE

        data = self.plot_data().sort_values("spend")
        labels = [str(i) for i in data.index]
        colors = [PALETTE[0] if s > 0 else "#BBBBBB" for s in data["spend"]]
        ax.barh(labels, data["spend"].to_numpy(), color=colors, **kwargs)
        top = float(data["spend"].max()) if len(data) else 0.0
        for y, (s, lift) in enumerate(zip(data["spend"], data["lift"], strict=True)):
            if s > 0:
                ax.text(s + 0.01 * top, y, f"+{lift:.2f}", va="center", fontsize=8)
        ax.set_xlabel("spend")
        ax.set_title(f"{self.title}: {self.objective} = {self.value:,.4g}")
        return ax


class Portfolio(Result):
    """The answer of :func:`driverkit.select_initiatives`: which initiatives to run.

    Attributes
    ----------
    chosen : list of str
        The chosen initiatives, in the order they were given.
    table : pandas.DataFrame
        One row per initiative (index) with ``cost``, ``value`` (its standalone effect on the
        objective), ``chosen`` and, when relevant, ``revenue_at_risk`` and ``area``.
    value : float
        The objective's value of the chosen set: the joint simulated value when the
        initiatives carry scenarios (equals ``sim.run(portfolio.scenario)``), else the sum of
        the known effects.
    net_cost : float
        Sum of the chosen costs (negative: the plan saves money).
    scenario : driverkit.Scenario or None
        The joint scenario of the chosen set (simulated initiatives only).
    additivity_gap : float
        Joint value minus the sum of standalone values of the chosen set (0 for known
        effects, which are additive by assumption).
    solver : scipy.optimize.OptimizeResult
        The raw MILP result (HiGHS via :func:`scipy.optimize.milp`).
    """

    _title = "Initiative portfolio"

    def __init__(self, table: pd.DataFrame, *, chosen: list[str], value: float, net_cost: float,
                 scenario: Any, additivity_gap: float, solver: Any, objective: str,
                 meta: dict[str, Any] | None = None, notes: list[str] | None = None) -> None:
        meta = dict(meta or {})
        meta.setdefault("driverkit_version", __version__)
        super().__init__(table, meta=meta, notes=notes)
        self.chosen = list(chosen)
        self.value = float(value)
        self.net_cost = float(net_cost)
        self.scenario = scenario
        self.additivity_gap = float(additivity_gap)
        self.solver = solver
        self.objective = objective

    def plot_data(self) -> pd.DataFrame:
        return self.table[["cost", "value", "chosen"]].copy()

    def _plot(self, ax: Any, **kwargs: Any) -> Any:
        from ..display._plots import PALETTE

        data = self.plot_data().sort_values("value")
        labels = [str(i) for i in data.index]
        colors = [PALETTE[0] if c else "#BBBBBB" for c in data["chosen"]]
        ax.barh(labels, data["value"].to_numpy(), color=colors, **kwargs)
        ax.axvline(0.0, color="black", lw=0.8)
        ax.set_xlabel(f"standalone {self.objective} (blue = chosen)")
        ax.set_title(f"{self.title}: net cost {self.net_cost:,.4g}, value {self.value:,.4g}")
        return ax


def plot_frontier(table: pd.DataFrame, ax: Any = None, **kwargs: Any) -> Any:
    """Plot a frontier table from :func:`driverkit.frontier` (value against budget).

    Parameters
    ----------
    table : pandas.DataFrame
        The output of :func:`driverkit.frontier`.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when ``None``.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import driverkit as dk
    >>> from driverkit.optimize import plot_frontier
    >>> ini = {"A": {"cost": 10, "delta_revenue": 30}, "B": {"cost": 5, "delta_revenue": 10}}
    >>> ax = plot_frontier(dk.frontier(ini, [0, 5, 10, 15]))
    """
    from ..display._plots import budget_frontier

    if isinstance(table, Result):  # a FrontierResult (0.1 frontier() returned the frame)
        table = table.table
    # discrete portfolios jump between plans (steps); continuous allocations are smooth
    return budget_frontier(table, ax=ax, step="allocation" not in table.columns, **kwargs)
