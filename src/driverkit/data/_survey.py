"""Synthetic customer-experience surveys with a known generating truth.

:func:`make_survey` draws a survey of a retailer's customers: 1–10 ratings of named service
attributes grouped into journey stages and correlated through a halo factor, an
emotional-connection item, overall satisfaction, likelihood to recommend (0–10), repurchase
(0/1), revenue, CRM segment, survey wave and survey weight. Every number that generated the
data is in ``df.attrs["truth"]`` (a JSON-serialisable dict) so that tests can check that
driverkit recovers it; :func:`true_effect` computes the exact effect of moving ratings.
"""

from __future__ import annotations

import functools
import json
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from .._validation import KINDS, check_columns, check_kwargs, check_option
from ..exceptions import DriverkitError, DriverkitTypeError

__all__ = ["make_survey", "true_effect"]

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


# ----------------------------------------------------------------------------- the truth

def _build_truth(n: int, n_drivers: int, kind: str, seed: int, opts: dict[str, Any]
                 ) -> dict[str, Any]:
    """All parameters of the generating process (no randomness: analytic calibration)."""
    attrs = _attributes(n_drivers)
    order = sorted(range(n_drivers), key=lambda j: (STAGES.index(attrs[j].stage), j))
    attrs = [attrs[j] for j in order]
    drivers = [a.name for a in attrs]
    by_name = {a.name: a for a in attrs}

    kano = {a.name: a.kano for a in attrs}
    if opts["kano"] is not None:
        if not isinstance(opts["kano"], Mapping):
            raise DriverkitTypeError(
                f"The 'kano' parameter of {_FUNC}() must be a dict {{driver: class}}. "
                f"Got {opts['kano']!r} instead.")
        for d, c in opts["kano"].items():
            if d not in kano:
                raise DriverkitError(
                    f"The 'kano' parameter of {_FUNC}() names {d!r}, which is not an "
                    f"attribute of this survey ({', '.join(drivers)}).")
            check_option(c, f"kano[{d!r}]", KANO, _FUNC)
            kano[d] = c

    bands = opts["bands"]
    if (not isinstance(bands, Sequence) or len(bands) != 2
            or not all(isinstance(b, numbers.Integral) and not isinstance(b, bool)
                       for b in bands)
            or not 1 <= bands[0] < bands[1] < 10):
        raise DriverkitError(
            f"The 'bands' parameter of {_FUNC}() must be two integers (a, b) with "
            f"1 <= a < b < 10 (low = rating <= a, high = rating > b). Got {bands!r} instead.")
    bands = (int(bands[0]), int(bands[1]))
    if opts["asymmetric"]:
        shape: dict[str, Any] = {
            "type": "bands", "bands": list(bands),
            "low": {d: SHAPES[kano[d]][0] for d in drivers},
            "high": {d: SHAPES[kano[d]][1] for d in drivers}}
    else:
        shape = {"type": "linear", "bands": list(bands), "low": None, "high": None}

    halo = float(opts["halo"])
    if not 0.0 <= halo < 0.9:
        raise DriverkitError(
            f"The 'halo' parameter of {_FUNC}() must lie in [0, 0.9). Got {halo!r} instead.")
    stage_loading = min(STAGE_LOADING, float(np.sqrt(max(0.0, 0.95 - halo**2))))

    waves = _check_int(opts["waves"], "waves", 1, 5)
    wave_names = list(range(1, waves + 1))
    seg_effects = _check_effects(opts["segment_effects"], "segment_effects", SEGMENTS, drivers,
                                 DEFAULT_SEGMENT_EFFECTS)
    wave_effects = _check_effects(opts["wave_effects"], "wave_effects",
                                  [str(w) for w in wave_names[1:]], drivers,
                                  {k: v for k, v in DEFAULT_WAVE_EFFECTS.items()})
    null_segments = opts["segment_effects"] is False
    seg_slopes = _check_effects(opts["segment_slopes"], "segment_slopes", SEGMENTS, drivers, {},
                                brand=False)
    wave_slopes = _check_effects(opts["wave_slopes"], "wave_slopes",
                                 [str(w) for w in wave_names[1:]], drivers, {}, brand=False)
    if null_segments and seg_slopes:
        raise DriverkitError(
            f"{_FUNC}(segment_effects=False, segment_slopes=...) contradicts itself: "
            "segment_effects=False makes segments identical. Drop one of the two.")

    # --- expected value of each attribute's shape over segments and waves (analytic)
    seg_share = np.array(SEGMENT_SAMPLE_SHARE)
    exp_u: dict[str, float] = {}
    exp_mean: dict[str, dict[str, float]] = {}
    for d in drivers:
        a = by_name[d]
        eu, by_wave = 0.0, {}
        for w in wave_names:
            mw = 0.0
            for s, sh in zip(SEGMENTS, seg_share, strict=True):
                m = a.mean + seg_effects.get(s, {}).get(d, 0.0) + wave_effects.get(
                    str(w), {}).get(d, 0.0)
                pmf = _rating_pmf(m, a.sd)
                eu += sh / waves * _expected_shape(pmf, shape, d)
                mw += sh * float(pmf @ np.arange(1, 11))
            by_wave[str(w)] = _r(mw, 4)
        exp_u[d] = eu
        exp_mean[d] = by_wave
    brand_mean = 0.0
    for s, sh in zip(SEGMENTS, seg_share, strict=True):
        m = BRAND_MEAN + seg_effects.get(s, {}).get(BRAND, 0.0)
        brand_mean += sh * float(_rating_pmf(m, BRAND_SD) @ np.arange(1, 11))

    # --- coefficients (weights normalised so the index has similar spread for any n_drivers)
    wts = np.array([by_name[d].weight for d in drivers])
    wd = np.array([by_name[d].direct for d in drivers])
    wsum, wdsum = wts.sum(), wd.sum()
    a_coef = {d: _r(wts[j] / wsum) for j, d in enumerate(drivers)}                 # → satisfaction
    direct = {d: _r(0.5 * wd[j] / wdsum) if wdsum > 0 else 0.0 for j, d in enumerate(drivers)}
    rec_direct = {d: _r(0.4 * wd[j] / wdsum) if wdsum > 0 else 0.0
                  for j, d in enumerate(drivers)}
    chain = bool(opts["chain"])
    link_factor = PROBIT_FACTOR if kind == "probit" else 1.0
    if chain:
        rep_coef = {d: _r(link_factor * direct[d]) for d in drivers}
        rep_sat = _r(link_factor * SAT_TO_REPURCHASE)
        rec_coef = dict(rec_direct)
        rec_sat = SAT_TO_RECOMMEND
    else:
        rep_coef = {d: _r(link_factor * (direct[d] + SAT_TO_REPURCHASE * a_coef[d]))
                    for d in drivers}
        rep_sat = 0.0
        rec_coef = {d: _r(rec_direct[d] + SAT_TO_RECOMMEND * a_coef[d]) for d in drivers}
        rec_sat = 0.0

    sat_type = opts["satisfaction"]
    if sat_type is None:
        sat_type = "index" if kind == "linear" else "rating"
    check_option(sat_type, "satisfaction", ("rating", "index"), _FUNC)

    e_attr_sat = sum(a_coef[d] * exp_u[d] for d in drivers)
    sat_intercept = _r(SAT_MEAN - e_attr_sat, 4)
    base_rate = float(opts["base_rate"])
    if not 0.05 <= base_rate <= 0.95:
        raise DriverkitError(
            f"The 'base_rate' parameter of {_FUNC}() must lie in [0.05, 0.95]. "
            f"Got {base_rate!r} instead.")
    target = special.logit(base_rate) if kind != "probit" else special.ndtri(base_rate)
    e_rep = sum(rep_coef[d] * exp_u[d] for d in drivers) + rep_sat * SAT_MEAN
    rep_intercept = _r(target - e_rep, 4)
    e_rec = (sum(rec_coef[d] * exp_u[d] for d in drivers) + rec_sat * SAT_MEAN
             + BRAND_TO_RECOMMEND * brand_mean)
    cum = np.cumsum(RECOMMEND_SHARES)[:-1]
    cuts = [_r(c, 4) for c in special.logit(cum) + e_rec]

    equations = {
        "satisfaction": {
            "family": "linear" if sat_type == "index" else "linear, rounded and clipped to 1-10",
            "intercept": sat_intercept, "coef": a_coef, "sigma": SAT_SIGMA,
            "recorded": sat_type,
        },
        "repurchase": {
            "family": "probit" if kind == "probit" else "logit",
            "intercept": rep_intercept, "coef": rep_coef, "satisfaction": rep_sat,
        },
        "recommend": {
            "family": "ordinal",
            "coef": rec_coef, "satisfaction": rec_sat, BRAND: BRAND_TO_RECOMMEND,
            "cuts": cuts,
        },
    }
    if shape["type"] == "bands":
        for eq in equations.values():
            coef = eq["coef"]
            eq["penalty"] = {d: _r(coef[d] * shape["low"][d]) for d in drivers}
            eq["reward"] = {d: _r(coef[d] * shape["high"][d]) for d in drivers}

    main = {"logit": "repurchase", "probit": "repurchase", "linear": "satisfaction",
            "ordinal": "recommend"}[kind]
    meq = equations[main]
    meq["main"] = True
    meq["segment_slopes"] = seg_slopes
    meq["wave_slopes"] = wave_slopes

    # --- which fit recovers which numbers
    extra: list[str] = []
    params: dict[str, float] = {}
    if main == "recommend":
        extra = [BRAND] + (["satisfaction"] if chain else [])
    elif main == "repurchase" and chain:
        extra = ["satisfaction"]
    if main != "recommend":
        params["Intercept"] = meq["intercept"]
    params.update(meq["coef"])
    if main == "recommend":
        params[BRAND] = BRAND_TO_RECOMMEND
        if chain:
            params["satisfaction"] = rec_sat
        params.update({f"cut[{k}|{k + 1}]": c for k, c in enumerate(cuts)})
    elif main == "repurchase" and chain:
        params["satisfaction"] = rep_sat
    exact = shape["type"] == "linear" and not seg_slopes and not wave_slopes
    recover = {
        "outcome": main, "kind": kind, "drivers": drivers + extra, "params": params,
        "exact": exact,
        "note": (
            f"dk.fit(df, {main!r}, truth['recover']['drivers'], kind={kind!r}) is "
            + ("exactly the generating model: its estimates converge to 'params'."
               if exact else
               "not exactly the generating model here (" + ", ".join(
                   (["asymmetric=True: attributes act through band dummies"]
                    if shape["type"] == "bands" else [])
                   + (["segment or wave slopes"] if seg_slopes or wave_slopes else []))
               + "); use asymmetric=False and no slopes for exact recovery.")),
    }

    chain_truth: dict[str, Any] = {
        "enabled": chain, "mediator": "satisfaction", "outcome": "repurchase",
        "a": a_coef, "b": SAT_TO_REPURCHASE * link_factor if chain else 0.0,
        "direct": rep_coef,
        "indirect": {d: _r(rep_sat * a_coef[d]) for d in drivers},
        "total": {d: _r(rep_coef[d] + rep_sat * a_coef[d]) for d in drivers},
        "units": ("per unit of u_j (a rating point when asymmetric=False), on the "
                  f"{'probit' if kind == 'probit' else 'log-odds'} scale of repurchase "
                  "(product of coefficients); the probability-scale effect of a shift is "
                  "true_effect(df, {driver: shift})"),
    }

    stages = {s: [d for d in drivers if by_name[d].stage == s] for s in STAGES}
    stages = {s: v for s, v in stages.items() if v}
    missing = float(opts["missing"])
    if not 0.0 <= missing <= 0.3:
        raise DriverkitError(
            f"The 'missing' parameter of {_FUNC}() must lie in [0, 0.3] (share of missing "
            f"answers). Got {missing!r} instead.")
    rel = {d: by_name[d].missing for d in drivers if by_name[d].missing > 0}
    if not rel:
        rel = dict.fromkeys(drivers, 1.0)
    miss = {d: _r(min(0.5, missing * r), 6) for d, r in rel.items()} if missing > 0 else {}

    rev_median = (dict(zip(SEGMENTS, SEGMENT_REVENUE_MEDIAN, strict=True)) if not null_segments
                  else dict.fromkeys(SEGMENTS, NULL_REVENUE_MEDIAN))
    truth: dict[str, Any] = {
        "generator": "driverkit.make_survey",
        "options": {"n": n, "n_drivers": n_drivers, "kind": kind, "seed": seed,
                    **{k: _jsonable(v) for k, v in opts.items()}},
        "kind": kind,
        "outcome": main,
        "drivers": drivers,
        "intercept": meq.get("intercept"),
        "coef": dict(meq["coef"]),
        "cuts": cuts if main == "recommend" else None,
        "equations": equations,
        "recover": recover,
        "chain": chain_truth,
        "asymmetric": shape["type"] == "bands",
        "shape": shape,
        "bands": list(bands),
        "kano": {d: {"class": kano[d],
                     "penalty": meq["penalty"][d] if "penalty" in meq else None,
                     "reward": meq["reward"][d] if "reward" in meq else None}
                 for d in drivers},
        "stages": stages,
        "stage_of": {d: by_name[d].stage for d in drivers},
        "emotion": BRAND,
        "scales": {**{d: [1, 10] for d in drivers}, BRAND: [1, 10], "satisfaction": [1, 10],
                   "recommend": [0, 10], "repurchase": [0, 1]},
        "ratings": {
            "halo": halo, "stage_loading": _r(stage_loading),
            "latent_mean": {d: by_name[d].mean for d in drivers},
            "latent_sd": {d: by_name[d].sd for d in drivers},
            "expected_mean": exp_mean,
            BRAND: {"halo": BRAND_HALO, "latent_mean": BRAND_MEAN, "latent_sd": BRAND_SD},
            "model": ("x_ij = clip(round(latent_mean_j + segment shift + wave shift + "
                      "latent_sd_j·z_ij), 1, 10), z_ij = halo·h_i + stage_loading·s_i,stage(j)"
                      " + sqrt(1 − halo² − stage_loading²)·e_ij, all N(0, 1)"),
        },
        "segments": {
            "names": list(SEGMENTS),
            "sample_share": dict(zip(SEGMENTS, SEGMENT_SAMPLE_SHARE, strict=True)),
            "population_share": dict(zip(SEGMENTS, SEGMENT_POPULATION_SHARE, strict=True)),
            "rating_shift": seg_effects,
            "revenue_median": rev_median,
            "revenue_sigma": REVENUE_SIGMA,
            "slopes": seg_slopes,
            "null": null_segments,
        },
        "waves": {
            "names": wave_names,
            "rating_shift": wave_effects,
            "slopes": wave_slopes,
            "expected_mean_change": {
                str(wv): {d: _r(exp_mean[d][str(wv)] - exp_mean[d]["1"], 4) for d in drivers
                          if exp_mean[d][str(wv)] != exp_mean[d]["1"]}
                for wv in wave_names[1:]},
        },
        "weights": {"column": "weight", "factor": {
            s: _r(p / q) for s, p, q in zip(SEGMENTS, SEGMENT_POPULATION_SHARE,
                                            SEGMENT_SAMPLE_SHARE, strict=True)},
            "sigma": WEIGHT_SIGMA, "note": "factor[segment]·lognormal noise, rescaled to mean 1"},
        "stated": ({d: {"column": f"imp_{d}", "latent_mean": by_name[d].stated,
                        "expected_mean": _r(float(_rating_pmf(
                            by_name[d].stated,
                            float(np.hypot(STATED_SIGMA_PERSON, STATED_SIGMA_ITEM)), 1, 5)
                            @ np.arange(1, 6)), 4)}
                    for d in drivers} if opts["stated"] else None),
        "stated_scale": [1, 5] if opts["stated"] else None,
        "missing": miss,
    }
    _calibrate(truth)
    return truth


