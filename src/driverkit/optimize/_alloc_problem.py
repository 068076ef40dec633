"""The budget-allocation problem of :func:`~driverkit.optimize_budget` and its inputs.

Risk measures over simulated draws, the problem object (spend -> lifts -> scenario ->
simulated value, with gradients by the chain rule) and the checks of cost curves, bounds
and targets.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy.special import expit

from .._validation import check_fraction, check_option, suggest
from ..exceptions import DriverkitError, DriverkitTypeError, InfeasibleError
from ._curves import CostCurve, as_curve
from ._protocol import direction, shift_scenario

_FUNC = "optimize_budget"
_GREEDY_STEPS = 64


# --------------------------------------------------------------------------------------
# risk measures over simulated draws
# --------------------------------------------------------------------------------------
def _parse_risk(risk: Any) -> tuple[str, float] | None:
    if risk is None:
        return None
    if isinstance(risk, str):
        check_option(risk, "risk", ["mean", "p_positive", "quantile", "cvar"], _FUNC)
        if risk in ("quantile", "cvar"):
            raise DriverkitError(
                f"risk='{risk}' needs a level: risk=('{risk}', 0.1) for the lower 10 % tail."
            )
        return risk, 0.0
    if isinstance(risk, tuple | list) and len(risk) == 2:
        kind, level = risk
        check_option(kind, "risk", ["quantile", "cvar"], _FUNC)
        return str(kind), check_fraction(level, "risk level", _FUNC)
    raise DriverkitTypeError(
        "The 'risk' parameter of optimize_budget() must be None, 'mean', 'p_positive', "
        f"('quantile', q) or ('cvar', q). Got {risk!r} instead."
    )


def risk_measure(draws: np.ndarray, kind: str, level: float, *,
                 smooth: float | None = None) -> float:
    """The risk measure of simulated draws of the objective.

    ``mean``; ``quantile`` (the ``level`` quantile, linear interpolation); ``cvar`` (mean of
    the lowest ``ceil(level·S)`` draws: the expected shortfall of the lower tail; Rockafellar &
    Uryasev 2000); ``p_positive`` (share of draws > 0; with ``smooth`` the logistic kernel
    mean of expit(d / smooth), used inside the optimiser because the share is a step function).
    """
    d = np.asarray(draws, dtype=float).ravel()
    if d.size == 0 or not np.all(np.isfinite(d)):
        raise DriverkitError("The simulator returned empty or non-finite draws of the objective.")
    if kind == "mean":
        return float(np.mean(d))
    if kind == "quantile":
        return float(np.quantile(d, level))
    if kind == "cvar":
        k = max(1, math.ceil(level * d.size))
        return float(np.mean(np.partition(d, k - 1)[:k]))
    if smooth is not None:
        return float(np.mean(expit(d / smooth)))
    return float(np.mean(d > 0))


# --------------------------------------------------------------------------------------
# the problem: spend -> lifts -> scenario -> simulated value
# --------------------------------------------------------------------------------------
class _Problem:
    def __init__(self, sim: Any, drivers: list[str], curves: list[CostCurve], objective: str,
                 risk: tuple[str, float] | None, draws: int, seed: int) -> None:
        self.sim = sim
        self.drivers = drivers
        self.curves = curves
        self.objective = objective
        self.risk = risk
        self.draws = draws
        self.seed = seed
        self.smooth: float | None = None
        # −1 for an event rate where less is better: the search maximises the reduction
        self.sign = direction(sim, objective)
        scales = _group_scales(sim)
        self.scales = scales
        self.h = np.array([
            1e-6 * max(float(scales[d][1]) - float(scales[d][0]), 1.0) if d in scales else 1e-6
            for d in drivers
        ])
        self.n_evals = 0
        self.global_start = False
        self.search: list[dict[str, Any]] = []
        self._cache: dict[tuple[bytes, float, str], float] = {}
        self._cost_slope: dict[str, float] = {}

    def lifts(self, s: np.ndarray) -> np.ndarray:
        return np.array([float(c.lift(v)) for c, v in zip(self.curves, s, strict=True)])

    def dlift(self, s: np.ndarray) -> np.ndarray:
        return np.array([float(c.derivative(v)) for c, v in zip(self.curves, s, strict=True)])

    def scenario(self, lifts: np.ndarray, cost: float, name: str = "budget allocation") -> Any:
        return shift_scenario(name, dict(zip(self.drivers, lifts.tolist(), strict=True)), cost,
                              self.scales)

    def point(self, lifts: np.ndarray, cost: float, objective: str | None = None) -> float:
        """The simulator's point value (what ``run`` reports)."""
        obj = objective or self.objective
        key = (np.asarray(lifts, dtype=float).tobytes(), float(cost), obj)
        if key not in self._cache:
            self.n_evals += 1
            v = self.sign * float(self.sim.value(self.scenario(lifts, cost), obj))
            if not math.isfinite(v):
                raise DriverkitError(
                    f"The simulator returned a non-finite {obj} value for the plan with lifts "
                    f"{dict(zip(self.drivers, np.round(lifts, 6).tolist(), strict=True))}."
                )
            self._cache[key] = v
        return self._cache[key]

    def evaluate(self, lifts: np.ndarray, cost: float, *, smooth: bool = True) -> float:
        """The value being optimised: the point value, or the risk measure over draws."""
        if self.risk is None:
            return self.point(lifts, cost)
        key = (np.asarray(lifts, dtype=float).tobytes(), float(cost), f"risk{smooth}")
        if key not in self._cache:
            self.n_evals += 1
            d = self.sign * np.asarray(self.sim.value_draws(
                self.scenario(lifts, cost), self.objective, draws=self.draws, seed=self.seed),
                dtype=float)
            kind, level = self.risk
            self._cache[key] = risk_measure(d, kind, level,
                                            smooth=self.smooth if smooth else None)
        return self._cache[key]

    def lift_gradient(self, s: np.ndarray) -> tuple[np.ndarray, float, float, np.ndarray]:
        """Lifts, total cost and value at spend ``s``, and the value's forward-difference
        gradient with respect to the lifts."""
        lifts = self.lifts(s)
        cost = float(np.sum(s))
        f0 = self.evaluate(lifts, cost)
        g_lift = np.empty(len(s))
        for j in range(len(s)):
            step = lifts.copy()
            step[j] += self.h[j]
            g_lift[j] = (self.evaluate(step, cost) - f0) / self.h[j]
        return lifts, cost, f0, g_lift

    def value_and_grad(self, s: np.ndarray) -> tuple[float, np.ndarray]:
        """Value at spend ``s`` and its gradient with respect to spend."""
        lifts, cost, f0, g_lift = self.lift_gradient(s)
        return f0, g_lift * self.dlift(s) + self.cost_slope(lifts, cost, f0)

    def cost_slope(self, lifts: np.ndarray, cost: float, f0: float) -> float:
        """d value / d cost. The simulated objectives are linear in the plan's cost (Δprofit =
        margin·Δrevenue − cost; Δrevenue and Δrate ignore it), so it is computed once per
        mode; only the smoothed P(> 0) is not linear and is re-evaluated."""
        key = repr(self.risk)
        linear = self.risk is None or self.risk[0] != "p_positive"
        if linear and key in self._cost_slope:
            return self._cost_slope[key]
        hc = 1e-7 * max(cost, 1.0)
        slope = (self.evaluate(lifts, cost + hc) - f0) / hc
        if linear:
            # snap to the exact slope when it is one (-1 for profit, 0 otherwise) up to
            # rounding of the finite difference
            for exact in (-1.0, 0.0):
                if abs(slope - exact) < 1e-5:
                    slope = exact
            self._cost_slope[key] = slope
        return slope


