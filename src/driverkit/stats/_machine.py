"""What this machine lets driverkit use: cores, available memory and BLAS threads.

One place for the thread and memory defaults of every pool and kernel in the package.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

__all__ = ["available_memory", "single_threaded_blas", "usable_cores"]


def usable_cores(cap: int) -> int:
    """The cores this process may use (its CPU affinity, not the machine's count), at most
    ``cap``: the one default for every thread pool in driverkit."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        n = os.cpu_count() or 1
    return max(1, min(cap, n))


def available_memory() -> int:
    """Bytes of memory currently available (``MemAvailable``), or a large number if unknown."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:  # pragma: no cover - not Linux
        pass
    try:  # pragma: no cover - platform dependent
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover
        return 1 << 62


_BLAS_LOCK = threading.Lock()
_BLAS_STATE: dict[str, Any] = {"depth": 0, "limiter": None}


@contextmanager
def _blas_limited() -> Iterator[None]:
    # BLAS limits are process-wide, so nested and concurrent uses (threads of one call, or
    # calls from several threads) share one limit: the first entry sets it, the last exit
    # restores the user's setting. Independent enter/exit pairs would restore the
    # original thread count while another thread still relies on one.
    from threadpoolctl import threadpool_limits

    with _BLAS_LOCK:
        if _BLAS_STATE["depth"] == 0:
            _BLAS_STATE["limiter"] = threadpool_limits(limits=1, user_api="blas")
        _BLAS_STATE["depth"] += 1
    try:
        yield
    finally:
        with _BLAS_LOCK:
            _BLAS_STATE["depth"] -= 1
            if _BLAS_STATE["depth"] == 0:
                _BLAS_STATE["limiter"].restore_original_limits()
                _BLAS_STATE["limiter"] = None


def single_threaded_blas() -> AbstractContextManager[object]:
    """Context manager limiting BLAS to one thread.

    The kernel's matrix products are small; on a shared machine OpenBLAS threads mostly
    contend with each other (measured 4× slower at p = 25 under load), so one thread is
    both faster and more predictable. Nested and concurrent uses share one limit, and the
    user's setting is restored when the last one ends.

    Examples
    --------
    >>> from threadpoolctl import threadpool_info
    >>> with single_threaded_blas(), single_threaded_blas():
    ...     inner = {p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"}
    >>> inner <= {1}
    True
    """
    try:
        import threadpoolctl  # noqa: F401
    except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
        return nullcontext()
    return _blas_limited()
