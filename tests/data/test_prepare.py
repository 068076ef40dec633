"""The data layer: prepare() -> DriverData (issue 3, item 5)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import driverkit as dk
from driverkit.data import prepare


def test_column_list_design_and_metadata(small_frame):
    dd = prepare(small_frame, "y_lin", ["a", "region"], covariates=["c"], weights="w",
                 scales={"a": (1, 10)})
    assert dd.columns == ["a", "region[south]", "region[north]", "c"] or dd.columns[0] == "a"
    assert dd.drivers == ["a", "region"] and dd.covariates == ["c"]
    assert dd.terms["region"] == [1, 2] and dd.terms["c"] == [3]
    assert dd.factors["region"][0] == "east"  # sorted levels, first is the reference
    assert dd.scales["a"] == (1.0, 10.0) and "a" in dd.declared_scales
    assert dd.weight_type == "sampling"
    np.testing.assert_allclose(dd.loglike_weights().sum(), dd.n)
    np.testing.assert_array_equal(dd.X[:, 0], small_frame["a"].to_numpy())


def test_formula_keeps_factor_as_one_term(small_frame):
    dd = prepare(small_frame, "y_lin ~ a + C(region) + np.log(b)")
    assert dd.drivers == ["a", "region", "np.log(b)"]
    assert len(dd.terms["region"]) == 2
    np.testing.assert_allclose(dd.X[:, dd.terms["np.log(b)"][0]], np.log(small_frame["b"]))
    # the spec rebuilds the same design on new data (levels kept even if absent)
    sub = small_frame[small_frame["region"] == "north"].head(5)
    np.testing.assert_allclose(dd.spec.transform(sub), dd.X[small_frame.index.get_indexer(
        sub.index)])


def test_ordered_categorical_factor_keeps_its_order(small_frame):
    df = small_frame.assign(tier=pd.Categorical(
        np.where(small_frame["a"] > 7, "gold", np.where(small_frame["a"] > 4, "silver", "bronze")),
        categories=["bronze", "silver", "gold"], ordered=True))
    dd = prepare(df, "y_lin", ["tier", "b"])
    assert dd.factors["tier"] == ["bronze", "silver", "gold"]
    assert dd.columns[:2] == ["tier[silver]", "tier[gold]"]


def test_numeric_text_columns_are_parsed(small_frame):
    df = small_frame.assign(a=small_frame["a"].astype(str))
    dd = prepare(df, "y_lin", ["a", "b"])
    np.testing.assert_allclose(dd.X[:, 0], small_frame["a"].to_numpy())


def test_unknown_level_on_transform_is_an_error(small_frame):
    dd = prepare(small_frame, "y_lin", ["a", "region"])
    new = small_frame.head(3).assign(region=["west", "north", "east"])
    with pytest.raises(dk.DataError, match="'west'"):
        dd.spec.transform(new)


def test_weights_validation(small_frame):
    with pytest.raises(dk.DataError, match="one weight per row"):
        prepare(small_frame, "y_lin", ["a"], weights=np.ones(3))
    w = small_frame["w"].to_numpy().copy()
    w[0] = np.nan
    with pytest.raises(dk.DataError, match="missing"):
        prepare(small_frame, "y_lin", ["a"], weights=w)
    with pytest.raises(dk.ColumnNotFoundError, match="weights 'wt'"):
        prepare(small_frame, "y_lin", ["a"], weights="wt")


def test_scales_validation(small_frame):
    with pytest.raises(dk.DataError, match="not a driver"):
        prepare(small_frame, "y_lin", ["a"], scales={"b": (1, 10)})
    with pytest.raises(dk.DataError, match="low < high"):
        prepare(small_frame, "y_lin", ["a"], scales={"a": (10, 1)})
    with pytest.raises(dk.DataError, match="categorical"):
        prepare(small_frame, "y_lin", ["region"], scales={"region": (1, 3)})


def test_roles_and_formula_conflicts(small_frame):
    with pytest.raises(dk.DataError, match="both as drivers and as covariates"):
        prepare(small_frame, "y_lin", ["a", "b"], covariates=["b"])
    with pytest.raises(TypeError, match="both a formula and drivers"):
        prepare(small_frame, "y_lin ~ a", ["a"])
    with pytest.raises(dk.DataError, match="needs drivers"):
        prepare(small_frame, "y_lin", [])
    with pytest.raises(TypeError, match="DataFrame"):
        prepare(small_frame.to_numpy(), "y_lin", ["a"])


def test_single_level_factor_and_all_missing(small_frame):
    df = small_frame.assign(one="x")
    with pytest.raises(dk.DataError, match="single level"):
        prepare(df, "y_lin", ["a", "one"])
    df = small_frame.assign(a=np.nan)
    with pytest.raises(dk.DataError, match="nothing is left"):
        prepare(df, "y_lin", ["a"])


def test_prepare_never_mutates(small_frame):
    df = small_frame.copy()
    df.loc[0, "a"] = np.nan
    before = df.copy(deep=True)
    with pytest.warns(dk.MissingDataWarning):
        prepare(df, "y_bin", ["a", "region"], kind="logit", weights="w")
    pd.testing.assert_frame_equal(df, before)
