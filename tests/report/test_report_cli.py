"""The driverkit command line: input handling, exit codes and whole runs."""

from __future__ import annotations

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
