"""Synthetic customer-experience surveys with a known generating truth.

:func:`make_survey` draws a survey of a retailer's customers: 1–10 ratings of named service
attributes grouped into journey stages and correlated through a halo factor, an
emotional-connection item, overall satisfaction, likelihood to recommend (0–10), repurchase
(0/1), revenue, CRM segment, survey wave and survey weight. Every number that generated the
data is in ``df.attrs["truth"]`` (a JSON-serialisable dict) so that tests can check that
driverkit recovers it; :func:`true_effect` computes the exact effect of moving ratings.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from .._validation import KINDS, check_columns, check_kwargs, check_option
from ..exceptions import DriverkitError, DriverkitTypeError
from ._survey_draw import _draw, _expected
from ._survey_spec import _FUNC, BRAND, MAX_DRIVERS, _check_int
from ._survey_truth import _build_truth

__all__ = ["make_survey", "true_effect"]


def make_survey(
    n: int = 2000,
    n_drivers: int = 10,
    kind: str = "logit",
    seed: int | None = 0,
    *,
    asymmetric: bool = True,
    chain: bool = True,
    segment_effects: bool | Mapping[str, Mapping[str, float]] = True,
    segment_slopes: Mapping[str, Mapping[str, float]] | None = None,
    waves: int = 2,
    wave_effects: bool | Mapping[Any, Mapping[str, float]] = True,
    wave_slopes: Mapping[Any, Mapping[str, float]] | None = None,
    stated: bool = False,
    missing: float = 0.0,
    halo: float = 0.6,
    bands: tuple[int, int] = (6, 8),
    kano: Mapping[str, str] | None = None,
    satisfaction: str | None = None,
    base_rate: float = 0.72,
    **options: Any,
) -> pd.DataFrame:
    """Draw a synthetic customer-experience survey whose generating truth is known.

    One row per customer of a retailer: 1–10 ratings of named service attributes in three
    journey stages (before / during / after purchase) correlated through a halo factor,
    an emotional-connection item, overall satisfaction, likelihood to recommend (0–10),
    repurchase (0/1), revenue, CRM segment, survey wave and survey weight. The exact
    equations and parameters are in ``df.attrs["truth"]`` (a JSON-serialisable dict).

    Parameters
    ----------
    n : int, default=2000
        Number of respondents.
    n_drivers : int, default=10
        Number of rated attributes (named from a pool of 24 realistic attributes, then
        ``attribute_25, ...``; at most 60). The first ten include ``checkout_speed`` and
        ``phone_support``.
    kind : {"logit", "probit", "linear", "ordinal"}, default="logit"
        The model family of the main outcome, whose parameters are ``truth["intercept"]``
        and ``truth["coef"]``: ``repurchase`` by a logit or probit, ``satisfaction``
        (``"linear"``, then recorded as a continuous index) or ``recommend`` by an ordered
        logit (``"ordinal"``, ``truth["cuts"]``).
    seed : int or None, default=0
        Seed of the random streams; ``None`` draws a fresh seed (recorded in the truth).
    asymmetric : bool, default=True
        Attributes act through rating bands (Kano-type): see Notes. ``False``: linearly.
    chain : bool, default=True
        Repurchase and recommend depend on satisfaction (the loyalty chain) besides the
        direct paths; ``False``: on the attributes only, with the chain's total weights.
    segment_effects : bool or dict, default=True
        Segments differ in rating means (``{segment: {driver or "*": shift}}``) and revenue;
        ``False`` makes the four segments identical (null data for multiplicity tests).
    segment_slopes : dict, optional
        ``{segment: {driver: extra coefficient}}`` added to the main outcome's equation for
        that segment (a true difference in importance).
    waves : int, default=2
        Number of survey waves (1–5), labelled 1, 2, ...
    wave_effects : bool or dict, default=True
        Known changes of rating means in later waves, ``{wave: {driver: shift}}``; by default
        delivery speed falls while returns and the app improve in wave 2. ``False``: none.
    wave_slopes : dict, optional
        ``{wave: {driver: extra coefficient}}`` in the main outcome's equation.
    stated : bool, default=False
        Add stated-importance columns ``imp_<driver>`` (1–5).
    missing : float, default=0.0
        Share of missing answers in the attributes not every customer uses (phone support,
        returns, app, ...; relative rates in ``truth["missing"]``). Outcomes are complete.
    halo : float, default=0.6
        Loading of every rating on the common halo factor.
    bands : (int, int), default=(6, 8)
        Band cut-offs: low = rating ≤ a, middle, high = rating > b.
    kano : dict, optional
        Override the Kano class of attributes, ``{driver: "basic" | "performance" |
        "excitement"}``.
    satisfaction : {"rating", "index"}, optional
        Record satisfaction as a 1–10 integer answer or as the continuous index; default
        ``"index"`` for ``kind="linear"``, else ``"rating"``.
    base_rate : float, default=0.72
        Approximate share of customers who repurchase.
    items_per_construct : int or dict, optional
        Generate an ECSI-style survey of multi-item constructs instead (Image, Expectation,
        Quality, Value, Satisfaction, Loyalty; items ``IMAG1, ...``) from a known structural
        model, for :func:`~driverkit.pls`; ``discrete=False`` gives continuous answers for
        which the truth is exact. The truth is in ``df.attrs["truth"]["pls"]`` and
        :func:`~driverkit.latent_truth` (see ``driverkit.data._latent``).

    Returns
    -------
    pandas.DataFrame
        Columns ``customer_id, segment, wave, weight``, the attributes (``truth["drivers"]``,
        stage order), ``brand_connection, satisfaction, recommend, repurchase, revenue`` and
        optionally ``imp_<driver>``. Rating columns are int64, or float64 holding integers
        and NaN when they have missing answers.

        ``df.attrs["truth"]`` (JSON-serialisable) holds: ``drivers``; ``outcome`` (the main
        outcome), ``intercept``, ``coef`` (and ``cuts`` for ordinal) of its equation;
        ``equations`` (``satisfaction``, ``repurchase``, ``recommend``: intercept, ``coef``,
        satisfaction and brand coefficients, ``penalty``/``reward`` per attribute when
        asymmetric, cut points, slopes); ``recover`` (the dk.fit call that recovers which
        ``params``, and whether it is ``exact``); ``chain`` (``a`` attribute → satisfaction,
        ``b`` satisfaction → repurchase, ``direct``, ``indirect`` = b·a, ``total``);
        ``kano`` (``class``, ``penalty``, ``reward`` in the main equation); ``shape`` and
        ``bands``; ``stages`` and ``stage_of``; ``scales``; ``ratings`` (latent means and
        sds, halo, stage loading, expected means per wave); ``segments`` (names, shares,
        rating shifts, revenue medians, slopes, ``null``); ``waves`` (rating shifts,
        ``expected_mean_change``, slopes); ``weights``; ``stated``; ``missing`` (rate per
        column); ``options`` (every argument, to regenerate).

    Notes
    -----
    Ratings: ``x_ij = clip(round(μ_j + shift_segment + shift_wave + σ_j z_ij), 1, 10)`` with
    ``z_ij = λ h_i + γ s_i,stage(j) + sqrt(1 − λ² − γ²) e_ij`` (halo ``h``, stage factor ``s``,
    all standard normal), giving inter-item correlations of about 0.3–0.55. Every equation
    uses ``u_j(x)``: the rating itself when ``asymmetric=False``; otherwise the band step
    ``L_j [x ≤ a] + H_j [x > b]`` with ``(L, H)`` = (−4.5, 0.5) for basic, (−2, 2) for
    performance and (−0.5, 4.5) for excitement attributes, so that penalty = coef·L and
    reward = coef·H are exactly the coefficients of the penalty–reward model
    (Brandt 1987; Mittal, Ross & Baldasare 1998).

    - satisfaction* = a₀ + Σ a_j u_j + ε, ε ~ N(0, 1); recorded as ``clip(round(·), 1, 10)``
      or as is (``satisfaction="index"``).
    - repurchase ~ Bernoulli(F(b₀ + Σ d_j u_j + c · satisfaction)), F logistic or normal;
      ``c = 0`` and ``d_j`` = the chain's total ``d_j + c a_j`` when ``chain=False``.
    - recommend: ordered logit, P(R ≤ r) = F(θ_r − Σ r_j u_j − r_S · satisfaction −
      r_B · brand_connection).

    The halo moves only the ratings, so every equation holds conditionally on the recorded
    answers: ``dk.fit(df, truth["recover"]["outcome"], truth["recover"]["drivers"],
    kind=kind)`` is exactly the generating family when ``truth["recover"]["exact"]``
    (``asymmetric=False`` and no slopes) and converges to ``truth["recover"]["params"]``.
    With ``chain=False`` that is ``dk.fit(df, "repurchase", truth["drivers"], kind="logit")``
    recovering ``truth["intercept"]`` and ``truth["coef"]``. Segment and wave rating shifts
    and the weights (which depend on the segment only) keep it exact.

    See Also
    --------
    true_effect : the exact effect of moving ratings, for checking simulators.
    load_demo : the shipped demo survey made by this generator.

    Examples
    --------
    >>> import driverkit as dk
    >>> df = dk.make_survey(n=500, n_drivers=4, seed=1)
    >>> df.attrs["truth"]["drivers"]
    ['website_ease', 'product_range', 'price_value', 'checkout_speed']
    >>> df.shape
    (500, 13)
    """
    if "items_per_construct" in options:  # latent constructs: a separate generator
        ipc = options.pop("items_per_construct")
        if ipc is not None:
            from ._latent import latent_survey

            return latent_survey(n, ipc, seed, **options)
    check_kwargs(options, _FUNC)
    n = _check_int(n, "n", 10)
    n_drivers = _check_int(n_drivers, "n_drivers", 1, MAX_DRIVERS)
    check_option(kind, "kind", KINDS, _FUNC)
    if seed is None:
        seed = int(np.random.SeedSequence().entropy)  # type: ignore[arg-type]
    seed = _check_int(seed, "seed", 0)
    opts: dict[str, Any] = {
        "asymmetric": bool(asymmetric), "chain": bool(chain),
        "segment_effects": segment_effects, "segment_slopes": segment_slopes,
        "waves": waves, "wave_effects": wave_effects, "wave_slopes": wave_slopes,
        "stated": bool(stated), "missing": missing, "halo": halo, "bands": tuple(bands),
        "kano": kano, "satisfaction": satisfaction, "base_rate": base_rate,
    }
    for name in ("missing", "halo", "base_rate"):
        v = opts[name]
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise DriverkitTypeError(
                f"The '{name}' parameter of {_FUNC}() must be a number. Got {v!r} instead.")
    truth = _build_truth(n, n_drivers, kind, seed, opts)
    return _draw(truth)


def true_effect(
    data: pd.DataFrame | Mapping[str, Any],
    changes: Mapping[str, float | Callable[[np.ndarray], np.ndarray]],
    *,
    outcome: str = "repurchase",
    weights: str | np.ndarray | None = None,
    truth: Mapping[str, Any] | None = None,
    n: int = 200_000,
    seed: int | None = None,
) -> float:
    """The true average effect of changing ratings, from the generating equations.

    Each respondent's ratings are changed (``{driver: shift}`` or ``{driver: f(x)}``) and
    clipped to 1–10; the effect is the (weighted) mean over respondents of the exact
    expected outcome after minus before, with satisfaction integrated over its error
    (so a change flows through the loyalty chain).

    Parameters
    ----------
    data : DataFrame or dict
        A survey from :func:`make_survey` (its ``attrs["truth"]`` is used unless ``truth``
        is given): the effect *for these respondents*, the target of a simulator that
        re-predicts them. Rows with a missing rating of a driver are left out. Or a truth
        dict: the population effect, computed on a fresh survey of ``n`` respondents drawn
        with ``seed`` (default: the truth's seed + 1).
    changes : dict
        ``{driver: number}`` shifts the rating (negative = cut); a callable maps the
        array of ratings to new ratings (e.g. ``lambda x: np.maximum(x, 7)``).
    outcome : {"repurchase", "satisfaction", "recommend", "nps"}, default="repurchase"
        Change in P(repurchase), in mean satisfaction (recorded scale), in mean recommend,
        or in NPS points (100·(P(9–10) − P(0–6))).
    weights : str or array, optional
        Column name or array of respondent weights (as the simulator's ``weights``).

    Returns
    -------
    float

    Notes
    -----
    Δ = Σ_i w_i [E(y | x'_i) − E(y | x_i)] / Σ_i w_i with x' = clip(change(x), 1, 10);
    ratings moved to fractional values use the bands low ≤ a < middle ≤ b < high.

    Examples
    --------
    >>> import driverkit as dk
    >>> from driverkit.data import true_effect
    >>> df = dk.make_survey(n=1000, asymmetric=False, chain=False, seed=3)
    >>> bool(true_effect(df, {"checkout_speed": 1}) > 0)
    True
    """
    check_option(outcome, "outcome", ("repurchase", "satisfaction", "recommend", "nps"),
                 "true_effect")
    if isinstance(data, pd.DataFrame):
        t = truth if truth is not None else data.attrs.get("truth")
        if not t:
            raise DriverkitError(
                "true_effect() needs the generating truth: pass a DataFrame from "
                "make_survey() (with attrs['truth']) or truth=...")
        df = data
    elif isinstance(data, Mapping):
        t = data
        opts = dict(t["options"])
        opts.pop("n")
        s = opts.pop("seed")
        df = make_survey(n=n, seed=s + 1 if seed is None else seed, **opts)
    else:
        raise DriverkitTypeError(
            f"true_effect() takes a survey DataFrame or a truth dict, got {type(data).__name__}.")
    drivers = list(t["drivers"])
    check_columns(df, [*drivers, BRAND, "segment", "wave"], role="survey column")
    for d in changes:
        if d not in drivers:
            raise DriverkitError(
                f"true_effect() cannot change {d!r}: it is not an attribute of the survey "
                f"({', '.join(drivers)}).")
    if isinstance(weights, str):
        check_columns(df, [weights], role="weights column")
        w = df[weights].to_numpy(dtype=float)
    elif weights is None:
        w = np.ones(len(df))
    else:
        w = np.asarray(weights, dtype=float)
        if w.shape != (len(df),):
            raise DriverkitError(
                f"true_effect() weights must have one value per row ({len(df)}); "
                f"got shape {w.shape}.")
    Xall = {d: df[d].to_numpy(dtype=float) for d in drivers}
    keep = np.ones(len(df), dtype=bool)
    for x in Xall.values():
        keep &= ~np.isnan(x)
    X = {d: x[keep] for d, x in Xall.items()}
    seg = df["segment"].astype(str).to_numpy()[keep]
    wave = df["wave"].to_numpy()[keep]
    brand = df[BRAND].to_numpy(dtype=float)[keep]
    w = w[keep]
    X1 = dict(X)
    for d, ch in changes.items():
        new = ch(X[d].copy()) if callable(ch) else X[d] + float(ch)
        X1[d] = np.clip(np.asarray(new, dtype=float), 1.0, 10.0)
    before = _expected(t, X, seg, wave, brand, outcome)
    after = _expected(t, X1, seg, wave, brand, outcome)
    return float(np.sum(w * (after - before)) / np.sum(w))
