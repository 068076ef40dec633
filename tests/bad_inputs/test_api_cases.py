"""A corpus of realistic awkward inputs through the public API (issue 13).

Every case must end in one of three ways: a correct answer (checked), a documented warning
(a ``driverkit.exceptions`` warning class) or a clear error (a ``driverkit.exceptions`` error
whose message names the culprit). Never an internal exception (KeyError, IndexError,
LinAlgError, ZeroDivisionError, AttributeError, numpy/pandas internals), a hang, or a change
to the caller's data (each case's inputs are compared with a deep copy afterwards).
"""

from __future__ import annotations

import copy
import signal
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest

import driverkit as dk
from driverkit import exceptions as dkx

DRV = ["website_ease", "product_range", "price_value"]
SC = dict.fromkeys(DRV, (1, 10))
ERRORS = (dkx.DriverkitError, dkx.DriverkitTypeError)


def _survey(n: int = 300, kind: str = "logit", seed: int = 1) -> pd.DataFrame:
    df = dk.make_survey(n=n, n_drivers=3, kind=kind, seed=seed)
    df.attrs = {}
    return df


BASE = _survey()


@dataclass
class Case:
    """``run(data)`` on a fresh copy of ``data``; ``expect`` is "ok", "warn" or "error"."""

    id: str
    run: Callable[[pd.DataFrame], Any]
    expect: str = "ok"
    exc: Any = ERRORS
    match: str | None = None  # the culprit the message must name
    warning: Any = None
    check: Callable[[Any], Any] | None = None
    data: Callable[[], pd.DataFrame] | None = None


def _with(**cols: Any) -> Callable[[], pd.DataFrame]:
    def make() -> pd.DataFrame:
        df = BASE.copy()
        for k, v in cols.items():
            df[k] = v(df) if callable(v) else v
        return df
    return make


def _logit(df: pd.DataFrame, **kw: Any) -> Any:
    return dk.fit(df, "repurchase", DRV, kind="logit", scales=SC, **kw)


def _sim(df: pd.DataFrame, **kw: Any) -> Any:
    return dk.Simulator(_logit(df), df, **kw)


def _score_sim(df: pd.DataFrame, **kw: Any) -> Any:
    return dk.Simulator(dk.fit(df, "satisfaction", DRV, scales=SC), df, **kw)


def _weights_shuffled(df: pd.DataFrame) -> Any:
    w = df["weight"].sample(frac=1.0, random_state=3)  # same labels, another order
    a = dk.importance(df, "satisfaction", DRV, weights=w)
    b = dk.importance(df, "satisfaction", DRV, weights=df["weight"])
    np.testing.assert_allclose(a.table["importance"], b.table["importance"], rtol=1e-10)
    return a


def _nan(df: pd.DataFrame, col: str, rows: int = 5) -> pd.DataFrame:
    out = df.copy()
    out.loc[out.index[:rows], col] = np.nan
    return out


CURVES = {d: dk.saturating(1.0, 1e4) for d in DRV}

