"""Parameter and data checks shared by every public function.

One message template for bad options (scikit-learn style) and one for missing
columns (with a close-match suggestion), so errors read the same everywhere.
"""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Iterable, Sequence
from typing import Any, Literal, overload

import numpy as np
import pandas as pd

from .exceptions import ColumnNotFoundError, DriverkitError, DriverkitTypeError

__all__ = [
    "KINDS",
    "check_columns",
    "check_fraction",
    "check_int",
    "check_kind",
    "check_kwargs",
    "check_missing",
    "check_option",
    "check_positive",
    "check_random_state",
    "renamed",
    "suggest",
]


def suggest(name: str, candidates: Iterable[str]) -> str:
    """Return ``" Did you mean 'x'?"`` for the closest candidate, or ``""``."""
    cands = [str(c) for c in candidates]
    close = difflib.get_close_matches(str(name), cands, n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in cands}
        if str(name).lower() in lowered:
            close = [lowered[str(name).lower()]]
    return f" Did you mean '{close[0]}'?" if close else ""


def check_option(value: Any, name: str, allowed: Sequence[Any], func: str) -> Any:
    """Raise if ``value`` is not one of ``allowed``.

    The message follows one template: "The 'method' parameter of importance() must be
    one of {...}. Got 'lmgg' instead."
    """
    if value not in allowed:
        opts = ", ".join(repr(a) for a in allowed)
        hint = suggest(value, [str(a) for a in allowed]) if isinstance(value, str) else ""
        raise DriverkitError(
            f"The '{name}' parameter of {func}() must be one of {{{opts}}}. "
            f"Got {value!r} instead.{hint}"
        )
    return value


def check_positive(value: Any, name: str, func: str, *, strict: bool = True,
                   allow_none: bool = False) -> Any:
    """Raise unless ``value`` is a finite real number > 0 (or >= 0 with ``strict=False``)."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise DriverkitTypeError(
            f"The '{name}' parameter of {func}() must be a number. Got {value!r} instead."
        )
    v = float(value)
    if not np.isfinite(v) or (v <= 0 if strict else v < 0):
        bound = "> 0" if strict else ">= 0"
        raise DriverkitError(
            f"The '{name}' parameter of {func}() must be a finite number {bound}. "
            f"Got {value!r} instead."
        )
    return value


def check_fraction(value: Any, name: str, func: str, *, open_left: bool = True,
                   open_right: bool = True) -> float:
    """Raise unless ``value`` lies in (0, 1) (ends included per the flags)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise DriverkitTypeError(
            f"The '{name}' parameter of {func}() must be a number in (0, 1). Got {value!r}."
        )
    v = float(value)
    lo_ok = v > 0 if open_left else v >= 0
    hi_ok = v < 1 if open_right else v <= 1
    if not (lo_ok and hi_ok):
        lo = "(0" if open_left else "[0"
        hi = "1)" if open_right else "1]"
        raise DriverkitError(
            f"The '{name}' parameter of {func}() must lie in {lo}, {hi}. Got {value!r} instead."
        )
    return float(value)


def check_columns(data: pd.DataFrame, columns: Iterable[str], *, role: str = "column") -> None:
    """Raise :class:`ColumnNotFoundError` naming each missing column with a close match."""
    if not isinstance(data, pd.DataFrame):
        raise DriverkitTypeError(
            f"Expected a pandas DataFrame of respondents, got {type(data).__name__}. "
            "Try pd.DataFrame(...) or pd.read_csv(...) first."
        )
    present = [str(c) for c in data.columns]
    for col in columns:
        if col not in data.columns:
            raise ColumnNotFoundError(
                f"The {role} '{col}' is not a column of the data.{suggest(col, present)} "
                f"Available columns: {', '.join(present[:30])}"
                + (" ..." if len(present) > 30 else "")
            )


def check_kwargs(kwargs: dict[str, Any], func: str) -> None:
    """Reject unknown keyword arguments by name (instead of swallowing them)."""
    if kwargs:
        names = ", ".join(repr(k) for k in kwargs)
        raise DriverkitTypeError(f"{func}() got unexpected keyword argument(s) {names}.")


