"""Money: business inputs (numbers or distributions), CLV, index rescaling and calibration."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..exceptions import DriverkitError, DriverkitTypeError
from ..stats._glmfit import fit_binary
from ..stats._links import get_link

__all__ = [
    "BusinessInput",
    "Calibration",
    "business_input",
    "clv",
    "clv_elasticity",
    "index_100",
    "make_calibration",
]


# ------------------------------------------------------------------------------------------
# business inputs
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BusinessInput:
    """A business input: a fixed number, or a distribution drawn jointly with the model draws.

    ``point`` is what the point estimate uses (the value, or the distribution's mean).
    """

    name: str
    point: float
    sampler: Callable[[int, np.random.Generator], np.ndarray] | None = None
    label: str = ""

    @property
    def is_random(self) -> bool:
        return self.sampler is not None

    def draw(self, size: int, rng: np.random.Generator) -> np.ndarray:
        if self.sampler is None:
            return np.full(size, self.point)
        out = np.asarray(self.sampler(size, rng), dtype=float).reshape(size)
        if not np.isfinite(out).all():
            raise DriverkitError(f"Draws of '{self.name}' contain non-finite values.")
        return out

    def describe(self) -> str:
        return self.label or f"{self.point:g}"


def business_input(value: Any, name: str, func: str, *, nonneg: bool = True,
                   upper: float | None = None) -> BusinessInput:
    """Parse a number or a distribution.

    Accepted: a number; ``(low, high)`` (a tuple: uniform between the two); a list or array
    of values (resampled with replacement: e.g. scenarios from a planning sheet or posterior
    draws); a frozen ``scipy.stats`` distribution (anything with ``rvs`` and ``mean``).
    The point value is the number, the midpoint, the sample mean or the distribution's mean.
    """
    where = f"The '{name}' parameter of {func}"

    def check(v: float, what: str = "") -> float:
        if not math.isfinite(v):
            raise DriverkitError(f"{where} must be finite{what}. Got {v!r}.")
        if nonneg and v < 0:
            raise DriverkitError(f"{where} must be >= 0{what}. Got {v!r}.")
        if upper is not None and v > upper:
            raise DriverkitError(f"{where} must be <= {upper:g}{what}. Got {v!r}.")
        return v

    if isinstance(value, bool):
        raise DriverkitTypeError(f"{where} must be a number or a distribution. Got {value!r}.")
    if isinstance(value, numbers.Real):
        return BusinessInput(name, check(float(value)))
    if isinstance(value, tuple):
        if len(value) != 2 or not all(isinstance(v, numbers.Real) for v in value):
            raise DriverkitTypeError(
                f"{where} as a tuple must be (low, high) numbers (a uniform range). Got {value!r}."
            )
        lo, hi = (check(float(v), " (range bound)") for v in value)
        if not lo <= hi:
            raise DriverkitError(
                f"{where}: the range (low, high) needs low <= high. Got {value!r}.")
        def uniform(s: int, g: np.random.Generator) -> np.ndarray:
            return g.uniform(lo, hi, s)

        return BusinessInput(name, 0.5 * (lo + hi), uniform, f"U({lo:g}, {hi:g})")
    if hasattr(value, "rvs") and hasattr(value, "mean"):
        mean = check(float(value.mean()), " (distribution mean)")
        dist = value
        def frozen(s: int, g: np.random.Generator) -> np.ndarray:
            return np.asarray(dist.rvs(size=s, random_state=g), dtype=float)

        return BusinessInput(name, mean, frozen,
                             f"{getattr(getattr(dist, 'dist', None), 'name', 'dist')}"
                             f"(mean {mean:g})")
    if isinstance(value, list | np.ndarray):
        arr = np.asarray(value, dtype=float).ravel()
        if arr.size == 0:
            raise DriverkitError(f"{where} is an empty array.")
        for v in arr:
            check(float(v), " (every value)")
        def sample(s: int, g: np.random.Generator) -> np.ndarray:
            return arr[g.integers(0, arr.size, s)]

        return BusinessInput(name, float(arr.mean()), sample,
                             f"sample of {arr.size} (mean {arr.mean():g})")
    raise DriverkitTypeError(
        f"{where} must be a number, (low, high), an array of values or a scipy.stats frozen "
        f"distribution. Got {type(value).__name__}."
    )


# ------------------------------------------------------------------------------------------
# CLV and index
# ------------------------------------------------------------------------------------------
def clv(m: Any, r: Any, i: Any, horizon: int | None = None) -> Any:
    """Customer lifetime value with constant retention.

    Parameters
    ----------
    m : float or array
        Margin per customer and period.
    r : float or array
        Retention (repurchase) probability per period, in [0, 1].
    i : float or array
        Discount rate per period (> −1; usually 0.05–0.15).
    horizon : int, optional
        Number of periods; ``None`` for the infinite-horizon closed form.

    Returns
    -------
    float or ndarray

    Notes
    -----
    Infinite horizon, first margin one period out: CLV = m·r/(1 + i − r)
    (Gupta & Lehmann 2003; Gupta, Lehmann & Stuart 2004). Finite horizon H:
    CLV = Σ_{t=1..H} m·r^t/(1 + i)^t. Customer equity is N·CLV; the simulator reports
    ΔCLV and Δequity from the baseline and scenario repurchase rates.

    Examples
    --------
    >>> import driverkit as dk
    >>> round(dk.clv(100, 0.8, 0.12), 6)
    250.0
    """
    m_ = np.asarray(m, dtype=float)
    r_ = np.asarray(r, dtype=float)
    i_ = np.asarray(i, dtype=float)
    if np.any((r_ < 0) | (r_ > 1)):
        raise DriverkitError(f"clv(): retention r must lie in [0, 1]. Got {r!r}.")
    if np.any(i_ <= -1):
        raise DriverkitError(f"clv(): the discount rate i must be > -1. Got {i!r}.")
    if horizon is None:
        if np.any(1 + i_ - r_ <= 0):
            raise DriverkitError(
                "clv(): the infinite-horizon value needs r < 1 + i; give horizon= for r = 1, i = 0."
            )
        out = m_ * r_ / (1 + i_ - r_)
    else:
        if isinstance(horizon, bool) or not isinstance(horizon, numbers.Integral) or horizon < 1:
            raise DriverkitError(f"clv(): horizon must be a positive integer. Got {horizon!r}.")
        q = r_ / (1 + i_)
        with np.errstate(divide="ignore", invalid="ignore"):
            geo = np.where(np.isclose(q, 1.0), float(horizon), q * (1 - q**horizon) / (1 - q))
        out = m_ * geo
    return float(out) if np.ndim(out) == 0 else out


def clv_elasticity(r: Any, i: Any) -> Any:
    """Elasticity of the infinite-horizon CLV to retention: d ln CLV / d ln r = (1 + i)/(1 + i − r).

    Examples
    --------
    >>> from driverkit.simulate import clv_elasticity
    >>> round(clv_elasticity(0.8, 0.12), 6)
    3.5
    """
    r_ = np.asarray(r, dtype=float)
    i_ = np.asarray(i, dtype=float)
    out = (1 + i_) / (1 + i_ - r_)
    return float(out) if np.ndim(out) == 0 else out


def index_100(means: Any, weights: Sequence[float] | None = None,
              scales: Any = (1.0, 10.0)) -> float:
    """ACSI-style 0–100 index: 100·Σ_k w_k (mean_k − L_k)/(U_k − L_k) with normalised weights.

    Parameters
    ----------
    means : array-like
        Mean rating of each item.
    weights : array-like, optional
        Item weights (normalised to sum to 1; default equal).
    scales : (low, high) or list of them, default=(1, 10)

    Notes
    -----
    The ACSI/CFI convention (Fornell et al. 1996): an impact of +5 index points on one
    driver is +0.05·(U − L) rating points (0.45 on a 1–10 scale).

    Examples
    --------
    >>> from driverkit.simulate import index_100
    >>> round(index_100([8, 7, 7]), 6)
    70.37037
    """
    mu = np.asarray(means, dtype=float).ravel()
    w = np.ones_like(mu) if weights is None else np.asarray(weights, dtype=float).ravel()
    if w.size != mu.size or np.any(w < 0) or w.sum() <= 0:
        raise DriverkitError("index_100(): weights must be non-negative, one per item.")
    sc = np.asarray(scales, dtype=float)
    lo, hi = (sc[0], sc[1]) if sc.ndim == 1 else (sc[:, 0], sc[:, 1])
    return float(100.0 * np.sum(w / w.sum() * (mu - lo) / (hi - lo)))


# ------------------------------------------------------------------------------------------
# calibration: stated intention -> observed behaviour
# ------------------------------------------------------------------------------------------
class Calibration:
    """Map predicted (stated) probabilities to observed behaviour, respondent by respondent.

    ``kind="factor"``: p ↦ min(c·p, 1). ``kind="logistic"``: p ↦ expit(a + b·logit(p)),
    fitted by weighted maximum likelihood on an observed 0/1 column (Platt 1999 style
    recalibration; Cox 1958). ``kind="function"``: any vectorised callable.
    """

    def __init__(self, kind: str, *, factor: float = 1.0, a: float = 0.0, b: float = 1.0,
                 func: Callable[[np.ndarray], np.ndarray] | None = None, n: int = 0) -> None:
        self.kind = kind
        self.factor = factor
        self.a = a
        self.b = b
        self.func = func
        self.n = n
        self.column = ""

    def __call__(self, p: np.ndarray) -> np.ndarray:
        if self.kind == "factor":
            return np.minimum(self.factor * p, 1.0)
        if self.kind == "logistic":
            q = np.clip(p, 1e-15, 1 - 1e-15)
            lk = get_link("logit")
            return lk.cdf(self.a + self.b * lk.quantile(q))
        if self.kind == "link":  # a score (scale points) -> P(behaviour)
            return get_link("logit").cdf(self.a + self.b * p)
        assert self.func is not None
        return np.asarray(self.func(p), dtype=float)

    def describe(self) -> str:
        if self.kind == "factor":
            return f"calibration factor {self.factor:g}"
        if self.kind == "logistic":
            return (f"logistic recalibration a = {self.a:.4g}, b = {self.b:.4g} "
                    f"(fitted on {self.n} respondents with observed behaviour)")
        if self.kind == "link":
            return (f"link P({self.column} = 1) = expit({self.a:.4g} + {self.b:.4g}·score), "
                    f"fitted on {self.n} respondents with observed behaviour")
        return "custom calibration function"


def fit_logistic_calibration(p: np.ndarray, y: np.ndarray, w: np.ndarray, *,
                             on_score: bool = False) -> tuple[float, float]:
    """Weighted ML fit of y ~ expit(a + b·logit(p)) by the shared Newton kernel.

    ``on_score=True`` fits y ~ expit(a + b·p) instead: ``p`` is then a score (scale points),
    e.g. predicted satisfaction linked to observed repurchase.
    """
    if on_score:
        # centred and scaled for conditioning, mapped back below
        mu_z, sd_z = float(np.average(p, weights=w)), float(np.std(p))
        if not sd_z > 0:
            raise DriverkitError("The link cannot be fitted: the predicted scores are constant.")
        z = (p - mu_z) / sd_z
    else:
        z = get_link("logit").quantile(np.clip(p, 1e-12, 1 - 1e-12))
    Z = np.column_stack([np.ones_like(z), z])
    used = np.asarray(w) > 0
    if not used.any() or np.ptp(y[used]) == 0 or np.ptp(z[used]) == 0:
        raise DriverkitError(
            "The logistic calibration cannot be fitted (observed outcome constant or "
            "predictions constant)."
        )
    fit = fit_binary(Z, y, w, link="logit", start=np.array([0.0, 0.0 if on_score else 1.0]))
    theta = fit.params
    if not np.isfinite(theta).all() or not fit.converged:
        raise DriverkitError("The logistic calibration did not converge (separation?).")
    if on_score:
        b = theta[1] / sd_z
        return float(theta[0] - b * mu_z), float(b)
    return float(theta[0]), float(theta[1])


def make_calibration(spec: Any) -> Calibration | None:
    """``None``; a number (factor); a callable; or a :class:`Calibration`.

    A column name is resolved by the simulator (it needs the predictions).
    """
    if spec is None or isinstance(spec, Calibration):
        return spec
    if isinstance(spec, numbers.Real) and not isinstance(spec, bool):
        c = float(spec)
        if not math.isfinite(c) or c <= 0:
            raise DriverkitError(
                f"The calibration factor must be a finite number > 0; got {spec!r}.")
        return Calibration("factor", factor=c)
    if callable(spec):
        return Calibration("function", func=spec)
    raise DriverkitTypeError(
        "calibration must be a factor (number), the name of a 0/1 column of observed "
        f"behaviour, or a callable p -> p'. Got {type(spec).__name__}."
    )
