"""Sensitivity curves and one-driver scenarios through the shared-exponential logit path.

The draw path evaluates every one-driver change of a logit model from one exponential per
draw and respondent (F(η + cδ) = r/(r + e^{−η}), r = e^{cδ}); these tests check it against
the branch-by-branch path (forced by allowing no shared values) and against running every
curve point as its own scenario, to 1e-10.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import driverkit as dk
from driverkit.simulate import _engine, _shared_logit

RTOL = 1e-10


def _survey(n: int = 1500, p: int = 4, seed: int = 3) -> tuple[pd.DataFrame, list[str]]:
    rng = np.random.default_rng(seed)
    halo = rng.normal(size=n)
    drivers = [f"x{j + 1}" for j in range(p)]
    df = pd.DataFrame({d: np.clip(np.round(6.5 + 1.3 * halo + rng.normal(0, 1.6, n)), 1, 10)
                       for d in drivers})
    eta = -3.5 + sum(0.1 * (j + 1) * df[d] for j, d in enumerate(drivers))
    df["buy"] = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    df["revenue"] = rng.gamma(2.0, 100.0, n).round(2)
    df["member"] = rng.random(n) < 0.4
    return df, drivers


@pytest.fixture(scope="module")
def sim() -> dk.Simulator:
    df, drivers = _survey()
    m = dk.fit(df, "buy", drivers, kind="logit", scales=dict.fromkeys(drivers, (1, 10)))
    return dk.Simulator(m, df, customers=50_000, revenue="revenue", margin=0.3)


def _numeric(t: pd.DataFrame) -> np.ndarray:
    return t.select_dtypes("number").to_numpy(dtype=float)


def shared_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count calls of the shared-exponential path (so a test can show it was taken)."""
    calls: list[int] = []
    real = _engine.Kernel._draws_logit_shared

    def spy(self, *args, **kwargs):
        calls.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(_engine.Kernel, "_draws_logit_shared", spy)
    return calls


def assert_close(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a.columns) == list(b.columns)
    x, y = _numeric(a), _numeric(b)
    np.testing.assert_array_equal(np.isnan(x), np.isnan(y))
    # per column: relative 1e-10, or absolute 1e-12 of the column's scale (sums near 0)
    scale = np.nanmax(np.abs(np.where(np.isnan(y), 0.0, y)), axis=0)
    bad = np.abs(x - y) > np.maximum(RTOL * np.abs(y), 1e-12 * scale)
    assert not bad[~np.isnan(y)].any(), (x[bad], y[bad])


def test_sensitivity_equals_branch_by_branch_path(sim, monkeypatch):
    fast = sim.sensitivity(steps=[-2, -1, 0, 1, 2, 3], draws=300, seed=7)
    monkeypatch.setattr(_engine, "MAX_SHIFT_VALUES", -1)  # nothing shared
    slow = sim.sensitivity(steps=[-2, -1, 0, 1, 2, 3], draws=300, seed=7)
    assert_close(fast.table, slow.table)
    assert (fast.table["delta_rate_low"] < fast.table["delta_rate_high"]).any()


def test_sensitivity_equals_each_point_run_alone(sim, monkeypatch):
    calls = shared_calls(monkeypatch)
    sens = sim.sensitivity(drivers=["x2", "x4"], steps=[-1, 0, 2], draws=200, seed=11)
    assert calls, "the curve did not take the shared-exponential path"
    t = sens.table.drop(columns=["driver", "step", "mean_after"])
    # a zero step changes nothing; the others move the rate in the coefficient's direction
    zero = sens.table["step"] == 0
    assert (sens.table.loc[zero, "delta_rate"] == 0).all()
    assert (sens.table.loc[~zero, "delta_rate"] != 0).all()
    i = 0
    for d in ["x2", "x4"]:
        for s in [-1, 0, 2]:
            alone = sim.run(dk.Scenario(f"{d} {s:+g}", {d: dk.shift(s)}), draws=200,
                            seed=11).table.reset_index(drop=True)
            # (a table of cuts has extra columns, e.g. revenue_at_risk: compare the shared)
            assert_close(t.iloc[[i]][alone.columns].reset_index(drop=True), alone)
            i += 1


