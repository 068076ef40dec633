"""Bootstrap of respondents for PLS path models, batched, with percentile and BCa intervals.

All resamples are estimated together: their weighted item moments come from one matrix
product of the (B × n) resample count matrix with the items' cross products
(:func:`~driverkit.models._pls_kernel.resample_moments`), and the PLS iteration runs on the
(B, p, p) stack of correlation matrices (:func:`~driverkit.models._pls_kernel.estimate_batch`).

Degenerate resamples are detected and left out, never averaged in: a constant item, a
singular formative block, non-finite estimates or an iteration that did not converge. The
sign indeterminacy of construct scores is handled by construct-level sign changes
(Tenenhaus et al. 2005, §3.3): a resample's construct is flipped when its weights point away
from the full-sample weights; the number of flips is reported.

BCa intervals (Efron 1987, JASA 82; Efron & Tibshirani 1993, ch. 14) take the bias
correction from the share of replicates below the estimate and the acceleration from a
jackknife (delete-one up to ``JACK_EXACT`` respondents, else delete-a-group with
``JACK_GROUPS`` random groups).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import special, stats

from .._progress import progress_bar
from ..stats._subsets import single_threaded_blas
from ._pls_kernel import (
    Batch,
    estimate_batch,
    index_weights,
    resample_moments,
    standardised_index,
)
from ._pls_spec import PLSSpec

__all__ = ["Replicates", "interval", "run_bootstrap"]

#: count-matrix elements per chunk of resamples (bounds memory at large n)
CHUNK_ELEMENTS = 4_000_000
JACK_EXACT = 2000
JACK_GROUPS = 1000


@dataclass
class Replicates:
    """Statistics of the kept resamples (leading axis) and, for BCa, of the jackknife."""

    stats: dict[str, np.ndarray]
    jack: dict[str, np.ndarray] | None
    requested: int
    kept: int
    dropped: dict[str, int] = field(default_factory=dict)
    flips: int = 0
    counts: np.ndarray | None = None  # (B_kept, n) resample counts (for derived statistics)


def batch_stats(b: Batch, spec: PLSSpec, low: np.ndarray, width: np.ndarray,
                ) -> dict[str, np.ndarray]:
    """The statistics every interval is computed for, from one batch."""
    wt, imean, isd = index_weights(b, spec, low, width)
    with np.errstate(invalid="ignore", divide="ignore"):
        unstd = b.total * isd[:, None, :] / isd[:, :, None]
    m100 = (b.mean - low) * (100.0 / width)
    v, smean, stotal = standardised_index(b, spec, low, width)
    return {"paths": b.paths, "total": b.total, "r2": b.r2, "weights": b.weights,
            "loadings": b.loadings, "index": imean, "index_sd": isd, "wtilde": wt,
            "unstd_total": unstd, "item_mean": m100, "std_wtilde": v, "std_index": smean,
            "std_unstd_total": stotal}


def _estimate_counts(X: np.ndarray, w: np.ndarray, counts: np.ndarray, spec: PLSSpec,
                     scheme: str, reference: np.ndarray, low: np.ndarray, width: np.ndarray,
                     ) -> tuple[Batch, dict[str, np.ndarray]]:
    mean, cov = resample_moments(X, w, counts)
    b = estimate_batch(mean, cov, spec, scheme, reference=reference)
    return b, batch_stats(b, spec, low, width)


def run_bootstrap(X: np.ndarray, w: np.ndarray, spec: PLSSpec, scheme: str, B: int,
                  rng: np.random.Generator, reference: np.ndarray, low: np.ndarray,
                  width: np.ndarray, *, jackknife: bool = False,
                  keep_counts: bool = False, progress: bool | None = None) -> Replicates:
    """B resamples of the respondents (survey weights carried), estimated in batches."""
    n = X.shape[0]
    step = max(1, min(B, CHUNK_ELEMENTS // max(n, 1)))
    # ~1e9 resample-row-item cells take a few seconds: worth a bar when someone watches
    bar = progress_bar(B, show=progress, desc="pls bootstrap", unit="resample",
                       long_run=B * n * X.shape[1] > 1e9)
    parts: list[dict[str, np.ndarray]] = []
    kept_counts = []
    dropped = {"constant item or singular block": 0, "not converged": 0}
    flips = 0
    for a in range(0, B, step):
        m = min(step, B - a)
        counts = draw_counts(rng, m, n)
        with single_threaded_blas():
            b, st = _estimate_counts(X, w, counts, spec, scheme, reference, low, width)
        good = b.ok & b.converged
        dropped["constant item or singular block"] += int((~b.ok).sum())
        dropped["not converged"] += int((b.ok & ~b.converged).sum())
        flips += int(b.flipped[good].sum())
        finite = np.ones(m, dtype=bool)
        for v in st.values():
            finite &= np.isfinite(v.reshape(m, -1)).all(axis=1) | ~good
        good &= finite
        parts.append({k: v[good] for k, v in st.items()})
        if keep_counts:
            kept_counts.append(counts[good])
        bar.update(m)
    bar.close()
    stats_ = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    kept = int(stats_["paths"].shape[0])
    dropped["non-finite"] = B - kept - sum(dropped.values())
    jack = _jackknife(X, w, spec, scheme, reference, low, width, rng) if jackknife else None
    return Replicates(stats_, jack, B, kept, {k: v for k, v in dropped.items() if v}, flips,
                      np.concatenate(kept_counts) if keep_counts else None)


def draw_counts(rng: np.random.Generator, m: int, n: int) -> np.ndarray:
    """(m, n) counts of m bootstrap resamples of n respondents (n draws with replacement)."""
    idx = rng.integers(0, n, size=(m, n))
    idx += (np.arange(m) * n)[:, None]
    return np.bincount(idx.ravel(), minlength=m * n).reshape(m, n).astype(float)


def _jackknife(X: np.ndarray, w: np.ndarray, spec: PLSSpec, scheme: str,
               reference: np.ndarray, low: np.ndarray, width: np.ndarray,
               rng: np.random.Generator) -> dict[str, np.ndarray]:
    n = X.shape[0]
    if n <= JACK_EXACT:
        groups = np.arange(n)
        G = n
    else:
        G = JACK_GROUPS
        groups = rng.permutation(np.arange(n) % G)
    parts = []
    step = max(1, CHUNK_ELEMENTS // n)
    for a in range(0, G, step):
        g = np.arange(a, min(G, a + step))
        counts = (groups[None, :] != g[:, None]).astype(float)
        with single_threaded_blas():
            _, st = _estimate_counts(X, w, counts, spec, scheme, reference, low, width)
        parts.append(st)
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def _quantiles(reps: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Per-element quantiles (linear interpolation) with element-specific probabilities q."""
    s = np.sort(reps, axis=0)
    B = s.shape[0]
    pos = np.clip(q, 0.0, 1.0) * (B - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, B - 1)
    frac = pos - lo
    take_lo = np.take_along_axis(s, lo[None], axis=0)[0]
    take_hi = np.take_along_axis(s, hi[None], axis=0)[0]
    return take_lo + frac * (take_hi - take_lo)


