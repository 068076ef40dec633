"""``dk.pls`` and :class:`PLSModel`: PLS path models with ACSI-style 0–100 indices."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._results import Result
from .._validation import (
    check_fraction,
    check_option,
    check_progress,
    check_random_state,
    suggest,
    warn,
)
from ..exceptions import (
    CollinearityWarning,
    ConvergenceWarning,
    DataError,
    DriverkitError,
    DriverkitTypeError,
    MeasurementWarning,
)
from . import _pls_quality as quality
from ._pls_boot import Replicates, batch_stats, interval, run_bootstrap
from ._pls_data import PLSData, prepare_pls_data
from ._pls_kernel import MAX_ITER, TOL, estimate_batch, moments
from ._pls_results import ImpactResult, IPMAResult, draw_path_diagram
from ._pls_spec import SCHEMES, PLSSpec, parse_spec

__all__ = ["PLSModel", "pls"]

CI_METHODS = ("percentile", "bca")


class PLSModel(Result):
    """A partial least squares path model (PLS-PM) of latent constructs.

    Create it with :func:`pls` (or ``PLSModel(constructs, paths, ...).fit(data)``); see there
    for the parameters. Results are available as attributes after fitting.

    Attributes
    ----------
    paths : DataFrame
        MultiIndex ``(source, target)``; ``estimate``, with bootstrap ``std_error, ci_low,
        ci_high, p_value``; ``f2`` and ``vif`` (of the predictor in its equation).
    total_effects : DataFrame
        ``estimate`` (total), ``direct``, ``indirect`` (+ intervals of the total).
    r2, adj_r2 : Series
        By endogenous construct.
    outer : DataFrame
        MultiIndex ``(construct, item)``: ``weight, loading, vif`` (+ intervals).
    reliability : DataFrame
        ``alpha, rho_c, rho_a, ave`` per construct.
    htmt, fornell_larcker : DataFrame
    scores : DataFrame
        Standardised construct scores per respondent.
    index_scores : DataFrame
        0–100 index per respondent; ``index`` their weighted means (``index_table`` with
        intervals).
    iterations : int
    converged : bool
    """

    _title = "PLS path model"
    is_pls = True  # the simulator plugs PLS models in through simulate/_pls.py

    def __init__(self, constructs: Any, paths: Any, *, modes: Any = None, scheme: str = "path",
                 weights: Any = None, scales: Any = None, missing: str = "listwise",
                 na_values: Any = None, bootstrap: int = 0, ci: float = 0.95,
                 ci_method: str = "percentile", seed: Any = None,
                 progress: bool | None = None) -> None:
        self.spec: PLSSpec = parse_spec(constructs, paths, modes)
        check_option(scheme, "scheme", list(SCHEMES), "pls")
        check_option(ci_method, "ci_method", list(CI_METHODS), "pls")
        check_fraction(ci, "ci", "pls")
        if isinstance(bootstrap, bool) or not isinstance(bootstrap, int | np.integer) or \
                bootstrap < 0 or bootstrap == 1:
            raise DriverkitError(f"bootstrap must be 0 or an integer >= 2; got {bootstrap!r}.")
        check_random_state(seed)
        self.progress = check_progress(progress, "pls")
        self.constructs = dict(self.spec.items)
        self.scheme = scheme
        self.weights = weights
        self._scales_arg = scales
        self.missing = missing
        self.na_values = na_values
        self.bootstrap = int(bootstrap)
        self.ci = float(ci)
        self.ci_method = ci_method
        self.seed = seed
        self.is_fitted = False
        super().__init__(pd.DataFrame(), title=self._title)

    # ----------------------------------------------------------------------------------
    def fit(self, data: pd.DataFrame) -> PLSModel:
        """Estimate the model on ``data`` (never modified); returns ``self``."""
        spec = self.spec
        d: PLSData = prepare_pls_data(data, spec, weights=self.weights,
                                      scales=self._scales_arg, missing=self.missing,
                                      na_values=self.na_values)
        self._d = d
        self.n = d.X.shape[0]
        self.scales = d.scales
        m, cov = moments(d.X, d.w)
        self._check_formative(cov)
        b = estimate_batch(m[None], cov[None], spec, self.scheme)
        if not b.ok[0]:
            raise DataError("The PLS estimates are not finite; check for (nearly) collinear "
                            "items or constructs.")
        self._b = b
        self.iterations = int(b.iterations[0])
        self.converged = bool(b.converged[0])
        notes = list(d.notes)
        if not self.converged:
            warn(f"pls(): the PLS iteration did not converge in {MAX_ITER} iterations "
                 f"(largest weight change >= {TOL:g}); results may be unreliable.",
                 ConvergenceWarning)
            notes.append(f"Not converged after {MAX_ITER} iterations.")
        self._stats = {k: v[0] for k, v in batch_stats(b, spec, d.low, d.width).items()}
        self._quality(notes, m, cov)
        self._index_checks(notes)
        self._boot: Replicates | None = None
        meta: dict[str, Any] = {"n": self.n, "constructs": spec.c, "items": spec.p,
                                "scheme": self.scheme, "iterations": self.iterations,
                                "converged": self.converged}
        meta.update(d.meta)
        if self.bootstrap:
            rng = check_random_state(self.seed)
            self._boot = run_bootstrap(d.X, d.w, spec, self.scheme, self.bootstrap, rng,
                                       b.W[0], d.low, d.width,
                                       jackknife=self.ci_method == "bca",
                                       progress=self.progress)
            bt = self._boot
            meta.update({"bootstrap": bt.requested, "resamples kept": bt.kept,
                         "ci": self.ci, "interval": self.ci_method,
                         "sign flips (constructs)": bt.flips})
            for reason, k in bt.dropped.items():
                meta[f"resamples dropped ({reason})"] = k
            if bt.kept < bt.requested:
                notes.append(f"{bt.requested - bt.kept} of {bt.requested} bootstrap resamples "
                             "were degenerate and left out: " + ", ".join(
                                 f"{k} {r}" for r, k in bt.dropped.items()) + ".")
            if bt.kept < 0.9 * bt.requested:
                warn(f"pls(): {bt.requested - bt.kept} of {bt.requested} bootstrap resamples "
                     "were degenerate and left out; intervals may be too narrow.",
                     ConvergenceWarning)
            if bt.kept < 2:
                raise DataError("Fewer than 2 usable bootstrap resamples.")
        self.meta = meta
        self.notes = notes
        self.is_fitted = True
        self.table = self.paths
        return self

    # -- checks ----------------------------------------------------------------------------
    def _check_formative(self, cov: np.ndarray) -> None:
        spec = self.spec
        sd = np.sqrt(np.diag(cov))
        R = cov / np.outer(sd, sd)
        for j, name in enumerate(spec.constructs):
            idx = np.flatnonzero(spec.block == j)
            if spec.modes[name] != "B" or idx.size < 2:
                continue
            ev, vec = np.linalg.eigh(R[np.ix_(idx, idx)])
            if ev[0] <= 1e-10 * ev[-1]:
                v = vec[:, 0]
                involved = [spec.item_names[idx[k]] for k in np.flatnonzero(np.abs(v) > 1e-6)]
                raise DataError(
                    f"The formative (mode B) construct '{name}' has perfectly collinear items "
                    f"({', '.join(involved)}); regression weights are not defined. Drop one of "
                    "them or use mode 'A'."
                )

    def _quality(self, notes: list[str], mean: np.ndarray, cov: np.ndarray) -> None:
        spec, b = self.spec, self._b
        R, C = b.R[0], b.C[0]
        self._R, self._C = R, C
        self._rel = quality.reliability(R, b.weights[0], b.loadings[0], spec)
        self._htmt = quality.htmt(R, spec)
        self._item_vif = quality.item_vif(R, spec)
        self._svif = quality.structural_vif(C, spec)
        self._f2 = quality.f_squared(C, b.r2[0], spec, mean, cov, self.scheme)
        multi = [n for n in spec.constructs if len(spec.items[n]) > 1 and spec.modes[n] == "A"]
        rel = self._rel.loc[multi]
        msgs = []
        for col, lim, label in (("alpha", quality.ALPHA_MIN, "Cronbach's alpha"),
                                ("rho_c", quality.RHO_MIN, "composite reliability rho_c"),
                                ("ave", quality.AVE_MIN, "AVE")):
            low = rel.index[rel[col] < lim].tolist()
            if low:
                msgs.append(f"{label} below {lim:g} for {', '.join(low)}")
        H = self._htmt.to_numpy()
        pairs = [f"{spec.constructs[i]}/{spec.constructs[j]} ({H[i, j]:.2f})"
                 for i in range(spec.c) for j in range(i + 1, spec.c)
                 if np.isfinite(H[i, j]) and H[i, j] > quality.HTMT_MAX
                 and spec.modes[spec.constructs[i]] == spec.modes[spec.constructs[j]] == "A"]
        if pairs:
            msgs.append(f"HTMT above {quality.HTMT_MAX:g} for " + ", ".join(pairs))
        for m in msgs:
            notes.append(m + " (a convention, not a test).")
        if msgs:
            warn("pls(): measurement quality below conventional thresholds: " + "; ".join(msgs)
                 + ".", MeasurementWarning)
        high = [f"{spec.item_names[k]} ({self._item_vif[k]:.1f})" for k in range(spec.p)
                if spec.modes[spec.constructs[spec.block[k]]] == "B"
                and self._item_vif[k] > quality.VIF_MAX]
        shigh = [f"{s} -> {t} ({v:.1f})" for (s, t), v in self._svif.items()
                 if v > quality.VIF_MAX]
        if high or shigh:
            msg = "VIF above 5: " + ", ".join(high + shigh)
            notes.append(msg + ".")
            warn("pls(): " + msg + " (collinear formative items or predictors).",
                 CollinearityWarning)

    def _index_checks(self, notes: list[str]) -> None:
        spec = self.spec
        wts = self._stats["weights"]
        neg = [f"{spec.item_names[k]} ({spec.constructs[spec.block[k]]}: {wts[k]:.3f})"
               for k in range(spec.p) if wts[k] < 0]
        if neg:
            msg = ("Negative outer weights: " + ", ".join(neg) + ". The 0–100 indices use them "
                   "as estimated (not clipped), so such an index can leave 0–100 and reads "
                   "poorly; consider dropping or reversing those items.")
            notes.append(msg)
            warn("pls(): " + msg, MeasurementWarning)
        bad = [spec.constructs[j] for j in range(spec.c) if not self._stats["index_sd"][j] > 0]
        if bad:
            notes.append("No 0–100 index for " + ", ".join(bad) + " (its weights sum to <= 0).")

    def _need_fit(self) -> None:
        if not self.is_fitted:
            raise DriverkitError("The model is not fitted yet; call .fit(data) first.")

    # -- intervals ---------------------------------------------------------------------------
    def _ci(self, key: str, est: np.ndarray, sel: Any = None, df: bool = False,
            reps: np.ndarray | None = None, jack: np.ndarray | None = None,
            ) -> dict[str, np.ndarray] | None:
        bt = self._boot
        if bt is None:
            return None
        if reps is None:
            reps = bt.stats[key] if sel is None else sel(bt.stats[key])
            if bt.jack is not None:
                jack = bt.jack[key] if sel is None else sel(bt.jack[key])
        return interval(est, reps, self.ci, self.ci_method, jack,
                        df=self.n - 1 if df else None)

    # -- tables ------------------------------------------------------------------------------
    def _edges(self) -> tuple[np.ndarray, np.ndarray]:
        ix = np.array([self.spec.index_of(s) for s, _ in self.spec.edges])
        jx = np.array([self.spec.index_of(t) for _, t in self.spec.edges])
        return ix, jx

    @property
    def paths(self) -> pd.DataFrame:
        """Path coefficients (standardised), with f², VIF and bootstrap intervals."""
        self._need_fit()
        ix, jx = self._edges()
        est = self._stats["paths"][ix, jx]
        t = pd.DataFrame({"estimate": est}, index=pd.MultiIndex.from_tuples(
            self.spec.edges, names=["source", "target"]))
        ci = self._ci("paths", est, lambda a: a[:, ix, jx], df=True)
        if ci:
            for k, v in ci.items():
                t[k] = v
        t["f2"] = [self._f2[e] for e in self.spec.edges]
        t["vif"] = [self._svif[e] for e in self.spec.edges]
        return t

    @property
    def total_effects(self) -> pd.DataFrame:
        """Total effects T = (I − B)⁻¹ − I with their direct and indirect parts."""
        self._need_fit()
        T, P = self._stats["total"], self._stats["paths"]
        ix, jx = np.nonzero(self.spec.reach)
        order = np.lexsort((jx, ix))
        ix, jx = ix[order], jx[order]
        names = self.spec.constructs
        est = T[ix, jx]
        t = pd.DataFrame({"estimate": est, "direct": P[ix, jx], "indirect": est - P[ix, jx]},
                         index=pd.MultiIndex.from_arrays(
                             [[names[i] for i in ix], [names[j] for j in jx]],
                             names=["source", "target"]))
        ci = self._ci("total", est, lambda a: a[:, ix, jx], df=True)
        if ci:
            for k, v in ci.items():
                t[k] = v
        return t

    @property
    def r2(self) -> pd.Series:
        """R² of each endogenous construct."""
        self._need_fit()
        end = self.spec.endogenous
        return pd.Series([self._stats["r2"][self.spec.index_of(e)] for e in end],
                         index=pd.Index(end, name="construct"), name="r2")

    @property
    def adj_r2(self) -> pd.Series:
        """Adjusted R² = 1 − (1 − R²)(n − 1)/(n − k − 1), k = number of predictors."""
        r2 = self.r2
        k = np.array([self.spec.predecessors(self.spec.index_of(e)).size for e in r2.index])
        return (1 - (1 - r2) * (self.n - 1) / (self.n - k - 1)).rename("adj_r2")

    @property
    def outer(self) -> pd.DataFrame:
        """Outer weights and loadings by (construct, item), with item VIFs and intervals."""
        self._need_fit()
        spec = self.spec
        idx = pd.MultiIndex.from_arrays([[spec.constructs[b] for b in spec.block],
                                         spec.item_names], names=["construct", "item"])
        t = pd.DataFrame({"weight": self._stats["weights"], "loading": self._stats["loadings"],
                          "index_weight": self._stats["wtilde"], "vif": self._item_vif},
                         index=idx)
        for key, col in (("weights", "weight"), ("loadings", "loading")):
            ci = self._ci(key, self._stats[key])
            if ci:
                t[f"{col}_std_error"] = ci["std_error"]
                t[f"{col}_low"] = ci["ci_low"]
                t[f"{col}_high"] = ci["ci_high"]
        return t

    @property
    def reliability(self) -> pd.DataFrame:
        """Cronbach's α, ρ_C, ρ_A and AVE per construct."""
        self._need_fit()
        return self._rel.copy()

    @property
    def htmt(self) -> pd.DataFrame:
        """Heterotrait–monotrait ratios (Henseler et al. 2015)."""
        self._need_fit()
        return self._htmt.copy()

    @property
    def fornell_larcker(self) -> pd.DataFrame:
        """Construct correlations with sqrt(AVE) on the diagonal."""
        self._need_fit()
        return quality.fornell_larcker(self._C, self._rel["ave"].to_numpy(), self.spec)

    @property
    def construct_correlations(self) -> pd.DataFrame:
        self._need_fit()
        return pd.DataFrame(self._C, index=self.spec.constructs, columns=self.spec.constructs)

    @property
    def scores(self) -> pd.DataFrame:
        """Standardised construct scores (weighted mean 0, variance 1) per respondent."""
        self._need_fit()
        d, b = self._d, self._b
        Z = (d.X - b.mean[0]) / b.sd[0]
        return pd.DataFrame(Z @ b.W[0], index=d.index, columns=self.spec.constructs)

    @property
    def index_scores(self) -> pd.DataFrame:
        """0–100 index per respondent: Σ w̃_i·100(x_i − L_i)/(U_i − L_i) (Fornell et al. 1996)."""
        self._need_fit()
        d = self._d
        x100 = (d.X - d.low) * (100.0 / d.width)
        Wt = self.spec.mask * self._stats["wtilde"][:, None]
        return pd.DataFrame(x100 @ Wt, index=d.index, columns=self.spec.constructs)

    @property
    def index(self) -> pd.Series:
        """Weighted mean 0–100 index per construct."""
        self._need_fit()
        return pd.Series(self._stats["index"], index=pd.Index(self.spec.constructs,
                                                              name="construct"), name="index")

    @property
    def index_table(self) -> pd.DataFrame:
        """The mean indices with bootstrap intervals."""
        t = self.index.to_frame()
        ci = self._ci("index", self._stats["index"])
        if ci:
            for k, v in ci.items():
                t[k] = v
        return t

    # -- impacts and IPMA ------------------------------------------------------------------------
    def _target(self, target: str, func: str) -> int:
        self._need_fit()
        if target not in self.spec.constructs:
            raise DriverkitError(f"{func}(): '{target}' is not a construct."
                                 f"{suggest(str(target), self.spec.constructs)} Constructs: "
                                 f"{', '.join(self.spec.constructs)}.")
        t = self.spec.index_of(target)
        if not self.spec.reach[:, t].any():
            raise DriverkitError(f"{func}(): no construct affects '{target}' (it has no "
                                 "incoming paths).")
        return t

    def impact(self, target: str, points: float = 5.0) -> ImpactResult:
        """ACSI impact of each driver construct on ``target``'s 0–100 index.

        impact = ``points`` × the unstandardised total effect: the change in the target's
        index when a driver's index rises by ``points`` (Fornell et al. 1996, J. Marketing
        60(4)); the unstandardised total effect is the standardised one times
        sd(target index)/sd(driver index), identical to the total effect of OLS paths
        re-estimated on the index scores.

        Examples
        --------
        >>> import driverkit as dk
        >>> df = dk.make_survey(500, items_per_construct=3, seed=1)
        >>> t = df.attrs["truth"]["pls"]
        >>> m = dk.pls(df, t["constructs"], t["paths"], scales=(1, 10))
        >>> round(float(m.impact("Loyalty").table.loc["Satisfaction", "impact"]), 1) > 0
        True
        """
        if isinstance(points, bool) or not isinstance(points, int | float) or \
                not 0 < abs(points) <= 100:
            raise DriverkitError(f"impact(points=...) must be in (0, 100]; got {points!r}.")
        t = self._target(target, "impact")
        U = self._stats["unstd_total"]
        drivers = [k for k in range(self.spec.c) if self.spec.reach[k, t]]
        est = points * U[drivers, t]
        tab = pd.DataFrame({"impact": est, "total_effect": self._stats["total"][drivers, t],
                            "index": self._stats["index"][drivers]},
                           index=pd.Index([self.spec.constructs[k] for k in drivers],
                                          name="driver"))
        ci = self._ci("unstd_total", U[drivers, t], lambda a: a[:, drivers, t])
        if ci:
            tab["std_error"] = points * ci["std_error"]
            tab["ci_low"] = points * ci["ci_low"]
            tab["ci_high"] = points * ci["ci_high"]
        meta = {"target": target, "points": points, "target index": self._stats["index"][t]}
        meta.update({k: v for k, v in self.meta.items() if k in ("bootstrap", "ci", "interval")})
        return ImpactResult(tab, meta=meta, notes=[
            f"Change of the {target} index (0–100) when a driver's index rises by {points:g} "
            "points, through every direct and indirect path."],
            title=f"Impact on {target} (+{points:g} index points)")

    def ipma(self, target: str, level: str = "construct", *,
             weighting: str = "acsi") -> IPMAResult:
        """Importance–performance map of ``target`` (Ringle & Sarstedt 2016, IMDS 116(9)).

        Construct level: importance = unstandardised total effect on the target's 0–100
        index (index points per index point), performance = the driver's mean 0–100 index.
        Item level: importance = the item's normalised index weight w̃ × its construct's
        unstandardised total effect, performance = the item's mean on 0–100.

        Parameters
        ----------
        target : str
        level : {"construct", "item"}, default="construct"
        weighting : {"acsi", "standardised"}, default="acsi"
            How item weights are normalised into the 0–100 indices (see Notes).

        Notes
        -----
        ``weighting="acsi"`` (default): w̃_i = (w_i/s_i)/Σ(w_j/s_j), the outer weights
        unstandardised by the item SDs (Fornell et al. 1996; SmartPLS's rescaled weights);
        the index is then an affine function of the PLS score. ``"standardised"``: the
        standardised weights normalised to sum 1 without dividing by the SDs, as
        seminrExtras does; importance is then the total effect of OLS paths re-estimated on
        those indices. The two differ slightly when item SDs differ within a construct.
        """
        check_option(level, "level", ["construct", "item"], "ipma")
        check_option(weighting, "weighting", ["acsi", "standardised"], "ipma")
        t = self._target(target, "ipma")
        spec = self.spec
        pre = "" if weighting == "acsi" else "std_"
        ukey, ikey_, wkey = f"{pre}unstd_total", f"{pre}index", f"{pre}wtilde"
        U = self._stats[ukey]
        drivers = [k for k in range(spec.c) if spec.reach[k, t]]
        if level == "construct":
            imp = U[drivers, t]
            perf = self._stats[ikey_][drivers]
            idx = pd.Index([spec.constructs[k] for k in drivers], name="construct")

            def sel_i(a: np.ndarray) -> np.ndarray:
                return a[:, drivers, t]

            def sel_p(a: np.ndarray) -> np.ndarray:
                return a[:, drivers]

            ci_i = self._ci(ukey, imp, sel_i)
            ci_p = self._ci(ikey_, perf, sel_p)
        else:
            items = [k for k in range(spec.p) if spec.block[k] in drivers]
            blk = spec.block[items]
            imp = self._stats[wkey][items] * U[blk, t]
            perf = self._stats["item_mean"][items]
            idx = pd.MultiIndex.from_arrays([[spec.constructs[b] for b in blk],
                                             [spec.item_names[k] for k in items]],
                                            names=["construct", "item"])
            ci_i = ci_p = None
            bt = self._boot
            if bt is not None:
                ri = bt.stats[wkey][:, items] * bt.stats[ukey][:, blk, t]
                ji = None if bt.jack is None else \
                    bt.jack[wkey][:, items] * bt.jack[ukey][:, blk, t]
                ci_i = self._ci("", imp, reps=ri, jack=ji)
                ci_p = self._ci("item_mean", perf, lambda a: a[:, items])
        tab = pd.DataFrame({"importance": imp, "performance": perf}, index=idx)
        if ci_i and ci_p:
            tab["importance_low"], tab["importance_high"] = ci_i["ci_low"], ci_i["ci_high"]
            tab["performance_low"], tab["performance_high"] = ci_p["ci_low"], ci_p["ci_high"]
        mi, mp = float(np.mean(imp)), float(np.mean(perf))
        tab["quadrant"] = np.where(tab["importance"] >= mi,
                                   np.where(tab["performance"] >= mp, "keep up", "concentrate"),
                                   np.where(tab["performance"] >= mp, "possible overkill",
                                            "low priority"))
        meta = {"target": target, "level": level, "weighting": weighting,
                "target index": self._stats[ikey_][t],
                "mean importance": mi, "mean performance": mp}
        meta.update({k: v for k, v in self.meta.items() if k in ("bootstrap", "ci", "interval")})
        return IPMAResult(tab, meta=meta, notes=[
            "Importance: index points of the target per index point of the driver (total "
            "effect, unstandardised). Quadrants split at the mean importance and mean "
            "performance."], title=f"Importance–performance map: {target} ({level}s)")

    # -- display ----------------------------------------------------------------------------------
    def _sections(self) -> list[Result]:
        r2 = pd.DataFrame({"r2": self.r2, "adj_r2": self.adj_r2})
        return [Result(self.outer[["weight", "loading"]], title="Outer weights and loadings"),
                Result(r2, title="R²"),
                Result(self.reliability, title="Reliability and convergent validity"),
                Result(self.index_table, title="Indices (0–100)")]

    def _names(self) -> set[str]:
        names = super()._names()
        if self.is_fitted:  # labels may name items and constructs of any section
            for s in self._sections():
                names |= s._names()
        return names

    def summary(self, *, labels: dict[str, str] | None = None, currency: str | None = None,
                locale: str | None = None) -> str:
        """Paths, R², outer model, reliability and indices as text.

        ``labels``, ``currency`` and ``locale`` work as in :meth:`Result.summary`.
        """
        from ..display._format import format_options

        self._need_fit()
        fmt = self._format({"labels": labels, "currency": currency, "locale": locale},
                           "summary")
        with format_options(fmt):  # one formatter for every section
            return "\n\n".join([Result.summary(self)] + [s.summary() for s in self._sections()])

    def to_html(self, *, labels: dict[str, str] | None = None, currency: str | None = None,
                locale: str | None = None) -> str:
        """The paths and every section as an HTML fragment (what notebooks display)."""
        from ..display._format import format_options

        self._need_fit()
        fmt = self._format({"labels": labels, "currency": currency, "locale": locale},
                           "to_html")
        with format_options(fmt):
            return "\n".join([Result.to_html(self)] + [s.to_html() for s in self._sections()])

    def __repr__(self) -> str:
        if not self.is_fitted:
            return f"PLSModel({', '.join(self.spec.constructs)}; not fitted)"
        return self.summary()

    def _plot(self, ax: Any, **kwargs: Any) -> Any:
        self._need_fit()
        return draw_path_diagram(ax, self.spec, self.paths, self.r2, **kwargs)


