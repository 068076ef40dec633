"""Properties: zero scenarios, monotone cuts and raises, one code path for value and run."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import driverkit as dk

ZERO_OPS = [dk.shift(0), dk.gap_close(0), dk.top_box(0), dk.floor(1), dk.ceiling(10)]


@pytest.mark.parametrize("kind, outcome", [("logit", "buy"), ("probit", "buy"),
                                           ("linear", "buy"), ("ordinal", "ltr")])
def test_zero_scenario_gives_exactly_zero(survey, kind, outcome):
    scales = dict.fromkeys(["staff", "speed", "price"], (1, 10))
    model = dk.fit(survey, outcome, list(scales), kind=kind, scales=scales)
    sim = dk.Simulator(model, survey, revenue="revenue", margin=0.4, weights="w")
    scs = [dk.Scenario(f"zero {i}", {"staff": op, "price": dk.shift(0)}, segment=seg)
           for i, (op, seg) in enumerate(zip(ZERO_OPS, [None, "vip", None, {"segment": "A"},
                                                        None], strict=True))]
    for draws, unc in ((200, "parametric"), (0, "delta")):
        t = sim.run(scs, draws=draws, seed=1, uncertainty=unc).table
        deltas = t[[c for c in t.columns if c.startswith("delta_")
                    or c.startswith("segment_delta")]]
        assert (deltas.to_numpy() == 0).all(), deltas
        assert (t["baseline_rate"] == t["scenario_rate"]).all()
    assert sim.value(scs[0], "profit") == 0.0


def test_empty_scenario_is_zero(sim):
    assert sim.value(dk.Scenario("nothing", {}), "profit") == 0.0
    t = sim.run(dk.Scenario("nothing", {}), draws=50, seed=0).table
    assert t["delta_rate"].iloc[0] == t["delta_rate_low"].iloc[0] == 0.0


@settings(max_examples=60, deadline=None)
@given(a=st.floats(-9, 9), b=st.floats(-9, 9), beta=st.sampled_from([0.4, -0.4]))
def test_cut_and_raise_are_monotone(four, a, b, beta):
    m = dk.fixed_model("logit", intercept=-1.0, coef={"x1": beta, "x2": 0.3},
                       scales={"x1": (1, 10), "x2": (1, 10)})
    sim = dk.Simulator(m, four)
    lo, hi = sorted((a, b))
    v_lo = sim.value({"x1": dk.shift(lo)}, "rate")
    v_hi = sim.value({"x1": dk.shift(hi)}, "rate")
    if beta > 0:
        assert v_lo <= v_hi
        assert (v_lo <= 0 if lo <= 0 else v_lo >= 0)
    else:
        assert v_lo >= v_hi
    # raising a floor or closing more of the gap never lowers the rate (positive effect)
    if beta > 0:
        t1, t2 = sorted((abs(a) / 9, abs(b) / 9))
        assert sim.value({"x1": dk.gap_close(t1)}, "rate") <= sim.value(
            {"x1": dk.gap_close(t2)}, "rate")
        f1, f2 = sorted((1 + abs(a), 1 + abs(b)))
        assert sim.value({"x1": dk.floor(f1)}, "rate") <= sim.value({"x1": dk.floor(f2)}, "rate")


SCENARIOS = [
    dk.Scenario("one", {"staff": dk.shift(1)}, cost=2e5),
    dk.Scenario("joint", {"staff": dk.shift(1), "speed": dk.top_box(0.3),
                          "price": dk.target_mean(6.5)}, cost=5e5),
    dk.Scenario("cut", {"speed": dk.shift(-1)}, cost=-1e5),
    dk.Scenario("vip", {"price": dk.floor(7)}, cost=1e5, segment="vip"),
    dk.Scenario("seg", {"staff": dk.gap_close(0.3)}, cost=1e5, segment={"segment": ["A", "B"]}),
]


@pytest.mark.parametrize("objective, col", [("profit", "delta_profit"),
                                            ("revenue", "delta_revenue"),
                                            ("rate", "delta_rate"),
                                            ("customers", "delta_customers")])
def test_value_is_bit_identical_to_run(sim, objective, col):
    t = sim.run(SCENARIOS, draws=30, seed=0).table
    for s in SCENARIOS:
        assert sim.value(s, objective) == t.loc[s.name, col]  # to the last digit
        assert sim.run(s, draws=0).table[col].iloc[0] == t.loc[s.name, col]


def test_value_draws_are_the_draws_behind_the_interval(sim):
    s = SCENARIOS[1]
    d = sim.value_draws(s, "profit", draws=300, seed=7)
    t = sim.run(s, draws=300, seed=7).table
    a = (1 - 0.95) / 2
    lo, hi = np.quantile(d, [a, 1 - a])
    assert t["delta_profit_low"].iloc[0] == lo and t["delta_profit_high"].iloc[0] == hi
    np.testing.assert_array_equal(d, sim.value_draws(s, "profit", draws=300, seed=7))
    assert not np.array_equal(d, sim.value_draws(s, "profit", draws=300, seed=8))
    # a list of scenarios shares the parameter draws (common random numbers); batching the
    # scenarios changes only the BLAS summation order, so agreement is to rounding, not bit-exact
    both = sim.run(SCENARIOS, draws=300, seed=7).table
    np.testing.assert_allclose(both.loc[s.name, "delta_profit_low"], lo, rtol=1e-12)


def test_by_driver_adds_up_to_the_joint_effect(sim):
    res = sim.run(SCENARIOS, draws=20, seed=0)
    bd = res.by_driver
    for s in SCENARIOS:
        part = bd[bd["scenario"] == s.name]
        assert list(part["driver"]) == [*s.operators, "interaction"]
        for c in ("delta_rate", "delta_revenue"):
            assert part[c].sum() == pytest.approx(res.table.loc[s.name, c], rel=1e-12,
                                                  abs=1e-12)
        alone = part.set_index("driver")
        for d, op in s.operators.items():
            single = dk.Scenario("x", {d: op}, segment=s.segment)
            assert alone.loc[d, "delta_rate"] == sim.value(single, "rate")
    joint = bd[bd["scenario"] == "joint"].set_index("driver")
    assert joint.loc["interaction", "delta_rate"] != 0  # non-linear model: not additive


def test_point_estimates_do_not_depend_on_seed_or_method(sim):
    s = SCENARIOS[1]
    cols = ["baseline_rate", "scenario_rate", "delta_rate", "delta_profit"]
    a = sim.run(s, draws=50, seed=1).table[cols]
    b = sim.run(s, draws=80, seed=2).table[cols]
    c = sim.run(s, draws=0).table[cols]
    assert a.equals(b) and a.equals(c)


def test_the_callers_data_is_not_modified(fitted, survey):
    before = survey.copy(deep=True)
    sim = dk.Simulator(fitted, survey, revenue="revenue", weights="w")
    sim.run(SCENARIOS, draws=20, seed=0)
    sim.sensitivity(draws=10)
    assert survey.equals(before)
