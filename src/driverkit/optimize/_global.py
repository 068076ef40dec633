"""A global starting point for budget allocation over S-shaped cost curves.

With S-shaped (Hill, slope > 1) curves the allocation problem is not concave: a local search
from a greedy start can stop at a plan that spreads money thinly over concave drivers while a
plan that pushes one S-curve past its threshold is worth more. For a separable value
(each driver's effect depending on its own lift) the global optimum of the piecewise-linear
approximation is a small mixed-integer programme (Dantzig 1960): breakpoints ``s_jk`` per
driver, the fill ``δ_jk`` of each segment between them, binaries that make segments fill in
order (the incremental model of Markowitz & Manne 1957), and the budget
``Σ_j s_j <= B``. It is solved by HiGHS (``scipy.optimize.milp``); the optimiser then
polishes that plan on the simulator's joint value, which also restores interactions between
drivers that the separable approximation leaves out.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import optimize as sopt
from scipy import sparse

__all__ = ["GRID_POINTS", "milp_start"]

#: breakpoints per driver (uniform plus geometric near zero, where S-curves start slowly)
GRID_POINTS = 25
#: time limit of the MILP (seconds); the best plan found by then is used as a start
TIME_LIMIT = 10.0
#: MILP rounds (each re-measures the gains around the previous plan)
ROUNDS = 4


def _grid(lo: float, hi: float, k: int) -> np.ndarray:
    if not hi > lo:
        return np.array([lo])
    uni = np.linspace(lo, hi, k)
    span = hi - lo
    geo = lo + span * np.geomspace(1e-3, 1.0, max(k // 3, 2))
    return np.unique(np.concatenate([uni, geo]))


def milp_start(prob: Any, lb: np.ndarray, ub: np.ndarray, cap: float,
               points: int = GRID_POINTS, rounds: int = ROUNDS) -> list[np.ndarray]:
    """Plans from piecewise-linear MILPs over the drivers' simulated gains.

    Round 1 takes each driver's gain ``g_j(s)`` with the other drivers at their lower
    bounds (exact for a separable value, e.g. a linear model, up to the grid); each further
    round re-measures every driver's gain with the others at the previous round's plan (so
    sub-additive effects, such as a logit's saturation, are seen) and solves again. Returns
    the distinct plans, best simulated joint value first (empty if no MILP was solved).
    """
    plans: list[tuple[float, np.ndarray]] = []
    anchor = np.array(lb, dtype=float)
    for _ in range(rounds):
        s = _solve_round(prob, lb, ub, cap, anchor, points)
        if s is None or any(np.allclose(s, t, rtol=1e-6, atol=1e-9 * max(cap, 1.0))
                            for _, t in plans):
            break
        plans.append((prob.point(prob.lifts(s), float(np.sum(s))), s))
        anchor = s
    plans.sort(key=lambda vt: -vt[0])
    return [t for _, t in plans]


def _solve_round(prob: Any, lb: np.ndarray, ub: np.ndarray, cap: float, anchor: np.ndarray,
                 points: int) -> np.ndarray | None:
    p = len(lb)
    lifts0 = prob.lifts(anchor)
    cost0 = float(np.sum(anchor))
    base = prob.point(lifts0, cost0)
    slope = prob.cost_slope(lifts0, cost0, base)
    grids, gains = [], []
    rest = float(np.sum(lb))
    for j in range(p):
        g = _grid(float(lb[j]), float(min(ub[j], cap - (rest - lb[j]))), points)
        vals = np.empty(g.size)
        for k, sk in enumerate(g):
            lf = lifts0.copy()
            lf[j] = float(prob.curves[j].lift(sk))
            vals[k] = prob.point(lf, cost0) - base + slope * (sk - anchor[j])
        grids.append(g)
        gains.append(vals)
    # incremental formulation (Markowitz & Manne 1957): δ_jk ∈ [0, 1] fills segment k of
    # driver j, binaries y_jk with δ_j(k+1) <= y_jk <= δ_jk fill segments in order; its LP
    # relaxation is tight, so HiGHS proves optimality in a few nodes
    dS = [np.diff(g) for g in grids]
    dG = [np.diff(v) for v in gains]
    nseg = [d.size for d in dS]
    n_d = int(np.sum(nseg))
    if n_d == 0:
        return np.array(lb, dtype=float)
    # order binaries are needed only for a driver whose gain is not concave (some segment
    # pays more per unit of spend than an earlier one); along falling slopes the LP fills
    # the segments in order by itself
    need = []
    off = 0
    for d, v in zip(dS, dG, strict=True):
        sl = v / d
        if np.any(np.diff(sl) > 1e-12 * np.maximum(np.abs(sl[:-1]), 1e-300)):
            need += [off + k for k in range(d.size - 1)]
        off += d.size
    n_y = len(need)
    c = np.concatenate([-np.concatenate(dG), np.zeros(n_y)])
    rows, cols, data, lo_b, hi_b = [], [], [], [], []
    r = 0
    for i, k in enumerate(need):
        # δ_(k+1) <= y_k <= δ_k: segment k+1 starts only once segment k is full
        rows += [r, r, r + 1, r + 1]
        cols += [k + 1, n_d + i, n_d + i, k]
        data += [1.0, -1.0, 1.0, -1.0]
        lo_b += [-np.inf, -np.inf]
        hi_b += [0.0, 0.0]
        r += 2
    # the budget: Σ_j (lb_j + Σ_k δ_jk Δs_jk) <= cap
    rows += [r] * n_d
    cols += list(range(n_d))
    data += list(np.concatenate(dS))
    lo_b.append(-np.inf)
    hi_b.append(float(cap) - rest)
    r += 1
    A = sparse.csr_array((data, (rows, cols)), shape=(r, n_d + n_y))
    integrality = np.concatenate([np.zeros(n_d), np.ones(n_y)])
    res = sopt.milp(c, constraints=sopt.LinearConstraint(A, lo_b, hi_b),
                    integrality=integrality, bounds=sopt.Bounds(0.0, 1.0),
                    options={"time_limit": TIME_LIMIT, "mip_rel_gap": 1e-6})
    if res.x is None:
        return None
    delta = np.clip(res.x[:n_d], 0.0, 1.0)
    out = np.array(lb, dtype=float)
    off = 0
    for j, d in enumerate(dS):
        out[j] += float(delta[off : off + d.size] @ d)
        off += d.size
    return np.clip(out, lb, ub)
