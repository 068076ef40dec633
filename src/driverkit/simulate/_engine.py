"""The effect engine: respondent-level predictions before and after a scenario.

Everything goes through the model's prediction kernel (``linear_predictor``,
``predict_design``, ``draw_params``). For single-index models (linear, logit, probit,
ordered logit) the engine caches the baseline linear predictor η̂ and recomputes only the
contribution of the changed design columns, Δη = Σ_j β_j Δx_j, so one evaluation costs a few
vector operations per changed driver. Parameter draws are processed in chunks of rows × draws
to bound memory, and every draw shares the chunk's baseline across scenarios.

Weighted sums are returned for three weight vectors at once (the columns of ``Wm``):
w (rates), w·R (revenue per respondent) and w·1[segment] (the scenario's segment).

Logit draws of one-driver changes (sensitivity curves, impact, one-driver scenarios) share
the exponential: with E = exp(−η) computed once per draw, F(η + cδ) = r/(r + E) with
r = exp(cδ) one number per draw. A driver's change δᵢ takes few distinct values (ratings are
discrete and clipped), so every scenario moving that driver is evaluated from one
add/reciprocal pass and one product per distinct δ, without an exponential per scenario.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..exceptions import DriverkitError, DriverkitTypeError
from ..stats._links import get_link, logistic
from ._money import Calibration
from ._shared_logit import SharedItem, shared_logit_sums

__all__ = ["Branch", "Kernel", "Plan"]

#: elements (draws × respondents) per chunk of the draw path (~20 MB per float64 buffer)
CHUNK_ELEMENTS = 2_500_000
#: a one-column change with more distinct non-zero values is evaluated scenario by scenario
MAX_SHIFT_VALUES = 16


@dataclass
class Branch:
    """One outcome of a scenario: design columns ``cols`` change by ``dX`` (len(cols), n),
    with probability ``prob`` (n,) per respondent (``None`` = 1)."""

    prob: np.ndarray | None
    cols: np.ndarray
    dX: np.ndarray


@dataclass
class Plan:
    """A compiled scenario: its branches and the weight matrix (w, w·R, w·segment)."""

    name: str
    branches: list[Branch]
    Wm: np.ndarray
    mask: np.ndarray | None
    moves: dict[str, Any] = field(default_factory=dict)
    Wsum: np.ndarray | None = None  # Wm.sum(axis=0), computed once

    @property
    def W_total(self) -> np.ndarray:
        if self.Wsum is None:
            self.Wsum = self.Wm.sum(axis=0)
        return self.Wsum

    @property
    def is_zero(self) -> bool:
        return not any(b.cols.size for b in self.branches)


class Kernel:
    """Per-respondent values from the model, vectorised over parameter draws.

    Parameters
    ----------
    model : DriverModel or any object with the prediction kernel
    X : ndarray (n, k)
        Baseline design of the respondents.
    target : None, str, sequence of levels or callable
        What the simulated "rate" is (see :class:`~driverkit.Simulator`).
    calibration : Calibration, optional
    """

    def __init__(self, model: Any, X: np.ndarray, target: Any = None,
                 calibration: Calibration | None = None) -> None:
        from ..models import DriverModel

        self.model = model
        self.X = X
        self.n = X.shape[0]
        params = model.params
        self.theta = np.asarray(params, dtype=float)
        self.P = self.theta.size
        self.fast = isinstance(model, DriverModel) and model.kind in (
            "linear", "logit", "probit", "ordinal")
        self.kind = str(getattr(model, "kind", "model"))
        columns = list(getattr(model, "columns", []) or [])
        names = [str(c) for c in getattr(params, "index", [])]
        if self.fast:
            pos = {c: i for i, c in enumerate(names)}
            self.coef_index = np.array([pos[c] for c in columns], dtype=int)
            self.n_cuts = self.P - len(columns) if self.kind == "ordinal" else 0
        else:
            self.coef_index = np.arange(len(columns), dtype=int)
            self.n_cuts = 0
        self.calibration = calibration
        self.target, self.target_label = self._parse_target(target)
        self._eta0: np.ndarray | None = None
        self._v0: np.ndarray | None = None

    # -- target ----------------------------------------------------------------------------
    def _levels(self) -> list[Any]:
        levels = getattr(self.model, "outcome_levels", None)
        K = self.n_cuts + 1
        if levels is None or len(levels) != K:
            return list(range(K))
        return list(levels)

    def _parse_target(self, target: Any) -> tuple[Any, str]:
        outcome = str(getattr(self.model, "outcome", "outcome")).split("~")[0].strip()
        if self.kind != "ordinal" or not self.fast:
            if target is None:
                label = {"logit": f"P({outcome} = 1)", "probit": f"P({outcome} = 1)",
                         "linear": f"mean predicted {outcome}"}.get(self.kind,
                                                                  f"predicted {outcome}")
                return None, label
            if callable(target):
                return target, f"{getattr(target, '__name__', 'target')}(prediction)"
            raise DriverkitError(
                f"target={target!r} applies only to ordinal models (or pass a callable that "
                f"maps the {self.kind} model's predictions to one value per respondent)."
            )
        levels = self._levels()
        K = len(levels)
        if target is None or target == "top":
            return ("top", 1), f"P({outcome} = {levels[-1]!r}) (top category)"
        if target == "bottom":
            return ("bottom", 1), f"P({outcome} = {levels[0]!r}) (bottom category)"
        if target == "expected":
            try:
                scores = np.array([float(v) for v in levels])
            except (TypeError, ValueError):
                scores = np.arange(K, dtype=float)
            return ("expected", scores), f"expected {outcome} score"
        if isinstance(target, str):
            m = re.fullmatch(r"top(\d+)", target)
            if m and 1 <= int(m.group(1)) < K:
                k = int(m.group(1))
                return ("top", k), f"P({outcome} in top {k}: {', '.join(map(repr, levels[-k:]))})"
            raise DriverkitError(
                f"The 'target' parameter of Simulator() must be 'top', 'topk' (k < {K}), "
                f"'bottom', 'expected', a list of levels or a callable. Got {target!r}."
            )
        target_scores = getattr(target, "scores", None)
        if callable(target) and target_scores is not None:
            # a linear score over the levels (e.g. NPS: +1 promoters, −1 detractors) is
            # evaluated from the cut points where the score changes, not from all K probs
            sc = np.asarray(target_scores, dtype=float)
            if sc.shape != (K,):
                raise DriverkitError(
                    f"target.scores must hold one score per outcome level ({K}); got "
                    f"{sc.shape[0] if sc.ndim == 1 else sc.shape}."
                )
            return ("expected", sc), f"{getattr(target, '__name__', 'target')}(P)"
        if callable(target):
            return ("callable", target), f"{getattr(target, '__name__', 'target')}(P)"
        if isinstance(target, Sequence):
            idx = []
            for t in target:
                if t in levels:
                    idx.append(levels.index(t))
                elif str(t) in [str(v) for v in levels]:
                    idx.append([str(v) for v in levels].index(str(t)))
                else:
                    raise DriverkitError(
                        f"target names level {t!r}, which is not an outcome level "
                        f"({', '.join(map(repr, levels))})."
                    )
            return (("levels", np.array(sorted(set(idx)))),
                    f"P({outcome} in {{{', '.join(repr(levels[i]) for i in sorted(set(idx)))}}})")
        raise DriverkitTypeError(f"Cannot use target={target!r}.")

    # -- values ----------------------------------------------------------------------------
    def _ordinal_values(self, eta: np.ndarray, params: np.ndarray) -> np.ndarray:
        cuts = params[..., self.P - self.n_cuts:]
        how, arg = self.target
        c = cuts[:, None, :] if eta.ndim == 2 else cuts[None, :]
        if how == "top":
            j = self.n_cuts - arg  # P(Y >= K - k) = expit(η − c_{K-k-1})
            cj = cuts[:, j][:, None] if eta.ndim == 2 else cuts[j]
            return logistic(eta - cj)
        if how == "bottom":
            c0 = cuts[:, 0][:, None] if eta.ndim == 2 else cuts[0]
            return logistic(c0 - eta)
        if how == "expected":
            # E[s(Y)] = s_0 + Σ_m P(Y ≥ m)(s_m − s_{m−1}): only cuts where the score steps
            steps = np.diff(arg)
            nz = np.flatnonzero(steps)
            up = logistic(eta[..., None] - c[..., nz])
            return arg[0] + up @ steps[nz]
        upper = logistic(eta[..., None] - c)  # P(Y >= m), m = 1..K-1
        ones = np.ones((*upper.shape[:-1], 1))
        zeros = np.zeros((*upper.shape[:-1], 1))
        probs = -np.diff(np.concatenate([ones, upper, zeros], axis=-1), axis=-1)
        if how == "levels":
            return probs[..., arg].sum(axis=-1)
        return np.asarray(arg(probs), dtype=float)

    def values_eta(self, eta: np.ndarray, params: np.ndarray) -> np.ndarray:
        """Per-respondent values from the linear predictor (single-index models)."""
        if self.kind == "linear":
            v = eta
        elif self.kind == "logit":
            v = logistic(eta)
        elif self.kind == "probit":
            v = get_link("probit").cdf(eta)
        else:
            v = self._ordinal_values(eta, params)
        if self.kind != "ordinal" and self.target is not None:
            v = np.asarray(self.target(v), dtype=float)
        if self.calibration is not None:
            v = self.calibration(v)
        return v

    def values_design(self, X: np.ndarray, params: np.ndarray) -> np.ndarray:
        """Per-respondent values from a full design (any model with ``predict_design``)."""
        pred = np.asarray(self.model.predict_design(X, params), dtype=float)
        if self.target is not None:
            pred = np.asarray(self.target(pred), dtype=float)
        if pred.ndim != (2 if np.ndim(params) == 2 else 1):
            raise DriverkitError(
                "The model's predictions are not one number per respondent; pass target= "
                "(a callable mapping predictions to one value per respondent)."
            )
        if self.calibration is not None:
            pred = self.calibration(pred)
        return pred

    # -- point path ------------------------------------------------------------------------
    @property
    def v0(self) -> np.ndarray:
        """Baseline values at the fitted parameters (cached)."""
        if self._v0 is None:
            if self.fast:
                self._eta0 = self.model.linear_predictor(self.X, self.theta)
                self._v0 = self.values_eta(self._eta0, self.theta)
            else:
                self._v0 = self.values_design(self.X, self.theta)
            if not np.isfinite(self._v0).all():
                raise DriverkitError("The model's baseline predictions contain non-finite values.")
        return self._v0

    def branch_values(self, b: Branch, params: np.ndarray, *, rows: Any = None,
                      eta: np.ndarray | None = None) -> np.ndarray:
        """Values under one branch (params (P,) → (n,); (S, P) → (S, n))."""
        dX = b.dX if rows is None else b.dX[:, rows]
        if self.fast:
            assert eta is not None
            coef = params[..., self.coef_index[b.cols]]
            return self.values_eta(eta + coef @ dX, params)
        X = self.X if rows is None else self.X[rows]
        X1 = X.copy()
        X1[:, b.cols] += dX.T
        return self.values_design(X1, params)

    def point(self, plan: Plan) -> tuple[np.ndarray, np.ndarray]:
        """Weighted sums (3,) of the baseline values and of the change, at θ̂."""
        v0 = self.v0
        base = v0 @ plan.Wm
        delta = np.zeros(plan.Wm.shape[1])
        for b in plan.branches:
            if not b.cols.size:
                continue
            d = self.branch_values(b, self.theta, eta=self._eta0) - v0
            delta += (d if b.prob is None else d * b.prob) @ plan.Wm
        return base, delta

    # -- draw path -------------------------------------------------------------------------
    def _compressed(self, plans: Sequence[Plan], rows: Any,
                    ) -> tuple[np.ndarray, list[list[tuple[np.ndarray, np.ndarray]]],
                               list[np.ndarray], list[list[Branch]]]:
        """Respondents with identical design rows and identical changes share predictions.

        Ratings are discrete, so a few drivers give far fewer distinct rows than respondents:
        the weights (w, w·R, w·segment, times each branch's probability) are summed per
        distinct row and only distinct rows are predicted — exact, not an approximation.
        Returns the design, per plan the (weights, dX) of each branch, the plans' baseline
        weights and their branches.
        """
        X = self.X if rows is None else self.X[rows]
        nr = X.shape[0]
        group = None
        # distinct (row, changes) are at least as many as distinct rows: when the rows alone
        # do not compress, skip the (expensive) key over all plans' changes
        if nr > 64 and _few_distinct(X, 0.6) and _distinct_rows(X)[0].size <= 0.6 * nr:
            parts = [X] + [b.dX.T if rows is None else b.dX[:, rows].T
                           for p in plans for b in p.branches if b.cols.size]
            first, inv = _distinct_rows(np.column_stack(parts))
            if first.size <= 0.6 * nr:
                group = (first, inv)

        def agg(W: np.ndarray) -> np.ndarray:
            if group is None:
                return W
            first, inv = group
            return np.column_stack([np.bincount(inv, weights=W[:, c], minlength=first.size)
                                    for c in range(W.shape[1])])

        def sub(a: np.ndarray) -> np.ndarray:
            return a if group is None else a[..., group[0]]

        Xc = X if group is None else X[group[0]]
        base_w, per_plan, branches = [], [], []
        for p in plans:
            Wm = p.Wm if rows is None else p.Wm[rows]
            base_w.append(agg(Wm))
            items, bl = [], []
            for b in p.branches:
                if not b.cols.size:
                    continue
                pr = None if b.prob is None else (b.prob if rows is None else b.prob[rows])
                Wb = agg(Wm if pr is None else Wm * pr[:, None])
                dX = b.dX if rows is None else b.dX[:, rows]
                items.append((Wb, sub(dX)))
                bl.append(b)
            per_plan.append(items)
            branches.append(bl)
        return Xc, per_plan, base_w, branches

    def draws(self, plans: Sequence[Plan], params: np.ndarray, rows: Any = None,
              tick: Callable[[int], Any] | None = None,
              ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Weighted sums (S, 3) of baseline values and changes for each plan, per draw.

        Distinct rows only (see :meth:`_compressed`), chunked over draws so that a chunk
        holds about ``CHUNK_ELEMENTS`` numbers, with single-threaded BLAS (the products are
        thin; on a shared machine threads mostly contend). ``tick(k)`` is called as each k
        draws are done (a progress bar).
        """
        tick = tick or _no_tick
        from ..stats._subsets import single_threaded_blas

        params = np.atleast_2d(np.asarray(params, dtype=float))
        S = params.shape[0]
        X, per_plan, base_w, branches = self._compressed(plans, rows)
        nr = X.shape[0]
        out = [(np.empty((S, 3)), np.zeros((S, 3))) for _ in plans]
        step = max(1, CHUNK_ELEMENTS // max(nr, 1))
        logit = self.fast and self.kind == "logit" and self.calibration is None \
            and self.target is None
        with single_threaded_blas():
            if logit:
                self._draws_logit(X, params, per_plan, base_w, branches, out, step, tick)
                return out
            bases = _distinct_arrays(base_w)
            for a in range(0, S, step):
                p = params[a : a + step]
                if self.fast:
                    eta = self.model.linear_predictor(X, p)
                    v0 = self.values_eta(eta, p)
                else:
                    eta = None
                    v0 = self.values_design(X, p)
                for Wu, users in bases:  # one product per distinct baseline weighting
                    b0 = v0 @ Wu
                    for i in users:
                        out[i][0][a : a + step] = b0
                for (_base, delta), items, bl in zip(out, per_plan, branches, strict=True):
                    for (Wb, dX), b in zip(items, bl, strict=True):
                        v1 = self._branch_values_dx(b, dX, p, X, eta)
                        v1 -= v0
                        delta[a : a + step] += v1 @ Wb
                tick(p.shape[0])
        return out

    def _branch_values_dx(self, b: Branch, dX: np.ndarray, params: np.ndarray, X: np.ndarray,
                          eta: np.ndarray | None) -> np.ndarray:
        if self.fast:
            assert eta is not None
            return self.values_eta(eta + params[..., self.coef_index[b.cols]] @ dX, params)
        X1 = X.copy()
        X1[:, b.cols] += dX.T
        return self.values_design(X1, params)

    def _draws_logit(self, X: np.ndarray, params: np.ndarray, per_plan: list[Any],
                     base_w: list[np.ndarray], branches: list[list[Branch]],
                     out: list[tuple[np.ndarray, np.ndarray]], step: int,
                     tick: Callable[[int], Any]) -> None:
        """The logit draw path in preallocated buffers, on ν = −η: F = 1/(1 + e^ν).

        One-column branches whose change takes few distinct values go to
        :meth:`_draws_logit_shared` (one exponential per draw and respondent for all of
        them); the rest are evaluated branch by branch here. Plans with the same baseline
        weights (all plans without a segment) share one baseline product.
        """
        S = params.shape[0]
        nr = X.shape[0]
        step = min(step, S)
        neg = -params
        coef = neg[:, self.coef_index]
        shared, rest = _split_shared(per_plan, branches, coef)
        bases = _distinct_arrays(base_w)
        if shared:  # (the progress is counted by the last pass over the draws)
            self._draws_logit_shared(X, neg, shared, bases, out,
                                     _no_tick if any(rest) else tick)
        if shared and not any(rest):
            return
        Xt = np.ascontiguousarray(X.T)
        icpt = neg[:, 0:1]
        nu = np.empty((step, nr))
        v0 = np.empty((step, nr))
        v1 = np.empty((step, nr))
        with np.errstate(over="ignore"):
            for a in range(0, S, step):
                m = min(step, S - a)
                e0, f0, f1 = nu[:m], v0[:m], v1[:m]
                np.matmul(coef[a : a + m], Xt, out=e0)
                e0 += icpt[a : a + m]
                np.exp(e0, out=f0)
                f0 += 1.0
                np.reciprocal(f0, out=f0)
                if not shared:
                    for Wu, users in bases:
                        b0 = f0 @ Wu
                        for i in users:
                            out[i][0][a : a + m] = b0
                for i, items in enumerate(rest):
                    delta = out[i][1]
                    for Wb, dX, cols in items:
                        np.matmul(coef[a : a + m][:, cols], dX, out=f1)
                        f1 += e0
                        np.exp(f1, out=f1)
                        f1 += 1.0
                        np.reciprocal(f1, out=f1)
                        f1 -= f0
                        delta[a : a + m] += f1 @ Wb
                tick(m)

    def _draws_logit_shared(self, X: np.ndarray, neg: np.ndarray,
                            shared: list[tuple[int, list[SharedItem], np.ndarray]],
                            bases: list[tuple[np.ndarray, list[int]]],
                            out: list[tuple[np.ndarray, np.ndarray]],
                            tick: Callable[[int], Any] | None = None) -> None:
        """Baselines and the shared one-column branches (see :mod:`._shared_logit`).

        For a branch moving respondent i by δᵢ along column j (coefficient c, per draw):
        Σᵢ Wᵢ [F(ηᵢ + c δᵢ) − F(ηᵢ)] = Σ_δ r_δ Σ_{δᵢ=δ} Wᵢ/(r_δ + Eᵢ) − Σ_{δᵢ≠0} Wᵢ F(ηᵢ),
        E = e^ν = e^{−η}, r_δ = e^{cδ}. Exact algebra; the rounding differs from the
        branch-by-branch path only in the last digits.
        """
        nr = X.shape[0]
        big = neg.shape[0] * nr >= 4 * 65_536

        def workers(chunks: int) -> int:
            return min(_workers(), chunks) if big else 1

        shared_logit_sums(X, neg, self.coef_index, shared, bases, out, workers,
                          tick or _no_tick)


def _no_tick(k: int) -> None:
    """No progress bar."""


def _workers() -> int:
    """Threads for the draw path: the cores this process may use (at most 4)."""
    from ..stats._subsets import usable_cores

    return usable_cores(4)


def _few_distinct(K: np.ndarray, share: float) -> bool:
    """False when ``K`` surely has more than ``share`` distinct rows (a quick test).

    Equal rows have equal projections on any vector, so the distinct projections are at
    most the distinct rows: when they alone exceed the share, so do the rows (sorting
    numbers is much cheaper than sorting rows).
    """
    v = np.cos(np.arange(1, K.shape[1] + 1) * 0.7071)  # fixed, irrational-ish weights
    return bool(np.unique(np.asarray(K, dtype=float) @ v).size <= share * K.shape[0])


def _distinct_rows(K: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First index of each distinct row of ``K`` and every row's group."""
    K = np.ascontiguousarray(K)
    view = K.view(np.dtype((np.void, K.dtype.itemsize * K.shape[1]))).ravel()
    _, first, inv = np.unique(view, return_index=True, return_inverse=True)
    return first, inv.ravel()


def _distinct_arrays(arrays: list[np.ndarray]) -> list[tuple[np.ndarray, list[int]]]:
    """Group equal arrays: ``[(array, [indices of the inputs equal to it]), ...]``."""
    groups: list[tuple[np.ndarray, list[int]]] = []
    for i, a in enumerate(arrays):
        for u, users in groups:
            if u is a or (u.shape == a.shape and np.array_equal(u, a)):
                users.append(i)
                break
        else:
            groups.append((a, [i]))
    return groups


def _distinct_nonzero(dx: np.ndarray) -> np.ndarray | None:
    """The distinct non-zero values of ``dx`` if there are at most ``MAX_SHIFT_VALUES``."""
    lo, hi = float(dx.min()), float(dx.max())
    if hi - lo <= 4 * MAX_SHIFT_VALUES and np.array_equal(dx, np.round(dx)):
        # whole-point changes (shifts of ratings): count them, far cheaper than hashing
        counts = np.bincount((dx - lo).astype(np.intp))
        u = np.flatnonzero(counts) + lo
    else:
        import pandas as pd  # hash-based unique: O(n), no sort

        u = pd.unique(dx)
    u = u[u != 0]
    return u if u.size <= MAX_SHIFT_VALUES else None


def _split_shared(per_plan: list[Any], branches: list[list[Branch]], coef: np.ndarray,
                  ) -> tuple[list[tuple[int, list[SharedItem], np.ndarray]],
                             list[list[tuple[np.ndarray, np.ndarray, np.ndarray]]]]:
    """Split the branches into shared one-column groups and the rest (per plan).

    A column's branches are shared when each takes at most ``MAX_SHIFT_VALUES`` distinct
    non-zero values and the distinct values of all of them are fewer than twice the number
    of branches (the shared path costs about 3 passes per δ, the other 7 per branch), and
    r = e^{cδ} cannot overflow.
    """
    by_col: dict[int, list[tuple[int, np.ndarray, np.ndarray]]] = {}
    vals: dict[int, set[float]] = {}
    rest: list[list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = []
    for i, (items, bl) in enumerate(zip(per_plan, branches, strict=True)):
        keep = []
        for (Wb, dX), b in zip(items, bl, strict=True):
            if b.cols.size == 1:
                dx = dX[0]
                u = _distinct_nonzero(dx)
                if u is not None:
                    j = int(b.cols[0])
                    by_col.setdefault(j, []).append((i, Wb, dx))
                    vals.setdefault(j, set()).update(u.tolist())
                    continue
            keep.append((Wb, dX, b.cols))
        rest.append(keep)
    shared = []
    for j, items in by_col.items():
        deltas = np.array(sorted(vals[j]))
        big = deltas.size and float(np.max(np.abs(coef[:, j]))) * float(
            np.max(np.abs(deltas))) > 700.0
        if big or deltas.size >= 2 * len(items):
            for i, Wb, dx in items:
                rest[i].append((Wb, dx[None, :], np.array([j])))
            continue
        shared.append((j, [SharedItem(i, Wb, dx) for i, Wb, dx in items], deltas))
    return shared, rest
