"""One progress bar for every long call.

Every long-running public function takes ``progress=``: ``True`` shows a bar, ``False``
never does, and ``None`` (the default) shows one only for a job the caller expects to be
long, and only where someone can see it (a terminal or a notebook; tqdm decides). Without a
bar the same code path runs against a no-op object, so callers never branch on it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["progress_bar"]


class _Quiet:
    """The interface of a tqdm bar that the library uses, doing nothing."""

    n = 0

    def update(self, n: int | float = 1) -> None:
        """Ignore progress."""

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None:
        """Ignore a status text."""

    def close(self) -> None:
        """Nothing to close."""

    def __enter__(self) -> _Quiet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def progress_bar(total: float | None, *, show: bool | None, desc: str, unit: str = "it",
                 long_run: bool = True, unit_scale: bool = False, **kwargs: Any) -> Any:
    """A tqdm bar, or a silent stand-in with the same ``update``/``close`` methods.

    Parameters
    ----------
    total : float or None
        Units of work (None: unknown, the bar counts up).
    show : bool or None
        The user's ``progress=``: True always, False never, None automatic.
    desc, unit, unit_scale
        Passed to tqdm.
    long_run : bool
        The caller's estimate that the job is long; automatic bars appear only then.

    Examples
    --------
    >>> bar = progress_bar(10, show=False, desc="fits")
    >>> bar.update(3); bar.close()
    >>> type(bar).__name__
    '_Quiet'
    """
    if show is False or (show is None and not long_run):
        return _Quiet()
    if show is None and not _visible():  # tqdm would disable itself: skip its import
        return _Quiet()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit, unit_scale=unit_scale, leave=False,
                disable=None if show is None else False, **kwargs)


def _visible() -> bool:
    """Whether an automatic bar can be seen: a terminal, or a notebook's kernel."""
    import sys

    err = sys.stderr
    tty = bool(getattr(err, "isatty", None) and err.isatty())
    return tty or "ipykernel" in sys.modules
