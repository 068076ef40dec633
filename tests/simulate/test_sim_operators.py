"""Scenario operators: formulas, clipping, exact target_mean, top_box in expectation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special

import driverkit as dk
from driverkit.simulate._operators import solve_target_mean

SCALE = (1.0, 10.0)
x = np.array([1.0, 3.0, 5.5, 8.0, 10.0])
w = np.ones_like(x)


def test_operator_formulas_and_clipping():
    np.testing.assert_array_equal(dk.shift(2).apply(x, w, SCALE).new, [3, 5, 7.5, 10, 10])
    np.testing.assert_array_equal(dk.shift(-3).apply(x, w, SCALE).new, [1, 1, 2.5, 5, 7])
    np.testing.assert_allclose(dk.gap_close(0.5).apply(x, w, SCALE).new,
                               x + 0.5 * (10 - x))
    np.testing.assert_array_equal(dk.floor(6).apply(x, w, SCALE).new, [6, 6, 6, 8, 10])
    np.testing.assert_array_equal(dk.ceiling(6).apply(x, w, SCALE).new, [1, 3, 5.5, 6, 6])
    np.testing.assert_array_equal(dk.set_to(7).apply(x, w, SCALE).new, [7] * 5)
    mv = dk.shift(2).apply(x, w, SCALE)
    np.testing.assert_array_equal(mv.clipped, [False, False, False, False, True])


def test_clipping_never_repairs_ratings_outside_a_declared_scale():
    y = np.array([0.0, 5.0, 11.0])  # two ratings outside 1–10
    np.testing.assert_array_equal(dk.shift(0).apply(y, np.ones(3), SCALE).new, y)
    np.testing.assert_array_equal(dk.shift(1).apply(y, np.ones(3), SCALE).new, [1, 6, 11])


@settings(max_examples=150, deadline=None)
@given(
    data=st.lists(st.floats(1, 10, allow_nan=False), min_size=1, max_size=60),
    weights=st.lists(st.floats(0.1, 5, allow_nan=False), min_size=60, max_size=60),
    t=st.floats(1, 10, allow_nan=False),
)
def test_target_mean_hits_its_target(data, weights, t):
    xs = np.array(data)
    ws = np.array(weights[: xs.size])
    new = dk.target_mean(t).apply(xs, ws, SCALE).new
    assert abs(np.dot(ws, new) / ws.sum() - t) <= 1e-9
    assert np.all((new >= 1) & (new <= 10))
    # a common shift: the unclipped respondents all move by the same δ
    free = (new > 1) & (new < 10)
    if free.sum() > 1:
        assert np.ptp(new[free] - xs[free]) < 1e-9


def test_target_mean_exact_on_integer_ratings_with_weights():
    rng = np.random.default_rng(3)
    xs = rng.integers(1, 11, 5000).astype(float)
    ws = rng.uniform(0.2, 3, 5000)
    for t in (1.0, 2.5, 6.123456789, 9.99, 10.0):
        new = dk.target_mean(t).apply(xs, ws, SCALE).new
        assert abs(np.dot(ws, new) / ws.sum() - t) <= 1e-9


def test_target_mean_unreachable_is_an_error():
    with pytest.raises(dk.DriverkitError, match=r"target_mean\(12\).*'q1'"):
        solve_target_mean(x, w, 12.0, np.full(5, 1.0), np.full(5, 10.0), driver="q1")
    m = dk.fixed_model("logit", intercept=0, coef={"q1": 0.1}, scales={"q1": (1, 10)})
    sim = dk.Simulator(m, pd.DataFrame({"q1": x}))
    with pytest.raises(dk.DriverkitError, match=r"'q1'.*scale 1–10"):
        sim.run({"q1": dk.target_mean(10.5)})


def test_top_box_is_the_expectation_not_a_draw():
    m = dk.fixed_model("logit", intercept=-4.0, coef={"x1": 0.6, "x2": 0.3},
                       scales={"x1": (1, 10), "x2": (1, 10)})
    df = pd.DataFrame({"x1": [3, 6, 8, 10], "x2": [5, 7, 8, 4]})
    sim = dk.Simulator(m, df)
    q = 0.3
    eta = -4 + 0.6 * df.x1 + 0.3 * df.x2
    top = -4 + 0.6 * 10 + 0.3 * df.x2
    p = special.expit(eta)
    p_tilde = np.where(df.x1 < 10, (1 - q) * p + q * special.expit(top), p)
    want = float(np.mean(p_tilde - p))
    assert sim.value({"x1": dk.top_box(q)}, "rate") == pytest.approx(want, abs=1e-15)
    # deterministic: repeated runs agree to the last digit, whatever the seed
    a = sim.run({"x1": dk.top_box(q)}, seed=1).table["delta_rate"].iloc[0]
    b = sim.run({"x1": dk.top_box(q)}, seed=2).table["delta_rate"].iloc[0]
    assert a == b
    # top_box(1) equals set_to(U); top-2-box leaves 9s and 10s alone
    assert sim.value({"x1": dk.top_box(1.0)}, "rate") == pytest.approx(
        sim.value({"x1": dk.set_to(10)}, "rate"), abs=1e-15)
    two = sim.value({"x1": dk.top_box(1.0, box=8)}, "rate")
    assert two == pytest.approx(float(np.mean(np.where(df.x1 < 8, special.expit(top) - p, 0))))


def test_two_top_box_changes_average_all_four_combinations():
    m = dk.fixed_model("logit", intercept=-4.0, coef={"x1": 0.6, "x2": 0.3},
                       scales={"x1": (1, 10), "x2": (1, 10)})
    df = pd.DataFrame({"x1": [3, 6, 8, 10], "x2": [5, 7, 8, 4]})
    sim = dk.Simulator(m, df)
    q1, q2 = 0.2, 0.5
    F = special.expit
    a, b = df.x1.to_numpy(float), df.x2.to_numpy(float)
    p1, p2 = np.where(a < 10, q1, 0), np.where(b < 10, q2, 0)
    exp = ((1 - p1) * (1 - p2) * F(-4 + 0.6 * a + 0.3 * b) + p1 * (1 - p2) * F(2 + 0.3 * b)
           + (1 - p1) * p2 * F(-1 + 0.6 * a) + p1 * p2 * F(5.0))
    want = float(np.mean(exp - F(-4 + 0.6 * a + 0.3 * b)))
    got = sim.value({"x1": dk.top_box(q1), "x2": dk.top_box(q2)}, "rate")
    assert got == pytest.approx(want, abs=1e-15)


@pytest.mark.parametrize("op, match", [
    (dk.set_to(12), r"set_to\(12\) on driver 'x1'.*outside its scale 1–10"),
    (dk.floor(0), r"floor\(0\) on driver 'x1'.*outside its scale 1–10"),
    (dk.ceiling(11), r"ceiling\(11\).*outside its scale"),
    (dk.shift(10), r"shift\(10\) on driver 'x1' moves ratings by more than the width"),
    (dk.top_box(0.5, box=11), r"top box threshold 11"),
])
def test_operator_outside_the_scale_is_an_error(op, match):
    m = dk.fixed_model("logit", intercept=0, coef={"x1": 0.1}, scales={"x1": (1, 10)})
    sim = dk.Simulator(m, pd.DataFrame({"x1": [2.0, 5.0]}))
    with pytest.raises(dk.DriverkitError, match=match):
        sim.run(dk.Scenario("s", {"x1": op}))
    with pytest.raises(dk.DriverkitError, match=match):
        sim.value(dk.Scenario("s", {"x1": op}), "rate")


@pytest.mark.parametrize("call, match", [
    (lambda: dk.gap_close(1.5), r"'fraction' parameter of dk.gap_close\(\) must lie in \[0, 1\]"),
    (lambda: dk.top_box(-0.1), r"'share' parameter of dk.top_box\(\)"),
    (lambda: dk.shift(float("nan")), r"'delta' parameter of dk.shift\(\) must be finite"),
    (lambda: dk.set_to("9"), r"'value' parameter of dk.set_to\(\) must be a number"),
])
def test_operator_arguments_are_validated(call, match):
    with pytest.raises((dk.DriverkitError, dk.DriverkitTypeError), match=match):
        call()


def test_operators_are_hashable_values_with_readable_repr():
    assert dk.shift(1) == dk.shift(1.0) and hash(dk.shift(1)) == hash(dk.shift(1.0))
    assert dk.shift(1) != dk.set_to(1)
    assert repr(dk.target_mean(8.2)) == "target_mean(8.2)"
    assert dk.shift(-0.5).delta == -0.5 and dk.shift(-0.5).kind == "shift"
