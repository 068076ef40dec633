"""Shared fixtures. Reference data live in tests/data (sources: tests/data/README.md)."""

from __future__ import annotations

import os
import pathlib

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

ROOT = pathlib.Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "tests" / "data"


def reference_path(name: str) -> pathlib.Path:
    """Path of a reference file in ``tests/data`` (never outside the repository)."""
    p = REFERENCE / name
    if not p.exists():
        raise FileNotFoundError(f"reference file {name!r} is not in tests/data; copy it there "
                                "with its source noted in tests/data/README.md")
    return p


@pytest.fixture(scope="session")
def ref():
    return reference_path


@pytest.fixture(scope="session")
def small_frame() -> pd.DataFrame:
    """A small synthetic survey with a factor, weights and all outcome types."""
    rng = np.random.default_rng(20261123)
    n = 400
    halo = rng.normal(size=n)
    a = np.clip(np.round(6.5 + 1.2 * halo + rng.normal(0, 1.3, n)), 1, 10)
    b = np.clip(np.round(7.0 + 0.8 * halo + rng.normal(0, 1.5, n)), 1, 10)
    c = np.clip(np.round(6.0 + 0.5 * halo + rng.normal(0, 1.8, n)), 1, 10)
    region = rng.choice(["north", "south", "east"], n)
    eta = -4.0 + 0.35 * a + 0.2 * b + 0.1 * c + 0.3 * (region == "south")
    df = pd.DataFrame(
        {
            "a": a, "b": b, "c": c, "region": region,
            "y_lin": eta + rng.normal(0, 1, n),
            "y_bin": (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int),
            "w": rng.uniform(0.4, 2.5, n),
        }
    )
    latent = eta + rng.logistic(size=n)
    df["y_ord"] = np.digitize(latent, [-1.0, 0.0, 1.0]).astype(int)
    return df


def pytest_configure(config):
    os.environ.setdefault("MPLBACKEND", "Agg")
