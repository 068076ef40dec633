"""Results: tables, guardrails, sensitivity, impact, priority, rendering and plots."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import driverkit as dk
from driverkit.simulate import PriorityResult, SensitivityResult, SimulationResult

JOINT = dk.Scenario("joint", {"staff": dk.shift(1), "speed": dk.gap_close(0.3)}, cost=3e5)


def _render(result):
    text = result.summary()
    assert result.title in text
    assert isinstance(result._repr_html_(), str) and isinstance(result.to_latex(), str)
    assert isinstance(result.plot_data(), pd.DataFrame)
    ax = result.plot()
    assert hasattr(ax, "get_title")
    plt.close("all")
    return text


def test_simulation_result_renders_and_plots(sim):
    res = sim.run([JOINT, dk.Scenario("cut", {"price": dk.shift(-1)}, cost=-1e5)], draws=50,
                  seed=0)
    assert isinstance(res, SimulationResult)
    text = _render(res)
    assert "Causal caveat" in text
    for c in ("delta_rate", "delta_customers", "delta_revenue", "delta_profit", "roi"):
        assert {c, f"{c}_low", f"{c}_high"} <= set(res.table.columns)
    # one scenario: the waterfall baseline -> each driver -> interaction -> scenario
    wf = res.plot_data(scenario="joint")
    assert list(wf["step"]) == ["baseline", "staff", "speed", "interaction", "scenario"]
    assert wf["value"].iloc[0] == res.table.loc["joint", "baseline_rate"]
    assert wf["value"].iloc[1:-1].sum() + wf["value"].iloc[0] == pytest.approx(
        wf["value"].iloc[-1])
    ax = res.plot(scenario="joint")
    assert len(ax.patches) == 5
    plt.close("all")
    single = sim.run(JOINT, draws=20, seed=0)
    _render(single)


def test_guardrails(fitted, survey):
    sim = dk.Simulator(fitted, survey)
    res = sim.run(JOINT, draws=10, seed=0)
    d = res.diagnostics.set_index("driver")
    x = survey["staff"]
    assert d.loc["staff", "share_at_ceiling"] == pytest.approx(np.mean(x == 10))
    assert d.loc["staff", "share_at_floor"] == pytest.approx(np.mean(x == 1))
    assert d.loc["staff", "share_moved"] == pytest.approx(np.mean(x < 10))
    assert d.loc["staff", "mean_after"] == pytest.approx(np.minimum(x + 1, 10).mean())
    assert d.loc["staff", "vif"] == pytest.approx(fitted.vif["staff"], rel=1e-10)
    assert d.loc["staff", "share_beyond_observed"] == 0.0
    assert any(n.startswith("Causal caveat") for n in res.notes)
    # ratings observed only up to 8: a raise moves respondents beyond the observed range
    low = survey.assign(staff=np.minimum(survey["staff"], 8))
    with pytest.warns(dk.ExtrapolationWarning, match="outside the observed range of 'staff'"):
        r = dk.Simulator(fitted, low).run({"staff": dk.shift(1)}, draws=0)
    share = r.diagnostics["share_beyond_observed"].iloc[0]
    assert share == pytest.approx(np.mean(low["staff"] == 8))
    quiet = dk.Simulator(fitted, low, extrapolation_threshold=0.99)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", dk.ExtrapolationWarning)
        quiet.run({"staff": dk.shift(1)}, draws=0)
    # a ceiling note when many cannot improve
    top = survey.assign(staff=np.where(np.arange(len(survey)) % 2 == 0, 10, survey["staff"]))
    notes = dk.Simulator(fitted, top).run({"staff": dk.shift(1)}, draws=0).notes
    assert any("already rate 'staff' at the top of its scale" in n for n in notes)


def test_sensitivity_curves(sim):
    res = sim.sensitivity(steps=[-2, -1, 0, 1, 2], draws=100, seed=0)
    assert isinstance(res, SensitivityResult)
    t = res.table
    assert len(t) == 3 * 5 and list(t.columns[:3]) == ["driver", "step", "mean_after"]
    for _, g in t.groupby("driver"):
        v = g.sort_values("step")["delta_rate"].to_numpy()
        assert (np.diff(v) > 0).all()
        assert g.loc[g["step"] == 0, "delta_rate"].iloc[0] == 0.0
    one = t[(t["driver"] == "staff") & (t["step"] == 1)]
    assert one["delta_rate"].iloc[0] == sim.value({"staff": dk.shift(1)}, "rate")
    assert res.meta["column"] == "delta_revenue"
    _render(res)
    assert list(sim.sensitivity(["price"], draws=0).table["step"]) == [-2, -1, 0, 1, 2]


def test_priority_table(sim, survey):
    res = sim.priority(draws=100, seed=0)
    assert isinstance(res, PriorityResult)
    t = res.table
    assert list(t.index) == ["staff", "speed", "price"]
    assert t.loc["price", "performance"] == pytest.approx(survey["price"].mean())
    assert t.loc["price", "performance_100"] == pytest.approx(
        100 * (survey["price"].mean() - 1) / 9)
    assert t.loc["staff", "impact"] == sim.value({"staff": dk.shift(1)}, "revenue")
    assert (t["impact_low"] <= t["impact"]).all() and (t["impact"] <= t["impact_high"]).all()
    assert set(t["quadrant"]) <= {"fix first", "maintain", "low priority", "possible overkill"}
    _render(res)


def test_impact_result(sim):
    res = sim.impact(points=5, draws=50, seed=0)
    assert list(res.table["driver"]) == ["staff", "speed", "price"]
    assert (res.table["shift"] == 0.45).all()
    _render(res)
