"""Suppressor signs are flagged in the model, importance, simulator and optimisers (issue 13).

A driver whose coefficient sign is opposite to its correlation with the outcome made the
simulator "recommend" cutting it, with a high chance of profit, without a word.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

import driverkit as dk


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(1)
    n = 500
    a = rng.normal(size=n)
    s = a + 0.5 * rng.normal(size=n)
    y = a - 0.6 * s + 0.5 * rng.normal(size=n)  # s correlates +0.28 with y, coefficient < 0
    return pd.DataFrame({"a": np.clip(np.round(a * 2 + 5), 0, 10),
                         "s": np.clip(np.round(s * 2 + 5), 0, 10),
                         "y": y})


@pytest.fixture(scope="module")
def model(data):
    with pytest.warns(dk.SuppressorWarning, match="'y'.*s \\(coefficient -"):
        return dk.fit(data, "y", ["a", "s"], scales={"a": (0, 10), "s": (0, 10)})


def test_model_flags_the_suppressor(data, model):
    flips = model.sign_flips
    assert list(flips.index) == ["s"]
    r = np.corrcoef(data["s"], data["y"])[0, 1]
    assert flips.loc["s", "corr"] == pytest.approx(r, rel=1e-10)
    assert flips.loc["s", "coef"] == model.table.loc["s", "estimate"] < 0 < r
    assert model.meta["suppressor_signs"] == "s"
    assert any("suppressor" in n for n in model.notes)


def test_importance_flags_the_suppressor(data):
    with pytest.warns(dk.SuppressorWarning, match="s \\(coefficient"):
        res = dk.importance(data, "y", ["a", "s"])
    assert res.meta["suppressor_signs"] == "s"


def test_no_flag_without_a_sign_flip(data):
    with warnings.catch_warnings():
        warnings.simplefilter("error", dk.SuppressorWarning)
        m = dk.fit(data.assign(y=data["a"] + data["s"]), "y", ["a", "s"])
        dk.importance(data.assign(y=data["a"] + data["s"]), "y", ["a", "s"])
    assert m.sign_flips.empty


def test_simulator_and_optimisers_say_so(data, model):
    sim = dk.Simulator(model, data)
    with pytest.warns(dk.SuppressorWarning, match="The scenario moves 's'"):
        res = sim.run({"s": dk.shift(-1)}, draws=0)
    assert res.diagnostics.set_index("driver")["suppressor"].to_dict() == {"s": True}
    assert res.meta["suppressor_signs"] == "s"
    # a cut of the suppressor "gains" and saves money: the portfolio takes it, and says so
    ini = {"cut s": {"cost": -10.0, "scenario": dk.Scenario("cut s", {"s": dk.shift(-1)})},
           "raise a": {"cost": 5.0, "scenario": dk.Scenario("raise a", {"a": dk.shift(1)})}}
    with pytest.warns(dk.SuppressorWarning, match="chosen initiatives move 's'"):
        port = dk.select_initiatives(ini, budget=0, simulator=sim, objective="mean")
    assert "cut s" in port.chosen and "suppressor" in port.notes[0]
    curves = {"a": dk.saturating(1, 10), "s": dk.saturating(1, 10)}
    plan = dk.optimize_budget(sim, curves, 5, objective="mean", bounds={"s": (1, 5)})
    assert plan.table["suppressor"].to_dict() == {"a": False, "s": True}
    assert "suppressor" in plan.notes[0]
