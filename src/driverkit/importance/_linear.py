"""Linear relative-importance metrics from (batches of) partial correlation matrices.

Every function takes ``R`` of shape ``(N, m + 1, m + 1)`` — correlation matrices of the m
player columns and the outcome (last), already residualised on the always-in covariates
(see :func:`driverkit.stats._subsets.partial_correlation`) — the players (column index lists)
and ``scale`` (``(N,)``: the share of the outcome's variance left after the always-in
covariates, 1 − R²_always), and returns ``(N, p)`` importances in R² units. Batching makes the
bootstrap a single call.

Definitions (as in relaimpo, Grömping 2006), with r = R_xy, β = R_xx⁻¹ r (standardised
coefficients):

- first_j = R²({j}) (= r_j² for one column);
- last_j = R²(all) − R²(all ∖ j) = β_gᵀ [(R_xx⁻¹)_gg]⁻¹ β_g;
- betasq_j = β_j²;  pratt_j = β_j · r_j (Pratt 1987);
- car_j = ω_j² with ω = R_xx^{−1/2} r (Zuber & Strimmer 2011);
- relative weights (Johnson 2000): R_xx = QΛQᵀ, Λ_half = QΛ^{1/2}Qᵀ, β* = Λ_half⁻¹ r,
  raw_j = Σ_k Λ_half[j, k]² β*_k².

For a player of several columns (a group, a factor's dummies) first and last use the joint
fit of its columns; betasq, pratt, car and relative weights add up over its columns (for pratt,
car and relative weights this keeps the sum equal to R²).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..stats._collinearity import vif_from_corr

__all__ = [
    "LINEAR_METHODS",
    "batch_partial_correlation",
    "betasq",
    "car",
    "first",
    "last",
    "linear_metric",
    "pratt",
    "relative_weights",
    "vif",
]

LINEAR_METHODS = ("relative_weights", "pratt", "first", "last", "betasq", "car")


def _split(R: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    R = np.asarray(R, dtype=float)
    if R.ndim == 2:
        R = R[None]
    return R[:, :-1, :-1], R[:, :-1, -1]


def _by_player(x: np.ndarray, players: Sequence[Sequence[int]]) -> np.ndarray:
    """Sum column-level values ``(N, m)`` within players → ``(N, p)``."""
    return np.stack([x[:, list(pl)].sum(axis=1) for pl in players], axis=1)


def _scaled(x: np.ndarray, scale: np.ndarray | float | None) -> np.ndarray:
    if scale is None:
        return x
    return x * np.asarray(scale, dtype=float).reshape(-1, 1)


def _beta(R: np.ndarray) -> np.ndarray:
    Rxx, r = _split(R)
    return np.linalg.solve(Rxx, r[..., None])[..., 0]


def first(R: np.ndarray, players: Sequence[Sequence[int]],
          scale: np.ndarray | float | None = None) -> np.ndarray:
    """R² of each player alone (Grömping's ``first``; r²_jy for a single column)."""
    Rxx, r = _split(R)
    out = np.empty((Rxx.shape[0], len(players)))
    for j, pl in enumerate(players):
        pl = list(pl)
        rj = r[:, pl]
        out[:, j] = np.einsum("ni,ni->n", rj, np.linalg.solve(Rxx[:, pl][:, :, pl],
                                                              rj[..., None])[..., 0])
    return _scaled(out, scale)


def last(R: np.ndarray, players: Sequence[Sequence[int]],
         scale: np.ndarray | float | None = None) -> np.ndarray:
    """R² lost when each player leaves the full model (``last``; usefulness)."""
    Rxx, r = _split(R)
    inv = np.linalg.inv(Rxx)
    b = np.einsum("nij,nj->ni", inv, r)
    out = np.empty((Rxx.shape[0], len(players)))
    for j, pl in enumerate(players):
        pl = list(pl)
        bg = b[:, pl]
        out[:, j] = np.einsum("ni,ni->n", bg, np.linalg.solve(inv[:, pl][:, :, pl],
                                                              bg[..., None])[..., 0])
    return _scaled(out, scale)


def betasq(R: np.ndarray, players: Sequence[Sequence[int]],
           scale: np.ndarray | float | None = None) -> np.ndarray:
    """Squared standardised coefficients (summed over a player's columns)."""
    return _scaled(_by_player(_beta(R) ** 2, players), scale)


def pratt(R: np.ndarray, players: Sequence[Sequence[int]],
          scale: np.ndarray | float | None = None) -> np.ndarray:
    """Pratt's measure β_j · r_jy (Pratt 1987); sums to R², may be negative."""
    _, r = _split(R)
    return _scaled(_by_player(_beta(R) * r, players), scale)


def _sqrt_parts(Rxx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lam, Q = np.linalg.eigh(Rxx)
    lam = np.clip(lam, 1e-300, None)
    return lam, Q


def car(R: np.ndarray, players: Sequence[Sequence[int]],
        scale: np.ndarray | float | None = None) -> np.ndarray:
    """Squared CAR scores ω = R_xx^{−1/2} r (Zuber & Strimmer 2011); sum to R²."""
    Rxx, r = _split(R)
    lam, Q = _sqrt_parts(Rxx)
    inv_half = np.einsum("nik,nk,njk->nij", Q, 1.0 / np.sqrt(lam), Q)
    omega = np.einsum("nij,nj->ni", inv_half, r)
    return _scaled(_by_player(omega**2, players), scale)


def relative_weights(R: np.ndarray, players: Sequence[Sequence[int]],
                     scale: np.ndarray | float | None = None) -> np.ndarray:
    """Johnson's (2000) relative weights; they sum to R².

    Notes
    -----
    R_xx = QΛQᵀ, Λ_half = QΛ^{1/2}Qᵀ (the correlations between the x's and their closest
    orthogonal counterparts z), β* = Λ_half⁻¹ r (regression of y on z),
    raw_j = Σ_k Λ_half[j, k]² β*_k². Johnson, J. W. (2000). Multivariate Behavioral Research
    35(1), 1–19. Differs from Shapley values (Thomas, Zumbo, Kwan & Schweitzer 2014).
    """
    Rxx, r = _split(R)
    lam, Q = _sqrt_parts(Rxx)
    half = np.einsum("nik,nk,njk->nij", Q, np.sqrt(lam), Q)
    inv_half = np.einsum("nik,nk,njk->nij", Q, 1.0 / np.sqrt(lam), Q)
    beta_star = np.einsum("nij,nj->ni", inv_half, r)
    raw = np.einsum("njk,nk->nj", half**2, beta_star**2)
    return _scaled(_by_player(raw, players), scale)


_FUNCS = {
    "relative_weights": relative_weights,
    "pratt": pratt,
    "first": first,
    "last": last,
    "betasq": betasq,
    "car": car,
}


def linear_metric(method: str, R: np.ndarray, players: Sequence[Sequence[int]],
                  scale: np.ndarray | float | None = None) -> np.ndarray:
    """Dispatch to one of :data:`LINEAR_METHODS`; returns ``(N, p)``.

    Examples
    --------
    >>> import numpy as np
    >>> R = np.array([[1.0, 0.3, 0.5], [0.3, 1.0, 0.4], [0.5, 0.4, 1.0]])
    >>> np.round(linear_metric("pratt", R, [[0], [1]]), 4)
    array([[0.2088, 0.1099]])
    """
    return _FUNCS[method](R, players, scale)


def vif(Rxx: np.ndarray) -> np.ndarray:
    """Variance inflation factors: the diagonal of the inverse correlation matrix."""
    return vif_from_corr(Rxx)


def batch_partial_correlation(Cb: np.ndarray, m: int, a: int
                              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Residual correlation matrices of a batch of covariance matrices (bootstrap replicates).

    ``Cb`` is ``(B, d, d)`` ordered as m player columns, a always-in columns, outcome.
    Returns ``R (B, m + 1, m + 1)`` (players then outcome, given the always-in columns),
    ``scale (B,)`` = 1 − R²_always and ``ok (B,)``: False for degenerate replicates
    (a constant or collinear resample), whose ``R`` is replaced by the identity.
    """
    B, d, _ = Cb.shape
    sd = np.sqrt(np.clip(np.einsum("bii->bi", Cb), 0, None))
    ok = np.all(sd > 0, axis=1)
    sd[~ok] = 1.0
    Rb = Cb / (sd[:, :, None] * sd[:, None, :])
    P = np.r_[np.arange(m), d - 1]
    if a:
        A = np.arange(m, m + a)
        Saa = Rb[:, A][:, :, A]
        Spa = Rb[:, P][:, :, A]
        try:
            part = Rb[:, P][:, :, P] - Spa @ np.linalg.solve(Saa, np.swapaxes(Spa, 1, 2))
        except np.linalg.LinAlgError:
            part = np.full((B, m + 1, m + 1), np.nan)
            for b in range(B):
                try:
                    part[b] = Rb[b][np.ix_(P, P)] - Spa[b] @ np.linalg.solve(Saa[b], Spa[b].T)
                except np.linalg.LinAlgError:
                    ok[b] = False
        scale = part[:, -1, -1].copy()  # 1 − R²_always of the replicate
    else:
        part = Rb[:, P][:, :, P]
        scale = np.ones(B)
    psd = np.sqrt(np.clip(np.einsum("bii->bi", part), 0, None))
    ok &= np.all(psd > 1e-12, axis=1) & np.all(np.isfinite(part), axis=(1, 2))
    psd[~ok] = 1.0
    R = part / (psd[:, :, None] * psd[:, None, :])
    # positive definiteness of every replicate's driver block
    ev_min = np.linalg.eigvalsh(np.where(ok[:, None, None], R, np.eye(m + 1)))[:, 0]
    ok &= ev_min > 1e-10
    R[~ok] = np.eye(m + 1)
    return R, scale, ok
