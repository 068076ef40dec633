"""``driverkit pls DATA --model model.json``."""

from __future__ import annotations

import json
import pathlib

import pandas as pd
import pytest
from click.testing import CliRunner

from driverkit.report.cli import cli

DATA = pathlib.Path(__file__).resolve().parents[1] / "data" / "pls_mobi"


def test_pls_command_writes_tables_matching_the_reference(tmp_path):
    ref = json.loads((DATA / "pls_mobi_ecsi.json").read_text())
    model = {"constructs": ref["model"]["constructs"], "paths": ref["model"]["paths"],
             "scales": [1, 10], "target": "Loyalty"}
    mfile = tmp_path / "model.json"
    mfile.write_text(json.dumps(model))
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["pls", str(DATA / "mobi.csv"), "--model", str(mfile),
                                   "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "Impact on Loyalty" in res.output
    paths = pd.read_csv(out / "paths.csv", index_col=[0, 1])
    for r in ref["path_coefficients"]:
        assert paths.loc[(r["from"], r["to"]), "estimate"] == pytest.approx(r["value"], abs=1e-6)
    assert (out / "ipma.csv").exists() and (out / "path_diagram.png").exists()


def test_pls_command_bad_model_file(tmp_path):
    mfile = tmp_path / "model.json"
    mfile.write_text(json.dumps({"constructs": {"A": ["IMAG1"]}, "pahts": []}))
    res = CliRunner().invoke(cli, ["pls", str(DATA / "mobi.csv"), "--model", str(mfile)])
    assert res.exit_code == 2
    assert "Unknown key 'pahts'" in res.output and "Did you mean 'paths'" in res.output
