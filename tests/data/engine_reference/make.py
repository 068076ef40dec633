"""Regenerate ``values.npz``: driverkit's subset-engine outputs frozen before the issue #16
speed work (commit e0cdacb, 2026-11-30, with the
separation fix of the next commit), so every faster engine is held to the same numbers.

Run from the repository root: ``python tests/data/engine_reference/make.py``. Regenerate only
when a value is meant to change (say why in the CHANGELOG). The problems themselves are built
by ``problems()`` in ``tests/importance/test_engine_regression.py``; the independent references
(statsmodels fits, brute force, closed forms) live in the other tests.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "importance"))

from test_engine_regression import compute_all  # noqa: E402

if __name__ == "__main__":
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        values = compute_all()
    np.savez_compressed(HERE / "values.npz", **values)
    print(f"{len(values)} arrays written to {HERE / 'values.npz'}")
