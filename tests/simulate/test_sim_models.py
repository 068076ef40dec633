"""Model kinds and plug-ins: ordinal targets, linear, formulas, chain and banded models."""

from __future__ import annotations

import numpy as np
import pytest

import driverkit as dk

UP = dk.Scenario("staff +1", {"staff": dk.shift(1)})
SCALES = dict.fromkeys(["staff", "speed", "price"], (1, 10))


def _moved(df, d="staff", k=1.0):
    return df.assign(**{d: np.minimum(df[d] + k, 10)})


@pytest.fixture(scope="module")
def ordinal(survey):
    return dk.fit(survey, "ltr", list(SCALES), kind="ordinal", scales=SCALES)


@pytest.mark.parametrize("target, fn", [
    (None, lambda P: P[:, -1]),
    ("top", lambda P: P[:, -1]),
    ("top2", lambda P: P[:, -2:].sum(1)),
    ("bottom", lambda P: P[:, 0]),
    ("expected", lambda P: P @ np.arange(P.shape[1])),
    ([0, 1], lambda P: P[:, :2].sum(1)),
    (lambda P: P[..., 3] - P[..., 0], lambda P: P[:, 3] - P[:, 0]),
])
def test_ordinal_targets(ordinal, survey, target, fn):
    sim = dk.Simulator(ordinal, survey, target=target)
    want = np.mean(fn(ordinal.predict(_moved(survey))) - fn(ordinal.predict(survey)))
    # the expected score is a mean in scale points (a score), every other target a rate
    obj, col = ("mean", "delta_mean") if target == "expected" else ("rate", "delta_rate")
    assert sim.value(UP, obj) == pytest.approx(want, rel=1e-10, abs=1e-14)
    t = sim.run(UP, draws=200, seed=0).table.iloc[0]
    assert t[f"{col}_low"] <= t[col] <= t[f"{col}_high"]
    d0 = sim.run(UP, draws=0).table.iloc[0]
    assert d0[f"{col}_low"] < d0[col]


def test_ordinal_target_label_and_bad_target(ordinal, survey):
    res = dk.Simulator(ordinal, survey, target="top2").run(UP, draws=0)
    assert "top 2" in res.meta["rate"]
    with pytest.raises(dk.DriverkitError, match="'target' parameter"):
        dk.Simulator(ordinal, survey, target="top9")
    with pytest.raises(dk.DriverkitError, match="not an outcome level"):
        dk.Simulator(ordinal, survey, target=[7])
    logit = dk.fit(survey, "buy", list(SCALES), kind="logit", scales=SCALES)
    with pytest.raises(dk.DriverkitError, match="applies only to ordinal"):
        dk.Simulator(logit, survey, target="top")


def test_nps_target_from_the_cx_module(survey):
    from driverkit.cx import nps_model, nps_target

    df = survey.assign(rec=np.clip(np.round(survey["staff"] * 0.6 + survey["speed"] * 0.3
                                            + np.random.default_rng(1).normal(0, 1.5,
                                                                             len(survey))),
                                   0, 10).astype(int))
    m = nps_model(df, "rec", list(SCALES))
    sim = dk.Simulator(m, df, target=nps_target(m))
    P0, P1 = m.predict(df), m.predict(_moved(df))
    lv = [int(v) for v in m.outcome_levels]
    score = np.array([1.0 if v >= 9 else -1.0 if v <= 6 else 0.0 for v in lv])
    assert sim.value(UP, "rate") == pytest.approx(np.mean(P1 @ score - P0 @ score), rel=1e-10)


def test_linear_model_rate_is_the_mean_prediction(survey):
    m = dk.fit(survey, "buy", list(SCALES), kind="linear", scales=SCALES)
    sim = dk.Simulator(m, survey)
    assert sim.value(UP, "rate") == pytest.approx(np.mean(m.predict(_moved(survey))
                                                          - m.predict(survey)), rel=1e-12)
    t = sim.run(UP, draws=0).table.iloc[0]
    se = m.table.loc["staff", "std_error"] * np.mean(np.minimum(survey.staff + 1, 10)
                                                     - survey.staff)
    assert t["delta_rate_high"] - t["delta_rate"] == pytest.approx(1.959964 * se, rel=1e-5)


@pytest.mark.filterwarnings("ignore::driverkit.CollinearityWarning")
def test_formula_terms_moved_through_the_design(survey):
    m = dk.fit(survey, "buy ~ staff + speed + staff:speed + I(price**2)", kind="logit",
               scales={"staff": (1, 10), "speed": (1, 10)})
    sim = dk.Simulator(m, survey)
    assert sim._simple == {"staff": False, "speed": False}
    want = np.mean(m.predict(_moved(survey)) - m.predict(survey))
    assert sim.value(UP, "rate") == pytest.approx(want, rel=1e-10)
    t = sim.run(UP, draws=100, seed=0).table.iloc[0]
    assert t["delta_rate_low"] < want < t["delta_rate_high"]


def test_chain_model_flows_through_the_mediator(survey):
    from driverkit.cx import chain

    df = survey.assign(sat=np.clip(np.round(0.5 * survey["staff"] + 0.3 * survey["speed"]
                                            + np.random.default_rng(2).normal(0, 1, len(survey))
                                            ), 1, 10))
    res = chain(df, "buy", list(SCALES), mediator="sat", kind="logit")
    sim = res.simulator()
    assert not sim.kernel.fast  # the generic path through predict_design
    got = sim.value(UP, "rate")
    assert got == pytest.approx(np.mean(res.model.predict(_moved(df)) - res.model.predict(df)),
                                rel=1e-10)
    t = sim.run(UP, draws=200, seed=0).table.iloc[0]
    assert t["delta_rate_low"] < got < t["delta_rate_high"]


def test_banded_model_responds_asymmetrically(survey):
    from driverkit.cx import penalty_reward

    res = penalty_reward(survey, "buy", list(SCALES), bands=(5, 8), kind="logit")
    sim = res.simulator(survey)
    got = sim.value(UP, "rate")
    assert got == pytest.approx(np.mean(res.model.predict(_moved(survey))
                                        - res.model.predict(survey)), rel=1e-10)
    t = sim.run([UP, dk.Scenario("cut", {"staff": dk.shift(-1)})], draws=100, seed=0).table
    assert t["delta_rate_low"].iloc[0] <= got <= t["delta_rate_high"].iloc[0]
