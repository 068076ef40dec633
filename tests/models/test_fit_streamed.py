"""dk.fit on files (CSV/Parquet) equals the in-memory fit: linear, logit, ordinal (issue 9)."""

from __future__ import annotations

import numpy as np
import pytest

import driverkit as dk

DRIVERS = ["a", "b", "c"]


@pytest.mark.parametrize(("kind", "y", "tol"), [("linear", "y_lin", 1e-10),
                                                ("logit", "y_bin", 1e-8),
                                                ("ordinal", "y_ord", 1e-6)])
def test_fit_on_parquet_equals_in_memory(small_frame, tmp_path, kind, y, tol):
    path = tmp_path / "survey.parquet"
    small_frame.to_parquet(path)
    m = dk.fit(str(path), y, DRIVERS, kind=kind, weights="w", robust=False)
    ref = dk.fit(small_frame, y, DRIVERS, kind=kind, weights="w", robust=False)
    np.testing.assert_allclose(m.params.to_numpy(), ref.params.to_numpy(), atol=tol)
    np.testing.assert_allclose(m.table["std_error"].to_numpy(),
                               ref.table["std_error"].to_numpy(), rtol=1e-5, atol=tol)
    assert m.r2 == pytest.approx(ref.r2, abs=1e-8)
    assert list(m.table.index) == list(ref.table.index)


def test_fit_on_csv_list_logit(small_frame, tmp_path):
    half = len(small_frame) // 2
    p1, p2 = tmp_path / "a.csv", tmp_path / "b.csv"
    small_frame.iloc[:half].to_csv(p1, index=False)
    small_frame.iloc[half:].to_csv(p2, index=False)
    m = dk.fit([str(p1), str(p2)], "y_bin", DRIVERS, kind="logit")
    ref = dk.fit(small_frame, "y_bin", DRIVERS, kind="logit")
    np.testing.assert_allclose(m.params.to_numpy(), ref.params.to_numpy(), atol=1e-8)
    with pytest.raises(dk.DriverkitError, match="probit"):
        dk.fit(str(p1), "y_bin", DRIVERS, kind="probit")
