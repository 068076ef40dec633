"""Score outcomes (mean in scale points), links to behaviour and less-is-better outcomes.

Bugs fixed (issue 13): a linear model of satisfaction 1–10 was simulated as a "rate" and
multiplied into customers and money; a churn model showed fewer churners as lost revenue.
"""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import driverkit as dk

DRV = ["website_ease", "price_value", "checkout_speed", "staff_friendliness"]
SC = {d: (1, 10) for d in DRV}
UP = {"staff_friendliness": dk.shift(1)}


@pytest.fixture(scope="module")
def demo():
    return dk.load_demo()


@pytest.fixture(scope="module")
def score_model(demo):
    return dk.fit(demo, "satisfaction", DRV, scales=SC)


def _moved(df):
    return df.assign(staff_friendliness=np.minimum(df["staff_friendliness"] + 1, 10))


def test_linear_model_of_a_score_reports_mean_in_points(demo, score_model):
    assert score_model.outcome_type == "score"
    sim = dk.Simulator(score_model, demo)
    res = sim.run(UP, draws=100, seed=1)
    t = res.table
    assert {"baseline_mean", "scenario_mean", "delta_mean", "delta_mean_low",
            "delta_mean_high", "cost"} <= set(t.columns)
    assert not [c for c in t.columns if "rate" in c or "customers" in c or "revenue" in c]
    want = np.mean(score_model.predict(_moved(demo)) - score_model.predict(demo))
    assert t["delta_mean"].iloc[0] == pytest.approx(want, rel=1e-12)
    assert t["baseline_mean"].iloc[0] == pytest.approx(score_model.predict(demo).mean())
    assert sim.value(UP, "mean") == t["delta_mean"].iloc[0]
    assert "delta_mean" in res.by_driver.columns and "delta_customers" not in res.by_driver
    assert res.meta["outcome_type"] == "score" and "customers" not in res.meta
    assert res.uncertainty["objective"].iloc[0] == "delta_mean"
    assert not any(n.startswith("Rate =") for n in res.notes)


def test_score_refuses_money_and_rate_objectives(demo, score_model):
    with pytest.raises(dk.DriverkitError, match=r"score.*link="):
        dk.Simulator(score_model, demo, revenue_per_customer=100)
    with pytest.raises(dk.DriverkitError, match="customers"):
        dk.Simulator(score_model, demo, customers=10_000)
    sim = dk.Simulator(score_model, demo)
    for obj in ("rate", "profit", "revenue", "customers"):
        with pytest.raises(dk.DriverkitError, match="objective='mean'"):
            sim.value(UP, obj)
    with pytest.raises(dk.DriverkitError, match="objective='mean'"):
        dk.optimize_budget(sim, {"staff_friendliness": dk.saturating(1, 100)}, 100)


def test_sensitivity_priority_impact_and_chunks_of_a_score(demo, score_model):
    sim = dk.Simulator(score_model, demo)
    sens = sim.sensitivity(steps=[-1, 1], draws=0)
    assert sens.meta["column"] == "delta_mean" and "delta_mean" in sens.table
    assert sim.priority(draws=0).meta["impact"] == "delta_mean"
    assert "delta_mean" in sim.impact(draws=0).table
    ch = dk.run_chunked(score_model, demo, UP, draws=20, seed=0)
    assert ch["delta_mean"].iloc[0] == pytest.approx(sim.value(UP, "mean"), rel=1e-10)


def test_linear_probability_model_and_fixed_model_stay_rates(demo):
    lpm = dk.fit(demo, "repurchase", DRV, scales=SC)
    assert lpm.outcome_type == "rate"
    assert "delta_rate" in dk.Simulator(lpm, demo).run(UP, draws=0).table
    fixed = dk.fixed_model("linear", intercept=0.1, coef={"x": 0.05}, scales={"x": (1, 10)})
    assert fixed.outcome_type == "rate"
    declared = dk.fixed_model("linear", intercept=3, coef={"x": 0.5}, scales={"x": (1, 10)},
                              outcome_type="score")
    df = pd.DataFrame({"x": [2.0, 5.0, 9.0]})
    t = dk.Simulator(declared, df).run({"x": dk.shift(1)}, draws=0).table
    assert t["delta_mean"].iloc[0] == pytest.approx(0.5 * (1 + 1 + 1) / 3)
    with pytest.raises(dk.DriverkitError, match="kind='linear'"):
        dk.fixed_model("logit", coef={"x": 1.0}, outcome_type="score")


def test_link_turns_a_score_into_behaviour(demo, score_model):
    sim = dk.Simulator(score_model, demo, link="repurchase", revenue_per_customer=100)
    score = score_model.predict(demo)
    ref = sm.GLM(demo["repurchase"].to_numpy(float), sm.add_constant(score),
                 family=sm.families.Binomial()).fit()
    a, b = ref.params
    p0 = 1 / (1 + np.exp(-(a + b * score)))
    p1 = 1 / (1 + np.exp(-(a + b * score_model.predict(_moved(demo)))))
    t = sim.run(UP, draws=0).table
    assert t["delta_rate"].iloc[0] == pytest.approx(np.mean(p1 - p0), rel=1e-6)
    assert t["delta_revenue"].iloc[0] == pytest.approx(len(demo) * 100 * np.mean(p1 - p0),
                                                       rel=1e-6)
    with pytest.raises(dk.DriverkitError, match="already predicts a rate"):
        dk.Simulator(dk.fit(demo, "repurchase", DRV, kind="logit"), demo, link="repurchase")
    with pytest.raises(dk.DataError, match="0/1"):
        dk.Simulator(score_model, demo, link="satisfaction")


