"""Bootstrap replicates of GLM subset importance: fitted, checked, refitted or dropped.

A replicate re-weights the respondents (resampling counts times survey weights). Its subset
models start from their full-sample estimates, which are O(n^−1/2) away: logit replicates
are fitted a chunk at a time by :mod:`driverkit.importance._glm_replicates` (work shared
between replicates, checked Newton iterations), ordinal ones by the all-subsets engine of
:mod:`driverkit.importance._glm`, each subset warm-started. A resample can
still break a fit: near-separation in a small sample can make a warm-started Newton run
diverge, and a diverged fit must never reach the intervals (standard errors of 10¹² were
seen on a 250-respondent survey). So every replicate is checked: each subset model
converged, and the log-likelihoods are finite, at most 0, at least the null model's and at
least their parent model's (nested models). A replicate that fails is refitted from scratch
with the safeguarded engine (parents as starts, step halving) and checked again; if it still
fails it is reported as failed, dropped from the intervals, and counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..exceptions import DriverkitError
from ._glm import GLMSubsetFits, _players, fit_index_value, glm_subset_values, subset_layout

__all__ = ["FAILED", "OK", "REFITTED", "fits_consistent", "replicate_chunk", "replicate_values"]

#: Replicate status codes.
OK, REFITTED, FAILED = 0, 1, 2


def replicate_chunk(n_rows: int, n_players: int, kind: str) -> int:
    """How many bootstrap replicates one call of the replicate statistic fits together.

    Replicates of a chunk share work (the fitted probabilities at the full-sample
    estimates, the first step's information matrix, one product for all their first-step
    scores), and chunks are what the threads or Dask workers share out, so this balances
    shared work against load balance and memory: a logit replicate keeps about
    ``n · (p + 2)² · 2.4`` bytes of per-row products, and a chunk holds up to 64 MB of them
    (50 replicates at n = 2,000, p = 12; fewer for large samples). Other models: 25.

    Examples
    --------
    >>> replicate_chunk(2000, 12, "logit"), replicate_chunk(50_000, 12, "logit")
    (50, 10)
    """
    if kind != "logit":
        return 25
    per_replicate = 2.4 * n_rows * (n_players + 2) ** 2
    return int(np.clip(64e6 // max(per_replicate, 1.0), 10, 50))


def fits_consistent(ll: np.ndarray, ll0: float, parents: np.ndarray, v: np.ndarray) -> bool:
    """Whether one replicate's subset fits make sense.

    Every log-likelihood is finite, at most 0, at least the null model's, and at least its
    parent's (the models are nested), and every value is finite.
    """
    tol = 1e-7 * max(1.0, abs(ll0))
    return bool(np.all(np.isfinite(ll)) and np.all(np.isfinite(v)) and np.all(ll <= tol)
                and np.all(ll >= ll0 - tol) and np.all(ll >= ll[parents] - tol))


def replicate_values(X: np.ndarray, y: np.ndarray, W: np.ndarray, full: GLMSubsetFits, *,
                     kind: str = "logit", fit_index: str = "mcfadden",
                     players: Sequence[Sequence[int]] | None = None,
                     always: Sequence[int] | None = None, weight_type: str = "sampling",
                     names: Sequence[str] | None = None, fast: bool = True
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Value functions ``(R, 2^p)`` of bootstrap replicates and their status ``(R,)``.

    Logit replicates are fitted together from the full-sample solutions by
    :func:`~driverkit.importance._glm_replicates.logit_replicate_fits` (shared first step,
    checked Newton iterations, the engine for whatever those do not settle); ``fast=False``
    and ordinal models fit each replicate with the all-subsets engine instead, every subset
    warm-started from its full-sample estimates ``full``. Either way each replicate is
    checked: all subset models converged and
    :func:`fits_consistent`. A replicate that fails is refitted from scratch (each subset
    from its parent, with step halving where Newton does not settle) and checked again
    (status :data:`REFITTED`; under separation the fit index is the limit the likelihood
    approaches, as for the full sample). If it still fails, its row is NaN and its status
    :data:`FAILED`: it is dropped from the intervals and counted, never averaged in.

    Examples
    --------
    >>> import numpy as np
    >>> from driverkit.importance._glm import glm_subset_values
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 3))
    >>> y = (rng.random(300) < 1 / (1 + np.exp(-X @ [1.0, 0.5, 0.0]))).astype(float)
    >>> full = glm_subset_values(X, y)
    >>> W = rng.multinomial(300, np.full(300, 1 / 300), size=2).astype(float)
    >>> v, status = replicate_values(X, y, W, full)
    >>> bool(np.allclose(v[1], glm_subset_values(X, y, W[1]).v, atol=1e-9)), status.tolist()
    (True, [0, 0])
    """
    W = np.atleast_2d(np.asarray(W, dtype=float))
    R = W.shape[0]
    n_masks = full.v.shape[0]
    opts: dict[str, Any] = dict(kind=kind, fit_index=fit_index, players=players, always=always,
                                 weight_type=weight_type, names=names)
    k = np.asarray(X).shape[1]
    players_l, always_l = _players(k, players, always)
    width = k + 1 if kind == "logit" else k
    shift = 1 if kind == "logit" else 0
    _, parents = subset_layout(width, [[c + shift for c in pl] for pl in players_l],
                               [c + shift for c in always_l])
    v = np.full((R, n_masks), np.nan)
    status = np.full(R, FAILED)
    todo = np.arange(R)
    if fast and kind in ("logit", "ordinal") and full.kind == kind:
        from ._glm_ordinal_replicates import ordinal_replicate_fits
        from ._glm_replicates import logit_replicate_fits

        fitter: Any = logit_replicate_fits if kind == "logit" else ordinal_replicate_fits
        fits = fitter(X, y, W, full, players=players, always=always, weight_type=weight_type)
        left = []
        for b in range(R):
            ll = fits.loglike[b]
            if fits.converged[b].all() and np.all(np.isfinite(ll)):
                idx = np.asarray(fit_index_value(ll, fits.loglike_null[b], fits.n[b],
                                                 fit_index))
                vb = idx - (idx[0] if always_l else 0.0)
                vb[0] = 0.0
                if fits_consistent(ll, float(fits.loglike_null[b]), parents, vb):
                    v[b] = vb
                    status[b] = OK
                    continue
            left.append(b)
        todo = np.asarray(left, dtype=np.intp)
    for b in todo.tolist():
        for start in (full, None):
            try:
                fit = glm_subset_values(X, y, W[b], start=start, quiet=True, **opts)
            except (DriverkitError, np.linalg.LinAlgError):
                continue
            converged = fit.converged is None or bool(np.all(fit.converged))
            if start is not None and not converged:
                continue
            if fits_consistent(fit.loglike, fit.loglike_null, parents, fit.v):
                v[b] = fit.v
                status[b] = OK if start is not None else REFITTED
                break
    return v, status
