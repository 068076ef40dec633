"""Journey-stage importance: group Shapley per stage, Owen values per driver."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import driverkit as dk
from driverkit.cx._stages import owen_values
from driverkit.exceptions import DataError, DriverkitError, DriverkitTypeError
from driverkit.importance._shapley import shapley_values


def _owen_brute_force(v, blocks):
    """Owen value as the average over block orders and within-block orders."""
    p = sum(len(b) for b in blocks)
    phi = np.zeros(p)
    count = 0
    for border in itertools.permutations(range(len(blocks))):
        for inner in itertools.product(*[itertools.permutations(blocks[k]) for k in border]):
            mask = 0
            for perm in inner:
                for j in perm:
                    phi[j] += v[mask | (1 << j)] - v[mask]
                    mask |= 1 << j
            count += 1
    return phi / count


def test_owen_values_against_brute_force():
    rng = np.random.default_rng(3)
    p = 6
    v = rng.random(1 << p)
    v[0] = 0
    blocks = [[0, 3], [1, 2, 5], [4]]
    assert np.allclose(owen_values(v, blocks), _owen_brute_force(v, blocks))
    # singletons or one block: the Shapley value
    assert np.allclose(owen_values(v, [[i] for i in range(p)]), shapley_values(v))
    assert np.allclose(owen_values(v, [list(range(p))]), shapley_values(v))


def test_stage_importance_against_group_shapley(survey_linear):
    truth = survey_linear.attrs["truth"]
    res = dk.stage_importance(survey_linear, "satisfaction", truth["stages"], weights="weight")
    t = res.table
    assert set(t["stage"]) == set(truth["stages"])
    sums = t.groupby("stage")["importance"].sum()
    grp = dk.importance(survey_linear, "satisfaction", truth["drivers"], groups=truth["stages"],
                        weights="weight")
    for s in truth["stages"]:
        assert sums[s] == pytest.approx(grp.table.loc[s, "importance"], abs=1e-10)
        assert np.allclose(t.loc[t.stage == s, "stage_importance"],
                           grp.table.loc[s, "importance"])
    assert t["importance"].sum() == pytest.approx(grp.r2, abs=1e-10)
    assert t["share"].sum() == pytest.approx(100.0)
    assert np.allclose(t.groupby("stage")["share_in_stage"].sum(), 100.0)
    ind = dk.importance(survey_linear, "satisfaction", truth["drivers"], weights="weight")
    assert np.allclose(t.loc[ind.table.index, "shapley"], ind.table["importance"])
    # rank within stage follows the Owen values
    for _, g in t.groupby("stage"):
        assert list(g.sort_values("importance", ascending=False)["rank_in_stage"]) == list(
            range(1, len(g) + 1))
    assert res.plot().has_data()
    assert "stage" in res.summary()


def test_stage_importance_with_always_and_bootstrap(survey_linear):
    truth = survey_linear.attrs["truth"]
    stages = {k: v for k, v in truth["stages"].items() if k != "during"}
    res = dk.stage_importance(survey_linear, "satisfaction", stages,
                              covariates=["brand_connection"], bootstrap=50, seed=1)
    t = res.table
    assert {"stage_importance_low", "stage_importance_high"} <= set(t.columns)
    assert t["importance"].sum() == pytest.approx(res.stages.r2 - res.stages.r2_always,
                                                  abs=1e-10)


def test_stage_importance_bad_input(survey_linear):
    truth = survey_linear.attrs["truth"]
    d = truth["drivers"]
    with pytest.raises(DataError, match=f"'{d[0]}' is in two stages"):
        dk.stage_importance(survey_linear, "satisfaction", {"a": d[:2], "b": d[:1]})
    with pytest.raises(DriverkitTypeError, match="dict"):
        dk.stage_importance(survey_linear, "satisfaction", d)
    with pytest.raises(DriverkitTypeError, match="groups"):
        dk.stage_importance(survey_linear, "satisfaction", truth["stages"], groups={})
    with pytest.raises(DriverkitError, match="kind"):
        dk.stage_importance(survey_linear, "satisfaction", truth["stages"], kind="probit")
    with pytest.raises(DataError, match="no drivers"):
        dk.stage_importance(survey_linear, "satisfaction", {"a": d[:2], "b": []})


def test_logit_subset_values_against_model_fits():
    from driverkit.importance import subset_values

    df = dk.make_survey(n=1500, n_drivers=4, seed=6, chain=False)
    d = df.attrs["truth"]["drivers"]
    v = subset_values(df, "repurchase", d, kind="logit", weights="weight").v
    full = dk.fit(df, "repurchase", d, kind="logit", weights="weight")
    assert v[-1] == pytest.approx(full.r2, rel=1e-6)
    two = dk.fit(df, "repurchase", d[:2], kind="logit", weights="weight")
    assert v[0b0011] == pytest.approx(two.r2, rel=1e-6)
    phi = owen_values(v, [[0, 1], [2, 3]])
    assert phi.sum() == pytest.approx(full.r2, rel=1e-6)


def test_stage_importance_logit():
    df = dk.make_survey(n=1500, n_drivers=5, seed=6, chain=False)
    st = {"a": df.attrs["truth"]["drivers"][:2], "b": df.attrs["truth"]["drivers"][2:]}
    res = dk.stage_importance(df, "repurchase", st, kind="logit")
    sums = res.table.groupby("stage")["importance"].sum()
    assert np.allclose(sums[res.stages.table.index], res.stages.table["importance"], atol=1e-6)
