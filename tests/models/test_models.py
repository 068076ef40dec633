"""DriverModel against statsmodels, bad input, and properties (issue 3)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.miscmodels.ordinal_model import OrderedModel

import driverkit as dk

DRIVERS = ["a", "b", "c"]
TOL = 1e-8


def _X(df, cols=DRIVERS):
    return sm.add_constant(df[cols].to_numpy(float))


def _nw(df):
    return df["w"].to_numpy() * len(df) / df["w"].sum()


# ---------------------------------------------------------------------------------------
# agreement with statsmodels
# ---------------------------------------------------------------------------------------
def test_linear_against_statsmodels_ols(small_frame):
    m = dk.fit(small_frame, "y_lin", DRIVERS)
    ref = sm.OLS(small_frame["y_lin"], _X(small_frame)).fit()
    np.testing.assert_allclose(m.params.to_numpy(), ref.params, rtol=0, atol=TOL)
    np.testing.assert_allclose(m.table["std_error"].to_numpy(), ref.bse, atol=TOL)
    np.testing.assert_allclose(m.table["p_value"].to_numpy(), ref.pvalues, atol=TOL)
    np.testing.assert_allclose(m.table[["ci_low", "ci_high"]].to_numpy(), ref.conf_int(), atol=TOL)
    assert m.r2 == pytest.approx(ref.rsquared, abs=1e-12)
    assert m.loglike == pytest.approx(ref.llf, abs=1e-8)


def test_linear_weighted_against_statsmodels_wls_hc1(small_frame):
    m = dk.fit(small_frame, "y_lin", DRIVERS, weights="w")
    ref = sm.WLS(small_frame["y_lin"], _X(small_frame), weights=small_frame["w"]).fit(
        cov_type="HC1")
    np.testing.assert_allclose(m.params.to_numpy(), ref.params, atol=TOL)
    np.testing.assert_allclose(m.table["std_error"].to_numpy(), ref.bse, atol=TOL)
    assert m.cov_type == "HC1"
    classical = dk.fit(small_frame, "y_lin", DRIVERS, weights="w", robust=False)
    ref2 = sm.WLS(small_frame["y_lin"], _X(small_frame), weights=small_frame["w"]).fit()
    np.testing.assert_allclose(classical.table["std_error"].to_numpy(), ref2.bse, atol=TOL)


def test_linear_robust_option_against_statsmodels(small_frame):
    for cov in ("HC0", "HC3"):
        m = dk.fit(small_frame, "y_lin", DRIVERS, robust=cov)
        ref = sm.OLS(small_frame["y_lin"], _X(small_frame)).fit(cov_type=cov)
        np.testing.assert_allclose(m.table["std_error"].to_numpy(), ref.bse, atol=TOL)


@pytest.mark.parametrize("kind", ["logit", "probit"])
def test_binary_against_statsmodels(small_frame, kind):
    m = dk.fit(small_frame, "y_bin", DRIVERS, kind=kind)
    model = sm.Logit if kind == "logit" else sm.Probit
    ref = model(small_frame["y_bin"], _X(small_frame)).fit(disp=0, tol=1e-12)
    np.testing.assert_allclose(m.params.to_numpy(), ref.params, atol=1e-7)
    np.testing.assert_allclose(m.table["std_error"].to_numpy(), ref.bse, atol=1e-7)
    assert m.r2 == pytest.approx(ref.prsquared, abs=1e-9)
    assert m.loglike == pytest.approx(ref.llf, abs=1e-8)


@pytest.mark.parametrize("kind", ["logit", "probit"])
def test_binary_weighted_against_statsmodels_glm(small_frame, kind):
    m = dk.fit(small_frame, "y_bin", DRIVERS, kind=kind, weights="w")
    link = sm.families.links.Logit() if kind == "logit" else sm.families.links.Probit()
    ref = sm.GLM(small_frame["y_bin"], _X(small_frame), family=sm.families.Binomial(link),
                 var_weights=_nw(small_frame)).fit(cov_type="HC1")
    np.testing.assert_allclose(m.params.to_numpy(), ref.params, atol=TOL)
    np.testing.assert_allclose(m.table["std_error"].to_numpy(), ref.bse, atol=TOL)
    # the likelihood uses weights rescaled to sum to n
    assert m.loglike == pytest.approx(ref.llf, abs=1e-8)


def test_logit_frequency_weights_equal_expanded_rows(small_frame):
    df = small_frame.copy()
    df["fw"] = np.random.default_rng(1).integers(1, 4, len(df))
    m = dk.fit(df, "y_bin", DRIVERS, kind="logit", weights="fw", weight_type="frequency")
    big = df.loc[df.index.repeat(df["fw"])]
    ref = sm.Logit(big["y_bin"], _X(big)).fit(disp=0, tol=1e-12)
    np.testing.assert_allclose(m.params.to_numpy(), ref.params, atol=1e-7)
    np.testing.assert_allclose(m.table["std_error"].to_numpy(), ref.bse, atol=1e-7)
    assert m.n == len(big)


def test_ordinal_against_statsmodels_orderedmodel(small_frame):
    m = dk.fit(small_frame, "y_ord", DRIVERS, kind="ordinal")
    om = OrderedModel(small_frame["y_ord"].to_numpy(), small_frame[DRIVERS].to_numpy(float),
                      distr="logit")
    ref = om.fit(method="newton", disp=0, maxiter=200)
    k = len(DRIVERS)
    np.testing.assert_allclose(m.params.to_numpy()[:k], ref.params[:k], atol=1e-6)
    np.testing.assert_allclose(m.table["std_error"].to_numpy()[:k], ref.bse[:k], atol=1e-6)
    cuts = om.transform_threshold_params(ref.params)[1:-1]
    np.testing.assert_allclose(m.params.to_numpy()[k:], cuts, atol=1e-6)
    assert m.loglike == pytest.approx(ref.llf, abs=1e-8)
    assert list(m.table.index[k:]) == ["cut[0|1]", "cut[1|2]", "cut[2|3]"]
    probs = m.predict(small_frame)
    np.testing.assert_allclose(probs, ref.predict(), atol=1e-6)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-12)


def test_ordinal_weighted_equals_frequency_expanded(small_frame):
    df = small_frame.copy()
    df["fw"] = np.random.default_rng(3).integers(1, 4, len(df))
    m = dk.fit(df, "y_ord", DRIVERS, kind="ordinal", weights="fw", weight_type="frequency")
    big = df.loc[df.index.repeat(df["fw"])]
    ref = dk.fit(big, "y_ord", DRIVERS, kind="ordinal")
    np.testing.assert_allclose(m.params.to_numpy(), ref.params.to_numpy(), atol=1e-6)
    np.testing.assert_allclose(m.table["std_error"].to_numpy(),
                               ref.table["std_error"].to_numpy(), rtol=1e-4)


def test_factor_dummies_and_formula_agree(small_frame):
    m1 = dk.fit(small_frame, "y_lin", ["a", "b", "region"])
    m2 = dk.fit(small_frame, "y_lin ~ a + b + C(region)")
    assert list(m1.table.index) == ["Intercept", "a", "b", "region[north]", "region[south]"]
    assert list(m2.table.index) == list(m1.table.index)
    np.testing.assert_allclose(m1.params.to_numpy(), m2.params.to_numpy(), atol=1e-10)
    assert m1.drivers == m2.drivers == ["a", "b", "region"]


def test_vif_and_condition_number(small_frame):
    m = dk.fit(small_frame, "y_lin", DRIVERS)
    X = small_frame[DRIVERS].to_numpy(float)
    from statsmodels.stats.outliers_influence import variance_inflation_factor

    Xc = sm.add_constant(X)
    ref = [variance_inflation_factor(Xc, j) for j in range(1, 4)]
    np.testing.assert_allclose(m.table.loc[DRIVERS, "vif"], ref, rtol=1e-9)
    assert np.isnan(m.table.loc["Intercept", "vif"])
    assert m.condition_number > 1


def test_predict_is_average_ready_and_matches_statsmodels(small_frame):
    m = dk.fit(small_frame, "y_bin", DRIVERS, kind="logit")
    ref = sm.Logit(small_frame["y_bin"], _X(small_frame)).fit(disp=0, tol=1e-12)
    np.testing.assert_allclose(m.predict(small_frame), ref.predict(), atol=1e-7)
    draws = m.draw_params(50, rng=0)
    assert draws.shape == (50, 4)
    P = m.predict_design(m.design(small_frame), draws)
    assert P.shape == (50, len(small_frame))


def test_fixed_model_reference():
    m = dk.fixed_model("logit", intercept=-4.0, coef={"x1": 0.6, "x2": 0.3},
                       scales={"x1": (1, 10), "x2": (1, 10)})
    p = m.predict(pd.DataFrame({"x1": [3.0, 6, 8, 10], "x2": [5.0, 7, 8, 4]}))
    np.testing.assert_allclose(p, [0.331812, 0.845535, 0.960834, 0.960834], atol=1e-6)
    assert m.scales == {"x1": (1.0, 10.0), "x2": (1.0, 10.0)}
    np.testing.assert_array_equal(m.draw_params(3), np.tile(m.params.to_numpy(), (3, 1)))
    assert "Fixed model" in m.summary()


def test_summary_html_and_plot(small_frame):
    m = dk.fit(small_frame, "y_bin", ["a", "b", "region"], kind="logit")
    text = m.summary()
    assert "binary logit" in text and "region[south]" in text
    html = m._repr_html_()
    assert "<table>" in html and "McFadden" in html
    ax = m.plot()
    assert ax.get_title().startswith("Driver model")
    assert set(m.plot_data().index) == {"a", "b", "region[north]", "region[south]"}


# ---------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------
def test_missing_column_names_close_match(small_frame):
    with pytest.raises(dk.ColumnNotFoundError, match="Did you mean 'region'"):
        dk.fit(small_frame, "y_lin", ["a", "regoin"])
    with pytest.raises(dk.ColumnNotFoundError, match="'y_lni'"):
        dk.fit(small_frame, "y_lni", ["a"])


def test_non_numeric_driver_values(small_frame):
    df = small_frame.copy()
    df["a"] = df["a"].astype(object)
    df.loc[7, "a"] = "n/a"
    with pytest.raises(dk.DataError, match=r"'a'.*'n/a'"):
        dk.fit(df, "y_lin", DRIVERS)


def test_constant_driver(small_frame):
    df = small_frame.assign(k=5.0)
    with pytest.raises(dk.DataError, match="'k' is constant"):
        dk.fit(df, "y_lin", ["a", "k"])


def test_duplicated_and_collinear_drivers(small_frame):
    df = small_frame.assign(a2=small_frame["a"] * 2 + 1, s=small_frame["a"] + small_frame["b"])
    with pytest.raises(dk.DataError, match="'a' and 'a2' are perfectly correlated"):
        dk.fit(df, "y_lin", ["a", "a2"])
    with pytest.raises(dk.DataError, match="perfectly collinear"):
        dk.fit(df, "y_lin", ["a", "b", "s"])
    with pytest.raises(dk.DataError, match="more than once"):
        dk.fit(df, "y_lin", ["a", "a"])


def test_too_few_rows(small_frame):
    with pytest.raises(dk.DataError, match="at least"):
        dk.fit(small_frame.iloc[:4], "y_lin", DRIVERS)


def test_nan_in_outcome_warns_or_raises(small_frame):
    df = small_frame.copy()
    df.loc[[1, 2], "y_lin"] = np.nan
    with pytest.warns(dk.MissingDataWarning, match="dropped 2 of 400 rows"):
        m = dk.fit(df, "y_lin", DRIVERS)
    assert m.n == 398
    with pytest.raises(dk.DataError, match="outcome 'y_lin' \\(2\\)"):
        dk.fit(df, "y_lin", DRIVERS, missing="raise")


def test_non_binary_outcome_for_logit(small_frame):
    with pytest.raises(dk.DataError, match="exactly two"):
        dk.fit(small_frame, "y_ord", DRIVERS, kind="logit")
    df = small_frame.assign(yes=np.where(small_frame["y_bin"] == 1, "Yes", "No"))
    with pytest.raises(dk.DataError, match="positive="):
        dk.fit(df, "yes", DRIVERS, kind="logit")
    m = dk.fit(df, "yes", DRIVERS, kind="logit", positive="Yes")
    ref = dk.fit(small_frame, "y_bin", DRIVERS, kind="logit")
    np.testing.assert_allclose(m.params.to_numpy(), ref.params.to_numpy(), atol=1e-10)


def test_perfect_separation_names_driver(small_frame):
    df = small_frame.copy()
    df["sep"] = df["y_bin"] * 5.0 + np.random.default_rng(0).uniform(0, 1, len(df))
    with pytest.raises(dk.SeparationError, match="'sep'"):
        dk.fit(df, "y_bin", ["a", "sep"], kind="logit")


def test_bad_weights(small_frame):
    with pytest.raises(dk.DataError, match="negative"):
        dk.fit(small_frame, "y_lin", DRIVERS, weights=-small_frame["w"])
    with pytest.raises(dk.DataError, match="all zero"):
        dk.fit(small_frame, "y_lin", DRIVERS, weights=np.zeros(len(small_frame)))


def test_scale_warning_and_vif_warning(small_frame):
    with pytest.warns(dk.ScaleWarning, match="'a'"):
        dk.fit(small_frame, "y_lin", DRIVERS, scales={"a": (1, 5)})
    df = small_frame.assign(a_near=small_frame["a"] + np.random.default_rng(0).normal(0, 0.05,
                                                                                   len(small_frame)))
    with pytest.warns(dk.CollinearityWarning, match="a_near"):
        m = dk.fit(df, "y_lin", ["a", "a_near", "b"])
    assert m.table.loc["a_near", "vif"] > 10  # warned, not refused


def test_bad_options(small_frame):
    with pytest.raises(dk.DriverkitError, match="'kind' parameter"):
        dk.fit(small_frame, "y_lin", DRIVERS, kind="logistic")
    with pytest.raises(TypeError, match="unexpected keyword"):
        dk.fit(small_frame, "y_lin", DRIVERS, weigths="w")
    with pytest.raises(dk.DriverkitError, match="not fitted"):
        _ = dk.DriverModel("y_lin", DRIVERS).table


def test_unordered_text_ordinal_outcome_is_error(small_frame):
    df = small_frame.assign(lvl=np.where(small_frame["y_bin"] == 1, "high", "low"))
    with pytest.raises(dk.DataError, match="unordered text"):
        dk.fit(df, "lvl", DRIVERS, kind="ordinal")
    df["lvl"] = pd.Categorical(df["lvl"], categories=["low", "high"], ordered=True)
    m = dk.fit(df, "lvl", DRIVERS, kind="ordinal")
    assert list(m.table.index)[-1] == "cut[low|high]"


def test_caller_frame_not_modified(small_frame):
    before = small_frame.copy(deep=True)
    for kind, y in [("linear", "y_lin"), ("logit", "y_bin"), ("ordinal", "y_ord")]:
        m = dk.fit(small_frame, y, ["a", "b", "region"], kind=kind, weights="w")
        m.predict(small_frame)
    pd.testing.assert_frame_equal(small_frame, before)


# ---------------------------------------------------------------------------------------
# properties
# ---------------------------------------------------------------------------------------
@settings(max_examples=25, deadline=None)
@given(scale=st.floats(0.1, 20), shift=st.floats(-50, 50),
       kind=st.sampled_from(["linear", "logit"]))
def test_rescaling_a_driver_rescales_its_coefficient(small_frame, scale, shift, kind):
    y = "y_lin" if kind == "linear" else "y_bin"
    base = dk.fit(small_frame, y, DRIVERS, kind=kind)
    df = small_frame.assign(a=small_frame["a"] * scale + shift)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = dk.fit(df, y, DRIVERS, kind=kind)
    assert m.params["a"] * scale == pytest.approx(base.params["a"], rel=1e-6, abs=1e-9)
    assert m.params["b"] == pytest.approx(base.params["b"], rel=1e-6, abs=1e-9)
    assert m.r2 == pytest.approx(base.r2, rel=1e-8)
    assert m.table.loc["a", "p_value"] == pytest.approx(base.table.loc["a", "p_value"],
                                                        rel=1e-5, abs=1e-12)


def test_warnings_point_at_the_callers_line(small_frame):
    df = small_frame.copy()
    df.loc[0, "a"] = np.nan
    with pytest.warns(dk.MissingDataWarning) as rec:
        dk.fit(df, "y_lin", DRIVERS)
    assert rec[0].filename == __file__
