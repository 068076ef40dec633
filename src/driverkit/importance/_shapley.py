"""Shapley values and dominance statistics from subset values ``v`` (any producer).

Every producer of subset values — the linear covariance kernel
(:mod:`driverkit.stats._subsets`), the batched GLM fits and bootstrap replicates — hands a
float64 array ``v`` of length ``2^p`` indexed by bitmask (``v[0] = 0``) to the functions
here, which turn it into Shapley values, conditional, general and complete dominance.

Everything except complete dominance is a *linear* function of ``v`` that depends on a
subset only through its size and membership. We therefore reduce ``v`` to the lattice sums

    B[k]    = Σ_{|T| = k} v(T)               (k = 0..p)
    A[k, j] = Σ_{|T| = k, j ∈ T} v(T)

in one streaming pass (block by block, so ``v`` never needs to be held in memory for huge
p), and read everything from them:

    CD_j(k) = (A[k+1, j] − (B[k] − A[k, j])) / C(p−1, k)     conditional dominance at size k
    φ_j     = (1/p) Σ_k CD_j(k)                               Shapley = general dominance

since the Shapley weight of a size-k coalition is k!(p−k−1)!/p! = 1/(p·C(p−1, k)). Within a
block the sums are two matrix products with one-hot popcount matrices (BLAS), i.e. about
p flops per subset.
"""

from __future__ import annotations

from functools import lru_cache
from math import comb

import numpy as np

from ..stats._subsets import SubsetBlock

__all__ = [
    "LatticeSums",
    "complete_dominance",
    "conditional_dominance",
    "general_dominance",
    "lattice_sums",
    "shapley_values",
]


@lru_cache(maxsize=64)
def _bit_tables(q: int) -> tuple[np.ndarray, np.ndarray]:
    """Popcount one-hot ``E[k, x] = [popcount(x) == k]`` and ``P[x, k, j] = E[k, x]·bit_j(x)``."""
    x = np.arange(1 << q)
    bits = ((x[:, None] >> np.arange(q)) & 1).astype(float)  # (2^q, q)
    pc = bits.sum(axis=1).astype(int)
    E = np.zeros((q + 1, 1 << q))
    E[pc, x] = 1.0
    P = E.T[:, :, None] * bits[:, None, :]  # (2^q, q+1, q)
    E.setflags(write=False)
    P.setflags(write=False)
    return E, P


class _TileTables:
    """Popcount tables of a ``2^q × 2^h`` residual tile (see :meth:`LatticeSums.add_residuals`)."""

    def __init__(self, q: int, h: int) -> None:
        Eu, Pu = _bit_tables(q)
        Et, Pt = _bit_tables(h)
        b = q + h
        self.Eu = Eu
        self.EtT = np.ascontiguousarray(Et.T)
        self.PuT = np.ascontiguousarray(Pu.reshape(1 << q, -1).T)
        self.Pt2 = np.ascontiguousarray(Pt.reshape(1 << h, -1))
        D = np.zeros(((q + 1) * (h + 1), b + 1))  # [(c, a), c + a]
        c, a = np.divmod(np.arange((q + 1) * (h + 1)), h + 1)
        D[np.arange(len(c)), c + a] = 1.0
        self.D = D
        # masks of each size in a block, all of them and those holding a given player
        self.count = np.array([comb(b, k) for k in range(b + 1)], dtype=float)
        self.count_in = np.array([comb(b - 1, k - 1) if k else 0 for k in range(b + 1)],
                                 dtype=float)[None, :]


def _segments(order: np.ndarray, h: int) -> np.ndarray | None:
    """Column bounds of each popcount in ``order`` (``h + 2`` of them), or None if the
    popcounts of ``order`` do not rise."""
    order = np.asarray(order)
    return _segments_of(h, order.astype(np.uint32).tobytes())


@lru_cache(maxsize=16)
def _segments_of(h: int, order: bytes) -> np.ndarray | None:
    pc = np.bitwise_count(np.frombuffer(order, dtype=np.uint32)).astype(np.int64)
    if len(pc) != 1 << h or np.any(np.diff(pc) < 0):
        return None
    seg = np.searchsorted(pc, np.arange(h + 2), side="left")
    seg.setflags(write=False)
    return seg


