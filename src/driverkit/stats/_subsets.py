"""All-subsets R² from a covariance matrix: one sweep recursion over the subset lattice.

The fit of the linear model on every subset S of p players (drivers or groups of design
columns) is computed from the (weighted) covariance matrix of ``(x, y)`` alone, by a
recursion over subsets that applies one sweep (a rank-one update of a residual covariance
matrix) per subset — never one regression per subset.

Layout
------
Players are numbered ``0..p-1`` and a subset is the bitmask ``m = Σ_{j∈S} 2^j``. The
lattice is processed in contiguous blocks of ``2^b`` masks. The top ``p − b`` players are
decided first by a binary recursion whose state for a decided set of high players is the
residual correlation matrix of the still-undecided columns and ``y`` given the chosen ones;
deciding player ``j`` doubles the number of states: "out" (drop j's columns) and "in"
(sweep on them). After all top players are decided the state index is the block number.
Inside a block the next ``b − q`` ("middle") players are decided the same way, giving
``2^(b−q)`` states over the ``q`` low players.

The low players, which hold almost all of the work, are expanded by a lexicographic
subset tree instead (Furnival 1971): the node of a set ``U`` whose smallest (kernel-order)
player is ``i`` keeps only the residual matrix of ``y`` and the players before ``i``, and
its child ``U ∪ {j}`` (``j < i``) is one sweep of that matrix on ``j``'s columns, restricted
to the columns before ``j``. Every subset is produced exactly once and no state is copied;
the node of minimum ``j`` needs ``(j + 1)(j + 2)/2`` updates, about four per subset in all.
All nodes of one minimum element form one contiguous group of a pool array (packed lower
triangles, ``y`` first, so a restriction is a prefix of rows), and the children of every
node with a larger minimum form the next group in one vectorised sweep; the last
:data:`LEX_SUB` players (most of the nodes, small matrices) are expanded a few sub-roots
at a time and summed by popcount while in cache (:func:`_low_block`). The residual
variance of ``y`` gives ``v(m) = 1 − res_y(m)`` (y standardised). Memory stays bounded
whatever p: :func:`iter_subset_blocks` yields the blocks to a consumer (e.g. streaming
Shapley/dominance sums in :mod:`driverkit.importance._shapley`) and
:func:`subset_values` stores them all.

The matrix comes from :func:`~driverkit.stats._partial.partial_correlation` (checks and the
always-in covariates; re-exported here).

References
----------
Beaton, A. E. (1964). The use of special matrix operators in statistical calculus. ETS RB-64-51.
Furnival, G. M. (1971). All possible regressions with less computation. Technometrics 13(2).
Goodnight, J. H. (1979). A tutorial on the SWEEP operator. The American Statistician 33(3).
Grömping, U. (2006). Relative importance for linear regression in R: the package relaimpo.
Journal of Statistical Software 17(1).
"""

from __future__ import annotations

import itertools
import mmap
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

import numpy as np

from .._validation import warn
from ..exceptions import DriverkitError, DriverkitWarning
from ._machine import available_memory, single_threaded_blas, usable_cores
from ._partial import check_covariance, partial_correlation

__all__ = [
    "SubsetBlock",
    "available_memory",
    "check_covariance",
    "estimate_cost",
    "iter_subset_blocks",
    "map_subset_blocks",
    "partial_correlation",
    "single_threaded_blas",
    "subset_values",
    "subset_values_batch",
]

T_ = TypeVar("T_")

#: log2 of the number of masks in one block (the unit of streaming and of threads).
DEFAULT_BLOCK_LOG2 = 19
#: players of a block expanded by the lexicographic tree (the rest of the block's players
#: are decided first, giving 2^(b − LEX_LOW) roots expanded side by side): balances the
#: per-call overhead of the first, small groups against the cache footprint of the last
LEX_LOW = 9
#: nodes of a group swept at a time (their rows stay in cache through the group's passes)
LEX_CHUNK = 32768
#: low players expanded a few sub-root rows at a time, while their nodes are in cache
LEX_SUB = 4
#: sub-root rows (of 2^(b − LEX_LOW) sub-roots each) expanded together
LEX_SUB_ROWS = 8
#: consecutive blocks whose middle players are decided together (one thread's job)
BLOCKS_PER_JOB = 4
#: Seconds per subset on the reference 2-core machine (calibrated by the benchmark).
SECONDS_PER_SUBSET = 1.5e-8


