"""The batched GLM subset kernel: every subset against statsmodels, warm starts, weights."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from statsmodels.miscmodels.ordinal_model import OrderedModel

from driverkit.importance._glm import (
    fit_index_value,
    glm_subset_values,
    logistic_relative_weights,
)


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(7)
    n, k = 400, 5
    X = rng.normal(size=(n, k))
    X[:, 1] += 0.6 * X[:, 0]
    eta = X @ [0.9, 0.4, -0.5, 0.0, 0.2]
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    yo = np.digitize(eta + rng.logistic(size=n), [-1.0, 0.0, 1.2])
    w = rng.uniform(0.3, 3.0, n)
    return X, y, yo, w


@pytest.mark.parametrize("fit_index", ["mcfadden", "nagelkerke", "cox_snell", "estrella"])
def test_every_logit_subset_against_statsmodels(problem, fit_index):
    X, y, _, w = problem
    n, k = X.shape
    res = glm_subset_values(X, y, w, fit_index=fit_index)
    lw = w * n / w.sum()
    for mask in range(1, 1 << k):
        cols = [j for j in range(k) if mask >> j & 1]
        ref = sm.GLM(y, sm.add_constant(X[:, cols]), family=sm.families.Binomial(),
                     var_weights=lw).fit(tol=1e-12)
        assert res.loglike[mask] == pytest.approx(ref.llf, abs=1e-8)
        assert res.v[mask] == pytest.approx(fit_index_value(ref.llf, ref.llnull, n, fit_index),
                                            abs=1e-9)


def test_every_ordinal_subset_against_statsmodels(problem):
    X, _, yo, _ = problem
    res = glm_subset_values(X[:, :3], yo, kind="ordinal")
    for mask in range(1, 8):
        cols = [j for j in range(3) if mask >> j & 1]
        ref = OrderedModel(yo, X[:, cols], distr="logit").fit(method="newton", disp=0,
                                                                maxiter=200)
        assert res.loglike[mask] == pytest.approx(ref.llf, abs=1e-7)


def test_warm_start_gives_the_same_fits(problem):
    X, y, _, _ = problem
    full = glm_subset_values(X, y)
    w = np.random.default_rng(1).multinomial(len(y), np.ones(len(y)) / len(y)).astype(float)
    cold = glm_subset_values(X, y, w)
    warm = glm_subset_values(X, y, w, start=full)
    np.testing.assert_allclose(warm.v, cold.v, atol=1e-12)
    assert warm.iterations <= cold.iterations


def test_players_and_always(problem):
    X, y, _, _ = problem
    res = glm_subset_values(X, y, players=[[0, 1], [2]], always=[3, 4])
    base = sm.Logit(y, sm.add_constant(X[:, [3, 4]])).fit(disp=0, tol=1e-12)
    full = sm.Logit(y, sm.add_constant(X)).fit(disp=0, tol=1e-12)
    assert res.r2_always == pytest.approx(base.prsquared, abs=1e-9)
    assert res.r2_full == pytest.approx(full.prsquared, abs=1e-9)
    assert res.v[3] == pytest.approx(full.prsquared - base.prsquared, abs=1e-9)
    assert res.v[0] == 0.0


def test_logistic_relative_weights_properties(problem):
    X, y, _, _ = problem
    wts, r2 = logistic_relative_weights(X, y)
    assert wts.sum() == pytest.approx(r2, abs=1e-12)
    assert np.all(wts >= 0)
    # a column order change permutes the weights
    perm = [4, 2, 0, 3, 1]
    wts_p, _ = logistic_relative_weights(X[:, perm], y)
    np.testing.assert_allclose(wts_p, wts[perm], atol=1e-10)
    # rescaling a driver leaves them unchanged
    Xs = X.copy()
    Xs[:, 2] *= 7.5
    np.testing.assert_allclose(logistic_relative_weights(Xs, y)[0], wts, atol=1e-10)
