"""Exception and warning classes raised by driverkit.

Every error that comes from bad user input derives from :class:`DriverkitError`
(a :class:`ValueError`) or :class:`DriverkitTypeError` (a :class:`TypeError`), and its
message names the culprit (column, parameter, driver) and says what to do.
Warnings have their own classes so that users can filter them individually::

    import warnings
    import driverkit as dk
    warnings.simplefilter("ignore", dk.CollinearityWarning)
"""

from __future__ import annotations

__all__ = [
    "CollinearityWarning",
    "ColumnNotFoundError",
    "ConvergenceWarning",
    "DataError",
    "DataQualityWarning",
    "DriverkitError",
    "DriverkitTypeError",
    "DriverkitWarning",
    "ExtrapolationWarning",
    "InfeasibleError",
    "MeasurementWarning",
    "MissingDataWarning",
    "ScaleWarning",
    "SeparationError",
    "SmallSampleWarning",
    "SuppressorWarning",
    "WaveOrderWarning",
]


class DriverkitError(ValueError):
    """Base class for errors caused by invalid input values."""


class DriverkitTypeError(TypeError):
    """An argument has the wrong type."""


class DataError(DriverkitError):
    """The data cannot be used as given (non-numeric ratings, constant columns, ...)."""


class ColumnNotFoundError(DataError):
    """A column named in the call is not in the data."""


class SeparationError(DataError):
    """Perfect or quasi-complete separation in a binary model: the MLE does not exist."""


class InfeasibleError(DriverkitError):
    """An optimisation problem has no feasible solution; the message names the constraint."""


class DriverkitWarning(UserWarning):
    """Base class for driverkit warnings."""


class CollinearityWarning(DriverkitWarning):
    """Drivers are highly collinear (large VIF or condition number)."""


class ExtrapolationWarning(DriverkitWarning):
    """A scenario moves respondents outside the observed range of a driver."""


class ConvergenceWarning(DriverkitWarning):
    """An iterative fit or a sampling estimate did not reach its tolerance."""


class ScaleWarning(DriverkitWarning):
    """Ratings lie outside the declared scale of a driver."""


class MissingDataWarning(DriverkitWarning):
    """Rows were dropped because of missing values."""


class SmallSampleWarning(DriverkitWarning):
    """A group (segment, wave) has too few respondents for stable estimates."""


class DataQualityWarning(DriverkitWarning):
    """Values that look like "don't know" codes or mis-read numbers (decimal commas)."""


class WaveOrderWarning(DriverkitWarning):
    """The time order of survey waves was guessed from their text labels."""


class SuppressorWarning(DriverkitWarning):
    """A driver's coefficient has the opposite sign to its correlation with the outcome."""


class MeasurementWarning(DriverkitWarning):
    """A measurement model falls below a conventional quality threshold (reliability, AVE,
    HTMT) or has negative outer weights."""
