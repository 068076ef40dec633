"""The data layer: one place that validates user input and turns it into arrays.

:func:`prepare` takes a DataFrame of respondents plus an outcome and drivers (column lists or
a formula string), weights, covariates, declared scales and a missing-data policy, and
returns a :class:`DriverData` (design matrix, outcome, weights, names, term map, scales).
Every model, importance method and simulator builds on it, so validation messages read the
same everywhere. The caller's DataFrame is never modified.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._validation import KINDS, check_columns, check_missing, check_option, suggest, warn
from ..exceptions import (
    CollinearityWarning,
    DataError,
    DriverkitTypeError,
    MissingDataWarning,
    ScaleWarning,
)
from . import _checks, _missing
from ._design import (
    DesignSpec,
    DriverData,
    _clean_dummy_name,
    _clean_term_name,
    _factor_levels,
    _numeric_or_factor,
)
from ._policies import (
    _fill_policy,
    _missing_notes,
    _outcome_scale,
    _pairwise_counts_check,
    _prepare_imputed,
    _safe_pair,
)
from ._prepare_inputs import (
    _as_list,
    _binary_outcome,
    _check_scales,
    _check_weights,
    _collinearity_check,
    _ordinal_outcome,
    _rescale_weights,
    _resolve_weights,
)

__all__ = ["KINDS", "DesignSpec", "DriverData", "prepare"]

# KINDS is defined once, in _validation (re-exported here for old imports)
MISSING = _missing.MISSING_POLICIES
WEIGHT_TYPES = ("sampling", "frequency")


def prepare(
    data: pd.DataFrame,
    outcome: str | None,
    drivers: Sequence[str] | str | None = None,
    *,
    kind: str = "linear",
    weights: Any = None,
    covariates: Sequence[str] | str | None = None,
    scales: Mapping[str, Any] | None = None,
    missing: str = "listwise",
    positive: Any = None,
    weight_type: str = "sampling",
    func: str = "fit",
    check_collinearity: bool = True,
    min_extra_rows: int = 2,
    na_values: Any = None,
    imputations: int = 20,
    seed: Any = None,
) -> DriverData:
    """Validate a respondent DataFrame and return its design arrays.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent. Never modified.
    outcome : str or None
        Outcome column, or a formula ``"y ~ a + b + C(region)"`` (then ``drivers=None``).
        ``None`` prepares drivers only (prediction, simulation inputs).
    drivers : list of str, optional
        Driver columns. Text/categorical columns become factors (one driver each).
    kind : {"linear", "logit", "probit", "ordinal"}, default="linear"
        Decides how the outcome is validated and coded.
    weights : str, pandas.Series or array-like, optional
        Column name, a Series (matched to the rows by index label) or one weight per row
        (>= 0, not all zero).
    covariates : list of str, optional
        Always-in control variables (not drivers).
    scales : dict, optional
        Declared rating bounds ``{"staff": (1, 10)}``; otherwise the observed min/max. The
        outcome's scale may be declared too (answers outside it are reported).
    missing : {"listwise", "pairwise", "mean", "dummy", "impute", "raise"}, default="listwise"
        What to do with skipped answers (see ``methods.md``, "Missing answers"): drop
        incomplete rows (warning with the count, the share and the costliest columns); keep
        them with missing values for pairwise covariances (linear only); fill with the
        weighted mean; fill and add a "not answered" indicator per driver (kept as an
        always-in covariate; a categorical driver gets the level "(not answered)");
        multiple imputation (``imputations`` completed data sets in ``.imputed``); or raise.
        Rows with a missing outcome are always dropped.
    positive : optional
        The event value of a binary outcome given as two text values.
    weight_type : {"sampling", "frequency"}, default="sampling"
    func : str
        The public function name used in error messages.
    na_values : list, scalar or dict, optional
        Codes meaning "no answer" (``[99, "Don't know"]`` or ``{"staff": [99]}``), made
        missing before anything else; the counts per code are in ``.missing_meta``.
    imputations : int, default=20
        Number of imputed data sets for ``missing="impute"``.
    seed : int or numpy Generator, optional
        Makes the imputations reproducible.

    Returns
    -------
    DriverData

    Examples
    --------
    >>> import pandas as pd
    >>> from driverkit.data import prepare
    >>> df = pd.DataFrame({"y": [1.0, 2, 4, 3, 5, 6], "a": [1, 2, 3, 3, 5, 6],
    ...                    "b": [2, 1, 2, 5, 4, 6]})
    >>> dd = prepare(df, "y", ["a", "b"])
    >>> dd.X.shape, dd.columns
    ((6, 2), ['a', 'b'])
    """
    if not isinstance(data, pd.DataFrame):
        raise DriverkitTypeError(
            f"{func}() needs a pandas DataFrame of respondents as data, got {type(data).__name__}."
        )
    check_option(kind, "kind", KINDS, func)
    missing = check_missing(missing, func, kind)
    check_option(weight_type, "weight_type", WEIGHT_TYPES, func)
    if missing == "impute":
        imputations = _missing.check_imputations(imputations, func)
    if isinstance(data.columns, pd.MultiIndex):
        raise DriverkitTypeError(f"{func}() needs flat column names, not a MultiIndex.")
    orig_outcome, orig_drivers = outcome, drivers

    formula_rhs: str | None = None
    if isinstance(outcome, str) and "~" in outcome:
        if drivers is not None:
            raise DriverkitTypeError(
                f"{func}() got both a formula and drivers=; put every driver in the formula."
            )
        lhs, rhs = outcome.split("~", 1)
        outcome = lhs.strip()
        formula_rhs = rhs.strip()
        if not outcome:
            raise DataError(f"The formula in {func}() has no outcome left of '~'.")
        drivers_list: list[str] = []
        if missing in ("pairwise", "mean", "dummy"):
            raise DataError(
                f"missing={missing!r} needs drivers as a list of columns, not a formula; "
                "use drivers=[...] (categorical columns become factors by themselves)."
            )
    else:
        drivers_list = _as_list(drivers, "drivers", func)
        if not drivers_list:
            raise DataError(
                f"{func}() needs drivers: pass drivers=[...] or a formula 'outcome ~ a + b'."
            )
    cov_list = _as_list(covariates, "covariates", func)
    if outcome is not None and not isinstance(outcome, str):
        if isinstance(outcome, int | np.integer) and not isinstance(outcome, bool):
            outcome = str(outcome)
        else:
            raise DriverkitTypeError(f"The outcome of {func}() must be a column name or formula.")
    data = _checks.check_labels(
        data, [outcome, *drivers_list, *cov_list, weights if isinstance(weights, str) else None],
        func)

    # ---- which raw columns are used --------------------------------------------------
    spec_formula = None
    if formula_rhs is not None:
        import formulaic

        try:
            parsed = formulaic.Formula(formula_rhs)
        except Exception as exc:  # formulaic raises several parser error types
            raise DataError(f"Could not parse the formula '{formula_rhs}': {exc}") from None
        raw_vars = sorted(
            {str(v) for t in parsed for f in t.factors for v in _factor_variables(f, data)}
        )
        if not raw_vars:
            raise DataError(f"The formula '{formula_rhs}' names no driver columns.")
        needed = raw_vars + cov_list
    else:
        dup = {d for d in drivers_list if drivers_list.count(d) > 1}
        if dup:
            raise DataError(f"The driver(s) {sorted(dup)} are listed more than once.")
        needed = drivers_list + cov_list
    both = set(cov_list) & set(drivers_list)
    if both:
        raise DataError(
            f"{sorted(both)} are listed both as drivers and as covariates; use one role."
        )
    cols_to_check = ([outcome] if outcome is not None else []) + needed
    check_columns(data, [c for c in cols_to_check if c is not None], role="column")
    if outcome is not None and outcome in needed:
        raise DataError(f"The outcome '{outcome}' is also listed as a driver or covariate.")
    if isinstance(weights, str) and weights in cols_to_check:
        raise DataError(
            f"The weights column '{weights}' is also the outcome, a driver or a covariate; "
            "survey weights describe respondents and cannot be analysed as an answer."
        )

    w_raw, w_label = _resolve_weights(data, weights, func)
    if w_raw is not None:
        _check_weights(w_raw, str(w_label))
        w_raw = _rescale_weights(w_raw, str(w_label), weight_type)

    # ---- "no answer" codes first -------------------------------------------------------
    n_total = len(data)
    data, na_counts = _missing.apply_na_values(data, na_values, cols_to_check, func)
    declared_outcome = None
    if (scales is not None and isinstance(scales, Mapping) and outcome is not None
            and outcome in scales):
        declared_outcome = _outcome_scale(scales[outcome], str(outcome))
        scales = {k: v for k, v in scales.items() if k != outcome}

    # ---- classify columns (on a copy; never touch the caller's frame) -----------------
    frame = data.loc[:, list(dict.fromkeys(needed))].copy()
    numeric_cols: list[str] = []
    factor_cols: list[str] = []
    declared_in = scales if isinstance(scales, Mapping) else {}
    if formula_rhs is None:
        for name in needed:
            role = "driver" if name in drivers_list else "covariate"
            kind_, col = _numeric_or_factor(data[name], name, role)
            frame[name] = col
            if kind_ == "numeric":
                numeric_cols.append(name)
                x = col.to_numpy(dtype=float)
                _checks.check_magnitude(x, name, role)
                sc = declared_in.get(name)
                _checks.warn_code_values(x, name, _safe_pair(sc))
            else:
                factor_cols.append(name)
                _checks.warn_decimal_comma(data[name], name, role)

    # ---- outcome --------------------------------------------------------------------
    y_series = data[outcome] if outcome is not None else None
    y: np.ndarray | None = None
    outcome_levels: list[Any] | None = None
    if y_series is not None:
        assert outcome is not None
        if kind in ("logit", "probit"):
            y, outcome_levels = _binary_outcome(y_series, outcome, positive)
        elif kind == "ordinal":
            y, outcome_levels = _ordinal_outcome(y_series, outcome)
        else:
            kind_, num = _numeric_or_factor(y_series, outcome, "outcome")
            if kind_ == "factor":
                _checks.warn_decimal_comma(y_series, outcome, "outcome")
                raise DataError(
                    f"The outcome '{outcome}' is text; a linear model needs numbers. Use "
                    "kind='logit' (with positive=...) or kind='ordinal'."
                )
            y = num.to_numpy(dtype=float).copy()
            _checks.check_magnitude(y, outcome, "outcome")
            _checks.warn_code_values(y, outcome, declared_outcome)
        if declared_outcome is not None and kind == "linear":
            lo_, hi_ = declared_outcome
            out_n = int(((y < lo_) | (y > hi_)).sum())
            if out_n:
                warn(f"{out_n} value(s) of the outcome '{outcome}' lie outside its declared "
                     f"scale [{lo_:g}, {hi_:g}]. Check the scale, or pass na_values= for codes.",
                     ScaleWarning)

    # ---- missing values ---------------------------------------------------------------
    mmeta: dict[str, Any] = {"missing": "listwise", "rows": n_total}
    if na_counts:
        mmeta["na_values removed"] = na_counts
    any_missing = bool(frame.isna().to_numpy().any()) or (y is not None and np.isnan(y).any())
    if missing == "impute" and any_missing:
        return _prepare_imputed(
            data, frame, y, orig_outcome, orig_drivers, outcome, needed, numeric_cols,
            factor_cols, formula_rhs is not None, mmeta, imputations, seed,
            dict(kind=kind, weights=w_raw if w_raw is not None else None,
                 covariates=covariates, scales=scales, positive=positive,
                 weight_type=weight_type, func=func, check_collinearity=check_collinearity,
                 min_extra_rows=min_extra_rows), prepare, _numeric_or_factor)
    fill: dict[str, float] = {}
    indicators: dict[str, str] = {}
    na_levels: set[str] = set()
    pairwise = missing == "pairwise" and any_missing
    if missing in ("mean", "dummy") and any_missing:
        frame, y, w_raw, data, cov_list, numeric_cols, needed = _fill_policy(
            missing, frame, y, w_raw, data, outcome, drivers_list, cov_list, numeric_cols,
            factor_cols, needed, fill, indicators, na_levels, mmeta, func)
    if pairwise:
        keep = ~(frame.isna().all(axis=1).to_numpy())
        if y is not None:
            keep &= ~np.isnan(y)
        n_dropped = int((~keep).sum())
        mmeta["missing"] = "pairwise"
    else:
        na_mask = frame.isna().any(axis=1).to_numpy().copy()
        if y is not None:
            na_mask |= np.isnan(y)
        n_dropped = int(na_mask.sum())
        if n_dropped:
            look = frame.copy()
            if y is not None:
                look.insert(0, str(outcome), y)
            info = _missing.missing_summary(look, outcome)
            parts = [("outcome " if c == outcome else "") + f"'{c}' ({k})"
                     for c, k in info["per_column"].items()]
            if missing == "raise":
                raise DataError(
                    "Missing values in " + ", ".join(parts) + ". Drop or impute them, or pass "
                    "missing='listwise' (drop incomplete rows), 'impute', 'pairwise', 'mean' "
                    "or 'dummy'."
                )
            if n_dropped == len(data):
                raise DataError(
                    "Every row has a missing value in " + ", ".join(parts) + "; nothing is "
                    "left. Try missing='impute' or 'pairwise', or leave out the emptiest "
                    "columns."
                )
            warn(_missing.listwise_message(func, info, outcome), MissingDataWarning)
            mmeta["rows dropped (listwise)"] = n_dropped
        keep = ~na_mask
    frame = frame.loc[keep]
    index = data.index[keep]
    if y is not None:
        y = y[keep]
    w = w_raw[keep] if w_raw is not None else np.ones(int(keep.sum()))
    if w_raw is not None and w.sum() <= 0:
        raise DataError("After dropping incomplete rows, every remaining weight is zero.")
    mmeta["rows used"] = int(keep.sum())

    # ---- design ------------------------------------------------------------------------
    terms: dict[str, list[int]] = {}
    factors: dict[str, list[Any]] = {}
    if formula_rhs is not None:
        import formulaic

        for c in cov_list:
            if c in numeric_cols or c in factor_cols:
                continue
            kind_, col = _numeric_or_factor(data[c], c, "covariate")
            (numeric_cols if kind_ == "numeric" else factor_cols).append(c)
        rhs_full = formula_rhs + "".join(f" + `{c}`" for c in cov_list)
        try:
            mm = formulaic.model_matrix(rhs_full, frame, na_action="raise")
        except Exception as exc:
            raise DataError(f"Could not build the design for '{formula_rhs}': {exc}") from None
        spec_formula = mm.model_spec
        raw_names = [str(c) for c in mm.columns]
        keep_cols = [i for i, c in enumerate(raw_names) if c != "Intercept"]
        X = np.asarray(mm, dtype=float)[:, keep_cols]
        columns = [_clean_dummy_name(raw_names[i]) for i in keep_cols]
        pos = {orig: new for new, orig in enumerate(keep_cols)}
        for term, sl in mm.model_spec.term_slices.items():
            tname = _clean_term_name(str(term)).strip("`")
            idx = [pos[i] for i in range(sl.start, sl.stop) if i in pos]
            if not idx:
                continue
            terms[tname] = idx
            if len(idx) > 1 or any("[" in columns[i] for i in idx):
                factors[tname] = [columns[i].split("[", 1)[-1].rstrip("]") for i in idx]
        drivers_list = [t for t in terms if t not in cov_list]
        numeric_drivers = [d for d in drivers_list if d not in factors and d in data.columns]
        order = list(terms)
    else:
        blocks: list[np.ndarray] = []
        columns = []
        for name in needed:
            if name in factor_cols:
                s = frame[name]
                levels = _factor_levels(s)
                if len(levels) < 2:
                    raise DataError(
                        f"The categorical driver '{name}' has a single level "
                        f"({levels[0]!r}) among the respondents used; remove it."
                        if levels else
                        f"The categorical driver '{name}' has no answers among the "
                        "respondents used; remove it."
                    )
                factors[name] = levels
                vals = s.astype(object).to_numpy()
                isna = pd.isna(s).to_numpy()
                idx = []
                for lv in levels[1:]:
                    col = (vals == lv).astype(float)
                    col[isna] = np.nan
                    blocks.append(col[:, None])
                    columns.append(f"{name}[{lv}]")
                    idx.append(len(columns) - 1)
                terms[name] = idx
            else:
                blocks.append(frame[name].to_numpy(dtype=float)[:, None])
                columns.append(name)
                terms[name] = [len(columns) - 1]
        X = np.hstack(blocks) if blocks else np.empty((len(frame), 0))
        numeric_drivers = [d for d in drivers_list if d in numeric_cols]
        order = list(needed)

    # reorder design: drivers first, then covariates
    order_names = drivers_list + [c for c in cov_list if c in terms]
    perm = [i for nm in order_names for i in terms[nm]]
    X = X[:, perm]
    columns = [columns[i] for i in perm]
    remap = {old: new for new, old in enumerate(perm)}
    terms = {nm: [remap[i] for i in terms[nm]] for nm in order_names}

    dropped: dict[str, list[Any]] = {}
    notes_nested: list[str] = []
    if formula_rhs is None and factors and not pairwise:
        X, columns, terms, dropped, notes_nested = _merge_coinciding_levels(
            X, columns, terms, factors, w)
    spec = DesignSpec(columns=columns, terms=terms, numeric=numeric_drivers, factors=factors,
                      order=order, formula_spec=spec_formula, fill=fill,
                      indicators=indicators, na_levels=na_levels, dropped=dropped)

    _n, k = X.shape
    if np.isinf(X).any() or (not pairwise and not np.isfinite(X).all()):
        bad = [columns[j] for j in range(k) if np.isinf(X[:, j]).any()]
        raise DataError(f"The column(s) {bad} contain infinite values. Recode them as "
                        "missing (na_values=) or fix the export.")
    if y is not None and not np.isfinite(y).all():
        raise DataError(f"The outcome '{outcome}' contains infinite values. Recode them as "
                        "missing or fix the export.")
    n_eff_rows = int((w > 0).sum())
    if n_eff_rows < k + min_extra_rows:
        raise DataError(
            f"Only {n_eff_rows} usable rows for {k} design column(s) (+ intercept): a model "
            f"needs at least {k + min_extra_rows} rows. Use fewer drivers or more respondents"
            + (", or missing='impute' / 'pairwise' to use the incomplete rows."
               if n_dropped else ".")
        )

    owner = {i: nm for nm, idx in terms.items() for i in idx}
    if pairwise:
        _pairwise_counts_check(X, y, columns, owner, outcome, k + min_extra_rows)
    elif check_collinearity and k > 0:
        _collinearity_check(X[w > 0], w[w > 0], columns, owner)
    if y is not None and kind == "linear" and np.ptp(y[w > 0]) == 0:
        raise DataError(f"The outcome '{outcome}' is constant; there is nothing to explain.")
    if y is not None and kind == "ordinal":
        present = np.unique(y)
        if len(present) < 2:
            raise DataError(f"The ordinal outcome '{outcome}' has a single category left.")

    # ---- scales -------------------------------------------------------------------------
    declared = _check_scales(scales, numeric_drivers, func, drivers_list)
    notes: list[str] = list(notes_nested)
    final_scales: dict[str, tuple[float, float]] = {}
    observed: list[str] = []
    for d in numeric_drivers:
        col = X[:, terms[d][0]]
        lo, hi = float(np.nanmin(col)), float(np.nanmax(col))
        if d in declared:
            dlo, dhi = declared[d]
            out = int(((col < dlo) | (col > dhi)).sum())
            if out:
                warn(
                    f"{out} rating(s) of '{d}' lie outside its declared scale "
                    f"[{dlo:g}, {dhi:g}] (observed {lo:g}..{hi:g}). Check the scale or the data"
                    " (na_values= turns 'don't know' codes into missing answers).",
                    ScaleWarning,
                )
            final_scales[d] = (dlo, dhi)
        else:
            final_scales[d] = (lo, hi)
            observed.append(d)
    if observed:
        notes.append(
            "Scales not declared for " + ", ".join(observed)
            + "; using the observed min/max. Pass scales={...} to declare them."
        )
    if any_missing and missing != "listwise":
        mmeta["missing"] = missing
    notes.extend(_missing_notes(mmeta, n_dropped, indicators))

    weight_kind = "none" if w_raw is None else weight_type
    return DriverData(
        X=np.ascontiguousarray(X),
        y=y,
        w=w.astype(float),
        columns=columns,
        drivers=drivers_list,
        covariates=[c for c in cov_list if c in terms],
        terms=terms,
        factors=factors,
        scales=final_scales,
        declared_scales=set(declared),
        outcome=outcome,
        kind=kind,
        outcome_levels=outcome_levels,
        index=index,
        n_dropped=n_dropped,
        weight_type=weight_kind,
        spec=spec,
        notes=notes,
        policy=mmeta["missing"],
        missing_meta=mmeta,
        indicators=list(indicators),
    )


def _merge_coinciding_levels(X: np.ndarray, columns: list[str], terms: dict[str, list[int]],
                             factors: dict[str, list[Any]], w: np.ndarray
                             ) -> tuple[np.ndarray, list[str], dict[str, list[int]],
                                        dict[str, list[Any]], list[str]]:
    """Drop level dummies of later factors that pick exactly the respondents of an earlier
    factor's level dummy (e.g. "No internet service" of every follow-up question).

    Such a design is not rank deficient because the factors carry the same information, but
    because one question was asked only of some respondents; the shared level gets one effect
    (carried by the first factor's dummy) and the other levels stay estimable.
    """
    owner = {j: nm for nm, idx in terms.items() for j in idx}
    seen: dict[bytes, int] = {}
    drop: list[int] = []
    for nm, idx in terms.items():
        if nm not in factors:
            continue
        for j in idx:
            key = X[w > 0, j].tobytes()
            if key in seen and owner[seen[key]] != nm:
                drop.append(j)
            else:
                seen.setdefault(key, j)
    if not drop:
        return X, columns, terms, {}, []
    dropped: dict[str, list[Any]] = {}
    pairs = []
    for j in drop:
        nm = owner[j]
        lv = columns[j][len(nm) + 1 : -1]
        dropped.setdefault(nm, []).append(lv)
        first = next(c for c, v in seen.items() if v != j and c == X[w > 0, j].tobytes())
        pairs.append(f"'{columns[j]}' = '{columns[seen[first]]}'")
    lost = [nm for nm, idx in terms.items() if idx and all(j in drop for j in idx)]
    if lost:
        raise DataError(
            f"Every level of the categorical driver(s) {lost} coincides with a level of another "
            "driver (" + "; ".join(pairs[:4]) + "); they carry the same information. Keep one."
        )
    keep = [j for j in range(X.shape[1]) if j not in set(drop)]
    remap = {old: new for new, old in enumerate(keep)}
    terms = {nm: [remap[j] for j in idx if j in remap] for nm, idx in terms.items()}
    note = ("Levels that pick exactly the same respondents as a level of another driver "
            "(a question asked only of some respondents) share one effect: "
            + "; ".join(pairs[:6]) + (" ..." if len(pairs) > 6 else "")
            + ". The shared level's effect is reported on the first driver.")
    warn(note, CollinearityWarning)
    return X[:, keep], [columns[j] for j in keep], terms, dropped, [note]


def _factor_variables(factor: Any, data: pd.DataFrame) -> list[str]:
    """Raw data columns a formulaic factor reads (names that are columns of ``data``)."""
    text = str(factor.expr) if hasattr(factor, "expr") else str(factor)
    if text in data.columns:
        return [text]
    if re.fullmatch(r"[0-9.]+", text.strip()):
        return []  # the intercept term
    tokens = re.findall(r"`([^`]+)`|([A-Za-z_][A-Za-z0-9_\.]*)", text)
    names = [a or b for a, b in tokens]
    found = [n for n in names if n in data.columns]
    if not found:
        raise DataError(
            f"The formula term '{text}' names no column of the data."
            + suggest(names[-1] if names else text, [str(c) for c in data.columns])
        )
    return found