def pls(data: pd.DataFrame, constructs: Any, paths: Any, *, modes: Any = None,
        scheme: str = "path", weights: Any = None, scales: Any = None,
        missing: str = "listwise", na_values: Any = None, bootstrap: int = 0,
        ci: float = 0.95, ci_method: str = "percentile", seed: Any = None,
        progress: bool | None = None, **kwargs: Any) -> PLSModel:
    """Fit a PLS path model of latent constructs (ACSI/ECSI style).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent (never modified).
    constructs : dict
        ``{construct: [item, ...]}``; one item makes a single-item construct (its score is
        the standardised item).
    paths : dict or list of pairs
        ``{target: [source, ...]}`` or ``[(source, target), ...]``; must be recursive.
    modes : dict, optional
        ``{construct: "A" | "B"}``: correlation (reflective, default) or regression
        (formative) weights.
    scheme : {"path", "centroid", "factorial"}, default="path"
        Inner weighting scheme.
    weights : str or array-like, optional
        Survey weights (a column name or one value per row): every moment is weighted.
    scales : (low, high) or dict, optional
        Declared item scales for the 0–100 indices (per item or per construct); default
        the observed min/max (with a note). Data outside a declared scale is an error.
    missing : {"listwise", "mean", "raise"}, default="listwise"
        Missing item answers: drop the respondent (with a warning giving the count and
        share), replace by the item mean (seminr's default; warns that it shrinks variances),
        or raise.
    na_values : list or dict, optional
        Codes meaning "no answer" (e.g. ``[99]``), turned into missing first.
    bootstrap : int, default=0
        Number of bootstrap resamples of respondents (5000 is the PLS convention).
    ci : float, default=0.95
    ci_method : {"percentile", "bca"}, default="percentile"
    seed : int or Generator, optional
    progress : bool, optional
        Show a progress bar over the bootstrap resamples (default: only for long runs, in a
        terminal or notebook).

    Returns
    -------
    PLSModel

    Notes
    -----
    PLS path modelling (Wold 1982; Lohmöller 1989; Tenenhaus et al. 2005): items are
    standardised with the survey weights, outer weights iterate from unit weights until the
    largest change is below 1e-7 (at most 300 iterations), paths are OLS on the scores and
    total effects (I − B)⁻¹ − I. Indices follow the ACSI (Fornell et al. 1996).

    Examples
    --------
    >>> import driverkit as dk
    >>> df = dk.make_survey(400, items_per_construct=3, seed=3)
    >>> t = df.attrs["truth"]["pls"]
    >>> m = dk.pls(df, t["constructs"], t["paths"], scales=(1, 10))
    >>> m.converged
    True
    >>> sorted(m.reliability.columns)
    ['alpha', 'ave', 'rho_a', 'rho_c']
    """
    if kwargs:
        raise DriverkitTypeError(f"pls() got unexpected keyword argument(s) "
                                 f"{', '.join(map(repr, kwargs))}.")
    return PLSModel(constructs, paths, modes=modes, scheme=scheme, weights=weights,
                    scales=scales, missing=missing, na_values=na_values, bootstrap=bootstrap,
                    ci=ci, ci_method=ci_method, seed=seed, progress=progress).fit(data)
