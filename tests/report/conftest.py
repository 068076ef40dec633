"""Fixtures for the report tests: small real results built quickly from a synthetic survey."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import driverkit as dk

XSS = "<script>alert(1)</script>"


@pytest.fixture(scope="session")
def survey() -> pd.DataFrame:
    """400 respondents, four 1–10 ratings (one named like an XSS attack), a 0/1 outcome."""
    rng = np.random.default_rng(7)
    n = 400
    halo = rng.normal(size=n)
    cols = {}
    for j, name in enumerate(["staff", "price", "wait_time", XSS]):
        cols[name] = np.clip(np.round(6.5 + halo + rng.normal(0, 1.5, n) - 0.3 * j), 1, 10)
    df = pd.DataFrame(cols)
    eta = -5.0 + 0.45 * df["staff"] + 0.25 * df["price"] + 0.15 * df["wait_time"] + 0.1 * df[XSS]
    df["satisfaction"] = eta + rng.normal(0, 1, n)
    df["repurchase"] = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    return df


@pytest.fixture(scope="session")
def drivers() -> list[str]:
    return ["staff", "price", "wait_time", XSS]


@pytest.fixture(scope="session")
def model(survey, drivers):
    return dk.fit(survey, "repurchase", drivers, kind="logit",
                  scales={d: (1, 10) for d in drivers})


@pytest.fixture(scope="session")
def shapley(survey, drivers):
    return dk.importance(survey, "satisfaction", drivers, bootstrap=60, seed=3)


@pytest.fixture(scope="session")
def dominance(survey, drivers):
    return dk.importance(survey, "satisfaction", drivers, method="dominance")


@pytest.fixture(scope="session")
def initiatives() -> dict:
    return {"More staff": {"cost": 40.0, "delta_revenue": 120.0},
            "Faster app": {"cost": 25.0, "delta_revenue": 60.0},
            "Loyalty mail": {"cost": 10.0, "delta_revenue": 35.0},
            "Cut phone support": {"cost": -30.0, "delta_revenue": -8.0}}


@pytest.fixture(scope="session")
def frontier_table(initiatives) -> pd.DataFrame:
    return dk.frontier(initiatives, [-30, 0, 20, 40, 75]).table


@pytest.fixture(scope="session")
def portfolio(initiatives):
    return dk.select_initiatives(initiatives, 50.0)
