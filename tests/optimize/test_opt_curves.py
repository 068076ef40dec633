"""Cost curves: formulas, derivatives, validation."""

from __future__ import annotations

import numpy as np
import pytest
from optfakes import FakeSim

import driverkit as dk
from driverkit.optimize import CallableCurve, as_curve


def _fd(curve, s, h=1e-4):
    return (curve.lift(s + h) - curve.lift(s - h)) / (2 * h)


def test_saturating_formula_and_derivative():
    c = dk.saturating(max_lift=2.0, scale=50.0)
    s = np.array([0.0, 10.0, 50.0, 400.0])
    np.testing.assert_allclose(c(s), 2.0 * (1 - np.exp(-s / 50.0)), rtol=1e-14)
    np.testing.assert_allclose(c.derivative(s[1:]), _fd(c, s[1:]), rtol=1e-7)
    assert c.derivative(0.0) == pytest.approx(2.0 / 50.0)
    assert c(1e9) == pytest.approx(2.0)
    assert c.lift(c.saturation_spend()) == pytest.approx(2.0 * 0.999)


@pytest.mark.parametrize("slope", [0.7, 1.0, 2.5])
def test_hill_formula_and_derivative(slope):
    c = dk.hill(max_lift=1.5, half=30.0, slope=slope)
    assert float(c(30.0)) == pytest.approx(0.75)
    s = np.array([5.0, 30.0, 90.0])
    np.testing.assert_allclose(c(s), 1.5 * s**slope / (30.0**slope + s**slope), rtol=1e-14)
    np.testing.assert_allclose(c.derivative(s), _fd(c, s), rtol=1e-6)
    assert float(c(0.0)) == 0.0
    assert c.lift(c.saturation_spend()) == pytest.approx(1.5 * 0.999)


def test_piecewise_interpolates_and_is_flat_beyond_table():
    c = dk.piecewise(spend=[0, 10, 30], lift=[0, 0.5, 0.8])
    assert float(c(5)) == pytest.approx(0.25)
    assert float(c(20)) == pytest.approx(0.65)
    assert float(c(100)) == pytest.approx(0.8)
    # right derivative: slope of the segment that starts at the knot
    assert float(c.derivative(0.0)) == pytest.approx(0.05)
    assert float(c.derivative(10.0)) == pytest.approx(0.3 / 20)
    assert float(c.derivative(30.0)) == 0.0
    assert c.max_lift == 0.8


def test_decreasing_piecewise_table_is_rejected():
    with pytest.raises(dk.DriverkitError, match=r"must not decrease.*lift\[2\]"):
        dk.piecewise(spend=[0, 10, 20], lift=[0, 0.6, 0.4])


@pytest.mark.parametrize(("spend", "lift", "msg"), [
    ([5, 10], [0, 1], "start at zero"),
    ([0, 10], [0.2, 1], "start at zero"),
    ([0, 10, 10], [0, 1, 2], "strictly increasing"),
    ([0, 10], [0, 1, 2], "as many"),
    ([0], [0], "at least two"),
])
def test_bad_piecewise_tables(spend, lift, msg):
    with pytest.raises(dk.DriverkitError, match=msg):
        dk.piecewise(spend=spend, lift=lift)


@pytest.mark.parametrize(("args", "name"), [((0, 1), "max_lift"), ((1, -2), "scale")])
def test_saturating_rejects_nonpositive_parameters(args, name):
    with pytest.raises(dk.DriverkitError, match=name):
        dk.saturating(*args)


def test_callable_curve_scalar_and_vectorised():
    vec = as_curve(lambda s: 0.1 * np.sqrt(s))
    sca = as_curve(lambda s: 0.1 * float(s) ** 0.5)  # scalar-only function
    s = np.array([1.0, 4.0, 100.0])
    np.testing.assert_allclose(vec(s), 0.1 * np.sqrt(s))
    np.testing.assert_allclose(sca(s), 0.1 * np.sqrt(s))
    np.testing.assert_allclose(vec.derivative(s), 0.05 / np.sqrt(s), rtol=1e-5)
    assert isinstance(vec, CallableCurve)
    with pytest.raises(dk.DriverkitTypeError, match="cost curve"):
        as_curve(3.0, "staff")


def test_callable_curve_validated_numerically_in_optimize_budget():
    sim = FakeSim({"a": 1.0, "b": 1.0})
    good = dk.saturating(1.0, 10.0)
    with pytest.raises(dk.DriverkitError, match="'b' decreases"):
        dk.optimize_budget(sim, {"a": good, "b": lambda s: np.sin(s / 10.0)}, 100.0)
    with pytest.raises(dk.DriverkitError, match="zero lift at zero spend"):
        dk.optimize_budget(sim, {"a": good, "b": lambda s: 1.0 + 0 * s}, 100.0)
    with pytest.raises(dk.DriverkitError, match="non-finite"):
        dk.optimize_budget(sim, {"a": good, "b": lambda s: np.where(s > 50, np.nan, 0.01 * s)},
                           100.0)
