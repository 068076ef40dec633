"""Money: customers, revenue (number or column), profit, ROI, cuts, segments, CLV, calibration."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

import driverkit as dk

STAFF_UP = dk.Scenario("staff +1", {"staff": dk.shift(1)}, cost=2e5)


def _p(model, frame):
    return model.predict(frame)


def test_rates_are_weighted_averages_of_respondent_predictions(fitted, survey):
    sim = dk.Simulator(fitted, survey, weights="w")
    moved = survey.assign(staff=np.minimum(survey["staff"] + 1, 10))
    w = survey["w"].to_numpy()
    dp = _p(fitted, moved) - _p(fitted, survey)
    t = sim.run(STAFF_UP, draws=0).table.iloc[0]
    assert t["baseline_rate"] == pytest.approx(np.average(_p(fitted, survey), weights=w),
                                               rel=1e-12)
    assert t["delta_rate"] == pytest.approx(np.average(dp, weights=w), rel=1e-10)
    # customers default to the weighted number of respondents
    assert t["delta_customers"] == pytest.approx(w.sum() * t["delta_rate"], rel=1e-12)


def test_money_columns_are_left_out_without_revenue(fitted, survey):
    t = dk.Simulator(fitted, survey).run(STAFF_UP, draws=20, seed=0).table
    assert list(t.columns) == ["baseline_rate", "scenario_rate", "delta_rate", "delta_rate_low",
                               "delta_rate_high", "delta_customers", "delta_customers_low",
                               "delta_customers_high", "cost"]
    assert not t.isna().any().any()


def test_revenue_column_weights_each_respondents_change(fitted, survey):
    N = 80_000
    sim = dk.Simulator(fitted, survey, customers=N, revenue="revenue", margin=0.25,
                       weights="w")
    moved = survey.assign(staff=np.minimum(survey["staff"] + 1, 10))
    w, R = survey["w"].to_numpy(), survey["revenue"].to_numpy()
    dp = _p(fitted, moved) - _p(fitted, survey)
    t = sim.run(STAFF_UP, draws=0).table.iloc[0]
    want = N * np.sum(w * R * dp) / w.sum()
    assert t["delta_revenue"] == pytest.approx(want, rel=1e-10)
    assert t["delta_profit"] == pytest.approx(0.25 * want - 2e5, rel=1e-10)
    assert t["roi"] == pytest.approx((0.25 * want - 2e5) / 2e5, rel=1e-10)


def test_number_revenue_and_roi(sim):
    t = sim.run(STAFF_UP, draws=0).table.iloc[0]
    assert t["delta_revenue"] == pytest.approx(50_000 * 400 * t["delta_rate"], rel=1e-12)
    assert t["delta_profit"] == pytest.approx(0.35 * t["delta_revenue"] - 2e5, rel=1e-12)
    assert t["roi"] == pytest.approx(t["delta_profit"] / 2e5, rel=1e-12)


def test_cut_reports_saving_and_revenue_at_risk(sim):
    cut = dk.Scenario("close phone line", {"speed": dk.shift(-1)}, cost=-1.5e5)
    res = sim.run([cut, STAFF_UP], draws=0)
    t = res.table
    assert t.loc[cut.name, "saving"] == 1.5e5
    assert t.loc[cut.name, "revenue_at_risk"] == pytest.approx(-t.loc[cut.name, "delta_revenue"])
    assert t.loc[cut.name, "delta_revenue"] < 0
    assert t.loc[cut.name, "delta_profit"] == pytest.approx(
        0.35 * t.loc[cut.name, "delta_revenue"] + 1.5e5)
    assert t.loc[STAFF_UP.name, "saving"] == 0.0
    assert np.isnan(t.loc[cut.name, "roi"])
    assert any("ROI is defined only for a positive cost" in n for n in res.notes)


def test_segment_scope_reports_segment_and_total(fitted, survey):
    sim = dk.Simulator(fitted, survey, weights="w")
    res = sim.run([dk.Scenario("vip", {"staff": dk.shift(1)}, segment="vip"),
                   dk.Scenario("A", {"staff": dk.shift(1)}, segment={"segment": "A"}),
                   dk.Scenario("all", {"staff": dk.shift(1)})], draws=0)
    t = res.table
    w = survey["w"].to_numpy()
    for name, mask in (("vip", survey["vip"].to_numpy()),
                       ("A", (survey["segment"] == "A").to_numpy())):
        share = w[mask].sum() / w.sum()
        assert t.loc[name, "segment_share"] == pytest.approx(share)
        assert t.loc[name, "delta_rate"] == pytest.approx(share * t.loc[name, "segment_delta_rate"])
        moved = survey.assign(staff=np.where(mask, np.minimum(survey["staff"] + 1, 10),
                                             survey["staff"]))
        dp = _p(fitted, moved) - _p(fitted, survey)
        assert t.loc[name, "segment_delta_rate"] == pytest.approx(
            np.average(dp[mask], weights=w[mask]), rel=1e-10)
        assert t.loc[name, "delta_rate"] < t.loc["all", "delta_rate"]
    assert t.loc["all", "segment"] == "all"
    assert t.loc["all", "segment_delta_rate"] == t.loc["all", "delta_rate"]
    # target_mean with a segment hits the segment's mean
    r = sim.run(dk.Scenario("t", {"price": dk.target_mean(8)}, segment="vip"), draws=0)
    mask = survey["vip"].to_numpy()
    mv = sim._moves[("price", dk.target_mean(8), ("col", "vip"))]
    assert np.average(mv.new[mask], weights=w[mask]) == pytest.approx(8, abs=1e-9)
    np.testing.assert_array_equal(mv.new[~mask], survey["price"].to_numpy()[~mask])
    assert r.table["segment"].iloc[0] == "vip"


def test_clv_view(fitted, survey):
    sim = dk.Simulator(fitted, survey, customers=1e5, revenue_per_customer=300, margin=0.3,
                       discount_rate=0.1)
    t = sim.run(STAFF_UP, draws=50, seed=0).table.iloc[0]
    want = dk.clv(0.3 * 300, t["scenario_rate"], 0.1) - dk.clv(0.3 * 300, t["baseline_rate"], 0.1)
    assert t["delta_clv"] == pytest.approx(want, rel=1e-12)
    assert t["delta_equity"] == pytest.approx(1e5 * want, rel=1e-12)
    assert t["delta_clv_low"] < t["delta_clv"] < t["delta_clv_high"]
    sim5 = dk.Simulator(fitted, survey, revenue_per_customer=300, margin=0.3,
                        discount_rate=0.1, horizon=5)
    t5 = sim5.run(STAFF_UP, draws=0).table.iloc[0]
    assert 0 < t5["delta_clv"] < t["delta_clv"]


def test_calibration_factor_and_logistic(fitted, survey):
    base = dk.Simulator(fitted, survey).value(STAFF_UP, "rate")
    half = dk.Simulator(fitted, survey, calibration=0.5)
    assert half.value(STAFF_UP, "rate") == pytest.approx(0.5 * base, rel=1e-12)
    # recalibrating a logit on its own training outcome changes nothing (a = 0, b = 1)
    own = dk.Simulator(fitted, survey, calibration="buy")
    assert own.calibration.a == pytest.approx(0, abs=1e-6)
    assert own.calibration.b == pytest.approx(1, abs=1e-6)
    assert own.value(STAFF_UP, "rate") == pytest.approx(base, rel=1e-6)
    # observed behaviour lower than stated intention: recovered and applied per respondent
    rng = np.random.default_rng(5)
    p = fitted.predict(survey)
    crm = survey.assign(observed=(rng.random(len(survey)) < special.expit(
        -1.0 + 0.8 * special.logit(p))).astype(float))
    crm.loc[crm.index[:100], "observed"] = np.nan  # not every respondent is in the CRM
    cal = dk.Simulator(fitted, crm, calibration="observed")
    assert cal.calibration.n == len(crm) - 100
    assert cal.value(STAFF_UP, "rate") < base
    assert any("calibrated" in n for n in cal.run(STAFF_UP, draws=0).notes)
