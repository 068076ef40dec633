"""dk.pls: agreement with the mobi ECSI reference, brute force and closed forms."""

from __future__ import annotations

import json
import pathlib
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pls_brute import brute_pls

import driverkit as dk

DATA = pathlib.Path(__file__).resolve().parents[1] / "data" / "pls_mobi"


@pytest.fixture(scope="module")
def mobi():
    ref = json.loads((DATA / "pls_mobi_ecsi.json").read_text())
    df = pd.read_csv(DATA / "mobi.csv")
    return df, ref


@pytest.fixture(scope="module")
def mobi_fit(mobi):
    df, ref = mobi
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dk.MeasurementWarning)
        return dk.pls(df, ref["model"]["constructs"], ref["model"]["paths"], scales=(1, 10))


def _silent(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dk.DriverkitWarning)
        return dk.pls(*args, **kwargs)


def test_mobi_matches_seminr_to_1e6(mobi, mobi_fit):
    _, ref = mobi
    m = mobi_fit
    assert m.converged and m.iterations == 6
    for r in ref["path_coefficients"]:
        assert m.paths.loc[(r["from"], r["to"]), "estimate"] == pytest.approx(r["value"], abs=1e-6)
    for k, v in ref["r2"].items():
        assert m.r2[k] == pytest.approx(v, abs=1e-6)
    for k, v in ref["adj_r2"].items():
        assert m.adj_r2[k] == pytest.approx(v, abs=1e-6)
    te = m.total_effects
    for r in ref["total_effects"]:
        assert te.loc[(r["from"], r["to"]), "estimate"] == pytest.approx(r["value"], abs=1e-6)
    assert len(te) == len(ref["total_effects"])
    for r in ref["outer_weights"]:
        assert m.outer.loc[(r["construct"], r["item"]), "weight"] == pytest.approx(r["value"],
                                                                                   abs=1e-6)
    for r in ref["outer_loadings"]:
        assert m.outer.loc[(r["construct"], r["item"]), "loading"] == pytest.approx(
            r["value"], abs=1e-6)


def test_mobi_paths_list_and_dict_agree(mobi, mobi_fit):
    df, ref = mobi
    d: dict[str, list[str]] = {}
    for s, t in ref["model"]["paths"]:
        d.setdefault(t, []).append(s)
    m2 = _silent(df, ref["model"]["constructs"], d, scales=(1, 10))
    a = mobi_fit.paths["estimate"]
    assert np.allclose(m2.paths["estimate"].reindex(a.index), a, atol=1e-12)


def test_mobi_total_effects_decompose(mobi_fit):
    te = mobi_fit.total_effects
    assert np.allclose(te["direct"] + te["indirect"], te["estimate"])
    assert te.loc[("Image", "Quality"), "direct"] == 0.0


