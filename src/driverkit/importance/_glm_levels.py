"""The level-by-level driver of the GLM subset engines: batches of equal-size subset models,
run on a thread pool, each batch fitted by the fast logit engine or the plain one with the
plain engine's refits as the safety net. Used by :mod:`driverkit.importance._glm`.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from ._glm_logit import FastLogit


def _newton_batch(engine: Any, fast: FastLogit | None, cols: np.ndarray, b0: np.ndarray,
                  t0: np.ndarray, eps: float, max_iter: int, shared: np.ndarray | None,
                  floor: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Fit one batch: the fast logit engine if given, else the plain engine's fast pass;
    subsets it does not settle, or that end below ``floor`` (a likelihood the model
    cannot be below: a diverged step near separation), are refitted by the plain engine
    (its fast pass, then with step halving). Returns ``newton``'s tuple."""
    # overflow in separated/diverging fits is detected and handled here
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        if fast is not None:
            beta, lls, ok, ext, it = fast.fit(cols, b0, eps, max_iter, shared)
            th = t0
            ok &= lls >= floor - eps
            if not ok.all():  # the plain engine's fast pass, as without the fast engine
                bad = np.flatnonzero(~ok)
                b_p, _, ll_p, ok_p, ext_p, it_p = engine.newton(
                    cols[bad], b0[bad], t0[bad], eps, max_iter, safe=False)
                beta[bad], lls[bad], ok[bad], ext[bad] = b_p, ll_p, ok_p, ext_p
                it = max(it, it_p)
        else:
            beta, th, lls, ok, ext, it = engine.newton(cols, b0, t0, eps, max_iter,
                                                       safe=False, shared=shared)
        ok &= lls >= floor - eps
        if not ok.all():
            bad = np.flatnonzero(~ok)
            b_s, th_s, ll_s, ok_s, ext_s, it_s = engine.newton(
                cols[bad], b0[bad], t0[bad], eps, max(max_iter, 100), safe=True)
            beta[bad], th[bad], lls[bad], ok[bad], ext[bad] = b_s, th_s, ll_s, ok_s, ext_s
            it = max(it, it_s)
    return beta, th, lls, ok, ext, it


def _bit_reversed(p: int) -> np.ndarray:
    """Each p-bit mask with its bits in reverse order (a sort key: low players vary slowest,
    so a run of consecutive masks shares its low players and siblings stay close)."""
    masks = np.arange(1 << p, dtype=np.int64)
    out = np.zeros(1 << p, dtype=np.int64)
    for j in range(p):
        out |= ((masks >> j) & 1) << (p - 1 - j)
    return out


def _glm_threads(threads: int | None) -> int:
    """Threads for the batch loop: as asked, else the usable cores (at most 4), but one
    inside a worker thread (a bootstrap pool already uses the cores)."""
    if threads is not None:
        return max(1, int(threads))
    if threading.current_thread() is not threading.main_thread():
        return 1
    from ..stats._subsets import usable_cores

    return usable_cores(4)


def _split_level(level: np.ndarray, block: int) -> list[np.ndarray]:
    """A level's batches: at most ``block`` subsets each, equal in size, and a multiple of 4
    (else of 2) of them where that keeps every batch at least half a block, so that two or
    four threads finish a level together instead of one thread running its last batch
    alone. The split depends on the level and ``block`` only, never on the thread count,
    so the fits do not either.

    Examples
    --------
    >>> [b.size for b in _split_level(np.arange(1000), 262)]
    [250, 250, 250, 250]
    >>> [b.size for b in _split_level(np.arange(300), 262)]
    [150, 150]
    """
    size = level.size
    count = max(1, -(-size // block))
    for mult in (4, 2):
        more = -(-count // mult) * mult
        if size >= more * (block / 2):
            count = more
            break
    step = -(-size // count)
    return [level[i : i + step] for i in range(0, size, step)]


def _run_levels(levels: list[np.ndarray], block: int, fit_batch: Any, n_threads: int,
                progress: Any) -> int:
    """Run ``fit_batch`` on every batch of every level, levels in order (a level's warm
    starts are the previous level's fits), the batches of a level on ``n_threads``
    threads. Each batch writes its own rows, so the results do not depend on the threads.
    Returns the largest iteration count."""
    from concurrent.futures import ThreadPoolExecutor, as_completed

    from ..stats._subsets import single_threaded_blas

    iters = 0
    batches_of = [_split_level(lv, block) for lv in levels]
    if n_threads <= 1 or max((len(b) for b in batches_of), default=0) <= 1:
        with single_threaded_blas():  # small products: BLAS threads would only contend
            for batches in batches_of:
                for batch in batches:
                    iters = max(iters, fit_batch(batch))
                    if progress is not None:
                        progress(batch.size)
        return iters
    # one BLAS thread under our pool (its products are small; BLAS threads would only
    # contend with ours); a product's rounding does not depend on BLAS threads anyway
    # (they split its rows and columns, not its sums)
    with single_threaded_blas(), ThreadPoolExecutor(max_workers=n_threads) as pool:
        for batches in batches_of:
            futures = {pool.submit(fit_batch, batch): batch.size for batch in batches}
            for fut in as_completed(futures):
                iters = max(iters, fut.result())
                if progress is not None:
                    progress(futures[fut])
    return iters