CALIBRATION_N, CALIBRATION_SEED = 20_000, 20_240_601


def _calibration_key(truth: Mapping[str, Any]) -> str:
    t = dict(truth)
    t["options"] = {k: v for k, v in truth["options"].items() if k not in ("n", "seed")}
    return json.dumps(t, sort_keys=True, default=str)


@functools.lru_cache(maxsize=64)
def _calibration(key: str) -> tuple[float, tuple[float, ...]]:
    """Repurchase intercept and recommend cut points that hit the target shares.

    Solved on a fixed calibration sample (its own seed), so the parameters depend only on
    the options, never on ``n`` or ``seed``: the base rate and the shares of recommend
    0–10 are then right in the population up to the calibration sample's noise.
    """
    from scipy import optimize  # only here: scipy.optimize takes ~1 s to import

    truth = json.loads(key)
    segment, wave, X, brand, _ = _draw_ratings(truth, CALIBRATION_N, CALIBRATION_SEED)
    idx = _indices(truth, X, segment, wave, brand)
    values, probs = _sat_distribution(truth, idx["satisfaction"])
    eqs = truth["equations"]
    F = _cdf(truth["kind"])
    base_rate = truth["options"]["base_rate"]
    eta_rep = idx["repurchase"][:, None] + eqs["repurchase"]["satisfaction"] * values

    def rate(delta: float) -> float:
        return float(np.mean(np.sum(probs * F(eta_rep + delta), axis=1))) - base_rate

    delta = optimize.brentq(rate, -30.0, 30.0, xtol=1e-10)
    intercept = _r(eqs["repurchase"]["intercept"] + delta, 4)
    eta_rec = idx["recommend"][:, None] + eqs["recommend"]["satisfaction"] * values
    cuts = []
    for c in np.cumsum(RECOMMEND_SHARES)[:-1]:
        def share(theta: float, c: float = float(c)) -> float:
            return float(np.mean(np.sum(probs * special.expit(theta - eta_rec), axis=1))) - c
        cuts.append(_r(optimize.brentq(share, -60.0, 60.0, xtol=1e-10), 4))
    return intercept, tuple(cuts)


