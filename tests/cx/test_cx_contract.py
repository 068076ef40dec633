"""The shared result contract (see tests/report/test_report_contract.py) for the CX results.

``BUILDERS`` here are the builders to register in the report contract test.
"""

from __future__ import annotations

import html as _html
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest

import driverkit as dk
from driverkit._results import Result


@pytest.fixture(scope="module")
def cx_ctx():
    df = dk.make_survey(n=1200, n_drivers=5, kind="linear", seed=31, stated=True, waves=2)
    return {"df": df, "drivers": df.attrs["truth"]["drivers"]}


def _nps(ctx):
    return dk.nps(ctx["df"], "recommend", weights="weight"), ["share", "std_error", "ci_low",
                                                              "ci_high", "n"]


def _penalty_reward(ctx):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dk.SmallSampleWarning)
        res = dk.penalty_reward(ctx["df"], "satisfaction", ctx["drivers"])
    return res, ["penalty", "reward", "kano_class", "p_value"]


def _chain(ctx):
    return (dk.chain(ctx["df"], "repurchase", ctx["drivers"], mediator="satisfaction", seed=1),
            ["direct", "indirect", "total", "total_low", "total_high"])


def _stages(ctx):
    return (dk.stage_importance(ctx["df"], "satisfaction", ctx["df"].attrs["truth"]["stages"]),
            ["stage", "stage_importance", "importance", "share"])


def _segments(ctx):
    return (dk.compare_segments(ctx["df"], "satisfaction", ctx["drivers"], "segment",
                                bootstrap=50, seed=1),
            ["importance", "difference", "ci_low", "ci_high", "p_value", "q_value"])


def _waves(ctx):
    return (dk.compare_waves(ctx["df"], "satisfaction", ctx["drivers"], "wave", bootstrap=50,
                             seed=1),
            ["importance", "difference", "ci_low", "ci_high", "p_value", "q_value"])


def _stated(ctx):
    return (dk.stated_vs_derived(ctx["df"], "satisfaction", ctx["drivers"], "imp_{}"),
            ["stated", "derived", "stated_rank", "derived_rank", "gap"])


def _delta_nps(ctx):
    df = ctx["df"]
    m = dk.nps_model(df, "recommend", ctx["drivers"], categories=3)
    return (dk.delta_nps(m, df, dk.Scenario("price +1", {"price_value": dk.shift(1)}),
                         draws=100, seed=1),
            ["baseline_nps", "scenario_nps", "delta_nps", "delta_nps_low", "delta_nps_high"])


BUILDERS = {
    "DeltaNPSResult": _delta_nps,
    "NPSResult": _nps,
    "PenaltyRewardResult": _penalty_reward,
    "ChainResult": _chain,
    "StageImportanceResult": _stages,
    "SegmentComparison": _segments,
    "WaveComparison": _waves,
    "StatedDerivedResult": _stated,
}


def test_every_cx_result_class_has_a_builder():
    import driverkit.cx as cx

    classes = {getattr(cx, n).__name__ for n in cx.__all__
               if isinstance(getattr(cx, n), type) and issubclass(getattr(cx, n), Result)}
    assert classes == set(BUILDERS)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_cx_result_contract(name, cx_ctx, tmp_path):
    result, required = BUILDERS[name](cx_ctx)
    assert isinstance(result, Result) and type(result).__name__ == name
    table = result.table
    assert isinstance(table, pd.DataFrame) and not table.empty
    assert set(required) <= set(table.columns)
    text = result.summary()
    assert result.title in text and repr(result) == text
    html = result._repr_html_()
    assert html.count("<table>") == 1
    for label in list(table.index)[:30]:
        # MultiIndex rows are shown as "driver / segment" by the shared renderer
        shown = " / ".join(map(str, label)) if isinstance(label, tuple) else str(label)
        assert shown in text
        assert _html.escape(shown) in html
    for note in result.notes:
        assert _html.escape(str(note)) in html
    assert isinstance(result.to_latex(), str)
    data = result.plot_data()
    assert isinstance(data, pd.DataFrame) and not data.empty
    ax = result.plot()
    assert isinstance(ax, matplotlib.axes.Axes) and ax.has_data()
    _fig, given = plt.subplots()
    assert result.plot(ax=given) is given
    plt.close("all")
    files = dk.report(result, path=tmp_path / "r.html")
    assert "Chart not drawn" not in files.html.read_text(encoding="utf-8")