def check_random_state(seed: Any) -> np.random.Generator:
    """Turn ``None``, an int or a Generator into a :class:`numpy.random.Generator`."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, numbers.Integral | np.random.SeedSequence):
        return np.random.default_rng(seed)  # type: ignore[arg-type]
    raise DriverkitTypeError(f"'seed' must be None, an int or a numpy Generator; got {seed!r}.")


def warn(message: str, category: type[Warning]) -> None:
    """Issue a warning attributed to the first caller outside driverkit.

    Warnings then point at the user's line (``dk.fit(...)``), however deep inside the
    library they were raised.
    """
    import os
    import sys
    import warnings

    pkg_dir = os.path.dirname(os.path.abspath(__file__))
    level = 2  # stacklevel 2 is warn()'s caller, i.e. sys._getframe(1)
    frame: Any = sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(pkg_dir):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)


#: The ``missing=`` vocabulary shared by every entry point (see ``data/_missing.py``).
MISSING_POLICIES = ("listwise", "pairwise", "mean", "dummy", "impute", "raise")
#: Policies a model family supports: pairwise needs covariances, so linear models only.
_MISSING_BY_KIND = {
    "linear": MISSING_POLICIES,
    "logit": ("listwise", "mean", "dummy", "impute", "raise"),
    "probit": ("listwise", "mean", "dummy", "impute", "raise"),
    "ordinal": ("listwise", "mean", "dummy", "impute", "raise"),
}


def check_missing(missing: Any, func: str, kind: str | None = None,
                  allowed: Sequence[str] | None = None) -> str:
    """Validate a ``missing=`` policy (and that it applies to this kind of model).

    ``"drop"`` is accepted as an alias of ``"listwise"``. A GLM with ``"pairwise"`` is an
    error that lists the policies that do apply.
    """
    if missing == "drop":
        missing = "listwise"
    check_option(missing, "missing", allowed or MISSING_POLICIES, func)
    if kind is not None and missing not in _MISSING_BY_KIND.get(kind, MISSING_POLICIES):
        ok = ", ".join(repr(p) for p in _MISSING_BY_KIND[kind])
        raise DriverkitError(
            f"missing={missing!r} in {func}() works for linear models only: pairwise "
            f"deletion builds the model from pairwise covariances, which a kind='{kind}' "
            f"model does not use. Use one of {ok} (missing='impute' for multiple "
            "imputation)."
        )
    return str(missing)


#: Outcome model kinds, defined once; a function that supports fewer says which with
#: :func:`check_kind` (one message for "not supported").
KINDS = ("linear", "logit", "probit", "ordinal")
_KIND_ALTERNATIVE = {"probit": "logit", "ordinal": "linear", "logit": "linear", "linear": "logit"}


def check_kind(kind: Any, func: str, supported: Sequence[str] = KINDS) -> str:
    """Validate ``kind=``: one of :data:`KINDS`, and one that ``func`` supports.

    An unknown kind gets the usual option message; a known kind that this function does
    not support gets "kind='probit' is not supported by importance(); use kind='logit'".
    """
    check_option(kind, "kind", KINDS, func)
    if kind not in supported:
        alt = _KIND_ALTERNATIVE[kind]
        alt = alt if alt in supported else supported[0]
        raise DriverkitError(
            f"kind={kind!r} is not supported by {func}(); use kind={alt!r} (supported: "
            f"{', '.join(repr(k) for k in supported)})."
        )
    return str(kind)


@overload
def check_int(value: Any, name: str, func: str, *, low: int = ...,
              allow_none: Literal[False] = ...) -> int: ...


@overload
def check_int(value: Any, name: str, func: str, *, low: int = ...,
              allow_none: bool) -> int | None: ...


def check_int(value: Any, name: str, func: str, *, low: int = 0,
              allow_none: bool = False) -> int | None:
    """Raise unless ``value`` is an integer >= ``low`` (bools are not integers here)."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise DriverkitError(
            f"The '{name}' parameter of {func}() must be an integer >= {low}. "
            f"Got {value!r} instead."
        )
    return int(value)


def check_progress(progress: Any, func: str) -> bool | None:
    """``progress=``: ``None`` (automatic: bars for long jobs only), ``True`` or ``False``."""
    if progress is not None and not isinstance(progress, bool | np.bool_):
        raise DriverkitTypeError(
            f"The 'progress' parameter of {func}() must be True, False or None (automatic). "
            f"Got {progress!r} instead."
        )
    return None if progress is None else bool(progress)


def renamed(new_value: Any, old_value: Any, new: str, old: str, func: str) -> Any:
    """The value of an argument renamed in 0.2 (``old=`` still works for one release).

    Passing the old name gives a :class:`DeprecationWarning`; passing both is an error.
    """
    if old_value is None:
        return new_value
    if new_value is not None:
        raise DriverkitTypeError(f"{func}() got both {new}= and its old name {old}=; give "
                                 f"{new}= only.")
    import warnings

    warnings.warn(f"{func}({old}=...) is deprecated and will be removed in the next release; "
                  f"use {new}=... (the name every driverkit function uses).",
                  DeprecationWarning, stacklevel=3)
    return old_value
