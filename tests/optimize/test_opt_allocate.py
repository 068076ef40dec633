"""optimize_budget: closed forms, reference, modes, constraints, errors (fake simulator)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from optfakes import FakeSim, shifts_of

import driverkit as dk
from driverkit.optimize import SimulatorProtocol, risk_measure
from driverkit.optimize._protocol import shift_scenario


@pytest.fixture(scope="module")
def concave(ref):
    import json

    return json.loads(ref("simulation_examples.json").read_text())["concave_allocation"]


def _concave_problem(ex):
    names = [f"d{j}" for j in range(len(ex["a"]))]
    sim = FakeSim(dict.fromkeys(names, 1.0))  # value = Σ lift: V_j(s) = a_j (1 − exp(−s/b_j))
    curves = {n: dk.saturating(a, b) for n, a, b in zip(names, ex["a"], ex["b"], strict=True)}
    return sim, curves


def test_fake_simulator_implements_protocol():
    assert isinstance(FakeSim({"a": 1.0}), SimulatorProtocol)


def test_concave_allocation_against_reference(concave):
    sim, curves = _concave_problem(concave)
    alloc = dk.optimize_budget(sim, curves, concave["budget"], objective="revenue")
    tol = concave["tolerance"]
    np.testing.assert_allclose(alloc.table["spend"], concave["spend"], atol=tol)
    assert alloc.value == pytest.approx(concave["value"], abs=tol)
    # equal marginal returns across funded drivers (= lambda of the reference)
    np.testing.assert_allclose(alloc.table["marginal_roi"], concave["lambda"], atol=1e-4)
    assert alloc.marginal_roi == pytest.approx(concave["lambda"], abs=1e-4)
    assert alloc.total_spend == pytest.approx(concave["budget"], abs=1e-9)
    assert alloc.total_spend <= concave["budget"]
    assert (alloc.table["status"] == "funded").all()


def test_value_and_scenario_are_the_simulators(concave):
    sim, curves = _concave_problem(concave)
    alloc = dk.optimize_budget(sim, curves, 100.0, objective="revenue")
    assert alloc.scenario.cost == alloc.total_spend
    assert alloc.value == sim.run(alloc.scenario).table["delta_revenue"].iloc[0]
    lifts = shifts_of(alloc.scenario)
    np.testing.assert_allclose([lifts[d] for d in alloc.table.index], alloc.table["lift"],
                               rtol=0, atol=0)
    assert alloc.meta["driverkit_version"] == dk.__version__
    assert alloc.solver.success


def test_profit_optimum_closed_form_with_unfunded_driver():
    # profit = m·Σ lift_j − Σ s_j with lift_j = a_j(1 − e^{−s/b_j}): s* = b ln(m a / b) if m a/b > 1
    a, b, m = {"x": 300.0, "y": 100.0, "z": 5.0}, {"x": 50.0, "y": 40.0, "z": 10.0}, 1.0
    sim = FakeSim(dict.fromkeys(a, 1.0), margin=m)
    curves = {d: dk.saturating(a[d], b[d]) for d in a}
    alloc = dk.optimize_budget(sim, curves, 1000.0, objective="profit")
    expected = {d: b[d] * math.log(m * a[d] / b[d]) if m * a[d] / b[d] > 1 else 0.0 for d in a}
    for d in a:
        assert alloc.table.loc[d, "spend"] == pytest.approx(expected[d], abs=1e-2)
    # interior optimum, budget slack: net marginal ROI is 0 for funded drivers
    funded = alloc.table["status"] == "funded"
    np.testing.assert_allclose(alloc.table.loc[funded, "marginal_roi"], 0.0, atol=1e-4)
    assert alloc.table.loc["z", "spend"] == 0.0
    assert alloc.table.loc["z", "status"] == "unfunded"
    assert "does not cover" in alloc.table.loc["z", "reason"]
    assert alloc.value == sim.run(alloc.scenario).table["delta_profit"].iloc[0]
    assert "z" not in shifts_of(alloc.scenario)


def test_unfunded_driver_reason_names_lower_marginal_return():
    sim = FakeSim({"a": 1.0, "b": 1.0})
    curves = {"a": dk.saturating(100.0, 10.0), "b": dk.piecewise([0, 100], [0, 1.0])}
    alloc = dk.optimize_budget(sim, curves, 20.0, objective="revenue")
    assert alloc.table.loc["b", "spend"] == 0.0
    assert "below the funded drivers'" in alloc.table.loc["b", "reason"]


def test_bounds_are_respected_and_reported():
    sim = FakeSim({"a": 1.0, "b": 1.0, "c": 1.0})
    curves = {d: dk.saturating(10.0, 20.0) for d in "abc"}
    alloc = dk.optimize_budget(sim, curves, 60.0, objective="revenue",
                               bounds={"a": (None, 5.0), "c": (25.0, None)})
    t = alloc.table
    assert t.loc["a", "spend"] == pytest.approx(5.0)
    assert t.loc["a", "status"] == "at upper bound"
    assert t.loc["c", "spend"] >= 25.0
    assert t["spend"].sum() <= 60.0 + 1e-12


def test_lower_bounds_above_budget_raise_naming_the_constraint():
    sim = FakeSim({"a": 1.0, "b": 1.0})
    curves = {d: dk.saturating(10.0, 20.0) for d in "ab"}
    with pytest.raises(dk.InfeasibleError, match=r"lower spend bounds sum to 70.*a >= 40"):
        dk.optimize_budget(sim, curves, 50.0, bounds={"a": (40, None), "b": (30, None)})


def test_negative_budget_is_infeasible_for_continuous_allocation():
    sim = FakeSim({"a": 1.0})
    with pytest.raises(dk.InfeasibleError, match="negative"):
        dk.optimize_budget(sim, {"a": dk.saturating(1, 1)}, -10.0)


def test_zero_budget_gives_empty_plan():
    sim = FakeSim({"a": 1.0})
    alloc = dk.optimize_budget(sim, {"a": dk.saturating(1, 1)}, 0.0, objective="revenue")
    assert alloc.total_spend == 0.0
    assert alloc.value == 0.0
    assert alloc.scenario.cost == 0.0


def test_target_mode_finds_cheapest_plan(concave):
    sim, curves = _concave_problem(concave)
    # the reference plan is the optimum for budget 100, so reaching its value costs 100
    alloc = dk.optimize_budget(sim, curves, None, objective="revenue", target=concave["value"])
    assert alloc.value >= concave["value"]
    assert alloc.total_spend == pytest.approx(concave["budget"], abs=0.05)
    np.testing.assert_allclose(alloc.table["spend"], concave["spend"], atol=0.05)
    with pytest.raises(dk.InfeasibleError, match=r"unreachable.*reaches 159.8"):
        dk.optimize_budget(sim, curves, None, objective="revenue", target=200.0)
    with pytest.raises(dk.InfeasibleError, match="within the budget 50"):
        dk.optimize_budget(sim, curves, 50.0, objective="revenue", target=concave["value"])


def test_roi_target_mode():
    sim = FakeSim({"a": 1.0, "b": 1.0})
    curves = {"a": dk.saturating(200.0, 50.0), "b": dk.saturating(100.0, 40.0)}
    alloc = dk.optimize_budget(sim, curves, 500.0, objective="revenue", target=("roi", 1.0))
    profit = sim.value(alloc.scenario, "profit")
    assert profit / alloc.total_spend >= 1.0 - 1e-9
    # the ROI constraint binds: more spend would push ROI below 1
    assert profit / alloc.total_spend == pytest.approx(1.0, abs=1e-3)
    with pytest.raises(dk.InfeasibleError, match="ROI"):
        dk.optimize_budget(sim, curves, 500.0, objective="revenue", target=("roi", 10.0))


def test_risk_aware_objective_prefers_the_certain_driver():
    # a: higher mean return but very uncertain; b: lower, certain
    sim = FakeSim({"a": 1.0, "b": 0.8}, noise={"a": 1.0})
    curves = {"a": dk.saturating(50.0, 20.0), "b": dk.saturating(50.0, 20.0)}
    point = dk.optimize_budget(sim, curves, 40.0, objective="revenue")
    mean = dk.optimize_budget(sim, curves, 40.0, objective="revenue", risk="mean", draws=400)
    low = dk.optimize_budget(sim, curves, 40.0, objective="revenue", risk=("quantile", 0.1),
                             draws=400)
    cvar = dk.optimize_budget(sim, curves, 40.0, objective="revenue", risk=("cvar", 0.1),
                              draws=400)
    assert point.table.loc["a", "spend"] > point.table.loc["b", "spend"]
    assert mean.table.loc["a", "spend"] == pytest.approx(point.table.loc["a", "spend"], abs=1.0)
    for res in (low, cvar):
        assert res.table.loc["b", "spend"] > res.table.loc["a", "spend"]
        assert res.risk_value <= res.value  # a lower-tail measure cannot exceed the point value
        assert res.value == sim.value(res.scenario, "revenue")
    assert low.meta["risk"] == "quantile 0.1"
    pp = dk.optimize_budget(sim, curves, 40.0, objective="profit", risk="p_positive", draws=200)
    assert 0.0 <= pp.risk_value <= 1.0


def test_risk_measures():
    d = np.arange(1.0, 11.0)
    assert risk_measure(d, "mean", 0) == 5.5
    assert risk_measure(d, "quantile", 0.1) == pytest.approx(np.quantile(d, 0.1))
    assert risk_measure(d, "cvar", 0.2) == 1.5
    assert risk_measure(d - 5, "p_positive", 0) == 0.5


@pytest.mark.parametrize(("kwargs", "exc", "msg"), [
    ({"objective": "margin"}, dk.DriverkitError, "objective"),
    ({"risk": "cvar"}, dk.DriverkitError, "needs a level"),
    ({"risk": ("quantile", 1.5)}, dk.DriverkitError, "risk level"),
    ({"bounds": {"nope": (0, 1)}}, dk.DriverkitError, "nope"),
    ({"target": "lots"}, dk.DriverkitTypeError, "target"),
    ({"colour": "red"}, dk.DriverkitTypeError, "colour"),
])
def test_bad_options(kwargs, exc, msg):
    sim = FakeSim({"a": 1.0})
    with pytest.raises(exc, match=msg):
        dk.optimize_budget(sim, {"a": dk.saturating(1, 1)}, 10.0, **kwargs)


def test_unknown_driver_and_bad_simulator():
    sim = FakeSim({"staff": 1.0})
    with pytest.raises(dk.DriverkitError, match="Did you mean 'staff'"):
        dk.optimize_budget(sim, {"staf": dk.saturating(1, 1)}, 10.0)
    with pytest.raises(dk.DriverkitTypeError, match="lacks"):
        dk.optimize_budget(object(), {"staff": dk.saturating(1, 1)}, 10.0)
    with pytest.raises(dk.DriverkitError, match="budget"):
        dk.optimize_budget(sim, {"staff": dk.saturating(1, 1)})


def test_nonadditive_joint_value_has_equal_marginal_returns():
    sim = FakeSim({"a": 0.5, "b": 0.3, "c": 0.2}, kind="logit", margin=0.4)
    curves = {"a": dk.saturating(1.5, 30.0), "b": dk.hill(1.0, 20.0),
              "c": dk.saturating(0.8, 10.0)}
    alloc = dk.optimize_budget(sim, curves, 60.0, objective="revenue")
    t = alloc.table
    interior = t[t["status"] == "funded"]
    assert len(interior) == 3
    assert np.ptp(interior["marginal_roi"]) < 1e-3 * abs(alloc.marginal_roi)
    assert alloc.value == sim.run(alloc.scenario).table["delta_revenue"].iloc[0]
    assert alloc.meta["interaction_gap"] == pytest.approx(alloc.value - t["delta_value"].sum())
    assert alloc.meta["interaction_gap"] < 0  # logit saturation: the joint effect is sub-additive
    _assert_beats_grid(sim, curves, alloc, 60.0)


def test_kinked_and_s_shaped_curves_against_grid_search():
    sim = FakeSim({"a": 0.5, "b": 0.3, "c": 0.2}, kind="logit", margin=0.4)
    curves = {"a": dk.saturating(1.5, 30.0), "b": dk.hill(1.0, 20.0, 2.0),
              "c": dk.piecewise([0, 10, 40], [0, 0.4, 0.6])}
    alloc = dk.optimize_budget(sim, curves, 60.0, objective="revenue")
    assert (alloc.table["spend"] > 0).all()  # the S-shaped curve is funded past its threshold
    _assert_beats_grid(sim, curves, alloc, 60.0)


def _assert_beats_grid(sim, curves, alloc, budget):
    # no point of a 1-unit grid over the simplex beats the optimiser
    grid = np.linspace(0, budget, int(budget) + 1)
    best = -np.inf
    for sa in grid:
        for sb in grid[grid <= budget - sa]:
            sc = budget - sa - sb
            lifts = {"a": curves["a"](sa), "b": curves["b"](sb), "c": curves["c"](sc)}
            best = max(best, sim.value(shift_scenario("grid", lifts, budget), "revenue"))
    assert alloc.value >= best - 1e-9


def test_allocation_renders_and_plots():
    sim = FakeSim({"a": 1.0, "b": 1.0})
    alloc = dk.optimize_budget(sim, {"a": dk.saturating(5, 10), "b": dk.saturating(1, 100)},
                               30.0, objective="revenue")
    assert "Budget allocation" in alloc.summary()
    assert "<table" in alloc._repr_html_()
    ax = alloc.plot()
    assert ax.__class__.__name__.endswith("Axes")
    assert list(alloc.plot_data().columns) == ["spend", "lift", "delta_value", "marginal_roi"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    a=st.lists(st.floats(1.0, 100.0), min_size=2, max_size=4),
    budget=st.floats(0.0, 200.0),
    cap=st.one_of(st.none(), st.floats(1.0, 80.0)),
    floor=st.one_of(st.none(), st.floats(0.0, 30.0)),
    objective=st.sampled_from(["profit", "revenue", "rate"]),
)
def test_constraints_hold_in_every_plan(a, budget, cap, floor, objective):
    names = [f"d{j}" for j in range(len(a))]
    sim = FakeSim(dict.fromkeys(names, 1.0), kind="logit" if len(a) % 2 else "linear")
    curves = {n: dk.saturating(v / 20.0, 10.0 + v) for n, v in zip(names, a, strict=True)}
    bounds = {names[0]: (floor, cap)}
    lo = floor or 0.0
    if cap is not None and lo > cap:
        with pytest.raises(dk.InfeasibleError):
            dk.optimize_budget(sim, curves, budget, objective=objective, bounds=bounds)
        return
    if lo > budget:
        with pytest.raises(dk.InfeasibleError, match="lower spend bounds"):
            dk.optimize_budget(sim, curves, budget, objective=objective, bounds=bounds)
        return
    alloc = dk.optimize_budget(sim, curves, budget, objective=objective, bounds=bounds)
    s = alloc.table["spend"]
    assert (s >= 0).all()
    assert s.sum() <= budget
    assert s.iloc[0] >= lo
    if cap is not None:
        assert s.iloc[0] <= cap
    assert alloc.scenario.cost == alloc.total_spend == s.sum()
    col = {"profit": "delta_profit", "revenue": "delta_revenue", "rate": "delta_rate"}[objective]
    assert alloc.value == sim.run(alloc.scenario).table[col].iloc[0]
    # never worse than spending nothing beyond the lower bounds, or spending evenly
    for plan in (np.r_[lo, np.zeros(len(a) - 1)],
                 np.r_[lo, np.zeros(len(a) - 1)] + (budget - lo) / len(a)):
        if cap is not None and plan[0] > cap:
            continue
        lifts = {n: float(curves[n](v)) for n, v in zip(names, plan, strict=True)}
        other = sim.value(shift_scenario("p", lifts, float(plan.sum())), objective)
        assert alloc.value >= other - 1e-6 * max(1.0, abs(other))


def test_optimum_on_a_knot_is_reported_as_a_kink():
    # a's table: 0.5 lift per unit up to 10, then 1/30; b: saturating, 0.2 per unit at zero
    sim = FakeSim({"a": 1.0, "b": 1.0})
    curves = {"a": dk.piecewise([0, 10, 40], [0, 5, 6]), "b": dk.saturating(10.0, 50.0)}
    alloc = dk.optimize_budget(sim, curves, 20.0, objective="revenue")
    t = alloc.table
    assert t.loc["a", "spend"] == pytest.approx(10.0, abs=1e-4)
    assert t.loc["b", "spend"] == pytest.approx(10.0, abs=1e-4)
    assert t.loc["a", "status"] == "at a kink"
    assert "0.5 just below" in t.loc["a", "reason"]
    # the common marginal ROI is b's, bracketed by a's right (1/30) and left (0.5) slopes
    assert alloc.marginal_roi == pytest.approx(0.2 * math.exp(-0.2), rel=1e-4)
    assert 1 / 30 < alloc.marginal_roi < 0.5


def test_frontier_over_cost_curves(concave):
    sim, curves = _concave_problem(concave)
    table = dk.frontier(curves, [-10, 0, 50, 100], simulator=sim, objective="revenue", draws=50)
    assert list(table.columns) == ["budget", "chosen", "value", "net_cost", "roi", "feasible",
                                   "value_low", "value_high", "roi_low", "roi_high", "allocation"]
    assert not table["feasible"].iloc[0]  # a continuous allocation cannot save money
    ok = table[table["feasible"]]
    assert ok["value"].is_monotonic_increasing
    assert ok["value"].iloc[-1] == pytest.approx(concave["value"], abs=concave["tolerance"])
    assert ok["allocation"].iloc[-1]["d0"] == pytest.approx(concave["spend"][0], abs=1e-2)
    assert (ok["net_cost"] <= ok["budget"]).all()
    assert ok["chosen"].iloc[-1] == ["d0", "d1"]
    with pytest.raises(dk.DriverkitError, match="simulator"):
        dk.frontier(curves, [10])
