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

from ._version import __version__
from .exceptions import (
    CollinearityWarning,
    ColumnNotFoundError,
    ConvergenceWarning,
    DataError,
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
)

__all__ = [
    "CollinearityWarning",
    "ColumnNotFoundError",
    "ConvergenceWarning",
    "DataError",
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
    "__version__",
]

# Each area re-exports its public names below (one block per package, kept sorted in __all__).
# --- data ---
from .data import load_demo, make_survey

__all__ += ["load_demo", "make_survey"]
from .data import LatentTruth, latent_truth

__all__ += ["LatentTruth", "latent_truth"]
# --- stats ---
from .stats import SufficientStats, sufficient_stats

__all__ += ["SufficientStats", "sufficient_stats"]
# --- models ---
from .models import DriverModel, fit, fixed_model

__all__ += ["DriverModel", "fit", "fixed_model"]
from .models import PLSModel, pls

__all__ += ["PLSModel", "pls"]
# --- importance ---
from .importance import ImportanceResult, importance

__all__ += ["ImportanceResult", "importance"]
# --- simulate ---
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
    shift,
    target_mean,
    top_box,
)

__all__ += ["Scenario", "SimulationResult", "Simulator", "ceiling", "clv", "floor", "gap_close",
            "run_chunked", "set_to", "shift", "target_mean", "top_box"]
# --- optimize ---
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

__all__ += ["Allocation", "CostCurve", "Portfolio", "frontier", "hill", "optimize_budget",
            "piecewise", "saturating", "select_initiatives"]
# --- cx ---
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

__all__ += ["ChainResult", "NPSResult", "PenaltyRewardResult", "SegmentComparison",
            "StageImportanceResult", "StatedDerivedResult", "WaveComparison", "chain",
            "compare_segments", "compare_waves", "delta_nps", "nps", "nps_model", "nps_target",
            "penalty_reward", "stage_importance", "stated_vs_derived"]
# --- report ---
from .report import report

__all__ += ["report"]
