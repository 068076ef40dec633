"""Checks of what a simulator is given: the outcome's type (score or rate), data on the
model's scales, and suppressor drivers (issue: no silent wrong numbers)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_columns, suggest
from ..exceptions import DataError, DriverkitError, DriverkitTypeError

__all__ = ["check_model_data"]


def _outcome_name(model: Any) -> str:
    return str(getattr(model, "outcome", "outcome")).split("~")[0].strip()


def _outcome_type(model: Any, target: Any) -> str:
    """``"score"`` (mean in scale points) or ``"rate"`` (a probability or share)."""
    if isinstance(target, str) and target == "expected":
        return "score"
    if getattr(model, "kind", None) == "ordinal":
        return "rate"
    declared = getattr(model, "outcome_type", None)
    return "score" if declared == "score" else "rate"


def check_model_data(model: Any, data: pd.DataFrame, rescale: Any) -> pd.DataFrame:
    """Refuse (or, with ``rescale``, map) simulator data on another scale than the model's.

    A model fitted on 1–10 ratings and a new wave on 0–100 would otherwise clip every
    respondent to the top of the model's scale (baseline near 100 %, effects 0): the ratings
    must lie on the model's scale. ``rescale={driver: (low, high)}`` declares the data's
    scale and maps it linearly onto the model's. Returns the (possibly rescaled) copy.
    """
    scales = dict(getattr(model, "scales", {}) or {})
    declared = set(getattr(getattr(model, "data_", None), "declared_scales", set()) or set())
    if getattr(model, "_fixed", False):
        declared = set(scales)
    if rescale is not None:
        if not isinstance(rescale, Mapping):
            raise DriverkitTypeError("rescale= must be a dict {driver: (low, high)} giving each "
                                     "driver's scale in the data.")
        data = data.copy()
        for d, sc in rescale.items():
            if d not in scales:
                raise DriverkitError(f"rescale= names '{d}', which has no scale in the model."
                                     f"{suggest(str(d), list(scales))}")
            check_columns(data, [d], role="driver")
            try:
                lo, hi = (float(v) for v in sc)
            except (TypeError, ValueError) as exc:
                raise DriverkitTypeError(f"rescale['{d}'] must be (low, high); got {sc!r}.") \
                    from exc
            if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
                raise DriverkitError(f"rescale['{d}'] must be finite with low < high; got {sc!r}.")
            mlo, mhi = scales[d]
            x = pd.to_numeric(data[d], errors="coerce")
            data[d] = mlo + (x - lo) * (mhi - mlo) / (hi - lo)
        return data
    for d, (lo, hi) in scales.items():
        if d not in data.columns or isinstance(data[d].dtype, pd.CategoricalDtype):
            continue
        x = pd.to_numeric(data[d], errors="coerce").to_numpy(dtype=float)
        x = x[np.isfinite(x)]
        if not x.size:
            continue
        width = float(hi) - float(lo)
        outside = (x < lo) | (x > hi)
        far = (x < lo - width) | (x > hi + width)
        if far.any() or (d in declared and outside.mean() > 0.05):
            raise DataError(
                f"Driver '{d}' in the simulator's data ranges {x.min():g}–{x.max():g}, but the "
                f"model's scale is {lo:g}–{hi:g} ({outside.mean():.0%} of the ratings outside): "
                "the data look like another scale. Recode the ratings to the model's scale, or "
                f"declare the data's scale with rescale={{'{d}': (low, high)}}.")
    return data


def _model_sign_flips(model: Any, drivers: Sequence[str]) -> pd.DataFrame:
    """The model's suppressor drivers (sign opposite to their correlation), movable ones."""
    try:
        flips = getattr(model, "sign_flips", None)
    except Exception:  # a model without respondent data has no correlations to compare
        flips = None
    if not isinstance(flips, pd.DataFrame) or flips.empty:
        return pd.DataFrame({"coef": [], "corr": [], "p_value": []},
                            index=pd.Index([], name="driver"))
    return flips.loc[[d for d in flips.index if d in set(drivers)]]


def _suppressor_message(flips: pd.DataFrame, what: str) -> str:
    parts = "; ".join(f"'{d}' (coefficient {r['coef']:+.3g}, correlation with the outcome "
                      f"{r['corr']:+.3g})" for d, r in flips.iterrows())
    return (f"{what} {parts}: the coefficient's sign is opposite to the driver's own "
            "correlation with the outcome (a suppressor), so its simulated effect comes from "
            "holding the other drivers fixed; do not act on this driver's effect alone "
            "without checking it.")
