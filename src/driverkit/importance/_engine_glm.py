"""GLM engines of :func:`driverkit.importance` (``kind="logit"``/``"ordinal"``).

Batched subset fits (:mod:`driverkit.importance._glm`), their bootstrap replicates
(:mod:`driverkit.importance._glm_boot`), the events-per-parameter check, the timed pilot that
decides between an exact run and permutation sampling, and sampled Shapley values.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._progress import progress_bar
from .._validation import warn
from ..exceptions import (
    ConvergenceWarning,
    DriverkitError,
    DriverkitWarning,
    SmallSampleWarning,
)
from ..stats._subsets import single_threaded_blas
from . import _bootstrap as bs
from ._problem import GLM_METHODS, _base_meta, _diagnostics, _Options, _Problem
from ._result import ImportanceResult, _add_bootstrap, _table
from ._shapley import LatticeSums, complete_dominance


# --------------------------------------------------------------------------------------
# GLM engine
# --------------------------------------------------------------------------------------
def _glm_module() -> Any:
    try:
        from . import _glm
    except ImportError as exc:  # pragma: no cover - until the GLM module lands
        raise DriverkitError(
            "Importance for kind='logit'/'ordinal' needs driverkit.importance._glm, which is "
            "not available in this installation."
        ) from exc
    return _glm


def _glm_fit(prob: _Problem, kind: str, fit_index: str, w: np.ndarray | None = None,
             start: Any = None, progress: Any = None) -> Any:
    """Batched GLM fits of every subset (``start``: an earlier fit to warm-start from)."""
    glm = _glm_module()
    Z = prob.Z
    assert Z is not None
    X = Z[:, : prob.m + prob.a]
    y = Z[:, -1]
    ww = prob.w if w is None else w
    always = list(range(prob.m, prob.m + prob.a)) or None
    return glm.glm_subset_values(X[:, : prob.m] if not always else X, y, ww, kind=kind,
                                 fit_index=fit_index, players=prob.players, always=always,
                                 weight_type=prob.weight_type, start=start,
                                 names=prob.player_names, progress=progress)


def _glm_values(prob: _Problem, kind: str, fit_index: str, w: np.ndarray | None = None,
                start: Any = None) -> tuple[np.ndarray, float, float]:
    """(v relative to the always-in model, full fit, always-only fit) from batched GLM fits."""
    return _unpack_glm(_glm_fit(prob, kind, fit_index, w, start))


def _unpack_glm(res: Any) -> tuple[np.ndarray, float, float]:
    if isinstance(res, tuple):
        v, full, base = res[0], res[1], res[2]
        return np.asarray(v, dtype=float), float(full), float(base)
    v = np.asarray(getattr(res, "v", res), dtype=float)
    full = float(getattr(res, "r2_full", getattr(res, "full", v[-1])))
    base = float(getattr(res, "r2_always", getattr(res, "base", 0.0)))
    return v, full, base


def _glm_importance(prob: _Problem, method: str, kind: str, fit_index: str, opts: _Options,
                    B: int, ci: float, ci_method: str) -> ImportanceResult:
    names = prob.player_names
    p = len(names)
    if method not in GLM_METHODS:
        raise DriverkitError(
            f"method='{method}' is defined for linear models only; with kind='{kind}' use one "
            f"of {', '.join(GLM_METHODS)}."
        )
    if method == "relative_weights" and kind != "logit":
        raise DriverkitError("Relative weights for GLMs are defined for kind='logit' only "
                             "(Tonidandel & LeBreton 2010).")
    if method == "relative_weights" and prob.a:
        raise DriverkitError("Logistic relative weights do not support covariates= (always-in); "
                             "use method='shapley' (it partials them out).")
    _warn_epv(prob, kind)
    with_rw = kind == "logit" and not prob.a
    methods = (["shapley", "first", "last"] + (["relative_weights"] if with_rw else [])
               if method == "all" else [method])
    need_v = any(m in ("shapley", "dominance", "first", "last") for m in methods)
    if need_v and not _glm_exact_ok(prob, kind, fit_index, method, opts, B):
        return _glm_sampled(prob, method, kind, fit_index, opts)
    values: dict[str, np.ndarray] = {}
    cond = comp = None
    r2 = r2_always = np.nan
    full_fit = None
    if need_v:
        bar = progress_bar((1 << p) - 1, show=opts.progress, desc="subset models",
                           long_run=opts.long_run)
        try:
            full_fit = _glm_fit(prob, kind, fit_index, progress=bar.update)
        finally:
            bar.close()
        v, r2, r2_always = _unpack_glm(full_fit)
        values.update(_glm_from_v(v, p))
        if method in ("dominance", "all"):
            cond = LatticeSums(p)
            cond.add(v, 0)
            cond = cond.conditional()[0]
            comp = complete_dominance(v)
    if "relative_weights" in methods:
        rw, r2_rw = _glm_rw(prob, fit_index)
        values["relative_weights"] = rw
        if np.isnan(r2):  # the fit index of the full model (one player holding all columns)
            one = _Problem(**{**prob.__dict__, "players": [list(range(prob.m))],
                              "player_names": ["all drivers"]})
            _, r2, r2_always = _glm_values(one, kind, fit_index)
        rw_note = (f"Logistic relative weights (Tonidandel & LeBreton 2010) decompose Menard's "
                   f"standardised R² = {r2_rw:.4f}, not the {fit_index} index.")
    diag: dict[str, Any] = {"r2": r2, "r2_always": r2_always, **_diagnostics(prob)}
    if "shapley" in values and "relative_weights" in values:
        gap = np.abs(values["shapley"] - values["relative_weights"])
        diag["rw_shapley_gap"] = float(gap.max())
        diag["rw_shapley_gap_driver"] = names[int(np.argmax(gap))]
    notes = list(prob.notes)
    if "relative_weights" in values:
        notes.append(rw_note)
    boot: dict[str, bs.BootstrapSummary] = {}
    reps_by: dict[str, np.ndarray] = {}
    boot_meta: dict[str, Any] = {}
    if B:
        Z, w = prob.Z, prob.w
        assert Z is not None and w is not None
        if bs.n_distinct_rows(Z) < 2:
            raise DriverkitError("bootstrap= needs at least 2 distinct respondents (rows).")

        stat = _glm_replicate_stat(prob, kind, fit_index, methods, full_fit)
        from ._glm_boot import replicate_chunk

        chunk = replicate_chunk(Z.shape[0], len(prob.players), kind)
        show = opts.progress if opts.progress is not None else True
        mapper = None
        if opts.client is not None:
            from ..stats._dask import run_tasks

            client = None if isinstance(opts.client, str) else opts.client

            def mapper(fn: Any, batches: list[np.ndarray]) -> list[Any]:
                return run_tasks(fn, batches, client=client)

        with single_threaded_blas():  # threads share the cores instead
            reps = bs.bootstrap_rows(stat, Z.shape[0], B, opts.rng, weights=w,
                                     strata=prob.strata, chunk=chunk,
                                     progress=bool(show) and mapper is None, mapper=mapper,
                                     n_jobs=opts.n_jobs)
        status = reps[:, -1]
        reps = reps[:, :-1]
        boot_meta = {"replicates_failed": int(np.sum(status == 2)),
                     "replicates_refitted": int(np.sum(status == 1))}
        _note_replicates(boot_meta, B, notes)
        jack = None
        if ci_method == "bca":
            jack = bs.jackknife_rows(stat, Z.shape[0], weights=w, rng=opts.rng, max_groups=50,
                                     chunk=chunk)[:, :-1]
        for i, m in enumerate(methods):
            r = reps[:, i * p : (i + 1) * p]
            jk = None if jack is None else jack[:, i * p : (i + 1) * p]
            boot[m] = bs.summarize(values[m], r, names, ci=ci, method=ci_method, jack=jk)
            reps_by[m] = r[np.all(np.isfinite(r), axis=1)]

    def build(m: str) -> ImportanceResult:
        table = _table(names, values[m])
        extras = _add_bootstrap(table, boot.get(m), reps_by.get(m), names, ci)
        meta = _base_meta(prob, m, kind, r2, r2_always, fit_index)
        if m in boot:
            meta["bootstrap"] = B
            meta["ci"] = ci
            meta.update(boot_meta)
        c = k = None
        if m == "dominance":
            c = pd.DataFrame(cond, index=pd.Index(names, name="driver"),
                             columns=pd.RangeIndex(p, name="size"))
            k = pd.DataFrame(comp, index=pd.Index(names, name="driver"),
                             columns=pd.Index(names, name="other"))
        return ImportanceResult(table, method=m, kind=kind, r2=r2, r2_always=r2_always,
                                meta=meta, notes=list(notes), conditional=c, complete=k,
                                diagnostics=diag, groups=prob.members, fit_index=fit_index,
                                **extras)

    if method != "all":
        return build(method)
    results = {m: build(m) for m in methods}
    if cond is not None:
        values["dominance"] = values["shapley"]
        results["dominance"] = build("dominance")
    table = pd.DataFrame({m: values[m] for m in methods}, index=pd.Index(names, name="driver"))
    meta = _base_meta(prob, "all", kind, r2, r2_always, fit_index)
    return ImportanceResult(table, method="all", kind=kind, r2=r2, r2_always=r2_always,
                            meta=meta, notes=notes, results=results, diagnostics=diag,
                            groups=prob.members, fit_index=fit_index)


def _glm_from_v(v: np.ndarray, p: int) -> dict[str, np.ndarray]:
    acc = LatticeSums(p)
    acc.add(v, 0)
    shap = acc.shapley()[0]
    full = (1 << p) - 1
    first = np.array([v[1 << j] for j in range(p)])
    last = np.array([v[full] - v[full & ~(1 << j)] for j in range(p)])
    return {"shapley": shap, "dominance": shap, "first": first, "last": last}


def _glm_rw(prob: _Problem, fit_index: str, w: np.ndarray | None = None
            ) -> tuple[np.ndarray, float]:
    glm = _glm_module()
    Z = prob.Z
    assert Z is not None
    X = Z[:, : prob.m]
    y = Z[:, -1]
    ww = prob.w if w is None else w
    res = glm.logistic_relative_weights(X, y, ww, players=prob.players,
                                        weight_type=prob.weight_type)
    if isinstance(res, tuple):
        return np.asarray(res[0], dtype=float), float(res[1])
    vals = np.asarray(getattr(res, "weights", res), dtype=float)
    return vals, float(getattr(res, "r2", np.sum(vals)))



# GLM bootstrap replicates
# --------------------------------------------------------------------------------------
#: Share of failed bootstrap replicates above which a warning is raised.
FAILED_SHARE_WARN = 0.01


def _glm_replicate_stat(prob: _Problem, kind: str, fit_index: str, methods: list[str],
                        full_fit: Any) -> Any:
    """Map replicate weights ``(R, n)`` to ``(R, len(methods)·p + 1)``: the importances of
    each method and, last, the replicate's status (0 ok, 1 refitted, 2 failed: NaN)."""
    from . import _glm_boot

    Z = prob.Z
    assert Z is not None
    p = len(prob.players)
    X = Z[:, : prob.m + prob.a]
    y = Z[:, -1]
    always = list(range(prob.m, prob.m + prob.a)) or None
    need_v = any(m in ("shapley", "dominance", "first", "last") for m in methods)

    def stat(W: np.ndarray) -> np.ndarray:
        R = W.shape[0]
        out = np.full((R, len(methods) * p + 1), np.nan)
        status = np.zeros(R)
        V = None
        if need_v:
            V, st = _glm_boot.replicate_values(
                X if always else X[:, : prob.m], y, W, full_fit, kind=kind,
                fit_index=fit_index, players=prob.players, always=always,
                weight_type=prob.weight_type, names=prob.player_names)
            status = st.astype(float)
        for b in range(R):
            if status[b] == 2:
                continue
            vals: dict[str, np.ndarray] = {}
            if V is not None:
                vals.update(_glm_from_v(V[b], p))
            if "relative_weights" in methods:
                try:
                    rw = _glm_rw(prob, fit_index, W[b])[0]
                except (DriverkitError, np.linalg.LinAlgError):
                    rw = np.full(p, np.nan)
                if not np.all(np.isfinite(rw)):
                    status[b] = 2
                    continue
                vals["relative_weights"] = rw
            row = np.concatenate([vals[m] for m in methods])
            if np.all(np.isfinite(row)):
                out[b, :-1] = row
            else:
                status[b] = 2
        out[:, -1] = status
        return out

    return stat


