"""Every importance combination through the public function.

kind × method × option (weights, bootstrap, groups, covariates, ordinal cut-points, corr=): each
either returns finite numbers with the contract columns, or raises the documented "not
supported" error. The expected refusals are listed here, so a combination that starts to
fail (or to pass silently where it should refuse) breaks the test. Small on purpose (n = 160,
three drivers, five bootstrap replicates).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import driverkit as dk
from driverkit.exceptions import DriverkitError
from driverkit.importance._api import ALL_METHODS, GLM_METHODS, METHODS

KINDS = ("linear", "logit", "probit", "ordinal")
OPTIONS = ("plain", "weights", "bootstrap", "groups", "covariates", "cutpoints", "corr")
DRIVERS = ["a", "b", "c"]


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    rng = np.random.default_rng(2026)
    n = 160
    halo = rng.normal(size=n)
    X = np.column_stack([halo + rng.normal(0, 1, n) for _ in range(4)])
    eta = X @ [0.8, 0.5, 0.3, 0.2]
    df = pd.DataFrame(X, columns=[*DRIVERS, "z"])
    df["y_linear"] = eta + rng.normal(0, 1.5, n)
    df["y_logit"] = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    latent = eta + rng.logistic(size=n)
    df["y_ordinal"] = np.digitize(latent, [-1.0, 1.0])  # 3 categories
    df["y_ordinal6"] = np.digitize(latent, [-2.5, -1.0, 0.0, 1.0, 2.5])  # 6 categories
    df["y_probit"] = df["y_logit"]
    df["w"] = rng.uniform(0.3, 2.5, n)
    return df


def _expected_refusal(kind: str, method: str, option: str) -> str | None:
    """The documented error message (a regex) for a combination that is not supported."""
    if kind == "probit":
        return r"kind='probit' is not supported by importance\(\)"
    if option == "cutpoints" and kind != "ordinal":
        return "skip"  # cut-points only exist for ordinal outcomes
    if option == "corr" and kind != "linear":
        return r"needs respondent-level data"
    if kind != "linear" and method not in GLM_METHODS:
        return r"defined for linear models only"
    if method == "relative_weights" and kind == "ordinal":
        return r"defined for kind='logit' only"
    if method == "relative_weights" and option == "covariates" and kind == "logit":
        return r"do not support covariates="
    return None


def _call(survey: pd.DataFrame, kind: str, method: str, option: str) -> dk.ImportanceResult:
    outcome = "y_ordinal6" if option == "cutpoints" else f"y_{kind}"
    kw: dict = {"method": method, "kind": kind, "progress": False}
    if option == "weights":
        kw["weights"] = "w"
    elif option == "bootstrap":
        kw.update(bootstrap=5, seed=3)
    elif option == "groups":
        kw["groups"] = {"ab": ["a", "b"]}
    elif option == "covariates":
        kw["covariates"] = ["z"]
    if option == "corr":
        corr = survey[[*DRIVERS, outcome]].corr()
        return dk.importance(corr=corr, outcome=outcome, n=len(survey), **kw)
    return dk.importance(survey, outcome, DRIVERS, **kw)


@pytest.mark.parametrize("option", OPTIONS)
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("kind", KINDS)
def test_every_combination(survey, kind, method, option):
    refusal = _expected_refusal(kind, method, option)
    if refusal == "skip":
        return
    if refusal is not None:
        with pytest.raises(DriverkitError, match=refusal):
            _call(survey, kind, method, option)
        return
    res = _call(survey, kind, method, option)
    assert isinstance(res, dk.ImportanceResult)
    table = res.table
    players = ["ab", "c"] if option == "groups" else DRIVERS
    assert list(table.index) == players
    if method == "all":
        expected = ALL_METHODS if kind == "linear" else [
            m for m in ("shapley", "first", "last", "relative_weights")
            if m != "relative_weights" or (kind == "logit" and option != "covariates")]
        assert list(table.columns) == list(expected)
        assert set(res.results) >= set(expected)
        values = table.to_numpy(float)
    else:
        cols = ["importance", "share", "rank"]
        if option == "bootstrap":
            cols += ["std_error", "ci_low", "ci_high"]
        assert set(cols) <= set(table.columns)
        values = table[cols].to_numpy(float)
        assert sorted(table["rank"]) == sorted(
            pd.Series(-table["importance"]).rank(method="min").astype(int))
    assert np.isfinite(values).all(), table
    assert np.isfinite(res.r2) and np.isfinite(res.r2_always)
    if method in ("shapley", "dominance", "relative_weights") and kind == "linear":
        # the additive methods decompose the fit beyond the always-in covariates
        assert table["importance"].sum() == pytest.approx(res.r2 - res.r2_always, abs=1e-9)
    if method in ("shapley", "dominance") and kind != "linear":
        assert table["importance"].sum() == pytest.approx(res.r2 - res.r2_always, abs=1e-7)
    if method == "dominance":
        assert res.conditional is not None and res.complete is not None
        assert np.isfinite(res.conditional.to_numpy(float)).all()


def test_refusals_name_the_alternative(survey):
    """The not-supported messages say what to use instead."""
    with pytest.raises(DriverkitError, match=re.escape("kind='logit'")):
        dk.importance(survey, "y_probit", DRIVERS, kind="probit")
    with pytest.raises(DriverkitError, match="use one of"):
        dk.importance(survey, "y_logit", DRIVERS, kind="logit", method="pratt")