def _calibrate(truth: dict[str, Any]) -> None:
    """Set the calibrated intercept and cut points everywhere the truth reports them."""
    intercept, cuts = _calibration(_calibration_key(truth))
    eqs = truth["equations"]
    eqs["repurchase"]["intercept"] = intercept
    eqs["recommend"]["cuts"] = list(cuts)
    rec = truth["recover"]
    if truth["outcome"] == "repurchase":
        truth["intercept"] = intercept
        rec["params"]["Intercept"] = intercept
    elif truth["outcome"] == "recommend":
        truth["cuts"] = list(cuts)
        rec["params"].update({f"cut[{k}|{k + 1}]": c for k, c in enumerate(cuts)})


def _jsonable(v: Any) -> Any:
    if isinstance(v, Mapping):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, tuple | list):
        return [_jsonable(x) for x in v]
    if isinstance(v, np.generic):
        return v.item()
    return v


# ----------------------------------------------------------------------------- the model

def _slope_terms(X: Mapping[str, np.ndarray], groups: np.ndarray, slopes: Mapping[str, Any],
                 shape: Mapping[str, Any]) -> np.ndarray:
    out = np.zeros(len(groups))
    for g, sl in slopes.items():
        mask = groups == g
        for d, v in sl.items():
            out[mask] += v * _shape_values(X[d][mask], shape, d)
    return out


