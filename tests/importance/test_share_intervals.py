"""Share intervals are percentiles of the bootstrap shares (issue 13).

The CLI used to divide the importance interval by the point total, which is too wide and
reached 196 % on a real survey.
"""

import numpy as np
import pytest

import driverkit as dk

DRV = ["website_ease", "price_value", "checkout_speed", "staff_friendliness",
       "delivery_speed"]


@pytest.fixture(scope="module")
def res():
    df = dk.load_demo().iloc[:300]
    return dk.importance(df, "satisfaction", DRV, bootstrap=120, seed=3)


def test_share_interval_is_the_percentile_interval_of_replicate_shares(res):
    reps = res.replicates.to_numpy()
    shares = reps / reps.sum(axis=1, keepdims=True) * 100
    lo, hi = np.quantile(shares, [0.025, 0.975], axis=0)
    np.testing.assert_allclose(res.table["share_low"], lo, rtol=1e-12)
    np.testing.assert_allclose(res.table["share_high"], hi, rtol=1e-12)
    assert (res.table["share_low"] >= 0).all() and (res.table["share_high"] <= 100).all()


def test_cli_driver_table_uses_the_share_percentiles(res):
    from driverkit.report._pipeline import AnalysisOutput

    out = AnalysisOutput(model=None, importance=res, importance_outcome="satisfaction")
    t = out.driver_table()
    np.testing.assert_array_equal(t.loc[res.table.index, "share_low"], res.table["share_low"])


def test_single_dominant_driver_share_never_above_100():
    rng = np.random.default_rng(0)
    import pandas as pd

    n = 40
    df = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    df["y"] = df["a"] + rng.normal(size=n)
    r = dk.importance(df, "y", ["a", "b"], bootstrap=80, seed=1)
    t = r.table
    assert t["share_high"].max() <= 100.0
    # the old scaling (importance interval / point total) passes 100 %
    assert (t["ci_high"] * 100 / t["importance"].sum()).max() > 100.0
    assert r.table.loc["a", "share_low"] > 50


def test_report_summary_quotes_the_share_interval(res, tmp_path):
    pytest.importorskip("jinja2")
    files = dk.report(res, path=tmp_path / "r.html", excel=False)
    text = files.html.read_text(encoding="utf-8")
    top = res.table["importance"].idxmax()
    lo, hi = res.table.loc[top, ["share_low", "share_high"]]
    assert f"interval {lo:.1f}% to {hi:.1f}%" in text
