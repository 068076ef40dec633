"""Run every ``benchmarks/bench_*.py`` in turn and print their tables and a summary.

Usage::

    python benchmarks/run_all.py                 # all benchmarks
    python benchmarks/run_all.py importance scale # only those whose name contains a word
    python benchmarks/run_all.py --list

Each script runs in its own process with the same interpreter (so one benchmark's memory
or threads cannot disturb the next); its output is shown as it comes. The exit code is
non-zero when any benchmark failed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def scripts(words: list[str]) -> list[Path]:
    found = sorted(HERE.glob("bench_*.py"))
    if words:
        found = [p for p in found if any(w in p.stem for w in words)]
    return found


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("only", nargs="*", help="run only benchmarks whose name contains these")
    ap.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = ap.parse_args(argv)
    todo = scripts(args.only)
    if args.list or not todo:
        print("\n".join(p.name for p in todo) or "no benchmark matches")
        return 0 if todo else 1
    summary = []
    for path in todo:
        print(f"\n=== {path.name} " + "=" * max(0, 70 - len(path.name)), flush=True)
        start = time.perf_counter()
        rc = subprocess.call([sys.executable, str(path)], cwd=HERE.parent)
        summary.append((path.name, time.perf_counter() - start, rc))
    print("\n=== summary " + "=" * 62)
    print(f"{'benchmark':<32}{'seconds':>10}  status")
    for name, secs, rc in summary:
        print(f"{name:<32}{secs:>10.1f}  {'ok' if rc == 0 else f'FAILED (exit {rc})'}")
    return 0 if all(rc == 0 for *_x, rc in summary) else 1


if __name__ == "__main__":
    sys.exit(main())
