"""Reliability and validity of a PLS path model (computed from the item correlations).

* Cronbach's α of the standardised items (Cronbach 1951).
* Composite reliability ρ_C = (Σλ)² / ((Σλ)² + Σ(1 − λ²)) (Jöreskog 1971).
* ρ_A = (ŵ'ŵ)² · ŵ'(S − diag S)ŵ / ŵ'(ŵŵ' − diag ŵŵ')ŵ with ŵ the outer weights scaled to
  unit score variance (Dijkstra & Henseler 2015, MIS Quarterly 39(2)); 1 for mode B.
* AVE = mean λ² (Fornell & Larcker 1981).
* HTMT = mean heterotrait correlation / sqrt(product of mean monotrait correlations) of the
  absolute item correlations (Henseler, Ringle & Sarstedt 2015, JAMS 43; as seminr and cSEM);
  a single-item construct's monotrait mean is taken as 1.
* f² = (R²_incl − R²_excl)/(1 − R²_incl) (Cohen 1988), R²_excl from the PLS model
  re-estimated without that path (outer weights re-iterated, as seminr); VIF = diag of
  the inverse correlation matrix of a formative block or of an equation's predictors.

Thresholds are conventions (Hair et al. 2019, EBR 31(1)): α and ρ_C ≥ 0.7, AVE ≥ 0.5,
HTMT < 0.9, VIF < 5. Crossing one gives a warning, never a refusal.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._pls_spec import PLSSpec

__all__ = ["f_squared", "htmt", "item_vif", "reliability", "structural_vif"]

ALPHA_MIN, RHO_MIN, AVE_MIN, HTMT_MAX, VIF_MAX = 0.7, 0.7, 0.5, 0.9, 5.0


def reliability(R: np.ndarray, weights: np.ndarray, loadings: np.ndarray,
                spec: PLSSpec) -> pd.DataFrame:
    """α, ρ_C, ρ_A and AVE per construct (single items: 1, 1, 1, 1)."""
    rows = []
    for j, name in enumerate(spec.constructs):
        idx = np.flatnonzero(spec.block == j)
        k = idx.size
        lam = loadings[idx]
        if k == 1:
            rows.append((1.0, 1.0, 1.0, 1.0))
            continue
        S = R[np.ix_(idx, idx)]
        alpha = k / (k - 1) * (1.0 - k / S.sum())
        sl = lam.sum()
        rho_c = sl**2 / (sl**2 + np.sum(1.0 - lam**2))
        w = weights[idx]
        ww = np.outer(w, w)
        num = w @ (S - np.diag(np.diag(S))) @ w
        den = w @ (ww - np.diag(np.diag(ww))) @ w
        # ρ_A measures a common factor's reliability; for formative (mode B) composites it is
        # set to 1, as seminr does (the composite is its own construct)
        rho_a = 1.0 if spec.modes[name] == "B" else (w @ w) ** 2 * num / den
        rows.append((alpha, rho_c, rho_a, float(np.mean(lam**2))))
    return pd.DataFrame(rows, columns=["alpha", "rho_c", "rho_a", "ave"],
                        index=pd.Index(spec.constructs, name="construct"))


def htmt(R: np.ndarray, spec: PLSSpec) -> pd.DataFrame:
    """The heterotrait–monotrait ratio for every pair of constructs (NaN on the diagonal)."""
    c = spec.c
    R = np.abs(R)
    blocks = [np.flatnonzero(spec.block == j) for j in range(c)]
    mono = np.ones(c)
    for j, b in enumerate(blocks):
        if b.size > 1:
            S = R[np.ix_(b, b)]
            mono[j] = S[np.triu_indices(b.size, 1)].mean()
    out = np.full((c, c), np.nan)
    for i in range(c):
        for j in range(c):
            if i != j:
                het = R[np.ix_(blocks[i], blocks[j])].mean()
                if mono[i] > 0 and mono[j] > 0:  # undefined for uncorrelated (formative) items
                    out[i, j] = het / np.sqrt(mono[i] * mono[j])
    return pd.DataFrame(out, index=spec.constructs, columns=spec.constructs)


def fornell_larcker(C: np.ndarray, ave: np.ndarray, spec: PLSSpec) -> pd.DataFrame:
    """Construct correlations with sqrt(AVE) on the diagonal (Fornell & Larcker 1981)."""
    F = C.copy()
    np.fill_diagonal(F, np.sqrt(ave))
    return pd.DataFrame(F, index=spec.constructs, columns=spec.constructs)


def item_vif(R: np.ndarray, spec: PLSSpec) -> np.ndarray:
    """VIF of each item within its block (1 for single items; inf when collinear)."""
    out = np.ones(spec.p)
    for j in range(spec.c):
        idx = np.flatnonzero(spec.block == j)
        if idx.size > 1:
            S = R[np.ix_(idx, idx)]
            try:
                out[idx] = np.diag(np.linalg.inv(S))
            except np.linalg.LinAlgError:
                out[idx] = np.inf
    return out


def structural_vif(C: np.ndarray, spec: PLSSpec) -> dict[tuple[str, str], float]:
    """VIF of each predictor in its structural equation."""
    out = {}
    for j, t in enumerate(spec.constructs):
        pr = spec.predecessors(j)
        if pr.size == 0:
            continue
        v = np.diag(np.linalg.inv(C[np.ix_(pr, pr)])) if pr.size > 1 else np.ones(1)
        for k, i in enumerate(pr):
            out[(spec.constructs[i], t)] = float(v[k])
    return out


def f_squared(C: np.ndarray, r2: np.ndarray, spec: PLSSpec, mean: np.ndarray,
              cov: np.ndarray, scheme: str) -> dict[tuple[str, str], float]:
    """Cohen's f² of each path: the R² the target loses when the model is re-estimated
    without that path. A path whose removal would leave a construct in no path is scored on
    the full model's construct correlations instead."""
    from dataclasses import replace

    from ._pls_kernel import estimate_batch

    out = {}
    for j, t in enumerate(spec.constructs):
        pr = spec.predecessors(j)
        for i in pr:
            rest = pr[pr != i]
            A = spec.adjacency.copy()
            A[i, j] = False
            isolated = not (A[i].any() or A[:, i].any()) or not (A[j].any() or A[:, j].any())
            if isolated or not rest.size:
                if rest.size:
                    b = np.linalg.solve(C[np.ix_(rest, rest)], C[rest, j])
                    r2x = float(b @ C[rest, j])
                else:
                    r2x = 0.0
            else:
                sub = replace(spec, adjacency=A, edges=[e for e in spec.edges
                                                        if e != (spec.constructs[i], t)])
                r2x = float(estimate_batch(mean[None], cov[None], sub, scheme).r2[0, j])
            out[(spec.constructs[i], t)] = (r2[j] - r2x) / (1.0 - r2[j])
    return out
