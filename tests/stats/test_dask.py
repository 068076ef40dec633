"""The Dask engine on a LocalCluster (2 worker processes on 127.0.0.1) equals in-memory."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import driverkit as dk
from driverkit.exceptions import ColumnNotFoundError, DataError
from driverkit.stats import (
    SufficientStats,
    bootstrap_stats,
    logit_irls,
    map_chunks,
    ordered_logit_irls,
)

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

pytestmark = pytest.mark.dask

COLS = ["staff", "price", "speed", "sat"]
DRIVERS = ["staff", "price", "speed"]


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address="127.0.0.1:0", worker_dashboard_address=None,
    )
    cl = distributed.Client(cluster)
    try:
        yield cl
    finally:
        cl.close()
        cluster.close()


@pytest.fixture(scope="module")
def survey():
    rng = np.random.default_rng(5)
    n = 5000
    X = rng.integers(1, 11, size=(n, 3)).astype(float)
    df = pd.DataFrame(X, columns=DRIVERS)
    df["sat"] = 1 + X @ [0.4, 0.3, 0.1] + rng.normal(size=n)
    eta = -4 + X @ [0.35, 0.2, 0.15]
    df["buy"] = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    df["nps"] = np.digitize(X @ [0.35, 0.2, 0.15] + rng.logistic(size=n), [3, 4.5, 6])
    df["w"] = rng.uniform(0.3, 3, size=n)
    df.loc[[17, 2222], "price"] = np.nan
    return df


def test_dask_stats_equal_in_memory_to_1e10(client, survey, tmp_path):
    complete = survey.dropna(subset=COLS)
    ref = SufficientStats.from_arrays(complete[COLS].to_numpy(), COLS, complete["w"].to_numpy())
    survey.to_parquet(tmp_path / "s.parquet", index=False, row_group_size=700)
    for ddf in (dd.from_pandas(survey, npartitions=7),
                dd.read_parquet(tmp_path / "s.parquet", split_row_groups=True)):
        assert ddf.npartitions > 1
        with pytest.warns(dk.MissingDataWarning, match="dropped 2 of 5,000"):
            st = dk.sufficient_stats(ddf, COLS, weights="w")
        assert st.n_obs == ref.n_obs and st.n_dropped == 2
        np.testing.assert_allclose(st.mean, ref.mean, rtol=0, atol=1e-10)
        np.testing.assert_allclose(st.covariance(), ref.covariance(), rtol=0, atol=1e-10)
        np.testing.assert_allclose(st.ols("sat").params, ref.ols("sat").params, atol=1e-10)
    wls = sm.WLS(complete["sat"], sm.add_constant(complete[DRIVERS]), weights=complete["w"]).fit()
    np.testing.assert_allclose(st.ols("sat", DRIVERS).params.to_numpy(), wls.params.to_numpy(),
                               atol=1e-10)


def test_dask_text_in_a_rating_names_partition_row_and_column(client, survey):
    bad = survey[COLS].astype(object)
    bad.loc[3122, "staff"] = "n/a"
    ddf = dd.from_pandas(bad, npartitions=4)
    with pytest.raises(DataError, match=r"partition 2 of the Dask DataFrame, row \d+ "
                                        r"\(index 3122\), column 'staff': value 'n/a'"):
        dk.sufficient_stats(ddf, COLS)
    with pytest.raises(ColumnNotFoundError, match="'stafff'"):
        dk.sufficient_stats(ddf, ["stafff"])


def test_dask_logit_against_statsmodels(client, survey):
    ddf = dd.from_pandas(survey, npartitions=5)
    with pytest.warns(dk.MissingDataWarning):
        fit = logit_irls(ddf, "buy", DRIVERS, weights="w")
    c = survey.dropna(subset=DRIVERS)
    ref = sm.GLM(c["buy"], sm.add_constant(c[DRIVERS]), family=sm.families.Binomial(),
                 var_weights=c["w"] * len(c) / c["w"].sum()).fit(tol=1e-13)
    np.testing.assert_allclose(fit.params.to_numpy(), ref.params.to_numpy(), atol=1e-8)
    np.testing.assert_allclose(fit.std_errors.to_numpy(), ref.bse.to_numpy(), rtol=1e-8)
    with pytest.warns(dk.MissingDataWarning):
        ordl = ordered_logit_irls(ddf, "nps", DRIVERS)
    with pytest.warns(dk.MissingDataWarning):
        local = ordered_logit_irls(survey, "nps", DRIVERS, chunksize=1000)
    np.testing.assert_allclose(ordl.params, local.params, atol=1e-10)


def test_dask_bootstrap_equals_local_bootstrap(client, survey):
    ddf = dd.from_pandas(survey, npartitions=3)
    with pytest.warns(dk.MissingDataWarning):
        a = bootstrap_stats(ddf, COLS, replicates=3, seed=2, weights="w")
    with pytest.warns(dk.MissingDataWarning):
        b = bootstrap_stats(survey, COLS, replicates=3, seed=2, weights="w", chunksize=800)
    for ra, rb in zip(a, b, strict=True):
        np.testing.assert_allclose(ra.covariance(), rb.covariance(), rtol=0, atol=1e-10)
    with pytest.warns(dk.MissingDataWarning):
        rep = logit_irls(ddf, "buy", DRIVERS, resample=(2, 1))
    with pytest.warns(dk.MissingDataWarning):
        rep_local = logit_irls(survey, "buy", DRIVERS, resample=(2, 1), chunksize=777)
    np.testing.assert_allclose(rep.params, rep_local.params, atol=1e-10)


def test_dask_map_chunks_and_tasks(client, survey):
    ddf = dd.from_pandas(survey, npartitions=4)
    total = map_chunks(_count_rows, ddf, ["staff"])
    assert total == len(survey)
    from driverkit.stats._dask import run_tasks

    assert run_tasks(_scaled_sum, [1, 2, 3], survey[["staff"]]) == [
        k * survey["staff"].sum() for k in (1, 2, 3)]


def _count_rows(df):
    return len(df)


def _scaled_sum(k, df):
    return k * df["staff"].sum()
