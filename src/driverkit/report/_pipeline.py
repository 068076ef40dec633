"""The whole analysis in one call: what ``driverkit demo`` and ``driverkit analyze`` run.

model → importance (bootstrap) → simulation of each driver ±1 (sensitivity and priority
matrix) → optional budget plan → report. Every number comes from the public API; this
module only strings the steps together.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._progress import progress_bar
from .._validation import KINDS, check_columns, check_option
from ..exceptions import DriverkitError, DriverkitWarning
from ..optimize import piecewise, saturating
from ._report import stage_map

__all__ = ["AnalysisOutput", "infer_kind", "read_data", "run_analysis", "stage_map"]

_NPS_NAME = re.compile(r"recommend|nps|ltr|promot", re.IGNORECASE)


def infer_kind(values: pd.Series) -> str:
    """The model kind the outcome calls for.

    Two distinct values → ``"logit"``; integers within 0–10 in a column named like
    recommend/NPS/LTR → ``"ordinal"``; anything else → ``"linear"``.

    Examples
    --------
    >>> import pandas as pd
    >>> infer_kind(pd.Series([0, 1, 1, 0]))
    'logit'
    >>> infer_kind(pd.Series([0, 7, 9, 10], name="likely_to_recommend"))
    'ordinal'
    >>> infer_kind(pd.Series([3.5, 4.0, 2.0], name="satisfaction"))
    'linear'
    """
    v = values.dropna()
    if v.nunique() == 2:
        return "logit"
    num = pd.to_numeric(v, errors="coerce")
    if (num.notna().all() and len(num) and _NPS_NAME.search(str(values.name or ""))
            and bool(np.all(np.mod(num, 1) == 0)) and num.min() >= 0 and num.max() <= 10):
        return "ordinal"
    return "linear"


def read_data(path: str | Path, *, sheet: str | int | None = None, **options: Any
              ) -> pd.DataFrame:
    """Read respondents from CSV/TSV/TXT (separator, decimal comma and encoding detected),
    Excel or Parquet; ``options``: ``sep``, ``decimal``, ``encoding`` overrides."""
    from ..data._read import read_table

    return read_table(path, sheet=sheet, **options)[0]


@dataclass
class AnalysisOutput:
    """What :func:`run_analysis` produced (results in report order and the files)."""

    model: Any
    importance: Any
    importance_outcome: str = ""
    sensitivity: Any = None
    priority: Any = None
    plan: Any = None
    files: Any = None
    warnings: list[str] = field(default_factory=list)
    plan_effect: Any = None

    @property
    def results(self) -> list[Any]:
        return [r for r in (self.importance, self.priority, self.sensitivity, self.plan,
                            self.plan_effect, self.model) if r is not None]

    def driver_table(self) -> pd.DataFrame:
        """The short table the CLI prints: share, interval, rank and the +1 effect per driver."""
        t = self.importance.table
        # the share interval is the bootstrap percentile interval of the shares themselves
        # (never the importance interval divided by the point total: too wide, above 100 %)
        cols = [c for c in ("share", "share_low", "share_high", "rank") if c in t.columns]
        out = t[cols].copy()
        if self.priority is not None:
            p = self.priority.table
            cols = [c for c in ("performance", "impact", "impact_low", "impact_high")
                    if c in p.columns]
            out = out.join(p[cols], how="left")
        return out.sort_values("rank") if "rank" in out.columns else out


def _steps_bar(total: int, show: bool) -> Any:
    return progress_bar(total, show=show, desc="driverkit", unit="step",
                        bar_format="{desc}: {n}/{total} {postfix}")


def _default_curves(drivers: Sequence[str], budget: float, scales: Mapping[str, Any]) -> dict:
    # Illustrative: each driver can gain up to one point; half of that costs 70% of an equal
    # share of the budget. Real plans should use the client's cost curves (config file).
    share = abs(float(budget)) / max(len(drivers), 1)
    return {d: saturating(max_lift=1.0, scale=share) for d in drivers}


def _build_curves(spec: Mapping[str, Any]) -> dict:
    curves: dict[str, Any] = {}
    for d, c in spec.items():
        ok = isinstance(c, Mapping) and ({"spend", "lift"} <= set(c)
                                         or {"max_lift", "scale"} <= set(c))
        if not ok:
            raise DriverkitError(
                f"cost_curves['{d}'] must be a mapping like {{max_lift: 1.5, scale: 20000}} or "
                f"{{spend: [...], lift: [...]}}. Got {c!r}."
            )
        try:
            if "spend" in c:
                curves[str(d)] = piecewise(spend=[float(v) for v in c["spend"]],
                                              lift=[float(v) for v in c["lift"]])
            else:
                curves[str(d)] = saturating(max_lift=float(c["max_lift"]),
                                               scale=float(c["scale"]))
        except (TypeError, ValueError) as exc:
            if isinstance(exc, DriverkitError):
                raise
            raise DriverkitError(f"cost_curves['{d}']: {exc}") from exc
    return curves


def run_analysis(data: pd.DataFrame, outcome: str, drivers: Sequence[str], *,
                 kind: str | None = None, weights: str | None = None,
                 revenue: str | None = None, revenue_per_customer: float | None = None,
                 customers: float | None = None, margin: float = 1.0,
                 budget: float | None = None, scales: Mapping[str, Any] | None = None,
                 groups: Mapping[str, Sequence[str]] | None = None,
                 cost_curves: Mapping[str, Any] | None = None,
                 stages: Mapping[str, Any] | None = None, bootstrap: int | None = None,
                 importance_outcome: str | None = None,
                 draws: int = 500, seed: int = 0, positive: Any = None,
                 better: str | None = None,
                 out_dir: str | Path = "driverkit_output", title: str | None = None,
                 progress: bool = False, echo: Callable[[str], None] | None = None,
                 missing: str = "listwise", na_values: Any = None, imputations: int = 20,
                 formats: Sequence[str] = ("html", "xlsx"),
                 labels: Mapping[str, str] | None = None, currency: str | None = None,
                 locale: str | None = None,
                 ) -> AnalysisOutput:
    """Run the whole pipeline and write ``report.html`` and ``report.xlsx`` into ``out_dir``.

    Parameters mirror ``driverkit analyze``; see its help. ``stages`` maps each journey stage
    to its drivers (``{"Store": ["staff", "queue"]}``) or each driver to its stage; it colours
    the importance chart. ``importance_outcome`` decomposes another outcome's fit (e.g.
    satisfaction, while money flows through repurchase). ``bootstrap=None`` means 200
    replicates for a linear importance outcome and none for binary/ordinal ones (each
    replicate refits 2^p models). Warnings raised by the steps are collected in
    ``.warnings`` (and shown in the report's appendix). ``formats`` picks the files
    (``"html"``, ``"xlsx"``, ``"pptx"``); ``labels``, ``currency`` and ``locale`` are passed
    to :func:`driverkit.report` (checked before any computation starts).
    """
    from ..display._format import make_format

    make_format(labels, currency, locale, func="analyze")  # bad codes fail before the work
    from ..importance import importance
    from ..models import fit
    from ..optimize import optimize_budget
    from ..simulate import Simulator
    from ._report import report

    drivers = [str(d) for d in drivers]
    if not drivers:
        raise DriverkitError("Give at least one driver (--drivers a,b,c).")
    imp_outcome = importance_outcome or outcome
    needed = [outcome, *drivers] + [c for c in (weights, revenue, importance_outcome) if c]
    check_columns(data, needed)
    kind = kind or infer_kind(data[outcome])
    check_option(kind, "kind", KINDS, "analyze")
    imp_kind = (infer_kind(data[imp_outcome]) if importance_outcome else kind)
    imp_kind = {"probit": "logit"}.get(imp_kind, imp_kind)
    auto_boot = bootstrap is None
    if bootstrap is None:
        bootstrap = 200 if imp_kind == "linear" else 0
    n_steps = 4 + (budget is not None)
    bar = _steps_bar(n_steps, progress)
    say = echo or (lambda s: None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        bar.set_postfix_str("fitting the model")
        miss = {"missing": missing, "na_values": na_values, "imputations": imputations}
        model = fit(data, outcome, drivers, kind=kind, weights=weights, seed=seed, **miss,
                       scales=dict(scales) if scales else None,
                       **({"positive": positive} if positive is not None else {}))
        bar.update()
        bar.set_postfix_str(f"importance (bootstrap {bootstrap})")
        imp = importance(data, imp_outcome, drivers, kind=imp_kind, weights=weights,
                            groups=dict(groups) if groups else None, bootstrap=bootstrap,
                            seed=seed, progress=progress, **miss,
                            **({"positive": positive} if positive is not None else {}))
        if auto_boot and not bootstrap:
            imp.notes.append(
                f"No bootstrap intervals: for a {imp_kind} outcome each replicate refits "
                f"{2 ** len(drivers) - 1:,} models. Ask for them with --bootstrap B.")
        bar.update()
        say(f"model: {model.meta.get('kind', kind)}, n = {model.n}; importance done")

        bar.set_postfix_str(f"simulating each driver ±1 ({draws} draws)")
        sim_kw: dict[str, Any] = {"weights": weights, "margin": margin, "customers": customers,
                                  "better": better}
        if revenue:
            sim_kw["revenue"] = revenue
        elif revenue_per_customer is not None:
            sim_kw["revenue_per_customer"] = revenue_per_customer
        score = getattr(model, "outcome_type", "rate") == "score"
        if score:
            # a score (satisfaction 1–10) changes in scale points: no customers or money
            dropped = [k for k in ("revenue", "revenue_per_customer", "customers")
                       if sim_kw.get(k) is not None]
            for k in ("revenue", "revenue_per_customer", "customers"):
                sim_kw.pop(k, None)
            if dropped:
                warnings.warn(
                    f"The outcome '{outcome}' is a score (scale points), so its simulated changes "
                    f"are not customers or money; {', '.join(dropped)} ignored. Use a 0/1 "
                    "behaviour outcome (e.g. repurchase) for money.", DriverkitWarning,
                    stacklevel=2)
        sim = Simulator(model, data, **sim_kw, na_values=na_values, seed=seed,
                        imputations=imputations,
                        missing="drop" if missing == "listwise" else missing)
        movable = [d for d in drivers if d in set(sim.drivers)]
        sens = sim.sensitivity(movable, steps=[-1, 1], draws=draws, seed=seed)
        prio = sim.priority(movable, step=1.0, draws=draws, seed=seed)
        bar.update()

        plan = plan_effect = None
        if budget is not None:
            bar.set_postfix_str(f"optimising a budget of {budget:,.0f}")
            curves = (_build_curves(cost_curves) if cost_curves
                      else _default_curves(sim.drivers, budget, sim.scales))
            objective = ("mean" if score else "profit" if sim.has_money else "rate")
            plan = optimize_budget(sim, curves, float(budget), objective=objective)
            # the plan's simulated effect with its interval (same simulator, same draws)
            plan_effect = sim.run(plan.scenario, draws=draws, seed=seed)
            plan_effect._title = "Recommended plan: simulated effect"
            if not cost_curves:
                plan.notes.append(
                    "Illustrative cost curves: each driver can gain at most one rating point and "
                    "reaches 63% of that at an equal share of the budget. Give real cost curves "
                    "(cost_curves: in the config file) before acting on this plan.")
            bar.update()

        bar.set_postfix_str("writing the report")
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        result = AnalysisOutput(model=model, importance=imp, importance_outcome=imp_outcome,
                                sensitivity=sens, priority=prio, plan=plan,
                                plan_effect=plan_effect)
        pending = _messages(caught)
        try:
            result.files = report(*result.results, path=out / "report.html",
                                  stages=stage_map(stages),
                                  title=title or f"Key drivers of {imp_outcome}",
                                  subtitle=f"{len(data):,} respondents · {len(drivers)} "
                                           "drivers", formats=formats, labels=labels,
                                  currency=currency, locale=locale, warnings=pending)
        except ImportError as exc:
            # a core-only install (no plotting/report extras): keep every number as CSV
            result.files = _write_csv_tables(result.results, out)
            warnings.warn(
                f"The HTML/Excel report needs the report extras ({exc.name or exc}); wrote the "
                "tables as CSV instead. Install them with: pip install 'driverkit[report]'",
                UserWarning, stacklevel=2)
        bar.update()
    bar.close()
    result.warnings = _messages(caught)
    return result


def _messages(caught: Sequence[Any]) -> list[str]:
    """One line per distinct warning, ``"Category: first line"``."""
    msgs: list[str] = []
    for w in caught:
        text = f"{w.category.__name__}: {str(w.message).splitlines()[0]}"
        if text not in msgs:
            msgs.append(text)
    return msgs


@dataclass
class CsvTables:
    """Tables written as CSV when the report extras are not installed."""

    paths: list[Path]


def _write_csv_tables(results: Sequence[Any], out: Path) -> CsvTables:
    paths = []
    for i, res in enumerate(results, start=1):
        name = "".join(ch if ch.isalnum() else "_" for ch in type(res).__name__).lower()
        path = out / f"{i:02d}_{name}.csv"
        res.table.to_csv(path)
        paths.append(path)
    return CsvTables(paths=paths)
