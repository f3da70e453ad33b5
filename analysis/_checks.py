"""Input checks shared by the analysis modules (messages built by ``fftconv.errors``)."""

from __future__ import annotations

import numbers

import numpy as np

from fftconv.checks import is_int, parse_int_pair
from fftconv.errors import bad_type, bad_value


def real_array(func: str, param: str, value, min_ndim: int = 1, max_ndim: int | None = None,
               layout: str = "") -> np.ndarray:
    """Array-like of real numbers -> finite float ndarray (float32 kept, integers -> float64).

    ``layout`` (for example ``'(..., kh, kw)'``) is quoted in the ndim message.
    """
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:         # ragged sequences and the like
        raise bad_type(func, param, value, "a real array_like") from exc
    if arr.dtype.kind in "iu":
        arr = arr.astype(np.float64)
    elif arr.dtype not in (np.float32, np.float64):
        raise bad_type(func, param, value,
                       "a real array_like of dtype float32, float64 or an integer type")
    if arr.ndim < min_ndim or (max_ndim is not None and arr.ndim > max_ndim):
        if max_ndim == min_ndim:
            dims = f"a {min_ndim}-d array"
        elif max_ndim is None:
            dims = f"an array with at least {min_ndim} dimensions"
        else:
            dims = f"an array with {min_ndim} to {max_ndim} dimensions"
        raise bad_value(func, param, arr, f"{dims} {layout}".rstrip())
    if arr.size == 0:
        raise bad_value(func, param, arr, "a non-empty array")
    if not np.isfinite(arr).all():
        raise bad_value(func, param, arr, "an array of finite values (no NaN or inf)")
    return arr



def is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def integer(func: str, param: str, value, minimum: int = 1) -> int:
    """An int ``>= minimum`` (bools are rejected)."""
    allowed = f"an int >= {minimum}"
    if not is_int(value):
        raise bad_type(func, param, value, allowed)
    if value < minimum:
        raise bad_value(func, param, value, allowed)
    return int(value)


def positive(func: str, param: str, value, allow_zero: bool = False) -> float:
    """A finite real number ``> 0`` (or ``>= 0`` with ``allow_zero``)."""
    allowed = f"a finite real number {'>=' if allow_zero else '>'} 0"
    if not is_real(value):
        raise bad_type(func, param, value, allowed)
    value = float(value)
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise bad_value(func, param, value, allowed)
    return value


def size_pair(func: str, param: str, value, minimum=(1, 1)) -> tuple[int, int]:
    """An int or a pair of ints, each ``>=`` the matching entry of ``minimum``."""
    allowed = (f"an int or a pair of ints at least {tuple(int(m) for m in minimum)}")
    pair = parse_int_pair(value)
    if pair is None:
        raise bad_type(func, param, value, allowed)
    if pair[0] < minimum[0] or pair[1] < minimum[1]:
        raise bad_value(func, param, value, allowed)
    return pair


def choice(func: str, param: str, value, options) -> str:
    """One of the strings in ``options``."""
    if not isinstance(value, str) or value not in options:
        raise bad_value(func, param, value, "one of " + ", ".join(map(repr, options)))
    return value
