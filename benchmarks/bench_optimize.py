"""Benchmark the optimisers against the issue's targets; prints a table.

    /work/venv/bin/python benchmarks/bench_optimize.py

| case | target |
|---|---|
| continuous allocation, 20 drivers, demo-sized survey (logit simulator) | <= 2 s |
| 200 initiatives with exclusive groups, dependencies, revenue at risk, areas | <= 2 s |
| 25-point frontier (continuous, 20 drivers; and discrete, 200 initiatives) | <= 20 s |
"""

from __future__ import annotations

import sys
import time
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


def survey_problem(n_drivers: int = 20) -> tuple[Any, dict[str, Any], str]:
    """A logit simulator on the demo survey (or a 20-driver generated survey)."""
    source = "dk.load_demo()"
    df = dk.load_demo()
    truth = df.attrs.get("truth", {})
    drivers = list(truth.get("drivers", []))
    if len(drivers) < n_drivers:
        df = dk.make_survey(n=2000, n_drivers=n_drivers, seed=1)
        truth = df.attrs.get("truth", {})
        drivers = list(truth.get("drivers", []))
        source = f"dk.make_survey(n=2000, n_drivers={n_drivers}) (demo has fewer drivers)"
    drivers = drivers[:n_drivers]
    model = dk.fit(df, "repurchase", drivers, kind="logit", scales=dict.fromkeys(drivers, (1, 10)))
    sim = dk.Simulator(model, df, customers=1_000_000, revenue_per_customer=500.0, margin=0.3)
    rng = np.random.default_rng(7)
    curves = {d: dk.saturating(float(rng.uniform(0.3, 1.5)), float(rng.uniform(2e5, 1e6)))
              for d in drivers}
    return sim, curves, source


def initiatives(n: int = 200, seed: int = 3) -> tuple[pd.DataFrame, dict[str, Any]]:
    rng = np.random.default_rng(seed)
    names = [f"I{k:03d}" for k in range(n)]
    cut = rng.random(n) < 0.2
    cost = np.where(cut, -rng.uniform(5, 60, n), rng.uniform(5, 100, n)).round(1)
    value = np.where(cut, -rng.uniform(0, 40, n), cost * rng.uniform(0.5, 4.0, n)).round(1)
    area = rng.choice(["stores", "digital", "service", "product", "staff"], n)
    frame = pd.DataFrame({"cost": cost, "delta_revenue": value, "area": area}, index=names)
    perm = rng.permutation(n)
    exclusive = [[names[i] for i in perm[3 * g: 3 * g + 3]] for g in range(20)]
    requires = {}
    for _ in range(30):
        a, c = sorted(rng.choice(n, 2, replace=False))
        requires[names[c]] = names[a]  # later requires earlier: acyclic
    options = {"exclusive": exclusive, "requires": requires, "max_revenue_at_risk": 300.0,
               "area_limits": {"stores": (2, 25), "digital": {"count": (1, 30), "cost": (0, 900)}}}
    return frame, options


def main() -> int:
    rows = []
    frame, options = initiatives()
    t, port = timed(lambda: dk.select_initiatives(frame, 1500.0, **options))
    rows.append(("200 initiatives, side constraints", t, 2.0,
                 f"{len(port.chosen)} chosen, value {port.value:,.1f}"))
    budgets = np.linspace(-300, 3000, 25)
    t, tab = timed(lambda: dk.frontier(frame, budgets, **options), repeat=1)
    rows.append(("25-point frontier, 200 initiatives", t, 20.0,
                 f"{int(tab['feasible'].sum())}/25 feasible"))
    if hasattr(dk, "Simulator"):
        demo_sim, demo_curves, _ = survey_problem(12)
        t, alloc = timed(lambda: dk.optimize_budget(demo_sim, demo_curves, 3e6))
        rows.append(("12-driver allocation on dk.load_demo() (profit)", t, 2.0,
                     f"{len(alloc.funded)} funded, {alloc.meta['simulator_calls']} sim calls"))
        sim, curves, source = survey_problem()
        budget = 3e6
        t, alloc = timed(lambda: dk.optimize_budget(sim, curves, budget, objective="profit"))
        check = sim.run(alloc.scenario, draws=0).table["delta_profit"].iloc[0]
        rows.append(("20-driver allocation (profit)", t, 2.0,
                     f"{source}; {len(alloc.funded)} funded, value == run: "
                     f"{alloc.value == check}, {alloc.meta['simulator_calls']} sim calls"))
        t, alloc = timed(lambda: dk.optimize_budget(sim, curves, budget, objective="revenue"))
        rows.append(("20-driver allocation (revenue)", t, 2.0,
                     f"{len(alloc.funded)} funded, marginal ROI {alloc.marginal_roi:.4g}"))
        cb = np.linspace(0, 6e6, 25)
        t, tab = timed(lambda: dk.frontier(curves, cb, simulator=sim, objective="profit",
                                           draws=200), repeat=1)
        rows.append(("25-point frontier, 20 drivers", t, 20.0, "intervals from 200 draws"))
    else:
        rows.append(("20-driver allocation", float("nan"), 2.0, "skipped: no dk.Simulator yet"))
    out = pd.DataFrame(rows, columns=["case", "seconds", "target_s", "detail"])
    out["ok"] = out["seconds"] <= out["target_s"]
    with pd.option_context("display.max_colwidth", 90, "display.width", 200):
        print(out.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return 0 if out["ok"].all() else 1


if __name__ == "__main__":
    sys.exit(main())
