"""The specification of a PLS path model: constructs, items, modes and the structural paths.

Everything the user declares is checked here once, with messages that name the construct or
item at fault, and turned into the small integer arrays the estimation kernel works with.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import suggest
from ..exceptions import DriverkitError, DriverkitTypeError

__all__ = ["PLSSpec", "parse_spec"]

SCHEMES = ("path", "centroid", "factorial")


@dataclass(frozen=True)
class PLSSpec:
    """A validated PLS model.

    Attributes
    ----------
    constructs : list of str
        Construct names in the user's order.
    items : dict
        ``{construct: [item, ...]}``.
    item_names : list of str
        All items, block by block (the column order of every item matrix).
    block : ndarray (p,)
        Construct index of each item.
    modes : dict
        ``{construct: "A" | "B"}``.
    edges : list of (str, str)
        Structural paths ``(source, target)`` in the user's order.
    adjacency : ndarray (c, c) bool
        ``adjacency[i, j]``: a path i → j.
    """

    constructs: list[str]
    items: dict[str, list[str]]
    item_names: list[str]
    block: np.ndarray
    modes: dict[str, str]
    edges: list[tuple[str, str]]
    adjacency: np.ndarray

    @property
    def c(self) -> int:
        return len(self.constructs)

    @property
    def p(self) -> int:
        return len(self.item_names)

    @property
    def mask(self) -> np.ndarray:
        """(p, c) 0/1 block membership."""
        m = np.zeros((self.p, self.c))
        m[np.arange(self.p), self.block] = 1.0
        return m

    @property
    def endogenous(self) -> list[str]:
        return [n for j, n in enumerate(self.constructs) if self.adjacency[:, j].any()]

    @property
    def reach(self) -> np.ndarray:
        """(c, c) bool: a directed path leads from i to j (the support of the total effects)."""
        R = self.adjacency.copy()
        for _ in range(self.c):
            R = R | ((R.astype(int) @ R.astype(int)) > 0)
        return R

    def predecessors(self, j: int) -> np.ndarray:
        return np.flatnonzero(self.adjacency[:, j])

    def index_of(self, name: str) -> int:
        return self.constructs.index(name)


def _names(value: Any, what: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, Sequence) or isinstance(value, bytes):
        raise DriverkitTypeError(f"{what} must be a list of column names; got {value!r}.")
    return [str(v) for v in value]


def _parse_paths(paths: Any, constructs: list[str]) -> list[tuple[str, str]]:
    edges: list[tuple[str, str]] = []
    if isinstance(paths, Mapping):
        for target, sources in paths.items():
            for s in _names(sources, f"paths[{target!r}]"):
                edges.append((s, str(target)))
    elif isinstance(paths, Sequence) and not isinstance(paths, str):
        for e in paths:
            if not isinstance(e, Sequence) or isinstance(e, str) or len(e) != 2:
                raise DriverkitTypeError(
                    "paths must be a dict {target: [sources]} or a list of (source, target) "
                    f"pairs; got the element {e!r}."
                )
            edges.append((str(e[0]), str(e[1])))
    else:
        raise DriverkitTypeError(
            "paths must be a dict {target: [sources]} or a list of (source, target) pairs; "
            f"got {type(paths).__name__}."
        )
    if not edges:
        raise DriverkitError("paths is empty: a PLS path model needs at least one path.")
    seen = set()
    for s, t in edges:
        for name in (s, t):
            if name not in constructs:
                raise DriverkitError(
                    f"The path {s} -> {t} names the construct '{name}', which is not in "
                    f"constructs.{suggest(name, constructs)} Constructs: {', '.join(constructs)}."
                )
        if s == t:
            raise DriverkitError(f"The path {s} -> {t} points from a construct to itself.")
        if (s, t) in seen:
            raise DriverkitError(f"The path {s} -> {t} is given twice.")
        seen.add((s, t))
    return edges


def _check_acyclic(constructs: list[str], A: np.ndarray) -> None:
    """Raise naming a cycle when the structural model is not recursive."""
    state = [0] * len(constructs)  # 0 new, 1 on the stack, 2 done
    stack: list[int] = []

    def visit(i: int) -> None:
        state[i] = 1
        stack.append(i)
        for j in np.flatnonzero(A[i]):
            if state[j] == 1:
                cyc = [*stack[stack.index(int(j)):], int(j)]
                raise DriverkitError(
                    "The structural model has a cycle: " + " -> ".join(constructs[k] for k in cyc)
                    + ". PLS path models must be recursive; remove one of these paths."
                )
            if state[j] == 0:
                visit(int(j))
        stack.pop()
        state[i] = 2

    for i in range(len(constructs)):
        if state[i] == 0:
            visit(i)


def parse_spec(constructs: Any, paths: Any, modes: Any = None) -> PLSSpec:
    """Validate the user's model and return a :class:`PLSSpec`."""
    if not isinstance(constructs, Mapping) or not constructs:
        raise DriverkitTypeError(
            "constructs must be a non-empty dict {construct: [items]}, e.g. "
            "{'Quality': ['PERQ1', 'PERQ2'], 'Loyalty': ['CUSL1']}."
        )
    names = [str(k) for k in constructs]
    items: dict[str, list[str]] = {}
    owner: dict[str, str] = {}
    for k, v in constructs.items():
        its = _names(v, f"constructs[{k!r}]")
        if not its:
            raise DriverkitError(f"The construct '{k}' has no items; give at least one column.")
        for it in its:
            if it in owner:
                raise DriverkitError(
                    f"The item '{it}' is listed under both '{owner[it]}' and '{k}'; each item "
                    "measures one construct (copy the column under another name if needed)."
                )
            if it in names:
                raise DriverkitError(
                    f"The item '{it}' has the name of a construct; rename the construct."
                )
            owner[it] = str(k)
        items[str(k)] = its
    edges = _parse_paths(paths, names)
    c = len(names)
    A = np.zeros((c, c), dtype=bool)
    for s, t in edges:
        A[names.index(s), names.index(t)] = True
    _check_acyclic(names, A)
    for j, n in enumerate(names):
        if not (A[j].any() or A[:, j].any()):
            raise DriverkitError(
                f"The construct '{n}' is in no path; add it to paths or drop it from constructs."
            )
    md = {n: "A" for n in names}
    if modes is not None:
        if isinstance(modes, str):
            modes = dict.fromkeys(names, modes)
        if not isinstance(modes, Mapping):
            raise DriverkitTypeError("modes must be a dict {construct: 'A' | 'B'}.")
        for k, v in modes.items():
            if k not in md:
                raise DriverkitError(
                    f"modes names '{k}', which is not a construct.{suggest(str(k), names)}"
                )
            mv = str(v).upper()
            aliases = {"A": "A", "B": "B", "REFLECTIVE": "A", "FORMATIVE": "B",
                       "CORRELATION": "A", "REGRESSION": "B"}
            if mv not in aliases:
                raise DriverkitError(
                    f"The mode of '{k}' must be 'A' (correlation weights) or 'B' (regression "
                    f"weights); got {v!r}."
                )
            md[str(k)] = aliases[mv]
    item_names = [it for n in names for it in items[n]]
    block = np.array([names.index(owner[it]) for it in item_names], dtype=int)
    return PLSSpec(names, items, item_names, block, md, edges, A)
