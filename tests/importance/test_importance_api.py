"""The importance() front-end: inputs, options, result object and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import driverkit as dk
from driverkit.exceptions import ColumnNotFoundError, DriverkitError, DriverkitTypeError


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 300
    h = rng.normal(size=n)
    df = pd.DataFrame({f"x{i}": 5 + 1.5 * h + rng.normal(0, 1.2, n) for i in range(5)})
    df["region"] = rng.choice(["north", "south", "east"], n)
    df["age"] = rng.normal(45, 12, n)
    df["w"] = rng.uniform(0.5, 2.0, n)
    df["y"] = (0.6 * df.x0 + 0.3 * df.x1 + 0.2 * df.x2 + 0.02 * df.age
               + 0.4 * (df.region == "south") + rng.normal(0, 1, n))
    return df


DRV = ["x0", "x1", "x2", "x3", "x4"]


def test_table_columns_and_result_attributes(survey):
    res = dk.importance(survey, "y", DRV)
    assert isinstance(res, dk.ImportanceResult)
    assert list(res.table.columns) == ["importance", "share", "rank"]
    assert res.table.index.name == "driver"
    assert res.method == "shapley"
    assert res.r2_always == 0.0
    assert res.table.loc[res.table["importance"].idxmax(), "rank"] == 1
    assert set(res.diagnostics) >= {"r2", "vif", "condition_number", "rw_shapley_gap"}
    assert res.diagnostics["vif"].index.tolist() == DRV
    assert "Shapley" in res.summary()
    assert "<table>" in res._repr_html_()
    assert res.conditional is None and res.rank_ci is None


def test_always_is_partialled_out(survey):
    res = dk.importance(survey, "y", DRV, covariates=["age"])
    full = dk.importance(survey, "y", [*DRV, "age"])
    only = dk.importance(survey, "y", ["age"])
    assert res.r2 == pytest.approx(full.r2, abs=1e-12)
    assert res.r2_always == pytest.approx(only.r2, abs=1e-12)
    assert res.table["importance"].sum() == pytest.approx(res.r2 - res.r2_always, abs=1e-12)
    assert "age" not in res.table.index
    # first with always = R²(age + j) − R²(age)
    first = dk.importance(survey, "y", DRV, covariates="age", method="first")
    for d in DRV:
        pair = dk.importance(survey, "y", [d, "age"], method="first")
        assert first.table.loc[d, "importance"] == pytest.approx(pair.r2 - only.r2, abs=1e-12)
    for method in ("relative_weights", "pratt", "car"):
        r = dk.importance(survey, "y", DRV, covariates=["age"], method=method)
        assert r.table["importance"].sum() == pytest.approx(r.r2 - r.r2_always, abs=1e-10)


def test_factor_driver_is_one_player(survey):
    res = dk.importance(survey, "y", [*DRV, "region"], method="all")
    assert "region" in res.table.index and len(res.table) == 6
    assert res.table["shapley"].sum() == pytest.approx(res.r2)
    assert res.results["shapley"].groups["region"] == ["region"]
    formula = dk.importance(survey, "y ~ x0 + x1 + x2 + x3 + x4 + C(region)")
    np.testing.assert_allclose(formula.table["importance"], res.table["shapley"], atol=1e-12)


def test_weights_equal_frequency_duplication(survey):
    small = survey.iloc[:60].copy()
    small["k"] = np.random.default_rng(0).integers(1, 4, len(small))
    weighted = dk.importance(small, "y", DRV, weights="k", method="all")
    dup = small.loc[small.index.repeat(small["k"])]
    plain = dk.importance(dup, "y", DRV, method="all")
    pd.testing.assert_frame_equal(weighted.table, plain.table, atol=1e-10)


def test_matrix_and_sufficient_stats_inputs_match_data(survey):
    data_res = dk.importance(survey, "y", DRV, weights="w", method="all")
    Z = survey[[*DRV, "y"]].to_numpy()
    w = survey["w"].to_numpy()
    mu = np.average(Z, axis=0, weights=w)
    cov = pd.DataFrame(((Z - mu) * w[:, None]).T @ (Z - mu) / w.sum(),
                       index=[*DRV, "y"], columns=[*DRV, "y"])
    corr_res = dk.importance(corr=cov, outcome="y", method="all")
    pd.testing.assert_frame_equal(data_res.table, corr_res.table, atol=1e-10)
    stats = dk.sufficient_stats(survey, [*DRV, "y"], weights="w")
    stats_res = dk.importance(stats, "y", DRV, method="all")
    pd.testing.assert_frame_equal(data_res.table, stats_res.table, atol=1e-10)
    assert stats_res.meta["n"] == len(survey)
    with pytest.raises(DriverkitError, match="weights"):
        dk.importance(stats, "y", DRV, weights="w")


def test_corr_defaults_to_all_other_variables(survey):
    corr = survey[[*DRV, "y"]].corr()
    res = dk.importance(corr=corr, outcome="y", covariates=["x4"])
    assert list(res.table.index) == ["x0", "x1", "x2", "x3"]


def test_all_method_structure(survey):
    res = dk.importance(survey, "y", DRV, method="all")
    assert list(res.table.columns) == ["shapley", "relative_weights", "pratt", "first", "last",
                                       "betasq", "car"]
    assert set(res.results) == {*res.table.columns, "dominance"}
    for m, r in res.results.items():
        col = "shapley" if m == "dominance" else m
        np.testing.assert_allclose(r.table["importance"], res.table[col])
    assert res.results["dominance"].complete.shape == (5, 5)


def test_plot_returns_axes_and_plot_data_is_sorted(survey):
    import matplotlib.pyplot as plt

    res = dk.importance(survey, "y", DRV, groups={"stage A": ["x0", "x1"]}, bootstrap=20,
                        seed=1)
    pdata = res.plot_data()
    assert pdata["importance"].is_monotonic_decreasing
    assert {"ci_low", "ci_high", "group"} <= set(pdata.columns)
    assert pdata.loc["stage A", "group"] == "stage A"
    ax = res.plot()
    assert ax.__class__.__name__ == "Axes"
    assert len(ax.patches) >= len(res.table)
    ax2 = dk.importance(survey, "y", DRV, method="all").plot()
    assert ax2.get_legend() is not None
    plt.close("all")


def test_glm_methods_reject_linear_only_metrics(survey):
    df = survey.assign(buy=(survey["y"] > survey["y"].median()).astype(int))
    with pytest.raises(DriverkitError, match="linear models only"):
        dk.importance(df, "buy", DRV, kind="logit", method="pratt")


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"method": "lmgg"}, DriverkitError, "'method' parameter of importance"),
        ({"groups": {"A": ["x0", "nope"]}}, ColumnNotFoundError, "group 'A' names 'nope'"),
        ({"groups": {"A": ["x0"], "B": ["x0", "x1"]}}, DriverkitError, "two groups"),
        ({"groups": {"A": ["x0", "age"]}, "covariates": ["age"]}, DriverkitError,
         "'age' is both in covariates= and in the group 'A'"),
        ({"groups": {"x2": ["x0", "x1"]}}, DriverkitError, "also the name of a driver"),
        ({"groups": ["x0"]}, DriverkitTypeError, "must be a dict"),
        ({"groups": {"A": []}}, DriverkitError, "group 'A' has no drivers"),
        ({"covariates": ["x0"]}, DriverkitError, "both in drivers and in covariates"),
        ({"bootstrap": 1}, DriverkitError, "'bootstrap' parameter"),
        ({"bootstrap": 2.5}, DriverkitError, "'bootstrap' parameter"),
        ({"exact_max": 0}, DriverkitError, "'exact_max'"),
        ({"ci": 1.5}, DriverkitError, "'ci'"),
        ({"fit_index": "mcfaden"}, DriverkitError, "Did you mean 'mcfadden'"),
    ],
)
def test_bad_options(survey, kwargs, error, match):
    with pytest.raises(error, match=match):
        dk.importance(survey, "y", DRV, **kwargs)


def test_bad_matrices():
    names = ["a", "b", "y"]
    good = pd.DataFrame([[1.0, 0.2, 0.3], [0.2, 1.0, 0.4], [0.3, 0.4, 1.0]], index=names,
                        columns=names)
    nan = good.copy()
    nan.loc["a", "b"] = np.nan
    with pytest.raises(DriverkitError, match=r"NaN or infinite.*'a'"):
        dk.importance(corr=nan, outcome="y")
    sing = pd.DataFrame([[1.0, 1.0, 0.3], [1.0, 1.0, 0.3], [0.3, 0.3, 1.0]], index=names,
                        columns=names)
    with pytest.raises(DriverkitError, match="singular"):
        dk.importance(corr=sing, outcome="y")
    notpd = pd.DataFrame([[1.0, 0.9, 0.9], [0.9, 1.0, -0.9], [0.9, -0.9, 1.0]], index=names,
                         columns=names)
    with pytest.raises(DriverkitError, match="not positive definite"):
        dk.importance(corr=notpd, outcome="y")
    with pytest.raises(ColumnNotFoundError, match="'yy'"):
        dk.importance(corr=good, outcome="yy")
    with pytest.raises(DriverkitError, match="square"):
        dk.importance(corr=good.iloc[:2], outcome="y")
    with pytest.raises(DriverkitTypeError, match="labelled pandas DataFrame"):
        dk.importance(corr=good.to_numpy(), outcome="y")
    with pytest.raises(DriverkitError, match="respondent-level"):
        dk.importance(corr=good, outcome="y", kind="logit")
    with pytest.raises(DriverkitError, match="needs n="):
        dk.importance(corr=good, outcome="y", bootstrap=10)
    with pytest.raises(DriverkitError, match="either data= or corr="):
        dk.importance(pd.DataFrame({"y": [1.0]}), "y", corr=good)


def test_collinear_data_is_an_error_naming_a_driver(survey):
    df = survey.assign(x5=survey["x0"] + survey["x1"])
    with pytest.raises(DriverkitError, match=r"x[015]"):
        dk.importance(df, "y", [*DRV, "x5"])


def test_dominance_above_exact_max_is_refused(survey):
    with pytest.raises(DriverkitError, match="exact_max"):
        dk.importance(survey, "y", DRV, method="dominance", exact_max=3)


def test_does_not_mutate_input(survey):
    before = survey.copy()
    dk.importance(survey, "y", DRV, weights="w", groups={"A": ["x0", "x1"]}, bootstrap=5,
                  seed=0)
    pd.testing.assert_frame_equal(survey, before)
