"""CX analyses: NPS, penalty–reward (Kano) drivers, journey stages, segments, waves,
stated vs derived importance and the loyalty chain."""

from ._chain import ChainModel, ChainResult, chain
from ._kano import BandedModel, PenaltyRewardResult, penalty_reward
from ._nps import NPSResult, delta_nps, nps, nps_model, nps_target, predicted_nps
from ._stages import StageImportanceResult, stage_importance

__all__ = ["BandedModel", "ChainModel", "ChainResult", "NPSResult", "PenaltyRewardResult",
           "StageImportanceResult", "chain", "delta_nps", "nps", "nps_model", "nps_target",
           "penalty_reward",
           "predicted_nps", "stage_importance"]
