"""All-subsets R² from a covariance matrix: one sweep recursion over the subset lattice.

The fit of the linear model on every subset S of p players (drivers or groups of design
columns) is computed from the (weighted) covariance matrix of ``(x, y)`` alone, by a
recursion over subsets that applies one sweep (a rank-one update of a residual covariance
matrix) per subset — never one regression per subset.

Layout
------
Players are numbered ``0..p-1`` and a subset is the bitmask ``m = Σ_{j∈S} 2^j``. The
recursion decides the players from the highest (``p-1``) down to ``0``. Its state for a
decided set of high players is the residual correlation matrix of the still-undecided
columns and ``y`` given the chosen ones; deciding player ``j`` doubles the number of states:
"out" (drop j's columns) and "in" (sweep on them). States are interleaved so that after all
players are decided the state index *is* the bitmask, and the residual variance of ``y``
gives ``v(m) = 1 − res_y(m)`` (y standardised). Work: Σ_k 2^k (p − k)² ≈ 6·2^p sweeps of
tiny matrices, i.e. O(2^p) in total, vectorised over all states of a level with numpy.

For large p the lattice is processed in contiguous blocks of ``2^b`` masks (the top
``p − b`` players are decided first, then each of the ``2^(p−b)`` prefix states is expanded
on its own), so memory stays bounded whatever p; :func:`iter_subset_blocks` yields the
blocks to a consumer (e.g. streaming Shapley/dominance sums in
:mod:`driverkit.importance._shapley`) and :func:`subset_values` stores them all.

References
----------
Beaton, A. E. (1964). The use of special matrix operators in statistical calculus. ETS RB-64-51.
Goodnight, J. H. (1979). A tutorial on the SWEEP operator. The American Statistician 33(3).
Grömping, U. (2006). Relative importance for linear regression in R: the package relaimpo.
Journal of Statistical Software 17(1).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from .._validation import warn
from ..exceptions import CollinearityWarning, DriverkitError, DriverkitWarning

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

#: log2 of the number of masks expanded in one vectorised block.
DEFAULT_BLOCK_LOG2 = 18
#: the last TILE_LOG2 players of a block are expanded for TILE_STATES states at a time
#: (a working set of a few MB: the deepest levels, which hold most of the data, stay in
#: cache instead of streaming 2^18-state arrays through memory)
TILE_LOG2 = 7
TILE_STATES = 256
#: Seconds per subset on the reference 2-core machine (calibrated by the benchmark).
SECONDS_PER_SUBSET = 3.0e-8
#: Condition number (of the driver correlation matrix) above which a warning is given.
COLLINEARITY_WARN = 1e6
#: Smallest admissible residual variance of a column given all others (relative).
SINGULAR_TOL = 1e-10


@dataclass
class SubsetBlock:
    """A contiguous block of subset values.

    ``values[h, n]`` is v of the mask ``start + h`` for batch member ``n``.
    """

    start: int
    values: np.ndarray


def single_threaded_blas() -> AbstractContextManager[object]:
    """Context manager limiting BLAS to one thread.

    The kernel's matrix products are small; on a shared machine OpenBLAS threads mostly
    contend with each other (measured 4× slower at p = 25 under load), so one thread is
    both faster and more predictable.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
        return nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


# --------------------------------------------------------------------------------------
# input checks and preparation
# --------------------------------------------------------------------------------------
def check_covariance(C: np.ndarray, names: Sequence[str], *, what: str = "matrix") -> np.ndarray:
    """Validate a square covariance/correlation matrix; return it as a float64 array.

    Raises :class:`DriverkitError` naming the culprit for NaN/inf entries, asymmetry, zero or
    negative variances, and (near) singular / non-positive-definite matrices.
    """
    C = np.asarray(C, dtype=float)
    names = [str(n) for n in names]
    if C.ndim != 2 or C.shape[0] != C.shape[1]:
        raise DriverkitError(f"The {what} must be square; got shape {C.shape}.")
    if C.shape[0] != len(names):
        raise DriverkitError(f"The {what} has {C.shape[0]} rows but {len(names)} names.")
    bad = ~np.isfinite(C)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise DriverkitError(
            f"The {what} contains NaN or infinite values (first at row '{names[i]}', column "
            f"'{names[j]}'). Compute it from complete data or impute first."
        )
    scale = np.maximum(np.abs(C).max(), 1e-300)
    asym = np.abs(C - C.T) > 1e-8 * scale
    if asym.any():
        i, j = np.argwhere(asym)[0]
        raise DriverkitError(
            f"The {what} is not symmetric: entry ['{names[i]}', '{names[j]}'] = {C[i, j]:.6g} "
            f"but ['{names[j]}', '{names[i]}'] = {C[j, i]:.6g}."
        )
    d = np.diag(C)
    nonpos = np.flatnonzero(d <= 0)
    if len(nonpos):
        raise DriverkitError(
            f"The variable '{names[nonpos[0]]}' has zero or negative variance "
            f"({d[nonpos[0]]:.6g}) in the {what}; it cannot be used."
        )
    return (C + C.T) / 2


