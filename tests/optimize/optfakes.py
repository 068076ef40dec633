"""Small closed-form simulators implementing driverkit.optimize.SimulatorProtocol (for tests).

They read only the shifts of a scenario, so the optimiser is tested independently of
driverkit.simulate; tests against the real dk.Simulator live in test_opt_simulator.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import SimpleNamespace

import numpy as np
import pandas as pd

from driverkit.optimize._protocol import _operators, _shift_delta


def shifts_of(scenario) -> dict[str, float]:
    """``{driver: delta}`` of a scenario made only of shifts."""
    out = {}
    for d, op in _operators(scenario).items():
        delta = _shift_delta(op)
        assert delta is not None, f"not a shift: {op!r}"
        out[d] = delta
    return out


class FakeSim:
    """Value = f(lifts): additive ``Σ w_j · g(lift_j)`` or a logit-like joint rate.

    ``kind="linear"``: Δrevenue = Σ w_j lift_j; ``"saturating"``: Δrate = Σ w_j (1 − e^{−lift_j})
    / 10; ``"logit"``: Δrate = mean_i expit(η_i + Σ β_j
    lift_j) − mean_i expit(η_i) with a few respondents (non-additive), Δrevenue = N·R·Δrate.
    Δprofit = margin·Δrevenue − cost; Δrate = Δrevenue / 1000 for the linear kind.
    ``noise``: per-driver sd of the multiplicative draws in value_draws.
    """

    def __init__(self, weights: Mapping[str, float], *, kind: str = "linear", margin: float = 1.0,
                 eta: Sequence[float] = (-1.0, 0.0, 0.5, 1.5), customers: float = 1000.0,
                 revenue: float = 10.0, noise: Mapping[str, float] | None = None,
                 scales: Mapping[str, tuple[float, float]] | None = None) -> None:
        self.weights = dict(weights)
        self.kind = kind
        self.margin = margin
        self.eta = np.asarray(eta, dtype=float)
        self.customers = customers
        self.revenue = revenue
        self.noise = dict(noise or {})
        # closed-form kinds take lifts of any size (the reference examples use lifts up to 100);
        # the logit kind is a 1–10 rating scale
        wide = (0.0, 1000.0) if kind != "logit" else (1.0, 10.0)
        self._scales = dict(scales or dict.fromkeys(self.weights, wide))
        self.calls = 0

    @property
    def drivers(self) -> list[str]:
        return list(self.weights)

    @property
    def scales(self) -> dict[str, tuple[float, float]]:
        return self._scales

    def _columns(self, scenario, w: Mapping[str, float]) -> dict[str, float]:
        lifts = shifts_of(scenario)
        cost = float(scenario.cost)
        if self.kind == "linear":
            rev = float(sum(w[d] * v for d, v in lifts.items()))
            rate = rev / 1000.0
        elif self.kind == "saturating":  # additive across drivers, concave within one
            rate = float(sum(w[d] * -np.expm1(-v) for d, v in lifts.items())) / 10.0
            rev = self.customers * self.revenue * rate
        else:
            z = sum(w[d] * v for d, v in lifts.items())
            base = 1 / (1 + np.exp(-self.eta))
            new = 1 / (1 + np.exp(-(self.eta + z)))
            rate = float(np.mean(new) - np.mean(base))
            rev = self.customers * self.revenue * rate
        return {"delta_rate": rate, "delta_revenue": rev,
                "delta_profit": self.margin * rev - cost, "cost": cost}

    def value(self, scenario, objective: str = "profit") -> float:
        self.calls += 1
        col = {"profit": "delta_profit", "revenue": "delta_revenue", "rate": "delta_rate"}
        return self._columns(scenario, self.weights)[col[objective]]

    def value_draws(self, scenario, objective: str = "profit", *, draws: int = 1000,
                    seed=None) -> np.ndarray:
        rng = np.random.default_rng(seed)
        col = {"profit": "delta_profit", "revenue": "delta_revenue", "rate": "delta_rate"}
        mult = {d: 1.0 + self.noise.get(d, 0.0) * rng.standard_normal(draws)
                for d in self.weights}
        out = np.empty(draws)
        for s in range(draws):
            w = {d: self.weights[d] * mult[d][s] for d in self.weights}
            out[s] = self._columns(scenario, w)[col[objective]]
        return out

    def run(self, scenario, *, draws: int = 1000, seed=None, ci: float = 0.95):
        cols = self._columns(scenario, self.weights)
        row = dict(cols)
        row["roi"] = cols["delta_profit"] / cols["cost"] if cols["cost"] > 0 else np.nan
        for name in ("delta_rate", "delta_revenue", "delta_profit", "roi"):
            if name == "roi":
                row["roi_low"] = row["roi_high"] = row["roi"]
                continue
            objective = name.removeprefix("delta_")
            d = self.value_draws(scenario, objective, draws=max(draws, 2), seed=seed)
            row[f"{name}_low"] = float(np.quantile(d, (1 - ci) / 2))
            row[f"{name}_high"] = float(np.quantile(d, (1 + ci) / 2))
        return SimpleNamespace(table=pd.DataFrame([row], index=[scenario.name]))
