"""driverkit — key-driver analysis for customer-experience surveys.

Driver models, exact relative importance (Shapley/LMG, dominance, relative weights),
respondent-level what-if simulation in customers, revenue and profit, and budget
optimisation that uses exactly the simulator's numbers.

Examples
--------
>>> import driverkit as dk
>>> df = dk.load_demo()
>>> model = dk.fit(df, "repurchase", ["staff_friendliness", "delivery_speed"], kind="logit")
>>> model.kind
'logit'
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .exceptions import (
    CollinearityWarning,
    ColumnNotFoundError,
    ConvergenceWarning,
    DataError,
    DataQualityWarning,
    DriverkitError,
    DriverkitTypeError,
    DriverkitWarning,
    ExtrapolationWarning,
    InfeasibleError,
    MeasurementWarning,
    MissingDataWarning,
    ScaleWarning,
    SeparationError,
    SmallSampleWarning,
    SuppressorWarning,
    WaveOrderWarning,
)

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
    "__version__",
]

# Public names of the subpackages, loaded on first use (PEP 562) so that ``import driverkit``
# stays cheap: pandas, scipy, statsmodels and matplotlib load only when an analysis needs
# them. Each area lists its public names in its own block below (kept sorted in __all__);
# add a name here, NOT as an eager ``from .x import y`` (tests/test_import_cost.py checks).
_LAZY: dict[str, str] = {}


def _export(module: str, names: list[str]) -> None:
    _LAZY.update(dict.fromkeys(names, module))
    __all__.extend(names)


# --- data ---
_export("data", ["MissingReport", "load_demo", "make_survey", "missing_report"])
_export("data", ["LatentTruth", "latent_truth"])
# --- stats ---
_export("stats", ["SufficientStats", "sufficient_stats"])
# --- models ---
_export("models", ["DriverModel", "fit", "fixed_model"])
_export("models", ["PLSModel", "pls"])
# --- importance ---
_export("importance", ["ImportanceResult", "importance"])
# --- simulate ---
_export("simulate", ["Scenario", "SimulationResult", "Simulator", "ceiling", "clv", "floor",
                     "gap_close", "run_chunked", "set_to", "share_to", "shift", "target_mean",
                     "top_box"])
# --- optimize ---
_export("optimize", ["Allocation", "CostCurve", "Portfolio", "frontier", "hill", "optimize_budget",
                     "piecewise", "saturating", "select_initiatives"])
# --- cx ---
_export("cx", ["ChainResult", "NPSResult", "PenaltyRewardResult", "SegmentComparison",
               "StageImportanceResult", "StatedDerivedResult", "WaveComparison", "chain",
               "compare_segments", "compare_waves", "delta_nps", "nps", "nps_model", "nps_target",
               "penalty_reward", "stage_importance", "stated_vs_derived"])
# --- report ---
_export("report", ["report"])


def __getattr__(name: str) -> Any:
    """Import the subpackage owning a public name on first access (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'driverkit' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later look-ups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(types.ModuleType):
    """The package module; keeps ``dk.importance``/``dk.report`` the functions.

    Importing a subpackage binds it as an attribute of its parent; for the subpackages
    that share a name with the public function they export (``importance``, ``report``)
    that would shadow the function, so the function is bound instead.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if (isinstance(value, types.ModuleType) and _LAZY.get(name) == name
                and value.__name__ == f"{__name__}.{name}" and hasattr(value, name)):
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

if TYPE_CHECKING:  # the same names, eagerly, for type checkers and IDEs
    from .cx import (
        ChainResult,
        NPSResult,
        PenaltyRewardResult,
        SegmentComparison,
        StageImportanceResult,
        StatedDerivedResult,
        WaveComparison,
        chain,
        compare_segments,
        compare_waves,
        delta_nps,
        nps,
        nps_model,
        nps_target,
        penalty_reward,
        stage_importance,
        stated_vs_derived,
    )
    from .data import (
        LatentTruth,
        MissingReport,
        latent_truth,
        load_demo,
        make_survey,
        missing_report,
    )
    from .importance import ImportanceResult, importance
    from .models import DriverModel, PLSModel, fit, fixed_model, pls
    from .optimize import (
        Allocation,
        CostCurve,
        Portfolio,
        frontier,
        hill,
        optimize_budget,
        piecewise,
        saturating,
        select_initiatives,
    )
    from .report import report
    from .simulate import (
        Scenario,
        SimulationResult,
        Simulator,
        ceiling,
        clv,
        floor,
        gap_close,
        run_chunked,
        set_to,
        share_to,
        shift,
        target_mean,
        top_box,
    )
    from .stats import SufficientStats, sufficient_stats
