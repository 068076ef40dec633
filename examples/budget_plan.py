"""A budget plan: where should next year's 600,000 CX budget go?

Each candidate driver has a cost curve (spend → achievable rating lift) from the operations
team. The optimiser spends the budget where the simulated profit is highest — using the
simulator's own numbers, so the plan's value is exactly what a simulation of the plan gives —
then sweeps the budget to show the efficient frontier. A second, discrete view picks from a
list of concrete initiatives (including a cut) with a mixed-integer programme.

Run::

    python examples/budget_plan.py [OUTPUT_DIR]
"""

from __future__ import annotations

import sys
import tempfile
import warnings
from pathlib import Path

import pandas as pd

import driverkit as dk
from driverkit.report import ReportFiles

BUDGET = 600_000.0
CUSTOMERS = 180_000
MARGIN = 0.35


def main(out_dir: str | Path | None = None) -> ReportFiles:
    out = Path(out_dir) if out_dir else Path(tempfile.mkdtemp(prefix="driverkit-example-"))
    df = dk.load_demo()
    drivers = df.attrs["truth"]["drivers"]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dk.MissingDataWarning)
        model = dk.fit(df, "repurchase", drivers, kind="logit", weights="weight",
                       scales=dict.fromkeys(drivers, (1, 10)))
        sim = dk.Simulator(model, df, revenue="revenue", weights="weight", margin=MARGIN,
                           customers=CUSTOMERS, missing="drop")

    # Spend -> rating lift, from the operations team (diminishing returns).
    curves = {
        "price_value": dk.saturating(max_lift=0.8, scale=250_000),
        "delivery_accuracy": dk.saturating(max_lift=0.6, scale=120_000),
        "phone_support": dk.saturating(max_lift=1.2, scale=200_000),
        "product_range": dk.saturating(max_lift=0.7, scale=300_000),
        "checkout_speed": dk.piecewise(spend=[0, 50_000, 150_000, 400_000],
                                       lift=[0, 0.2, 0.5, 0.7]),
    }
    plan = dk.optimize_budget(sim, curves, BUDGET, objective="profit")
    check = sim.run(plan.scenario, draws=500, seed=3)
    print(plan.summary())
    print(f"\nSimulated profit of the plan: {check.table['delta_profit'].iloc[0]:,.0f} "
          f"(95% interval {check.table['delta_profit_low'].iloc[0]:,.0f} to "
          f"{check.table['delta_profit_high'].iloc[0]:,.0f}); the optimiser reported "
          f"{plan.value:,.0f}.")

    budgets = [100_000, 200_000, 400_000, 600_000, 800_000, 1_000_000]
    front = dk.frontier(curves, budgets, simulator=sim, objective="profit", draws=200, seed=3)
    print("\nFrontier:")
    print(front[["budget", "value", "value_low", "value_high"]].round(0).to_string(index=False))

    # Concrete initiatives: a few projects and one cut, evaluated by the simulator.
    initiatives = pd.DataFrame({
        "cost": [250_000, 180_000, 120_000, 300_000, -150_000],
        "scenario": [
            dk.Scenario("price promise", {"price_value": dk.shift(0.5)}),
            dk.Scenario("accuracy checks", {"delivery_accuracy": dk.shift(0.4)}),
            dk.Scenario("callback service", {"phone_support": dk.shift(0.6)}),
            dk.Scenario("new assortment", {"product_range": dk.shift(0.5)}),
            dk.Scenario("fewer packaging options", {"packaging": dk.shift(-0.5)}),
        ],
    }, index=["price promise", "accuracy checks", "callback service", "new assortment",
              "fewer packaging options"])
    portfolio = dk.select_initiatives(initiatives, BUDGET, simulator=sim, objective="profit")
    print(f"\nChosen initiatives: {', '.join(portfolio.chosen)}; net cost "
          f"{portfolio.net_cost:,.0f}; joint profit {portfolio.value:,.0f} "
          f"(additivity gap {portfolio.additivity_gap:,.0f}).")

    files = dk.report(("Optimal allocation of the budget", plan), ("The plan, simulated", check),
                      ("Efficient frontier", front), ("Initiative portfolio", portfolio),
                      path=out / "budget_plan.html", title="CX budget plan",
                      subtitle=f"Budget {BUDGET:,.0f}; {CUSTOMERS:,} customers; margin "
                               f"{MARGIN:.0%}",
                      assumptions=["Cost curves and initiative effects are management "
                                   "estimates, not measured."])
    print(f"\nReport: {files.html}\nWorkbook: {files.excel}")
    return files


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
