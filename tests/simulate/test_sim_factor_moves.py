"""Scenarios on categorical drivers: dk.set_to(level), dk.share_to(level, share) (issue 14)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import driverkit as dk


@pytest.fixture(scope="module")
def contracts():
    rng = np.random.default_rng(0)
    n = 1500
    contract = rng.choice(["Month-to-month", "One year", "Two year"], n, p=[0.5, 0.3, 0.2])
    x = rng.integers(1, 11, n).astype(float)
    eta = -1 + 0.2 * x + np.select([contract == "One year", contract == "Two year"],
                                   [0.8, 1.6], 0)
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    df = pd.DataFrame({"contract": contract, "sat": x, "stay": y})
    m = dk.fit(df, "stay", ["contract", "sat"], kind="logit")
    return df, m


def test_set_to_level_equals_brute_force(contracts):
    df, m = contracts
    sim = dk.Simulator(m, df, customers=1e5, revenue_per_customer=100)
    res = sim.run({"contract": dk.set_to("Two year")}, seed=1)
    p0 = m.predict_design(m.design(df))
    p1 = m.predict_design(m.design(df.assign(contract="Two year")))
    row = res.table.iloc[0]
    assert row["delta_rate"] == pytest.approx(np.mean(p1 - p0), rel=1e-12)
    assert row["delta_revenue"] == pytest.approx(1e5 * 100 * np.mean(p1 - p0), rel=1e-12)
    assert row["delta_rate_low"] < row["delta_rate"] < row["delta_rate_high"]


def test_share_to_moves_a_share_in_expectation(contracts):
    df, m = contracts
    sim = dk.Simulator(m, df)
    got = sim.value({"contract": dk.share_to("two year", 0.3)}, "rate")
    p0 = m.predict_design(m.design(df))
    p1 = m.predict_design(m.design(df.assign(contract="Two year")))
    assert got == pytest.approx(0.3 * np.mean(p1 - p0), rel=1e-12)
    # in a segment, only its respondents move; combined with a rating change
    seg = df["sat"] >= 8
    res = sim.run(dk.Scenario("mix", {"contract": dk.share_to("One year", 0.5),
                                      "sat": dk.shift(1)}, segment=seg.to_numpy()), seed=2)
    assert np.isfinite(res.table.loc["mix", "delta_rate"])


def test_factor_moves_clear_errors(contracts):
    df, m = contracts
    sim = dk.Simulator(m, df)
    with pytest.raises(dk.DriverkitError, match="'Three year' is not one of its levels"):
        sim.value({"contract": dk.set_to("Three year")}, "rate")
    with pytest.raises(dk.DriverkitError, match=r"categorical; move it with dk\.set_to"):
        sim.value({"contract": dk.shift(1)}, "rate")
    with pytest.raises(dk.DriverkitError, match="numeric rating"):
        sim.value({"sat": dk.set_to("high")}, "rate")
    with pytest.raises(dk.DriverkitError, match=r"\[0, 1\]"):
        dk.share_to("One year", 1.5)
