"""Scenario operators: what happens to one driver's ratings, respondent by respondent.

Each operator is a small immutable object (hashable, so the simulator can cache its result).
``apply(x, w, scale)`` returns the new ratings of the respondents in scope, already clipped to
the driver's scale ``[L, U]``; :func:`top_box` also returns the probability with which each
respondent moves (the simulator averages the two outcomes, no random draw).

Clipping keeps a respondent inside ``[min(L, x_i), max(U, x_i)]``: an operator never pushes
anyone beyond the scale, and a rating already outside a declared scale is not "repaired" by a
scenario that does not touch it (a zero scenario changes nothing, exactly).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..exceptions import DriverkitError, DriverkitTypeError

__all__ = [
    "Move",
    "Operator",
    "ceiling",
    "floor",
    "gap_close",
    "set_to",
    "share_to",
    "shift",
    "solve_target_mean",
    "target_mean",
    "top_box",
]


def _number(value: Any, name: str, func: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise DriverkitTypeError(
            f"The '{name}' parameter of dk.{func}() must be a number. Got {value!r} instead."
        )
    v = float(value)
    if not math.isfinite(v):
        raise DriverkitError(
            f"The '{name}' parameter of dk.{func}() must be finite. Got {value!r} instead."
        )
    return v


def _fmt(v: float) -> str:
    return f"{v:g}"


def _scale_text(scale: tuple[float, float]) -> str:
    return f"{_fmt(scale[0])}–{_fmt(scale[1])}"


@dataclass(frozen=True)
class Move:
    """The result of applying an operator to the respondents in scope.

    Attributes
    ----------
    new : ndarray
        New rating of each respondent (for ``top_box``: the rating if the respondent moves).
    prob : ndarray or None
        Probability of moving (``top_box`` only); ``None`` means every respondent moves to ``new``.
    clipped : ndarray
        Whether the unclipped result lay outside the scale (the clip was binding).
    """

    new: np.ndarray
    prob: np.ndarray | None
    clipped: np.ndarray

    def expected(self, x: np.ndarray) -> np.ndarray:
        """Expected new rating (``x + prob·(new − x)`` for ``top_box``)."""
        return self.new if self.prob is None else x + self.prob * (self.new - x)


def _clip(raw: np.ndarray, x: np.ndarray, scale: tuple[float, float]) -> Move:
    lo = np.minimum(scale[0], x)
    hi = np.maximum(scale[1], x)
    new = np.clip(raw, lo, hi)
    return Move(new=new, prob=None, clipped=new != raw)


class Operator:
    """Base class of scenario operators (see :func:`shift`, :func:`set_to`, ...)."""

    kind: str = "operator"

    def check(self, driver: str, scale: tuple[float, float]) -> None:
        """Raise if the operator cannot be applied on ``scale`` (names driver and scale)."""

    def apply(self, x: np.ndarray, w: np.ndarray, scale: tuple[float, float],
              driver: str = "driver") -> Move:  # pragma: no cover - abstract
        raise NotImplementedError

    def direction(self) -> int:
        """+1 if the operator can only raise ratings, −1 if only lower them, 0 otherwise."""
        return 0

    def _bad(self, driver: str, scale: tuple[float, float], what: str) -> DriverkitError:
        return DriverkitError(
            f"dk.{self!r} on driver '{driver}': {what} outside its scale "
            f"{_scale_text(scale)}. Use a value between {_fmt(scale[0])} and {_fmt(scale[1])}."
        )


@dataclass(frozen=True, repr=False)
class Shift(Operator):
    """x + δ, clipped (see :func:`shift`)."""

    delta: float
    kind: str = "shift"

    def __repr__(self) -> str:
        return f"shift({_fmt(self.delta)})"

    def check(self, driver: str, scale: tuple[float, float]) -> None:
        width = scale[1] - scale[0]
        if abs(self.delta) > width:
            raise DriverkitError(
                f"dk.{self!r} on driver '{driver}' moves ratings by more than the width of its "
                f"scale {_scale_text(scale)} ({_fmt(width)} points); every respondent would end "
                f"at a bound. Use dk.set_to({_fmt(scale[1] if self.delta > 0 else scale[0])}) "
                "if that is intended."
            )

    def apply(self, x: np.ndarray, w: np.ndarray, scale: tuple[float, float],
              driver: str = "driver") -> Move:
        return _clip(x + self.delta, x, scale)

    def direction(self) -> int:
        return int(np.sign(self.delta))


@dataclass(frozen=True, repr=False)
class GapClose(Operator):
    """x + θ(U − x) (see :func:`gap_close`)."""

    fraction: float
    kind: str = "gap_close"

    def __repr__(self) -> str:
        return f"gap_close({_fmt(self.fraction)})"

    def apply(self, x: np.ndarray, w: np.ndarray, scale: tuple[float, float],
              driver: str = "driver") -> Move:
        return _clip(x + self.fraction * (scale[1] - x), x, scale)

    def direction(self) -> int:
        return 1 if self.fraction > 0 else 0


@dataclass(frozen=True, repr=False)
class _Level(Operator):
    value: float
    kind: str = "level"

    def __repr__(self) -> str:
        return f"{self.kind}({_fmt(self.value)})"

    def check(self, driver: str, scale: tuple[float, float]) -> None:
        if not scale[0] <= self.value <= scale[1]:
            raise self._bad(driver, scale, f"{_fmt(self.value)} lies")


@dataclass(frozen=True, repr=False)
class Floor(_Level):
    """max(x, t) (see :func:`floor`)."""

    kind: str = "floor"

    def apply(self, x: np.ndarray, w: np.ndarray, scale: tuple[float, float],
              driver: str = "driver") -> Move:
        return _clip(np.maximum(x, self.value), x, scale)

    def direction(self) -> int:
        return 1


@dataclass(frozen=True, repr=False)
class Ceiling(_Level):
    """min(x, t) (see :func:`ceiling`)."""

    kind: str = "ceiling"

    def apply(self, x: np.ndarray, w: np.ndarray, scale: tuple[float, float],
              driver: str = "driver") -> Move:
        return _clip(np.minimum(x, self.value), x, scale)

    def direction(self) -> int:
        return -1


@dataclass(frozen=True, repr=False)
class SetTo(_Level):
    """t for everyone (see :func:`set_to`)."""

    kind: str = "set_to"

    def apply(self, x: np.ndarray, w: np.ndarray, scale: tuple[float, float],
              driver: str = "driver") -> Move:
        return _clip(np.full_like(x, self.value), x, scale)


@dataclass(frozen=True, repr=False)
class TargetMean(_Level):
    """x + δ* with the weighted mean of the clipped ratings equal to t (see :func:`target_mean`)."""

    kind: str = "target_mean"

    def apply(self, x: np.ndarray, w: np.ndarray, scale: tuple[float, float],
              driver: str = "driver") -> Move:
        lo = np.minimum(scale[0], x)
        hi = np.maximum(scale[1], x)
        delta = solve_target_mean(x, w, self.value, lo, hi, driver=driver, scale=scale)
        return _clip(x + delta, x, scale)


@dataclass(frozen=True, repr=False)
class TopBox(Operator):
    """A share q of the respondents below the top box moves to U, in expectation."""

    share: float
    box: float | None = None
    kind: str = "top_box"

    def __repr__(self) -> str:
        extra = "" if self.box is None else f", box={_fmt(self.box)}"
        return f"top_box({_fmt(self.share)}{extra})"

    def check(self, driver: str, scale: tuple[float, float]) -> None:
        if self.box is not None and not scale[0] < self.box <= scale[1]:
            raise self._bad(driver, scale, f"the top box threshold {_fmt(self.box)} lies")

    def apply(self, x: np.ndarray, w: np.ndarray, scale: tuple[float, float],
              driver: str = "driver") -> Move:
        top = scale[1] if self.box is None else self.box
        below = x < top
        new = np.where(below, np.maximum(scale[1], x), x)
        prob = np.where(below, self.share, 0.0)
        return Move(new=new, prob=prob, clipped=np.zeros(x.shape, dtype=bool))

    def direction(self) -> int:
        return 1 if self.share > 0 else 0


def solve_target_mean(x: np.ndarray, w: np.ndarray, target: float, lo: np.ndarray,
                      hi: np.ndarray, *, driver: str = "driver",
                      scale: tuple[float, float] | None = None) -> float:
    """The shift δ with Σ w_i clip(x_i + δ, lo_i, hi_i) / Σ w_i = target, exactly.

    f(δ) is continuous, non-decreasing and piecewise linear with kinks at lo_i − x_i and
    hi_i − x_i. The kinks are sorted, the segment that contains the target is found by
    bisection over them, and the root is the exact solution of the linear piece.
    """
    x = np.asarray(x, dtype=float)
    w = np.asarray(w, dtype=float)
    W = float(w.sum())

    def f(d: float) -> float:
        return float(np.dot(w, np.clip(x + d, lo, hi))) / W

    kinks = np.unique(np.concatenate([lo - x, hi - x]))
    f_min, f_max = f(float(kinks[0])), f(float(kinks[-1]))
    if not f_min - 1e-12 <= target <= f_max + 1e-12:
        where = "" if scale is None else f" on its scale {_scale_text(scale)}"
        raise DriverkitError(
            f"dk.target_mean({_fmt(target)}) cannot be reached for driver '{driver}'{where}: "
            f"shifting every respondent gives a mean between {f_min:.6g} and {f_max:.6g} "
            "(ratings are clipped to the scale)."
        )
    if target <= f_min:
        return float(kinks[0])
    if target >= f_max:
        # smallest kink that reaches the maximum
        a, b = 0, kinks.size - 1
        while b - a > 1:
            m = (a + b) // 2
            if f(float(kinks[m])) >= target:
                b = m
            else:
                a = m
        return float(kinks[b])
    a, b = 0, kinks.size - 1  # f(kinks[a]) <= target <= f(kinks[b])
    while b - a > 1:
        m = (a + b) // 2
        if f(float(kinks[m])) <= target:
            a = m
        else:
            b = m
    da, db = float(kinks[a]), float(kinks[b])
    fa, fb = f(da), f(db)
    if fb == fa:
        return da
    # exact on the linear piece: the free respondents' weight is the slope
    mid = 0.5 * (da + db)
    free = (x + mid > lo) & (x + mid < hi)
    slope = float(w[free].sum()) / W
    d = da + (target - fa) / slope if slope > 0 else da
    return float(min(max(d, da), db))


# ------------------------------------------------------------------------------------------
# public constructors
# ------------------------------------------------------------------------------------------
def shift(delta: float) -> Operator:
    """Move every respondent's rating by ``delta`` points (negative = a cut), clipped.

    Parameters
    ----------
    delta : float
        Rating points; |delta| may not exceed the width of the driver's scale.

    Returns
    -------
    Operator

    Notes
    -----
    x'_i = clip(x_i + δ, L, U). Respondents at the ceiling cannot rise, which is why the
    effect of a shift is computed respondent by respondent and never at the mean rating.

    Examples
    --------
    >>> import driverkit as dk
    >>> dk.shift(1)
    shift(1)
    """
    return Shift(_number(delta, "delta", "shift"))


def gap_close(fraction: float) -> Operator:
    """Close a fraction of each respondent's gap to the top of the scale.

    Parameters
    ----------
    fraction : float
        θ in [0, 1]: x' = x + θ(U − x).

    Examples
    --------
    >>> import driverkit as dk
    >>> dk.gap_close(0.25)
    gap_close(0.25)
    """
    v = _number(fraction, "fraction", "gap_close")
    if not 0.0 <= v <= 1.0:
        raise DriverkitError(
            f"The 'fraction' parameter of dk.gap_close() must lie in [0, 1]. Got {fraction!r}; "
            "for a cut use dk.shift(-k) or dk.ceiling(t)."
        )
    return GapClose(v)


def floor(value: float) -> Operator:
    """Raise every rating below ``value`` to ``value`` (x' = max(x, t)).

    Examples
    --------
    >>> import driverkit as dk
    >>> dk.floor(6)
    floor(6)
    """
    return Floor(_number(value, "value", "floor"))


def ceiling(value: float) -> Operator:
    """Lower every rating above ``value`` to ``value`` (x' = min(x, t)); a cut.

    Examples
    --------
    >>> import driverkit as dk
    >>> dk.ceiling(8)
    ceiling(8)
    """
    return Ceiling(_number(value, "value", "ceiling"))


def set_to(value: Any) -> Operator:
    """Set every respondent's rating to ``value`` — or, on a categorical driver (contract
    type, channel), move every respondent to the level ``value``.

    Examples
    --------
    >>> import driverkit as dk
    >>> dk.set_to(9)
    set_to(9)
    >>> dk.set_to("Two year")
    set_to('Two year')
    """
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return ToLevel(value, 1.0)
        # "9" is ambiguous (a rating typed as text, or a numeric-looking level)
        raise DriverkitTypeError(
            f"The 'value' parameter of dk.set_to() must be a number. Got {value!r} instead "
            f"(for a level of a categorical driver named like a number use "
            f"dk.share_to({value!r}, 1))."
        )
    return SetTo(_number(value, "value", "set_to"))


@dataclass(frozen=True, repr=False)
class ToLevel(Operator):
    """Move respondents of a categorical driver to one level (see :func:`share_to`).

    Each respondent in scope who is not at ``level`` moves there with probability ``share``
    (1 for :func:`set_to`); the simulator averages over moving and staying, so the result is
    the expectation, with no random draw.
    """

    level: Any
    share: float = 1.0
    kind: str = "to_level"

    def __repr__(self) -> str:
        if self.share == 1.0:
            return f"set_to({self.level!r})"
        return f"share_to({self.level!r}, {_fmt(self.share)})"

    def probabilities(self, current: np.ndarray, levels: list[Any],
                      driver: str = "driver") -> np.ndarray:
        """Probability that each respondent moves to the level (0 for those already there).

        ``current`` holds each respondent's level; ``levels`` the driver's known levels.
        """
        target = self.resolve(levels, driver)
        at = np.array([v == target for v in current], dtype=bool)
        return np.where(at, 0.0, self.share)

    def resolve(self, levels: list[Any], driver: str) -> Any:
        """The known level this operator names (``"2"`` matches a numeric level 2)."""
        if self.level in levels:
            return self.level
        for lv in levels:
            if str(lv).strip().casefold() == str(self.level).strip().casefold():
                return lv
        raise DriverkitError(
            f"dk.{self!r} on driver '{driver}': {self.level!r} is not one of its levels "
            f"({', '.join(repr(v) for v in levels)})."
        )


def share_to(level: Any, share: float) -> Operator:
    """Move a ``share`` of the respondents of a categorical driver to ``level``.

    Every respondent in scope who is not already at ``level`` moves there with probability
    ``share`` (in expectation: ``share_to("Two year", 0.2)`` converts 20 % of the others).
    ``share=1`` is :func:`set_to`.

    Examples
    --------
    >>> import driverkit as dk
    >>> dk.share_to("Two year", 0.25)
    share_to('Two year', 0.25)
    """
    v = _number(share, "share", "share_to")
    if not 0.0 <= v <= 1.0:
        raise DriverkitError(f"The 'share' parameter of dk.share_to() must lie in [0, 1]. "
                             f"Got {share!r} instead.")
    return ToLevel(level, v)


def target_mean(value: float) -> Operator:
    """Shift everyone by the same δ so that the weighted mean of the clipped ratings is ``value``.

    Notes
    -----
    Solves Σ w_i clip(x_i + δ, L, U) / Σ w_i = t exactly: the left side is piecewise linear
    and non-decreasing in δ, so the segment containing t is found by bisection over its kinks
    and δ is the root of that linear piece. A target that no shift can reach (outside the
    scale) is an error. With a segment scope, the mean is the segment's.

    Examples
    --------
    >>> import driverkit as dk
    >>> dk.target_mean(8.2)
    target_mean(8.2)
    """
    return TargetMean(_number(value, "value", "target_mean"))


def top_box(share: float, *, box: float | None = None) -> Operator:
    """Move a share of the respondents below the top box to the top of the scale.

    Computed in expectation, not by a random draw: a respondent below the box contributes
    p̃_i = (1 − q)·F(η_i) + q·F(η_i | x_ij = U).

    Parameters
    ----------
    share : float
        q in [0, 1], the share of non-top-box respondents who move to U.
    box : float, optional
        Lowest rating counted as top box (default U; e.g. ``box=9`` on 1–10 for top-2-box).

    Examples
    --------
    >>> import driverkit as dk
    >>> dk.top_box(0.2)
    top_box(0.2)
    """
    q = _number(share, "share", "top_box")
    if not 0.0 <= q <= 1.0:
        raise DriverkitError(
            f"The 'share' parameter of dk.top_box() must lie in [0, 1]. Got {share!r} instead."
        )
    b = None if box is None else _number(box, "box", "top_box")
    return TopBox(q, b)
