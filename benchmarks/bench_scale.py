"""Scale benchmark: 10 million respondents × 20 drivers from Parquet, on this machine.

One command::

    python benchmarks/bench_scale.py            # n = 10,000,000 (about 3-4 minutes)
    python benchmarks/bench_scale.py --n 1e6    # a quick run

Writes a synthetic survey (20 correlated 1-10 ratings with a halo factor, a continuous
satisfaction score and a 0/1 repurchase flag) to a Parquet file in a temporary directory,
then runs each step in a fresh subprocess and reports its wall time and peak memory
(``getrusage`` max RSS of the process; for Dask, the client plus both worker processes):

* ``pyarrow read_table``   - the reference: pyarrow alone reading the needed columns;
* ``stream + Shapley``     - ``dk.sufficient_stats(path)`` (streamed, bounded memory), the
  covariance, and exact Shapley over all 2^20 subsets (``dk.importance(data=stats)``);
* ``dask + Shapley``       - the same through ``dask.dataframe.read_parquet`` on a
  ``LocalCluster`` (2 worker processes, 1 thread each, 127.0.0.1);
* ``logit IRLS (stream)``  - ``driverkit.stats.logit_irls`` over the file, one pass per
  Newton iteration.

Targets (issue 9): peak memory <= 1.5 GiB, Shapley end to end <= 2x the pyarrow read,
logit <= 60 s.

Measured on the 2-core development VM (shared with other jobs; best of 3 for the first three
steps), n = 10^7, 180 MiB Parquet with 500k-row row groups:

    step                              wall s  x pyarrow  peak GiB
    pyarrow read_table (reference)      0.31       1.00      2.17
    stream + exact Shapley (2^20)       0.62       2.01      0.34
    dask LocalCluster + Shapley         2.03       6.57      1.36  (client + 2 workers)
    logit IRLS over the file            9.75      31.5       0.38  (8 Newton passes)

The streamed path runs at the machine's floor: decoding (the same work pyarrow does), one
copy into a cache-sized buffer and one BLAS ``syrk`` per chunk, on both cores. The Dask
path is dominated by Dask's own Parquet-to-pandas reading (a bare ``ddf.sum()`` takes
about 1 s here); Dask is for data spread over several machines, not for speed on one.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

GIB = 1024**3
P = 20
DRIVERS = [f"d{j:02d}" for j in range(P)]


def _maxrss_bytes() -> int:
    """Peak resident memory of this process (VmHWM; ru_maxrss would include the parent's
    high-water mark, which Linux carries across fork + exec)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


# ------------------------------------------------------------------------------ data
def write_data(path: str, n: int, seed: int = 0, block: int = 500_000) -> int:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    beta = np.linspace(0.05, 0.4, P)
    writer = None
    try:
        for start in range(0, n, block):
            m = min(block, n - start)
            halo = rng.normal(size=(m, 1))
            raw = 5.5 + 1.6 * (0.6 * halo + 0.8 * rng.normal(size=(m, P)))
            X = np.clip(np.rint(raw), 1, 10)
            sat = 1.0 + X @ beta * 0.5 + rng.normal(scale=1.5, size=m)
            eta = -7.0 + X @ beta * 0.4
            buy = (rng.random(m) < 1.0 / (1.0 + np.exp(-eta))).astype(np.float64)
            cols = {d: X[:, j] for j, d in enumerate(DRIVERS)}
            cols["satisfaction"] = sat
            cols["repurchase"] = buy
            table = pa.table(cols)
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema)
            writer.write_table(table, row_group_size=block)
    finally:
        if writer is not None:
            writer.close()
    return n


# ------------------------------------------------------------------------------ steps
def step_pyarrow(path: str) -> dict:
    import pyarrow.parquet as pq

    t = time.perf_counter()
    table = pq.read_table(path, columns=[*DRIVERS, "satisfaction"])
    wall = time.perf_counter() - t
    return {"wall": wall, "rows": table.num_rows}


def _importance():
    import driverkit as dk

    if hasattr(dk, "importance"):
        return dk.importance
    from driverkit.importance import importance

    return importance


def step_stream(path: str, chunksize: int | None) -> dict:
    import driverkit as dk

    importance = _importance()
    t = time.perf_counter()
    st = dk.sufficient_stats(path, [*DRIVERS, "satisfaction"], chunksize=chunksize,
                             progress=False)
    t_stats = time.perf_counter() - t
    res = importance(data=st, outcome="satisfaction", drivers=DRIVERS)
    wall = time.perf_counter() - t
    return {"wall": wall, "stats": t_stats, "shapley": wall - t_stats,
            "rows": st.n_obs, "r2": float(res.r2)}


def step_dask(path: str) -> dict:
    import dask.dataframe as dd
    import distributed

    import driverkit as dk

    importance = _importance()
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address="127.0.0.1:0",
                                  worker_dashboard_address=None,
                                  memory_limit="2GiB") as cluster, \
            distributed.Client(cluster) as client:
        # workers import driverkit once (as any long-running cluster would have)
        import importlib

        client.run(importlib.import_module, "driverkit.stats")
        t = time.perf_counter()
        ddf = dd.read_parquet(path, columns=[*DRIVERS, "satisfaction"], split_row_groups=True)
        st = dk.sufficient_stats(ddf, [*DRIVERS, "satisfaction"])
        t_stats = time.perf_counter() - t
        res = importance(data=st, outcome="satisfaction", drivers=DRIVERS)
        wall = time.perf_counter() - t
        workers = client.run(_maxrss_bytes)
    return {"wall": wall, "stats": t_stats, "shapley": wall - t_stats, "rows": st.n_obs,
            "r2": float(res.r2), "worker_rss": sum(workers.values()),
            "worker_rss_each": sorted(workers.values()), "n_workers": len(workers)}