def _note_replicates(meta: dict[str, Any], B: int, notes: list[str]) -> None:
    """Report refitted and failed bootstrap replicates (a warning above a small share)."""
    failed, refitted = meta["replicates_failed"], meta["replicates_refitted"]
    if refitted:
        notes.append(f"{refitted} of {B} bootstrap replicates needed a robust refit (step "
                     "halving from zero) of some subset models.")
    if failed:
        text = (f"{failed} of {B} bootstrap replicates failed (a subset model did not "
                "converge to a consistent fit, e.g. because of separation in the resample) "
                "and were dropped; the intervals use the other "
                f"{B - failed}.")
        notes.append(text)
        if failed > FAILED_SHARE_WARN * B:
            warn(text, ConvergenceWarning)


# --------------------------------------------------------------------------------------
# GLM: events per parameter, exact-run time estimate, sampled Shapley values
# --------------------------------------------------------------------------------------
#: Events per parameter below which a logit is flagged (Peduzzi et al. 1996).
EPV_WARN = 10.0
#: GLM exact runs estimated longer than this many seconds are announced.
GLM_ANNOUNCE_SECONDS = 10.0
#: All-subsets engine cost per subset relative to the cold fits of the pilot (warm starts,
#: shared first iterations, float32 steering, larger batches): 0.15-0.19 measured for logit
#: p = 14, churn p = 14 and ordinal p = 13 at n = 2,000-5,000 (2026-11-30); rounded up so
#: that estimates err on the long side.
_EXACT_PER_PILOT = 0.25


