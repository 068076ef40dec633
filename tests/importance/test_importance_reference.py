"""Reference values: relaimpo on the Swiss data and the Azen & Budescu (2003) example."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import driverkit as dk

TOL = 1e-7
SWISS_DRIVERS = ["Agriculture", "Examination", "Education", "Catholic", "Infant.Mortality"]
METRICS = ["shapley", "relative_weights", "pratt", "first", "last", "betasq", "car"]


@pytest.fixture(scope="module")
def swiss(ref):
    return pd.read_csv(ref("swiss.csv"))


@pytest.fixture(scope="module")
def swiss_ref(ref):
    return pd.read_csv(ref("swiss_importance.csv"))


@pytest.fixture(scope="module")
def azen(ref):
    with open(ref("azen_budescu_2003.json")) as fh:
        return json.load(fh)


@pytest.fixture(scope="module")
def azen_corr(azen):
    names = azen["variables"]
    return pd.DataFrame(azen["correlation"], index=names, columns=names)


@pytest.mark.parametrize("metric", METRICS)
def test_swiss_metrics_against_relaimpo(swiss, swiss_ref, metric):
    res = dk.importance(swiss, "Fertility", SWISS_DRIVERS, method=metric)
    expected = swiss_ref[swiss_ref.metric == metric].set_index("variable")["value"]
    got = res.table["importance"]
    assert list(got.index) == SWISS_DRIVERS
    np.testing.assert_allclose(got.to_numpy(), expected.loc[SWISS_DRIVERS].to_numpy(),
                               rtol=0, atol=TOL)
    r2 = swiss_ref.loc[swiss_ref.metric == "R2", "value"].iloc[0]
    assert res.r2 == pytest.approx(r2, abs=TOL)


def test_swiss_all_methods_and_matrix_input_against_relaimpo(swiss, swiss_ref):
    res = dk.importance(swiss, "Fertility", SWISS_DRIVERS, method="all")
    from_corr = dk.importance(corr=swiss[["Fertility", *SWISS_DRIVERS]].cov(), outcome="Fertility",
                              method="all")
    for metric in METRICS:
        expected = swiss_ref[swiss_ref.metric == metric].set_index("variable")["value"]
        np.testing.assert_allclose(res.table[metric].to_numpy(),
                                   expected.loc[SWISS_DRIVERS].to_numpy(), atol=TOL)
        np.testing.assert_allclose(from_corr.table[metric].to_numpy(),
                                   expected.loc[SWISS_DRIVERS].to_numpy(), atol=TOL)
        assert res.results[metric].method == metric


@pytest.mark.parametrize("metric", [*METRICS, "dominance"])
def test_azen_budescu_metrics_against_published_example(azen, azen_corr, metric):
    res = dk.importance(corr=azen_corr, outcome="y", method=metric)
    key = "shapley" if metric == "dominance" else metric
    expected = pd.Series(azen[key])
    np.testing.assert_allclose(res.table["importance"].to_numpy(),
                               expected.loc[res.table.index].to_numpy(), atol=TOL)
    assert res.r2 == pytest.approx(azen["r2"], abs=TOL)


def test_azen_budescu_dominance_against_published_example(azen, azen_corr):
    res = dk.importance(corr=azen_corr, outcome="y", method="dominance")
    cond = pd.DataFrame(azen["conditional_dominance_by_size"]).T
    np.testing.assert_allclose(res.conditional.to_numpy(), cond.loc[res.conditional.index],
                               atol=TOL)
    assert list(res.conditional.columns) == [0, 1, 2, 3]
    comp = res.complete
    # "x1 completely dominates x2, x3 and x4; no other pair is determined"
    assert (comp.loc["x1", ["x2", "x3", "x4"]] == 1.0).all()
    assert (comp.loc[["x2", "x3", "x4"], "x1"] == 0.0).all()
    others = ["x2", "x3", "x4"]
    for a in others:
        for b in others:
            if a != b:
                assert 0.0 < comp.loc[a, b] < 1.0
    assert np.isnan(np.diag(comp.to_numpy())).all()
    order = list(res.table["importance"].sort_values(ascending=False).index)
    assert order == azen["general_dominance_order"]
    np.testing.assert_allclose(res.table["importance"], res.conditional.mean(axis=1), atol=1e-15)
    assert "Conditional dominance" in res.summary()
