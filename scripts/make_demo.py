"""Regenerate the demo survey shipped in ``src/driverkit/data/`` (byte for byte).

Usage::

    python scripts/make_demo.py           # rewrite demo_survey.csv.gz and demo_survey.json
    python scripts/make_demo.py --check   # exit 1 if the shipped files differ from a regeneration
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from driverkit.data._demo import CSV_NAME, JSON_NAME, demo_bytes, write_demo

DATA_DIR = Path(__file__).resolve().parents[1] / "src" / "driverkit" / "data"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="compare with the shipped files instead of writing them")
    args = parser.parse_args(argv)
    if args.check:
        gz, js = demo_bytes()
        ok = True
        for name, new in ((CSV_NAME, gz), (JSON_NAME, js)):
            path = DATA_DIR / name
            same = path.exists() and path.read_bytes() == new
            print(f"{name}: {'identical' if same else 'DIFFERS'}")
            ok &= same
        return 0 if ok else 1
    for path in write_demo(DATA_DIR):
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