def _warn_epv(prob: _Problem, kind: str) -> None:
    """Warn when a logit has fewer than 10 events per parameter."""
    if kind != "logit" or prob.Z is None:
        return
    y = prob.Z[:, -1]
    events = int(np.sum(y == 1))
    non_events = int(np.sum(y == 0))
    rarer = min(events, non_events)
    params = prob.m + prob.a
    if params == 0:
        return
    epv = rarer / params
    if epv < EPV_WARN:
        which = "events" if events <= non_events else "non-events"
        warn(f"The logit has {rarer} {which} (the rarer outcome; {events} events, "
             f"{non_events} non-events) for {params} parameters: {epv:.1f} per parameter, "
             f"below {EPV_WARN:g}. Coefficients and importances are unstable at this size "
             "(Peduzzi et al. 1996); group drivers or collect more respondents, and read the "
             "bootstrap intervals.", SmallSampleWarning)


def _glm_pilot_seconds(fitter: Any, p: int, rng: np.random.Generator) -> float:
    """Estimated seconds of the exact all-subsets run, from timed fits of random subsets."""
    import time

    masks = np.unique(rng.integers(1, 1 << p, size=64, dtype=np.int64))
    t0 = time.perf_counter()
    fitter(masks)
    per_fit = (time.perf_counter() - t0) / masks.size
    return per_fit * (1 << p) * getattr(fitter, "exact_per_pilot", _EXACT_PER_PILOT)


