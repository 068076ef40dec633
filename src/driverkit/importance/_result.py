"""The result of :func:`driverkit.importance` and the tables it is built from.

:class:`ImportanceResult` (re-exported as ``dk.ImportanceResult``) and the helpers that turn
importances and bootstrap summaries into its table (shares, ranks, intervals).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from .._results import Result

__all__ = ["ImportanceResult", "share_interval"]


# --------------------------------------------------------------------------------------
# result
# --------------------------------------------------------------------------------------
class ImportanceResult(Result):
    """Relative importance of drivers (or groups of drivers).

    Attributes
    ----------
    table : pandas.DataFrame
        Indexed by driver or group name: ``importance`` (raw, R² units), ``share`` (% of the
        total), ``rank`` (1 = most important); with a bootstrap also ``std_error, ci_low,
        ci_high``; with sampled Shapley values ``mc_se`` (Monte Carlo standard error). For
        ``method="all"`` one column of raw importance per method.
    method, kind : str
    r2 : float
        Fit of the full model (drivers and always-in covariates; a pseudo-R² for GLMs).
    r2_always : float
        Fit of the always-in covariates alone (0 without); importances of Shapley and
        relative weights sum to ``r2 - r2_always``.
    conditional : pandas.DataFrame or None
        ``method="dominance"``: mean gain by model size (rows drivers, columns 0..p−1).
    complete : pandas.DataFrame or None
        ``method="dominance"``: share of comparisons in which the row beats the column
        (ties count half; NaN on the diagonal; 1 = complete dominance).
    results : dict
        ``method="all"``: the full result of each method.
    diagnostics : dict
        ``r2``, ``r2_always``, ``vif`` (Series), ``condition_number``, ``rw_shapley_gap`` and
        ``rw_shapley_gap_driver`` when both are available, sampling facts when sampled.
    rank_ci, pairwise : pandas.DataFrame or None
        With a bootstrap: rank intervals and pairwise differences with intervals.
    replicates : pandas.DataFrame or None
        Bootstrap replicates (rows) of each driver's importance.
    groups : dict
        Members of every player (a single driver maps to itself).
    """

    _title = "Relative importance"

    def __init__(self, table: pd.DataFrame, *, method: str, kind: str, r2: float,
                 r2_always: float, meta: dict[str, Any] | None = None,
                 notes: list[str] | None = None, conditional: pd.DataFrame | None = None,
                 complete: pd.DataFrame | None = None,
                 results: dict[str, ImportanceResult] | None = None,
                 diagnostics: dict[str, Any] | None = None,
                 rank_ci: pd.DataFrame | None = None, pairwise: pd.DataFrame | None = None,
                 replicates: pd.DataFrame | None = None,
                 groups: dict[str, list[str]] | None = None,
                 fit_index: str | None = None) -> None:
        title = f"Relative importance ({_METHOD_LABELS.get(method, method)})"
        super().__init__(table, meta=meta, notes=notes, title=title)
        self.method = method
        self.kind = kind
        self.r2 = float(r2)
        self.r2_always = float(r2_always)
        self.conditional = conditional
        self.complete = complete
        self.results = dict(results or {})
        self.diagnostics = dict(diagnostics or {})
        self.rank_ci = rank_ci
        self.pairwise = pairwise
        self.replicates = replicates
        self.groups = dict(groups or {})
        self.fit_index = fit_index

    def summary(self, *, labels: dict[str, str] | None = None, currency: str | None = None,
                locale: str | None = None) -> str:
        """Plain-text summary; for dominance also the conditional and complete tables.

        ``labels=``, ``currency=`` and ``locale=`` work as in :meth:`Result.summary`.
        """
        from ..display._format import format_options
        from ..display._render import format_table

        options = {"labels": labels, "currency": currency, "locale": locale}
        with format_options(self._format(options, "summary")):
            text = super().summary()
            if self.conditional is not None and self.complete is not None:
                cond = self.conditional.copy()
                cond.columns = [f"k={c}" for c in cond.columns]
                text += "\n\nConditional dominance (mean R² gain by number of other drivers)\n"
                text += format_table(cond).to_string()
                text += "\n\nComplete dominance (share of comparisons the row driver wins)\n"
                text += format_table(self.complete).to_string()
        return text

    def plot_data(self) -> pd.DataFrame:
        """Data behind :meth:`plot`: sorted importances, intervals and colour groups."""
        if self.method == "all":
            return self.table.copy()
        df = self.table[["importance", "share"]].copy()
        for col in ("ci_low", "ci_high"):
            if col in self.table:
                df[col] = self.table[col]
        df["group"] = [name if len(self.groups.get(name, [name])) > 1 else ""
                       for name in df.index]
        return df.sort_values("importance", ascending=False)

    def _plot(self, ax: Any, **kwargs: Any) -> Any:
        from ..display._plots import PALETTE

        df = self.plot_data()
        if self.method == "all":
            shares = df.div(df.sum(axis=0).where(df.sum(axis=0) != 0), axis=1) * 100
            shares = shares.iloc[::-1]
            k = shares.shape[1]
            height = 0.8 / k
            y = np.arange(len(shares))
            for i, col in enumerate(shares.columns):
                ax.barh(y + i * height - 0.4 + height / 2, shares[col].to_numpy(), height,
                        color=PALETTE[i % len(PALETTE)], label=col)
            ax.set_yticks(y)
            ax.set_yticklabels([str(s) for s in shares.index])
            ax.set_xlabel("share of explained variance (%)")
            ax.legend(fontsize="small")
            ax.set_title(self.title)
            return ax
        from ..display._plots import importance_bars

        # colour by journey stage when given ({driver: stage} or {stage: [drivers]}),
        # else mark grouped players apart from single drivers
        stages = kwargs.pop("stages", None)
        if stages:
            flat: dict[str, Any] = {}
            for key, val in stages.items():
                if isinstance(val, list | tuple | set):
                    flat.update({str(d): key for d in val})
                else:
                    flat[str(key)] = val
            stages = flat
        elif any(df["group"]):
            stages = {str(n): ("group" if g else "single driver")
                      for n, g in zip(df.index, df["group"], strict=True)}
        unit = "R²" if self.kind == "linear" else f"pseudo-R² ({self.fit_index})"
        return importance_bars(df, ax=ax, stages=stages, title=self.title,
                               xlabel=f"importance ({unit})", **kwargs)


_METHOD_LABELS = {
    "shapley": "Shapley / LMG",
    "dominance": "dominance analysis",
    "relative_weights": "relative weights",
    "pratt": "Pratt",
    "first": "first",
    "last": "last",
    "betasq": "squared beta",
    "car": "CAR scores",
    "all": "all methods",
}


# --------------------------------------------------------------------------------------
# table building
# --------------------------------------------------------------------------------------
def _add_bootstrap(table: pd.DataFrame, summary: Any, reps: np.ndarray | None,
                   names: list[str], ci: float = 0.95) -> dict[str, Any]:
    """Add a bootstrap summary's SE and interval columns; return the result's extra tables.

    ``share_low``/``share_high`` are percentiles of the bootstrap distribution of the shares
    themselves (each replicate's importances over their own sum, in %), not the importance
    interval over the point total (which is too wide and can pass 100 %).
    """
    if summary is None:
        return {}
    table["std_error"] = summary.std_error
    table["ci_low"] = summary.ci_low
    table["ci_high"] = summary.ci_high
    table["share_low"], table["share_high"] = share_interval(reps, ci, len(names))
    return {"rank_ci": summary.rank_ci, "pairwise": summary.pairwise,
            "replicates": pd.DataFrame(reps, columns=names)}


def share_interval(reps: np.ndarray | None, ci: float, p: int) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval of the shares (%) over bootstrap replicates ``(B, p)``.

    Replicates whose importances sum to zero (no share defined) or are not finite are left
    out; with none left the interval is NaN.
    """
    nan = np.full(p, np.nan)
    if reps is None:
        return nan, nan.copy()
    r = np.asarray(reps, dtype=float).reshape(-1, p)
    tot = r.sum(axis=1)
    ok = np.isfinite(r).all(axis=1) & (np.abs(tot) > 1e-300)
    if not ok.any():
        return nan, nan.copy()
    shares = r[ok] / tot[ok, None] * 100.0
    a = (1.0 - ci) / 2.0
    return np.quantile(shares, a, axis=0), np.quantile(shares, 1.0 - a, axis=0)


def _table(names: list[str], imp: np.ndarray) -> pd.DataFrame:
    total = float(np.sum(imp))
    share = imp / total * 100 if total != 0 else np.zeros_like(imp)
    return pd.DataFrame(
        {"importance": imp, "share": share,
         "rank": sps.rankdata(-imp, method="min").astype(int)},
        index=pd.Index(names, name="driver"),
    )
