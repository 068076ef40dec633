"""Intervals: parametric draws, delta method, bootstrap, business inputs as distributions."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import driverkit as dk

JOINT = dk.Scenario("joint", {"staff": dk.shift(1), "speed": dk.shift(1)}, cost=2e5)


def _width(t, c="delta_rate"):
    return float(t[f"{c}_high"].iloc[0] - t[f"{c}_low"].iloc[0])


def test_parametric_delta_and_bootstrap_agree(sim):
    par = sim.run(JOINT, draws=2000, seed=1).table
    dm = sim.run(JOINT, draws=0).table
    boot = sim.run(JOINT, draws=150, seed=1, uncertainty="bootstrap").table
    assert _width(par) == pytest.approx(_width(dm), rel=0.1)
    assert _width(boot) == pytest.approx(_width(dm), rel=0.35)
    for t in (par, dm, boot):
        assert t["delta_rate_low"].iloc[0] < t["delta_rate"].iloc[0] < t["delta_rate_high"].iloc[0]
    # the delta-method interval is symmetric; money intervals scale with the rate's
    mid = (dm["delta_rate_low"] + dm["delta_rate_high"]).iloc[0] / 2
    assert mid == pytest.approx(dm["delta_rate"].iloc[0], rel=1e-12)
    assert _width(dm, "delta_revenue") == pytest.approx(50_000 * 400 * _width(dm), rel=1e-6)


def test_delta_method_se_against_closed_form(fitted, survey):
    # Δrate = mean_i [F(η_i + β_s) − F(η_i)] for a shift that never clips: the gradient is
    # mean_i [f(η'_i) x'_i − f(η_i) x_i] with x = (1, staff, speed, price)
    scales = dict.fromkeys(["staff", "speed", "price"], (0, 12))
    model = dk.fit(survey, "buy", list(scales), kind="logit", scales=scales)
    sim = dk.Simulator(model, survey)
    t = sim.run({"staff": dk.shift(1)}, draws=0, ci=0.9).table.iloc[0]
    X = np.column_stack([np.ones(len(survey)), survey[list(scales)].to_numpy(float)])
    X1 = X.copy()
    X1[:, 1] += 1
    b = model.params.to_numpy()

    def dens(Z):
        p = 1 / (1 + np.exp(-Z @ b))
        return (p * (1 - p))[:, None] * Z

    g = (dens(X1) - dens(X)).mean(axis=0)
    se = float(np.sqrt(g @ model.cov_params.to_numpy() @ g))
    z = stats.norm.ppf(0.95)
    assert t["delta_rate_high"] - t["delta_rate"] == pytest.approx(z * se, rel=1e-5)


def test_seed_makes_runs_reproducible(sim):
    a = sim.run(JOINT, draws=100, seed=3).table
    b = sim.run(JOINT, draws=100, seed=3).table
    c = sim.run(JOINT, draws=100, seed=4).table
    assert a.equals(b)
    assert not a.equals(c)
    rng = np.random.default_rng(0)
    assert sim.run(JOINT, draws=50, seed=rng).table["delta_rate"].equals(a["delta_rate"])


def test_business_inputs_as_distributions(fitted, survey):
    sim = dk.Simulator(fitted, survey, customers=stats.norm(50_000, 5_000),
                       revenue_per_customer=(300, 500), margin=[0.3, 0.35, 0.4])
    s = dk.Scenario("s", {"staff": dk.shift(1)}, cost=(1e5, 3e5))
    assert sim.customers.point == 50_000 and sim.revenue_per_customer.point == 400
    assert sim.margin.point == pytest.approx(0.35) and s.cost == 2e5
    res = sim.run(s, draws=2000, seed=0)
    t, u = res.table.iloc[0], res.uncertainty.iloc[0]
    # the point estimate uses the means of the distributions
    plain = dk.Simulator(fitted, survey, customers=50_000, revenue_per_customer=400,
                         margin=0.35)
    assert t["delta_profit"] == pytest.approx(
        plain.value(dk.Scenario("s", {"staff": dk.shift(1)}, cost=2e5), "profit"), rel=1e-12)
    assert t["delta_profit_low"] < t["delta_profit"] < t["delta_profit_high"]
    assert 0 < t["prob_profit_positive"] <= 1
    assert u["share_model"] + u["share_business"] == pytest.approx(1)
    assert 0.05 < u["share_business"] < 0.95
    d = res.draws("s")
    assert len(d) == 2000 and {"delta_profit", "roi"} <= set(d.columns)
    assert t["prob_profit_positive"] == np.mean(d["delta_profit"] > 0)
    # a fixed model: all spread comes from the business inputs
    fm = dk.fixed_model("logit", intercept=-5.0, coef={"staff": 0.35, "speed": 0.2,
                                                       "price": 0.15},
                        scales=dict.fromkeys(["staff", "speed", "price"], (1, 10)))
    fsim = dk.Simulator(fm, survey, customers=(40_000, 60_000), revenue_per_customer=400)
    ft = fsim.run({"staff": dk.shift(1)}, draws=500, seed=1)
    assert ft.uncertainty["share_business"].iloc[0] == pytest.approx(1.0)
    assert ft.table["delta_rate_low"].iloc[0] == ft.table["delta_rate"].iloc[0]
    assert ft.table["delta_customers_low"].iloc[0] < ft.table["delta_customers"].iloc[0]


def test_delta_method_with_business_distributions(fitted, survey):
    sim = dk.Simulator(fitted, survey, customers=50_000, revenue_per_customer=(300, 500))
    t = sim.run(JOINT, draws=0, seed=2).table.iloc[0]
    p = sim.run(JOINT, draws=3000, seed=2).table.iloc[0]
    assert t["delta_revenue_high"] - t["delta_revenue_low"] == pytest.approx(
        p["delta_revenue_high"] - p["delta_revenue_low"], rel=0.1)


def test_bootstrap_needs_the_outcome(fitted, survey):
    sim = dk.Simulator(fitted, survey.drop(columns="buy"))
    with pytest.raises(dk.DriverkitError, match="bootstrap"):
        sim.run(JOINT, draws=5, uncertainty="bootstrap")
    fm = dk.fixed_model("logit", intercept=-1, coef={"staff": 0.1},
                        scales={"staff": (1, 10)})
    with pytest.raises(dk.DriverkitError, match="cannot be cloned"):
        dk.Simulator(fm, survey).run({"staff": dk.shift(1)}, draws=5, uncertainty="bootstrap")
