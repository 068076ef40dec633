"""``progress=`` on long calls: one bar helper, validated the same way everywhere."""

from __future__ import annotations

import pytest

import driverkit as dk
from driverkit._progress import progress_bar
from driverkit.exceptions import DriverkitTypeError


def test_quiet_bar_has_the_bar_interface() -> None:
    with progress_bar(5, show=False, desc="x") as bar:
        bar.update(2)
        bar.set_postfix_str("half")
    assert type(bar).__name__ == "_Quiet"
    assert type(progress_bar(5, show=None, desc="x", long_run=False)).__name__ == "_Quiet"


def test_shown_bar_counts(capsys: pytest.CaptureFixture[str]) -> None:
    bar = progress_bar(4, show=True, desc="fits", unit="fit")
    bar.update(4)
    assert bar.n == 4
    bar.close()
    assert "fits" in capsys.readouterr().err


@pytest.fixture(scope="module")
def survey() -> tuple:
    df = dk.make_survey(200, items_per_construct=2, seed=4)
    return df, df.attrs["truth"]["pls"]


def test_pls_bootstrap_progress(survey: tuple, capsys: pytest.CaptureFixture[str]) -> None:
    df, t = survey
    quiet = dk.pls(df, t["constructs"], t["paths"], bootstrap=20, seed=1, progress=False)
    shown = dk.pls(df, t["constructs"], t["paths"], bootstrap=20, seed=1, progress=True)
    assert "pls bootstrap" in capsys.readouterr().err
    assert quiet.paths.equals(shown.paths)  # the bar never changes a number


@pytest.mark.parametrize("value", ["yes", 1, 0.5])
def test_bad_progress_values_are_refused(survey: tuple, value: object) -> None:
    df, t = survey
    with pytest.raises(DriverkitTypeError, match="'progress' parameter of pls"):
        dk.pls(df, t["constructs"], t["paths"], progress=value)
    drivers = [c for c in df.columns if c[-1].isdigit()][:3]
    with pytest.raises(DriverkitTypeError, match="'progress' parameter of importance"):
        dk.importance(df, drivers[0], drivers[1:], progress=value)
