"""Batched logit / ordered-logit fits for every subset of players (GLM relative importance).

Dominance analysis and Shapley values for binary and ordinal outcomes need a fit index for
all 2^p − 1 sub-models (Azen & Traxel 2009). Calling a general GLM fitter 2^p times is slow,
so here the fits are *batched*: subsets with the same number of design columns are stacked,
and Newton–Raphson runs on all of them at once with dense matrix products. Each subset is
warm-started from its parent (the subset without its highest player).

Fit indices: ``ℓ_S`` is the log-likelihood of the model with players S, ``ℓ_0`` that of the
intercept-only (thresholds-only) model, and ``n`` the number of rows, or Σw for frequency
weights.

* McFadden (1974): ``1 − ℓ_S/ℓ_0``
* Cox & Snell (1989): ``1 − exp(2(ℓ_0 − ℓ_S)/n)``
* Nagelkerke (1991): Cox–Snell / ``(1 − exp(2ℓ_0/n))``
* Estrella (1998): ``1 − (ℓ_S/ℓ_0)^(−2ℓ_0/n)``

Weights: sampling weights are rescaled to sum to the number of rows and enter as Σ wᵢ ℓᵢ.
Frequency weights are counts. McFadden is the same either way.

Public entry points (used by :mod:`driverkit.importance._api`): :func:`glm_subset_values`
(returns :class:`GLMSubsetFits`), :func:`fit_index_value` and
:func:`logistic_relative_weights`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import special

from .._validation import check_option, warn
from ..exceptions import ConvergenceWarning, DriverkitError
from ._glm_kernel import row_block, size_levels
from ._glm_levels import _bit_reversed, _glm_threads, _newton_batch, _run_levels
from ._glm_logit import FastLogit, _Logit, factor_block
from ._glm_ordinal import _Ordinal

__all__ = [
    "FIT_INDICES",
    "GLMSubsetFits",
    "fit_index_value",
    "glm_mask_fitter",
    "glm_mask_values",
    "glm_subset_values",
    "logistic_relative_weights",
]

FIT_INDICES = ("mcfadden", "nagelkerke", "cox_snell", "estrella")
MAX_PLAYERS = 20
_FAST_LOGIT = True  # the float32-iteration logit engine (False: the plain one, for tests)
_SEPARATION_ETA = 33.0  # |linear predictor| beyond which a probability is 0/1 in float64
_FAST_BATCH_BYTES = 1 << 22  # the fast logit engine's float64 work array per batch


@dataclass
class GLMSubsetFits:
    """Fits of a logit / ordered logit on every subset of players.

    Attributes
    ----------
    v : ndarray (2^p,)
        ``v[m]`` = index(S_m ∪ always) − index(always), where bit j of ``m`` marks player j;
        ``v[0] = 0``. This is the value function for Shapley values and dominance analysis.
    loglike : ndarray (2^p,)
        Log-likelihood ℓ of each subset model. ``loglike[0]`` is the always-only model.
    loglike_null : float
        ℓ_0 of the intercept-only (thresholds-only for ordinal) model.
    r2_full, r2_always : float
        Fit index of the full model (all players plus always) and of the always-only model.
        It is 0 without ``always``.
    fit_index : str
    n : float
        The ``n`` in the Cox–Snell, Nagelkerke and Estrella formulas: the row count, or Σw for
        frequency weights.
    iterations : int
        Largest number of Newton iterations that any batch needed.
    coef : ndarray (2^p, k′)
        Each subset's coefficients in the full column layout, zero outside the subset. For a
        logit, column 0 is the intercept and column j + 1 is design column j. For an ordinal
        model, column j is design column j. Used as warm starts through ``start=``.
    thetas : ndarray (2^p, K−1) or None
        Ordinal cut points (increasing) of each subset.
    converged : ndarray of bool (2^p,)
        Whether each subset's Newton run met the tolerance.
    kind : str
    """

    v: np.ndarray
    loglike: np.ndarray
    loglike_null: float
    r2_full: float
    r2_always: float
    fit_index: str
    n: float
    iterations: int
    coef: np.ndarray | None = None
    thetas: np.ndarray | None = None
    converged: np.ndarray | None = field(default=None, repr=False)
    kind: str = "logit"

    def index(self, fit_index: str) -> np.ndarray:
        """All subset models' values of another fit index (absolute, not relative to always).

        Examples
        --------
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(200, 2))
        >>> y = (rng.random(200) < 1 / (1 + np.exp(-X[:, 0]))).astype(float)
        >>> fits = glm_subset_values(X, y)
        >>> bool(np.allclose(fits.index("mcfadden")[1:], fits.v[1:]))
        True
        """
        check_option(fit_index, "fit_index", list(FIT_INDICES), "importance")
        return np.asarray(fit_index_value(self.loglike, self.loglike_null, self.n, fit_index))


def fit_index_value(ll: np.ndarray | float, ll0: float, n: float, fit_index: str) -> Any:
    """Pseudo-R² of log-likelihood(s) ``ll`` against the null model's ``ll0``.

    Parameters
    ----------
    ll : float or ndarray
        Log-likelihood(s) of the model(s).
    ll0 : float
        Log-likelihood of the intercept-only model.
    n : float
        Row count (sampling weights rescaled to sum to it) or Σw (frequency weights).
    fit_index : {"mcfadden", "nagelkerke", "cox_snell", "estrella"}

    Returns
    -------
    float or ndarray

    Notes
    -----
    McFadden (1974) ``1 − ℓ/ℓ_0``; Cox & Snell (1989) ``1 − exp(2(ℓ_0 − ℓ)/n)``;
    Nagelkerke (1991) Cox–Snell divided by its maximum ``1 − exp(2ℓ_0/n)``; Estrella (1998)
    ``1 − (ℓ/ℓ_0)^(−2ℓ_0/n)``.

    Examples
    --------
    >>> round(float(fit_index_value(-60.0, -80.0, 200, "mcfadden")), 6)
    0.25
    >>> round(float(fit_index_value(-60.0, -80.0, 200, "nagelkerke")), 4)
    0.3292
    """
    ll = np.asarray(ll, dtype=float)
    if fit_index == "mcfadden":
        return 1.0 - ll / ll0
    cs = -np.expm1(2.0 * (ll0 - ll) / n)
    if fit_index == "cox_snell":
        return cs
    if fit_index == "nagelkerke":
        return cs / -np.expm1(2.0 * ll0 / n)
    if fit_index == "estrella":
        return 1.0 - (ll / ll0) ** (-2.0 * ll0 / n)
    raise DriverkitError(
        f"Unknown fit_index={fit_index!r}; use one of {', '.join(FIT_INDICES)}.")


def _likelihood_weights(w: np.ndarray | None, n: int, weight_type: str
                        ) -> tuple[np.ndarray, float]:
    """(per-row log-likelihood weights, the n of the fit-index formulas)."""
    # "none" (DriverData without weights) acts like "sampling": bootstrap replicates pass
    # their resampling counts as weights.
    check_option(weight_type, "weight_type", ["sampling", "frequency", "none"], "importance")
    if w is None:
        return np.ones(n), float(n)
    w = np.asarray(w, dtype=float)
    if w.shape != (n,):
        raise DriverkitError(f"weights must have one value per row ({n}); got shape {w.shape}.")
    if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise DriverkitError("weights must be finite, non-negative and not all zero.")
    if weight_type == "frequency":
        return w, float(w.sum())
    return w * (n / w.sum()), float(n)


# ======================================================================================
# driver
# ======================================================================================
def _players(k: int, players: Sequence[Sequence[int]] | None,
             always: Sequence[int] | None) -> tuple[list[list[int]], list[int]]:
    always_l = [int(c) for c in (always or [])]
    if players is None:
        players_l = [[j] for j in range(k) if j not in always_l]
    else:
        players_l = [[int(c) for c in pl] for pl in players]
    seen: dict[int, str] = {}
    for where, cols in [("always", always_l)] + [(f"player {j}", pl)
                                                 for j, pl in enumerate(players_l)]:
        if where != "always" and not cols:
            raise DriverkitError(f"{where} has no design columns.")
        for c in cols:
            if not 0 <= c < k:
                raise DriverkitError(f"{where} names design column {c}; X has {k} columns.")
            if c in seen:
                raise DriverkitError(
                    f"Design column {c} is in both {seen[c]} and {where}; each column may "
                    "belong to one player (or to always) only.")
            seen[c] = where
    return players_l, always_l


def compress_rows(X: np.ndarray, y: np.ndarray, v: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Drop rows of zero weight and merge identical (design, outcome) rows.

    The log-likelihood is Σ vᵢ ℓ(xᵢ, yᵢ), so a row of weight 0 adds nothing and identical
    rows may share one term with their summed weight: the likelihood, and every fit, are
    unchanged. Bootstrap replicates leave about 37 % of the rows at weight 0, and discrete
    ratings repeat rows. Rows are merged only when that removes at least a tenth of them.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0], [1.0], [2.0], [3.0]])
    >>> y, v = np.array([0.0, 0.0, 1.0, 1.0]), np.array([1.0, 2.0, 0.0, 1.0])
    >>> Xc, yc, vc = compress_rows(X, y, v)
    >>> Xc.ravel().tolist(), yc.tolist(), vc.tolist()
    ([1.0, 3.0], [0.0, 1.0], [3.0, 1.0])
    """
    keep = v > 0
    if not keep.all():
        X, y, v = X[keep], y[keep], v[keep]
    rows, inverse = np.unique(np.column_stack([X, y]), axis=0, return_inverse=True)
    if rows.shape[0] <= 0.9 * X.shape[0]:
        v = np.bincount(inverse.ravel(), weights=v, minlength=rows.shape[0])
        X, y = np.ascontiguousarray(rows[:, :-1]), rows[:, -1].copy()
    return X, y, v