# --------------------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------------------
def _groups(sim: Any) -> dict[str, list[str]]:
    """``{construct: items}`` of a PLS simulator (empty for other simulators)."""
    groups = getattr(sim, "constructs", None)
    return {str(g): list(v) for g, v in groups.items() if v} if isinstance(
        groups, Mapping) else {}


def _group_scales(sim: Any) -> dict[str, tuple[float, float]]:
    """The simulator's scales, plus one per construct: the narrowest scale of its items.

    A construct's lift moves each of its items by the same points (the simulator expands
    the construct's shift to its items), so the lift is capped where the narrowest item
    reaches its ceiling for every respondent.
    """
    scales = dict(getattr(sim, "scales", {}) or {})
    for g, items in _groups(sim).items():
        if g not in scales and all(i in scales for i in items):
            narrow = min(items, key=lambda i: float(scales[i][1]) - float(scales[i][0]))
            scales[g] = scales[narrow]
    return scales


def _check_curves(sim: Any, cost_curves: Any) -> tuple[list[str], list[CostCurve]]:
    if not isinstance(cost_curves, Mapping) or not cost_curves:
        raise DriverkitTypeError(
            "The 'cost_curves' parameter of optimize_budget() must be a non-empty dict "
            "{driver: cost curve}, e.g. {'staff': dk.saturating(1.0, 50_000)}."
        )
    groups = _groups(sim)
    # a PLS simulator also takes construct names: the construct's lift moves all its items
    known = [str(d) for d in sim.drivers] + [g for g in groups if g not in sim.drivers]
    drivers: list[str] = []
    curves: list[CostCurve] = []
    for d, c in cost_curves.items():
        if d not in known:
            raise DriverkitError(
                f"The cost curve for '{d}' names no driver of the simulator.{suggest(d, known)} "
                f"The simulator's drivers are: {', '.join(known)}."
            )
        drivers.append(str(d))
        curves.append(as_curve(c, str(d)))
    moved: dict[str, str] = {}
    for d in drivers:
        for it in groups.get(d, [d]):
            if it in moved:
                raise DriverkitError(
                    f"optimize_budget(): '{it}' has two cost curves (through '{moved[it]}' and "
                    f"'{d}'). Give a curve to the construct or to its items, not both.")
            moved[it] = d
    return drivers, curves


