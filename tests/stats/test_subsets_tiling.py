"""The block kernel (binary recursion for the top and middle players, lexicographic tree
for the low ones) gives the plain whole-lattice recursion's values, whatever the geometry.

Only the grouping of the sweeps changes with the block and tree sizes, never the sequence of
sweeps that produces a subset's fit, so the values agree to rounding; they are also checked
against a direct least-squares fit of every subset (brute force) and Shapley values against
the permutation definition on small p.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import driverkit as dk
from driverkit.stats import _subsets
from driverkit.stats._subsets import iter_subset_blocks, subset_values


def _corr(p: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(400, p + 1))
    Z[:, 1:] += 0.6 * Z[:, :1]  # correlated drivers
    Z[:, -1] = Z[:, :-1] @ rng.uniform(-0.5, 1.0, p) + rng.normal(size=400)
    return np.corrcoef(Z, rowvar=False)


def _untiled(R: np.ndarray, players: list[list[int]]) -> np.ndarray:
    m = R.shape[-1] - 1
    cols, widths = _subsets._order(players, m, len(players))
    S = _subsets._expand(_subsets._initial_states(R, cols), widths)
    v = 1.0 - S[0, 0].reshape(-1)
    v[0] = 0.0
    return v


@pytest.mark.parametrize(("p", "block", "low"),
                         [(12, 12, 12), (12, 12, 3), (13, 9, 4), (14, 11, 7), (16, 16, 9),
                          (10, 4, 0), (9, 9, 1)])
def test_block_values_equal_the_plain_recursion(p, block, low):
    R = _corr(p, seed=p)
    players = [[j] for j in range(p)]
    v = np.empty(1 << p)
    st = _subsets._block_setup(R, players, block, low)
    g = 0
    for g0, count in [(0, 1), (1, 2), (3, st.n_blocks)]:  # jobs of several blocks
        if g0 >= st.n_blocks:
            break
        for blk in _subsets._blocks(st, g0, min(count, st.n_blocks - g0)):
            assert blk.start == g << min(p, block) and blk.size == 1 << min(p, block)
            v[blk.start : blk.start + blk.size] = blk.values[:, 0]
            g += 1
    assert g == st.n_blocks
    assert v[0] == 0.0
    np.testing.assert_allclose(v, _untiled(R, players), rtol=0, atol=1e-14)


@pytest.mark.parametrize("low", [1, 2, 4, 6])
def test_block_values_with_grouped_players(monkeypatch, low):
    R = _corr(9, seed=1)
    players = [[0, 1], [2], [3, 4, 5], [6], [7], [8]]
    monkeypatch.setattr(_subsets, "LEX_LOW", low)
    np.testing.assert_allclose(subset_values(R, players, block_log2=5),
                               _untiled(R, players), rtol=0, atol=1e-14)


def test_batched_blocks_equal_single_matrices(monkeypatch):
    p = 7
    Rs = np.stack([_corr(p, seed=s) for s in range(3)])
    monkeypatch.setattr(_subsets, "LEX_LOW", 3)
    players = [[0], [1, 2], [3], [4], [5], [6]]
    got = np.concatenate([b.values for b in iter_subset_blocks(Rs, players, block_log2=5)])
    for n in range(3):
        np.testing.assert_allclose(got[:, n], _untiled(Rs[n], players), rtol=0, atol=1e-14)


def test_values_equal_brute_force_least_squares(monkeypatch):
    p = 8
    R = _corr(p, seed=8)
    monkeypatch.setattr(_subsets, "LEX_LOW", 3)
    v = subset_values(R, [[j] for j in range(p)], block_log2=6)
    for mask in range(1, 1 << p):
        S = [j for j in range(p) if mask >> j & 1]
        r = R[S, -1]
        assert v[mask] == pytest.approx(float(r @ np.linalg.solve(R[np.ix_(S, S)], r)),
                                        abs=1e-12)


def test_public_shapley_equals_the_permutation_definition():
    rng = np.random.default_rng(4)
    p, n = 6, 300
    X = rng.normal(size=(n, p)) + 0.5 * rng.normal(size=(n, 1))
    y = X @ rng.uniform(0.1, 1.0, p) + rng.normal(size=n)
    import pandas as pd

    names = [f"x{j}" for j in range(p)]
    df = pd.DataFrame(X, columns=names).assign(y=y)
    res = dk.importance(df, "y", names)

    def r2(S: tuple[int, ...]) -> float:
        if not S:
            return 0.0
        Z = np.column_stack([np.ones(n), X[:, list(S)]])
        resid = y - Z @ np.linalg.lstsq(Z, y, rcond=None)[0]
        return 1.0 - resid @ resid / np.sum((y - y.mean()) ** 2)

    phi = np.zeros(p)
    for order in itertools.permutations(range(p)):
        for k, j in enumerate(order):
            phi[j] += r2(tuple(sorted(order[: k + 1]))) - r2(tuple(sorted(order[:k])))
    phi /= math.factorial(p)
    np.testing.assert_allclose(res.table.loc[names, "importance"].to_numpy(), phi, atol=1e-12)


def test_threaded_blocks_give_the_same_sums_whatever_the_threads():
    from driverkit.importance._shapley import LatticeSums
    from driverkit.stats._subsets import map_subset_blocks

    p = 12
    R = _corr(p, seed=12)
    players = [[j] for j in range(p)]

    def shapley(workers: int) -> np.ndarray:
        def part(blk):
            s = LatticeSums(p)
            s.add_block(blk)
            return s

        acc = LatticeSums(p)
        for s in map_subset_blocks(R, players, part, block_log2=5, workers=workers):
            acc.merge(s)
        return acc.shapley()[0]

    one = shapley(1)
    np.testing.assert_array_equal(one, shapley(3))
    sequential = LatticeSums(p)
    for blk in iter_subset_blocks(R, players, block_log2=5):
        sequential.add_block(blk)
    np.testing.assert_allclose(one, sequential.shapley()[0], rtol=1e-12, atol=1e-15)
    assert one.sum() == pytest.approx(subset_values(R, players)[-1], abs=1e-12)