def test_optimisers_on_a_score(demo, score_model):
    sim = dk.Simulator(score_model, demo)
    curves = {d: dk.saturating(1.0, 1e5) for d in DRV}
    plan = dk.optimize_budget(sim, curves, 2e5, objective="mean")
    assert plan.value == sim.run(plan.scenario, draws=0).table["delta_mean"].iloc[0]
    assert plan.meta["column"] == "delta_mean"
    fr = dk.frontier(curves, [1e5], simulator=sim, draws=20)
    assert fr["value"].iloc[0] > 0


@pytest.fixture(scope="module")
def churn(demo):
    df = demo.assign(churn=1 - demo["repurchase"])
    return df, dk.fit(df, "churn", DRV, kind="logit", scales=SC)


def test_less_is_better_counts_fewer_events_as_a_gain(churn):
    df, m = churn
    sim = dk.Simulator(m, df, revenue_per_customer=100, better="lower")
    t = sim.run(UP, draws=0).table.iloc[0]
    assert t["delta_rate"] < 0  # fewer churners
    assert t["delta_revenue"] == pytest.approx(-len(df) * 100 * t["delta_rate"], rel=1e-12)
    assert t["delta_revenue"] > 0
    assert sim.run(UP, draws=0).meta["better"] == "lower"
    with pytest.raises(dk.DriverkitError, match="better"):
        dk.Simulator(m, df, better="up")


def test_optimisers_maximise_the_good_direction(churn):
    df, m = churn
    sim = dk.Simulator(m, df, revenue_per_customer=100, better="lower")
    curves = {d: dk.saturating(1.0, 1e5) for d in DRV}
    plan = dk.optimize_budget(sim, curves, 2e5, objective="rate")
    assert plan.value < 0 and plan.table["spend"].sum() > 1e5
    assert plan.value == sim.run(plan.scenario, draws=0).table["delta_rate"].iloc[0]
    naive = dk.optimize_budget(dk.Simulator(m, df), curves, 2e5, objective="rate")
    assert naive.table["spend"].sum() == 0  # "more churn is better" funds nothing
    ini = {d: {"cost": 1e4, "scenario": dk.Scenario(d, {d: dk.shift(1)})} for d in DRV}
    port = dk.select_initiatives(ini, 2e4, simulator=sim, objective="rate")
    vals = port.table["value"]
    assert set(port.chosen) == set(vals.nsmallest(2).index)
    assert port.value == sim.run(port.scenario, draws=0).table["delta_rate"].iloc[0]


def test_better_and_event_travel_with_the_model(churn):
    df, _ = churn
    text = df.assign(churned=np.where(df["churn"] == 1, "Yes", "No"))
    m = dk.fit(text, "churned", DRV, kind="logit", event="Yes", better="lower", scales=SC)
    ref = dk.fit(text, "churned", DRV, kind="logit", positive="Yes", scales=SC)
    np.testing.assert_array_equal(m.table["estimate"], ref.table["estimate"])
    assert m.meta["better"].startswith("lower")
    sim = dk.Simulator(m, text, revenue_per_customer=100)
    assert sim.better == "lower"
    assert sim.run(UP, draws=0).table["delta_revenue"].iloc[0] > 0
    with pytest.raises(dk.DriverkitError, match="disagree"):
        dk.fit(text, "churned", DRV, kind="logit", event="Yes", positive="No")
    imp = dk.importance(text, "churned", DRV, kind="logit", event="Yes")
    ref_imp = dk.importance(text, "churned", DRV, kind="logit", positive="Yes")
    np.testing.assert_array_equal(imp.table["importance"], ref_imp.table["importance"])


def test_cli_better_lower(churn, tmp_path):
    from click.testing import CliRunner

    from driverkit.report.cli import cli

    df, _ = churn
    path = tmp_path / "churn.csv"
    df.iloc[:400].to_csv(path, index=False)
    res = CliRunner().invoke(cli, ["analyze", str(path), "-y", "churn", "--drivers",
                                   ",".join(DRV), "--better", "lower", "--revenue-per-customer",
                                   "100", "--draws", "10", "-o", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output


def test_outcome_type_of_a_model_from_sufficient_statistics(demo):
    st = dk.sufficient_stats(demo, [*DRV, "satisfaction", "repurchase"], weights="weight")
    assert dk.fit(st, "satisfaction", DRV).outcome_type == "score"
    assert dk.fit(st, "repurchase", DRV).outcome_type == "rate"  # var = m(1 − m): 0/1
