"""The package layers of driverkit, enforced by reading every import with :mod:`ast`.

The intended order (bottom to top) and its reasons are in ``docs/internals.md``. Imports
inside functions count like module-level ones: a lazy import still makes the importing
module depend on the imported one, it only moves the moment the dependency bites.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PKG = SRC / "driverkit"

# Rank of each top-level unit of ``driverkit`` (a subpackage or a top-level module).
# A unit may import only units of a lower rank or itself; equal ranks are separate
# siblings that may not import each other (cx and optimize are independent analyses).
LAYERS: dict[str, int] = {
    "exceptions": 0,
    "_validation": 0,
    "_version": 0,
    "_progress": 0,
    "display": 1,
    "_results": 2,
    "data": 3,
    "stats": 4,
    "models": 5,
    "importance": 6,
    "simulate": 7,
    "cx": 8,
    "optimize": 8,
    "report": 9,
    "__main__": 9,
    "__init__": 9,  # the public facade re-exports every package
}
# The units of the base layer are one package in all but name (``_validation`` raises the
# errors of ``exceptions``), and so are those of the app layer (the facade re-exports
# ``report``): they may import each other; the module-cycle check still applies to them.
BASE = {"exceptions", "_validation", "_version", "_progress"}
APP = {"report", "__main__", "__init__"}
GROUPS = (BASE, APP)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


# Cycles tolerated while a fix is under way, each with the module pair and who owns it (none
# today). The test fails on any other cycle (and on a listed cycle that grows); remove an entry
# when the cycle is gone (the test says so).
KNOWN_CYCLES: dict[frozenset[str], str] = {}


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


MODULES: dict[str, Path] = {_module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def _resolve(name: str) -> str | None:
    """Map a dotted name to the longest driverkit module it names (None if outside)."""
    if name != "driverkit" and not name.startswith("driverkit."):
        return None
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in MODULES:
            return candidate
        parts.pop()
    return None


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """ids of the import nodes under ``if TYPE_CHECKING:`` (never run; no runtime cycle)."""
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                out |= {id(n) for n in ast.walk(child)}
    return out


def _imports(module: str, *, runtime_only: bool = False) -> Iterator[tuple[int, str, str]]:
    """Yield ``(line, imported driverkit module, source text)`` for every import in ``module``.

    ``runtime_only`` leaves out imports under ``if TYPE_CHECKING:``.
    """
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if _is_package(path) else module.rpartition(".")[0]
    skip = _type_checking_nodes(tree) if runtime_only else set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = _resolve(alias.name)
                if target is not None:
                    yield node.lineno, target, f"import {alias.name}"
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                if node.level > 1:
                    base = base[: len(base) - (node.level - 1)]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            text = "from " + "." * node.level + (node.module or "") + " import "
            for alias in node.names:
                # ``from pkg import name`` imports the submodule ``pkg.name`` when there is one.
                sub = f"{stem}.{alias.name}"
                target = sub if sub in MODULES else _resolve(stem)
                if target is not None:
                    yield node.lineno, target, text + alias.name


def _unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _where(module: str, line: int) -> str:
    return f"{MODULES[module].relative_to(SRC.parent)}:{line}"


EDGES: dict[str, list[tuple[int, str, str]]] = {m: list(_imports(m)) for m in MODULES}


def test_every_unit_has_a_layer():
    units = {_unit(m) for m in MODULES}
    missing = sorted(units - set(LAYERS))
    assert not missing, (
        f"new top-level unit(s) {missing} of src/driverkit have no layer: add them to LAYERS in "
        "tests/test_layers.py and to the diagram in docs/internals.md"
    )


def test_packages_import_only_lower_layers():
    problems = []
    for module, edges in EDGES.items():
        unit = _unit(module)
        for line, target, text in edges:
            other = _unit(target)
            if other == unit or any(unit in g and other in g for g in GROUPS):
                continue
            if LAYERS[other] >= LAYERS[unit]:
                kind = ("a higher layer" if LAYERS[other] > LAYERS[unit]
                        else "a sibling of the same rank")
                problems.append(
                    f"{_where(module, line)}: `{text}` — {unit} (rank {LAYERS[unit]}) imports "
                    f"{other} (rank {LAYERS[other]}), {kind}"
                )
    assert not problems, "layer violations (see docs/internals.md):\n" + "\n".join(problems)


def test_no_facade_imports_below_the_app_layer():
    problems = []
    for module, edges in EDGES.items():
        if _unit(module) in APP:
            continue
        for line, target, text in edges:
            if target == "driverkit":
                problems.append(f"{_where(module, line)}: `{text}` uses the public facade")
    assert not problems, (
        "only the app layer (report/, the CLI) may import driverkit as a whole; import the "
        "module you need instead:\n" + "\n".join(problems)
    )


def _parents(module: str, importer: str) -> list[str]:
    """Packages Python runs before ``module`` when ``importer`` imports it.

    Importing ``driverkit.display._plots`` first runs ``driverkit/display/__init__.py``; that
    edge is real and can close a cycle. The root facade and the importer's own packages are
    left out: they are already being imported when the importer runs.
    """
    parts = module.split(".")
    own = importer.split(".")
    out = []
    for i in range(2, len(parts)):
        pkg = ".".join(parts[:i])
        if pkg in MODULES and pkg != module and own[:i] != parts[:i]:
            out.append(pkg)
    return out


def _graph() -> dict[str, list[tuple[int, str, str]]]:
    graph: dict[str, list[tuple[int, str, str]]] = {}
    for m in MODULES:
        edges = list(_imports(m, runtime_only=True))
        out = []
        for line, target, text in edges:
            out += [(line, pkg, text + f" (runs {pkg}/__init__.py)")
                    for pkg in _parents(target, m)]
            if target != m:
                out.append((line, target, text))
        graph[m] = out
    return graph


GRAPH = _graph()


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    graph = {m: sorted({t for _, t, _ in edges}) for m, edges in GRAPH.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_module_import_cycles():
    problems = []
    found = {frozenset(c) for c in _cycles()}
    for component in _cycles():
        members = set(component)
        if frozenset(members) in KNOWN_CYCLES:
            continue
        lines = [
            f"  {_where(m, line)}: `{text}`"
            for m in component
            for line, target, text in GRAPH[m]
            if target in members
        ]
        problems.append("cycle between " + ", ".join(component) + ":\n" + "\n".join(lines))
    assert not problems, "modules import each other in a cycle:\n" + "\n".join(problems)
    gone = [sorted(k) for k in KNOWN_CYCLES if k not in found]
    assert not gone, f"these cycles are fixed: remove them from KNOWN_CYCLES: {gone}"


@pytest.mark.parametrize(
    ("source", "module", "expected"),
    [
        ("from ..display._plots import PALETTE", "driverkit.simulate._result",
         "driverkit.display._plots"),
        ("from . import _plots", "driverkit.display", "driverkit.display._plots"),
        ("from ._render import format_value", "driverkit.display", "driverkit.display._render"),
        ("import driverkit as dk", "driverkit.data._demo", "driverkit"),
        ("from .._validation import suggest", "driverkit.stats._dask", "driverkit._validation"),
        ("from ...exceptions import DataError", "driverkit.stats._dask", None),
        ("from .. import exceptions", "driverkit.stats._dask", "driverkit.exceptions"),
        ("import numpy as np", "driverkit.stats._dask", None),
    ],
)
def test_the_import_reader_resolves_relative_imports(source, module, expected, tmp_path,
                                                      monkeypatch):
    # The checks above are only as good as this resolver: feed it known lines, inside a
    # function (a lazy import) so that nesting is exercised too.
    name = "__init__.py" if MODULES[module].name == "__init__.py" else "m.py"
    fake = tmp_path / name
    fake.write_text(f"def f():\n    if True:\n        {source}\n", encoding="utf-8")
    monkeypatch.setitem(MODULES, module, fake)
    targets = [t for _, t, _ in _imports(module)]
    assert targets == ([expected] if expected else [])
