"""The loyalty chain against the generator's truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import driverkit as dk
from driverkit.data import true_effect
from driverkit.exceptions import DataError, DriverkitError, DriverkitTypeError


@pytest.fixture(scope="module")
def fitted(survey_chain):
    d = survey_chain.attrs["truth"]["drivers"]
    return dk.chain(survey_chain, "repurchase", d, mediator="satisfaction", seed=1)


def test_chain_total_effect_against_truth(survey_chain, fitted):
    truth = survey_chain.attrs["truth"]["chain"]
    t = fitted.table
    inside = [(t.loc[d, "total_coef_low"] <= truth["total"][d] <= t.loc[d, "total_coef_high"])
              for d in t.index]
    assert sum(inside) >= len(inside) - 1   # 95 % intervals, 10 drivers
    assert fitted.path_b == pytest.approx(truth["b"], abs=0.1)
    a_in = [(t.loc[d, "mediator_coef_low"] <= truth["a"][d] <= t.loc[d, "mediator_coef_high"])
            for d in t.index]
    assert sum(a_in) >= len(a_in) - 1


def test_chain_total_probability_effect_against_true_effect(survey_chain, fitted):
    """A one-point rise flows through satisfaction: the chain model's simulated effect and
    the AME interval cover the generator's exact effect."""
    m = fitted.model.bind(survey_chain)
    base = m.predict(survey_chain)
    for d in ("price_value", "delivery_accuracy"):
        moved = survey_chain.assign(**{d: np.clip(survey_chain[d] + 1, 1, 10)})
        sim = float(np.mean(m.predict(moved) - base))
        true = true_effect(survey_chain, {d: 1})
        lo, hi = fitted.table.loc[d, ["total_low", "total_high"]]
        assert lo - 0.005 <= true <= hi + 0.005
        assert sim == pytest.approx(true, abs=0.012)


def test_chain_decomposition_identities(fitted):
    t = fitted.table
    assert np.allclose(t["total"], t["direct"] + t["indirect"])
    assert np.allclose(t["total_coef"], t["direct_coef"] + t["indirect_coef"])
    assert np.allclose(t["indirect_coef"], t["mediator_coef"] * fitted.path_b)
    om = fitted.outcome_model
    assert np.allclose(t["direct_coef"], om.params[t.index])
    # AME: mean density times coefficient
    X = om.data_.X
    eta = om.linear_predictor(X)
    dens = np.exp(eta) / (1 + np.exp(eta)) ** 2
    assert np.allclose(t["direct"], dens.mean() * om.params[t.index].to_numpy())
    for c in ("direct", "indirect", "total"):
        assert (t[f"{c}_low"] <= t[c]).all() and (t[c] <= t[f"{c}_high"]).all()


def test_chain_bootstrap_intervals_agree_with_monte_carlo(survey_chain, fitted):
    d = survey_chain.attrs["truth"]["drivers"]
    boot = dk.chain(survey_chain, "repurchase", d, mediator="satisfaction", bootstrap=150, seed=2)
    assert np.allclose(boot.table["total"], fitted.table["total"])
    w_mc = fitted.table["total_high"] - fitted.table["total_low"]
    w_bs = boot.table["total_high"] - boot.table["total_low"]
    assert np.all((w_bs / w_mc > 0.6) & (w_bs / w_mc < 1.6))
    assert "bootstrap" in boot.meta["intervals"]
    again = dk.chain(survey_chain, "repurchase", d, mediator="satisfaction", bootstrap=150, seed=2)
    pd.testing.assert_frame_equal(boot.table, again.table)


def test_chain_linear_outcome_is_product_of_coefficients(survey_chain):
    d = survey_chain.attrs["truth"]["drivers"][:4]
    res = dk.chain(survey_chain, "recommend", d, mediator="satisfaction", kind="linear", seed=0)
    t = res.table
    assert np.allclose(t["direct"], t["direct_coef"])
    assert np.allclose(t["indirect"], t["mediator_coef"] * res.path_b)


def test_chain_weights_and_missing(survey_chain):
    df = survey_chain.copy()
    d = df.attrs["truth"]["drivers"][:4]
    df.loc[df.index[:10], d[0]] = np.nan
    with pytest.warns(dk.MissingDataWarning, match="10 respondent"):
        res = dk.chain(df, "repurchase", d, mediator="satisfaction", weights="weight", seed=0)
    assert res.meta["n"] == len(df) - 10


def test_chain_bad_input(survey_chain):
    d = survey_chain.attrs["truth"]["drivers"][:3]
    with pytest.raises(DataError, match="different columns"):
        dk.chain(survey_chain, "satisfaction", d, mediator="satisfaction")
    with pytest.raises(DataError, match="different columns"):
        dk.chain(survey_chain, "repurchase", [*d, "satisfaction"], mediator="satisfaction")
    with pytest.raises(DriverkitError, match="bootstrap"):
        dk.chain(survey_chain, "repurchase", d, mediator="satisfaction", bootstrap=1)
    with pytest.raises(DriverkitError, match="kind"):
        dk.chain(survey_chain, "repurchase", d, mediator="satisfaction", kind="ordinal")
    with pytest.raises(dk.ColumnNotFoundError, match="satisfacton"):
        dk.chain(survey_chain, "repurchase", d, mediator="satisfacton")


def test_chain_old_argument_order_still_works_with_a_deprecation_warning(survey_chain, fitted):
    d = survey_chain.attrs["truth"]["drivers"]
    with pytest.warns(DeprecationWarning, match=r"chain\(data, outcome, drivers, mediator="):
        old = dk.chain(survey_chain, d, "satisfaction", "repurchase", seed=1)
    pd.testing.assert_frame_equal(old.table, fitted.table)
    # keywords in any order are the new signature (no warning)
    kw = dk.chain(survey_chain, drivers=d, mediator="satisfaction", outcome="repurchase", seed=1)
    pd.testing.assert_frame_equal(kw.table, fitted.table)
    with pytest.raises(DriverkitTypeError, match="mediator="):
        dk.chain(survey_chain, "repurchase", d)


def test_chain_result_renders_and_plots(fitted):
    assert "indirect" in fitted.summary()
    assert fitted.plot().has_data()
