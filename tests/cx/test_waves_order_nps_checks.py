"""Wave order and NPS input checks (issue 13).

Bugs fixed: ``compare_waves`` sorted labels as text ("Wave 10" before "Wave 9", so every
change flipped sign); ``nps()`` on a True/False column gave −100; one (effective) respondent
gave a zero-width interval.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

import driverkit as dk
from driverkit.cx._waves import order_waves


def _order(values, **kw):
    s = pd.Series(values)
    levels = list(dict.fromkeys(values))
    return order_waves(s, levels, kw.get("order"), "wave")


@pytest.mark.parametrize("labels, want, guessed", [
    (["Wave 10", "Wave 9", "Wave 11"], ["Wave 9", "Wave 10", "Wave 11"], True),
    (["W2", "W10", "W1"], ["W1", "W2", "W10"], True),
    (["Mar 2024", "Jan 2024", "Feb 2024"], ["Jan 2024", "Feb 2024", "Mar 2024"], True),
    ([10, 9, 2], [2, 9, 10], False),
])
def test_wave_order(labels, want, guessed):
    levels, _, g = _order(labels)
    assert levels == want and g is guessed


def test_ordered_categorical_and_explicit_order_are_not_guesses():
    s = pd.Series(pd.Categorical(["late", "early"], categories=["early", "late"], ordered=True))
    assert order_waves(s, ["early", "late"], None, "wave")[::2] == (["early", "late"], False)
    levels, _how, g = _order(["b", "a"], order=["b", "a"])
    assert levels == ["b", "a"] and not g
    with pytest.raises(dk.DataError, match="does not list"):
        _order(["b", "a", "c"], order=["b", "a"])


@pytest.fixture(scope="module")
def two_waves():
    df = dk.make_survey(n=600, n_drivers=3, kind="linear", waves=2, seed=5)
    return df, df.attrs["truth"]["drivers"]


def test_compare_waves_with_text_labels_matches_numeric_waves(two_waves):
    df, drv = two_waves
    num = dk.compare_waves(df, "satisfaction", drv, "wave", bootstrap=50, seed=1)
    text = df.assign(wave=df["wave"].map({1: "Wave 9", 2: "Wave 10"}))
    with pytest.warns(dk.WaveOrderWarning, match="Wave 9 < Wave 10"):
        res = dk.compare_waves(text, "satisfaction", drv, "wave", bootstrap=50, seed=1)
    assert res.meta["baseline"] == "Wave 9"
    a = num.table.xs(2, level="wave")["difference"]
    b = res.table.xs("Wave 10", level="wave")["difference"]
    np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), rtol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("error", dk.WaveOrderWarning)
        dk.compare_waves(text, "satisfaction", drv, "wave", bootstrap=50, seed=1,
                         order=["Wave 9", "Wave 10"])


def test_nps_refuses_true_false_and_warns_on_zero_one():
    with pytest.raises(dk.DataError, match="True/False"):
        dk.nps(pd.DataFrame({"b": [True, False, True]}), "b")
    with pytest.warns(dk.ScaleWarning, match="yes/no"):
        dk.nps(pd.DataFrame({"x": [0, 1] * 10}), "x")


def test_nps_one_effective_respondent_has_no_interval():
    df = pd.DataFrame({"r": [9, 3, 10]})
    with pytest.warns(dk.SmallSampleWarning, match="effective sample"):
        one = dk.nps(df.iloc[:1], "r")
    assert one.value == 100 and np.isnan(one.std_error) and np.isnan(one.ci_low)
    with pytest.warns(dk.SmallSampleWarning):
        w = dk.nps(df, "r", weights=np.array([1.0, 1e-12, 1e-12]))
    assert np.isnan(w.std_error) and np.isnan(w.table["ci_high"]).all()
    two = dk.nps(df, "r")  # three respondents: a (rough) interval exists
    assert np.isfinite(two.std_error) and two.ci_low < two.value < two.ci_high
