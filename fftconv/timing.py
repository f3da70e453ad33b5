"""Side-by-side timing of candidate functions (shared by autotune, calibration and bench)."""

from __future__ import annotations

import itertools
import math
import numbers
import time

import numpy as np

from .checks import is_int
from .errors import bad_type, bad_value

__all__ = ["time_rounds", "changing_weights"]


def time_rounds(calls: dict, repeats: int, warmup: int = 1, settle: int = 0,
                min_seconds: float = 0.0) -> dict:
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

    With ``min_seconds`` > 0, rounds continue past ``repeats`` until that much
    time has passed since the first timed round (in the manner of
    :meth:`timeit.Timer.autorange`): the slow spells of a shared machine last
    milliseconds to seconds, so the nine rounds of a 0.1 ms layer can fall
    entirely inside one of them, while the rounds of a measurement spread over a
    fixed time sample the machine's spells in the same proportion for any layer.

    Parameters
    ----------
    calls : dict of str → callable
        The functions to time, each called without arguments.
    repeats : int
        Rounds at least.
    warmup : int
        Untimed runs of each function before the first round.
    settle : int
        Untimed runs of a function right before each of its timed runs.
    min_seconds : float
        Time the rounds fill at least, counted from the first timed round.

    Returns
    -------
    dict
        ``{name: [seconds of round 0, round 1, ...]}``, as many rounds for each.

    Examples
    --------
    >>> order = []
    >>> runs = time_rounds({"a": lambda: order.append("a"),
    ...                     "b": lambda: order.append("b")}, repeats=2, warmup=0)
    >>> order, [len(v) for v in runs.values()]
    (['a', 'b', 'b', 'a'], [2, 2])
    """
    if not isinstance(min_seconds, numbers.Real) or isinstance(min_seconds, bool):
        raise bad_type("time_rounds", "min_seconds", min_seconds, "a number of seconds")
    if not 0 <= min_seconds < math.inf:
        raise bad_value("time_rounds", "min_seconds", min_seconds, "a finite number >= 0")
    if not is_int(settle):
        raise bad_type("time_rounds", "settle", settle, "an int >= 0")
    if settle < 0:
        raise bad_value("time_rounds", "settle", settle, "an int >= 0")
    names = list(calls)
    for name in names:
        for _ in range(warmup):
            calls[name]()
    times = {name: [] for name in names}
    start_all = time.perf_counter()
    r = 0
    while r < repeats or time.perf_counter() - start_all < min_seconds:
        for i in range(len(names)):
            name = names[(r + i) % len(names)]
            for _ in range(settle):
                calls[name]()
            start = time.perf_counter()
            calls[name]()
            times[name].append(time.perf_counter() - start)
        r += 1
    return times


def changing_weights(w):
    """An endless supply of weights whose values change from one call to the next.

    As in training, no timed call may profit from a cache of the weights that
    the cost model does not count: the FFT backend keeps one kernel spectrum per
    geometry, validated against the exact weights it came from, so cycling
    through three slightly different copies (``w``, ``w·1.001``, ``w·1.002``)
    misses it every call, at a memory cost of three copies however long the
    timing runs.

    Parameters
    ----------
    w : ndarray of floats, any shape (conv2d weights: ``(C_out, C_in/g, kh, kw)``)

    Returns
    -------
    iterator of ndarray
        ``w·(1 + 10⁻³·r)`` for ``r = 0, 1, 2, 0, 1, 2, ...``, each of ``w``'s shape.

    Examples
    --------
    >>> import numpy as np
    >>> ws = changing_weights(np.ones(2))
    >>> [float(next(ws)[0]) for _ in range(4)]
    [1.0, 1.001, 1.002, 1.0]
    """
    if not isinstance(w, np.ndarray) or w.dtype.kind != "f":
        raise bad_type("changing_weights", "w", w, "a floating-point ndarray")
    return itertools.cycle([w * (1 + 1e-3 * r) for r in range(3)])