CASES = [
    # ---------------------------------------------------------------- fit
    Case("fit: outcome column missing", lambda d: dk.fit(d, "loyalty", DRV),
         "error", match="loyalty"),
    Case("fit: driver typo", lambda d: dk.fit(d, "satisfaction", ["website_eas"]),
         "error", match="website_eas"),
    Case("fit: constant driver", lambda d: dk.fit(d.assign(price_value=5), "satisfaction", DRV),
         "error", match="price_value"),
    Case("fit: all-missing driver", lambda d: dk.fit(d.assign(price_value=np.nan),
                                                     "satisfaction", DRV),
         "error", match="price_value"),
    Case("fit: constant outcome", lambda d: dk.fit(d.assign(satisfaction=7), "satisfaction",
                                                   DRV), "error", match="satisfaction"),
    Case("fit: 'n/a' text among ratings",
         lambda d: dk.fit(d.assign(price_value=d["price_value"].astype(object).where(
             d.index % 50 != 0, "n/a")), "satisfaction", DRV), "error", match="price_value"),
    Case("fit: logit outcome with three values",
         lambda d: dk.fit(d, "recommend", DRV, kind="logit"), "error", match="recommend"),
    Case("fit: positive= not a value", lambda d: dk.fit(
        d.assign(buy=np.where(d["repurchase"] == 1, "Yes", "No")), "buy", DRV, kind="logit",
        positive="yes"), "error", match="yes"),
    Case("fit: yes/no text outcome with positive", lambda d: dk.fit(
        d.assign(buy=np.where(d["repurchase"] == 1, "Yes", "No")), "buy", DRV, kind="logit",
        positive="Yes"), check=lambda m: m.table.loc["price_value", "estimate"] > 0),
    Case("fit: bool outcome", lambda d: dk.fit(d.assign(buy=d["repurchase"] == 1), "buy", DRV,
                                               kind="logit"),
         check=lambda m: np.isfinite(m.table["estimate"]).all()),
    Case("fit: empty frame", lambda d: dk.fit(d.iloc[:0], "satisfaction", DRV), "error"),
    Case("fit: one respondent", lambda d: dk.fit(d.iloc[:1], "satisfaction", DRV), "error"),
    Case("fit: no drivers", lambda d: dk.fit(d, "satisfaction", []), "error"),
    Case("fit: driver listed twice",
         lambda d: dk.fit(d, "satisfaction", ["price_value", "price_value"]), "error",
         match="price_value"),
    Case("fit: outcome also a driver", lambda d: dk.fit(d, "satisfaction",
                                                        [*DRV, "satisfaction"]),
         "error", match="satisfaction"),
    Case("fit: unknown kind", lambda d: dk.fit(d, "satisfaction", DRV, kind="poisson"),
         "error", match="kind"),
    Case("fit: perfectly collinear drivers", lambda d: dk.fit(
        d.assign(twice=2 * d["price_value"]), "satisfaction", [*DRV, "twice"]), "error",
        match="twice"),
    Case("fit: separation in a logit", lambda d: dk.fit(
        d.assign(buy=(d["price_value"] > 5).astype(int)), "buy", DRV, kind="logit"),
         "error", exc=dkx.SeparationError, match="price_value"),
    Case("fit: scale with low > high", lambda d: dk.fit(d, "satisfaction", DRV,
                                                        scales={"price_value": (10, 1)}),
         "error", match="price_value"),
    Case("fit: missing ratings dropped with a warning",
         lambda d: dk.fit(_nan(d, "price_value"), "satisfaction", DRV),
         "warn", warning=dkx.MissingDataWarning),
    Case("fit: negative weights", lambda d: dk.fit(d.assign(weight=-d["weight"]),
                                                   "satisfaction", DRV, weights="weight"),
         "error", match="weight"),
    Case("fit: all-zero weights", lambda d: dk.fit(d.assign(weight=0.0), "satisfaction", DRV,
                                                   weights="weight"), "error", match="weight"),
    Case("fit: formula with an unknown variable",
         lambda d: dk.fit(d, "satisfaction ~ price_value + loyalty"), "error", match="loyalty"),
    Case("fit: inf in a driver", lambda d: dk.fit(
        d.assign(price_value=d["price_value"].astype(float).where(d.index != 3, np.inf)),
        "satisfaction", DRV), "error", match="price_value"),
    # ---------------------------------------------------------------- importance
    Case("importance: unknown method", lambda d: dk.importance(d, "satisfaction", DRV,
                                                               method="shap"),
         "error", match="shap"),
    Case("importance: negative bootstrap", lambda d: dk.importance(d, "satisfaction", DRV,
                                                                   bootstrap=-5),
         "error", match="bootstrap"),
    Case("importance: ci above 1", lambda d: dk.importance(d, "satisfaction", DRV, ci=95),
         "error", match="ci"),
    Case("importance: driver in two groups", lambda d: dk.importance(
        d, "satisfaction", DRV, groups={"A": DRV[:2], "B": DRV[1:]}), "error",
        match="product_range"),
    Case("importance: group with unknown member", lambda d: dk.importance(
        d, "satisfaction", DRV, groups={"A": ["website_ease", "speed"]}), "error",
        match="speed"),
    Case("importance: always also a driver", lambda d: dk.importance(
        d, "satisfaction", DRV, covariates=["price_value"]), "error", match="price_value"),
    Case("importance: correlation matrix not positive definite", lambda d: dk.importance(
        corr=pd.DataFrame([[1, .9, .9, .5], [.9, 1, -.9, .5], [.9, -.9, 1, .5],
                           [.5, .5, .5, 1]], index=[*DRV, "y"], columns=[*DRV, "y"]),
        outcome="y"), "error"),
    Case("importance: correlation matrix without the outcome", lambda d: dk.importance(
        corr=d[DRV].corr(), outcome="satisfaction"), "error", match="satisfaction"),
    Case("importance: one driver is all of R²",
         lambda d: dk.importance(d, "satisfaction", ["price_value"]),
         check=lambda r: np.isclose(r.table["importance"].iloc[0], r.r2)),
    Case("importance: text outcome for a linear decomposition", lambda d: dk.importance(
        d.assign(sat=d["satisfaction"].map(lambda v: f"level {v}")), "sat", DRV), "error",
        match="sat"),
    Case("importance: weights Series in another row order", _weights_shuffled),
    Case("importance: suppressor driver",
         lambda d: dk.importance(d.assign(s=d["website_ease"] + d.index % 3,
                                          y=d["website_ease"] - 0.8 * (d["website_ease"]
                                                                       + d.index % 3)),
                                 "y", ["website_ease", "s"]),
         "warn", warning=dkx.SuppressorWarning),
    # ---------------------------------------------------------------- simulator
    Case("sim: not a model", lambda d: dk.Simulator("model", d), "error", match="str"),
    Case("sim: unknown driver in scenario", lambda d: _sim(d).run({"speed": dk.shift(1)}),
         "error", match="speed"),
    Case("sim: shift wider than the scale", lambda d: _sim(d).run({"price_value":
                                                                    dk.shift(50)}),
         "error", match="price_value"),
    Case("sim: segment column missing", lambda d: _sim(d).run(
        dk.Scenario("s", {"price_value": dk.shift(1)}, segment={"region": "North"})),
         "error", match="region"),
    Case("sim: segment selecting nobody", lambda d: _sim(d).run(
        dk.Scenario("s", {"price_value": dk.shift(1)}, segment={"segment": "Nobody"})),
         "error", match="segment"),
    Case("sim: negative draws", lambda d: _sim(d).run({"price_value": dk.shift(1)},
                                                      draws=-1), "error", match="draws"),
    Case("sim: revenue column with gaps", lambda d: _sim(_nan(d, "revenue"), revenue="revenue"),
         "error", match="revenue"),
    Case("sim: revenue and revenue_per_customer", lambda d: _sim(
        d, revenue="revenue", revenue_per_customer=10), "error", match="revenue"),
    Case("sim: margin above 1", lambda d: _sim(d, revenue_per_customer=10, margin=1.5),
         "error", match="margin"),
    Case("sim: negative customers", lambda d: _sim(d, customers=-100), "error",
         match="customers"),
    Case("sim: new wave on a 0-100 scale", lambda d: dk.Simulator(
        _logit(d), d.assign(**{c: d[c] * 10 for c in DRV})), "error", match="website_ease"),
    Case("sim: new wave rescaled when declared", lambda d: dk.Simulator(
        _logit(d), d.assign(**{c: d[c] * 10 for c in DRV}),
        rescale=dict.fromkeys(DRV, (10, 100))).value({"price_value": dk.shift(1)}, "rate"),
         check=lambda v: np.isclose(v, _sim(BASE).value({"price_value": dk.shift(1)},
                                                         "rate"))),
    Case("sim: data without a driver column", lambda d: dk.Simulator(
        _logit(d), d.drop(columns="price_value")), "error", match="price_value"),
    Case("sim: score outcome with money", lambda d: _score_sim(d, revenue_per_customer=100),
         "error", match="satisfaction"),
    Case("sim: rate objective on a score", lambda d: _score_sim(d).value(
        {"price_value": dk.shift(1)}, "rate"), "error", match="mean"),
    Case("sim: score reports points", lambda d: _score_sim(d).run(
        {"price_value": dk.shift(1)}, draws=0).table,
         check=lambda t: "delta_mean" in t and "delta_customers" not in t),
    Case("sim: top_box share above 1", lambda d: _sim(d).run({"price_value":
                                                               dk.top_box(1.5)}),
         "error", match="1.5"),
    Case("sim: no scenarios", lambda d: _sim(d).run([]), "error"),
    Case("sim: link column not 0/1", lambda d: _score_sim(d, link="revenue"), "error",
         match="revenue"),
    Case("sim: less is better flips money", lambda d: _sim(
        d, revenue_per_customer=10, better="lower").run({"price_value": dk.shift(1)},
                                                        draws=0).table,
         check=lambda t: np.sign(t["delta_revenue"].iloc[0]) == -np.sign(
             t["delta_rate"].iloc[0])),
    # ---------------------------------------------------------------- optimisers
    Case("opt: curve for an unknown driver", lambda d: dk.optimize_budget(
        _sim(d), {"speed": dk.saturating(1, 10)}, 100, objective="rate"), "error",
         match="speed"),
    Case("opt: negative budget", lambda d: dk.optimize_budget(_sim(d), CURVES, -10,
                                                              objective="rate"),
         "error", exc=dkx.InfeasibleError, match="budget"),
    Case("opt: NaN budget", lambda d: dk.optimize_budget(_sim(d), CURVES, float("nan"),
                                                         objective="rate"),
         "error", match="budget"),
    Case("opt: text budget", lambda d: dk.optimize_budget(_sim(d), CURVES, "10000",
                                                          objective="rate"),
         "error", match="budget"),
    Case("opt: bounds min above max", lambda d: dk.optimize_budget(
        _sim(d), CURVES, 100, objective="rate", bounds={"price_value": (50, 10)}), "error",
         exc=dkx.InfeasibleError, match="price_value"),
    Case("opt: profit without money", lambda d: dk.optimize_budget(_sim(d), CURVES, 100),
         "error", match="revenue"),
    Case("opt: bad risk", lambda d: dk.optimize_budget(_sim(d), CURVES, 100, objective="rate",
                                                       risk="var"), "error", match="risk"),
    Case("opt: value is the simulator's", lambda d: dk.optimize_budget(
        _sim(d), CURVES, 2e4, objective="rate"),
         check=lambda a: a.value == _sim(BASE).run(a.scenario, draws=0).table[
             "delta_rate"].iloc[0]),
    Case("portfolio: initiative without cost", lambda d: dk.select_initiatives(
        {"A": {"delta_revenue": 10}}, 100), "error", match="cost"),
    Case("portfolio: exclusive names unknown", lambda d: dk.select_initiatives(
        {"A": {"cost": 1, "delta_revenue": 10}}, 100, exclusive=[["A", "Z"]]), "error",
         match="Z"),
    Case("portfolio: requires unknown", lambda d: dk.select_initiatives(
        {"A": {"cost": 1, "delta_revenue": 10}}, 100, requires={"A": "Q"}), "error",
         match="Q"),
    Case("frontier: no budgets", lambda d: dk.frontier(
        {"A": {"cost": 1, "delta_revenue": 10}}, []), "error"),
    # ---------------------------------------------------------------- cx
    Case("nps: True/False column", lambda d: dk.nps(d.assign(r=d["repurchase"] == 1), "r"),
         "error", match="True/False"),
    Case("nps: 1-5 item with an 11", lambda d: dk.nps(d.assign(r=np.where(
        d.index == 0, 11, d["recommend"])), "r"), "error", match="11"),
    Case("nps: one respondent", lambda d: dk.nps(d.iloc[:1], "recommend"), "warn",
         warning=dkx.SmallSampleWarning),
    Case("nps: weights of the wrong length", lambda d: dk.nps(d, "recommend",
                                                              weights=np.ones(3)),
         "error", match="weights"),
    Case("waves: a single wave", lambda d: dk.compare_waves(d.assign(wave=1), "satisfaction",
                                                            DRV, "wave"),
         "error", match="wave"),
    Case("waves: text labels 'Wave 9' < 'Wave 10'", lambda d: dk.compare_waves(
        d.assign(wave=d["wave"].map({1: "Wave 9", 2: "Wave 10"})), "satisfaction", DRV,
        "wave", bootstrap=50, seed=0), "warn", warning=dkx.WaveOrderWarning,
         check=lambda r: r.meta["baseline"] == "Wave 9"),
    Case("segments: segment column missing", lambda d: dk.compare_segments(
        d, "satisfaction", DRV, "region"), "error", match="region"),
    Case("kano: bands outside the scale", lambda d: dk.penalty_reward(
        d, "satisfaction", DRV, bands=(8, 6)), "error", match="bands"),
    Case("stated: stated column missing", lambda d: dk.stated_vs_derived(
        d, "satisfaction", DRV, {c: f"imp_{c}" for c in DRV}), "error", match="imp_"),
    Case("chain: mediator is the outcome", lambda d: dk.chain(d, DRV, "repurchase",
                                                              "repurchase"), "error",
         match="repurchase"),
    # ---------------------------------------------------------------- statistics
    Case("stats: from_dict with a garbage field", lambda d: dk.SufficientStats.from_dict(
        {**dk.sufficient_stats(d, DRV).to_dict(), "n_obs": "many"}), "error",
         match="n_obs"),
    Case("stats: from_dict missing the means", lambda d: dk.SufficientStats.from_dict(
        {k: v for k, v in dk.sufficient_stats(d, DRV).to_dict().items() if k != "mean"}),
         "error", match="mean"),
    Case("stats: text column", lambda d: dk.sufficient_stats(d, ["segment", *DRV]), "error",
         match="segment"),
    # ---------------------------------------------------------------- data layer
    Case("data: duplicate column names", lambda d: dk.fit(
        pd.concat([d[DRV], d[["price_value", "satisfaction"]]], axis=1), "satisfaction", DRV),
         "error", match="price_value"),
    Case("data: integer column names", lambda d: dk.fit(
        d[[*DRV, "satisfaction"]].set_axis([0, 1, 2, "y"], axis=1), "y", [0, 1, 2]),
         check=lambda m: len(m.table) == 4),
    Case("data: 1e300 in a rating", lambda d: dk.fit(
        d.assign(price_value=d["price_value"].astype(float).where(d.index != 7, 1e300)),
        "satisfaction", DRV), "error", match="price_value"),
    Case("data: don't-know code 99 among ratings", lambda d: dk.fit(
        d.assign(price_value=d["price_value"].where(d.index % 25 != 0, 99)), "satisfaction",
        DRV), "warn", warning=dkx.DriverkitWarning),
]


def _alarm(signum: int, frame: Any) -> None:  # pragma: no cover - only on a hang
    raise TimeoutError("case did not finish within 120 s")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case) -> None:
    data = case.data() if case.data is not None else BASE.copy()
    before = copy.deepcopy(data)
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(120)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if case.expect == "error":
                with pytest.raises(case.exc) as info:
                    case.run(data)
                msg = str(info.value)
                assert msg.strip(), "an error must say what went wrong"
                if case.match is not None:
                    assert case.match.lower() in msg.lower(), msg
                result = None
            else:
                result = case.run(data)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    if case.expect == "warn":
        hits = [w for w in caught if issubclass(w.category, case.warning)]
        assert hits, f"expected {case.warning.__name__}; got {[w.category for w in caught]}"
    if case.check is not None and result is not None:
        assert case.check(result)
    # never a change to the caller's data
    pd.testing.assert_frame_equal(data, before)
    assert data.attrs == before.attrs
