"""The simulator against the published worked examples and statsmodels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import special

import driverkit as dk
from driverkit.simulate import clv_elasticity, index_100


def _run(fixed_logit, four, lc, scale=(1, 10)):
    money = lc["money"]
    sim = dk.Simulator(fixed_logit(scale), four, customers=money["customers"],
                       revenue_per_customer=money["revenue_per_customer"],
                       margin=money["margin"])
    return sim, sim.run(dk.Scenario("x1 +2", {"x1": dk.shift(2)}), seed=0)


def test_counterfactual_against_logit_counterfactual(fixed_logit, four, lc):
    tol = lc["tolerance"]
    sim, res = _run(fixed_logit, four, lc)
    row = res.table.loc["x1 +2"]
    assert row["baseline_rate"] == pytest.approx(lc["baseline_rate"], abs=tol)
    assert row["scenario_rate"] == pytest.approx(lc["scenario_rate"], abs=tol)
    assert row["delta_rate"] == pytest.approx(lc["delta_rate"], abs=tol)
    # respondent-level predictions before and after
    np.testing.assert_allclose(sim.kernel.v0, lc["baseline_p"], atol=tol)
    x1_new = np.minimum(four["x1"] + 2, 10)
    p_new = special.expit(-4.0 + 0.6 * x1_new + 0.3 * four["x2"])
    np.testing.assert_allclose(p_new, lc["scenario_p"], atol=tol)
    np.testing.assert_allclose(res.diagnostics["mean_after"], np.mean(x1_new))
    money = lc["money"]
    assert row["delta_customers"] == pytest.approx(money["customers"] * row["delta_rate"])
    assert row["delta_revenue"] == pytest.approx(money["delta_revenue"], abs=0.01)
    assert row["delta_profit"] == pytest.approx(money["delta_profit"], abs=0.01)
    # a fixed model has no sampling uncertainty: the interval is the estimate
    for c in ("delta_rate", "delta_customers", "delta_revenue", "delta_profit"):
        assert row[f"{c}_low"] == row[c] == row[f"{c}_high"]


def test_counterfactual_is_not_a_wrong_answer(fixed_logit, four, lc):
    _, res = _run(fixed_logit, four, lc)
    got = res.table.loc["x1 +2", "delta_rate"]
    for name, wrong in lc["wrong_answers_to_avoid"].items():
        assert abs(got - wrong) > 5e-3, name
    # the uncapped answer is what one gets when the scale does not bind (x1 may reach 12)
    with pytest.warns(dk.ExtrapolationWarning, match="outside the observed range of 'x1'"):
        _, wide = _run(fixed_logit, four, lc, scale=(1, 12))
    assert wide.table["delta_rate"].iloc[0] == pytest.approx(
        lc["wrong_answers_to_avoid"]["uncapped_delta_rate"], abs=lc["tolerance"])
    # the wrong answers are what predicting at the mean rating gives
    xbar, x1_new = four.mean(), np.minimum(four["x1"] + 2, 10).mean()
    at_means = special.expit(-4 + 0.6 * x1_new + 0.3 * xbar.x2) - special.expit(
        -4 + 0.6 * xbar.x1 + 0.3 * xbar.x2)
    assert at_means == pytest.approx(
        lc["wrong_answers_to_avoid"]["prediction_at_means_capped"], abs=lc["tolerance"])


def test_small_shift_against_average_marginal_effect(fixed_logit, four, lc):
    # scale wider than the data so that a tiny shift never clips: Δrate/h -> AME
    sim = dk.Simulator(fixed_logit((0, 11)), four)
    h = 1e-4
    up = sim.value({"x1": dk.shift(h)}, "rate")
    down = sim.value({"x1": dk.shift(-h)}, "rate")
    assert (up - down) / (2 * h) == pytest.approx(lc["average_marginal_effect_x1"], abs=1e-6)


@pytest.mark.parametrize("kind", ["logit", "probit"])
def test_small_shift_against_statsmodels_margeff(survey, kind):
    scales = dict.fromkeys(["staff", "speed", "price"], (0, 11))  # never binding for ±h
    model = dk.fit(survey, "buy", list(scales), kind=kind, scales=scales)
    ame = model.result_.get_margeff(at="overall").margeff
    sim = dk.Simulator(model, survey)
    h = 1e-4
    for j, d in enumerate(scales):
        up = sim.value({d: dk.shift(h)}, "rate")
        down = sim.value({d: dk.shift(-h)}, "rate")
        assert (up - down) / (2 * h) == pytest.approx(ame[j], rel=1e-6, abs=1e-9)


def test_clv_against_clv_multiple(sim_ref):
    cases = sim_ref["clv_multiple"]["cases"]
    for c in cases:
        assert dk.clv(1.0, c["r"], c["i"]) == pytest.approx(c["multiple"], rel=1e-7)
        if "m" in c:
            assert dk.clv(c["m"], c["r"], c["i"]) == pytest.approx(c["clv"], rel=1e-12)
            assert clv_elasticity(c["r"], c["i"]) == pytest.approx(c["elasticity_to_r"])
            # the elasticity is d ln CLV / d ln r
            e = 1e-6
            num = (np.log(dk.clv(1, c["r"] * (1 + e), c["i"]))
                   - np.log(dk.clv(1, c["r"] * (1 - e), c["i"]))) / (2 * e)
            assert num == pytest.approx(c["elasticity_to_r"], rel=1e-6)
    # a long finite horizon converges to the closed form; one period is m·r/(1+i)
    assert dk.clv(100, 0.8, 0.12, horizon=400) == pytest.approx(250.0, rel=1e-12)
    assert dk.clv(100, 0.8, 0.12, horizon=1) == pytest.approx(100 * 0.8 / 1.12)
    assert dk.clv(100, 1.0, 0.0, horizon=5) == pytest.approx(500.0)


@pytest.mark.filterwarnings("ignore::driverkit.ExtrapolationWarning")
def test_index_against_acsi_index(sim_ref):
    a = sim_ref["acsi_index"]
    assert index_100(a["item_means"], a["weights"]) == pytest.approx(a["index"], abs=1e-6)
    assert index_100([1, 1, 1]) == a["all_ones"]
    assert index_100([10, 10, 10]) == a["all_tens"]
    # the simulator's priority table reports the same rescale per driver
    m = dk.fixed_model("logit", intercept=-4, coef={"a": 0.2, "b": 0.2, "c": 0.2},
                       scales=dict.fromkeys("abc", (1, 10)))
    df = pd.DataFrame({"a": [8, 8], "b": [7, 7], "c": [6, 8]})
    pr = dk.Simulator(m, df).priority(draws=10).table
    assert index_100(pr["performance"]) == pytest.approx(a["index"], abs=1e-6)
    np.testing.assert_allclose(pr["performance_100"], 100 * (np.array([8, 7, 7]) - 1) / 9)


@pytest.mark.filterwarnings("ignore::driverkit.ExtrapolationWarning")
def test_impact_is_five_index_points(fixed_logit, four):
    sim = dk.Simulator(fixed_logit(), four)
    res = sim.impact(5, draws=10)
    assert res.table["shift"].tolist() == pytest.approx([0.45, 0.45])
    assert res.table.loc["x1 +5 pts", "delta_rate"] == sim.value({"x1": dk.shift(0.45)}, "rate")
