"""The survey generator and the shipped demo (issue 3, item 4).

Truth recovery is checked against statsmodels fits on n = 50,000 respondents of the
configurations that are exactly the fitted model family (|z| < 4 for every parameter).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import warnings
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import special
from statsmodels.miscmodels.ordinal_model import OrderedModel

import driverkit as dk
from driverkit.data import true_effect
from driverkit.data._demo import CSV_NAME, DEMO_OPTIONS, JSON_NAME, write_demo
from driverkit.exceptions import DriverkitError, DriverkitTypeError

BIG = 50_000
Z = 4.0


@pytest.fixture(scope="module")
def demo() -> pd.DataFrame:
    return dk.load_demo()


def _shipped(name: str) -> bytes:
    return (resources.files("driverkit.data") / name).read_bytes()


# ----------------------------------------------------------------------------- determinism

def test_same_seed_gives_identical_frame_and_truth():
    a = dk.make_survey(n=400, seed=5)
    b = dk.make_survey(n=400, seed=5)
    pd.testing.assert_frame_equal(a, b)
    assert a.attrs["truth"] == b.attrs["truth"]
    c = dk.make_survey(n=400, seed=6)
    assert not a["price_value"].equals(c["price_value"])
    # parameters depend on the options only, never on the seed or n
    assert c.attrs["truth"]["equations"] == a.attrs["truth"]["equations"]


def test_an_option_does_not_disturb_other_columns():
    base = dk.make_survey(n=500, seed=3)
    more = dk.make_survey(n=500, seed=3, stated=True, missing=0.05)
    for col in base.columns:
        if col in base.attrs["truth"]["missing"] or col in more.attrs["truth"]["missing"]:
            observed = more[col].notna()
            pd.testing.assert_series_equal(base.loc[observed, col].astype(float),
                                           more.loc[observed, col].astype(float))
        else:
            pd.testing.assert_series_equal(base[col], more[col])
    assert [c for c in more.columns if c not in base.columns] == [
        f"imp_{d}" for d in base.attrs["truth"]["drivers"]]


def test_shipped_demo_is_byte_identical_to_regeneration(tmp_path):
    p_csv, p_json = write_demo(tmp_path)
    assert p_csv.read_bytes() == _shipped(CSV_NAME)
    assert p_json.read_bytes() == _shipped(JSON_NAME)


def test_regeneration_script_check_passes():
    script = Path(__file__).resolve().parents[2] / "scripts" / "make_demo.py"
    if not script.exists():
        pytest.skip("scripts/ is not part of this checkout")
    out = subprocess.run([sys.executable, str(script), "--check"], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.count("identical") == 2


def test_load_demo_equals_the_generator(demo):
    gen = dk.make_survey(**DEMO_OPTIONS)
    pd.testing.assert_frame_equal(demo, gen)
    assert demo.attrs["truth"] == gen.attrs["truth"]
    meta = json.loads(_shipped(JSON_NAME))
    text = demo.to_csv(index=False, lineterminator="\n").encode()
    assert meta["csv_sha256"] == hashlib.sha256(text).hexdigest()


def test_load_demo_returns_a_fresh_copy_each_call():
    a = dk.load_demo()
    a.loc[0, "price_value"] = 99
    a.attrs["truth"]["coef"]["price_value"] = 123.0
    a.attrs["truth"]["drivers"].append("junk")
    b = dk.load_demo()
    assert b.loc[0, "price_value"] != 99
    assert b.attrs["truth"]["coef"]["price_value"] != 123.0
    assert "junk" not in b.attrs["truth"]["drivers"]


def test_make_survey_truth_is_independent_between_calls():
    a = dk.make_survey(n=50, seed=1)
    a.attrs["truth"]["segments"]["rating_shift"]["Premium"]["price_value"] = 9.0
    a.attrs["truth"]["equations"]["repurchase"]["coef"]["price_value"] = 9.0
    b = dk.make_survey(n=50, seed=1)
    assert b.attrs["truth"]["segments"]["rating_shift"]["Premium"]["price_value"] == 0.35
    assert b.attrs["truth"]["equations"]["repurchase"]["coef"]["price_value"] != 9.0


def test_truth_is_json_serialisable():
    for kw in ({}, {"kind": "ordinal", "stated": True, "waves": 3},
               {"segment_slopes": {"Business": {"phone_support": 0.2}}, "missing": 0.02}):
        t = dk.make_survey(n=50, **kw).attrs["truth"]
        assert json.loads(json.dumps(t)) == t


# ----------------------------------------------------------------------------- the demo

def test_demo_columns_dtypes_and_ranges(demo):
    t = demo.attrs["truth"]
    drivers = t["drivers"]
    assert 10 <= len(drivers) <= 14
    assert {"phone_support", "checkout_speed"} <= set(drivers)
    assert list(demo.columns[:4]) == ["customer_id", "segment", "wave", "weight"]
    assert {"brand_connection", "satisfaction", "recommend", "repurchase", "revenue"} <= set(
        demo.columns)
    assert len(demo) == 2500 and demo["customer_id"].is_unique
    assert pd.api.types.is_string_dtype(demo["segment"])
    assert sorted(demo["segment"].unique()) == sorted(t["segments"]["names"])
    assert 3 <= demo["segment"].nunique() <= 4
    assert set(demo["wave"]) == {1, 2}
    for col in [*drivers, "brand_connection", "satisfaction"]:
        x = demo[col].dropna()
        assert pd.api.types.is_numeric_dtype(demo[col])
        assert ((x >= 1) & (x <= 10) & (x == np.round(x))).all(), col
        assert demo[col].dtype == (np.float64 if demo[col].isna().any() else np.int64)
    assert set(demo["recommend"]) <= set(range(11)) and demo["recommend"].dtype == np.int64
    assert set(demo["repurchase"]) == {0, 1}
    assert (demo["revenue"] > 0).all() and demo["revenue"].skew() > 1
    assert (demo["weight"] > 0).all() and demo["weight"].mean() == pytest.approx(1, abs=1e-3)
    for d in drivers:
        imp = demo[f"imp_{d}"]
        assert imp.between(1, 5).all() and imp.dtype == np.int64
    # stages partition the drivers, in column order
    assert [d for s in ("before", "during", "after") for d in t["stages"][s]] == drivers
    assert list(demo.columns[4:4 + len(drivers)]) == drivers
    kano = {t["kano"][d]["class"] for d in drivers}
    assert kano == {"basic", "performance", "excitement"}
    assert t["scales"]["recommend"] == [0, 10] and t["scales"]["price_value"] == [1, 10]


def test_demo_missing_answers_are_few_and_only_in_some_attributes(demo):
    t = demo.attrs["truth"]
    share = demo.isna().mean()
    with_missing = share[share > 0]
    assert set(with_missing.index) == set(t["missing"]) and set(t["missing"]) <= set(t["drivers"])
    assert 2 <= len(with_missing) < len(t["drivers"])
    assert ((with_missing > 0.005) & (with_missing < 0.04)).all()
    assert share[t["drivers"]].mean() < 0.03          # a few missing answers overall
    outcomes = ["satisfaction", "recommend", "repurchase", "revenue", "segment", "wave", "weight"]
    assert demo[outcomes].notna().all().all()


def test_demo_is_realistic(demo):
    t = demo.attrs["truth"]
    x = demo[t["drivers"]]
    r = x.corr().to_numpy()[np.triu_indices(x.shape[1], 1)]
    assert r.min() > 0.25 and r.max() < 0.65 and 0.3 < r.mean() < 0.6
    assert x.mean().between(6.3, 8.3).all()
    top2 = (x >= 9).mean()
    assert top2.between(0.1, 0.55).all()
    assert (x.skew() < 0).all()                       # piled up towards the top of the scale
    rec = demo["recommend"]
    nps = 100 * ((rec >= 9).mean() - (rec <= 6).mean())
    assert 0 < nps < 50
    assert 0.6 < demo["repurchase"].mean() < 0.8
    assert 6.5 < demo["satisfaction"].mean() < 8.5
    med = demo.groupby("segment")["revenue"].median()
    assert med["Business"] > med["Premium"] > med["Mainstream"] > med["Value"]
    # satisfaction is driven by the attributes
    assert (x.corrwith(demo["satisfaction"]) > 0.3).all()


# ----------------------------------------------------------------------------- truth recovery

def _zscores(est: pd.Series, se: pd.Series, params: dict[str, float]) -> pd.Series:
    names = [k for k in params if k in est.index]
    assert len(names) >= len(params) - 10   # cut points are checked separately for ordinal
    return pd.Series({k: (est[k] - params[k]) / se[k] for k in names})


@pytest.mark.parametrize("kind,chain", [
    ("logit", False), ("logit", True), ("probit", False), ("linear", True),
    pytest.param("ordinal", True, marks=pytest.mark.slow),   # ~10 s: numerical gradients
])
def test_truth_recovery_against_statsmodels(kind, chain):
    df = dk.make_survey(n=BIG, n_drivers=6, kind=kind, seed=101, asymmetric=False, chain=chain)
    t = df.attrs["truth"]
    rec = t["recover"]
    assert rec["exact"] and rec["outcome"] == t["outcome"]
    X = df[rec["drivers"]].astype(float)
    y = df[rec["outcome"]]
    if kind == "ordinal":
        res = OrderedModel(y, X, distr="logit").fit(method="bfgs", disp=False, maxiter=5000)
        k = X.shape[1]
        z = _zscores(res.params.iloc[:k], res.bse.iloc[:k], rec["params"])
        # thresholds: delta method from statsmodels' (first, log increments) parametrisation
        raw = res.params.to_numpy()[k:]
        cov = res.cov_params().to_numpy()[k:, k:]
        cuts = np.cumsum(np.r_[raw[0], np.exp(raw[1:])])
        J = np.tril(np.ones((raw.size, raw.size))) * np.r_[1.0, np.exp(raw[1:])]
        se = np.sqrt(np.diag(J @ cov @ J.T))
        zc = (cuts - np.array(t["cuts"])) / se
        assert np.abs(zc).max() < Z, zc
    else:
        Xc = sm.add_constant(X).rename(columns={"const": "Intercept"})
        model = {"logit": sm.Logit, "probit": sm.Probit, "linear": sm.OLS}[kind](y, Xc)
        res = model.fit() if kind == "linear" else model.fit(disp=0)
        z = _zscores(res.params, res.bse, rec["params"])
        assert set(z.index) == set(rec["params"])
        if kind != "ordinal":
            assert rec["params"]["Intercept"] == t["intercept"]
    assert (z.abs() < Z).all(), z.round(2).to_dict()
    for d in t["drivers"]:
        assert rec["params"][d] == t["coef"][d]
    if kind == "linear":
        assert np.sqrt(res.scale) == pytest.approx(t["equations"]["satisfaction"]["sigma"],
                                                   rel=0.02)


def test_dk_fit_recovers_coef_and_intercept_without_chain_or_asymmetry():
    """The documented recipe: dk.fit(df, "repurchase", drivers, kind="logit")."""
    df = dk.make_survey(n=BIG, seed=7, asymmetric=False, chain=False)
    t = df.attrs["truth"]
    m = dk.fit(df, "repurchase", t["drivers"], kind="logit")
    tab = m.table
    truth = pd.Series({"Intercept": t["intercept"], **t["coef"]})
    z = (tab["estimate"] - truth) / tab["std_error"]
    assert (z.abs() < Z).all(), z.round(2).to_dict()
    # weights depend on the segment only, so the weighted fit is consistent too
    mw = dk.fit(df, "repurchase", t["drivers"], kind="logit", weights="weight")
    zw = (mw.table["estimate"] - truth) / mw.table["std_error"]
    assert (zw.abs() < Z).all(), zw.round(2).to_dict()


def test_penalty_and_reward_recovery_against_statsmodels():
    """asymmetric=True: the band-dummy logit is exactly the generating model of repurchase."""
    df = dk.make_survey(n=BIG, seed=8, asymmetric=True, chain=False)
    t = df.attrs["truth"]
    a, b = t["bands"]
    cols = {}
    for d in t["drivers"]:
        cols[f"low_{d}"] = (df[d] <= a).astype(float)
        cols[f"high_{d}"] = (df[d] > b).astype(float)
    X = sm.add_constant(pd.DataFrame(cols))
    res = sm.Logit(df["repurchase"], X).fit(disp=0)
    eq = t["equations"]["repurchase"]
    for d in t["drivers"]:
        for band, key in (("low", "penalty"), ("high", "reward")):
            zval = (res.params[f"{band}_{d}"] - eq[key][d]) / res.bse[f"{band}_{d}"]
            assert abs(zval) < Z, (d, key, zval)
        assert t["kano"][d]["penalty"] == eq["penalty"][d]
        cls = t["kano"][d]["class"]
        pen, rew = eq["penalty"][d], eq["reward"][d]
        assert pen <= 0 <= rew
        if cls == "basic":
            assert -pen > rew
        elif cls == "excitement":
            assert rew > -pen
        else:
            assert rew == pytest.approx(-pen)


def test_chain_totals_equal_the_no_chain_coefficients():
    on = dk.make_survey(n=50, seed=1, asymmetric=False, chain=True).attrs["truth"]
    off = dk.make_survey(n=50, seed=1, asymmetric=False, chain=False).attrs["truth"]
    ch = on["chain"]
    for d in on["drivers"]:
        assert ch["total"][d] == pytest.approx(ch["direct"][d] + ch["b"] * ch["a"][d], abs=1e-6)
        assert off["coef"][d] == pytest.approx(ch["total"][d], abs=2e-6)
    assert {d for d in on["drivers"] if ch["direct"][d] > 0} < set(on["drivers"])
    assert ch["b"] > 0 and off["chain"]["b"] == 0


def test_known_wave_change_and_stated_means():
    df = dk.make_survey(n=BIG, seed=9, stated=True)
    t = df.attrs["truth"]
    change = t["waves"]["expected_mean_change"]["2"]
    assert change["delivery_speed"] < 0 < change["returns_process"]
    for d, delta in change.items():
        g = df.groupby("wave")[d]
        m, v, n = g.mean(), g.var(), g.size()
        se = np.sqrt(v[1] / n[1] + v[2] / n[2])
        assert abs(m[2] - m[1] - delta) < Z * se, d
    for d, s in t["stated"].items():
        col = df[s["column"]]
        assert abs(col.mean() - s["expected_mean"]) < Z * col.std() / np.sqrt(len(col)), d
    # stated importance disagrees with derived importance somewhere (the experience gap)
    stated_rank = pd.Series({d: s["latent_mean"] for d, s in t["stated"].items()}).rank()
    derived_rank = pd.Series(t["equations"]["satisfaction"]["coef"]).rank()
    assert not stated_rank.equals(derived_rank)


def test_null_segments_are_identical():
    df = dk.make_survey(n=20_000, seed=10, segment_effects=False)
    t = df.attrs["truth"]
    assert t["segments"]["null"] and t["segments"]["rating_shift"] == {}
    assert len(set(t["segments"]["revenue_median"].values())) == 1
    for d in t["drivers"][:4]:
        g = df.groupby("segment")[d]
        m, v, n = g.mean(), g.var(), g.size()
        se = np.sqrt(v["Business"] / n["Business"] + v["Mainstream"] / n["Mainstream"])
        assert abs(m["Business"] - m["Mainstream"]) < Z * se
    real = dk.make_survey(n=20_000, seed=10).groupby("segment")["price_value"].mean()
    assert real["Premium"] - real["Mainstream"] > 0.2


# ----------------------------------------------------------------------------- true effects

def test_true_effect_by_hand_for_the_plain_logit():
    df = dk.make_survey(n=3000, seed=4, asymmetric=False, chain=False)
    t = df.attrs["truth"]
    X = df[t["drivers"]].to_numpy(float)
    beta = np.array([t["coef"][d] for d in t["drivers"]])
    j = t["drivers"].index("checkout_speed")
    X1 = X.copy()
    X1[:, j] = np.clip(X1[:, j] + 2, 1, 10)
    w = df["weight"].to_numpy()
    want = np.average(special.expit(t["intercept"] + X1 @ beta)
                      - special.expit(t["intercept"] + X @ beta), weights=w)
    got = true_effect(df, {"checkout_speed": 2}, weights="weight")
    assert got == pytest.approx(want, rel=1e-12)
    assert true_effect(df, {"checkout_speed": lambda x: np.minimum(x + 2, 10)},
                       weights=w) == pytest.approx(want, rel=1e-12)
    assert true_effect(df, {"checkout_speed": 0}) == 0.0


@pytest.mark.parametrize("kw", [
    {}, {"kind": "linear"},
    {"kind": "probit", "waves": 3, "wave_slopes": {3: {"price_value": 0.1}}},
])
def test_expected_outcomes_match_the_data(kw):
    """The exact expectations behind true_effect average to the observed outcomes."""
    from driverkit.data._survey import _expected

    df = dk.make_survey(n=BIG, seed=12, segment_slopes={"Business": {"phone_support": 0.3}},
                        **kw)
    t = df.attrs["truth"]
    X = {d: df[d].to_numpy(float) for d in t["drivers"]}
    args = (X, df["segment"].to_numpy(str), df["wave"].to_numpy(),
            df["brand_connection"].to_numpy(float))
    rec = df["recommend"]
    observed = {"repurchase": df["repurchase"], "satisfaction": df["satisfaction"],
                "recommend": rec, "nps": 100.0 * ((rec >= 9).astype(float) - (rec <= 6))}
    for outcome, y in observed.items():
        expected = _expected(t, *args, outcome)
        resid = y.to_numpy(float) - expected
        assert abs(resid.mean()) < Z * resid.std() / np.sqrt(len(resid)), outcome
    assert abs(df["repurchase"].mean() - 0.72) < 0.02


def test_true_effect_asymmetry_and_chain():
    df = dk.make_survey(n=5000, seed=13)
    t = df.attrs["truth"]
    assert t["kano"]["phone_support"]["class"] == "basic"
    cut = true_effect(df, {"phone_support": -1})
    raise_ = true_effect(df, {"phone_support": 1})
    assert cut < 0 < raise_ and -cut > raise_
    exc_cut = true_effect(df, {"staff_friendliness": -1})
    exc_raise = true_effect(df, {"staff_friendliness": 1})
    assert exc_raise > -exc_cut > 0
    # website_ease has no direct path: its whole effect flows through satisfaction
    assert t["chain"]["direct"]["website_ease"] == 0
    assert true_effect(df, {"website_ease": 1}) > 0
    assert true_effect(df, {"website_ease": 1}, outcome="satisfaction") > 0
    assert true_effect(df, {"price_value": 1}, outcome="nps") > 0
    # the population version is close to the sample version
    pop = true_effect(t, {"phone_support": -1}, n=50_000, seed=1)
    assert pop == pytest.approx(cut, rel=0.1)


def test_true_effect_leaves_the_frame_alone_and_skips_missing_rows():
    df = dk.make_survey(n=800, seed=14, missing=0.05)
    before = df.copy()
    eff = true_effect(df, {"phone_support": 1})
    pd.testing.assert_frame_equal(df, before)
    complete = df.dropna()
    complete.attrs = df.attrs
    assert eff == true_effect(complete, {"phone_support": 1})


# ----------------------------------------------------------------------------- options, errors

def test_more_drivers_than_the_pool_and_small_surveys():
    df = dk.make_survey(n=100, n_drivers=30, seed=2)
    d = df.attrs["truth"]["drivers"]
    assert len(d) == len(set(d)) == 30 and "attribute_30" in d
    small = dk.make_survey(n=100, n_drivers=1, seed=2)
    assert small.attrs["truth"]["drivers"] == ["website_ease"]
    assert dk.make_survey(n=20, seed=None).attrs["truth"]["options"]["seed"] >= 0


@pytest.mark.parametrize("kw,err,match", [
    ({"kind": "tobit"}, DriverkitError, "'kind'"),
    ({"n": 5}, DriverkitError, "'n'"),
    ({"n": 100.5}, DriverkitTypeError, "'n'"),
    ({"n_drivers": 0}, DriverkitError, "'n_drivers'"),
    ({"colour": "red"}, DriverkitTypeError, "colour"),
    ({"bands": (8, 6)}, DriverkitError, "'bands'"),
    ({"missing": 0.9}, DriverkitError, "'missing'"),
    ({"halo": 0.95}, DriverkitError, "'halo'"),
    ({"waves": 9}, DriverkitError, "'waves'"),
    ({"kano": {"price_value": "delight"}}, DriverkitError, "kano"),
    ({"kano": {"parking": "basic"}}, DriverkitError, "parking"),
    ({"segment_effects": {"Gold": {"price_value": 1}}}, DriverkitError, "Gold"),
    ({"segment_effects": {"Value": {"parking": 1}}}, DriverkitError, "parking"),
    ({"wave_effects": {5: {"price_value": 1}}}, DriverkitError, "group 5"),
    ({"segment_effects": False, "segment_slopes": {"Value": {"price_value": 0.1}}},
     DriverkitError, "segment_slopes"),
    ({"satisfaction": "stars"}, DriverkitError, "satisfaction"),
    ({"base_rate": 0.99}, DriverkitError, "base_rate"),
])
def test_bad_options_raise_naming_the_parameter(kw, err, match):
    with pytest.raises(err, match=match):
        dk.make_survey(n=kw.pop("n", 50), **kw)


def test_true_effect_bad_input():
    df = dk.make_survey(n=100, seed=1)
    with pytest.raises(DriverkitError, match="parking"):
        true_effect(df, {"parking": 1})
    with pytest.raises(DriverkitError, match="outcome"):
        true_effect(df, {"price_value": 1}, outcome="churn")
    bare = df.copy()
    bare.attrs = {}
    with pytest.raises(DriverkitError, match="truth"):
        true_effect(bare, {"price_value": 1})
    with pytest.raises(DriverkitError, match="weights"):
        true_effect(df, {"price_value": 1}, weights=np.ones(3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        true_effect(df, {"price_value": 1})
