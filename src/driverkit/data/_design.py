"""The design of an analysis: column classification, :class:`DesignSpec` and :class:`DriverData`.

:class:`DesignSpec` rebuilds the design matrix on new data (``predict``, the simulator);
:class:`DriverData` holds the validated arrays that :func:`~driverkit.data.prepare` returns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_columns
from ..exceptions import (
    DataError,
    DriverkitTypeError,
)
from . import _checks, _missing


# --------------------------------------------------------------------------------------
# column classification
# --------------------------------------------------------------------------------------
def _is_text_like(s: pd.Series) -> bool:
    return bool(
        pd.api.types.is_object_dtype(s)
        or pd.api.types.is_string_dtype(s)
        or isinstance(s.dtype, pd.CategoricalDtype)
    )


def _numeric_or_factor(s: pd.Series, name: str, role: str) -> tuple[str, pd.Series]:
    """Classify a column as ``"numeric"`` (returned as float) or ``"factor"``.

    Text whose non-missing values all parse as numbers is numeric; text where none parse is
    a factor; a mixture is an error naming the offending values (e.g. "n/a" among ratings).
    """
    if isinstance(s.dtype, pd.CategoricalDtype):
        return "factor", s
    if pd.api.types.is_bool_dtype(s):
        return "numeric", s.astype(float)
    if pd.api.types.is_numeric_dtype(s):
        return "numeric", s.astype(float)
    if _is_text_like(s):
        nonnull = s.dropna()
        if nonnull.empty:
            return "numeric", pd.to_numeric(s, errors="coerce").astype(float)
        parsed = pd.to_numeric(nonnull.astype(str).str.strip(), errors="coerce")
        bad = nonnull[parsed.isna()]
        if bad.empty:
            return "numeric", pd.to_numeric(s.astype(str).str.strip().where(s.notna()),
                                            errors="coerce").astype(float)
        if len(bad) == len(nonnull):
            return "factor", s
        examples = ", ".join(repr(v) for v in pd.unique(bad.astype(str))[:5])
        comma = _checks.comma_decimal_values(s)
        if comma:
            raise DataError(
                f"The {role} column '{name}' holds numbers written with a decimal comma "
                f"({', '.join(map(repr, comma))}). Read the file with decimal=',' "
                "(pandas.read_csv(..., decimal=','); command line --decimal ,) or convert it "
                f"with pd.to_numeric(df['{name}'].str.replace(',', '.'))."
            )
        raise DataError(
            f"The {role} column '{name}' holds numbers but also {len(bad)} non-numeric value(s) "
            f"({examples}). Try 1) recoding them as missing, e.g. "
            f"df['{name}'] = pd.to_numeric(df['{name}'], errors='coerce'), or 2) fixing the "
            "export so the column is numeric."
        )
    raise DriverkitTypeError(
        f"The {role} column '{name}' has dtype {s.dtype}, which driverkit cannot use. "
        "Convert it to numbers or to text categories."
    )


def _factor_levels(s: pd.Series) -> list[Any]:
    if isinstance(s.dtype, pd.CategoricalDtype):
        present = set(s.dropna().unique())
        return [lv for lv in s.cat.categories if lv in present]
    return sorted(pd.unique(s.dropna()), key=lambda v: str(v))


def _clean_dummy_name(col: str) -> str:
    """``C(region)[T.north]`` → ``region[north]``; ``region[T.north]`` → ``region[north]``."""
    m = re.fullmatch(r"C\(\s*([^,\)]+?)\s*(?:,.*)?\)\[(?:T\.)?(.*)\]", col)
    if m:
        return f"{m.group(1)}[{m.group(2)}]"
    m = re.fullmatch(r"(.+)\[T\.(.*)\]", col)
    if m:
        return f"{m.group(1)}[{m.group(2)}]"
    return col


def _clean_term_name(term: str) -> str:
    m = re.fullmatch(r"C\(\s*([^,\)]+?)\s*(?:,.*)?\)", term)
    return m.group(1) if m else term


# --------------------------------------------------------------------------------------
# design specification (rebuilds the design on new data)
# --------------------------------------------------------------------------------------
@dataclass
class DesignSpec:
    """How to rebuild the design matrix from a DataFrame (used by ``predict`` and the simulator)."""

    columns: list[str]
    terms: dict[str, list[int]]
    numeric: list[str]
    factors: dict[str, list[Any]]
    order: list[str]
    formula_spec: Any = None  # a formulaic ModelSpec when built from a formula
    # missing="mean"/"dummy": fill values of numeric columns, indicator term -> source column,
    # factors whose skipped answers are the level "(not answered)"
    fill: dict[str, float] = field(default_factory=dict)
    indicators: dict[str, str] = field(default_factory=dict)
    na_levels: set[str] = field(default_factory=set)
    # factor levels whose dummy coincides with another factor's dummy (nested questions such
    # as "No internet service"): omitted, their effect carried by the first factor's dummy
    dropped: dict[str, list[Any]] = field(default_factory=dict)

    @property
    def raw_variables(self) -> list[str]:
        """Data columns the design reads."""
        if self.formula_spec is not None:
            return sorted(self.formula_spec.required_variables)
        return [c for c in self.order if c not in self.indicators]

    def _filled(self, data: pd.DataFrame) -> pd.DataFrame:
        """``data`` with the fills of the dummy/mean adjustment applied (a shallow copy)."""
        out = data.copy(deep=False)
        for ind, src in self.indicators.items():
            if ind not in data.columns:  # a frame completed for simulation carries its own
                out[ind] = data[src].isna().astype(float)
        for c, v in self.fill.items():
            out[c] = pd.to_numeric(data[c], errors="coerce").fillna(v) \
                if not pd.api.types.is_numeric_dtype(data[c]) else data[c].fillna(v)
        for c in self.na_levels:
            out[c] = data[c].astype(object).where(data[c].notna(), _missing.NOT_ANSWERED)
        return out

    def transform(self, data: pd.DataFrame, *, missing: str = "raise") -> np.ndarray:
        """Return the ``(n, k)`` design for ``data`` (no intercept).

        ``missing="raise"`` raises naming the columns with missing values; ``"keep"``
        propagates NaN rows (the caller must drop them).
        """
        check_columns(data, self.raw_variables, role="driver")
        if self.fill or self.indicators or self.na_levels:
            data = self._filled(data)
        if missing == "raise":
            na = data[self.raw_variables].isna().sum()
            na = na[na > 0]
            if len(na):
                desc = ", ".join(f"'{c}' ({int(k)} rows)" for c, k in na.items())
                raise DataError(
                    f"Missing values in {desc}. Drop or impute these rows before predicting."
                )
        if self.formula_spec is not None:
            mm = self.formula_spec.get_model_matrix(data, na_action="ignore")
            arr = np.asarray(mm, dtype=float)
            names = [_clean_dummy_name(str(c)) for c in mm.columns]
            keep = [i for i, c in enumerate(names) if c != "Intercept"]
            return arr[:, keep]
        out = np.empty((len(data), len(self.columns)), dtype=float)
        for name in self.order:
            idx = self.terms[name]
            s = data[name]
            if name in self.factors:
                levels = self.factors[name]
                vals = s.astype(object).to_numpy()
                known = set(levels)
                unknown = {v for v in pd.unique(s.dropna()) if v not in known}
                if unknown:
                    shown = ", ".join(repr(u) for u in list(unknown)[:5])
                    raise DataError(
                        f"Column '{name}' has level(s) {shown} not seen when the model was "
                        f"fitted (known: {', '.join(map(repr, levels))})."
                    )
                kept = [lv for lv in levels[1:] if lv not in self.dropped.get(name, [])]
                for j, lv in zip(idx, kept, strict=True):
                    col = (vals == lv).astype(float)
                    col[pd.isna(s).to_numpy()] = np.nan
                    out[:, j] = col
            else:
                _, num = _numeric_or_factor(s, name, "driver")
                out[:, idx[0]] = num.to_numpy(dtype=float)
        return out


# --------------------------------------------------------------------------------------
# DriverData
# --------------------------------------------------------------------------------------
@dataclass(eq=False)
class DriverData:
    """Validated numeric arrays and metadata for one analysis (see ``docs/internals.md``)."""

    X: np.ndarray
    y: np.ndarray | None
    w: np.ndarray
    columns: list[str]
    drivers: list[str]
    covariates: list[str]
    terms: dict[str, list[int]]
    factors: dict[str, list[Any]]
    scales: dict[str, tuple[float, float]]
    declared_scales: set[str]
    outcome: str | None
    kind: str
    outcome_levels: list[Any] | None
    index: pd.Index
    n_dropped: int
    weight_type: str
    spec: DesignSpec
    notes: list[str] = field(default_factory=list)
    #: the missing-data policy applied ("listwise" when nothing was missing)
    policy: str = "listwise"
    #: facts for ``.meta``: rows used/dropped, cells filled, codes removed per column
    missing_meta: dict[str, Any] = field(default_factory=dict)
    #: missing="impute": one complete DriverData and one completed DataFrame per imputation
    imputed: list[DriverData] = field(default_factory=list)
    imputed_frames: list[pd.DataFrame] = field(default_factory=list)
    #: missing="dummy": the indicator covariates added
    indicators: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        return int(self.X.shape[0])

    @property
    def k(self) -> int:
        return int(self.X.shape[1])

    @property
    def has_weights(self) -> bool:
        return self.weight_type != "none"

    def loglike_weights(self) -> np.ndarray:
        """Weights for likelihoods: sampling weights rescaled to sum to n; frequency as given."""
        if self.weight_type == "sampling":
            return self.w * (self.n / self.w.sum())
        return self.w.copy()

    def driver_columns(self, name: str) -> np.ndarray:
        return self.X[:, self.terms[name]]

    @property
    def driver_design_indices(self) -> list[int]:
        return [i for d in self.drivers for i in self.terms[d]]