def _unpermute(NT: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Columns of ``NT`` (held in ``order``) put back in middle-mask order."""
    out = np.empty_like(NT)
    out[:, order] = NT
    return out


@lru_cache(maxsize=16)
def _tile_tables(q: int, h: int) -> _TileTables:
    return _TileTables(q, h)


class LatticeSums:
    """Streaming accumulator of the lattice sums ``A`` and ``B`` (see the module docstring).

    Parameters
    ----------
    p : int
        Number of players.
    n_batch : int, default=1
        Number of value vectors accumulated side by side (e.g. bootstrap replicates).
    """

    def __init__(self, p: int, n_batch: int = 1) -> None:
        self.p = int(p)
        self._A = np.zeros((n_batch, p + 1, p))
        self._B = np.zeros((n_batch, p + 1))
        self.count = 0
        # popcount marginals of residual tiles not yet turned into membership sums, summed
        # by tile geometry and number of fixed high players: [q, h, f] -> [by_mid, by_low,
        # tiles] (the products are linear, so one product per key serves every tile)
        self._pending: dict[tuple[int, int, int], list] = {}

    @property
    def A(self) -> np.ndarray:
        """``A[n, k, j]`` = Σ over masks of size k holding j of v (see the module docstring)."""
        self._flush()
        return self._A

    @property
    def B(self) -> np.ndarray:
        """``B[n, k]`` = Σ over masks of size k of v."""
        self._flush()
        return self._B

    def _flush(self) -> None:
        """Add the membership sums of the pending tile marginals."""
        A = self._A[0]
        for (q, h, f), (MT, NT, tiles) in self._pending.items():
            tb = _tile_tables(q, h)
            b = q + h
            cells = (q + 1) * (h + 1)
            AU = tb.PuT @ MT  # ((q+1)·q, h+1)  [c·q + j, a]: low players
            AT = (NT @ tb.Pt2).reshape(q + 1, h + 1, h)  # [c, a, j]: middle players
            # collapse (c, a) to the size c + a inside the block, and 1 − v to v
            au = tiles * tb.count_in - (
                AU.reshape(q + 1, q, h + 1).transpose(1, 0, 2).reshape(q, cells) @ tb.D)
            at = tiles * tb.count_in - AT.transpose(2, 0, 1).reshape(h, cells) @ tb.D
            A[f : f + b + 1, :q] += au.T
            A[f : f + b + 1, q:b] += at.T
        self._pending.clear()

    def add(self, values: np.ndarray, start: int = 0) -> None:
        """Add the block of masks ``start .. start + 2^b − 1`` (``values`` shape ``(2^b, N)``).

        ``start`` must be a multiple of the block length.
        """
        values = np.asarray(values, dtype=float)
        if values.ndim == 1:
            values = values[:, None]
        L, N = values.shape
        q = L.bit_length() - 1
        if 1 << q != L or start % L:
            raise ValueError("a block must hold 2^b masks starting at a multiple of 2^b")
        p = self.p
        fixed = [j for j in range(q, p) if (start >> j) & 1]
        f = len(fixed)
        q2 = q // 2
        q1 = q - q2
        Er, Pr = _bit_tables(q1)
        Ec, Pc = _bit_tables(q2)
        V3 = values.reshape(1 << q1, 1 << q2, N)
        M = np.tensordot(Er, V3, axes=(1, 0))  # (q1+1, 2^q2, N)   [a, c, n]
        Nn = np.tensordot(V3, Ec, axes=(1, 1))  # (2^q1, N, q2+1)  [r, n, b]
        T = np.tensordot(M, Ec, axes=(1, 1))  # (q1+1, N, q2+1)   [a, n, b]
        AC = np.tensordot(M, Pc, axes=(1, 0))  # (q1+1, N, q2+1, q2)  [a, n, b, j]
        AR = np.tensordot(Pr, Nn, axes=(0, 0))  # (q1+1, q1, N, q2+1)  [a, j, n, b]
        Bblk = np.zeros((N, q + 1))
        for a in range(q1 + 1):
            Bblk[:, a : a + q2 + 1] += T[a]
            self._A[:, f + a : f + a + q2 + 1, :q2] += AC[a]
            self._A[:, f + a : f + a + q2 + 1, q2:q] += np.moveaxis(AR[a], 0, -1)
        self._B[:, f : f + q + 1] += Bblk
        for j in fixed:
            self._A[:, f : f + q + 1, j] += Bblk
        self.count += L

    def add_block(self, block: SubsetBlock) -> None:
        """Add a :class:`~driverkit.stats._subsets.SubsetBlock`."""
        if block.n_batch == 1 and block.marginals is not None:
            self.add_marginals(*block.marginals, block.start, order=block.order)
        elif block.n_batch == 1 and block.tile is not None:
            self.add_residuals(block.tile, block.start, order=block.order)
        else:
            self.add(block.values, block.start)

    def add_residuals(self, tile: np.ndarray, start: int = 0,
                      order: np.ndarray | None = None) -> None:
        """Add a block given as residual variances ``tile[u, c] = 1 − v(start + t·2^q + u)``.

        ``tile`` has shape ``(2^q, 2^h)``; column ``c`` holds the middle mask
        ``t = order[c]`` (the identity if not given; a popcount-sorted order turns the sums
        over middle masks of one popcount into sums of contiguous columns); ``start`` must
        be a multiple of ``2^(q+h)``. The tile's sums by popcount along each axis are
        formed with one-hot popcount matrices and passed to :meth:`add_marginals`.
        """
        U, Tn = tile.shape
        q = U.bit_length() - 1
        h = Tn.bit_length() - 1
        if 1 << q != U or 1 << h != Tn or start % (U * Tn):
            raise ValueError("a tile must be 2^q × 2^h, starting at a multiple of its size")
        tb = _tile_tables(q, h)
        by_low = tb.Eu @ tile  # (q+1, 2^h)  [c, col]: over the low masks of popcount c
        if order is None:
            by_mid = tile @ tb.EtT  # (2^q, h+1)  [u, a]: over the middle masks of popcount a
        else:
            seg = _segments(order, h)
            if seg is None:
                raise ValueError("order must list the middle masks by popcount")
            by_mid = np.add.reduceat(tile, seg[:-1], axis=1)
        self.add_marginals(by_mid, by_low, start, order=order)

    def add_marginals(self, by_mid: np.ndarray, by_low: np.ndarray, start: int = 0,
                      order: np.ndarray | None = None) -> None:
        """Add a residual tile (see :meth:`add_residuals`) given by its popcount sums.

        ``by_mid[u, a]`` sums the tile's row ``u`` over the middle masks of popcount ``a``,
        ``by_low[c, col]`` its column ``col`` over the low masks of popcount ``c``. The sums
        of ``v`` by size and by the players fixed in the block are added now; those by the
        block's own players are linear in the marginals, so the marginals of all tiles of
        one geometry are summed and turned into membership sums once (:meth:`_flush`), with
        the exact number of masks of each class.
        """
        U, h1 = by_mid.shape
        q1, Tn = by_low.shape
        q, h = q1 - 1, h1 - 1
        if (U, Tn) != (1 << q, 1 << h) or start % (U * Tn):
            raise ValueError("tile marginals must be (2^q, h+1) and (q+1, 2^h), starting at "
                             "a multiple of the tile's size")
        b = q + h
        fixed = [j for j in range(b, self.p) if (start >> j) & 1]
        f = len(fixed)
        tb = _tile_tables(q, h)
        if order is not None:
            if _segments(order, h) is None:
                raise ValueError("order must list the middle masks by popcount")
            by_low = _unpermute(by_low, order)
        Tm = tb.Eu @ by_mid  # (q+1, h+1)  [c, a]
        tk = tb.count - Tm.reshape(-1) @ tb.D  # (b+1,)
        self._B[0, f : f + b + 1] += tk
        if fixed:
            A = self._A[0]
            A[f : f + b + 1, fixed] += tk[:, None]
        key = (q, h, f)
        pend = self._pending.get(key)
        if pend is None:
            self._pending[key] = [np.array(by_mid, dtype=float),
                                  np.array(by_low, dtype=float), 1]
        else:
            pend[0] += by_mid
            pend[1] += by_low
            pend[2] += 1
        self.count += U * Tn

    def merge(self, other: LatticeSums) -> None:
        """Add the sums of another accumulator over disjoint masks (e.g. one block's)."""
        if other.p != self.p or other._A.shape != self._A.shape:
            raise ValueError("can only merge lattice sums of the same p and batch size")
        self._A += other._A
        self._B += other._B
        for key, (MT, NT, tiles) in other._pending.items():
            pend = self._pending.get(key)
            if pend is None:
                self._pending[key] = [MT.copy(), NT.copy(), tiles]
            else:
                pend[0] += MT
                pend[1] += NT
                pend[2] += tiles
        self.count += other.count

    def _check_complete(self) -> None:
        if self.count != 1 << self.p:
            raise ValueError(f"only {self.count} of {1 << self.p} subsets were accumulated")

    def conditional(self) -> np.ndarray:
        """Conditional dominance ``(N, p, p)``: ``[n, j, k]`` = mean gain of j at size k."""
        self._check_complete()
        p = self.p
        k = np.arange(p)
        with_j = self.A[:, k + 1, :]  # (N, p[k], p[j])
        without_j = self.B[:, k, None] - self.A[:, k, :]
        denom = np.array([comb(p - 1, int(i)) for i in k], dtype=float)
        cd = (with_j - without_j) / denom[None, :, None]
        return np.swapaxes(cd, 1, 2)

    def shapley(self) -> np.ndarray:
        """Shapley values ``(N, p)`` (mean of conditional dominance over sizes)."""
        return self.conditional().mean(axis=2)


def lattice_sums(v: np.ndarray) -> LatticeSums:
    """Accumulate the lattice sums of a full value array ``v`` (``(2^p,)`` or ``(2^p, N)``)."""
    v = np.asarray(v, dtype=float)
    p = _p_of(v)
    acc = LatticeSums(p, 1 if v.ndim == 1 else v.shape[1])
    acc.add(v if v.ndim == 2 else v[:, None], 0)
    return acc


def _p_of(v: np.ndarray) -> int:
    L = v.shape[0]
    p = L.bit_length() - 1
    if 1 << p != L or p < 1:
        raise ValueError(f"v must have length 2^p with p >= 1; got {L}")
    return p


def shapley_values(v: np.ndarray) -> np.ndarray:
    """Shapley values (LMG, general dominance) from subset values.

    Parameters
    ----------
    v : (2^p,) or (2^p, N) array
        Subset values by bitmask, ``v[0] = 0``.

    Returns
    -------
    (p,) or (N, p) array
        φ_j = Σ_{S ⊆ P∖{j}} |S|!(p−|S|−1)!/p! · [v(S ∪ {j}) − v(S)]; they sum to v(full).

    Notes
    -----
    Lindeman, Merenda & Gold (1980); Grömping (2006), JSS 17(1); Budescu (1993).

    Examples
    --------
    >>> import numpy as np
    >>> shapley_values(np.array([0.0, 0.25, 0.16, 0.3187]))
    array([0.20435, 0.11435])
    """
    v = np.asarray(v, dtype=float)
    out = lattice_sums(v).shapley()
    return out[0] if v.ndim == 1 else out


general_dominance = shapley_values


def conditional_dominance(v: np.ndarray) -> np.ndarray:
    """Conditional dominance: ``[j, k]`` = mean of v(S ∪ j) − v(S) over |S| = k, j ∉ S.

    Parameters
    ----------
    v : (2^p,) or (2^p, N) array

    Returns
    -------
    (p, p) or (N, p, p) array
        Rows = players, columns = model size k = 0..p−1 (Azen & Budescu 2003).

    Examples
    --------
    >>> import numpy as np
    >>> conditional_dominance(np.array([0.0, 0.25, 0.16, 0.3187]))
    array([[0.25  , 0.1587],
           [0.16  , 0.0687]])
    """
    v = np.asarray(v, dtype=float)
    out = lattice_sums(v).conditional()
    return out[0] if v.ndim == 1 else out


def complete_dominance(v: np.ndarray, *, tie_tol: float = 1e-12) -> np.ndarray:
    """Complete dominance as the share of comparisons in which the row player beats the column.

    For each pair (j, l) and each subset S of the other p − 2 players, compare
    v(S ∪ j) with v(S ∪ l); a tie (difference ≤ ``tie_tol``) counts as half a win.
    j completely dominates l (Azen & Budescu 2003) when the share is 1.

    Parameters
    ----------
    v : (2^p,) array
    tie_tol : float, default=1e-12
        Absolute tolerance under which two fits count as tied.

    Returns
    -------
    (p, p) array
        Shares in [0, 1] with ``D[j, l] + D[l, j] = 1`` and NaN on the diagonal.

    Examples
    --------
    >>> import numpy as np
    >>> complete_dominance(np.array([0.0, 0.25, 0.16, 0.3187]))
    array([[nan,  1.],
           [ 0., nan]])
    """
    v = np.asarray(v, dtype=float)
    p = _p_of(v)
    D = np.full((p, p), np.nan)
    total = float(1 << (p - 2)) if p >= 2 else 1.0
    for j in range(p):
        for lo in range(j + 1, p):
            x = v.reshape(1 << (p - lo - 1), 2, 1 << (lo - j - 1), 2, 1 << j)
            with_j = x[:, 0, :, 1, :]  # j in, l out
            with_l = x[:, 1, :, 0, :]
            diff = with_j - with_l
            wins = np.count_nonzero(diff > tie_tol)
            ties = np.count_nonzero(np.abs(diff) <= tie_tol)
            share = (wins + 0.5 * ties) / total
            D[j, lo] = share
            D[lo, j] = 1.0 - share
    return D