def _glm_mask_fitter(prob: _Problem, kind: str, fit_index: str) -> Any:
    """``masks -> values`` of chosen subset models (cross-products formed once)."""
    from ._glm import glm_mask_fitter

    Z = prob.Z
    assert Z is not None
    always = list(range(prob.m, prob.m + prob.a)) or None
    X = Z[:, : prob.m + prob.a] if always else Z[:, : prob.m]
    return glm_mask_fitter(X, Z[:, -1], prob.w, kind=kind, fit_index=fit_index,
                           players=prob.players, always=always,
                           weight_type=prob.weight_type)


def _glm_exact_ok(prob: _Problem, kind: str, fit_index: str, method: str,
                  opts: _Options, B: int) -> bool:
    """Whether to fit all 2^p subsets; announce long exact runs (a timed pilot first)."""
    from ._glm import MAX_PLAYERS

    p = len(prob.players)
    if p <= min(12, opts.exact_max):
        return True
    est = _glm_pilot_seconds(_glm_mask_fitter(prob, kind, fit_index), p,
                             np.random.default_rng(p))
    sampled_ok = method == "shapley"
    # a bootstrap cannot be sampled: it runs exact (announced) whenever exact is possible
    if p <= min(opts.exact_max, MAX_PLAYERS) and (est <= opts.max_time or B):
        total = est * (1 + B / max(opts.n_jobs, 1))
        if total > GLM_ANNOUNCE_SECONDS:
            extra = (f"; about {total:,.0f} s with {B} bootstrap replicates on "
                     f"{opts.n_jobs} thread(s)" if B else "")
            warn(f"Exact {kind} importance over p = {p} drivers fits 2^{p} = {1 << p:,} subset "
                 f"models: estimated {est:,.0f} s (from a timed pilot){extra}.",
                 DriverkitWarning)
            opts.long_run = True
        return True
    why = (f"p = {p} is above exact_max = {opts.exact_max}" if p > opts.exact_max else
           f"p = {p} is above the exact GLM limit of {MAX_PLAYERS}" if p > MAX_PLAYERS else
           f"the exact run would take about {est:,.0f} s (2^{p} = {1 << p:,} subset fits, "
           f"from a timed pilot), more than max_time = {opts.max_time:g} s")
    if B:
        raise DriverkitError(
            f"bootstrap= needs all 2^{p} subset fits per replicate, but {why}. Group drivers "
            "into fewer players, raise max_time/exact_max, or bootstrap "
            "method='relative_weights'.")
    if not sampled_ok:
        raise DriverkitError(
            f"method='{method}' needs all 2^{p} subset fits, but {why}. Use "
            "method='shapley' (sampled above the limit), group drivers into fewer players, "
            "or raise max_time.")
    warn(f"GLM Shapley values are sampled: {why}. Entry orders are sampled until the Monte "
         f"Carlo SE is below {opts.tolerance:g} or max_time = {opts.max_time:g} s runs out.",
         DriverkitWarning)
    return False


