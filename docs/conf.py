"""Sphinx configuration of the driverkit documentation.

Build: ``sphinx-build -W -b html docs docs/_build/html`` (warnings are errors). Pages written
as MyST notebooks (``file_format: mystnb``) are executed at build time by myst-nb.
"""

from __future__ import annotations

import inspect
import os
import re
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # for this process (autodoc imports); notebook kernels draw inline
os.environ.pop("MPLBACKEND", None)
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import driverkit  # noqa: E402

project = "driverkit"
author = "driverkit developers"
copyright = "2026, driverkit developers"
release = driverkit.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_nb",
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints", "jupyter_execute"]
root_doc = "index"

# --- MyST / myst-nb ---------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
nb_execution_mode = "auto"  # execute notebooks that have no stored outputs (all of ours)
nb_execution_timeout = 180
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True

# --- autodoc / numpydoc -----------------------------------------------------------------
autodoc_default_options = {"members": False, "undoc-members": False}
autodoc_typehints = "none"  # numpydoc sections carry the types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# --- HTML -------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"driverkit {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_static_path: list[str] = []
html_show_sourcelink = False

# --- the API reference: generated from driverkit.__all__ --------------------------------
_AREAS = [
    ("data", "Data"), ("stats", "Scale: sufficient statistics and streaming"),
    ("models", "Driver models"), ("importance", "Relative importance"),
    ("simulate", "What-if simulation"), ("optimize", "Budget optimisation"),
    ("cx", "CX analyses"), ("report", "Reporting"), ("exceptions", "Errors and warnings"),
]


def _area(obj: object) -> str:
    mod = getattr(obj, "__module__", "") or ""
    parts = mod.split(".")
    return parts[1] if len(parts) > 1 else "other"


def api_reference() -> str:
    """reST for every public name of driverkit, grouped by the package that defines it."""
    names = [n for n in driverkit.__all__ if not n.startswith("__")]
    by_area: dict[str, list[str]] = {}
    for name in names:
        by_area.setdefault(_area(getattr(driverkit, name)), []).append(name)
    lines: list[str] = []
    titles = dict(_AREAS)
    order = [a for a, _ in _AREAS] + sorted(set(by_area) - set(titles))
    for area in order:
        if area not in by_area:
            continue
        title = titles.get(area, area.capitalize())
        lines += [title, "-" * len(title), ""]
        for name in sorted(by_area[area], key=str.lower):
            obj = getattr(driverkit, name)
            if inspect.isclass(obj):
                lines += [f".. autoclass:: driverkit.{name}"]
                if area != "exceptions":
                    lines += ["   :members:"]
                lines.append("")
            elif callable(obj):
                lines += [f".. autofunction:: driverkit.{name}", ""]
        lines.append("")
    return "\n".join(lines)


def _inject_api(app, docname, source):
    if docname == "api":
        source[0] = source[0].replace(".. driverkit-api-reference::", api_reference())


_LITERAL = re.compile(r"(``.+?``|`[^`]+`|:math:`[^`]+`)")


def _escape_bars(line: str) -> str:
    """Escape ``|`` outside literals: docstrings write |S| or |π| as maths, not substitutions."""
    if "|" not in line or line.lstrip().startswith((">>>", "...", "+-", "|")):
        return line
    parts = _LITERAL.split(line)
    return "".join(p if i % 2 else p.replace("|", "\\|") for i, p in enumerate(parts))


def _process_docstring(app, what, name, obj, options, lines):
    in_code = False
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.endswith("::") or stripped.startswith(".. code"):
            in_code = True
            continue
        if in_code and stripped and not line.startswith((" ", "\t")):
            in_code = False
        if not in_code:
            lines[i] = _escape_bars(line)


def setup(app):
    app.connect("source-read", _inject_api)
    # before numpydoc (priority 500) so its parsed sections see the escaped text
    app.connect("autodoc-process-docstring", _process_docstring, priority=400)
