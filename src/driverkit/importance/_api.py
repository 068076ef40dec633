"""``dk.importance()``: relative importance of drivers, with groups, covariates and bootstrap.

The front-end resolves the input (respondent data, a labelled correlation/covariance matrix or
:class:`~driverkit.stats.SufficientStats`) into one covariance matrix of the player columns,
the always-in covariates and the outcome; partials the covariates out (Schur complement); and
hands the residual correlation matrix to the exact subset kernel
(:mod:`driverkit.stats._subsets`) and the shared Shapley/dominance functions
(:mod:`driverkit.importance._shapley`), to permutation sampling above ``exact_max`` players,
or to the closed-form metrics (:mod:`driverkit.importance._linear`). Binary and ordinal
outcomes use batched GLM subset fits (:mod:`driverkit.importance._glm`).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._validation import (
    check_fraction,
    check_int,
    check_kind,
    check_missing,
    check_option,
    check_positive,
    check_progress,
    check_random_state,
    renamed,
)
from ..exceptions import DriverkitError, DriverkitTypeError
from ..stats._subsets import (
    partial_correlation,
    single_threaded_blas,
    subset_values_batch,
    usable_cores,
)
from . import _bootstrap as bs
from ._engine_glm import _glm_importance, _glm_values
from ._engine_linear import _linear_importance
from ._problem import (
    _FUNC,
    CI_METHODS,
    FIT_INDICES,
    KINDS,
    METHODS,
    _as_names,
    _check_groups,
    _from_data,
    _from_matrix,
    _is_stats,
    _Options,
    _Problem,
)
from ._result import ImportanceResult, _table

__all__ = ["ImportanceResult", "SubsetValues", "importance", "subset_values"]

# Names importable from this module before it was split into _result, _problem and the
# engines; kept for code that imports them from here.
from ._problem import ALL_METHODS, GLM_METHODS  # noqa: F401
from ._result import share_interval  # noqa: F401


# --------------------------------------------------------------------------------------
# public function
# --------------------------------------------------------------------------------------
def importance(data: Any = None, outcome: str | None = None, drivers: Sequence[str] | None = None,
               *, method: str = "shapley", kind: str = "linear", weights: Any = None,
               groups: Mapping[str, Sequence[str]] | None = None,
               covariates: Sequence[str] | str | None = None, fit_index: str = "mcfadden",
               corr: pd.DataFrame | None = None, n: float | None = None, bootstrap: int = 0,
               ci: float = 0.95, seed: Any = None, missing: str = "listwise",
               strata: Any = None, ci_method: str = "percentile", exact_max: int = 25,
               tolerance: float = 0.001, max_time: float = 60.0,
               max_permutations: int = 200_000, progress: bool | None = None,
               weight_type: str = "sampling", positive: Any = None,
               client: Any = None, na_values: Any = None,
               imputations: int = 20, n_jobs: int | None = None,
               event: Any = None, always: Sequence[str] | str | None = None
               ) -> ImportanceResult:
    """Relative importance of drivers: Shapley/LMG, dominance, relative weights and more.

    Parameters
    ----------
    data : pandas.DataFrame or SufficientStats, optional
        One row per respondent, or sufficient statistics (linear only). Not modified.
    outcome : str
        Outcome column, or a formula ``"y ~ a + b + C(region)"``.
    drivers : list of str, optional
        Driver columns. ``None`` is allowed with a formula, with ``corr=`` (all other
        variables) and with ``groups=`` (their members).
    method : {"shapley", "dominance", "relative_weights", "pratt", "first", "last", \
"betasq", "car", "all"}, default="shapley"
        ``"shapley"`` = LMG = general dominance. ``"all"`` computes every method.
    kind : {"linear", "logit", "ordinal"}, default="linear"
        Binary and ordinal outcomes decompose a pseudo-R² (``fit_index``).
    weights : str or array-like, optional
        Survey (sampling) weights: a column name or one value per row.
    groups : dict, optional
        ``{"Checkout": ["pay", "queue"]}``: each group is one player; drivers in no group stay
        single players; a factor's dummies are always one player.
    covariates : list of str, optional
        Control variables kept in every model (as in :func:`driverkit.fit`); only
        ``r2 - r2_always`` is decomposed.

        .. versionchanged:: 0.2
           Renamed from ``always=``, which still works for one release with a
           :class:`DeprecationWarning`.
    fit_index : {"mcfadden", "nagelkerke", "cox_snell", "estrella"}, default="mcfadden"
        Pseudo-R² for ``kind="logit"``/``"ordinal"``.
    corr : pandas.DataFrame, optional
        A labelled correlation or covariance matrix instead of ``data``.
    n : float, optional
        Sample size behind ``corr`` (needed for a bootstrap from a matrix).
    bootstrap : int, default=0
        Number of bootstrap replicates (respondents resampled; parametric Wishart draws for
        matrix input).
    ci : float, default=0.95
        Confidence level of the intervals.
    seed : int or numpy Generator, optional
        Makes bootstrap and sampling reproducible.
    missing : {"listwise", "pairwise", "mean", "dummy", "impute", "raise"}, default="listwise"
        Skipped answers (see :func:`driverkit.fit`). ``"pairwise"`` (linear only): the
        importances of the pairwise-complete covariance matrix (repaired to the nearest
        correlation matrix if needed), with bootstrap replicates recomputing the pairwise
        covariances. ``"impute"``: importances averaged over the imputed data sets; with
        ``bootstrap=B`` each set is bootstrapped ``ceil(B / imputations)`` times and the
        intervals are percentiles of the pooled replicates (Schomaker & Heumann 2018).
        ``"dummy"``: the "not answered" indicators are always-in covariates.
    na_values : list or dict, optional
        Codes meaning "no answer", made missing first.
    imputations : int, default=20
        Imputed data sets for ``missing="impute"``.
    strata : str or array-like, optional
        Resample within these groups (a column name or one value per row).
    ci_method : {"percentile", "bca"}, default="percentile"
    exact_max : int, default=25
        Largest number of players computed exactly; above it Shapley values are estimated by
        permutation sampling with a Monte Carlo standard error.
    tolerance : float, default=0.001
        Sampling stops when every Monte Carlo standard error is at most this (R² units) ...
    max_time : float, default=60
        ... or after this many seconds ...
    max_permutations : int, default=200000
        ... or after this many sampled orders (the reason is reported).
    progress : bool, optional
        Show progress bars (default: only for long jobs).
    weight_type : {"sampling", "frequency"}, default="sampling"
    positive : optional
        The event value of a binary outcome given as text (``event=`` is an alias).
    client : distributed.Client or "dask", optional
        Run the bootstrap replicates of binary/ordinal importance (one batched refit of
        every subset per replicate) as Dask tasks on this client (``"dask"``: the active
        client or Dask's default scheduler). The replicates are drawn in the same order,
        so the result equals the local run.
    n_jobs : int, optional
        Threads for the bootstrap replicates of binary/ordinal importance (default: up to
        2, the cores of a small machine). The replicates are drawn before they are shared
        out, so the result does not depend on ``n_jobs``.

    Returns
    -------
    ImportanceResult

    Notes
    -----
    Shapley/LMG (Lindeman, Merenda & Gold 1980; Grömping 2006):
    φ_j = Σ_{S ⊆ P∖{j}} |S|!(p−|S|−1)!/p! · [v(S∪{j}) − v(S)], with v(S) the R² of the drivers
    in S (after the always-in covariates). All 2^p values come from one sweep recursion over
    the covariance matrix (O(2^p) rank-one updates, no per-subset regression), so p = 20
    takes a fraction of a second. Dominance (Budescu 1993; Azen & Budescu 2003): conditional
    dominance = mean gain at each model size, general dominance = their mean (= Shapley),
    complete dominance = share of same-subset comparisons won. Relative weights: Johnson
    (2000); for logit Tonidandel & LeBreton (2010). pratt, first, last, betasq and car follow
    R's relaimpo. Bootstrap intervals: Efron & Tibshirani (1993).

    Examples
    --------
    >>> import pandas as pd
    >>> import driverkit as dk
    >>> corr = pd.DataFrame(
    ...     [[1.0, 0.6, 0.3, 0.4, 0.5], [0.6, 1.0, 0.8, 0.1, 0.3], [0.3, 0.8, 1.0, 0.1, 0.1],
    ...      [0.4, 0.1, 0.1, 1.0, 0.5], [0.5, 0.3, 0.1, 0.5, 1.0]],
    ...     index=["y", "x1", "x2", "x3", "x4"], columns=["y", "x1", "x2", "x3", "x4"])
    >>> res = dk.importance(corr=corr, outcome="y")
    >>> res.table["importance"].round(4).tolist()
    [0.2922, 0.0759, 0.0949, 0.1214]
    >>> round(res.r2, 4)
    0.5844
    """
    check_option(method, "method", METHODS, _FUNC)
    check_kind(kind, _FUNC, KINDS)
    check_option(fit_index, "fit_index", FIT_INDICES, _FUNC)
    check_option(ci_method, "ci_method", CI_METHODS, _FUNC)
    ci = check_fraction(ci, "ci", _FUNC)
    B = bs.check_bootstrap(bootstrap)
    exact_max = check_int(exact_max, "exact_max", _FUNC, low=1)
    max_permutations = check_int(max_permutations, "max_permutations", _FUNC, low=2)
    check_positive(tolerance, "tolerance", _FUNC)
    check_positive(max_time, "max_time", _FUNC)
    rng = check_random_state(seed)
    progress = check_progress(progress, _FUNC)
    if n_jobs is None:
        n_jobs = usable_cores(2)
    n_jobs = int(check_int(n_jobs, "n_jobs", _FUNC, low=1))
    opts = _Options(exact_max, float(tolerance), float(max_time), max_permutations, progress,
                    rng, client, n_jobs)
    always_l = _as_names(renamed(covariates, always, "covariates", "always", _FUNC),
                         "covariates")
    groups_d = _check_groups(groups, always_l)

    # ---- resolve the input -------------------------------------------------------------
    if event is not None:
        if positive is not None and positive != event:
            raise DriverkitError(f"positive={positive!r} and event={event!r} disagree; they "
                                 "name the same thing (the value modelled as 1).")
        positive = event
    if corr is not None and data is not None:
        raise DriverkitError("Give either data= or corr=, not both.")
    if corr is None and data is None:
        raise DriverkitError("importance() needs data= (respondents or SufficientStats) or corr=.")
    if corr is not None or _is_stats(data):
        if kind != "linear":
            raise DriverkitError(
                f"kind='{kind}' needs respondent-level data; a correlation matrix or "
                "sufficient statistics only support linear importance."
            )
        if weights is not None:
            if corr is not None:
                raise DriverkitError("weights= cannot be used with corr=; weight the matrix "
                                     "when you compute it.")
            raise DriverkitError(
                "importance() got weights= together with SufficientStats, which carry their "
                "weights from construction. Drop weights= here, or recompute the statistics "
                "with dk.sufficient_stats(source, columns, weights=...)."
            )
        if strata is not None:
            raise DriverkitError("strata= needs respondent-level data.")
        source = "matrix" if corr is not None else "stats"
        prob = _from_matrix(corr if corr is not None else data, outcome, drivers,
                            groups=groups_d, always=always_l, n=n, source=source)
    else:
        if not isinstance(data, pd.DataFrame):
            raise DriverkitTypeError(
                "data= must be a pandas DataFrame of respondents or SufficientStats; got "
                f"{type(data).__name__}."
            )
        if outcome is None:
            raise DriverkitError("importance() needs outcome= (a column name or a formula).")
        check_missing(missing, _FUNC, kind)
        prob = _from_data(data, outcome, drivers, kind=kind, weights=weights, groups=groups_d,
                          always=always_l, missing=missing, positive=positive,
                          weight_type=weight_type, strata=strata, na_values=na_values,
                          imputations=imputations,
                          seed=None if missing != "impute" else int(rng.integers(2**62)))
    p = len(prob.players)
    if p == 0:
        raise DriverkitError("importance() needs at least one driver.")

    if prob.imputed:
        from ._missing import pooled_importance

        def run_one(sub: _Problem, b: int) -> ImportanceResult:
            if kind == "linear":
                with single_threaded_blas():
                    return _linear_importance(sub, method, opts, b, ci, ci_method)
            with single_threaded_blas():
                return _glm_importance(sub, method, kind, fit_index, opts, b, ci, ci_method)

        return pooled_importance(prob, run_one, B, ci, ImportanceResult, _table)
    if kind == "linear":
        with single_threaded_blas():
            return _linear_importance(prob, method, opts, B, ci, ci_method)
    # GLM products are small and the engine runs its own threads: BLAS threads on top of
    # them contend (measured 12x slower at p = 14 on 2 cores), and a contended timed pilot
    # would send an exact run to sampling
    with single_threaded_blas():
        return _glm_importance(prob, method, kind, fit_index, opts, B, ci, ci_method)


@dataclass(frozen=True)
class SubsetValues:
    """Fit of every subset of players, relative to the always-in model (``v[0] = 0``).

    ``v`` is indexed by bitmask over ``players`` (bit j: player j in the model); ``r2`` is the
    full model's fit and ``r2_always`` that of the always-in covariates alone, so
    ``v[-1] = r2 − r2_always``. R² for linear models, the pseudo-R² ``fit_index`` for GLMs.
    """

    v: np.ndarray
    r2: float
    r2_always: float
    players: list[str]


def subset_values(data: pd.DataFrame, outcome: str, drivers: Sequence[str], *,
                  kind: str = "linear", weights: Any = None,
                  covariates: Sequence[str] | str | None = None, missing: str = "listwise",
                  positive: Any = None, weight_type: str = "sampling",
                  fit_index: str = "mcfadden") -> SubsetValues:
    """Point values of every subset of drivers from the importance engine.

    The same kernels as :func:`importance` (the sweep over the covariance matrix for linear
    models, the batched GLM subset fits otherwise), for callers that need the whole game
    (e.g. Owen values of journey stages). Each driver (a factor: all its dummies) is a player.

    Examples
    --------
    >>> import driverkit as dk
    >>> from driverkit.importance import subset_values
    >>> df = dk.make_survey(n=300, n_drivers=3, seed=4)
    >>> sv = subset_values(df, "satisfaction", df.attrs["truth"]["drivers"])
    >>> len(sv.v), bool(abs(sv.v[-1] - sv.r2) < 1e-12)
    (8, True)
    """
    check_kind(kind, "subset_values", KINDS)
    check_option(fit_index, "fit_index", FIT_INDICES, "subset_values")
    always_l = _as_names(covariates, "covariates")
    prob = _from_data(data, outcome, list(drivers), kind=kind, weights=weights, groups={},
                      always=always_l, missing=missing, positive=positive,
                      weight_type=weight_type, strata=None)
    if kind != "linear":
        v, r2, r2_always = _glm_values(prob, kind, fit_index)
        return SubsetValues(v, r2, r2_always, prob.player_names)
    R, r2, r2_always = partial_correlation(
        prob.C, prob.var_names, prob.m + prob.a, list(range(prob.m)),
        list(range(prob.m, prob.m + prob.a)), what="covariance matrix")
    with single_threaded_blas():
        v = subset_values_batch(R[None], prob.players)[:, 0] * (1.0 - r2_always)
    return SubsetValues(v, float(r2), float(r2_always), prob.player_names)
