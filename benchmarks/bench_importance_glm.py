"""Benchmark of logit/ordinal importance: all-subsets fits, bootstrap, many drivers, factors.

Usage::

    python benchmarks/bench_importance_glm.py          # standard rows (a few minutes)
    python benchmarks/bench_importance_glm.py --big    # also the long rows: 1,000 bootstrap
                                                       # replicates, p = 20, the 51-level factor
    python benchmarks/bench_importance_glm.py --kernel # also the kernel rows and statsmodels loops

Rows follow the table of the "speed where users still wait" issue; "before" is the figure
measured there (2-core machine, alone). Bootstrap rows without ``--big`` time a few
replicates and extrapolate to 1,000 (marked "est."). Wall-clock seconds of one process with
the default ``n_jobs`` (2 threads for replicates). Timings on a shared machine are noisy:
compare ratios.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import driverkit as dk
from driverkit.importance._glm import glm_subset_values

ROOT = Path(__file__).resolve().parents[1]


def ratings(n: int, p: int, *, kind: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Correlated 1–10 ratings with a halo factor; a 0/1 or 5-category outcome."""
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


def frame(n: int, p: int, kind: str, seed: int) -> tuple[pd.DataFrame, list[str]]:
    X, y = ratings(n, p, kind=kind, seed=seed)
    names = [f"q{j}" for j in range(p)]
    df = pd.DataFrame(X, columns=names)
    df["y"] = y.astype(int)
    return df, names


