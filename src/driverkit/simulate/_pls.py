"""PLS path models in the simulator: items (or whole constructs) move, the target index follows.

:func:`pls_adapter` turns a fitted :class:`~driverkit.PLSModel` into a driver model with the
simulator's prediction kernel (``design``, ``predict_design``, ``draw_params``, ``params``).

A scenario moves item ratings x → x'. The target's 0–100 index follows the structural model
(ACSI): every moved construct index changes by Δindex_k = Σ_{i∈k} w̃_i·100·Δx_i/(U_i − L_i)
and passes it on through the unstandardised total effects, so

    index_t(x') = index_t(x) + Σ_i c_i·(x'_i − x_i),
    c_i = w̃_i·100/(U_i − L_i) · (1 if i measures the target, else TEu[k(i), t]).

That is linear in the design [x' (the movable items), x (their baseline copies)]: the
baseline copies carry each respondent's own residual, so at x' = x the prediction is the
respondent's observed index. With ``link=`` (a 0/1 behaviour column) the simulated rate is
P(behaviour) = expit(α + β·index_t), the logit fitted on the respondents' index scores.

Uncertainty: ``draw_params`` draws bootstrap resamples of the PLS respondents, re-estimates
the whole model (batched) and refits the link on the same resample when the simulator's
respondents are the PLS respondents (else on an independent resample of the simulator's
respondents); degenerate resamples are replaced by fresh ones, never averaged in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_columns, suggest
from ..exceptions import DataError, DriverkitError, SeparationError
from ..models._pls_boot import batch_stats, draw_counts
from ..models._pls_kernel import estimate_batch, resample_moments

__all__ = ["PLSSimulatorModel", "expand_groups", "pls_adapter"]

BASE = "{}__baseline"
MAX_ROUNDS = 20


def _logit_batch(x: np.ndarray, y: np.ndarray, w: np.ndarray,
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted logits y ~ a + b·x, one per row of x and w (S, n); Newton, 2 × 2 closed form."""
    S = w.shape[0]
    xc = x - 50.0  # centred on the middle of the 0–100 index for conditioning
    a = np.zeros(S)
    b = np.zeros(S)
    ok = np.zeros(S, dtype=bool)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for _ in range(100):
            p = 1.0 / (1.0 + np.exp(-(a[:, None] + b[:, None] * xc)))
            r = w * (y - p)
            V = w * p * (1.0 - p)
            g0, g1 = r.sum(1), (r * xc).sum(1)
            h00, h01, h11 = V.sum(1), (V * xc).sum(1), (V * xc * xc).sum(1)
            det = h00 * h11 - h01 * h01
            da = (h11 * g0 - h01 * g1) / det
            db = (h00 * g1 - h01 * g0) / det
            a += da
            b += db
            ok = (np.abs(da) < 1e-10) & (np.abs(db) < 1e-12)
            if ok.all():
                break
    ok &= np.isfinite(a) & np.isfinite(b) & (np.abs(b) < 5.0)
    return a - 50.0 * b, b, ok


