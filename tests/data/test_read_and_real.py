"""Files as they come (separators, decimal commas, encodings, sheets) through the command line,
and a real survey (mobi) with 20 % of its answers blanked in every mode (issue 14)."""

from __future__ import annotations

import pathlib
import warnings

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import driverkit as dk
from driverkit.data._read import read_table
from driverkit.report.cli import cli

MOBI = pathlib.Path(__file__).parent / "mobi.csv"


@pytest.fixture(scope="module")
def nordic(tmp_path_factory):
    df = dk.make_survey(n=300, n_drivers=3, seed=8)
    d = df.attrs["truth"]["drivers"]
    out = df[[*d, "satisfaction", "repurchase"]].astype(object)
    out.columns = ["Bemötande", "Väntetid", "Kvalité", "Nöjdhet", "Återköp"]
    rng = np.random.default_rng(2)
    for c in out.columns[:3]:
        out.loc[rng.random(len(out)) < 0.1, c] = "Vet ej"
    out["Nöjdhet"] = df["satisfaction"] + 0.5
    root = tmp_path_factory.mktemp("files")
    p = root / "nordic.csv"
    out.to_csv(p, sep=";", decimal=",", encoding="cp1252", index=False)
    return p, out


def test_nordic_file_is_detected(nordic):
    p, out = nordic
    df, info = read_table(p)
    assert (info["sep"], info["decimal"], info["encoding"]) == (";", ",", "Windows-1252")
    assert list(df.columns) == list(out.columns)
    np.testing.assert_allclose(df["Nöjdhet"], out["Nöjdhet"].astype(float))
    df2, _info2 = read_table(p, sep=";", decimal=",", encoding="cp1252")
    pd.testing.assert_frame_equal(df, df2)


@pytest.mark.parametrize("encoding, label", [("utf-8-sig", "UTF-8 with BOM"),
                                             ("utf-8", "UTF-8"), ("cp1252", "Windows-1252")])
@pytest.mark.parametrize("sep", [",", ";", "\t"])
def test_separators_and_encodings(tmp_path, encoding, label, sep):
    df = pd.DataFrame({"kön": ["å", "ä", "ö"], "värde": [1.5, 2.25, 3.0], "n": [1, 2, 3]})
    p = tmp_path / "f.csv"
    df.to_csv(p, sep=sep, index=False, encoding=encoding,
              decimal="," if sep != "," else ".")
    got, info = read_table(p)
    assert info["encoding"] == label and info["sep"] == sep
    pd.testing.assert_frame_equal(got, df, check_dtype=False)


def test_excel_sheets(tmp_path):
    pytest.importorskip("openpyxl")
    p = tmp_path / "book.xlsx"
    with pd.ExcelWriter(p) as xw:
        pd.DataFrame({"a": [1, 2]}).to_excel(xw, sheet_name="Info", index=False)
        pd.DataFrame({"b": [3, 4]}).to_excel(xw, sheet_name="Data", index=False)
    df, info = read_table(p)
    assert list(df.columns) == ["a"] and "choose one with --sheet" in info["note"]
    df, _ = read_table(p, sheet="Data")
    assert list(df.columns) == ["b"]
    with pytest.raises(dk.DataError, match=r"no sheet 'Dta'.*'Data'"):
        read_table(p, sheet="Dta")


def _invoke(args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_nordic_csv_runs_through_analyze(nordic, tmp_path):
    p, _ = nordic
    r = _invoke(["analyze", p, "--outcome", "Återköp", "--drivers", "Bemötande,Väntetid,Kvalité",
                 "--na-values", "Vet ej", "--missing", "impute", "--imputations", "2",
                 "--draws", "20", "-o", tmp_path / "out"])
    assert r.exit_code == 0, r.output
    assert "separator semicolon (detected), decimal comma (detected), encoding Windows-1252" \
        in r.output
    assert (tmp_path / "out" / "report.html").exists()
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "imput" in html  # the report says what was done


def test_missing_column_names_separator_and_close_matches(nordic, tmp_path):
    p, _ = nordic
    r = _invoke(["analyze", p, "--outcome", "Aterkop", "--drivers", "Bemötande",
                 "-o", tmp_path])
    assert r.exit_code == 2
    assert "separator semicolon" in r.output and "Did you mean 'Återköp'?" in r.output
    r = _invoke(["analyze", p, "--sep", ",", "--outcome", "Återköp", "--drivers", "Bemötande",
                 "-o", tmp_path])
    assert r.exit_code == 2 and "--sep" in r.output


# ---- a real survey with 20 % of its answers blanked ---------------------------------------
@pytest.fixture(scope="module")
def mobi_blanked():
    df = pd.read_csv(MOBI)
    rng = np.random.default_rng(14)
    items = [c for c in df.columns if c != "CUSL1"]
    out = df.copy().astype(float)
    for c in items:
        out.loc[rng.random(len(out)) < 0.2, c] = np.nan
    out["loyal"] = (df["CUSL1"] >= 8).astype(int)
    return out


DRIVERS = ["PERQ1", "PERQ2", "PERV1", "IMAG1", "CUEX1", "CUSCO"]


def test_mobi_listwise_loses_most_respondents(mobi_blanked):
    with pytest.warns(dk.MissingDataWarning, match=r"dropped \d+ of 250 rows \((6|7)\d%\)"):
        dk.fit(mobi_blanked, "CUSA1", DRIVERS)


@pytest.mark.parametrize("policy", ["pairwise", "mean", "dummy", "impute"])
def test_mobi_blanked_fit_and_importance_with_bootstrap(mobi_blanked, policy):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dk.MissingDataWarning)
        m = dk.fit(mobi_blanked, "CUSA1", DRIVERS, missing=policy, imputations=5, seed=1,
                   scales={d: (1, 10) for d in DRIVERS})
        imp = dk.importance(mobi_blanked, "CUSA1", DRIVERS, missing=policy, imputations=5,
                            bootstrap=40, seed=1)
    assert m.meta["missing"] == policy
    assert np.isfinite(m.table["estimate"]).all() and np.isfinite(m.table["std_error"]).all()
    assert np.isfinite(imp.table[["importance", "ci_low", "ci_high"]]).all().all()
    assert 0 < imp.r2 < 1
    if policy != "pairwise":
        assert m.n > 150  # far more than the listwise rows


def test_mobi_blanked_simulator_pools_imputations(mobi_blanked):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dk.MissingDataWarning)
        m = dk.fit(mobi_blanked, "loyal", DRIVERS, kind="logit", missing="impute",
                   imputations=4, seed=2, scales={d: (1, 10) for d in DRIVERS})
        sim = dk.Simulator(m, mobi_blanked, customers=50_000, revenue_per_customer=300,
                           missing="impute", imputations=4, seed=3)
        res = sim.run(dk.Scenario("PERQ1 +1", {"PERQ1": dk.shift(1)}, cost=10_000),
                      draws=200, seed=1)
    assert sim.n == 250 and res.meta["imputations"] == 4
    row = res.table.loc["PERQ1 +1"]
    assert row["delta_revenue_low"] <= row["delta_revenue"] <= row["delta_revenue_high"]
    # the pooled point estimate is the mean of the per-copy estimates
    per = [s.value({"PERQ1": dk.shift(1)}, "rate") for s in sim._imputed]
    assert row["delta_rate"] == pytest.approx(np.mean(per), rel=1e-12)