def subset_layout(width: int, cols_of: Sequence[Sequence[int]], base: Sequence[int]
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Column membership ``(2^p, width)`` of every subset model and each subset's parent.

    Bit j of mask ``m`` marks player j; ``base`` columns (intercept, always-in covariates)
    are in every model. The parent of ``m`` is ``m`` without its highest player.
    """
    p = len(cols_of)
    masks = np.arange(1 << p, dtype=np.int64)
    member = np.zeros((1 << p, width), dtype=bool)
    member[:, list(base)] = True
    for j, player_cols in enumerate(cols_of):  # one player at a time: no (2^p, p) temporary
        member[:, list(player_cols)] |= ((masks >> j) & 1).astype(bool)[:, None]
    high = np.zeros(1 << p, dtype=np.int64)
    for j in range(p):
        high[masks >= (1 << j)] = 1 << j
    return member, masks - high


def glm_subset_values(X: np.ndarray, y: np.ndarray, w: np.ndarray | None = None, *,
                      kind: str = "logit", fit_index: str = "mcfadden",
                      players: Sequence[Sequence[int]] | None = None,
                      always: Sequence[int] | None = None,
                      n_categories: int | None = None, weight_type: str = "sampling",
                      names: Sequence[str] | None = None, tol: float = 1e-10,
                      max_iter: int = 50, start: GLMSubsetFits | None = None,
                      block: int | None = None, quiet: bool = False,
                      progress: Any = None, threads: int | None = None) -> GLMSubsetFits:
    """Fit a logit or ordered logit on every subset of players, with the fit index of each.

    Parameters
    ----------
    X : ndarray of shape (n, k)
        Design columns without an intercept: numeric drivers, factor dummies, covariates.
    y : ndarray of shape (n,)
        0/1 outcome (``kind="logit"``) or integer category codes 0..K−1
        (``kind="ordinal"``).
    w : ndarray of shape (n,), optional
        Weights. By default these are sampling weights, rescaled to sum to n in the
        log-likelihood.
    kind : {"logit", "ordinal"}
        Binary logit with intercept, or cumulative (proportional-odds) logit with K − 1 cut
        points and no intercept.
    fit_index : {"mcfadden", "nagelkerke", "cox_snell", "estrella"}
        Which pseudo-R² goes into ``v``. ``loglike`` lets you get the others cheaply (see
        :meth:`GLMSubsetFits.index`).
    players : list of lists of int, optional
        Design columns of each player; a factor or a journey stage is one player. The
        default is one player per column not in ``always``. Columns in no player and not in
        ``always`` are left out of every model.
    always : list of int, optional
        Design columns kept in every model. ``v`` is then relative to the always-only model.
    n_categories : int, optional
        Number of ordinal categories K. Codes must lie in 0..K−1. A category with no
        (positive-weight) respondent is dropped: its cut points are not identified, and the
        likelihood is the same as without it. Default: ``max(y) + 1``.
    weight_type : {"sampling", "frequency", "none"}
        Frequency weights are counts, so the ``n`` in the Cox–Snell, Nagelkerke and Estrella
        formulas is Σw. ``"none"`` (data without survey weights) treats a given ``w`` like
        sampling weights, e.g. bootstrap resampling counts.
    names : list of str, optional
        Player names for warnings (default ``"player 0"``, ...).
    tol : float
        A subset has converged when the Newton decrement gᵀN⁻¹g, about twice the
        log-likelihood still to gain, is at most ``tol · max(1, |ℓ_0|)``.
    max_iter : int
        Iteration limit of the fast pass. Subsets that fail it are refitted with a line
        search (up to ``max(max_iter, 100)`` iterations).
    start : GLMSubsetFits, optional
        Fits of the same problem on other weights, for example the full sample when
        fitting bootstrap replicates. Each subset then starts from its own earlier
        estimates instead of its parent's.
    block : int, optional
        Subsets per batch. The default keeps one (subsets × n) work array near 2 MB.
    quiet : bool
        Do not warn about separation or non-convergence (``converged`` still says which
        subsets did not converge); used for bootstrap replicates, which are checked and
        counted instead.
    progress : callable, optional
        Called with the number of subset models fitted after every batch (a progress bar's
        ``update``).
    threads : int, optional
        Threads over the batches of one model size (numpy releases the GIL in its loops).
        Default: the usable cores (at most 4), or 1 when called from a worker thread (e.g.
        inside a bootstrap pool). The results do not depend on it.

    Returns
    -------
    GLMSubsetFits
        ``v`` (length 2^p, indexed by bitmask ``m = Σ_{j∈S} 2^j``, ``v[0] = 0``),
        ``loglike``, ``loglike_null``, ``r2_full``, ``r2_always``, ``coef``, ``thetas``,
        ``converged``.

    Warns
    -----
    ConvergenceWarning
        If some subset models do not converge, or predict some respondents perfectly
        (|linear predictor| > 33, i.e. fitted probabilities of 0 or 1: (quasi-)complete
        separation). The warning names the drivers of one such subset. Their fit index is
        taken at the highest likelihood reached; it is finite, never NaN.

    Notes
    -----
    Subsets are processed in order of their number of design columns, in batches; the
    batches of one size run on ``threads`` threads (each writes its own rows, so the
    results do not depend on the thread count). All subsets of a batch share each Newton
    iteration, and the heavy products are dense matrix products over the batch.

    Each subset starts from its parent's estimates (the subset without its highest
    player), with zeros for the new columns, so most converge in 3–4 iterations.
    Siblings start from the same linear predictor, so their first iteration is computed
    once per parent. Converged subsets leave the batch.

    Logit (:class:`~driverkit.importance._glm_logit.FastLogit`): a batch's arrays are
    restricted to its subsets' columns; the iterations that only approach the optimum run
    in float32 on centred, scaled columns, and each subset ends with one float64 pass that
    tests convergence with the float64 score and gives ℓ (one ``exp`` per row, one ``log``
    per 16 rows). The dummies of one factor player are a block: a per-level constant in
    η, segment sums in the score and information, and a diagonal eliminated by a Schur
    complement, so a 50-level factor costs about one more column. Subsets that this pass
    does not settle, or that approach separation (|η| > 30), are refitted by the plain
    float64 engine: its pass without a line search, then with step halving, which
    converges for these concave likelihoods unless the data are separated. A fit ending
    below its parent's or the null likelihood is refitted the same way. For the ordered
    logit, rows are sorted by category, so the cut-point terms are sums over contiguous
    slices. Newton runs on the cut points themselves, and a step is shortened whenever it
    would break their order.

    Dominance analysis with these indices: Azen & Traxel (2009). Fit indices: McFadden
    (1974), Cox & Snell (1989), Nagelkerke (1991), Estrella (1998). The ordered-logit
    likelihood is concave in (β, θ) (Pratt 1981).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 3))
    >>> y = (rng.random(300) < 1 / (1 + np.exp(-X @ [1.0, 0.5, 0.0]))).astype(float)
    >>> fits = glm_subset_values(X, y)
    >>> fits.v.shape, float(fits.v[0]), bool(fits.v[0b011] > fits.v[0b001] > 0)
    ((8,), 0.0, True)
    >>> round(float(fits.v[-1] - fits.r2_full), 12)
    0.0
    """
    check_option(kind, "kind", ["logit", "ordinal"], "importance")
    check_option(fit_index, "fit_index", list(FIT_INDICES), "importance")
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise DriverkitError(f"X must be (n, k) and y (n,); got {X.shape} and {y.shape}.")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise DriverkitError("X and y must be finite (drop or impute missing values first).")
    n, k = X.shape
    players_l, always_l = _players(k, players, always)
    p = len(players_l)
    if p > MAX_PLAYERS:
        raise DriverkitError(
            f"Exact GLM importance over {p} players needs 2^{p} model fits; use at most "
            f"{MAX_PLAYERS} players (group drivers into journey stages with groups=...).")
    names_l = [f"player {j}" for j in range(p)] if names is None else [str(s) for s in names]
    if len(names_l) != p:
        raise DriverkitError(f"names has {len(names_l)} entries for {p} players.")
    v_w, n_idx = _likelihood_weights(w, n, weight_type)
    if kind == "logit" and not np.all((y == 0) | (y == 1)):
        raise DriverkitError("A binary (logit) outcome must be coded 0/1.")
    X, y, v_w = compress_rows(X, y, v_w)
    n = X.shape[0]
    batch_size = block
    if block is None:
        block = row_block(n)
    engine: _Logit | _Ordinal
    fast: FastLogit | None = None
    if kind == "ordinal":
        if np.any(y != np.round(y)) or y.min() < 0:
            raise DriverkitError("An ordinal outcome must be coded 0..K−1 (integers).")
        codes = y.astype(np.intp)
        K_cat = int(codes.max()) + 1 if n_categories is None else int(n_categories)
        if codes.max() >= K_cat:
            raise DriverkitError(f"Outcome code {codes.max()} is outside 0..{K_cat - 1} "
                                 f"(n_categories={K_cat}).")
        counts = np.bincount(codes, weights=v_w, minlength=K_cat)
        present = np.flatnonzero(counts > 0)
        if present.size < 2:
            raise DriverkitError("An ordinal outcome needs at least two categories present.")
        codes = np.searchsorted(present, codes)  # drop empty categories
        counts = counts[present]
        props = counts / counts.sum()
        ll0 = float(np.sum(counts * np.log(props)))
        J = present.size - 1
        theta0 = special.logit(np.cumsum(props)[:-1])
        design = X
        cols_of = players_l
        base = always_l
        engine = _Ordinal(design, codes, v_w, J, block)
        width = k
        intercept0 = 0.0
    else:
        if not np.all((y == 0) | (y == 1)):
            raise DriverkitError("A binary (logit) outcome must be coded 0/1.")
        ybar = float(v_w @ y / v_w.sum())
        if not 0 < ybar < 1:
            raise DriverkitError("The binary outcome must take both values (with positive "
                                 "weight).")
        ll0 = float(v_w.sum() * (ybar * np.log(ybar) + (1 - ybar) * np.log1p(-ybar)))
        J = 0
        theta0 = np.zeros(0)
        design = np.column_stack([np.ones(n), X])
        cols_of = [[c + 1 for c in pl] for pl in players_l]
        base = [0] + [c + 1 for c in always_l]
        engine = _Logit(design, y, v_w, block)  # refits; pair products built if needed
        if _FAST_LOGIT:
            fast = FastLogit(design, y, v_w, block=factor_block(design, cols_of))
        width = k + 1
        intercept0 = float(special.logit(ybar))

    n_masks = 1 << p
    masks = np.arange(n_masks, dtype=np.int64)
    member, parents = subset_layout(width, cols_of, base)
    sizes = member.sum(axis=1)
    if fast is not None:  # within a size: batches over few distinct columns, siblings close
        with_block = member[:, fast.blk[0]] if fast.L else np.zeros(n_masks, dtype=bool)
        order = np.lexsort((_bit_reversed(p), with_block, sizes))
    else:
        order = np.lexsort((masks, parents, sizes))  # by size; siblings next to each other

    coef = np.zeros((n_masks, width))
    thetas = np.zeros((n_masks, J))
    ll = np.empty(n_masks)
    conv = np.ones(n_masks, dtype=bool)
    extreme = np.zeros(n_masks)
    if not always_l:  # the baseline is the null model: closed form
        order = order[order != 0]
        ll[0] = ll0
        thetas[0] = theta0
        if kind == "logit":
            coef[0, 0] = intercept0
    prior = start if (start is not None and start.coef is not None
                      and start.coef.shape == coef.shape
                      and (J == 0 or (start.thetas is not None
                                      and start.thetas.shape == thetas.shape))) else None
    eps = tol * max(1.0, abs(ll0))

    def fit_batch(batch: np.ndarray) -> int:
        """Fit one batch of equal-size subsets; results go to the rows ``batch``."""
        m_cols = int(sizes[batch[0]])
        cols = np.nonzero(member[batch])[1].reshape(batch.size, m_cols)
        if prior is not None:
            assert prior.coef is not None
            b0 = prior.coef[batch]
            t0 = prior.thetas[batch] if J and prior.thetas is not None else thetas[batch]
        else:
            b0 = coef[parents[batch]]
            t0 = thetas[parents[batch]]
            if batch[0] == 0:  # the always-only model starts from the null model
                b0 = b0.copy()
                b0[0] = 0.0
                if kind == "logit":
                    b0[0, 0] = intercept0
                t0 = t0.copy()
                t0[0] = theta0
        b0 = b0 * member[batch]  # zero outside the subset
        shared = parents[batch] if prior is None else None
        # A model nests the null model and its parent, so its maximum cannot be lower.
        floor = np.full(batch.size, ll0)
        if prior is None:
            has_parent = batch != 0
            floor[has_parent] = np.maximum(ll0, ll[parents[batch[has_parent]]])
        beta, th, lls, ok, ext, it = _newton_batch(engine, fast, cols, b0, t0, eps, max_iter,
                                                   shared, floor)
        coef[batch], thetas[batch], ll[batch], conv[batch] = beta, th, lls, ok
        extreme[batch] = ext
        return it

    levels = size_levels(order, sizes)
    n_threads = _glm_threads(threads) if getattr(fast or engine, "thread_safe", False) else 1
    if batch_size is None and fast is not None:  # its Python work per batch is larger
        batch_size = int(np.clip(_FAST_BATCH_BYTES // (8 * n), 128, 1024))
    elif batch_size is None and kind == "ordinal":  # likewise (its work arrays: n × batch)
        batch_size = int(np.clip(_FAST_BATCH_BYTES // (8 * n), 16, 1024))
    iters = _run_levels(levels, batch_size or block, fit_batch, n_threads, progress)
    if not np.all(np.isfinite(ll)):
        bad_mask = int(np.flatnonzero(~np.isfinite(ll))[0])
        raise DriverkitError(
            "The fit of the model with "
            f"{_describe(bad_mask, names_l, bool(always_l))} failed (non-finite "
            "log-likelihood); check the drivers for extreme values.")
    separated = extreme > _SEPARATION_ETA
    if quiet:
        pass
    elif not conv.all():
        bad = np.flatnonzero(~conv)
        warn(f"{bad.size} of {n_masks} subset models did not converge, probably because of "
             "(quasi-)complete separation; e.g. the model with "
             f"{_describe(int(bad[0]), names_l, bool(always_l))}. Their fit index is taken at "
             "the highest likelihood reached.", ConvergenceWarning)
    elif separated.any():
        bad = np.flatnonzero(separated)
        warn(f"{bad.size} of {n_masks} subset models predict some respondents perfectly "
             "(fitted probabilities of 0 or 1, i.e. (quasi-)complete separation); e.g. the "
             f"model with {_describe(int(bad[0]), names_l, bool(always_l))}. Their "
             "coefficients are not finite; the fit index is the limit the likelihood "
             "approaches.", ConvergenceWarning)
    idx_all = np.asarray(fit_index_value(ll, ll0, n_idx, fit_index))
    idx_base = float(idx_all[0]) if always_l else 0.0
    v = idx_all - idx_base
    v[0] = 0.0
    return GLMSubsetFits(v=v, loglike=ll, loglike_null=ll0, r2_full=float(idx_all[-1]),
                         r2_always=idx_base, fit_index=fit_index, n=n_idx, iterations=iters,
                         coef=coef, thetas=thetas if kind == "ordinal" else None,
                         converged=conv, kind=kind)


def glm_mask_values(X: np.ndarray, y: np.ndarray, masks: np.ndarray,
                    w: np.ndarray | None = None, **kwargs: Any) -> np.ndarray:
    """Fit index (relative to the always-only model) of the subset models ``masks`` only.

    The same fits as :func:`glm_subset_values`, for a chosen set of bitmasks (e.g. the
    subsets along sampled entry orders when 2^p fits are too many). Each model starts from
    the null model; models of equal size share each Newton iteration, and the ones the fast
    pass does not settle are refitted with step halving. Mask 0 is the always-only model.

    Keyword arguments as for :func:`glm_mask_fitter`.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 3))
    >>> y = (rng.random(300) < 1 / (1 + np.exp(-X @ [1.0, 0.5, 0.0]))).astype(float)
    >>> some = np.array([0b011, 0b100, 0b111])
    >>> v = glm_mask_values(X, y, some)
    >>> bool(np.allclose(v, glm_subset_values(X, y).v[some], atol=1e-9))
    True
    """
    return np.asarray(glm_mask_fitter(X, y, w, **kwargs)(masks))


def glm_mask_fitter(X: np.ndarray, y: np.ndarray, w: np.ndarray | None = None, *,
                    kind: str = "logit", fit_index: str = "mcfadden",
                    players: Sequence[Sequence[int]] | None = None,
                    always: Sequence[int] | None = None, n_categories: int | None = None,
                    weight_type: str = "sampling", tol: float = 1e-10,
                    max_iter: int = 50) -> Any:
    """A function ``masks -> values`` fitting chosen subset models (see
    :func:`glm_mask_values`); the engine's cross-products are formed once."""
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    n, k = X.shape
    players_l, always_l = _players(k, players, always)
    p = len(players_l)
    v_w, n_idx = _likelihood_weights(w, n, weight_type)
    block = row_block(n)
    engine: _Logit | _Ordinal
    fast: FastLogit | None = None
    if kind == "ordinal":
        codes = y.astype(np.intp)
        K_cat = int(codes.max()) + 1 if n_categories is None else int(n_categories)
        counts = np.bincount(codes, weights=v_w, minlength=K_cat)
        present = np.flatnonzero(counts > 0)
        codes = np.searchsorted(present, codes)
        props = counts[present] / counts[present].sum()
        ll0 = float(np.sum(counts[present] * np.log(props)))
        J = present.size - 1
        theta0 = special.logit(np.cumsum(props)[:-1])
        engine = _Ordinal(X, codes, v_w, J, block)
        cols_of, base, width, intercept0 = players_l, always_l, k, 0.0
    else:
        ybar = float(v_w @ y / v_w.sum())
        ll0 = float(v_w.sum() * (ybar * np.log(ybar) + (1 - ybar) * np.log1p(-ybar)))
        J = 0
        theta0 = np.zeros(0)
        design = np.column_stack([np.ones(n), X])
        engine = _Logit(design, y, v_w, block)
        cols_of = [[c + 1 for c in pl] for pl in players_l]
        base = [0] + [c + 1 for c in always_l]
        width, intercept0 = k + 1, float(special.logit(ybar))
        if _FAST_LOGIT:
            fast = FastLogit(design, y, v_w, block=factor_block(design, cols_of))
    eps = tol * max(1.0, abs(ll0))
    base_ll: list[float] = []

    def fit(masks: np.ndarray) -> np.ndarray:
        masks = np.asarray(masks, dtype=np.int64)
        fit_masks = np.unique(np.concatenate([masks, [0]]) if always_l and not base_ll
                              else masks)  # sorted, for the look-up below
        return _fit_masks(fit_masks, masks)

    def _fit_masks(fit_masks: np.ndarray, masks: np.ndarray) -> np.ndarray:
        bits = ((fit_masks[:, None] >> np.arange(p)) & 1).astype(bool)
        member = np.zeros((fit_masks.size, width), dtype=bool)
        member[:, base] = True
        for j, player_cols in enumerate(cols_of):
            member[:, player_cols] |= bits[:, j : j + 1]
        sizes = member.sum(axis=1)
        ll = np.full(fit_masks.size, ll0)
        for size in np.unique(sizes):
            if size == 0:
                continue
            level = np.flatnonzero(sizes == size)
            if kind == "logit" and not always_l:
                level = level[fit_masks[level] != 0]
            for pos in range(0, level.size, block):
                batch = level[pos : pos + block]
                cols = np.nonzero(member[batch])[1].reshape(batch.size, int(size))
                b0 = np.zeros((batch.size, width))
                if kind == "logit":
                    b0[:, 0] = intercept0
                t0 = np.tile(theta0, (batch.size, 1))
                # every model nests the null model
                ll[batch] = _newton_batch(engine, fast, cols, b0, t0, eps, max_iter, None,
                                          np.full(batch.size, ll0))[2]
        idx = np.asarray(fit_index_value(ll, ll0, n_idx, fit_index))
        if always_l and not base_ll:
            base_ll.append(float(idx[0]))
        base_idx = base_ll[0] if always_l else 0.0
        out = idx[np.searchsorted(fit_masks, masks)] - base_idx
        out[masks == 0] = 0.0
        return out

    # cost of the exact all-subsets run per subset relative to these cold fits (warm
    # starts, shared first iterations, larger batches), for the pilot's time estimate:
    # measured 0.15-0.25 (logit, fast engine) at p = 12-15; with the ordinal fast engine
    # the old 0.5 over-estimated ordinal p = 13 three-fold and 0.3 under-estimated logit
    # p = 14 by 16 % (whole call, 2026-11-30), so 0.35 / 0.3, rounded up so that estimates
    # err on the long side; divided by the speed-up of the thread pool (taken as 0.75 per
    # extra thread)
    ratio = 0.35 if fast is not None else 0.3
    workers = _glm_threads(None) if getattr(fast or engine, "thread_safe", False) else 1
    fit.exact_per_pilot = ratio / (1.0 + 0.75 * (workers - 1))  # type: ignore[attr-defined]
    return fit


