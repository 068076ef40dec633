"""Simulation over multiply imputed respondents (``Simulator(..., missing="impute")``).

Each scenario runs on every imputed copy of the respondents, so money is computed for the
whole customer base rather than the complete cases. Point estimates are averaged over the
copies; intervals are percentiles of the pooled draws (each copy contributing
``ceil(draws / m)`` draws), which carry both the model and the imputation uncertainty.
Without draws (delta method), the standard errors are pooled by Rubin's rules.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from ._result import SimulationResult

__all__ = ["pool_runs"]


def _pool_table(results: list[SimulationResult], ci: float) -> pd.DataFrame:
    first = results[0].table
    m = len(results)
    table = first.copy()
    numeric = [c for c in first.columns if pd.api.types.is_numeric_dtype(first[c])]
    points = [c for c in numeric if not c.endswith(("_low", "_high"))]
    stack = {c: np.stack([r.table[c].to_numpy(dtype=float) for r in results]) for c in numeric}
    for c in points:
        table[c] = stack[c].mean(axis=0)
    a = (1 - ci) / 2
    z = sps.norm.ppf(1 - a)
    for c in points:
        lo, hi = f"{c}_low", f"{c}_high"
        if lo not in first.columns:
            continue
        for i, name in enumerate(first.index):
            pooled = [r.draws(str(name)) for r in results]
            draws = [d[c].to_numpy(dtype=float) for d in pooled if c in d.columns and len(d)]
            if len(draws) == m:
                v = np.concatenate(draws)
                v = v[np.isfinite(v)]
                if v.size:
                    table.loc[name, lo] = np.quantile(v, a)
                    table.loc[name, hi] = np.quantile(v, 1 - a)
                    continue
            # delta-method intervals: Rubin's rules on the implied standard errors
            se = (stack[hi][:, i] - stack[lo][:, i]) / (2 * z)
            within = float(np.nanmean(se**2))
            between = float(np.var(stack[c][:, i], ddof=1)) if m > 1 else 0.0
            total = math.sqrt(within + (1 + 1 / m) * between)
            table.loc[name, lo] = table.loc[name, c] - z * total
            table.loc[name, hi] = table.loc[name, c] + z * total
    if "prob_profit_positive" in first.columns:
        for name in first.index:
            ds = [r.draws(str(name)) for r in results]
            if all("delta_profit" in d.columns and len(d) for d in ds):
                v = np.concatenate([d["delta_profit"].to_numpy(dtype=float) for d in ds])
                table.loc[name, "prob_profit_positive"] = float(np.mean(v > 0))
    return table


def _mean_frame(frames: list[pd.DataFrame]) -> pd.DataFrame:
    out = frames[0].copy()
    num = [c for c in out.columns if pd.api.types.is_numeric_dtype(out[c])]
    if num and all(f.shape == out.shape for f in frames):
        out[num] = np.mean([f[num].to_numpy(dtype=float) for f in frames], axis=0)
    return out


def pool_runs(results: list[SimulationResult], ci: float, n_rows: int) -> SimulationResult:
    """One result from the runs on ``m`` imputed copies (see the module notes)."""
    m = len(results)
    table = _pool_table(results, ci)
    first = results[0]
    draws = {}
    for name in table.index:
        ds = [r.draws(str(name)) for r in results]
        if all(len(d) for d in ds):
            draws[str(name)] = pd.concat(ds, ignore_index=True)
    meta: dict[str, Any] = dict(first.meta)
    meta["missing"] = "impute"
    meta["imputations"] = m
    notes = [*first.notes,
             f"Every scenario was run on each of {m} imputed copies of the {n_rows} "
             "respondents (skipped ratings imputed by chained equations with predictive mean "
             "matching) and pooled: point estimates averaged, intervals from the pooled draws."]
    return SimulationResult(table, by_driver=_mean_frame([r.by_driver for r in results]),
                            diagnostics=_mean_frame([r.diagnostics for r in results]),
                            uncertainty=first.uncertainty, draws=draws, meta=meta,
                            notes=notes)
