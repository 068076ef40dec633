"""The executive summary: a few sentences per question, generated from the results.

Every sentence is built from numbers the results already hold (importances and their
bootstrap intervals, pairwise differences, simulated effects with intervals, the plan); this
module computes no statistics of its own. Each block names the outcome it is about, because
importance (e.g. of satisfaction) and money (e.g. through repurchase) usually come from
different outcomes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..display._format import Format, is_money

__all__ = ["Block", "Summary", "executive_summary", "outcome_of"]


@dataclass
class Block:
    """One question of the summary: a heading (naming the outcome), a lead and bullets."""

    key: str
    heading: str
    outcome: str
    lead: str
    bullets: list[str] = field(default_factory=list)


@dataclass
class Summary:
    """The executive summary: blocks in reading order and the caveats paragraph."""

    blocks: list[Block]
    caveats: str

    def text(self) -> str:
        """Plain text (for the workbook's summary sheet and the console)."""
        out = []
        for b in self.blocks:
            out += [b.heading, b.lead, *[f"  • {x}" for x in b.bullets], ""]
        out += ["Caveats", self.caveats]
        return "\n".join(out)


_RATE = re.compile(r"P\((.+?)\s*(=|>|≥)")


def outcome_of(obj: Any) -> str:
    """The outcome a result is about (``meta['outcome']``, or read from the rate's name)."""
    meta = getattr(obj, "meta", None) or {}
    if meta.get("outcome"):
        return str(meta["outcome"])
    m = _RATE.search(str(meta.get("rate", "")))
    if m:
        return m.group(1).strip()
    return str(getattr(obj, "outcome", "") or "")


def _num(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def _covers_zero(lo: float, hi: float) -> bool:
    return math.isfinite(lo) and math.isfinite(hi) and lo <= 0 <= hi


def _interval(fmt: Format, lo: float, hi: float, column: str) -> str:
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return ""
    a, b = fmt.column([lo, hi], column)
    return f" [{a} to {b}]"


def _names(fmt: Format, names: Sequence[Any]) -> str:
    shown = [fmt.label(n) for n in names]
    if len(shown) <= 1:
        return "".join(shown)
    return ", ".join(shown[:-1]) + " and " + shown[-1]


def _find(results: Sequence[Any], kind: str) -> Any:
    return next((r for r in results if type(r).__name__ == kind), None)


def _importance_block(imp: Any, fmt: Format) -> Block | None:
    t = imp.table
    if not isinstance(t, pd.DataFrame) or "importance" not in t.columns:
        return None
    outcome = outcome_of(imp) or "the outcome"
    meta = imp.meta
    n = meta.get("n")
    r2 = _num(getattr(imp, "r2", None) if hasattr(imp, "r2") else meta.get("r2"))
    level = _num(meta.get("ci", meta.get("ci_level", 0.95)))
    level = level if 0 < level < 1 else 0.95
    d = t.sort_values("importance", ascending=False)
    total = float(t["importance"].sum())
    share = d["share"] if "share" in d.columns else 100 * d["importance"] / total
    fit = "R²" if str(meta.get("kind", "linear")) == "linear" else "pseudo-R²"
    sample = (f"{fmt.decimal(float(n), 0)} respondents" if isinstance(n, (int, float, np.integer))
              else "the sample")
    lead = (f"Based on {sample}, the {len(t)} drivers together explain "
            f"{fmt.percent(r2, 0) if math.isfinite(r2) else 'part'} of the variation in "
            f"{fmt.label(outcome)} ({fit}"
            + (f" = {fmt.decimal(r2, 2)}" if math.isfinite(r2) else "")
            + f"; {imp.title.split('(')[-1].rstrip(')') if '(' in imp.title else 'importance'}).")
    bullets = []
    top = list(d.index[: min(3, len(d))])
    # the interval of a share is the bootstrap interval of the shares themselves (never the
    # importance interval over the point total, which is too wide and can pass 100 %)
    has_ci = {"share_low", "share_high"} <= set(d.columns)
    for name in top:
        text = f"{fmt.label(name)}: {fmt.percent(float(share[name]) / 100, 1)} of the explained fit"
        if has_ci:
            lo, hi = float(d.loc[name, "share_low"]), float(d.loc[name, "share_high"])
            text += f" ({100 * level:g}% interval {fmt.percent(lo / 100, 1)} to " \
                    f"{fmt.percent(hi / 100, 1)})"
        bullets.append(text)
    pairwise = getattr(imp, "pairwise", None)
    leader = d.index[0]
    if isinstance(pairwise, pd.DataFrame) and {"driver", "other"} <= set(pairwise.columns):
        tied = []
        for _, row in pairwise.iterrows():
            a, b = row["driver"], row["other"]
            if leader not in (a, b):
                continue
            other = b if a == leader else a
            p = _num(row.get("p_value"))
            lo, hi = _num(row.get("ci_low")), _num(row.get("ci_high"))
            same = _covers_zero(lo, hi) if math.isfinite(lo) else (p > 1 - level)
            if same:
                tied.append(other)
        tied = [x for x in d.index if x in tied]
        if tied:
            bullets.append(
                f"Statistically indistinguishable from {fmt.label(leader)} "
                f"(the {100 * level:g}% interval of the difference includes zero): "
                f"{_names(fmt, tied[:6])}" + (f" and {len(tied) - 6} more" if len(tied) > 6
                                               else "") + ". Treat them as equally important.")
        else:
            bullets.append(f"{fmt.label(leader)} is ahead of every other driver beyond "
                           "sampling noise.")
    elif has_ci and len(d) > 1:
        overlap = [x for x in d.index[1:] if float(d.loc[x, "ci_high"])
                   >= float(d.loc[leader, "ci_low"])]
        if overlap:
            bullets.append(f"The intervals of {_names(fmt, overlap[:6])} overlap that of "
                           f"{fmt.label(leader)}: their order is not settled by these data.")
    return Block("importance", f"What drives {fmt.label(outcome)}", outcome, lead, bullets)


def _money_column(meta: dict[str, Any], table: pd.DataFrame) -> str:
    col = str(meta.get("impact", meta.get("column", "")))
    if col in table.columns:
        return col
    for c in ("delta_revenue", "delta_profit", "delta_customers", "delta_rate"):
        if c in table.columns:
            return c
    return col


def _what(col: str) -> str:
    return {"delta_revenue": "revenue", "delta_profit": "profit",
            "delta_customers": "customers", "delta_rate": "rate"}.get(col, col)


def _priority_block(prio: Any, fmt: Format, outcome: str) -> Block | None:
    t = prio.table
    if not isinstance(t, pd.DataFrame) or "impact" not in t.columns:
        return None
    col = str(prio.meta.get("impact", "delta_rate"))
    unit = "impact" if is_money(col) or "impact" in fmt.money_columns else col
    step = _num(prio.meta.get("step", 1.0))
    d = t[np.isfinite(t["impact"].to_numpy(dtype=float))].sort_values("impact", ascending=False)
    if d.empty:
        return None
    bullets = []
    for name, row in d.head(3).iterrows():
        lo, hi = _num(row.get("impact_low")), _num(row.get("impact_high"))
        value = fmt.column([float(row["impact"])], unit)[0]
        text = f"{fmt.label(name)}: {value if value.startswith('-') else '+' + value}" \
               f"{_interval(fmt, lo, hi, unit)}"
        if _covers_zero(lo, hi):
            text += " (interval includes zero)"
        elif "quadrant" in row and str(row["quadrant"]):
            text += f" ({row['quadrant']})"
        bullets.append(text)
    if {"impact_low", "impact_high"} <= set(d.columns):
        flat = [n for n, r in d.iterrows() if _covers_zero(_num(r["impact_low"]),
                                                           _num(r["impact_high"]))]
        if flat:
            bullets.append(f"No effect distinguishable from zero for {_names(fmt, flat[:8])}"
                           + (f" and {len(flat) - 8} more" if len(flat) > 8 else "")
                           + ": do not invest there on this evidence.")
    what = _what(col)
    lead = (f"Simulated change in {what} when one driver improves by {step:g} rating point "
            f"and everything else stays as it is, over the customer base (through "
            f"{fmt.label(outcome)}); {100 * _level(prio):g}% intervals in brackets.")
    return Block("improve", f"Best-value improvements: {what} through {fmt.label(outcome)}",
                 outcome, lead, bullets)


def _pls_block(results: Sequence[Any], fmt: Format) -> Block | None:
    """The latent target of a PLS path model: its index, R², biggest impacts, IPMA quadrant."""
    impact = _find(results, "ImpactResult")
    ipma = _find(results, "IPMAResult")
    model = _find(results, "PLSModel")
    target = str(((impact or ipma).meta.get("target", "")) if (impact or ipma) else "")
    if not target and model is not None:
        # without an impact or IPMA result, the model's last endogenous construct
        target = str(model.spec.endogenous[-1]) if len(model.spec.endogenous) else ""
    if not target:
        return None
    meta = (impact or ipma).meta if (impact or ipma) else {}
    index = _num(meta.get("target_index", model.index[target] if model is not None else None))
    r2 = _num(model.r2.get(target)) if model is not None else float("nan")
    lead = f"{fmt.label(target)} is a latent construct of a PLS path model"
    if math.isfinite(index):
        lead += f"; its index stands at {fmt.decimal(index, 1)} on a 0–100 scale"
    if math.isfinite(r2):
        lead += (f"; its predecessors explain {fmt.percent(r2, 0)} of its variation "
                 f"(R² = {fmt.decimal(r2, 2)})")
    lead += "."
    bullets = []
    if impact is not None and isinstance(impact.table, pd.DataFrame):
        points = _num(impact.meta.get("points", 5.0))
        d = impact.table.sort_values("impact", ascending=False)
        for name, row in d.head(3).iterrows():
            v = float(row["impact"])
            text = (f"{fmt.label(name)}: {'+' if v >= 0 else ''}{fmt.decimal(v, 2)} index "
                    f"points of {fmt.label(target)} when its index rises by {points:g}")
            lo, hi = _num(row.get("ci_low")), _num(row.get("ci_high"))
            if math.isfinite(lo) and math.isfinite(hi):
                text += (f" ({100 * _level(impact):g}% interval {fmt.decimal(lo, 2)} to "
                         f"{fmt.decimal(hi, 2)})")
            bullets.append(text)
    if ipma is not None and isinstance(ipma.table, pd.DataFrame) \
            and "quadrant" in ipma.table.columns:
        focus = [n[-1] if isinstance(n, tuple) else n
                 for n in ipma.table.index[ipma.table["quadrant"] == "concentrate"]]
        if focus:
            bullets.append(f"Concentrate on {_names(fmt, focus)}: above-average importance "
                           "for the target, below-average performance.")
    return Block("pls", f"What drives {fmt.label(target)} (PLS path model)", target, lead,
                 bullets)


def _level(obj: Any) -> float:
    meta = getattr(obj, "meta", None) or {}
    for key in ("ci", "ci_level", "CI level"):
        v = meta.get(key)
        if isinstance(v, str) and v.endswith("%"):
            v = _num(v[:-1]) / 100
        v = _num(v)
        if 0 < v < 1:
            return v
    return 0.95


def _cut_block(sens: Any, fmt: Format, outcome: str) -> Block | None:
    t = sens.table
    if not isinstance(t, pd.DataFrame) or not {"driver", "step"} <= set(t.columns):
        return None
    col = "delta_revenue" if "delta_revenue" in t.columns else _money_column(sens.meta, t)
    if col not in t.columns:
        return None
    cuts = t[t["step"].to_numpy(dtype=float) < 0]
    if cuts.empty:
        return None
    step = float(cuts["step"].max())
    cuts = cuts[cuts["step"] == step].set_index("driver")
    loss = -cuts[col].astype(float)
    order = loss.sort_values().index
    bullets = []
    for name in order[:3]:
        lo, hi = _num(cuts.loc[name].get(f"{col}_low")), _num(cuts.loc[name].get(f"{col}_high"))
        change = fmt.column([float(-loss[name])], col)[0]
        text = (f"{fmt.label(name)}: simulated change "
                f"{change if change.startswith(('-', '−')) else '+' + change}"
                f"{_interval(fmt, lo, hi, col)}")
        if _covers_zero(lo, hi):
            text += ", no loss distinguishable from zero"
        bullets.append(text)
    worst = order[-1]
    bullets.append(f"Protect {fmt.label(worst)}: a {abs(step):g}-point drop there puts the "
                   f"most at risk ({fmt.column([float(loss[worst])], col)[0]}).")
    what = _what(col)
    lead = (f"Where service could be reduced with the least {what} at risk: the simulated "
            f"effect of a {abs(step):g}-point drop in each driver (through "
            f"{fmt.label(outcome)}), smallest loss first.")
    return Block("cut", f"Where service can be cut: {what} at risk through "
                 f"{fmt.label(outcome)}", outcome, lead, bullets)


def _plan_block(plan: Any, check: Any, fmt: Format, outcome: str) -> Block | None:
    t = plan.table
    if not isinstance(t, pd.DataFrame) or "spend" not in t.columns:
        return None
    objective = str(getattr(plan, "objective", plan.meta.get("objective", "profit")))
    col = {"profit": "delta_profit", "revenue": "delta_revenue"}.get(objective, "delta_rate")
    spend = float(getattr(plan, "total_spend", t["spend"].sum()))
    value = float(getattr(plan, "value", np.nan))
    funded = t[t["spend"] > 0].sort_values("spend", ascending=False)
    interval = ""
    covers = False
    if check is not None and col in check.columns:
        row = check.iloc[0]
        lo, hi = _num(row.get(f"{col}_low")), _num(row.get(f"{col}_high"))
        interval = _interval(fmt, lo, hi, col)
        covers = _covers_zero(lo, hi)
    vtext = fmt.column([value], col)[0]
    lead = (f"Spend {fmt.money(spend)} on {len(funded)} driver(s); expected {objective} "
            f"{vtext if vtext.startswith('-') else '+' + vtext}{interval} through "
            f"{fmt.label(outcome)}" + (" — the interval includes zero, so the return is not "
                                       "assured." if covers else "."))
    bullets = []
    for name, row in funded.head(6).iterrows():
        b = f"{fmt.label(name)}: {fmt.money(float(row['spend']))}"
        if "lift" in row:
            b += f" (+{fmt.decimal(float(row['lift']), 2)} rating points)"
        bullets.append(b)
    if len(funded) > 6:
        bullets.append(f"and {len(funded) - 6} more (see the plan's table).")
    return Block("plan", f"Recommended plan: {objective} through {fmt.label(outcome)}", outcome,
                 lead, bullets)


def executive_summary(results: Sequence[Any], fmt: Format, *, caveat: str,
                      warnings: Sequence[str] = ()) -> Summary | None:
    """Build the summary from whichever results are present (``None`` if nothing to say)."""
    imp = _find(results, "ImportanceResult")
    prio = _find(results, "PriorityResult")
    sens = _find(results, "SensitivityResult")
    plan = _find(results, "Allocation") or _find(results, "Portfolio")
    model = _find(results, "DriverModel")
    money_outcome = (outcome_of(prio) if prio is not None else "") or (
        outcome_of(sens) if sens is not None else "") or (
        outcome_of(model) if model is not None else "") or "the outcome"
    check = None
    if plan is not None and getattr(plan, "scenario", None) is not None:
        name = str(getattr(plan.scenario, "name", ""))
        for r in results:
            if (type(r).__name__ == "SimulationResult" and isinstance(r.table, pd.DataFrame)
                    and name in [str(i) for i in r.table.index]):
                check = r.table.loc[[name]]
                break
    blocks = [b for b in (
        _importance_block(imp, fmt) if imp is not None else None,
        _pls_block(results, fmt),
        _priority_block(prio, fmt, money_outcome) if prio is not None else None,
        _cut_block(sens, fmt, money_outcome) if sens is not None else None,
        _plan_block(plan, check, fmt, money_outcome) if plan is not None else None,
    ) if b is not None]
    if not blocks:
        return None
    parts = [caveat]
    notes = [str(n) for r in results for n in (getattr(r, "notes", None) or [])]
    if any("llustrative cost curves" in n for n in notes):
        parts.append("The budget plan uses illustrative cost curves; replace them with real "
                     "costs before acting on it.")
    dropped = next((n for n in notes if "dropped" in n), None)
    if dropped:
        parts.append(f"Missing answers: {dropped.rstrip('.')}.")
    if warnings:
        parts.append(f"{len(warnings)} warning(s) were raised while computing these results; "
                     "they are listed in the appendix.")
    return Summary(blocks, " ".join(parts))
