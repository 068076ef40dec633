"""Cost curves: what rating lift a given spend on one driver can buy.

A cost curve maps spend ``s >= 0`` (money) to the achievable mean lift of a driver's ratings
(rating points, applied as ``dk.shift(lift)``). Every curve starts at zero (no spend, no lift)
and never decreases; diminishing returns (concavity) are typical but not required.
Curves expose their derivative so that optimisers can use the chain rule
``dV/ds = dV/dlift · dlift/ds``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .._validation import check_positive
from ..exceptions import DriverkitError, DriverkitTypeError

__all__ = ["CallableCurve", "CostCurve", "Hill", "Piecewise", "Saturating", "as_curve", "hill",
           "piecewise", "saturating"]

_SATURATION = 1e-3  # "saturated" = within 0.1 % of the maximum lift


class CostCurve:
    """Base class of cost curves (spend → rating lift).

    Subclasses implement :meth:`lift` and :meth:`derivative` (vectorised over spend) and set
    :attr:`max_lift` (the supremum of the lift, possibly ``inf``).

    Examples
    --------
    >>> import driverkit as dk
    >>> curve = dk.saturating(max_lift=1.5, scale=20_000)
    >>> round(float(curve(20_000)), 4)
    0.9482
    """

    max_lift: float = math.inf

    def lift(self, spend: Any) -> Any:
        """The rating lift bought by ``spend`` (array-like, vectorised)."""
        raise NotImplementedError

    def derivative(self, spend: Any) -> Any:
        """The marginal lift per unit of spend (right derivative at kinks)."""
        raise NotImplementedError

    def __call__(self, spend: Any) -> Any:
        return self.lift(spend)

    def saturation_spend(self) -> float:
        """A spend beyond which extra money buys (almost) nothing more.

        Used to bound the search when the user gives no budget or upper bound: the spend at
        which the curve reaches 99.9 % of :attr:`max_lift` (``inf`` if it never saturates).
        """
        return math.inf

    def validate(self, upper: float, name: str = "driver") -> None:
        """Check numerically on ``[0, upper]``: zero at zero, finite, non-decreasing."""
        _check_numerically(self, upper, name)


class Saturating(CostCurve):
    r"""Saturating exponential: ``lift = max_lift · (1 − exp(−spend / scale))``.

    Parameters
    ----------
    max_lift : float
        The lift approached as spend grows (rating points, > 0).
    scale : float
        The spend at which 63 % of ``max_lift`` is reached (money, > 0).

    Notes
    -----
    The marginal lift is :math:`(D/b)\,e^{-s/b}`, highest at zero spend, so the curve has
    diminishing returns everywhere (the classic advertising response curve; Little 1970,
    "Models and managers: the concept of a decision calculus", *Management Science* 16(8)).

    Examples
    --------
    >>> import driverkit as dk
    >>> c = dk.saturating(max_lift=2.0, scale=100.0)
    >>> round(float(c(100.0)), 6), round(float(c.derivative(0.0)), 6)
    (1.264241, 0.02)
    """

    def __init__(self, max_lift: float, scale: float) -> None:
        check_positive(max_lift, "max_lift", "saturating")
        check_positive(scale, "scale", "saturating")
        self.max_lift = float(max_lift)
        self.scale = float(scale)

    def lift(self, spend: Any) -> Any:
        s = np.maximum(np.asarray(spend, dtype=float), 0.0)
        return -self.max_lift * np.expm1(-s / self.scale)

    def derivative(self, spend: Any) -> Any:
        s = np.maximum(np.asarray(spend, dtype=float), 0.0)
        return (self.max_lift / self.scale) * np.exp(-s / self.scale)

    def saturation_spend(self) -> float:
        return self.scale * math.log(1.0 / _SATURATION)

    def validate(self, upper: float, name: str = "driver") -> None:  # closed form: always valid
        return None

    def __repr__(self) -> str:
        return f"saturating(max_lift={self.max_lift:g}, scale={self.scale:g})"


class Hill(CostCurve):
    r"""Hill (S-shaped when ``slope > 1``) response: ``lift = D · s^n / (k^n + s^n)``.

    Parameters
    ----------
    max_lift : float
        The maximum lift ``D`` (rating points, > 0).
    half : float
        The spend ``k`` that buys half of ``max_lift`` (> 0).
    slope : float, default=1.0
        The Hill coefficient ``n`` (> 0); ``n > 1`` gives a threshold (S-shaped) curve,
        ``n <= 1`` a concave one.

    Notes
    -----
    :math:`d\,lift/ds = D\,n\,k^n s^{n-1} / (k^n + s^n)^2` (Hill 1910; the standard media
    response curve in marketing-mix models, e.g. Jin et al. 2017, Google Research).
    S-shaped curves make the allocation problem non-concave: the optimiser uses several
    starting points, but a global optimum is not guaranteed.

    Examples
    --------
    >>> import driverkit as dk
    >>> c = dk.hill(max_lift=1.0, half=50.0, slope=2.0)
    >>> float(c(50.0))
    0.5
    """

    def __init__(self, max_lift: float, half: float, slope: float = 1.0) -> None:
        check_positive(max_lift, "max_lift", "hill")
        check_positive(half, "half", "hill")
        check_positive(slope, "slope", "hill")
        self.max_lift = float(max_lift)
        self.half = float(half)
        self.slope = float(slope)

    def lift(self, spend: Any) -> Any:
        s = np.maximum(np.asarray(spend, dtype=float), 0.0)
        r = (s / self.half) ** self.slope
        return self.max_lift * r / (1.0 + r)

    def derivative(self, spend: Any) -> Any:
        # floor the spend so a slope < 1 has a large but finite derivative at zero
        s = np.maximum(np.asarray(spend, dtype=float), 1e-12 * self.half)
        r = (s / self.half) ** self.slope
        return self.max_lift * self.slope * r / (s * (1.0 + r) ** 2)

    def saturation_spend(self) -> float:
        return self.half * ((1.0 - _SATURATION) / _SATURATION) ** (1.0 / self.slope)

    def validate(self, upper: float, name: str = "driver") -> None:
        return None

    def __repr__(self) -> str:
        return f"hill(max_lift={self.max_lift:g}, half={self.half:g}, slope={self.slope:g})"


class Piecewise(CostCurve):
    """A manager's table of spend and achievable lift, linearly interpolated.

    Parameters
    ----------
    spend : sequence of float
        Strictly increasing spend levels, starting at 0.
    lift : sequence of float
        The lift reached at each spend level: starts at 0 and never decreases. Beyond the
        last spend level the lift stays at its last value.

    Raises
    ------
    DriverkitError
        When the table does not start at (0, 0), spend is not strictly increasing, or the
        lift decreases anywhere (the message names the offending row).

    Examples
    --------
    >>> import driverkit as dk
    >>> c = dk.piecewise(spend=[0, 10_000, 30_000], lift=[0, 0.5, 0.8])
    >>> float(c(20_000))
    0.65
    """

    def __init__(self, spend: Sequence[float], lift: Sequence[float]) -> None:
        s = _as_vector(spend, "spend")
        v = _as_vector(lift, "lift")
        if s.size != v.size:
            raise DriverkitError(
                f"piecewise() needs as many lift values as spend levels; got {s.size} spend "
                f"levels and {v.size} lift values."
            )
        if s.size < 2:
            raise DriverkitError("piecewise() needs at least two points, e.g. "
                                 "spend=[0, 10_000], lift=[0, 0.5].")
        if s[0] != 0.0 or v[0] != 0.0:
            raise DriverkitError(
                "A piecewise cost curve must start at zero: spend[0] = 0 with lift[0] = 0 "
                f"(no spend buys no lift). Got spend[0] = {s[0]:g}, lift[0] = {v[0]:g}; "
                "prepend the point (0, 0)."
            )
        ds = np.diff(s)
        if np.any(ds <= 0):
            i = int(np.argmax(ds <= 0)) + 1
            raise DriverkitError(
                "The spend levels of a piecewise cost curve must be strictly increasing; "
                f"spend[{i}] = {s[i]:g} does not exceed spend[{i - 1}] = {s[i - 1]:g}."
            )
        dv = np.diff(v)
        if np.any(dv < 0):
            i = int(np.argmax(dv < 0)) + 1
            raise DriverkitError(
                "A cost curve must not decrease (more spend cannot buy less lift): "
                f"lift[{i}] = {v[i]:g} at spend {s[i]:g} is below lift[{i - 1}] = {v[i - 1]:g} "
                f"at spend {s[i - 1]:g}. Fix the table so the lift is non-decreasing."
            )
        self.spend = s
        self.lift_values = v
        self.slopes = dv / ds
        self.max_lift = float(v[-1])

    def lift(self, spend: Any) -> Any:
        return np.interp(np.asarray(spend, dtype=float), self.spend, self.lift_values)

    def derivative(self, spend: Any) -> Any:
        x = np.asarray(spend, dtype=float)
        i = np.searchsorted(self.spend, x, side="right") - 1  # right derivative at knots
        out = np.where((i >= 0) & (i < self.slopes.size),
                       self.slopes[np.clip(i, 0, self.slopes.size - 1)], 0.0)
        return out if out.ndim else float(out)

    def saturation_spend(self) -> float:
        return float(self.spend[-1])

    def validate(self, upper: float, name: str = "driver") -> None:
        return None

    def __repr__(self) -> str:
        return (f"piecewise(spend={self.spend.tolist()}, lift={self.lift_values.tolist()})")


class CallableCurve(CostCurve):
    """Wrap any function ``spend -> lift`` as a cost curve.

    The function is validated numerically on the range the optimiser will search (zero at
    zero, finite, non-decreasing); its derivative is taken by central differences unless
    ``derivative`` is given.

    Parameters
    ----------
    func : callable
        ``func(spend) -> lift``; vectorised over a numpy array, or scalar (then it is
        called element by element).
    derivative : callable, optional
        ``derivative(spend) -> dlift/dspend``.
    max_spend : float, optional
        A spend beyond which the function no longer rises (bounds the search when no budget
        is given).

    Examples
    --------
    >>> from driverkit.optimize import as_curve
    >>> c = as_curve(lambda s: 0.1 * s ** 0.5)
    >>> float(c(100.0))
    1.0
    """

    def __init__(self, func: Callable[[Any], Any], derivative: Callable[[Any], Any] | None = None,
                 max_spend: float | None = None) -> None:
        if not callable(func):
            raise DriverkitTypeError(f"A cost curve must be callable; got {func!r}.")
        self.func = func
        self._derivative = derivative
        self.max_spend = math.inf if max_spend is None else float(max_spend)
        self._vectorised: bool | None = None

    def lift(self, spend: Any) -> Any:
        x = np.asarray(spend, dtype=float)
        if self._vectorised is not False:
            try:
                out = np.asarray(self.func(x), dtype=float)
                if out.shape == x.shape:
                    self._vectorised = True
                    return out if out.ndim else float(out)
            except Exception:  # fall back to element-wise calls
                pass
            self._vectorised = False
        out = np.array([float(self.func(float(v))) for v in x.ravel()]).reshape(x.shape)
        return out if out.ndim else float(out)

    def derivative(self, spend: Any) -> Any:
        if self._derivative is not None:
            return np.asarray(self._derivative(np.asarray(spend, dtype=float)), dtype=float)
        x = np.maximum(np.asarray(spend, dtype=float), 0.0)
        h = 1e-6 * np.maximum(np.abs(x), 1.0)
        lo = np.maximum(x - h, 0.0)
        return (np.asarray(self.lift(x + h)) - np.asarray(self.lift(lo))) / (x + h - lo)

    def saturation_spend(self) -> float:
        return self.max_spend

    def __repr__(self) -> str:
        return f"CallableCurve({getattr(self.func, '__name__', repr(self.func))})"


def _check_numerically(curve: CostCurve, upper: float, name: str) -> None:
    if not np.isfinite(upper) or upper <= 0:
        return
    grid = np.linspace(0.0, upper, 257)
    try:
        values = np.asarray(curve.lift(grid), dtype=float)
    except Exception as exc:
        raise DriverkitError(
            f"The cost curve of '{name}' failed when evaluated on spend in [0, {upper:g}]: {exc}"
        ) from exc
    if not np.all(np.isfinite(values)):
        bad = grid[~np.isfinite(values)][0]
        raise DriverkitError(
            f"The cost curve of '{name}' returns a non-finite lift at spend {bad:g}."
        )
    tol = 1e-9 * max(1.0, float(np.max(np.abs(values))))
    if abs(values[0]) > tol:
        raise DriverkitError(
            f"The cost curve of '{name}' must give zero lift at zero spend; it gives "
            f"{values[0]:g}. Subtract f(0) or start the curve at (0, 0)."
        )
    dv = np.diff(values)
    if np.any(dv < -tol):
        i = int(np.argmax(dv < -tol))
        raise DriverkitError(
            f"The cost curve of '{name}' decreases between spend {grid[i]:g} "
            f"(lift {values[i]:g}) and {grid[i + 1]:g} (lift {values[i + 1]:g}); a cost curve "
            "must be non-decreasing (more spend cannot buy less lift)."
        )
    if np.any(values < 0 - tol):
        bad = grid[np.argmax(values < -tol)]
        raise DriverkitError(
            f"The cost curve of '{name}' gives a negative lift at spend {bad:g}; spend can only "
            "raise ratings (cuts are initiatives with negative cost in select_initiatives())."
        )


def _as_vector(values: Sequence[float], name: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError) as exc:
        raise DriverkitTypeError(
            f"The '{name}' parameter of piecewise() must be a list of numbers; got {values!r}."
        ) from exc
    if not np.all(np.isfinite(arr)):
        raise DriverkitError(f"The '{name}' parameter of piecewise() must be finite numbers.")
    return arr


def as_curve(curve: Any, name: str = "driver") -> CostCurve:
    """Return ``curve`` as a :class:`CostCurve` (wrapping a plain callable).

    Examples
    --------
    >>> from driverkit.optimize import as_curve
    >>> type(as_curve(lambda s: s / (1 + s))).__name__
    'CallableCurve'
    """
    if isinstance(curve, CostCurve):
        return curve
    if callable(curve):
        return CallableCurve(curve)
    raise DriverkitTypeError(
        f"The cost curve of '{name}' must be dk.saturating(...), dk.hill(...), "
        f"dk.piecewise(...) or a callable spend -> lift; got {type(curve).__name__}."
    )


def saturating(max_lift: float, scale: float) -> Saturating:
    """Saturating cost curve ``lift = max_lift · (1 − exp(−spend / scale))``.

    See :class:`Saturating`.

    Examples
    --------
    >>> import driverkit as dk
    >>> round(float(dk.saturating(1.0, 10.0)(10.0)), 4)
    0.6321
    """
    return Saturating(max_lift, scale)


def hill(max_lift: float, half: float, slope: float = 1.0) -> Hill:
    """Hill cost curve ``lift = max_lift · s^slope / (half^slope + s^slope)``.

    See :class:`Hill`.

    Examples
    --------
    >>> import driverkit as dk
    >>> float(dk.hill(2.0, half=10.0)(10.0))
    1.0
    """
    return Hill(max_lift, half, slope)


def piecewise(spend: Sequence[float], lift: Sequence[float]) -> Piecewise:
    """Piecewise-linear cost curve from a table of spend levels and lifts.

    See :class:`Piecewise`.

    Examples
    --------
    >>> import driverkit as dk
    >>> float(dk.piecewise(spend=[0, 100], lift=[0, 1.0])(50))
    0.5
    """
    return Piecewise(spend, lift)
