"""Scenarios compiled into plans (a mixin of :class:`~driverkit.simulate.Simulator`).

Segments, operator moves (numeric and categorical drivers) and design-matrix changes.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_columns, suggest
from ..exceptions import DataError, DriverkitError, DriverkitTypeError
from ._engine import Branch, Plan
from ._operators import Move, Operator, ToLevel
from ._scenario import Scenario

__all__ = ["CompileMixin"]

MAX_RANDOM_OPERATORS = 10


class CompileMixin:
    """Turns a :class:`Scenario` into a :class:`Plan` (needs the simulator's state)."""

    model: Any
    data: pd.DataFrame
    n: int
    drivers: list[str]
    constructs: dict[str, list[str]]
    _all_drivers: list[str]
    _factor_drivers: list[str]
    _col: dict[str, int]
    _x: dict[str, np.ndarray]
    _scales: dict[str, tuple[float, float]]
    _simple: dict[str, bool]
    _w: np.ndarray
    _W2: np.ndarray
    _X: np.ndarray
    _moves: dict[Any, Move]
    _seg_cache: dict[Any, tuple[np.ndarray | None, Any]]
    _Wm_all: np.ndarray | None
    _Wm_sum: np.ndarray

    # ----------------------------------------------------------------------------------
    # scenarios -> plans
    # ----------------------------------------------------------------------------------
    def _check_driver(self, d: str) -> None:
        if d in self._col:
            return
        if d in self.constructs:
            raise DriverkitError(f"Construct '{d}' cannot be moved here; move its items "
                                 f"({', '.join(self.constructs[d])}) or use a scenario.")
        if d in self._factor_drivers:
            raise DriverkitError(
                f"Driver '{d}' is categorical; scenarios move numeric ratings only."
            )
        known = self.drivers
        if d in self._all_drivers:
            raise DriverkitError(f"Driver '{d}' cannot be moved (not a single numeric column of "
                                 "the data).")
        raise DriverkitError(
            f"Unknown driver '{d}' in the scenario.{suggest(d, known)} Drivers of the model: "
            f"{', '.join(known)}."
        )

    def _segment(self, seg: Any) -> tuple[np.ndarray | None, Any]:
        if seg is None:
            return None, None
        if isinstance(seg, str):
            key: Any = ("col", seg)
        elif isinstance(seg, Mapping):
            key = ("sel", tuple(sorted((str(k), repr(v)) for k, v in seg.items())))
        else:
            arr = np.asarray(seg)
            key = ("mask", hashlib.sha1(np.ascontiguousarray(arr).tobytes()).hexdigest(),
                   arr.shape)
        if key in self._seg_cache:
            return self._seg_cache[key]
        data = self.data
        if isinstance(seg, str):
            check_columns(data, [seg], role="segment column")
            s = data[seg]
            if s.dtype == bool:
                mask = s.to_numpy(dtype=bool)
            else:
                v = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
                if not np.isin(v, [0.0, 1.0]).all():
                    raise DataError(
                        f"The segment column '{seg}' must be boolean (or 0/1); for a category "
                        f"use segment={{'{seg}': value}}."
                    )
                mask = v == 1.0
        elif isinstance(seg, Mapping):
            check_columns(data, list(seg), role="segment column")
            mask = np.ones(self.n, dtype=bool)
            for col, val in seg.items():
                vals = list(val) if isinstance(val, list | tuple | set) else [val]
                mask &= data[col].isin(vals).to_numpy()
        else:
            mask = np.asarray(seg)
            if mask.shape != (self.n,) or mask.dtype != bool:
                raise DriverkitTypeError(
                    f"A segment mask must be a boolean array with one value per respondent "
                    f"({self.n}); got shape {mask.shape} and dtype {mask.dtype}."
                )
        if not mask.any():
            raise DataError(f"The segment {seg!r} selects no respondents.")
        out = (mask, key)
        self._seg_cache[key] = out
        return out

    def _move(self, d: str, op: Operator, mask: np.ndarray | None, key: Any) -> Move:
        ck = (d, op, key)
        mv = self._moves.get(ck)
        if mv is not None:
            return mv
        x = self._x[d]
        scale = self._scales[d]
        if mask is None:
            mv = op.apply(x, self._w, scale, d)
        else:
            sub = op.apply(x[mask], self._w[mask], scale, d)
            new = x.copy()
            new[mask] = sub.new
            clipped = np.zeros(self.n, dtype=bool)
            clipped[mask] = sub.clipped
            prob = None
            if sub.prob is not None:
                prob = np.zeros(self.n)
                prob[mask] = sub.prob
            mv = Move(new=new, prob=prob, clipped=clipped)
        if len(self._moves) > 512:
            self._moves.clear()
        self._moves[ck] = mv
        return mv

    def _factor_move(self, d: str, op: Any, mask: np.ndarray | None
                     ) -> tuple[np.ndarray, dict[int, np.ndarray]]:
        """A categorical driver moved to one level: (probability of moving per respondent,
        design-column changes of those who move)."""
        spec = getattr(self.model, "_spec", None)
        factors = dict(getattr(spec, "factors", {}) or {})
        if not isinstance(op, ToLevel):
            raise DriverkitError(
                f"Driver '{d}' is categorical; move it with dk.set_to(level) or "
                f"dk.share_to(level, share) (levels: {', '.join(map(repr, factors.get(d, [])))})."
            )
        if d not in factors:
            raise DriverkitError(
                f"dk.{op!r} moves a categorical driver, but '{d}' is "
                + ("a numeric rating; use dk.set_to(number)." if d in self._col
                   else "not a driver of the model.") + suggest(d, self._all_drivers))
        levels = list(factors[d])
        target = op.resolve(levels, d)
        current = self.data[d].astype(object).to_numpy()
        prob = op.probabilities(current, levels, d)
        if mask is not None:
            prob = np.where(mask, prob, 0.0)
        idx = list(self.model.terms[d])
        shared = list((getattr(spec, "dropped", {}) or {}).get(d, []))
        if target in shared:
            raise DriverkitError(
                f"dk.{op!r}: the level {target!r} of '{d}' picks the same respondents as a level "
                "of another driver (a question asked only of some customers), so it cannot be "
                "moved on its own; move the other driver instead.")
        kept = [lv for lv in levels[1:] if lv not in shared]
        if len(idx) != len(kept):
            raise DriverkitError(f"Driver '{d}' cannot be moved: its design columns do not "
                                 "match its levels one to one.")
        cd: dict[int, np.ndarray] = {}
        for j, lv in zip(idx, kept, strict=True):
            now = self._X[:, j]
            cd[j] = (1.0 if lv == target else 0.0) - now
        return prob, cd

    def _design_delta(self, dxs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        cols: dict[int, np.ndarray] = {}
        complex_ = {d: dx for d, dx in dxs.items() if not self._simple[d]}
        for d, dx in dxs.items():
            if self._simple[d] and np.any(dx):
                j = self._col[d]
                cols[j] = cols[j] + dx if j in cols else dx
        if complex_:
            mod = self.data.copy()
            for d, dx in complex_.items():
                mod[d] = self._x[d] + dx
            dX = np.asarray(self.model.design(mod), dtype=float) - self._X
            for jj in np.flatnonzero(np.any(dX != 0, axis=0)):
                k = int(jj)
                cols[k] = cols[k] + dX[:, k] if k in cols else dX[:, k]
        if not cols:
            return np.empty(0, dtype=int), np.empty((0, self.n))
        keys = sorted(cols)
        return np.array(keys, dtype=int), np.vstack([cols[j] for j in keys])

    def _compile(self, scenario: Scenario) -> Plan:
        scenario = self._expand(scenario)
        mask, key = self._segment(scenario.segment)
        det: dict[str, np.ndarray] = {}
        rnd: list[tuple[str, np.ndarray, np.ndarray]] = []
        moves: dict[str, Move] = {}
        fac_det: dict[int, np.ndarray] = {}
        fac_rnd: list[tuple[np.ndarray, dict[int, np.ndarray]]] = []
        for d, op in scenario.operators.items():
            if d in self._factor_drivers or isinstance(op, ToLevel):
                prob, cd = self._factor_move(d, op, mask)
                if np.all((prob == 0) | (prob == 1)):
                    for j, v in cd.items():
                        fac_det[j] = fac_det.get(j, 0.0) + v * prob
                else:
                    fac_rnd.append((prob, cd))
                continue
            self._check_driver(d)
            op.check(d, self._scales[d])
            mv = self._move(d, op, mask, key)
            moves[d] = mv
            dx = mv.new - self._x[d]
            if mv.prob is None:
                det[d] = dx
            else:
                rnd.append((d, mv.prob, dx))
        if len(rnd) + len(fac_rnd) > MAX_RANDOM_OPERATORS:
            raise DriverkitError(
                f"Scenario '{scenario.name}' has {len(rnd)} top_box changes; at most "
                f"{MAX_RANDOM_OPERATORS} can be averaged exactly (2^k combinations)."
            )
        branches = []
        for combo in itertools.product((False, True), repeat=len(rnd) + len(fac_rnd)):
            weight: np.ndarray | None = None
            dxs = dict(det)
            for (d, p, dx), on in zip(rnd, combo[: len(rnd)], strict=True):
                f = p if on else 1.0 - p
                weight = f if weight is None else weight * f
                if on:
                    dxs[d] = dx
            extra = dict(fac_det)
            for (p, cd), on in zip(fac_rnd, combo[len(rnd):], strict=True):
                f = p if on else 1.0 - p
                weight = f if weight is None else weight * f
                if on:
                    for j, v in cd.items():
                        extra[j] = extra.get(j, 0.0) + v
            if weight is not None and not np.any(weight):
                continue
            cols, dX = self._design_delta(dxs)
            if extra:
                cols, dX = _add_columns(cols, dX, extra, self.n)
            branches.append(Branch(weight, cols, dX))
        if mask is None:  # one (read-only) weight matrix shared by all plans without segment
            if self._Wm_all is None:
                self._Wm_all = np.column_stack([self._W2, self._w])
                self._Wm_all.setflags(write=False)
                self._Wm_sum = self._Wm_all.sum(axis=0)
            return Plan(scenario.name, branches, self._Wm_all, mask, moves, Wsum=self._Wm_sum)
        Wm = np.column_stack([self._W2, self._w * mask])
        return Plan(scenario.name, branches, Wm, mask, moves)

    def _expand(self, scenario: Scenario) -> Scenario:
        """Construct-level changes (PLS models) applied to each of the construct's items."""
        if not self.constructs:
            return scenario
        from ._pls import expand_groups

        return expand_groups(scenario, self.constructs)



def _add_columns(cols: np.ndarray, dX: np.ndarray, extra: dict[int, np.ndarray],
                 n: int) -> tuple[np.ndarray, np.ndarray]:
    """Merge design-column changes ``extra`` into a (columns, deltas) pair."""
    merged = {int(j): dX[i] for i, j in enumerate(cols)}
    for j, v in extra.items():
        merged[j] = merged[j] + v if j in merged else np.broadcast_to(v, (n,)).astype(float)
    keys = sorted(merged)
    return np.array(keys, dtype=int), np.vstack([merged[j] for j in keys])
