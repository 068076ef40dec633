"""The public constructors of driver models: :func:`fit` and :func:`fixed_model`.

:func:`fit` estimates a model from respondent data, sufficient statistics or a file;
:func:`fixed_model` builds one from known coefficients (what-if work without data).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._validation import KINDS, check_option, suggest
from ..data._prepare import DesignSpec
from ..exceptions import DataError, DriverkitError, DriverkitTypeError
from ._fitting import FitOutput
from ._model import DriverModel

__all__ = ["fit", "fixed_model"]


def fit(
    data: Any,
    outcome: str,
    drivers: Sequence[str] | None = None,
    *,
    kind: str = "linear",
    weights: Any = None,
    covariates: Sequence[str] | None = None,
    scales: Mapping[str, Any] | None = None,
    missing: str = "listwise",
    na_values: Any = None,
    imputations: int = 20,
    seed: Any = None,
    **options: Any,
) -> DriverModel:
    """Fit a driver model (shorthand for ``DriverModel(...).fit(data)``).

    Parameters
    ----------
    data : pandas.DataFrame or SufficientStats
        Respondents, one row each (never modified).
    outcome : str
        Outcome column or a formula ``"repurchase ~ staff + price + C(region)"``.
    drivers : list of str, optional
        Driver columns (omit with a formula).
    kind : {"linear", "logit", "probit", "ordinal"}, default="linear"
    weights, covariates, scales, missing, na_values, imputations, seed
        See :class:`DriverModel`.
    **options
        ``robust``, ``positive``, ``weight_type``, ``ci``, ``vif_threshold``.

    Returns
    -------
    DriverModel

    Examples
    --------
    >>> import driverkit as dk
    >>> df = dk.make_survey(n=400, n_drivers=3, seed=2)
    >>> d = df.attrs["truth"]["drivers"]
    >>> m = dk.fit(df, "repurchase", d, kind="logit")
    >>> m.table.index[0]
    'Intercept'
    """
    return DriverModel(outcome, drivers, kind=kind, weights=weights, covariates=covariates,
                       scales=scales, missing=missing, na_values=na_values,
                       imputations=imputations, seed=seed, **options).fit(data)


def fixed_model(
    kind: str = "logit",
    *,
    intercept: float = 0.0,
    coef: Mapping[str, float],
    scales: Mapping[str, Sequence[float]] | None = None,
    cuts: Sequence[float] | None = None,
    outcome: str = "outcome",
    outcome_type: str = "rate",
) -> DriverModel:
    """A model with given coefficients and no sampling uncertainty.

    Use it for a client's existing model or in tests. Intervals from simulations on a fixed
    model equal the point estimate unless business inputs are distributions.

    Parameters
    ----------
    kind : {"linear", "logit", "probit", "ordinal"}, default="logit"
    intercept : float, default=0
        Ignored for ``"ordinal"`` (use ``cuts``).
    coef : dict
        ``{"driver": coefficient}`` on the rating scale.
    scales : dict, optional
        ``{"driver": (low, high)}`` rating bounds used to clip scenarios.
    cuts : list of float, optional
        Increasing cut points of an ordinal model.
    outcome : str, default="outcome"
    outcome_type : {"rate", "score"}, default="rate"
        ``"score"`` declares a linear model of a score (e.g. satisfaction 1–10): simulations
        then report ``delta_mean`` in scale points and no customers or money.

    Examples
    --------
    >>> import pandas as pd, driverkit as dk
    >>> m = dk.fixed_model("logit", intercept=-4.0, coef={"x1": 0.6, "x2": 0.3},
    ...                    scales={"x1": (1, 10), "x2": (1, 10)})
    >>> m.predict(pd.DataFrame({"x1": [3.0], "x2": [5.0]})).round(6).tolist()
    [0.331812]
    """
    check_option(kind, "kind", KINDS, "fixed_model")
    check_option(outcome_type, "outcome_type", ["rate", "score"], "fixed_model")
    if outcome_type == "score" and kind != "linear":
        raise DriverkitError(
            f"fixed_model(outcome_type='score') needs kind='linear'; a {kind} model predicts "
            "probabilities (a rate).")
    if not isinstance(coef, Mapping) or not coef:
        raise DriverkitTypeError("fixed_model() needs coef={'driver': value, ...}.")
    names = [str(c) for c in coef]
    values = np.array([float(coef[c]) for c in coef])
    if not np.isfinite(values).all() or not np.isfinite(intercept):
        raise DriverkitError("fixed_model(): coefficients and intercept must be finite.")
    sc: dict[str, tuple[float, float]] = {}
    for k_, v in (scales or {}).items():
        if k_ not in names:
            raise DataError(f"scales names '{k_}', which is not in coef.{suggest(k_, names)}")
        lo, hi = (float(b) for b in v)
        if not lo < hi:
            raise DataError(f"The scale of '{k_}' must satisfy low < high; got {v!r}.")
        sc[k_] = (lo, hi)
    if kind == "ordinal":
        if cuts is None or len(cuts) < 1:
            raise DriverkitError("An ordinal fixed_model needs cuts=[c1, c2, ...].")
        c = np.asarray(cuts, float)
        if np.any(np.diff(c) <= 0):
            raise DriverkitError(f"cuts must be strictly increasing; got {list(cuts)}.")
        params = np.concatenate([values, c])
        levels = [str(i) for i in range(c.size + 1)]
        pnames = [*names, *[f"cut[{levels[i]}|{levels[i + 1]}]" for i in range(c.size)]]
    else:
        params = np.concatenate([[float(intercept)], values])
        pnames = ["Intercept", *names]
    m = DriverModel(outcome, names, kind=kind)
    m._fixed = True
    m._outcome_type = outcome_type
    m._fixed_scales = sc
    m._spec = DesignSpec(columns=names, terms={c: [i] for i, c in enumerate(names)},
                         numeric=names, factors={}, order=names)
    P = params.size
    zeros = np.zeros(P)
    m._fit = FitOutput(
        params=params, cov=np.zeros((P, P)), names=pnames, std_error=zeros.copy(),
        ci_low=params.copy(), ci_high=params.copy(), p_value=np.full(P, np.nan),
        loglike=np.nan, loglike_null=np.nan, r2=np.nan, result=None, cov_type="fixed",
        df_resid=np.inf, nobs=0.0,
    )
    m._vif = np.full(len(names), np.nan)
    m._cond = np.nan
    return m
