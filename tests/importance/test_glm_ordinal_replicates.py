"""Bootstrap replicates of ordinal importance fitted together from the full-sample fits:
every subset model equals a plain per-replicate refit, for groups, covariates, weights and
fit indices; whatever the shared steps and Newton passes do not settle goes to the
step-halving refit, and a resample that loses a category is left to the caller's refit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import driverkit as dk
from driverkit.importance._bootstrap import resample_counts
from driverkit.importance._glm import glm_subset_values
from driverkit.importance._glm_boot import OK, replicate_values
from driverkit.importance._glm_ordinal_replicates import ordinal_replicate_fits
from driverkit.importance._shapley import LatticeSums


def _ratings(n: int, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = np.round(np.clip(6 + 1.5 * rng.normal(size=(n, 1)) + rng.normal(size=(n, k)), 1, 10))
    eta = (X - 6) @ np.linspace(0.5, 0.0, k)
    y = np.digitize(eta + rng.logistic(size=n), [-1.5, -0.5, 0.5, 1.5]).astype(float)
    return X, y


@pytest.mark.parametrize("weight_type", ["sampling", "frequency"])
def test_every_subset_equals_a_plain_refit(weight_type):
    X, y = _ratings(220, 5, seed=1)
    rng = np.random.default_rng(2)
    w = rng.uniform(0.5, 2.0, 220)
    if weight_type == "frequency":
        w = np.round(w * 2)
    opts = dict(players=[[0], [1, 2], [3]], always=[4], weight_type=weight_type)
    full = glm_subset_values(X, y, w, kind="ordinal", **opts)
    W = resample_counts(220, 5, rng) * w
    fits = ordinal_replicate_fits(X, y, W, full, **opts)
    assert fits.converged.all()
    assert np.all(fits.fast == 8)  # every subset settled without the step-halving refit
    for b in range(5):
        plain = glm_subset_values(X, y, W[b], kind="ordinal", **opts)
        np.testing.assert_allclose(fits.loglike[b], plain.loglike, rtol=0,
                                   atol=1e-9 * abs(plain.loglike_null))
        assert fits.loglike_null[b] == pytest.approx(plain.loglike_null, abs=1e-9)
        assert fits.n[b] == pytest.approx(plain.n)


@pytest.mark.parametrize("fit_index", ["mcfadden", "nagelkerke"])
def test_replicate_values_equal_the_engine_refits(fit_index):
    X, y = _ratings(180, 4, seed=3)
    full = glm_subset_values(X, y, kind="ordinal", fit_index=fit_index)
    W = resample_counts(180, 4, np.random.default_rng(4)).astype(float)
    v_fast, st_fast = replicate_values(X, y, W, full, kind="ordinal", fit_index=fit_index)
    v_eng, st_eng = replicate_values(X, y, W, full, kind="ordinal", fit_index=fit_index,
                                     fast=False)
    assert st_fast.tolist() == st_eng.tolist() == [OK] * 4
    np.testing.assert_allclose(v_fast, v_eng, rtol=0, atol=1e-9)


def test_unsettled_subsets_go_to_the_step_halving_refit():
    X, y = _ratings(160, 3, seed=5)
    full = glm_subset_values(X, y, kind="ordinal")
    W = resample_counts(160, 3, np.random.default_rng(6)).astype(float)
    fits = ordinal_replicate_fits(X, y, W, full, max_iter=0)  # no Newton pass at all
    assert fits.converged.all() and np.all(fits.fast == 0)
    for b in range(3):
        np.testing.assert_allclose(fits.loglike[b],
                                   glm_subset_values(X, y, W[b], kind="ordinal").loglike,
                                   rtol=0, atol=1e-8)


def test_a_resample_without_a_category_is_left_to_the_caller():
    X, y = _ratings(200, 3, seed=7)
    full = glm_subset_values(X, y, kind="ordinal")
    W = resample_counts(200, 3, np.random.default_rng(8)).astype(float)
    W[1, y == 4] = 0.0  # the top category drops out: one cut point fewer
    fits = ordinal_replicate_fits(X, y, W, full)
    assert np.all(np.isnan(fits.loglike[1])) and not fits.converged[1].any()
    assert fits.converged[[0, 2]].all()
    v, status = replicate_values(X, y, W, full, kind="ordinal")
    assert status.tolist() == [OK] * 3  # refitted by the all-subsets engine instead
    np.testing.assert_allclose(v[1], glm_subset_values(X, y, W[1], kind="ordinal").v,
                               rtol=0, atol=1e-9)


def test_bootstrap_intervals_equal_plain_refits_with_groups_and_covariates():
    X, y = _ratings(200, 4, seed=9)
    df = pd.DataFrame(X, columns=["a", "b", "c", "age"])
    df["y"] = y
    res = dk.importance(df, "y", ["a", "b", "c"], kind="ordinal", covariates=["age"],
                        groups={"ab": ["a", "b"]}, bootstrap=12, seed=3, n_jobs=2,
                        progress=False)
    counts = resample_counts(200, 12, np.random.default_rng(3)).astype(float)
    names = list(res.table.index)
    cols = {"ab": [0, 1], "c": [2]}
    players = [cols[nm] for nm in names]
    plain = []
    for c in counts:
        fit = glm_subset_values(X, y, c, kind="ordinal", players=players, always=[3])
        acc = LatticeSums(len(players))
        acc.add(fit.v, 0)
        plain.append(acc.shapley()[0])
    plain = np.array(plain)
    np.testing.assert_allclose(res.replicates.to_numpy(), plain, atol=1e-6)
    np.testing.assert_allclose(res.table["std_error"], plain.std(axis=0, ddof=1), atol=1e-6)
    np.testing.assert_allclose(res.table["ci_low"], np.quantile(plain, 0.025, axis=0),
                               atol=1e-6)
