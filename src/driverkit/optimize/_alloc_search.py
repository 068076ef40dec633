"""The searches of :func:`~driverkit.optimize_budget`: starting points, SLSQP in scaled
variables and the three modes (maximise, reach a target, reach a return on investment).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from scipy import optimize as sopt

from ..exceptions import ConvergenceWarning, InfeasibleError
from ._alloc_problem import _GREEDY_STEPS, _Problem
from ._global import milp_start


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
# modes
# --------------------------------------------------------------------------------------
def _start_info(prob: _Problem, lb: np.ndarray) -> tuple[float, np.ndarray, float]:
    """Value, lift-gradient and cost-derivative at the lower bounds."""
    lifts, cost, f0, g = prob.lift_gradient(lb)
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
