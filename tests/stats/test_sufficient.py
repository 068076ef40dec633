"""SufficientStats: moments, merge, serialisation and OLS against numpy/statsmodels."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st

import driverkit as dk
from driverkit.exceptions import ColumnNotFoundError, DataError, DriverkitError, DriverkitTypeError
from driverkit.stats import SufficientStats

COLS = ["a", "b", "c", "y"]


def make_data(n=3000, seed=0, offset=40.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)) @ np.array([[1, 0.4, 0.2], [0, 1, 0.3], [0, 0, 1]]) + offset
    y = 2 + X @ [0.5, -0.3, 0.2] + rng.normal(size=n)
    w = rng.uniform(0.2, 4.0, size=n)
    f = rng.integers(1, 5, size=n)
    df = pd.DataFrame(np.column_stack([X, y]), columns=COLS)
    df["w"] = w
    df["f"] = f
    return df


@pytest.fixture(scope="module")
def df():
    return make_data()


def test_moments_against_numpy_weighted(df):
    X = df[COLS].to_numpy()
    w = df["w"].to_numpy()
    st_ = SufficientStats.from_arrays(X, COLS, w)
    mean = np.average(X, axis=0, weights=w)
    np.testing.assert_allclose(st_.mean.to_numpy(), mean, rtol=1e-13)
    # numpy's aweights covariance is the sampling-weight convention with ddof=1
    np.testing.assert_allclose(st_.covariance().to_numpy(), np.cov(X.T, aweights=w),
                               rtol=1e-11)
    np.testing.assert_allclose(st_.correlation().to_numpy(),
                               _wcorr(X, w), rtol=1e-11)
    assert st_.sum_weights == pytest.approx(w.sum(), rel=1e-14)
    assert st_.n_effective == pytest.approx(w.sum() ** 2 / (w @ w), rel=1e-13)


def _wcorr(X, w):
    c = np.cov(X.T, aweights=w)
    d = np.sqrt(np.diag(c))
    return c / np.outer(d, d)


def test_frequency_covariance_equals_expanded_data(df):
    X = df[COLS].to_numpy()
    f = df["f"].to_numpy()
    st_ = SufficientStats.from_arrays(X, COLS, f, weight_type="frequency")
    expanded = np.repeat(X, f, axis=0)
    np.testing.assert_allclose(st_.covariance().to_numpy(), np.cov(expanded.T), rtol=1e-11)
    np.testing.assert_allclose(st_.covariance(ddof=0).to_numpy(),
                               np.cov(expanded.T, ddof=0), rtol=1e-11)
    assert st_.n_effective == f.sum()


def test_unweighted_covariance_against_pandas(df):
    st_ = dk.sufficient_stats(df, COLS)
    np.testing.assert_allclose(st_.covariance().to_numpy(), df[COLS].cov().to_numpy(),
                               rtol=1e-12)
    np.testing.assert_allclose(st_.correlation(["y", "a"]).to_numpy(),
                               df[["y", "a"]].corr().to_numpy(), rtol=1e-12)
    assert st_.weight_type == "none"
    assert st_.n_obs == st_.sum_weights == len(df)


def test_ols_against_statsmodels_wls_sampling_weights(df):
    st_ = dk.sufficient_stats(df, COLS, weights="w", chunksize=400)
    fit = st_.ols("y", ["a", "b", "c"])
    ref = sm.WLS(df["y"], sm.add_constant(df[["a", "b", "c"]]), weights=df["w"]).fit()
    np.testing.assert_allclose(fit.params.to_numpy(), ref.params.to_numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(fit.cov_params.to_numpy(), ref.cov_params().to_numpy(),
                               rtol=1e-9, atol=1e-12)
    assert fit.r2 == pytest.approx(ref.rsquared, abs=1e-12)
    assert fit.r2_adj == pytest.approx(ref.rsquared_adj, abs=1e-12)
    assert fit.loglike == pytest.approx(ref.llf, rel=1e-12)
    assert fit.aic == pytest.approx(ref.aic, rel=1e-12)
    assert fit.bic == pytest.approx(ref.bic, rel=1e-12)
    assert fit.df_resid == ref.df_resid
    assert fit.condition_number == pytest.approx(ref.condition_number, rel=1e-6)


def test_ols_against_statsmodels_ols_unweighted(df):
    st_ = dk.sufficient_stats(df, COLS, chunksize=777)
    fit = st_.ols("y")
    ref = sm.OLS(df["y"], sm.add_constant(df[["a", "b", "c"]])).fit()
    np.testing.assert_allclose(fit.params.to_numpy(), ref.params.to_numpy(), atol=1e-10)
    np.testing.assert_allclose(fit.std_errors.to_numpy(), ref.bse.to_numpy(), rtol=1e-9)
    assert fit.r2 == pytest.approx(ref.rsquared, abs=1e-12)
    assert fit.loglike == pytest.approx(ref.llf, rel=1e-12)
    vif = [1 / (1 - sm.OLS(df[c], sm.add_constant(df[[o for o in "abc" if o != c]]))
                .fit().rsquared) for c in "abc"]
    np.testing.assert_allclose(fit.vif.to_numpy(), vif, rtol=1e-9)


def test_ols_frequency_weights_against_glm_freq_weights_and_expanded_ols(df):
    st_ = dk.sufficient_stats(df, COLS, weights="f", weight_type="frequency")
    fit = st_.ols("y", ["a", "b", "c"])
    Xc = sm.add_constant(df[["a", "b", "c"]])
    ref = sm.GLM(df["y"], Xc, freq_weights=df["f"]).fit()
    np.testing.assert_allclose(fit.params.to_numpy(), ref.params.to_numpy(), atol=1e-10)
    np.testing.assert_allclose(fit.cov_params.to_numpy(), ref.cov_params().to_numpy(),
                               rtol=1e-9, atol=1e-13)
    rep = np.repeat(np.arange(len(df)), df["f"])
    big = sm.OLS(df["y"].to_numpy()[rep], Xc.to_numpy()[rep]).fit()
    np.testing.assert_allclose(fit.std_errors.to_numpy(), big.bse, rtol=1e-9)
    assert fit.r2 == pytest.approx(big.rsquared, abs=1e-12)
    assert fit.loglike == pytest.approx(big.llf, rel=1e-12)
    assert fit.nobs == df["f"].sum()


@pytest.mark.parametrize("chunksize", [1, 7, 1000, 10_000])
def test_chunked_equals_in_memory_to_1e10(df, chunksize):
    sub = df.iloc[:500] if chunksize == 1 else df
    whole = SufficientStats.from_arrays(sub[COLS].to_numpy(), COLS, sub["w"].to_numpy())
    chunked = dk.sufficient_stats(sub, COLS, weights="w", chunksize=chunksize)
    np.testing.assert_allclose(chunked.mean, whole.mean, rtol=0, atol=1e-10)
    np.testing.assert_allclose(chunked.covariance(), whole.covariance(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(chunked.ols("y").params, whole.ols("y").params, atol=1e-10)
    assert chunked.n_obs == whole.n_obs
    assert chunked.sum_weights == pytest.approx(whole.sum_weights, rel=1e-14)


def test_merge_of_segments_equals_whole(df):
    parts = [SufficientStats.from_arrays(g[COLS].to_numpy(), COLS, g["w"].to_numpy())
             for _, g in df.groupby(df.index % 3)]
    merged = SufficientStats.merge_all(parts)
    whole = SufficientStats.from_arrays(df[COLS].to_numpy(), COLS, df["w"].to_numpy())
    np.testing.assert_allclose(merged.comoments, whole.comoments, rtol=1e-12)
    assert (parts[0] + parts[1] + parts[2]).n_obs == len(df)
    # merging with empty statistics is the identity
    assert SufficientStats.empty(COLS, "sampling").merge(whole) == whole


def test_merge_aligns_column_order(df):
    a = SufficientStats.from_arrays(df[COLS].to_numpy()[:100], COLS)
    b = SufficientStats.from_arrays(df[COLS[::-1]].to_numpy()[100:], COLS[::-1])
    both = a.merge(b)
    whole = SufficientStats.from_arrays(df[COLS].to_numpy(), COLS)
    np.testing.assert_allclose(both.covariance(), whole.covariance(), rtol=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=0, max_value=30), min_size=3, max_size=3),
    seed=st.integers(min_value=0, max_value=2**31 - 1),
    offset=st.floats(min_value=-1e4, max_value=1e4),
    weighted=st.booleans(),
)
def test_merge_is_associative_and_commutative(sizes, seed, offset, weighted):
    rng = np.random.default_rng(seed)
    parts = []
    for m in sizes:
        X = rng.normal(size=(m, 3)) * rng.uniform(0.1, 10) + offset
        w = rng.uniform(0, 5, size=m) if weighted else None
        parts.append(SufficientStats.from_arrays(X, ["x", "y", "z"], w,
                                                 weight_type="sampling" if weighted else "none"))
    a, b, c = parts
    left = (a.merge(b)).merge(c)
    right = a.merge(b.merge(c))
    swapped = c.merge(a).merge(b)
    for other in (right, swapped):
        assert left.n_obs == other.n_obs
        scale = max(1.0, abs(offset))
        np.testing.assert_allclose(left.mean, other.mean, rtol=1e-12, atol=1e-12 * scale)
        mscale = max(1.0, float(np.abs(left.comoments.to_numpy()).max()))
        np.testing.assert_allclose(left.comoments, other.comoments, rtol=0,
                                   atol=1e-10 * mscale)
        assert left.sum_weights == pytest.approx(other.sum_weights, rel=1e-13, abs=1e-13)


def test_serialisation_round_trip_is_exact(df):
    st_ = dk.sufficient_stats(df, COLS, weights="w")
    text = json.dumps(st_.to_dict())
    back = SufficientStats.from_dict(json.loads(text))
    assert back == st_
    assert back.weight_type == "sampling"
    assert back.ols("y").params.equals(st_.ols("y").params)


def test_from_dict_rejects_foreign_dicts():
    with pytest.raises(DriverkitError, match="not a serialised SufficientStats"):
        SufficientStats.from_dict({"columns": ["a"]})
    with pytest.raises(DriverkitTypeError):
        SufficientStats.from_dict("nope")


def test_weights_given_twice_is_an_error(df):
    st_ = dk.sufficient_stats(df, COLS, weights="w")
    with pytest.raises(DriverkitError, match="carry their weights"):
        dk.sufficient_stats(st_, ["a", "y"], weights="w")
    with pytest.raises(DriverkitError, match="carry their weights"):
        SufficientStats.reject_weights("w", "importance")
    sub = dk.sufficient_stats(st_, ["a", "y"])
    assert sub.columns == ["a", "y"] and sub.weight_type == "sampling"


def test_bad_source_type_is_a_type_error():
    with pytest.raises(DriverkitTypeError, match="cannot read a ndarray"):
        dk.sufficient_stats(np.zeros((3, 2)), ["a"])
    with pytest.raises(DriverkitTypeError, match="cannot read a dict"):
        dk.sufficient_stats({"a": [1, 2]}, ["a"])
    with pytest.raises(DriverkitTypeError, match="list of column names"):
        dk.sufficient_stats(pd.DataFrame({"a": [1.0]}), 3)


def test_errors_name_the_culprit(df):
    st_ = dk.sufficient_stats(df, COLS)
    with pytest.raises(ColumnNotFoundError, match=r"'yy'.*Did you mean 'y'"):
        st_.covariance(["yy"])
    with pytest.raises(ColumnNotFoundError, match="'bb'"):
        dk.sufficient_stats(df, ["a", "bb"])
    const = df.assign(k=1.5)
    cst = dk.sufficient_stats(const, ["a", "k", "y"], chunksize=333)
    with pytest.raises(DataError, match=r"'k'.*constant"):
        cst.correlation()
    with pytest.raises(DataError, match=r"'k'.*constant"):
        cst.ols("y")
    col = df.assign(d=df["a"] + df["b"])
    with pytest.raises(DataError, match="collinear"):
        dk.sufficient_stats(col, ["a", "b", "d", "y"]).ols("y")
    with pytest.raises(DriverkitError, match="merge SufficientStats over different columns"):
        st_.merge(dk.sufficient_stats(df, ["a", "y"]))
    with pytest.raises(DriverkitError, match="weight_type"):
        st_.merge(dk.sufficient_stats(df, COLS, weights="w"))


def test_missing_values_listwise_and_raise(df):
    d = df[COLS].copy()
    d.iloc[[5, 17], 1] = np.nan
    with pytest.warns(dk.MissingDataWarning, match="dropped 2 of 3,000 rows"):
        st_ = dk.sufficient_stats(d, COLS, chunksize=10)
    assert st_.n_obs == len(d) - 2 and st_.n_dropped == 2
    ref = d.dropna()
    np.testing.assert_allclose(st_.covariance(), ref.cov(), rtol=1e-12)
    with pytest.raises(DataError, match=r"Row 6 \(index 5\), column 'b' is missing"):
        dk.sufficient_stats(d, COLS, missing="raise")


def test_negative_weight_is_an_error_naming_the_row(df):
    d = df.copy()
    d.loc[41, "w"] = -1.0
    with pytest.raises(DataError,
                       match=r"Row 42 \(index 41\), column 'w': value -1 is not a valid weight"):
        dk.sufficient_stats(d, COLS, weights="w", chunksize=20)


def test_weights_as_array_for_a_dataframe(df):
    a = dk.sufficient_stats(df, COLS, weights=df["w"].to_numpy(), chunksize=250)
    b = dk.sufficient_stats(df, COLS, weights="w")
    np.testing.assert_allclose(a.covariance(), b.covariance(), rtol=1e-12)
    with pytest.raises(DataError, match="weights has 3 values"):
        dk.sufficient_stats(df, COLS, weights=[1, 2, 3])


def test_caller_dataframe_is_not_mutated(df):
    before = df.copy()
    dk.sufficient_stats(df, COLS, weights="w", chunksize=100)
    pd.testing.assert_frame_equal(df, before)


def test_crossproducts_match_design(df):
    st_ = dk.sufficient_stats(df, COLS, weights="w")
    X = sm.add_constant(df[["a", "b"]]).to_numpy()
    np.testing.assert_allclose(st_.crossproducts(["a", "b"]).to_numpy(),
                               X.T @ (X * df["w"].to_numpy()[:, None]), rtol=1e-11)