def _glm_sampled(prob: _Problem, method: str, kind: str, fit_index: str,
                 opts: _Options) -> ImportanceResult:
    """Permutation-sampled GLM Shapley values (with a Monte Carlo SE per driver)."""
    from ._sampling import sample_shapley_values

    names = prob.player_names
    p = len(names)
    fitter = _glm_mask_fitter(prob, kind, fit_index)
    r2_full = float(fitter(np.array([(1 << p) - 1], dtype=np.int64))[0])
    bar = None
    if opts.progress:  # pragma: no cover - cosmetic
        bar = progress_bar(None, show=True, desc="sampled orders")

    def step(count: int, se: float) -> None:  # pragma: no cover - cosmetic
        if bar is not None:
            bar.n = count
            bar.set_postfix(max_se=f"{se:.2g}")
            bar.refresh()

    res = sample_shapley_values(fitter, p,
                                tolerance=opts.tolerance, max_time=opts.max_time,
                                max_permutations=opts.max_permutations, rng=opts.rng,
                                progress=step)
    if bar is not None:  # pragma: no cover
        bar.close()
    r2_always = np.nan
    if prob.a:
        Z = prob.Z
        assert Z is not None
        r2_always = float(_glm_module().glm_subset_values(
            Z[:, : prob.m + prob.a], Z[:, -1], prob.w, kind=kind, fit_index=fit_index,
            players=[[0]], always=list(range(prob.m, prob.m + prob.a)),
            weight_type=prob.weight_type).r2_always)
    r2 = r2_full + (0.0 if np.isnan(r2_always) else r2_always)
    r2_always = 0.0 if np.isnan(r2_always) else r2_always
    table = _table(names, res.values)
    table["mc_se"] = res.std_error
    notes = list(prob.notes)
    notes.append(f"Shapley values estimated by sampling {res.n_permutations:,} entry orders "
                 f"(antithetic pairs; one {kind} fit per new subset); largest Monte Carlo SE "
                 f"{res.std_error.max():.2g}; stopped by {res.stopped_by}.")
    if res.stopped_by != "tolerance":
        warn(f"Sampled Shapley values stopped by {res.stopped_by} before reaching the "
             f"tolerance {opts.tolerance:g} (largest MC SE {res.std_error.max():.3g}). Raise "
             "max_time/max_permutations for more precision.", ConvergenceWarning)
    diag: dict[str, Any] = {"r2": r2, "r2_always": r2_always, **_diagnostics(prob),
                            "sampled": True, "n_permutations": res.n_permutations,
                            "stopped_by": res.stopped_by,
                            "max_mc_se": float(res.std_error.max()),
                            "sampling_seconds": res.seconds}
    meta = _base_meta(prob, method, kind, r2, r2_always, fit_index)
    meta["sampled"] = True
    return ImportanceResult(table, method=method, kind=kind, r2=r2, r2_always=r2_always,
                            meta=meta, notes=notes, diagnostics=diag, groups=prob.members,
                            fit_index=fit_index)
