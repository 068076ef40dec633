"""Net Promoter Score: the score with its standard error, and an ordered-logit driver model.

NPS = 100·(P(9–10) − P(0–6)) from a 0–10 "how likely are you to recommend" item
(Reichheld 2003). It is the mean of the respondent score s ∈ {−1, 0, +1} (detractor,
passive, promoter) times 100, so its variance is that of a mean:
Var(NPS/100) = (p_P + p_D − (p_P − p_D)²) / n, with Kish's effective sample size
n_eff = (Σw)²/Σw² in place of n when the shares are weighted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .._results import FrameResult, Result
from .._validation import check_columns, check_fraction, check_kwargs, check_option, warn
from ..data._prepare import _numeric_or_factor
from ..exceptions import (
    DataError,
    DriverkitError,
    MissingDataWarning,
    ScaleWarning,
    SmallSampleWarning,
)
from ._common import kish_n, resolve_weights

__all__ = ["DeltaNPSResult", "NPSResult", "delta_nps", "nps", "nps_model", "nps_scores",
           "nps_target", "predicted_nps"]

_FUNC = "nps"
CATEGORIES = ("detractors", "passives", "promoters")
LABELS_3 = ("detractor", "passive", "promoter")


def recommend_values(data: pd.DataFrame, column: str, func: str) -> pd.Series:
    """The recommend item as floats, validated to whole numbers 0–10 (NaN kept)."""
    check_columns(data, [column], role="recommend")
    raw = data[column]
    if pd.api.types.is_bool_dtype(raw) or (
            raw.dtype == object and raw.dropna().map(type).eq(bool).all() and raw.notna().any()):
        raise DataError(
            f"The recommend column '{column}' of {func}() holds True/False values; NPS needs "
            "the 0–10 likelihood-to-recommend rating (a yes/no column would read as 0 and 1, "
            "all detractors). Pass the 0–10 column.")
    kind_, s = _numeric_or_factor(raw, column, "recommend")
    if kind_ == "factor":
        raise DataError(
            f"The recommend column '{column}' of {func}() holds text; NPS needs the 0–10 "
            "likelihood-to-recommend rating as numbers."
        )
    s = s.astype(float)
    v = s.dropna()
    bad = v[(v < 0) | (v > 10) | (v != np.round(v))]
    if len(bad):
        shown = ", ".join(f"{x:g}" for x in pd.unique(bad)[:6])
        raise DataError(
            f"The recommend column '{column}' must hold whole numbers from 0 to 10 (the NPS "
            f"scale), but {len(bad)} value(s) are not: {shown}. Try 1) recoding a 1–10 or "
            "1–5 item to 0–10 first, or 2) setting out-of-range codes (e.g. 99 = don't know) "
            "to missing."
        )
    v = s.dropna()
    if len(v) >= 10 and set(np.unique(v)) <= {0.0, 1.0}:
        warn(f"The recommend column '{column}' holds only 0 and 1: it looks like a yes/no "
             "column, not the 0–10 likelihood-to-recommend rating (every respondent would be "
             "a detractor).", ScaleWarning)
    return s


class NPSResult(Result):
    """Net Promoter Score with its standard error and the three category shares.

    Attributes
    ----------
    value : float
        NPS on −100..100.
    std_error, ci_low, ci_high : float
        Standard error and normal-approximation interval (clipped to −100..100).
    ci : float
        Confidence level.
    n : int
        Respondents used.
    n_effective : float
        Kish's effective sample size (= n without weights).
    table : pandas.DataFrame
        Rows ``promoters`` (9–10), ``passives`` (7–8), ``detractors`` (0–6) with ``share``
        (%), ``std_error`` (percentage points), ``ci_low``, ``ci_high`` and ``n`` (unweighted
        count).
    """

    _title = "Net Promoter Score"

    def __init__(self, *, value: float, std_error: float, ci: float, n: int,
                 n_effective: float, table: pd.DataFrame, column: str,
                 notes: list[str]) -> None:
        z = stats.norm.ppf(0.5 + ci / 2)
        self.value = float(value)
        self.std_error = float(std_error)
        # NaN (undefined standard error) must stay NaN: max()/min() would clip it away
        self.ci_low = float(np.clip(value - z * std_error, -100.0, 100.0))
        self.ci_high = float(np.clip(value + z * std_error, -100.0, 100.0))
        self.ci = ci
        self.n = int(n)
        self.n_effective = float(n_effective)
        self.column = column
        meta = {"column": column, "NPS": self.value, "std_error": self.std_error,
                f"{ci:.0%} CI": f"[{self.ci_low:.1f}, {self.ci_high:.1f}]", "n": self.n}
        if abs(self.n_effective - self.n) > 1e-9:
            meta["effective n (Kish)"] = self.n_effective
        super().__init__(table, meta=meta, notes=notes)

    def __float__(self) -> float:
        return self.value

    def plot_data(self) -> pd.DataFrame:
        """Shares (%) of detractors, passives and promoters."""
        return self.table.loc[list(CATEGORIES), ["share"]].copy()

    def _plot(self, ax: Any, **kwargs: Any) -> Any:
        colors = {"detractors": "#D55E00", "passives": "#BBBBBB", "promoters": "#009E73"}
        left = 0.0
        for cat in CATEGORIES:
            share = float(self.table.loc[cat, "share"])
            ax.barh([0], [share], left=left, color=colors[cat], label=cat, **kwargs)
            if share >= 6:
                ax.text(left + share / 2, 0, f"{share:.0f}%", ha="center", va="center",
                        fontsize=9)
            left += share
        ax.set_xlim(0, 100)
        ax.set_yticks([])
        ax.set_xlabel("share of respondents (%)")
        ax.set_title(f"NPS {self.value:+.1f} "
                     f"({self.ci:.0%} CI {self.ci_low:+.1f} to {self.ci_high:+.1f})")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=3, frameon=False)
        return ax


def nps(data: pd.DataFrame, column: str, *, weights: Any = None, ci: float = 0.95,
        **kwargs: Any) -> NPSResult:
    """Net Promoter Score of a 0–10 recommend item, with standard error and interval.

    Parameters
    ----------
    data : pandas.DataFrame
        Respondents (not modified).
    column : str
        The 0–10 likelihood-to-recommend item (whole numbers; missing values are dropped
        with a :class:`~driverkit.MissingDataWarning`).
    weights : str or array-like, optional
        Survey weights (column name or one value per row): the shares are weighted and the
        standard error uses Kish's effective sample size.
    ci : float, default=0.95
        Confidence level of the interval.

    Returns
    -------
    NPSResult

    Notes
    -----
    With weighted shares p_P = Σ_{i: y_i ≥ 9} w_i / Σ w_i and p_D = Σ_{i: y_i ≤ 6} w_i / Σ w_i,
    NPS = 100·(p_P − p_D) (Reichheld 2003). NPS/100 is the mean of s_i ∈ {−1, 0, 1}, so
    SE = 100·√((p_P + p_D − (p_P − p_D)²) / n_eff) with n_eff = (Σw)²/Σw² (Kish 1965);
    the interval is NPS ± z·SE (normal approximation), clipped to [−100, 100]. Category
    shares have SE √(p(1 − p)/n_eff).

    Examples
    --------
    >>> import pandas as pd, driverkit as dk
    >>> df = pd.DataFrame({"ltr": [10, 9, 8, 7, 6, 3, 10, 9]})
    >>> res = dk.nps(df, "ltr")
    >>> res.value
    25.0
    >>> round(res.std_error, 2)
    29.32
    """
    check_kwargs(kwargs, _FUNC)
    ci = check_fraction(ci, "ci", _FUNC)
    y = recommend_values(data, column, _FUNC)
    w = resolve_weights(data, weights, _FUNC)
    ok = y.notna().to_numpy()
    notes: list[str] = []
    if not ok.all():
        k = int((~ok).sum())
        warn(f"{k} respondent(s) with a missing '{column}' were dropped from the NPS.",
             MissingDataWarning)
        notes.append(f"{k} respondents without a rating of '{column}' dropped.")
    yv = y.to_numpy()[ok]
    wv = w[ok]
    if yv.size == 0 or wv.sum() <= 0:
        raise DataError(f"The recommend column '{column}' has no usable ratings.")
    sw = wv.sum()
    masks = {"detractors": yv <= 6, "passives": (yv >= 7) & (yv <= 8), "promoters": yv >= 9}
    shares = {k: float(wv[m].sum() / sw) for k, m in masks.items()}
    n_eff = kish_n(wv)
    pP, pD = shares["promoters"], shares["detractors"]
    value = 100.0 * (pP - pD)
    if n_eff < 2:
        # one (effective) respondent: no variance can be estimated, and a zero-width
        # interval would claim certainty
        se = float("nan")
        msg = (f"The NPS of '{column}' rests on an effective sample of {n_eff:.2g} "
               f"respondent(s) (Kish, {len(yv)} rows): its standard error and interval are "
               "undefined (NaN).")
        warn(msg, SmallSampleWarning)
        notes.append(msg)
    else:
        var = max(pP + pD - (pP - pD) ** 2, 0.0) / n_eff
        se = 100.0 * float(np.sqrt(var))
    z = stats.norm.ppf(0.5 + ci / 2)
    rows = []
    for cat in ("promoters", "passives", "detractors"):
        p = shares[cat]
        s = 100.0 * float(np.sqrt(p * (1 - p) / n_eff)) if n_eff >= 2 else float("nan")
        rows.append({"share": 100 * p, "std_error": s,
                     "ci_low": float(np.clip(100 * p - z * s, 0.0, 100.0)),
                     "ci_high": float(np.clip(100 * p + z * s, 0.0, 100.0)),
                     "n": int(masks[cat].sum())})
    table = pd.DataFrame(rows, index=pd.Index(["promoters", "passives", "detractors"],
                                              name="category"))
    if n_eff < 100:
        notes.append(f"Effective sample size {n_eff:.0f} < 100: the normal interval is rough.")
    notes.append("Promoters rate 9–10, passives 7–8, detractors 0–6; NPS = % promoters − % "
                 "detractors.")
    if weights is not None:
        notes.append("Shares are weighted; the standard error uses Kish's effective sample "
                     "size (Σw)²/Σw².")
    return NPSResult(value=value, std_error=se, ci=ci, n=int(yv.size), n_effective=n_eff,
                     table=table, column=column, notes=notes)


# ------------------------------------------------------------------------------------------
# NPS from an ordered-logit model
# ------------------------------------------------------------------------------------------
def nps_scores(levels: Sequence[Any]) -> np.ndarray:
    """Score of each ordinal category: +1 promoter, 0 passive, −1 detractor.

    ``levels`` are the outcome levels of an ordered model on the 0–10 item (numbers) or on
    the three NPS categories (``"detractor"``, ``"passive"``, ``"promoter"``).
    """
    out = np.zeros(len(levels))
    for i, lv in enumerate(levels):
        key = str(lv).strip().lower().rstrip("s")
        if key in LABELS_3:
            out[i] = {"detractor": -1.0, "passive": 0.0, "promoter": 1.0}[key]
            continue
        try:
            v = float(lv)
        except (TypeError, ValueError):
            raise DriverkitError(
                f"Cannot tell whether the outcome level {lv!r} is a promoter, passive or "
                "detractor; use a model of the 0–10 recommend item or of the categories "
                "'detractor' < 'passive' < 'promoter' (dk.nps_model)."
            ) from None
        out[i] = 1.0 if v >= 9 else (-1.0 if v <= 6 else 0.0)
    return out


def _model_levels(model: Any) -> list[Any]:
    if model.kind != "ordinal":
        raise DriverkitError(
            f"NPS predictions need an ordered-logit model of the recommend item "
            f"(kind='ordinal'); got kind='{model.kind}'. Fit it with dk.nps_model(...)."
        )
    levels = model.outcome_levels
    if levels is None:  # a fixed model: categories 0..K-1
        K = int(model.params.index.str.startswith("cut[").sum()) + 1
        if K == 3:
            return list(LABELS_3)
        if K == 11:
            return list(range(11))
        raise DriverkitError(
            f"A fixed ordinal model with {K} categories cannot be read as NPS; give it 11 "
            "categories (0–10) or 3 (detractor, passive, promoter)."
        )
    return list(levels)


def predicted_nps(model: Any, data: pd.DataFrame | None = None, *, X: np.ndarray | None = None,
                  params: np.ndarray | None = None) -> np.ndarray:
    """Per-respondent expected NPS contribution 100·(P(promoter) − P(detractor)).

    ``params`` of shape (S, P) gives an (S, n) array (parametric draws).
    """
    scores = nps_scores(_model_levels(model))
    if X is None:
        if data is None:
            raise DriverkitError("predicted_nps() needs data or a design X.")
        X = model.design(data)
    probs = model.predict_design(X, params)
    return 100.0 * (probs @ scores)


def nps_model(data: pd.DataFrame, column: str, drivers: Sequence[str], *,
              categories: int = 11, weights: Any = None, **fit_options: Any) -> Any:
    """Drivers of NPS: an ordered logit of the 0–10 recommend item (or its 3 categories).

    Parameters
    ----------
    data : pandas.DataFrame
        Respondents (not modified).
    column : str
        The 0–10 recommend item.
    drivers : list of str
        Driver ratings.
    categories : {11, 3}, default=11
        11: proportional-odds model on the full 0–10 scale; 3: on detractor < passive <
        promoter.
    weights : str or array-like, optional
        Survey weights.
    **fit_options
        Passed to :func:`driverkit.fit` (``covariates``, ``scales``, ``robust``, ...).

    Returns
    -------
    DriverModel
        ``kind="ordinal"``. Use :func:`predicted_nps` (or the simulator's NPS outcome) for
        the NPS it implies.

    Notes
    -----
    Proportional-odds logit (McCullagh 1980): P(y ≤ k) = logistic(c_k − xβ). The expected NPS
    of respondent i is 100·(Σ_{k ≥ 9} P_ik − Σ_{k ≤ 6} P_ik); the population NPS is its
    (weighted) mean, so scenario effects are averages of respondent predictions.

    Examples
    --------
    >>> import pandas as pd, numpy as np, driverkit as dk
    >>> rng = np.random.default_rng(0)
    >>> x = rng.integers(1, 11, 300)
    >>> ltr = np.clip(np.round(x * 0.8 + rng.normal(0, 1.5, 300)), 0, 10)
    >>> df = pd.DataFrame({"staff": x, "ltr": ltr})
    >>> m = dk.nps_model(df, "ltr", ["staff"], categories=3)
    >>> m.outcome_levels
    ['detractor', 'passive', 'promoter']
    """
    from ..models import fit

    check_option(categories, "categories", (11, 3), "nps_model")
    y = recommend_values(data, column, "nps_model")
    frame = data.copy(deep=False)
    if categories == 3:
        cats = pd.cut(y, bins=[-0.5, 6.5, 8.5, 10.5], labels=list(LABELS_3), ordered=True)
        frame = frame.assign(**{column: cats})
    else:
        frame = frame.assign(**{column: y})
    return fit(frame, column, list(drivers), kind="ordinal", weights=weights, **fit_options)


def nps_target(model: Any) -> Any:
    """The simulator target that turns an NPS model's category probabilities into NPS.

    Returns a callable mapping probabilities (…, n, K) to P(promoter) − P(detractor) per
    respondent (a fraction in [−1, 1]; ×100 for NPS points), for
    ``dk.Simulator(model, data, target=nps_target(model))``.

    Examples
    --------
    >>> import driverkit as dk
    >>> df = dk.make_survey(n=800, n_drivers=3, seed=4)
    >>> m = dk.nps_model(df, "recommend", df.attrs["truth"]["drivers"])
    >>> sim = dk.Simulator(m, df, target=dk.nps_target(m))
    >>> res = sim.run(dk.Scenario("all +1", {d: dk.shift(1) for d in sim.drivers}), draws=0)
    >>> bool(res.table["delta_rate"].iloc[0] > 0)
    True
    """
    scores = nps_scores(_model_levels(model))

    def nps_share(probs: np.ndarray) -> np.ndarray:
        return np.asarray(probs, float) @ scores

    nps_share.__name__ = "NPS"
    # the simulator evaluates a score target from the two cut points that matter
    nps_share.scores = scores  # type: ignore[attr-defined]
    return nps_share


class DeltaNPSResult(FrameResult):
    """Simulated change in NPS (points) per scenario.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per scenario: ``baseline_nps, scenario_nps, delta_nps, delta_nps_low,
        delta_nps_high``. Also readable as ``result.loc[name, "delta_nps"]`` (0.1 returned
        the table itself).
    simulation : SimulationResult
        The underlying simulator run (rates as shares, by-driver steps).
    """

    _title = "Change in NPS"

    def __init__(self, table: pd.DataFrame, *, simulation: Any = None,
                 meta: dict[str, Any] | None = None, notes: list[str] | None = None) -> None:
        super().__init__(table, meta=meta, notes=notes)
        self.simulation = simulation

    def _plot(self, ax: Any, **kwargs: Any) -> Any:
        from ..display._plots import table_bar

        ax = table_bar(self.table, ax=ax, title=self.title, column="delta_nps", **kwargs)
        ax.set_xlabel("change in NPS (points)")
        return ax


def delta_nps(model: Any, data: pd.DataFrame, scenarios: Any, *, draws: int = 1000,
              seed: Any = None, ci: float = 0.95, **simulator_options: Any) -> DeltaNPSResult:
    """Simulated change in NPS (points) for one or more scenarios.

    Parameters
    ----------
    model : DriverModel
        An ordered-logit model of the recommend item (:func:`nps_model`).
    data : pandas.DataFrame
        The respondents whose ratings the scenarios move.
    scenarios : Scenario, dict or list
        As for ``dk.Simulator.run``.
    draws, seed, ci
        Parametric draws for the intervals (``draws=0``: delta method).
    **simulator_options
        Passed to ``dk.Simulator`` (``weights``, ``missing`` ...).

    Returns
    -------
    DeltaNPSResult
        ``.table``: one row per scenario, ``baseline_nps, scenario_nps, delta_nps,
        delta_nps_low, delta_nps_high`` in NPS points.

    Notes
    -----
    Each respondent's expected NPS contribution 100·(P(9–10) − P(0–6)) is predicted before
    and after the scenario and the difference averaged with the survey weights — never
    the NPS of the average respondent.

    Examples
    --------
    >>> import driverkit as dk
    >>> df = dk.make_survey(n=800, n_drivers=3, seed=4)
    >>> m = dk.nps_model(df, "recommend", df.attrs["truth"]["drivers"], categories=3)
    >>> out = dk.delta_nps(m, df, dk.Scenario("price +1", {"price_value": dk.shift(1)}))
    >>> list(out.columns)
    ['baseline_nps', 'scenario_nps', 'delta_nps', 'delta_nps_low', 'delta_nps_high']
    """
    from ..simulate import Simulator

    sim = Simulator(model, data, target=nps_target(model), **simulator_options)
    res = sim.run(scenarios, draws=draws, seed=seed, ci=ci)
    t = res.table
    out = pd.DataFrame({
        "baseline_nps": 100 * t["baseline_rate"],
        "scenario_nps": 100 * t["scenario_rate"],
        "delta_nps": 100 * t["delta_rate"],
        "delta_nps_low": 100 * t["delta_rate_low"],
        "delta_nps_high": 100 * t["delta_rate_high"],
    }, index=t.index)
    meta = {k: v for k, v in res.meta.items() if k in ("n", "draws", "ci")}
    notes = ["Each respondent's expected NPS contribution 100·(P(promoter) − P(detractor)) is "
             "predicted before and after the scenario; the change is their weighted mean."]
    return DeltaNPSResult(out, simulation=res, meta=meta, notes=notes)