def test_threads_do_not_change_the_numbers(sim, monkeypatch):
    monkeypatch.setattr(_shared_logit, "CHUNK_DRAWS", 64)  # several chunks to share out
    monkeypatch.setattr(_engine, "_workers", lambda: 1)
    one = sim.sensitivity(steps=[-1, 1], draws=300, seed=5).table
    monkeypatch.setattr(_engine, "_workers", lambda: 3)
    three = sim.sensitivity(steps=[-1, 1], draws=300, seed=5).table
    pd.testing.assert_frame_equal(one, three, check_exact=True)


def test_segments_and_top_box_on_the_shared_path(sim, monkeypatch):
    # one-driver branches with their own weights (a segment; top_box's probabilities)
    scs = [dk.Scenario("members +1", {"x1": dk.shift(1)}, segment="member"),
           dk.Scenario("x1 +1", {"x1": dk.shift(1)}),
           dk.Scenario("x3 top box", {"x3": dk.top_box(0.3)}),
           dk.Scenario("x3 -1", {"x3": dk.shift(-1)})]
    calls = shared_calls(monkeypatch)
    fast = sim.run(scs, draws=250, seed=2).table
    assert calls, "the one-driver scenarios did not take the shared-exponential path"
    monkeypatch.setattr(_engine, "MAX_SHIFT_VALUES", -1)
    n_fast = len(calls)
    slow = sim.run(scs, draws=250, seed=2).table
    assert len(calls) == n_fast  # the reference run is branch by branch
    assert_close(fast, slow)
    # the segment's effect is a part of the whole base's effect, the cut lowers the rate
    assert 0 < fast.loc["members +1", "delta_rate"] < fast.loc["x1 +1", "delta_rate"]
    assert fast.loc["x3 -1", "delta_rate"] < 0 < fast.loc["x3 top box", "delta_rate"]


def test_huge_coefficients_fall_back_and_stay_finite():
    df, drivers = _survey(n=400, p=2)
    m = dk.fixed_model("logit", intercept=-400.0, coef={"x1": 80.0, "x2": 0.0},
                       scales=dict.fromkeys(drivers, (1, 10)))
    sim = dk.Simulator(m, df)
    res = sim.sensitivity(steps=[-9, 9], draws=20, seed=1)
    assert np.isfinite(res.table["delta_rate"]).all()
    assert res.table.loc[res.table["driver"] == "x2", "delta_rate"].abs().max() == 0.0


def test_without_revenue_column_equal_weight_columns_are_summed_once(monkeypatch):
    df, drivers = _survey(n=800, p=3, seed=9)
    m = dk.fit(df, "buy", drivers, kind="logit", scales=dict.fromkeys(drivers, (1, 10)))
    sim = dk.Simulator(m, df, customers=10_000, revenue_per_customer=120.0)
    calls = shared_calls(monkeypatch)
    fast = sim.sensitivity(steps=[-1, 1, 2], draws=150, seed=3).table
    assert calls, "the curve did not take the shared-exponential path"
    monkeypatch.setattr(_engine, "MAX_SHIFT_VALUES", -1)
    slow = sim.sensitivity(steps=[-1, 1, 2], draws=150, seed=3).table
    assert_close(fast, slow)
    # with one revenue per customer, Δrevenue is exactly N · R · Δrate on every point
    np.testing.assert_allclose(fast["delta_revenue"], 10_000 * 120.0 * fast["delta_rate"],
                               rtol=1e-12)


def test_frame_attrs_are_left_alone_and_not_carried():
    df, drivers = _survey(n=300, p=2, seed=4)
    df.attrs["truth"] = {"note": list(range(1000))}
    m = dk.fit(df, "buy", drivers, kind="logit", scales=dict.fromkeys(drivers, (1, 10)))
    sim = dk.Simulator(m, df)
    assert sim.data.attrs == {}
    assert df.attrs["truth"]["note"][-1] == 999  # the caller's frame keeps its attrs
    clean = df.copy()
    clean.attrs = {}
    plain = dk.Simulator(m, clean)
    a = sim.run(dk.Scenario("x1 +1", {"x1": dk.shift(1)}), draws=50, seed=1).table
    b = plain.run(dk.Scenario("x1 +1", {"x1": dk.shift(1)}), draws=50, seed=1).table
    pd.testing.assert_frame_equal(a, b)
