"""Every Examples section in the package runs (numpydoc docstrings are executable)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import driverkit

MODULES = sorted(
    m.name for m in pkgutil.walk_packages(driverkit.__path__, prefix="driverkit.")
    if ".report.cli" not in m.name
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    try:
        mod = importlib.import_module(name)
    except ImportError as exc:  # an optional extra that is not installed (never our own code)
        if (exc.name or "").split(".")[0] == "driverkit":
            raise
        pytest.skip(f"{name}: {exc}")
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(mod, name):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} doctest example(s) failed in {name}"
