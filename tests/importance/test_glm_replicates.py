"""GLM importance: bootstrap replicates (checked, refitted, counted), sampled Shapley values
above the exact limit, the events-per-parameter warning, and a regression fixture."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import driverkit as dk
from driverkit.exceptions import DriverkitError, DriverkitWarning, SmallSampleWarning
from driverkit.importance._bootstrap import resample_counts
from driverkit.importance._glm import glm_mask_values, glm_subset_values
from driverkit.importance._glm_boot import FAILED, OK, REFITTED, fits_consistent, replicate_values
from driverkit.importance._shapley import LatticeSums


def _survey(n: int, p: int, seed: int, events: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = np.round(np.clip(6 + 1.5 * rng.normal(size=(n, 1)) + rng.normal(size=(n, p)), 1, 10))
    eta = events + (X - 6) @ np.linspace(0.6, 0.0, p)
    df = pd.DataFrame(X, columns=[f"q{j}" for j in range(p)])
    df["y"] = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    return df


def _shapley(v: np.ndarray, p: int) -> np.ndarray:
    acc = LatticeSums(p)
    acc.add(v, 0)
    return acc.shapley()[0]


# --------------------------------------------------------------------------------------
# regression fixture: the engine keeps the 0.1 numbers
# --------------------------------------------------------------------------------------
def test_subset_values_match_the_stored_fixture(ref):
    d = np.load(ref("glm_subset_values_v0_1.npz"))
    X, yl, yo, w = d["X"], d["y_logit"], d["y_ordinal"], d["w"]
    np.testing.assert_allclose(glm_subset_values(X, yl).v, d["v_logit"], atol=1e-8)
    np.testing.assert_allclose(glm_subset_values(X, yo, kind="ordinal").v, d["v_ordinal"],
                               atol=1e-8)
    np.testing.assert_allclose(glm_subset_values(X, yl, w, fit_index="nagelkerke").v,
                               d["v_weighted_nagelkerke"], atol=1e-8)
    np.testing.assert_allclose(
        glm_subset_values(X, yl, players=[[0], [1], [2, 3]], always=[4]).v,
        d["v_groups_always"], atol=1e-8)


@pytest.mark.parametrize("kind", ["logit", "ordinal"])
def test_mask_values_equal_the_all_subsets_engine(ref, kind):
    d = np.load(ref("glm_subset_values_v0_1.npz"))
    X, w = d["X"], d["w"]
    y = d["y_logit"] if kind == "logit" else d["y_ordinal"]
    masks = np.array([5, 1, 0b111, 0b1010, 15, 0])
    full = glm_subset_values(X, y, w, kind=kind, always=[4])
    got = glm_mask_values(X, y, masks, w, kind=kind, always=[4])
    np.testing.assert_allclose(got, full.v[masks], atol=1e-9)


# --------------------------------------------------------------------------------------
# bootstrap replicates
# --------------------------------------------------------------------------------------
def test_bootstrap_equals_a_plain_refit_of_each_resample():
    df = _survey(160, 4, seed=11)
    drivers = [f"q{j}" for j in range(4)]
    res = dk.importance(df, "y", drivers, kind="logit", bootstrap=20, seed=5, n_jobs=1)
    # the same resamples, each refitted from scratch by the all-subsets engine
    counts = resample_counts(len(df), 20, np.random.default_rng(5)).astype(float)
    X, y = df[drivers].to_numpy(float), df["y"].to_numpy(float)
    plain = np.array([_shapley(glm_subset_values(X, y, c).v, 4) for c in counts])
    np.testing.assert_allclose(res.replicates.to_numpy(), plain, atol=1e-6)
    np.testing.assert_allclose(res.table["std_error"], plain.std(axis=0, ddof=1), atol=1e-6)
    np.testing.assert_allclose(res.table["ci_low"], np.quantile(plain, 0.025, axis=0),
                               atol=1e-6)
    assert res.meta["replicates_failed"] == 0
    assert res.meta["replicates_refitted"] == 0


def test_bootstrap_does_not_depend_on_the_number_of_threads():
    df = _survey(120, 3, seed=3)
    kw = dict(kind="logit", bootstrap=60, seed=9)
    one = dk.importance(df, "y", ["q0", "q1", "q2"], n_jobs=1, **kw)
    two = dk.importance(df, "y", ["q0", "q1", "q2"], n_jobs=2, **kw)
    pd.testing.assert_frame_equal(one.table, two.table)
    pd.testing.assert_frame_equal(one.replicates, two.replicates)


def test_a_diverging_warm_start_is_refitted_not_averaged_in():
    # the blow-up class: a warm start far from the replicate's optimum (as after a
    # near-separated resample) must not leak a diverged fit into the replicates
    df = _survey(150, 3, seed=4)
    X, y = df[["q0", "q1", "q2"]].to_numpy(float), df["y"].to_numpy(float)
    full = glm_subset_values(X, y)
    W = np.random.default_rng(0).multinomial(150, np.full(150, 1 / 150), size=3).astype(float)
    full.coef = full.coef * 1e4  # absurd starting values
    v, status = replicate_values(X, y, W, full)
    assert set(status.tolist()) <= {OK, REFITTED}
    for b in range(3):
        np.testing.assert_allclose(v[b], glm_subset_values(X, y, W[b]).v, atol=1e-8)


def test_inconsistent_fits_are_rejected():
    ll0 = -100.0
    parents = np.array([0, 0, 0, 2])
    good = np.array([-100.0, -90.0, -95.0, -85.0])
    v = 1 - good / ll0
    assert fits_consistent(good, ll0, parents, v)
    blown = good.copy()
    blown[3] = -5e13  # the signature of the reported blow-up
    assert not fits_consistent(blown, ll0, parents, 1 - blown / ll0)
    worse_than_parent = good.copy()
    worse_than_parent[3] = -96.0
    assert not fits_consistent(worse_than_parent, ll0, parents, v)
    assert not fits_consistent(np.r_[good[:3], np.nan], ll0, parents, v)


def test_replicates_failing_twice_are_dropped_and_counted():
    df = _survey(150, 2, seed=8)
    X, y = df[["q0", "q1"]].to_numpy(float), df["y"].to_numpy(float)
    full = glm_subset_values(X, y)
    W = np.ones((2, 150))
    W[1, y == 1] = 0.0  # a resample without events: no logit exists
    v, status = replicate_values(X, y, W, full)
    assert status.tolist() == [OK, FAILED]
    assert np.all(np.isnan(v[1])) and np.all(np.isfinite(v[0]))


def test_small_top_box_survey_gives_sane_standard_errors(ref):
    # 250 respondents, a top-2-box outcome (22 % events) and correlated 1-10 ratings: the
    # setting in which resamples come close to separation
    mobi = pd.read_csv(ref("mobi.csv"))
    mobi["top2"] = (mobi["CUSA3"] >= 9).astype(int)
    drivers = ["IMAG1", "IMAG2", "IMAG4", "PERQ1", "PERQ3", "PERQ7", "PERV1", "PERV2"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        res = dk.importance(mobi, "top2", drivers, kind="logit", bootstrap=30, seed=1)
    se = res.table["std_error"]
    assert np.all(np.isfinite(se)) and se.max() < 0.1
    assert res.meta["replicates_failed"] + len(res.replicates) == 30
    assert ((res.replicates.to_numpy() > -1e-9) & (res.replicates.to_numpy() < 1)).all()
    assert np.all(res.table["ci_low"] <= res.table["importance"] + 1e-12)


def test_fewer_than_ten_events_per_parameter_warns_with_the_counts():
    df = _survey(80, 4, seed=2, events=-2.0)
    events = int(df["y"].sum())
    with pytest.warns(SmallSampleWarning, match=rf"{events} events .* 4 parameters"):
        dk.importance(df, "y", ["q0", "q1", "q2", "q3"], kind="logit")


# --------------------------------------------------------------------------------------
# above the exact limit: sampled Shapley values
# --------------------------------------------------------------------------------------
def test_glm_shapley_is_sampled_above_exact_max_and_close_to_exact():
    df = _survey(300, 5, seed=6)
    drivers = [f"q{j}" for j in range(5)]
    exact = dk.importance(df, "y", drivers, kind="logit")
    with pytest.warns(DriverkitWarning, match="sampled: p = 5 is above exact_max = 3"):
        sampled = dk.importance(df, "y", drivers, kind="logit", exact_max=3, seed=0,
                                tolerance=2e-4, max_time=30)
    t = sampled.table
    assert sampled.meta["sampled"] and sampled.diagnostics["stopped_by"] == "tolerance"
    assert abs(sampled.r2 - exact.r2) < 1e-10
    assert abs(t["importance"].sum() - exact.r2) < 1e-10  # every order adds up exactly
    diff = np.abs(t["importance"] - exact.table["importance"])
    assert np.all(diff <= 5 * t["mc_se"] + 1e-6)


def test_sampling_keeps_max_time_and_dominance_refuses():
    df = _survey(200, 14, seed=7)
    drivers = [f"q{j}" for j in range(14)]
    with pytest.warns(DriverkitWarning, match="more than max_time"):
        res = dk.importance(df, "y", drivers, kind="logit", max_time=0.2, seed=0)
    assert res.diagnostics["stopped_by"] in {"max_time", "tolerance"}
    assert res.diagnostics["sampling_seconds"] < 3.0
    with pytest.raises(DriverkitError, match="needs all 2\\^14 subset fits"):
        dk.importance(df, "y", drivers, kind="logit", method="dominance", max_time=0.2)
    with pytest.raises(DriverkitError, match="bootstrap"):
        dk.importance(df, "y", drivers, kind="logit", exact_max=10, bootstrap=10)
