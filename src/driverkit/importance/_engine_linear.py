"""Linear engines of :func:`driverkit.importance`: exact, sampled and bootstrapped.

The residual correlation matrix (covariates partialled out) goes to the exact subset kernel
(:mod:`driverkit.stats._subsets`) and the shared Shapley/dominance functions
(:mod:`driverkit.importance._shapley`), to permutation sampling above ``exact_max`` players,
or to the closed-form metrics (:mod:`driverkit.importance._linear`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._progress import progress_bar
from .._validation import warn
from ..exceptions import ConvergenceWarning, DriverkitError, SuppressorWarning
from ..stats._subsets import (
    SubsetBlock,
    announce_cost,
    map_subset_blocks,
    partial_correlation,
    subset_values_batch,
)
from . import _bootstrap as bs
from ._linear import LINEAR_METHODS, batch_partial_correlation, linear_metric
from ._problem import ALL_METHODS, _base_meta, _diagnostics, _Options, _Problem, _sign_flips
from ._result import ImportanceResult, _add_bootstrap, _table
from ._sampling import sample_shapley
from ._shapley import LatticeSums, complete_dominance

#: Replicates × subsets per vectorised bootstrap chunk.
_BOOT_CELLS = 1 << 20


def _exact_sums(R: np.ndarray, players: list[list[int]], keep_values: bool,
                progress: bool | None) -> tuple[LatticeSums, np.ndarray | None]:
    p = len(players)
    announce_cost(p, keep_values=keep_values)
    acc = LatticeSums(p)
    v = np.empty(1 << p) if keep_values else None
    bar = progress_bar(1 << p, show=progress, desc="subsets", unit_scale=True,
                       long_run=p >= 26)

    def block_sums(blk: SubsetBlock) -> tuple[LatticeSums, int, np.ndarray | None]:
        part = LatticeSums(p)
        part.add_block(blk)
        return part, blk.start, None if v is None else blk.values[:, 0]

    # blocks on the machine's cores; merged in block order (same sums whatever the threads)
    for part, start, vals in map_subset_blocks(R, players, block_sums, progress=bar.update):
        acc.merge(part)
        if v is not None and vals is not None:
            v[start : start + len(vals)] = vals
    bar.close()
    return acc, v


@dataclass
class _Point:
    values: dict[str, np.ndarray]
    conditional: np.ndarray | None = None
    complete: np.ndarray | None = None
    sampling: Any = None


def _linear_point(R: np.ndarray, players: list[list[int]], scale: float, methods: list[str],
                  opts: _Options, need_complete: bool) -> _Point:
    p = len(players)
    out = _Point(values={})
    if "shapley" in methods or "dominance" in methods:
        if p <= opts.exact_max:
            acc, v = _exact_sums(R, players, need_complete, opts.progress)
            cond = acc.conditional()[0] * scale
            shap = cond.mean(axis=1)
            out.values["shapley"] = shap
            out.values["dominance"] = shap
            out.conditional = cond
            if need_complete and v is not None:
                out.complete = complete_dominance(v)
        else:
            res = sample_shapley(R, players, tolerance=opts.tolerance, max_time=opts.max_time,
                                 max_permutations=opts.max_permutations, scale=scale,
                                 rng=opts.rng)
            out.values["shapley"] = res.values
            out.sampling = res
    for m in methods:
        if m in LINEAR_METHODS:
            out.values[m] = linear_metric(m, R, players, scale)[0]
    return out


def _linear_batch_stat(Cb: np.ndarray, prob: _Problem, methods: list[str]) -> np.ndarray:
    """Importances ``(B, len(methods) * p)`` from replicate covariance matrices."""
    R, scale, ok = batch_partial_correlation(Cb, prob.m, prob.a)
    p = len(prob.players)
    B = R.shape[0]
    out = np.empty((B, len(methods) * p))
    for i, meth in enumerate(methods):
        if meth in ("shapley", "dominance"):
            vals = np.empty((B, p))
            chunk = max(1, _BOOT_CELLS >> p)
            for s in range(0, B, chunk):
                v = subset_values_batch(R[s : s + chunk], prob.players)
                acc = LatticeSums(p, v.shape[1])
                acc.add(v, 0)
                vals[s : s + chunk] = acc.shapley()
            vals *= scale[:, None]
        else:
            vals = linear_metric(meth, R, prob.players, scale)
        out[:, i * p : (i + 1) * p] = vals
    out[~ok] = np.nan
    return out


def _linear_importance(prob: _Problem, method: str, opts: _Options, B: int, ci: float,
                       ci_method: str) -> ImportanceResult:
    names = prob.player_names
    p = len(names)
    R, r2, r2_always = partial_correlation(
        prob.C, prob.var_names, prob.m + prob.a, list(range(prob.m)),
        list(range(prob.m, prob.m + prob.a)),
        what="covariance matrix" if prob.source == "data" else "matrix")
    scale = 1.0 - r2_always
    methods = list(ALL_METHODS) if method == "all" else [method]
    if method == "dominance" and p > opts.exact_max:
        raise DriverkitError(
            f"Dominance analysis needs all 2^{p} subsets; p = {p} is above exact_max = "
            f"{opts.exact_max}. Raise exact_max (see the cost estimate) or use "
            "method='shapley', which samples above exact_max."
        )
    need_complete = method == "dominance" or (method == "all" and p <= opts.exact_max)
    compute = list(methods)
    if method == "all" and p <= opts.exact_max:
        compute.append("dominance")
    # the RW-vs-Shapley gap is a diagnostic of every linear result (cheap up to p = 20)
    if "relative_weights" not in compute:
        compute.append("relative_weights")
    if "shapley" not in compute and "dominance" not in compute and p <= min(20, opts.exact_max):
        compute.append("shapley")
    point = _linear_point(R, prob.players, scale, compute, opts, need_complete)

    diag = {"r2": r2, "r2_always": r2_always, **_diagnostics(prob)}
    notes = list(prob.notes)
    shap = point.values.get("shapley")
    rw = point.values.get("relative_weights")
    if shap is not None and rw is not None:
        gap = np.abs(rw - shap)
        j = int(np.argmax(gap))
        diag["rw_shapley_gap"] = float(gap[j])
        diag["rw_shapley_gap_driver"] = names[j]
    if point.sampling is not None:
        sres = point.sampling
        diag.update({"sampled": True, "n_permutations": sres.n_permutations,
                     "stopped_by": sres.stopped_by, "max_mc_se": float(sres.std_error.max()),
                     "sampling_seconds": sres.seconds})
        notes.append(
            f"Shapley values estimated by sampling {sres.n_permutations:,} entry orders "
            f"(antithetic pairs; p = {p} > exact_max = {opts.exact_max}); largest Monte Carlo "
            f"SE {sres.std_error.max():.2g}; stopped by {sres.stopped_by}."
        )
        if sres.stopped_by != "tolerance":
            warn(
                f"Sampled Shapley values stopped by {sres.stopped_by} before reaching the "
                f"tolerance {opts.tolerance:g} (largest MC SE {sres.std_error.max():.3g}). "
                "Raise max_time/max_permutations for more precision.",
                ConvergenceWarning,
            )

    # ---- bootstrap ----------------------------------------------------------------------
    boot: dict[str, bs.BootstrapSummary] = {}
    reps_by: dict[str, np.ndarray] = {}
    if B:
        boot_methods = [m for m in methods]
        if point.sampling is not None and ("shapley" in boot_methods):
            raise DriverkitError(
                f"bootstrap= with sampled Shapley values (p = {p} > exact_max = "
                f"{opts.exact_max}) would need a sampling run per replicate. Raise exact_max "
                "(exact is fast up to p ≈ 25), group drivers, or bootstrap another method."
            )
        reps, jack = _linear_replicates(prob, boot_methods, B, opts, ci_method)
        for i, m in enumerate(boot_methods):
            est = point.values[m]
            r = reps[:, i * p : (i + 1) * p]
            jk = None if jack is None else jack[:, i * p : (i + 1) * p]
            boot[m] = bs.summarize(est, r, names, ci=ci, method=ci_method, jack=jk)
            reps_by[m] = r[np.all(np.isfinite(r), axis=1)]
        s0 = boot[boot_methods[0]]
        if s0.n_failed:
            notes.append(f"{s0.n_failed} of {B} bootstrap resamples were degenerate (singular) "
                         "and were left out.")
        if prob.source != "data":
            notes.append("Bootstrap from a matrix: parametric (Wishart) replicates assuming "
                         "multivariate normal data with n = "
                         f"{prob.n:g}; BCa acceleration set to 0.")
        elif prob.weight_type == "sampling":
            notes.append("Bootstrap resamples respondents with their sampling weights.")
        elif prob.weight_type == "frequency":
            notes.append("Bootstrap resamples rows; with frequency weights a row stands for "
                         "several respondents, so the intervals are too wide if rows are "
                         "aggregated units.")

    from ..models._model import describe_signs

    flips = _sign_flips(prob)
    if len(flips):
        msg = (f"Suppressor sign: {describe_signs(flips)} — the full-model coefficient is "
               f"opposite to the driver's own correlation with '{prob.outcome}'. Its share is "
               "real explained variance, but a simulated cut or raise of it alone rests on that "
               "sign.")
        warn(msg, SuppressorWarning)
        notes.append(msg)

    def build(m: str) -> ImportanceResult:
        table = _table(names, point.values[m])
        if point.sampling is not None and m == "shapley":
            table["mc_se"] = point.sampling.std_error
        extras = _add_bootstrap(table, boot.get(m), reps_by.get(m), names, ci)
        meta = _base_meta(prob, m, "linear", r2, r2_always, None)
        meta["max_vif"] = float(diag["vif"].max()) if "vif" in diag else np.nan
        meta["condition_number"] = diag.get("condition_number", np.nan)
        if len(flips):
            meta["suppressor_signs"] = ", ".join(flips.index)
        if m in boot:
            meta["bootstrap"] = B
            meta["ci"] = ci
            meta["ci_method"] = ci_method
        res_notes = list(notes)
        if m == "relative_weights" and "rw_shapley_gap" in diag:
            res_notes.append(
                f"Relative weights differ from Shapley values by up to "
                f"{diag['rw_shapley_gap']:.3g} (R² units, '{diag['rw_shapley_gap_driver']}')."
            )
        cond = comp = None
        if m == "dominance":
            cond = pd.DataFrame(point.conditional, index=pd.Index(names, name="driver"),
                                columns=pd.RangeIndex(p, name="size"))
            comp = pd.DataFrame(point.complete, index=pd.Index(names, name="driver"),
                                columns=pd.Index(names, name="other"))
        return ImportanceResult(table, method=m, kind="linear", r2=r2, r2_always=r2_always,
                                meta=meta, notes=res_notes, conditional=cond, complete=comp,
                                diagnostics=diag, groups=prob.members, **extras)

    if method != "all":
        return build(method)
    results = {m: build(m) for m in methods}
    if "dominance" in point.values and point.complete is not None:
        results["dominance"] = build("dominance")
    table = pd.DataFrame({m: point.values[m] for m in methods},
                         index=pd.Index(names, name="driver"))
    meta = _base_meta(prob, "all", "linear", r2, r2_always, None)
    return ImportanceResult(table, method="all", kind="linear", r2=r2, r2_always=r2_always,
                            meta=meta, notes=notes, results=results, diagnostics=diag,
                            groups=prob.members)


def _linear_replicates(prob: _Problem, methods: list[str], B: int, opts: _Options,
                       ci_method: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Bootstrap replicates (and jackknife values for BCa) of the linear importances."""
    if prob.source != "data":
        if prob.n is None:
            raise DriverkitError(
                "bootstrap= with corr= needs n= (the sample size behind the matrix)."
            )
        reps = bs.bootstrap_wishart(lambda Cb: _linear_batch_stat(Cb, prob, methods),
                                    prob.C, prob.n, B, opts.rng)
        return reps, None
    Z, w = prob.Z, prob.w
    assert Z is not None and w is not None
    if bs.n_distinct_rows(Z) < 2:
        raise DriverkitError("bootstrap= needs at least 2 distinct respondents (rows); all "
                             "used rows are identical.")

    def stat(W: np.ndarray) -> np.ndarray:
        if prob.pairwise:
            from ._missing import pairwise_batch

            return _linear_batch_stat(pairwise_batch(Z, W), prob, methods)
        return _linear_batch_stat(bs.replicate_covariances(Z, W), prob, methods)

    p = len(prob.players)
    chunk = int(np.clip(_BOOT_CELLS >> p, 16, 500))
    show = opts.progress if opts.progress is not None else (B * (1 << p) > 1 << 24)
    reps = bs.bootstrap_rows(stat, Z.shape[0], B, opts.rng, weights=w, strata=prob.strata,
                             chunk=chunk, progress=bool(show))
    jack = None
    if ci_method == "bca":
        jack = bs.jackknife_rows(stat, Z.shape[0], weights=w, rng=opts.rng, chunk=chunk)
    return reps, jack
