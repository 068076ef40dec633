"""select_initiatives and frontier: references, brute force, constraints, errors."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from optfakes import FakeSim, shifts_of

import driverkit as dk
from driverkit.optimize import plot_frontier
from driverkit.optimize._protocol import shift_scenario


@pytest.fixture(scope="module")
def examples(ref):
    return json.loads(ref("simulation_examples.json").read_text())


# --------------------------------------------------------------------------------------
# references
# --------------------------------------------------------------------------------------
def test_initiative_portfolio_frontier_against_reference(examples):
    ex = examples["initiative_portfolio"]
    budgets = [row["budget"] for row in ex["frontier"]]
    table = dk.frontier(ex["initiatives"], budgets)
    assert list(table.columns[:4]) == ["budget", "chosen", "value", "net_cost"]
    for got, want in zip(table.itertuples(), ex["frontier"], strict=True):
        assert got.budget == want["budget"]
        assert got.chosen == want["chosen"]
        assert got.value == want["delta_revenue"]  # exact: integers
        assert got.net_cost == want["net_cost"]
        assert got.feasible


def test_initiative_portfolio_each_budget_against_reference(examples):
    ex = examples["initiative_portfolio"]
    frame = pd.DataFrame.from_dict(ex["initiatives"], orient="index")
    before = frame.copy()
    for want in ex["frontier"]:
        p = dk.select_initiatives(frame, want["budget"])
        assert p.chosen == want["chosen"]
        assert p.value == want["delta_revenue"]
        assert p.net_cost == want["net_cost"] <= want["budget"]
        assert p.table["chosen"].sum() == len(want["chosen"])
        assert p.additivity_gap == 0.0
        assert p.meta["driverkit_version"] == dk.__version__
    pd.testing.assert_frame_equal(frame, before)  # the caller's frame is untouched


def test_knapsack_against_reference(examples):
    ex = examples["knapsack"]
    ini = {f"item{i + 1}": {"cost": w, "delta_revenue": v}
           for i, (v, w) in enumerate(zip(ex["values"], ex["weights"], strict=True))}
    p = dk.select_initiatives(ini, ex["capacity"])
    assert p.chosen == [f"item{i}" for i in ex["chosen_items_1_based"]]
    assert p.value == ex["value"]
    assert p.solver.status == 0


# --------------------------------------------------------------------------------------
# brute force
# --------------------------------------------------------------------------------------
def _brute(cost, value, rar, area, budget, target, exclusive, requires, risk_cap, limits):
    n = len(cost)
    best = None
    for bits in itertools.product([0, 1], repeat=n):
        z = np.array(bits, dtype=float)
        if not _ok(z, cost, value, rar, area, budget, target, exclusive, requires, risk_cap,
                   limits):
            continue
        v = round(float(value @ z), 9)  # equal values up to float summation order tie
        key = (-v, cost @ z) if target is None else (cost @ z, -v)
        if best is None or key < best[0]:
            best = (key, z)
    return best


def _ok(z, cost, value, rar, area, budget, target, exclusive, requires, risk_cap, limits,
        tol=1e-9):
    if budget is not None and cost @ z > budget + tol:
        return False
    if target is not None and value @ z < target - tol:
        return False
    for g in exclusive:
        if sum(z[i] for i in g) > 1:
            return False
    for c, a in requires:
        if z[c] > z[a]:
            return False
    if risk_cap is not None and rar @ z > risk_cap + tol:
        return False
    for name, (lo, hi) in limits.items():
        k = sum(z[i] for i in range(len(z)) if area[i] == name)
        if k < lo or k > hi:
            return False
    return True


@st.composite
def portfolios(draw):
    n = draw(st.integers(1, 12))
    cost = np.array(draw(st.lists(st.integers(-30, 60), min_size=n, max_size=n)), dtype=float)
    value = np.array(draw(st.lists(st.integers(-20, 100), min_size=n, max_size=n)), dtype=float)
    value = np.where(cost < 0, -np.abs(value) / 5, value)  # cuts lose a little revenue
    area = draw(st.lists(st.sampled_from(["ops", "digital", "staff"]), min_size=n, max_size=n))
    idx = list(range(n))
    exclusive = []
    if n >= 2 and draw(st.booleans()):
        exclusive.append(draw(st.lists(st.sampled_from(idx), min_size=2, max_size=3,
                                       unique=True)))
    requires = []
    if n >= 2 and draw(st.booleans()):
        a, c = sorted(draw(st.lists(st.sampled_from(idx), min_size=2, max_size=2, unique=True)))
        requires.append((c, a))  # later requires earlier: acyclic
    budget = draw(st.one_of(st.none(), st.integers(-40, 150)))
    target = draw(st.one_of(st.none(), st.integers(0, 200))) if budget is None or draw(
        st.booleans()) else None
    risk_cap = draw(st.one_of(st.none(), st.integers(0, 10)))
    limits = {}
    if draw(st.booleans()):
        name = draw(st.sampled_from(area))
        lo = draw(st.integers(0, 1))
        limits[name] = (lo, lo + draw(st.integers(0, 2)))
    return cost, value, area, budget, target, exclusive, requires, risk_cap, limits


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(portfolios())
def test_milp_agrees_with_brute_force_and_respects_constraints(case):
    cost, value, area, budget, target, exclusive, requires, risk_cap, limits = case
    n = len(cost)
    names = [f"i{k:02d}" for k in range(n)]
    frame = pd.DataFrame({"cost": cost, "delta_revenue": value, "area": area}, index=names)
    rar = np.where(cost < 0, np.maximum(-value, 0), 0.0)
    best = _brute(cost, value, rar, area, budget, target, exclusive, requires, risk_cap, limits)
    kwargs = {
        "target": target,
        "exclusive": [[names[i] for i in g] for g in exclusive] or None,
        "requires": {names[c]: names[a] for c, a in requires} or None,
        "max_revenue_at_risk": risk_cap,
        "area_limits": limits or None,
    }
    if best is None:
        with pytest.raises(dk.InfeasibleError):
            dk.select_initiatives(frame, budget, **kwargs)
        return
    p = dk.select_initiatives(frame, budget, **kwargs)
    z = p.table["chosen"].to_numpy(dtype=float)
    assert _ok(z, cost, value, rar, area, budget, target, exclusive, requires, risk_cap, limits)
    # same optimum, same tie-break (value first, then net cost; target mode the reverse)
    want_value = -best[0][0] if target is None else -best[0][1]
    assert p.value == pytest.approx(want_value, abs=1e-9)  # values are fifths: float sums
    assert p.net_cost == (best[0][1] if target is None else best[0][0])  # integer costs
    assert p.chosen == [nm for nm, on in zip(names, z, strict=True) if on]
    assert p.value == value @ z and p.net_cost == cost @ z


# --------------------------------------------------------------------------------------
# constraints and errors
# --------------------------------------------------------------------------------------
def _ini():
    return {"A": {"cost": 40, "delta_revenue": 120, "area": "ops"},
            "B": {"cost": 25, "delta_revenue": 60, "area": "ops"},
            "C": {"cost": 10, "delta_revenue": 35, "area": "digital"},
            "D": {"cost": -30, "delta_revenue": -8, "area": "staff"},
            "E": {"cost": 35, "delta_revenue": 50, "area": "digital"},
            "F": {"cost": -20, "delta_revenue": -15, "area": "staff"}}


def test_tie_broken_by_lower_net_cost():
    ini = {"A": {"cost": 10, "delta_revenue": 5}, "B": {"cost": 5, "delta_revenue": 5}}
    p = dk.select_initiatives(ini, 20, exclusive=[["A", "B"]])
    assert p.chosen == ["B"]


def test_exclusive_requires_and_revenue_at_risk():
    p = dk.select_initiatives(_ini(), 60, exclusive=[["A", "B"]])
    assert not {"A", "B"} <= set(p.chosen)
    p = dk.select_initiatives(_ini(), 60, requires={"A": "E"})
    assert "A" not in p.chosen or "E" in p.chosen
    p = dk.select_initiatives(_ini(), 60, requires={"A": ["E", "C"]})
    assert "A" not in p.chosen or {"E", "C"} <= set(p.chosen)
    free = dk.select_initiatives(_ini(), 40)
    assert {"D", "F"} <= set(free.chosen)
    capped = dk.select_initiatives(_ini(), 40, max_revenue_at_risk=10)
    assert "F" not in capped.chosen
    assert capped.meta["revenue_at_risk"] <= 10
    assert capped.table.loc["F", "revenue_at_risk"] == 15
    assert capped.table.loc["A", "revenue_at_risk"] == 0


def test_area_limits_on_count_and_cost():
    p = dk.select_initiatives(_ini(), 200, area_limits={"digital": (0, 1)})
    assert p.table.loc[p.chosen, "area"].tolist().count("digital") <= 1
    p = dk.select_initiatives(_ini(), 200, area_limits={"ops": {"count": (1, 2), "cost": (0, 30)}})
    ops = p.table[(p.table["area"] == "ops") & p.table["chosen"]]
    assert len(ops) >= 1 and ops["cost"].sum() <= 30


def test_net_savings_mode():
    p = dk.select_initiatives(_ini(), -20)
    assert p.net_cost <= -20
    assert any("saves" in n for n in p.notes)


def test_dependency_cycle_is_named():
    with pytest.raises(dk.InfeasibleError, match="cycle: A → C → E → A"):
        dk.select_initiatives(_ini(), 50, requires={"A": "C", "C": "E", "E": "A"})
    with pytest.raises(dk.InfeasibleError, match="itself"):
        dk.select_initiatives(_ini(), 50, requires={"A": "A"})


def test_infeasible_savings_target_names_the_budget():
    with pytest.raises(dk.InfeasibleError, match=r"budget.*lowest net cost any allowed set "
                                                  r"reaches is -50"):
        dk.select_initiatives(_ini(), -80)
    with pytest.raises(dk.InfeasibleError,
                       match=r"the budget and max_revenue_at_risk constraints.*reaches is -30"):
        dk.select_initiatives(_ini(), -40, max_revenue_at_risk=10)
    with pytest.raises(dk.InfeasibleError, match="area_limits"):
        dk.select_initiatives(_ini(), 10, area_limits={"ops": (2, 2)})


def test_target_mode_cheapest_plan_and_unreachable_target():
    p = dk.select_initiatives(_ini(), target=150)
    assert p.value >= 150
    # brute force: the cheapest set reaching 150
    names = list(_ini())
    best = min(
        (sum(_ini()[n]["cost"] for n in s), s)
        for k in range(len(names) + 1) for s in itertools.combinations(names, k)
        if sum(_ini()[n]["delta_revenue"] for n in s) >= 150
    )
    assert p.net_cost == best[0]
    with pytest.raises(dk.InfeasibleError, match=r"target.*best value any allowed set reaches "
                                                  r"is 265"):
        dk.select_initiatives(_ini(), target=1000)


@pytest.mark.parametrize(("kwargs", "exc", "msg"), [
    ({"exclusive": [["A", "Z"]]}, dk.DriverkitError, "'Z', which is not an initiative"),
    ({"requires": {"A": "Bb"}}, dk.DriverkitError, "Did you mean 'B'"),
    ({"objective": "profit"}, dk.DriverkitError, "delta_profit"),
    ({"area_limits": {"mars": (0, 1)}}, dk.DriverkitError, "mars"),
    ({"max_revenue_at_risk": -1}, dk.DriverkitError, "max_revenue_at_risk"),
    ({"exclusive": "AB"}, dk.DriverkitTypeError, "list of lists"),
    ({"budget": "ten"}, dk.DriverkitTypeError, "budget"),
    ({"speed": 3}, dk.DriverkitTypeError, "speed"),
])
def test_bad_input(kwargs, exc, msg):
    with pytest.raises(exc, match=msg):
        dk.select_initiatives(_ini(), **kwargs)


def test_bad_initiative_tables():
    with pytest.raises(dk.DriverkitError, match="'cost'"):
        dk.select_initiatives({"A": {"delta_revenue": 3}}, 10)
    with pytest.raises(dk.DriverkitError, match=r"'delta_revenue' of initiative\(s\) A"):
        dk.select_initiatives({"A": {"cost": 3, "delta_revenue": float("nan")}}, 10)
    with pytest.raises(dk.DriverkitTypeError, match="DataFrame"):
        dk.select_initiatives(42, 10)


def test_portfolio_renders_and_plots():
    p = dk.select_initiatives(_ini(), 50)
    assert "Initiative portfolio" in p.summary()
    assert p.plot().__class__.__name__.endswith("Axes")
    table = dk.frontier(_ini(), [-60, -20, 0, 50, 100])
    assert not table["feasible"].iloc[0] and math.isnan(table["value"].iloc[0])
    assert table["feasible"].iloc[1:].all()
    assert table["value"].iloc[1:].is_monotonic_increasing
    assert plot_frontier(table).__class__.__name__.endswith("Axes")


# --------------------------------------------------------------------------------------
# simulated initiatives (fake simulator; the real one in test_opt_simulator.py)
# --------------------------------------------------------------------------------------
def _sim_initiatives():
    # A and B both lift driver a (substitutes: the effect saturates per driver); C lifts b
    return {
        "A": shift_scenario("A", {"a": 2.0}, 10.0),
        "B": shift_scenario("B", {"a": 1.8}, 10.0),
        "C": shift_scenario("C", {"b": 1.0}, 10.0),
        "D": shift_scenario("D", {"b": -1.0}, -15.0),
    }


def test_simulated_portfolio_rescored_jointly_with_local_search():
    sim = FakeSim({"a": 1.0, "b": 1.0}, kind="saturating")
    ini = _sim_initiatives()
    p = dk.select_initiatives(ini, 20, simulator=sim, local_search=False)
    # the MILP ranks by standalone value: A and B, although they overlap
    assert p.chosen == ["A", "B"]
    assert p.additivity_gap < 0
    assert p.value == sim.value(p.scenario, "revenue")
    assert p.value == pytest.approx(p.table.loc[p.chosen, "value"].sum() + p.additivity_gap)
    assert shifts_of(p.scenario) == {"a": pytest.approx(3.8)}
    assert p.scenario.cost == 20.0
    better = dk.select_initiatives(ini, 20, simulator=sim)  # gap > 1 %: local search runs
    assert better.value > p.value
    assert set(better.chosen) == {"A", "C"}
    assert better.meta["local_search_moves"] >= 1
    assert better.value == sim.run(better.scenario).table["delta_revenue"].iloc[0]


def test_simulated_portfolio_initiative_costs_and_frontier_intervals():
    sim = FakeSim({"a": 1.0, "b": 1.0}, kind="logit", eta=(1.0, 1.5), margin=0.5,
                  noise={"a": 0.2})
    ini = _sim_initiatives()
    p = dk.select_initiatives(ini, 0, simulator=sim, objective="profit",
                              max_revenue_at_risk=1e6)
    assert p.net_cost <= 0
    # profit nets each initiative's cost: standalone profit of A = 0.5 · Δrevenue − 10
    rev_a = sim.value(ini["A"], "revenue")
    assert p.table.loc["A", "value"] == pytest.approx(0.5 * rev_a - 10.0)
    assert p.table.loc["D", "revenue_at_risk"] == pytest.approx(-sim.value(ini["D"], "revenue"))
    table = dk.frontier(ini, [-15, 0, 20, 40], simulator=sim, objective="revenue", draws=200)
    assert {"value_low", "value_high", "roi"} <= set(table.columns)
    assert (table["value_low"] <= table["value"] + 1e-9).all()
    assert (table["value_high"] >= table["value"] - 1e-9).all()


def test_simulated_target_mode_and_errors():
    sim = FakeSim({"a": 1.0, "b": 1.0}, kind="logit", eta=(1.0, 1.5))
    ini = _sim_initiatives()
    reach = sim.value(shift_scenario("x", {"a": 2.0, "b": 1.0}, 20.0), "revenue")
    p = dk.select_initiatives(ini, simulator=sim, target=reach - 1e-6)
    assert p.value >= reach - 1e-6
    with pytest.raises(dk.DriverkitError, match="simulator="):
        dk.select_initiatives(ini, 10)
    mixed = {"A": ini["A"], "B": {"cost": 3, "delta_revenue": 3}}
    with pytest.raises(dk.DriverkitError, match="no scenario"):
        dk.select_initiatives(mixed, 10, simulator=sim)
