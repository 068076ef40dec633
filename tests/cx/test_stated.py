"""Stated vs derived importance."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import driverkit as dk
from driverkit.exceptions import DataError, DriverkitTypeError


def test_stated_vs_derived_against_direct_computation(survey_linear):
    d = survey_linear.attrs["truth"]["drivers"]
    res = dk.stated_vs_derived(survey_linear, "satisfaction", d, "imp_{}", weights="weight")
    t = res.table
    assert list(t.columns[:5]) == ["stated", "derived", "stated_rank", "derived_rank", "gap"]
    w = survey_linear["weight"]
    for x in d:
        assert t.loc[x, "stated"] == pytest.approx(np.average(survey_linear[f"imp_{x}"],
                                                              weights=w))
    shap = dk.importance(survey_linear, "satisfaction", d, weights="weight").table
    assert np.allclose(t["derived"], shap.loc[d, "share"])
    assert (t["derived_rank"] == shap.loc[d, "rank"]).all()
    assert (t["gap"] == t["stated_rank"] - t["derived_rank"]).all()
    assert t.loc[t["stated"].idxmax(), "stated_rank"] == 1
    rho = stats.spearmanr(t["stated"], t["derived"])[0]
    assert res.rank_correlation == pytest.approx(rho)
    assert set(t["quadrant"]) <= {"key driver", "hidden driver", "stated only", "secondary"}
    hidden = t[t["quadrant"] == "hidden driver"]
    assert (hidden["stated"] < t["stated"].mean()).all()
    assert (hidden["derived"] > 100 / len(d)).all()
    assert res.plot().has_data()


def test_stated_recovers_generating_stated_means(survey_linear):
    truth = survey_linear.attrs["truth"]["stated"]
    d = survey_linear.attrs["truth"]["drivers"]
    t = dk.stated_vs_derived(survey_linear, "satisfaction", d,
                             {x: f"imp_{x}" for x in d}).table
    for x in d:
        assert t.loc[x, "stated"] == pytest.approx(truth[x]["expected_mean"], abs=0.08)


def test_top_box_summary(survey_linear):
    d = survey_linear.attrs["truth"]["drivers"][:4]
    t = dk.stated_vs_derived(survey_linear, "satisfaction", d, "imp_{}",
                             stated_summary="top_box").table
    for x in d:
        assert t.loc[x, "stated"] == pytest.approx(100 * np.mean(survey_linear[f"imp_{x}"] == 5))
    t4 = dk.stated_vs_derived(survey_linear, "satisfaction", d, "imp_{}",
                              stated_summary="top_box", top_box=4).table
    assert (t4["stated"] >= t["stated"]).all()


def test_stated_set_must_match_drivers(survey_linear):
    d = survey_linear.attrs["truth"]["drivers"][:3]
    with pytest.raises(DataError, match=rf"no stated-importance column.*\['{d[2]}'\]"):
        dk.stated_vs_derived(survey_linear, "satisfaction", d,
                             {d[0]: f"imp_{d[0]}", d[1]: f"imp_{d[1]}"})
    with pytest.raises(DataError, match=r"not among the drivers"):
        dk.stated_vs_derived(survey_linear, "satisfaction", d[:2],
                             {x: f"imp_{x}" for x in d})
    with pytest.raises(DataError, match="more than one driver"):
        dk.stated_vs_derived(survey_linear, "satisfaction", d[:2],
                             {d[0]: f"imp_{d[0]}", d[1]: f"imp_{d[0]}"})
    with pytest.raises(dk.ColumnNotFoundError, match="imp2_"):
        dk.stated_vs_derived(survey_linear, "satisfaction", d, "imp2_{}")
    with pytest.raises(DriverkitTypeError, match="pattern"):
        dk.stated_vs_derived(survey_linear, "satisfaction", d, "imp_")
    with pytest.raises(DriverkitTypeError, match="Shapley"):
        dk.stated_vs_derived(survey_linear, "satisfaction", d, "imp_{}", method="pratt")
