"""Data-layer checks from issue 13: weights by index, codes and text mistaken for data,
column labels, huge values, weight scales, 1/2 outcomes, nested factor levels."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import driverkit as dk


@pytest.fixture(scope="module")
def survey():
    df = dk.make_survey(n=400, n_drivers=4, seed=21)
    return df, list(df.attrs["truth"]["drivers"])


def test_weights_series_is_aligned_by_index(survey):
    df, d = survey
    w = df["weight"]
    ref = dk.fit(df, "satisfaction", d, weights=w)
    shuffled = w.sample(frac=1.0, random_state=1)
    m = dk.fit(df, "satisfaction", d, weights=shuffled)
    np.testing.assert_allclose(m.params, ref.params, rtol=1e-12)
    bad = shuffled.copy()
    bad.index = bad.index + 10_000
    with pytest.raises(dk.DataError, match="matched by index label, never by position"):
        dk.fit(df, "satisfaction", d, weights=bad)


def test_weights_column_that_is_a_driver_is_an_error(survey):
    df, d = survey
    with pytest.raises(dk.DataError, match=f"weights column '{d[0]}' is also"):
        dk.fit(df, "satisfaction", d, weights=d[0])


def test_dont_know_codes_in_ratings_warn_with_column_and_values(survey):
    df, d = survey
    coded = df.copy()
    coded.loc[coded.index[:12], d[1]] = 99
    coded.loc[coded.index[12:15], d[1]] = -99
    with pytest.warns(dk.DataQualityWarning, match=rf"'{d[1]}' holds -99 \(3×\), 99 \(12×\)"
                                                   r".*na_values=\[-99, 99\]"):
        dk.fit(coded, "satisfaction", d)
    with warnings.catch_warnings():
        warnings.simplefilter("error", dk.DataQualityWarning)
        warnings.simplefilter("ignore", dk.MissingDataWarning)
        m = dk.fit(coded, "satisfaction", d, na_values=[99, -99])
    ref = dk.fit(df.iloc[15:], "satisfaction", d)
    np.testing.assert_allclose(m.params, ref.params, rtol=1e-12)


def test_ordinary_ratings_do_not_warn(survey):
    df, d = survey
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plain = dk.fit(df, "satisfaction", d)
        # a 0-10 item where 9 and 10 are ordinary answers
        clipped = dk.fit(df.assign(**{d[0]: np.clip(df[d[0]], 0, 10)}), "satisfaction", d)
    quality = [str(w.message) for w in caught if issubclass(w.category, dk.DataQualityWarning)]
    assert quality == []
    assert plain.n == clipped.n == len(df.dropna(subset=[*d, "satisfaction"]))


def test_decimal_comma_text_warns_or_errors(survey):
    df, d = survey
    text = df.assign(satisfaction_txt=(df["satisfaction"] + 0.5).map(
        lambda v: f"{v:.1f}".replace(".", ",")))
    with pytest.warns(dk.DataQualityWarning, match=r"decimal comma.*decimal=','"), \
            pytest.raises(dk.DataError):
        dk.fit(text, "satisfaction_txt", d)
    drv = df.assign(speed=(df[d[0]] + 0.5).map(lambda v: f"{v:.1f}".replace(".", ",")))
    with pytest.warns(dk.DataQualityWarning, match="'speed' is text.*decimal comma"):
        dk.fit(drv, "satisfaction", ["speed", d[1]])
    mixed = df.assign(speed=df[d[0]].astype(str).where(df.index % 2 == 0, "7,5"))
    with pytest.raises(dk.DataError, match=r"decimal comma.*decimal=','"):
        dk.fit(mixed, "satisfaction", ["speed", d[1]])


def test_integer_and_duplicate_column_names(survey):
    df, d = survey
    sub = df[[*d, "satisfaction"]].copy()
    sub.columns = [*list(range(len(d))), "y"]
    m = dk.fit(sub, "y", list(range(len(d))))
    ref = dk.fit(df, "satisfaction", d)
    np.testing.assert_allclose(m.params.to_numpy(), ref.params.to_numpy(), rtol=1e-12)
    dup = pd.concat([df[[d[0]]], df[[d[0]]], df[["satisfaction"]]], axis=1)
    with pytest.raises(dk.DataError, match=f"'{d[0]}'.*more than once"):
        dk.fit(dup, "satisfaction", [d[0]])
    clash = df[[d[0], "satisfaction"]].copy()
    clash[1] = 1.0
    clash["1"] = 2.0
    with pytest.raises(dk.DataError, match="coincide as text"):
        dk.fit(clash, "satisfaction", [d[0]])


@pytest.mark.parametrize("value", [1e300, np.inf, -np.inf])
def test_huge_or_infinite_values_are_clear_errors(survey, value):
    df, d = survey
    bad = df.astype({d[2]: float})
    bad.loc[bad.index[3], d[2]] = value
    with pytest.raises(dk.DataError, match=f"'{d[2]}'"):
        dk.fit(bad, "satisfaction", d)
    with pytest.raises(dk.DataError, match=f"'{d[2]}'"):
        dk.importance(bad, "satisfaction", d)


def test_weights_that_overflow_or_underflow_are_rescaled(survey):
    df, d = survey
    ref = dk.fit(df, "satisfaction", d, weights="weight")
    for scale in (1e306, 1e-310):
        m = dk.fit(df, "satisfaction", d, weights=df["weight"] * scale)
        np.testing.assert_allclose(m.params, ref.params, rtol=1e-9)
    with pytest.raises(dk.DataError, match="frequency weights"):
        dk.fit(df, "satisfaction", d, weights=df["weight"] * 1e306, weight_type="frequency")


def test_positive_text_matches_numeric_outcome(survey):
    df, d = survey
    coded = df.assign(buy=np.where(df["repurchase"] == 1, 2, 1))
    a = dk.fit(coded, "buy", d, kind="logit", positive="2")
    b = dk.fit(df, "repurchase", d, kind="logit")
    np.testing.assert_allclose(a.params, b.params, rtol=1e-10)


def test_nested_factor_levels_share_one_effect():
    rng = np.random.default_rng(0)
    n = 900
    internet = rng.choice(["DSL", "Fiber", "No"], n)

    def follow():
        return np.where(internet == "No", "No internet service", rng.choice(["Yes", "No"], n))

    df = pd.DataFrame({"InternetService": internet, "OnlineSecurity": follow(),
                       "TechSupport": follow(), "tenure": rng.integers(1, 72, n)})
    df["y"] = 0.5 * (df["OnlineSecurity"] == "Yes") + 0.02 * df["tenure"] + rng.normal(size=n)
    drivers = ["InternetService", "OnlineSecurity", "TechSupport", "tenure"]
    with pytest.warns(dk.CollinearityWarning, match="No internet service"):
        m = dk.fit(df, "y", drivers)
    assert "OnlineSecurity[No internet service]" not in m.table.index
    # equals OLS on the design without the duplicated dummies
    X = pd.get_dummies(df[drivers[:3]], drop_first=True, dtype=float)
    X = X.loc[:, ~X.T.duplicated()].assign(tenure=df["tenure"])
    import statsmodels.api as sm

    ref = sm.OLS(df["y"], sm.add_constant(X)).fit()
    np.testing.assert_allclose(np.sort(m.params.to_numpy()), np.sort(ref.params.to_numpy()),
                               rtol=1e-10)
    np.testing.assert_allclose(m.predict_design(m.design(df.head(20))),
                               ref.fittedvalues.head(20), rtol=1e-10)


# ---- hypothesis: answers do not depend on row order or on coded values ----------------------
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000))
def test_shuffled_rows_with_weights_give_the_same_answers(seed):
    df = dk.make_survey(n=150, n_drivers=3, seed=seed % 7)
    d = list(df.attrs["truth"]["drivers"])
    df.loc[df.index[seed % 40: seed % 40 + 9], d[0]] = np.nan
    w = df["weight"]
    perm = df.sample(frac=1.0, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = dk.fit(df, "satisfaction", d, weights=w)
        b = dk.fit(perm, "satisfaction", d, weights=w)  # Series in the original order
        ia = dk.importance(df, "satisfaction", d, weights="weight", missing="pairwise")
        ib = dk.importance(perm, "satisfaction", d, weights="weight", missing="pairwise")
    np.testing.assert_allclose(a.params, b.params, rtol=1e-9)
    np.testing.assert_allclose(ia.table["importance"], ib.table["importance"], rtol=1e-9)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), code=st.sampled_from([99, -99, 999, 98]),
       k=st.integers(1, 15))
def test_adding_code_values_plus_na_values_changes_nothing(seed, code, k):
    df = dk.make_survey(n=150, n_drivers=3, seed=seed % 5)
    d = list(df.attrs["truth"]["drivers"])
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(df), size=k, replace=False)
    col = d[seed % len(d)]
    holes = df.copy()
    holes.loc[holes.index[rows], col] = np.nan
    coded = df.copy()
    coded.loc[coded.index[rows], col] = code
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dk.MissingDataWarning)
        a = dk.fit(holes, "satisfaction", d)
        b = dk.fit(coded, "satisfaction", d, na_values=[code])
        ia = dk.importance(holes, "satisfaction", d, missing="pairwise")
        ib = dk.importance(coded, "satisfaction", d, missing="pairwise", na_values=[code])
    np.testing.assert_allclose(a.params, b.params, rtol=1e-12)
    np.testing.assert_allclose(ia.table["importance"], ib.table["importance"], rtol=1e-12)
