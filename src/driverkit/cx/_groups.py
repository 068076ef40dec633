"""Per-group analyses shared by segment and wave comparisons.

A *group fit* runs the same importance analysis (with a respondent bootstrap for standard
errors) and the same driver model on one subset of respondents; comparisons of two group
fits use Welch-type z-tests, difference / √(SE₁² + SE₂²), which are valid for independent
samples with unequal variances (Welch 1947; the bootstrap SE of a Shapley value as in
Grömping 2006).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._results import Result
from ..exceptions import DataError, DriverkitError

__all__ = ["GroupFit", "fit_group", "importance_options"]

#: keyword arguments of dk.importance that the group comparisons set themselves
_RESERVED = ("data", "outcome", "drivers", "weights", "bootstrap", "seed", "ci", "corr", "n")


def importance_options(opts: dict[str, Any], func: str) -> dict[str, Any]:
    """Validate pass-through options for dk.importance (names only; it checks values)."""
    import inspect

    from ..importance import importance

    allowed = set(inspect.signature(importance).parameters) - set(_RESERVED)
    bad = [k for k in opts if k not in allowed]
    if bad:
        from .._validation import suggest

        hint = suggest(bad[0], sorted(allowed))
        raise DriverkitError(
            f"{func}() got unexpected keyword argument(s) {', '.join(map(repr, bad))}; "
            f"importance options are {', '.join(sorted(allowed))}.{hint}"
        )
    if opts.get("method") in ("all", "dominance"):
        raise DriverkitError(
            f"{func}() compares one importance measure; method='{opts['method']}' is not "
            "supported here (use 'shapley', 'relative_weights', 'pratt', ...)."
        )
    return dict(opts)


@dataclass
class GroupFit:
    """Importance (with bootstrap SEs and rank intervals) and coefficients of one group."""

    label: Any
    n: int
    importance: pd.Series
    share: pd.Series
    rank: pd.Series
    std_error: pd.Series
    rank_low: pd.Series
    rank_high: pd.Series
    coef: pd.Series
    coef_se: pd.Series
    result: Any
    model: Any


def fit_group(frame: pd.DataFrame, label: Any, outcome: str, drivers: list[str], w: np.ndarray,
              *, weighted: bool, kind: str, bootstrap: int, rng: np.random.Generator,
              ci: float, opts: dict[str, Any], func: str, role: str) -> GroupFit:
    """Run importance (bootstrap) and the driver model on one group of respondents."""
    from ..importance import importance
    from ..models import DriverModel

    if len(frame) < len(drivers) + 3:
        raise DataError(
            f"The {role} {label!r} has only {len(frame)} respondents, too few to estimate "
            f"{len(drivers)} drivers. Merge it with another {role} or drop it."
        )
    wt = w if weighted else None
    res = importance(frame, outcome, drivers, kind=kind, weights=wt, bootstrap=bootstrap,
                     seed=rng, ci=ci, **opts)
    t = res.table
    if "std_error" not in t.columns:
        raise DriverkitError(f"{func}() needs bootstrap standard errors of the importances.")
    rc = res.rank_ci
    rank_low = rc["rank_low"] if rc is not None else t["rank"]
    rank_high = rc["rank_high"] if rc is not None else t["rank"]

    coef = pd.Series(np.nan, index=t.index, dtype=float)
    coef_se = pd.Series(np.nan, index=t.index, dtype=float)
    model = None
    model_kind = kind if kind in ("linear", "logit", "ordinal") else "linear"
    always = opts.get("always")
    try:
        model = DriverModel(outcome, drivers, kind=model_kind, weights=wt,
                            covariates=always, positive=opts.get("positive"),
                            missing=opts.get("missing", "listwise"),
                            vif_threshold=np.inf).fit(frame)
    except DataError:
        model = None
    if model is not None:
        mt = model.table
        for name in t.index:
            if name in mt.index:   # a numeric driver: one coefficient
                coef[name] = float(mt.loc[name, "estimate"])
                coef_se[name] = float(mt.loc[name, "std_error"])
    return GroupFit(label=label, n=len(frame), importance=t["importance"].astype(float),
                    share=t["share"].astype(float), rank=t["rank"].astype(float),
                    std_error=t["std_error"].astype(float), rank_low=rank_low.astype(float),
                    rank_high=rank_high.astype(float), coef=coef, coef_se=coef_se, result=res,
                    model=model)


class _GroupedResult(Result):
    """A result over groups of respondents (segments, waves) keeping each group's analysis.

    Attributes
    ----------
    results : dict
        ``{group: ImportanceResult}``.
    models : dict
        ``{group: DriverModel}``.
    """

    def __init__(self, table: pd.DataFrame, *, results: dict[Any, Any], models: dict[Any, Any],
                 meta: dict[str, Any], notes: list[str]) -> None:
        super().__init__(table, meta=meta, notes=notes)
        self.results = results
        self.models = models
