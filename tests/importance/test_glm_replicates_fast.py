"""Bootstrap replicates of logit importance fitted together from the full-sample solutions:
every subset model equals a plain per-replicate refit, for groups, covariates, weights and
every fit index, and the engine takes over whatever the shared steps do not settle."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import driverkit as dk
from driverkit.importance._bootstrap import resample_counts
from driverkit.importance._glm import FIT_INDICES, glm_subset_values
from driverkit.importance._glm_boot import OK, replicate_values
from driverkit.importance._glm_replicates import logit_replicate_fits
from driverkit.importance._shapley import LatticeSums


def _ratings(n: int, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = np.round(np.clip(6 + 1.5 * rng.normal(size=(n, 1)) + rng.normal(size=(n, k)), 1, 10))
    eta = -0.4 + (X - 6) @ np.linspace(0.5, 0.0, k)
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    return X, y


@pytest.mark.parametrize("weight_type", ["sampling", "frequency"])
def test_every_subset_equals_a_plain_refit(weight_type):
    X, y = _ratings(180, 5, seed=1)
    rng = np.random.default_rng(2)
    w = rng.uniform(0.5, 2.0, 180)
    if weight_type == "frequency":
        w = np.round(w * 2)
    opts = dict(players=[[0], [1, 2], [3]], always=[4], weight_type=weight_type)
    full = glm_subset_values(X, y, w, **opts)
    W = resample_counts(180, 6, rng) * w
    fits = logit_replicate_fits(X, y, W, full, **opts)
    assert fits.converged.all()
    assert np.all(fits.fast == 8)  # every subset settled by the shared steps, no fallback
    for b in range(6):
        plain = glm_subset_values(X, y, W[b], **opts)
        np.testing.assert_allclose(fits.loglike[b], plain.loglike, rtol=0,
                                   atol=1e-9 * abs(plain.loglike_null))
        assert fits.loglike_null[b] == pytest.approx(plain.loglike_null, abs=1e-9)
        assert fits.n[b] == pytest.approx(plain.n)


@pytest.mark.parametrize("fit_index", FIT_INDICES)
def test_replicate_values_equal_plain_refits_for_every_index(fit_index):
    X, y = _ratings(150, 3, seed=3)
    full = glm_subset_values(X, y, fit_index=fit_index)
    W = resample_counts(150, 4, np.random.default_rng(4)).astype(float)
    v, status = replicate_values(X, y, W, full, fit_index=fit_index)
    assert status.tolist() == [OK] * 4
    for b in range(4):
        np.testing.assert_allclose(v[b], glm_subset_values(X, y, W[b], fit_index=fit_index).v,
                                   rtol=0, atol=1e-9)


def test_subsets_the_shared_steps_do_not_settle_go_to_the_engine():
    X, y = _ratings(160, 4, seed=5)
    full = glm_subset_values(X, y)
    W = resample_counts(160, 3, np.random.default_rng(6)).astype(float)
    fits = logit_replicate_fits(X, y, W, full, max_iter=0)  # no checked iterate at all
    assert fits.converged.all() and np.all(fits.fast == 0)
    for b in range(3):
        np.testing.assert_allclose(fits.loglike[b], glm_subset_values(X, y, W[b]).loglike,
                                   rtol=0, atol=1e-8)


def test_a_resample_without_a_logit_is_left_to_the_caller():
    X, y = _ratings(120, 2, seed=7)
    full = glm_subset_values(X, y)
    W = np.ones((2, 120))
    W[1, y == 0] = 0.0  # only events: no logit
    fits = logit_replicate_fits(X, y, W, full)
    assert np.all(np.isnan(fits.loglike[1])) and not fits.converged[1].any()
    assert fits.converged[0].all()


def test_bootstrap_intervals_equal_plain_refits_with_groups_and_covariates():
    X, y = _ratings(200, 4, seed=8)
    df = pd.DataFrame(X, columns=["a", "b", "c", "age"])
    df["y"] = y
    res = dk.importance(df, "y", ["a", "b", "c"], kind="logit", covariates=["age"],
                        groups={"ab": ["a", "b"]}, bootstrap=15, seed=3, n_jobs=2)
    counts = resample_counts(200, 15, np.random.default_rng(3)).astype(float)
    names = list(res.table.index)
    cols = {"ab": [0, 1], "c": [2]}
    players = [cols[nm] for nm in names]
    plain = []
    for c in counts:
        fit = glm_subset_values(X, y, c, players=players, always=[3])
        acc = LatticeSums(len(players))
        acc.add(fit.v, 0)
        plain.append(acc.shapley()[0])
    plain = np.array(plain)
    np.testing.assert_allclose(res.replicates.to_numpy(), plain, atol=1e-6)
    np.testing.assert_allclose(res.table["std_error"], plain.std(axis=0, ddof=1), atol=1e-6)
    np.testing.assert_allclose(res.table["ci_high"], np.quantile(plain, 0.975, axis=0),
                               atol=1e-6)


def test_fast_and_engine_replicates_agree_and_keep_the_checks():
    X, y = _ratings(140, 3, seed=9)
    full = glm_subset_values(X, y, fit_index="nagelkerke")
    W = resample_counts(140, 5, np.random.default_rng(10)).astype(float)
    W[4, y == 1] = 0.0  # no events: no logit, on either path
    v_fast, st_fast = replicate_values(X, y, W, full, fit_index="nagelkerke")
    v_eng, st_eng = replicate_values(X, y, W, full, fit_index="nagelkerke", fast=False)
    assert st_fast.tolist() == st_eng.tolist() == [OK] * 4 + [2]
    np.testing.assert_allclose(v_fast[:4], v_eng[:4], rtol=0, atol=1e-9)
    assert np.all(np.isnan(v_fast[4]))


def test_inverse_factors_give_the_inverse_or_pseudo_inverse():
    from driverkit.importance._glm_replicates import _inv_factor

    rng = np.random.default_rng(11)
    A = rng.normal(size=(4, 4, 9))
    N = A @ A.transpose(0, 2, 1)
    N[1, 2, :] = N[1, :, 2] = 0.0  # a column constant on a resample's rows: singular
    N[3, 0, 0] = np.nan
    F = _inv_factor(N)
    for b in (0, 2):
        np.testing.assert_allclose(F[b].T @ F[b], np.linalg.inv(N[b]), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(F[1].T @ F[1], np.linalg.pinv(N[1], hermitian=True), atol=1e-10)
    assert np.all(np.isnan(F[3]))
    good = _inv_factor(N[[0, 2]])  # all positive definite: the batched Cholesky path
    np.testing.assert_allclose(good, F[[0, 2]], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("weight_type", ["sampling", "frequency"])
def test_float32_chord_steps_keep_every_subset_equal_to_a_plain_refit(monkeypatch, weight_type):
    # forcing every subset through the float32 chord steps (the small-sample path) must not
    # move any value: acceptance is decided by the float64 check, with the stricter limit
    # of a stale information matrix
    from driverkit.importance import _glm_replicates as gr

    monkeypatch.setattr(gr, "_F32_NEWTON", 0.0)
    X, y = _ratings(90, 5, seed=12)
    rng = np.random.default_rng(13)
    w = rng.uniform(0.5, 2.0, 90)
    if weight_type == "frequency":
        w = np.round(w * 2)
    opts = dict(players=[[0, 1], [2], [3]], always=[4], weight_type=weight_type)
    full = glm_subset_values(X, y, w, **opts)
    W = resample_counts(90, 5, rng) * w
    fits = logit_replicate_fits(X, y, W, full, **opts)
    assert fits.converged.all()
    for b in range(5):
        plain = glm_subset_values(X, y, W[b], **opts)
        np.testing.assert_allclose(fits.loglike[b], plain.loglike, rtol=0,
                                   atol=1e-9 * abs(plain.loglike_null))


def test_a_separating_resample_is_handed_to_the_engine_not_accepted_early():
    # a resample in which a driver separates the outcome: the subsets holding it have no
    # finite optimum and their likelihood creeps to 0, which the quadratic model of the fast
    # steps underestimates, so they go to the engine and end as a plain refit does
    X, y = _ratings(120, 3, seed=14)
    full = glm_subset_values(X, y)
    W = resample_counts(120, 3, np.random.default_rng(15)).astype(float)
    sep = (X[:, 0] >= np.median(X[:, 0])) == (y == 1)
    W[2, ~sep] = 0.0  # resample 2 keeps only rows that q0 separates
    fits = logit_replicate_fits(X, y, W, full)
    assert fits.fast[2] == 3  # the four subsets with q0 were not accepted by the fast steps
    v, status = replicate_values(X, y, W, full)
    assert status.tolist() == [OK] * 3
    for b in range(3):
        plain = glm_subset_values(X, y, W[b], quiet=True)
        assert plain.converged.all()
        np.testing.assert_allclose(v[b], plain.v, rtol=0, atol=1e-9)
    np.testing.assert_allclose(v[2, [1, 3, 5, 7]], 1.0, atol=1e-9)  # the perfect-fit limit
