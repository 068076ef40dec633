"""What-if simulation: scenario operators, ``Scenario``, ``Simulator`` and money/CLV helpers.

A scenario moves each respondent's ratings (clipped to the driver's scale); the model
re-predicts every respondent and the weighted average change is turned into customers,
revenue, profit and ROI, with intervals from parameter draws, the delta method or the
bootstrap. The optimisers evaluate plans only through :meth:`Simulator.value`.
"""

from ._chunked import ChunkedSimulationResult, run_chunked
from ._money import Calibration, clv, clv_elasticity, index_100
from ._operators import (
    Operator,
    ceiling,
    floor,
    gap_close,
    set_to,
    share_to,
    shift,
    target_mean,
    top_box,
)
from ._result import PriorityResult, SensitivityResult, SimulationResult
from ._scenario import Scenario
from ._simulator import Simulator

__all__ = [
    "Calibration",
    "ChunkedSimulationResult",
    "Operator",
    "PriorityResult",
    "Scenario",
    "SensitivityResult",
    "SimulationResult",
    "Simulator",
    "ceiling",
    "clv",
    "clv_elasticity",
    "floor",
    "gap_close",
    "index_100",
    "run_chunked",
    "set_to",
    "share_to",
    "shift",
    "target_mean",
    "top_box",
]
