"""dk.nps, the ordered-logit NPS model and NPS predictions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import driverkit as dk
from driverkit.cx import predicted_nps
from driverkit.cx._nps import nps_scores
from driverkit.exceptions import DataError, MissingDataWarning


def _direct(y, w):
    w = np.asarray(w, float) / np.sum(w)
    s = np.where(y >= 9, 1.0, np.where(y <= 6, -1.0, 0.0))
    value = 100 * np.sum(w * s)
    n_eff = 1.0 / np.sum(w**2)
    var = np.sum(w * s**2) - np.sum(w * s) ** 2
    return value, 100 * np.sqrt(var / n_eff)


def test_nps_against_direct_computation_unweighted():
    df = dk.make_survey(n=1500, seed=3)
    res = dk.nps(df, "recommend")
    y = df["recommend"].to_numpy()
    value, se = _direct(y, np.ones(len(y)))
    assert res.value == pytest.approx(value, abs=1e-10)
    assert res.std_error == pytest.approx(se, rel=1e-10)
    pp, pd_ = np.mean(y >= 9), np.mean(y <= 6)
    assert res.value == pytest.approx(100 * (pp - pd_), abs=1e-10)
    assert res.table.loc["promoters", "share"] == pytest.approx(100 * pp)
    assert res.table.loc["detractors", "n"] == int(np.sum(y <= 6))
    assert res.table["share"].sum() == pytest.approx(100.0)
    assert res.ci_low == pytest.approx(value - 1.959964 * se, abs=1e-4)
    assert res.n == 1500 and res.n_effective == pytest.approx(1500)


def test_nps_against_direct_computation_weighted():
    df = dk.make_survey(n=1500, seed=4)
    res = dk.nps(df, "recommend", weights="weight", ci=0.9)
    y, w = df["recommend"].to_numpy(), df["weight"].to_numpy()
    value, se = _direct(y, w)
    assert res.value == pytest.approx(value, abs=1e-10)
    assert res.std_error == pytest.approx(se, rel=1e-10)
    n_eff = w.sum() ** 2 / np.sum(w**2)
    assert res.n_effective == pytest.approx(n_eff)
    assert res.n_effective < res.n
    assert res.ci_high - res.value == pytest.approx(1.644854 * se, rel=1e-5)
    # weights given as an array give the same
    assert dk.nps(df, "recommend", weights=w).value == pytest.approx(res.value)


def test_nps_se_matches_monte_carlo():
    rng = np.random.default_rng(1)
    p = np.array([0.2, 0.3, 0.5])  # detractor, passive, promoter
    vals = np.array([3, 7, 10])
    sims = [100 * (np.mean(v == 10) - np.mean(v == 3))
            for v in (rng.choice(vals, 400, p=p) for _ in range(2000))]
    res = dk.nps(pd.DataFrame({"r": rng.choice(vals, 400, p=p)}), "r")
    assert res.std_error == pytest.approx(np.std(sims), rel=0.1)


def test_nps_small_example_and_rendering():
    df = pd.DataFrame({"ltr": [10, 9, 8, 7, 6, 3, 10, 9]})
    res = dk.nps(df, "ltr")
    assert res.value == 25.0
    assert float(res) == 25.0
    assert "promoters" in res.summary() and "NPS" in res.summary()
    ax = res.plot()
    assert ax.has_data()


def test_nps_recommend_outside_0_10_is_an_error():
    df = pd.DataFrame({"ltr": [10, 9, 11, 3]})
    with pytest.raises(DataError, match=r"'ltr'.*0 to 10.*11"):
        dk.nps(df, "ltr")
    with pytest.raises(DataError, match="whole numbers"):
        dk.nps(pd.DataFrame({"ltr": [1.5, 9.0]}), "ltr")
    with pytest.raises(DataError, match="-1"):
        dk.nps(pd.DataFrame({"ltr": [-1, 9]}), "ltr")
    with pytest.raises(DataError, match="text"):
        dk.nps(pd.DataFrame({"ltr": ["high", "low"]}), "ltr")
    with pytest.raises(dk.ColumnNotFoundError, match="recomend"):
        dk.nps(pd.DataFrame({"recommend": [1]}), "recomend")


def test_nps_missing_values_warn_and_are_dropped():
    df = pd.DataFrame({"ltr": [10, 9, np.nan, 3]})
    with pytest.warns(MissingDataWarning, match="1 respondent"):
        res = dk.nps(df, "ltr")
    assert res.n == 3
    assert res.value == pytest.approx(100 * (2 / 3 - 1 / 3))


def test_nps_does_not_mutate_input():
    df = dk.make_survey(n=200, seed=1)
    before = df.copy()
    dk.nps(df, "recommend", weights="weight")
    pd.testing.assert_frame_equal(df, before)


def test_nps_scores_map_levels():
    assert nps_scores(list(range(11))).tolist() == [-1] * 7 + [0, 0] + [1, 1]
    assert nps_scores(["detractor", "passive", "promoter"]).tolist() == [-1, 0, 1]
    with pytest.raises(dk.DriverkitError, match="promoter"):
        nps_scores(["low", "high"])


def test_nps_model_predicts_the_observed_nps():
    df = dk.make_survey(n=3000, seed=8)
    drivers = df.attrs["truth"]["drivers"][:6]
    for cats in (11, 3):
        m = dk.nps_model(df, "recommend", drivers, categories=cats)
        assert m.kind == "ordinal"
        pred = predicted_nps(m, df)
        # ordered logit with intercept-like cuts reproduces the marginal shares closely
        assert pred.mean() == pytest.approx(dk.nps(df, "recommend").value, abs=1.5)
        assert (m.table.loc[drivers, "estimate"] > 0).sum() >= 4


def test_nps_model_bad_options():
    df = dk.make_survey(n=300, seed=8)
    with pytest.raises(dk.DriverkitError, match="categories"):
        dk.nps_model(df, "recommend", ["price_value"], categories=5)
    with pytest.raises(DataError, match="0 to 10"):
        dk.nps_model(df.assign(recommend=df.recommend + 1), "recommend", ["price_value"])
