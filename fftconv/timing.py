"""Side-by-side timing of candidate functions (shared by autotune, calibration and bench)."""

from __future__ import annotations

import time

__all__ = ["time_rounds"]


def time_rounds(calls: dict, repeats: int, warmup: int = 1, settle: int = 0) -> dict:
    """Wall-clock seconds of every run of each of ``calls`` (name → function).

    After ``warmup`` untimed runs of each, the functions are timed in
    ``repeats`` rounds; each round runs every function once, in an order rotated
    from round to round. A slow spell of a shared machine then falls on all the
    candidates alike instead of on whichever happened to be timed during it, so
    comparisons between them stay fair when absolute times drift.

    With ``settle`` > 0, each timed run follows that many untimed runs of the
    same function, so every candidate is timed in its steady state (its data in
    cache, its threads awake) rather than in the wake of the previous candidate:
    measured here, the FFT backend's 31 × 31 layer took 13 ms after its own call
    and 16–18 ms right after PyTorch's 230 ms call had flushed the cache.

    Returns
    -------
    dict
        ``{name: [seconds of round 0, round 1, ...]}``.

    Examples
    --------
    >>> order = []
    >>> runs = time_rounds({"a": lambda: order.append("a"),
    ...                     "b": lambda: order.append("b")}, repeats=2, warmup=0)
    >>> order, [len(v) for v in runs.values()]
    (['a', 'b', 'b', 'a'], [2, 2])
    """
    names = list(calls)
    for name in names:
        for _ in range(warmup):
            calls[name]()
    times = {name: [] for name in names}
    for r in range(repeats):
        for i in range(len(names)):
            name = names[(r + i) % len(names)]
            for _ in range(settle):
                calls[name]()
            start = time.perf_counter()
            calls[name]()
            times[name].append(time.perf_counter() - start)
    return times
