"""Side-by-side timing of candidate functions (shared by autotune, calibration and bench)."""

from __future__ import annotations

import itertools
import math
import numbers
import time

import numpy as np

from .checks import is_int
from .errors import bad_type, bad_value

__all__ = ["time_rounds", "sample_seconds", "median_seconds", "changing_weights", "NEAR_TIE", "NEAR_TIE_SECONDS"]

#: Candidates whose medians lie within this factor of the fastest are a near tie ...
NEAR_TIE = 1.15
#: ... and run more rounds among themselves, spread over at least this many seconds.
NEAR_TIE_SECONDS = 3.0


def _check_seconds(func: str, name: str, value) -> None:
    """A time budget must be a finite number of seconds >= 0 (else a clear error)."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise bad_type(func, name, value, "a number of seconds")
    if not 0 <= value < math.inf:
        raise bad_value(func, name, value, "a finite number >= 0")


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
    cache, its threads awake) rather than in the wake of the previous candidate,
    whose working set may have flushed the cache and whose threads may still hold
    the cores.

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
    _check_seconds("time_rounds", "min_seconds", min_seconds)
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


def median_seconds(calls: dict, repeats: int, min_seconds: float = 0.0,
                   near_tie: float | None = None, near_tie_seconds: float | None = None) -> dict:
    """Median seconds of each of ``calls``, a near tie measured longer.

    The rule by which both autotuning and ``fftconv bench`` name the fastest
    candidate, so that the two verdicts are estimates of one quantity. First
    ``repeats`` interleaved rounds of every call, over at least ``min_seconds``
    (:func:`time_rounds`, one settling run before each timed one). The calls
    whose medians lie within ``near_tie`` of the fastest then run ``2·repeats``
    more rounds among themselves, over at least ``near_tie_seconds``, and their
    medians are taken over all their rounds.

    Why the extra time goes there: on a shared machine the ratio of two
    candidates that run about equally fast wanders from one second to the next,
    and only for near ties does that wandering change the verdict. Spending the
    extra rounds on them alone makes two verdicts taken seconds apart agree,
    without lengthening the timing of clear winners.

    Parameters
    ----------
    calls : dict of str → callable
        The functions to time, each called without arguments.
    repeats : int
        Rounds at least (the near tie runs ``2·repeats`` more).
    min_seconds : float
        Time the first rounds fill at least.
    near_tie : float, optional
        Default :data:`NEAR_TIE`.
    near_tie_seconds : float, optional
        Default :data:`NEAR_TIE_SECONDS`.

    Returns
    -------
    dict
        ``{name: median seconds}``, in the order of ``calls``.

    Examples
    --------
    >>> seconds = median_seconds({"a": lambda: None, "b": lambda: None}, repeats=3,
    ...                          near_tie_seconds=0.0)
    >>> sorted(seconds), all(t >= 0 for t in seconds.values())
    (['a', 'b'], True)
    """
    near_tie = NEAR_TIE if near_tie is None else near_tie
    near_tie_seconds = NEAR_TIE_SECONDS if near_tie_seconds is None else near_tie_seconds
    if not isinstance(near_tie, numbers.Real) or isinstance(near_tie, bool):
        raise bad_type("median_seconds", "near_tie", near_tie, "a factor >= 1")
    if not 1 <= near_tie < math.inf:
        raise bad_value("median_seconds", "near_tie", near_tie, "a finite factor >= 1")
    _check_seconds("median_seconds", "min_seconds", min_seconds)
    _check_seconds("median_seconds", "near_tie_seconds", near_tie_seconds)
    runs = sample_seconds(calls, repeats, min_seconds, near_tie, near_tie_seconds)
    return {name: float(np.median(times)) for name, times in runs.items()}


def sample_seconds(calls: dict, repeats: int, min_seconds: float = 0.0,
                   near_tie: float | None = None, near_tie_seconds: float | None = None) -> dict:
    """Every timed run of each of ``calls`` under the rule of :func:`median_seconds`.

    Parameters and rule as in :func:`median_seconds`; returns
    ``{name: [seconds, ...]}`` (a near tie has more runs), from which
    :func:`median_seconds` takes the medians and ``fftconv bench`` also the quartiles.
    """
    near_tie = NEAR_TIE if near_tie is None else near_tie
    near_tie_seconds = NEAR_TIE_SECONDS if near_tie_seconds is None else near_tie_seconds
    runs = time_rounds(calls, repeats, settle=1, min_seconds=min_seconds)
    medians = {name: np.median(times) for name, times in runs.items()}
    close = [name for name in calls if medians[name] <= near_tie * min(medians.values())]
    if len(close) > 1:
        more = time_rounds({name: calls[name] for name in close}, 2 * repeats, settle=1,
                           min_seconds=near_tie_seconds)
        for name, times in more.items():
            runs[name] += times
    return runs


def changing_weights(w):
    """An endless supply of weights whose values change from one call to the next.

    As in training, no timed call may profit from a cache of the weights that
    the cost model does not count. fftconv's backends keep nothing between
    calls, but a backend registered by a user may: cycling through three
    slightly different copies (``w``, ``w·1.001``, ``w·1.002``) defeats any
    cache validated against the exact weights, at a memory cost of three copies
    however long the timing runs.

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
