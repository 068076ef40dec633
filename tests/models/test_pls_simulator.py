"""PLS models in dk.Simulator: Δindex through the structural model, the link to behaviour,
money with bootstrap intervals, and the optimisers on top."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import statsmodels.api as sm

import driverkit as dk


@pytest.fixture(scope="module")
def fitted():
    df = dk.make_survey(600, items_per_construct=3, seed=21, discrete=False)
    t = dk.latent_truth(df)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dk.MeasurementWarning)
        m = dk.pls(df, t.constructs, t.paths, scales=(-20, 40), weights="weight")
    return df, t, m


def test_index_change_follows_the_total_effects(fitted):
    df, t, m = fitted
    sim = dk.Simulator(m, df, target="Loyalty")
    width = 60.0
    imp = m.impact("Loyalty", points=100 / width).table["impact"]  # +1 rating point
    res = sim.run({"Q": {"Quality": dk.shift(1)}, "V": {"Value": dk.shift(1)},
                   "L": {"Loyalty": dk.shift(1)}}, draws=0)
    tab = res.table
    assert "delta_index" in tab.columns and "delta_rate" not in tab.columns
    assert tab.loc["Q", "delta_index"] == pytest.approx(imp["Quality"], rel=1e-10)
    assert tab.loc["V", "delta_index"] == pytest.approx(imp["Value"], rel=1e-10)
    assert tab.loc["L", "delta_index"] == pytest.approx(100 / width, rel=1e-10)
    assert tab.loc["Q", "baseline_index"] == pytest.approx(m.index["Loyalty"], rel=1e-10)
    # one item: its normalised weight × the construct's effect
    w = m.outer.loc[("Quality", "PERQ2"), "index_weight"]
    d = sim.value({"PERQ2": dk.shift(1)}, "rate")
    assert d == pytest.approx(w * imp["Quality"], rel=1e-10)
    # constructs that do not reach the target cannot move it; Loyalty's successors: none
    assert set(sim.constructs) == set(t.constructs)


def test_link_logit_and_money(fitted):
    df, _, m = fitted
    sim = dk.Simulator(m, df, target="Loyalty", link="repurchase", customers=50_000,
                       revenue_per_customer=400, margin=0.25)
    idx = m.index_scores["Loyalty"].to_numpy()
    X = sm.add_constant(idx)
    ref = sm.GLM(df["repurchase"], X, family=sm.families.Binomial(),
                 var_weights=df["weight"]).fit(tol=1e-12)
    assert sim.model.link_coef["intercept"] == pytest.approx(ref.params.iloc[0], rel=1e-7)
    assert sim.model.link_coef["slope"] == pytest.approx(ref.params.iloc[1], rel=1e-7)
    a, b = ref.params.iloc[0], ref.params.iloc[1]
    w = df["weight"].to_numpy()
    imp = m.impact("Loyalty", points=100 / 60).table["impact"]
    p0 = 1 / (1 + np.exp(-(a + b * idx)))
    p1 = 1 / (1 + np.exp(-(a + b * (idx + imp["Quality"]))))
    drate = np.dot(w, p1 - p0) / w.sum()
    sc = dk.Scenario("quality", {"Quality": dk.shift(1)}, cost=100_000)
    res = sim.run(sc, draws=200, seed=4)
    row = res.table.loc["quality"]
    assert row["delta_rate"] == pytest.approx(drate, rel=1e-6)
    assert row["delta_customers"] == pytest.approx(50_000 * drate, rel=1e-6)
    assert row["delta_revenue"] == pytest.approx(50_000 * 400 * drate, rel=1e-6)
    assert row["delta_profit"] == pytest.approx(0.25 * 50_000 * 400 * drate - 100_000, rel=1e-6)
    assert row["roi"] == pytest.approx(row["delta_profit"] / 100_000)
    for c in ("delta_rate", "delta_revenue", "roi"):
        assert row[f"{c}_low"] < row[c] < row[f"{c}_high"]
    again = sim.run(sc, draws=200, seed=4).table
    assert again.loc["quality", "delta_rate_low"] == row["delta_rate_low"]


def test_optimisers_use_the_simulators_numbers(fitted):
    df, _, m = fitted
    sim = dk.Simulator(m, df, target="Loyalty", link="repurchase", customers=50_000,
                       revenue_per_customer=400, margin=0.25)
    curves = {"PERQ1": dk.saturating(2.0, 40_000), "IMAG2": dk.saturating(2.0, 60_000),
              "CUSA3": dk.saturating(1.5, 30_000)}
    alloc = dk.optimize_budget(sim, curves, 80_000)
    assert alloc.value == pytest.approx(sim.value(alloc.scenario, "profit"), rel=1e-9)
    inits = {"quality programme": {"cost": 90_000,
                                   "scenario": dk.Scenario("q", {"Quality": dk.shift(0.5)})},
             "image campaign": {"cost": 70_000,
                                "scenario": dk.Scenario("i", {"Image": dk.shift(0.5)})},
             "value pricing": {"cost": 120_000,
                               "scenario": dk.Scenario("v", {"Value": dk.shift(1)})}}
    port = dk.select_initiatives(inits, 170_000, simulator=sim, objective="revenue")
    assert port.value == pytest.approx(sim.value(port.scenario, "revenue"), rel=1e-9)


def test_simulator_errors(fitted):
    df, _, m = fitted
    with pytest.raises(dk.DriverkitError, match="'Loyality' is not a construct"):
        dk.Simulator(m, df, target="Loyality")
    with pytest.raises(dk.DriverkitError, match="needs link="):
        dk.Simulator(m, df, target="Loyalty", revenue_per_customer=100)
    with pytest.raises(dk.DataError, match="link column 'revenue' must hold observed 0/1"):
        dk.Simulator(m, df, target="Loyalty", link="revenue")
    sim = dk.Simulator(m, df, target="Loyalty")
    with pytest.raises(dk.DriverkitError, match="moves the item 'PERQ1' twice"):
        sim.value({"Quality": dk.shift(1), "PERQ1": dk.shift(1)}, "rate")
    fm = dk.fixed_model("logit", intercept=0.0, coef={"x": 1.0}, scales={"x": (1, 10)})
    with pytest.raises(dk.DriverkitError, match="calibration="):
        dk.Simulator(fm, df.assign(x=5), link="repurchase")