def _to_correlation(C: np.ndarray) -> np.ndarray:
    s = np.sqrt(np.diag(C))
    R = C / np.outer(s, s)
    np.fill_diagonal(R, 1.0)
    return R


def _check_pd(R: np.ndarray, names: Sequence[str], what: str) -> None:
    """Raise if the correlation matrix ``R`` is singular or not positive definite."""
    try:
        inv = np.linalg.inv(R)
        ok = bool(np.all(np.isfinite(inv)))
    except np.linalg.LinAlgError:
        ok = False
    if ok:
        resid = 1.0 / np.diag(inv)  # 1 − R²_j of each column on all others
        if np.all(resid > SINGULAR_TOL):
            return
        j = int(np.argmin(resid))
    else:
        _ev, vec = np.linalg.eigh(R)
        j = int(np.argmax(np.abs(vec[:, 0])))
    eig = np.linalg.eigvalsh(R)
    raise DriverkitError(
        f"The {what} is singular or not positive definite (smallest eigenvalue "
        f"{eig[0]:.3g}); '{names[j]}' is (almost) a linear combination of the others. "
        "Drop or merge redundant drivers (or put them in one group)."
    )


def partial_correlation(C: np.ndarray, names: Sequence[str], y: int,
                        xs: Sequence[int], always: Sequence[int] = (),
                        *, what: str = "covariance matrix") -> tuple[np.ndarray, float, float]:
    """Standardised residual correlation of ``(x, y)`` given the always-in columns.

    Parameters
    ----------
    C : (k, k) array
        Covariance or correlation matrix of all variables.
    names : sequence of str
        Names of the k variables (for messages).
    y : int
        Index of the outcome.
    xs : sequence of int
        Indices of the player columns (in the order the players will use).
    always : sequence of int
        Indices of always-in covariates, partialled out by a Schur complement.

    Returns
    -------
    R : (m + 1, m + 1) array
        Correlation matrix of the residuals of ``xs`` then ``y`` given ``always``.
    r2_full : float
        R² of y on ``xs`` and ``always`` together.
    r2_always : float
        R² of y on ``always`` alone (0 without).
    """
    C = check_covariance(C, names, what=what)
    idx = [*xs, *always, y]
    sub = _to_correlation(C[np.ix_(idx, idx)])
    sub_names = [names[i] for i in idx]
    m, a = len(xs), len(always)
    if m + a:
        _check_pd(sub[:-1, :-1], sub_names[:-1], what)
    P = np.r_[np.arange(m), m + a]  # player columns then y
    if a:
        A = np.arange(m, m + a)
        S_aa = sub[np.ix_(A, A)]
        S_pa = sub[np.ix_(P, A)]
        part = sub[np.ix_(P, P)] - S_pa @ np.linalg.solve(S_aa, S_pa.T)
        r2_always = float(1.0 - part[-1, -1])
    else:
        part = sub[np.ix_(P, P)]
        r2_always = 0.0
    part = (part + part.T) / 2
    if part[-1, -1] <= 1e-12:
        raise DriverkitError(
            f"The always-in covariates explain '{names[y]}' perfectly (R² = 1); there is no "
            "variance left to attribute to the drivers."
        )
    R = _to_correlation(part)
    r_xy = sub[:-1, -1]
    r2_full = float(r_xy @ np.linalg.solve(sub[:-1, :-1], r_xy)) if m + a else 0.0
    if r2_full > 1.0 + 1e-9:
        eig = np.linalg.eigvalsh(sub)
        raise DriverkitError(
            f"The {what} is not positive definite (smallest eigenvalue {eig[0]:.3g}): the "
            f"correlations of '{names[y]}' with the drivers are inconsistent (they imply "
            f"R² = {r2_full:.4g} > 1). Compute the matrix from one complete data set."
        )
    r2_full = min(r2_full, 1.0)
    if m:
        cond = np.linalg.cond(R[:-1, :-1])
        if cond > COLLINEARITY_WARN:
            warn(
                f"The drivers are highly collinear (condition number {cond:.3g} of their "
                "correlation matrix); importance values may be unstable.",
                CollinearityWarning,
            )
    return R, r2_full, r2_always


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


