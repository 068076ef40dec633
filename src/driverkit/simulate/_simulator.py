"""``dk.Simulator``: respondent-level what-if simulation in customers, revenue, profit and ROI."""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_columns, check_kwargs, check_option, warn
from ..exceptions import (
    DataError,
    DriverkitError,
    DriverkitTypeError,
    ExtrapolationWarning,
    SuppressorWarning,
)
from ..stats._subsets import single_threaded_blas
from ._checks import (
    _model_sign_flips,
    _outcome_name,
    _outcome_type,
    _suppressor_message,
    check_model_data,
)
from ._compile import CompileMixin
from ._engine import Kernel
from ._money import make_calibration
from ._numbers import NumbersMixin, _seed_sequence
from ._operators import Move, Operator
from ._result import PriorityResult, SensitivityResult, SimulationResult, priority_quadrants
from ._scenario import Scenario, as_scenarios
from ._setup import SetupMixin
from ._summaries import SummaryMixin
from ._uncertainty import UNCERTAINTY

__all__ = ["Simulator"]

OBJECTIVES = {"profit": "delta_profit", "revenue": "delta_revenue", "rate": "delta_rate",
              "customers": "delta_customers", "mean": "delta_rate"}



class Simulator(SetupMixin, CompileMixin, NumbersMixin, SummaryMixin):
    """What-if simulation of driver changes, respondent by respondent.

    Parameters
    ----------
    model : DriverModel
        A fitted model (``dk.fit``) or ``dk.fixed_model``; any object with the prediction
        kernel (``design``, ``predict_design``, ``draw_params``, ``params``, ``drivers``,
        ``scales``) works, e.g. a chain model.
    data : pandas.DataFrame
        The respondents whose ratings a scenario moves (never modified).
    customers : float or distribution, optional
        Number of customers N the respondents represent; default: the weighted number of
        respondents Σw.
    revenue_per_customer : float or distribution, optional
        Revenue per customer R̄: Δrevenue = N·R̄·Δrate.
    revenue : str, optional
        Column of revenue per respondent instead: Δrevenue = N·Σ w_i R_i Δp_i / Σ w_i.
    margin : float or distribution, default=1.0
        Profit margin as a fraction of revenue (0–1): Δprofit = margin·Δrevenue − cost.
    weights : str or array-like, optional
        Survey weights; default: the model's weight column when it is in ``data``.
    target : str, list or callable, optional
        What the simulated "rate" is. Binary models: P(outcome = 1); linear: the mean
        prediction. Ordinal models: ``"top"`` (default, P(top category)), ``"topk"`` (e.g.
        ``"top2"``), ``"bottom"``, ``"expected"`` (expected score, numeric levels), a list of
        levels (P(outcome in them)), or a callable mapping the category probabilities
        (…, n, K) to one value per respondent (e.g. NPS: P(9–10) − P(0–6)). For other kinds a
        callable maps the model's predictions to one value per respondent.
    calibration : float, str or callable, optional
        Map stated intention to observed behaviour, per respondent: a factor c (p ↦ min(cp, 1)),
        the name of a 0/1 column of observed behaviour (CRM) on which a logistic
        recalibration p ↦ expit(a + b·logit p) is fitted (rows with missing values ignored),
        or a callable.
    discount_rate : float, optional
        Per-period discount rate i; adds ``delta_clv`` and ``delta_equity`` (customer equity
        N·ΔCLV with retention = the repurchase rate, margin per period = margin·R̄).
    horizon : int, optional
        Periods of the CLV (default infinite).
    missing : {"listwise", "raise"}, default="listwise"
        Respondents with missing driver ratings (or weights): dropped with a
        :class:`~driverkit.MissingDataWarning` (``"listwise"``, as in :func:`~driverkit.fit`;
        ``"drop"`` is an alias), or an error. A revenue column with missing values is always
        an error: revenue is not imputed or silently dropped.
    extrapolation_threshold : float, default=0.05
        Warn (:class:`~driverkit.ExtrapolationWarning`) when more than this share of the
        respondents in scope is moved outside the observed range of a driver.
    link : str, optional
        For a score outcome (a linear model of e.g. satisfaction 1–10): the name of a 0/1
        column of observed behaviour (repurchase). A logistic regression of it on the
        predicted score, P = expit(a + b·score), turns the score into a rate, so the results
        carry ``delta_rate``, customers and money. Without it a score simulation reports
        ``baseline_mean, scenario_mean, delta_mean`` (scale points) and no customers or money.
    better : {"higher", "lower"}, optional
        Which direction of the outcome is good. ``"lower"`` for churn or complaints: money
        columns count the revenue kept by fewer events (Δrevenue = −N·R̄·Δrate) and the
        optimisers maximise the reduction. Default: the model's ``better`` (``"higher"``).
    rescale : dict, optional
        ``{driver: (low, high)}``: the scale of a driver in ``data`` when it differs from the
        model's (e.g. ``{"staff": (0, 100)}`` for a 1–10 model); ratings are mapped linearly
        onto the model's scale. Without it, data on another scale is an error.

    Attributes
    ----------
    drivers : list of str
        Numeric drivers a scenario may move.
    scales : dict
        ``{driver: (low, high)}`` used for clipping.
    n, customers, has_money

    Notes
    -----
    Every respondent is re-predicted and the predictions are averaged with the survey
    weights: Δrate = Σ w_i [F(η'_i) − F(η_i)] / Σ w_i — never F(η̄') − F(η̄), which ignores
    the non-linearity and the scale ceiling (Hanmer & Kalkan 2013). Ratings are clipped to
    the declared scale. Money: Δcustomers = N·Δrate; Δrevenue = N·R̄·Δrate (or the revenue
    column version); Δprofit = margin·Δrevenue − cost; ROI = Δprofit/cost for cost > 0.
    Intervals: see :meth:`run`.

    Examples
    --------
    >>> import pandas as pd, driverkit as dk
    >>> m = dk.fixed_model("logit", intercept=-4.0, coef={"x1": 0.6, "x2": 0.3},
    ...                    scales={"x1": (1, 10), "x2": (1, 10)})
    >>> df = pd.DataFrame({"x1": [3, 6, 8, 10], "x2": [5, 7, 8, 4]})
    >>> sim = dk.Simulator(m, df, customers=100_000, revenue_per_customer=500, margin=0.3)
    >>> res = sim.run(dk.Scenario("x1 +2", {"x1": dk.shift(2)}))
    >>> float(round(res.table.loc["x1 +2", "delta_rate"], 6))
    0.104999
    """

    def __init__(self, model: Any, data: pd.DataFrame, *, customers: Any = None,
                 revenue_per_customer: Any = None, revenue: str | None = None,
                 margin: Any = 1.0, weights: Any = None, target: Any = None,
                 calibration: Any = None, discount_rate: float | None = None,
                 horizon: int | None = None, missing: str = "listwise",
                 extrapolation_threshold: float = 0.05, link: str | None = None,
                 better: str | None = None, rescale: Mapping[str, Any] | None = None,
                 na_values: Any = None, imputations: int = 20, seed: Any = None,
                 **kwargs: Any) -> None:
        check_kwargs(kwargs, "Simulator")
        if missing != "drop":
            from .._validation import check_missing

            check_missing(missing, "Simulator")
        self._imputed: list[Simulator] = []
        if getattr(model, "is_pls", False):  # latent constructs: see _pls.py
            from ._pls import pls_adapter

            check_columns(data, [])
            if link is None and (revenue is not None or revenue_per_customer is not None):
                raise DriverkitError("Money from a PLS model needs link= (a 0/1 behaviour "
                                     "column) to turn the index into a rate.")
            model, data = pls_adapter(model, data, target=target, link=link, weights=weights)
            target = None
            link = None  # the adapter's model already predicts the linked behaviour
        for attr in ("design", "predict_design", "draw_params", "params", "drivers"):
            if not hasattr(model, attr):
                raise DriverkitTypeError(
                    f"Simulator() needs a driver model (dk.fit(...) or dk.fixed_model(...)); "
                    f"got {type(model).__name__}, which has no '{attr}'."
                )
        if getattr(model, "is_fitted", True) is False:
            raise DriverkitError("The model is not fitted yet; call .fit(data) first.")
        check_columns(data, [])
        if data.attrs:  # pandas deep-copies attrs on every column access (the demo's truth);
            data = data.copy(deep=False)  # the simulator needs none: a shallow copy without
            data.attrs = {}
        better = better if better is not None else getattr(model, "better", None) or "higher"
        check_option(better, "better", ["higher", "lower"], "Simulator")
        self.better = str(better)
        data = check_model_data(model, data, rescale)
        if callable(getattr(model, "bind", None)):
            # a model with per-respondent state (the chain's mediator baseline) is re-bound to
            # these respondents: another survey must never use the fitted survey's values
            model = model.bind(data)
        self.model = model
        self._notes: list[str] = []
        self.extrapolation_threshold = float(extrapolation_threshold)

        if weights is None:
            mw = getattr(model, "weights", None)
            if isinstance(mw, str) and mw in data.columns:
                weights = mw
                self._notes.append(f"Survey weights '{mw}' taken from the model.")
        if na_values is not None or missing in ("impute", "mean", "dummy", "pairwise"):
            data = self._apply_policy(data, weights, na_values, missing, imputations, seed,
                                      dict(customers=customers,
                                           revenue_per_customer=revenue_per_customer,
                                           revenue=revenue, margin=margin, target=target,
                                           calibration=calibration,
                                           discount_rate=discount_rate, horizon=horizon,
                                           extrapolation_threshold=extrapolation_threshold,
                                           link=link, better=better))
        data = self._complete_rows(data, weights, revenue, missing)
        self.data = data
        self.n = len(data)
        if self.n == 0:
            raise DataError("Simulator() got no respondents (empty data).")
        self._w = self._weights(data, getattr(self, "_weights_arg", weights))
        self._X = np.asarray(model.design(data), dtype=float)

        self._setup_drivers(data)
        self._setup_money(data, customers, revenue_per_customer, revenue, margin)
        cal = calibration if isinstance(calibration, str) else make_calibration(calibration)
        self.kernel = Kernel(model, self._X, target=target, calibration=None)
        self.outcome_type = _outcome_type(model, target)
        if link is not None:
            if cal is not None:
                raise DriverkitError("Give link= (score -> behaviour) or calibration= "
                                     "(probability -> behaviour), not both.")
            if self.outcome_type != "score":
                raise DriverkitError(
                    f"link= ties a score outcome to behaviour, but this {self.kernel.kind} "
                    "model already predicts a rate; use calibration='<0/1 column>' to map its "
                    "probabilities to observed behaviour.")
            cal = self._fit_link(data, link)
            self.outcome_type = "rate"
        elif self.outcome_type == "score":
            given = [n for n, v in (("revenue_per_customer", revenue_per_customer),
                                    ("revenue", revenue), ("customers", customers),
                                    ("discount_rate", discount_rate)) if v is not None]
            if given:
                raise DriverkitError(
                    f"The outcome '{_outcome_name(model)}' is a score (a linear model of an "
                    "outcome with more than two values), so a change is in scale points, not "
                    f"customers or money; {', '.join(given)} cannot be used. Give link='<0/1 "
                    "column of observed behaviour, e.g. repurchase>' to turn the score into a "
                    "rate, or fit a binary model of the behaviour.")
        if isinstance(cal, str):
            cal = self._fit_calibration(data, cal)
        if cal is not None:
            v = self.kernel.v0
            if cal.kind != "link" and np.any((v < 0) | (v > 1)):
                raise DriverkitError(
                    "calibration maps probabilities, but the simulated rate of this model is not "
                    "a probability (use a binary or ordinal model, or an ordinal target)."
                )
            self.kernel = Kernel(model, self._X, target=target, calibration=cal)
            if cal.kind == "link":
                self.kernel.target_label = (f"P({cal.column} = 1) linked to "
                                            f"{self.kernel.target_label}")
                self._notes.append(f"Score linked to observed behaviour: {cal.describe()}.")
            else:
                self._notes.append(f"Rates calibrated to observed behaviour: {cal.describe()}.")
        self.calibration = cal
        self._setup_clv(discount_rate, horizon)
        self.sign_flips = _model_sign_flips(model, self.drivers)
        self._moves: dict[Any, Move] = {}
        self._seg_cache: dict[Any, tuple[np.ndarray | None, Any]] = {}
        self._vif_cache: pd.Series | None = None
        self._Wm_all: np.ndarray | None = None


    def _apply_policy(self, data: pd.DataFrame, weights: Any, na_values: Any, missing: str,
                      imputations: int, seed: Any, kw: dict[str, Any]) -> pd.DataFrame:
        """na_values, then the missing-data policy (data layer): impute → one simulator
        per imputed copy (``run`` pools them); mean/dummy/pairwise → skipped ratings filled
        (a dummy-adjusted model keeps its fills and indicators)."""
        from ..data._missing import apply_na_values, check_imputations, fill_frame, impute_frames

        cols = self._needed_columns(data)
        data, counts = apply_na_values(data, na_values, cols, "Simulator")
        if counts:
            self._notes.append("Codes treated as missing (na_values): " + "; ".join(
                f"'{c}': " + ", ".join(f"{k!r} ×{v}" for k, v in per.items())
                for c, per in counts.items()) + ".")
        if not data[cols].isna().to_numpy().any() or missing in ("listwise", "raise", "drop"):
            return data
        spec = getattr(self.model, "_spec", None)
        if missing == "impute":
            m = check_imputations(imputations, "Simulator")
            outcome = getattr(self.model, "outcome", None)
            outcome = outcome.split("~")[0].strip() if isinstance(outcome, str) else None
            preds = [outcome] if outcome is not None and outcome in data.columns else []
            frames = impute_frames(data, cols, m=m, seed=seed, predictors=preds)
            self._imputed = [Simulator(self.model, f, weights=weights, missing="raise", **kw)
                             for f in frames]
            self._notes.append(f"Skipped ratings multiply imputed ({m} copies); scenarios run "
                               "on every copy and are pooled.")
            return frames[0]
        w = None
        if isinstance(weights, str) and weights in data.columns:
            w = pd.to_numeric(data[weights], errors="coerce").fillna(0).to_numpy(dtype=float)
        out = fill_frame(data, cols, spec, w)
        self._notes.append(f"Skipped ratings filled for simulation (missing='{missing}': "
                           + ("the model's fills and 'not answered' indicators)."
                              if spec is not None and getattr(spec, "indicators", None)
                              else "weighted means)."))
        return out

    # ----------------------------------------------------------------------------------
    # public API
    # ----------------------------------------------------------------------------------
    def value(self, scenario: Any, objective: str = "profit") -> float:
        """Point estimate of one column of ``run(scenario).table`` (same code path, no draws).

        Parameters
        ----------
        scenario : Scenario or dict
        objective : {"profit", "revenue", "rate", "customers", "mean"}, default="profit"
            Reads ``delta_profit`` | ``delta_revenue`` | ``delta_rate`` | ``delta_customers``;
            ``"mean"`` reads ``delta_mean`` of a score outcome (the only objective a score
            has without ``link=``).

        Examples
        --------
        >>> import pandas as pd, driverkit as dk
        >>> m = dk.fixed_model("logit", intercept=-4.0, coef={"x1": 0.6},
        ...                    scales={"x1": (1, 10)})
        >>> sim = dk.Simulator(m, pd.DataFrame({"x1": [3, 6, 8, 10]}))
        >>> sim.value({"x1": dk.shift(1)}, "rate") > 0
        True
        """
        col = self._objective(objective, "value")
        sc = as_scenarios(scenario)
        if len(sc) != 1:
            raise DriverkitError("value() takes one scenario.")
        if self._imputed:
            return float(np.mean([s.value(sc[0], objective) for s in self._imputed]))
        return self._point(self._compile(sc[0]), sc[0])[col]

    def value_draws(self, scenario: Any, objective: str = "profit", *, draws: int = 1000,
                    seed: Any = None, uncertainty: str = "parametric") -> np.ndarray:
        """The objective over joint model and business-input draws (``draws`` values).

        The same draws as ``run(scenario, draws=draws, seed=seed)`` uses for its interval.
        """
        col = self._objective(objective, "value_draws")
        sc = as_scenarios(scenario)
        if len(sc) != 1:
            raise DriverkitError("value_draws() takes one scenario.")
        draws = _check_draws(draws, "value_draws", allow_zero=False)
        check_option(uncertainty, "uncertainty", UNCERTAINTY, "value_draws")
        if self._imputed:
            seeds = _seed_sequence(seed).spawn(len(self._imputed))
            each = -(-draws // len(self._imputed))
            pooled = np.concatenate([
                s.value_draws(sc[0], objective, draws=each, seed=sd, uncertainty=uncertainty)
                for s, sd in zip(self._imputed, seeds, strict=True)])
            return pooled[:draws]
        plan = self._compile(sc[0])
        sims, _ = self._simulate(sc, [plan], draws=draws, seed=seed, uncertainty=uncertainty)
        s = sims[0]
        if s.draws is not None:
            return s.draws[col].copy()
        if s.se is not None:  # delta method without business randomness: normal draws
            rng = np.random.default_rng(_seed_sequence(seed))
            return s.point[col] + s.se[col] * rng.standard_normal(draws)
        return np.full(draws, s.point[col])

    def _objective(self, objective: str, func: str) -> str:
        check_option(objective, "objective", list(OBJECTIVES), func)
        col = OBJECTIVES[objective]
        if self.outcome_type == "score" and objective != "mean":
            raise DriverkitError(
                f"objective='{objective}' does not apply: the outcome "
                f"'{_outcome_name(self.model)}' is a score (scale points), so a simulation "
                "reports delta_mean and no rates, customers or money. Use objective='mean', or "
                "give the Simulator link='<0/1 behaviour column>' to turn the score into a rate.")
        if self.outcome_type != "score" and objective == "mean":
            raise DriverkitError(
                f"objective='mean' is for score outcomes; this simulator's outcome is a rate "
                f"({self.kernel.target_label}): use objective='rate' (or 'profit'/'revenue').")
        if col in ("delta_revenue", "delta_profit") and not self.has_money:
            raise DriverkitError(
                f"objective='{objective}' needs money: give the Simulator revenue_per_customer= "
                "or revenue= (or use objective='rate')."
            )
        return col

    def run(self, scenarios: Any, *, draws: int = 1000, seed: Any = None, ci: float = 0.95,
            uncertainty: str = "parametric", progress: bool | None = None,
            ) -> SimulationResult:
        """Simulate one or more scenarios with intervals.

        Parameters
        ----------
        scenarios : Scenario, list of Scenario or dict
            A scenario, a list, ``{"driver": operator}`` (one scenario) or
            ``{"name": {driver: operator}}``.
        draws : int, default=1000
            Parameter draws (or bootstrap refits) for the intervals; ``0`` = delta method.
        seed : int or Generator, optional
            Makes the draws reproducible (the point estimates never depend on it).
        ci : float, default=0.95
        uncertainty : {"parametric", "delta", "bootstrap"}, default="parametric"
            ``"bootstrap"`` refits ``model.clone()`` on ``draws`` resamples of the data (which
            must then contain the outcome).
        progress : bool, optional
            Show a progress bar over the draws (default: only for long runs, in a terminal
            or notebook). The bar never changes a number.

        Returns
        -------
        SimulationResult

        Notes
        -----
        Point estimates use the fitted coefficients; draws only give the percentile
        intervals. Scenarios in one call share the same draws, so their differences are
        consistent. Business inputs given as distributions are drawn jointly with the model
        draws; ``.uncertainty`` splits the spread of Δprofit into model and business parts.
        """
        return self._run(scenarios, draws=draws, seed=seed, ci=ci, uncertainty=uncertainty,
                         progress=progress, func="run")

    def _run(self, scenarios: Any, *, draws: int, seed: Any, ci: float, uncertainty: str,
             progress: bool | None, func: str) -> SimulationResult:
        """:meth:`run` on behalf of ``func`` (which names the progress bar and errors)."""
        from .._validation import check_fraction, check_progress

        check_fraction(ci, "ci", func)
        draws = _check_draws(draws, func)
        check_option(uncertainty, "uncertainty", UNCERTAINTY, func)
        progress = check_progress(progress, func)
        if draws == 0:
            if uncertainty == "bootstrap":
                raise DriverkitError("uncertainty='bootstrap' needs draws > 0 (the refits).")
            uncertainty = "delta"
        scs = [self._expand(s) for s in as_scenarios(scenarios)]
        if self._imputed:
            from ._pooled import pool_runs

            m = len(self._imputed)
            seeds = _seed_sequence(seed).spawn(m)
            each = -(-draws // m) if draws else 0
            runs = [s.run(scs, draws=each, seed=sd, ci=ci, uncertainty=uncertainty,
                          progress=progress) for s, sd in zip(self._imputed, seeds,
                                                              strict=True)]
            return pool_runs(runs, ci, self.n)
        # the products here are thin (vectors of respondents); BLAS threads only contend
        with single_threaded_blas():
            plans = [self._compile(s) for s in scs]
            sims, info = self._simulate(scs, plans, draws=draws, seed=seed,
                                        uncertainty=uncertainty, progress=progress, desc=func)
            table, unc, draw_frames = self._table(scs, plans, sims, ci)
            by_driver = self._by_driver(scs, plans, sims)
            diag, warn_msgs = self._diagnostics(scs, plans)
        if getattr(self.model, "kind", None) == "pls" and self.model.link is None:
            table = table.rename(columns=lambda c: c.replace("_rate", "_index")).drop(
                columns=[c for c in table.columns if c.startswith("delta_customers")])
        for msg in warn_msgs:
            warn(msg, ExtrapolationWarning)
        flagged = [d for d in dict.fromkeys(diag["driver"]) if d in self.sign_flips.index]
        notes = self._result_notes(scs, plans, table, diag, info, ci)
        if flagged:
            msg = _suppressor_message(self.sign_flips.loc[flagged], "The scenario moves")
            warn(msg, SuppressorWarning)
            notes.insert(0, msg)
        meta = self._meta(info, ci, draws)
        if flagged:
            meta["suppressor signs"] = ", ".join(flagged)
        return SimulationResult(table, by_driver=by_driver, diagnostics=diag, uncertainty=unc,
                                draws=draw_frames, meta=meta, notes=notes)

    # ----------------------------------------------------------------------------------
    # sensitivity, impact, priority
    # ----------------------------------------------------------------------------------
    def _pick_drivers(self, drivers: Any, func: str) -> list[str]:
        if drivers is None:
            return list(self.drivers)
        ds = [drivers] if isinstance(drivers, str) else [str(d) for d in drivers]
        for d in ds:
            self._check_driver(d)
        return ds

    def sensitivity(self, drivers: Any = None, steps: Any = None, *, draws: int = 1000,
                    seed: Any = None, ci: float = 0.95, uncertainty: str = "parametric",
                    progress: bool | None = None) -> SensitivityResult:
        """Response curves: each driver moved alone by each step (clipped to its scale).

        Parameters
        ----------
        drivers : list of str, optional
            Default: every movable driver.
        steps : iterable of float, default=range(-2, 3)
            Shifts in rating points.
        draws, seed, ci, uncertainty, progress
            As in :meth:`run` (all curves share the same draws).

        Returns
        -------
        SensitivityResult

        Notes
        -----
        A zero step changes nothing and is not simulated. For a logit model every draw is
        evaluated with one exponential per respondent for all the curves: a driver moved by
        δ has F(η + cδ) = r/(e^{−η} + r), r = e^{cδ}, and the sums over respondents at all
        the r of a batch of draws come from Chebyshev moments in r (Mason & Handscomb 2003,
        the generating function of the Chebyshev polynomials), truncated below the rounding
        of double precision, plus exact terms for the respondents whose change is clipped at
        the ends of the scale. The numbers equal running each curve point on its own.

        Examples
        --------
        >>> import pandas as pd, driverkit as dk
        >>> m = dk.fixed_model("logit", intercept=-4.0, coef={"x1": 0.6},
        ...                    scales={"x1": (1, 10)})
        >>> sim = dk.Simulator(m, pd.DataFrame({"x1": [3, 6, 8, 10]}))
        >>> sim.sensitivity(steps=[-1, 0, 1]).table["step"].tolist()
        [-1.0, 0.0, 1.0]
        """
        ds = self._pick_drivers(drivers, "sensitivity")
        st = [float(s) for s in (range(-2, 3) if steps is None else steps)]
        if not st:
            raise DriverkitError("sensitivity() needs at least one step.")
        scs = [Scenario(f"{d} {s:+g}", {d: _shift(s, self._scales[d])}) for d in ds for s in st]
        res = self._run(scs, draws=draws, seed=seed, ci=ci, uncertainty=uncertainty,
                        progress=progress, func="sensitivity")
        t = res.table.reset_index(drop=True)
        t.insert(0, "driver", [d for d in ds for _ in st])
        t.insert(1, "step", [s for _ in ds for s in st])
        t.insert(2, "mean_after", res.diagnostics["mean_after"].to_numpy())
        col = self._main_column()
        meta = dict(res.meta)
        meta.update({"drivers": len(ds), "steps": ", ".join(f"{s:g}" for s in st),
                     "column": col})
        return SensitivityResult(t, meta=meta, notes=res.notes)

    def impact(self, points: float = 5.0, drivers: Any = None, *, draws: int = 1000,
               seed: Any = None, ci: float = 0.95, uncertainty: str = "parametric",
               progress: bool | None = None) -> SimulationResult:
        """ACSI-style impact: each driver raised by ``points`` on its 0–100 rescale, alone.

        +``points`` index points = +``points``/100·(U − L) rating points (0.45 for +5 on a
        1–10 scale), clipped to the scale (Fornell et al. 1996).

        Returns
        -------
        SimulationResult
            One row per driver (scenario ``"<driver> +5 pts"``) with extra columns
            ``driver`` and ``shift`` (rating points).

        Examples
        --------
        >>> import pandas as pd, driverkit as dk
        >>> m = dk.fixed_model("logit", intercept=-4.0, coef={"x1": 0.6},
        ...                    scales={"x1": (1, 10)})
        >>> sim = dk.Simulator(m, pd.DataFrame({"x1": [3, 6, 8, 10]}))
        >>> float(sim.impact(5).table["shift"].iloc[0])
        0.45
        """
        ds = self._pick_drivers(drivers, "impact")
        if isinstance(points, bool) or not isinstance(points, numbers.Real) or \
                not 0 < abs(points) <= 100:
            raise DriverkitError(f"impact(points=...) must be in (0, 100]; got {points!r}.")
        shifts = {d: float(points) / 100.0 * (self._scales[d][1] - self._scales[d][0])
                  for d in ds}
        scs = [Scenario(f"{d} {points:+g} pts", {d: _shift(shifts[d], self._scales[d])})
               for d in ds]
        res = self._run(scs, draws=draws, seed=seed, ci=ci, uncertainty=uncertainty,
                        progress=progress, func="impact")
        res.table.insert(0, "driver", ds)
        res.table.insert(1, "shift", [shifts[d] for d in ds])
        res.meta["impact"] = f"+{points:g} points on the 0–100 rescale of each driver"
        res._title = f"Impact of +{points:g} index points per driver"
        return res

    def priority(self, drivers: Any = None, *, step: float = 1.0, draws: int = 1000,
                 seed: Any = None, ci: float = 0.95, uncertainty: str = "parametric",
                 progress: bool | None = None) -> PriorityResult:
        """Priority table: current performance vs the simulated impact of +``step`` per driver.

        Impact is Δrevenue when the simulator has revenue, else Δrate, with its interval.
        Quadrants split at the medians (as drawn by the priority matrix).

        Examples
        --------
        >>> import pandas as pd, driverkit as dk
        >>> m = dk.fixed_model("logit", intercept=-4.0, coef={"x1": 0.6, "x2": 0.3},
        ...                    scales={"x1": (1, 10), "x2": (1, 10)})
        >>> sim = dk.Simulator(m, pd.DataFrame({"x1": [3, 6, 8, 10], "x2": [5, 7, 8, 4]}))
        >>> list(sim.priority().table.columns)[:2]
        ['performance', 'performance_100']
        """
        ds = self._pick_drivers(drivers, "priority")
        scs = [Scenario(f"{d} {step:+g}", {d: _shift(step, self._scales[d])}) for d in ds]
        res = self._run(scs, draws=draws, seed=seed, ci=ci, uncertainty=uncertainty,
                        progress=progress, func="priority")
        col = self._main_column()
        W = self._w.sum()
        perf = np.array([np.dot(self._w, self._x[d]) / W for d in ds])
        lo = np.array([self._scales[d][0] for d in ds])
        hi = np.array([self._scales[d][1] for d in ds])
        t = pd.DataFrame({
            "performance": perf,
            "performance_100": 100 * (perf - lo) / (hi - lo),
            "step": float(step),
            "impact": res.table[col].to_numpy(),
            "impact_low": res.table[f"{col}_low"].to_numpy(),
            "impact_high": res.table[f"{col}_high"].to_numpy(),
        }, index=pd.Index(ds, name="driver"))
        t["quadrant"] = priority_quadrants(t).to_numpy()
        meta = dict(res.meta)
        meta.update({"impact": col, "step": step})
        return PriorityResult(t, meta=meta, notes=res.notes)

    def _main_column(self) -> str:
        """The column a sensitivity or priority table reports: money, else rate or mean."""
        if self.has_money:
            return "delta_revenue"
        return "delta_mean" if self.outcome_type == "score" else "delta_rate"

    def __repr__(self) -> str:
        return (f"Simulator({getattr(self.model, 'kind', 'model')} model, {self.n} respondents, "
                f"drivers: {', '.join(self.drivers)})")


# ------------------------------------------------------------------------------------------
def _shift(step: float, scale: tuple[float, float]) -> Operator:
    from ._operators import Shift

    width = scale[1] - scale[0]
    return Shift(float(np.clip(step, -width, width)))


def _check_draws(draws: Any, func: str, allow_zero: bool = True) -> int:
    if isinstance(draws, bool) or not isinstance(draws, numbers.Integral) or draws < 0 or (
            draws == 0 and not allow_zero):
        raise DriverkitError(
            f"The 'draws' parameter of {func}() must be an integer >= {0 if allow_zero else 1}. "
            f"Got {draws!r} instead."
        )
    return int(draws)
