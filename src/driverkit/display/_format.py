"""Number, money and label formatting: one formatter for tables, charts, workbooks and decks.

A :class:`Format` carries the reader's choices: ``labels`` (column → display label, e.g. the
survey question), ``currency`` (ISO 4217 code) and ``locale`` (e.g. ``"sv_SE"``). Locale-aware
numbers and money go through Babel (``pip install 'driverkit[report]'``); without a locale or
currency the formatter needs nothing beyond the standard library and writes ``1,234,567``.

Within one column every number gets the same number of decimals, chosen from the column's
largest magnitude (so ``-1,506`` sits next to ``1,379,131``, never ``-1,506.0``), and no number
is ever written in scientific notation.

The active formatter is a context variable: ``Result.summary(labels=...)``, ``.plot(...)`` and
``dk.report(...)`` set it for the duration of the call (:func:`format_options`), and every
function of the display layer reads it with :func:`current`.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import re
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..exceptions import DriverkitError, DriverkitTypeError, DriverkitWarning

__all__ = [
    "Format",
    "LabelWarning",
    "current",
    "for_result",
    "format_options",
    "is_money",
    "make_format",
    "plain_numbers",
]


class LabelWarning(DriverkitWarning):
    """A display label names a column or driver that the results do not have."""


# Columns and meta keys whose values are money (their name says so).
_MONEY = re.compile(r"(revenue|profit|cost|spend|budget|saving|clv|equity|money|net_cost)",
                    re.IGNORECASE)
_PCT = re.compile(r"^(share|pct)(_low|_high)?$|_pct$|^share_", re.IGNORECASE)
_RATE = re.compile(r"(^|_)rate(_low|_high)?$|^prob_|^p_top$|^share_(moved|at_|clipped|beyond)",
                   re.IGNORECASE)
_P_COLUMNS = {"p_value", "q_value", "p_asymmetry", "p_greater"}
_LEVEL_KEYS = {"ci", "ci_level", "confidence", "ci level"}
_INT_COLUMNS = {"rank", "n", "rank_low", "rank_high", "stated_rank", "derived_rank", "n_obs",
                "respondents", "draws", "bootstrap", "drivers", "funded_drivers",
                "simulator_calls", "n_dropped"}

#: Display labels of ``.meta`` keys that results wrote in display style (``"rows used"``):
#: :class:`driverkit._results.Meta` stores the key in snake_case and records the label here.
META_LABELS: dict[str, str] = {}

# Display labels of the snake_case keys and columns driverkit itself produces.
DEFAULT_LABELS: dict[str, str] = {
    "r2": "R²", "r2_always": "R² of the always-in variables", "ci": "CI level",
    "ci_level": "CI level", "ci_method": "CI method", "max_vif": "max VIF",
    "condition_number": "condition number", "mcfadden_r2": "McFadden R²",
    "delta_rate": "Δ rate", "delta_customers": "Δ customers", "delta_revenue": "Δ revenue",
    "delta_profit": "Δ profit", "delta_value": "Δ value", "delta_clv": "Δ CLV",
    "baseline_rate": "baseline rate", "scenario_rate": "scenario rate",
    "revenue_at_risk": "revenue at risk", "prob_profit_positive": "P(profit > 0)",
    "marginal_roi": "marginal ROI", "roi": "ROI", "total_spend": "total spend",
    "net_cost": "net cost", "performance_100": "performance (0–100)",
    "std_error": "std. error", "p_value": "p-value", "q_value": "q-value",
    # .meta keys of models, importance and the chain
    "pseudo_r2": "pseudo-R²", "pseudo_r2_always": "pseudo-R² of the always-in variables",
    "mcfadden_r2_always": "McFadden R² of the always-in variables", "loglike": "log-likelihood",
    "fit_index": "fit index", "path_b": "path b (mediator → outcome)",
    "r2_mediator": "R² of the mediator", "r2_outcome": "R² of the outcome",
    "mcfadden_r2_outcome": "McFadden R² of the outcome",
}


def is_money(column: Any) -> bool:
    """Whether a column or key holds money, by its name (``delta_revenue``, ``spend``, …)."""
    return bool(_MONEY.search(str(column))) and not str(column).startswith(("roi", "marginal"))


@dataclass(frozen=True)
class Format:
    """How numbers, money and names are shown.

    Parameters
    ----------
    labels : mapping, optional
        ``{column or driver: display label}``; names not in it are shown as they are.
    currency : str, optional
        ISO 4217 code (``"SEK"``, ``"EUR"``); money is then written with its symbol.
    locale : str, optional
        Babel locale (``"sv_SE"``, ``"de_DE"``) for separators and currency placement.

    Examples
    --------
    >>> f = Format(labels={"checkout_speed": "Checkout speed"})
    >>> f.label("checkout_speed"), f.label("price")
    ('Checkout speed', 'price')
    >>> f.column([1379131.2, -1506.04], "delta_revenue")
    ['1,379,131', '-1,506']
    >>> Format(currency="SEK", locale="sv_SE").money(1234567).replace("\\xa0", " ")
    '1 234 567 kr'
    """

    labels: Mapping[str, str] = field(default_factory=dict)
    currency: str | None = None
    locale: str | None = None
    #: extra columns that hold money in this result (e.g. ``impact`` when it is Δrevenue)
    money_columns: frozenset[str] = frozenset()
    #: driverkit's own snake_case names get readable defaults (``delta_revenue`` → Δ revenue)
    readable: bool = False

    # -- names ---------------------------------------------------------------------------
    def label(self, name: Any) -> str:
        """The display label of a column, driver or key (as given when not relabelled)."""
        if isinstance(name, tuple):
            return " / ".join(self.label(n) for n in name)
        key = str(name)
        return str(self.labels.get(key, key))

    def heading(self, name: Any) -> str:
        """A column heading: :meth:`label`, and with ``readable`` driverkit's own snake_case
        names get their readable defaults (``delta_revenue`` → ``Δ revenue``)."""
        key = str(name)
        if key in self.labels or not self.readable:
            return self.label(key)
        for suffix, word in (("_low", " low"), ("_high", " high")):
            if key.endswith(suffix) and key[: -len(suffix)] in DEFAULT_LABELS:
                return DEFAULT_LABELS[key[: -len(suffix)]] + word
        if key in DEFAULT_LABELS:
            return DEFAULT_LABELS[key]
        if key in META_LABELS:  # a fact written in display style, stored in snake_case
            return META_LABELS[key]
        # other snake_case names of driverkit's own columns read as words
        return key.replace("_", " ") if re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)+", key) else key

    def phrase(self, text: str) -> str:
        """``text`` with every whole-word column or driver name replaced by its label.

        In charts (``readable`` or not), driverkit's own names such as ``delta_revenue``
        also get their readable defaults.
        """
        text = plain_numbers(text)
        table = {**DEFAULT_LABELS, **{str(k): str(v) for k, v in self.labels.items()}}
        if not text or not any(k in text for k in table):
            return text
        # labels already in the text are matched first and kept: applying twice is harmless
        shown = {v for v in table.values() if v and v in text}
        tokens = sorted({k for k in table if k in text} | shown, key=len, reverse=True)
        pattern = re.compile("|".join(rf"(?<![\w]){re.escape(k)}(?![\w])" for k in tokens))
        return pattern.sub(lambda m: m.group(0) if m.group(0) in shown
                           else table.get(m.group(0), m.group(0)), text)

    # -- numbers -------------------------------------------------------------------------
    def _babel_locale(self) -> str:
        return self.locale or "en_US"

    def decimal(self, value: float, decimals: int) -> str:
        """``value`` with ``decimals`` decimals and grouped thousands, never in e-notation."""
        if self.locale is None and self.currency is None:
            return f"{value:,.{decimals}f}"
        from babel.numbers import format_decimal

        pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
        return format_decimal(value, format=pattern, locale=self._babel_locale(),
                              decimal_quantization=True)

    def money(self, value: float, decimals: int = 0) -> str:
        """Money with the currency symbol placed as the locale places it (``1 234 567 kr``)."""
        if value is None or not math.isfinite(float(value)):
            return self.number(value)
        if self.currency is None:
            return self.decimal(float(value), decimals)
        import copy

        from babel import Locale
        from babel.numbers import parse_pattern

        loc = Locale.parse(self._babel_locale())
        pattern = copy.copy(parse_pattern(loc.currency_formats["standard"]))
        pattern.frac_prec = (decimals, decimals)
        return pattern.apply(float(value), loc, currency=self.currency, currency_digits=False)

    def percent(self, fraction: float, decimals: int = 1) -> str:
        """A fraction shown as a percentage (0.0863 → ``8.6%``)."""
        if self.locale is None:
            return f"{100 * fraction:,.{decimals}f}%"
        from babel.numbers import format_percent

        pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "") + "%"
        return format_percent(fraction, format=pattern, locale=self._babel_locale(),
                              decimal_quantization=True)

    def number(self, value: Any, column: str = "") -> str:
        """One value on its own (a key fact): formatted by what its name says it is."""
        if (isinstance(value, (float, np.floating, int, np.integer))
                and not isinstance(value, (bool, np.bool_)) and math.isfinite(float(value))):
            return self.column([value], column)[0]
        return _plain(value, self)

    def column(self, values: Iterable[Any], column: str = "") -> list[str]:
        """Every value of one column, with the same number of decimals throughout."""
        vals = list(values)
        col = str(column).lower()
        nums = [float(v) for v in vals if isinstance(v, (float, np.floating, int, np.integer))
                and not isinstance(v, (bool, np.bool_)) and math.isfinite(float(v))]
        kind = "money" if str(column) in self.money_columns else _kind(col)
        decimals = _decimals(nums, kind)
        out = []
        for v in vals:
            if not (isinstance(v, (float, np.floating, int, np.integer))
                    and not isinstance(v, (bool, np.bool_)) and math.isfinite(float(v))):
                out.append(_plain(v, self))
                continue
            x = float(v)
            if kind == "p":
                out.append("<0.001" if x < 0.001 else self.decimal(x, 3))
            elif kind == "level" and 0 < x < 1:
                out.append(self.percent(x, 0 if (100 * x).is_integer() else 1))
            elif (kind == "int" and x.is_integer()) or (
                    kind == "plain" and isinstance(v, (int, np.integer))):
                out.append(self.decimal(x, 0) if abs(x) >= 10_000 else str(int(x)))
            elif kind == "pct":
                out.append(self.percent(x / 100, decimals))
            elif kind == "money":
                out.append(self.money(x, decimals))
            else:
                out.append(self.decimal(x, decimals) if x != 0 or decimals else "0")
        return out

    def axis(self, axis: Any, column: str = "", *, percent_of_100: bool = False) -> None:
        """Plain tick labels on a matplotlib axis: grouped thousands, no offset, no e-notation.

        Money columns get the currency; ``percent_of_100`` marks values already in percent.
        All ticks of the axis share one number of decimals (from their spacing).
        """
        money = is_money(column) or str(column) in self.money_columns
        kind = "money" if money else ("pct" if percent_of_100 else "plain")
        if getattr(axis, "axis_name", "") == "x" and (kind == "money" or self.locale):
            # long labels side by side: fewer ticks, so they never run into each other
            from matplotlib.ticker import MaxNLocator

            axis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))
        axis.set_major_formatter(_tick_formatter()(self, kind))

    def tick_labels(self, values: Sequence[float], kind: str) -> list[str]:
        """Labels for a row of tick positions, with decimals from their spacing."""
        finite = [v for v in values if math.isfinite(v)]
        # the fewest decimals that write every tick exactly (0.25 needs two, 0.5 one)
        decimals = 0
        while decimals < 8 and any(abs(round(v, decimals) - v) > 1e-9 * max(1.0, abs(v))
                                   for v in finite):
            decimals += 1
        out = []
        for x in values:
            if not math.isfinite(x):
                out.append("")
            elif kind == "money":
                out.append(self.money(x, decimals))
            elif kind == "pct":
                out.append(self.percent(x / 100, decimals))
            else:
                out.append(self.decimal(x, decimals) if x != 0 else "0")
        return out

    def text(self, value: Any) -> str:
        """A label for matplotlib: relabelled, and ``$`` shown literally (no mathtext)."""
        return mpl_escape(self.label(value))


_SCI = re.compile(r"(?<![\w.])([-+−]?\d+(?:\.\d+)?)[eE]([-+]?\d+)(?!\w)")


def plain_numbers(text: str) -> str:
    """Rewrite e-notation inside free text (``-2.146e+05`` → ``-214,600``).

    Notes and titles built elsewhere with ``:g`` formats may carry scientific notation; a
    reader should never see it. The significant digits written are kept.

    Examples
    --------
    >>> plain_numbers("interaction gap -2.146e+05; spread 4.2e-06")
    'interaction gap -214,600; spread 0.0000042'
    """
    def repl(m: re.Match[str]) -> str:
        mant, exp = m.group(1).replace("−", "-"), int(m.group(2))
        digits = len(mant.lstrip("+-").replace(".", "").lstrip("0")) or 1
        value = float(f"{mant}e{exp}")
        if value == 0:
            return "0"
        decimals = max(0, digits - 1 - math.floor(math.log10(abs(value))))
        return f"{value:,.{min(decimals, 12)}f}"

    return _SCI.sub(repl, str(text))


def mpl_escape(text: str) -> str:
    """Escape ``$`` so matplotlib shows it literally instead of starting mathtext (idempotent).

    Examples
    --------
    >>> mpl_escape("cost in $x$"), mpl_escape(mpl_escape("$"))
    ('cost in \\\\$x\\\\$', '\\\\$')
    """
    return re.sub(r"(?<!\\)\$", r"\\$", str(text))


_TICK_FORMATTER: Any = None


def _tick_formatter() -> Any:
    """A matplotlib Formatter class (built on first use: matplotlib is imported lazily)."""
    global _TICK_FORMATTER
    if _TICK_FORMATTER is None:
        from matplotlib.ticker import Formatter

        class DriverkitTicks(Formatter):
            def __init__(self, fmt: Format, kind: str) -> None:
                self.fmt, self.kind = fmt, kind

            def format_ticks(self, values: Any) -> list[str]:
                self.set_locs(values)
                return self.fmt.tick_labels([float(v) for v in values], self.kind)

            def __call__(self, x: float, pos: Any = None) -> str:
                locs = [float(v) for v in (self.locs if len(self.locs) else [x])]
                if x in locs:
                    return self.fmt.tick_labels(locs, self.kind)[locs.index(x)]
                return self.fmt.tick_labels([x, *locs], self.kind)[0]

        _TICK_FORMATTER = DriverkitTicks
    return _TICK_FORMATTER


def _kind(col: str) -> str:
    if col in _P_COLUMNS:
        return "p"
    if col in _LEVEL_KEYS:
        return "level"
    if col in _INT_COLUMNS:
        return "int"
    if _PCT.search(col):
        return "pct"
    if is_money(col):
        return "money"
    return "plain"


def _decimals(nums: list[float], kind: str) -> int:
    """Decimals for a whole column: about four significant digits for its largest value."""
    if kind == "pct":
        return 1
    finite = [abs(x) for x in nums if x != 0]
    if not finite:
        return 0
    biggest = max(finite)
    if kind == "money":
        return 0 if biggest >= 100 else 2
    if all(float(x).is_integer() for x in nums) and biggest >= 1:
        return 0
    digits = 4 - 1 - math.floor(math.log10(biggest))
    return int(min(max(digits, 0), 8))


def _plain(value: Any, fmt: Format) -> str:
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if math.isnan(v):
            return "–"
        if math.isinf(v):
            return "∞" if v > 0 else "−∞"
    if isinstance(value, (list, tuple)):
        return ", ".join(fmt.label(v) for v in value)
    return str(value)


# ---------------------------------------------------------------------------------------
# validation and the active formatter
# ---------------------------------------------------------------------------------------
_CURRENT: contextvars.ContextVar[Format | None] = contextvars.ContextVar("driverkit_format",
                                                                         default=None)
_PLAIN = Format()


def current() -> Format:
    """The formatter in effect (set by :func:`format_options`; plain defaults otherwise)."""
    return _CURRENT.get() or _PLAIN


def for_result(result: Any, fmt: Format | None = None) -> Format:
    """``fmt`` (default: the current one) knowing which of ``result``'s columns are money.

    A priority table's ``impact`` is Δrevenue or Δrate depending on the simulator, and an
    allocation's ``value``/``delta_value`` follow its objective: the result's meta says which.
    """
    import dataclasses

    fmt = fmt or current()
    meta = getattr(result, "meta", None) or {}
    extra = set(fmt.money_columns)
    if is_money(meta.get("impact", "")):
        extra |= {"impact", "impact_low", "impact_high"}
    if is_money(meta.get("column", "")) or str(meta.get("objective", "")) in {"profit", "revenue"}:
        extra |= {"value", "value_low", "value_high", "delta_value", "delta_value_low",
                  "delta_value_high"}
    if extra == set(fmt.money_columns):
        return fmt
    return dataclasses.replace(fmt, money_columns=frozenset(extra))


def make_format(labels: Mapping[str, Any] | None = None, currency: str | None = None,
                locale: str | None = None, *, known: Iterable[str] | None = None,
                func: str = "report") -> Format:
    """Validate the display options and build a :class:`Format`.

    Raises
    ------
    DriverkitError
        An unknown currency code or locale (or Babel missing when one is asked for).
    DriverkitTypeError
        ``labels`` is not a mapping of names to strings.

    Warns
    -----
    LabelWarning
        ``labels`` names columns or drivers that are not in ``known``.
    """
    if labels is None:
        labels = {}
    if not isinstance(labels, Mapping):
        raise DriverkitTypeError(
            f"{func}(labels=...) must be a mapping of column → display label, e.g. "
            f"{{'checkout_speed': 'Checkout speed'}}; got {type(labels).__name__}.")
    clean = {str(k): ("" if v is None else str(v)) for k, v in labels.items()}
    if currency is not None or locale is not None:
        try:
            import babel
            import babel.numbers
        except ImportError as exc:
            raise DriverkitError(
                f"{func}(currency=..., locale=...) formats numbers with Babel: "
                "pip install 'driverkit[report]'") from exc
        if locale is not None:
            try:
                babel.Locale.parse(str(locale))
            except (ValueError, TypeError, babel.UnknownLocaleError) as exc:
                raise DriverkitError(
                    f"{func}(locale={locale!r}): unknown locale. Use a language_TERRITORY code "
                    "such as 'en_US', 'sv_SE' or 'de_DE'.") from exc
        if currency is not None:
            code = str(currency).upper()
            if not babel.numbers.is_currency(code):
                raise DriverkitError(
                    f"{func}(currency={currency!r}): unknown currency. Use an ISO 4217 code "
                    "such as 'SEK', 'EUR' or 'USD'.")
            currency = code
    if known is not None and clean:
        have = {str(k) for k in known}
        unknown = sorted(k for k in clean if k not in have)
        if unknown:
            warnings.warn(
                f"{func}(labels=...): {unknown} are not columns or drivers of these results; "
                "those labels are not used. Check the spelling of the column names.",
                LabelWarning, stacklevel=3)
    return Format(labels=clean, currency=currency, locale=None if locale is None else str(locale))


@contextlib.contextmanager
def format_options(fmt: Format | None = None, **options: Any) -> Iterator[Format]:
    """Make ``fmt`` (or one built from ``labels=``, ``currency=``, ``locale=``) current.

    Examples
    --------
    >>> with format_options(labels={"x": "The X"}) as f:
    ...     current().label("x")
    'The X'
    >>> current().label("x")
    'x'
    """
    if fmt is None:
        fmt = make_format(options.get("labels"), options.get("currency"), options.get("locale"),
                          func=str(options.get("func", "format_options")))
    token = _CURRENT.set(fmt)
    try:
        yield fmt
    finally:
        _CURRENT.reset(token)
