"""Benchmark PLS path models (dk.pls); prints a table.

    python benchmarks/bench_pls.py

Cases: the mobi ECSI model (250 × 24) estimated, bootstrapped 5,000 times (percentile and
BCa), IPMA with intervals, a 100,000-respondent × 40-item survey, the simulator with a link
to repurchase, and (when the seminr Python port is installed) its 1,000-resample bootstrap
for the ratio. Wall-clock times are the best of ``repeat`` runs; CPU seconds are shown too
because the machine may be shared (wall time then overstates the cost).
The issue's target: 5,000 resamples of the 250 × 24 survey in <= 1 s.
"""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import driverkit as dk

HERE = Path(__file__).resolve().parent
MOBI = HERE.parent / "tests" / "data" / "pls_mobi" / "mobi.csv"
CONS = {"Image": [f"IMAG{i}" for i in range(1, 6)], "Expectation": ["CUEX1", "CUEX2", "CUEX3"],
        "Quality": [f"PERQ{i}" for i in range(1, 8)], "Value": ["PERV1", "PERV2"],
        "Satisfaction": ["CUSA1", "CUSA2", "CUSA3"], "Complaints": ["CUSCO"],
        "Loyalty": ["CUSL1", "CUSL2", "CUSL3"]}
PATHS = {"Expectation": ["Image"], "Quality": ["Expectation"], "Value": ["Expectation", "Quality"],
         "Satisfaction": ["Image", "Expectation", "Quality", "Value"],
         "Complaints": ["Satisfaction"], "Loyalty": ["Image", "Satisfaction", "Complaints"]}


def timed(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, float]:
    best, cpu = np.inf, np.inf
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        best = min(best, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
    return best, cpu


def seminr_case(df: pd.DataFrame) -> Callable[[], Any] | None:
    try:
        import seminr as s
    except ImportError:
        return None
    mm = s.constructs(*[s.composite(k, v) for k, v in CONS.items()])
    sm = s.relationships(*[s.paths(from_=a, to=t) for t, srcs in PATHS.items() for a in srcs])
    model = s.estimate_pls(df, mm, sm)
    return lambda: s.bootstrap_model(model, 1000, seed=1, cores=1)


def main() -> int:
    warnings.simplefilter("ignore", dk.DriverkitWarning)
    mobi = pd.read_csv(MOBI)
    big = dk.make_survey(100_000, items_per_construct={"Image": 7, "Expectation": 6,
                                                        "Quality": 9, "Value": 6,
                                                        "Satisfaction": 6, "Loyalty": 6},
                         seed=1)
    bt = dk.latent_truth(big)
    fitted = dk.pls(mobi, CONS, PATHS, scales=(1, 10), bootstrap=5000, seed=1)
    sdf = dk.make_survey(2000, items_per_construct=3, seed=3)
    st = dk.latent_truth(sdf)
    sm = dk.pls(sdf, st.constructs, st.paths, scales=(1, 10), weights="weight")
    sim = dk.Simulator(sm, sdf, target="Loyalty", link="repurchase", customers=1e6,
                       revenue="revenue", margin=0.3)
    scen = dk.Scenario("quality +1", {"Quality": dk.shift(1)}, cost=1e6)

    def ipma() -> None:
        fitted.ipma("Loyalty")
        fitted.ipma("Loyalty", level="item")
        fitted.impact("Loyalty")

    rows: list[tuple[str, Callable[[], Any], int]] = [
        ("mobi ECSI estimate (250 x 24)", lambda: dk.pls(mobi, CONS, PATHS), 5),
        ("mobi bootstrap 5,000 (percentile)",
         lambda: dk.pls(mobi, CONS, PATHS, bootstrap=5000, seed=1), 3),
        ("mobi bootstrap 5,000 (BCa, + jackknife)",
         lambda: dk.pls(mobi, CONS, PATHS, bootstrap=5000, seed=1, ci_method="bca"), 3),
        ("mobi IPMA + impacts with intervals (given B=5,000)", ipma, 3),
        ("mobi bootstrap 5,000 + IPMA (construct, item)",
         lambda: dk.pls(mobi, CONS, PATHS, scales=(1, 10), bootstrap=5000, seed=1).ipma(
             "Loyalty", level="item"), 3),
        ("100,000 x 40 items estimate", lambda: dk.pls(big, bt.constructs, bt.paths), 3),
        ("100,000 x 40 items bootstrap 200",
         lambda: dk.pls(big, bt.constructs, bt.paths, bootstrap=200, seed=1), 1),
        ("simulator + link (2,000 x 18), 1,000 draws",
         lambda: sim.run(scen, draws=1000, seed=1), 3),
    ]
    sem = seminr_case(mobi)
    print(f"{'case':<52}{'wall s':>9}{'cpu s':>9}")
    results = {}
    for name, fn, rep in rows:
        wall, cpu = timed(fn, rep)
        results[name] = wall
        print(f"{name:<52}{wall:>9.3f}{cpu:>9.3f}", flush=True)
    if sem is not None:
        wall, cpu = timed(sem, 1)
        print(f"{'seminr port bootstrap 1,000 (reference)':<52}{wall:>9.3f}{cpu:>9.3f}")
        per = results["mobi bootstrap 5,000 (percentile)"] / 5000
        print(f"ratio per resample (seminr / driverkit): {wall / 1000 / per:,.0f}x")
    else:
        print("seminr Python port not installed: no ratio")
    return 0


if __name__ == "__main__":
    sys.exit(main())
