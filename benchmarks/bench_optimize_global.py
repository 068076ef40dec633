"""Budget allocation over S-shaped (Hill) cost curves: local search vs MILP starts.

Part 1: 40 random 3-driver problems (linear and logit fixed models, one saturating and two
Hill curves): the value of the local search alone (``global_start=False``), of the default
(piecewise-linear MILP starts polished by SLSQP) and of a brute-force grid over every split
of the budget (steps of 1/40). A plan counts as stuck when it is more than 0.1 % below the
grid's best. Part 2: time of the default on the demo survey with 12 Hill curves.

Usage: ``python benchmarks/bench_optimize_global.py``
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd

import driverkit as dk


def brute(sim, curves, budget, steps=40):
    names = list(curves)
    best = -np.inf
    for i in range(steps + 1):
        for k in range(steps + 1 - i):
            s = np.array([i, k, steps - i - k]) * budget / steps
            ops = {d: dk.shift(min(float(curves[d](v)), 9.0))
                   for d, v in zip(names, s, strict=True) if curves[d](v) > 0}
            best = max(best, sim.value(dk.Scenario("b", ops, cost=float(s.sum())), "rate"))
    return best


def case(trial):
    rng = np.random.default_rng(0)
    df = pd.DataFrame({f"x{j}": rng.integers(1, 6, 100).astype(float) for j in range(3)})
    r = np.random.default_rng(trial)
    kind = ["linear", "logit"][trial % 2]
    coef = {f"x{j}": float(r.uniform(0.05, 0.5)) for j in range(3)}
    m = dk.fixed_model(kind, intercept=-2.0 if kind == "logit" else 0.1, coef=coef,
                       scales={f"x{j}": (1, 10) for j in range(3)})
    curves = {"x0": dk.saturating(float(r.uniform(0.3, 1.5)), float(r.uniform(1e4, 1e5))),
              "x1": dk.hill(float(r.uniform(1, 4)), float(r.uniform(1e5, 6e5)),
                            float(r.uniform(2, 5))),
              "x2": dk.hill(float(r.uniform(1, 4)), float(r.uniform(1e5, 6e5)),
                            float(r.uniform(2, 5)))}
    return kind, dk.Simulator(m, df), curves, float(r.uniform(2e5, 1e6))


def main() -> None:
    warnings.simplefilter("ignore")
    rows = []
    for trial in range(40):
        kind, sim, curves, budget = case(trial)
        t0 = time.perf_counter()
        old = dk.optimize_budget(sim, curves, budget, objective="rate", global_start=False).value
        t1 = time.perf_counter()
        new = dk.optimize_budget(sim, curves, budget, objective="rate").value
        t2 = time.perf_counter()
        best = brute(sim, curves, budget)
        rows.append({"kind": kind, "old": old, "new": new, "grid": best,
                     "old_s": t1 - t0, "new_s": t2 - t1})
    t = pd.DataFrame(rows)
    tol = 1e-3 * t["grid"].abs()
    print("Part 1: 40 random 3-driver problems (20 linear, 20 logit)")
    print(f"{'search':<26}{'stuck':>8}{'worst gap':>12}{'median s':>10}")
    for name, col, sec in (("local search (old)", "old", "old_s"),
                           ("MILP starts (default)", "new", "new_s")):
        gap = (t["grid"] - t[col]) / t["grid"].abs()
        print(f"{name:<26}{int((t[col] < t['grid'] - tol).sum()):>8}"
              f"{100 * gap.max():>11.2f}%{t[sec].median():>10.2f}")
    print(f"{'grid best above default':<26}{int((t['grid'] > t['new'] + tol).sum()):>8}")

    df = dk.load_demo()
    drivers = df.attrs["truth"]["drivers"]
    m = dk.fit(df, "repurchase", drivers, kind="logit", scales=dict.fromkeys(drivers, (1, 10)))
    sim = dk.Simulator(m, df, revenue="revenue", customers=180_000, margin=0.35,
                       missing="drop")
    curves = {d: dk.hill(1.5, 2e5 * (1 + i % 3), 3.0) for i, d in enumerate(drivers)}
    times = {}
    for gs in (False, True):
        t0 = time.perf_counter()
        plan = dk.optimize_budget(sim, curves, 1e6, objective="profit", global_start=gs)
        times[gs] = (time.perf_counter() - t0, plan.value)
    print(f"\nPart 2: demo survey, {len(drivers)} Hill curves, budget 1M (profit)")
    print(f"{'search':<26}{'value':>14}{'seconds':>10}")
    print(f"{'local search (old)':<26}{times[False][1]:>14,.0f}{times[False][0]:>10.2f}")
    print(f"{'MILP starts (default)':<26}{times[True][1]:>14,.0f}{times[True][0]:>10.2f}")


if __name__ == "__main__":
    main()
