"""Penalty–reward analysis and Kano classes against the generator's truth."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import driverkit as dk
from driverkit.exceptions import DataError, DriverkitError, DriverkitTypeError


def _fit(df, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dk.SmallSampleWarning)
        return dk.penalty_reward(df, "satisfaction", df.attrs["truth"]["drivers"], **kw)


def test_penalty_reward_table_and_comparison(survey_linear):
    res = _fit(survey_linear)
    t = res.table
    assert {"penalty", "reward", "kano_class", "p_value"} <= set(t.columns)
    assert set(t["kano_class"]) <= {"basic", "performance", "excitement"}
    assert (t["penalty_low"] <= t["penalty"]).all() and (t["penalty"] <= t["penalty_high"]).all()
    assert list(res.comparison.index) == ["linear", "banded", "encompassing"]
    comp = res.comparison
    # the banded model is the generating one: it wins on AIC, the linear model is rejected
    assert comp.loc["banded", "aic"] < comp.loc["linear", "aic"]
    assert comp.loc["linear", "p_value"] < 1e-6
    assert comp.loc["banded", "lr_df"] == len(t)
    # band sizes add up to n
    assert ((t["low_n"] + t["middle_n"] + t["high_n"]) == res.meta["n"]).all()
    assert res.plot().has_data()
    assert "kano_class" in res.summary()


def test_penalty_reward_against_truth_coefficients(survey_linear):
    truth = survey_linear.attrs["truth"]["kano"]
    t = _fit(survey_linear).table
    for d, tr in truth.items():
        assert t.loc[d, "penalty_low"] - 0.05 < tr["penalty"] < t.loc[d, "penalty_high"] + 0.05
        assert t.loc[d, "reward_low"] - 0.05 < tr["reward"] < t.loc[d, "reward_high"] + 0.05


def test_wald_test_matches_direct_computation(survey_linear):
    res = _fit(survey_linear)
    m = res.model.inner
    V = m.cov_params
    d = "delivery_accuracy"
    lo, hi = f"{d}[low]", f"{d}[high]"
    est = m.params[lo] + m.params[hi]
    se = np.sqrt(V.loc[lo, lo] + V.loc[hi, hi] + 2 * V.loc[lo, hi])
    from scipy import stats

    assert res.table.loc[d, "p_value"] == pytest.approx(2 * stats.norm.sf(abs(est / se)))
    assert res.table.loc[d, "asymmetry"] == pytest.approx(est)


@pytest.mark.slow
def test_kano_classes_against_truth_over_seeds():
    """Asymmetric attributes are classed correctly in >= 90 % of 20 seeds at n = 3000."""
    correct: dict[str, int] = {}
    for seed in range(20):
        df = dk.make_survey(n=3000, kind="linear", seed=100 + seed)
        res = _fit(df)
        for d, tr in df.attrs["truth"]["kano"].items():
            if tr["class"] != "performance":
                correct[d] = correct.get(d, 0) + (res.table.loc[d, "kano_class"] == tr["class"])
    assert len(correct) >= 3
    for d, k in correct.items():
        assert k >= 18, f"{d}: {k}/20 correct"


@pytest.mark.slow  # a study over seeds
def test_performance_attributes_rarely_asymmetric():
    """Symmetric data: the asymmetry test keeps about its nominal level."""
    hits = total = 0
    for seed in range(4):
        df = dk.make_survey(n=1500, kind="linear", seed=200 + seed,
                            kano=dict.fromkeys(dk.make_survey(n=20).attrs["truth"]["drivers"],
                                               "performance"))
        t = _fit(df).table
        hits += int((t["kano_class"] != "performance").sum())
        total += len(t)
    assert hits / total <= 0.15


def test_logit_outcome_and_weights_run():
    df = dk.make_survey(n=2000, seed=3, chain=False)
    d = df.attrs["truth"]["drivers"][:5]
    res = dk.penalty_reward(df, "repurchase", d, kind="logit", weights="weight")
    assert res.meta["scale"] == "log-odds"
    assert res.model.kind == "logit"
    assert np.isfinite(res.table["p_value"]).all()


def test_per_driver_bands():
    df = dk.make_survey(n=1500, kind="linear", seed=3, n_drivers=3)
    d = df.attrs["truth"]["drivers"]
    bands = {d[0]: (5, 8), d[1]: (6, 8), d[2]: (6, 9)}
    res = _fit(df, bands=bands)
    assert res.bands[d[0]] == (5.0, 8.0)
    x = df[d[0]]
    assert res.table.loc[d[0], "low_n"] == int((x <= 5).sum())
    assert res.table.loc[d[2], "high_n"] == int((df[d[2]] > 9).sum())


def test_overlapping_bands_are_an_error():
    df = dk.make_survey(n=300, kind="linear", seed=3, n_drivers=3)
    d = df.attrs["truth"]["drivers"]
    with pytest.raises(DriverkitError, match=r"overlap.*\(8, 6\)"):
        dk.penalty_reward(df, "satisfaction", d, bands=(8, 6))
    with pytest.raises(DriverkitError, match="overlap"):
        dk.penalty_reward(df, "satisfaction", d, bands=(7, 7))
    with pytest.raises(DriverkitError, match=f"'{d[1]}'.*overlap"):
        dk.penalty_reward(df, "satisfaction", d, bands={d[0]: (6, 8), d[1]: (9, 8),
                                                        d[2]: (6, 8)})
    with pytest.raises(DriverkitTypeError, match="two numbers"):
        dk.penalty_reward(df, "satisfaction", d, bands=(6,))
    with pytest.raises(DriverkitError, match="no cut-offs"):
        dk.penalty_reward(df, "satisfaction", d, bands={d[0]: (6, 8)})


def test_empty_band_is_an_error_naming_the_driver():
    df = dk.make_survey(n=300, kind="linear", seed=3, n_drivers=3)
    d = df.attrs["truth"]["drivers"]
    with pytest.raises(DataError, match=f"high band of '{d[0]}' is empty"):
        dk.penalty_reward(df, "satisfaction", d, bands=(6, 10))


def test_thin_band_warns():
    df = dk.make_survey(n=300, kind="linear", seed=3, n_drivers=3)
    d = df.attrs["truth"]["drivers"]
    with pytest.warns(dk.SmallSampleWarning, match="fewer than 30"):
        dk.penalty_reward(df, "satisfaction", d, bands=(2, 8))


def test_banded_model_predicts_from_ratings(survey_linear):
    res = _fit(survey_linear)
    m = res.model
    pred = m.predict(survey_linear)
    assert pred.shape == (len(survey_linear),)
    assert np.allclose(pred, res.model.inner.result_.fittedvalues)
    # a cut into the low band of a basic attribute costs more than the same raise earns
    d = "delivery_accuracy"
    down = survey_linear.assign(**{d: np.clip(survey_linear[d] - 1, 1, 10)})
    up = survey_linear.assign(**{d: np.clip(survey_linear[d] + 1, 1, 10)})
    loss = pred.mean() - m.predict(down).mean()
    gain = m.predict(up).mean() - pred.mean()
    assert loss > 1.5 * gain > 0
    draws = m.draw_params(5, 1)
    assert m.predict_design(m.design(survey_linear), draws).shape == (5, len(survey_linear))


def test_penalty_reward_does_not_mutate_input():
    df = dk.make_survey(n=300, kind="linear", seed=3, n_drivers=3)
    before = df.copy()
    _fit(df)
    pd.testing.assert_frame_equal(df, before)
    assert "truth" in df.attrs
