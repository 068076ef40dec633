"""The base class every driverkit result derives from.

A result is plain data plus metadata: ``.table`` (a tidy pandas DataFrame with fixed
snake_case columns), ``.meta`` (ordered facts such as n, R², confidence level),
``.notes`` (warnings, assumptions, caveats). Rendering to text, HTML and LaTeX happens in
:mod:`driverkit.display._render`; plotting in :mod:`driverkit.display._plots`. Subclasses
override :meth:`plot_data` and :meth:`_plot` only.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["FrameResult", "Meta", "Result", "snake_key"]


#: 0.1 display-style ``.meta`` keys → their snake_case names (readable, deprecated, in 0.2).
_OLD_META_KEYS = {
    "R²": "r2",
    "McFadden R²": "mcfadden_r2",
    "log-likelihood": "loglike",
    "condition number": "condition_number",
    "max VIF": "max_vif",
    "ci method": "ci_method",
    "CI level": "ci",
    "smallest pairwise n": "smallest_pairwise_n",
}


def _new_meta_key(key: Any) -> Any:
    if not isinstance(key, str):
        return key
    if key in _OLD_META_KEYS:
        return _OLD_META_KEYS[key]
    if key.startswith("pseudo-R² ("):
        return "pseudo_r2_always" if key.endswith("of always-in covariates") else "pseudo_r2"
    if key == "R² of always-in covariates":
        return "r2_always"
    return snake_key(key)


def snake_key(key: str) -> str:
    """``"rows dropped (listwise)"`` → ``"rows_dropped_listwise"`` (a ``.meta`` key)."""
    import re

    return re.sub(r"[^0-9A-Za-z]+", "_", key).strip("_").lower() or key


class Meta(dict):
    """``.meta``: snake_case keys (data); the renderers show display labels.

    Keys written in display style are stored in snake_case (``"respondents used"`` →
    ``"respondents_used"``), so every result's facts read the same way. The display-style
    keys (``meta["condition number"]``, ``meta["R²"]``, …) still read, with a
    :class:`DeprecationWarning`, for one release.

    Examples
    --------
    >>> m = Meta({"respondents used": 240, "r2": 0.4})
    >>> list(m)
    ['respondents_used', 'r2']
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    @staticmethod
    def _store_key(key: Any) -> Any:
        new = _new_meta_key(key)
        if new != key and isinstance(key, str) and key not in _OLD_META_KEYS:
            from .display._format import META_LABELS

            META_LABELS.setdefault(new, key)
        return new

    def __setitem__(self, key: Any, value: Any) -> None:
        dict.__setitem__(self, self._store_key(key), value)

    def __delitem__(self, key: Any) -> None:
        dict.__delitem__(self, self._resolve(key))

    def setdefault(self, key: Any, default: Any = None) -> Any:
        return dict.setdefault(self, self._store_key(key), default)

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def pop(self, key: Any, *default: Any) -> Any:
        return dict.pop(self, self._resolve(key), *default)

    def _resolve(self, key: Any) -> Any:
        if dict.__contains__(self, key):
            return key
        new = _new_meta_key(key)
        if new != key and dict.__contains__(self, new):
            import warnings

            warnings.warn(f"meta[{key!r}] is deprecated and will be removed in the next "
                          f"release; use meta[{new!r}].", DeprecationWarning, stacklevel=3)
        return new

    def __getitem__(self, key: Any) -> Any:
        return dict.__getitem__(self, self._resolve(key))

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self, key) or (
            _new_meta_key(key) != key and dict.__contains__(self, _new_meta_key(key)))

    def get(self, key: Any, default: Any = None) -> Any:
        return dict.get(self, self._resolve(key), default)


