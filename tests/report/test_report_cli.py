"""The driverkit command line: input handling, exit codes and whole runs."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from driverkit.report._pipeline import infer_kind, read_data
from driverkit.report.cli import _split_drivers, cli, main


@pytest.fixture(scope="module")
def csv_path(tmp_path_factory, survey):
    p = tmp_path_factory.mktemp("cli") / "survey.csv"
    survey.drop(columns=["<script>alert(1)</script>"]).to_csv(p, index=False)
    return p


def _invoke(args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_typo_in_column_exits_2_with_suggestion(csv_path, tmp_path):
    r = _invoke(["analyze", csv_path, "--outcome", "repurchase", "--drivers", "staff,prise",
                 "-o", tmp_path])
    assert r.exit_code == 2
    lines = r.output.strip().splitlines()
    assert len(lines) == 1, r.output
    assert lines[0].startswith("Error: ") and "Did you mean 'price'?" in lines[0]
    assert "Traceback" not in r.output
    r = _invoke(["analyze", csv_path, "--outcome", "repurchse", "--drivers", "staff",
                 "-o", tmp_path])
    assert r.exit_code == 2 and "Did you mean 'repurchase'?" in r.output


@pytest.mark.parametrize("args, message", [
    (["analyze", "nope.csv", "--outcome", "y", "--drivers", "a"], "does not exist"),
    (["analyze", "{csv}", "--drivers", "a"], "Missing --outcome"),
    (["analyze", "{csv}", "--outcome", "repurchase"], "Missing --drivers"),
    (["analyze", "{csv}", "--outcome", "repurchase", "--drivers", "staff", "--kind", "tobit"],
     "Invalid value for '--kind'"),
    (["analyze", "{csv}", "--bogus"], "No such option"),
    (["frobnicate"], "No such command"),
])
def test_bad_input_is_one_line_and_exit_2(csv_path, args, message):
    r = _invoke([a.replace("{csv}", str(csv_path)) for a in args])
    assert r.exit_code == 2, r.output
    assert message in r.output
    assert len(r.output.strip().splitlines()) == 1, r.output


def test_unknown_format_and_bad_config(tmp_path, csv_path):
    odd = tmp_path / "data.sav"
    odd.write_text("x")
    r = _invoke(["analyze", odd, "--outcome", "y", "--drivers", "a"])
    assert r.exit_code == 2 and "Cannot tell the format" in r.output
    cfg = tmp_path / "a.yaml"
    cfg.write_text("outcome: repurchase\ndrivres: [staff]\n")
    r = _invoke(["analyze", csv_path, "--config", cfg])
    assert r.exit_code == 2 and "Did you mean 'drivers'?" in r.output
    cfg.write_text("outcome: [unclosed\n")
    r = _invoke(["analyze", csv_path, "--config", cfg])
    assert r.exit_code == 2 and "not valid YAML" in r.output


def test_main_returns_exit_codes(capsys):
    assert main(["--version"]) == 0
    assert "driverkit, version" in capsys.readouterr().out
    assert main(["analyze"]) == 2
    assert "Missing argument 'DATA'" in capsys.readouterr().err


def test_drivers_comma_separated_or_repeated():
    assert _split_drivers(("a,b", "c", " d , e,")) == ["a", "b", "c", "d", "e"]
    assert _split_drivers(None) == [] and _split_drivers("x") == ["x"]


def test_kind_is_inferred_from_the_outcome():
    assert infer_kind(pd.Series([0, 1, 0, 1], name="repurchase")) == "logit"
    assert infer_kind(pd.Series(["yes", "no", "yes"], name="churn")) == "logit"
    assert infer_kind(pd.Series(np.arange(11), name="likelihood_to_recommend")) == "ordinal"
    assert infer_kind(pd.Series(np.arange(11), name="NPS")) == "ordinal"
    assert infer_kind(pd.Series(np.arange(11), name="satisfaction")) == "linear"
    assert infer_kind(pd.Series([0.5, 3.0, 7.0], name="recommend")) == "linear"
    assert infer_kind(pd.Series([0, 5, 12], name="recommend")) == "linear"


@pytest.mark.parametrize("suffix", ["csv", "xlsx", "parquet", "tsv"])
def test_read_data_formats(tmp_path, suffix):
    df = pd.DataFrame({"a": [1.0, 2.0, 3.0], "y": [0, 1, 1]})
    p = tmp_path / f"d.{suffix}"
    if suffix == "csv":
        df.to_csv(p, index=False)
    elif suffix == "tsv":
        df.to_csv(p, sep="\t", index=False)
    elif suffix == "xlsx":
        df.to_excel(p, index=False)
    else:
        df.to_parquet(p)
    pd.testing.assert_frame_equal(read_data(p), df, check_dtype=False)


def test_analyze_runs_the_pipeline_and_names_the_files(csv_path, tmp_path, survey):
    import driverkit as dk

    out = tmp_path / "out"
    r = _invoke(["analyze", csv_path, "--outcome", "satisfaction", "-d", "staff,price",
                 "-d", "wait_time", "--revenue-per-customer", "300", "--budget", "20000",
                 "--bootstrap", "30", "--draws", "40", "--seed", "4", "--no-progress",
                 "-o", out])
    assert r.exit_code == 0, r.output
    assert "Key drivers of satisfaction" in r.output and "Budget plan" in r.output
    assert f"{out / 'report.html'}" in r.output and f"{out / 'report.xlsx'}" in r.output
    assert (out / "report.html").exists() and (out / "report.xlsx").exists()
    # the printed shares are the numbers dk.importance gives for the same call
    drivers = ["staff", "price", "wait_time"]
    imp = dk.importance(survey, "satisfaction", drivers, bootstrap=30, seed=4)
    for d in drivers:
        assert f"{imp.table.loc[d, 'share']:.1f}%" in r.output
    book = pd.read_excel(out / "report.xlsx", sheet_name=None, index_col=0)
    np.testing.assert_allclose(book["Relative importance"]["importance"].to_numpy(),
                               imp.table["importance"].to_numpy(), rtol=1e-12)
    assert {"Priority matrix", "Budget allocation", "Driver model"} <= set(book)


def test_analyze_with_config_file_excel_input_and_kind_inference(tmp_path, survey):
    data = tmp_path / "survey.xlsx"
    survey.drop(columns=["<script>alert(1)</script>"]).to_excel(data, index=False)
    cfg = tmp_path / "analysis.yaml"
    cfg.write_text(
        "outcome: satisfaction\n"
        "drivers: [staff, price, wait_time]\n"
        "scales: {staff: [1, 10], price: [1, 10], wait_time: [1, 10]}\n"
        "stages: {Store: [staff, wait_time], Checkout: [price]}\n"
        "cost_curves:\n"
        "  staff: {max_lift: 1.0, scale: 5000}\n"
        "  price: {spend: [0, 5000, 20000], lift: [0, 0.3, 0.6]}\n"
        "budget: 10000\n"
        "bootstrap: 0\n"
        "draws: 0\n"
        "labels: {staff: Friendly staff, wait_time: Waiting time}\n"
        "currency: SEK\n"
        "locale: sv_SE\n"
        "pptx: true\n"
        "title: Config <run>\n", encoding="utf-8")
    out = tmp_path / "cfg"
    r = _invoke(["analyze", data, "--config", cfg, "-o", out])
    assert r.exit_code == 0, r.output
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Config &lt;run&gt;" in html and "by journey stage" in html
    assert "Friendly staff" in html and "Waiting time" in html and "kr" in html
    assert (out / "report.pptx").exists()
    assert "Illustrative cost curves" not in html  # the config's curves were used
    assert "linear (OLS)" in html or "linear" in html


def test_demo_subprocess_names_the_files(tmp_path):
    import os
    import shutil
    import subprocess
    import sys

    exe = shutil.which("driverkit")
    cmd = [exe] if exe else [sys.executable, "-m", "driverkit.report.cli"]
    done = subprocess.run([*cmd, "demo", "-o", str(tmp_path / "demo")], capture_output=True,
                          text=True, timeout=300, env={**os.environ, "MPLBACKEND": "Agg"})
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    for name in ("report.html", "report.xlsx", "report.pptx"):
        path = tmp_path / "demo" / name
        assert path.exists() and str(path) in done.stdout
    assert "Key drivers of satisfaction" in done.stdout and "Budget plan" in done.stdout
    # money effects come with their interval; effects whose interval covers zero are marked
    assert "95% interval" in done.stdout
    marked = [ln for ln in done.stdout.splitlines() if ln.rstrip().endswith("~0")]
    for line in marked:
        lo, hi = re.search(r"\[([-+][\d,]+), ([-+][\d,]+)\]", line).groups()
        assert float(lo.replace(",", "")) <= 0 <= float(hi.replace(",", ""))
    assert re.search(r"profit [\d,]+ \[[\d,]+, [\d,]+\]", done.stdout)


@pytest.mark.parametrize("text, message", [
    ("budget: lots\n", "'budget' in a.yaml must be a number"),
    ("bootstrap: 2.5\n", "must be a whole number"),
    ("scales: [1, 10]\n", "'scales' in a.yaml must be a mapping"),
    ("outcome: satisfaction\ndrivers: [staff]\nbudget: 100\n"
     "cost_curves: {staff: {max_lift: 1}}\n", "cost_curves['staff'] must be a mapping like"),
])
def test_bad_config_values_exit_2(tmp_path, csv_path, text, message):
    cfg = tmp_path / "a.yaml"
    cfg.write_text(text, encoding="utf-8")
    r = _invoke(["analyze", csv_path, "--config", cfg, "--outcome", "satisfaction",
                 "--drivers", "staff", "--bootstrap", "0", "--draws", "0", "-o", tmp_path])
    assert r.exit_code == 2, r.output
    assert message in r.output and len(r.output.strip().splitlines()) == 1


def test_analyze_binary_outcome_infers_logit_and_skips_the_slow_bootstrap(csv_path, tmp_path):
    out = tmp_path / "bin"
    r = _invoke(["analyze", csv_path, "--outcome", "repurchase", "--drivers", "staff,price",
                 "--draws", "20", "-o", out])
    assert r.exit_code == 0, r.output
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "binary logit" in html and "No bootstrap intervals" in html
    r = _invoke(["analyze", csv_path, "--outcome", "repurchase", "--drivers", "staff,price",
                 "--importance-outcome", "satisfaction", "--bootstrap", "20", "--draws", "20",
                 "-o", out])
    assert r.exit_code == 0, r.output
    assert "Key drivers of satisfaction" in r.output


def test_text_yes_no_outcome_needs_and_takes_positive(tmp_path, survey):
    data = survey.drop(columns=["<script>alert(1)</script>"]).assign(
        bought=np.where(survey["repurchase"] == 1, "Yes", "No"))
    path = tmp_path / "yesno.csv"
    data.to_csv(path, index=False)
    r = _invoke(["analyze", path, "--outcome", "bought", "--drivers", "staff,price"])
    assert r.exit_code == 2
    assert "--positive" in r.output and "'Yes'" in r.output
    r = _invoke(["analyze", path, "--outcome", "bought", "--positive", "Yes", "--drivers",
                 "staff,price", "--no-progress", "-o", tmp_path / "out"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "out" / "report.html").exists()