def _indices(truth: Mapping[str, Any], X: Mapping[str, np.ndarray], segment: np.ndarray,
             wave: np.ndarray, brand: np.ndarray) -> dict[str, np.ndarray]:
    """Linear indices of the three equations without the satisfaction term."""
    shape, eqs = truth["shape"], truth["equations"]
    wave_s = np.asarray([str(v) for v in wave]) if len(wave) else np.asarray([], dtype=str)
    out = {}
    for name, eq in eqs.items():
        idx = np.full(len(segment), float(eq.get("intercept") or 0.0))
        for d, c in eq["coef"].items():
            if c:
                idx += c * _shape_values(X[d], shape, d)
        if eq.get("main"):
            idx += _slope_terms(X, segment, eq["segment_slopes"], shape)
            idx += _slope_terms(X, wave_s, eq["wave_slopes"], shape)
        if name == "recommend":
            idx += eq[BRAND] * brand
        out[name] = idx
    return out


def _cdf(kind: str) -> Callable[[np.ndarray], np.ndarray]:
    return special.ndtr if kind == "probit" else special.expit


def make_survey(
    n: int = 2000,
    n_drivers: int = 10,
    kind: str = "logit",
    seed: int | None = 0,
    *,
    asymmetric: bool = True,
    chain: bool = True,
    segment_effects: bool | Mapping[str, Mapping[str, float]] = True,
    segment_slopes: Mapping[str, Mapping[str, float]] | None = None,
    waves: int = 2,
    wave_effects: bool | Mapping[Any, Mapping[str, float]] = True,
    wave_slopes: Mapping[Any, Mapping[str, float]] | None = None,
    stated: bool = False,
    missing: float = 0.0,
    halo: float = 0.6,
    bands: tuple[int, int] = (6, 8),
    kano: Mapping[str, str] | None = None,
    satisfaction: str | None = None,
    base_rate: float = 0.72,
    **options: Any,
) -> pd.DataFrame:
    """Draw a synthetic customer-experience survey whose generating truth is known.

    One row per customer of a retailer: 1–10 ratings of named service attributes in three
    journey stages (before / during / after purchase) correlated through a halo factor,
    an emotional-connection item, overall satisfaction, likelihood to recommend (0–10),
    repurchase (0/1), revenue, CRM segment, survey wave and survey weight. The exact
    equations and parameters are in ``df.attrs["truth"]`` (a JSON-serialisable dict).

    Parameters
    ----------
    n : int, default=2000
        Number of respondents.
    n_drivers : int, default=10
        Number of rated attributes (named from a pool of 24 realistic attributes, then
        ``attribute_25, ...``; at most 60). The first ten include ``checkout_speed`` and
        ``phone_support``.
    kind : {"logit", "probit", "linear", "ordinal"}, default="logit"
        The model family of the main outcome, whose parameters are ``truth["intercept"]``
        and ``truth["coef"]``: ``repurchase`` by a logit or probit, ``satisfaction``
        (``"linear"``, then recorded as a continuous index) or ``recommend`` by an ordered
        logit (``"ordinal"``, ``truth["cuts"]``).
    seed : int or None, default=0
        Seed of the random streams; ``None`` draws a fresh seed (recorded in the truth).
    asymmetric : bool, default=True
        Attributes act through rating bands (Kano-type): see Notes. ``False``: linearly.
    chain : bool, default=True
        Repurchase and recommend depend on satisfaction (the loyalty chain) besides the
        direct paths; ``False``: on the attributes only, with the chain's total weights.
    segment_effects : bool or dict, default=True
        Segments differ in rating means (``{segment: {driver or "*": shift}}``) and revenue;
        ``False`` makes the four segments identical (null data for multiplicity tests).
    segment_slopes : dict, optional
        ``{segment: {driver: extra coefficient}}`` added to the main outcome's equation for
        that segment (a true difference in importance).
    waves : int, default=2
        Number of survey waves (1–5), labelled 1, 2, ...
    wave_effects : bool or dict, default=True
        Known changes of rating means in later waves, ``{wave: {driver: shift}}``; by default
        delivery speed falls while returns and the app improve in wave 2. ``False``: none.
    wave_slopes : dict, optional
        ``{wave: {driver: extra coefficient}}`` in the main outcome's equation.
    stated : bool, default=False
        Add stated-importance columns ``imp_<driver>`` (1–5).
    missing : float, default=0.0
        Share of missing answers in the attributes not every customer uses (phone support,
        returns, app, ...; relative rates in ``truth["missing"]``). Outcomes are complete.
    halo : float, default=0.6
        Loading of every rating on the common halo factor.
    bands : (int, int), default=(6, 8)
        Band cut-offs: low = rating ≤ a, middle, high = rating > b.
    kano : dict, optional
        Override the Kano class of attributes, ``{driver: "basic" | "performance" |
        "excitement"}``.
    satisfaction : {"rating", "index"}, optional
        Record satisfaction as a 1–10 integer answer or as the continuous index; default
        ``"index"`` for ``kind="linear"``, else ``"rating"``.
    base_rate : float, default=0.72
        Approximate share of customers who repurchase.
    items_per_construct : int or dict, optional
        Generate an ECSI-style survey of multi-item constructs instead (Image, Expectation,
        Quality, Value, Satisfaction, Loyalty; items ``IMAG1, ...``) from a known structural
        model, for :func:`~driverkit.pls`; ``discrete=False`` gives continuous answers for
        which the truth is exact. The truth is in ``df.attrs["truth"]["pls"]`` and
        :func:`~driverkit.latent_truth` (see ``driverkit.data._latent``).

    Returns
    -------
    pandas.DataFrame
        Columns ``customer_id, segment, wave, weight``, the attributes (``truth["drivers"]``,
        stage order), ``brand_connection, satisfaction, recommend, repurchase, revenue`` and
        optionally ``imp_<driver>``. Rating columns are int64, or float64 holding integers
        and NaN when they have missing answers.

        ``df.attrs["truth"]`` (JSON-serialisable) holds: ``drivers``; ``outcome`` (the main
        outcome), ``intercept``, ``coef`` (and ``cuts`` for ordinal) of its equation;
        ``equations`` (``satisfaction``, ``repurchase``, ``recommend``: intercept, ``coef``,
        satisfaction and brand coefficients, ``penalty``/``reward`` per attribute when
        asymmetric, cut points, slopes); ``recover`` (the dk.fit call that recovers which
        ``params``, and whether it is ``exact``); ``chain`` (``a`` attribute → satisfaction,
        ``b`` satisfaction → repurchase, ``direct``, ``indirect`` = b·a, ``total``);
        ``kano`` (``class``, ``penalty``, ``reward`` in the main equation); ``shape`` and
        ``bands``; ``stages`` and ``stage_of``; ``scales``; ``ratings`` (latent means and
        sds, halo, stage loading, expected means per wave); ``segments`` (names, shares,
        rating shifts, revenue medians, slopes, ``null``); ``waves`` (rating shifts,
        ``expected_mean_change``, slopes); ``weights``; ``stated``; ``missing`` (rate per
        column); ``options`` (every argument, to regenerate).

    Notes
    -----
    Ratings: ``x_ij = clip(round(μ_j + shift_segment + shift_wave + σ_j z_ij), 1, 10)`` with
    ``z_ij = λ h_i + γ s_i,stage(j) + sqrt(1 − λ² − γ²) e_ij`` (halo ``h``, stage factor ``s``,
    all standard normal), giving inter-item correlations of about 0.3–0.55. Every equation
    uses ``u_j(x)``: the rating itself when ``asymmetric=False``; otherwise the band step
    ``L_j [x ≤ a] + H_j [x > b]`` with ``(L, H)`` = (−4.5, 0.5) for basic, (−2, 2) for
    performance and (−0.5, 4.5) for excitement attributes, so that penalty = coef·L and
    reward = coef·H are exactly the coefficients of the penalty–reward model
    (Brandt 1987; Mittal, Ross & Baldasare 1998).

    - satisfaction* = a₀ + Σ a_j u_j + ε, ε ~ N(0, 1); recorded as ``clip(round(·), 1, 10)``
      or as is (``satisfaction="index"``).
    - repurchase ~ Bernoulli(F(b₀ + Σ d_j u_j + c · satisfaction)), F logistic or normal;
      ``c = 0`` and ``d_j`` = the chain's total ``d_j + c a_j`` when ``chain=False``.
    - recommend: ordered logit, P(R ≤ r) = F(θ_r − Σ r_j u_j − r_S · satisfaction −
      r_B · brand_connection).

    The halo moves only the ratings, so every equation holds conditionally on the recorded
    answers: ``dk.fit(df, truth["recover"]["outcome"], truth["recover"]["drivers"],
    kind=kind)`` is exactly the generating family when ``truth["recover"]["exact"]``
    (``asymmetric=False`` and no slopes) and converges to ``truth["recover"]["params"]``.
    With ``chain=False`` that is ``dk.fit(df, "repurchase", truth["drivers"], kind="logit")``
    recovering ``truth["intercept"]`` and ``truth["coef"]``. Segment and wave rating shifts
    and the weights (which depend on the segment only) keep it exact.

    See Also
    --------
    true_effect : the exact effect of moving ratings, for checking simulators.
    load_demo : the shipped demo survey made by this generator.

    Examples
    --------
    >>> import driverkit as dk
    >>> df = dk.make_survey(n=500, n_drivers=4, seed=1)
    >>> df.attrs["truth"]["drivers"]
    ['website_ease', 'product_range', 'price_value', 'checkout_speed']
    >>> df.shape
    (500, 13)
    """
    if "items_per_construct" in options:  # latent constructs: a separate generator
        ipc = options.pop("items_per_construct")
        if ipc is not None:
            from ._latent import latent_survey

            return latent_survey(n, ipc, seed, **options)
    check_kwargs(options, _FUNC)
    n = _check_int(n, "n", 10)
    n_drivers = _check_int(n_drivers, "n_drivers", 1, MAX_DRIVERS)
    check_option(kind, "kind", KINDS, _FUNC)
    if seed is None:
        seed = int(np.random.SeedSequence().entropy)  # type: ignore[arg-type]
    seed = _check_int(seed, "seed", 0)
    opts: dict[str, Any] = {
        "asymmetric": bool(asymmetric), "chain": bool(chain),
        "segment_effects": segment_effects, "segment_slopes": segment_slopes,
        "waves": waves, "wave_effects": wave_effects, "wave_slopes": wave_slopes,
        "stated": bool(stated), "missing": missing, "halo": halo, "bands": tuple(bands),
        "kano": kano, "satisfaction": satisfaction, "base_rate": base_rate,
    }
    for name in ("missing", "halo", "base_rate"):
        v = opts[name]
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise DriverkitTypeError(
                f"The '{name}' parameter of {_FUNC}() must be a number. Got {v!r} instead.")
    truth = _build_truth(n, n_drivers, kind, seed, opts)
    return _draw(truth)


