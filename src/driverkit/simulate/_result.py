"""Result classes of the simulator: scenarios, sensitivity curves and the priority table."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._results import Result
from ..exceptions import DriverkitError

__all__ = ["PriorityResult", "SensitivityResult", "SimulationResult", "priority_quadrants"]


class SimulationResult(Result):
    """Simulated effects of one or more scenarios.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per scenario (index ``scenario``): ``baseline_rate, scenario_rate,
        delta_rate, delta_customers, delta_revenue, delta_profit, cost, roi`` (for a score
        outcome: ``baseline_mean, scenario_mean, delta_mean, cost``) with
        ``<name>_low``/``<name>_high`` for every ``delta_*`` column and ``roi``. Money columns
        are present only when revenue was given. Extra columns: ``prob_profit_positive``;
        ``saving`` and ``revenue_at_risk`` (when a scenario is a cut); ``segment``,
        ``segment_share``, ``segment_baseline_rate``, ``segment_delta_rate`` (+ interval)
        when a scenario is scoped to a segment; ``delta_clv``, ``delta_equity`` (+ intervals)
        with ``discount_rate``.
    by_driver : pandas.DataFrame
        Per scenario, each driver's standalone effect (the scenario restricted to that
        driver) and the ``interaction`` gap: joint effect − Σ standalone effects.
    diagnostics : pandas.DataFrame
        Guardrails per (scenario, driver): ``mean_before, mean_after, share_moved,
        share_at_ceiling, share_at_floor, share_clipped, share_beyond_observed, vif``.
    uncertainty : pandas.DataFrame
        Per scenario: the objective column, its standard deviation over the draws, the part
        due to the model and to the business inputs, their shares, and P(objective > 0).
    meta, notes
        Key facts (model, respondents, customers, draws, interval method) and caveats.
    """

    _title = "What-if simulation"

    def __init__(self, table: pd.DataFrame, *, by_driver: pd.DataFrame,
                 diagnostics: pd.DataFrame, uncertainty: pd.DataFrame,
                 draws: dict[str, pd.DataFrame] | None = None,
                 meta: dict[str, Any] | None = None, notes: list[str] | None = None,
                 title: str | None = None) -> None:
        super().__init__(table, meta=meta, notes=notes, title=title)
        self.by_driver = by_driver
        self.diagnostics = diagnostics
        self.uncertainty = uncertainty
        self._draws = dict(draws or {})

    @property
    def outcome_type(self) -> str:
        """``"score"`` (``delta_mean`` in scale points) or ``"rate"`` (``delta_rate``)."""
        return "score" if "delta_mean" in self.table.columns else "rate"

    @property
    def _delta(self) -> str:
        return "delta_mean" if self.outcome_type == "score" else "delta_rate"

    @property
    def scenarios(self) -> list[str]:
        return [str(s) for s in self.table.index]

    def draws(self, scenario: str | None = None) -> pd.DataFrame:
        """The joint draws (one row per draw) of every ``delta_*`` column and ``roi``.

        Empty when the intervals came from the delta method without business distributions.
        """
        name = self._pick(scenario)
        return self._draws.get(name, pd.DataFrame()).copy()

    def _pick(self, scenario: str | None) -> str:
        if scenario is None:
            return self.scenarios[0]
        if scenario not in self.scenarios:
            raise DriverkitError(
                f"No scenario named '{scenario}'; scenarios: {', '.join(self.scenarios)}."
            )
        return scenario

    def plot_data(self, scenario: str | None = None, column: str | None = None) -> pd.DataFrame:
        """The frame behind :meth:`plot`.

        One scenario (or ``scenario=``): the waterfall steps from the baseline through each
        driver's standalone effect and the interaction gap to the scenario (``step``,
        ``value``). Several scenarios: their ``column`` with its interval.
        """
        if len(self.table) > 1 and scenario is None:
            col = column or ("delta_profit" if "delta_profit" in self.table.columns
                             else self._delta)
            cols = [c for c in (col, f"{col}_low", f"{col}_high") if c in self.table.columns]
            return self.table[cols].copy()
        name = self._pick(scenario)
        col = column or self._delta
        bd = self.by_driver[self.by_driver["scenario"] == name]
        steps = bd.set_index("driver")[col] if col in bd.columns else pd.Series(dtype=float)
        base_col = "baseline_mean" if col == "delta_mean" else "baseline_rate"
        base = float(self.table.loc[name, base_col]) if col == self._delta else 0.0
        total = base + float(self.table.loc[name, col])
        rows = [("baseline", base)] + [(str(d), float(v)) for d, v in steps.items()]
        rows.append(("scenario", total))
        return pd.DataFrame(rows, columns=["step", "value"])

    def _plot(self, ax: Any, scenario: str | None = None, column: str | None = None,
              **kwargs: Any) -> Any:
        from ..display._plots import PALETTE, scenario_waterfall

        if len(self.table) > 1 and scenario is None:
            d = self.plot_data(column=column)
            col = d.columns[0]
            y = np.arange(len(d))
            vals = d[col].to_numpy(dtype=float)
            colors = [PALETTE[2] if v >= 0 else PALETTE[5] for v in vals]
            ax.barh(y, vals, color=colors, **kwargs)
            if f"{col}_low" in d.columns:
                lo = vals - d[f"{col}_low"].to_numpy(dtype=float)
                hi = d[f"{col}_high"].to_numpy(dtype=float) - vals
                ax.errorbar(vals, y, xerr=[np.maximum(lo, 0), np.maximum(hi, 0)], fmt="none",
                            ecolor="#555555", capsize=3, lw=1)
            ax.axvline(0.0, color="black", lw=0.6)
            ax.set_yticks(y, [str(i) for i in d.index])
            ax.invert_yaxis()  # first scenario on top
            ax.set_xlabel(col)
            ax.set_title(self.title)
            return ax
        d = self.plot_data(scenario=scenario, column=column)
        steps = d.iloc[1:-1].set_index("step")["value"]
        inter = steps.pop("interaction") if "interaction" in steps.index else 0.0
        steps = steps.copy()
        if inter:
            steps["interaction"] = inter
        col = column or self._delta
        return scenario_waterfall(
            steps, ax=ax, baseline=float(d["value"].iloc[0]), total=float(d["value"].iloc[-1]),
            baseline_label="baseline", total_label=self._pick(scenario),
            title=f"{self.title}: {self._pick(scenario)}",
            ylabel={"delta_rate": "rate", "delta_mean": "mean score"}.get(col, col), **kwargs)


class SensitivityResult(Result):
    """Response curves: each driver moved alone by each step (rating points).

    ``.table`` is long: one row per (driver, step) with ``driver, step, mean_after`` and the
    columns of :class:`SimulationResult` (``delta_rate``, money columns, intervals).
    """

    _title = "Sensitivity of the outcome to each driver"

    def plot_data(self) -> pd.DataFrame:
        return self.table.copy()

    def _plot(self, ax: Any, column: str | None = None, **kwargs: Any) -> Any:
        from ..display._plots import sensitivity_curves

        col = column or str(self.meta.get("column", "delta_rate"))
        return sensitivity_curves(self.plot_data(), ax=ax, y=col, title=self.title, **kwargs)


class PriorityResult(Result):
    """Current performance × simulated impact of a one-step improvement, per driver.

    ``.table`` (index ``driver``): ``performance`` (weighted mean rating), ``performance_100``
    (0–100 rescale), ``step`` (rating points), ``impact`` with ``impact_low``/``impact_high``
    (the simulated change of ``meta['impact']`` for +step), ``quadrant``.
    """

    _title = "Priority matrix"

    def plot_data(self) -> pd.DataFrame:
        return self.table[["performance", "impact", "impact_low", "impact_high",
                           "quadrant"]].copy()

    def _plot(self, ax: Any, **kwargs: Any) -> Any:
        from ..display._plots import priority_matrix

        return priority_matrix(
            self.plot_data(), ax=ax, title=self.title,
            xlabel="current performance (mean rating)",
            ylabel=(f"impact of +{float(self.meta.get('step', 1)):g} point "
                    f"({self.meta.get('impact', 'Δ')})"),
            **kwargs)


def priority_quadrants(frame: pd.DataFrame, *, x: str = "performance", y: str = "impact",
                       x_split: float | None = None, y_split: float | None = None) -> pd.Series:
    """The priority quadrant of each driver: high/low impact × high/low performance.

    The splits default to the medians of ``x`` and ``y`` (what the priority matrix draws);
    a value equal to the split counts as high.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"performance": [6.0, 8.5, 7.0], "impact": [5.0, 4.0, 1.0]},
    ...                  index=["wait", "staff", "price"])
    >>> priority_quadrants(t).tolist()
    ['fix first', 'maintain', 'possible overkill']
    """
    from ..display._plots import QUADRANT_LABELS

    xs = frame[x].to_numpy(dtype=float)
    ys = frame[y].to_numpy(dtype=float)
    xm = float(np.nanmedian(xs)) if x_split is None else float(x_split)
    ym = float(np.nanmedian(ys)) if y_split is None else float(y_split)
    return pd.Series([QUADRANT_LABELS[(bool(b >= ym), bool(a >= xm))]
                      for a, b in zip(xs, ys, strict=True)], index=frame.index, name="quadrant")