def interval(est: np.ndarray, reps: np.ndarray, ci: float, method: str,
             jack: np.ndarray | None = None, df: int | None = None,
             ) -> dict[str, np.ndarray]:
    """std_error, ci_low, ci_high and (with ``df``) a two-sided t p-value for each element.

    ``method="percentile"`` or ``"bca"`` (then ``jack`` holds the jackknife statistics).
    Elements without spread (e.g. a fixed weight of 1) get their estimate as both limits.
    """
    est = np.asarray(est, dtype=float)
    a = (1.0 - ci) / 2.0
    se = reps.std(axis=0, ddof=1) if reps.shape[0] > 1 else np.full(est.shape, np.nan)
    if method == "bca" and jack is not None:
        with np.errstate(invalid="ignore", divide="ignore"):
            prop = ((reps < est).sum(axis=0) + 0.5 * (reps == est).sum(axis=0)) / reps.shape[0]
            z0 = special.ndtri(np.clip(prop, 1e-10, 1 - 1e-10))
            d = jack.mean(axis=0) - jack
            acc = (d**3).sum(axis=0) / (6.0 * ((d**2).sum(axis=0)) ** 1.5)
            acc = np.where(np.isfinite(acc), acc, 0.0)
            za, zb = special.ndtri(a), special.ndtri(1 - a)
            q1 = special.ndtr(z0 + (z0 + za) / (1 - acc * (z0 + za)))
            q2 = special.ndtr(z0 + (z0 + zb) / (1 - acc * (z0 + zb)))
        q1 = np.where(np.isfinite(q1), q1, a)
        q2 = np.where(np.isfinite(q2), q2, 1 - a)
    else:
        q1 = np.full(est.shape, a)
        q2 = np.full(est.shape, 1 - a)
    low = _quantiles(reps, q1)
    high = _quantiles(reps, q2)
    flat = se <= 1e-14 * np.maximum(1.0, np.abs(est))
    low = np.where(flat, est, low)
    high = np.where(flat, est, high)
    out: dict[str, Any] = {"std_error": se, "ci_low": low, "ci_high": high}
    if df is not None:
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.abs(est) / se
        out["p_value"] = np.where(flat, np.nan, 2.0 * stats.t.sf(t, df))
    return out