def _describe(mask: int, names: list[str], has_always: bool) -> str:
    drivers = [names[j] for j in range(len(names)) if mask >> j & 1]
    text = "drivers " + ", ".join(drivers) if drivers else "no drivers"
    return text + (" (plus the always-in covariates)" if has_always else "")


# ======================================================================================
# logistic relative weights
# ======================================================================================
def logistic_relative_weights(X: np.ndarray, y: np.ndarray, w: np.ndarray | None = None, *,
                              players: Sequence[Sequence[int]] | None = None,
                              weight_type: str = "sampling", tol: float = 1e-12
                              ) -> tuple[np.ndarray, float]:
    """Relative weights for a binary logit (Tonidandel & LeBreton 2010).

    Parameters
    ----------
    X : ndarray (n, k)
        Design columns (no intercept), non-singular.
    y : ndarray (n,)
        0/1 outcome.
    w : ndarray (n,), optional
        Sampling (default) or frequency weights. All moments and the logit are weighted.
    players : list of lists of int, optional
        Columns of each player; a player's weight is the sum over its columns (default: one
        player per column).
    weight_type : {"sampling", "frequency"}
    tol : float
        Newton tolerance of the logit on the orthogonal predictors.

    Returns
    -------
    weights : ndarray (n_players,)
        Raw relative weights. They are non-negative and sum to ``r2``.
    r2 : float
        R²_O = corr(y, p̂)², the squared correlation of the outcome with the fitted
        probabilities of the full logit. This is the pseudo-R² the weights decompose. It is
        *not* McFadden's index.

    Notes
    -----
    Johnson (2000) orthogonalises the standardised drivers: X_s = P Δ Qᵀ (with R = Q Λ Qᵀ the
    weighted correlation matrix) and Z = X_s Q Λ^{−1/2} Qᵀ, whose columns are orthonormal and
    as close as possible to X_s. Λ* = Q Λ^{1/2} Qᵀ then holds the correlations of X_s with
    Z. Tonidandel & LeBreton (2010) fit a logit of y on Z and standardise its coefficients
    fully, as Menard (2004) does: b*_k = b_k · s_{Z_k} · R_O / s_{logit p̂}, with R_O =
    corr(y, p̂). The relative weight of driver j is ε_j = Σ_k Λ*_{jk}² b*_k². Because Z is
    orthonormal, s²_{logit p̂} = Σ b_k², so Σ_j ε_j = Σ_k b*_k² = R_O² exactly.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> X = rng.normal(size=(400, 2)); X[:, 1] += 0.5 * X[:, 0]
    >>> y = (rng.random(400) < 1 / (1 + np.exp(-X @ [1.0, 0.3]))).astype(float)
    >>> wts, r2 = logistic_relative_weights(X, y)
    >>> bool(wts[0] > wts[1]), bool(abs(wts.sum() - r2) < 1e-12)
    (True, True)
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    n, k = X.shape
    if not np.all((y == 0) | (y == 1)):
        raise DriverkitError("Logistic relative weights need a 0/1 outcome.")
    v_w, _ = _likelihood_weights(w, n, weight_type)
    sw = v_w / v_w.sum()
    mu = sw @ X
    sd = np.sqrt(sw @ (X - mu) ** 2)
    flat = sd <= 1e-12 * np.maximum(1.0, np.abs(mu))
    if flat.any():
        j = int(np.flatnonzero(flat)[0])
        raise DriverkitError(f"Design column {j} is constant; relative weights need "
                             "varying drivers.")
    Xs = (X - mu) / sd
    R = (Xs * sw[:, None]).T @ Xs
    lam, Q = np.linalg.eigh(R)
    if lam.min() <= 1e-12 * lam.max():
        raise DriverkitError("The drivers are perfectly collinear; relative weights need a "
                             "non-singular correlation matrix.")
    Z = Xs @ (Q @ np.diag(lam**-0.5) @ Q.T)
    lam_star = Q @ np.diag(lam**0.5) @ Q.T
    Za = np.column_stack([np.ones(n), Z])
    engine = _Logit(Za, y, v_w, 1)
    b_init = np.zeros((1, k + 1))
    ybar = float(sw @ y)
    if not 0 < ybar < 1:
        raise DriverkitError("The binary outcome must take both values.")
    b_init[0, 0] = special.logit(ybar)
    cols = np.arange(k + 1)[None, :]
    eps = tol * n
    beta, _, _, conv, _, _ = engine.newton(cols, b_init, np.zeros((1, 0)), eps, 50,
                                           safe=False)
    if not conv[0]:
        beta, _, _, conv, _, _ = engine.newton(cols, b_init, np.zeros((1, 0)), eps, 200,
                                               safe=True)
    if not conv[0]:
        warn("The logit behind the relative weights did not converge (separation?); the "
             "weights use the last iterate.", ConvergenceWarning)
    b = beta[0, 1:]
    eta = Za @ beta[0]
    phat = special.expit(eta)
    yc, pc = y - sw @ y, phat - sw @ phat
    r = float(np.sum(sw * yc * pc) / np.sqrt(np.sum(sw * yc**2) * np.sum(sw * pc**2)))
    s_eta = float(np.sqrt(sw @ (eta - sw @ eta) ** 2))
    s_z = np.sqrt(sw @ (Z - sw @ Z) ** 2)
    b_star = b * s_z * r / s_eta
    eps_w = (lam_star**2) @ (b_star**2)
    groups = [[j] for j in range(k)] if players is None else [list(pl) for pl in players]
    weights = np.array([eps_w[g].sum() for g in groups])
    return weights, float(np.sum(b_star**2))
