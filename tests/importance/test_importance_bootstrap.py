"""Bootstrap inference for importance values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import driverkit as dk
from driverkit.exceptions import DriverkitError
from driverkit.importance._bootstrap import n_distinct_rows, resample_counts, summarize


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    rng = np.random.default_rng(21)
    n = 250
    h = rng.normal(size=n)
    df = pd.DataFrame({f"x{i}": 1.2 * h + rng.normal(0, 1, n) for i in range(4)})
    df["y"] = 0.8 * df.x0 + 0.4 * df.x1 + 0.1 * df.x2 + rng.normal(0, 1, n)
    df["w"] = rng.uniform(0.5, 2.0, n)
    df["stratum"] = rng.choice(["a", "b", "c"], n)
    return df


DRV = ["x0", "x1", "x2", "x3"]


def test_bootstrap_is_reproducible_and_intervals_contain_the_estimate(survey):
    a = dk.importance(survey, "y", DRV, bootstrap=200, seed=3)
    b = dk.importance(survey, "y", DRV, bootstrap=200, seed=3)
    c = dk.importance(survey, "y", DRV, bootstrap=200, seed=4)
    pd.testing.assert_frame_equal(a.table, b.table)
    assert not np.allclose(a.table["std_error"], c.table["std_error"])
    t = a.table
    assert list(t.columns) == ["importance", "share", "rank", "std_error", "ci_low", "ci_high",
                               "share_low", "share_high"]
    # share intervals are percentiles of the replicate shares: inside 0..100 and around the share
    assert ((0 <= t["share_low"]) & (t["share_low"] <= t["share"])).all()
    assert ((t["share"] <= t["share_high"]) & (t["share_high"] <= 100)).all()
    assert ((t["ci_low"] <= t["importance"]) & (t["importance"] <= t["ci_high"])).all()
    assert (t["std_error"] > 0).all()
    assert a.replicates.shape == (200, 4)
    # replicates are exact recomputations: each row sums to its own R²
    assert a.meta["bootstrap"] == 200


def test_replicate_equals_a_direct_fit_on_the_resample(survey):
    rng = np.random.default_rng(99)
    res = dk.importance(survey, "y", DRV, weights="w", bootstrap=3, seed=rng)
    rng2 = np.random.default_rng(99)
    counts = resample_counts(len(survey), 3, rng2)
    for b in range(3):
        rows = survey.loc[survey.index.repeat(counts[b])]
        direct = dk.importance(rows, "y", DRV, weights="w")
        np.testing.assert_allclose(res.replicates.iloc[b], direct.table["importance"],
                                   atol=1e-10)


@pytest.mark.parametrize("method", ["shapley", "relative_weights", "last", "car"])
def test_replicates_with_always_and_groups_equal_direct_fits(survey, method):
    opts = {"always": ["x3"], "groups": {"G": ["x1", "x2"]}, "weights": "w", "method": method}
    res = dk.importance(survey, "y", ["x0", "x1", "x2"], bootstrap=2, seed=5, **opts)
    counts = resample_counts(len(survey), 2, np.random.default_rng(5))
    for b in range(2):
        rows = survey.loc[survey.index.repeat(counts[b])]
        direct = dk.importance(rows, "y", ["x0", "x1", "x2"], **opts)
        np.testing.assert_allclose(res.replicates.iloc[b], direct.table["importance"],
                                   atol=1e-10)


def test_rank_and_pairwise_intervals(survey):
    res = dk.importance(survey, "y", DRV, bootstrap=300, seed=1)
    rc = res.rank_ci
    assert list(rc.columns) == ["rank", "rank_low", "rank_high", "p_top"]
    assert (rc["rank_low"] <= rc["rank"]).all() and (rc["rank"] <= rc["rank_high"]).all()
    assert rc["p_top"].sum() == pytest.approx(1.0)
    assert rc.loc["x0", "rank"] == 1 and rc.loc["x0", "rank_high"] == 1
    pw = res.pairwise
    assert len(pw) == 6
    assert list(pw.columns) == ["driver", "other", "difference", "std_error", "ci_low",
                                "ci_high", "p_greater", "p_value"]
    row = pw[(pw.driver == "x0") & (pw.other == "x3")].iloc[0]
    assert row["difference"] == pytest.approx(res.table.loc["x0", "importance"]
                                              - res.table.loc["x3", "importance"])
    assert row["ci_low"] > 0 and row["p_value"] < 0.05


def test_bca_and_strata(survey):
    res = dk.importance(survey, "y", DRV, bootstrap=150, seed=2, ci_method="bca",
                        strata="stratum", weights="w", ci=0.9)
    t = res.table
    assert ((t["ci_low"] <= t["importance"]) & (t["importance"] <= t["ci_high"])).all()
    assert res.meta["ci_method"] == "bca"
    pct = dk.importance(survey, "y", DRV, bootstrap=150, seed=2, strata="stratum",
                        weights="w", ci=0.9)
    assert not np.allclose(t["ci_low"], pct.table["ci_low"])
    # stratified resampling keeps stratum sizes
    rng = np.random.default_rng(0)
    counts = resample_counts(len(survey), 5, rng, survey["stratum"].to_numpy())
    for h in "abc":
        mask = (survey["stratum"] == h).to_numpy()
        assert (counts[:, mask].sum(axis=1) == mask.sum()).all()


def test_bootstrap_for_other_methods_and_all(survey):
    res = dk.importance(survey, "y", DRV, method="all", bootstrap=50, seed=0)
    for m in ("shapley", "relative_weights", "pratt", "first", "last", "betasq", "car"):
        t = res.results[m].table
        assert {"std_error", "ci_low", "ci_high"} <= set(t.columns)
    # the same resamples feed every method: shapley and general dominance agree
    np.testing.assert_allclose(res.results["shapley"].replicates,
                               dk.importance(survey, "y", DRV, bootstrap=50, seed=0).replicates)


def test_parametric_bootstrap_from_a_matrix(survey):
    corr = survey[[*DRV, "y"]].corr()
    res = dk.importance(corr=corr, outcome="y", n=len(survey), bootstrap=200, seed=0)
    t = res.table
    assert ((t["ci_low"] <= t["importance"]) & (t["importance"] <= t["ci_high"])).all()
    assert any("Wishart" in note for note in res.notes)
    resp = dk.importance(survey, "y", DRV, bootstrap=200, seed=0)
    # both describe the same sampling variability, roughly
    ratio = t["std_error"] / resp.table["std_error"]
    assert ((ratio > 0.5) & (ratio < 2)).all()


def test_degenerate_resamples_and_constant_data():
    # 6 respondents: some resamples are singular; they are dropped and reported, not NaN
    df = pd.DataFrame({"x0": [1.0, 2.0, 3.0, 1.0, 4.0, 2.0], "x1": [2.0, 1.0, 5.0, 2.5, 1.0, 3.0],
                       "y": [1.0, 3.0, 2.0, 1.5, 4.0, 2.0]})
    res = dk.importance(df, "y", ["x0", "x1"], bootstrap=100, seed=0)
    assert np.isfinite(res.table[["std_error", "ci_low", "ci_high"]].to_numpy()).all()
    assert any("degenerate" in note for note in res.notes)
    assert 50 < len(res.replicates) < 100
    assert np.isfinite(res.replicates.to_numpy()).all()
    same = pd.DataFrame({"x0": [1.0] * 5, "y": [2.0] * 5})
    with pytest.raises(DriverkitError, match="'x0' is constant"):
        dk.importance(same, "y", ["x0"], bootstrap=10)
    assert n_distinct_rows(np.ones((4, 2))) == 1
    assert n_distinct_rows(np.array([[1.0, 2.0], [1.0, 2.5]])) == 2


def test_summarize_rejects_all_failed_replicates():
    with pytest.raises(DriverkitError, match="Fewer than 2 bootstrap replicates"):
        summarize(np.array([0.1, 0.2]), np.full((10, 2), np.nan), ["a", "b"])


def test_failed_replicates_are_dropped_and_reported():
    est = np.array([0.3, 0.1])
    reps = np.random.default_rng(0).normal([0.3, 0.1], 0.02, size=(50, 2))
    reps[:3] = np.nan
    s = summarize(est, reps, ["a", "b"])
    assert s.n_failed == 3 and s.n_valid == 47
