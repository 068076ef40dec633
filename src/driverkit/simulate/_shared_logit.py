"""Logit draws of one-column changes from one exponential per draw and respondent.

Sensitivity curves, impact and priority tables move one driver at a time. For a logit model
with E = e^{−η} (one exponential per draw and respondent) a respondent moved by δ along a
column with coefficient c has F(η + cδ) = r/(E + r), r = e^{cδ} one number per draw, and the
baseline is r = 1: F(η) = 1/(E + 1). Ratings are discrete and clipped, so a column's changes
take few distinct values δ; every (column, δ) is one *slot* with its r per draw.

A scenario moves most respondents by the same δ (all but those at the top or bottom of the
scale), so its sum over the respondents moved by δ is the sum over *all* respondents minus
the few others ("complement" route); a scenario that moves few respondents by δ (e.g. +2
moves the 9s by 1) sums them directly. So each slot needs one sum over all respondents,
Σᵢ Wᵢ/(Eᵢ + r), plus exact sums over small groups ("corrections"):

* the sums over all respondents come, for every slot and draw of a chunk at once, from
  Chebyshev moments in r (see :class:`_Series`): K + 1 passes per block instead of one
  add, reciprocal and weighted sum per slot, with a remainder below double rounding; when
  the slots' r are too far apart for the series to pay, every slot is evaluated instead;
* the corrections are exact: each column's groups (respondents at or near the ends of the
  scale) are gathered while their block is in the cache, ordered so that each group is a
  contiguous range, and evaluated per slot in batches of respondents.

Exact algebra; only the rounding differs from evaluating every scenario on its own. The
blocks and chunks do not depend on the number of threads (each chunk of draws sums its
blocks in order), so the numbers are the same whatever the threads.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["SharedItem", "shared_logit_sums"]

#: draws per chunk (chunks are shared out between threads)
CHUNK_DRAWS = 32
#: respondents × draws per block (a few such buffers, or K + 1 of them, stay in the cache)
SLOT_ELEMENTS = 16_384
#: respondents per batch of corrections (their gathered rows stay in the cache)
SUPER_ROWS = 16_384
#: weight columns summed by one matrix-vector product each up to this many (else one GEMM)
GEMV_COLUMNS = 3
#: the series is used when α₀ = c/h (see _Series) is at least this (β₀ ≤ 0.64) ...
SERIES_MIN_ALPHA = 1.1
#: ... and its terms plus set-up passes are at most this many times the slots (r values)
SERIES_COST = 3.0
SERIES_SETUP = 8
#: the series' remainder bound, relative to each respondent's value (double rounding)
EPS = 2.0**-53


@dataclass
class SharedItem:
    """One plan's one-column branch: plan index, weights (nr, 3) and change ``dx`` (nr,)."""

    plan: int
    W: np.ndarray
    dx: np.ndarray


@dataclass
class _Group:
    """A correction group: rows of one slot summed with sign ±1 (the complement route
    subtracts the respondents a scenario does not move by this slot's δ)."""

    slot: int
    rows: np.ndarray
    sign: float


class _Columns:
    """Distinct weight columns (w, w·R, w·segment of every plan and branch), stored once."""

    def __init__(self) -> None:
        self.cols: list[np.ndarray] = []
        self._seen: dict[int, list[int]] = {}

    def index(self, W: np.ndarray) -> list[int]:
        key = id(W)
        if key in self._seen:
            return self._seen[key]
        out = []
        for o in range(W.shape[1]):
            c = W[:, o]
            for u, have in enumerate(self.cols):
                if np.array_equal(have, c):
                    out.append(u)
                    break
            else:
                self.cols.append(np.ascontiguousarray(c))
                out.append(len(self.cols) - 1)
        self._seen[key] = out
        return out