def step_logit(path: str, chunksize: int | None) -> dict:
    from driverkit.stats import logit_irls

    t = time.perf_counter()
    fit = logit_irls(path, "repurchase", DRIVERS, chunksize=chunksize, progress=False)
    wall = time.perf_counter() - t
    return {"wall": wall, "rows": fit.n_obs, "iterations": fit.iterations,
            "passes": fit.passes, "r2": fit.r2}


def run_step(name: str, path: str, chunksize: int | None, repeat: int = 1) -> dict:
    fn = {"write": lambda: {"n": write_data(path, int(chunksize or 0))},
          "pyarrow": lambda: step_pyarrow(path), "stream": lambda: step_stream(path, chunksize),
          "dask": lambda: step_dask(path), "logit": lambda: step_logit(path, chunksize)}[name]
    out = fn()
    for _ in range(repeat - 1):  # best of `repeat` runs (the machine may be shared)
        again = fn()
        if again["wall"] < out["wall"]:
            out = again
    out["rss"] = _maxrss_bytes() + out.get("worker_rss", 0)
    return out


def in_subprocess(name: str, path: str, chunksize: int | None, repeat: int = 1) -> dict:
    cmd = [sys.executable, __file__, "--step", name, "--file", path, "--repeat", str(repeat)]
    if chunksize:
        cmd += ["--chunksize", str(chunksize)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"step {name!r} failed")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------ main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=float, default=10_000_000, help="rows (default 1e7)")
    ap.add_argument("--chunksize", type=int, default=None, help="rows per chunk")
    ap.add_argument("--no-dask", action="store_true", help="skip the Dask step")
    ap.add_argument("--no-logit", action="store_true", help="skip the logit step")
    ap.add_argument("--dir", default=None, help="where to write the Parquet file")
    ap.add_argument("--repeat", type=int, default=3,
                    help="best of this many runs for the read and Shapley steps (default 3)")
    ap.add_argument("--step", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--file", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.step:  # child process: run one step, print JSON
        print(json.dumps(run_step(args.step, args.file, args.chunksize, args.repeat)))
        return

    n = int(args.n)
    tmp = tempfile.mkdtemp(prefix="driverkit-bench-", dir=args.dir)
    path = os.path.join(tmp, "survey.parquet")
    try:
        t = time.perf_counter()
        in_subprocess("write", path, n)  # keeps this parent process small
        size = os.path.getsize(path)
        print(f"wrote {n:,} rows x {P} drivers (+ satisfaction, repurchase) to {path} "
              f"({size / 2**20:,.0f} MiB) in {time.perf_counter() - t:.1f} s; "
              f"{os.cpu_count()} CPUs", flush=True)
        steps = (["pyarrow", "stream"] + ([] if args.no_logit else ["logit"])
                 + ([] if args.no_dask else ["dask"]))
        res = {}
        for s in steps:
            rep = args.repeat if s in ("pyarrow", "stream", "dask") else 1
            res[s] = in_subprocess(s, path, args.chunksize, rep)
            print(f"  {s}: {res[s]}", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    ref = res["pyarrow"]["wall"]
    rows = [
        ("pyarrow read_table (reference)", res["pyarrow"], None, None),
        ("stream + exact Shapley (2^20)", res["stream"], 2 * ref, "<= 2x pyarrow"),
    ]
    if "logit" in res:
        rows.append(("logit IRLS over the file", res["logit"], 60.0, "<= 60 s"))
    if "dask" in res:
        rows.insert(2, ("dask LocalCluster + Shapley", res["dask"], 2 * ref, "<= 2x pyarrow"))
    print()
    print(f"n = {n:,} rows, p = {P} drivers, Parquet ({size / 2**20:,.0f} MiB)")
    hdr = (f"{'step':34s} {'wall s':>8s} {'x pyarrow':>9s} {'peak GiB':>9s}  "
           f"{'time target':>14s}  mem<=1.5  time")
    print(hdr)
    print("-" * len(hdr))
    for label, r, limit, target in rows:
        mem_ok = "ok" if r["rss"] <= 1.5 * GIB else "OVER"
        t_ok = "-" if limit is None else ("ok" if r["wall"] <= limit else "OVER")
        extra = ""
        if "stats" in r:
            extra = f"  (stats {r['stats']:.1f} s + Shapley {r['shapley']:.2f} s)"
        if "iterations" in r:
            extra = f"  ({r['iterations']} Newton iterations, {r['passes']} passes)"
        print(f"{label:34s} {r['wall']:8.2f} {r['wall'] / ref:9.2f} {r['rss'] / GIB:9.2f}  "
              f"{target or '':>14s}  {mem_ok:>8s}  {t_ok}{extra}")
    if "dask" in res:
        d = res["dask"]
        each = ", ".join(f"{v / GIB:.2f}" for v in d["worker_rss_each"])
        client_rss = d["rss"] - d["worker_rss"]
        print(f"(dask peak = client {client_rss / GIB:.2f} GiB + {d['n_workers']} worker "
              f"processes {each} GiB; workers had imported driverkit before timing)")


if __name__ == "__main__":
    main()
