"""``dk.Scenario``: a named, reusable set of driver changes with a cost and a scope."""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..exceptions import DriverkitError, DriverkitTypeError
from ._money import BusinessInput, business_input
from ._operators import Operator, shift

__all__ = ["Scenario", "as_scenarios"]


def _as_operator(driver: str, op: Any) -> Operator:
    if isinstance(op, Operator):
        return op
    if isinstance(op, numbers.Real) and not isinstance(op, bool):
        return shift(float(op))
    raise DriverkitTypeError(
        f"The change for driver '{driver}' must be an operator such as dk.shift(1), "
        f"dk.set_to(9) or dk.target_mean(8) (a plain number means dk.shift). Got {op!r}."
    )


class Scenario:
    """A named change of one or more drivers, with its cost and an optional segment scope.

    Parameters
    ----------
    name : str
        Label used as the row name of ``SimulationResult.table``.
    changes : dict
        ``{"driver": operator}``, e.g. ``{"checkout_speed": dk.shift(1)}``; a plain number is
        shorthand for :func:`~driverkit.shift`. All changes apply jointly.
    cost : float or distribution, default=0.0
        Cost of the initiative (negative = a saving from a cut). May be a distribution
        (``(low, high)`` uniform, an array of values, or a frozen ``scipy.stats``
        distribution); ``.cost`` is then its mean and the draws enter the intervals.
    segment : str, dict or array of bool, optional
        Scope: the name of a boolean column of the simulator's data, a selector
        ``{"column": value}`` (a list value means "any of"; several keys combine with "and"),
        or a boolean mask with one entry per respondent. Only respondents in scope change;
        results are reported for the segment and for the total.

    Attributes
    ----------
    name, operators (alias ``changes``), cost, cost_input, segment

    Examples
    --------
    >>> import driverkit as dk
    >>> s = dk.Scenario("faster checkout", {"checkout_speed": dk.shift(1)}, cost=250_000)
    >>> s
    Scenario('faster checkout', {'checkout_speed': shift(1)}, cost=250000)
    """

    def __init__(self, name: str, changes: Mapping[str, Any], cost: Any = 0.0,
                 segment: Any = None) -> None:
        if not isinstance(name, str) or not name:
            raise DriverkitTypeError(f"Scenario name must be a non-empty string; got {name!r}.")
        if not isinstance(changes, Mapping):
            raise DriverkitTypeError(
                f"Scenario '{name}': changes must be a dict like {{'driver': dk.shift(1)}}; "
                f"got {type(changes).__name__}."
            )
        self.name = name
        self.operators: dict[str, Operator] = {
            str(d): _as_operator(str(d), op) for d, op in changes.items()
        }
        self.cost_input: BusinessInput = business_input(
            0.0 if cost is None else cost, "cost", f"Scenario '{name}'", nonneg=False)
        self.segment = segment

    @property
    def changes(self) -> dict[str, Operator]:
        """Alias of :attr:`operators`."""
        return self.operators

    @property
    def cost(self) -> float:
        """The cost used for the point estimate (the mean if it is a distribution)."""
        return self.cost_input.point

    @property
    def drivers(self) -> list[str]:
        return list(self.operators)

    def with_changes(self, changes: Mapping[str, Any], name: str | None = None) -> Scenario:
        """A copy with other changes (same cost input and segment)."""
        out = Scenario(name or self.name, changes, 0.0, self.segment)
        out.cost_input = self.cost_input
        return out

    def __repr__(self) -> str:
        extra = "" if self.segment is None else f", segment={_seg_repr(self.segment)}"
        return (f"Scenario({self.name!r}, {self.operators!r}, "
                f"cost={self.cost_input.describe()}{extra})")


def _seg_repr(seg: Any) -> str:
    if isinstance(seg, str | Mapping):
        return repr(seg)
    return f"<mask of {np.size(seg)}>"


def as_scenarios(obj: Any) -> list[Scenario]:
    """Normalise what ``sim.run`` accepts into a list of scenarios with unique names.

    Accepts a :class:`Scenario`, a list of them, a ``{"driver": operator}`` dict (one
    scenario named "scenario") or a ``{"name": Scenario | {driver: operator}}`` dict.
    """
    if isinstance(obj, Scenario):
        out = [obj]
    elif isinstance(obj, Mapping):
        if not obj:
            raise DriverkitError("The scenario dict is empty; give {'driver': dk.shift(1)}.")
        vals = list(obj.values())
        if all(isinstance(v, Scenario | Mapping) for v in vals):
            out = []
            for k, v in obj.items():
                if isinstance(v, Scenario):
                    out.append(v if v.name == k else _renamed(v, str(k)))
                else:
                    out.append(Scenario(str(k), v))
        else:
            out = [Scenario("scenario", obj)]
    elif isinstance(obj, list | tuple):
        if not obj:
            raise DriverkitError("The list of scenarios is empty.")
        out = []
        for i, v in enumerate(obj):
            if isinstance(v, Scenario):
                out.append(v)
            elif isinstance(v, Mapping):
                out.append(Scenario(f"scenario {i + 1}", v))
            else:
                raise DriverkitTypeError(
                    f"Item {i} of the scenario list is a {type(v).__name__}; expected "
                    "dk.Scenario(name, {driver: operator})."
                )
    else:
        raise DriverkitTypeError(
            "Expected a dk.Scenario, a list of them, or a dict {driver: operator}; got "
            f"{type(obj).__name__}."
        )
    seen: set[str] = set()
    for s in out:
        if s.name in seen:
            raise DriverkitError(
                f"Two scenarios are named '{s.name}'; give each scenario a unique name."
            )
        seen.add(s.name)
    return out


def _renamed(s: Scenario, name: str) -> Scenario:
    out = s.with_changes(s.operators, name=name)
    return out