def _check_bounds(bounds: Any, drivers: list[str]) -> tuple[np.ndarray, np.ndarray]:
    p = len(drivers)
    lb, ub = np.zeros(p), np.full(p, np.inf)
    if bounds is None:
        return lb, ub
    if isinstance(bounds, tuple) and len(bounds) == 2 and not isinstance(bounds[0], tuple):
        items = {d: bounds for d in drivers}
    elif isinstance(bounds, Mapping):
        items = dict(bounds)
        for d in items:
            if d not in drivers:
                raise DriverkitError(
                    f"The 'bounds' parameter of optimize_budget() names '{d}', which has no cost "
                    f"curve.{suggest(str(d), drivers)}"
                )
    else:
        raise DriverkitTypeError(
            "The 'bounds' parameter of optimize_budget() must be a dict {driver: (min, max)} "
            f"or one (min, max) pair for every driver. Got {bounds!r}."
        )
    for d, b in items.items():
        j = drivers.index(d)
        try:
            lo, hi = b
        except (TypeError, ValueError) as exc:
            raise DriverkitTypeError(
                f"The spend bounds of '{d}' must be a (min, max) pair; got {b!r}."
            ) from exc
        lo = 0.0 if lo is None else float(lo)
        hi = math.inf if hi is None else float(hi)
        if lo < 0 or math.isnan(lo) or math.isnan(hi):
            raise DriverkitError(f"The lower spend bound of '{d}' must be >= 0; got {lo:g}.")
        if hi < lo:
            raise InfeasibleError(
                f"The spend bounds of '{d}' are empty: min {lo:g} > max {hi:g}."
            )
        lb[j], ub[j] = lo, hi
    return lb, ub


def _parse_target(target: Any) -> tuple[str, float] | None:
    if target is None:
        return None
    if isinstance(target, numbers.Real) and not isinstance(target, bool):
        if not math.isfinite(float(target)):
            raise DriverkitError(f"The 'target' of optimize_budget() must be finite; got {target}.")
        return "value", float(target)
    if isinstance(target, tuple | list) and len(target) == 2 and target[0] == "roi":
        rho = target[1]
        if not isinstance(rho, numbers.Real) or not math.isfinite(float(rho)):
            raise DriverkitError(f"The ROI target must be a finite number; got {rho!r}.")
        return "roi", float(rho)
    raise DriverkitTypeError(
        "The 'target' parameter of optimize_budget() must be a number (the objective's value "
        f"to reach) or ('roi', rho). Got {target!r} instead."
    )
