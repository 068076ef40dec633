"""CX analyses: NPS, penalty–reward (Kano) drivers, journey stages, segments, waves,
stated vs derived importance and the loyalty chain."""

from ._chain import ChainModel, ChainResult, chain
from ._kano import BandedModel, PenaltyRewardResult, penalty_reward
from ._nps import DeltaNPSResult, NPSResult, delta_nps, nps, nps_model, nps_target, predicted_nps
from ._segments import SegmentComparison, compare_segments
from ._stages import StageImportanceResult, stage_importance
from ._stated import StatedDerivedResult, stated_vs_derived
from ._waves import WaveComparison, compare_waves

__all__ = [
    "BandedModel",
    "ChainModel",
    "ChainResult",
    "DeltaNPSResult",
    "NPSResult",
    "PenaltyRewardResult",
    "SegmentComparison",
    "StageImportanceResult",
    "StatedDerivedResult",
    "WaveComparison",
    "chain",
    "compare_segments",
    "compare_waves",
    "delta_nps",
    "nps",
    "nps_model",
    "nps_target",
    "penalty_reward",
    "predicted_nps",
    "stage_importance",
    "stated_vs_derived",
]
