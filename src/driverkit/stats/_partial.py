"""The correlation matrix the all-subsets kernel works on: checks and always-in covariates.

:func:`partial_correlation` turns a covariance (or correlation) matrix into the standardised
residual correlation of the players' columns and ``y`` given the always-in covariates (a
Schur complement), after checking it (finite, symmetric, positive variances, positive
definite) with messages that name the culprit; :mod:`driverkit.stats._subsets` then fits
every subset from it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._validation import warn
from ..exceptions import CollinearityWarning, DriverkitError

__all__ = ["COLLINEARITY_WARN", "SINGULAR_TOL", "check_covariance", "partial_correlation"]

#: Condition number (of the driver correlation matrix) above which a warning is given.
COLLINEARITY_WARN = 1e6
#: Smallest admissible residual variance of a column given all others (relative).
SINGULAR_TOL = 1e-10


def check_covariance(C: np.ndarray, names: Sequence[str], *, what: str = "matrix") -> np.ndarray:
    """Validate a square covariance/correlation matrix; return it as a float64 array.

    Raises :class:`DriverkitError` naming the culprit for NaN/inf entries, asymmetry, zero or
    negative variances, and (near) singular / non-positive-definite matrices.
    """
    C = np.asarray(C, dtype=float)
    names = [str(n) for n in names]
    if C.ndim != 2 or C.shape[0] != C.shape[1]:
        raise DriverkitError(f"The {what} must be square; got shape {C.shape}.")
    if C.shape[0] != len(names):
        raise DriverkitError(f"The {what} has {C.shape[0]} rows but {len(names)} names.")
    bad = ~np.isfinite(C)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise DriverkitError(
            f"The {what} contains NaN or infinite values (first at row '{names[i]}', column "
            f"'{names[j]}'). Compute it from complete data or impute first."
        )
    scale = np.maximum(np.abs(C).max(), 1e-300)
    asym = np.abs(C - C.T) > 1e-8 * scale
    if asym.any():
        i, j = np.argwhere(asym)[0]
        raise DriverkitError(
            f"The {what} is not symmetric: entry ['{names[i]}', '{names[j]}'] = {C[i, j]:.6g} "
            f"but ['{names[j]}', '{names[i]}'] = {C[j, i]:.6g}."
        )
    d = np.diag(C)
    nonpos = np.flatnonzero(d <= 0)
    if len(nonpos):
        raise DriverkitError(
            f"The variable '{names[nonpos[0]]}' has zero or negative variance "
            f"({d[nonpos[0]]:.6g}) in the {what}; it cannot be used."
        )
    return (C + C.T) / 2


def _to_correlation(C: np.ndarray) -> np.ndarray:
    s = np.sqrt(np.diag(C))
    R = C / np.outer(s, s)
    np.fill_diagonal(R, 1.0)
    return R


def _check_pd(R: np.ndarray, names: Sequence[str], what: str) -> None:
    """Raise if the correlation matrix ``R`` is singular or not positive definite."""
    try:
        inv = np.linalg.inv(R)
        ok = bool(np.all(np.isfinite(inv)))
    except np.linalg.LinAlgError:
        ok = False
    if ok:
        resid = 1.0 / np.diag(inv)  # 1 − R²_j of each column on all others
        if np.all(resid > SINGULAR_TOL):
            return
        j = int(np.argmin(resid))
    else:
        _ev, vec = np.linalg.eigh(R)
        j = int(np.argmax(np.abs(vec[:, 0])))
    eig = np.linalg.eigvalsh(R)
    raise DriverkitError(
        f"The {what} is singular or not positive definite (smallest eigenvalue "
        f"{eig[0]:.3g}); '{names[j]}' is (almost) a linear combination of the others. "
        "Drop or merge redundant drivers (or put them in one group)."
    )


def partial_correlation(C: np.ndarray, names: Sequence[str], y: int,
                        xs: Sequence[int], always: Sequence[int] = (),
                        *, what: str = "covariance matrix") -> tuple[np.ndarray, float, float]:
    """Standardised residual correlation of ``(x, y)`` given the always-in columns.

    Parameters
    ----------
    C : (k, k) array
        Covariance or correlation matrix of all variables.
    names : sequence of str
        Names of the k variables (for messages).
    y : int
        Index of the outcome.
    xs : sequence of int
        Indices of the player columns (in the order the players will use).
    always : sequence of int
        Indices of always-in covariates, partialled out by a Schur complement.

    Returns
    -------
    R : (m + 1, m + 1) array
        Correlation matrix of the residuals of ``xs`` then ``y`` given ``always``.
    r2_full : float
        R² of y on ``xs`` and ``always`` together.
    r2_always : float
        R² of y on ``always`` alone (0 without).
    """
    C = check_covariance(C, names, what=what)
    idx = [*xs, *always, y]
    sub = _to_correlation(C[np.ix_(idx, idx)])
    sub_names = [names[i] for i in idx]
    m, a = len(xs), len(always)
    if m + a:
        _check_pd(sub[:-1, :-1], sub_names[:-1], what)
    P = np.r_[np.arange(m), m + a]  # player columns then y
    if a:
        A = np.arange(m, m + a)
        S_aa = sub[np.ix_(A, A)]
        S_pa = sub[np.ix_(P, A)]
        part = sub[np.ix_(P, P)] - S_pa @ np.linalg.solve(S_aa, S_pa.T)
        r2_always = float(1.0 - part[-1, -1])
    else:
        part = sub[np.ix_(P, P)]
        r2_always = 0.0
    part = (part + part.T) / 2
    if part[-1, -1] <= 1e-12:
        raise DriverkitError(
            f"The always-in covariates explain '{names[y]}' perfectly (R² = 1); there is no "
            "variance left to attribute to the drivers."
        )
    R = _to_correlation(part)
    r_xy = sub[:-1, -1]
    r2_full = float(r_xy @ np.linalg.solve(sub[:-1, :-1], r_xy)) if m + a else 0.0
    if r2_full > 1.0 + 1e-9:
        eig = np.linalg.eigvalsh(sub)
        raise DriverkitError(
            f"The {what} is not positive definite (smallest eigenvalue {eig[0]:.3g}): the "
            f"correlations of '{names[y]}' with the drivers are inconsistent (they imply "
            f"R² = {r2_full:.4g} > 1). Compute the matrix from one complete data set."
        )
    r2_full = min(r2_full, 1.0)
    if m:
        cond = np.linalg.cond(R[:-1, :-1])
        if cond > COLLINEARITY_WARN:
            warn(
                f"The drivers are highly collinear (condition number {cond:.3g} of their "
                "correlation matrix); importance values may be unstable.",
                CollinearityWarning,
            )
    return R, r2_full, r2_always
