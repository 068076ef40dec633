"""Synthetic ECSI-style surveys of multi-item constructs with a known structural model.

Used by ``dk.make_survey(items_per_construct=...)``. The data follow a *composite* model in
which PLS path modelling is exactly consistent, so the truth is what ``dk.pls`` estimates as
n grows (not an attenuated factor-model value):

* construct scores η (standardised) follow the recursive structural model
  η_j = Σ_i b_ij η_i + ζ_j, with var(ζ_j) = 1 − R²_j;
* the k items of construct j are x = λ_j η_j + e, where the k errors are i.i.d. normal
  with variance 1 − r_j **centred within the block** (so they sum to zero and η_j is exactly
  the equally weighted composite of its standardised items); the items are equicorrelated
  (r_j within the block), the population mode-A weights are equal,
  w = 1/sqrt(k(1 + (k − 1) r_j)), and the loadings are λ_j = sqrt((1 + (k − 1) r_j)/k);
* ratings are ``mean + sd·x`` on the 1–10 scale: rounded and clipped (``discrete=True``,
  realistic answers; the truth then holds only approximately) or continuous
  (``discrete=False``; the truth is exact);
* ``repurchase`` ~ Bernoulli(expit(a + b·η_Loyalty)), ``revenue`` log-normal, survey
  ``weight`` log-normal (independent of everything, so weighted and unweighted fits share the
  truth).
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_kwargs
from ..exceptions import DriverkitError, DriverkitTypeError

__all__ = ["LatentTruth", "latent_survey", "latent_truth"]

CONSTRUCTS = ("Image", "Expectation", "Quality", "Value", "Satisfaction", "Loyalty")
PREFIX = {"Image": "IMAG", "Expectation": "CUEX", "Quality": "PERQ", "Value": "PERV",
          "Satisfaction": "CUSA", "Loyalty": "CUSL"}
PATHS = {("Image", "Expectation"): 0.50, ("Expectation", "Quality"): 0.55,
         ("Expectation", "Value"): 0.15, ("Quality", "Value"): 0.50,
         ("Image", "Satisfaction"): 0.20, ("Quality", "Satisfaction"): 0.40,
         ("Value", "Satisfaction"): 0.25, ("Image", "Loyalty"): 0.20,
         ("Satisfaction", "Loyalty"): 0.55}
ITEM_CORR = 0.6
ITEM_MEAN, ITEM_SD = 7.0, 1.6
REPURCHASE = (1.0, 1.2)  # intercept, log-odds per sd of loyalty


@dataclass(frozen=True)
class LatentTruth:
    """The generating truth of a latent-construct survey (also in ``attrs["truth"]["pls"]``).

    Attributes
    ----------
    constructs : dict
        ``{construct: [items]}`` (pass to :func:`~driverkit.pls`).
    paths : list of (str, str)
    coef : pandas.Series
        True standardised path coefficients by ``(source, target)``.
    total_effects : pandas.Series
    r2 : pandas.Series
    weights, loadings : pandas.Series
        Population outer weights and loadings by item.
    repurchase : dict
        ``intercept`` and ``slope`` of the logit of repurchase on the standardised loyalty
        score.
    """

    constructs: dict[str, list[str]]
    paths: list[tuple[str, str]]
    coef: pd.Series
    total_effects: pd.Series
    r2: pd.Series
    weights: pd.Series
    loadings: pd.Series
    repurchase: dict[str, float]


def _items_per(items_per_construct: Any) -> dict[str, int]:
    if isinstance(items_per_construct, Mapping):
        out = {}
        for k, v in items_per_construct.items():
            if k not in CONSTRUCTS:
                raise DriverkitError(f"items_per_construct names '{k}', which is not one of "
                                     f"{', '.join(CONSTRUCTS)}.")
            out[k] = v
        ks = {c: out.get(c, 3) for c in CONSTRUCTS}
    else:
        ks = dict.fromkeys(CONSTRUCTS, items_per_construct)
    for c, k in ks.items():
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or not 1 <= int(k) <= 20:
            raise DriverkitTypeError(
                f"items_per_construct must be an integer 1–20 (or a dict per construct); got "
                f"{k!r} for '{c}'.")
    return {c: int(k) for c, k in ks.items()}


def _structure() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    c = len(CONSTRUCTS)
    B = np.zeros((c, c))
    for (s, t), b in PATHS.items():
        B[CONSTRUCTS.index(s), CONSTRUCTS.index(t)] = b
    # implied correlations of standardised constructs, in causal (list) order
    P = np.eye(c)
    r2 = np.zeros(c)
    for j in range(c):
        pr = np.flatnonzero(B[:, j])
        for i in range(j):
            P[i, j] = P[j, i] = B[pr, j] @ P[pr, i]
        r2[j] = B[pr, j] @ P[pr][:, pr] @ B[pr, j] if pr.size else 0.0
    return B, P, r2


def latent_survey(n: int = 2000, items_per_construct: Any = 3, seed: int | None = 0, *,
                  discrete: bool = True, **options: Any) -> pd.DataFrame:
    """The data of ``make_survey(items_per_construct=...)`` (see the module docstring)."""
    check_kwargs({k: v for k, v in options.items() if k not in ("kind", "n_drivers")},
                 "make_survey")
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 10:
        raise DriverkitError(f"n must be an integer >= 10; got {n!r}.")
    ks = _items_per(items_per_construct)
    if seed is None:
        seed = int(np.random.SeedSequence().entropy)
    rng = np.random.default_rng(int(seed))
    B, P, r2 = _structure()
    c = len(CONSTRUCTS)
    eta = np.zeros((n, c))
    for j in range(c):
        pr = np.flatnonzero(B[:, j])
        eta[:, j] = eta[:, pr] @ B[pr, j] + np.sqrt(1.0 - r2[j]) * rng.standard_normal(n)
    cols: dict[str, np.ndarray] = {"customer_id": np.arange(1, n + 1)}
    constructs: dict[str, list[str]] = {}
    weights: dict[str, float] = {}
    loadings: dict[str, float] = {}
    for j, name in enumerate(CONSTRUCTS):
        k = ks[name]
        r = ITEM_CORR if k > 1 else 1.0
        lam = np.sqrt((1 + (k - 1) * r) / k)
        e = rng.standard_normal((n, k)) * np.sqrt(1.0 - r)
        e -= e.mean(axis=1, keepdims=True)
        x = lam * eta[:, [j]] + e
        items = [f"{PREFIX[name]}{i + 1}" for i in range(k)]
        constructs[name] = items
        for i, it in enumerate(items):
            v = ITEM_MEAN + ITEM_SD * x[:, i]
            cols[it] = np.clip(np.round(v), 1, 10).astype(np.int64) if discrete else v
            weights[it] = 1.0 / np.sqrt(k * (1 + (k - 1) * r))
            loadings[it] = float(lam)
    a, b = REPURCHASE
    loyal = eta[:, CONSTRUCTS.index("Loyalty")]
    cols["repurchase"] = (rng.random(n) < 1.0 / (1.0 + np.exp(-(a + b * loyal)))).astype(
        np.int64)
    cols["revenue"] = np.round(np.exp(np.log(300.0) + 0.6 * rng.standard_normal(n)), 2)
    w = np.exp(0.3 * rng.standard_normal(n))
    cols["weight"] = w * n / w.sum()
    df = pd.DataFrame(cols)
    total = np.linalg.inv(np.eye(c) - B) - np.eye(c)
    df.attrs["truth"] = {"pls": {
        "constructs": constructs,
        "paths": [[s, t] for (s, t) in PATHS],
        "coef": {f"{s} -> {t}": b for (s, t), b in PATHS.items()},
        "total_effects": {f"{CONSTRUCTS[i]} -> {CONSTRUCTS[j]}": float(total[i, j])
                          for i in range(c) for j in range(c) if total[i, j] != 0},
        "r2": {CONSTRUCTS[j]: float(r2[j]) for j in range(c) if r2[j] > 0},
        "construct_correlations": P.tolist(),
        "weights": weights, "loadings": loadings,
        "item_correlation": ITEM_CORR, "item_mean": ITEM_MEAN, "item_sd": ITEM_SD,
        "scales": [1, 10],
        "repurchase": {"intercept": a, "slope": b, "on": "standardised Loyalty score"},
        "exact": not discrete,
        "options": {"n": int(n), "items_per_construct": ks, "seed": int(seed),
                    "discrete": bool(discrete)},
    }}
    return df


def latent_truth(data: pd.DataFrame) -> LatentTruth:
    """The :class:`LatentTruth` of a survey made by ``make_survey(items_per_construct=...)``.

    Examples
    --------
    >>> import driverkit as dk
    >>> df = dk.make_survey(300, items_per_construct=2, seed=0)
    >>> truth = dk.latent_truth(df)
    >>> float(truth.coef[("Satisfaction", "Loyalty")])
    0.55
    """
    t = getattr(data, "attrs", {}).get("truth", {}).get("pls")
    if t is None:
        raise DriverkitError("These data carry no latent-construct truth; make them with "
                             "dk.make_survey(items_per_construct=...).")

    def series(d: dict[str, float], name: str) -> pd.Series:
        keys = [tuple(k.split(" -> ")) for k in d]
        return pd.Series(list(d.values()), index=pd.MultiIndex.from_tuples(
            keys, names=["source", "target"]), name=name)

    return LatentTruth(
        constructs={k: list(v) for k, v in t["constructs"].items()},
        paths=[(s, tt) for s, tt in t["paths"]],
        coef=series(t["coef"], "coef"),
        total_effects=series(t["total_effects"], "total_effect"),
        r2=pd.Series(t["r2"], name="r2"),
        weights=pd.Series(t["weights"], name="weight"),
        loadings=pd.Series(t["loadings"], name="loading"),
        repurchase=dict(t["repurchase"]),
    )
