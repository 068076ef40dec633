"""Fixtures of the simulator tests: the reference example and small fitted models."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import driverkit as dk


@pytest.fixture(scope="session")
def sim_ref(ref):
    with open(ref("simulation_examples.json")) as fh:
        return json.load(fh)


@pytest.fixture(scope="session")
def lc(sim_ref):
    """The logit_counterfactual example."""
    return sim_ref["logit_counterfactual"]


def _fixed_logit(scale=(1, 10)):
    return dk.fixed_model(kind="logit", intercept=-4.0, coef={"x1": 0.6, "x2": 0.3},
                          scales={"x1": scale, "x2": scale})


@pytest.fixture(scope="session")
def fixed_logit():
    """Factory of the reference model logit(p) = −4 + 0.6·x1 + 0.3·x2 (scale as given)."""
    return _fixed_logit


@pytest.fixture(scope="session")
def four():
    """The four respondents of the reference example."""
    return pd.DataFrame({"x1": [3, 6, 8, 10], "x2": [5, 7, 8, 4]})


@pytest.fixture(scope="session")
def survey():
    """A synthetic survey (fixed seed): three 1–10 ratings, a logit outcome, weights, revenue."""
    rng = np.random.default_rng(11)
    n = 600
    halo = rng.normal(size=n)
    df = pd.DataFrame({
        d: np.clip(np.round(m + 1.3 * halo + rng.normal(0, 1.4, n)), 1, 10)
        for d, m in {"staff": 6.5, "speed": 7.2, "price": 5.8}.items()
    })
    eta = -5.0 + 0.35 * df["staff"] + 0.2 * df["speed"] + 0.15 * df["price"]
    df["buy"] = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    df["w"] = rng.uniform(0.5, 2.0, n)
    df["revenue"] = rng.gamma(2.0, 150.0, n).round(2)
    df["segment"] = rng.choice(["A", "B", "C"], n)
    df["vip"] = rng.random(n) < 0.3
    latent = eta + rng.logistic(size=n)
    df["ltr"] = np.digitize(latent, [-1.0, 0.0, 1.5]).astype(int)
    return df


@pytest.fixture(scope="session")
def fitted(survey):
    scales = dict.fromkeys(["staff", "speed", "price"], (1, 10))
    return dk.fit(survey, "buy", list(scales), kind="logit", scales=scales)


@pytest.fixture(scope="session")
def sim(fitted, survey):
    return dk.Simulator(fitted, survey, customers=50_000, revenue_per_customer=400.0,
                        margin=0.35)
