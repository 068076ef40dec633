"""Data layer: validation of user input (:func:`prepare`), the survey generator and the demo."""

from ._demo import load_demo
from ._latent import LatentTruth, latent_truth
from ._prepare import DesignSpec, DriverData, prepare
from ._survey import make_survey, true_effect

__all__ = ["DesignSpec", "DriverData", "LatentTruth", "latent_truth", "load_demo", "make_survey",
           "prepare", "true_effect"]