def shared_logit_sums(X: np.ndarray, neg: np.ndarray, coef_index: np.ndarray,
                      columns: list[tuple[int, list[SharedItem], np.ndarray]],
                      base_weights: list[tuple[np.ndarray, list[int]]],
                      out: list[tuple[np.ndarray, np.ndarray]],
                      workers: Callable[[int], int],
                      tick: Callable[[int], Any] = lambda k: None) -> None:
    """Baselines and one-column changes of a logit model for S parameter draws.

    Parameters
    ----------
    X : (nr, k) design (distinct rows).
    neg : (S, P) negated parameter draws (ν = −η = X·neg_coef + neg_intercept).
    coef_index : positions of the design columns' coefficients in the parameters.
    columns : ``(design column j, items, deltas)``: the branches moving column j and the
        distinct non-zero changes among them.
    base_weights : distinct baseline weight matrices (nr, 3) and the plans that use each.
    out : per plan, (baseline sums (S, 3), change sums (S, 3)); baselines of the listed
        plans are set, the items' changes are added.
    workers : threads for a number of chunks.
    tick : called with the number of draws of each chunk done (a progress bar).
    """
    S = neg.shape[0]
    nr = X.shape[0]
    store = _Columns()
    base_idx = [store.index(Wu) for Wu, _ in base_weights]
    slot_col = [0]  # slot 0: the baseline (r = 1)
    slot_delta = [0.0]
    groups: list[_Group] = []
    seen: dict[tuple[int, float, int, bytes], list[int]] = {}

    def group(slot: int, rows: np.ndarray, sign: float) -> int:
        """Index of the correction group (equal groups, e.g. the unmoved top raters of +1
        and +2, are summed once)."""
        key = (slot, sign, rows.size, rows[:8].tobytes())
        for g in seen.get(key, []):
            if np.array_equal(groups[g].rows, rows):
                return g
        groups.append(_Group(slot, rows, sign))
        seen.setdefault(key, []).append(len(groups) - 1)
        return len(groups) - 1

    # per item: plan, output columns, [(slot, group, complement)], (group, complement) moved
    plan_terms = []
    buckets: list[tuple[list[np.ndarray], int, int]] = []  # (items' dx, first group, end)
    for j, items, deltas in columns:
        g_first = len(groups)
        first = len(slot_col)
        slot_col.extend([j] * deltas.size)
        slot_delta.extend(float(d) for d in deltas)
        for it in items:
            cidx = store.index(it.W)
            terms = []
            for k, d in enumerate(deltas):
                hit = it.dx == d
                cnt = int(np.count_nonzero(hit))
                if cnt == 0:
                    continue
                compl = cnt > nr // 2
                rows = np.flatnonzero(~hit if compl else hit)
                terms.append((first + k, group(first + k, rows, -1.0 if compl else 1.0),
                              compl))
            moved = it.dx != 0
            cnt = int(np.count_nonzero(moved))
            compl = cnt > nr // 2
            gm = group(0, np.flatnonzero(~moved if compl else moved), -1.0 if compl else 1.0)
            plan_terms.append((it.plan, cidx, terms, (gm, compl)))
        buckets.append(([it.dx for it in items], g_first, len(groups)))
    C = np.vstack(store.cols)  # (nC, nr)
    nC = C.shape[0]
    D = len(slot_col)

    coef = neg[:, coef_index]
    icpt = neg[:, 0]
    # r = e^{cδ} per draw and slot; ν carries −c, so r = exp(−(−c)·δ)
    sc = np.asarray(slot_col[1:], dtype=int)
    sd = np.asarray(slot_delta[1:])
    R = np.ones((S, D))
    if D > 1:
        R[:, 1:] = np.exp(-coef[:, sc] * sd)

    m_max = min(S, CHUNK_DRAWS)
    chunks = [(a, min(m_max, S - a)) for a in range(0, S, m_max)]
    plans = [_Series.plan(R[a : a + m], D) for a, m in chunks]
    # fixed blocks (they do not depend on the threads); the corrections are evaluated per
    # batch of blocks, whose gathered rows stay in the cache
    rb = max(16, SLOT_ELEMENTS // m_max)
    sb = max(1, SUPER_ROWS // rb) * rb
    built = []
    for slo in range(0, nr, sb):
        shi = min(nr, slo + sb)
        built.append((slo, shi, [_Gather.build(dxs, groups, g0, g1, C, slo, shi)
                                 for dxs, g0, g1 in buckets]))
    # one buffer for every column's gathered rows (column j at offsets[j]), filled by one
    # gather per block
    e_rows = [max((gts[j].rows.size for _, _, gts in built), default=0)
              for j in range(len(buckets))]
    offsets = np.r_[0, np.cumsum(e_rows)].astype(np.intp)
    batches = []
    for slo, shi, gts in built:
        per = [gt.per_block(rb, slo, shi) for gt in gts]
        fills = [(np.concatenate([f[b][0] + offsets[j] for j, f in enumerate(per)]),
                  np.concatenate([f[b][1] for f in per])) if per else
                 (np.empty(0, np.intp), np.empty(0, np.intp))
                 for b in range(len(range(slo, shi, rb)))]
        batches.append((slo, shi, gts, fills))
    g_rows = max((n for bt in batches for gt in bt[2] for n in gt.sizes()), default=0)
    ng = len(groups)
    main = np.zeros((nC, D, S))
    corr = np.zeros((ng, nC, S))
    Xc = np.ascontiguousarray(X)

    def work(a: int, m: int, plan: _Series | None) -> None:
        cT = np.ascontiguousarray(coef[a : a + m].T)
        Rm = np.ascontiguousarray(R[a : a + m].T)  # (D, m)
        ic = icpt[a : a + m]
        mloc = np.zeros((nC, D, m))
        cloc = np.zeros((ng, nC, m))
        E = np.empty((rb, m))
        Eall = np.empty((int(offsets[-1]), m))  # every column's correction rows
        Ejs = [Eall[offsets[j] : offsets[j + 1]] for j in range(len(e_rows))]
        Gbuf = np.empty((g_rows, m))
        if plan is not None:  # Chebyshev series on E' = E/h (see _Series)
            K = plan.K
            ic = ic - math.log(plan.h)
            Rc = Rm / plan.h  # the corrections then hold h/(E + r)
            P = np.empty((K + 1, rb, m))
            B = np.empty((rb, m))
            Al = np.empty((rb, m))
            mom = np.zeros((nC, K + 1, m))
        else:
            Rc = Rm
            A = np.empty((D, rb, m))
        with np.errstate(over="ignore", invalid="ignore"):
            for slo, shi, gts, fills in batches:
                for b, lo in enumerate(range(slo, shi, rb)):
                    hi = min(shi, lo + rb)
                    nb = hi - lo
                    e = E[:nb]
                    np.matmul(Xc[lo:hi], cT, out=e)
                    e += ic
                    np.exp(e, out=e)
                    pos, local = fills[b]
                    if pos.size:  # gathered while the block is in the cache
                        Eall[pos] = e[local]
                    Cb = C[:, lo:hi]
                    if plan is None:
                        _slots(e, Rm, Cb, A[:, :nb], mloc)
                    else:
                        _moments(e, plan, Cb, P[:, :nb], B[:nb], Al[:nb], mom)
                # exact values on the corrections' rows: 1/(E + r) (h/(E + r) on E')
                for gt, Ej in zip(gts, Ejs, strict=True):
                    for slot, where, parts in gt.evals:
                        src = Ej[where] if isinstance(where, slice) else Ej.take(where, axis=0)
                        G = Gbuf[: src.shape[0]]
                        np.add(src, Rc[slot], out=G)
                        np.reciprocal(G, out=G)
                        for g, a0, a1, Wg in parts:
                            _reduce(Wg, G[a0:a1], cloc[g])
        if plan is not None:
            mloc[:] = plan.evaluate(mom, Rm)
            mloc *= 1.0 / plan.h
            cloc *= 1.0 / plan.h
        main[:, :, a : a + m] = mloc
        corr[:, :, a : a + m] = cloc

    nw = min(workers(len(chunks)), len(chunks))
    if nw > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=nw) as pool:
            futs = [pool.submit(work, a, m, sp) for (a, m), sp in zip(chunks, plans, strict=True)]
            for fut, (_, m) in zip(futs, chunks, strict=True):
                fut.result()
                tick(m)
    else:
        for (a, m), sp in zip(chunks, plans, strict=True):
            work(a, m, sp)
            tick(m)

    base = main[:, 0]  # (nC, S): Σ w F per weight column
    for (_, users), idx in zip(base_weights, base_idx, strict=True):
        b0 = base[idx].T
        for i in users:
            out[i][0][:] = b0
    for plan, cidx, terms, (gm, compl_m) in plan_terms:
        delta = out[plan][1]
        for o, u in enumerate(cidx):
            v = -(corr[gm, u] + base[u]) if compl_m else -corr[gm, u]
            for d, g, compl in terms:
                s = corr[g, u] + main[u, d] if compl else corr[g, u]
                v = v + R[:, d] * s
            delta[:, o] += v


def _reduce(W: np.ndarray, G: np.ndarray, acc: np.ndarray) -> None:
    """acc += W @ G, by matrix-vector products for few rows of W (faster than a GEMM)."""
    if W.shape[0] <= GEMV_COLUMNS:
        for u in range(W.shape[0]):
            acc[u] += np.matmul(W[u], G)
    else:
        acc += np.matmul(W, G)


def _slots(e: np.ndarray, Rm: np.ndarray, Cb: np.ndarray, A: np.ndarray,
           mloc: np.ndarray) -> None:
    """Every slot of a block: Σ W/(E + r) per weight column."""
    np.add(e, Rm[:, None, :], out=A)
    np.reciprocal(A, out=A)
    if Cb.shape[0] <= GEMV_COLUMNS:  # one batched matrix-vector product per column
        for u in range(Cb.shape[0]):
            mloc[u] += np.matmul(Cb[u], A)
    else:
        mloc += np.matmul(Cb, A).transpose(1, 0, 2)


def _moments(e: np.ndarray, plan: _Series, Cb: np.ndarray, P: np.ndarray, B: np.ndarray,
             Al: np.ndarray, mom: np.ndarray) -> None:
    """The series' moments of a block: Σ W β^k/s, k = 0..K, per weight column."""
    # α = (E + c)/h, s = √(α² − 1), β = 1/(α + s) (not α − s, which cancels for large α)
    np.add(e, plan.c / plan.h, out=Al)
    q = P[0]
    np.multiply(Al, Al, out=q)
    q -= 1.0
    np.sqrt(q, out=q)
    np.add(Al, q, out=B)
    np.reciprocal(B, out=B)
    np.reciprocal(q, out=q)
    for k in range(1, plan.K + 1):
        np.multiply(P[k - 1], B, out=P[k])
    for u in range(Cb.shape[0]):
        mom[u] += np.matmul(Cb[u], P)


@dataclass
class _Gather:
    """The correction groups of one column: the union of their rows, gathered once per
    chunk in an order that makes each group a contiguous range when it can (rows sorted
    by their pattern of changes: for shifts, by rating), and the evaluations: per slot, the
    range (or rows) where 1/(E + r) is computed and each group's part of it."""

    rows: np.ndarray
    evals: list[tuple[int, slice | np.ndarray, list[tuple[int, int, int, np.ndarray]]]]

    def per_block(self, rb: int, lo: int, hi: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per block of ``rb`` respondents from ``lo`` to ``hi``: positions in the gather
        and block-local rows."""
        order = np.argsort(self.rows, kind="stable")
        srt = self.rows[order]
        starts = list(range(lo, hi, rb))
        edges = np.searchsorted(srt, [*starts, hi])
        return [(order[edges[b] : edges[b + 1]], srt[edges[b] : edges[b + 1]] - b0)
                for b, b0 in enumerate(starts)]

    def sizes(self) -> list[int]:
        return [w.stop - w.start if isinstance(w, slice) else w.size for _, w, _ in self.evals]

    @classmethod
    def build(cls, dxs: list[np.ndarray], groups: list[_Group], g0: int, g1: int,
              C: np.ndarray, lo: int, hi: int) -> _Gather:
        """The groups ``g0:g1`` (one column's) restricted to the respondents ``lo:hi``."""
        sub = {}
        for g in range(g0, g1):
            r = groups[g].rows
            r = r[np.searchsorted(r, lo) : np.searchsorted(r, hi)]
            if r.size:
                sub[g] = r
        mine = list(sub)
        if not mine:
            return cls(np.empty(0, dtype=np.intp), [])
        U = np.unique(np.concatenate(list(sub.values())))
        order = np.lexsort([dx[U] for dx in dxs]) if dxs else np.arange(U.size)
        rows = U[order]
        inv = np.empty(U.size, dtype=np.intp)
        inv[order] = np.arange(U.size)
        ranges: dict[int, list[tuple[int, int, int]]] = {}  # slot: (group, start, stop)
        scattered: list[tuple[int, np.ndarray]] = []  # (group, positions)
        for g in mine:
            p = np.sort(inv[np.searchsorted(U, sub[g])])
            if p[-1] - p[0] + 1 == p.size:
                ranges.setdefault(groups[g].slot, []).append((g, int(p[0]), int(p[-1]) + 1))
            else:
                scattered.append((g, p))

        def weights(g: int, at: np.ndarray | slice) -> np.ndarray:
            return C[:, rows[at]] * groups[g].sign

        evals: list[tuple[int, slice | np.ndarray, list[tuple[int, int, int, np.ndarray]]]]
        evals = []
        for slot, rs in ranges.items():
            lo = min(a0 for _, a0, _ in rs)
            hi = max(a1 for _, _, a1 in rs)
            covered = np.zeros(hi - lo, dtype=bool)
            for _, a0, a1 in rs:
                covered[a0 - lo : a1 - lo] = True
            if covered.all():  # one evaluation over the hull, each group a part of it
                evals.append((slot, slice(lo, hi), [(g, a0 - lo, a1 - lo, weights(g, slice(a0, a1)))
                                                    for g, a0, a1 in rs]))
            else:
                evals.extend((slot, slice(a0, a1), [(g, 0, a1 - a0, weights(g, slice(a0, a1)))])
                             for g, a0, a1 in rs)
        for g, p in scattered:
            evals.append((groups[g].slot, p, [(g, 0, p.size, weights(g, p))]))
        return cls(rows, evals)


@dataclass
class _Series:
    """Σᵢ Wᵢ/(Eᵢ + r) for every slot r of a chunk from K + 1 moments (Chebyshev in r).

    With r = c + h·t on the chunk's range [a, b] of r (t ∈ [−1, 1]) and α = (E + c)/h > 1,
    1/(E + r) = (1/h)·(1/s)·[1 + 2 Σ_{k≥1} (−β)^k T_k(t)], s = √(α² − 1), β = 1/(α + s)
    (the generating function of the Chebyshev polynomials T_k). So the sums are
    (1/h)·Σ_k' c_k T_k(t) with moments Σᵢ Wᵢ βᵢ^k/sᵢ, evaluated by Clenshaw's recurrence for
    every slot and draw. With α ≥ α₀ = c/h (E ≥ 0) the remainder after K terms is at most
    2·√((α₀+1)/(α₀−1))·β₀^(K+1)/(1 − β₀) of each respondent's value, β₀ = 1/(α₀ + √(α₀²−1));
    K is chosen so that this is below the rounding of double precision (2⁻⁵³): the series is
    as exact as evaluating every slot. It is used when it is the cheaper of the two.
    """

    c: float
    h: float
    K: int

    @classmethod
    def plan(cls, R: np.ndarray, D: int) -> _Series | None:
        if D <= 1 or R.size == 0:
            return None
        lo, hi = float(np.min(R)), float(np.max(R))
        c, h = (lo + hi) / 2, (hi - lo) / 2
        if not (h > 1e-12 * c and math.isfinite(c)):
            return None
        a0 = c / h
        if a0 < SERIES_MIN_ALPHA:
            return None
        s0 = math.sqrt((a0 - 1.0) * (a0 + 1.0))
        b0 = 1.0 / (a0 + s0)
        lead = 2.0 * math.sqrt((a0 + 1.0) / (a0 - 1.0)) / (1.0 - b0)
        K = max(1, math.ceil(math.log(EPS / lead) / math.log(b0)) - 1)
        if K + SERIES_SETUP > SERIES_COST * (D - 1):
            return None
        return cls(c, h, K)

    def evaluate(self, mom: np.ndarray, Rm: np.ndarray) -> np.ndarray:
        """(nC, D, m) sums × h from moments (nC, K + 1, m) at the slots' r (D, m)."""
        t = (Rm - self.c) / self.h
        # c_0 = ν_0, c_k = 2(−1)^k ν_k; Clenshaw: b_k = c_k + 2t b_{k+1} − b_{k+2}
        b1 = np.zeros((mom.shape[0], *t.shape))
        b2 = np.zeros_like(b1)
        t2 = 2.0 * t
        for k in range(self.K, 0, -1):
            ck = (2.0 if k % 2 == 0 else -2.0) * mom[:, k, None, :]
            b1, b2 = ck + t2 * b1 - b2, b1
        return mom[:, 0, None, :] + t * b1 - b2
