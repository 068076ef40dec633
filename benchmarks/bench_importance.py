"""Benchmark of the relative-importance engine (one command, prints a table).

Usage::

    python benchmarks/bench_importance.py          # the standard set (about a minute)
    python benchmarks/bench_importance.py --big    # also exact p = 30 (a few minutes)

Targets on the reference 2-core machine: exact Shapley p = 20 ≤ 0.1 s, p = 25 ≤ 5 s,
p = 30 within 24 GiB; bootstrap p = 12 × 1000 ≤ 5 s; logit McFadden dominance p = 12 ≤ 1 s,
p = 15 ≤ 10 s; sampled Shapley p = 100 with SE ≤ 0.001 in ≤ 10 s.
"""

from __future__ import annotations

import argparse
import resource
import time
import warnings

import numpy as np
import pandas as pd

import driverkit as dk
from driverkit.stats._subsets import available_memory, estimate_cost


def survey(n: int, p: int, *, seed: int = 0, binary: bool = False) -> tuple[pd.DataFrame, list]:
    """Correlated 1–10 ratings with a halo factor and an outcome."""
    rng = np.random.default_rng(seed)
    halo = rng.normal(size=n)
    X = np.clip(np.round(6.5 + 1.3 * halo[:, None] + rng.normal(0, 1.4, (n, p))), 1, 10)
    beta = rng.uniform(0.0, 0.25, p)
    eta = (X - 6.5) @ beta
    names = [f"d{i:03d}" for i in range(p)]
    df = pd.DataFrame(X, columns=names)
    if binary:
        eta = eta / max(eta.std(), 1e-9)
        df["y"] = (rng.random(n) < 1 / (1 + np.exp(-(0.3 + eta)))).astype(int)
    else:
        df["y"] = eta + rng.normal(0, 1.0, n)
    return df, names


def timed(fn, repeat: int = 1) -> tuple[float, object]:
    best = np.inf
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--big", action="store_true", help="also run exact p = 30")
    ap.add_argument("--quick", action="store_true", help="skip p = 25 and the logit p = 15")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    rows: list[dict[str, object]] = []

    def add(task: str, seconds: float, target: str, detail: str = "") -> None:
        rows.append({"task": task, "seconds": round(seconds, 3), "target": target,
                     "detail": detail})
        print(f"  {task:<44} {seconds:9.3f} s   (target {target}) {detail}", flush=True)

    print("driverkit importance benchmark (n = 2,000 respondents)")
    for p in [10, 15, 20] + ([] if args.quick else [25]):
        df, names = survey(2000, p, seed=p)
        sec, res = timed(lambda df=df, names=names: dk.importance(df, "y", names),
                         repeat=3 if p <= 20 else 1)
        target = {20: "≤ 0.1 s", 25: "≤ 5 s"}.get(p, "-")
        add(f"exact Shapley p = {p} (2^{p} subsets)", sec, target,
            f"R² = {res.r2:.4f}, |Σφ − R²| = {abs(res.table['importance'].sum() - res.r2):.1e}")

    # largest exact p: memory is bounded (streaming blocks); time grows as 2^p
    for p in (26, 28, 30):
        est = estimate_cost(p)
        fits = est["bytes"] < available_memory()
        print(f"  estimate exact p = {p}: {est['seconds']:.0f} s, "
              f"{est['bytes'] / 2**20:.0f} MiB working memory, fits: {fits}")
    if args.big:
        df, names = survey(2000, 30, seed=30)
        sec, res = timed(lambda: dk.importance(df, "y", names, exact_max=30, progress=False))
        add("exact Shapley p = 30 (2^30 subsets)", sec, "≤ 24 GiB",
            f"peak RSS {peak_rss_gib():.2f} GiB, "
            f"|Σφ − R²| = {abs(res.table['importance'].sum() - res.r2):.1e}")

    df, names = survey(2000, 12, seed=12)
    sec, res = timed(lambda: dk.importance(df, "y", names, bootstrap=1000, seed=1,
                                           progress=False))
    add("bootstrap p = 12 x 1000 replicates", sec, "≤ 5 s",
        f"max SE {res.table['std_error'].max():.4f}")
    sec, res = timed(lambda: dk.importance(df, "y", names, bootstrap=1000, seed=1,
                                           ci_method="bca", progress=False))
    add("bootstrap p = 12 x 1000 (BCa, jackknife)", sec, "-")

    try:
        from driverkit.importance import _glm  # noqa: F401

        have_glm = True
    except ImportError:
        have_glm = False
    if have_glm:
        for p in [10, 12] + ([] if args.quick else [15]):
            dfb, names = survey(2000, p, seed=100 + p, binary=True)
            sec, res = timed(lambda dfb=dfb, names=names: dk.importance(
                dfb, "y", names, kind="logit", method="dominance", fit_index="mcfadden"))
            target = {12: "≤ 1 s", 15: "≤ 10 s"}.get(p, "-")
            add(f"logit McFadden dominance p = {p}", sec, target,
                f"McFadden R² = {res.r2:.4f}")
    else:
        print("  (logit dominance skipped: driverkit.importance._glm not available)")

    df, names = survey(2000, 100, seed=100)
    sec, res = timed(lambda: dk.importance(df, "y", names, tolerance=0.001, seed=1))
    d = res.diagnostics
    add("sampled Shapley p = 100, max MC SE ≤ 0.001", sec, "≤ 10 s",
        f"{d['n_permutations']:,} orders, max SE {d['max_mc_se']:.5f}, {d['stopped_by']}")

    print()
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
