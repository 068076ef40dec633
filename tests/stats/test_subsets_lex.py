"""The lexicographic block kernel and its streamed Shapley/dominance sums.

The kernel splits the lattice into blocks, expands each block's players by a subset tree in
an order of its own and hands the residual variances over as tiles that are summed by
popcount without being put back in mask order. These tests pin every piece of that against
plain definitions: the plain binary recursion of the whole lattice (the arithmetic of the
engine before the tree, see ``test_subsets_tiling``), per-subset least squares, and the
Shapley/dominance definitions, through the public API as well as the kernel, for geometries
small enough that every path (several blocks per job, middle and low players, grouped
players, several threads) is exercised on small p.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import driverkit as dk
from driverkit.importance._shapley import LatticeSums
from driverkit.stats import _subsets
from driverkit.stats._subsets import SubsetBlock, iter_subset_blocks, map_subset_blocks


def _corr(p: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(300, p + 1))
    Z[:, 1:] += 0.6 * Z[:, :1]
    Z[:, -1] = Z[:, :-1] @ rng.uniform(-0.5, 1.0, p) + rng.normal(size=300)
    return np.corrcoef(Z, rowvar=False)


def _plain_values(R: np.ndarray, players: list[list[int]]) -> np.ndarray:
    """v of every mask by the plain binary recursion over the whole lattice."""
    m = R.shape[-1] - 1
    cols, widths = _subsets._order(players, m, len(players))
    S = _subsets._expand(_subsets._initial_states(R, cols), widths)
    v = 1.0 - S[0, 0].reshape(-1)
    v[0] = 0.0
    return v


def _streamed(R: np.ndarray, players: list[list[int]], workers: int = 1,
              block_log2: int | None = None) -> LatticeSums:
    p = len(players)

    def part(blk: SubsetBlock) -> LatticeSums:
        s = LatticeSums(p)
        s.add_block(blk)
        return s

    acc = LatticeSums(p)
    for s in map_subset_blocks(R, players, part, workers=workers, block_log2=block_log2):
        acc.merge(s)
    return acc


@pytest.fixture
def small_geometry(monkeypatch):
    """Blocks of 2^5 masks, 2 low players, 2 blocks per job: every stage on small p."""
    monkeypatch.setattr(_subsets, "DEFAULT_BLOCK_LOG2", 5)
    monkeypatch.setattr(_subsets, "LEX_LOW", 2)
    monkeypatch.setattr(_subsets, "BLOCKS_PER_JOB", 2)
    monkeypatch.setattr(_subsets, "LEX_CHUNK", 4)
    # the last low player expanded one sub-root row at a time (two per block)
    monkeypatch.setattr(_subsets, "LEX_SUB", 1)


def test_streamed_sums_at_p20_equal_the_plain_recursion():
    p = 20  # 8 blocks of 2^17 masks: two jobs of the default size
    R = _corr(p, seed=20)
    players = [[j] for j in range(p)]
    plain = LatticeSums(p)
    plain.add(_plain_values(R, players), 0)
    one = _streamed(R, players, workers=1, block_log2=17)
    two = _streamed(R, players, workers=2, block_log2=17)
    np.testing.assert_array_equal(one.A, two.A)  # the same bits whatever the threads
    np.testing.assert_array_equal(one.B, two.B)
    np.testing.assert_allclose(one.conditional(), plain.conditional(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(one.shapley(), plain.shapley(), rtol=0, atol=1e-13)


def test_small_geometry_sums_and_values_equal_the_plain_recursion(small_geometry):
    p = 11
    R = _corr(p, seed=3)
    players = [[j] for j in range(p)]
    v = _plain_values(R, players)
    got = np.concatenate([b.values[:, 0] for b in iter_subset_blocks(R, players)])
    np.testing.assert_allclose(got, v, rtol=0, atol=1e-14)
    plain = LatticeSums(p)
    plain.add(v, 0)
    for workers in (1, 3):
        acc = _streamed(R, players, workers=workers)
        np.testing.assert_allclose(acc.conditional(), plain.conditional(), atol=1e-13)


def test_residual_tiles_sum_like_mask_order_values():
    rng = np.random.default_rng(0)
    q, h, p = 3, 4, 10
    tile = rng.uniform(0.2, 1.0, (1 << q, 1 << h))
    start = 0b101 << (q + h)
    values = (1.0 - tile).T.reshape(-1, 1)  # mask order: start + t·2^q + u
    ref = LatticeSums(p)
    ref.add(values, start)
    order = np.argsort(np.bitwise_count(np.arange(1 << h).astype(np.uint32)), kind="stable")
    for kw in ({}, {"order": order}):
        acc = LatticeSums(p)
        t = tile if not kw else tile[:, order]
        acc.add_residuals(t, start, **kw)
        np.testing.assert_allclose(acc.A, ref.A, rtol=0, atol=1e-13)
        np.testing.assert_allclose(acc.B, ref.B, rtol=0, atol=1e-13)
    with pytest.raises(ValueError, match="popcount"):
        LatticeSums(p).add_residuals(tile, start, order=order[::-1])
    with pytest.raises(ValueError, match="2\\^q"):
        LatticeSums(p).add_residuals(tile[:, :3], start)


def _brute_r2(X: np.ndarray, y: np.ndarray, cols: list[int]) -> float:
    if not cols:
        return 0.0
    Z = np.column_stack([np.ones(len(y)), X[:, cols]])
    resid = y - Z @ np.linalg.lstsq(Z, y, rcond=None)[0]
    return 1.0 - resid @ resid / np.sum((y - y.mean()) ** 2)


def test_public_dominance_over_many_blocks_equals_brute_force(small_geometry):
    rng = np.random.default_rng(7)
    p, n = 8, 250
    X = rng.normal(size=(n, p)) + 0.7 * rng.normal(size=(n, 1))
    y = X @ rng.uniform(0.2, 1.0, p) + rng.normal(size=n)
    names = [f"x{j}" for j in range(p)]
    df = pd.DataFrame(X, columns=names).assign(y=y)
    res = dk.importance(df, "y", names, method="dominance")
    r2 = {S: _brute_r2(X, y, list(S)) for k in range(p + 1)
          for S in itertools.combinations(range(p), k)}
    cond = np.zeros((p, p))
    for j in range(p):
        others = [i for i in range(p) if i != j]
        for k in range(p):
            gains = [r2[tuple(sorted((*S, j)))] - r2[S] for S in itertools.combinations(others, k)]
            cond[j, k] = np.mean(gains)
    np.testing.assert_allclose(res.conditional.loc[names].to_numpy(), cond, atol=1e-12)
    phi = res.table.loc[names, "importance"].to_numpy()
    np.testing.assert_allclose(phi, cond.mean(axis=1), atol=1e-12)
    assert phi.sum() == pytest.approx(r2[tuple(range(p))], abs=1e-12)
    # complete dominance needs every value in mask order (the tiles turned back)
    comp = res.complete.loc[names, names].to_numpy()
    for j, k in itertools.permutations(range(p), 2):
        rest = [i for i in range(p) if i not in (j, k)]
        wins = [r2[tuple(sorted((*S, j)))] > r2[tuple(sorted((*S, k)))] + 1e-12
                for m in range(p - 1) for S in itertools.combinations(rest, m)]
        ties = [abs(r2[tuple(sorted((*S, j)))] - r2[tuple(sorted((*S, k)))]) <= 1e-12
                for m in range(p - 1) for S in itertools.combinations(rest, m)]
        assert comp[j, k] == pytest.approx((sum(wins) + 0.5 * sum(ties)) / 2 ** (p - 2))


def test_public_groups_and_covariates_over_many_blocks(small_geometry, monkeypatch):
    rng = np.random.default_rng(11)
    n = 300
    X = rng.normal(size=(n, 9)) + 0.5 * rng.normal(size=(n, 1))
    y = X @ rng.uniform(0.0, 1.0, 9) + rng.normal(size=n)
    names = [f"x{j}" for j in range(9)]
    df = pd.DataFrame(X, columns=names).assign(y=y)
    groups = {"g1": ["x0", "x1"], "g2": ["x2", "x3", "x4"]}
    small = dk.importance(df, "y", names[:8], groups=groups, covariates=["x8"])
    monkeypatch.undo()  # the default geometry: one block
    one = dk.importance(df, "y", names[:8], groups=groups, covariates=["x8"])
    pd.testing.assert_frame_equal(small.table, one.table, atol=1e-12, rtol=0)
    assert small.table["importance"].sum() + small.r2_always == pytest.approx(small.r2,
                                                                              abs=1e-12)


def _normal_equation_values(R: np.ndarray) -> np.ndarray:
    """v of every mask as r_Sᵀ R_SS⁻¹ r_S, one solve per subset (batched by size)."""
    p = R.shape[0] - 1
    masks = np.arange(1 << p)
    bits = (masks[:, None] >> np.arange(p)) & 1
    size = bits.sum(axis=1)
    v = np.zeros(1 << p)
    for k in range(1, p + 1):
        ms = masks[size == k]
        cols = np.nonzero(bits[ms])[1].reshape(len(ms), k)
        Rss = R[cols[:, :, None], cols[:, None, :]]
        r = R[cols, p]
        v[ms] = np.einsum("mi,mi->m", r, np.linalg.solve(Rss, r[..., None])[..., 0])
    return v


@pytest.mark.parametrize(("block", "low", "sub"), [(12, 7, 3), (16, 9, 4), (16, 5, 5)])
def test_sub_root_chunks_equal_normal_equations_at_p16(monkeypatch, block, low, sub):
    """Blocks whose last low players are expanded one sub-root row at a time (or all at
    once) against an independent per-subset solve; Shapley values and conditional
    dominance against their definitions on those values."""
    p = 16
    R = _corr(p, seed=16)
    players = [[j] for j in range(p)]
    ref = _normal_equation_values(R)
    monkeypatch.setattr(_subsets, "LEX_LOW", low)
    monkeypatch.setattr(_subsets, "LEX_SUB", sub)
    got = np.concatenate([b.values[:, 0] for b in iter_subset_blocks(R, players,
                                                                     block_log2=block)])
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12)
    acc = _streamed(R, players, workers=2, block_log2=block)
    masks = np.arange(1 << p)
    size = np.bitwise_count(masks.astype(np.uint32))
    cond = np.empty((p, p))
    for j in range(p):
        out = masks[(masks >> j) & 1 == 0]
        gain = ref[out | (1 << j)] - ref[out]
        cond[j] = [gain[size[out] == k].mean() for k in range(p)]
    np.testing.assert_allclose(acc.conditional()[0], cond, rtol=0, atol=1e-12)
    np.testing.assert_allclose(acc.shapley()[0], cond.mean(axis=1), rtol=0, atol=1e-13)
    # a block's tile is made from its thread's pools: refused once the thread moved on
    kept = list(map_subset_blocks(R, players, lambda blk: blk, block_log2=block, workers=1))
    with pytest.raises(RuntimeError, match="moved on"):
        kept[0].values
    _streamed(R, players, workers=1, block_log2=block)  # new pools in this thread
    with pytest.raises(RuntimeError, match="moved on"):
        kept[-1].values


SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(seed=st.integers(0, 10_000), p=st.integers(2, 9), block=st.integers(1, 9),
       low=st.integers(0, 9), rho=st.floats(0.0, 0.8))
def test_exchangeable_drivers_equal_and_shares_sum_to_r2_in_any_geometry(
        seed, p, block, low, rho):
    R = _corr(p, seed)
    # drivers 0 and 1 exchangeable: equal correlations with everything else and with y
    R[1, 2:] = R[0, 2:]
    R[2:, 1] = R[2:, 0]
    R[0, 1] = R[1, 0] = rho
    if np.linalg.eigvalsh(R)[0] <= 1e-6:
        return
    players = [[j] for j in range(p)]
    old = (_subsets.LEX_LOW, _subsets.BLOCKS_PER_JOB)
    try:
        _subsets.LEX_LOW, _subsets.BLOCKS_PER_JOB = low, 3
        acc = _streamed(R, players, workers=2, block_log2=block)
    finally:
        _subsets.LEX_LOW, _subsets.BLOCKS_PER_JOB = old
    phi = acc.shapley()[0]
    full = R[:-1, -1] @ np.linalg.solve(R[:-1, :-1], R[:-1, -1])
    assert phi.sum() == pytest.approx(full, abs=1e-12)
    assert phi[0] == pytest.approx(phi[1], abs=1e-12)
    assert math.isfinite(float(phi.max()))
