"""GLM bootstrap replicates as Dask tasks equal the local run (issue 9)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import driverkit as dk

pytestmark = pytest.mark.dask


def test_glm_bootstrap_on_a_local_cluster_equals_local_run():
    distributed = pytest.importorskip("distributed")
    df = dk.make_survey(n=400, n_drivers=4, seed=2, missing=0.0)
    drivers = df.attrs["truth"]["drivers"]
    opts = dict(kind="logit", bootstrap=50, seed=9, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        local = dk.importance(df, "repurchase", drivers, **opts)
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      host="127.0.0.1", dashboard_address="127.0.0.1:0",
                                      worker_dashboard_address=None) as cluster, \
                distributed.Client(cluster) as client:
            remote = dk.importance(df, "repurchase", drivers, client=client, **opts)
    np.testing.assert_allclose(remote.table.to_numpy(float), local.table.to_numpy(float),
                               rtol=1e-12, atol=1e-14)
