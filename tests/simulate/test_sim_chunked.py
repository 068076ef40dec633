"""The simulator chunk by chunk (files, dask) equals the in-memory simulator (issue 9)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import driverkit as dk
from driverkit.simulate import run_chunked


@pytest.fixture(scope="module")
def setup():
    df = dk.make_survey(n=1500, n_drivers=4, seed=8, missing=0.0, asymmetric=False)
    drivers = df.attrs["truth"]["drivers"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = dk.fit(df, "repurchase", drivers, kind="logit", weights="weight",
                       scales=dict.fromkeys(drivers, (1, 10)))
    scen = [dk.Scenario("raise", {drivers[0]: dk.shift(1)}, cost=1e5),
            dk.Scenario("cut", {drivers[1]: dk.shift(-1.5), drivers[2]: dk.gap_close(0.3)},
                        cost=-5e4)]
    return df, drivers, model, scen


def _in_memory(df, model, scen):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sim = dk.Simulator(model, df, weights="weight", customers=50_000,
                           revenue_per_customer=300.0, margin=0.4)
        return sim.run(scen, draws=300, seed=4).table


@pytest.mark.parametrize("fmt", ["frame", "parquet", "csv"])
def test_chunked_equals_in_memory(setup, tmp_path, fmt):
    df, _drivers, model, scen = setup
    src = df
    if fmt == "parquet":
        src = str(tmp_path / "s.parquet")
        df.to_parquet(src)
    elif fmt == "csv":
        src = str(tmp_path / "s.csv")
        df.to_csv(src, index=False)
    got = run_chunked(model, src, scen, weights="weight", customers=50_000,
                      revenue_per_customer=300.0, margin=0.4, draws=300, seed=4,
                      chunksize=377, progress=False)
    ref = _in_memory(df, model, scen)
    for col in ("baseline_rate", "delta_rate", "delta_revenue", "delta_profit", "roi"):
        np.testing.assert_allclose(got[col].to_numpy(), ref[col].to_numpy(), rtol=1e-10,
                                   atol=1e-10, equal_nan=True)
    # the same parameter draws in every chunk: intervals agree with the in-memory ones
    for col in ("delta_rate_low", "delta_rate_high", "delta_profit_low", "delta_profit_high"):
        np.testing.assert_allclose(got[col].to_numpy(), ref[col].to_numpy(), rtol=1e-8)


@pytest.mark.dask
def test_chunked_on_dask_frame(setup):
    dd = pytest.importorskip("dask.dataframe")
    df, drivers, model, scen = setup
    ddf = dd.from_pandas(df[[*drivers, "weight"]], npartitions=3)
    got = run_chunked(model, ddf, scen, weights="weight", draws=100, seed=1, progress=False)
    ref = _in_memory(df, model, scen)
    np.testing.assert_allclose(got["delta_rate"].to_numpy(), ref["delta_rate"].to_numpy(),
                               rtol=1e-10)


def test_chunked_rejects_segments(setup):
    df, drivers, model, _ = setup
    with pytest.raises(dk.DriverkitError, match="segment"):
        run_chunked(model, df, dk.Scenario("s", {drivers[0]: dk.shift(1)},
                                           segment={"segment": "Value"}))
