"""Continuous budget allocation over drivers (``optimize_budget``).

The value of a plan is always the simulator's joint value of the scenario the plan implies
(one shift per funded driver, cost = total spend), so interactions between drivers (the
logit's saturation, clipping at the scale ceiling) are part of the objective. Gradients come
from the chain rule: forward differences of the simulated value in *lift* space (steps of
1e-6 of each driver's scale range, which keeps the differences well conditioned whatever the
currency) times the cost curves' analytic derivatives, plus the derivative with respect to
the plan's cost.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize as sopt
from scipy.special import expit

from .._validation import check_fraction, check_kwargs, check_option, renamed, suggest
from ..exceptions import ConvergenceWarning, DriverkitError, DriverkitTypeError, InfeasibleError
from ._curves import CostCurve, Hill, Piecewise, Saturating, as_curve
from ._global import milp_start
from ._protocol import (
    OBJECTIVES,
    check_simulator,
    direction,
    flag_suppressors,
    quiet_search,
    shift_scenario,
)
from ._results import Allocation

__all__ = ["optimize_budget"]

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
        scales = dict(getattr(sim, "scales", {}) or {})
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

    def value_and_grad(self, s: np.ndarray) -> tuple[float, np.ndarray]:
        """Value at spend ``s`` and its gradient with respect to spend."""
        lifts = self.lifts(s)
        cost = float(np.sum(s))
        f0 = self.evaluate(lifts, cost)
        g_lift = np.empty(len(s))
        for j in range(len(s)):
            step = lifts.copy()
            step[j] += self.h[j]
            g_lift[j] = (self.evaluate(step, cost) - f0) / self.h[j]
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
def _check_curves(sim: Any, cost_curves: Any) -> tuple[list[str], list[CostCurve]]:
    if not isinstance(cost_curves, Mapping) or not cost_curves:
        raise DriverkitTypeError(
            "The 'cost_curves' parameter of optimize_budget() must be a non-empty dict "
            "{driver: cost curve}, e.g. {'staff': dk.saturating(1.0, 50_000)}."
        )
    known = [str(d) for d in sim.drivers]
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


# --------------------------------------------------------------------------------------
# starting points
# --------------------------------------------------------------------------------------
def _greedy(prob: _Problem, lb: np.ndarray, ub: np.ndarray, total: float, g_lift: np.ndarray,
            g_cost: float, *, stop_at: float | None = None, f0: float = 0.0) -> np.ndarray:
    """Greedy marginal-return allocation on the linearised value (no simulator calls).

    Spend ``total − Σ lb`` in equal steps, each to the driver whose step buys the most
    linearised value ``g_lift · Δlift + g_cost · Δspend``; stop when no step gains (or,
    with ``stop_at``, when the linearised value reaches it).
    """
    s = lb.copy()
    free = total - float(np.sum(lb))
    if free <= 0:
        return s
    step = free / _GREEDY_STEPS
    value = f0
    cur = prob.lifts(s)
    for _ in range(_GREEDY_STEPS):
        nxt = np.minimum(s + step, ub)
        new = prob.lifts(nxt)
        gains = g_lift * (new - cur) + g_cost * (nxt - s)
        gains[nxt <= s] = -np.inf
        j = int(np.argmax(gains))
        if not gains[j] > 0:
            break
        s[j], cur[j] = nxt[j], new[j]
        value += gains[j]
        if stop_at is not None and value >= stop_at:
            break
    return s


def _spread(lb: np.ndarray, ub: np.ndarray, total: float, weights: np.ndarray) -> np.ndarray:
    """Spread ``total − Σ lb`` over drivers in proportion to ``weights``, within ``ub``."""
    s = lb.copy()
    w = np.where(weights > 0, weights, 0.0)
    if not np.any(w > 0):
        return s
    remaining = total - float(np.sum(lb))
    for _ in range(len(s) + 1):
        room = ub - s
        active = (w > 0) & (room > 1e-12)
        if remaining <= 1e-12 or not np.any(active):
            break
        add = np.where(active, remaining * w / np.sum(w[active]), 0.0)
        add = np.minimum(add, room)
        s += add
        remaining -= float(np.sum(add))
    return s


# --------------------------------------------------------------------------------------
# SLSQP in scaled variables x = s / S
# --------------------------------------------------------------------------------------
class _Scaled:
    def __init__(self, prob: _Problem, S: float, F: float) -> None:
        self.prob, self.S, self.F = prob, S, F
        self._last: tuple[bytes, float, np.ndarray] | None = None

    def _vg(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        key = np.asarray(x, dtype=float).tobytes()
        if self._last is None or self._last[0] != key:
            s = np.maximum(np.asarray(x, dtype=float), 0.0) * self.S
            v, g = self.prob.value_and_grad(s)
            self._last = (key, v, g)
        return self._last[1], self._last[2]

    def neg_value(self, x: np.ndarray) -> float:
        return -self._vg(x)[0] / self.F

    def neg_grad(self, x: np.ndarray) -> np.ndarray:
        return -self._vg(x)[1] * self.S / self.F

    def value(self, x: np.ndarray) -> float:
        return self._vg(x)[0] / self.F

    def grad(self, x: np.ndarray) -> np.ndarray:
        return self._vg(x)[1] * self.S / self.F


def _slsqp(fun: Any, jac: Any, x0: np.ndarray, bounds: list[tuple[float, float]],
           constraints: list[dict[str, Any]], maxiter: int) -> sopt.OptimizeResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return sopt.minimize(fun, x0, jac=jac, method="SLSQP", bounds=bounds,
                             constraints=constraints,
                             options={"maxiter": maxiter, "ftol": 1e-10})


def _clean(s: np.ndarray, lb: np.ndarray, ub: np.ndarray, cap: float | None,
           S: float) -> np.ndarray:
    """Clip to bounds, zero negligible spend, and make Σ s <= cap exactly."""
    s = np.clip(np.asarray(s, dtype=float), lb, ub)
    tiny = 1e-7 * S
    s[(s < lb + tiny) & (lb == 0)] = 0.0
    s = np.where(s < lb + tiny, lb, s)
    s = np.where(np.isfinite(ub) & (s > ub - tiny), ub, s)
    if cap is not None:
        for _ in range(4):
            excess = float(np.sum(s)) - cap
            if excess <= 0:
                break
            room = s - lb
            if np.sum(room) <= 0:
                break
            s = s - excess * room / np.sum(room)
            s = np.maximum(s, lb)
            if float(np.sum(s)) > cap:  # rounding: nudge the largest spend down
                j = int(np.argmax(s - lb))
                s[j] = max(lb[j], s[j] - (float(np.sum(s)) - cap))
    return s


# --------------------------------------------------------------------------------------
# public function
# --------------------------------------------------------------------------------------
def optimize_budget(simulator: Any = None, cost_curves: Mapping[str, Any] | None = None,
                    budget: float | None = None, *,
                    objective: str = "profit", bounds: Any = None, target: Any = None,
                    risk: Any = None, draws: int = 500, seed: int = 0,
                    n_starts: int | None = None, global_start: bool | None = None,
                    maxiter: int = 200, sim: Any = None, **kwargs: Any) -> Allocation:
    r"""Split a budget over drivers to maximise the simulated value.

    Each driver ``j`` gets spend ``s_j``; its cost curve turns that into a rating lift
    ``lift_j(s_j)``; the plan is the scenario ``{j: dk.shift(lift_j)}`` with ``cost = Σ s_j``,
    and its value is the simulator's joint value of that scenario.

    Parameters
    ----------
    simulator : driverkit.Simulator
        Any object implementing :class:`driverkit.optimize.SimulatorProtocol` (``sim=`` is
        the deprecated 0.1 keyword).
    cost_curves : dict
        ``{driver: curve}`` with curves from :func:`saturating`, :func:`hill`,
        :func:`piecewise` or any callable ``spend -> lift`` (validated numerically).
    budget : float, optional
        Total spend allowed (``Σ s_j <= budget``). Required unless ``target`` is given (then
        it caps the search). Must be >= 0: continuous allocation only spends; savings come from
        cuts in :func:`select_initiatives`.
    objective : {"profit", "revenue", "rate", "mean"}, default="profit"
        Which simulated column to maximise: ``delta_profit`` (margin·Δrevenue − spend, so
        unprofitable spend is left unspent), ``delta_revenue``, ``delta_rate`` or, for a
        score outcome, ``delta_mean``. With a simulator whose ``better="lower"`` (churn),
        ``"rate"`` and ``"mean"`` are minimised (the reduction is the gain).
    bounds : dict or (float, float), optional
        Spend bounds ``{driver: (min, max)}`` (``None`` = unbounded) or one pair for all.
    target : float or ("roi", float), optional
        Target mode. A number ``T``: the cheapest plan whose objective reaches ``T`` (e.g.
        ``objective="revenue", target=1e6`` for Δrevenue >= 1M). ``("roi", rho)``: the plan
        with the highest objective whose ROI (Δprofit / spend) is at least ``rho`` (the
        cheapest such plan would be to spend nothing).
    risk : {"mean", "p_positive"} or ("quantile", q) or ("cvar", q), optional
        Optimise a risk measure over ``sim.value_draws`` (common random numbers: ``seed``)
        instead of the point estimate: the mean, a lower quantile, the CVaR (mean of the lower
        ``q`` tail) or P(objective > 0) (= P(ROI > 0) for profit; smoothed while searching).
        ``.value`` stays the point value; the measure is ``.risk_value``.
    draws : int, default=500
        Draws per evaluation of a risk measure.
    seed : int, default=0
        Seed of the draws (fixed so the risk measure is a deterministic function of spend).
    n_starts : int, optional
        Number of starting points for SLSQP: the greedy marginal-return allocation, then a
        spread in proportion to each driver's average return, then an even spread. Default: 1
        when every cost curve is concave (saturating, Hill with slope <= 1, a piecewise table
        with falling slopes), else 2.
    global_start : bool, optional
        Also start from the global optimum of the separable piecewise-linear approximation
        (each driver's simulated gain on a grid of spends, solved as a MILP by HiGHS), then
        polish on the simulator's joint value. Default: when a cost curve is not concave
        (S-shaped Hill curves, convex pieces), where a local search can stop at a worse plan.
        The value of each start is in ``.meta["search"]``; the best one is returned.
    maxiter : int, default=200
        SLSQP iteration limit per start.

    Returns
    -------
    Allocation
        ``.table`` (``spend, lift, delta_value, marginal_roi, status, reason``), ``.value``
        (equal to the objective's column of ``sim.run(allocation.scenario).table``),
        ``.scenario``, ``.solver`` (the raw ``OptimizeResult``), ``.marginal_roi``.

    Raises
    ------
    InfeasibleError
        Lower spend bounds above the budget, a negative budget, or a target no plan reaches
        (the message gives the best reachable value).

    Notes
    -----
    Solves :math:`\max_s V(s)` s.t. :math:`\sum_j s_j \le B`, :math:`l \le s \le u`, where
    :math:`V` is the joint simulated value (SLSQP; Kraft 1988). The gradient is
    :math:`\partial V/\partial s_j = \partial V/\partial \mathrm{lift}_j \cdot
    \mathrm{lift}_j'(s_j) + \partial V/\partial \mathrm{cost}` with forward differences of the
    simulator in lift space and analytic curve derivatives. Starting points: a greedy
    marginal-return allocation on the linearised value, and a spread proportional to the
    marginal returns. At an interior optimum the marginal ROI is equal across funded drivers
    (the KKT conditions; for ``"profit"`` it is 0 when the budget does not bind); it is
    reported per driver in ``.table`` and as ``.marginal_roi``. The value is the simulator's
    own number for the returned plan; the causal caveats of the simulator apply.

    Examples
    --------
    >>> import pandas as pd, driverkit as dk
    >>> m = dk.fixed_model("logit", intercept=-4.0, coef={"x1": 0.6, "x2": 0.3},
    ...                    scales={"x1": (1, 10), "x2": (1, 10)})
    >>> df = pd.DataFrame({"x1": [3, 6, 8, 10, 5], "x2": [5, 7, 8, 4, 2]})
    >>> sim = dk.Simulator(m, df, customers=100_000, revenue_per_customer=500, margin=0.3)
    >>> curves = {"x1": dk.saturating(2.0, 1e6), "x2": dk.saturating(2.0, 5e5)}
    >>> plan = dk.optimize_budget(sim, curves, 2e6, objective="profit")
    >>> plan.table["spend"].round(-3).tolist()  # budget not binding: marginal ROI 0
    [701000.0, 375000.0]
    >>> bool(plan.value == sim.run(plan.scenario).table["delta_profit"].iloc[0])
    True
    """
    check_kwargs(kwargs, _FUNC)
    sim = check_simulator(renamed(simulator, sim, "simulator", "sim", _FUNC), _FUNC)
    if cost_curves is None:
        raise DriverkitTypeError(f"{_FUNC}() needs cost_curves={{driver: curve}}.")
    check_option(objective, "objective", list(OBJECTIVES), _FUNC)
    risk_spec = _parse_risk(risk)
    tgt = _parse_target(target)
    drivers, curves = _check_curves(sim, cost_curves)
    lb, ub = _check_bounds(bounds, drivers)
    if budget is not None:
        if isinstance(budget, bool) or not isinstance(budget, numbers.Real) or not math.isfinite(
                float(budget)):
            raise DriverkitTypeError(
                f"The 'budget' parameter of optimize_budget() must be a number; got {budget!r}."
            )
        budget = float(budget)
        if budget < 0:
            raise InfeasibleError(
                f"budget={budget:g} is negative, but optimize_budget() only spends (cost curves "
                "buy lifts). For a savings target use select_initiatives() with cuts (negative "
                "cost) and budget <= 0."
            )
    elif tgt is None:
        raise DriverkitError(
            "optimize_budget() needs a 'budget' (total spend) or a 'target' to reach."
        )
    if budget is not None and float(np.sum(lb)) > budget:
        named = ", ".join(f"{d} >= {v:g}" for d, v in zip(drivers, lb, strict=True) if v > 0)
        raise InfeasibleError(
            f"The lower spend bounds sum to {np.sum(lb):g}, above the budget {budget:g} "
            f"(bounds: {named}). Lower the bounds or raise the budget."
        )
    # the largest spend worth searching per driver (saturation of its curve)
    sat = np.array([c.saturation_spend() for c in curves])
    ub_search = np.minimum(ub, np.maximum(sat, lb))
    if budget is not None:
        ub_search = np.minimum(ub_search, np.maximum(budget, lb))
    if not np.all(np.isfinite(ub_search)):
        bad = [d for d, u in zip(drivers, ub_search, strict=True) if not np.isfinite(u)]
        raise DriverkitError(
            f"Cannot bound the search for {', '.join(bad)}: give a budget, an upper spend bound, "
            "or a callable curve's max_spend."
        )
    for d, c, u in zip(drivers, curves, ub_search, strict=True):
        c.validate(float(u), d)
    cap = budget if budget is not None else float(np.sum(ub_search))

    if n_starts is None:
        n_starts = 1 if all(_concave(c) for c in curves) else 2
    prob = _Problem(sim, drivers, curves, objective, risk_spec, int(draws), seed)
    prob.global_start = (not all(_concave(c) for c in curves)) if global_start is None \
        else bool(global_start)
    with quiet_search():
        if risk_spec is not None and risk_spec[0] == "p_positive":
            d0 = np.asarray(sim.value_draws(prob.scenario(prob.lifts(_spread(
                lb, ub_search, cap, np.ones(len(drivers)))), cap), objective, draws=int(draws),
                seed=seed), dtype=float)
            prob.smooth = 0.1 * max(float(np.std(d0)), abs(float(np.mean(d0))), 1e-12)
        if tgt is None:
            s, res = _maximise(prob, lb, ub_search, cap, n_starts, maxiter, budget_given=True)
        elif tgt[0] == "value":
            s, res = _reach(prob, lb, ub_search, cap, prob.sign * tgt[1], n_starts, maxiter,
                            budget)
        else:
            s, res = _roi_target(prob, lb, ub_search, cap, tgt[1], n_starts, maxiter, budget)
    notes: list[str] = []

    return _build(prob, s, res, lb, ub, budget, tgt, notes)


def _concave(curve: CostCurve) -> bool:
    if isinstance(curve, Saturating):
        return True
    if isinstance(curve, Hill):
        return curve.slope <= 1.0
    if isinstance(curve, Piecewise):
        return bool(np.all(np.diff(curve.slopes) <= 1e-12 * max(1.0, float(curve.slopes[0]))))
    return False


# --------------------------------------------------------------------------------------
# modes
# --------------------------------------------------------------------------------------
def _start_info(prob: _Problem, lb: np.ndarray) -> tuple[float, np.ndarray, float]:
    """Value, lift-gradient and cost-derivative at the lower bounds."""
    lifts = prob.lifts(lb)
    cost = float(np.sum(lb))
    f0 = prob.evaluate(lifts, cost)
    g = np.empty(len(lb))
    for j in range(len(lb)):
        step = lifts.copy()
        step[j] += prob.h[j]
        g[j] = (prob.evaluate(step, cost) - f0) / prob.h[j]
    return f0, g, prob.cost_slope(lifts, cost, f0)


def _scale_factor(prob: _Problem, g_lift: np.ndarray, g_cost: float, lb: np.ndarray,
                  S: float) -> float:
    g_s = np.abs(g_lift * prob.dlift(lb) + g_cost)
    F = S * float(np.max(g_s)) if np.max(g_s) > 0 else 1.0
    return F if math.isfinite(F) and F > 0 else 1.0


def _starts(prob: _Problem, lb: np.ndarray, ub: np.ndarray, cap: float, n_starts: int,
            f0: float, g: np.ndarray, gc: float) -> list[np.ndarray]:
    starts = [_greedy(prob, lb, ub, cap, g, gc, f0=f0)]
    if n_starts > 1:
        # average (not initial) return per unit up to the search bound: fair to S-shaped curves
        span = np.where(ub > lb, ub - lb, 1.0)
        avg = (prob.lifts(np.where(ub > lb, ub, lb)) - prob.lifts(lb)) / span
        weights = g * avg + min(gc, 0.0)
        total = cap if prob.objective != "profit" else float(np.sum(starts[0]))
        starts.append(_spread(lb, ub, max(total, float(np.sum(lb))), weights))
    if n_starts > 2:
        starts.append(_spread(lb, ub, cap, np.ones(len(lb))))
    return starts


def _maximise(prob: _Problem, lb: np.ndarray, ub: np.ndarray, cap: float, n_starts: int,
              maxiter: int, *, budget_given: bool) -> tuple[np.ndarray, sopt.OptimizeResult]:
    p = len(lb)
    if cap <= 0 or np.all(ub <= lb):
        s = lb.copy()
        res = sopt.OptimizeResult(x=s, success=True, status=0, nit=0,
                                  message="Nothing to optimise: zero budget or fixed bounds.")
        return s, res
    # scale spend by what can usefully be spent (a huge budget must not shrink x to ~0)
    cap = min(cap, float(np.sum(ub)))
    S = cap
    f0, g, gc = _start_info(prob, lb)
    F = _scale_factor(prob, g, gc, lb, S)
    sc = _Scaled(prob, S, F)
    bnds = [(lb[j] / S, ub[j] / S) for j in range(p)]
    cons = [{"type": "ineq", "fun": lambda x: cap / S - np.sum(x),
             "jac": lambda x: -np.ones(p)}]
    best: tuple[float, np.ndarray, sopt.OptimizeResult] | None = None
    starts = _starts(prob, lb, ub, cap, n_starts, f0, g, gc)
    names = ["greedy", "average return", "even spread"][: len(starts)]
    if prob.global_start and prob.risk is None:
        glob = milp_start(prob, lb, ub, cap)
        starts = glob + starts
        names = [f"piecewise-linear MILP {i + 1}" for i in range(len(glob))] + names
    prob.search = []
    for name, x0s in zip(names, starts, strict=True):
        start_s = _clean(x0s, lb, ub, cap, S)
        start_v = prob.evaluate(prob.lifts(start_s), float(np.sum(start_s)))
        res = _slsqp(sc.neg_value, sc.neg_grad, start_s / S, bnds, cons, maxiter)
        s = _clean(res.x * S, lb, ub, cap, S)
        v = prob.evaluate(prob.lifts(s), float(np.sum(s)))
        if start_v > v:  # never worse than the starting point
            s, v = start_s, start_v
        prob.search.append({"start": name, "start_value": prob.sign * start_v,
                            "value": prob.sign * v})
        if best is None or v > best[0] + 1e-12 * max(1.0, abs(best[0])):
            best = (v, s, res)
    assert best is not None
    if not best[2].success:
        warnings.warn(f"optimize_budget(): SLSQP stopped with '{best[2].message}'; the plan is the "
                      "best point found.", ConvergenceWarning, stacklevel=3)
    return best[1], best[2]


def _reach(prob: _Problem, lb: np.ndarray, ub: np.ndarray, cap: float, target: float,
           n_starts: int, maxiter: int,
           budget: float | None) -> tuple[np.ndarray, sopt.OptimizeResult]:
    """Cheapest plan whose value reaches ``target``."""
    p = len(lb)
    f_lb = prob.evaluate(prob.lifts(lb), float(np.sum(lb)))
    if f_lb >= target:
        res = sopt.OptimizeResult(x=lb.copy(), success=True, status=0, nit=0,
                                  message="The lower bounds already reach the target.")
        return lb.copy(), res
    s_max, _ = _maximise(prob, lb, ub, cap, n_starts, maxiter, budget_given=budget is not None)
    v_max = prob.evaluate(prob.lifts(s_max), float(np.sum(s_max)))
    if v_max < target:
        where = f"within the budget {budget:g}" if budget is not None else "with any spend"
        raise InfeasibleError(
            f"The target {prob.objective} >= {target:g} is unreachable: the best plan {where} "
            f"(and the spend bounds and cost curves' saturation) reaches {v_max:g}. Lower the "
            "target, raise the budget or widen the bounds."
        )
    S = max(cap, 1e-300)
    _, g, gc = _start_info(prob, lb)
    F = max(abs(target - f_lb), 1e-300)
    sc = _Scaled(prob, S, F)
    bnds = [(lb[j] / S, ub[j] / S) for j in range(p)]
    cons: list[dict[str, Any]] = [
        {"type": "ineq", "fun": lambda x: sc.value(x) - target / F, "jac": sc.grad},
        {"type": "ineq", "fun": lambda x: cap / S - np.sum(x), "jac": lambda x: -np.ones(p)},
    ]
    starts = [s_max, _greedy(prob, lb, ub, cap, g, gc, stop_at=target, f0=f_lb)][:max(n_starts, 1)]
    best: tuple[float, np.ndarray, sopt.OptimizeResult] | None = None
    for x0 in starts:
        res = _slsqp(lambda x: float(np.sum(x)), lambda x: np.ones(p), x0 / S, bnds, cons, maxiter)
        s = _repair_target(prob, _clean(res.x * S, lb, ub, cap, S), s_max, target)
        spend = float(np.sum(s))
        if best is None or spend < best[0]:
            best = (spend, s, res)
    assert best is not None
    return best[1], best[2]


def _repair_target(prob: _Problem, s: np.ndarray, s_ok: np.ndarray, target: float) -> np.ndarray:
    """Move ``s`` towards the feasible ``s_ok`` until the value reaches ``target`` exactly."""
    def val(t: float) -> float:
        x = s + t * (s_ok - s)
        return prob.evaluate(prob.lifts(x), float(np.sum(x)))

    if val(0.0) >= target:
        return s
    lo, hi = 0.0, 1.0
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        if val(mid) >= target:
            hi = mid
        else:
            lo = mid
    return s + hi * (s_ok - s)


def _roi_target(prob: _Problem, lb: np.ndarray, ub: np.ndarray, cap: float, rho: float,
                n_starts: int, maxiter: int,
                budget: float | None) -> tuple[np.ndarray, sopt.OptimizeResult]:
    """Highest-value plan with ROI = Δprofit / spend >= rho."""
    p = len(lb)
    S = cap

    def roi_gap(s: np.ndarray) -> float:
        spend = float(np.sum(s))
        return prob.point(prob.lifts(s), spend, "profit") - rho * spend

    def roi_gap_grad(s: np.ndarray) -> np.ndarray:
        lifts = prob.lifts(s)
        spend = float(np.sum(s))
        f0 = prob.point(lifts, spend, "profit")
        g = np.empty(p)
        for j in range(p):
            step = lifts.copy()
            step[j] += prob.h[j]
            g[j] = (prob.point(step, spend, "profit") - f0) / prob.h[j]
        hc = 1e-7 * max(spend, 1.0)
        gc = (prob.point(lifts, spend + hc, "profit") - f0) / hc
        return g * prob.dlift(s) + gc - rho

    f0, g, gc = _start_info(prob, lb)
    F = _scale_factor(prob, g, gc, lb, S)
    sc = _Scaled(prob, S, F)
    bnds = [(lb[j] / S, ub[j] / S) for j in range(p)]
    cons = [
        {"type": "ineq", "fun": lambda x: roi_gap(x * S) / S, "jac": lambda x: roi_gap_grad(x * S)},
        {"type": "ineq", "fun": lambda x: cap / S - np.sum(x), "jac": lambda x: -np.ones(p)},
    ]
    best: tuple[float, np.ndarray, sopt.OptimizeResult] | None = None
    for x0 in _starts(prob, lb, ub, cap, n_starts, f0, g, gc):
        x0 = _clean(x0, lb, ub, cap, S)
        # shrink the start until it satisfies the ROI constraint (small spend has high ROI)
        for _ in range(30):
            if float(np.sum(x0)) <= 0 or roi_gap(x0) >= 0:
                break
            x0 = lb + 0.5 * (x0 - lb)
        res = _slsqp(sc.neg_value, sc.neg_grad, x0 / S, bnds, cons, maxiter)
        s = _clean(res.x * S, lb, ub, cap, S)
        if float(np.sum(s)) > 0 and roi_gap(s) < 0:
            # repair (solver tolerance): the largest step towards the bounds with ROI >= rho
            lo, hi = 0.0, 1.0
            for _ in range(50):
                mid = 0.5 * (lo + hi)
                if roi_gap(lb + mid * (s - lb)) >= 0:
                    lo = mid
                else:
                    hi = mid
            s = lb + lo * (s - lb)
        if float(np.sum(s)) > 0 and roi_gap(s) < 0:
            continue
        v = prob.evaluate(prob.lifts(s), float(np.sum(s)))
        if best is None or v > best[0]:
            best = (v, s, res)
    if best is None or float(np.sum(best[1])) <= 0:
        raise InfeasibleError(
            f"The target ROI >= {rho:g} is unreachable: no plan within the budget and bounds "
            "earns that return (ROI = Δprofit / spend). Lower the ROI target."
        )
    return best[1], best[2]


# --------------------------------------------------------------------------------------
# the result
# --------------------------------------------------------------------------------------
def _build(prob: _Problem, s: np.ndarray, res: sopt.OptimizeResult, lb: np.ndarray,
           ub: np.ndarray, budget: float | None, tgt: tuple[str, float] | None,
           notes: list[str]) -> Allocation:

    lifts = prob.lifts(s)
    total = float(np.sum(s))
    scenario = prob.scenario(lifts, total)
    value = float(prob.sim.value(scenario, prob.objective))  # the simulator's own number
    with quiet_search():
        return _finish(prob, s, res, lb, ub, budget, tgt, notes, lifts, total, scenario, value)


def _finish(prob: _Problem, s: np.ndarray, res: sopt.OptimizeResult, lb: np.ndarray,
            ub: np.ndarray, budget: float | None, tgt: tuple[str, float] | None,
            notes: list[str], lifts: np.ndarray, total: float, scenario: Any,
            value: float) -> Allocation:
    drivers = prob.drivers
    risk_value = None
    if prob.risk is not None:
        d = prob.sim.value_draws(scenario, prob.objective, draws=prob.draws, seed=prob.seed)
        risk_value = prob.sign * risk_measure(prob.sign * np.asarray(d, dtype=float),
                                              *prob.risk)
    # marginal ROI of the point objective: d objective / d spend_j
    saved_risk, prob.risk = prob.risk, None
    try:
        _, marg = prob.value_and_grad(s)
        standalone = np.array([
            prob.point(np.where(np.arange(len(s)) == j, lifts, 0.0), float(s[j]))
            if s[j] > 0 else 0.0 for j in range(len(s))
        ])
        S = max(total, budget or 0.0, 1.0)
        funded = s > 1e-9 * S
        left = _left_marginal(prob, s, lifts, total, funded, S)
    finally:
        prob.risk = saved_risk
    at_lb = funded & (s <= lb + 1e-9 * S) & (lb > 0)
    at_ub = funded & np.isfinite(ub) & (s >= ub - 1e-9 * S)
    # a kink of the value (ratings reaching the scale ceiling, a knot of a piecewise curve):
    # the left and right marginal returns differ and the equal-marginal rule does not apply
    kink = funded & ~at_lb & ~at_ub & (
        np.abs(left - marg) > 1e-3 * np.maximum(np.abs(left), np.abs(marg)) + 1e-12)
    interior = funded & ~at_lb & ~at_ub & ~kink
    lam = float(np.mean(marg[interior])) if np.any(interior) else math.nan
    budget_binds = budget is not None and total >= budget * (1 - 1e-7)
    status, reasons = [], []
    for j in range(len(drivers)):
        if not funded[j]:
            status.append("unfunded")
            reasons.append(_reason(prob, j, marg[j], lam, ub[j], budget_binds))
        elif at_ub[j]:
            status.append("at upper bound")
            reasons.append(f"capped by its upper spend bound {ub[j]:g}")
        elif at_lb[j]:
            status.append("at lower bound")
            reasons.append(f"held at its lower spend bound {lb[j]:g}")
        elif kink[j]:
            status.append("at a kink")
            reasons.append(
                f"the value has a kink here (e.g. ratings reaching the scale ceiling or a knot "
                f"of the cost curve): marginal ROI {left[j]:.3g} just below this spend, "
                f"{marg[j]:.3g} just above")
        else:
            status.append("funded")
            reasons.append("")
    table = pd.DataFrame({"spend": s, "lift": lifts, "delta_value": prob.sign * standalone,
                          "marginal_roi": marg, "status": status, "reason": reasons},
                         index=pd.Index(drivers, name="driver"))
    flips = getattr(prob.sim, "sign_flips", None)
    table["suppressor"] = [bool(flips is not None and hasattr(flips, "index")
                                and d in flips.index) for d in drivers]
    note = flag_suppressors(prob.sim, [d for d, f in zip(drivers, funded, strict=True) if f],
                            "The plan funds")
    if note:
        notes.insert(0, note)
    gap = value - prob.sign * float(np.sum(standalone))
    meta: dict[str, Any] = {"objective": prob.objective,
                            "column": OBJECTIVES[prob.objective],
                            "better": getattr(prob.sim, "better", "higher")}
    if prob.sign < 0:
        col = OBJECTIVES[prob.objective]
        notes.append(f"Less is better for this outcome: the plan minimises {col} (a reduction "
                     "is the gain); marginal_roi is the reduction per unit of spend.")
    if budget is not None:
        meta["budget"] = budget
    if tgt is not None:
        meta["target"] = f"ROI >= {tgt[1]:g}" if tgt[0] == "roi" else f">= {tgt[1]:g}"
    meta.update({"total_spend": total, "value": value, "marginal_roi": lam,
                 "funded_drivers": int(np.sum(funded)), "interaction_gap": gap,
                 "simulator_calls": prob.n_evals,
                 "solver": ("HiGHS MILP start + SLSQP" if any(
                     "MILP" in r["start"] for r in prob.search) else "SLSQP")})
    if prob.search:
        meta["search"] = "; ".join(f"{r['start']}: {r['value']:.6g}" for r in prob.search)
        meta["best value found"] = max(r["value"] * prob.sign for r in prob.search) * prob.sign
    if risk_value is not None and prob.risk is not None:
        kind, level = prob.risk
        meta["risk"] = kind if kind in ("mean", "p_positive") else f"{kind} {level:g}"
        meta["risk_value"] = risk_value
    if np.sum(interior) > 1:
        spread = float(np.ptp(marg[interior]))
        meta["marginal_roi_spread"] = spread
        if spread > 0.05 * max(abs(lam), 1e-12) + 1e-9 and prob.risk is None:
            notes.append(
                f"Marginal ROI differs across funded drivers by {spread:.3g}: the optimum may sit "
                "on a kink (piecewise curve, scale ceiling) or the solver stopped early."
            )
    notes.append("delta_value is each driver's shift alone (its own spend as cost); the plan's "
                 f"value differs from their sum by the interaction gap {gap:.4g}.")
    notes.append("Effects are the simulator's ceteris-paribus predictions from observational "
                 "survey data; validate the plan with a pilot.")
    return Allocation(table, value=value, scenario=scenario, solver=res,
                      objective=prob.objective, total_spend=total, marginal_roi=lam,
                      risk_value=risk_value, meta=meta, notes=notes)


def _left_marginal(prob: _Problem, s: np.ndarray, lifts: np.ndarray, total: float,
                   funded: np.ndarray, S: float) -> np.ndarray:
    """Backward-difference marginal return of each funded driver (NaN-free; 0 if unfunded)."""
    f0 = prob.evaluate(lifts, total)
    g_cost = prob.cost_slope(lifts, total, f0)
    out = np.zeros(len(s))
    for j in np.flatnonzero(funded):
        h = min(prob.h[j], float(lifts[j]))
        if h <= 0:
            continue
        step = lifts.copy()
        step[j] -= h
        dl = float(prob.curves[j].derivative(max(float(s[j]) - 1e-9 * S, 0.0)))
        out[j] = (f0 - prob.evaluate(step, total)) / h * dl + g_cost
    return out


def _reason(prob: _Problem, j: int, marg: float, lam: float, ub: float,
            budget_binds: bool) -> str:
    curve = prob.curves[j]
    if ub <= 0:
        return "its upper spend bound is 0"
    if curve.max_lift <= 0:
        return "its cost curve buys no lift"
    if getattr(curve, "slope", 1.0) > 1.0 and marg > 0 and math.isfinite(lam) and marg < lam:
        return ("its S-shaped cost curve buys almost nothing at low spend, and the budget does "
                "not reach the spend where it pays off")
    gross = marg + 1 if prob.objective == "profit" else marg
    if gross <= 0:
        return ("raising this driver does not raise the objective (its estimated effect is zero "
                "or negative, or its ratings are at the scale ceiling)")
    if marg <= 0 and prob.objective == "profit":
        return (f"the first unit of spend returns {gross:.3g} per unit, which does not cover "
                "its cost (marginal ROI <= 0)")
    if math.isfinite(lam):
        return (f"its marginal return at zero spend ({marg:.3g}) is below the funded drivers' "
                f"({lam:.3g})")
    if budget_binds:
        return "the budget is used by drivers with a higher marginal return"
    return f"its marginal return at zero spend is {marg:.3g}"