def _stream(seed: int, key: int, sub: int = 0) -> np.random.Generator:
    """Independent stream per component, so one option never changes another column."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(key, sub)))


def _draw_ratings(truth: Mapping[str, Any], n: int, seed: int
                  ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Segment, wave, attribute ratings, brand_connection and the halo of ``n`` respondents."""
    drivers = truth["drivers"]
    R = truth["ratings"]
    halo, gamma = R["halo"], R["stage_loading"]
    uniq = float(np.sqrt(1.0 - halo**2 - gamma**2))
    seg_truth, wave_truth = truth["segments"], truth["waves"]

    g = _stream(seed, 0)
    segment = np.asarray(SEGMENTS, dtype=object)[
        g.choice(len(SEGMENTS), size=n, p=np.array(SEGMENT_SAMPLE_SHARE))]
    wave_names = wave_truth["names"]
    wave = np.asarray(wave_names, dtype=np.int64)[g.integers(0, len(wave_names), size=n)]

    g = _stream(seed, 1)
    h = g.standard_normal(n)
    stage_f = {s: g.standard_normal(n) for s in STAGES}
    e_brand = g.standard_normal(n)

    def shift(d: str) -> np.ndarray:
        out = np.zeros(n)
        for s, sh in seg_truth["rating_shift"].items():
            out[segment == s] += sh.get(d, 0.0)
        for wv, sh in wave_truth["rating_shift"].items():
            out[wave == int(wv)] += sh.get(d, 0.0)
        return out

    pool_index = _pool_index(truth)
    X: dict[str, np.ndarray] = {}
    for d in drivers:
        e = _stream(seed, 2, pool_index[d]).standard_normal(n)
        z = halo * h + gamma * stage_f[truth["stage_of"][d]] + uniq * e
        lat = R["latent_mean"][d] + shift(d) + R["latent_sd"][d] * z
        X[d] = np.clip(np.rint(lat), 1, 10)
    zb = BRAND_HALO * h + np.sqrt(1 - BRAND_HALO**2) * e_brand
    brand = np.clip(np.rint(BRAND_MEAN + shift(BRAND) + BRAND_SD * zb), 1, 10)
    return segment, wave, X, brand, h


