"""Discrete initiative portfolios (``select_initiatives``): MILP, joint re-scoring, local search.

Each initiative is switched on or off (``z_k ∈ {0, 1}``). Values are additive inside the MILP
(the standalone effect of each initiative); when the initiatives carry scenarios, the chosen
set is then re-scored jointly by the simulator, the additivity gap is reported, and a local
search (drop / add / swap) on the joint value improves the set when the gap matters.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize as sopt

from .._validation import check_kwargs, check_option, suggest
from ..exceptions import DriverkitError, DriverkitTypeError, InfeasibleError
from ._protocol import (
    OBJECTIVES,
    check_simulator,
    combine_scenarios,
    direction,
    flag_suppressors,
    quiet_search,
)
from ._results import Portfolio

__all__ = ["select_initiatives"]

_FUNC = "select_initiatives"


# --------------------------------------------------------------------------------------
# input
# --------------------------------------------------------------------------------------
@dataclass
class _Items:
    names: list[str]
    cost: np.ndarray
    value: np.ndarray
    revenue_at_risk: np.ndarray | None = None
    area: list[Any] | None = None
    scenarios: list[Any] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.names)


def _is_scenario(obj: Any) -> bool:
    return hasattr(obj, "cost") and any(hasattr(obj, a) for a in ("operators", "changes", "ops"))


def _as_frame(initiatives: Any) -> pd.DataFrame:
    if isinstance(initiatives, pd.DataFrame):
        frame = initiatives.copy()
    elif isinstance(initiatives, Mapping):
        rows: dict[str, dict[str, Any]] = {}
        for name, spec in initiatives.items():
            if _is_scenario(spec):
                rows[str(name)] = {"scenario": spec}
            elif isinstance(spec, Mapping):
                rows[str(name)] = dict(spec)
            else:
                raise DriverkitTypeError(
                    f"Initiative '{name}' must be a dict such as {{'cost': 10, "
                    f"'delta_revenue': 35}} or a dk.Scenario; got {type(spec).__name__}."
                )
        frame = pd.DataFrame.from_dict(rows, orient="index")
    elif isinstance(initiatives, Sequence) and initiatives and all(
            _is_scenario(s) for s in initiatives):
        frame = pd.DataFrame({"scenario": list(initiatives)},
                             index=[str(getattr(s, "name", i)) for i, s in enumerate(initiatives)])
    else:
        raise DriverkitTypeError(
            "The 'initiatives' parameter of select_initiatives() must be a DataFrame indexed by "
            "name, a dict of dicts ({'A': {'cost': 40, 'delta_revenue': 120}, ...}) or a list "
            f"of dk.Scenario objects; got {type(initiatives).__name__}."
        )
    if frame.empty:
        raise DriverkitError("select_initiatives() needs at least one initiative.")
    frame.index = pd.Index([str(i) for i in frame.index])
    dup = frame.index[frame.index.duplicated()].unique().tolist()
    if dup:
        raise DriverkitError(f"Initiative names must be unique; repeated: {', '.join(dup)}.")
    return frame


def _numeric(frame: pd.DataFrame, column: str) -> np.ndarray:
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    bad = frame.index[~np.isfinite(values)].tolist()
    if bad:
        raise DriverkitError(
            f"The '{column}' of initiative(s) {', '.join(bad)} is missing or not a finite number."
        )
    return values


def _items(initiatives: Any, objective: str, simulator: Any, need_risk: bool,
           need_area: bool) -> _Items:
    frame = _as_frame(initiatives)
    names = frame.index.tolist()
    has_scen = "scenario" in frame.columns and frame["scenario"].notna().any()
    scenarios: list[Any] | None = None
    if has_scen:
        missing = frame.index[frame["scenario"].isna()].tolist()
        if missing:
            raise DriverkitError(
                f"Initiative(s) {', '.join(missing)} have no scenario while others do; give every "
                "initiative a dk.Scenario or none (known effects in delta_* columns)."
            )
        if simulator is None:
            raise DriverkitError(
                "The initiatives carry scenarios, so select_initiatives() needs "
                "simulator=dk.Simulator(...) to evaluate them."
            )
        check_simulator(simulator, _FUNC, "simulator")
        scenarios = frame["scenario"].tolist()
        if "cost" in frame.columns and frame["cost"].notna().all():
            cost = _numeric(frame, "cost")
        else:
            cost = np.array([float(getattr(s, "cost", 0.0) or 0.0) for s in scenarios])
    else:
        if "cost" not in frame.columns:
            raise DriverkitError(
                "Every initiative needs a 'cost' (negative for a cut). Columns given: "
                f"{', '.join(map(str, frame.columns))}."
            )
        cost = _numeric(frame, "cost")
    items = _Items(names=names, cost=cost, value=np.zeros(len(names)), scenarios=scenarios)
    col = OBJECTIVES[objective]
    if scenarios is not None:
        # an initiative's own scenario is used as is when its cost agrees (keeping a cost
        # distribution); otherwise a copy carries the cost column, so "profit" nets it
        recosted = [s if float(getattr(s, "cost", math.nan)) == c
                    else combine_scenarios(n, [s], c)
                    for n, s, c in zip(names, scenarios, cost, strict=True)]
        items.scenarios = recosted
        items.value = np.array([float(simulator.value(s, objective)) for s in recosted])
        if need_risk:
            rev = (items.value if objective == "revenue"
                   else np.array([float(simulator.value(s, "revenue")) for s in recosted]))
            items.revenue_at_risk = np.where(cost < 0, np.maximum(-rev, 0.0), 0.0)
    else:
        if col not in frame.columns:
            raise DriverkitError(
                f"objective='{objective}' needs a '{col}' column of known effects (or a "
                "'scenario' column and simulator=). Columns given: "
                f"{', '.join(map(str, frame.columns))}."
            )
        items.value = _numeric(frame, col)
        if need_risk:
            if "delta_revenue" not in frame.columns:
                raise DriverkitError(
                    "max_revenue_at_risk needs a 'delta_revenue' column (the revenue each cut "
                    "puts at risk)."
                )
            rev = _numeric(frame, "delta_revenue")
            items.revenue_at_risk = np.where(cost < 0, np.maximum(-rev, 0.0), 0.0)
    if need_area:
        if "area" not in frame.columns:
            raise DriverkitError(
                "area_limits needs an 'area' column naming each initiative's area."
            )
        items.area = frame["area"].tolist()
    elif "area" in frame.columns:
        items.area = frame["area"].tolist()
    return items


# --------------------------------------------------------------------------------------
# constraints
# --------------------------------------------------------------------------------------
@dataclass
class _Row:
    family: str
    coef: np.ndarray
    lo: float
    hi: float
    label: str


def _index(name: Any, names: list[str], where: str) -> int:
    if str(name) not in names:
        raise DriverkitError(
            f"{where} names '{name}', which is not an initiative.{suggest(str(name), names)}"
        )
    return names.index(str(name))


def _requires_edges(requires: Any, names: list[str]) -> list[tuple[int, int]]:
    if requires is None:
        return []
    if not isinstance(requires, Mapping):
        raise DriverkitTypeError(
            "The 'requires' parameter of select_initiatives() must be a dict such as "
            f"{{'C': 'A'}} (C only with A) or {{'C': ['A', 'B']}}; got {requires!r}."
        )
    edges = []
    for child, parents in requires.items():
        c = _index(child, names, "requires=")
        plist = [parents] if isinstance(parents, str) or not isinstance(parents, Sequence) \
            else list(parents)
        for par in plist:
            a = _index(par, names, "requires=")
            if a == c:
                raise InfeasibleError(f"requires= makes '{child}' depend on itself.")
            edges.append((c, a))
    _check_cycles(edges, names)
    return edges


def _check_cycles(edges: list[tuple[int, int]], names: list[str]) -> None:
    graph: dict[int, list[int]] = {}
    for c, a in edges:
        graph.setdefault(c, []).append(a)
    state: dict[int, int] = {}  # 1 = on the stack, 2 = done
    stack: list[int] = []

    def visit(u: int) -> None:
        state[u] = 1
        stack.append(u)
        for v in graph.get(u, []):
            if state.get(v) == 1:
                cycle = [*stack[stack.index(v):], v]
                raise InfeasibleError(
                    "The dependencies in requires= contain a cycle: "
                    + " → ".join(names[i] for i in cycle)
                    + " (each requires the next). Merge these initiatives into one or drop a "
                    "dependency."
                )
            if v not in state:
                visit(v)
        stack.pop()
        state[u] = 2

    for u in sorted(graph):
        if u not in state:
            visit(u)


def _pair(value: Any, what: str) -> tuple[float, float]:
    try:
        lo, hi = value
    except (TypeError, ValueError) as exc:
        raise DriverkitTypeError(f"{what} must be a (min, max) pair; got {value!r}.") from exc
    lo = -math.inf if lo is None else float(lo)
    hi = math.inf if hi is None else float(hi)
    if lo > hi:
        raise InfeasibleError(f"{what} is empty: min {lo:g} > max {hi:g}.")
    return lo, hi


def _rows(items: _Items, budget: float | None, exclusive: Any, edges: list[tuple[int, int]],
          max_revenue_at_risk: float | None, area_limits: Any,
          target: float | None) -> list[_Row]:
    n = items.n
    rows: list[_Row] = []
    if budget is not None:
        rows.append(_Row("budget", items.cost.copy(), -math.inf, budget,
                         f"net cost <= budget {budget:g}"))
    if exclusive is not None:
        if isinstance(exclusive, str) or not isinstance(exclusive, Sequence):
            raise DriverkitTypeError(
                "The 'exclusive' parameter of select_initiatives() must be a list of lists, "
                f"e.g. [['A', 'B']]; got {exclusive!r}."
            )
        for group in exclusive:
            if isinstance(group, str) or not isinstance(group, Sequence):
                raise DriverkitTypeError(f"Each exclusive group must be a list; got {group!r}.")
            coef = np.zeros(n)
            for name in group:
                coef[_index(name, items.names, "exclusive=")] = 1.0
            rows.append(_Row("exclusive", coef, -math.inf, 1.0,
                             f"at most one of {', '.join(map(str, group))}"))
    for c, a in edges:
        coef = np.zeros(n)
        coef[c], coef[a] = 1.0, -1.0
        rows.append(_Row("requires", coef, -math.inf, 0.0,
                         f"{items.names[c]} requires {items.names[a]}"))
    if max_revenue_at_risk is not None:
        assert items.revenue_at_risk is not None
        rows.append(_Row("max_revenue_at_risk", items.revenue_at_risk.copy(), -math.inf,
                         float(max_revenue_at_risk),
                         f"revenue at risk from cuts <= {max_revenue_at_risk:g}"))
    if area_limits is not None:
        if not isinstance(area_limits, Mapping):
            raise DriverkitTypeError(
                "The 'area_limits' parameter of select_initiatives() must be a dict "
                f"{{area: (min, max)}}; got {area_limits!r}."
            )
        assert items.area is not None
        areas = [str(a) for a in items.area]
        for area, spec in area_limits.items():
            members = np.array([a == str(area) for a in areas], dtype=float)
            if not members.any():
                raise DriverkitError(
                    f"area_limits names area '{area}', which no initiative belongs to."
                    f"{suggest(str(area), sorted(set(areas)))}"
                )
            limits = spec if isinstance(spec, Mapping) else {"count": spec}
            for key, pair in limits.items():
                check_option(key, "area_limits key", ["count", "cost"], _FUNC)
                lo, hi = _pair(pair, f"area_limits['{area}']['{key}']")
                coef = members if key == "count" else members * items.cost
                rows.append(_Row("area_limits", coef, lo, hi,
                                 f"{key} of area '{area}' in [{lo:g}, {hi:g}]"))
    if target is not None:
        rows.append(_Row("target", items.value.copy(), float(target), math.inf,
                         f"value >= target {target:g}"))
    return rows


def _feasible(z: np.ndarray, rows: list[_Row]) -> bool:
    for r in rows:
        v = float(r.coef @ z)
        tol = 1e-9 * max(1.0, float(np.sum(np.abs(r.coef))))
        if v < r.lo - tol or v > r.hi + tol:
            return False
    return True


# --------------------------------------------------------------------------------------
# MILP
# --------------------------------------------------------------------------------------
def _milp(obj: np.ndarray, rows: list[_Row], n: int) -> sopt.OptimizeResult:
    """Minimise ``obj @ z`` over binary ``z`` subject to ``rows`` (each row rescaled)."""
    scale = float(np.max(np.abs(obj))) if np.any(obj != 0) else 1.0
    constraints = []
    if rows:
        A, lo, hi = [], [], []
        for r in rows:
            m = float(np.max(np.abs(r.coef))) if np.any(r.coef != 0) else 1.0
            A.append(r.coef / m)
            lo.append(r.lo / m)
            hi.append(r.hi / m)
        constraints.append(sopt.LinearConstraint(np.array(A), np.array(lo), np.array(hi)))
    return sopt.milp(obj / scale, integrality=np.ones(n), bounds=sopt.Bounds(0, 1),
                     constraints=constraints, options={"mip_rel_gap": 0.0, "presolve": True})


def _z(res: sopt.OptimizeResult) -> np.ndarray:
    return np.round(np.asarray(res.x, dtype=float)).clip(0, 1)


def _solve(items: _Items, rows: list[_Row], target: float | None
           ) -> tuple[np.ndarray, sopt.OptimizeResult]:
    """Lexicographic MILP: best value then lowest cost (budget mode), or lowest cost then best
    value (target mode), so equal-value optima are broken deterministically."""
    n = items.n
    v, c = items.value, items.cost
    primary, secondary = (-v, c) if target is None else (c, -v)
    res1 = _milp(primary, rows, n)
    if res1.status != 0 or res1.x is None:
        if res1.status == 2:  # infeasible
            _diagnose(items, rows)
        raise DriverkitError(f"The MILP solver failed: {res1.message}")
    z1 = _z(res1)
    if not _feasible(z1, rows):  # solver tolerance: should not happen
        raise DriverkitError("The MILP solver returned a plan that violates a constraint.")
    best1 = float(primary @ z1)
    tol = 1e-9 * max(1.0, float(np.sum(np.abs(primary))))
    tie = _Row("tie", -primary, -best1 - tol, math.inf, "tie-break")
    res2 = _milp(secondary, [*rows, tie], n)
    if res2.status == 0 and res2.x is not None:
        z2 = _z(res2)
        if (_feasible(z2, rows) and float(primary @ z2) <= best1 + tol
                and float(secondary @ z2) < float(secondary @ z1)):
            return z2, res2
    return z1, res1


def _diagnose(items: _Items, rows: list[_Row]) -> None:
    """Raise an :class:`InfeasibleError` naming the constraint(s) that cannot be met."""
    families = list(dict.fromkeys(r.family for r in rows))
    culprits = []
    for fam in families:
        rest = [r for r in rows if r.family != fam]
        res = _milp(np.zeros(items.n), rest, items.n)
        if res.status == 0:
            culprits.append(fam)
    detail = []
    for r in rows:
        if r.family in culprits or not culprits:
            if r.family == "budget":
                others = [q for q in rows if q.family not in ("budget", "target")]
                lowest = _milp(items.cost, others, items.n)
                if lowest.status == 0:
                    z = _z(lowest)
                    detail.append(f"{r.label} (the lowest net cost any allowed set reaches is "
                                  f"{float(items.cost @ z):g})")
                    continue
            if r.family == "target":
                best = _milp(-items.value, [q for q in rows if q.family != "target"], items.n)
                if best.status == 0:
                    z = _z(best)
                    detail.append(f"{r.label} (the best value any allowed set reaches is "
                                  f"{float(items.value @ z):g})")
                    continue
            detail.append(r.label)
    detail = list(dict.fromkeys(detail))
    which = (f"the {' and '.join(culprits)} constraint" + ("s" if len(culprits) > 1 else "")
             if culprits else "the constraints jointly")
    raise InfeasibleError(
        f"No set of initiatives satisfies {which}: " + "; ".join(detail[:8])
        + (". Relax one of them" if len(culprits) > 1 else ". Relax it")
        + " (e.g. a larger budget or a smaller savings target)."
    )


# --------------------------------------------------------------------------------------
# joint re-scoring and local search
# --------------------------------------------------------------------------------------
class _Joint:
    def __init__(self, sim: Any, items: _Items, objective: str) -> None:
        self.sim, self.items, self.objective = sim, items, objective
        self.cache: dict[tuple[int, ...], float] = {}
        self.sign = direction(sim, objective)

    def scenario(self, z: np.ndarray, name: str = "portfolio") -> Any:
        assert self.items.scenarios is not None
        idx = np.flatnonzero(z > 0.5)
        cost = float(self.items.cost[idx].sum()) if idx.size else 0.0
        return combine_scenarios(name, [self.items.scenarios[i] for i in idx], cost)

    def value(self, z: np.ndarray) -> float:
        key = tuple(np.flatnonzero(z > 0.5).tolist())
        if key not in self.cache:
            self.cache[key] = self.sign * float(self.sim.value(self.scenario(z),
                                                               self.objective))
        return self.cache[key]


def _local_search(joint: _Joint, z: np.ndarray, rows: list[_Row], target: float | None,
                  max_evals: int) -> tuple[np.ndarray, int]:
    """Improve ``z`` by drop / add / swap moves on the joint value (first improvement).

    Budget mode ranks sets by (joint value, −net cost); target mode by (joint value reaches
    the target, −net cost, joint value). Constraints other than the target are linear and
    checked before any simulator call.
    """
    items = joint.items
    lin_rows = [r for r in rows if r.family != "target"]

    def score(zz: np.ndarray) -> tuple[float, ...]:
        v = joint.value(zz)
        cost = float(items.cost @ zz)
        if target is None:
            return (round(v, 9), -cost)
        return (float(v >= target), -cost, v)

    current, cur = z.copy(), score(z)
    moves = 0
    start_evals = len(joint.cache)
    improved = True
    while improved and len(joint.cache) - start_evals < max_evals:
        improved = False
        on, off = np.flatnonzero(current > 0.5), np.flatnonzero(current < 0.5)
        order_off = off[np.argsort(-items.value[off], kind="stable")]
        candidates: list[np.ndarray] = []
        for k in on:
            cand = current.copy()
            cand[k] = 0
            candidates.append(cand)
        for k in order_off:
            cand = current.copy()
            cand[k] = 1
            candidates.append(cand)
        for k in on:
            for m in order_off:
                cand = current.copy()
                cand[k], cand[m] = 0, 1
                candidates.append(cand)
        for cand in candidates:
            if len(joint.cache) - start_evals >= max_evals:
                break
            if not _feasible(cand, lin_rows):
                continue
            s = score(cand)
            if s > cur:
                current, cur, improved = cand, s, True
                moves += 1
                break
    return current, moves


# --------------------------------------------------------------------------------------
# public function
# --------------------------------------------------------------------------------------
def select_initiatives(initiatives: Any, budget: float | None = None, *, simulator: Any = None,
                       objective: str = "revenue", target: float | None = None,
                       exclusive: Sequence[Sequence[str]] | None = None,
                       requires: Mapping[str, Any] | None = None,
                       max_revenue_at_risk: float | None = None,
                       area_limits: Mapping[str, Any] | None = None,
                       local_search: bool | None = None, gap_tolerance: float = 0.01,
                       max_evals: int = 2000, **kwargs: Any) -> Portfolio:
    r"""Choose which initiatives to run: binary choice by mixed-integer programming.

    Parameters
    ----------
    initiatives : DataFrame, dict of dicts or list of dk.Scenario
        One row per initiative, indexed by name, with ``cost`` (negative for a cut: it saves
        money) and either a known effect (``delta_revenue``; ``delta_profit`` /
        ``delta_rate`` for those objectives) or ``scenario`` (a :class:`driverkit.Scenario`
        evaluated by ``simulator``). Optional ``area`` column for ``area_limits``.
    budget : float, optional
        Cap on the net cost ``Σ c_k z_k``. ``budget <= 0`` is a net-savings target: cuts must
        fund the improvements (and save ``−budget``). ``None``: no budget constraint.
    simulator : driverkit.Simulator, optional
        Evaluates initiatives given as scenarios (standalone for the MILP, jointly for the
        chosen set).
    objective : {"revenue", "profit", "rate"}, default="revenue"
        The effect to maximise (``delta_revenue``, ``delta_profit``, ``delta_rate``).
    target : float, optional
        Target mode: the cheapest set whose value reaches ``target`` (ties: the higher value).
    exclusive : list of lists, optional
        ``[["A", "B"], ...]``: at most one initiative of each list.
    requires : dict, optional
        ``{"C": "A"}``: C only together with A (a list of names: with all of them). A cycle is
        an error naming it.
    max_revenue_at_risk : float, optional
        Cap on the revenue lost by the chosen cuts, ``Σ_{cuts} max(0, −Δrevenue_k) z_k``.
    area_limits : dict, optional
        ``{area: (min, max)}`` on the number of chosen initiatives per area, or
        ``{area: {"count": (min, max), "cost": (min, max)}}`` to bound the net cost per area
        too (``None`` = unbounded).
    local_search : bool, optional
        Improve the chosen set by drop/add/swap moves on the joint simulated value. Default:
        only when the additivity gap exceeds ``gap_tolerance`` (simulated initiatives only).
    gap_tolerance : float, default=0.01
        Relative additivity gap (|gap| / |joint value|) above which the local search runs.
    max_evals : int, default=2000
        Cap on joint simulator evaluations in the local search.

    Returns
    -------
    Portfolio
        ``.chosen``, ``.table`` (``cost, value, chosen`` [+ ``revenue_at_risk``, ``area``]),
        ``.value``, ``.net_cost``, ``.scenario`` (joint; simulated only), ``.additivity_gap``,
        ``.solver`` (the raw ``scipy.optimize.milp`` result).

    Raises
    ------
    InfeasibleError
        When no set satisfies the constraints; the message names the constraint(s) (budget,
        target, max_revenue_at_risk, area_limits, ...) and, for a budget or target, the best
        reachable figure. A dependency cycle is named.

    Notes
    -----
    Solves :math:`\max_z \sum_k v_k z_k` s.t. :math:`\sum_k c_k z_k \le B`,
    :math:`\sum_{k \in G} z_k \le 1` (exclusive groups), :math:`z_a \le z_b` (dependencies),
    :math:`\sum_{k: c_k<0} r_k z_k \le L` (revenue at risk) and per-area bounds, with
    :math:`z \in \{0,1\}^K`, by branch and bound in HiGHS (Huangfu & Hall 2018) through
    :func:`scipy.optimize.milp`. Ties are broken by a second MILP: among optimal sets the one
    with the lowest net cost. With scenarios, :math:`v_k` is each initiative's standalone
    simulated value; the chosen set is re-scored jointly and the additivity gap (joint minus
    sum of standalone) reported, since effects on a nonlinear outcome do not add up.

    Examples
    --------
    >>> import driverkit as dk
    >>> ini = {"A": {"cost": 40, "delta_revenue": 120}, "B": {"cost": 25, "delta_revenue": 60},
    ...        "C": {"cost": 10, "delta_revenue": 35}, "D": {"cost": -30, "delta_revenue": -8}}
    >>> p = dk.select_initiatives(ini, budget=20)
    >>> p.chosen, p.value, p.net_cost
    (['A', 'C', 'D'], 147.0, 20.0)
    """
    check_kwargs(kwargs, _FUNC)
    check_option(objective, "objective", list(OBJECTIVES), _FUNC)
    budget = _number(budget, "budget")
    target = _number(target, "target")
    max_revenue_at_risk = _number(max_revenue_at_risk, "max_revenue_at_risk")
    if max_revenue_at_risk is not None and max_revenue_at_risk < 0:
        raise DriverkitError(
            f"max_revenue_at_risk must be >= 0 (revenue lost); got {max_revenue_at_risk:g}."
        )
    with quiet_search():
        items = _items(initiatives, objective, simulator, max_revenue_at_risk is not None,
                       area_limits is not None)
    # an event rate where less is better (churn): the search maximises the reduction; the
    # reported value and table stay the simulator's own signed numbers
    sign = direction(simulator, objective) if items.scenarios is not None else 1.0
    items.value = sign * items.value
    raw_target = target
    target = None if target is None else sign * target
    edges = _requires_edges(requires, items.names)
    rows = _rows(items, budget, exclusive, edges, max_revenue_at_risk, area_limits, target)
    z, res = _solve(items, rows, target)

    notes: list[str] = []
    standalone_sum = float(items.value @ z)
    scenario = None
    moves = 0
    if items.scenarios is not None:
        joint = _Joint(simulator, items, objective)
        with quiet_search():
            value = joint.value(z)
            gap = value - standalone_sum
            rel = abs(gap) / max(abs(value), abs(standalone_sum), 1e-300)
            run_ls = local_search if local_search is not None else rel > gap_tolerance
            if run_ls:
                z, moves = _local_search(joint, z, rows, target, max_evals)
            if moves:
                notes.append(f"The additivity gap was {rel:.1%} of the value; a local search on "
                             f"the joint value made {moves} improving move(s).")
        scenario = joint.scenario(z)
        value = float(simulator.value(scenario, objective))  # the simulator's own number
        note = flag_suppressors(simulator, list(getattr(scenario, "operators", {}) or {}),
                                "The chosen initiatives move")
        if note:
            notes.insert(0, note)
        standalone_sum = sign * float(items.value @ z)
        if target is not None and sign * value < target:
            raise InfeasibleError(
                f"The target {objective} {'>=' if sign > 0 else '<='} {raw_target:g} is "
                "unreachable jointly: the chosen "
                f"initiatives reach {standalone_sum:g} standalone but {value:g} together "
                "(effects do not add up). Lower the target or add initiatives."
            )
    else:
        value = standalone_sum
        notes.append("Known effects are assumed additive (no joint simulation).")
    gap = value - standalone_sum
    chosen = [nm for nm, on in zip(items.names, z, strict=True) if on > 0.5]
    net_cost = float(items.cost @ z)
    table = pd.DataFrame({"cost": items.cost, "value": sign * items.value, "chosen": z > 0.5},
                         index=pd.Index(items.names, name="initiative"))
    if items.revenue_at_risk is not None:
        table["revenue_at_risk"] = items.revenue_at_risk
    if items.area is not None:
        table["area"] = items.area
    meta: dict[str, Any] = {"objective": objective, "column": OBJECTIVES[objective]}
    if budget is not None:
        meta["budget"] = budget
    if target is not None:
        meta["target"] = raw_target
    if sign < 0:
        notes.append("Less is better for this outcome: the choice minimises "
                     f"{OBJECTIVES[objective]} (a reduction is the gain).")
    meta.update({"initiatives": items.n, "chosen": len(chosen), "value": value,
                 "net_cost": net_cost, "standalone_sum": standalone_sum,
                 "additivity_gap": gap, "solver": "HiGHS MILP (scipy.optimize.milp)"})
    if items.revenue_at_risk is not None:
        meta["revenue_at_risk"] = float(items.revenue_at_risk @ z)
    if moves:
        meta["local_search_moves"] = moves
    if net_cost < 0:
        notes.append(f"The plan saves {-net_cost:,.4g} net: cuts fund the improvements.")
    return Portfolio(table, chosen=chosen, value=value, net_cost=net_cost, scenario=scenario,
                     additivity_gap=gap, solver=res, objective=objective, meta=meta, notes=notes)


def _number(value: Any, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(
            float(value)):
        raise DriverkitTypeError(
            f"The '{name}' parameter of select_initiatives() must be a finite number; "
            f"got {value!r}."
        )
    return float(value)
