"""dk.pls: bad input (each a clear error or warning naming the construct/item), missing answers."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest

import driverkit as dk


@pytest.fixture(scope="module")
def survey():
    df = dk.make_survey(300, items_per_construct=3, seed=11)
    return df, dk.latent_truth(df)


def _fit(df, cons, paths, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dk.MeasurementWarning)
        return dk.pls(df, cons, paths, **kw)


def test_item_in_two_constructs(survey):
    df, t = survey
    cons = dict(t.constructs, Loyalty=t.constructs["Loyalty"] + ["CUSA1"])
    with pytest.raises(dk.DriverkitError, match="'CUSA1' is listed under both 'Satisfaction' "
                                                "and 'Loyalty'"):
        dk.pls(df, cons, t.paths)


def test_construct_without_items(survey):
    df, t = survey
    with pytest.raises(dk.DriverkitError, match="construct 'Value' has no items"):
        dk.pls(df, dict(t.constructs, Value=[]), t.paths)


def test_path_to_unknown_construct(survey):
    df, t = survey
    with pytest.raises(dk.DriverkitError, match=r"'Loyality'.*Did you mean 'Loyalty'"):
        dk.pls(df, t.constructs, [*t.paths, ("Value", "Loyality")])


def test_cycle(survey):
    df, t = survey
    with pytest.raises(dk.DriverkitError, match=r"cycle: .*Loyalty -> Image"):
        dk.pls(df, t.constructs, [*t.paths, ("Loyalty", "Image")])


def test_construct_in_no_path_and_unknown_item(survey):
    df, t = survey
    with pytest.raises(dk.DriverkitError, match="'Extra' is in no path"):
        dk.pls(df, dict(t.constructs, Extra=["revenue"]), t.paths)
    with pytest.raises(dk.ColumnNotFoundError, match="'PERQ9'"):
        dk.pls(df, dict(t.constructs, Quality=["PERQ1", "PERQ9"]), t.paths)


def test_constant_item(survey):
    df, t = survey
    with pytest.raises(dk.DataError, match="'PERQ2' \\(construct 'Quality'\\) is constant"):
        dk.pls(df.assign(PERQ2=5), t.constructs, t.paths)


def test_all_missing_item(survey):
    df, t = survey
    with pytest.raises(dk.DataError, match="'CUEX3' \\(construct 'Expectation'\\) has no answers"):
        dk.pls(df.assign(CUEX3=np.nan), t.constructs, t.paths)


def test_mode_b_collinear_items(survey):
    df, t = survey
    d2 = df.assign(PERQ3=df["PERQ1"] + 2 * df["PERQ2"])
    with pytest.raises(dk.DataError, match="formative \\(mode B\\) construct 'Quality' has "
                                           "perfectly collinear items \\(PERQ1, PERQ2, PERQ3\\)"):
        dk.pls(d2, t.constructs, t.paths, modes={"Quality": "B"})


def test_negative_outer_weight_is_reported_not_clipped(survey):
    df, t = survey
    d2 = df.assign(PERV3=11 - df["PERV3"])  # a reverse-coded item left as is
    with pytest.warns(dk.MeasurementWarning, match="Negative outer weights: PERV3 \\(Value"):
        m = dk.pls(d2, t.constructs, t.paths, scales=(1, 10))
    w = m.outer.loc[("Value", "PERV3")]
    assert w["weight"] < 0 and w["index_weight"] < 0
    assert any("not clipped" in n for n in m.notes)
    # the index is still the declared weighted sum
    x100 = (d2[t.constructs["Value"]] - 1) / 9 * 100
    assert np.allclose(m.index_scores["Value"], x100 @ m.outer.loc["Value", "index_weight"])


def test_scale_that_does_not_match_the_data(survey):
    df, t = survey
    with pytest.raises(dk.DataError, match="'IMAG1' \\(construct 'Image'\\) has values from "
                                           r"\d+ to 10, outside its declared scale \(1, 5\)"):
        dk.pls(df, t.constructs, t.paths, scales={"Image": (1, 5)})
    m = _fit(df, t.constructs, t.paths, scales={"Image": (0, 10), "Quality": (1, 10)})
    assert m.scales["IMAG1"] == (0.0, 10.0) and m.scales["PERQ1"] == (1.0, 10.0)
    assert any("observed min/max" in n for n in m.notes)  # the undeclared ones
    perf = m.ipma("Loyalty", level="item").table["performance"]
    assert perf.between(0, 100).all()


def test_bad_options(survey):
    df, t = survey
    with pytest.raises(dk.DriverkitError, match="scheme"):
        dk.pls(df, t.constructs, t.paths, scheme="pathway")
    with pytest.raises(dk.DriverkitError, match="mode of 'Value'"):
        dk.pls(df, t.constructs, t.paths, modes={"Value": "C"})
    with pytest.raises(dk.DriverkitError, match="bootstrap"):
        dk.pls(df, t.constructs, t.paths, bootstrap=1)
    with pytest.raises(dk.DriverkitTypeError, match="paths must be"):
        dk.pls(df, t.constructs, "Image -> Loyalty")
    with pytest.raises(dk.DriverkitTypeError, match="unexpected keyword"):
        dk.pls(df, t.constructs, t.paths, boostrap=100)
    m = _fit(df, t.constructs, t.paths)
    with pytest.raises(dk.DriverkitError, match="'Loyality' is not a construct"):
        m.impact("Loyality")
    with pytest.raises(dk.DriverkitError, match="no construct affects 'Image'"):
        m.ipma("Image")


def test_non_numeric_and_na_values(survey):
    df, t = survey
    d2 = df.astype({"CUSL2": object})
    d2.loc[[3, 7], "CUSL2"] = "Don't know"
    with pytest.raises(dk.DataError, match=r"'CUSL2' .*non-numeric values such as \"Don't know\""):
        dk.pls(d2, t.constructs, t.paths)
    with pytest.warns(dk.MissingDataWarning, match=re.escape("2 of 300 respondents (0.7%)")):
        m = _fit(d2, t.constructs, t.paths, na_values=["Don't know"])
    assert m.n == 298 and m.meta["respondents_used"] == 298
    d3 = df.assign(PERQ1=df["PERQ1"].where(~df.index.isin([1, 2, 5]), 99))
    with pytest.warns(dk.MissingDataWarning):
        m3 = _fit(d3, t.constructs, t.paths, na_values={"PERQ1": [99]})
    assert m3.n == 297
    assert not m3.scores.index.isin([1, 2, 5]).any()


def test_missing_mean_and_listwise(survey):
    df, t = survey
    d2 = df.assign(PERQ2=df["PERQ2"].where(np.arange(len(df)) % 10 != 0))
    with pytest.warns(dk.MissingDataWarning, match="shrinks variances"):
        mm = _fit(d2, t.constructs, t.paths, missing="mean")
    assert mm.n == 300
    filled = d2.assign(PERQ2=d2["PERQ2"].fillna(d2["PERQ2"].mean()))
    mf = _fit(filled, t.constructs, t.paths)
    assert np.allclose(mm.paths["estimate"], mf.paths["estimate"], atol=1e-12)
    with pytest.warns(dk.MissingDataWarning, match="30 of 300 respondents \\(10.0%\\)"):
        ml = _fit(d2, t.constructs, t.paths)
    assert ml.n == 270
    with pytest.raises(dk.DataError, match="PERQ2"):
        dk.pls(d2, t.constructs, t.paths, missing="raise")
    assert d2["PERQ2"].isna().sum() == 30  # the caller's frame is untouched


def test_generator_truth_and_unchanged_default():
    df = dk.make_survey(200, items_per_construct={"Quality": 5, "Loyalty": 1}, seed=4)
    t = dk.latent_truth(df)
    assert t.constructs["Quality"] == [f"PERQ{i}" for i in range(1, 6)]
    assert t.constructs["Loyalty"] == ["CUSL1"]
    assert df[t.constructs["Quality"]].dtypes.eq(np.int64).all()
    assert {"repurchase", "revenue", "weight"} <= set(df.columns)
    assert set(t.coef.index) == set(t.paths)
    # the default generator is untouched by the new option
    a = dk.make_survey(50, n_drivers=3, seed=2)
    b = dk.make_survey(50, n_drivers=3, seed=2, items_per_construct=None)
    pd.testing.assert_frame_equal(a, b)
    with pytest.raises(dk.DriverkitError, match="no latent-construct truth"):
        dk.latent_truth(a)
    with pytest.raises(dk.DriverkitTypeError, match="items_per_construct"):
        dk.make_survey(50, items_per_construct=0)