def _pool_index(truth: Mapping[str, Any]) -> dict[str, int]:
    return {a.name: j for j, a in enumerate(_attributes(truth["options"]["n_drivers"]))}


def _draw(truth: dict[str, Any]) -> pd.DataFrame:
    o = truth["options"]
    n, seed, kind = o["n"], o["seed"], truth["kind"]
    drivers = truth["drivers"]
    seg_truth = truth["segments"]
    segment, wave, X, brand, _ = _draw_ratings(truth, n, seed)
    pool_index = _pool_index(truth)

    idx = _indices(truth, X, segment, wave, brand)
    eqs = truth["equations"]
    sat_eq = eqs["satisfaction"]
    sat = idx["satisfaction"] + sat_eq["sigma"] * _stream(seed, 3).standard_normal(n)
    if sat_eq["recorded"] == "rating":
        sat = np.clip(np.rint(sat), 1, 10)

    F = _cdf(kind)
    rep_eq = eqs["repurchase"]
    eta = idx["repurchase"] + rep_eq["satisfaction"] * sat
    repurchase = (_stream(seed, 4).random(n) < F(eta)).astype(np.int64)

    rec_eq = eqs["recommend"]
    u = _stream(seed, 5).random(n)
    latent = idx["recommend"] + rec_eq["satisfaction"] * sat + np.log(u) - np.log1p(-u)
    recommend = (latent[:, None] > np.asarray(rec_eq["cuts"])[None, :]).sum(axis=1)

    g = _stream(seed, 6)
    med = np.array([seg_truth["revenue_median"][s] for s in segment])
    revenue = np.maximum(np.round(med * np.exp(REVENUE_SIGMA * g.standard_normal(n)), 2), 1.0)

    g = _stream(seed, 7)
    fac = np.array([truth["weights"]["factor"][s] for s in segment])
    raw = fac * np.exp(WEIGHT_SIGMA * g.standard_normal(n))
    weight = np.round(raw / raw.mean(), 4)

    width = max(5, len(str(n)))
    cols: dict[str, Any] = {
        "customer_id": [f"C{i:0{width}d}" for i in range(1, n + 1)],
        "segment": list(segment),
        "wave": wave,
        "weight": weight,
    }
    for d in drivers:
        x = X[d].copy()
        rate = truth["missing"].get(d, 0.0)
        if rate > 0:
            x[_stream(seed, 8, pool_index[d]).random(n) < rate] = np.nan
            cols[d] = x
        else:
            cols[d] = x.astype(np.int64)
    cols[BRAND] = brand.astype(np.int64)
    cols["satisfaction"] = sat if sat_eq["recorded"] == "index" else sat.astype(np.int64)
    cols["recommend"] = recommend.astype(np.int64)
    cols["repurchase"] = repurchase
    cols["revenue"] = revenue
    if truth["stated"] is not None:
        g = _stream(seed, 9)
        person = STATED_SIGMA_PERSON * g.standard_normal(n)
        for d in drivers:
            e = _stream(seed, 10, pool_index[d]).standard_normal(n)
            lat = truth["stated"][d]["latent_mean"] + person + STATED_SIGMA_ITEM * e
            cols[f"imp_{d}"] = np.clip(np.rint(lat), 1, 5).astype(np.int64)
    df = pd.DataFrame(cols)
    df.attrs["truth"] = truth
    return df


