"""No public function modifies the caller's DataFrame (values, dtypes, index or attrs)."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pandas as pd
import pytest

import driverkit as dk


@pytest.fixture(scope="module")
def survey():
    df = dk.make_survey(n=600, n_drivers=5, seed=3, stated=True, missing=0.02)
    return df


def _calls(drivers, tmp_path):
    stated = {d: f"imp_{d}" for d in drivers}
    return {
        "fit": lambda df: dk.fit(df, "repurchase", drivers, kind="logit", weights="weight"),
        "fit_ordinal": lambda df: dk.fit(df, "recommend", drivers, kind="ordinal"),
        "importance": lambda df: dk.importance(df, "satisfaction", drivers, weights="weight",
                                               bootstrap=20, seed=1),
        "importance_dominance": lambda df: dk.importance(df, "satisfaction", drivers,
                                                         method="dominance"),
        "sufficient_stats": lambda df: dk.sufficient_stats(df, [*drivers, "satisfaction"],
                                                           weights="weight"),
        "simulator": lambda df: dk.Simulator(
            dk.fit(df, "repurchase", drivers, kind="logit"), df.dropna(subset=drivers),
            customers=1000, revenue="revenue").run(
                dk.Scenario("s", {drivers[0]: dk.shift(1)}), draws=50, seed=1),
        "nps": lambda df: dk.nps(df, "recommend", weights="weight"),
        "penalty_reward": lambda df: dk.penalty_reward(df, "satisfaction", drivers),
        "compare_segments": lambda df: dk.compare_segments(df, "satisfaction", drivers,
                                                           "segment", bootstrap=50, seed=1),
        "compare_waves": lambda df: dk.compare_waves(df, "satisfaction", drivers, "wave",
                                                     bootstrap=50, seed=1),
        "stated_vs_derived": lambda df: dk.stated_vs_derived(df, "satisfaction", drivers,
                                                             stated),
        "chain": lambda df: dk.chain(df, "repurchase", drivers, mediator="satisfaction"),
        "stage_importance": lambda df: dk.stage_importance(
            df, "satisfaction", {"early": drivers[:2], "late": drivers[2:]}),
        "select_initiatives": lambda df: dk.select_initiatives(_initiatives(df), budget=50),
        "frontier": lambda df: dk.frontier(_initiatives(df), [0, 50, 100]),
        "report": lambda df: dk.report(
            dk.importance(df, "satisfaction", drivers), path=tmp_path / "r.html", excel=False),
    }


def _initiatives(df):
    """The optimiser takes a frame of initiatives (not respondents); it is checked too."""
    return _INITIATIVES


_INITIATIVES = pd.DataFrame({"cost": [40.0, 25, 10, -30, 35],
                             "delta_revenue": [120.0, 60, 35, -8, 50]},
                            index=list("ABCDE"))


_INITIATIVES_COPY = _INITIATIVES.copy(deep=True)
NAMES = list(_calls(["a"], None))


@pytest.mark.parametrize("name", NAMES)
def test_public_function_does_not_modify_input(survey, name, tmp_path):
    drivers = survey.attrs["truth"]["drivers"]
    df = survey.copy(deep=True)
    df.attrs = copy.deepcopy(survey.attrs)
    before = df.copy(deep=True)
    attrs_before = copy.deepcopy(df.attrs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _calls(drivers, tmp_path)[name](df)
    pd.testing.assert_frame_equal(df, before, check_exact=True)
    assert df.attrs == attrs_before
    if name in ("select_initiatives", "frontier"):
        pd.testing.assert_frame_equal(_INITIATIVES, _INITIATIVES_COPY, check_exact=True)
    assert np.array_equal(df.index, before.index)
