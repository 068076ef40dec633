"""The documentation's sources: every page is in a toctree and the API page covers the API.

The full build (``sphinx-build -W -b html docs docs/_build/html``, which executes the
notebook pages) runs as its own CI step.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

import driverkit as dk

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _conf():
    spec = importlib.util.spec_from_file_location("dk_docs_conf", DOCS / "conf.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_api_reference_documents_every_public_name():
    pytest.importorskip("sphinx")
    text = _conf().api_reference()
    for name in dk.__all__:
        if name.startswith("__"):
            continue
        assert re.search(rf"^\.\. auto(class|function):: driverkit\.{name}$", text, re.M), name


def test_every_page_is_in_a_toctree():
    pages = {p.relative_to(DOCS).with_suffix("").as_posix()
             for p in DOCS.rglob("*") if p.suffix in {".md", ".rst"} and "_build" not in p.parts}
    listed = {"index"}
    for p in DOCS.rglob("*"):
        if p.suffix not in {".md", ".rst"} or "_build" in p.parts:
            continue
        for block in re.findall(r"```\{toctree\}(.*?)```", p.read_text(encoding="utf-8"), re.S):
            for line in block.splitlines():
                line = line.strip()
                if line and not line.startswith(":"):
                    base = p.parent.relative_to(DOCS)
                    listed.add((base / line).as_posix().lstrip("./"))
    assert pages - listed == set(), f"pages in no toctree: {sorted(pages - listed)}"


def test_method_notes_cite_and_show_formulas():
    methods = DOCS / "methods"
    for page in ("importance", "glm", "simulation", "optimisation", "cx"):
        text = (methods / f"{page}.md").read_text(encoding="utf-8")
        assert "$$" in text or "$" in text, page
        assert re.search(r"\(\w[^()]*\d{4}\)|\d{4}\)", text), f"{page} cites no paper"
    refs = (methods / "references.md").read_text(encoding="utf-8")
    for author in ("Grömping", "Budescu", "Johnson", "Krinsky", "McFadden", "Kano"):
        assert author in refs
