"""A score target (callable with .scores) equals the generic probability path exactly."""

from __future__ import annotations

import warnings

import numpy as np

import driverkit as dk


def test_score_target_fast_path_equals_generic_callable():
    df = dk.make_survey(n=600, n_drivers=3, seed=5, missing=0.0)
    drivers = df.attrs["truth"]["drivers"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = dk.nps_model(df, "recommend", drivers)
    fast = dk.nps_target(m)
    scores = np.asarray(fast.scores, dtype=float)

    def generic(probs):  # no .scores: the simulator must build all category probabilities
        return np.asarray(probs) @ scores

    scen = dk.Scenario("raise", {drivers[0]: dk.shift(1), drivers[1]: dk.shift(-0.5)})
    a = dk.Simulator(m, df, target=fast).run(scen, draws=200, seed=3).table
    b = dk.Simulator(m, df, target=generic).run(scen, draws=200, seed=3).table
    for col in ("baseline_rate", "delta_rate", "delta_rate_low", "delta_rate_high"):
        np.testing.assert_allclose(a[col].to_numpy(), b[col].to_numpy(), rtol=0, atol=1e-12)
