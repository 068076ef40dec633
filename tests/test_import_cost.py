"""``import driverkit`` loads no heavy dependency; public names resolve on first use.

The start-up cost of ``import driverkit`` (and of the ``driverkit`` command) is dominated by
pandas, scipy, statsmodels and matplotlib. The package exports its names lazily (PEP 562),
so these tests check *which modules are loaded* in a fresh interpreter — a behaviour, not a
timing (timings are in ``benchmarks/bench_speed.py``).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import driverkit as dk

PACKAGE = Path(dk.__file__).resolve().parent
HEAVY = ("matplotlib", "statsmodels", "statsmodels.api", "pandas", "scipy", "sklearn",
         "formulaic", "jinja2", "tqdm")


def _loaded_after(code: str) -> list[str]:
    """Heavy modules present in ``sys.modules`` after running ``code`` in a new process."""
    probe = (f"import sys\n{code}\nimport json\n"
             f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(PACKAGE.parent), env.get("PYTHONPATH", "")])
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         env=env, check=True, timeout=300)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_loads_no_heavy_dependency():
    assert _loaded_after("import driverkit") == []


def test_a_fit_and_importance_do_not_load_statsmodels_api_or_matplotlib():
    loaded = _loaded_after(
        "import driverkit as dk\n"
        "df = dk.load_demo()\n"
        "m = dk.fit(df, 'repurchase', ['staff_friendliness', 'delivery_speed'], kind='logit')\n"
        "dk.importance(df, 'satisfaction', ['staff_friendliness', 'delivery_speed'])\n"
        "sc = dk.Scenario('faster', {'delivery_speed': dk.shift(1)})\n"
        "dk.Simulator(m, df).run(sc, draws=50, seed=1)\n"
    )
    assert "pandas" in loaded  # the probe did run an analysis
    assert "matplotlib" not in loaded
    assert "statsmodels.api" not in loaded


def test_every_public_name_resolves_and_is_listed():
    for name in dk.__all__:
        assert getattr(dk, name) is not None, name
    assert set(dk.__all__) <= set(dir(dk))
    namespace: dict[str, object] = {}
    exec("from driverkit import *", namespace)
    assert {n for n in namespace if not n.startswith("__")} == set(dk.__all__) - {"__version__"}


def test_unknown_attribute_raises_attribute_error():
    try:
        dk.no_such_name
    except AttributeError as err:
        assert "no_such_name" in str(err)
    else:  # pragma: no cover - the assertion below reports it
        raise AssertionError("dk.no_such_name did not raise")


def test_functions_named_like_their_subpackage_stay_functions():
    # importing driverkit.importance / driverkit.report binds the subpackage on the parent;
    # the package keeps the public function under that name instead
    code = ("import driverkit as dk\nimport driverkit.report.cli\n"
            "import driverkit.importance._api\n"
            "print(callable(dk.report), callable(dk.importance),"
            " dk.importance.__module__, dk.report.__module__)")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(PACKAGE.parent), env.get("PYTHONPATH", "")])
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True, timeout=300).stdout.split()
    assert out == ["True", "True", "driverkit.importance._api", "driverkit.report._report"]


def test_type_checking_imports_match_the_lazy_exports():
    """The ``if TYPE_CHECKING:`` block (for type checkers) lists exactly the lazy names."""
    tree = ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8"))
    static: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            for imp in node.body:
                assert isinstance(imp, ast.ImportFrom) and imp.level == 1
                for alias in imp.names:
                    static[alias.name] = str(imp.module)
    lazy = dict(dk._LAZY)
    assert static == lazy
