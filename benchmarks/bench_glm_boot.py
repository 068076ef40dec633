"""Bootstrap replicates of logit Shapley values: CPU seconds per replicate, and agreement.

Usage::

    python benchmarks/bench_glm_boot.py              # 20 replicates per workload
    python benchmarks/bench_glm_boot.py --reps 50

For the two bootstrap rows of ``bench_speed.py`` (p = 12, n = 2,000 simulated ratings; the
250-respondent ECSI mobile-phone survey with 14 items and a top-2-box outcome) this times
the replicate step alone, single-threaded BLAS, on a scaled-down number of replicates:

* ``engine``: each replicate fitted by the all-subsets engine, every subset warm-started
  from its full-sample estimates (``replicate_values(..., fast=False)``);
* ``shared``: the chunk fitted together from the full-sample solutions
  (:mod:`driverkit.importance._glm_replicates`, the default).

It prints CPU milliseconds per replicate (median of ``--repeat`` runs, alternating the two
paths so that both see the same machine load), the extrapolated CPU seconds for 1,000
replicates and the wall seconds on 2 threads if they scale perfectly, and the largest
difference between the two paths' subset fit indices (they must agree to 1e-8).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))


def workloads() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    from bench_speed import mobi, ratings

    df, names = ratings(2000, 12, seed=12)
    out = {"p=12, n=2,000": (df[names].to_numpy(float), df["y"].to_numpy(float))}
    df, names = mobi()
    out["mobi p=14, n=250"] = (df[names].to_numpy(float), df["loyal"].to_numpy(float))
    return out


def main(argv: list[str] | None = None) -> int:
    from driverkit.importance._bootstrap import resample_counts
    from driverkit.importance._glm import glm_subset_values
    from driverkit.importance._glm_boot import replicate_values
    from driverkit.stats._subsets import single_threaded_blas

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=20, help="replicates per timed run")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per path (median)")
    args = ap.parse_args(argv)
    print(f"{'workload':<18}{'path':<8}{'ms/rep':>9}{'1,000 reps: CPU s':>19}"
          f"{'wall s (2 thr)':>16}{'max |Δv|':>11}")
    for name, (X, y) in workloads().items():
        full = glm_subset_values(X, y, np.ones(len(y)), weight_type="none")
        W = resample_counts(len(y), args.reps, np.random.default_rng(1)).astype(float)
        times: dict[bool, list[float]] = {True: [], False: []}
        values: dict[bool, np.ndarray] = {}
        with single_threaded_blas():
            for _ in range(args.repeat):
                for fast in (False, True):
                    t0 = time.process_time()
                    v, _ = replicate_values(X, y, W, full, weight_type="none", fast=fast)
                    times[fast].append((time.process_time() - t0) / args.reps)
                    values[fast] = v
        diff = float(np.nanmax(np.abs(values[True] - values[False])))
        for fast in (False, True):
            ms = statistics.median(times[fast]) * 1e3
            print(f"{name:<18}{'shared' if fast else 'engine':<8}{ms:>9.1f}"
                  f"{ms:>19.0f}{ms / 2:>16.0f}{diff if fast else float('nan'):>11.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
