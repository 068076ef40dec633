"""What the optimisers need from a simulator, stated as a :class:`typing.Protocol`.

The optimisers never compute an effect themselves: every value they report comes from
``sim.value`` (the point estimate of one column of ``sim.run(...).table``), so the number an
optimiser prints is the number the simulator prints for the same plan, to the last digit.
:class:`driverkit.Simulator` implements this protocol; so can any object (a client's own
model, a fake in tests) that provides the five members below.

Scenarios are built here, in one place, from the public simulator API
(:class:`driverkit.Scenario` and :func:`driverkit.shift`).
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..exceptions import DriverkitError, DriverkitTypeError, ExtrapolationWarning

__all__ = ["OBJECTIVES", "SimulatorProtocol", "check_simulator", "combine_scenarios",
           "direction", "flag_suppressors", "quiet_search", "shift_scenario"]

#: objective name -> the column of ``SimulationResult.table`` it reads
OBJECTIVES: dict[str, str] = {
    "profit": "delta_profit",
    "revenue": "delta_revenue",
    "rate": "delta_rate",
    "mean": "delta_mean",
}


def flag_suppressors(sim: Any, drivers: Sequence[str], what: str) -> str | None:
    """Warn (and return the note) when ``drivers`` include suppressors of the simulator's
    model: drivers whose coefficient sign is opposite to their correlation with the outcome.

    An optimiser that funds a raise (or a cut) of such a driver rests on a sign the data
    do not show directly; it must say so.
    """
    from ..exceptions import SuppressorWarning

    flips = getattr(sim, "sign_flips", None)
    if flips is None or not hasattr(flips, "index"):
        return None
    hit = [d for d in drivers if d in flips.index]
    if not hit:
        return None
    parts = "; ".join(f"'{d}' (coefficient {flips.loc[d, 'coef']:+.3g}, correlation "
                      f"{flips.loc[d, 'corr']:+.3g})" for d in hit)
    msg = (f"{what} {parts}, whose coefficient sign is opposite to its own correlation with "
           "the outcome (a suppressor): the value of moving it comes from holding the other "
           "drivers fixed. Check this driver before acting on the plan.")
    warnings.warn(msg, SuppressorWarning, stacklevel=3)
    return msg


def direction(sim: Any, objective: str) -> float:
    """+1, or −1 when the objective's column is an event rate (or mean) where less is better.

    Money columns of a less-is-better simulator (churn) already count the revenue kept, so
    only ``"rate"`` and ``"mean"`` are flipped: the optimisers maximise the good direction
    while reporting the simulator's own (signed) column.
    """
    lower = getattr(sim, "better", "higher") == "lower"
    return -1.0 if lower and objective in ("rate", "mean") else 1.0


@runtime_checkable
class SimulatorProtocol(Protocol):
    """The interface an optimiser uses to evaluate plans.

    Attributes
    ----------
    drivers : sequence of str
        The numeric drivers a scenario may move.
    scales : mapping of str to (float, float)
        The rating scale ``(low, high)`` of each driver (ratings are clipped to it).

    Methods
    -------
    run(scenario, *, draws=1000, seed=None, ci=0.95)
        The public simulation; ``.table`` has the columns ``delta_rate``,
        ``delta_revenue``, ``delta_profit``, ``cost``, ``roi`` and their intervals.
    value(scenario, objective="profit")
        The point estimate of the objective's column of ``run(scenario).table``, by the same
        code path (bit-identical), without drawing intervals.
    value_draws(scenario, objective="profit", *, draws=1000, seed=None)
        The objective over parametric (and business-input) draws, for risk-aware objectives.
    """

    @property
    def drivers(self) -> Sequence[str]: ...

    @property
    def scales(self) -> Mapping[str, tuple[float, float]]: ...

    def run(self, scenario: Any, *, draws: int = 1000, seed: Any = None,
            ci: float = 0.95) -> Any: ...

    def value(self, scenario: Any, objective: str = "profit") -> float: ...

    def value_draws(self, scenario: Any, objective: str = "profit", *, draws: int = 1000,
                    seed: Any = None) -> np.ndarray: ...


def check_simulator(sim: Any, func: str, name: str = "sim") -> SimulatorProtocol:
    """Raise a clear error unless ``sim`` implements :class:`SimulatorProtocol`."""
    missing = [m for m in ("drivers", "scales", "run", "value", "value_draws")
               if not hasattr(sim, m)]
    if missing:
        raise DriverkitTypeError(
            f"The '{name}' parameter of {func}() must be a simulator such as "
            f"dk.Simulator(model, data); got {type(sim).__name__}, which lacks "
            f"{', '.join(missing)}."
        )
    return sim


@contextlib.contextmanager
def quiet_search() -> Iterator[None]:
    """Silence the simulator's extrapolation warnings for the many trial plans of a search.

    Only the returned plan's warnings matter; the optimisers evaluate it once more outside
    this context, so the user sees them for that plan.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExtrapolationWarning)
        yield


