"""The optimisers on the real dk.Simulator: one code path, values equal sim.run on the plan."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import driverkit as dk
from driverkit.optimize import SimulatorProtocol

COLUMN = {"profit": "delta_profit", "revenue": "delta_revenue", "rate": "delta_rate"}


@pytest.fixture(scope="module")
def fitted_sim():
    """A fitted logit (with sampling uncertainty) on a synthetic survey of 600 respondents."""
    rng = np.random.default_rng(11)
    n = 600
    halo = rng.normal(size=n)
    df = pd.DataFrame({
        d: np.clip(np.round(m + 1.3 * halo + rng.normal(0, 1.4, n)), 1, 10)
        for d, m in {"staff": 6.5, "speed": 7.2, "price": 5.8, "app": 6.9}.items()
    })
    eta = -5.0 + 0.35 * df["staff"] + 0.2 * df["speed"] + 0.15 * df["price"] + 0.05 * df["app"]
    df["buy"] = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    scales = dict.fromkeys(["staff", "speed", "price", "app"], (1, 10))
    model = dk.fit(df, "buy", list(scales), kind="logit", scales=scales)
    return dk.Simulator(model, df, customers=50_000, revenue_per_customer=400.0, margin=0.35)


@pytest.fixture(scope="module")
def curves():
    return {"staff": dk.saturating(1.2, 4e5), "speed": dk.saturating(1.0, 3e5),
            "price": dk.hill(0.8, 2e5, 1.5), "app": dk.piecewise([0, 1e5, 4e5], [0, 0.5, 0.7])}


def test_simulator_implements_protocol(fitted_sim):
    assert isinstance(fitted_sim, SimulatorProtocol)


@pytest.mark.parametrize("objective", ["profit", "revenue", "rate"])
def test_allocation_value_equals_simulator_run(fitted_sim, curves, objective):
    alloc = dk.optimize_budget(fitted_sim, curves, 1.5e6, objective=objective)
    run = fitted_sim.run(alloc.scenario, draws=50, seed=1).table
    assert alloc.value == run[COLUMN[objective]].iloc[0]  # to the last digit
    assert alloc.scenario.cost == alloc.total_spend == run["cost"].iloc[0]
    assert alloc.total_spend <= 1.5e6
    interior = alloc.table[alloc.table["status"] == "funded"]
    if len(interior) > 1 and "app" not in interior.index:
        assert np.ptp(interior["marginal_roi"]) < 1e-3 * max(abs(alloc.marginal_roi), 1e-12)


def test_allocation_beats_simple_plans(fitted_sim, curves):
    from driverkit.optimize._protocol import shift_scenario

    budget = 1e6
    alloc = dk.optimize_budget(fitted_sim, curves, budget, objective="revenue")
    for plan in np.eye(4) * budget, np.full((1, 4), budget / 4):
        for spend in plan:
            lifts = {d: float(c(s)) for (d, c), s in zip(curves.items(), spend, strict=True)}
            other = fitted_sim.value(shift_scenario("x", lifts, float(spend.sum())), "revenue")
            assert alloc.value >= other


def test_risk_aware_allocation_on_parametric_draws(fitted_sim, curves):
    alloc = dk.optimize_budget(fitted_sim, curves, 1e6, objective="profit",
                               risk=("cvar", 0.1), draws=200)
    assert alloc.risk_value <= alloc.value
    assert alloc.value == fitted_sim.run(alloc.scenario, draws=20).table["delta_profit"].iloc[0]


def test_portfolio_value_equals_simulator_run(fitted_sim):
    S, shift = dk.Scenario, dk.shift
    ini = [
        S("coach staff", {"staff": shift(1.0)}, cost=3e5),
        S("staff bonus", {"staff": shift(0.6)}, cost=1.5e5),
        S("faster delivery", {"speed": shift(1.0)}, cost=2.5e5),
        S("price promise", {"price": shift(0.8)}, cost=2e5),
        S("close call centre", {"speed": shift(-0.5)}, cost=-2e5),
        S("app revamp", {"app": shift(1.5)}, cost=1e5),
    ]
    for objective in ("revenue", "profit"):
        p = dk.select_initiatives(ini, 4e5, simulator=fitted_sim, objective=objective,
                                  exclusive=[["coach staff", "staff bonus"]],
                                  max_revenue_at_risk=1e7)
        run = fitted_sim.run(p.scenario, draws=20, seed=0).table
        assert p.value == run[COLUMN[objective]].iloc[0]
        assert p.scenario.cost == p.net_cost <= 4e5
        assert p.additivity_gap == pytest.approx(p.value - p.table.loc[p.chosen, "value"].sum())
    table = dk.frontier(ini, [-2e5, 0, 4e5, 8e5], simulator=fitted_sim, draws=100, seed=0)
    assert (table["value_low"] <= table["value"]).all()
    assert (table["value"] <= table["value_high"]).all()


def test_continuous_frontier_intervals_from_the_simulator(fitted_sim, curves):
    table = dk.frontier(curves, [0, 5e5, 1e6], simulator=fitted_sim, objective="revenue",
                        draws=100, seed=2)
    assert table["feasible"].all()
    assert table["value"].is_monotonic_increasing
    assert (table["value_low"] <= table["value"]).all()
    assert (table["value"] <= table["value_high"]).all()
    assert (table["net_cost"] <= table["budget"]).all()
