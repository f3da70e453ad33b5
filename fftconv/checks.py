"""Argument checks shared by fftconv, its trainer and the analysis package.

Each returns the canonical value or raises the TypeError / ValueError built by
:mod:`fftconv.errors` (naming the function, the parameter, the value received
and what is allowed).

Examples
--------
>>> from fftconv.checks import positive_pair
>>> positive_pair("conv2d", "stride", 2)
(2, 2)
>>> positive_pair("conv2d", "stride", (1, 0))
Traceback (most recent call last):
...
ValueError: conv2d: parameter 'stride' must be a positive int or a pair of positive ints; got (1, 0)
"""

from __future__ import annotations

import numbers

import numpy as np

from .errors import bad_type, bad_value

__all__ = ["is_int", "positive_int", "parse_int_pair", "positive_pair", "int_tuple"]


def is_int(value) -> bool:
    """True for Python and numpy integers, False for bools and everything else."""
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def positive_int(func: str, param: str, value) -> int:
    """An integer ``>= 1``."""
    if not is_int(value):
        raise bad_type(func, param, value, "a positive int")
    if value < 1:
        raise bad_value(func, param, value, "a positive int")
    return int(value)


def parse_int_pair(value) -> tuple[int, int] | None:
    """``k`` → ``(k, k)``, a pair of ints → that pair, anything else → ``None``.

    Examples
    --------
    >>> parse_int_pair(3), parse_int_pair([2, 5]), parse_int_pair(2.0)
    ((3, 3), (2, 5), None)
    """
    if is_int(value):
        return (int(value), int(value))
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(map(is_int, value)):
        return (int(value[0]), int(value[1]))
    return None


def positive_pair(func: str, param: str, value) -> tuple[int, int]:
    """An int or a pair of ints, each ``>= 1``; an int ``k`` means ``(k, k)``."""
    allowed = "a positive int or a pair of positive ints"
    pair = parse_int_pair(value)
    if pair is None:
        raise bad_type(func, param, value, allowed)
    if min(pair) < 1:
        raise bad_value(func, param, value, allowed)
    return pair


def int_tuple(func: str, param: str, value, ndim: int, layout: str = "") -> tuple:
    """A shape: a tuple (or list) of ``ndim`` positive ints; ``layout`` names the axes."""
    allowed = f"a tuple of {ndim} positive ints {layout}".rstrip()
    if not isinstance(value, (tuple, list)) or not all(map(is_int, value)):
        raise bad_type(func, param, value, allowed)
    if len(value) != ndim or min(value) < 1:
        raise bad_value(func, param, value, allowed)
    return tuple(int(v) for v in value)
