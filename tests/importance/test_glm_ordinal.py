"""The ordered-logit subset engine's fast path against the plain Newton and statsmodels.

The fast path (float32 passes on standardised columns that steer Newton, then a float64
score and log-likelihood pass for the convergence test) must give the numbers of the plain
float64 Newton with tanh terms (``_Ordinal._newton_reference``, the engine before the speed
work) to 1e-8, on problems with weights of both kinds, covariates, a factor player, an
empty category, two categories, zero weights and warm starts; and statsmodels'
``OrderedModel`` (logit) fits on a few subsets of 1–10 ratings.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from statsmodels.miscmodels.ordinal_model import OrderedModel

import driverkit as dk
from driverkit.importance import _glm_ordinal
from driverkit.importance._glm import glm_subset_values
from driverkit.importance._glm_ordinal import _Ordinal


def ratings(n: int, p: int, seed: int, n_cat: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Correlated 1–10 ratings (a halo factor) and an ordinal outcome with n_cat codes."""
    rng = np.random.default_rng(seed)
    halo = rng.normal(size=n)
    X = np.clip(np.round(6.5 + 1.3 * halo[:, None] + rng.normal(0, 1.4, (n, p))), 1, 10)
    eta = (X - 6.5) @ rng.uniform(0.0, 0.3, p)
    eta /= eta.std()
    cuts = np.linspace(-1.5, 1.5, n_cat - 1)
    y = np.digitize(eta + rng.logistic(size=n), cuts).astype(float)
    return X, y


def plain(monkeypatch: pytest.MonkeyPatch) -> None:
    """Route every fit through the plain float64 Newton (the reference)."""
    def newton(self, cols, beta, theta, eps, max_iter, safe, shared=None):
        return self._newton_reference(cols, beta, theta, eps, max_iter, safe)
    monkeypatch.setattr(_Ordinal, "newton", newton)


