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

__all__ = ["Result"]


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
        self.meta: dict[str, Any] = dict(meta or {})
        self.notes: list[str] = list(notes or [])
        if title is not None:
            self._title = title

    # -- display -----------------------------------------------------------------------
    @property
    def title(self) -> str:
        return self._title

    def summary(self) -> str:
        """Return a plain-text summary (title, key facts, table, notes)."""
        from .display._render import render_text

        return render_text(self)

    def to_html(self) -> str:
        """Return an HTML fragment of the result (what notebooks display)."""
        from .display._render import render_html

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

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """Plot the result on ``ax`` (created if ``None``) and return the matplotlib Axes."""
        from .display._plots import get_ax

        ax = get_ax(ax)
        before = {id(t): t.get_text() for t in _texts(ax)}
        out = self._plot(ax, **kwargs)
        # names and titles are literal text: "$5 vs $10", "price_value" or "50 %" must not be
        # read as mathtext (an odd "$" would even fail to draw); only texts written here change
        for t in _texts(ax):
            if before.get(id(t)) != t.get_text() and hasattr(t, "set_parse_math"):
                t.set_parse_math(False)
        return out

    def _plot(self, ax: Any, **kwargs: Any) -> Any:
        from .display._plots import table_bar

        return table_bar(self.plot_data(), ax=ax, title=self.title, **kwargs)


def _texts(ax: Any) -> list[Any]:
    """Every matplotlib Text of the figure that holds ``ax``."""
    from matplotlib.text import Text

    fig = getattr(ax, "figure", None)
    return [] if fig is None else list(fig.findobj(Text))
