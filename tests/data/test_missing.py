"""Missing answers (issue 14): na_values, the missing= policies, pooling, missing_report."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import driverkit as dk
from driverkit.data._missing import impute_chained, pool_rubin
from driverkit.stats import PairwiseStats, nearest_correlation

POLICIES = ["listwise", "pairwise", "mean", "dummy", "impute"]


@pytest.fixture(scope="module")
def survey():
    df = dk.make_survey(n=500, n_drivers=5, seed=11)
    return df, list(df.attrs["truth"]["drivers"])


@pytest.fixture(scope="module")
def holes(survey):
    df, d = survey
    rng = np.random.default_rng(5)
    out = df.copy()
    for c in d:
        out.loc[rng.random(len(out)) < 0.15, c] = np.nan
    return out, d


# ---- exactness on complete data -----------------------------------------------------------
@pytest.mark.parametrize("policy", POLICIES)
def test_every_policy_equals_listwise_on_complete_data(survey, policy):
    df, d = survey
    kind = "linear" if policy == "pairwise" else "logit"
    y = "satisfaction" if kind == "linear" else "repurchase"
    base = dk.fit(df, y, d, kind=kind)
    m = dk.fit(df, y, d, kind=kind, missing=policy, imputations=1)
    np.testing.assert_allclose(m.table[["estimate", "std_error", "ci_low", "ci_high"]],
                               base.table[["estimate", "std_error", "ci_low", "ci_high"]],
                               rtol=1e-10, atol=1e-12)
    imp0 = dk.importance(df, "satisfaction", d)
    imp = dk.importance(df, "satisfaction", d, missing=policy, imputations=1)
    np.testing.assert_allclose(imp.table["importance"], imp0.table["importance"], rtol=1e-12)


def test_one_imputation_of_complete_data_goes_through_pooling(survey):
    df, d = survey
    m = dk.fit(df, "repurchase", d, kind="logit", missing="impute", imputations=1)
    assert m.meta["missing"] == "listwise"  # nothing was missing
    # a frame with one missing outcome: the imputation path runs, drivers are complete
    df2 = df.copy()
    df2.loc[df2.index[0], "repurchase"] = np.nan
    plain = dk.fit(df2.iloc[1:], "repurchase", d, kind="logit")
    mi = dk.fit(df2, "repurchase", d, kind="logit", missing="impute", imputations=1, seed=1)
    assert mi.meta["missing"] == "impute"
    np.testing.assert_allclose(mi.table["estimate"], plain.table["estimate"], rtol=1e-9)
    np.testing.assert_allclose(mi.table["std_error"], plain.table["std_error"], rtol=1e-9)
    assert np.all(mi.table["fmi"] == 0)


# ---- pairwise -----------------------------------------------------------------------------
def _independent_pairwise_cov(frame: pd.DataFrame) -> pd.DataFrame:
    cols = list(frame.columns)
    C = np.empty((len(cols), len(cols)))
    for i, a in enumerate(cols):
        for j, b in enumerate(cols):
            if a == b:
                C[i, j] = np.var(frame[a].dropna())
            else:
                ok = frame[[a, b]].dropna()
                C[i, j] = np.cov(ok[a], ok[b], bias=True)[0, 1]
    return pd.DataFrame(C, index=cols, columns=cols)


def test_pairwise_shapley_equals_shapley_of_independent_pairwise_covariance(holes):
    df, d = holes
    res = dk.importance(df, "satisfaction", d, missing="pairwise")
    ref = dk.importance(corr=_independent_pairwise_cov(df[[*d, "satisfaction"]]),
                        outcome="satisfaction", drivers=d)
    np.testing.assert_allclose(res.table["importance"], ref.table["importance"], atol=1e-13)
    n_min = int(min(df[[a, b]].dropna().shape[0] for a in [*d, "satisfaction"]
                    for b in [*d, "satisfaction"]))
    assert res.meta["smallest_pairwise_n"] == n_min


def test_pairwise_fit_matches_normal_equations_of_pairwise_covariance(holes):
    df, d = holes
    m = dk.fit(df, "satisfaction", d, missing="pairwise")
    C = _independent_pairwise_cov(df[[*d, "satisfaction"]]).to_numpy()
    beta = np.linalg.solve(C[:-1, :-1], C[:-1, -1])
    np.testing.assert_allclose(m.params[d].to_numpy(), beta, rtol=1e-10)
    means = df[[*d, "satisfaction"]].mean().to_numpy()
    assert m.params["Intercept"] == pytest.approx(means[-1] - means[:-1] @ beta, rel=1e-10)
    assert m.n == m.meta["smallest_pairwise_n"]


def test_pairwise_stats_merge_equals_one_pass(holes):
    df, d = holes
    Z = df[[*d, "satisfaction"]].to_numpy(float)
    w = df["weight"].to_numpy(float)
    whole = PairwiseStats.from_arrays(Z, [*d, "y"], w)
    parts = PairwiseStats.from_arrays(Z[:200], [*d, "y"], w[:200]).merge(
        PairwiseStats.from_arrays(Z[200:], [*d, "y"], w[200:]))
    np.testing.assert_allclose(parts.covariance(), whole.covariance(), rtol=1e-10)
    np.testing.assert_array_equal(parts.counts, whole.counts)


def test_nearest_correlation_repairs_and_pairwise_warns():
    R = np.array([[1, 0.9, -0.9], [0.9, 1, 0.9], [-0.9, 0.9, 1.0]])
    Rc = nearest_correlation(R)
    assert np.linalg.eigvalsh(Rc)[0] > 0
    np.testing.assert_allclose(np.diag(Rc), 1.0)
    # Higham's example has a closed-form-free but known solution quality: symmetric
    np.testing.assert_allclose(Rc, Rc.T)
    # three items asked in disjoint pairs can give a non-PSD pairwise matrix
    rng = np.random.default_rng(1)
    n = 300
    z = rng.normal(size=n)
    a = z + 0.3 * rng.normal(size=n)
    b = z + 0.3 * rng.normal(size=n)
    c = -z + 0.3 * rng.normal(size=n)
    df = pd.DataFrame({"a": a, "b": b, "c": c, "y": z + rng.normal(size=n)})
    third = n // 3
    df.loc[: third - 1, "a"] = np.nan
    df.loc[third: 2 * third - 1, "b"] = np.nan
    df.loc[2 * third:, "c"] = np.nan
    df.loc[third: 2 * third - 1, "c"] = -df.loc[third: 2 * third - 1, "a"]
    with pytest.warns(dk.MissingDataWarning, match="nearest correlation"):
        dk.importance(df, "y", ["a", "b", "c"], missing="pairwise")


# ---- multiple imputation -----------------------------------------------------------------
def test_rubin_rules_against_hand_computation():
    est = np.array([[1.0, 2.0], [1.2, 2.1], [0.9, 1.8], [1.1, 2.3]])
    cov = np.stack([np.diag([0.04, 0.09])] * 4)
    out = pool_rubin(est, cov, df_complete=100)
    m = 4
    b = est.var(axis=0, ddof=1)
    t = np.array([0.04, 0.09]) + (1 + 1 / m) * b
    np.testing.assert_allclose(out["std_error"], np.sqrt(t))
    r = (1 + 1 / m) * b / np.array([0.04, 0.09])
    df_old = (m - 1) * (1 + 1 / r) ** 2
    gamma = (1 + 1 / m) * b / t
    df_obs = 101 / 103 * 100 * (1 - gamma)
    df = 1 / (1 / df_old + 1 / df_obs)
    np.testing.assert_allclose(out["df"], df)
    np.testing.assert_allclose(out["fmi"], (r + 2 / (df + 3)) / (r + 1))


def test_pmm_imputes_observed_values_only_and_is_reproducible():
    rng = np.random.default_rng(3)
    Z = np.column_stack([rng.integers(1, 11, 300), rng.integers(1, 6, 300)]).astype(float)
    Z[rng.random(300) < 0.3, 0] = np.nan
    a = impute_chained(Z, m=3, seed=9)
    b = impute_chained(Z, m=3, seed=9)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
        assert set(np.unique(x[:, 0])) <= set(np.unique(Z[~np.isnan(Z[:, 0]), 0]))
    assert not np.array_equal(a[0], a[1])


def test_mi_fit_table_has_fmi_and_wider_intervals(holes):
    df, d = holes
    mi = dk.fit(df, "repurchase", d, kind="logit", missing="impute", imputations=5, seed=2)
    assert "fmi" in mi.table.columns and (mi.table["fmi"].iloc[1:] > 0).all()
    assert mi.n == len(df) and mi.meta["imputations"] == 5
    again = dk.fit(df, "repurchase", d, kind="logit", missing="impute", imputations=5, seed=2)
    pd.testing.assert_frame_equal(mi.table, again.table)
    # Rubin's T is at least the mean within-imputation variance
    fits = mi._fit.extra["fits"]
    within = np.mean([f.std_error ** 2 for f in fits], axis=0)
    assert np.all(mi.table["std_error"].to_numpy() ** 2 >= within - 1e-15)


def test_mi_importance_averages_sets_and_pools_bootstrap(holes):
    df, d = holes
    res = dk.importance(df, "satisfaction", d, missing="impute", imputations=4,
                        bootstrap=40, seed=4)
    assert res.meta["imputations"] == 4 and res.meta["bootstrap"] == 40
    assert {"ci_low", "ci_high", "share_low", "share_high"} <= set(res.table.columns)
    assert (res.table["ci_low"] <= res.table["importance"]).all()
    assert res.replicates.shape == (40, len(d))
    # the key facts are the pooled fit's, not the first imputed set's
    assert res.meta["r2"] == res.r2
    np.testing.assert_allclose(res.table["importance"].sum(), res.r2, rtol=1e-12)


# ---- mean and dummy --------------------------------------------------------------------------
def test_mean_policy_is_ols_on_mean_filled_data(holes):
    df, d = holes
    with pytest.warns(dk.MissingDataWarning, match="shrinks variances"):
        m = dk.fit(df, "satisfaction", d, missing="mean")
    filled = df[d].fillna(df[d].mean())
    ref = sm.OLS(df["satisfaction"], sm.add_constant(filled)).fit()
    np.testing.assert_allclose(m.params.to_numpy(), ref.params.to_numpy(), rtol=1e-10)


def test_dummy_policy_adds_indicators_reported_as_covariates(holes):
    df, d = holes
    m = dk.fit(df, "satisfaction", d, missing="dummy")
    inds = [f"{c} (not answered)" for c in d]
    assert m.meta["indicators"] == inds and set(inds) <= set(m.table.index)
    X = df[d].fillna(df[d].mean()).assign(**{i: df[c].isna().astype(float)
                                            for i, c in zip(inds, d, strict=True)})
    ref = sm.OLS(df["satisfaction"], sm.add_constant(X)).fit()
    np.testing.assert_allclose(m.params.to_numpy(), ref.params.to_numpy(), rtol=1e-10)
    imp = dk.importance(df, "satisfaction", d, missing="dummy")
    assert list(imp.table.index) == d  # indicators are always-in covariates, not players
    # the simulator rebuilds the indicators and the fills on the same respondents
    sim = dk.Simulator(m, df, missing="dummy")
    assert sim.n == len(df)
    np.testing.assert_allclose(sim.kernel.v0, m.predict_design(m.design(df)))


def test_listwise_warning_names_count_share_and_costliest_column(holes):
    df, d = holes
    with pytest.warns(dk.MissingDataWarning) as rec:
        dk.fit(df, "satisfaction", d)
    msg = str(rec[0].message)
    n_drop = int(df[d].isna().any(axis=1).sum())
    assert f"dropped {n_drop} of {len(df)} rows ({n_drop / len(df):.0%})" in msg
    assert "Leaving out" in msg and "missing='impute'" in msg


# ---- na_values ---------------------------------------------------------------------------
def test_na_values_global_and_per_column_with_counts(survey):
    df, d = survey
    coded = df.copy()
    coded[d[0]] = coded[d[0]].astype(object)
    coded.loc[coded.index[:7], d[0]] = "Vet ej"
    coded.loc[coded.index[7:10], d[1]] = 99
    ref = dk.fit(df.iloc[10:], "satisfaction", d)
    with pytest.warns(dk.MissingDataWarning):
        m = dk.fit(coded, "satisfaction", d, na_values=["vet ej", 99])
    np.testing.assert_allclose(m.params, ref.params, rtol=1e-12)
    assert m.meta["na_values_removed"] == {d[0]: {"vet ej": 7}, d[1]: {"99": 3}}
    with pytest.warns(dk.MissingDataWarning):
        m2 = dk.fit(coded, "satisfaction", d, na_values={d[0]: "Vet ej", d[1]: [99.0]})
    np.testing.assert_allclose(m2.params, ref.params, rtol=1e-12)
    assert coded[d[0]].eq("Vet ej").sum() == 7  # caller's data untouched


def test_outcome_scale_can_be_declared(survey):
    df, d = survey
    bad = df.assign(satisfaction=df["satisfaction"].where(df.index > 3, 99.0))
    with pytest.warns(dk.ScaleWarning, match="outcome 'satisfaction'"):
        dk.fit(bad, "satisfaction", d, scales={"satisfaction": (1, 10)})


# ---- bad input ---------------------------------------------------------------------------
def test_bad_input_errors_name_the_columns(survey):
    df, d = survey
    with pytest.raises(dk.DataError, match=f"removes every answer of the column '{d[0]}'"):
        dk.fit(df, "satisfaction", d, na_values={d[0]: list(range(0, 11))})
    with pytest.raises(dk.DriverkitError, match=r"'imputations'.*>= 1"):
        dk.fit(df, "satisfaction", d, missing="impute", imputations=0)
    with pytest.raises(dk.DriverkitError, match=r"linear models only.*'impute'"):
        dk.fit(df, "repurchase", d, kind="logit", missing="pairwise")
    with pytest.raises(dk.DriverkitError, match="linear models only"):
        dk.importance(df, "repurchase", d, kind="logit", missing="pairwise")
    split = df.copy()
    split.loc[split.index[:250], d[0]] = np.nan
    split.loc[split.index[250:], d[1]] = np.nan
    with pytest.raises(dk.DataError, match=f"'{d[0]}' and '{d[1]}' were answered together "
                                           "by only 0"):
        dk.importance(split, "satisfaction", d, missing="pairwise")
    with pytest.raises(dk.DriverkitError, match="'missing' parameter"):
        dk.fit(df, "satisfaction", d, missing="pairwize")


def test_missing_report(holes):
    df, d = holes
    coded = df.copy()
    coded.loc[coded.index[:5], "satisfaction"] = 999
    rep = dk.missing_report(coded, ["satisfaction", *d], na_values={"satisfaction": [999]})
    assert rep.table.loc["satisfaction", "codes_removed"] == 5
    assert rep.table.loc[d[0], "missing"] == df[d[0]].isna().sum()
    complete = int(coded[["satisfaction", *d]].replace(999, np.nan).notna().all(axis=1).sum())
    assert rep.policies.loc["listwise", "rows"] == complete
    assert rep.patterns["rows"].iloc[0] == max(rep.patterns["rows"])
    assert "Missing answers" in rep.summary() and "<" in rep._repr_html_()


def test_policies_never_mutate(holes):
    df, d = holes
    before = df.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for pol in POLICIES:
            dk.fit(df, "satisfaction", d, missing=pol, imputations=2, seed=1)
    pd.testing.assert_frame_equal(df, before)


def test_pairwise_stats_streamed_from_a_file_and_dask(holes, tmp_path):
    from driverkit.stats import pairwise_stats

    df, d = holes
    cols = [*d, "satisfaction"]
    whole = PairwiseStats.from_arrays(df[cols].to_numpy(float), cols,
                                      df["weight"].to_numpy(float))
    p = tmp_path / "gaps.csv"
    df.to_csv(p, index=False)
    streamed = pairwise_stats(p, cols, weights="weight", chunksize=97)
    np.testing.assert_allclose(streamed.covariance(), whole.covariance(), rtol=1e-10)
    np.testing.assert_array_equal(streamed.counts, whole.counts)
    st, _ = streamed.to_sufficient()
    res = dk.importance(st, "satisfaction", d)
    ref = dk.importance(df, "satisfaction", d, weights="weight", missing="pairwise")
    np.testing.assert_allclose(res.table["importance"], ref.table["importance"], rtol=1e-9)
    dd = pytest.importorskip("dask.dataframe")
    ddf = dd.from_pandas(df[[*cols, "weight"]], npartitions=3)
    on_dask = pairwise_stats(ddf, cols, weights="weight")
    np.testing.assert_allclose(on_dask.covariance(), whole.covariance(), rtol=1e-10)
