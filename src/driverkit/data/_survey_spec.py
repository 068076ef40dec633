"""The fixed design of :func:`~driverkit.data.make_survey` and its shared helpers.

Segments, journey stages, the attribute pool, default segment and wave effects, and the
checks and rating helpers shared by its parts.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

from ..exceptions import DriverkitError, DriverkitTypeError

_FUNC = "make_survey"
STAGES = ("before", "during", "after")
KANO = ("basic", "performance", "excitement")
SEGMENTS = ("Value", "Mainstream", "Premium", "Business")
SEGMENT_SAMPLE_SHARE = (0.30, 0.40, 0.20, 0.10)      # shares drawn into the sample
SEGMENT_POPULATION_SHARE = (0.34, 0.42, 0.17, 0.07)  # shares in the customer base (→ weights)
SEGMENT_REVENUE_MEDIAN = (140.0, 260.0, 620.0, 1450.0)
NULL_REVENUE_MEDIAN = 300.0
REVENUE_SIGMA = 0.7          # sd of log revenue within a segment
WEIGHT_SIGMA = 0.3           # sd of the log of the non-segment part of the weight
STAGE_LOADING = 0.35         # extra correlation of ratings within a journey stage
BRAND = "brand_connection"
BRAND_HALO, BRAND_MEAN, BRAND_SD = 0.8, 7.1, 2.1
SAT_SIGMA = 1.0              # sd of the satisfaction equation's error
SAT_MEAN = 7.6               # target mean of the satisfaction index
SAT_TO_REPURCHASE = 0.5      # log-odds of repurchase per satisfaction point (chain)
SAT_TO_RECOMMEND = 0.8       # ordered-logit coefficient of satisfaction on recommend (chain)
BRAND_TO_RECOMMEND = 0.35
PROBIT_FACTOR = 0.625        # probit coefficients = logit coefficients x this
# target shares of recommend = 0..10 (cut points are set from these)
RECOMMEND_SHARES = (0.03, 0.01, 0.015, 0.02, 0.025, 0.05, 0.06, 0.12, 0.19, 0.18, 0.30)
STATED_SIGMA_PERSON, STATED_SIGMA_ITEM = 0.5, 0.7
# shapes (value in the low band, value in the high band; middle band = 0) under asymmetric=True
SHAPES = {"performance": (-2.0, 2.0), "basic": (-4.5, 0.5), "excitement": (-0.5, 4.5)}


@dataclass(frozen=True)
class _Attr:
    name: str
    stage: str
    mean: float      # latent mean (before rounding and clipping to 1–10)
    sd: float        # latent sd
    kano: str        # class under asymmetric=True
    weight: float    # relative importance (satisfaction and total repurchase effect)
    direct: float    # relative weight of the direct path to repurchase / recommend
    stated: float    # latent mean of stated importance (1–5)
    missing: float   # relative item non-response (attributes not every customer uses)


_POOL = (
    _Attr("website_ease", "before", 7.6, 1.9, "performance", 0.60, 0.0, 3.6, 0.0),
    _Attr("product_range", "before", 7.4, 1.8, "performance", 0.70, 0.5, 3.9, 0.0),
    _Attr("price_value", "before", 6.7, 2.1, "performance", 1.00, 1.0, 4.5, 0.0),
    _Attr("checkout_speed", "during", 7.8, 1.9, "performance", 0.90, 0.6, 3.7, 0.0),
    _Attr("staff_friendliness", "during", 7.6, 1.8, "excitement", 0.80, 0.0, 3.3, 0.0),
    _Attr("delivery_speed", "after", 7.3, 2.0, "performance", 0.60, 0.0, 4.0, 0.0),
    _Attr("delivery_accuracy", "after", 8.3, 1.8, "basic", 0.90, 0.6, 4.4, 0.0),
    _Attr("phone_support", "after", 7.6, 2.2, "basic", 0.60, 0.4, 4.1, 1.5),
    _Attr("returns_process", "after", 7.0, 2.1, "performance", 0.40, 0.0, 3.8, 1.25),
    _Attr("billing_clarity", "after", 7.7, 1.9, "basic", 0.55, 0.0, 4.2, 0.0),
    _Attr("app_experience", "during", 7.2, 2.0, "excitement", 0.30, 0.0, 2.9, 1.0),
    _Attr("packaging", "after", 7.9, 1.7, "performance", 0.15, 0.0, 2.8, 0.5),
    _Attr("store_cleanliness", "during", 8.0, 1.7, "performance", 0.30, 0.0, 3.4, 0.0),
    _Attr("loyalty_program", "after", 6.6, 2.2, "excitement", 0.35, 0.2, 3.0, 1.0),
    _Attr("stock_availability", "before", 7.9, 1.9, "basic", 0.50, 0.0, 4.1, 0.0),
    _Attr("payment_options", "during", 8.2, 1.7, "performance", 0.20, 0.0, 3.2, 0.0),
    _Attr("order_tracking", "after", 7.5, 2.0, "performance", 0.30, 0.0, 3.5, 0.5),
    _Attr("email_updates", "after", 7.1, 2.0, "performance", 0.15, 0.0, 2.7, 0.5),
    _Attr("wait_time", "during", 6.8, 2.2, "performance", 0.40, 0.0, 3.9, 0.0),
    _Attr("product_quality", "after", 7.9, 1.7, "basic", 0.80, 0.4, 4.6, 0.0),
    _Attr("opening_hours", "before", 7.7, 1.8, "performance", 0.20, 0.0, 3.1, 0.0),
    _Attr("promotions", "before", 6.5, 2.2, "excitement", 0.30, 0.0, 3.3, 0.0),
    _Attr("complaint_handling", "after", 7.6, 2.2, "basic", 0.50, 0.0, 4.3, 1.5),
    _Attr("website_search", "before", 7.3, 1.9, "performance", 0.25, 0.0, 3.2, 0.0),
)
MAX_DRIVERS = 60

# default segment differences in rating means ("*" = every attribute and brand_connection)
DEFAULT_SEGMENT_EFFECTS: dict[str, dict[str, float]] = {
    "Value": {"*": -0.3, "price_value": 0.4},
    "Mainstream": {},
    "Premium": {"*": 0.35},
    "Business": {"phone_support": -0.7, "billing_clarity": -0.5, "delivery_speed": 0.3},
}
# default known changes in rating means from wave 1 to later waves
DEFAULT_WAVE_EFFECTS: dict[int, dict[str, float]] = {
    2: {"delivery_speed": -0.6, "returns_process": 0.5, "app_experience": 0.7},
    3: {"delivery_speed": -0.3, "returns_process": 0.6, "app_experience": 1.0,
        "checkout_speed": 0.4},
    4: {"delivery_speed": 0.0, "returns_process": 0.6, "app_experience": 1.1,
        "checkout_speed": 0.6},
    5: {"delivery_speed": 0.2, "returns_process": 0.6, "app_experience": 1.2,
        "checkout_speed": 0.6},
}


def _attributes(n_drivers: int) -> list[_Attr]:
    out = list(_POOL[:n_drivers])
    for j in range(len(_POOL), n_drivers):
        out.append(_Attr(f"attribute_{j + 1}", STAGES[j % 3], 7.3, 1.9, "performance",
                         0.3, 0.0, 3.5, 0.0))
    return out


# ----------------------------------------------------------------------------- helpers

def _rating_pmf(mean: np.ndarray | float, sd: float, low: int = 1, high: int = 10) -> np.ndarray:
    """P(clip(round(mean + sd·z)) = k) for k = low..high, z ~ N(0, 1); shape (..., K)."""
    m = np.asarray(mean, dtype=float)[..., None]
    edges = np.arange(low, high, dtype=float) + 0.5          # K − 1 inner cut points
    cdf = special.ndtr((edges - m) / sd)
    zeros = np.zeros((*cdf.shape[:-1], 1))
    ones = np.ones_like(zeros)
    return np.diff(np.concatenate([zeros, cdf, ones], axis=-1), axis=-1)


def _band_index(x: np.ndarray, bands: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    return (x <= bands[0]).astype(float), (x > bands[1]).astype(float)


def _shape_values(x: np.ndarray, shape: Mapping[str, Any], name: str) -> np.ndarray:
    """u_j(x): the rating itself (linear) or the band step L·[x ≤ a] + H·[x > b]."""
    if shape["type"] == "linear":
        return np.asarray(x, dtype=float)
    lo, hi = _band_index(np.asarray(x, dtype=float), tuple(shape["bands"]))
    return shape["low"][name] * lo + shape["high"][name] * hi


def _expected_shape(pmf: np.ndarray, shape: Mapping[str, Any], name: str) -> float:
    k = np.arange(1, 11, dtype=float)
    return float(pmf @ _shape_values(k, shape, name))


def _r(x: float, digits: int = 6) -> float:
    return float(round(float(x), digits))


def _check_int(value: Any, name: str, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise DriverkitTypeError(
            f"The '{name}' parameter of {_FUNC}() must be an integer. Got {value!r} instead.")
    if int(value) < low or (high is not None and int(value) > high):
        rng = f">= {low}" if high is None else f"between {low} and {high}"
        raise DriverkitError(
            f"The '{name}' parameter of {_FUNC}() must be {rng}. Got {value!r} instead.")
    return int(value)


def _check_effects(value: Any, name: str, keys: Sequence[str], drivers: Sequence[str],
                   default: Mapping[Any, Mapping[str, float]], *, brand: bool = True
                   ) -> dict[str, dict[str, float]]:
    """Normalise a {group: {driver | "*": shift}} option to {str(group): {driver: shift}}.

    ``True`` takes the defaults (restricted to the attributes and groups this survey has);
    a user dict is checked strictly.
    """
    strict = value is not True
    if value is True:
        value = {k: v for k, v in default.items() if str(k) in keys}
    elif value is False or value is None:
        value = {}
    if not isinstance(value, Mapping):
        raise DriverkitTypeError(
            f"The '{name}' parameter of {_FUNC}() must be True, False or a dict "
            f"{{group: {{driver: shift}}}}. Got {value!r} instead.")
    out: dict[str, dict[str, float]] = {}
    for group, shifts in value.items():
        g = str(group)
        if g not in keys:
            raise DriverkitError(
                f"The '{name}' parameter of {_FUNC}() names the group {group!r}, which is not "
                f"one of {list(keys)}.")
        if not isinstance(shifts, Mapping):
            raise DriverkitTypeError(
                f"The '{name}' parameter of {_FUNC}() must map {g!r} to a dict "
                f"{{driver: shift}}. Got {shifts!r} instead.")
        expanded: dict[str, float] = {}
        for d, v in shifts.items():
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not np.isfinite(float(v)):
                raise DriverkitTypeError(
                    f"The '{name}' parameter of {_FUNC}() must give a finite number for "
                    f"{g!r}/{d!r}. Got {v!r} instead.")
            if d == "*":
                targets = [*drivers, BRAND] if brand else list(drivers)
            elif d in drivers or (brand and d == BRAND):
                targets = [d]
            elif strict:
                raise DriverkitError(
                    f"The '{name}' parameter of {_FUNC}() names {d!r}, which is not an "
                    f"attribute of this survey ({', '.join(drivers)}).")
            else:
                continue
            for t in targets:
                expanded[t] = expanded.get(t, 0.0) + float(v)
        out[g] = {d: _r(v) for d, v in expanded.items() if v != 0.0}
    return {g: v for g, v in out.items() if v}
