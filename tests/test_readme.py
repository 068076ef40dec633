"""The README's set-up commands and CI agree (the README is the contract for new users)."""

from __future__ import annotations

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"## Set up on a fresh machine\s+```bash\n(.*?)```", text, re.S)
    assert block, "README lacks the set-up block"
    return [ln.split("#")[0].strip() for ln in block.group(1).splitlines() if ln.strip()]


def test_readme_has_exactly_two_setup_commands():
    cmds = _readme_commands()
    assert len(cmds) == 2
    assert "driverkit demo" in cmds[0]
    assert "pytest" in cmds[1]


def test_ci_runs_the_readme_test_command():
    test_cmd = _readme_commands()[1]
    ci = (ROOT / ".ci" / "run").read_text()
    ci_lines = [ln.strip() for ln in ci.splitlines()
                if ln.strip() and not ln.strip().startswith("#")]
    runs = [ln for ln in ci_lines if ln == test_cmd or ln.startswith(test_cmd + " || exit")]
    assert runs, f"{test_cmd!r} not run by .ci/run"


def test_readme_setup_block_is_on_the_first_screen():
    lines = (ROOT / "README.md").read_text().splitlines()
    idx = next(i for i, ln in enumerate(lines) if "driverkit demo" in ln)
    assert idx < 25


def test_readme_quick_start_runs(tmp_path, monkeypatch):
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    text = (ROOT / "README.md").read_text()
    code = re.search(r"## Quick start.*?```python\n(.*?)```", text, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    ns: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile(code, "README quick start", "exec"), ns)
    res = ns["res"]
    assert res.table.loc["faster checkout", "delta_rate"] > 0
    assert ns["imp"].table["importance"].sum() == __import__("pytest").approx(ns["imp"].r2)
