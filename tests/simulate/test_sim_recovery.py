"""On the survey generator (truth known) the simulator's interval covers the true effect."""

from __future__ import annotations

import pytest

import driverkit as dk
from driverkit.data._survey import true_effect


@pytest.mark.slow
def test_interval_covers_true_effect_against_make_survey_truth():
    # exact logit family (no bands, no chain): the fitted model is the generating one, so the
    # only error is sampling; 95% intervals must cover the true effect for these respondents
    hits = {"raise, parametric": 0, "raise, delta": 0, "cut, parametric": 0}
    for seed in range(100):
        df = dk.make_survey(n=1000, n_drivers=3, kind="logit", seed=seed, asymmetric=False,
                            chain=False, segment_effects=False, wave_effects=False)
        d = df.attrs["truth"]["drivers"]
        model = dk.fit(df, "repurchase", d, kind="logit", scales=dict.fromkeys(d, (1, 10)))
        sim = dk.Simulator(model, df)
        raise_, cut = dk.Scenario("raise", {d[1]: dk.shift(1)}), dk.Scenario(
            "cut", {d[2]: dk.shift(-1)})
        par = sim.run([raise_, cut], draws=400, seed=seed).table
        dm = sim.run(raise_, draws=0).table
        te_raise = true_effect(df, {d[1]: 1.0})
        te_cut = true_effect(df, {d[2]: -1.0})
        hits["raise, parametric"] += par.loc["raise", "delta_rate_low"] <= te_raise <= par.loc[
            "raise", "delta_rate_high"]
        hits["raise, delta"] += dm.loc["raise", "delta_rate_low"] <= te_raise <= dm.loc[
            "raise", "delta_rate_high"]
        hits["cut, parametric"] += par.loc["cut", "delta_rate_low"] <= te_cut <= par.loc[
            "cut", "delta_rate_high"]
    assert all(h >= 93 for h in hits.values()), hits
    assert max(hits.values()) <= 99  # not vacuously wide
