"""Subset engines against their own outputs frozen before the issue #16 speed work.

The GLM subset engine (logit and ordered logit, weights, factor players, covariates, an
empty category, a near-separated driver), GLM bootstrap intervals, exact linear Shapley and
``Simulator.sensitivity`` were recorded at commit e0cdacb in
``tests/data/engine_reference/values.npz`` (``make.py`` beside it regenerates the file). Every
faster path must reproduce them: subset fit indices and log-likelihoods to 1e-8, bootstrap
standard errors and interval ends to 1e-6 (the issue's tolerances). The independent
references (statsmodels per-subset fits, brute-force OLS, closed forms) are in the other
test modules; this file guards against a speed-up that changes a number.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import driverkit as dk
from driverkit.importance._glm import glm_subset_values

DATA = Path(__file__).resolve().parents[1] / "data" / "engine_reference" / "values.npz"


def _ratings(n: int, p: int, seed: int, scale: int = 10) -> np.ndarray:
    rng = np.random.default_rng(seed)
    halo = rng.normal(size=n)
    mid = (scale + 1) / 2
    return np.clip(np.round(mid + 0.15 * scale * halo[:, None]
                            + rng.normal(0, 0.15 * scale, (n, p))), 1, scale)


def _binary(X: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed + 1)
    eta = (X - X.mean(axis=0)) @ np.linspace(0.05, 0.3, X.shape[1])
    return (rng.random(X.shape[0]) < 1 / (1 + np.exp(-(0.2 + eta)))).astype(float)


def _ordinal(X: np.ndarray, seed: int, cuts: tuple[float, ...] = (-1.5, -0.5, 0.5, 1.5)
             ) -> np.ndarray:
    rng = np.random.default_rng(seed + 2)
    eta = (X - X.mean(axis=0)) @ np.linspace(0.05, 0.3, X.shape[1])
    eta = eta / eta.std()
    return np.digitize(eta + rng.logistic(size=X.shape[0]), cuts).astype(float)


def _dummies(codes: np.ndarray, levels: int) -> np.ndarray:
    return (codes[:, None] == np.arange(1, levels)[None, :]).astype(float)


def problems() -> dict[str, dict[str, Any]]:
    """Keyword arguments of ``glm_subset_values`` for each frozen problem."""
    rng = np.random.default_rng(2026)
    out: dict[str, dict[str, Any]] = {}
    X = _ratings(400, 8, 1)
    out["logit_plain"] = dict(X=X, y=_binary(X, 1))
    out["logit_sampling_w"] = dict(X=X, y=_binary(X, 1), w=rng.gamma(2.0, 0.5, 400),
                                   fit_index="nagelkerke")
    Xf = _ratings(300, 6, 2, scale=5)
    out["logit_frequency_w"] = dict(X=Xf, y=_binary(Xf, 2),
                                    w=rng.integers(1, 4, 300).astype(float),
                                    weight_type="frequency", fit_index="estrella")
    # a 5-level factor as one player, a covariate in every model, an unused column
    Xr = _ratings(500, 5, 3)
    fac = rng.integers(0, 5, 500)
    cov = rng.normal(size=500)
    Xg = np.column_stack([Xr, _dummies(fac, 5), cov, rng.normal(size=500)])
    players = [[0], [1], [2], [3], [4], [5, 6, 7, 8]]
    yg = _binary(Xr, 3)
    out["logit_factor_cov"] = dict(X=Xg, y=yg, players=players, always=[9],
                                   fit_index="cox_snell")
    # one driver nearly separates the outcome
    Xs = _ratings(250, 5, 4)
    ys = _binary(Xs, 4)
    Xs[:, 0] = ys * 3 + rng.normal(0, 0.4, 250)
    out["logit_near_separated"] = dict(X=Xs, y=ys)
    Xo = _ratings(450, 7, 5)
    out["ordinal_plain"] = dict(X=Xo, y=_ordinal(Xo, 5), kind="ordinal")
    out["ordinal_sampling_w"] = dict(X=Xo, y=_ordinal(Xo, 5), kind="ordinal",
                                     w=rng.gamma(2.0, 0.5, 450), fit_index="nagelkerke")
    out["ordinal_factor_cov"] = dict(X=Xg, y=_ordinal(Xr, 6), kind="ordinal",
                                     players=players, always=[9])
    yo = _ordinal(Xo, 7, cuts=(-1.0, 0.0, 0.8, 1.6, 2.4))
    yo[yo == 3] = 2  # category 3 of 0..5 never occurs
    out["ordinal_empty_category"] = dict(X=Xo, y=yo, kind="ordinal", n_categories=6)
    Xf3 = _ratings(300, 6, 8, scale=5)
    out["ordinal_frequency_w"] = dict(X=Xf3, y=_ordinal(Xf3, 8), kind="ordinal",
                                      w=rng.integers(1, 4, 300).astype(float),
                                      weight_type="frequency")
    return out


def _frame(X: np.ndarray, y: np.ndarray) -> tuple[pd.DataFrame, list[str]]:
    names = [f"d{j}" for j in range(X.shape[1])]
    df = pd.DataFrame(X, columns=names)
    df["y"] = y
    return df, names


def bootstrap_tables() -> dict[str, pd.DataFrame]:
    """Public bootstrap runs whose standard errors and intervals are frozen."""
    X = _ratings(300, 6, 11)
    df, names = _frame(X, _binary(X, 11))
    out = {"boot_logit": dk.importance(df, "y", names, kind="logit", bootstrap=30, seed=3,
                                       progress=False).table}
    df["w"] = np.random.default_rng(4).gamma(2.0, 0.5, 300)
    out["boot_logit_w"] = dk.importance(df, "y", names, kind="logit", bootstrap=20, seed=4,
                                        weights="w", progress=False).table
    Xo = _ratings(300, 5, 12)
    dfo, no = _frame(Xo, _ordinal(Xo, 12))
    out["boot_ordinal"] = dk.importance(dfo, "y", no, kind="ordinal", bootstrap=20, seed=5,
                                        progress=False).table
    return out


def linear_values() -> np.ndarray:
    rng = np.random.default_rng(13)
    X = _ratings(500, 14, 13)
    df, names = _frame(X, X @ rng.uniform(0, 0.3, 14) + rng.normal(0, 1, 500))
    return dk.importance(df, "y", names, progress=False).table["importance"].to_numpy()


def sensitivity_table() -> pd.DataFrame:
    X = _ratings(3000, 4, 14)
    df, names = _frame(X, _binary(X, 14))
    df["revenue"] = np.random.default_rng(15).gamma(2.0, 100.0, 3000)
    m = dk.fit(df, "y", names, kind="logit", scales=dict.fromkeys(names, (1, 10)))
    sim = dk.Simulator(m, df, customers=1e5, revenue="revenue", margin=0.3)
    return sim.sensitivity(draws=40, seed=2).table


BOOT_COLS = ["importance", "std_error", "ci_low", "ci_high", "share_low", "share_high"]


def compute_all() -> dict[str, np.ndarray]:
    values: dict[str, np.ndarray] = {}
    for key, kw in problems().items():
        fits = glm_subset_values(**kw)
        values[f"{key}__v"] = fits.v
        values[f"{key}__loglike"] = fits.loglike
    for key, tab in bootstrap_tables().items():
        values[key] = tab[BOOT_COLS].to_numpy(dtype=float)
    values["linear14"] = linear_values()
    sens = sensitivity_table()
    values["sensitivity"] = sens.select_dtypes("number").to_numpy(dtype=float)
    values["sensitivity_columns"] = np.array(list(sens.select_dtypes("number").columns))
    return values


@pytest.fixture(scope="module")
def frozen() -> Any:
    return np.load(DATA, allow_pickle=False)


@pytest.mark.parametrize("key", sorted(problems()))
def test_glm_subset_engine_unchanged(frozen: Any, key: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fits = glm_subset_values(**problems()[key])
    np.testing.assert_allclose(fits.v, frozen[f"{key}__v"], rtol=0, atol=1e-8)
    ref_ll = frozen[f"{key}__loglike"]
    np.testing.assert_allclose(fits.loglike, ref_ll, rtol=0,
                               atol=1e-8 * max(1.0, float(np.abs(ref_ll).max())))


def test_glm_bootstrap_intervals_unchanged(frozen: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tables = bootstrap_tables()
    for key, tab in tables.items():
        got = tab[BOOT_COLS].to_numpy(dtype=float)
        np.testing.assert_allclose(got, frozen[key], rtol=0, atol=1e-6, err_msg=key)


def test_exact_linear_shapley_unchanged(frozen: Any) -> None:
    np.testing.assert_allclose(linear_values(), frozen["linear14"], rtol=0, atol=1e-10)


def test_sensitivity_unchanged(frozen: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tab = sensitivity_table()
    cols = [str(c) for c in frozen["sensitivity_columns"]]
    got = tab[cols].to_numpy(dtype=float)
    ref = frozen["sensitivity"]
    scale = np.maximum(1.0, np.nanmax(np.abs(ref), axis=0))
    np.testing.assert_allclose(got / scale, ref / scale, rtol=0, atol=1e-8)


def test_separated_subsets_reach_their_limit() -> None:
    """Every model with a separating driver has ℓ → 0 (McFadden 1), however many other
    drivers it holds; a diverged fast Newton pass must not be taken as converged (found
    while freezing these values: the 5-driver model came back with ℓ = −36,678)."""
    kw = problems()["logit_near_separated"]
    with pytest.warns(dk.exceptions.ConvergenceWarning, match="predict some respondents"):
        fits = glm_subset_values(**kw)
    masks = np.arange(fits.v.size)
    with_sep = (masks & 1) == 1
    np.testing.assert_allclose(fits.v[with_sep], 1.0, atol=1e-6)
    assert np.all(fits.loglike >= fits.loglike_null - 1e-9)
    parents = masks & ~(1 << (np.log2(np.maximum(masks, 1)).astype(int)))
    assert np.all(fits.loglike[1:] >= fits.loglike[parents[1:]] - 1e-6)
