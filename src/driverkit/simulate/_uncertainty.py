"""Uncertainty of simulated effects: parametric draws, the delta method and the bootstrap.

* **parametric** (default): θ⁽ˢ⁾ ~ N(θ̂, V̂) and every respondent re-predicted under each draw
  (Krinsky & Robb 1986; King, Tomz & Wittenberg 2000).
* **delta**: the gradient of each simulated quantity with respect to θ by central differences
  (evaluated as one vectorised batch of 2P parameter vectors); the interval is
  q̂ ± z·sqrt(J V̂ Jᵀ) (Oehlert 1992). With business inputs given as distributions the
  linearised model draws q̂ + J(θ⁽ˢ⁾ − θ̂) are combined with the business draws.
* **bootstrap**: respondents resampled with replacement (weights carried), the model refitted
  on each resample (``model.clone().fit``) and the scenario re-simulated on the resampled
  respondents (Efron & Tibshirani 1993).
Intervals are percentile intervals of the draws. Point estimates never come from draws.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import DriverkitError

__all__ = ["UNCERTAINTY", "bootstrap_params", "delta_jacobian", "percentile_interval",
           "percentile_intervals", "spread_split"]

UNCERTAINTY = ("parametric", "delta", "bootstrap")


def delta_steps(theta: np.ndarray) -> np.ndarray:
    """Central-difference steps: 1e-5·max(1, |θ_j|)."""
    return 1e-5 * np.maximum(1.0, np.abs(theta))


def delta_params(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The 2P parameter vectors θ ± h_j e_j (rows) and the steps h."""
    h = delta_steps(theta)
    P = theta.size
    plus = np.tile(theta, (P, 1)) + np.diag(h)
    minus = np.tile(theta, (P, 1)) - np.diag(h)
    return np.vstack([plus, minus]), h


def delta_jacobian(values: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Jacobian (Q, P) from quantities evaluated at θ ± h e_j: ``values`` of shape (2P, Q)."""
    P = h.size
    return ((values[:P] - values[P:]) / (2 * h[:, None])).T


def bootstrap_params(model: Any, data: pd.DataFrame, B: int, rng: np.random.Generator,
                     ) -> tuple[np.ndarray, list[np.ndarray], int]:
    """Refit ``model.clone()`` on B respondent resamples of ``data``.

    Returns the parameter rows (B', P), the row indices of each kept resample and the number
    of replicates dropped (fit failed, or a factor level missing so the parameters differ).
    """
    try:
        base = model.clone()
    except Exception as exc:
        raise DriverkitError(
            f"uncertainty='bootstrap' refits the model, but it cannot be cloned: {exc}"
        ) from exc
    names = list(model.params.index)
    n = len(data)
    out, rows_kept, dropped = [], [], 0
    first_error: Exception | None = None
    for _ in range(B):
        rows = rng.integers(0, n, n)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fit = base.clone().fit(data.iloc[rows])
        except (DriverkitError, ValueError, np.linalg.LinAlgError) as exc:
            first_error = first_error or exc
            dropped += 1
            continue
        p = fit.params
        if list(p.index) != names or not np.isfinite(p.to_numpy()).all():
            dropped += 1
            continue
        out.append(p.to_numpy(dtype=float))
        rows_kept.append(rows)
    if not out:
        raise DriverkitError(
            f"Every bootstrap refit failed (first error: {first_error}). The simulator's data "
            "must hold the outcome and the model's columns; else use uncertainty='parametric'."
        )
    return np.vstack(out), rows_kept, dropped


def percentile_interval(draws: np.ndarray, ci: float) -> tuple[float, float]:
    """Percentile interval of the finite draws (NaN draws, e.g. ROI with cost ≤ 0, ignored)."""
    d = np.asarray(draws, dtype=float)
    d = d[np.isfinite(d)]
    if d.size == 0:
        return float("nan"), float("nan")
    a = (1 - ci) / 2
    lo, hi = np.quantile(d, [a, 1 - a])
    return float(lo), float(hi)


def percentile_intervals(draws: list[dict[str, np.ndarray] | None], ci: float,
                         ) -> list[dict[str, tuple[float, float]]]:
    """:func:`percentile_interval` of every column of every scenario's draws.

    Columns without non-finite draws (nearly all) are stacked into one quantile call, which
    computes each row exactly as a call of its own would; the others go one by one.
    """
    a = (1 - ci) / 2
    out: list[dict[str, tuple[float, float]]] = [{} for _ in draws]
    keys: list[tuple[int, str]] = []
    rows: list[np.ndarray] = []
    for i, d in enumerate(draws):
        for col, v in (d or {}).items():
            v = np.asarray(v, dtype=float)
            if v.size and np.isfinite(v).all() and (not rows or v.size == rows[0].size):
                keys.append((i, col))
                rows.append(v)
            else:
                out[i][col] = percentile_interval(v, ci)
    if rows:
        q = np.quantile(np.vstack(rows), [a, 1 - a], axis=1)
        for j, (i, col) in enumerate(keys):
            out[i][col] = (float(q[0, j]), float(q[1, j]))
    return out


def spread_split(model_only: np.ndarray, business_only: np.ndarray) -> tuple[float, float]:
    """Shares of the spread (variance) due to the model and to the business inputs.

    First-order split Var_model / (Var_model + Var_business), each computed with the other
    source held at its point value.
    """
    vm = float(np.nanvar(model_only)) if np.size(model_only) else 0.0
    vb = float(np.nanvar(business_only)) if np.size(business_only) else 0.0
    tot = vm + vb
    if tot <= 0:
        return 0.0, 0.0
    return vm / tot, vb / tot
