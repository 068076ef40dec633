"""Simulator data that do not match the model are refused or rebound (issue 13).

Bugs fixed: a 1–10 model given a new wave on 0–100 clipped everyone to the top (baseline
near 100 %, effects 0); a chain model run on another survey used the fitted survey's
mediator values, matched by row label.
"""

import numpy as np
import pytest

import driverkit as dk


@pytest.fixture(scope="module")
def surveys():
    a = dk.make_survey(n=600, n_drivers=3, kind="logit", seed=11)
    b = dk.make_survey(n=600, n_drivers=3, kind="logit", seed=12)
    a.attrs, b.attrs = {}, {}
    return a, b, ["website_ease", "product_range", "price_value"]


def test_new_wave_on_another_scale_is_refused_or_rescaled(surveys):
    a, b, drv = surveys
    m = dk.fit(a, "repurchase", drv, kind="logit", scales=dict.fromkeys(drv, (1, 10)))
    wide = b.assign(**{d: (b[d] - 1) * 100 / 9 for d in drv})  # the same answers on 0–100
    with pytest.raises(dk.DataError, match=r"website_ease.*rescale="):
        dk.Simulator(m, wide)
    up = {"price_value": dk.shift(1)}
    got = dk.Simulator(m, wide, rescale=dict.fromkeys(drv, (0, 100))).value(up, "rate")
    assert got == pytest.approx(dk.Simulator(m, b).value(up, "rate"), rel=1e-12)
    assert wide.loc[0, "price_value"] == (b.loc[0, "price_value"] - 1) * 100 / 9  # untouched


def test_undeclared_scale_refuses_a_far_range(surveys):
    a, b, drv = surveys
    m = dk.fit(a, "repurchase", drv, kind="logit")  # observed ranges only
    with pytest.raises(dk.DataError, match="another scale"):
        dk.Simulator(m, b.assign(price_value=b["price_value"] * 10))


def test_chain_model_on_another_survey_uses_that_surveys_mediator(surveys):
    a, b, drv = surveys
    res = dk.chain(a, drv, "satisfaction", "repurchase")
    assert a.index.equals(b.index)  # the same row labels: the old code matched them
    up = {"price_value": dk.shift(1)}
    got = dk.Simulator(res.model, b).value(up, "rate")
    bound = res.model.bind(b)
    moved = b.assign(price_value=np.minimum(b["price_value"] + 1, 10))
    want = np.mean(bound.predict(moved) - bound.predict(b))
    assert got == pytest.approx(want, rel=1e-12)
    wrong = res.simulator().value(up, "rate")  # the fitted survey's own answer
    assert got != pytest.approx(wrong, rel=1e-6)
    with pytest.raises(dk.ColumnNotFoundError, match="satisfaction"):
        dk.Simulator(res.model, b.drop(columns="satisfaction"))
