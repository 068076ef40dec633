"""Model fits under the missing-data policies that are not "fit the complete rows".

* :func:`fit_pooled` pools the fits to multiply imputed data sets by Rubin's rules;
* :func:`fit_pairwise` fits a linear model from pairwise-complete covariances.

The policies themselves (which rows, which fills, the imputations) live in the data layer
(:mod:`driverkit.data._missing`); this module only turns their output into a fit.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import warn
from ..data import DriverData
from ..data._missing import pool_rubin, t_interval
from ..exceptions import MissingDataWarning
from ._fitting import FitOutput

__all__ = ["fit_pairwise", "fit_pooled", "pairwise_covariance", "pairwise_sufficient"]


def fit_pooled(fits: list[FitOutput], *, ci: float = 0.95, linear: bool = False) -> FitOutput:
    """One fit from the fits to ``m`` imputed data sets (Rubin 1987).

    Estimates are averaged; the covariance is T = Ū + (1 + 1/m)B; intervals and p-values
    use Barnard & Rubin's (1999) degrees of freedom (complete-data df: the residual df of a
    linear model, infinite for likelihood fits, whose complete-data inference is normal).
    R² and log-likelihoods are averages over the imputed sets. ``extra`` holds ``fmi``
    (fraction of missing information), ``df`` and ``riv`` per parameter.
    """
    first = fits[0]
    df_com = float(first.df_resid) if linear else np.inf
    P = np.stack([f.params for f in fits])
    C = np.stack([f.cov for f in fits])
    pooled = pool_rubin(P, C, df_com)
    lo, hi, pv = t_interval(pooled["params"], pooled["std_error"], pooled["df"], ci)
    internal = internal_cov = None
    if first.internal_params is not None and first.internal_cov is not None:
        pi = pool_rubin(np.stack([np.asarray(f.internal_params) for f in fits]),
                        np.stack([np.asarray(f.internal_cov) for f in fits]), df_com)
        internal, internal_cov = pi["params"], pi["cov"]
    m = len(fits)
    return FitOutput(
        params=pooled["params"], cov=pooled["cov"], names=list(first.names),
        std_error=pooled["std_error"], ci_low=lo, ci_high=hi, p_value=pv,
        loglike=float(np.mean([f.loglike for f in fits])),
        loglike_null=float(np.mean([f.loglike_null for f in fits])),
        r2=float(np.mean([f.r2 for f in fits])), result=first.result,
        cov_type=f"{first.cov_type}, pooled over {m} imputations (Rubin)",
        df_resid=first.df_resid, nobs=first.nobs, internal_params=internal,
        internal_cov=internal_cov,
        extra={"fmi": pooled["fmi"], "df": pooled["df"], "riv": pooled["riv"],
               "imputations": m, "fits": fits},
    )


def _pairwise(Z: np.ndarray, names: list[str], w: np.ndarray, weight_type: str
              ) -> tuple[Any, dict[str, Any]]:
    from ..stats import PairwiseStats

    weighted = weight_type != "none"
    ps = PairwiseStats.from_arrays(Z, names, w if weighted else None, weight_type=weight_type)
    st, info = ps.to_sufficient()
    a, b = info["n_min_pair"]
    notes = [f"Pairwise deletion: inference uses the smallest pairwise n = {info['n_min']} "
             f"('{a}' with '{b}')."]
    if info["repaired"]:
        msg = ("The pairwise covariance matrix was not positive definite; it was replaced by "
               "the nearest correlation matrix (Higham 2002), changing a correlation by up "
               f"to {info['max_change']:.3g}.")
        warn(msg + " Consider missing='impute'.", MissingDataWarning)
        notes.append(msg)
    info["notes"] = notes
    info["stats"] = ps
    return st, info


def pairwise_sufficient(dd: DriverData) -> tuple[Any, dict[str, Any]]:
    """SufficientStats of ``[design, outcome]`` from pairwise-complete covariances.

    Warns (:class:`~driverkit.MissingDataWarning`) when the matrix had to be repaired to the
    nearest correlation matrix (Higham 2002). Returns the statistics and their facts.
    """
    names = [*dd.columns, str(dd.outcome)]
    return _pairwise(np.column_stack([dd.X, np.asarray(dd.y)]), names, dd.w, dd.weight_type)


def pairwise_covariance(Z: np.ndarray, w: np.ndarray, names: list[str], weight_type: str
                        ) -> tuple[np.ndarray, float, list[str]]:
    """(covariance with divisor Σw, smallest pairwise n, notes) of ``Z`` with NaN."""
    st, info = _pairwise(Z, names, w, weight_type)
    return st.covariance(ddof=0).to_numpy(), float(info["n_min"]), info["notes"]


def fit_pairwise(dd: DriverData, *, robust: Any = None, ci: float = 0.95
                 ) -> tuple[FitOutput, dict[str, Any]]:
    """A linear model from pairwise-complete weighted covariances.

    Coefficients solve the normal equations of the pairwise covariance matrix; the intercept
    uses each variable's mean over its own answers; standard errors are classical, with the
    smallest pairwise n as the sample size (conservative).
    """
    from ._stats_fit import fit_linear_from_stats

    st, info = pairwise_sufficient(dd)
    out, meta = fit_linear_from_stats(st, str(dd.outcome), list(dd.columns), robust=robust,
                                      ci=ci)
    out.cov_type = "nonrobust (pairwise)"
    info.update(meta)
    return out, info
