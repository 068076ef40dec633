"""Sensitivity curves: the fast engine against plain per-point simulations.

``sensitivity()`` evaluates every one-driver step of a logit model from one exponential per
draw and respondent and, when it is cheaper, from Chebyshev moments in r = e^{cδ} (a series
whose remainder is below double rounding) plus exact corrections for the respondents at the
ends of the scale. These tests compare its tables with each curve point run alone
(``sim.run``), with the branch-by-branch path and with the exact all-slots path, for logit,
probit, linear and ordinal models, with survey weights, with and without draws.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import driverkit as dk
from driverkit.simulate import _engine, _shared_logit

RTOL = 1e-10
STEPS = [-2, -1, 0, 1, 2]


def _survey(n: int = 1500, p: int = 4, seed: int = 5) -> tuple[pd.DataFrame, list[str]]:
    rng = np.random.default_rng(seed)
    halo = rng.normal(size=n)
    drivers = [f"x{j + 1}" for j in range(p)]
    df = pd.DataFrame({d: np.clip(np.round(6.5 + 1.2 * halo + rng.normal(0, 1.5, n)), 1, 10)
                       for d in drivers})
    eta = -4.0 + sum(0.12 * df[d] for d in drivers)
    df["buy"] = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    df["score"] = np.clip(np.round(eta + 2 + rng.normal(0, 1, n)), 0, 4).astype(int)
    df["sat"] = eta + rng.normal(0, 1, n)
    df["revenue"] = rng.gamma(2.0, 150.0, n).round(2)
    df["w"] = rng.uniform(0.5, 2.0, n)
    return df, drivers


@pytest.fixture(scope="module")
def survey() -> tuple[pd.DataFrame, list[str]]:
    return _survey()


def _sim(survey, kind: str, weights: bool = True, **kw) -> dk.Simulator:
    df, drivers = survey
    outcome = {"logit": "buy", "probit": "buy", "linear": "sat", "ordinal": "score"}[kind]
    scales = dict.fromkeys(drivers, (1, 10))
    m = dk.fit(df, outcome, drivers, kind=kind, scales=scales,
               weights="w" if weights else None)
    if kind in ("logit", "probit"):
        kw = {"customers": 1e6, "revenue": "revenue", "margin": 0.3, **kw}
    return dk.Simulator(m, df, weights="w" if weights else None, **kw)


def assert_close(a: pd.DataFrame, b: pd.DataFrame, rtol: float = RTOL) -> None:
    assert list(a.columns) == list(b.columns)
    x = a.select_dtypes("number").to_numpy(dtype=float)
    y = b.select_dtypes("number").to_numpy(dtype=float)
    np.testing.assert_array_equal(np.isnan(x), np.isnan(y))
    # per column: relative rtol, or absolute 1e-12 of the column's scale (sums near 0; a
    # normal tail probability of the delta method, e.g. P(profit > 0) = 2e-8, amplifies
    # the rounding of its central differences: 1e-12 absolute)
    scale = np.nanmax(np.abs(np.where(np.isnan(y), 0.0, y)), axis=0)
    bad = np.abs(x - y) > np.maximum(np.maximum(rtol * np.abs(y), 1e-12 * scale), 1e-12)
    assert not bad[~np.isnan(y)].any(), (x[bad], y[bad])


def series_plans(monkeypatch: pytest.MonkeyPatch) -> list:
    """Record the plan of every chunk (a _Series, or None for the all-slots path)."""
    seen: list = []
    real = _shared_logit._Series.plan.__func__

    def spy(cls, R, D):
        out = real(cls, R, D)
        seen.append(out)
        return out

    monkeypatch.setattr(_shared_logit._Series, "plan", classmethod(spy))
    return seen


#: curve points run alone: clipped both ways, zero, and both drivers
POINTS = [("x1", -2), ("x1", 0), ("x1", 1), ("x3", -1), ("x3", 2)]


def _alone(sim: dk.Simulator, draws: int, seed: int) -> list[pd.DataFrame]:
    return [sim.run(dk.Scenario(f"{d} {s:+g}", {d: dk.shift(s)}), draws=draws,
                    seed=seed).table.reset_index(drop=True) for d, s in POINTS]


@pytest.mark.parametrize("kind", ["logit", "probit", "linear", "ordinal"])
@pytest.mark.parametrize("draws", [0, 60])
def test_curves_equal_each_point_run_alone(survey, kind, draws, monkeypatch):
    sim = _sim(survey, kind)
    ds = ["x1", "x3"]
    sens = sim.sensitivity(drivers=ds, steps=STEPS, draws=draws, seed=4)
    t = sens.table.drop(columns=["driver", "step", "mean_after"])
    # draws=0: delta-method intervals from central differences (h = 1e-5) amplify the
    # engines' last-digit differences about 1e5-fold
    rtol = RTOL if draws else 1e-8
    for (d, s), alone in zip(POINTS, _alone(sim, draws, seed=4), strict=True):
        i = ds.index(d) * len(STEPS) + STEPS.index(s)
        # (a table of cuts has extra columns, e.g. revenue_at_risk: compare the shared)
        assert_close(t.iloc[[i]][alone.columns].reset_index(drop=True), alone, rtol)
    zero = sens.table["step"] == 0
    assert (sens.table.loc[zero, t.columns[t.columns.str.startswith("delta_")]] == 0).all().all()


@pytest.mark.parametrize("weights", [True, False])
def test_logit_series_equals_branch_by_branch_and_all_slots(survey, weights, monkeypatch):
    sim = _sim(survey, "logit", weights=weights)
    plans = series_plans(monkeypatch)
    fast = sim.sensitivity(steps=STEPS, draws=150, seed=9).table
    assert plans and all(p is not None for p in plans)
    monkeypatch.setattr(_shared_logit, "SERIES_COST", 0.0)  # every slot evaluated
    slots = sim.sensitivity(steps=STEPS, draws=150, seed=9).table
    assert plans[-1] is None
    monkeypatch.setattr(_engine, "MAX_SHIFT_VALUES", -1)  # nothing shared: plain path
    plain = sim.sensitivity(steps=STEPS, draws=150, seed=9).table
    assert_close(fast, plain)
    assert_close(slots, plain)
    assert (fast["delta_revenue_low"] < fast["delta_revenue_high"]).any()


@pytest.mark.parametrize("intercept", [-45.0, -3.0, 38.0])
@pytest.mark.parametrize("series", [True, False])
def test_kernel_equals_brute_force_where_probabilities_saturate(intercept, series,
                                                                monkeypatch):
    # η up to ±45: e^{−η} spans 1e−17 … 1e19 (the series' α up to ~1e19), so its terms
    # must neither cancel nor overflow; the reference is expit on every respondent
    from scipy.special import expit

    rng = np.random.default_rng(7)
    n, S = 1500, 70
    X = rng.integers(1, 11, (n, 2)).astype(float)
    theta = np.column_stack([intercept + rng.normal(0, 0.5, S),
                             0.5 + rng.normal(0, 0.01, S), 0.1 + rng.normal(0, 0.01, S)])
    w = rng.uniform(0.5, 2.0, n)
    W = np.column_stack([w, w * rng.gamma(2.0, 100.0, n), w])
    steps = [-1, 1, 2]
    dxs = [np.clip(X[:, 0] + s, 1, 10) - X[:, 0] for s in steps]
    items = [_shared_logit.SharedItem(i, W, dx) for i, dx in enumerate(dxs)]
    deltas = np.array(sorted({float(v) for dx in dxs for v in np.unique(dx) if v}))
    monkeypatch.setattr(_shared_logit, "SERIES_COST", 1e9 if series else 0.0)
    plans = series_plans(monkeypatch)
    out = [(np.empty((S, 3)), np.zeros((S, 3))) for _ in steps]
    _shared_logit.shared_logit_sums(X, -theta, np.array([1, 2]), [(0, items, deltas)],
                                    [(W, [0, 1, 2])], out, lambda chunks: 1)
    assert all((p is not None) == series for p in plans)
    eta = theta[:, :1] + theta[:, 1:] @ X.T  # (S, n)
    F = expit(eta)
    for (base, delta), dx in zip(out, dxs, strict=True):
        np.testing.assert_allclose(base, F @ W, rtol=1e-12, atol=1e-300)
        ref = (expit(eta + theta[:, 1:2] * dx) - F) @ W
        scale = np.abs(F @ W).max(axis=0)
        assert (np.abs(delta - ref) <= 1e-12 * scale + 1e-10 * np.abs(ref)).all()


def test_strong_drivers_fall_back_to_every_slot(monkeypatch):
    # 0.8 logits per point: r = e^{±1.6} is far from 1 and the series would need too many
    # terms, so every slot is evaluated
    rng = np.random.default_rng(11)
    n = 1500
    df = pd.DataFrame({"x1": rng.integers(1, 11, n).astype(float),
                       "x2": rng.integers(1, 11, n).astype(float)})
    df["buy"] = (rng.random(n) < 1 / (1 + np.exp(5.0 - 0.8 * df["x1"] - 0.1 * df["x2"])))
    m = dk.fit(df, "buy", ["x1", "x2"], kind="logit",
               scales={"x1": (1, 10), "x2": (1, 10)})
    sim = dk.Simulator(m, df)
    plans = series_plans(monkeypatch)
    fast = sim.sensitivity(steps=STEPS, draws=50, seed=1).table
    assert plans and all(p is None for p in plans)
    monkeypatch.setattr(_engine, "MAX_SHIFT_VALUES", -1)
    assert_close(fast, sim.sensitivity(steps=STEPS, draws=50, seed=1).table)


def test_zero_steps_are_not_simulated(survey, monkeypatch):
    sim = _sim(survey, "logit")
    seen = []
    real = _engine.shared_logit_sums

    def spy(X, neg, coef_index, columns, *args):
        seen.append(sum(len(items) for _, items, _ in columns))
        return real(X, neg, coef_index, columns, *args)

    monkeypatch.setattr(_engine, "shared_logit_sums", spy)
    res = sim.sensitivity(steps=[-1, 0, 1], draws=40, seed=2)
    assert seen == [len(sim.drivers) * 2]  # the zero steps reach no kernel
    zero = res.table[res.table["step"] == 0]
    assert (zero["delta_rate"] == 0).all() and (zero["delta_rate_low"] == 0).all()
    assert (zero["delta_rate_high"] == 0).all()


def test_progress_bar_is_offered(survey, capsys):
    sim = _sim(survey, "logit")
    quiet = sim.sensitivity(drivers=["x1"], steps=[1], draws=30, seed=1, progress=False)
    shown = sim.sensitivity(drivers=["x1"], steps=[1], draws=30, seed=1, progress=True)
    pd.testing.assert_frame_equal(quiet.table, shown.table)
    assert "sensitivity" in capsys.readouterr().err
    with pytest.raises(TypeError, match="progress"):
        sim.sensitivity(progress="yes")
