"""The numbers of a simulation (a mixin of :class:`~driverkit.simulate.Simulator`).

Rate quantities, money columns, and the point estimates and draws of each scenario.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_random_state
from ._engine import Plan
from ._money import BusinessInput, clv
from ._scenario import Scenario
from ._summaries import _Sim
from ._uncertainty import bootstrap_params, delta_jacobian, delta_params

__all__ = ["NumbersMixin"]

DELTA_BUSINESS_DRAWS = 2000


class NumbersMixin:
    """Point estimates and joint model/business draws (needs the simulator's state)."""

    model: Any
    data: pd.DataFrame
    kernel: Any
    n: int
    better: str
    has_money: bool
    customers: BusinessInput
    revenue_per_customer: BusinessInput | None
    margin: BusinessInput
    discount_rate: float | None
    horizon: Any
    _rev_col: str | None

    # ----------------------------------------------------------------------------------
    # numbers
    # ----------------------------------------------------------------------------------
    @staticmethod
    def _quantities(base: np.ndarray, delta: np.ndarray, W: np.ndarray) -> dict[str, Any]:
        """Rates from weighted sums (last axis: w, w·R, w·segment)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return {
                "baseline_rate": base[..., 0] / W[..., 0],
                "scenario_rate": (base[..., 0] + delta[..., 0]) / W[..., 0],
                "delta_rate": delta[..., 0] / W[..., 0],
                "unit_revenue": delta[..., 1] / W[..., 0],
                "segment_baseline_rate": base[..., 2] / W[..., 2],
                "segment_delta_rate": delta[..., 2] / W[..., 2],
            }

    def _money(self, q: Mapping[str, Any], N: Any, R: Any, m: Any, cost: Any,
               ) -> dict[str, Any]:
        """Output columns from rate quantities and business inputs (scalars or arrays)."""
        out: dict[str, Any] = {"delta_rate": q["delta_rate"],
                               "delta_customers": N * q["delta_rate"]}
        if self.has_money:
            unit = q["unit_revenue"] if self._rev_col is not None else R * q["delta_rate"]
            # less is better (churn): fewer events keep revenue, so the gain is −N·R·Δrate
            rev = N * unit if self.better == "higher" else -(N * unit)
            profit = m * rev - cost
            out["delta_revenue"] = rev
            out["delta_profit"] = profit
            cost_a = np.asarray(cost, dtype=float)
            with np.errstate(invalid="ignore", divide="ignore"):
                roi = np.where(cost_a > 0, profit / np.where(cost_a > 0, cost_a, 1.0), np.nan)
            out["roi"] = float(roi) if np.ndim(roi) == 0 else roi
            if self.discount_rate is not None:
                mp = m * R
                r0 = np.clip(q["baseline_rate"], 0.0, 1.0)
                r1 = np.clip(q["scenario_rate"], 0.0, 1.0)
                if self.better == "lower":  # the rate is the event (churn): retention 1 − p
                    r0, r1 = 1.0 - r0, 1.0 - r1
                dclv = (clv(mp, r1, self.discount_rate, self.horizon)
                        - clv(mp, r0, self.discount_rate, self.horizon))
                out["delta_clv"] = dclv
                out["delta_equity"] = N * dclv
        if q.get("has_segment", False):
            out["segment_delta_rate"] = q["segment_delta_rate"]
        return out

    def _point_args(self, scenario: Scenario) -> tuple[float, float, float, float]:
        R = self.revenue_per_customer.point if self.has_money else 0.0  # type: ignore[union-attr]
        return self.customers.point, R, self.margin.point, scenario.cost

    def _point_full(self, plan: Plan, scenario: Scenario,
                    ) -> tuple[dict[str, float], dict[str, Any]]:
        """The point row (output columns) and the rate quantities behind it, at θ̂."""
        base, delta = self.kernel.point(plan)
        q = self._quantities(base, delta, plan.W_total)
        q["has_segment"] = plan.mask is not None
        cols = self._money(q, *self._point_args(scenario))
        out = {k: float(v) for k, v in cols.items()}
        out["baseline_rate"] = float(q["baseline_rate"])
        out["scenario_rate"] = float(q["scenario_rate"])
        if plan.mask is not None:
            out["segment_baseline_rate"] = float(q["segment_baseline_rate"])
        return out, q

    def _point(self, plan: Plan, scenario: Scenario) -> dict[str, float]:
        return self._point_full(plan, scenario)[0]

    def _business_draws(self, S: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        out = {"N": self.customers.draw(S, rng), "m": self.margin.draw(S, rng)}
        out["R"] = (self.revenue_per_customer.draw(S, rng) if self.has_money  # type: ignore[union-attr]
                    else np.zeros(S))
        return out

    def _business_random(self, scenarios: Sequence[Scenario]) -> bool:
        inputs = [self.customers, self.margin, self.revenue_per_customer]
        return any(i is not None and i.is_random for i in inputs) or any(
            s.cost_input.is_random for s in scenarios)

    def _model_uncertain(self) -> bool:
        cov = getattr(self.model, "cov_params", None)
        if cov is None:
            return False
        return bool(np.any(np.asarray(cov, dtype=float) != 0))

    def _simulate(self, scenarios: list[Scenario], plans: list[Plan], *, draws: int,
                  seed: Any, uncertainty: str, progress: bool | None = False,
                  desc: str = "simulate") -> tuple[list[_Sim], dict[str, Any]]:
        """Point estimates and draws for each scenario (common random numbers)."""
        from .._progress import progress_bar

        # automatic bar: only for calls of more than about a billion respondent-draws
        work = self.n * max(draws, 1) * max(sum(not p.is_zero for p in plans), 1)
        with progress_bar(draws if uncertainty != "delta" else None, show=progress,
                          desc=desc, unit="draw", long_run=work >= 1e9) as bar:
            return self._simulate_draws(scenarios, plans, draws=draws, seed=seed,
                                        uncertainty=uncertainty, tick=bar.update)

    def _simulate_draws(self, scenarios: list[Scenario], plans: list[Plan], *, draws: int,
                        seed: Any, uncertainty: str, tick: Any,
                        ) -> tuple[list[_Sim], dict[str, Any]]:
        full = [self._point_full(p, s) for p, s in zip(plans, scenarios, strict=True)]
        points = [f[0] for f in full]
        qpoints = [f[1] for f in full]
        info: dict[str, Any] = {"method": uncertainty, "draws": draws, "dropped": 0}
        ss = _seed_sequence(seed)
        rng_model, rng_bus, rng_cost = (np.random.default_rng(c) for c in ss.spawn(3))
        cost_rngs = [np.random.default_rng(c) for c in
                     np.random.SeedSequence(int(rng_cost.integers(2**63))).spawn(len(plans))]
        bus_random = self._business_random(scenarios)
        model_random = self._model_uncertain() or uncertainty == "bootstrap"
        has_seg = [p.mask is not None for p in plans]

        # --- model part: quantities per draw (or their delta-method jacobian) ---------------
        q_draws: list[dict[str, np.ndarray]] | None = None
        jac: list[dict[str, np.ndarray]] | None = None
        se_cols: list[dict[str, float]] | None = None
        S = draws
        if model_random and uncertainty == "parametric":
            theta = self.model.draw_params(draws, rng_model)
            q_draws = self._draw_quantities(plans, theta, tick=tick)
        elif model_random and uncertainty == "bootstrap":
            theta, rows, dropped = bootstrap_params(self.model, self.data, draws, rng_model)
            info["dropped"] = dropped
            S = theta.shape[0]
            per = [self._draw_quantities(plans, theta[b : b + 1], rows=rows[b], tick=tick)
                   for b in range(S)]
            q_draws = [{k: np.concatenate([per[b][i][k] for b in range(S)]) for k in per[0][i]}
                       for i in range(len(plans))]
        elif model_random:  # delta method
            pm, h = delta_params(self.kernel.theta)
            qpm = self._draw_quantities(plans, pm)
            if bus_random:  # linearised model draws q̂ + J(θ⁽ˢ⁾ − θ̂), joint with business
                jac = [{k: delta_jacobian(v[:, None], h)[0] for k, v in q.items()} for q in qpm]
                S = draws or DELTA_BUSINESS_DRAWS
                dtheta = self.model.draw_params(S, rng_model) - self.kernel.theta
                q_draws = [{k: qp[k] + dtheta @ J[k] for k in J}
                           for qp, J in zip(qpoints, jac, strict=True)]
            else:  # analytic: se of every output column from its own jacobian
                V = np.asarray(self.model.cov_params, dtype=float)
                se_cols = []
                for i, (q, sc) in enumerate(zip(qpm, scenarios, strict=True)):
                    q["has_segment"] = has_seg[i]  # type: ignore[assignment]
                    outs = self._money(q, *self._point_args(sc))
                    se = {}
                    for k, v in outs.items():
                        g = delta_jacobian(np.broadcast_to(np.asarray(v, float),
                                                           (2 * h.size,))[:, None], h)[0]
                        se[k] = float(np.sqrt(max(g @ V @ g, 0.0))) if np.isfinite(g).all() \
                            else float("nan")
                    se_cols.append(se)
                return [_Sim(pt, None, se, None, None)
                        for pt, se in zip(points, se_cols, strict=True)], info
        if not bus_random and q_draws is None:
            return [_Sim(pt, None, None, None, None) for pt in points], info

        S = S or DELTA_BUSINESS_DRAWS
        bus = self._business_draws(S, rng_bus)
        sims = []
        for i, (pt, sc) in enumerate(zip(points, scenarios, strict=True)):
            cost = sc.cost_input.draw(S, cost_rngs[i])
            qp = qpoints[i]
            point_args = self._point_args(sc)
            if q_draws is not None:
                qd = dict(q_draws[i])
            else:
                qd = {k: np.full(S, v) for k, v in qp.items() if k != "has_segment"}
            qd["has_segment"] = has_seg[i]  # type: ignore[assignment]
            joint = self._money(qd, bus["N"], bus["R"], bus["m"], cost)
            model_only = self._money(qd, *point_args)
            business_only = self._money(qp, bus["N"], bus["R"], bus["m"], cost)
            sims.append(_Sim(pt, {k: np.broadcast_to(np.asarray(v, float), (S,)).copy()
                                  for k, v in joint.items()},
                             None, model_only, business_only))
        info["draws"] = S
        return sims, info

    def _draw_quantities(self, plans: list[Plan], theta: np.ndarray, rows: Any = None,
                         tick: Any = None) -> list[dict[str, np.ndarray]]:
        sums = self.kernel.draws(plans, theta, rows=rows, tick=tick)
        out = []
        for (base, delta), plan in zip(sums, plans, strict=True):
            W = plan.W_total if rows is None else plan.Wm[rows].sum(axis=0)
            q = self._quantities(base, delta, W)
            out.append(q)
        return out



def _seed_sequence(seed: Any) -> np.random.SeedSequence:
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence(int(seed.integers(2**63)))
    if isinstance(seed, np.random.SeedSequence):
        return seed
    check_random_state(seed)  # validates the type
    return np.random.SeedSequence(None if seed is None else int(seed))
