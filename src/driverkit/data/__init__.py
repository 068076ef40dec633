"""Data layer: validation of user input (:func:`prepare`), the survey generator and the demo."""

from ._prepare import DesignSpec, DriverData, prepare

__all__ = ["DesignSpec", "DriverData", "prepare"]
