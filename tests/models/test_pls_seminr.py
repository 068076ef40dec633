"""Optional comparison with the seminr Python port (GPL, test-only; skipped when absent).

Mode B (formative) Quality, the quality criteria and seminr's mean replacement with a
missing-value code: none of these is in the published mobi reference.
"""

from __future__ import annotations

import pathlib
import warnings

import numpy as np
import pandas as pd
import pytest

import driverkit as dk

s = pytest.importorskip("seminr")

DATA = pathlib.Path(__file__).resolve().parents[1] / "data" / "pls_mobi"
CONS = {"Image": [f"IMAG{i}" for i in range(1, 6)], "Expectation": ["CUEX1", "CUEX2", "CUEX3"],
        "Quality": [f"PERQ{i}" for i in range(1, 8)], "Value": ["PERV1", "PERV2"],
        "Satisfaction": ["CUSA1", "CUSA2", "CUSA3"], "Complaints": ["CUSCO"],
        "Loyalty": ["CUSL1", "CUSL2", "CUSL3"]}
PATHS = {"Expectation": ["Image"], "Quality": ["Expectation"], "Value": ["Expectation", "Quality"],
         "Satisfaction": ["Image", "Expectation", "Quality", "Value"],
         "Complaints": ["Satisfaction"], "Loyalty": ["Image", "Satisfaction", "Complaints"]}


def _seminr(df, modes, **kw):
    mm = s.constructs(*[
        s.composite(k, v, weights=s.mode_B if modes.get(k) == "B" else s.mode_A)
        for k, v in CONS.items()])
    sm = s.relationships(*[s.paths(from_=src, to=t) for t, srcs in PATHS.items()
                           for src in srcs])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return s.estimate_pls(df, mm, sm, **kw)


def _nm(x, rows, cols):
    r, c = list(x.rows), list(x.cols)
    return np.asarray(x.values)[np.ix_([r.index(i) for i in rows], [c.index(j) for j in cols])]


@pytest.mark.parametrize("modes", [{"Quality": "B", "Image": "B"}])
def test_formative_against_seminr(modes):
    df = pd.read_csv(DATA / "mobi.csv")
    ref = _seminr(df, modes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dk.DriverkitWarning)
        m = dk.pls(df, CONS, PATHS, modes=modes)
    names = m.spec.constructs
    P = _nm(ref.path_coef, names, names)
    for (a, b), v in m.paths["estimate"].items():
        assert v == pytest.approx(P[names.index(a), names.index(b)], abs=1e-6)
    W = _nm(ref.outer_weights, m.spec.item_names, names)
    L = _nm(ref.outer_loadings, m.spec.item_names, names)
    rows = np.arange(m.spec.p)
    assert np.allclose(m.outer["weight"], W[rows, m.spec.block], atol=1e-6)
    assert np.allclose(m.outer["loading"], L[rows, m.spec.block], atol=1e-6)
    summ = s.summarize(ref)
    rel = _nm(summ.reliability, names, ["alpha", "rhoA", "rhoC", "AVE"])
    mine = m.reliability[["alpha", "rho_a", "rho_c", "ave"]].to_numpy()
    assert np.allclose(mine, rel, atol=1e-6)
    H = _nm(summ.validity.htmt, names, names)
    lower = np.tril_indices(len(names), -1)
    assert np.allclose(m.htmt.to_numpy()[lower], H[lower], atol=1e-6)
    F = _nm(summ.f_square, names, names)
    for (a, b), v in m.paths["f2"].items():
        assert v == pytest.approx(F[names.index(a), names.index(b)], abs=1e-6)


def test_mean_replacement_and_missing_code_against_seminr():
    df = pd.read_csv(DATA / "mobi.csv")
    rng = np.random.default_rng(1)
    d2 = df.copy()
    for col in ("PERQ2", "CUSA1", "IMAG3"):
        d2[col] = d2[col].where(rng.random(len(d2)) > 0.08, -99)
    ref = _seminr(d2, {}, missing_value=-99)
    with pytest.warns(dk.MissingDataWarning, match="shrinks variances"), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore", dk.MeasurementWarning)
        m = dk.pls(d2, CONS, PATHS, missing="mean", na_values=[-99])
    names = m.spec.constructs
    P = _nm(ref.path_coef, names, names)
    for (a, b), v in m.paths["estimate"].items():
        assert v == pytest.approx(P[names.index(a), names.index(b)], abs=1e-6)


def test_ipma_standardised_weighting_against_seminrextras():
    se = pytest.importorskip("seminrExtras")
    df = pd.read_csv(DATA / "mobi.csv")
    ref = se.assess_ipma(_seminr(df, {}), "Loyalty", scale_min=1, scale_max=10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dk.DriverkitWarning)
        m = dk.pls(df, CONS, PATHS, scales=(1, 10))
    t = m.ipma("Loyalty", weighting="standardised").table
    for k, v in ref.importance_unstd.items():
        assert t.loc[k, "importance"] == pytest.approx(v, abs=1e-6)
        assert t.loc[k, "performance"] == pytest.approx(ref.performance[k], abs=1e-6)
    # the default (ACSI) differs from it, but only slightly
    acsi = m.ipma("Loyalty").table
    assert not np.allclose(acsi["importance"], t["importance"])
    assert np.allclose(acsi["importance"], t["importance"], atol=0.05)
