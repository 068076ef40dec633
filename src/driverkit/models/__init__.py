"""Driver models: linear, logit, probit and ordered logit (statsmodels back-ends)."""

from ._constructors import fit, fixed_model
from ._model import DriverModel, condition_number, vif_from_design
from ._pls_model import PLSModel, pls

__all__ = ["DriverModel", "PLSModel", "condition_number", "fit", "fixed_model", "pls",
           "vif_from_design"]
