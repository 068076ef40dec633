"""``optimize_budget`` on a PLS simulator with cost curves keyed by construct names."""

from __future__ import annotations

import numpy as np
import pytest

import driverkit as dk
from driverkit.exceptions import DriverkitError


@pytest.fixture(scope="module")
def pls_sim():
    df = dk.make_survey(400, items_per_construct=3, seed=3)
    truth = df.attrs["truth"]["pls"]
    m = dk.pls(df, truth["constructs"], truth["paths"], scales=(1, 10))
    return dk.Simulator(m, df, target="Loyalty"), truth["constructs"]


def test_construct_curves_move_all_items_and_value_matches_the_simulator(pls_sim):
    sim, constructs = pls_sim
    curves = {"Satisfaction": dk.saturating(1.5, 100.0), "Image": dk.saturating(1.0, 80.0),
              "PERQ1": dk.saturating(1.0, 50.0)}  # constructs and a single item together
    plan = dk.optimize_budget(sim, curves, 300.0, objective="rate")
    assert plan.table.index.tolist() == ["Satisfaction", "Image", "PERQ1"]
    assert plan.table["spend"].sum() == pytest.approx(300.0, rel=1e-6)
    run = sim.run(plan.scenario).table
    assert plan.value == run["delta_index"].iloc[0]
    # the same plan written item by item: every item of a construct moves by its lift
    lift = plan.table["lift"]
    ops = {it: dk.shift(float(lift[c])) for c in ("Satisfaction", "Image")
           for it in constructs[c]}
    ops["PERQ1"] = dk.shift(float(lift["PERQ1"]))
    by_item = sim.run(dk.Scenario("by item", ops, cost=300.0)).table
    np.testing.assert_allclose(by_item["delta_index"].iloc[0], plan.value, rtol=1e-12)
    # at an interior optimum the marginal returns are equal across funded drivers
    roi = plan.table["marginal_roi"].to_numpy(float)
    np.testing.assert_allclose(roi, roi[0], rtol=1e-2)


def test_construct_and_its_item_cannot_both_have_curves(pls_sim):
    sim, constructs = pls_sim
    item = constructs["Value"][0]
    with pytest.raises(DriverkitError, match=f"'{item}' has two cost curves"):
        dk.optimize_budget(sim, {"Value": dk.saturating(1.0, 10.0),
                                 item: dk.saturating(1.0, 10.0)}, 50.0, objective="rate")
    with pytest.raises(DriverkitError, match="names no driver"):
        dk.optimize_budget(sim, {"Valeu": dk.saturating(1.0, 10.0)}, 50.0, objective="rate")
