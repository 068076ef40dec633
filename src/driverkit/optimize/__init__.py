"""Budget optimisation: cost curves, continuous allocation, initiative portfolios, frontier.

Every value is the simulator's own number for the plan (through :class:`SimulatorProtocol`),
so ``optimize_budget(...).value`` equals the objective's column of ``sim.run(plan.scenario)``.
"""

from ._allocate import optimize_budget, risk_measure
from ._curves import (
    CallableCurve,
    CostCurve,
    Hill,
    Piecewise,
    Saturating,
    as_curve,
    hill,
    piecewise,
    saturating,
)
from ._frontier import FrontierResult, frontier
from ._portfolio import select_initiatives
from ._protocol import OBJECTIVES, SimulatorProtocol
from ._results import Allocation, Portfolio, plot_frontier

__all__ = [
    "OBJECTIVES",
    "Allocation",
    "CallableCurve",
    "CostCurve",
    "FrontierResult",
    "Hill",
    "Piecewise",
    "Portfolio",
    "Saturating",
    "SimulatorProtocol",
    "as_curve",
    "frontier",
    "hill",
    "optimize_budget",
    "piecewise",
    "plot_frontier",
    "risk_measure",
    "saturating",
    "select_initiatives",
]
