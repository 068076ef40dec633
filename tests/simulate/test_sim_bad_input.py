"""Bad input: each a clear error naming the culprit."""

from __future__ import annotations

import numpy as np
import pytest

import driverkit as dk


def test_unknown_driver_suggests_a_close_match(sim):
    with pytest.raises(dk.DriverkitError, match=r"Unknown driver 'stafff'.*Did you mean 'staff'"):
        sim.run(dk.Scenario("typo", {"stafff": dk.shift(1)}))
    with pytest.raises(dk.DriverkitError, match="Unknown driver 'stafff'"):
        sim.value({"stafff": dk.shift(1)}, "rate")


def test_operator_outside_scale(sim):
    with pytest.raises(dk.DriverkitError, match=r"set_to\(12\) on driver 'staff'.*scale 1–10"):
        sim.run({"staff": dk.set_to(12)})


def test_unreachable_target_mean(sim):
    with pytest.raises(dk.DriverkitError, match=r"target_mean\(0.5\).*'price'"):
        sim.run({"price": dk.target_mean(0.5)})


@pytest.mark.parametrize("kw, match", [
    ({"customers": -10}, r"'customers' parameter of Simulator\(\) must be >= 0"),
    ({"margin": -0.1}, r"'margin' parameter of Simulator\(\) must be >= 0"),
    ({"margin": 30}, r"'margin' parameter of Simulator\(\) must be <= 1"),
    ({"revenue_per_customer": -5}, r"'revenue_per_customer'.*>= 0"),
    ({"customers": (5, -1)}, r"'customers'.*>= 0 \(range bound\)"),
    ({"revenue": "revenu"}, r"revenue column 'revenu'.*Did you mean 'revenue'"),
    ({"revenue": "revenue", "revenue_per_customer": 3}, "not both"),
    ({"weights": "nope"}, r"weights column 'nope'"),
    ({"bogus": 1}, r"unexpected keyword argument\(s\) 'bogus'"),
    ({"horizon": 5}, "horizon= needs discount_rate="),
    ({"discount_rate": 0.1}, "needs revenue_per_customer= or revenue="),
    ({"missing": "ignore"}, "'missing' parameter of Simulator"),
])
def test_bad_simulator_arguments(fitted, survey, kw, match):
    with pytest.raises((dk.DriverkitError, dk.DriverkitTypeError), match=match):
        dk.Simulator(fitted, survey, **kw)


def test_revenue_column_with_missing_values(fitted, survey):
    bad = survey.assign(revenue=survey["revenue"].where(survey.index % 50 != 0))
    with pytest.raises(dk.DataError, match=r"revenue column 'revenue' has 12 missing"):
        dk.Simulator(fitted, bad, revenue="revenue")
    before = bad.copy()
    with pytest.warns(dk.MissingDataWarning, match="12 respondents"):
        s = dk.Simulator(fitted, bad, revenue="revenue", missing="drop")
    assert s.n == len(bad) - 12
    assert bad.equals(before)


def test_missing_driver_values(fitted, survey):
    bad = survey.assign(staff=survey["staff"].where(survey.index != 3))
    with pytest.raises(dk.DataError, match="'staff'"):
        dk.Simulator(fitted, bad, missing="raise")
    with pytest.warns(dk.MissingDataWarning, match="1 respondents"):
        s = dk.Simulator(fitted, bad)  # listwise by default, as dk.fit
    assert s.n == len(bad) - 1


@pytest.mark.parametrize("call, match", [
    (lambda s: s.run({"staff": dk.shift(1)}, draws=-1), r"'draws' parameter of run\(\)"),
    (lambda s: s.run({"staff": dk.shift(1)}, ci=1.5), r"'ci' parameter of run\(\)"),
    (lambda s: s.run({"staff": dk.shift(1)}, uncertainty="jackknife"), "'uncertainty'"),
    (lambda s: s.run({"staff": dk.shift(1)}, draws=0, uncertainty="bootstrap"), "draws > 0"),
    (lambda s: s.value({"staff": dk.shift(1)}, "proft"), r"'objective'.*Did you mean 'profit'"),
    (lambda s: s.run([dk.Scenario("a", {"staff": 1}), dk.Scenario("a", {"speed": 1})]),
     "Two scenarios are named 'a'"),
    (lambda s: s.run(dk.Scenario("s", {"staff": "up"})), "must be an operator"),
    (lambda s: s.run(dk.Scenario("s", {"staff": 1}, segment="segment")), "must be boolean"),
    (lambda s: s.run(dk.Scenario("s", {"staff": 1}, segment={"segment": "Z"})),
     "selects no respondents"),
    (lambda s: s.run(dk.Scenario("s", {"staff": 1}, segment=np.ones(3, bool))),
     "one value per respondent"),
    (lambda s: s.run(42), "Expected a dk.Scenario"),
])
def test_bad_run_arguments(sim, call, match):
    with pytest.raises((dk.DriverkitError, dk.DriverkitTypeError), match=match):
        call(sim)


def test_money_objective_without_revenue(fitted, survey):
    s = dk.Simulator(fitted, survey)
    with pytest.raises(dk.DriverkitError, match="needs money"):
        s.value({"staff": dk.shift(1)}, "profit")
    assert s.value({"staff": dk.shift(1)}, "rate") > 0


def test_not_a_model_and_categorical_driver(survey):
    with pytest.raises(dk.DriverkitTypeError, match="needs a driver model"):
        dk.Simulator(object(), survey)
    m = dk.fit(survey, "buy ~ staff + speed + C(segment)", kind="logit",
               scales={"staff": (1, 10), "speed": (1, 10)})
    s = dk.Simulator(m, survey)
    assert s.drivers == ["staff", "speed"]
    with pytest.raises(dk.DriverkitError, match="'segment' is categorical"):
        s.run({"segment": dk.shift(1)})


def test_dropping_rows_keeps_array_weights_aligned(fitted, survey):
    bad = survey.assign(staff=survey["staff"].where(survey.index % 100 != 0))
    w = survey["w"].to_numpy()
    with pytest.warns(dk.MissingDataWarning, match="6 respondents"):
        s = dk.Simulator(fitted, bad, weights=w, missing="drop")
    keep = survey.index % 100 != 0
    np.testing.assert_array_equal(s._w, w[keep])
    ref = dk.Simulator(fitted, survey[keep], weights="w")
    assert s.value({"speed": dk.shift(1)}, "rate") == ref.value({"speed": dk.shift(1)}, "rate")
