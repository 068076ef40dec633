"""Benchmark of the batched GLM subset fits behind logit/ordinal importance (prints a table).

Usage::

    python benchmarks/bench_importance_glm.py          # standard set (about 15 s)
    python benchmarks/bench_importance_glm.py --full   # adds statsmodels loops at p = 12
                                                       # and for the ordinal model at p = 8

Every row fits all 2^p − 1 subset models at n = 2,000 respondents (correlated 1–10 ratings
with a halo factor) and computes McFadden's index for each. Targets on the reference 2-core
machine: logit p = 12 ≤ 1 s, p = 15 ≤ 10 s. For comparison, a plain loop of statsmodels
logit fits takes about 7 s at p = 12.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import statsmodels.api as sm
from statsmodels.miscmodels.ordinal_model import OrderedModel

from driverkit.importance._glm import glm_subset_values


def ratings(n: int, p: int, *, kind: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    halo = rng.normal(size=n)
    X = np.clip(np.round(6.5 + 1.3 * halo[:, None] + rng.normal(0, 1.4, (n, p))), 1, 10)
    eta = (X - 6.5) @ rng.uniform(0.0, 0.25, p)
    eta = eta / eta.std()
    if kind == "logit":
        y = (rng.random(n) < 1 / (1 + np.exp(-(0.3 + eta)))).astype(float)
    else:
        y = np.digitize(eta + rng.logistic(size=n), [-1.5, -0.5, 0.5, 1.5]).astype(float)
    return X, y


def timed(fn, repeat: int = 1):
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def statsmodels_loop(X: np.ndarray, y: np.ndarray, kind: str) -> np.ndarray:
    """McFadden of every subset from one statsmodels fit per subset (the naive approach)."""
    p = X.shape[1]
    ll = np.empty(1 << p)
    if kind == "logit":
        ll[0] = sm.Logit(y, np.ones((len(y), 1))).fit(disp=0).llf
    else:
        counts = np.bincount(y.astype(int))
        ll[0] = float(np.sum(counts * np.log(counts / counts.sum())))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for mask in range(1, 1 << p):
            cols = [j for j in range(p) if mask >> j & 1]
            if kind == "logit":
                ll[mask] = sm.Logit(y, sm.add_constant(X[:, cols])).fit(disp=0).llf
            else:
                ll[mask] = OrderedModel(y, X[:, cols], distr="logit").fit(
                    method="bfgs", disp=0, maxiter=1000).llf
    return 1 - ll / ll[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true",
                    help="also statsmodels loops at logit p = 12 and ordinal p = 8 (slow)")
    args = ap.parse_args()
    n = 2000
    rows: list[tuple[str, int, float, str, str]] = []

    def add(task: str, p: int, sec: float, target: str, note: str = "") -> None:
        rows.append((task, p, sec, target, note))
        print(f"  {task:<34} p = {p:<3d} {sec:8.3f} s  {target:<8} {note}", flush=True)

    print(f"Batched GLM subset fits, n = {n:,} (best of repeats; all 2^p − 1 models)")
    fits = {}
    for p, target, repeat in [(10, "-", 3), (12, "≤ 1 s", 3), (15, "≤ 10 s", 1)]:
        X, y = ratings(n, p, kind="logit", seed=p)
        sec, res = timed(lambda X=X, y=y: glm_subset_values(X, y), repeat)
        fits[p] = (X, y, res)
        add("logit McFadden, all subsets", p, sec, target,
            f"{(1 << p) / sec:,.0f} fits/s, ≤ {res.iterations} Newton its")
    # a bootstrap replicate: new weights, each subset warm-started from the full-sample fit
    X, y, res = fits[12]
    counts = np.random.default_rng(1).multinomial(n, np.full(n, 1 / n)).astype(float)
    sec, _ = timed(lambda: glm_subset_values(X, y, counts, start=res), 3)
    add("logit bootstrap replicate (start=)", 12, sec, "-", "warm start from full sample")
    for p, repeat in [(8, 3), (10, 3)]:
        X, y = ratings(n, p, kind="ordinal", seed=p)
        sec, res = timed(lambda X=X, y=y: glm_subset_values(X, y, kind="ordinal"), repeat)
        fits[("ord", p)] = (X, y, res)
        add("ordinal (5 cats) McFadden, all", p, sec, "-",
            f"{(1 << p) / sec:,.0f} fits/s, ≤ {res.iterations} Newton its")

    print("\nstatsmodels loop (one fit per subset) for comparison")
    loops = [(10, "logit")] + ([(12, "logit"), (8, "ordinal")] if args.full else [])
    for p, kind in loops:
        X, y, res = fits[p] if kind == "logit" else fits[("ord", p)]
        sec, ref = timed(lambda X=X, y=y, kind=kind: statsmodels_loop(X, y, kind))
        diff = float(np.max(np.abs(ref - res.v)))
        ours = next(r[2] for r in rows if r[1] == p and r[0].startswith(kind))
        add(f"statsmodels {kind} loop", p, sec, "-",
            f"{sec / ours:.0f}× slower; max |Δv| = {diff:.1e}")

    print("\n| task | p | seconds | target |")
    print("|---|---|---|---|")
    for task, p, sec, target, _ in rows:
        print(f"| {task} | {p} | {sec:.3f} | {target} |")


if __name__ == "__main__":
    main()
