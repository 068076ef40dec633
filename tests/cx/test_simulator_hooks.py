"""CX models inside dk.Simulator: ΔNPS, the asymmetric (banded) model and the chain."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import driverkit as dk
from driverkit.cx import predicted_nps
from driverkit.data import true_effect


@pytest.fixture(scope="module")
def nps_setup():
    df = dk.make_survey(n=3000, asymmetric=False, seed=4)
    d = df.attrs["truth"]["drivers"]
    # the generating recommend equation: attributes, brand connection and satisfaction
    m = dk.nps_model(df, "recommend", [*d, "brand_connection"])
    return df, m


def test_delta_nps_against_true_effect(nps_setup):
    df, m = nps_setup
    scen = [dk.Scenario("price +1", {"price_value": dk.shift(1)}),
            dk.Scenario("accuracy -2", {"delivery_accuracy": dk.shift(-2)})]
    out = dk.delta_nps(m, df, scen, seed=1)
    for name, change in (("price +1", {"price_value": 1}),
                         ("accuracy -2", {"delivery_accuracy": -2})):
        # the chain's satisfaction is held at its observed value here (direct paths only
        # change), so compare with a margin: the generator's effect flows through it too
        row = out.loc[name]
        assert row["delta_nps_low"] <= row["delta_nps"] <= row["delta_nps_high"]
        true = true_effect(df, change, outcome="nps")
        assert row["delta_nps"] == pytest.approx(true, abs=1.5)


def test_delta_nps_is_the_average_of_respondent_predictions(nps_setup):
    df, m = nps_setup
    out = dk.delta_nps(m, df, dk.Scenario("s", {"price_value": dk.shift(1)}), draws=0)
    moved = df.assign(price_value=np.clip(df["price_value"] + 1, 1, 10))
    direct = float(np.mean(predicted_nps(m, moved) - predicted_nps(m, df)))
    assert out.loc["s", "delta_nps"] == pytest.approx(direct, rel=1e-10)
    assert out.loc["s", "baseline_nps"] == pytest.approx(predicted_nps(m, df).mean())


def test_nps_target_with_three_categories(nps_setup):
    df, _ = nps_setup
    d = df.attrs["truth"]["drivers"][:4]
    m3 = dk.nps_model(df, "recommend", d, categories=3)
    sim = dk.Simulator(m3, df, target=dk.nps_target(m3))
    res = sim.run(dk.Scenario("up", {d[0]: dk.shift(1)}), draws=0)
    assert 100 * res.table["baseline_rate"].iloc[0] == pytest.approx(
        predicted_nps(m3, df).mean())


def test_asymmetric_simulator_cut_costs_more_than_raise_earns():
    df = dk.make_survey(n=3000, kind="linear", seed=21)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dk.SmallSampleWarning)
        res = dk.penalty_reward(df, "satisfaction", df.attrs["truth"]["drivers"])
    sim = res.simulator()
    assert sim.outcome_type == "score"  # satisfaction 1–10: scale points
    assert set(sim.drivers) == set(df.attrs["truth"]["drivers"])
    basic = "delivery_accuracy"
    excite = "staff_friendliness"
    assert res.table.loc[basic, "kano_class"] == "basic"
    assert res.table.loc[excite, "kano_class"] == "excitement"
    out = sim.run([dk.Scenario("cut", {basic: dk.shift(-1)}),
                   dk.Scenario("raise", {basic: dk.shift(1)}),
                   dk.Scenario("cut e", {excite: dk.shift(-1)}),
                   dk.Scenario("raise e", {excite: dk.shift(1)})], seed=1).table
    assert -out.loc["cut", "delta_mean"] > 1.3 * out.loc["raise", "delta_mean"] > 0
    # against the generating equations
    for name, ch in (("cut", {basic: -1}), ("raise", {basic: 1}), ("cut e", {excite: -1}),
                     ("raise e", {excite: 1})):
        true = true_effect(df, ch, outcome="satisfaction")
        assert out.loc[name, "delta_mean_low"] - 0.01 <= true
        assert true <= out.loc[name, "delta_mean_high"] + 0.01
    # the linear model sees only the scale ceiling's asymmetry, far less than the bands'
    lin = dk.Simulator(res.linear_model, df).run(
        [dk.Scenario("cut", {basic: dk.shift(-1)}), dk.Scenario("raise", {basic: dk.shift(1)})],
        draws=0).table
    ratio_lin = -lin.loc["cut", "delta_mean"] / lin.loc["raise", "delta_mean"]
    ratio_band = -out.loc["cut", "delta_mean"] / out.loc["raise", "delta_mean"]
    assert ratio_band > ratio_lin


def test_chain_simulator_flows_through_the_mediator(survey_chain):
    d = survey_chain.attrs["truth"]["drivers"]
    res = dk.chain(survey_chain, "repurchase", d, mediator="satisfaction")
    sim = res.simulator()
    out = sim.run([dk.Scenario("price +1", {"price_value": dk.shift(1)}),
                   dk.Scenario("accuracy -1", {"delivery_accuracy": dk.shift(-1)})],
                  seed=3).table
    for name, ch in (("price +1", {"price_value": 1}), ("accuracy -1", {"delivery_accuracy": -1})):
        true = true_effect(survey_chain, ch)
        assert out.loc[name, "delta_rate_low"] - 0.003 <= true
        assert true <= out.loc[name, "delta_rate_high"] + 0.003
    # the same model handed straight to dk.Simulator (bound to the fitted rows) agrees
    direct = dk.Simulator(res.model, survey_chain).run(
        dk.Scenario("price +1", {"price_value": dk.shift(1)}), draws=0).table
    assert direct["delta_rate"].iloc[0] == pytest.approx(out.loc["price +1", "delta_rate"])
    # a driver without a direct path still moves the outcome through satisfaction
    no_direct = [x for x, v in survey_chain.attrs["truth"]["chain"]["direct"].items() if v == 0]
    eff = sim.run(dk.Scenario("x", {no_direct[0]: dk.shift(2)}), draws=0).table
    assert eff["delta_rate"].iloc[0] > 0
    # it equals the AME-type prediction by hand
    m = res.model
    moved = survey_chain.assign(price_value=np.clip(survey_chain["price_value"] + 1, 1, 10))
    by_hand = float(np.mean(m.predict(moved) - m.predict(survey_chain)))
    assert out.loc["price +1", "delta_rate"] == pytest.approx(by_hand, rel=1e-9)
