"""The batched GLM kernel: warm starts, edge cases, bad input, logistic relative weights.

Agreement of every subset's fit index with statsmodels is in ``test_glm_indices.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm

from driverkit.exceptions import DriverkitError
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
    yo = np.digitize(eta + rng.logistic(size=n), [-1.0, 0.0, 1.2]).astype(float)
    w = rng.uniform(0.3, 3.0, n)
    return X, y, yo, w


@pytest.mark.parametrize("kind", ["logit", "ordinal"])
def test_warm_start_gives_the_same_fits(problem, kind):
    X, y, yo, _ = problem
    yy = y if kind == "logit" else yo
    full = glm_subset_values(X, yy, kind=kind)
    w = np.random.default_rng(1).multinomial(len(y), np.ones(len(y)) / len(y)).astype(float)
    cold = glm_subset_values(X, yy, w, kind=kind)
    warm = glm_subset_values(X, yy, w, kind=kind, start=full)
    np.testing.assert_allclose(warm.v, cold.v, atol=1e-11)
    np.testing.assert_allclose(warm.coef, cold.coef, atol=1e-5)
    # a start from a different problem shape is ignored, not misused
    other = glm_subset_values(X[:, :3], yy, kind=kind)
    np.testing.assert_allclose(glm_subset_values(X, yy, w, kind=kind, start=other).v, cold.v,
                               atol=1e-11)


def test_small_blocks_give_the_same_fits(problem):
    X, y, yo, w = problem
    for kind, yy in [("logit", y), ("ordinal", yo)]:
        a = glm_subset_values(X, yy, w, kind=kind)
        b = glm_subset_values(X, yy, w, kind=kind, block=3)
        np.testing.assert_allclose(a.loglike, b.loglike, atol=1e-9)


def test_index_method_and_fit_index_value(problem):
    X, y, _, w = problem
    res = glm_subset_values(X, y, w, fit_index="estrella")
    for fi in ("mcfadden", "nagelkerke", "cox_snell", "estrella"):
        other = glm_subset_values(X, y, w, fit_index=fi)
        np.testing.assert_allclose(res.index(fi), other.v, atol=1e-12)
    assert fit_index_value(res.loglike_null, res.loglike_null, res.n, "nagelkerke") == 0.0
    with pytest.raises(DriverkitError, match="fit_index"):
        res.index("tjur")


def test_coefficients_and_cut_points_match_statsmodels(problem):
    X, y, _, _ = problem
    res = glm_subset_values(X, y)
    ref = sm.Logit(y, sm.add_constant(X[:, [0, 2]])).fit(disp=0, tol=1e-12)
    np.testing.assert_allclose(res.coef[0b101][[0, 1, 3]], ref.params, atol=1e-6)
    assert np.all(res.coef[0b101][[2, 4, 5]] == 0)


def test_empty_ordinal_category_is_dropped(problem):
    X, _, yo, _ = problem
    gapped = np.where(yo >= 2, yo + 1, yo)  # codes 0, 1, 3, 4: category 2 unused
    a = glm_subset_values(X[:, :3], yo, kind="ordinal")
    b = glm_subset_values(X[:, :3], gapped, kind="ordinal", n_categories=6)
    np.testing.assert_allclose(b.loglike, a.loglike, atol=1e-9)
    assert b.thetas.shape[1] == 3
    with pytest.raises(DriverkitError, match="n_categories"):
        glm_subset_values(X, gapped, kind="ordinal", n_categories=4)


def test_duplicate_column_in_a_subset_is_handled(problem):
    """A singular sub-design (a column twice) gives the likelihood of the column once."""
    X, y, _, _ = problem
    Xd = np.column_stack([X[:, :2], X[:, 0]])
    res = glm_subset_values(Xd, y)
    assert res.loglike[0b101] == pytest.approx(res.loglike[0b001], abs=1e-8)
    assert res.loglike[0b111] == pytest.approx(res.loglike[0b011], abs=1e-8)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"players": [[0, 1], [1, 2]]}, "both"),
    ({"players": [[0], [9]]}, "column 9"),
    ({"players": [[0], []]}, "no design columns"),
    ({"always": [0], "players": [[0], [1]]}, "always"),
    ({"names": ["a"]}, "names"),
    ({"fit_index": "tjur"}, "fit_index"),
    ({"kind": "probit"}, "kind"),
    ({"weight_type": "analytic"}, "weight_type"),
])
def test_bad_input_is_a_clear_error(problem, kwargs, match):
    X, y, _, _ = problem
    with pytest.raises(DriverkitError, match=match):
        glm_subset_values(X, y, **kwargs)


def test_bad_outcomes_and_weights(problem):
    X, y, yo, w = problem
    with pytest.raises(DriverkitError, match="0/1"):
        glm_subset_values(X, yo)
    with pytest.raises(DriverkitError, match="both values"):
        glm_subset_values(X, np.ones(len(y)))
    with pytest.raises(DriverkitError, match=r"0\.\.K"):
        glm_subset_values(X, yo - 0.5, kind="ordinal")
    with pytest.raises(DriverkitError, match="weights"):
        glm_subset_values(X, y, -w)
    with pytest.raises(DriverkitError, match="finite"):
        glm_subset_values(np.where(X > 2, np.nan, X), y)
    with pytest.raises(DriverkitError, match="at most 20"):
        glm_subset_values(np.random.default_rng(0).normal(size=(50, 21)), y[:50])


# --------------------------------------------------------------------------------------
# logistic relative weights (Tonidandel & LeBreton 2010)
# --------------------------------------------------------------------------------------
def test_logistic_relative_weights_sum_to_r2_o_of_the_statsmodels_fit(problem):
    """Σ weights = corr(y, p̂)² of the full logit, p̂ from statsmodels."""
    X, y, _, _ = problem
    wts, r2 = logistic_relative_weights(X, y)
    p_hat = sm.Logit(y, sm.add_constant(X)).fit(disp=0, tol=1e-12).predict()
    assert r2 == pytest.approx(np.corrcoef(y, p_hat)[0, 1] ** 2, abs=1e-9)
    assert wts.sum() == pytest.approx(r2, abs=1e-12)
    assert np.all(wts >= 0)


def test_logistic_relative_weights_against_a_direct_computation(problem):
    """Johnson's Z, a statsmodels logit on Z, Menard's standardisation, Λ*² weighting."""
    X, y, _, _ = problem
    Xs = (X - X.mean(0)) / X.std(0)
    lam, Q = np.linalg.eigh(np.corrcoef(X, rowvar=False))
    Z = Xs @ Q @ np.diag(lam**-0.5) @ Q.T
    lam_star = Q @ np.diag(lam**0.5) @ Q.T
    fit = sm.Logit(y, sm.add_constant(Z)).fit(disp=0, tol=1e-12)
    logit_hat = fit.fittedvalues
    r = np.corrcoef(y, fit.predict())[0, 1]
    b_star = fit.params[1:] * Z.std(0) * r / logit_hat.std()
    expected = lam_star**2 @ b_star**2
    np.testing.assert_allclose(logistic_relative_weights(X, y)[0], expected, atol=1e-8)


def test_logistic_relative_weights_uncorrelated_drivers_are_squared_betas():
    rng = np.random.default_rng(2)
    n = 500
    A = rng.normal(size=(n, 3))
    Q, _ = np.linalg.qr(A - A.mean(0))  # orthonormal, centred columns
    X = Q * np.sqrt(n)
    y = (rng.random(n) < 1 / (1 + np.exp(-X @ [1.0, 0.5, 0.0]))).astype(float)
    R = np.corrcoef(X, rowvar=False)
    assert np.allclose(R, np.eye(3), atol=1e-12)
    wts, _ = logistic_relative_weights(X, y)
    fit = sm.Logit(y, sm.add_constant(X)).fit(disp=0, tol=1e-12)
    r = np.corrcoef(y, fit.predict())[0, 1]
    b_star = fit.params[1:] * r / fit.fittedvalues.std()
    np.testing.assert_allclose(wts, b_star**2, atol=1e-8)


def test_logistic_relative_weights_properties(problem):
    X, y, _, w = problem
    wts, r2 = logistic_relative_weights(X, y)
    # a column order change permutes the weights
    perm = [4, 2, 0, 3, 1]
    np.testing.assert_allclose(logistic_relative_weights(X[:, perm], y)[0], wts[perm],
                               atol=1e-10)
    # rescaling a driver leaves them unchanged
    Xs = X.copy()
    Xs[:, 2] = 7.5 * Xs[:, 2] - 3
    np.testing.assert_allclose(logistic_relative_weights(Xs, y)[0], wts, atol=1e-10)
    # a player's weight is the sum over its columns
    grouped, r2g = logistic_relative_weights(X, y, players=[[0, 1], [2], [3, 4]])
    np.testing.assert_allclose(grouped, [wts[0] + wts[1], wts[2], wts[3] + wts[4]],
                               atol=1e-12)
    assert r2g == pytest.approx(r2, abs=1e-12)
    # integer frequency weights equal repeated rows
    f = np.random.default_rng(3).integers(1, 4, len(y))
    rep = logistic_relative_weights(np.repeat(X, f, axis=0), np.repeat(y, f))[0]
    np.testing.assert_allclose(
        logistic_relative_weights(X, y, f.astype(float), weight_type="frequency")[0], rep,
        atol=1e-10)
    # sampling weights: the same weights whatever their total
    np.testing.assert_allclose(logistic_relative_weights(X, y, w)[0],
                               logistic_relative_weights(X, y, 3 * w)[0], atol=1e-12)


def test_logistic_relative_weights_bad_input(problem):
    X, y, yo, _ = problem
    with pytest.raises(DriverkitError, match="collinear"):
        logistic_relative_weights(np.column_stack([X, X[:, 0] + X[:, 1]]), y)
    with pytest.raises(DriverkitError, match="constant"):
        logistic_relative_weights(np.column_stack([X, np.ones(len(y))]), y)
    with pytest.raises(DriverkitError, match="0/1"):
        logistic_relative_weights(X, yo)
