"""Logit draws of one-column changes from one exponential per draw and respondent.

Sensitivity curves, impact and priority tables move one driver at a time. For a logit model
with E = e^{−η} (one exponential per draw and respondent) a respondent moved by δ along a
column with coefficient c has F(η + cδ) = r/(E + r), r = e^{cδ} one number per draw, and the
baseline is the slot r = 1: F(η) = 1/(E + 1). Ratings are discrete and clipped, so a column's
changes take few distinct values δ; every (column, δ) is one *slot*, and all slots of a block
of respondents are evaluated by one broadcast add and one reciprocal into a stacked buffer
(slots × respondents × draws), followed by one weighted sum per weight column over all slots.

A scenario moves most respondents by the same δ (all but those at the top or bottom of the
scale), so its sum over the respondents moved by δ is the sum over all respondents minus the
few others ("complement" route); a scenario that moves few respondents by δ (e.g. +2 moves
the 9s by 1) sums them directly. These corrections are gathered from the same buffer.
Exact algebra: only the rounding differs from evaluating every scenario on its own.

The blocks do not depend on the number of threads: draws are split into fixed chunks and each
chunk sums its blocks in order, so the numbers are the same whatever the threads.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["SharedItem", "shared_logit_sums"]

#: draws per chunk (chunks are shared out between threads)
CHUNK_DRAWS = 32
#: respondents × draws per slot of a block (the stacked buffer holds slots times this)
SLOT_ELEMENTS = 16_384
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
                      workers: Callable[[int], int]) -> None:
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
    # fixed blocks and batches (they do not depend on the threads)
    rb = max(16, SLOT_ELEMENTS // m_max)
    gathers = [_Gather.build(dxs, groups, g0, g1, C) for dxs, g0, g1 in buckets]
    e_rows = max((gt.rows.size for gt in gathers), default=0)
    g_rows = max((n for gt in gathers for n in gt.sizes()), default=0)
    ng = len(groups)
    main = np.zeros((nC, D, S))
    corr = np.zeros((ng, nC, S))
    Xc = np.ascontiguousarray(X)

    def work(a: int, m: int, plan: _Series | None) -> None:
        cT = np.ascontiguousarray(coef[a : a + m].T)
        Rm = np.ascontiguousarray(R[a : a + m].T)  # (D, m)
        ic = icpt[a : a + m]
        mloc = np.zeros((nC, D, m))
        E = np.empty((nr, m))  # e^ν of every respondent (the corrections gather from it)
        if plan is not None:  # Chebyshev series on E' = E/h (see _Series)
            K = plan.K
            ic = ic - math.log(plan.h)
            P = np.empty((K + 1, rb, m))
            B = np.empty((rb, m))
            Al = np.empty((rb, m))
            mom = np.zeros((nC, K + 1, m))
        else:
            A = np.empty((D, rb, m))
        with np.errstate(over="ignore", invalid="ignore"):
            for lo in range(0, nr, rb):
                hi = min(nr, lo + rb)
                nb = hi - lo
                e = E[lo:hi]
                np.matmul(Xc[lo:hi], cT, out=e)
                e += ic
                np.exp(e, out=e)
                Cb = C[:, lo:hi]
                if plan is None:  # every slot: 1/(E + r)
                    a3 = A[:, :nb]
                    np.add(e, Rm[:, None, :], out=a3)
                    np.reciprocal(a3, out=a3)
                    if nC <= GEMV_COLUMNS:
                        for u in range(nC):
                            mloc[u] += np.matmul(Cb[u], a3)
                    else:
                        mloc += np.matmul(Cb, a3).transpose(1, 0, 2)
                    continue
                # α = (E + c)/h, s = √(α² − 1): moments Σ W β^k/s, β = 1/(α + s)
                # (not α − s, which cancels for large α)
                p = P[:, :nb]
                al = Al[:nb]
                np.add(e, plan.c / plan.h, out=al)
                q = p[0]
                np.multiply(al, al, out=q)
                q -= 1.0
                np.sqrt(q, out=q)
                b = B[:nb]
                np.add(al, q, out=b)
                np.reciprocal(b, out=b)
                np.reciprocal(q, out=q)
                for k in range(1, K + 1):
                    np.multiply(p[k - 1], b, out=p[k])
                for u in range(nC):
                    mom[u] += np.matmul(Cb[u], p)
            # exact values on the corrections' rows: 1/(E + r) (or h/(E + r) on E')
            Rc = Rm if plan is None else Rm / plan.h
            cloc = np.zeros((ng, nC, m))
            Ebuf = np.empty((e_rows, m))
            Gbuf = np.empty((g_rows, m))
            for gt in gathers:
                Ej = Ebuf[: gt.rows.size]
                np.take(E, gt.rows, axis=0, out=Ej)
                for slot, where, parts in gt.evals:
                    src = Ej[where] if isinstance(where, slice) else Ej.take(where, axis=0)
                    G = Gbuf[: src.shape[0]]
                    np.add(src, Rc[slot], out=G)
                    np.reciprocal(G, out=G)
                    for g, a0, a1, Wg in parts:
                        np.matmul(Wg, G[a0:a1], out=cloc[g])
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
            for fut in [pool.submit(work, a, m, sp)
                        for (a, m), sp in zip(chunks, plans, strict=True)]:
                fut.result()
    else:
        for (a, m), sp in zip(chunks, plans, strict=True):
            work(a, m, sp)

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


@dataclass
class _Gather:
    """The correction groups of one column: the union of their rows, gathered once per
    chunk in an order that makes each group a contiguous range when it can (rows sorted
    by their pattern of changes: for shifts, by rating), and the evaluations: per slot, the
    range (or rows) where 1/(E + r) is computed and each group's part of it."""

    rows: np.ndarray
    evals: list[tuple[int, slice | np.ndarray, list[tuple[int, int, int, np.ndarray]]]]

    def sizes(self) -> list[int]:
        return [w.stop - w.start if isinstance(w, slice) else w.size for _, w, _ in self.evals]

    @classmethod
    def build(cls, dxs: list[np.ndarray], groups: list[_Group], g0: int, g1: int,
              C: np.ndarray) -> _Gather:
        mine = [g for g in range(g0, g1) if groups[g].rows.size]
        if not mine:
            return cls(np.empty(0, dtype=np.intp), [])
        U = np.unique(np.concatenate([groups[g].rows for g in mine]))
        order = np.lexsort([dx[U] for dx in dxs]) if dxs else np.arange(U.size)
        rows = U[order]
        inv = np.empty(U.size, dtype=np.intp)
        inv[order] = np.arange(U.size)
        spans: dict[int, list[tuple[int, int, int] | tuple[int, np.ndarray]]] = {}
        for g in mine:
            p = np.sort(inv[np.searchsorted(U, groups[g].rows)])
            if p[-1] - p[0] + 1 == p.size:
                spans.setdefault(groups[g].slot, []).append((g, int(p[0]), int(p[-1]) + 1))
            else:
                spans.setdefault(groups[g].slot, []).append((g, p))
        evals: list[tuple[int, slice | np.ndarray, list[tuple[int, int, int, np.ndarray]]]]
        evals = []
        for slot, parts in spans.items():
            ranges = [t for t in parts if len(t) == 3]
            if ranges:
                lo = min(t[1] for t in ranges)  # type: ignore[misc]
                hi = max(t[2] for t in ranges)  # type: ignore[misc]
                covered = np.zeros(hi - lo, dtype=bool)
                for _, a0, a1 in ranges:  # type: ignore[misc]
                    covered[a0 - lo : a1 - lo] = True
                if covered.all():  # one evaluation over the hull, each group a part of it
                    evals.append((slot, slice(lo, hi), [
                        (g, a0 - lo, a1 - lo, C[:, rows[a0:a1]] * groups[g].sign)
                        for g, a0, a1 in ranges]))  # type: ignore[misc]
                else:
                    evals.extend((slot, slice(a0, a1), [
                        (g, 0, a1 - a0, C[:, rows[a0:a1]] * groups[g].sign)])
                        for g, a0, a1 in ranges)  # type: ignore[misc]
            for t in parts:
                if len(t) == 2:
                    g, p = t  # type: ignore[misc]
                    evals.append((slot, p, [(g, 0, p.size, C[:, rows[p]] * groups[g].sign)]))
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
