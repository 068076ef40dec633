"""Fixtures for the CX tests: generator surveys with known truth (attrs stripped copies)."""

from __future__ import annotations

import pytest

import driverkit as dk


@pytest.fixture(scope="session")
def survey_linear():
    """Satisfaction as a continuous index, asymmetric attributes, stated importance, 3 waves."""
    return dk.make_survey(n=3000, kind="linear", seed=11, stated=True, waves=3)


@pytest.fixture(scope="session")
def survey_chain():
    """Linear attributes, the loyalty chain, satisfaction recorded as the index."""
    return dk.make_survey(n=3000, asymmetric=False, satisfaction="index", seed=5)
