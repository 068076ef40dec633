"""Collinearity diagnostics: the one definition of the VIF and of the condition number.

* **VIF** of a column: the diagonal of the inverse (weighted) correlation matrix of the
  regressors, ``VIF_j = 1/(1 − R²_j)`` (Marquardt 1970).
* **Condition number**: Belsley's scaled condition number of the design *with* its intercept
  column, every column scaled to unit length before the singular values are taken
  (Belsley, Kuh & Welsch 1980, ch. 3). The columns are not centred, so collinearity with
  the intercept (a driver with little spread) counts. Above ~30 signals harmful
  collinearity. It is reported by ``DriverModel.condition_number``,
  ``ImportanceResult.diagnostics["condition_number"]`` and their ``meta``; from sufficient
  statistics it is computed from the uncentred cross-products, which give the same number.
  A bare correlation matrix lacks the means, so importance from ``corr=`` reports NaN.

Examples
--------
>>> import numpy as np
>>> from driverkit.stats._collinearity import condition_number, vif
>>> X = np.array([[1.0, 2.0], [2.0, 1.0], [3.0, 4.0], [4.0, 3.0]])
>>> vif(X).round(4).tolist()
[1.5625, 1.5625]
>>> round(condition_number(X), 4)
6.5262
"""

from __future__ import annotations

import numpy as np

__all__ = ["condition_number", "condition_number_from_crossproducts", "vif", "vif_from_corr"]


def vif_from_corr(R: np.ndarray) -> np.ndarray:
    """VIFs from the correlation matrix of the regressors: ``diag(R⁻¹)`` (inf if singular)."""
    R = np.asarray(R, dtype=float)
    k = R.shape[0]
    if k == 0:
        return np.empty(0)
    if k == 1:
        return np.ones(1)
    try:
        return np.diag(np.linalg.inv(R)).copy()
    except np.linalg.LinAlgError:
        return np.full(k, np.inf)


def _weighted_corr(X: np.ndarray, w: np.ndarray) -> np.ndarray:
    sw = w / w.sum()
    Xc = X - sw @ X
    cov = (Xc * sw[:, None]).T @ Xc
    sd = np.sqrt(np.diag(cov))
    return cov / np.outer(sd, sd)


def vif(X: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """Variance inflation factors of the columns of ``X`` (rows weighted by ``w``)."""
    X = np.asarray(X, dtype=float)
    if X.shape[1] < 2:
        return np.ones(X.shape[1])
    return vif_from_corr(_weighted_corr(X, np.ones(X.shape[0]) if w is None else w))


def condition_number(X: np.ndarray, w: np.ndarray | None = None) -> float:
    """Belsley's scaled condition number of ``[1, X]`` (rows weighted by ``w``)."""
    X = np.asarray(X, dtype=float)
    sw = np.ones(X.shape[0]) if w is None else w / w.mean()
    Z = np.column_stack([np.ones(X.shape[0]), X]) * np.sqrt(sw)[:, None]
    Z = Z / np.linalg.norm(Z, axis=0)
    s = np.linalg.svd(Z, compute_uv=False)
    return float(s[0] / s[-1]) if s[-1] > 0 else float("inf")


def condition_number_from_crossproducts(M: np.ndarray) -> float:
    """The same number from the uncentred (weighted) cross-products ``[1, X]ᵀW[1, X]``."""
    M = np.asarray(M, dtype=float)
    d = np.sqrt(np.diag(M))
    ev = np.linalg.eigvalsh(M / np.outer(d, d))
    return float(np.sqrt(ev[-1] / ev[0])) if ev[0] > 0 else float("inf")
