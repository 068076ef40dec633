"""Every example script in examples/ runs in a fresh process and writes its report.

(The notebook pages of the documentation are executed by the docs build.)
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SCRIPTS = sorted(EXAMPLES.glob("*.py"))


def test_there_are_examples():
    names = {p.stem for p in SCRIPTS}
    assert {"driver_analysis", "cut_phone_support", "budget_plan"} <= names


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.name for p in SCRIPTS])
def test_example_script_runs(script, tmp_path):
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONWARNINGS": "error::FutureWarning"}
    done = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True,
                          text=True, timeout=240, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    written = re.findall(r"^(?:Report|Workbook): (.+)$", done.stdout, flags=re.M)
    assert len(written) == 2, done.stdout[-2000:]
    for path in map(Path, written):
        assert path.parent == tmp_path and path.stat().st_size > 1000
    html = Path(written[0]).read_text(encoding="utf-8")
    assert "Chart not drawn" not in html and "data:image/png;base64," in html
