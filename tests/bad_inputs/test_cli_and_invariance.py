"""Bad command-line input ends in one line and exit code 2; answers do not depend on row
order, weights' row order or wave labels (hypothesis). Issue 13."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import driverkit as dk
from driverkit.report.cli import cli

DRV = ["website_ease", "product_range", "price_value"]


@pytest.fixture(scope="module")
def survey():
    df = dk.make_survey(n=240, n_drivers=3, kind="logit", seed=2)
    df.attrs = {}
    return df


@pytest.fixture(scope="module")
def csv(survey, tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "survey.csv"
    survey.to_csv(path, index=False)
    return path


def _invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.mark.parametrize("extra, message", [
    (["--budget", "nan"], "--budget must be a finite number"),
    (["--budget", "inf"], "--budget must be a finite number"),
    (["--customers", "nan"], "--customers must be a finite number"),
    (["--drivers", "website_ease,speed"], "speed"),
    (["--positive", "Maybe"], "Maybe"),
])
def test_bad_flags_are_one_line_exit_2(csv, tmp_path, extra, message):
    args = ["analyze", csv, "-y", "repurchase", "-o", tmp_path / "out", "--draws", "10"]
    if "--drivers" not in extra:
        args += ["--drivers", ",".join(DRV)]
    res = _invoke(*args, *extra)
    assert res.exit_code == 2, res.output
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and message in lines[0]


def test_output_below_a_regular_file_is_exit_2(csv, tmp_path):
    blocker = tmp_path / "report.txt"
    blocker.write_text("not a folder")
    res = _invoke("analyze", csv, "-y", "repurchase", "--drivers", ",".join(DRV), "-o",
                  blocker / "out", "--draws", "10")
    assert res.exit_code == 2
    assert "is a file" in res.output and "Traceback" not in res.output
    assert blocker.read_text() == "not a folder"
    res = _invoke("demo", "-o", blocker / "demo")
    assert res.exit_code == 2 and "is a file" in res.output


def test_missing_file_is_exit_2(tmp_path):
    res = _invoke("analyze", tmp_path / "nope.csv", "-y", "y", "--drivers", "a")
    assert res.exit_code == 2 and "Traceback" not in res.output


def test_score_outcome_never_printed_as_a_rate(csv, tmp_path):
    res = _invoke("analyze", csv, "-y", "satisfaction", "--drivers", ",".join(DRV),
                  "--budget", "1000", "--bootstrap", "50", "--draws", "20", "-o",
                  tmp_path / "o")
    assert res.exit_code == 0, res.output
    assert "delta_mean" in res.output and "points" in res.output
    assert "rate" not in res.output.lower().replace("generat", "")


def test_one_two_coded_outcome_with_positive_two(survey, tmp_path):
    path = tmp_path / "coded.csv"
    survey.assign(buy=survey["repurchase"] + 1).to_csv(path, index=False)
    res = _invoke("analyze", path, "-y", "buy", "--drivers", ",".join(DRV), "--positive", "2",
                  "--draws", "10", "-o", tmp_path / "o")
    assert res.exit_code == 0, res.output


# ------------------------------------------------------------------ invariance (hypothesis)
def _quiet():
    ctx = warnings.catch_warnings()
    ctx.__enter__()
    warnings.simplefilter("ignore")
    return ctx


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**31 - 1))
def test_row_order_with_weights_changes_nothing(survey, seed):
    order = np.random.default_rng(seed).permutation(len(survey))
    shuffled = survey.iloc[order]
    ctx = _quiet()
    try:
        a = dk.importance(survey, "satisfaction", DRV, weights="weight")
        b = dk.importance(shuffled, "satisfaction", DRV, weights="weight")
        # a weights Series travels with its labels, whatever the data's row order
        c = dk.importance(shuffled, "satisfaction", DRV, weights=survey["weight"])
        m1 = dk.fit(survey, "repurchase", DRV, kind="logit", weights="weight")
        m2 = dk.fit(shuffled, "repurchase", DRV, kind="logit", weights="weight")
        v1 = dk.Simulator(m1, survey).value({"price_value": dk.shift(1)}, "rate")
        v2 = dk.Simulator(m2, shuffled).value({"price_value": dk.shift(1)}, "rate")
        n1 = dk.nps(survey, "recommend", weights="weight")
        n2 = dk.nps(shuffled, "recommend", weights="weight")
    finally:
        ctx.__exit__(None, None, None)
    np.testing.assert_allclose(b.table["importance"], a.table["importance"], rtol=1e-9)
    np.testing.assert_allclose(c.table["importance"], a.table["importance"], rtol=1e-9)
    np.testing.assert_allclose(m2.table["estimate"], m1.table["estimate"], rtol=1e-7)
    assert v2 == pytest.approx(v1, rel=1e-9)
    assert n2.value == pytest.approx(n1.value, rel=1e-12)
    assert n2.std_error == pytest.approx(n1.std_error, rel=1e-12)


@pytest.fixture(scope="module")
def waves():
    df = dk.make_survey(n=400, n_drivers=3, kind="linear", waves=3, seed=4)
    df.attrs = {}
    ref = dk.compare_waves(df, "satisfaction", DRV, "wave", bootstrap=50, seed=1)
    return df, ref


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(first=st.integers(1, 9), prefix=st.sampled_from(["Wave ", "W", "wave_", "Q"]))
def test_relabelling_waves_keeps_the_answers(waves, first, prefix):
    df, ref = waves
    # labels whose text order differs from their time order once numbers pass 9
    labels = {w: f"{prefix}{first + 4 * (w - 1)}" for w in (1, 2, 3)}
    with pytest.warns(dk.WaveOrderWarning):
        res = dk.compare_waves(df.assign(wave=df["wave"].map(labels)), "satisfaction", DRV,
                               "wave", bootstrap=50, seed=1)
    assert res.meta["baseline"] == labels[1]
    for w in (2, 3):
        np.testing.assert_allclose(res.table.xs(labels[w], level="wave")["difference"],
                                   ref.table.xs(w, level="wave")["difference"], rtol=1e-12)
    cat = pd.Categorical(df["wave"].map(labels), categories=[labels[w] for w in (1, 2, 3)],
                         ordered=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", dk.WaveOrderWarning)
        warnings.simplefilter("ignore", dk.SmallSampleWarning)
        dk.compare_waves(df.assign(wave=cat), "satisfaction", DRV, "wave", bootstrap=50,
                         seed=1)


def test_chart_names_are_literal_text(survey):
    pytest.importorskip("matplotlib")
    d = survey.rename(columns={"price_value": "cost $5 vs $10", "website_ease": "ease_of_use %"})
    res = dk.importance(d, "satisfaction", ["cost $5 vs $10", "ease_of_use %"])
    ax = res.plot()
    ax.figure.canvas.draw()
    # what matplotlib draws: the literal name, not mathtext
    drawn = {t._preprocess_math(t.get_text()) for t in ax.get_yticklabels()}
    assert drawn == {("cost $5 vs $10", False), ("ease_of_use %", False)}


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.integers(0, 239), min_size=2, max_size=8, unique=True),
       code=st.sampled_from([99, 999, -99]), column=st.sampled_from(DRV))
def test_dont_know_codes_are_named_or_removed(survey, rows, code, column):
    coded = survey.copy()
    coded.loc[coded.index[rows], column] = code
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dk.fit(coded, "satisfaction", DRV)
    named = [w for w in caught if issubclass(w.category, dk.DriverkitWarning)
             and column in str(w.message) and str(code) in str(w.message)]
    assert named, "the code values must be named with their column"
    ctx = _quiet()
    try:
        declared = dk.fit(coded, "satisfaction", DRV, na_values=[code])
        dropped = dk.fit(survey.drop(index=survey.index[rows]), "satisfaction", DRV)
    finally:
        ctx.__exit__(None, None, None)
    np.testing.assert_allclose(declared.table["estimate"], dropped.table["estimate"],
                               rtol=1e-10)
