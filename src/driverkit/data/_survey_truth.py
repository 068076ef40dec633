"""The generating truth of :func:`~driverkit.data.make_survey`.

The options turned into equations, segment and wave effects, and the calibrated
intercept and cut points.
"""

from __future__ import annotations

import functools
import json
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy import special

from .._validation import check_option
from ..exceptions import DriverkitError, DriverkitTypeError
from ._survey_draw import _cdf, _draw_ratings, _indices, _sat_distribution
from ._survey_spec import (
    _FUNC,
    BRAND,
    BRAND_HALO,
    BRAND_MEAN,
    BRAND_SD,
    BRAND_TO_RECOMMEND,
    DEFAULT_SEGMENT_EFFECTS,
    DEFAULT_WAVE_EFFECTS,
    KANO,
    NULL_REVENUE_MEDIAN,
    PROBIT_FACTOR,
    RECOMMEND_SHARES,
    REVENUE_SIGMA,
    SAT_MEAN,
    SAT_SIGMA,
    SAT_TO_RECOMMEND,
    SAT_TO_REPURCHASE,
    SEGMENT_POPULATION_SHARE,
    SEGMENT_REVENUE_MEDIAN,
    SEGMENT_SAMPLE_SHARE,
    SEGMENTS,
    SHAPES,
    STAGE_LOADING,
    STAGES,
    STATED_SIGMA_ITEM,
    STATED_SIGMA_PERSON,
    WEIGHT_SIGMA,
    _attributes,
    _check_effects,
    _check_int,
    _expected_shape,
    _r,
    _rating_pmf,
)

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
