"""The shared link module and single-fit GLM kernel against statsmodels, finite differences and
closed forms (they serve models, the chunked IRLS, the chain, calibration and the simulator)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.miscmodels.ordinal_model import OrderedModel

from driverkit.exceptions import DriverkitError
from driverkit.stats._glmfit import binary_terms, fit_binary, fit_ordinal, ordinal_terms
from driverkit.stats._links import LINKS, get_link, logistic


@pytest.fixture(scope="module")
def binary_data():
    rng = np.random.default_rng(11)
    n = 600
    X = np.column_stack([np.ones(n), rng.normal(size=(n, 3))])
    eta = X @ np.array([-0.4, 0.8, -0.5, 0.3])
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    w = rng.uniform(0.3, 2.5, n)
    return X, y, w * n / w.sum()


@pytest.mark.parametrize("name", LINKS)
def test_link_derivatives_by_finite_differences(name):
    lk = get_link(name)
    x = np.linspace(-6, 6, 41)
    h = 1e-6
    assert np.allclose((lk.cdf(x + h) - lk.cdf(x - h)) / (2 * h), lk.pdf(x), atol=1e-8)
    assert np.allclose((lk.pdf(x + h) - lk.pdf(x - h)) / (2 * h), lk.dpdf(x), atol=1e-8)
    assert np.allclose(lk.log_cdf(x), np.log(lk.cdf(x)), rtol=1e-12)
    assert np.allclose(lk.quantile(lk.cdf(x)), x, atol=1e-9)


def test_cdf_diff_keeps_precision_in_the_upper_tail():
    lk = get_link("logit")
    # F(41) − F(40) = e^-40 − e^-41 (to 1e-17 relative); the direct difference is 0 in float64
    exact = np.exp(-40.0) - np.exp(-41.0)
    got = lk.cdf_diff(np.array([41.0]), np.array([40.0]))[0]
    assert got == pytest.approx(exact, rel=1e-12)
    assert lk.cdf(41.0) - lk.cdf(40.0) == 0.0


def test_fast_logistic_equals_expit():
    x = np.linspace(-800, 800, 2001)
    assert np.allclose(logistic(x), get_link("logit").cdf(x), rtol=1e-15, atol=0)
    assert logistic(x) is not x


def test_unknown_link_is_a_clear_error():
    with pytest.raises(DriverkitError, match="'link' parameter"):
        get_link("cloglog")


@pytest.mark.parametrize("weighted", [False, True])
def test_logit_matches_statsmodels(binary_data, weighted):
    X, y, w = binary_data
    fit = fit_binary(X, y, w if weighted else None)
    kw = {"var_weights": w} if weighted else {}
    ref = sm.GLM(y, X, family=sm.families.Binomial(), **kw).fit(tol=1e-13)
    assert fit.converged
    assert np.allclose(fit.params, ref.params, rtol=0, atol=1e-8)
    assert np.allclose(np.sqrt(np.diag(fit.cov)), ref.bse, rtol=0, atol=1e-8)
    assert fit.loglike == pytest.approx(ref.llf, abs=1e-8)


@pytest.mark.parametrize("weighted", [False, True])
def test_probit_observed_information_matches_statsmodels(binary_data, weighted):
    X, y, w = binary_data
    fit = fit_binary(X, y, w if weighted else None, link="probit")
    if weighted:
        fam = sm.families.Binomial(link=sm.families.links.Probit())
        mod = sm.GLM(y, X, family=fam, var_weights=w)
        ref = mod.fit(method="newton", start_params=mod.fit().params, tol=1e-13, disp=0)
    else:
        ref = sm.Probit(y, X).fit(disp=0, tol=1e-13)  # observed-information covariance
    assert np.allclose(fit.params, ref.params, rtol=0, atol=1e-8)
    assert np.allclose(np.sqrt(np.diag(fit.cov)), ref.bse, rtol=0, atol=1e-8)
    assert fit.loglike == pytest.approx(ref.llf, abs=1e-8)


def test_ordinal_matches_statsmodels_orderedmodel():
    rng = np.random.default_rng(5)
    n = 800
    X = rng.normal(size=(n, 2))
    codes = np.digitize(X @ [0.9, -0.6] + rng.logistic(size=n), [-1.5, 0.0, 1.2])
    fit = fit_ordinal(X, codes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = OrderedModel(codes, X, distr="logit").fit(method="bfgs", disp=0, gtol=1e-12,
                                                        maxiter=5000)
    cuts = ref.model.transform_threshold_params(ref.params)[1:-1]
    assert np.allclose(fit.params[:2], ref.params[:2], atol=1e-6)
    assert np.allclose(fit.params[2:], cuts, atol=1e-6)
    assert fit.loglike == pytest.approx(ref.llf, abs=1e-8)


def test_warm_start_reaches_the_same_estimate_in_fewer_iterations(binary_data):
    X, y, w = binary_data
    cold = fit_binary(X, y, w)
    warm = fit_binary(X, y, w, start=cold.params + 0.01)
    assert np.allclose(warm.params, cold.params, atol=1e-10)
    assert warm.iterations < cold.iterations


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), link=st.sampled_from(LINKS))
def test_score_and_information_are_the_derivatives_of_the_loglike(seed, link):
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(50), rng.normal(size=(50, 2))])
    y = (rng.random(50) < 0.5).astype(float)
    v = rng.uniform(0.5, 2, 50)
    b = rng.normal(scale=0.5, size=3)
    ll, g, H, _ = binary_terms(X, y, v, b, link=link)
    h = 1e-6
    E = np.eye(3) * h
    g_num = np.array([(binary_terms(X, y, v, b + e, link=link)[0]
                       - binary_terms(X, y, v, b - e, link=link)[0]) / (2 * h) for e in E])
    H_num = -np.array([(binary_terms(X, y, v, b + e, link=link)[1]
                        - binary_terms(X, y, v, b - e, link=link)[1]) / (2 * h) for e in E])
    assert np.allclose(g, g_num, atol=1e-5)
    assert np.allclose(H, H_num, atol=1e-5)
    # the chunk layout (implicit intercept) gives the same pieces
    ll2, g2, H2, _ = binary_terms(X[:, 1:], y, v, b, link=link, intercept=True)
    assert ll2 == pytest.approx(ll) and np.allclose(g2, g) and np.allclose(H2, H)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_ordinal_score_is_the_gradient(seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(60, 2))
    codes = rng.integers(0, 4, 60)
    codes[:4] = [0, 1, 2, 3]
    theta = np.concatenate([rng.normal(scale=0.3, size=2), [-1.0, 0.2, 1.5]])
    _, g, H, _ = ordinal_terms(X, codes, None, theta, 4)
    h = 1e-6
    E = np.eye(5) * h
    g_num = np.array([(ordinal_terms(X, codes, None, theta + e, 4)[0]
                       - ordinal_terms(X, codes, None, theta - e, 4)[0]) / (2 * h) for e in E])
    H_num = -np.array([(ordinal_terms(X, codes, None, theta + e, 4)[1]
                        - ordinal_terms(X, codes, None, theta - e, 4)[1]) / (2 * h) for e in E])
    assert np.allclose(g, g_num, atol=1e-5)
    assert np.allclose(H, H_num, atol=1e-5)
