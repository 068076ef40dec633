"""Segment and wave comparisons: tests hold their level on null data, detect true changes."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import driverkit as dk
from driverkit.cx._common import bh_fdr
from driverkit.exceptions import DataError, DriverkitError


def _null(seed, n=300):
    rng = np.random.default_rng(seed)
    h = rng.normal(size=n)
    X = 5 + 1.2 * h[:, None] + rng.normal(0, 1.2, (n, 3))
    y = 0.5 * X[:, 0] + 0.3 * X[:, 1] + 0.2 * X[:, 2] + rng.normal(0, 1, n)
    return pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "c": X[:, 2], "y": y,
                         "seg": rng.choice(["A", "B"], n)})


@pytest.mark.slow  # a study: 200 null data sets × 50 bootstrap replicates
def test_segment_tests_hold_nominal_level_on_null_data():
    """200 null datasets x 3 drivers: false-positive rate of the tests ~ 5 %."""
    p_imp, p_coef = [], []
    for s in range(200):
        res = dk.compare_segments(_null(s), "y", ["a", "b", "c"], "seg", bootstrap=50, seed=s)
        t = res.table.xs("A", level="segment")
        p_imp += list(t["p_value"])
        p_coef += list(t["coef_p_value"])
    rate_coef = np.mean(np.array(p_coef) < 0.05)
    rate_imp = np.mean(np.array(p_imp) < 0.05)
    # binomial sd of a 5 % rate over 600 tests is 0.9 %
    assert 0.025 <= rate_coef <= 0.08
    assert 0.015 <= rate_imp <= 0.10
    # p-values of the coefficient test are roughly uniform
    assert stats.kstest(p_coef, "uniform").pvalue > 0.001


def test_segments_against_direct_computation():
    df = dk.make_survey(n=2000, n_drivers=4, kind="linear", seed=2)
    d = df.attrs["truth"]["drivers"]
    res = dk.compare_segments(df, "satisfaction", d, "segment", weights="weight",
                              bootstrap=60, seed=3)
    t = res.table
    assert t.index.names == ["driver", "segment"]
    assert len(t) == 4 * len(d)
    seg = "Premium"
    m = df["segment"] == seg
    own = dk.importance(df[m], "satisfaction", d, weights=df.loc[m, "weight"].to_numpy())
    rest = dk.importance(df[~m], "satisfaction", d, weights=df.loc[~m, "weight"].to_numpy())
    row = t.xs(seg, level="segment")
    assert np.allclose(row["importance"], own.table["importance"])
    assert np.allclose(row["rest_importance"], rest.table["importance"])
    assert np.allclose(row["difference"], own.table["importance"] - rest.table["importance"])
    z = row["difference"] / np.sqrt(row["std_error"] ** 2 + (
        (row["ci_high"] - row["ci_low"]) / (2 * 1.959964)) ** 2 - row["std_error"] ** 2)
    assert np.allclose(2 * stats.norm.sf(np.abs(z)), row["p_value"], rtol=1e-4)
    fit_s = dk.fit(df[m], "satisfaction", d, weights=df.loc[m, "weight"].to_numpy())
    fit_r = dk.fit(df[~m], "satisfaction", d, weights=df.loc[~m, "weight"].to_numpy())
    assert np.allclose(row["coef_difference"],
                       fit_s.params[d].to_numpy() - fit_r.params[d].to_numpy())
    assert np.allclose(t["q_value"], bh_fdr(t["p_value"].to_numpy()))
    assert set(res.results) == set(df["segment"])
    assert res.plot().has_data()
    assert "Premium" in res.summary()


def test_segments_detect_a_true_slope_difference():
    df = dk.make_survey(n=3000, n_drivers=5, kind="linear", seed=4, asymmetric=False,
                        segment_slopes={"Premium": {"price_value": 0.25}})
    d = df.attrs["truth"]["drivers"]
    t = dk.compare_segments(df, "satisfaction", d, "segment", bootstrap=100, seed=1).table
    assert t.loc[("price_value", "Premium"), "significant"]
    assert t.loc[("price_value", "Premium"), "difference"] > 0
    assert t.loc[("price_value", "Premium"), "coef_q_value"] < 0.001
    # it is the clearest difference of all (segment-vs-rest pools the other segments, so
    # other rows can differ a little too)
    assert t["coef_q_value"].idxmin() == ("price_value", "Premium")
    assert t["q_value"].idxmin() == ("price_value", "Premium")


def test_two_segments_count_each_test_once():
    res = dk.compare_segments(_null(1), "y", ["a", "b", "c"], "seg", bootstrap=50, seed=1)
    t = res.table
    a, b = t.xs("A", level="segment"), t.xs("B", level="segment")
    assert np.allclose(a["difference"], -b["difference"])
    assert np.allclose(a["q_value"], b["q_value"])
    assert np.allclose(a["q_value"], bh_fdr(a["p_value"].to_numpy()))


def test_small_segment_warns_and_tiny_segment_errors():
    df = _null(2, n=400)
    df.loc[df.index[:20], "seg"] = "C"
    with pytest.warns(dk.SmallSampleWarning, match=r"'C' \(20 respondents\)"):
        dk.compare_segments(df, "y", ["a", "b", "c"], "seg", bootstrap=50, seed=1)
    df.loc[df.index[:400], "seg"] = "A"
    df.loc[df.index[:4], "seg"] = "D"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dk.SmallSampleWarning)
        with pytest.raises(DataError, match="'D' has only 4 respondents"):
            dk.compare_segments(df, "y", ["a", "b", "c"], "seg", bootstrap=50, seed=1)


def test_segment_bad_input():
    df = _null(3)
    with pytest.raises(DataError, match="at least 2 distinct"):
        dk.compare_segments(df.assign(seg="A"), "y", ["a", "b"], "seg")
    with pytest.raises(DriverkitError, match="bootstrap"):
        dk.compare_segments(df, "y", ["a", "b"], "seg", bootstrap=10)
    with pytest.raises(DriverkitError, match=r"unexpected keyword.*'groupz'"):
        dk.compare_segments(df, "y", ["a", "b"], "seg", groupz={})
    with pytest.raises(DriverkitError, match="method='all'"):
        dk.compare_segments(df, "y", ["a", "b"], "seg", method="all")
    with pytest.raises(dk.ColumnNotFoundError, match="sgment"):
        dk.compare_segments(df, "y", ["a", "b"], "sgment")
    with pytest.raises(DataError, match="missing"):
        dk.compare_segments(df.assign(seg=df["seg"].where(df.index > 3)), "y", ["a"], "seg")


# ------------------------------------------------------------------------------ waves
@pytest.fixture(scope="module")
def waves_result(survey_linear):
    d = survey_linear.attrs["truth"]["drivers"]
    return dk.compare_waves(survey_linear, "satisfaction", d, "wave", weights="weight",
                            bootstrap=100, seed=2)


def test_waves_recover_known_performance_changes(survey_linear, waves_result):
    truth = survey_linear.attrs["truth"]["waves"]["expected_mean_change"]
    t = waves_result.table
    assert t.index.names == ["driver", "wave"]
    assert list(t.xs("delivery_speed", level="driver").index) == [1, 2, 3]
    # the known fall of delivery speed in wave 2 (vs wave 1) is found and significant
    row = t.loc[("delivery_speed", 2)]
    assert row["performance_change_low"] <= truth["2"]["delivery_speed"]
    assert truth["2"]["delivery_speed"] <= row["performance_change_high"]
    assert row["performance_q_value"] < 0.01
    # drivers with no change in a wave mostly stay non-significant
    changed = {(d, int(w)) for w, v in truth.items() for d in v} | {
        (d, 3) for d in truth["2"]}
    rest = t.dropna(subset=["performance_p_value"])
    rest = rest[[(d, w) not in changed for d, w in rest.index]]
    assert (rest["performance_q_value"] < 0.05).mean() <= 0.1


def test_waves_columns_and_first_wave_baseline(survey_linear, waves_result):
    t = waves_result.table
    first = t.xs(1, level="wave")
    assert first["difference"].isna().all() and first["p_value"].isna().all()
    assert not first["rank_change_within_noise"].any()
    later = t.xs(2, level="wave")
    assert later[["difference", "ci_low", "ci_high", "p_value", "q_value"]].notna().all().all()
    m = survey_linear["wave"] == 2
    w = survey_linear.loc[m, "weight"]
    assert later.loc["price_value", "performance"] == pytest.approx(
        np.average(survey_linear.loc[m, "price_value"], weights=w))
    # within-noise flag: rank moved and the importance change is not significant
    moved = later["rank_change"] != 0
    assert (later["rank_change_within_noise"] == (moved & ~(later["q_value"] < 0.05))).all()
    assert any("baseline" in n for n in waves_result.notes)
    assert waves_result.plot().has_data()


def test_waves_detect_a_true_importance_change():
    df = dk.make_survey(n=3000, n_drivers=5, kind="linear", waves=2, seed=7, asymmetric=False,
                        wave_slopes={2: {"price_value": 0.3}})
    d = df.attrs["truth"]["drivers"]
    t = dk.compare_waves(df, "satisfaction", d, "wave", bootstrap=100, seed=1).table
    row = t.loc[("price_value", 2)]
    assert row["difference"] > 0 and row["q_value"] < 0.01
    assert not row["rank_change_within_noise"]


def test_waves_reference_first_and_dates():
    df = dk.make_survey(n=1500, n_drivers=3, kind="linear", waves=3, seed=8)
    d = df.attrs["truth"]["drivers"]
    res = dk.compare_waves(df, "satisfaction", d, "wave", reference="first", bootstrap=50,
                           seed=1)
    t = res.table
    assert np.allclose(t.xs(3, level="wave")["difference"],
                       t.xs(3, level="wave")["importance"] - t.xs(1, level="wave")["importance"])
    dates = pd.to_datetime("2025-01-15") + pd.to_timedelta(
        (df["wave"] - 1) * 91 + np.arange(len(df)) % 20, unit="D")
    by_q = dk.compare_waves(df.assign(when=dates), "satisfaction", d, "when", freq="Q",
                            bootstrap=50, seed=1)
    assert len(by_q.table.index.get_level_values("wave").unique()) == 3
    with pytest.raises(DataError, match="freq="):
        dk.compare_waves(df.assign(when=dates), "satisfaction", d, "when", bootstrap=50)


def test_wave_with_fewer_than_30_respondents_warns():
    df = dk.make_survey(n=600, n_drivers=3, kind="linear", waves=2, seed=9)
    df.loc[df.index[:25], "wave"] = 3
    d = df.attrs["truth"]["drivers"]
    with pytest.warns(dk.SmallSampleWarning, match=r"wave\(s\) 3 \(25 respondents\).*fewer "
                                                   r"than 30"):
        dk.compare_waves(df, "satisfaction", d, "wave", bootstrap=50, seed=1)


def test_wave_bad_input():
    df = dk.make_survey(n=600, n_drivers=3, kind="linear", waves=2, seed=9)
    d = df.attrs["truth"]["drivers"]
    with pytest.raises(DriverkitError, match="reference"):
        dk.compare_waves(df, "satisfaction", d, "wave", reference="last")
    with pytest.raises(DriverkitError, match="holds no dates"):
        dk.compare_waves(df, "satisfaction", d, "wave", freq="Q")
    with pytest.raises(DataError, match="at least 2 distinct"):
        dk.compare_waves(df.assign(wave=1), "satisfaction", d, "wave")


def test_segments_logit_outcome():
    df = dk.make_survey(n=2000, n_drivers=4, seed=12, chain=False)
    d = df.attrs["truth"]["drivers"]
    res = dk.compare_segments(df, "repurchase", d, "segment", kind="logit", bootstrap=50,
                              seed=1)
    assert res.table[["importance", "p_value", "coef_p_value"]].notna().all().all()