class PLSSimulatorModel:
    """A fitted PLS model seen by :class:`~driverkit.Simulator` (see the module docstring).

    Attributes
    ----------
    drivers : list of str
        The movable items (those with an effect on the target).
    driver_groups : dict
        ``{construct: [items]}``: a scenario on a construct moves each of its items.
    scales : dict
        The items' declared scales (PLS ``scales=``).
    """

    kind = "pls"

    def __init__(self, pls: Any, data: pd.DataFrame, target: Any, link: Any,
                 weights: Any) -> None:
        spec = pls.spec
        self.pls = pls
        self.spec = spec
        if target is None:
            sinks = [n for j, n in enumerate(spec.constructs)
                     if spec.adjacency[:, j].any() and not spec.adjacency[j].any()]
            if len(sinks) != 1:
                raise DriverkitError(
                    "Simulator() with a PLS model needs target= (the construct whose index is "
                    f"simulated), e.g. target={sinks[0] if sinks else spec.constructs[-1]!r}.")
            target = sinks[0]
        if not isinstance(target, str) or target not in spec.constructs:
            raise DriverkitError(f"target={target!r} is not a construct of the PLS model."
                                 f"{suggest(str(target), spec.constructs)} Constructs: "
                                 f"{', '.join(spec.constructs)}.")
        self.target = target
        self.t = spec.index_of(target)
        st = pls._stats
        coef = self._coef(st["wtilde"][None], st["unstd_total"][None])[0]
        if not np.isfinite(coef).all():
            raise DriverkitError(f"The {target} index is not defined (its outer weights sum to "
                                 "<= 0); see the PLS model's notes.")
        self._items = [k for k in range(spec.p)
                       if spec.block[k] == self.t or spec.reach[spec.block[k], self.t]]
        self.drivers = [spec.item_names[k] for k in self._items]
        self._frozen = [k for k in self._items if spec.block[k] != self.t]
        self.columns = self.drivers + [BASE.format(spec.item_names[k]) for k in self._frozen]
        self.driver_groups = {n: [it for it in spec.items[n] if it in self.drivers]
                              for n in spec.constructs
                              if any(it in self.drivers for it in spec.items[n])}
        self.scales = {it: pls.scales[it] for it in self.drivers}
        self.weights = pls.weights if isinstance(pls.weights, str) else None
        self.link = link
        self.outcome = link if link is not None else f"{target} index"
        check_columns(data, self.drivers, role="item")
        self._setup_link(data, link, weights)
        self.params = self._theta(st["wtilde"][None], st["unstd_total"][None],
                                  self._link_point)[0]
        self._cov: np.ndarray | None = None

    # -- the linear map of the items -----------------------------------------------------------
    def _coef(self, wt: np.ndarray, U: np.ndarray) -> np.ndarray:
        """c_i (S, p): index points of the target per rating point of item i."""
        spec, t = self.spec, self.t
        d = wt * (100.0 / self.pls._d.width)
        mult = U[:, spec.block, t]
        mult[:, spec.block == t] = 1.0
        return d * mult

    def _index_parts(self, wt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Target index = K + X_T @ d_T: returns K (S,) and d_T (S, |T|)."""
        sel = self.spec.block == self.t
        d = wt[:, sel] * (100.0 / self.pls._d.width[sel])
        K = -(d * self.pls._d.low[sel]).sum(axis=1)
        return K, d

    def _theta(self, wt: np.ndarray, U: np.ndarray, link: tuple[np.ndarray, np.ndarray] | None,
               ) -> np.ndarray:
        c = self._coef(wt, U)
        K, _ = self._index_parts(wt)
        theta = np.column_stack([K, c[:, self._items], -c[:, self._frozen]])
        if link is not None:
            a, b = link
            theta = theta * b[:, None]
            theta[:, 0] += a
        return theta

    # -- the link to behaviour -------------------------------------------------------------------
    def _setup_link(self, data: pd.DataFrame, link: Any, weights: Any) -> None:
        self._link_point = None
        if link is None:
            return
        if not isinstance(link, str):
            raise DriverkitError("link= names a 0/1 column of observed behaviour (e.g. "
                                 "link='repurchase').")
        check_columns(data, [link], role="link column")
        sel = self.spec.block == self.t
        cols = [it for it, s in zip(self.spec.item_names, sel, strict=True) if s]
        XT = data[cols].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
        y = pd.to_numeric(data[link], errors="coerce").to_numpy(dtype=float)
        if isinstance(weights, str):
            check_columns(data, [weights], role="weights column")
            w = pd.to_numeric(data[weights], errors="coerce").to_numpy(dtype=float)
        elif weights is not None:
            w = np.asarray(weights, dtype=float).ravel()
        elif self.weights is not None and self.weights in data.columns:
            w = pd.to_numeric(data[self.weights], errors="coerce").to_numpy(dtype=float)
        else:
            w = np.ones(len(data))
        ok = np.isfinite(XT).all(axis=1) & np.isfinite(y) & np.isfinite(w)
        if ok.sum() < 10 or not np.isin(y[ok], [0.0, 1.0]).all():
            raise DataError(f"The link column '{link}' must hold observed 0/1 behaviour for at "
                            "least 10 respondents with the target's items answered.")
        if np.unique(y[ok]).size < 2:
            raise SeparationError(f"The link column '{link}' has only one value; a logit of it "
                                  "on the index is not defined.")
        self._XT, self._y, self._lw = XT[ok], y[ok], w[ok]
        rows = data.index[ok]
        self._joint = rows.equals(self.pls._d.index)
        K, d = self._index_parts(self.pls._stats["wtilde"][None])
        a, b, good = _logit_batch(K[:, None] + d @ self._XT.T, self._y, self._lw[None])
        if not good[0]:
            raise SeparationError(f"The logit of '{link}' on the {self.target} index did not "
                                  "converge (separation?).")
        self._link_point = (a, b)
        self.link_coef = {"intercept": float(a[0]), "slope": float(b[0]), "n": int(ok.sum())}

    # -- the simulator's prediction kernel -------------------------------------------------------
    def design(self, data: pd.DataFrame) -> np.ndarray:
        cols = [data[c] for c in self.columns]
        return np.column_stack([pd.to_numeric(c, errors="coerce").to_numpy(dtype=float)
                                for c in cols])

    def predict_design(self, X: np.ndarray, params: np.ndarray) -> np.ndarray:
        params = np.asarray(params, dtype=float)
        if params.ndim == 1:
            eta = params[0] + X @ params[1:]
        else:
            eta = params[:, :1] + params[:, 1:] @ X.T
        if self.link is None:
            return eta
        with np.errstate(over="ignore"):
            return 1.0 / (1.0 + np.exp(-eta))

    def draw_params(self, S: int, rng: np.random.Generator) -> np.ndarray:
        """S bootstrap replicates of the parameters (degenerate resamples redrawn)."""
        pls = self.pls
        d = pls._d
        n = d.X.shape[0]
        out: list[np.ndarray] = []
        need = S
        for _ in range(MAX_ROUNDS):
            m = need + max(4, need // 20)
            counts = draw_counts(rng, m, n)
            mean, cov = resample_moments(d.X, d.w, counts)
            b = estimate_batch(mean, cov, pls.spec, pls.scheme, reference=pls._b.W[0])
            st = batch_stats(b, pls.spec, d.low, d.width)
            good = b.ok & b.converged
            link = None
            if self.link is not None:
                lc = counts if self._joint else draw_counts(rng, m, self._y.size)
                K, dT = self._index_parts(st["wtilde"])
                a, bb, lok = _logit_batch(K[:, None] + dT @ self._XT.T, self._y,
                                          lc * self._lw[None])
                good &= lok
                link = (a, bb)
            th = self._theta(st["wtilde"], st["unstd_total"], link)
            good &= np.isfinite(th).all(axis=1)
            out.append(th[good][:need])
            need -= min(need, int(good.sum()))
            if need == 0:
                return np.vstack(out)
        raise DriverkitError("Too many degenerate bootstrap resamples of the PLS model to draw "
                             "parameter uncertainty; use draws=0 or check the data.")

    @property
    def cov_params(self) -> np.ndarray:
        """Bootstrap covariance of the parameters (300 resamples, fixed seed; delta method)."""
        if self._cov is None:
            self._cov = np.atleast_2d(np.cov(self.draw_params(300, np.random.default_rng(0)).T))
        return self._cov

    def clone(self) -> Any:
        raise DriverkitError("the parameter draws of a PLS model are already bootstrap "
                             "resamples of its respondents; use the default uncertainty "
                             "(draws=...) instead of uncertainty='bootstrap'")

    def describe(self) -> str:
        what = (f"P({self.link} = 1) by a logit on the {self.target} index" if self.link
                else f"the {self.target} index (0–100)")
        return f"PLS path model; simulated: {what}"


def pls_adapter(pls: Any, data: pd.DataFrame, *, target: Any = None, link: Any = None,
                weights: Any = None) -> tuple[PLSSimulatorModel, pd.DataFrame]:
    """The simulator model of a fitted PLS model and the data with baseline item copies."""
    if not getattr(pls, "is_fitted", False):
        raise DriverkitError("The PLS model is not fitted yet; call .fit(data) first.")
    model = PLSSimulatorModel(pls, data, target, link, weights)
    base = {BASE.format(model.spec.item_names[k]): data[model.spec.item_names[k]]
            for k in model._frozen}
    return model, data.assign(**base)


def expand_groups(scenario: Any, groups: Mapping[str, list[str]]) -> Any:
    """A scenario whose construct-level changes are applied to each of the construct's items."""
    if not groups or not any(d in groups for d in scenario.operators):
        return scenario
    ops: dict[str, Any] = {}
    for d, op in scenario.operators.items():
        for it in groups.get(d, [d]):
            if it in ops:
                raise DriverkitError(f"Scenario '{scenario.name}' moves the item '{it}' twice "
                                     "(by itself and through its construct).")
            ops[it] = op
    return scenario.with_changes(ops)
