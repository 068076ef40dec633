"""Benchmark the CX analyses on generator surveys; prints a table.

    /work/venv/bin/python benchmarks/bench_cx.py

No targets are set by the issue; the table records typical run times (best of 3) at a
tracking-study size (n = 3,000, 10 drivers) and at a large size (n = 50,000) so that
regressions show. Bootstrap-based analyses use the replicates stated in the case name.
"""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

import driverkit as dk


def timed(fn: Callable[[], Any], repeat: int = 3) -> float:
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def cases(n: int) -> list[tuple[str, Callable[[], Any]]]:
    df = dk.make_survey(n=n, kind="linear", seed=1, stated=True, waves=3)
    chain_df = dk.make_survey(n=n, asymmetric=False, satisfaction="index", seed=2)
    d = df.attrs["truth"]["drivers"]
    stages = df.attrs["truth"]["stages"]
    nps_m = dk.nps_model(chain_df, "recommend", d)
    scen = dk.Scenario("price +1", {"price_value": dk.shift(1)})
    return [
        ("nps (weighted)", lambda: dk.nps(df, "recommend", weights="weight")),
        ("nps_model (ordered logit, 0-10)", lambda: dk.nps_model(chain_df, "recommend", d)),
        ("delta_nps (1,000 draws)", lambda: dk.delta_nps(nps_m, chain_df, scen, seed=1)),
        ("penalty_reward (3 models)", lambda: dk.penalty_reward(df, "satisfaction", d)),
        ("stage_importance (Owen)", lambda: dk.stage_importance(df, "satisfaction", stages)),
        ("compare_segments (4 segs, B=200)",
         lambda: dk.compare_segments(df, "satisfaction", d, "segment", seed=1)),
        ("compare_waves (3 waves, B=200)",
         lambda: dk.compare_waves(df, "satisfaction", d, "wave", seed=1)),
        ("stated_vs_derived", lambda: dk.stated_vs_derived(df, "satisfaction", d, "imp_{}")),
        ("chain (Monte Carlo, 2,000 draws)",
         lambda: dk.chain(chain_df, "repurchase", d, mediator="satisfaction", seed=1)),
        ("chain (bootstrap B=200)",
         lambda: dk.chain(chain_df, "repurchase", d, mediator="satisfaction", bootstrap=200,
                          seed=1)),
    ]


def main() -> int:
    warnings.simplefilter("ignore")
    rows = []
    for n in (3_000, 50_000):
        for name, fn in cases(n):
            rows.append((name, n, timed(fn, repeat=3 if n <= 3_000 else 1)))
    w = max(len(r[0]) for r in rows)
    print(f"{'case':<{w}}  {'n':>7}  {'seconds':>8}")
    print("-" * (w + 19))
    for name, n, t in rows:
        print(f"{name:<{w}}  {n:>7,}  {t:>8.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
