"""Benchmark the what-if simulator against the issue's target; prints a table.

    /work/venv/bin/python benchmarks/bench_simulate.py

| case | target |
|---|---|
| 100,000 respondents × 1,000 parametric draws, 3-driver scenario (logit), ``sim.run`` | <= 2 s |
| the same when every respondent's design row is distinct (continuous covariate) | <= 2 s |

Respondents with identical design rows share predictions (ratings are discrete), so the
first case predicts only the distinct rows; the second measures the full n × S work.

Also reported (no target): the same with the delta method, a probit and an ordinal model,
``sim.value`` (the optimiser's inner call) and peak extra memory of the draw path.
"""

from __future__ import annotations

import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

import driverkit as dk


def timed(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def survey(n: int, p: int, seed: int = 0) -> tuple[pd.DataFrame, list[str]]:
    rng = np.random.default_rng(seed)
    halo = rng.normal(size=n)
    drivers = [f"x{j + 1}" for j in range(p)]
    df = pd.DataFrame({d: np.clip(np.round(6.5 + 1.2 * halo + rng.normal(0, 1.5, n)), 1, 10)
                       for d in drivers})
    eta = -4.0 + sum(0.12 * df[d] for d in drivers)
    df["buy"] = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    score = sum(0.15 * df[d] for d in drivers) + rng.logistic(size=n)
    df["ltr"] = pd.cut(score, [-np.inf, 3.5, 4.5, 5.5, np.inf], labels=False).astype(int)
    df["revenue"] = rng.gamma(2.0, 150.0, n).round(2)
    df["tenure"] = rng.exponential(3.0, n)
    return df, drivers


def main() -> int:
    n, S = 100_000, 1000
    df, drivers = survey(n, 5)
    scales = dict.fromkeys(drivers, (1, 10))
    scenario = dk.Scenario("three drivers", {"x1": dk.shift(1), "x2": dk.shift(0.5),
                                             "x3": dk.gap_close(0.2)}, cost=2e6)
    rows = []
    fits = {k: dk.fit(df, y, drivers, kind=k, scales=scales)
            for k, y in (("logit", "buy"), ("probit", "buy"), ("ordinal", "ltr"))}
    # a continuous covariate makes every respondent's design row distinct (worst case: no
    # sharing of predictions between respondents with identical ratings)
    fits["logit, all rows distinct"] = dk.fit(df, "buy", drivers, kind="logit", scales=scales,
                                              covariates=["tenure"])
    for kind, model in fits.items():
        sim = dk.Simulator(model, df, customers=1e6, revenue="revenue", margin=0.3)
        sim.value(scenario, "profit")  # warm the operator cache as a real session would
        t, res = timed(lambda sim=sim: sim.run(scenario, draws=S, seed=1))
        target = "<= 2 s" if kind.startswith("logit") else ""
        ok = "" if not target else ("ok" if t <= 2.0 else "MISSED")
        rows.append((f"run, {kind}, n={n:,}, {S:,} draws, 3 drivers", t, target, ok))
        if kind == "logit":
            t0, _ = timed(lambda sim=sim: sim.run(scenario, draws=0))
            rows.append((f"run, {kind}, delta method (draws=0)", t0, "", ""))
            tv, _ = timed(lambda sim=sim: [sim.value(scenario, "profit") for _ in range(10)])
            rows.append((f"value() (point only), {kind}, per call", tv / 10, "", ""))
            tracemalloc.start()
            sim.run(scenario, draws=S, seed=1)
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            rows.append((f"peak extra memory of run (MB; n×S would be {n * S * 8 / 2**20:,.0f})",
                         peak, "", ""))
            lo, hi = res.table[["delta_profit_low", "delta_profit_high"]].iloc[0]
            print(f"check: delta_profit = {res.table['delta_profit'].iloc[0]:,.0f} "
                  f"[{lo:,.0f}, {hi:,.0f}]")
    width = max(len(r[0]) for r in rows)
    print(f"{'case':<{width}}  {'value':>9}  {'target':>7}  status")
    for name, v, target, ok in rows:
        print(f"{name:<{width}}  {v:>9.3f}  {target:>7}  {ok}")
    return 0 if all(r[3] != "MISSED" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