# ----------------------------------------------------------------------------- true effects

def _sat_distribution(truth: Mapping[str, Any], mu: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Support points (n, Q) and probabilities (n, Q) of the recorded satisfaction."""
    eq = truth["equations"]["satisfaction"]
    if eq["recorded"] == "rating":
        probs = _rating_pmf(mu, eq["sigma"])
        values = np.broadcast_to(np.arange(1.0, 11.0), probs.shape)
        return values, probs
    t, wq = np.polynomial.hermite_e.hermegauss(24)     # ∫ f(z) φ(z) dz
    values = mu[:, None] + eq["sigma"] * t[None, :]
    probs = np.broadcast_to(wq / wq.sum(), values.shape)
    return values, probs


def _expected(truth: Mapping[str, Any], X: Mapping[str, np.ndarray], segment: np.ndarray,
              wave: np.ndarray, brand: np.ndarray, outcome: str) -> np.ndarray:
    """Per-respondent expected outcome given the ratings (exact, satisfaction integrated)."""
    idx = _indices(truth, X, segment, wave, brand)
    eqs = truth["equations"]
    values, probs = _sat_distribution(truth, idx["satisfaction"])
    if outcome == "satisfaction":
        return (values * probs).sum(axis=1)
    if outcome == "repurchase":
        F = _cdf(truth["kind"])
        eq = eqs["repurchase"]
        return (probs * F(idx["repurchase"][:, None] + eq["satisfaction"] * values)).sum(axis=1)
    eq = eqs["recommend"]
    eta = idx["recommend"][:, None] + eq["satisfaction"] * values           # (n, Q)
    cuts = np.asarray(eq["cuts"])
    cdf = special.expit(cuts[None, None, :] - eta[:, :, None])             # P(R ≤ r), r < 10
    cdf = np.concatenate([cdf, np.ones((*cdf.shape[:2], 1))], axis=2)
    pmf = np.diff(cdf, axis=2, prepend=0.0)                                 # (n, Q, 11)
    pmf = (probs[:, :, None] * pmf).sum(axis=1)                             # (n, 11)
    if outcome == "recommend":
        return pmf @ np.arange(11.0)
    return 100.0 * (pmf[:, 9:].sum(axis=1) - pmf[:, :7].sum(axis=1))       # nps


def true_effect(
    data: pd.DataFrame | Mapping[str, Any],
    changes: Mapping[str, float | Callable[[np.ndarray], np.ndarray]],
    *,
    outcome: str = "repurchase",
    weights: str | np.ndarray | None = None,
    truth: Mapping[str, Any] | None = None,
    n: int = 200_000,
    seed: int | None = None,
) -> float:
    """The true average effect of changing ratings, from the generating equations.

    Each respondent's ratings are changed (``{driver: shift}`` or ``{driver: f(x)}``) and
    clipped to 1–10; the effect is the (weighted) mean over respondents of the exact
    expected outcome after minus before, with satisfaction integrated over its error
    (so a change flows through the loyalty chain).

    Parameters
    ----------
    data : DataFrame or dict
        A survey from :func:`make_survey` (its ``attrs["truth"]`` is used unless ``truth``
        is given): the effect *for these respondents*, the target of a simulator that
        re-predicts them. Rows with a missing rating of a driver are left out. Or a truth
        dict: the population effect, computed on a fresh survey of ``n`` respondents drawn
        with ``seed`` (default: the truth's seed + 1).
    changes : dict
        ``{driver: number}`` shifts the rating (negative = cut); a callable maps the
        array of ratings to new ratings (e.g. ``lambda x: np.maximum(x, 7)``).
    outcome : {"repurchase", "satisfaction", "recommend", "nps"}, default="repurchase"
        Change in P(repurchase), in mean satisfaction (recorded scale), in mean recommend,
        or in NPS points (100·(P(9–10) − P(0–6))).
    weights : str or array, optional
        Column name or array of respondent weights (as the simulator's ``weights``).

    Returns
    -------
    float

    Notes
    -----
    Δ = Σ_i w_i [E(y | x'_i) − E(y | x_i)] / Σ_i w_i with x' = clip(change(x), 1, 10);
    ratings moved to fractional values use the bands low ≤ a < middle ≤ b < high.

    Examples
    --------
    >>> import driverkit as dk
    >>> from driverkit.data import true_effect
    >>> df = dk.make_survey(n=1000, asymmetric=False, chain=False, seed=3)
    >>> bool(true_effect(df, {"checkout_speed": 1}) > 0)
    True
    """
    check_option(outcome, "outcome", ("repurchase", "satisfaction", "recommend", "nps"),
                 "true_effect")
    if isinstance(data, pd.DataFrame):
        t = truth if truth is not None else data.attrs.get("truth")
        if not t:
            raise DriverkitError(
                "true_effect() needs the generating truth: pass a DataFrame from "
                "make_survey() (with attrs['truth']) or truth=...")
        df = data
    elif isinstance(data, Mapping):
        t = data
        opts = dict(t["options"])
        opts.pop("n")
        s = opts.pop("seed")
        df = make_survey(n=n, seed=s + 1 if seed is None else seed, **opts)
    else:
        raise DriverkitTypeError(
            f"true_effect() takes a survey DataFrame or a truth dict, got {type(data).__name__}.")
    drivers = list(t["drivers"])
    check_columns(df, [*drivers, BRAND, "segment", "wave"], role="survey column")
    for d in changes:
        if d not in drivers:
            raise DriverkitError(
                f"true_effect() cannot change {d!r}: it is not an attribute of the survey "
                f"({', '.join(drivers)}).")
    if isinstance(weights, str):
        check_columns(df, [weights], role="weights column")
        w = df[weights].to_numpy(dtype=float)
    elif weights is None:
        w = np.ones(len(df))
    else:
        w = np.asarray(weights, dtype=float)
        if w.shape != (len(df),):
            raise DriverkitError(
                f"true_effect() weights must have one value per row ({len(df)}); "
                f"got shape {w.shape}.")
    Xall = {d: df[d].to_numpy(dtype=float) for d in drivers}
    keep = np.ones(len(df), dtype=bool)
    for x in Xall.values():
        keep &= ~np.isnan(x)
    X = {d: x[keep] for d, x in Xall.items()}
    seg = df["segment"].astype(str).to_numpy()[keep]
    wave = df["wave"].to_numpy()[keep]
    brand = df[BRAND].to_numpy(dtype=float)[keep]
    w = w[keep]
    X1 = dict(X)
    for d, ch in changes.items():
        new = ch(X[d].copy()) if callable(ch) else X[d] + float(ch)
        X1[d] = np.clip(np.asarray(new, dtype=float), 1.0, 10.0)
    before = _expected(t, X, seg, wave, brand, outcome)
    after = _expected(t, X1, seg, wave, brand, outcome)
    return float(np.sum(w * (after - before)) / np.sum(w))

