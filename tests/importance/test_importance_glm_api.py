"""importance(kind="logit"/"ordinal") wiring: Shapley/dominance from statsmodels subset fits.

The batched GLM subset fits themselves are tested in ``test_glm*.py``; this file checks the
front-end end to end against an explicit statsmodels fit of every subset.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import driverkit as dk


@pytest.fixture(scope="module")
def binary() -> pd.DataFrame:
    rng = np.random.default_rng(17)
    n = 400
    h = rng.normal(size=n)
    df = pd.DataFrame({f"x{i}": 0.7 * h + rng.normal(size=n) for i in range(4)})
    eta = -0.2 + 0.9 * df.x0 + 0.5 * df.x1 + 0.2 * df.x2
    df["buy"] = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    df["w"] = rng.uniform(0.5, 2.0, n)
    return df


def _index(ll: float, ll0: float, n: float, fit_index: str) -> float:
    if fit_index == "mcfadden":
        return 1 - ll / ll0
    cs = 1 - np.exp(2 * (ll0 - ll) / n)
    if fit_index == "cox_snell":
        return cs
    if fit_index == "nagelkerke":
        return cs / (1 - np.exp(2 * ll0 / n))
    return 1 - (ll / ll0) ** (-2 * ll0 / n)  # estrella


def _brute(df, drivers, fit_index, always=(), weights=None):
    n = len(df)
    w = np.ones(n) if weights is None else df[weights].to_numpy() * n / df[weights].sum()
    y = df["buy"].to_numpy()

    def ll(cols):
        X = sm.add_constant(df[list(cols)].to_numpy(), has_constant="add")
        return sm.GLM(y, X, family=sm.families.Binomial(), freq_weights=w).fit(
            tol=1e-12).llf

    ll0 = ll([])
    base = _index(ll(list(always)), ll0, n, fit_index) if always else 0.0
    p = len(drivers)
    v = {}
    for r in range(p + 1):
        for sub in itertools.combinations(range(p), r):
            cols = [*always, *[drivers[j] for j in sub]]
            v[frozenset(sub)] = (_index(ll(cols), ll0, n, fit_index) if cols else 0.0) - base
    phi = np.zeros(p)
    perms = list(itertools.permutations(range(p)))
    for order in perms:
        s: set[int] = set()
        for j in order:
            phi[j] += v[frozenset(s | {j})] - v[frozenset(s)]
            s.add(j)
    return phi / len(perms), v[frozenset(range(p))] + base, base


@pytest.mark.parametrize("fit_index", ["mcfadden", "nagelkerke", "cox_snell", "estrella"])
def test_logit_shapley_against_statsmodels_subset_fits(binary, fit_index):
    drivers = ["x0", "x1", "x2", "x3"]
    res = dk.importance(binary, "buy", drivers, kind="logit", fit_index=fit_index)
    phi, full, _ = _brute(binary, drivers, fit_index)
    np.testing.assert_allclose(res.table["importance"].to_numpy(), phi, atol=1e-6)
    assert res.r2 == pytest.approx(full, abs=1e-6)
    assert res.table["importance"].sum() == pytest.approx(res.r2, abs=1e-6)


def test_logit_with_always_and_weights_against_statsmodels(binary):
    drivers = ["x0", "x1", "x2"]
    res = dk.importance(binary, "buy", drivers, kind="logit", always=["x3"], weights="w")
    phi, full, base = _brute(binary, drivers, "mcfadden", always=["x3"], weights="w")
    np.testing.assert_allclose(res.table["importance"].to_numpy(), phi, atol=1e-6)
    assert res.r2 == pytest.approx(full, abs=1e-6)
    assert res.r2_always == pytest.approx(base, abs=1e-6)


def test_logit_dominance_and_all(binary):
    drivers = ["x0", "x1", "x2", "x3"]
    dom = dk.importance(binary, "buy", drivers, kind="logit", method="dominance")
    assert dom.conditional.shape == (4, 4)
    np.testing.assert_allclose(dom.conditional.mean(axis=1), dom.table["importance"],
                               atol=1e-12)
    assert np.isnan(np.diag(dom.complete.to_numpy())).all()
    allm = dk.importance(binary, "buy", drivers, kind="logit", method="all")
    assert {"shapley", "first", "last"} <= set(allm.table.columns)
    np.testing.assert_allclose(allm.table["shapley"], dom.table["importance"], atol=1e-10)


def test_logit_groups_and_bootstrap(binary):
    drivers = ["x0", "x1", "x2", "x3"]
    res = dk.importance(binary, "buy", drivers, kind="logit", groups={"G": ["x1", "x2"]},
                        bootstrap=20, seed=0)
    assert list(res.table.index) == ["x0", "G", "x3"]
    t = res.table
    assert ((t["ci_low"] <= t["importance"]) & (t["importance"] <= t["ci_high"])).all()


def test_ordinal_shapley_against_statsmodels_ordered_logit():
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    rng = np.random.default_rng(4)
    n = 300
    df = pd.DataFrame({f"x{i}": rng.normal(size=n) for i in range(3)})
    latent = 0.9 * df.x0 + 0.4 * df.x1 + rng.logistic(size=n)
    df["sat"] = np.digitize(latent, [-1.0, 0.5, 1.5])
    res = dk.importance(df, "sat", ["x0", "x1", "x2"], kind="ordinal")
    counts = np.bincount(df["sat"])
    ll0 = float(np.sum(counts * np.log(counts / n)))

    def v(cols):
        if not cols:
            return 0.0
        fit = OrderedModel(df["sat"], df[list(cols)], distr="logit").fit(
            method="newton", disp=False, maxiter=200, tol=1e-12)
        return 1 - fit.llf / ll0

    vals = {frozenset(s): v([f"x{j}" for j in s]) for r in range(4)
            for s in itertools.combinations(range(3), r)}
    phi = np.zeros(3)
    for order in itertools.permutations(range(3)):
        s: set[int] = set()
        for j in order:
            phi[j] += vals[frozenset(s | {j})] - vals[frozenset(s)]
            s.add(j)
    np.testing.assert_allclose(res.table["importance"].to_numpy(), phi / 6, atol=1e-6)
    assert res.r2 == pytest.approx(vals[frozenset(range(3))], abs=1e-6)
