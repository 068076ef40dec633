"""The fast logit subset engine (float32 iterations, one float64 check per subset, factor
blocks, threads) against statsmodels fits of every subset and against the plain engine.

``glm_subset_values`` fits logits with :class:`~driverkit.importance._glm_logit.FastLogit`;
``_glm._FAST_LOGIT = False`` switches to the plain float64 Newton engine it replaced, which is
the reference for the cases statsmodels cannot fit (separation).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import statsmodels.api as sm

from driverkit.exceptions import ConvergenceWarning
from driverkit.importance import _glm
from driverkit.importance._glm import glm_subset_values
from driverkit.importance._glm_logit import factor_block


def _problem(seed: int, n: int = 300, p: int = 4) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = np.clip(np.round(5.5 + 1.5 * rng.normal(size=(n, 1)) + 1.5 * rng.normal(size=(n, p))),
                1, 10)
    eta = 0.3 + (X - 5.5) @ rng.uniform(-0.2, 0.4, p)
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    return X, y


def _statsmodels_loglike(X: np.ndarray, y: np.ndarray, cols_of: list[list[int]],
                         always: list[int], w: np.ndarray | None) -> np.ndarray:
    """ℓ of every subset model (bit j = player j) fitted by statsmodels (weighted GLM)."""
    n = len(y)
    out = np.empty(1 << len(cols_of))
    for mask in range(1 << len(cols_of)):
        cols = always + [c for j, pl in enumerate(cols_of) if mask >> j & 1 for c in pl]
        Xa = np.column_stack([np.ones(n), X[:, cols]])
        model = sm.GLM(y, Xa, family=sm.families.Binomial(),
                       freq_weights=None if w is None else w)
        out[mask] = model.fit(tol=1e-12, maxiter=100).llf
    return out


@pytest.mark.parametrize("case", ["plain", "sampling", "frequency"])
def test_every_subset_matches_statsmodels(case):
    X, y = _problem(1)
    rng = np.random.default_rng(2)
    w = {"plain": None, "sampling": rng.gamma(2.0, 0.5, len(y)),
         "frequency": rng.integers(1, 4, len(y)).astype(float)}[case]
    wt = "frequency" if case == "frequency" else "sampling"
    fits = glm_subset_values(X, y, w, weight_type=wt)
    w_ll = None if w is None else (w if case == "frequency" else w * len(y) / w.sum())
    ref = _statsmodels_loglike(X, y, [[j] for j in range(X.shape[1])], [], w_ll)
    np.testing.assert_allclose(fits.loglike, ref, rtol=0, atol=1e-7)
    np.testing.assert_allclose(fits.v, 1 - ref / ref[0], rtol=0, atol=1e-9)


def test_factor_block_and_covariate_match_statsmodels():
    X, y = _problem(3, n=400, p=3)
    rng = np.random.default_rng(4)
    codes = rng.integers(0, 6, len(y))
    D = (codes[:, None] == np.arange(1, 6)[None, :]).astype(float)
    y = np.where(codes == 2, (rng.random(len(y)) < 0.8).astype(float), y)
    cov = rng.normal(size=len(y))
    Xg = np.column_stack([X, D, cov])
    players = [[0], [1], [2], [3, 4, 5, 6, 7]]
    assert factor_block(np.column_stack([np.ones(len(y)), Xg]),
                        [[c + 1 for c in pl] for pl in players]) == [4, 5, 6, 7, 8]
    fits = glm_subset_values(Xg, y, players=players, always=[8], fit_index="nagelkerke")
    ref = _statsmodels_loglike(Xg, y, players, [8], None)
    np.testing.assert_allclose(fits.loglike, ref, rtol=0, atol=1e-7)
    # the block's coefficients are returned in the raw dummy layout
    full = sm.GLM(y, np.column_stack([np.ones(len(y)), Xg]), family=sm.families.Binomial())
    np.testing.assert_allclose(fits.coef[-1], full.fit(tol=1e-12).params, atol=1e-6)


def test_factor_block_rules():
    codes = np.array([0, 1, 2, 3, 1, 0, 2])
    D = (codes[:, None] == np.arange(1, 4)).astype(float)
    X = np.column_stack([np.arange(7.0), D, D[:, :2] * 2.0])
    assert factor_block(X, [[0], [1, 2, 3]]) == [1, 2, 3]
    assert factor_block(X, [[0], [4, 5]]) == []  # narrower than three columns
    assert factor_block(X, [[0, 1, 2]]) == []  # not 0/1
    X[0, 1:4] = 1.0
    assert factor_block(X, [[1, 2, 3]]) == []  # not mutually exclusive


def _plain(*args, **kwargs):
    old = _glm._FAST_LOGIT
    _glm._FAST_LOGIT = False
    try:
        return glm_subset_values(*args, **kwargs)
    finally:
        _glm._FAST_LOGIT = old


def test_separated_driver_same_as_plain_engine_and_warned():
    X, y = _problem(5, n=200, p=4)
    X[:, 2] = y * 4 + np.random.default_rng(6).normal(0, 0.5, len(y))  # nearly separates
    X[:, 3] = np.where(y == 1, 1.0 + X[:, 3], -X[:, 3])  # separates completely
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        fast = glm_subset_values(X, y)
    with warnings.catch_warnings(record=True) as rec_plain:
        warnings.simplefilter("always")
        plain = _plain(X, y)
    assert [type(w.message) for w in rec] == [type(w.message) for w in rec_plain]
    assert any(issubclass(w.category, ConvergenceWarning) for w in rec)
    np.testing.assert_allclose(fast.v, plain.v, rtol=0, atol=1e-8)
    np.testing.assert_array_equal(fast.converged, plain.converged)


def test_threads_do_not_change_results_and_start_is_kept():
    X, y = _problem(7, n=250, p=6)
    one = glm_subset_values(X, y, threads=1, block=8)
    three = glm_subset_values(X, y, threads=3, block=8)
    np.testing.assert_array_equal(one.loglike, three.loglike)
    np.testing.assert_array_equal(one.coef, three.coef)
    plain = _plain(X, y)
    np.testing.assert_allclose(one.loglike, plain.loglike, rtol=0, atol=1e-7)
    # bootstrap replicates: resampling counts as weights, warm start from the full sample
    counts = np.random.default_rng(8).multinomial(len(y), np.full(len(y), 1 / len(y)))
    rep = glm_subset_values(X, y, counts.astype(float), start=one, quiet=True)
    np.testing.assert_allclose(rep.loglike, _plain(X, y, counts.astype(float)).loglike,
                               rtol=0, atol=1e-7)


def test_factor_level_with_one_outcome_same_as_plain_engine():
    rng = np.random.default_rng(3)
    n = 300
    X = rng.normal(size=(n, 3))
    codes = rng.integers(0, 6, n)
    D = (codes[:, None] == np.arange(1, 6)[None, :]).astype(float)
    y = (rng.random(n) < 1 / (1 + np.exp(-X[:, 0]))).astype(float)
    y[codes == 3] = 1.0  # every respondent of level 3 has the event
    w = rng.gamma(2.0, 0.5, n)
    args = dict(players=[[0], [1], [2], [3, 4, 5, 6, 7]], fit_index="cox_snell")
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        fast = glm_subset_values(np.column_stack([X, D]), y, w, **args)
    with warnings.catch_warnings(record=True) as rec_plain:
        warnings.simplefilter("always")
        plain = _plain(np.column_stack([X, D]), y, w, **args)
    assert [str(m.message) for m in rec] == [str(m.message) for m in rec_plain]
    np.testing.assert_allclose(fast.v, plain.v, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(fast.converged, plain.converged)


@pytest.mark.parametrize("with_factor", [False, True])
def test_extreme_is_the_largest_linear_predictor_or_a_bound_below_the_refit_limit(
        with_factor):
    """``FastLogit.fit`` reports max |η| of each fit, or an upper bound of it where that
    bound is below the refit limit (30), so the refit decision and the separation warning
    (|η| > 33) are those of the exact maximum."""
    from driverkit.importance._glm_logit import FastLogit

    X, y = _problem(11, n=300, p=3)
    cols_of = [[1], [2], [3]]
    if with_factor:
        codes = np.random.default_rng(12).integers(0, 4, len(y))
        X = np.column_stack([X, (codes[:, None] == np.arange(1, 4)).astype(float)])
        cols_of.append([4, 5, 6])
    Xa = np.column_stack([np.ones(len(y)), X])
    block = factor_block(Xa, cols_of)
    assert bool(block) == with_factor
    cols = np.array([[0, *(c for pl in cols_of for c in pl)]])
    start = np.zeros((1, Xa.shape[1]))
    start[0, 0] = np.log(y.mean() / (1 - y.mean()))
    for outlier in (None, 150.0):  # an ordinary fit; one row whose |η| passes 30
        Xs = Xa.copy()
        if outlier is not None:
            Xs[0, 1] = outlier
        fast = FastLogit(Xs, y, np.ones(len(y)), block=block)
        beta, _, ok, ext, _ = fast.fit(cols, start, 1e-10 * len(y), 50)
        exact = np.abs(Xs @ beta[0]).max()  # at the last step (ext: the iterate before)
        assert ext[0] >= exact * (1 - 1e-4)
        assert (ext[0] > 30) == (exact > 30) == (outlier is not None)
        if outlier is not None:
            assert ext[0] == pytest.approx(exact, rel=1e-4)
            assert not ok[0]  # handed back for the plain engine's refit
        else:
            assert ok[0]
