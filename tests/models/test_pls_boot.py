"""dk.pls bootstrap: the batched resamples equal one-by-one refits; degenerate resamples."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import driverkit as dk
from driverkit.models._pls_boot import draw_counts


def _data(n=150, seed=3):
    df = dk.make_survey(n, items_per_construct={"Quality": 4, "Value": 2}, seed=seed)
    return df, dk.latent_truth(df)


def _fit(*a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dk.DriverkitWarning)
        return dk.pls(*a, **k)


def test_batched_bootstrap_equals_refits_of_the_same_resamples():
    df, t = _data()
    B = 12
    m = _fit(df, t.constructs, t.paths, weights="weight", scales=(1, 10), bootstrap=B, seed=7)
    assert m.meta["resamples_kept"] == B
    counts = draw_counts(np.random.default_rng(7), B, len(df))
    est, te, idx, imp = [], [], [], []
    for b in range(B):
        r = _fit(df, t.constructs, t.paths, weights=df["weight"].to_numpy() * counts[b],
                 scales=(1, 10))
        est.append(r.paths["estimate"].to_numpy())
        te.append(r.total_effects["estimate"].to_numpy())
        idx.append(r.index.to_numpy())
        imp.append(r.impact("Loyalty").table["impact"].to_numpy())
    assert np.allclose(m.paths["std_error"], np.std(est, axis=0, ddof=1), atol=1e-9)
    assert np.allclose(m.paths["ci_low"], np.quantile(est, 0.025, axis=0), atol=1e-9)
    assert np.allclose(m.paths["ci_high"], np.quantile(est, 0.975, axis=0), atol=1e-9)
    assert np.allclose(m.total_effects["std_error"], np.std(te, axis=0, ddof=1), atol=1e-9)
    assert np.allclose(m.index_table["ci_low"], np.quantile(idx, 0.025, axis=0), atol=1e-8)
    it = m.impact("Loyalty").table
    assert np.allclose(it["ci_high"], np.quantile(imp, 0.975, axis=0), atol=1e-8)
    # p-values: two-sided t with n − 1 df on estimate / SE
    from scipy import stats

    p = 2 * stats.t.sf(np.abs(m.paths["estimate"] / m.paths["std_error"]), len(df) - 1)
    assert np.allclose(m.paths["p_value"], p)


def test_seed_reproducible_and_bca():
    df, t = _data(120, 5)
    a = _fit(df, t.constructs, t.paths, bootstrap=40, seed=1)
    b = _fit(df, t.constructs, t.paths, bootstrap=40, seed=1)
    c = _fit(df, t.constructs, t.paths, bootstrap=40, seed=2)
    pd.testing.assert_frame_equal(a.paths, b.paths)
    assert not np.allclose(a.paths["std_error"], c.paths["std_error"])
    m = _fit(df, t.constructs, t.paths, bootstrap=200, seed=1, ci_method="bca")
    pc = _fit(df, t.constructs, t.paths, bootstrap=200, seed=1)
    assert m.meta["interval"] == "bca"
    assert np.allclose(m.paths["std_error"], pc.paths["std_error"])  # same resamples
    assert not np.allclose(m.paths["ci_low"], pc.paths["ci_low"])
    est = m.paths["estimate"]
    assert ((m.paths["ci_low"] <= est) & (est <= m.paths["ci_high"])).all()
    o = m.outer
    assert {"weight_low", "weight_high", "loading_low", "loading_high"} <= set(o.columns)
    ip = m.ipma("Loyalty", level="item").table
    assert (ip["performance_low"] <= ip["performance"]).all()
    assert (ip["importance_low"] <= ip["importance_high"]).all()


@pytest.mark.filterwarnings("ignore::driverkit.MeasurementWarning")
def test_degenerate_resamples_are_reported_and_left_out():
    rng = np.random.default_rng(0)
    n = 14
    a = rng.normal(size=n)
    df = pd.DataFrame({"x1": a + rng.normal(0, .5, n), "x2": a + rng.normal(0, .5, n),
                       "y1": 0.5 * a + rng.normal(0, .5, n), "y2": np.r_[np.zeros(n - 1), 1.0]})
    with pytest.warns(dk.ConvergenceWarning, match="degenerate"):
        m = dk.pls(df, {"X": ["x1", "x2"], "Y": ["y1", "y2"]}, [("X", "Y")], bootstrap=200,
                   seed=3)
    dropped = m.meta["resamples_dropped_constant_item_or_singular_block"]
    # P(the one non-zero y2 answer is not drawn) = (13/14)^14 ≈ 0.354
    assert 40 < dropped < 110
    assert m.meta["resamples_kept"] == 200 - dropped
    assert any("degenerate" in s for s in m.notes)
    assert np.isfinite(m.paths["std_error"]).all()


def test_construct_sign_alignment():
    from driverkit.models._pls_kernel import estimate_batch, moments

    df, t = _data(100, 8)
    m = _fit(df, t.constructs, t.paths)
    mean, cov = moments(m._d.X, m._d.w)
    ref = m._b.W[0]
    flipped = estimate_batch(mean[None], cov[None], m.spec, reference=-ref)
    assert flipped.flipped[0] == m.spec.c  # every construct pointed the other way
    assert np.allclose(flipped.weights[0], -m.outer["weight"].to_numpy())
    # paths between two flipped constructs keep their sign
    ix = [m.spec.index_of(s) for s, _ in m.spec.edges]
    jx = [m.spec.index_of(t_) for _, t_ in m.spec.edges]
    assert np.allclose(flipped.paths[0][ix, jx], m.paths["estimate"])
    same = estimate_batch(mean[None], cov[None], m.spec, reference=ref)
    assert same.flipped[0] == 0
