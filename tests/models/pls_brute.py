"""A deliberately plain PLS-PM implementation for tests (data level, loops, lstsq).

Written from the textbook algorithm (Tenenhaus et al. 2005, §2) without sharing any code
with driverkit's batched kernel: scores are computed from the data, inner weights from
score correlations/regressions on the data, mode B by least squares on the data.
"""

from __future__ import annotations

import numpy as np


def _std(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    m = np.average(x, axis=0, weights=w)
    v = np.average((x - m) ** 2, axis=0, weights=w)
    return (x - m) / np.sqrt(v)


def brute_pls(X: dict[str, np.ndarray], paths: list[tuple[str, str]], modes: dict[str, str],
              scheme: str = "path", w: np.ndarray | None = None, tol: float = 1e-10,
              max_iter: int = 1000) -> dict:
    names = list(X)
    n = next(iter(X.values())).shape[0]
    w = np.ones(n) if w is None else np.asarray(w, float)
    Z = {k: _std(np.asarray(v, float).reshape(n, -1), w) for k, v in X.items()}
    pred = {k: [s for s, t in paths if t == k] for k in names}
    succ = {k: [t for s, t in paths if s == k] for k in names}

    def cor(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.average(_std(a, w) * _std(b, w), weights=w))

    def score(k: str, wk: np.ndarray) -> np.ndarray:
        return _std(Z[k] @ wk, w)

    wts = {k: np.ones(Z[k].shape[1]) for k in names}
    for _ in range(max_iter):
        Y = {k: score(k, wts[k]) for k in names}
        new = {}
        for k in names:
            proxy = np.zeros(n)
            if scheme == "path":
                if pred[k]:
                    A = np.column_stack([Y[s] for s in pred[k]])
                    sw = np.sqrt(w)
                    b = np.linalg.lstsq(A * sw[:, None], Y[k] * sw, rcond=None)[0]
                    proxy += A @ b
                for t in succ[k]:
                    proxy += cor(Y[k], Y[t]) * Y[t]
            else:
                for o in pred[k] + succ[k]:
                    r = cor(Y[k], Y[o])
                    proxy += (np.sign(r) if scheme == "centroid" else r) * Y[o]
            if Z[k].shape[1] == 1:
                new[k] = np.ones(1)
                continue
            if modes.get(k, "A") == "A":
                wk = np.array([np.average(Z[k][:, i] * proxy, weights=w)
                               for i in range(Z[k].shape[1])])
            else:
                sw = np.sqrt(w)
                wk = np.linalg.lstsq(Z[k] * sw[:, None], proxy * sw, rcond=None)[0]
            sd = np.sqrt(np.average((Z[k] @ wk) ** 2, weights=w))
            new[k] = wk / sd
        delta = max(np.max(np.abs(new[k] - wts[k])) for k in names)
        wts = new
        if delta < tol:
            break
    Y = {k: score(k, wts[k]) for k in names}
    coef = {}
    r2 = {}
    for k in names:
        if pred[k]:
            A = np.column_stack([Y[s] for s in pred[k]])
            sw = np.sqrt(w)
            b = np.linalg.lstsq(A * sw[:, None], Y[k] * sw, rcond=None)[0]
            for s, bb in zip(pred[k], b, strict=True):
                coef[(s, k)] = float(bb)
            fit = A @ b
            r2[k] = 1 - np.average((Y[k] - fit) ** 2, weights=w) / np.average(Y[k] ** 2,
                                                                               weights=w)
    loadings = {k: np.array([cor(Z[k][:, i], Y[k]) for i in range(Z[k].shape[1])])
                for k in names}
    return {"weights": wts, "paths": coef, "r2": r2, "loadings": loadings, "scores": Y}
