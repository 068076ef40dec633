"""The speed table of issue #16, measured now, beside the issue's "before" figures.

Usage::

    python benchmarks/bench_speed.py                # every row that took <= 60 s before
    python benchmarks/bench_speed.py --big          # also the rows that took minutes
    python benchmarks/bench_speed.py --repeat 3     # median of 3 runs per row
    python benchmarks/bench_speed.py --only sens    # rows whose key contains a word

Every workload runs in its own Python process (so imports, caches and memory of one row
cannot flatter the next), with the BLAS thread settings a user has by default: driverkit
limits BLAS to one thread itself wherever it runs its own threads. "before" is the
figure of the issue (measured alone on the reference 2-core machine); on a shared, loaded
machine the "now" column is slower than it would be alone, so compare ratios and quote
medians of several runs.

The GLM rows belong to the GLM engine; when ``benchmarks/bench_importance_glm.py`` provides
``issue16_rows()`` (a list of ``(key, callable)``) those callables are used, otherwise the
rows below time the public ``dk.importance`` call on the same workload.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


# --------------------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------------------
def ratings(n: int, p: int, *, kind: str = "logit", seed: int = 0) -> Any:
    """Correlated 1–10 ratings (halo factor) and a binary / 5-category / numeric outcome."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    halo = rng.normal(size=n)
    X = np.clip(np.round(6.5 + 1.3 * halo[:, None] + rng.normal(0, 1.4, (n, p))), 1, 10)
    eta = (X - 6.5) @ rng.uniform(0.0, 0.25, p)
    names = [f"d{j:02d}" for j in range(p)]
    df = pd.DataFrame(X, columns=names)
    if kind == "linear":
        df["y"] = eta + rng.normal(0, 1.0, n)
        return df, names
    eta = eta / max(float(eta.std()), 1e-9)
    if kind == "logit":
        df["y"] = (rng.random(n) < 1 / (1 + np.exp(-(0.3 + eta)))).astype(int)
    else:
        df["y"] = np.digitize(eta + rng.logistic(size=n), [-1.5, -0.5, 0.5, 1.5])
    return df, names