class Result:
    """Base class of driverkit results.

    Attributes
    ----------
    table : pandas.DataFrame
        The tidy result table.
    meta : dict
        Ordered key facts shown above the table (``{"n": 2500, "R²": 0.41}``).
    notes : list of str
        Warnings, assumptions and caveats shown below the table.
    """

    _title: str = "driverkit result"

    def __init__(self, table: pd.DataFrame, *, meta: dict[str, Any] | None = None,
                 notes: list[str] | None = None, title: str | None = None) -> None:
        self.table = table
        self.meta = meta or {}
        self.notes: list[str] = list(notes or [])
        if title is not None:
            self._title = title

    @property
    def meta(self) -> Meta:
        """Key facts (snake_case keys; see :class:`Meta`)."""
        return self.__dict__.setdefault("_meta", Meta())

    @meta.setter
    def meta(self, value: Any) -> None:
        self.__dict__["_meta"] = value if isinstance(value, Meta) else Meta(value or {})

    # -- display -----------------------------------------------------------------------
    @property
    def title(self) -> str:
        return self._title

    def _names(self) -> set[str]:
        """Every name a display label may refer to: columns, row labels, index names."""
        names: set[str] = set()
        t = self.table
        if isinstance(t, pd.DataFrame):
            names |= {str(c) for c in t.columns}
            names |= {str(n) for n in t.index.names if n is not None}
            for level in range(t.index.nlevels):
                names |= {str(v) for v in t.index.get_level_values(level)}
            for c in t.columns:
                if t[c].dtype == object:
                    names |= {str(v) for v in t[c].tolist() if isinstance(v, str)}
        names |= {str(k) for k in self.meta}
        return names

    def _format(self, options: dict[str, Any], func: str) -> Any:
        """The formatter for these options; the one in effect when none is given."""
        from .display._format import current, make_format

        if all(options.get(k) is None for k in ("labels", "currency", "locale")):
            return current()
        return make_format(options.get("labels"), options.get("currency"),
                           options.get("locale"), known=self._names(), func=func)

    def summary(self, *, labels: dict[str, str] | None = None, currency: str | None = None,
                locale: str | None = None) -> str:
        """Return a plain-text summary (title, key facts, table, notes).

        ``labels`` (column or driver → display label), ``currency`` (ISO code) and
        ``locale`` (e.g. ``"sv_SE"``) change how names and numbers are shown, never the data.
        """
        from .display._format import format_options
        from .display._render import render_text

        fmt = self._format({"labels": labels, "currency": currency, "locale": locale},
                           "summary")
        with format_options(fmt):
            return render_text(self)

    def to_html(self, *, labels: dict[str, str] | None = None, currency: str | None = None,
                locale: str | None = None) -> str:
        """Return an HTML fragment of the result (what notebooks display)."""
        from .display._format import format_options
        from .display._render import render_html

        fmt = self._format({"labels": labels, "currency": currency, "locale": locale},
                           "to_html")
        with format_options(fmt):
            return render_html(self)

    def to_latex(self) -> str:
        """Return the table as a LaTeX ``tabular`` (booktabs), formatted as in :meth:`summary`."""
        from .display._render import render_latex

        return render_latex(self)

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        return self.summary()

    # -- plotting ----------------------------------------------------------------------
    def plot_data(self) -> pd.DataFrame:
        """Return the data frame behind :meth:`plot` (the default: a copy of ``.table``)."""
        return self.table.copy()

    def plot(self, ax: Any = None, *, labels: dict[str, str] | None = None,
             currency: str | None = None, locale: str | None = None, **kwargs: Any) -> Any:
        """Plot the result on ``ax`` (created if ``None``) and return the matplotlib Axes.

        ``labels``, ``currency`` and ``locale`` work as in :meth:`summary`: driver names and
        axis titles are relabelled, money axes carry the currency, and no axis uses
        scientific notation or an offset.
        """
        from .display._format import for_result, format_options
        from .display._plots import finish_axes, get_ax

        given = labels is not None or currency is not None or locale is not None
        fmt = self._format({"labels": labels, "currency": currency, "locale": locale},
                           "plot") if given else None
        with format_options(for_result(self, fmt)) as active:
            ax = get_ax(ax)
            out = self._plot(ax, **kwargs)
            finish_axes(out if out is not None else ax, active)
            return out

    def _plot(self, ax: Any, **kwargs: Any) -> Any:
        from .display._plots import table_bar

        return table_bar(self.plot_data(), ax=ax, title=self.title, **kwargs)


class FrameResult(Result):
    """A result that 0.1 returned as a bare DataFrame (``frontier``, ``delta_nps``,
    ``run_chunked``), with the DataFrame access old code relies on.

    ``result["value"]``, ``result[["a", "b"]]``, ``len(result)``, ``.columns``, ``.index``,
    ``.loc``, ``.iloc``, ``.itertuples()`` and ``.to_frame()`` read :attr:`table` (kept for
    good). Any other DataFrame attribute (``result.sort_values(...)``) still works for one
    release with a :class:`DeprecationWarning`; use ``result.table`` instead.
    """

    def to_frame(self) -> pd.DataFrame:
        """A copy of :attr:`table` (what 0.1 returned)."""
        return self.table.copy()

    def __getitem__(self, key: Any) -> Any:
        return self.table[key]

    def __len__(self) -> int:
        return len(self.table)

    @property
    def columns(self) -> pd.Index:
        return self.table.columns

    @property
    def index(self) -> pd.Index:
        return self.table.index

    @property
    def loc(self) -> Any:
        return self.table.loc

    @property
    def iloc(self) -> Any:
        return self.table.iloc

    def itertuples(self, *args: Any, **kwargs: Any) -> Any:
        return self.table.itertuples(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        # only reached for names the result does not have; never for private/dunder names
        # (copy, pickle and hasattr probes must see a plain AttributeError)
        if name.startswith("_") or "table" not in self.__dict__:
            raise AttributeError(name)
        table = self.__dict__["table"]
        if not hasattr(table, name):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        import warnings

        warnings.warn(
            f"{type(self).__name__} is a result object, not a DataFrame: "
            f"result.{name} is deprecated and will be removed in the next release; use "
            f"result.table.{name}.", DeprecationWarning, stacklevel=2)
        return getattr(table, name)