class Spy:
    """Counts the float64 passes of the fast path and the plain Newton's batches."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.fast = self.plain = 0
        layout, reference = _Ordinal._layout, _Ordinal._newton_reference

        def fast(eng, beta, theta, double=False):
            self.fast += double
            return layout(eng, beta, theta, double)

        def ref(eng, *a, **k):
            self.plain += 1
            return reference(eng, *a, **k)
        monkeypatch.setattr(_Ordinal, "_layout", fast)
        monkeypatch.setattr(_Ordinal, "_newton_reference", ref)


def assert_same_fits(a, b) -> None:
    np.testing.assert_allclose(a.v, b.v, rtol=0, atol=1e-10)
    np.testing.assert_allclose(a.loglike, b.loglike, rtol=1e-12, atol=1e-8)
    np.testing.assert_allclose(a.thetas, b.thetas, rtol=0, atol=1e-8)
    np.testing.assert_allclose(a.coef, b.coef, rtol=0, atol=1e-8)
    assert np.array_equal(a.converged, b.converged)


CASES = {
    "plain": {},
    "sampling weights": {"w": "sampling"},
    "frequency weights": {"w": "frequency"},
    "zero weights": {"w": "zeros"},
    "covariate and factor player": {"players": [[0], [1], [2, 3, 4]], "always": [5]},
    "empty category": {"gap": True},
    "two categories": {"n_cat": 2},
    "seven categories": {"n_cat": 7},
}


def problem(case: dict, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, dict]:
    X, y = ratings(400, 6, seed, case.get("n_cat", 5))
    rng = np.random.default_rng(seed + 100)
    kw: dict = {"kind": "ordinal"}
    w = None
    if case.get("w") == "sampling":
        w = rng.uniform(0.2, 3.0, len(y))
    elif case.get("w") == "frequency":
        w = rng.integers(1, 4, len(y)).astype(float)
        kw["weight_type"] = "frequency"
    elif case.get("w") == "zeros":  # a bootstrap replicate: counts with zeros
        w = rng.multinomial(len(y), np.full(len(y), 1 / len(y))).astype(float)
    if "players" in case:
        region = rng.integers(0, 4, len(y))  # a 4-level factor: three dummies, one player
        X = np.column_stack([X[:, :2], region[:, None] == np.arange(1, 4), X[:, 2]])
        kw.update(players=case["players"], always=case["always"])
    if case.get("gap"):  # codes 0, 1, 3, 4, 5 of six categories: code 2 unused
        y = np.where(y >= 2, y + 1, y)
        kw["n_categories"] = 6
    return X, y, w, kw


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("seed", [1, 2])
def test_fast_path_gives_the_plain_newton_numbers(name, seed, monkeypatch):
    X, y, w, kw = problem(CASES[name], seed)
    with monkeypatch.context() as mp:
        spy = Spy(mp)
        fast = glm_subset_values(X, y, w, **kw)
    assert spy.fast > 0 and spy.plain == 0  # weighted or not, the fast path did the work
    with monkeypatch.context() as mp:
        plain(mp)
        ref = glm_subset_values(X, y, w, **kw)
    assert_same_fits(fast, ref)


def test_warm_started_replicate_and_small_blocks_match(monkeypatch):
    """Bootstrap-style refits from earlier fits (``start=``) and tiny batches."""
    X, y = ratings(300, 5, 3)
    w = np.random.default_rng(0).multinomial(300, np.full(300, 1 / 300)).astype(float)
    full = glm_subset_values(X, y, kind="ordinal")
    fast = glm_subset_values(X, y, w, kind="ordinal", start=full, block=5)
    with monkeypatch.context() as mp:
        plain(mp)
        ref = glm_subset_values(X, y, w, kind="ordinal", start=full, block=5)
    assert_same_fits(fast, ref)


def test_public_api_weighted_ordinal_matches_the_plain_newton(monkeypatch):
    X, y = ratings(500, 5, 4)
    df = pd.DataFrame(X, columns=[f"d{j}" for j in range(5)]).assign(y=y)
    df["w"] = np.random.default_rng(1).uniform(0.3, 2.5, len(df))
    names = [f"d{j}" for j in range(5)]
    for wt in ("sampling", "frequency"):
        fast = dk.importance(df, "y", names, kind="ordinal", weights="w", weight_type=wt,
                             fit_index="nagelkerke", progress=False)
        with monkeypatch.context() as mp:
            plain(mp)
            ref = dk.importance(df, "y", names, kind="ordinal", weights="w",
                                weight_type=wt, fit_index="nagelkerke", progress=False)
        assert fast.r2 == pytest.approx(ref.r2, abs=1e-10)
        np.testing.assert_allclose(fast.table["importance"], ref.table["importance"],
                                   atol=1e-10)


@pytest.mark.parametrize("cols", [[0], [2, 4], [0, 1, 3], [0, 1, 2, 3, 4]])
def test_subsets_against_statsmodels_ordered_model(cols):
    """Log-likelihood, slopes and cut points of single subset fits on raw 1–10 ratings."""
    X, y = ratings(600, 5, 5)
    res = glm_subset_values(X, y, kind="ordinal")
    mask = sum(1 << j for j in cols)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = OrderedModel(y, X[:, cols], distr="logit")
        start = model.fit(method="bfgs", disp=0, maxiter=2000).params
        ref = model.fit(method="newton", disp=0, maxiter=100, start_params=start)
    assert ref.mle_retvals["converged"]
    k = len(cols)
    assert res.loglike[mask] == pytest.approx(ref.llf, rel=1e-11, abs=1e-8)
    np.testing.assert_allclose(res.coef[mask][cols], ref.params[:k], atol=1e-6)
    cuts = model.transform_threshold_params(ref.params)[1:-1]
    np.testing.assert_allclose(res.thetas[mask], cuts, atol=1e-6)


def test_extreme_linear_predictors_take_the_exact_loglike(monkeypatch):
    """Beyond the float64 pass's exponent bound the log-likelihood comes from the plain
    formula: a separating driver on a huge scale, fitted both ways."""
    rng = np.random.default_rng(6)
    X = rng.normal(size=(150, 2))
    y = np.digitize(X[:, 0], [-0.5, 0.5]).astype(float)
    X[:, 0] *= 1e3
    with pytest.warns(dk.exceptions.ConvergenceWarning):
        fast = glm_subset_values(X, y, kind="ordinal")
    with monkeypatch.context() as mp:
        plain(mp)
        with pytest.warns(dk.exceptions.ConvergenceWarning):
            ref = glm_subset_values(X, y, kind="ordinal")
    assert np.all(np.isfinite(fast.loglike))
    np.testing.assert_allclose(fast.v, ref.v, atol=1e-6)
    assert fast.loglike[0b10] == pytest.approx(ref.loglike[0b10], rel=1e-12)


def test_switch_threshold_does_not_change_the_answer(monkeypatch):
    """Steering with float32 longer or shorter changes the path, not the fits."""
    X, y = ratings(300, 5, 7)
    base = glm_subset_values(X, y, kind="ordinal")
    for switch, predict in ((1.0, 0.1), (1e6, 0.1), (1e3, 0.0), (1.0, 0.0)):
        monkeypatch.setattr(_glm_ordinal, "_SWITCH", switch)
        monkeypatch.setattr(_glm_ordinal, "_PREDICT", predict)  # 0: no predicted switch
        assert_same_fits(glm_subset_values(X, y, kind="ordinal"), base)


def test_chosen_masks_from_the_null_start_match_the_all_subsets_run():
    """The sampled-Shapley fitter (every model from the null model, no sibling sharing)."""
    from driverkit.importance._glm import glm_mask_values

    X, y = ratings(400, 5, 8)
    w = np.random.default_rng(2).uniform(0.5, 2.0, len(y))
    masks = np.arange(1, 32)
    for ww in (None, w):
        chosen = glm_mask_values(X, y, masks, ww, kind="ordinal", fit_index="estrella")
        every = glm_subset_values(X, y, ww, kind="ordinal", fit_index="estrella")
        np.testing.assert_allclose(chosen, every.v[masks], atol=1e-10)


def test_threads_give_the_same_fits_bit_for_bit():
    """Per-thread scratch: a level's batches on two threads change no number."""
    from driverkit.stats._subsets import single_threaded_blas

    X, y = ratings(500, 7, 9)
    with single_threaded_blas():
        one = glm_subset_values(X, y, kind="ordinal", threads=1, block=16)
        two = glm_subset_values(X, y, kind="ordinal", threads=2, block=16)
    assert np.array_equal(one.v, two.v) and np.array_equal(one.thetas, two.thetas)
    assert np.array_equal(one.coef, two.coef)


def test_children_stepped_from_kept_parents_match_the_plain_newton(monkeypatch):
    """Children take their first step from the parent's kept float64 pass; with nothing
    kept (or a factor player, whose children skip a size) the fits are the same."""
    X, y = ratings(400, 6, 10)
    stepped = []
    parent_steps = _Ordinal._parent_steps

    def spy(eng, parents, keys, *a):
        stepped.append(sum(k in parents for k in keys))
        return parent_steps(eng, parents, keys, *a)

    with monkeypatch.context() as mp:
        mp.setattr(_Ordinal, "_parent_steps", spy)
        kept = glm_subset_values(X, y, kind="ordinal")
    assert sum(stepped) >= 2**6 - 1 - 6  # every model but the first level's
    with monkeypatch.context() as mp:
        mp.setattr(_glm_ordinal, "_KEPT_BYTES", 0)
        assert_same_fits(glm_subset_values(X, y, kind="ordinal"), kept)
    with monkeypatch.context() as mp:
        plain(mp)
        assert_same_fits(kept, glm_subset_values(X, y, kind="ordinal"))
