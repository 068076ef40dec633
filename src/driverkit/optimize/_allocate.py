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
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize as sopt

from .._validation import check_kwargs, check_option, renamed
from ..exceptions import DriverkitError, DriverkitTypeError, InfeasibleError
from ._alloc_problem import (
    _FUNC,
    _check_bounds,
    _check_curves,
    _groups,
    _parse_risk,
    _parse_target,
    _Problem,
    risk_measure,
)
from ._alloc_search import _maximise, _reach, _roi_target, _spread
from ._curves import CostCurve, Hill, Piecewise, Saturating
from ._protocol import OBJECTIVES, check_simulator, flag_suppressors, quiet_search
from ._results import Allocation

__all__ = ["optimize_budget"]


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
        :func:`piecewise` or any callable ``spend -> lift`` (validated numerically). With a
        simulator of a PLS model a key may also be a construct: its lift moves every item
        of the construct by the same points (as a construct-level scenario does).
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
    groups = _groups(prob.sim)  # a construct's items carry its coefficients' signs
    table["suppressor"] = [bool(flips is not None and hasattr(flips, "index")
                                and any(i in flips.index for i in [d, *groups.get(d, [])]))
                           for d in drivers]
    note = flag_suppressors(prob.sim, [i for d, f in zip(drivers, funded, strict=True) if f
                                       for i in [d, *groups.get(d, [])]], "The plan funds")
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