def _expand_values(S: np.ndarray, widths: Sequence[int]) -> np.ndarray:
    """``1 − res_y`` after deciding the players of ``widths``: ``(2^len(widths), N)``.

    Cache-tiled: the first players are decided for all states, then the last
    ``TILE_LOG2`` players for ``TILE_STATES`` states at a time, so the working set of the
    levels that hold most of the data (the last ones) stays in cache. The arithmetic of
    every state is that of :func:`_expand` (same operations in the same order), so the
    values are bitwise identical; only the memory traffic changes.
    """
    N = S.shape[-1]
    q = len(widths)
    k = q - TILE_LOG2
    if k <= 0 or N * (1 << k) <= TILE_STATES:
        return 1.0 - _expand(S, widths)[0, 0].reshape(1 << q, N)
    S1 = _expand(S, widths[:k])  # states n + N·h1 (h1: the first k players' bits)
    cols = S1.shape[-1]
    out = np.empty((1 << TILE_LOG2, cols))  # [u, n + N·h1], u: the last players' bits
    fuse = TILE_LOG2 >= 2 and widths[-1] == widths[-2] == 1
    for c0 in range(0, cols, TILE_STATES):
        c1 = min(cols, c0 + TILE_STATES)
        if fuse:
            res = _last_two(_expand(S1[:, :, c0:c1], widths[k:-2]))
        else:
            res = _expand(S1[:, :, c0:c1], widths[k:])[0, 0]
        np.subtract(1.0, res.reshape(1 << TILE_LOG2, c1 - c0), out=out[:, c0:c1])
    # mask bits: h1 (low k) then u (high): row-major (u, h1) is the mask order
    return out.reshape(1 << q, N)


def _last_two(S: np.ndarray) -> np.ndarray:
    """Residual variance of y after deciding the last two one-column players ``a``, ``b``.

    ``S`` is ``(3, 3, M)`` over ``(a, b, y)``; returns ``(4M,)`` in the recursion's order
    (neither, a, b, both). The two sweeps of :func:`_decide` written out for y alone, with
    the same operations in the same order (so the same bits), without materialising the
    intermediate 2 × 2 states: these two levels hold about half of all state data.
    """
    M = S.shape[-1]
    res = np.empty(4 * M)
    none, a_in, b_in, both = (res[i * M : (i + 1) * M] for i in range(4))
    Saa, Sab, Say = S[0, 0], S[0, 1], S[0, 2]
    Sbb, Sby, Syy = S[1, 1], S[1, 2], S[2, 2]
    none[:] = Syy
    ab = Sab / Saa
    ay = Say / Saa
    np.subtract(Syy, ay * Say, out=a_in)
    np.subtract(Syy, (Sby / Sbb) * Sby, out=b_in)
    bb = Sbb - ab * Sab
    by = Sby - ab * Say
    np.subtract(a_in, (by / bb) * by, out=both)
    return res


def _order(players: Sequence[Sequence[int]], m: int, b: int) -> tuple[np.ndarray, list[int]]:
    """Column order of the state matrix and the widths, in decision order.

    Players ``b..p−1`` are decided first (the block prefix), then ``0..b−1``; ``y`` is last.
    """
    p = len(players)
    order = [*range(b, p), *range(b)]
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


