"""Data layer: validation of user input (:func:`prepare`), the survey generator and the demo."""

from ._demo import load_demo
from ._latent import LatentTruth, latent_truth
from ._prepare import DesignSpec, DriverData, prepare
from ._report import MissingReport, missing_report
from ._survey import make_survey, true_effect

__all__ = ["DesignSpec", "DriverData", "LatentTruth", "MissingReport", "latent_truth", "load_demo",
           "make_survey", "missing_report", "prepare", "true_effect"]
