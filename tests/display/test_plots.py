"""Every chart type renders on Agg and draws the data it was given."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from driverkit.display import _plots as P
from driverkit.exceptions import DataError


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _bar_widths(ax):
    return [p.get_width() for p in ax.patches]


def test_importance_bars_sorted_coloured_by_stage_with_whiskers():
    t = pd.DataFrame({"importance": [0.05, 0.30, 0.12],
                      "ci_low": [0.01, 0.22, 0.08], "ci_high": [0.09, 0.37, 0.15]},
                     index=["price", "staff", "wait"])
    stages = {"staff": "Store", "wait": "Store", "price": "Checkout"}
    ax = P.importance_bars(t, stages=stages, title="Importance")
    # largest on top (matplotlib counts y upwards)
    assert [x.get_text() for x in ax.get_yticklabels()] == ["price", "wait", "staff"]
    np.testing.assert_allclose(_bar_widths(ax), [0.05, 0.12, 0.30])
    colors = [matplotlib.colors.to_hex(p.get_facecolor()) for p in ax.patches]
    assert colors[1] == colors[2] != colors[0]  # wait and staff share the Store colour
    assert {t.get_text() for t in ax.get_legend().get_texts()} == {"Store", "Checkout"}
    seg = ax.collections[0].get_segments()  # whiskers: [(low, y), (high, y)] per bar
    np.testing.assert_allclose([[s[0][0], s[1][0]] for s in seg],
                               [[0.01, 0.09], [0.08, 0.15], [0.22, 0.37]])


def test_importance_bars_stage_column_and_missing_value_column():
    t = pd.DataFrame({"importance": [0.2, 0.1], "stage": ["A", np.nan]}, index=["x", "y"])
    ax = P.importance_bars(t)
    colors = [matplotlib.colors.to_hex(p.get_facecolor()) for p in ax.patches]
    assert colors[0] == P.GREY.lower()  # y has no stage
    with pytest.raises(DataError, match="importance"):
        P.importance_bars(pd.DataFrame({"share": [1.0]}))


def test_dominance_lines_one_line_per_driver():
    c = pd.DataFrame([[0.3, 0.25, 0.2], [0.1, 0.12, 0.15]], index=["a", "b"], columns=[0, 1, 2])
    ax = P.dominance_lines(c)
    lines = ax.get_lines()
    assert [ln.get_label() for ln in lines] == ["a", "b"]
    np.testing.assert_allclose(lines[1].get_ydata(), [0.1, 0.12, 0.15])
    np.testing.assert_allclose(lines[0].get_xdata(), [0, 1, 2])


def test_priority_matrix_quadrants_labels_and_intervals():
    t = pd.DataFrame({"performance": [5.5, 8.7, 6.0, 8.9],
                      "impact": [900.0, 800.0, 100.0, 50.0],
                      "impact_low": [700.0, 600.0, 20.0, -10.0],
                      "impact_high": [1100.0, 1000.0, 180.0, 110.0]},
                     index=["wait", "staff", "app", "parking"])
    from driverkit.simulate._result import priority_quadrants

    q = priority_quadrants(t)
    assert q.to_dict() == {"wait": "fix first", "staff": "maintain", "app": "low priority",
                           "parking": "possible overkill"}
    ax = P.priority_matrix(t, xlabel="mean rating", ylabel="Δrevenue per +1 point")
    texts = {t.get_text() for t in ax.texts}
    assert set(P.QUADRANT_LABELS.values()) <= texts
    assert {"wait", "staff", "app", "parking"} <= texts
    offsets = ax.collections[-1].get_offsets()
    np.testing.assert_allclose(offsets, t[["performance", "impact"]].to_numpy())
    seg = ax.collections[0].get_segments()
    np.testing.assert_allclose([[s[0][1], s[1][1]] for s in seg],
                               t[["impact_low", "impact_high"]].to_numpy())
    assert ax.get_xlabel() == "mean rating"


def test_scenario_waterfall_ends_at_the_joint_result():
    steps = pd.Series({"staff": 0.03, "price": -0.01})
    ax = P.scenario_waterfall(steps, baseline=0.6, total=0.625)
    labels = [x.get_text() for x in ax.get_xticklabels()]
    assert labels == ["baseline", "staff", "price", "interaction", "scenario"]
    heights = [p.get_height() for p in ax.patches]
    bottoms = [p.get_y() for p in ax.patches]
    np.testing.assert_allclose(heights, [0.6, 0.03, -0.01, 0.005, 0.625], atol=1e-12)
    np.testing.assert_allclose(bottoms[1:4], [0.6, 0.63, 0.62], atol=1e-12)
    assert ax.get_ylim()[0] > 0.5  # zoomed in on the steps, not 0..0.63
    ax2 = P.scenario_waterfall(pd.DataFrame({"delta": [1.0, 2.0]}, index=["a", "b"]))
    assert [x.get_text() for x in ax2.get_xticklabels()][-1] == "scenario"
    assert ax2.patches[-1].get_height() == pytest.approx(3.0)


def test_sensitivity_curves_one_curve_per_driver_with_bands():
    steps = [-2, -1, 0, 1, 2]
    f = pd.DataFrame({"driver": ["a"] * 5 + ["b"] * 5, "step": steps * 2,
                      "delta_rate": [0.02 * s for s in steps] + [0.01 * s for s in steps]})
    f["delta_rate_low"] = f["delta_rate"] - 0.005
    f["delta_rate_high"] = f["delta_rate"] + 0.005
    ax = P.sensitivity_curves(f)
    curves = [ln for ln in ax.get_lines() if ln.get_label() in ("a", "b")]
    assert len(curves) == 2
    np.testing.assert_allclose(curves[0].get_ydata(), [0.02 * s for s in steps])
    assert len(ax.collections) == 2  # the two bands


def test_budget_frontier_with_interval_and_savings_side():
    f = pd.DataFrame({"budget": [-20, 0, 10, 20], "value": [-5.0, 0.0, 25.0, 35.0],
                      "value_low": [-8.0, 0.0, 20.0, 28.0], "value_high": [-2.0, 0, 30, 41]})
    ax = P.budget_frontier(f)
    line = ax.get_lines()[0]
    np.testing.assert_allclose(line.get_ydata(), f["value"])
    # the shaded band and a whisker at every optimised budget
    assert len(ax.collections) == 2
    assert any(len(ln.get_xdata()) == 2 and np.allclose(ln.get_xdata(), [0, 0])
               for ln in ax.get_lines()[1:])


def test_penalty_reward_chart_signs_and_kano_labels():
    t = pd.DataFrame({"penalty": [-0.30, -0.05, -0.10], "reward": [0.05, 0.25, 0.10],
                      "kano_class": ["basic", "excitement", "performance"]},
                     index=["clean", "staff", "price"])
    ax = P.penalty_reward_chart(t)
    labels = [x.get_text() for x in ax.get_yticklabels()]
    assert labels[-1] == "clean (basic)"  # largest leverage on top
    widths = _bar_widths(ax)
    n = len(t)
    assert all(w <= 0 for w in widths[:n]) and all(w >= 0 for w in widths[n:])
    assert sorted(widths[:n]) == sorted(t["penalty"])


def test_table_bar_fallback():
    ax = P.table_bar(pd.DataFrame({"x": [3.0, 1.0]}, index=["a", "b"]), ax=P.get_ax())
    np.testing.assert_allclose(_bar_widths(ax), [1.0, 3.0])
    with pytest.raises(ValueError, match="Nothing numeric"):
        P.table_bar(pd.DataFrame({"x": ["a"]}), ax=P.get_ax())


def test_palette_is_okabe_ito():
    assert P.PALETTE[:3] == ["#0072B2", "#E69F00", "#009E73"]
    assert P.stage_colors(["b", "a", "b"]) == {"b": P.PALETTE[0], "a": P.PALETTE[1]}