def test_quality_measures_by_hand(mobi, mobi_fit):
    df, ref = mobi
    m = mobi_fit
    items = ref["model"]["constructs"]["Quality"]
    R = df[items].corr().to_numpy()
    k = len(items)
    alpha = k / (k - 1) * (1 - k / R.sum())
    lam = m.outer.loc["Quality", "loading"].to_numpy()
    rel = m.reliability.loc["Quality"]
    assert rel["alpha"] == pytest.approx(alpha, rel=1e-10)
    assert rel["ave"] == pytest.approx(np.mean(lam**2), rel=1e-10)
    assert rel["rho_c"] == pytest.approx(lam.sum() ** 2 / (lam.sum() ** 2 + (1 - lam**2).sum()))
    # HTMT of Value and Satisfaction from the raw correlation matrix
    v, s = ref["model"]["constructs"]["Value"], ref["model"]["constructs"]["Satisfaction"]
    Rall = df[v + s].corr().abs().to_numpy()
    het = Rall[:2, 2:].mean()
    mono_v = Rall[0, 1]
    mono_s = Rall[2:, 2:][np.triu_indices(3, 1)].mean()
    assert m.htmt.loc["Value", "Satisfaction"] == pytest.approx(het / np.sqrt(mono_v * mono_s))
    fl = m.fornell_larcker
    assert fl.loc["Quality", "Quality"] == pytest.approx(np.sqrt(rel["ave"]))
    sc = m.scores
    r_qv = np.corrcoef(sc["Quality"], sc["Value"])[0, 1]
    assert fl.loc["Quality", "Value"] == pytest.approx(r_qv)
    # f² of Quality -> Satisfaction: R² of the model re-estimated without that path
    sc = m.scores
    rest = [p for p in ref["model"]["paths"] if p != ["Quality", "Satisfaction"]]
    m0 = _silent(df, ref["model"]["constructs"], rest)
    f2 = (m.r2["Satisfaction"] - m0.r2["Satisfaction"]) / (1 - m.r2["Satisfaction"])
    assert m.paths.loc[("Quality", "Satisfaction"), "f2"] == pytest.approx(f2, rel=1e-8)
    # structural VIF = 1 / (1 − R² of the predictor on the others)
    others = np.column_stack([sc[c] for c in ["Image", "Expectation", "Value"]])
    q = sc["Quality"].to_numpy()
    b = np.linalg.lstsq(others, q, rcond=None)[0]
    vif = 1 / (np.sum((q - others @ b) ** 2) / np.sum(q**2))
    assert m.paths.loc[("Quality", "Satisfaction"), "vif"] == pytest.approx(vif, rel=1e-8)


def test_scores_and_indices(mobi, mobi_fit):
    df, _ref = mobi
    m = mobi_fit
    sc = m.scores
    assert np.allclose(sc.mean(), 0, atol=1e-12) and np.allclose(sc.std(ddof=1), 1)
    # the 0–100 index is an affine function of the score with positive slope
    idx = m.index_scores
    for c in m.spec.constructs:
        assert np.corrcoef(idx[c], sc[c])[0, 1] == pytest.approx(1.0, abs=1e-12)
    assert np.allclose(m.index, idx.mean())
    assert ((idx >= -1e-9) & (idx <= 100 + 1e-9)).all().all()
    # ACSI weights: w/s normalised; the single-item construct's index is its rescaled item
    assert np.allclose(idx["Complaints"], (df["CUSCO"] - 1) / 9 * 100)
    w = m.outer.loc["Value", "weight"].to_numpy()
    s = df[["PERV1", "PERV2"]].std().to_numpy()
    wt = (w / s) / (w / s).sum()
    assert np.allclose(m.outer.loc["Value", "index_weight"], wt)
    assert np.allclose(idx["Value"], ((df[["PERV1", "PERV2"]] - 1) / 9 * 100) @ wt)


def test_impact_equals_ols_on_index_scores(mobi_fit):
    m = mobi_fit
    idx = m.index_scores
    spec = m.spec
    # re-estimate every structural equation by OLS on the 0–100 index scores
    c = spec.c
    B = np.zeros((c, c))
    for j, t in enumerate(spec.constructs):
        pr = spec.predecessors(j)
        if pr.size:
            A = np.column_stack([np.ones(len(idx))] + [idx[spec.constructs[i]] for i in pr])
            b = np.linalg.lstsq(A, idx[t], rcond=None)[0]
            B[pr, j] = b[1:]
    T = np.linalg.inv(np.eye(c) - B) - np.eye(c)
    imp = m.impact("Loyalty", points=5).table
    for d in imp.index:
        te = T[spec.index_of(d), spec.index_of("Loyalty")]
        assert imp.loc[d, "impact"] == pytest.approx(5 * te, rel=1e-9)
    ip = m.ipma("Loyalty").table
    assert np.allclose(ip["importance"] * 5, imp["impact"].reindex(ip.index))
    assert np.allclose(ip["performance"], m.index.reindex(ip.index))
    items = m.ipma("Loyalty", level="item").table
    # item importances of a construct add up to its importance (normalised weights sum to 1)
    sums = items["importance"].groupby(level="construct").sum()
    assert np.allclose(sums.reindex(ip.index), ip["importance"])
    assert ((items["performance"] >= 0) & (items["performance"] <= 100)).all()


