"""The tables, guardrails, notes and metadata of a simulation (a mixin of ``Simulator``)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ._engine import Plan
from ._operators import Operator
from ._scenario import Scenario
from ._uncertainty import percentile_intervals, spread_split

__all__ = ["CAUSAL", "SummaryMixin"]

CAUSAL = ("Causal caveat: effects are what the model predicts if only the changed ratings move "
          "(ceteris paribus) in observational survey data; validate with a pilot before acting.")


@dataclass
class _Sim:
    """Everything computed for one scenario in one call."""

    point: dict[str, float]
    draws: dict[str, np.ndarray] | None  # joint draws of the output columns
    se: dict[str, float] | None  # delta-method standard errors (no business randomness)
    model_only: dict[str, Any] | None  # output columns with the business inputs at their points
    business_only: dict[str, Any] | None  # output columns with the model at its point



class SummaryMixin:
    """Builds ``SimulationResult`` parts from the simulator's numbers (needs its state)."""

    _w: np.ndarray
    _x: dict[str, np.ndarray]
    _X: np.ndarray
    _col: dict[str, int]
    _scales: dict[str, tuple[float, float]]
    _observed: dict[str, tuple[float, float]]
    _notes: list[str]
    _vif_cache: pd.Series | None
    n: int
    has_money: bool
    drivers: list[str]
    discount_rate: float | None
    extrapolation_threshold: float
    sign_flips: pd.DataFrame
    model: Any
    kernel: Any
    customers: Any
    revenue_per_customer: Any
    margin: Any
    horizon: Any
    _point: Any
    _compile: Any
    _model_uncertain: Any
    _business_random: Any

    # ----------------------------------------------------------------------------------
    def _table(self, scs: list[Scenario], plans: list[Plan], sims: list[_Sim], ci: float,
               ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, pd.DataFrame]]:
        z = float(stats.norm.ppf(0.5 + ci / 2))
        any_seg = any(p.mask is not None for p in plans)
        rows, unc_rows = [], []
        draw_frames: dict[str, pd.DataFrame] = {}
        score = getattr(self, "outcome_type", "rate") == "score"
        obj = ("delta_profit" if self.has_money else "delta_rate" if score
               else "delta_customers")
        # every scenario's percentile intervals from one quantile call (same arithmetic)
        batched = percentile_intervals([s.draws for s in sims], ci)
        for sc, plan, sim, ints in zip(scs, plans, sims, batched, strict=True):
            pt = sim.point
            row: dict[str, Any] = {"baseline_rate": pt["baseline_rate"],
                                   "scenario_rate": pt["scenario_rate"]}

            def interval(col: str, sim: _Sim = sim, pt: dict[str, float] = pt,
                         ints: dict[str, tuple[float, float]] = ints,
                         ) -> tuple[float, float]:
                if sim.draws is not None:
                    return ints[col]
                if sim.se is not None:
                    return pt[col] - z * sim.se[col], pt[col] + z * sim.se[col]
                return pt[col], pt[col]

            cols = ["delta_rate"] if score else ["delta_rate", "delta_customers"]
            if self.has_money:
                cols += ["delta_revenue", "delta_profit"]
            for c in cols:
                row[c] = pt[c]
                row[f"{c}_low"], row[f"{c}_high"] = interval(c)
            row["cost"] = float(sc.cost)
            if self.has_money:
                row["roi"] = pt["roi"]
                row["roi_low"], row["roi_high"] = interval("roi") if math.isfinite(pt["roi"]) \
                    else (float("nan"), float("nan"))
                if sim.draws is not None:
                    row["prob_profit_positive"] = float(np.mean(sim.draws["delta_profit"] > 0))
                elif sim.se is not None and sim.se["delta_profit"] > 0:
                    row["prob_profit_positive"] = float(
                        stats.norm.cdf(pt["delta_profit"] / sim.se["delta_profit"]))
                else:
                    row["prob_profit_positive"] = float(pt["delta_profit"] > 0)
                row["saving"] = max(-float(sc.cost), 0.0) + 0.0
                row["revenue_at_risk"] = max(-pt["delta_revenue"], 0.0) + 0.0
                if self.discount_rate is not None:
                    for c in ("delta_clv", "delta_equity"):
                        row[c] = pt[c]
                        row[f"{c}_low"], row[f"{c}_high"] = interval(c)
            if any_seg:
                mask = plan.mask
                row["segment"] = _seg_label(sc.segment)
                row["segment_share"] = (1.0 if mask is None
                                        else float(self._w[mask].sum() / self._w.sum()))
                row["segment_baseline_rate"] = pt.get("segment_baseline_rate",
                                                      pt["baseline_rate"])
                sd = "segment_delta_rate"
                if mask is None:
                    row[sd] = pt["delta_rate"]
                    row[f"{sd}_low"], row[f"{sd}_high"] = row["delta_rate_low"], \
                        row["delta_rate_high"]
                else:
                    row[sd] = pt[sd]
                    row[f"{sd}_low"], row[f"{sd}_high"] = interval(sd)
            rows.append(row)
            unc_rows.append(self._uncertainty_row(sim, obj))
            if sim.draws is not None:
                keep = [c for c in sim.draws if c.startswith("delta_") or c == "roi"]
                draw_frames[sc.name] = pd.DataFrame({c: sim.draws[c] for c in keep})
        index = pd.Index([s.name for s in scs], name="scenario")
        table = pd.DataFrame(rows, index=index)
        if self.has_money and not ((table["cost"] < 0).any()
                                   or (table["delta_revenue"] < 0).any()):
            table = table.drop(columns=["saving", "revenue_at_risk"])
        unc = pd.DataFrame(unc_rows, index=index)
        if score:
            table = score_columns(table)
            unc["objective"] = unc["objective"].replace(SCORE_NAMES)
            draw_frames = {k: score_columns(v) for k, v in draw_frames.items()}
        return table, unc, draw_frames

    @staticmethod
    def _uncertainty_row(sim: _Sim, obj: str) -> dict[str, Any]:
        pt = sim.point[obj]
        if sim.draws is not None:
            d = sim.draws[obj]
            assert sim.model_only is not None and sim.business_only is not None
            mo = np.broadcast_to(np.asarray(sim.model_only[obj], dtype=np.float64), d.shape)
            bo = np.broadcast_to(np.asarray(sim.business_only[obj], dtype=np.float64), d.shape)
            sm, sb = spread_split(mo, bo)
            return {"objective": obj, "estimate": pt, "sd": float(np.std(d)),
                    "sd_model": float(np.std(mo)), "sd_business": float(np.std(bo)),
                    "share_model": sm, "share_business": sb,
                    "prob_positive": float(np.mean(d > 0))}
        se = 0.0 if sim.se is None else float(sim.se[obj])
        prob = float(stats.norm.cdf(pt / se)) if se > 0 else float(pt > 0)
        return {"objective": obj, "estimate": pt, "sd": se, "sd_model": se, "sd_business": 0.0,
                "share_model": 1.0 if se > 0 else 0.0, "share_business": 0.0,
                "prob_positive": prob}

    def _by_driver(self, scs: list[Scenario], plans: list[Plan], sims: list[_Sim],
                   ) -> pd.DataFrame:
        rows = []
        money = ["delta_revenue"] if self.has_money else []
        score = getattr(self, "outcome_type", "rate") == "score"
        people = [] if score else ["delta_customers"]
        for sc, sim in zip(scs, sims, strict=True):
            total = {c: 0.0 for c in ["delta_rate", *people, *money]}
            for d, op in sc.operators.items():
                alone = sc.with_changes({d: op})
                pt = self._point(self._compile(alone), alone) if len(sc.operators) > 1 \
                    else sim.point
                row: dict[str, Any] = {"scenario": sc.name, "driver": d, "operator": repr(op)}
                for c in total:
                    row[c] = pt[c]
                    total[c] += pt[c]
                rows.append(row)
            if sc.operators:
                row = {"scenario": sc.name, "driver": "interaction", "operator": ""}
                for c in total:
                    row[c] = sim.point[c] - total[c] if len(sc.operators) > 1 else 0.0
                rows.append(row)
        cols = ["scenario", "driver", "operator", "delta_rate", *people, *money]
        out = pd.DataFrame(rows, columns=cols)
        return score_columns(out) if score else out

    def vif(self) -> pd.Series:
        """VIF of the movable drivers among the model's design columns, on these respondents."""
        if self._vif_cache is None:
            from ..stats._collinearity import vif as vif_from_design

            with np.errstate(invalid="ignore", divide="ignore"):
                v = vif_from_design(self._X, self._w) if self._X.shape[1] else np.empty(0)
            cols = list(getattr(self.model, "columns", []) or [])
            s = pd.Series(v, index=cols[: len(v)], dtype=float)
            self._vif_cache = pd.Series({d: float(s.iloc[self._col[d]]) for d in self.drivers},
                                        name="vif", dtype=float)
        return self._vif_cache

    def _diagnostics(self, scs: list[Scenario], plans: list[Plan],
                     ) -> tuple[pd.DataFrame, list[str]]:
        rows, msgs = [], []
        vif = self.vif()
        w = self._w
        for sc, plan in zip(scs, plans, strict=True):
            scope = np.ones(self.n, dtype=bool) if plan.mask is None else plan.mask
            ws = w * scope
            Ws = ws.sum()
            for d, mv in plan.moves.items():
                x = self._x[d]
                lo, hi = self._scales[d]
                olo, ohi = self._observed[d]
                after = mv.expected(x)
                pmove = (mv.new != x).astype(float) if mv.prob is None else \
                    mv.prob * (mv.new != x)
                beyond = ((mv.new < olo) | (mv.new > ohi)).astype(float) * (
                    1.0 if mv.prob is None else mv.prob)
                row: dict[str, Any] = {
                    "scenario": sc.name, "driver": d, "operator": repr(sc.operators[d]),
                    "mean_before": float(np.dot(w, x) / w.sum()),
                    "mean_after": float(np.dot(w, after) / w.sum()),
                    "share_moved": float(np.dot(ws, pmove) / Ws),
                    "share_at_ceiling": float(np.dot(ws, x >= hi) / Ws),
                    "share_at_floor": float(np.dot(ws, x <= lo) / Ws),
                    "share_clipped": float(np.dot(ws, mv.clipped) / Ws),
                    "share_beyond_observed": float(np.dot(ws, beyond) / Ws),
                    "vif": float(vif[d]),
                    "suppressor": bool(d in self.sign_flips.index),
                }
                rows.append(row)
                if row["share_beyond_observed"] > self.extrapolation_threshold:
                    msgs.append(
                        f"Scenario '{sc.name}' moves {row['share_beyond_observed']:.0%} of the "
                        f"respondents in scope outside the observed range of '{d}' "
                        f"({olo:g}–{ohi:g}); the model is extrapolating there."
                    )
        cols = ["scenario", "driver", "operator", "mean_before", "mean_after", "share_moved",
                "share_at_ceiling", "share_at_floor", "share_clipped", "share_beyond_observed",
                "vif", "suppressor"]
        return pd.DataFrame(rows, columns=cols), msgs

    def _result_notes(self, scs: list[Scenario], plans: list[Plan], table: pd.DataFrame,
                      diag: pd.DataFrame, info: dict[str, Any], ci: float) -> list[str]:
        notes = list(self._notes)
        score = getattr(self, "outcome_type", "rate") == "score"
        if score:
            notes.append("Score outcome: changes are in scale points of the outcome (delta_mean), "
                         "not rates, customers or money (give link= a 0/1 behaviour column to "
                         "value them).")
        if getattr(self, "better", "higher") == "lower":
            notes.append(f"Less is better for this outcome ({self.kernel.target_label}): a "
                         "negative change is a gain; money columns count the revenue kept.")
        notes.append(f"{'Mean' if score else 'Rate'} = {self.kernel.target_label}, averaged "
                     "over respondents with "
                     f"{'survey weights' if np.ptp(self._w) > 0 else 'equal weights'} "
                     "(each respondent re-predicted, never the mean rating).")
        for _, r in diag.iterrows():
            op = self._op(scs, r["scenario"], r["driver"])
            if op.direction() > 0 and r["share_at_ceiling"] >= 0.2:
                notes.append(f"'{r['scenario']}': {r['share_at_ceiling']:.0%} of the respondents "
                             f"in scope already rate '{r['driver']}' at the top of its scale "
                             "and cannot improve.")
            if op.direction() < 0 and r["share_at_floor"] >= 0.2:
                notes.append(f"'{r['scenario']}': {r['share_at_floor']:.0%} of the respondents "
                             f"in scope already rate '{r['driver']}' at the bottom of its scale.")
            if r["share_beyond_observed"] > self.extrapolation_threshold:
                notes.append(f"'{r['scenario']}': {r['share_beyond_observed']:.0%} moved outside "
                             f"the observed range of '{r['driver']}' (extrapolation).")
            if not math.isfinite(r["vif"]):
                notes.append(f"VIF of '{r['driver']}' is undefined on these respondents "
                             "(constant or perfectly collinear ratings).")
            elif r["vif"] > 5:
                notes.append(f"'{r['driver']}' has VIF {r['vif']:.1f}: its coefficient (and so "
                             "this effect) is unstable.")
        if self.has_money and (table["cost"] <= 0).any():
            notes.append("ROI is defined only for a positive cost; it is NaN for scenarios with "
                         "cost <= 0 (see delta_profit, and saving vs revenue_at_risk for cuts).")
        if not self._model_uncertain() and info["method"] != "bootstrap":
            notes.append("The model has no sampling uncertainty (fixed coefficients): intervals "
                         "reflect only business inputs given as distributions.")
        elif info["method"] == "delta":
            notes.append(f"{ci:.0%} intervals by the delta method (normal approximation).")
        elif info["method"] == "bootstrap":
            notes.append(f"{ci:.0%} percentile intervals from {info['draws']} bootstrap refits"
                         + (f" ({info['dropped']} failed refits dropped)." if info["dropped"]
                            else "."))
        else:
            notes.append(f"{ci:.0%} percentile intervals from {info['draws']} parameter draws "
                         "(Krinsky & Robb 1986).")
        if self._business_random(scs):
            notes.append("Business inputs given as distributions are drawn jointly with the "
                         "model draws; see .uncertainty for the split of the spread.")
        notes.append(CAUSAL)
        return list(dict.fromkeys(notes))  # drop repeats, keep order

    @staticmethod
    def _op(scs: list[Scenario], name: str, driver: str) -> Operator:
        for s in scs:
            if s.name == name:
                return s.operators[driver]
        raise KeyError(name)  # pragma: no cover

    def _meta(self, info: dict[str, Any], ci: float, draws: int) -> dict[str, Any]:
        m: dict[str, Any] = {
            "model": getattr(self.model, "kind", type(self.model).__name__),
            ("mean" if getattr(self, "outcome_type", "rate") == "score" else "rate"):
                self.kernel.target_label,
            "outcome type": getattr(self, "outcome_type", "rate"),
            "better": getattr(self, "better", "higher"),
            "respondents": self.n,
            "customers": self.customers.describe(),
        }
        if m["outcome type"] == "score":
            m.pop("customers")
        if self.has_money:
            m["revenue per customer"] = self.revenue_per_customer.describe()
            m["margin"] = self.margin.describe()
        if self.discount_rate is not None:
            m["discount rate"] = self.discount_rate
            m["horizon"] = "infinite" if self.horizon is None else self.horizon
        m["intervals"] = {"parametric": "parameter draws", "delta": "delta method",
                          "bootstrap": "bootstrap refits"}[info["method"]]
        if not self._model_uncertain() and info["method"] != "bootstrap":
            m["intervals"] = "none from the model (fixed coefficients)"
        if info["method"] != "delta" or draws:
            m["draws"] = info["draws"]
        m["CI level"] = f"{ci:.0%}"
        return m


SCORE_NAMES = {"baseline_rate": "baseline_mean", "scenario_rate": "scenario_mean",
               "delta_rate": "delta_mean", "segment_baseline_rate": "segment_baseline_mean",
               "segment_delta_rate": "segment_delta_mean"}


def score_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Rename rate columns (and their ``_low``/``_high``) to the mean columns of a score."""
    names = {}
    for c in frame.columns:
        for old, new in SCORE_NAMES.items():
            if c == old or c in (f"{old}_low", f"{old}_high"):
                names[c] = new + c[len(old):]
    return frame.rename(columns=names)


def _seg_label(seg: Any) -> str:
    if seg is None:
        return "all"
    if isinstance(seg, str):
        return seg
    if isinstance(seg, Mapping):
        return ", ".join(f"{k}={v}" for k, v in seg.items())
    return "mask"
