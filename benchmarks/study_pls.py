"""Simulation study of dk.pls on the latent-construct generator (slow; not part of the tests).

    python benchmarks/study_pls.py [--replicates 250] [--n 400] [--boot 999]

1. Truth recovery: one survey of n = 50,000 (continuous answers, for which the generator's
   truth is exactly the PLS estimand); every path coefficient within 4 bootstrap SEs of the
   truth.
2. Coverage: ``--replicates`` surveys of ``--n`` respondents, each with a ``--boot``-resample
   bootstrap; the share of 95 % intervals (percentile and BCa) that cover the true path
   coefficients should lie in 92–98 %.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

import numpy as np
import pandas as pd

import driverkit as dk


def recovery(n: int = 50_000) -> bool:
    df = dk.make_survey(n, items_per_construct=3, seed=2026, discrete=False)
    t = dk.latent_truth(df)
    m = dk.pls(df, t.constructs, t.paths, bootstrap=200, seed=1)
    tab = m.paths[["estimate", "std_error"]].join(t.coef.rename("truth"))
    tab["z"] = (tab["estimate"] - tab["truth"]) / tab["std_error"]
    print(f"\nTruth recovery, n = {n:,} (bootstrap SE from 200 resamples)")
    print(tab.round(4).to_string())
    ok = bool((tab["z"].abs() < 4).all())
    print(f"all paths within 4 SE: {ok}  (max |z| = {tab['z'].abs().max():.2f})")
    return ok


def coverage(R: int, n: int, B: int) -> bool:
    hits = {"percentile": [], "bca": []}
    truth = None
    t0 = time.perf_counter()
    for r in range(R):
        df = dk.make_survey(n, items_per_construct=3, seed=10_000 + r, discrete=False)
        t = dk.latent_truth(df)
        truth = t.coef
        for method in hits:
            m = dk.pls(df, t.constructs, t.paths, bootstrap=B, seed=r, ci_method=method)
            p = m.paths
            tr = truth.reindex(p.index).to_numpy()
            hits[method].append(((p["ci_low"] <= tr) & (tr <= p["ci_high"])).to_numpy())
    secs = time.perf_counter() - t0
    assert truth is not None
    out = pd.DataFrame({k: np.mean(v, axis=0) for k, v in hits.items()},
                       index=truth.reindex(m.paths.index).index)
    out.insert(0, "truth", truth.reindex(out.index).to_numpy())
    print(f"\nCoverage of 95% intervals: {R} surveys of n = {n}, B = {B} ({secs:.0f} s)")
    shown = out.assign(percentile=100 * out["percentile"], bca=100 * out["bca"])
    print(shown.round({"truth": 2, "percentile": 1, "bca": 1}).rename(
        columns={"percentile": "percentile %", "bca": "BCa %"}).to_string())
    mc = 100 * np.sqrt(0.95 * 0.05 / R)
    allp = {k: 100 * np.mean(v) for k, v in hits.items()}
    print(f"all paths: percentile {allp['percentile']:.1f}%, BCa {allp['bca']:.1f}% "
          f"(Monte Carlo SE per path ±{mc:.1f} points)")
    return all(92 <= v <= 98 for v in allp.values())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicates", type=int, default=250)
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--boot", type=int, default=999)
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore", dk.DriverkitWarning)
    ok1 = recovery()
    ok2 = coverage(args.replicates, args.n, args.boot)
    print(f"\nrecovery ok: {ok1}; coverage in 92–98 %: {ok2}")
    return 0 if ok1 and ok2 else 1


if __name__ == "__main__":
    sys.exit(main())