def _tiny(n=200, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    b = 0.6 * a + 0.8 * rng.normal(size=n)
    c = 0.5 * b + 0.3 * a + 0.7 * rng.normal(size=n)
    df = pd.DataFrame({
        "a1": a + rng.normal(0, 0.7, n), "a2": a + rng.normal(0, 0.9, n),
        "a3": 0.5 * a + rng.normal(0, 1, n),
        "b1": b + rng.normal(0, 0.6, n), "b2": b + rng.normal(0, 0.8, n),
        "c1": c + rng.normal(0, 0.5, n), "c2": c + rng.normal(0, 0.9, n),
    })
    cons = {"A": ["a1", "a2", "a3"], "B": ["b1", "b2"], "C": ["c1", "c2"]}
    paths = [("A", "B"), ("A", "C"), ("B", "C")]
    return df, cons, paths


@pytest.mark.parametrize("scheme", ["path", "centroid", "factorial"])
@pytest.mark.parametrize("modes", [{}, {"A": "B"}, {"A": "B", "C": "B"}])
def test_against_brute_force(scheme, modes):
    df, cons, paths = _tiny()
    w = np.random.default_rng(5).uniform(0.3, 2.0, len(df))
    m = _silent(df, cons, paths, modes=modes, scheme=scheme, weights=w)
    ref = brute_pls({k: df[v].to_numpy() for k, v in cons.items()}, paths, modes, scheme, w)
    for e, v in ref["paths"].items():
        assert m.paths.loc[e, "estimate"] == pytest.approx(v, abs=1e-7)
    for k in cons:
        assert np.allclose(m.outer.loc[k, "weight"], ref["weights"][k], atol=1e-7)
        assert np.allclose(m.outer.loc[k, "loading"], ref["loadings"][k], atol=1e-7)
        assert np.corrcoef(m.scores[k], ref["scores"][k])[0, 1] == pytest.approx(1, abs=1e-9)
    for k, v in ref["r2"].items():
        assert m.r2[k] == pytest.approx(v, abs=1e-7)


def test_two_single_items_is_a_correlation():
    df, _, _ = _tiny()
    m = dk.pls(df, {"X": ["a1"], "Y": ["b1"]}, [("X", "Y")])
    r = np.corrcoef(df["a1"], df["b1"])[0, 1]
    assert m.paths["estimate"].iloc[0] == pytest.approx(r, abs=1e-12)
    assert m.r2["Y"] == pytest.approx(r**2, abs=1e-12)
    assert m.iterations <= 2


def test_single_item_construct_equals_its_item():
    df, cons, paths = _tiny()
    cons = dict(cons, C=["c1"])
    m = _silent(df, cons, paths)
    z = (df["c1"] - df["c1"].mean()) / df["c1"].std()
    assert np.allclose(m.scores["C"], z)
    assert m.outer.loc[("C", "c1"), "weight"] == 1.0
    assert m.outer.loc[("C", "c1"), "loading"] == pytest.approx(1.0)


def test_invariant_to_item_rescaling_and_construct_order():
    df, cons, paths = _tiny()
    m1 = _silent(df, cons, paths)
    df2 = df.assign(a1=3 * df["a1"] + 7, b2=0.1 * df["b2"] - 2)
    m2 = _silent(df2, cons, paths)
    cons_rev = {k: list(reversed(cons[k])) for k in reversed(list(cons))}
    m3 = _silent(df, cons_rev, list(reversed(paths)))
    for m in (m2, m3):
        assert np.allclose(m.paths["estimate"].reindex(m1.paths.index), m1.paths["estimate"],
                           atol=1e-10)
        assert np.allclose(m.outer["weight"].reindex(m1.outer.index), m1.outer["weight"],
                           atol=1e-10)
        assert np.allclose(m.r2.reindex(m1.r2.index), m1.r2, atol=1e-10)


def test_mode_b_with_orthogonal_items_equals_mode_a():
    rng = np.random.default_rng(3)
    n = 120
    Q, _ = np.linalg.qr(rng.normal(size=(n, 3)) - rng.normal(size=(n, 3)).mean(0))
    Q -= Q.mean(axis=0)
    Q, _ = np.linalg.qr(Q)  # centred and exactly orthogonal columns
    y = Q @ [0.5, 0.3, 0.2] * 10 + 0.05 * rng.normal(size=n)
    df = pd.DataFrame({"x1": Q[:, 0], "x2": Q[:, 1], "y": y})
    mA = dk.pls(df, {"X": ["x1", "x2"], "Y": ["y"]}, [("X", "Y")])
    mB = dk.pls(df, {"X": ["x1", "x2"], "Y": ["y"]}, [("X", "Y")], modes={"X": "B"})
    assert np.allclose(mA.outer["weight"], mB.outer["weight"], atol=1e-10)
    # with uncorrelated items the weights are the item correlations with y, normalised
    r = np.array([np.corrcoef(df[c], y)[0, 1] for c in ("x1", "x2")])
    assert np.allclose(mB.outer.loc["X", "weight"], r / np.linalg.norm(r))
    assert mB.paths["estimate"].iloc[0] == pytest.approx(np.linalg.norm(r))


def test_weights_equal_frequency_expansion():
    df, cons, paths = _tiny(80)
    f = np.random.default_rng(2).integers(1, 4, len(df))
    mw = _silent(df, cons, paths, weights=f, scales=(-5, 5))
    me = _silent(df.loc[df.index.repeat(f)].reset_index(drop=True), cons, paths, scales=(-5, 5))
    assert np.allclose(mw.paths["estimate"], me.paths["estimate"], atol=1e-12)
    assert np.allclose(mw.outer["weight"], me.outer["weight"], atol=1e-12)
    assert np.allclose(mw.outer["loading"], me.outer["loading"], atol=1e-12)
    assert np.allclose(mw.index, me.index, atol=1e-10)
    assert np.allclose(mw.reliability, me.reliability, atol=1e-12)


def test_weight_column_by_name_and_no_mutation():
    df, cons, paths = _tiny(60)
    df = df.assign(w=np.linspace(0.5, 2, len(df)))
    before = df.copy()
    m1 = _silent(df, cons, paths, weights="w", bootstrap=20, seed=0)
    m2 = _silent(df, cons, paths, weights=df["w"].to_numpy(), bootstrap=20, seed=0)
    pd.testing.assert_frame_equal(df, before)
    pd.testing.assert_frame_equal(m1.paths, m2.paths)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), scale=st.floats(0.1, 50), shift=st.floats(-100, 100),
       scheme=st.sampled_from(["path", "centroid", "factorial"]))
def test_property_affine_invariance_and_brute_force(seed, scale, shift, scheme):
    df, cons, paths = _tiny(60, seed)
    m = _silent(df, cons, paths, scheme=scheme)
    m2 = _silent(df * scale + shift, cons, paths, scheme=scheme)
    assert np.allclose(m.paths["estimate"], m2.paths["estimate"], atol=1e-8)
    ref = brute_pls({k: df[v].to_numpy() for k, v in cons.items()}, paths, {}, scheme)
    for e, v in ref["paths"].items():
        assert m.paths.loc[e, "estimate"] == pytest.approx(v, abs=1e-6)
    assert (m.r2 >= 0).all() and (m.r2 <= 1).all()


def test_display(mobi_fit):
    m = mobi_fit
    text = m.summary()
    assert "Satisfaction" in text and "Reliability" in text
    assert "<table" in m._repr_html_()
    ax = m.plot()
    assert ax is not None
    ax2 = m.ipma("Loyalty").plot()
    assert ax2.get_xlabel().startswith("Importance")
    import matplotlib.pyplot as plt

    plt.close("all")
    assert list(m.table.columns[:1]) == ["estimate"]