def available_memory() -> int:
    """Bytes of memory currently available (``MemAvailable``), or a large number if unknown."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:  # pragma: no cover - not Linux
        pass
    try:  # pragma: no cover - platform dependent
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover
        return 1 << 62


def estimate_cost(p: int, *, keep_values: bool = False,
                  block_log2: int = DEFAULT_BLOCK_LOG2) -> dict[str, float]:
    """Estimated seconds and bytes of an exact all-subsets job with ``p`` players.

    Returns a dict with ``seconds``, ``bytes`` (peak working memory) and ``subsets``.
    """
    b = min(p, block_log2)
    work = 48.0 * 8 * 2.0**b  # states of one block (≈ 4.25 doubles per mask) plus temporaries
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
                       block_log2: int = DEFAULT_BLOCK_LOG2,
                       progress: Callable[[int], None] | None = None) -> Iterator[SubsetBlock]:
    """Yield v(S) over the whole subset lattice in contiguous blocks.

    Parameters
    ----------
    R : (m + 1, m + 1) or (N, m + 1, m + 1) array
        Correlation matrix (matrices) with y last.
    players : list of lists of int
        Column indices of each player (a player of several columns is swept as a block).
    block_log2 : int
        Each block holds ``2^min(p, block_log2)`` consecutive masks.
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
    top, low_widths, N, b = _block_setup(R, players, block_log2)
    for g in range(top.shape[-1] // N):
        yield _block(top, low_widths, N, b, g)
        if progress is not None:
            progress(1 << b)


def _block_setup(R: np.ndarray, players: Sequence[Sequence[int]], block_log2: int,
                 ) -> tuple[np.ndarray, list[int], int, int]:
    """The prefix states of the blocks (the top players decided), the low players' widths,
    the batch size N and the block's log2 size b."""
    R = np.asarray(R, dtype=float)
    N = 1 if R.ndim == 2 else R.shape[0]
    m = R.shape[-1] - 1
    players = _check_players(players, m)
    p = len(players)
    b = min(p, block_log2)
    t = p - b
    cols, widths = _order(players, m, b)
    top = _expand(_initial_states(R, cols), widths[:t])  # (d', d', 2^t·N): prefixes
    return top, widths[t:], N, b


def _block(top: np.ndarray, low_widths: list[int], N: int, b: int, g: int) -> SubsetBlock:
    vals = _expand_values(top[:, :, g * N : (g + 1) * N], low_widths)
    if g == 0:
        vals[0] = 0.0
    return SubsetBlock(start=g << b, values=vals)


def usable_cores(cap: int) -> int:
    """The cores this process may use (its CPU affinity, not the machine's count), at most
    ``cap``: the one default for every thread pool in driverkit."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        n = os.cpu_count() or 1
    return max(1, min(cap, n))


def subset_workers() -> int:
    """Threads for the block loop: the cores this process may use (at most 4)."""
    return usable_cores(4)


def map_subset_blocks(R: np.ndarray, players: Sequence[Sequence[int]],
                      fn: Callable[[SubsetBlock], T_], *,
                      block_log2: int = DEFAULT_BLOCK_LOG2, workers: int | None = None,
                      progress: Callable[[int], None] | None = None) -> Iterator[T_]:
    """``fn(block)`` for every block of :func:`iter_subset_blocks`, on threads, in order.

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
    top, low_widths, N, b = _block_setup(R, players, block_log2)
    n_blocks = top.shape[-1] // N
    workers = subset_workers() if workers is None else max(1, int(workers))
    workers = min(workers, n_blocks)

    def job(g: int) -> T_:
        return fn(_block(top, low_widths, N, b, g))

    if workers == 1:
        for g in range(n_blocks):
            yield job(g)
            if progress is not None:
                progress(1 << b)
        return
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: deque = deque()
        nxt = 0
        while nxt < n_blocks or pending:
            while nxt < n_blocks and len(pending) < 2 * workers:
                pending.append(pool.submit(job, nxt))
                nxt += 1
            yield pending.popleft().result()
            if progress is not None:
                progress(1 << b)


def subset_values(R: np.ndarray, players: Sequence[Sequence[int]], *,
                  block_log2: int = DEFAULT_BLOCK_LOG2, check_memory: bool = True) -> np.ndarray:
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
        v[blk.start : blk.start + blk.values.shape[0]] = blk.values[:, 0]
    return v