class SubsetBlock:
    """A contiguous block of subset values.

    ``values[h, n]`` is v of the mask ``start + h`` for batch member ``n``.

    The kernel produces the block as ``tile``: residual variances ``1 − v`` laid out as
    ``tile[u, n + N·c] = 1 − v(start + order[c]·2^low + u)`` (``u`` the low players' bits,
    ``order[c]`` the middle players' bits of column c: sorted by popcount, so that sums by
    the middle popcount are sums of contiguous columns); ``values`` is computed from it on
    first use, so a consumer that reads the tile directly (:meth:`LatticeSums.add_block
    <driverkit.importance._shapley.LatticeSums.add_block>`) never pays for the transpose.
    ``marginals`` (single matrices only) are the tile's popcount sums ``(by_mid, by_low)``:
    ``by_mid[u, a]`` over the columns of middle popcount ``a``, ``by_low[c, col]`` over the
    rows of low popcount ``c``, formed while the kernel had the rows in cache.
    """

    __slots__ = ("_make_tile", "_size", "_tile", "_values", "low", "marginals", "n_batch",
                 "order", "start")

    def __init__(self, start: int, values: np.ndarray | None = None, *,
                 tile: np.ndarray | Callable[[], np.ndarray] | None = None, low: int = 0,
                 n_batch: int = 1, order: np.ndarray | None = None,
                 marginals: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        if (values is None) == (tile is None):
            raise ValueError("give exactly one of values and tile")
        self.start = int(start)
        self._values = values
        # a callable tile is made on first use (valid while the block is the current one)
        self._make_tile = tile if callable(tile) else None
        self._tile = None if callable(tile) else tile
        self.low = int(low)
        self.order = order
        self.marginals = marginals
        self.n_batch = int(n_batch) if values is None else int(values.shape[1])
        if values is not None:
            self._size = int(values.shape[0])
        elif self._tile is not None:
            self._size = self._tile.size // self.n_batch
        else:
            self._size = len(order if order is not None else ()) << self.low

    @property
    def tile(self) -> np.ndarray | None:
        """The residual tile (None for a block given as values)."""
        if self._tile is None and self._make_tile is not None:
            self._tile = self._make_tile()
            self._make_tile = None
        return self._tile

    @property
    def size(self) -> int:
        """Number of masks in the block."""
        return self._size

    @property
    def values(self) -> np.ndarray:
        """``(2^b, N)`` subset values in mask order."""
        if self._values is None:
            tile = self.tile
            assert tile is not None
            U, N = tile.shape[0], self.n_batch
            t = tile.reshape(U, -1, N)  # [u, c, n]
            if self.order is not None:
                t = t[:, np.argsort(self.order)]  # [u, t, n]
            self._values = np.subtract(1.0, t.transpose(1, 0, 2)).reshape(-1, N)
        return self._values


# --------------------------------------------------------------------------------------
# the sweep recursion
# --------------------------------------------------------------------------------------
def _decide(S: np.ndarray, width: int) -> np.ndarray:
    """Decide the player whose ``width`` columns lead the state matrices ``S``.

    ``S`` has shape ``(d, d, M)`` (states along the last axis; only the upper triangle is
    maintained). Returns ``(d − width, d − width, 2M)``: the "out" states (the player's
    columns dropped) in ``[..., :M]`` and the "in" states (swept on them) in ``[..., M:]``.
    """
    d, _, M = S.shape
    r = d - width
    out = np.empty((r, r, 2 * M))
    out[:, :, :M] = S[width:, width:]
    T = S
    for step in range(width):
        rr = T.shape[0] - 1
        dest = out[:, :, M:] if step == width - 1 else np.empty((rr, rr, M))
        a = T[0, 1:] / T[0, 0]
        for i in range(rr):
            np.subtract(T[1 + i, 1 + i :], a[i] * T[0, 1 + i :], out=dest[i, i:])
        T = dest
    return out


def _expand(S: np.ndarray, widths: Sequence[int]) -> np.ndarray:
    """Run the recursion for the players of ``widths`` (in order) on the states ``S``.

    The state index after deciding players ``0..q-1`` (in this order) is
    ``n + N·Σ_i bit_i·2^i``, where ``n`` is the batch member.
    """
    for w in widths:
        S = _decide(S, w)
    return S


# --------------------------------------------------------------------------------------
# the lexicographic tree over the low players of a block
# --------------------------------------------------------------------------------------
def _tri(s: int) -> int:
    return s * (s + 1) // 2


class _LexPlan:
    """Fixed geometry of the lexicographic expansion of a block's ``b`` players.

    The tree adds players in *kernel order*: kernel players ``0..q−1`` are the low players
    ``q−1, …, 0`` and kernel players ``q..b−1`` the middle players ``b−1, …, q``, so that
    the pool order of the nodes is the mask order (see :func:`_lex_expand`). ``size[k]`` is
    the order of the residual matrix kept by a node whose smallest kernel player is ``k``
    (``y`` and the columns of kernel players ``0..k−1``).
    """

    def __init__(self, widths: Sequence[int], q: int) -> None:
        b = len(widths)
        self.q, self.b = q, b
        self.players = [*range(q - 1, -1, -1), *range(b - 1, q - 1, -1)]  # kernel → player
        self.kwidths = [int(widths[j]) for j in self.players]
        size = [1]
        for w in self.kwidths:
            size.append(size[-1] + w)
        self.size = size

    def pack_index(self, first_col: Sequence[int], y: int) -> tuple[np.ndarray, np.ndarray]:
        """Indices into an upper-triangular state matrix of the packed kernel-order rows.

        ``first_col[j]`` is the state column of player j's first column, ``y`` y's column;
        the packed rows are the lower triangle of ``[y, kernel players' columns]`` row by
        row, as ``(row, column)`` index arrays into the upper triangle.
        """
        kcols = [y]
        for k, w in enumerate(self.kwidths):
            c0 = int(first_col[self.players[k]])
            kcols.extend(range(c0, c0 + w))
        ii, jj = [], []
        for r in range(len(kcols)):
            for c in range(r + 1):
                lo, hi = sorted((kcols[r], kcols[c]))
                ii.append(lo)
                jj.append(hi)
        return np.asarray(ii), np.asarray(jj)


class _Buffers:
    """Per-thread scratch arrays of the lexicographic kernel, reused across blocks.

    Fresh pages of a large array cost more to fault in than the arithmetic done in them,
    and a node group touches only a prefix of each row: the buffers are anonymous maps
    (no transparent huge pages, so untouched row ends are never resident) with a row pitch
    that is not a power of two (so the rows of a node do not share one cache set).
    """

    def __init__(self) -> None:
        self.local = threading.local()

    def get(self, name: str, rows: int, cols: int) -> np.ndarray:
        buf = getattr(self.local, name, None)
        if buf is None or buf.shape[0] < rows or buf.shape[1] < cols + 24:
            if buf is not None:  # grow to serve every caller of this name
                rows, cols = max(rows, buf.shape[0]), max(cols, buf.shape[1] - 24)
            pitch = cols + 24
            raw = mmap.mmap(-1, max(1, rows * pitch * 8))
            buf = np.frombuffer(raw, dtype=float).reshape(rows, pitch)
            setattr(self.local, name, buf)
        return buf

    def release(self) -> None:
        """Drop this thread's buffers (a pool thread's go when the thread ends)."""
        self.local.__dict__.clear()


_BUFFERS = _Buffers()
#: numbers the blocks of every thread (never reused), so a block's tile knows its pools
_STAMPS = itertools.count()


def _lex_expand(P0: np.ndarray, plan: _LexPlan, k_hi: int, k_lo: int,
                pool_name: str) -> np.ndarray:
    """Expand ``M`` roots by the kernel players ``k_lo..k_hi−1`` (lexicographic tree).

    Parameters
    ----------
    P0 : (tri(size[k_hi]), M) array
        The roots' residual matrices over ``[y, kernel players 0..k_hi−1]``, packed lower
        triangles.

    Returns
    -------
    (tri(size[k_hi]), M·2^(k_hi−k_lo)) array
        The pool: column ``i + M·u`` is root ``i`` joined by the kernel players
        ``k_hi−1−e`` of the bits ``e`` of ``u``; its leading ``tri(size[k])`` rows (``k``
        its smallest kernel player, ``k_lo`` for the roots) hold its matrix, row 0 the
        residual variance of y. A view of a per-thread buffer, valid until the thread's
        next call with the same ``pool_name``.

    Notes
    -----
    The pool holds the nodes in groups of decreasing smallest kernel player: the ``M``
    roots, then the nodes of minimum ``k_hi − 1``, ``k_hi − 2``, …, ``k_lo``. The nodes of
    minimum ``k`` are the children (by a sweep on ``k``) of *all* nodes before them, which
    are ``pool[:, :n]``, so each group is one vectorised sweep written to
    ``pool[:, n:2n]``: node ``n + x`` is node ``x`` joined by kernel player ``k``. Each
    sweep step on the last column ``s − 1`` of a packed ``s × s`` matrix is, row by row,
    ``new[r, :r+1] = old[r, :r+1] − (old[s−1, r] / old[s−1, s−1]) · old[s−1, :r+1]``
    (Furnival 1971; Goodnight 1979).
    """
    L, M = P0.shape
    N = M << (k_hi - k_lo)
    chunk = max(LEX_CHUNK, M)
    half = min(chunk, max(M, N >> 1))  # the widest run of parents swept at once
    pool = _BUFFERS.get(pool_name, L, N)
    coef = _BUFFERS.get("coef", plan.size[k_hi], half)
    prod = _BUFFERS.get("prod", plan.size[k_hi], half)
    pool[:L, :M] = P0
    n = M
    for k in range(k_hi - 1, k_lo - 1, -1):
        w = plan.kwidths[k]
        s0 = plan.size[k + 1]
        # the parents in chunks whose rows stay in cache through the group's passes
        for c0 in range(0, n, chunk):
            c1 = min(n, c0 + chunk)
            m = c1 - c0
            src = pool[: _tri(s0), c0:c1]
            s = s0
            for step in range(w):
                if step == w - 1:
                    dst = pool[: _tri(s - 1), n + c0 : n + c1]
                else:
                    dst = np.empty((_tri(s - 1), m))
                piv = src[_tri(s - 1) : _tri(s)]  # row s − 1 of the packed matrix
                a = np.divide(piv[: s - 1], piv[s - 1], out=coef[: s - 1, :m])
                for r in range(s - 1):
                    o = _tri(r)
                    t = np.multiply(piv[: r + 1], a[r], out=prod[: r + 1, :m])
                    np.subtract(src[o : o + r + 1], t, out=dst[o : o + r + 1])
                src = dst
                s -= 1
        n *= 2
    return pool[:L, :N]


def _low_block(P0: np.ndarray, plan: _LexPlan, seg: np.ndarray, first: bool,
               ) -> tuple[tuple[np.ndarray, np.ndarray], Callable[[], np.ndarray]]:
    """The low players of one block (a single matrix): its popcount marginals and tile.

    ``P0`` holds the ``M`` roots (the block's middle states, in tile column order). The
    tree over the ``q`` low players is cut in two: the kernel players ``K..q−1`` (low bits
    ``0..q−K−1``) expand all roots at once, giving ``2^(q−K)`` sub-roots per root; then the
    last ``K`` kernel players (the high low bits, which hold almost all of the nodes and
    whose matrices are small) expand :data:`LEX_SUB_ROWS` sub-root rows ``u1`` at a time,
    so that their nodes are swept and summed by popcount while they are in cache and no
    large pool is read back. Row ``u = u1 + 2^(q−K)·t`` of the tile is sub-root ``u1``
    joined by the bits of ``t``; the rows of one low popcount are summed per popcount of
    ``u1`` and folded by the popcount of ``t`` at the end of the block.

    Returns the marginals ``(by_mid, by_low)`` (see :class:`SubsetBlock`) and a function
    that writes the tile (residual variances; it sweeps the last ``K`` players again, so a
    consumer that only needs sums never pays for the tile). The function reads this
    thread's pools: it refuses once the thread has started its next block.
    """
    q = plan.q
    M = P0.shape[1]
    K = min(q, LEX_SUB)
    U1, T = 1 << (q - K), 1 << K
    top = _lex_expand(P0, plan, q, K, "low")  # column i + M·u1
    stamp = _BUFFERS.local.stamp = (threading.get_ident(), next(_STAMPS))
    if first:
        top[0, 0] = 1.0  # the empty set (order[0] = 0): v = 0 exactly
    L = _tri(plan.size[K])
    per = min(U1, LEX_SUB_ROWS)  # sub-root rows per chunk

    def rows_of(u1: int) -> np.ndarray:  # [t, u1 − u1₀, col] of the chunk from u1
        sub = _lex_expand(top[:L, u1 * M : (u1 + per) * M], plan, K, 0, "sub")
        return sub[0].reshape(T, per, M)

    by_mid = np.empty((T, U1, len(seg)))
    acc = _BUFFERS.get("acc", (q - K + 1) * T, M)[: (q - K + 1) * T, :M]
    acc = acc.reshape(q - K + 1, T, M)  # [popcount of u1, t, col]
    seen = np.zeros(q - K + 1, dtype=bool)
    pc = np.bitwise_count(np.arange(U1, dtype=np.uint32))
    for u0 in range(0, U1, per):
        rows = rows_of(u0)
        np.add.reduceat(rows, seg, axis=2, out=by_mid[:, u0 : u0 + per])
        for j in range(per):
            c = pc[u0 + j]
            if seen[c]:
                acc[c] += rows[:, j]
            else:
                acc[c] = rows[:, j]
                seen[c] = True
    E = _popcount_onehot(K)  # [popcount of t, t]
    by_low = np.zeros((q + 1, M))
    for c in range(q - K + 1):
        by_low[c : c + K + 1] += E @ acc[c]

    def tile() -> np.ndarray:
        if getattr(_BUFFERS.local, "stamp", None) != stamp:
            raise RuntimeError("a block's tile was asked for after its thread moved on to "
                               "the next block; read it inside the block's function")
        out = np.empty((T, U1, M))
        for u0 in range(0, U1, per):
            out[:, u0 : u0 + per] = rows_of(u0)
        return out.reshape(1 << q, M)

    return (by_mid.reshape(1 << q, -1), by_low), tile


def _order(players: Sequence[Sequence[int]], m: int, b: int, q: int | None = None,
           ) -> tuple[np.ndarray, list[int]]:
    """Column order of the state matrix and the widths, in decision order.

    Players ``b..p−1`` are decided first (the block prefix), then the middle players
    ``q..b−1``, then the low players ``0..q−1`` (``q = b`` when not given); ``y`` is last.
    """
    p = len(players)
    q = b if q is None else q
    order = [*range(b, p), *range(q, b), *range(q)]
    cols = [int(c) for j in order for c in players[j]]
    return np.asarray([*cols, m]), [len(players[j]) for j in order]


def _check_players(players: Sequence[Sequence[int]], m: int) -> list[list[int]]:
    out = [list(map(int, pl)) for pl in players]
    flat = [c for pl in out for c in pl]
    if any(len(pl) == 0 for pl in out):
        raise DriverkitError("Every player must own at least one column.")
    if sorted(flat) != list(range(m)):
        raise DriverkitError("The players must partition the driver columns exactly once.")
    return out


def _initial_states(R: np.ndarray, cols: np.ndarray) -> np.ndarray:
    R = np.asarray(R, dtype=float)
    if R.ndim == 2:
        R = R[None]
    S = R[:, cols][:, :, cols]  # (N, d, d)
    return np.ascontiguousarray(np.moveaxis(S, 0, -1))  # (d, d, N)


def subset_values_batch(R: np.ndarray, players: Sequence[Sequence[int]]) -> np.ndarray:
    """v(S) for every subset and every matrix of a batch (small p: everything in memory).

    Parameters
    ----------
    R : (N, m + 1, m + 1) array
        Correlation matrices with y last (e.g. bootstrap replicates).
    players : list of lists of int
        Column indices (into the first m) of each player.

    Returns
    -------
    v : (2^p, N) array
        ``v[mask, n] = 1 − residual variance of y`` given the players in ``mask``.
    """
    R = np.asarray(R, dtype=float)
    m = R.shape[-1] - 1
    players = _check_players(players, m)
    p = len(players)
    cols, widths = _order(players, m, p)
    S = _expand(_initial_states(R, cols), widths)
    v = 1.0 - S[0, 0].reshape(1 << p, -1)
    v[0] = 0.0
    return v


def estimate_cost(p: int, *, keep_values: bool = False,
                  block_log2: int | None = None) -> dict[str, float]:
    """Estimated seconds and bytes of an exact all-subsets job with ``p`` players.

    Returns a dict with ``seconds``, ``bytes`` (peak working memory) and ``subsets``.
    """
    b = min(p, DEFAULT_BLOCK_LOG2 if block_log2 is None else block_log2)
    # per thread: the tree's pool (≈ 4.5 doubles per mask of a block) and scratch; the
    # prefix states of all blocks (full matrices over a block's players and y)
    work = subset_workers() * 6.0 * 8 * 2.0**b + 2.0 * 8 * (b + 1) ** 2 * 2.0 ** (p - b)
    total = work + (8.0 * 2.0**p if keep_values else 0.0)
    return {"seconds": SECONDS_PER_SUBSET * 2.0**p, "bytes": total, "subsets": 2.0**p}


def _fmt_bytes(b: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if b < 1024 or unit == "TiB":
            return f"{b:.1f} {unit}"
        b /= 1024
    return f"{b:.1f} TiB"  # pragma: no cover


def _fmt_seconds(s: float) -> str:
    if s < 120:
        return f"{s:.1f} s"
    if s < 7200:
        return f"{s / 60:.1f} min"
    return f"{s / 3600:.1f} h"


def announce_cost(p: int, *, keep_values: bool, warn_from: int = 26) -> None:
    """Warn with the time/memory estimate of a large job; refuse if memory does not suffice."""
    est = estimate_cost(p, keep_values=keep_values)
    avail = available_memory()
    if est["bytes"] > avail:
        raise DriverkitError(
            f"Exact importance over p = {p} players needs about {_fmt_bytes(est['bytes'])} of "
            f"memory but only {_fmt_bytes(avail)} is available. Use sampling (lower "
            "'exact_max'), group drivers into fewer players, or run on a larger machine."
        )
    if p >= warn_from:
        warn(
            f"Exact importance over p = {p} players: 2^{p} = {int(est['subsets']):,} subset "
            f"fits, estimated {_fmt_seconds(est['seconds'])} and {_fmt_bytes(est['bytes'])} of "
            "memory.",
            DriverkitWarning,
        )


def iter_subset_blocks(R: np.ndarray, players: Sequence[Sequence[int]], *,
                       block_log2: int | None = None,
                       progress: Callable[[int], None] | None = None) -> Iterator[SubsetBlock]:
    """Yield v(S) over the whole subset lattice in contiguous blocks.

    Parameters
    ----------
    R : (m + 1, m + 1) or (N, m + 1, m + 1) array
        Correlation matrix (matrices) with y last.
    players : list of lists of int
        Column indices of each player (a player of several columns is swept as a block).
    block_log2 : int, optional
        Each block holds ``2^min(p, block_log2)`` consecutive masks (default
        :data:`DEFAULT_BLOCK_LOG2`).
    progress : callable, optional
        Called with the number of masks done after every block.

    Yields
    ------
    SubsetBlock
        ``values`` has shape ``(2^b, N)``; the masks are ``start .. start + 2^b − 1``.

    Examples
    --------
    >>> import numpy as np
    >>> R = np.array([[1.0, 0.3, 0.5], [0.3, 1.0, 0.4], [0.5, 0.4, 1.0]])
    >>> blocks = list(iter_subset_blocks(R, [[0], [1]]))
    >>> np.round(blocks[0].values[:, 0], 4)
    array([0.    , 0.25  , 0.16  , 0.3187])
    """
    st = _block_setup(R, players, block_log2)
    try:
        for g0 in range(0, st.n_blocks, BLOCKS_PER_JOB):
            for blk in _blocks(st, g0, min(BLOCKS_PER_JOB, st.n_blocks - g0)):
                yield blk
                if progress is not None:
                    progress(1 << st.b)
    finally:
        _BUFFERS.release()


@dataclass
class _Setup:
    """The prefix states of the blocks and the geometry of one block."""

    top: np.ndarray  # (d, d, 2^(p−b)·N): block roots (top players decided)
    plan: _LexPlan  # the block's players, expanded by the lexicographic tree
    pack: tuple[np.ndarray, np.ndarray]  # block roots → packed kernel-order rows
    order: np.ndarray  # the middle masks in the order of a tile's columns
    segments: np.ndarray  # first column of each middle popcount
    N: int
    b: int

    @property
    def n_blocks(self) -> int:
        return self.top.shape[-1] // self.N


def _block_setup(R: np.ndarray, players: Sequence[Sequence[int]], block_log2: int | None,
                 low_log2: int | None = None) -> _Setup:
    """Decide the top players for all blocks; plan the expansion inside a block."""
    if block_log2 is None:
        block_log2 = DEFAULT_BLOCK_LOG2
    R = np.asarray(R, dtype=float)
    N = 1 if R.ndim == 2 else R.shape[0]
    m = R.shape[-1] - 1
    players = _check_players(players, m)
    p = len(players)
    b = min(p, block_log2)
    q = min(b, LEX_LOW if low_log2 is None else low_log2)
    t = p - b
    cols, widths = _order(players, m, b, q)
    top = _expand(_initial_states(R, cols), widths[:t])  # (d', d', 2^t·N): prefixes
    # the roots' columns: the middle players q..b−1, then the low players 0..q−1, then y
    bw = [len(players[j]) for j in range(b)]
    first = {}
    pos = 0
    for j in [*range(q, b), *range(q)]:
        first[j] = pos
        pos += bw[j]
    plan = _LexPlan(bw, q)
    mids = np.arange(1 << (b - q))
    pc = np.bitwise_count(mids.astype(np.uint32))
    order = np.argsort(pc, kind="stable")
    segments = np.searchsorted(pc[order], np.arange(b - q + 1))
    return _Setup(top=top, plan=plan, pack=plan.pack_index([first[j] for j in range(b)], pos),
                  order=order, segments=segments, N=N, b=b)


def _blocks(st: _Setup, g0: int, count: int, *, copy: bool = True) -> Iterator[SubsetBlock]:
    """Blocks ``g0 .. g0 + count − 1``.

    Their middle players are expanded together (the first groups of the tree hold few
    nodes, so it pays to widen them); then the low players of each block, whose nodes
    hold almost all of the work, in a pool that stays in cache. With ``copy=False`` a
    block's tile lives in a per-thread buffer that the thread's next block overwrites (for
    consumers that are done with a block before asking for the next).
    """
    N, plan = st.N, st.plan
    q, b = plan.q, plan.b
    ii, jj = st.pack
    roots = st.top[ii, jj, g0 * N : (g0 + count) * N]  # columns n + N·i
    Lq = _tri(plan.size[q])
    mid = _lex_expand(roots, plan, b, q, "mid")  # columns n + N·i + N·count·t
    mid = mid[:Lq].reshape(Lq, -1, count, N)
    M = N << (b - q)
    for i in range(count):
        g = g0 + i
        if N == 1:  # the roots gathered into a reused buffer (fresh pages cost more)
            P0 = _BUFFERS.get("roots", 1, Lq * M)[0, : Lq * M].reshape(Lq, M)
            np.take(mid[:, :, i, 0], st.order, axis=1, out=P0, mode="clip")
            marg, make_tile = _low_block(P0, plan, st.segments, g == 0)
            if copy:
                yield SubsetBlock(g << b, tile=make_tile(), low=q, order=st.order,
                                  marginals=marg)
            else:
                yield SubsetBlock(g << b, tile=make_tile, low=q, order=st.order,
                                  marginals=marg)
            continue
        else:
            low = _lex_expand(mid[:, st.order, i, :].reshape(Lq, -1), plan, q, 0, "low")
            tile, marg = low[0, : M << q].reshape(1 << q, M), None  # [u, n + N·c]
            if g == 0:
                tile[0, :N] = 1.0  # the empty set (order[0] = 0): v = 0 exactly
        if copy:
            tile = tile.copy()
        yield SubsetBlock(g << b, tile=tile, low=q, n_batch=N, order=st.order,
                          marginals=marg)


@lru_cache(maxsize=32)
def _popcount_onehot(q: int) -> np.ndarray:
    """``E[c, u] = 1`` where the popcount of ``u`` (``q`` bits) is ``c``."""
    u = np.arange(1 << q)
    E = np.zeros((q + 1, 1 << q))
    E[np.bitwise_count(u.astype(np.uint32)), u] = 1.0
    E.setflags(write=False)
    return E


def subset_workers() -> int:
    """Threads for the block loop: the cores this process may use (at most 4)."""
    return usable_cores(4)


def map_subset_blocks(R: np.ndarray, players: Sequence[Sequence[int]],
                      fn: Callable[[SubsetBlock], T_], *,
                      block_log2: int | None = None, workers: int | None = None,
                      progress: Callable[[int], None] | None = None) -> Iterator[T_]:
    """``fn(block)`` for every block of :func:`iter_subset_blocks`, on threads, in order.

    ``fn`` must be done with the block when it returns (its tile is a per-thread buffer
    that the thread's next block reuses): return sums, or a copy such as ``block.values``.

    The blocks are independent, and numpy releases the GIL inside its loops, so blocks run
    in parallel on the machine's cores. Results are yielded in block order (at most two
    per thread in flight), so a consumer that folds them in order gets the same numbers
    whatever the number of threads.

    Examples
    --------
    >>> import numpy as np
    >>> R = np.array([[1.0, 0.3, 0.5], [0.3, 1.0, 0.4], [0.5, 0.4, 1.0]])
    >>> [float(round(s, 4)) for s in map_subset_blocks(R, [[0], [1]], lambda b: b.values.sum())]
    [0.7287]
    """
    st = _block_setup(R, players, block_log2)
    n_jobs = -(-st.n_blocks // BLOCKS_PER_JOB)
    workers = subset_workers() if workers is None else max(1, int(workers))
    workers = min(workers, n_jobs)

    def job(k: int) -> list[T_]:
        g0 = k * BLOCKS_PER_JOB
        count = min(BLOCKS_PER_JOB, st.n_blocks - g0)
        return [fn(blk) for blk in _blocks(st, g0, count, copy=False)]

    def done(results: list[T_]) -> Iterator[T_]:
        for r in results:
            yield r
            if progress is not None:
                progress(1 << st.b)

    if workers == 1:
        try:
            for k in range(n_jobs):
                yield from done(job(k))
        finally:
            _BUFFERS.release()
        return
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: deque = deque()
        nxt = 0
        while nxt < n_jobs or pending:
            while nxt < n_jobs and len(pending) < 2 * workers:
                pending.append(pool.submit(job, nxt))
                nxt += 1
            yield from done(pending.popleft().result())


def subset_values(R: np.ndarray, players: Sequence[Sequence[int]], *,
                  block_log2: int | None = None, check_memory: bool = True) -> np.ndarray:
    """v(S) for every subset of the players, as one float64 array of length ``2^p``.

    Parameters
    ----------
    R : (m + 1, m + 1) array
        Correlation matrix of the player columns with y last (e.g. from
        :func:`partial_correlation`).
    players : list of lists of int
        Column indices of each player.

    Returns
    -------
    v : (2^p,) array
        ``v[mask]`` = R² (in units of y's residual variance) of the players in ``mask``;
        ``v[0] = 0``.

    Notes
    -----
    v(S) = 1 − σ²_{y|S} for a standardised y, from the sweep recursion described in the
    module docstring (Beaton 1964; Goodnight 1979): O(2^p) small rank-one updates in total.

    Examples
    --------
    >>> import numpy as np
    >>> R = np.array([[1.0, 0.3, 0.5], [0.3, 1.0, 0.4], [0.5, 0.4, 1.0]])
    >>> np.round(subset_values(R, [[0], [1]]), 4)
    array([0.    , 0.25  , 0.16  , 0.3187])
    """
    R = np.asarray(R, dtype=float)
    p = len(players)
    if check_memory:
        announce_cost(p, keep_values=True)
    v = np.empty(1 << p)
    for blk in iter_subset_blocks(R, players, block_log2=block_log2):
        v[blk.start : blk.start + blk.size] = blk.values[:, 0]
    return v