def churn(n: int = 5000, seed: int = 5) -> Any:
    """Telco-like churn data: 14 players (numbers, yes/no plans) and a 51-level ``state``."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    states = [f"S{i:02d}" for i in range(51)]
    df = pd.DataFrame({
        "account_length": rng.integers(1, 240, n),
        "intl_plan": rng.random(n) < 0.1,
        "vmail_plan": rng.random(n) < 0.28,
        "vmail_messages": rng.poisson(8, n),
        "day_minutes": rng.normal(180, 54, n).round(1),
        "day_calls": rng.poisson(100, n),
        "eve_minutes": rng.normal(200, 50, n).round(1),
        "eve_calls": rng.poisson(100, n),
        "night_minutes": rng.normal(200, 50, n).round(1),
        "night_calls": rng.poisson(100, n),
        "intl_minutes": rng.normal(10, 2.8, n).round(1),
        "intl_calls": rng.poisson(4.5, n),
        "service_calls": rng.poisson(1.5, n),
        "area_code": rng.choice([408.0, 415.0, 510.0], n),
        "state": rng.choice(states, n),
    })
    df["intl_plan"] = df["intl_plan"].astype(int)
    df["vmail_plan"] = df["vmail_plan"].astype(int)
    eta = (-6.0 + 2.0 * df["intl_plan"] - 0.8 * df["vmail_plan"] + 0.013 * df["day_minutes"]
           + 0.007 * df["eve_minutes"] + 0.5 * df["service_calls"] + 0.08 * df["intl_calls"]
           + rng.normal(0, 0.3, 51)[pd.factorize(df["state"], sort=True)[0]])
    df["churn"] = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    players = [c for c in df.columns if c not in ("churn", "state")]
    return df, players


def mobi() -> Any:
    """The ECSI mobile-phone survey (250 respondents; tests/data/mobi.csv), 14 items, and a
    yes/no outcome: loyalty item CUSL1 rated 8 or more."""
    import pandas as pd

    df = pd.read_csv(ROOT / "tests" / "data" / "mobi.csv")
    items = ["CUEX1", "CUEX2", "CUEX3", "CUSA1", "CUSA2", "CUSA3", "IMAG1", "IMAG2", "IMAG3",
             "IMAG4", "IMAG5", "PERQ1", "PERQ2", "PERQ3"]
    df["loyal"] = (df["CUSL1"] >= 8).astype(int)
    return df, items


# --------------------------------------------------------------------------------------
# workloads (each returns a short note; run in a fresh process by --row)
# --------------------------------------------------------------------------------------
def _imp(df: Any, y: str, names: list[str], **kw: Any) -> Any:
    import driverkit as dk

    return dk.importance(df, y, names, progress=False, **kw)


def _exact(df: Any, y: str, names: list[str], **kw: Any) -> str:
    """The issue's GLM rows are exact runs: ``max_time`` is lifted so that a slow pilot on
    a busy machine cannot send them to sampled Shapley values (the default would)."""
    res = _imp(df, y, names, max_time=1e9, **kw)
    how = "sampled" if res.meta.get("sampled") else "exact"
    return f"R² = {res.r2:.4f} ({how})"


def w_glm_boot12() -> str:
    df, names = ratings(2000, 12, seed=12)
    res = _imp(df, "y", names, kind="logit", bootstrap=1000, seed=1)
    return f"max SE {res.table['std_error'].max():.4f}"


def w_glm_boot_mobi() -> str:
    df, names = mobi()
    res = _imp(df, "loyal", names, kind="logit", bootstrap=1000, seed=1)
    return f"max SE {res.table['std_error'].max():.4f}"


def w_glm_p16() -> str:
    df, names = ratings(2000, 16, seed=16)
    return _exact(df, "y", names, kind="logit")


def w_glm_p20() -> str:
    df, names = ratings(2000, 20, seed=20)
    return _exact(df, "y", names, kind="logit", exact_max=20)


def w_churn14() -> str:
    df, players = churn()
    return _exact(df, "churn", players, kind="logit")


def w_churn_state() -> str:
    df, players = churn()
    return _exact(df, "churn", [*players, "state"], kind="logit")


def w_ord12() -> str:
    df, names = ratings(2000, 12, kind="ordinal", seed=12)
    return _exact(df, "y", names, kind="ordinal")


def w_ord15() -> str:
    df, names = ratings(2000, 15, kind="ordinal", seed=15)
    return _exact(df, "y", names, kind="ordinal")


def w_ord_boot() -> str:
    df, names = ratings(2000, 10, kind="ordinal", seed=10)
    res = _imp(df, "y", names, kind="ordinal", bootstrap=200, seed=1)
    return f"max SE {res.table['std_error'].max():.4f}"


def sensitivity_setup(n: int = 100_000, p: int = 10) -> Any:
    """The simulator of the sensitivity row (as benchmarks/bench_simulate.py, 10 drivers)."""
    import pandas as pd

    import driverkit as dk

    rng = np.random.default_rng(0)
    halo = rng.normal(size=n)
    drivers = [f"x{j + 1}" for j in range(p)]
    df = pd.DataFrame({d: np.clip(np.round(6.5 + 1.2 * halo + rng.normal(0, 1.5, n)), 1, 10)
                       for d in drivers})
    eta = -4.0 + sum(0.12 * df[d] for d in drivers)
    df["buy"] = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    df["revenue"] = rng.gamma(2.0, 150.0, n).round(2)
    m = dk.fit(df, "buy", drivers, kind="logit", scales=dict.fromkeys(drivers, (1, 10)))
    return dk.Simulator(m, df, customers=1e6, revenue="revenue", margin=0.3)


def w_sensitivity(sim: Any = None) -> str:
    sim = sim if sim is not None else sensitivity_setup()
    res = sim.sensitivity(draws=1000, seed=1)
    return f"{len(res.table)} curve points"


def w_linear30() -> str:
    df, names = ratings(2000, 30, kind="linear", seed=30)
    res = _imp(df, "y", names, exact_max=30)
    return f"|Σφ − R²| = {abs(res.table['importance'].sum() - res.r2):.1e}"


# (key, workload, before, goal, big, setup) — "before" and "goal" from the issue
ROWS: list[tuple[str, str, Callable[[], str] | None, str, str, bool]] = [
    ("glm_boot12", "logit Shapley + 1,000 bootstrap replicates, p=12, n=2,000",
     w_glm_boot12, "≈ 350 s", "≤ 60 s", True),
    ("glm_boot_mobi", "logit Shapley + 1,000 bootstrap replicates, p=14, n=250 (real survey)",
     w_glm_boot_mobi, "≈ 530 s", "≤ 60 s", True),
    ("glm_p16", "logit Shapley, p=16, n=2,000 (exact)", w_glm_p16, "7.1 s", "≤ 2 s", False),
    ("glm_p20", "logit Shapley, p=20, n=2,000 (exact)", w_glm_p20, "128 s", "≤ 30 s", True),
    ("churn14", "logit Shapley, churn n=5,000, 14 players", w_churn14, "4 s", "≤ 1 s", False),
    ("churn_state", "logit Shapley, churn n=5,000, + a 51-level factor", w_churn_state,
     "47 s", "≤ 5 s", False),
    ("ord12", "ordinal Shapley (5 categories), p=12, n=2,000", w_ord12, "0.8 s", "≤ 0.25 s",
     False),
    ("ord15", "ordinal Shapley (5 categories), p=15, n=2,000", w_ord15, "9.2 s", "≤ 3 s",
     False),
    ("ord_boot", "ordinal Shapley + 200 bootstrap replicates, p=10, n=2,000 (not in the "
     "issue's table)", w_ord_boot, "-", "-", False),
    ("sensitivity", "sim.sensitivity(), 10 drivers × 5 steps, 1,000 draws, n=100,000",
     w_sensitivity, "53 s", "≤ 5 s", False),
    ("linear30", "exact linear Shapley p=30 (n=2,000)", w_linear30, "25.8 s, 251 MB",
     "≤ 10 s", False),
    ("import", "python -c \"import driverkit\" (whole process)", None, "2.4 s", "≤ 0.5 s",
     False),
    ("demo", "driverkit demo (whole process; not in the issue's table)", None, "4.4 s", "-",
     False),
]


def _glm_overrides() -> dict[str, Callable[[], str]]:
    """Workloads provided by the GLM engine's own benchmark, if it offers them."""
    sys.path.insert(0, str(HERE))
    try:
        import bench_importance_glm as glm_bench
    except ImportError:
        return {}
    rows = getattr(glm_bench, "issue16_rows", None)
    return dict(rows()) if callable(rows) else {}


