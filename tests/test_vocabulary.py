"""One vocabulary across the API: one condition number, snake_case .meta with deprecated
0.1 keys, result objects where 0.1 returned DataFrames, one `kind` list."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import driverkit as dk
from driverkit._validation import KINDS, check_kind
from driverkit.exceptions import DriverkitError


@pytest.fixture(scope="module")
def demo():
    df = dk.load_demo().head(800)  # small: the point is agreement, not scale
    drivers = [c for c in ("website_ease", "product_range", "price_value", "checkout_speed",
                           "delivery_accuracy", "support_quality") if c in df.columns]
    return df, drivers


def test_one_condition_number_for_model_and_importance(demo):
    df, drivers = demo
    m = dk.fit(df, "satisfaction", drivers, weights="weight")
    imp = dk.importance(df, "satisfaction", drivers, weights="weight")
    assert imp.diagnostics["condition_number"] == pytest.approx(m.condition_number, rel=1e-10)
    assert imp.meta["condition_number"] == pytest.approx(m.meta["condition_number"], rel=1e-10)
    # Belsley: singular values of [1, X] (rows √w-weighted) with unit-length columns
    used = df[[*drivers, "satisfaction", "weight"]].dropna()
    Z = sm.add_constant(used[drivers].to_numpy(float)) * np.sqrt(
        used["weight"].to_numpy() / used["weight"].mean())[:, None]
    s = np.linalg.svd(Z / np.linalg.norm(Z, axis=0), compute_uv=False)
    assert m.condition_number == pytest.approx(s[0] / s[-1], rel=1e-10)
    np.testing.assert_allclose(imp.diagnostics["vif"].to_numpy(), m.vif.to_numpy(), rtol=1e-10)


def test_condition_number_from_sufficient_statistics_is_the_same(demo):
    df, drivers = demo
    used = df[[*drivers, "satisfaction"]].dropna()
    st = dk.sufficient_stats(used, [*drivers, "satisfaction"])
    a = dk.importance(st, "satisfaction", drivers).diagnostics["condition_number"]
    b = dk.importance(used, "satisfaction", drivers).diagnostics["condition_number"]
    assert a == pytest.approx(b, rel=1e-9)
    corr = used.corr()
    assert np.isnan(dk.importance(corr=corr, outcome="satisfaction",
                                  drivers=drivers).diagnostics["condition_number"])


def test_meta_keys_are_snake_case_and_old_keys_warn(demo):
    df, drivers = demo
    m = dk.fit(df, "satisfaction", drivers)
    imp = dk.importance(df, "satisfaction", drivers, bootstrap=20, seed=1, progress=False)
    glm = dk.importance(df, "repurchase", drivers[:3], kind="logit")
    for meta in (m.meta, imp.meta, glm.meta):
        for key in meta:
            assert key == key.lower().replace(" ", "_"), key
    assert imp.meta["r2"] == pytest.approx(imp.r2) and glm.meta["fit_index"] == "mcfadden"
    with pytest.warns(DeprecationWarning, match="meta\\['condition_number'\\]"):
        assert m.meta["condition number"] == m.meta["condition_number"]
    with pytest.warns(DeprecationWarning):
        assert imp.meta["R²"] == imp.meta["r2"]
    with pytest.warns(DeprecationWarning):
        assert glm.meta["pseudo-R² (mcfadden)"] == glm.meta["pseudo_r2"]
    # rendered with labels
    assert "condition number:" in m.summary() and "R²:" in imp.summary()
    assert "condition_number" not in m.summary()


def test_frame_results_keep_dataframe_access():
    ini = {"A": {"cost": 40, "delta_revenue": 120}, "B": {"cost": 25, "delta_revenue": 60}}
    fr = dk.frontier(ini, [0, 30, 70])
    assert isinstance(fr, dk.optimize.FrontierResult) and isinstance(fr.table, pd.DataFrame)
    assert len(fr) == 3 and list(fr.columns[:2]) == ["budget", "chosen"]
    assert fr["value"].tolist() == fr.table["value"].tolist()
    assert fr.iloc[-1]["value"] == 180 and fr.loc[0, "budget"] == 0
    pd.testing.assert_frame_equal(fr.to_frame(), fr.table)
    with pytest.warns(DeprecationWarning, match="result.table.sort_values"):
        fr.sort_values("budget")
    with pytest.raises(AttributeError):
        fr.no_such_attribute
    assert "Efficient frontier" in fr.summary() and "<table>" in fr._repr_html_()


def test_one_kind_list():
    assert KINDS == ("linear", "logit", "probit", "ordinal")
    with pytest.raises(DriverkitError, match="must be one of"):
        check_kind("poisson", "f")
    with pytest.raises(DriverkitError, match="not supported by f\\(\\); use kind='logit'"):
        check_kind("probit", "f", ("linear", "logit"))


def test_old_argument_names_still_work_with_a_deprecation_warning(demo):
    df, drivers = demo
    new = dk.importance(df, "satisfaction", drivers[:3], covariates=[drivers[3]])
    with pytest.warns(DeprecationWarning, match="use covariates="):
        old = dk.importance(df, "satisfaction", drivers[:3], always=[drivers[3]])
    pd.testing.assert_frame_equal(old.table, new.table)
    with pytest.raises(dk.DriverkitTypeError, match="both covariates= and its old name"):
        dk.importance(df, "satisfaction", drivers[:3], covariates=["x"], always=["y"])
    from driverkit._validation import renamed

    with pytest.warns(DeprecationWarning, match=r"frontier\(sim=...\) is deprecated"):
        assert renamed(None, "S", "simulator", "sim", "frontier") == "S"
    assert renamed("S", None, "simulator", "sim", "frontier") == "S"
