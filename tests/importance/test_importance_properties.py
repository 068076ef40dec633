"""Properties of the importance measures (hypothesis) and sampling vs exact."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import driverkit as dk
from driverkit.importance._sampling import sample_shapley
from driverkit.importance._shapley import shapley_values
from driverkit.stats._subsets import subset_values


def _frame(seed: int, n: int = 120, m: int = 5, halo: float = 0.8) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    h = rng.normal(size=n)
    X = halo * h[:, None] + rng.normal(size=(n, m))
    y = X @ rng.uniform(-0.3, 1.0, m) + rng.normal(size=n)
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(m)])
    df["y"] = y
    df["w"] = rng.uniform(0.5, 2.0, n)
    return df


SETTINGS = settings(max_examples=15, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
seeds = st.integers(0, 10_000)


@SETTINGS
@given(seed=seeds, m=st.integers(2, 7))
def test_shapley_and_relative_weights_sum_to_r2(seed, m):
    df = _frame(seed, m=m)
    drivers = [f"x{i}" for i in range(m)]
    for method in ("shapley", "relative_weights", "pratt", "car"):
        res = dk.importance(df, "y", drivers, method=method, weights="w")
        assert res.table["importance"].sum() == pytest.approx(res.r2, abs=1e-10)
        assert res.table["share"].sum() == pytest.approx(100.0)
        assert sorted(res.table["rank"]) == list(range(1, m + 1)) or res.table[
            "importance"].duplicated().any()


@SETTINGS
@given(seed=seeds, factor=st.floats(0.01, 1000.0), shift=st.floats(-100, 100))
def test_invariant_to_rescaling_a_driver(seed, factor, shift):
    df = _frame(seed)
    drivers = list(df.columns[:5])
    base = dk.importance(df, "y", drivers, method="all")
    df2 = df.copy()
    df2["x2"] = df2["x2"] * factor + shift
    moved = dk.importance(df2, "y", drivers, method="all")
    pd.testing.assert_frame_equal(base.table, moved.table, atol=1e-8, rtol=0)


@SETTINGS
@given(seed=seeds, perm=st.permutations(list(range(5))))
def test_invariant_to_column_order(seed, perm):
    df = _frame(seed)
    drivers = [f"x{i}" for i in range(5)]
    shuffled = [drivers[i] for i in perm]
    a = dk.importance(df, "y", drivers, method="dominance")
    b = dk.importance(df, "y", shuffled, method="dominance")
    pd.testing.assert_frame_equal(a.table.loc[drivers, ["importance", "share"]],
                                  b.table.loc[drivers, ["importance", "share"]], atol=1e-12)
    pd.testing.assert_frame_equal(b.conditional.loc[drivers], a.conditional.loc[drivers],
                                  atol=1e-12)
    pd.testing.assert_frame_equal(b.complete.loc[drivers, drivers], a.complete, atol=0)


@SETTINGS
@given(r=st.floats(0.0, 0.8), rxy=st.floats(0.1, 0.5), p=st.integers(2, 6))
def test_exchangeable_drivers_get_equal_shares(r, rxy, p):
    # equicorrelated drivers with equal correlations to y: every metric is symmetric
    names = [f"d{i}" for i in range(p)]
    C = np.full((p + 1, p + 1), r)
    np.fill_diagonal(C, 1.0)
    C[-1, :-1] = C[:-1, -1] = rxy
    if np.linalg.eigvalsh(C)[0] <= 1e-6:
        return
    corr = pd.DataFrame(C, index=[*names, "y"], columns=[*names, "y"])
    res = dk.importance(corr=corr, outcome="y", method="all")
    for col in res.table:
        np.testing.assert_allclose(res.table[col], res.table[col].iloc[0], atol=1e-12)
    dom = res.results["dominance"]
    off = dom.complete.to_numpy()[~np.eye(p, dtype=bool)]
    np.testing.assert_allclose(off, 0.5)


@SETTINGS
@given(seed=seeds, which=st.integers(0, 4))
def test_group_of_one_equals_the_driver(seed, which):
    df = _frame(seed)
    drivers = [f"x{i}" for i in range(5)]
    plain = dk.importance(df, "y", drivers, method="all")
    grouped = dk.importance(df, "y", drivers, method="all", groups={"G": [drivers[which]]})
    expect = plain.table.rename(index={drivers[which]: "G"})
    pd.testing.assert_frame_equal(grouped.table, expect, atol=1e-12, check_names=False)


def test_groups_match_explicit_subset_definition():
    df = _frame(4, m=6)
    drivers = [f"x{i}" for i in range(6)]
    res = dk.importance(df, "y", drivers, groups={"A": ["x0", "x3"], "B": ["x1", "x2", "x5"]})
    assert list(res.table.index) == ["A", "B", "x4"]
    assert res.groups["A"] == ["x0", "x3"]
    # the value of a coalition uses all members: check with the kernel directly
    R = df[[*drivers, "y"]].corr().to_numpy()
    v = subset_values(R, [[0, 3], [1, 2, 5], [4]])
    np.testing.assert_allclose(res.table["importance"], shapley_values(v), atol=1e-12)
    assert res.table["importance"].sum() == pytest.approx(res.r2)


def test_sampling_shapley_within_a_few_mc_se_of_exact():
    rng = np.random.default_rng(12)
    p = 12
    h = rng.normal(size=1000)
    X = 0.8 * h[:, None] + rng.normal(size=(1000, p))
    y = X @ rng.uniform(0, 1, p) + 2 * rng.normal(size=1000)
    R = np.corrcoef(np.column_stack([X, y]), rowvar=False)
    players = [[j] for j in range(p)]
    exact = shapley_values(subset_values(R, players))
    res = sample_shapley(R, players, tolerance=5e-4, rng=np.random.default_rng(1))
    assert res.stopped_by == "tolerance"
    assert res.std_error.max() <= 5e-4
    z = (res.values - exact) / res.std_error
    assert np.max(np.abs(z)) < 4.5
    assert res.values.sum() == pytest.approx(exact.sum(), abs=1e-12)


def test_sampling_is_used_above_exact_max_and_reports_mc_se():
    df = _frame(3, m=8)
    drivers = [f"x{i}" for i in range(8)]
    exact = dk.importance(df, "y", drivers)
    sampled = dk.importance(df, "y", drivers, exact_max=6, tolerance=2e-3, seed=5)
    assert "mc_se" in sampled.table
    assert sampled.diagnostics["sampled"] is True
    assert sampled.diagnostics["stopped_by"] == "tolerance"
    assert len(sampled.table) == 8  # no driver dropped
    diff = (sampled.table["importance"] - exact.table["importance"]).abs()
    assert (diff <= 5 * sampled.table["mc_se"] + 1e-9).all()
    again = dk.importance(df, "y", drivers, exact_max=6, tolerance=2e-3, seed=5)
    pd.testing.assert_frame_equal(sampled.table, again.table)
    assert any("sampling" in n for n in sampled.notes)


def test_sampling_budget_is_reported():
    df = _frame(3, m=8)
    drivers = [f"x{i}" for i in range(8)]
    with pytest.warns(dk.ConvergenceWarning, match="max_permutations"):
        res = dk.importance(df, "y", drivers, exact_max=4, tolerance=1e-9,
                            max_permutations=200, seed=1)
    assert res.diagnostics["stopped_by"] == "max_permutations"
    assert res.diagnostics["n_permutations"] <= 200


def test_sampling_with_always_and_groups_matches_exact():
    df = _frame(9, m=8)
    drivers = [f"x{i}" for i in range(7)]
    opts = {"always": ["x7"], "groups": {"G": ["x0", "x5"]}}
    exact = dk.importance(df, "y", drivers, **opts)
    sampled = dk.importance(df, "y", drivers, exact_max=3, tolerance=2e-4, seed=2, **opts)
    z = (sampled.table["importance"] - exact.table["importance"]) / sampled.table["mc_se"]
    assert z.abs().max() < 4.5
    assert sampled.table["importance"].sum() == pytest.approx(exact.r2 - exact.r2_always)
