"""The all-subsets kernel and the shared Shapley/dominance functions against brute force."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from driverkit.exceptions import DriverkitError
from driverkit.importance._shapley import (
    LatticeSums,
    complete_dominance,
    conditional_dominance,
    shapley_values,
)
from driverkit.stats._subsets import (
    estimate_cost,
    iter_subset_blocks,
    partial_correlation,
    subset_values,
    subset_values_batch,
)


def _data(rng: np.random.Generator, n: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    halo = rng.normal(size=n)
    X = 0.7 * halo[:, None] + rng.normal(size=(n, m))
    y = X @ rng.uniform(-0.5, 1.0, m) + rng.normal(size=n)
    return X, y


def _r2_lstsq(X: np.ndarray, y: np.ndarray, w: np.ndarray, cols: list[int]) -> float:
    """R² of a weighted least-squares regression with intercept (explicit fit)."""
    sw = np.sqrt(w)
    A = np.column_stack([np.ones(len(y)), X[:, cols]]) * sw[:, None]
    coef, *_ = np.linalg.lstsq(A, y * sw, rcond=None)
    resid = y * sw - A @ coef
    ybar = np.average(y, weights=w)
    return 1.0 - resid @ resid / np.sum(w * (y - ybar) ** 2)


def _corr_y_last(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    Z = np.column_stack([X, y])
    mu = np.average(Z, axis=0, weights=w)
    C = ((Z - mu) * w[:, None]).T @ (Z - mu) / w.sum()
    s = np.sqrt(np.diag(C))
    return C / np.outer(s, s)


@pytest.mark.parametrize("seed", range(6))
def test_subset_values_against_per_subset_regressions(seed):
    rng = np.random.default_rng(seed)
    m = int(rng.integers(1, 9))
    X, y = _data(rng, 60, m)
    w = rng.uniform(0.3, 3.0, 60)
    # random grouping of the m columns into players
    labels = rng.integers(0, max(1, m - 2), m) if m > 2 else np.arange(m)
    players = [list(np.flatnonzero(labels == g)) for g in np.unique(labels)]
    p = len(players)
    R = _corr_y_last(X, y, w)
    v = subset_values(R, players)
    for mask in range(1 << p):
        cols = [c for j in range(p) if mask >> j & 1 for c in players[j]]
        expected = _r2_lstsq(X, y, w, cols) if cols else 0.0
        assert v[mask] == pytest.approx(expected, abs=1e-10)


@pytest.mark.parametrize("block_log2", [0, 1, 2, 3, 5])
def test_blocks_cover_the_lattice_in_order(block_log2):
    rng = np.random.default_rng(11)
    X, y = _data(rng, 80, 6)
    R = _corr_y_last(X, y, np.ones(80))
    players = [[0], [1, 2], [3], [4], [5]]
    whole = subset_values(R, players)
    starts = []
    pieces = []
    for blk in iter_subset_blocks(R, players, block_log2=block_log2):
        starts.append(blk.start)
        pieces.append(blk.values[:, 0])
    assert starts == sorted(starts)
    np.testing.assert_allclose(np.concatenate(pieces), whole, atol=1e-13)


def test_batch_equals_single_matrices():
    rng = np.random.default_rng(5)
    Rs = []
    for _ in range(4):
        X, y = _data(rng, 50, 5)
        Rs.append(_corr_y_last(X, y, np.ones(50)))
    players = [[0], [1], [2, 3], [4]]
    V = subset_values_batch(np.array(Rs), players)
    for i, R in enumerate(Rs):
        np.testing.assert_allclose(V[:, i], subset_values(R, players), atol=1e-13)


def _brute_shapley(v: np.ndarray, p: int) -> np.ndarray:
    """Explicit average over all p! entry orders."""
    phi = np.zeros(p)
    perms = list(itertools.permutations(range(p)))
    for order in perms:
        mask = 0
        for j in order:
            phi[j] += v[mask | 1 << j] - v[mask]
            mask |= 1 << j
    return phi / len(perms)


@pytest.mark.parametrize("p", [1, 2, 3, 5, 7])
def test_shapley_against_permutation_average(p):
    rng = np.random.default_rng(p)
    v = rng.random(1 << p)
    v[0] = 0.0
    np.testing.assert_allclose(shapley_values(v), _brute_shapley(v, p), atol=1e-13)
    assert shapley_values(v).sum() == pytest.approx(v[-1], abs=1e-13)


def test_conditional_and_complete_dominance_against_brute_force():
    rng = np.random.default_rng(3)
    p = 6
    v = rng.random(1 << p)
    v[0] = 0.0
    v[5] = v[6]  # one exact tie
    cd = conditional_dominance(v)
    D = complete_dominance(v)
    for j in range(p):
        for k in range(p):
            gains = [v[s | 1 << j] - v[s] for s in range(1 << p)
                     if not s >> j & 1 and bin(s).count("1") == k]
            assert cd[j, k] == pytest.approx(np.mean(gains), abs=1e-13)
            if k == j:
                continue
            others = [i for i in range(p) if i not in (j, k)]
            score = 0.0
            for r in range(len(others) + 1):
                for sub in itertools.combinations(others, r):
                    s = sum(1 << i for i in sub)
                    a, b = v[s | 1 << j], v[s | 1 << k]
                    score += 1.0 if a > b else 0.5 if a == b else 0.0
            assert D[j, k] == pytest.approx(score / 2 ** (p - 2), abs=1e-15)
    assert np.all(np.isnan(np.diag(D)))
    np.testing.assert_allclose(cd.mean(axis=1), shapley_values(v), atol=1e-14)


def test_streaming_sums_equal_whole_array_sums():
    rng = np.random.default_rng(8)
    p = 9
    v = rng.random(1 << p)
    v[0] = 0
    acc = LatticeSums(p)
    for start in range(0, 1 << p, 1 << 4):
        acc.add(v[start : start + 16], start)
    np.testing.assert_allclose(acc.shapley()[0], shapley_values(v), atol=1e-14)
    with pytest.raises(ValueError, match="multiple"):
        LatticeSums(p).add(v[:16], 8)


def test_shapley_weights_are_the_lmg_weights():
    # a direct check of the textbook formula for p = 4
    rng = np.random.default_rng(1)
    p = 4
    v = rng.random(1 << p)
    v[0] = 0
    phi = np.zeros(p)
    for j in range(p):
        for s in range(1 << p):
            if s >> j & 1:
                continue
            k = bin(s).count("1")
            phi[j] += math.factorial(k) * math.factorial(p - k - 1) / math.factorial(p) * (
                v[s | 1 << j] - v[s])
    np.testing.assert_allclose(shapley_values(v), phi, atol=1e-14)


def test_partial_correlation_rejects_bad_matrices():
    names = ["a", "b", "y"]
    good = np.array([[1.0, 0.2, 0.3], [0.2, 1.0, 0.4], [0.3, 0.4, 1.0]])
    bad = good.copy()
    bad[0, 1] = bad[1, 0] = np.nan
    with pytest.raises(DriverkitError, match=r"NaN.*'a'"):
        partial_correlation(bad, names, 2, [0, 1])
    singular = np.array([[1.0, 1.0, 0.3], [1.0, 1.0, 0.3], [0.3, 0.3, 1.0]])
    with pytest.raises(DriverkitError, match="singular or not positive definite"):
        partial_correlation(singular, names, 2, [0, 1])
    notpd = np.array([[1.0, 0.9, 0.9], [0.9, 1.0, -0.9], [0.9, -0.9, 1.0]])
    with pytest.raises(DriverkitError, match="not positive definite"):
        partial_correlation(notpd, names, 2, [0, 1])
    zero = good.copy()
    zero[1, 1] = 0
    with pytest.raises(DriverkitError, match="'b' has zero or negative variance"):
        partial_correlation(zero, names, 2, [0, 1])
    asym = good.copy()
    asym[0, 1] = 0.5
    with pytest.raises(DriverkitError, match="not symmetric"):
        partial_correlation(asym, names, 2, [0, 1])


def test_cost_estimate_grows_with_p():
    small, big = estimate_cost(20), estimate_cost(30, keep_values=True)
    assert big["seconds"] == pytest.approx(small["seconds"] * 1024)
    assert big["bytes"] >= 8 * 2**30


def test_large_jobs_announce_their_cost_and_refuse_without_memory(monkeypatch):
    from driverkit.exceptions import DriverkitWarning
    from driverkit.stats import _subsets

    with pytest.warns(DriverkitWarning, match=r"2\^26 = 67,108,864 subset fits, estimated"):
        _subsets.announce_cost(26, keep_values=False)
    monkeypatch.setattr(_subsets, "available_memory", lambda: 1 << 30)
    with pytest.raises(DriverkitError, match=r"needs about 8\.\d GiB.*only 1\.0 GiB"):
        _subsets.announce_cost(30, keep_values=True)
    # streaming (no stored values) fits in little memory
    _subsets.announce_cost(22, keep_values=False)
