"""Chunked IRLS logit / ordered logit against statsmodels; Poisson bootstrap weights."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.miscmodels.ordinal_model import OrderedModel

import driverkit as dk
from driverkit.exceptions import DataError, SeparationError
from driverkit.stats import (
    SufficientStats,
    bootstrap_stats,
    logit_irls,
    ordered_logit_irls,
    poisson_counts,
)

DRIVERS = ["staff", "price", "speed"]


@pytest.fixture(scope="module")
def survey():
    rng = np.random.default_rng(11)
    n = 4000
    X = rng.integers(1, 11, size=(n, 3)).astype(float)
    eta = -4 + X @ [0.35, 0.2, 0.15]
    df = pd.DataFrame(X, columns=DRIVERS)
    df["buy"] = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    df["nps"] = np.digitize(X @ [0.35, 0.2, 0.15] + rng.logistic(size=n), [3, 4, 4.5, 5.5, 7])
    df["w"] = rng.uniform(0.3, 3, size=n)
    df["f"] = rng.integers(1, 4, size=n).astype(float)
    return df


@pytest.fixture(scope="module")
def files(survey, tmp_path_factory):
    d = tmp_path_factory.mktemp("irls")
    survey.to_csv(d / "s.csv", index=False)
    survey.to_parquet(d / "s.parquet", index=False, row_group_size=900)
    return d


def _glm(df, **kw):
    X = sm.add_constant(df[DRIVERS])
    return sm.GLM(df["buy"], X, family=sm.families.Binomial(), **kw).fit(tol=1e-13)


@pytest.mark.parametrize("source", ["frame", "s.csv", "s.parquet"])
def test_logit_streamed_against_statsmodels_glm_binomial(survey, files, source):
    src = survey if source == "frame" else files / source
    fit = logit_irls(src, "buy", DRIVERS, chunksize=650)
    ref = _glm(survey)
    np.testing.assert_allclose(fit.params.to_numpy(), ref.params.to_numpy(), rtol=0, atol=1e-8)
    np.testing.assert_allclose(fit.cov_params.to_numpy(), ref.cov_params().to_numpy(),
                               rtol=1e-8, atol=1e-12)
    assert fit.loglike == pytest.approx(ref.llf, rel=1e-12)
    assert fit.loglike_null == pytest.approx(ref.llnull, rel=1e-12)
    assert fit.r2 == pytest.approx(1 - ref.llf / ref.llnull, abs=1e-12)
    assert list(fit.params.index) == ["Intercept", *DRIVERS]
    assert fit.converged and fit.passes == fit.iterations


def test_logit_sampling_weights_against_glm_var_weights(survey, files):
    fit = logit_irls(files / "s.parquet", "buy", DRIVERS, weights="w", chunksize=1000)
    w = survey["w"]
    ref = _glm(survey, var_weights=w * len(w) / w.sum())
    np.testing.assert_allclose(fit.params.to_numpy(), ref.params.to_numpy(), atol=1e-8)
    np.testing.assert_allclose(fit.std_errors.to_numpy(), ref.bse.to_numpy(), rtol=1e-8)
    assert fit.loglike == pytest.approx(ref.llf, rel=1e-12)


def test_logit_frequency_weights_against_glm_freq_weights(survey):
    fit = logit_irls(survey, "buy", DRIVERS, weights="f", weight_type="frequency",
                     chunksize=999)
    ref = _glm(survey, freq_weights=survey["f"])
    np.testing.assert_allclose(fit.params.to_numpy(), ref.params.to_numpy(), atol=1e-8)
    np.testing.assert_allclose(fit.std_errors.to_numpy(), ref.bse.to_numpy(), rtol=1e-8)
    assert fit.nobs == survey["f"].sum()


def test_ordered_logit_against_statsmodels_ordered_model(survey, files):
    fit = ordered_logit_irls(files / "s.parquet", "nps", DRIVERS, chunksize=700)
    om = OrderedModel(survey["nps"].to_numpy(), survey[DRIVERS].to_numpy(), distr="logit")
    ref = om.fit(method="newton", maxiter=50, tol=1e-9, disp=0)
    assert ref.mle_retvals["converged"]
    cuts = om.transform_threshold_params(ref.params)[1:-1]
    np.testing.assert_allclose(fit.params.to_numpy(),
                               np.concatenate([ref.params[:3], cuts]), rtol=0, atol=1e-8)
    assert fit.loglike == pytest.approx(ref.llf, rel=1e-12)
    assert fit.loglike >= ref.llf - 1e-9  # at least as good a maximum
    # slopes' SEs (statsmodels differentiates numerically)
    np.testing.assert_allclose(fit.std_errors.to_numpy()[:3], ref.bse[:3], rtol=1e-5)
    assert list(fit.params.index)[3:] == ["cut[0|1]", "cut[1|2]", "cut[2|3]", "cut[3|4]",
                                          "cut[4|5]"]
    in_mem = ordered_logit_irls(survey, "nps", DRIVERS)
    np.testing.assert_allclose(fit.params, in_mem.params, atol=1e-10)


def test_logit_bad_outcome_value_names_the_row(survey, tmp_path):
    bad = survey.copy()
    bad.loc[2345, "buy"] = 2.0
    bad.to_csv(tmp_path / "b.csv", index=False)
    with pytest.raises(DataError, match=r"row 2,346 \(line 2,347 of the file\), column 'buy': "
                                        r"value 2 is not 0/1"):
        logit_irls(tmp_path / "b.csv", "buy", DRIVERS, chunksize=500)


def test_logit_separation_is_an_error_naming_the_driver():
    rng = np.random.default_rng(3)
    x = rng.normal(size=300)
    df = pd.DataFrame({"x": x, "z": rng.normal(size=300), "y": (x > 0).astype(float)})
    with pytest.raises(SeparationError, match="'x'"):
        logit_irls(df, "y", ["x", "z"])


def test_logit_weights_on_stats_is_rejected(survey):
    st = dk.sufficient_stats(survey, [*DRIVERS, "buy"])
    with pytest.raises(dk.DriverkitError, match="needs the rows"):
        logit_irls(st, "buy", DRIVERS)


def test_poisson_counts_do_not_depend_on_chunking():
    whole = poisson_counts(5, 3, 0, 1000)
    edges = [0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 610, 987, 1000]
    parts = np.concatenate([poisson_counts(5, 3, a, b - a)
                            for a, b in itertools.pairwise(edges)])
    np.testing.assert_array_equal(whole, parts)
    assert not np.array_equal(whole, poisson_counts(5, 4, 0, 1000))
    big = poisson_counts(0, 0, 0, 200_000)
    assert big.mean() == pytest.approx(1.0, abs=0.01)
    assert big.var() == pytest.approx(1.0, abs=0.02)


def test_bootstrap_stats_equal_weighted_in_memory_stats(survey, files):
    cols = [*DRIVERS, "buy"]
    reps = bootstrap_stats(files / "s.parquet", cols, replicates=4, seed=9, weights="w",
                           chunksize=333)
    reps2 = bootstrap_stats(survey, cols, replicates=4, seed=9, weights="w", chunksize=1500)
    X = survey[cols].to_numpy()
    for b in range(4):
        c = poisson_counts(9, b, 0, len(survey))
        ref = SufficientStats.from_arrays(X, cols, survey["w"].to_numpy() * c)
        for r in (reps[b], reps2[b]):
            np.testing.assert_allclose(r.covariance(), ref.covariance(), rtol=0, atol=1e-10)
            np.testing.assert_allclose(r.mean, ref.mean, rtol=0, atol=1e-10)
    assert not np.allclose(reps[0].covariance(), reps[1].covariance())


def test_logit_resample_equals_glm_with_poisson_frequency_weights(survey):
    fit = logit_irls(survey, "buy", DRIVERS, resample=(4, 2), chunksize=800)
    c = poisson_counts(4, 2, 0, len(survey))
    ref = _glm(survey, freq_weights=c)
    np.testing.assert_allclose(fit.params.to_numpy(), ref.params.to_numpy(), atol=1e-8)
