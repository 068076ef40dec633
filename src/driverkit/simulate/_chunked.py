"""Scenarios over data that do not fit in memory: the simulator chunk by chunk.

A scenario's effect is a weighted average of respondent-level changes, so it is additive
over chunks: with the same parameter draws β⁽ˢ⁾ in every chunk (one seed),

    Δrate⁽ˢ⁾ = Σ_c W_c Δrate_c⁽ˢ⁾ / Σ_c W_c,

where W_c is the total weight of chunk c. The result equals an in-memory
:meth:`Simulator.run` on the same respondents (tested to 1e-12). Guardrails that need the
whole population (share moved outside the observed range) are not reported per chunk.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any

import numpy as np
import pandas as pd

from .._results import FrameResult
from .._validation import check_fraction, check_positive
from ..exceptions import DriverkitError, ExtrapolationWarning
from ._checks import _outcome_type
from ._scenario import as_scenarios
from ._simulator import Simulator
from ._summaries import score_columns

__all__ = ["ChunkedSimulationResult", "run_chunked"]


def run_chunked(model: Any, source: Any, scenarios: Any, *, weights: str | None = None,
                customers: float | None = None, revenue_per_customer: float | None = None,
                margin: float = 1.0, draws: int = 1000, seed: int = 0, ci: float = 0.95,
                chunksize: int | None = None, progress: bool | None = None
                ) -> ChunkedSimulationResult:
    """Simulate scenarios over a DataFrame, CSV/Parquet file(s) or dask frame, chunk by chunk.

    Parameters
    ----------
    model : DriverModel
        A fitted (or fixed) model; its numeric drivers are read from ``source``.
    source : DataFrame, path, list of paths or dask DataFrame
        The respondents (as for :func:`~driverkit.sufficient_stats`).
    scenarios : Scenario, list or dict
        As for :meth:`Simulator.run` (no segment scopes, no business-input distributions).
    weights : str, optional
        Column of survey weights.
    customers : float, optional
        Customers represented (default: the total weight).
    revenue_per_customer : float, optional
        Adds ``delta_customers``, ``delta_revenue`` and ``delta_profit`` columns.
    margin : float, default=1
    draws, seed, ci
        Parametric draws for the intervals; the same seed is used in every chunk so each
        draw is one parameter vector across the whole population.
    chunksize : int, optional
        Rows per chunk.
    progress : bool, optional

    Returns
    -------
    ChunkedSimulationResult
        ``.table``: one row per scenario, ``baseline_rate, scenario_rate, delta_rate`` with
        ``delta_rate_low/_high`` (and money columns when ``revenue_per_customer`` is given),
        plus ``cost`` and ``roi`` (Δprofit / cost; undefined, NaN, for cost ≤ 0 — compare
        ``delta_profit`` with the saving instead).

    Examples
    --------
    >>> import pandas as pd, driverkit as dk
    >>> from driverkit.simulate import run_chunked
    >>> m = dk.fixed_model("logit", intercept=-4.0, coef={"x1": 0.6, "x2": 0.3},
    ...                    scales={"x1": (1, 10), "x2": (1, 10)})
    >>> df = pd.DataFrame({"x1": [3, 6, 8, 10], "x2": [5, 7, 8, 4]})
    >>> t = run_chunked(m, df, {"x1": dk.shift(2)}, draws=10, chunksize=2)
    >>> round(float(t["delta_rate"].iloc[0]), 6)
    0.104999
    """
    from ..stats import map_chunks

    check_fraction(ci, "ci", "run_chunked")
    check_positive(margin, "margin", "run_chunked", strict=False)
    if isinstance(draws, bool) or not isinstance(draws, int) or draws < 1:
        raise DriverkitError(f"The 'draws' parameter of run_chunked() must be an integer >= 1. "
                             f"Got {draws!r} instead.")
    scen = as_scenarios(scenarios)
    score = _outcome_type(model, None) == "score"
    if score and (revenue_per_customer is not None or customers is not None):
        raise DriverkitError(
            "run_chunked(): the outcome is a score (scale points), so it has no customers or "
            "money; leave out customers= and revenue_per_customer= (or fit a binary model of "
            "the behaviour).")
    if any(s.segment is not None for s in scen):
        raise DriverkitError("run_chunked() does not take segment scopes; filter the source "
                             "to the segment instead.")
    columns = list(dict.fromkeys([*model.drivers, *([weights] if weights else [])]))
    work = functools.partial(_chunk_sums, model=model, scen=scen, weights=weights,
                             columns=columns, draws=draws, seed=seed)
    total_w, base, point, sums = map_chunks(work, source, columns, combine=_add,
                                            numeric=columns, chunksize=chunksize,
                                            progress=progress)
    if total_w <= 0:
        raise DriverkitError("run_chunked(): no complete respondents with positive weight.")
    lo_q, hi_q = (1 - ci) / 2, 1 - (1 - ci) / 2
    delta = point / total_w
    ddraws = sums / total_w
    out = pd.DataFrame(index=pd.Index([s.name for s in scen], name="scenario"))
    out["baseline_rate"] = base / total_w
    out["scenario_rate"] = out["baseline_rate"] + delta
    out["delta_rate"] = delta
    out["delta_rate_low"] = np.quantile(ddraws, lo_q, axis=1)
    out["delta_rate_high"] = np.quantile(ddraws, hi_q, axis=1)
    n_cust = total_w if customers is None else float(customers)
    cost = np.array([float(s.cost) for s in scen])
    if revenue_per_customer is not None:
        for name, factor in (("delta_customers", n_cust),
                             ("delta_revenue", n_cust * float(revenue_per_customer))):
            out[name] = delta * factor
            out[f"{name}_low"] = np.quantile(ddraws * factor, lo_q, axis=1)
            out[f"{name}_high"] = np.quantile(ddraws * factor, hi_q, axis=1)
        k = n_cust * float(revenue_per_customer) * margin
        prof = ddraws * k - cost[:, None]
        out["delta_profit"] = delta * k - cost
        out["delta_profit_low"] = np.quantile(prof, lo_q, axis=1)
        out["delta_profit_high"] = np.quantile(prof, hi_q, axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            out["roi"] = np.where(cost > 0, out["delta_profit"] / cost, np.nan)
    out["cost"] = cost
    table = score_columns(out) if score else out
    meta: dict[str, Any] = {"sum_weights": float(total_w), "customers": n_cust,
                            "draws": draws, "ci": ci}
    notes = ["Streamed chunk by chunk: every chunk uses the same parameter draws, so each "
             "draw is one parameter vector across the whole population (intervals equal the "
             "in-memory run's)."]
    return ChunkedSimulationResult(table, meta=meta, notes=notes)


class ChunkedSimulationResult(FrameResult):
    """Scenarios simulated over a source too large for memory (:func:`run_chunked`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per scenario, the columns of :class:`SimulationResult` (``baseline_rate,
        scenario_rate, delta_rate, delta_rate_low, delta_rate_high``, money columns with
        ``revenue_per_customer``, ``cost``, ``roi``). Also readable as ``result["delta_rate"]``
        (0.1 returned the table itself).
    """

    _title = "Simulated scenarios (streamed)"

    def _plot(self, ax: Any, column: str | None = None, **kwargs: Any) -> Any:
        from ..display._plots import table_bar

        col = column or ("delta_mean" if "delta_mean" in self.table.columns else "delta_rate")
        return table_bar(self.table, ax=ax, title=self.title, column=col, **kwargs)


def _chunk_sums(chunk: pd.DataFrame, *, model: Any, scen: list[Any], weights: str | None,
                columns: list[str], draws: int, seed: int
                ) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """Weighted sums of one chunk: (W_c, W_c·baseline, W_c·Δrate, W_c·Δrate⁽ˢ⁾)."""
    k = len(scen)
    chunk = chunk.dropna(subset=columns)
    w_c = float(chunk[weights].sum()) if weights else float(len(chunk))
    if chunk.empty or w_c <= 0:
        return 0.0, np.zeros(k), np.zeros(k), np.zeros((k, draws))
    with warnings.catch_warnings():
        # a chunk's observed range is narrower than the population's: its extrapolation
        # guardrail would be spurious
        warnings.simplefilter("ignore", ExtrapolationWarning)
        sim = Simulator(model, chunk, weights=weights, missing="raise")
        table = sim.run(scen, draws=0).table
        score = sim.outcome_type == "score"
        sums = np.stack([sim.value_draws(s, "mean" if score else "rate", draws=draws,
                                         seed=seed) for s in scen])
    base, delta = ("baseline_mean", "delta_mean") if score else ("baseline_rate", "delta_rate")
    return (w_c, w_c * table[base].to_numpy(), w_c * table[delta].to_numpy(), w_c * sums)


def _add(a: tuple[Any, ...], b: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(x + y for x, y in zip(a, b, strict=True))