def _scenario_api() -> tuple[Any, Any]:
    from ..simulate import Scenario, shift

    return Scenario, shift


def shift_scenario(name: str, lifts: Mapping[str, float], cost: float,
                   scales: Mapping[str, tuple[float, float]] | None = None) -> Any:
    """Return ``dk.Scenario(name, {driver: dk.shift(lift)}, cost=cost)``.

    Drivers with a zero lift are left out, so an unfunded driver is not in the scenario.
    With ``scales``, a lift beyond the width of a driver's scale is capped at that width
    (it moves every respondent to the top either way, and ``dk.shift`` rejects more).
    """
    scenario_cls, shift = _scenario_api()
    ops = {}
    for d, v in lifts.items():
        v = float(v)
        if scales is not None and d in scales:
            v = min(v, float(scales[d][1]) - float(scales[d][0]))
        if v != 0.0:
            ops[d] = shift(v)
    return scenario_cls(name, ops, cost=float(cost))


def combine_scenarios(name: str, scenarios: Sequence[Any], cost: float) -> Any:
    """Join several scenarios into one (the joint plan of a portfolio).

    Each scenario maps drivers to operators. Two chosen initiatives that move the same
    driver are combined when both are shifts (the shifts add up before clipping);
    anything else on a shared driver is ambiguous and raises an error naming the driver.
    """
    scenario_cls, shift = _scenario_api()
    ops: dict[str, Any] = {}
    owners: dict[str, str] = {}
    segment = _common_segment(scenarios)
    for sc in scenarios:
        for driver, op in _operators(sc).items():
            if driver not in ops:
                ops[driver] = op
                owners[driver] = _name(sc)
                continue
            a, b = _shift_delta(ops[driver]), _shift_delta(op)
            if a is None or b is None:
                raise DriverkitError(
                    f"Initiatives '{owners[driver]}' and '{_name(sc)}' both move driver "
                    f"'{driver}' and at least one of them is not a dk.shift(), so their joint "
                    "effect is ambiguous. Declare them exclusive=[[...]] or merge them into "
                    "one initiative."
                )
            ops[driver] = shift(a + b)
            owners[driver] = f"{owners[driver]} + {_name(sc)}"
    return scenario_cls(name, ops, cost=float(cost), segment=segment)


def _common_segment(scenarios: Sequence[Any]) -> Any:
    """The segment shared by all ``scenarios`` (``None`` = everyone); mixed scopes are an error."""
    segments = [getattr(sc, "segment", None) for sc in scenarios]
    if not segments:
        return None
    first = segments[0]
    for sc, seg in zip(scenarios, segments, strict=True):
        same = seg is first or (
            not isinstance(seg, np.ndarray) and not isinstance(first, np.ndarray) and seg == first
        ) or (isinstance(seg, np.ndarray) and isinstance(first, np.ndarray)
              and np.array_equal(seg, first))
        if not same:
            raise DriverkitError(
                f"Initiatives '{_name(scenarios[0])}' and '{_name(sc)}' target different "
                "segments, so their joint scenario is ambiguous. Give them the same segment= "
                "or simulate the segments separately."
            )
    return first


def _name(scenario: Any) -> str:
    return str(getattr(scenario, "name", scenario))


def _operators(scenario: Any) -> dict[str, Any]:
    """The ``{driver: operator}`` mapping of a scenario."""
    for attr in ("operators", "changes", "ops"):
        ops = getattr(scenario, attr, None)
        if isinstance(ops, Mapping):
            return dict(ops)
    raise DriverkitTypeError(
        f"Cannot read the driver operators of scenario {scenario!r}; expected a dk.Scenario."
    )


def _shift_delta(op: Any) -> float | None:
    """The delta of a ``dk.shift`` operator, or ``None`` for any other operator."""
    kind = getattr(op, "kind", None) or type(op).__name__.lower()
    if "shift" not in str(kind).lower():
        return None
    for attr in ("delta", "value", "amount"):
        v = getattr(op, attr, None)
        if isinstance(v, int | float | np.floating | np.integer):
            return float(v)
    return None
