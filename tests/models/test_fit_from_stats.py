"""Linear dk.fit on SufficientStats equals the in-memory fit (issue 9 integration)."""

from __future__ import annotations

import numpy as np
import pytest

import driverkit as dk

DRIVERS = ["a", "b", "c"]


@pytest.mark.parametrize("weighted", [False, True])
def test_fit_on_stats_equals_fit_on_data(small_frame, weighted):
    from driverkit.stats import SufficientStats

    cols = [*DRIVERS, "y_lin"]
    w = small_frame["w"].to_numpy() if weighted else None
    st = SufficientStats.from_arrays(small_frame[cols].to_numpy(float), cols, weights=w)
    m = dk.fit(st, "y_lin", DRIVERS)
    ref = dk.fit(small_frame, "y_lin", DRIVERS, weights="w" if weighted else None,
                 robust=False)
    np.testing.assert_allclose(m.params.to_numpy(), ref.params.to_numpy(), atol=1e-10)
    np.testing.assert_allclose(m.table["std_error"].to_numpy(),
                               ref.table["std_error"].to_numpy(), atol=1e-10)
    np.testing.assert_allclose(m.table["vif"].to_numpy()[1:], ref.table["vif"].to_numpy()[1:],
                               atol=1e-9)
    assert m.r2 == pytest.approx(ref.r2, abs=1e-12)
    assert m.condition_number == pytest.approx(ref.condition_number, rel=1e-8)


def test_fit_on_stats_rejects_weights_and_robust(small_frame):
    from driverkit.stats import SufficientStats

    cols = [*DRIVERS, "y_lin"]
    st = SufficientStats.from_arrays(small_frame[cols].to_numpy(float), cols)
    with pytest.raises(dk.DriverkitError, match="carry their"):
        dk.fit(st, "y_lin", DRIVERS, weights="w")
    with pytest.raises(dk.DriverkitError, match="row-level"):
        dk.fit(st, "y_lin", DRIVERS, robust="HC1")
    with pytest.raises(dk.DriverkitError, match="only linear"):
        dk.fit(st, "y_lin", DRIVERS, kind="logit")