def churn(n: int = 5000, seed: int = 0, state: bool = False) -> tuple[pd.DataFrame, list[str]]:
    """Telco-like churn data: 14 players (binary, 3–4-level factors, tenure, charges)."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "senior": rng.random(n) < 0.16, "partner": rng.random(n) < 0.48,
        "dependents": rng.random(n) < 0.3, "phone": rng.random(n) < 0.9,
        "paperless": rng.random(n) < 0.59, "multiple_lines": rng.random(n) < 0.42,
        "security": rng.random(n) < 0.29, "support": rng.random(n) < 0.29,
        "contract": rng.choice(["month", "one_year", "two_year"], n, p=[0.55, 0.21, 0.24]),
        "internet": rng.choice(["dsl", "fiber", "none"], n, p=[0.34, 0.44, 0.22]),
        "payment": rng.choice(["electronic", "mail", "bank", "card"], n),
        "tenure": rng.integers(1, 73, n).astype(float),
    })
    df["monthly"] = np.round(20 + 80 * rng.random(n) + 10 * (df["internet"] == "fiber"), 2)
    df["total"] = np.round(df["monthly"] * df["tenure"] * rng.uniform(0.9, 1.1, n), 2)
    eta = (-1.0 + 1.2 * (df["contract"] == "month") + 0.8 * (df["internet"] == "fiber")
           - 0.03 * df["tenure"] + 0.4 * df["paperless"] + 0.3 * df["senior"])
    if state:
        df["state"] = rng.choice([f"S{j:02d}" for j in range(51)], n)
        eta = eta + 0.3 * rng.normal(size=51)[df["state"].str[1:].astype(int)]
    df["churn"] = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    drivers = [c for c in df.columns if c != "churn"]
    return df, drivers


def mobi() -> tuple[pd.DataFrame, list[str]]:
    """The 250-respondent ECSI survey (tests/data), 14 items, top-2-box satisfaction."""
    df = pd.read_csv(ROOT / "tests" / "data" / "mobi.csv")
    df["top2"] = (df["CUSA3"] >= 9).astype(int)
    items = [f"IMAG{i}" for i in range(1, 6)] + [f"PERQ{i}" for i in range(1, 8)]
    return df, [*items, "PERV1", "PERV2"]


def timed(fn) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--big", action="store_true", help="also the long rows")
    ap.add_argument("--kernel", action="store_true", help="also the kernel rows")
    args = ap.parse_args()
    rows: list[tuple[str, str, str, str, str]] = []

    def add(task: str, before: str, sec: float, goal: str, note: str = "") -> None:
        rows.append((task, before, f"{sec:.2f}", goal, note))
        print(f"  {task:<58} before {before:>7}  now {sec:8.2f} s  goal {goal:<7} {note}",
              flush=True)

    warnings.simplefilter("ignore")
    print("Logit/ordinal importance (wall-clock seconds)")

    # ---- bootstrap -----------------------------------------------------------------------
    for label, (df, drivers, outcome), before in [
        ("logit Shapley + 1,000 bootstrap, p = 12, n = 2,000",
         (*frame(2000, 12, "logit", 12), "y"), "350"),
        ("logit Shapley + 1,000 bootstrap, p = 14, n = 250 (mobi)",
         (*mobi(), "top2"), "530"),
    ]:
        B = 1000 if args.big else 10
        sec, res = timed(lambda df=df, drivers=drivers, outcome=outcome, B=B: dk.importance(
            df, outcome, drivers, kind="logit", bootstrap=B, seed=1, progress=False))
        point, _ = timed(lambda df=df, drivers=drivers, outcome=outcome: dk.importance(
            df, outcome, drivers, kind="logit"))
        total = sec if args.big else point + (sec - point) * 1000 / B
        add(label, before, total, "60", (f"{B} replicates" if args.big else
                                         f"est. from {B} replicates") +
            f"; failed {res.meta['replicates_failed']}, refitted "
            f"{res.meta['replicates_refitted']}")

    # ---- many drivers --------------------------------------------------------------------
    for p, before, goal in [(16, "7.1", "2"), (20, "128", "30")]:
        if p == 20 and not args.big:
            continue
        df, drivers = frame(2000, p, "logit", p)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            sec, res = timed(lambda df=df, drivers=drivers: dk.importance(
                df, "y", drivers, kind="logit", max_time=3600))
        said = [str(w.message) for w in caught if "estimated" in str(w.message)]
        add(f"logit Shapley exact, p = {p}, n = 2,000", before, sec, goal,
            said[0][said[0].index("estimated"):] if said else "no estimate shown")
    df, drivers = frame(2000, 16, "logit", 16)
    sec, res = timed(lambda: dk.importance(df, "y", drivers, kind="logit", max_time=2, seed=0))
    add("logit Shapley, p = 16, max_time = 2 s (sampled)", "-", sec, "2",
        f"{res.diagnostics.get('n_permutations', 0)} orders, max MC SE "
        f"{res.diagnostics.get('max_mc_se', float('nan')):.1e}")

    # ---- factors ---------------------------------------------------------------------------
    df, drivers = churn()
    sec, _ = timed(lambda: dk.importance(df, "churn", drivers, kind="logit"))
    add("logit Shapley, churn n = 5,000, 14 players", "4", sec, "1")
    if args.big:
        df, drivers = churn(state=True)
        sec, _ = timed(lambda: dk.importance(df, "churn", drivers, kind="logit",
                                             max_time=3600))
        add("logit Shapley, churn + 51-level state factor", "47", sec, "5")

    # ---- ordinal -----------------------------------------------------------------------------
    for p, before, goal in [(12, "0.8", "0.25"), (15, "9.2", "3")]:
        df, drivers = frame(2000, p, "ordinal", p)
        sec, _ = timed(lambda df=df, drivers=drivers: dk.importance(
            df, "y", drivers, kind="ordinal", max_time=3600))
        add(f"ordinal (5 categories) Shapley, p = {p}, n = 2,000", before, sec, goal)

    if args.kernel:
        for p in (10, 12):
            X, y = ratings(2000, p, kind="logit", seed=p)
            sec, _ = timed(lambda X=X, y=y: glm_subset_values(X, y))
            add(f"kernel: logit all subsets, p = {p}", "-", sec, "-")

    print("\n| workload | before (s) | now (s) | goal (s) | note |")
    print("|---|---|---|---|---|")
    for task, before, now, goal, note in rows:
        print(f"| {task} | {before} | {now} | ≤ {goal} | {note} |")


if __name__ == "__main__":
    main()
