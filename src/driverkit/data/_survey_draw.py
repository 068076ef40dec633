"""The generating equations of :func:`~driverkit.data.make_survey` and the draws of a survey.

A survey is drawn from its truth (ratings, outcomes, revenue, weights); the exact expected
outcomes are what :func:`~driverkit.data.true_effect` differences.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from ._survey_spec import (
    BRAND,
    BRAND_HALO,
    BRAND_MEAN,
    BRAND_SD,
    REVENUE_SIGMA,
    SEGMENT_SAMPLE_SHARE,
    SEGMENTS,
    STAGES,
    STATED_SIGMA_ITEM,
    STATED_SIGMA_PERSON,
    WEIGHT_SIGMA,
    _attributes,
    _rating_pmf,
    _shape_values,
)

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