def run_row(key: str) -> dict[str, Any]:
    """Run one workload in this process: seconds, peak RSS and a note (printed as JSON)."""
    warnings.simplefilter("ignore")
    import driverkit as dk

    # the package loads its modules on first use: import them before the clock starts
    dk.importance, dk.Simulator, dk.fit  # noqa: B018
    fn = _glm_overrides().get(key) or next(r[2] for r in ROWS if r[0] == key)
    assert fn is not None
    setup = None
    if key == "sensitivity":  # data and fit are not part of the timed call
        setup = sensitivity_setup()
    t0 = time.perf_counter()
    note = fn(setup) if setup is not None else fn()  # type: ignore[call-arg]
    sec = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB -> MB (Linux)
    return {"seconds": sec, "peak_mb": peak, "note": note}


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    return env


def _child(key: str) -> dict[str, Any]:
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--row", key],
                         capture_output=True, text=True, env=_env(), cwd=ROOT)
    if out.returncode != 0:
        return {"error": (out.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def _process_seconds(args: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(args, capture_output=True, env=_env(), cwd=ROOT, check=True)
    return time.perf_counter() - t0


def measure(key: str, repeat: int) -> tuple[list[float], str]:
    if key == "import":
        secs = [_process_seconds([sys.executable, "-c", "import driverkit"])
                for _ in range(max(repeat, 5))]
        base = statistics.median(_process_seconds([sys.executable, "-c", "pass"])
                                 for _ in range(max(repeat, 5)))
        return secs, f"bare interpreter start-up {base:.2f} s"
    if key == "demo":
        with tempfile.TemporaryDirectory() as tmp:
            code = ("import sys; from driverkit.report.cli import main; "
                    f"sys.argv = ['driverkit', 'demo', '-o', {tmp!r}]; main()")
            secs = [_process_seconds([sys.executable, "-c", code]) for _ in range(repeat)]
        return secs, "report.html + report.xlsx written"
    secs, notes = [], []
    for _ in range(repeat):
        r = _child(key)
        if "error" in r:
            return [], f"FAILED: {r['error']}"
        secs.append(r["seconds"])
        notes.append(f"peak RSS {r['peak_mb']:.0f} MB; {r['note']}")
    return secs, notes[-1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--big", action="store_true", help="also the rows that took > 60 s before")
    ap.add_argument("--repeat", type=int, default=1, help="runs per row (median reported)")
    ap.add_argument("--only", nargs="*", default=[], help="rows whose key contains a word")
    ap.add_argument("--row", help=argparse.SUPPRESS)  # internal: run one workload, print JSON
    args = ap.parse_args(argv)
    if args.row:
        print(json.dumps(run_row(args.row)))
        return 0
    print("Issue #16 speed table (one process per row; 'now' = median of "
          f"{args.repeat} run(s); shared machine: compare ratios)\n")
    lines = ["| workload | before (issue) | now | goal | notes |", "|---|---|---|---|---|"]
    failed = False
    for key, label, _fn, before, goal, big in ROWS:
        if args.only and not any(w in key for w in args.only):
            continue
        if big and not args.big:
            lines.append(f"| {label} | {before} | (run with --big) | {goal} | |")
            continue
        secs, note = measure(key, args.repeat)
        now = f"{statistics.median(secs):.2f} s" if secs else "failed"
        if len(secs) > 1:
            note = f"runs {', '.join(f'{s:.2f}' for s in secs)}; {note}"
        failed |= not secs
        lines.append(f"| {label} | {before} | {now} | {goal} | {note} |")
        print(lines[-1], flush=True)
    print("\n" + "\n".join(lines))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
