"""Argument checks shared by fftconv, its trainer and the analysis package.

This is the one home of the input checks: scalars (:func:`integer`,
:func:`positive_int`, :func:`real`, :func:`positive`, :func:`choice`), pairs and
shapes (:func:`positive_pair`, :func:`size_pair`, :func:`int_tuple`) and arrays
(:func:`as_array`). Each returns the canonical value or raises the TypeError /
ValueError built by :mod:`fftconv.errors` (naming the function, the parameter, the
value received and what is allowed): a wrong *type* is a TypeError, a value of the
right type outside the allowed set is a ValueError.

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

import math
import numbers

import numpy as np

from .errors import bad_type, bad_value, not_on_cpu

__all__ = ["is_int", "is_real", "integer", "positive_int", "real", "positive", "choice",
           "parse_int_pair", "positive_pair", "size_pair", "int_tuple", "as_array",
           "is_array_object", "to_ndarray"]


# -- scalars -----------------------------------------------------------------------

def is_int(value) -> bool:
    """True for Python and numpy integers, False for bools and everything else.

    Examples
    --------
    >>> is_int(3), is_int(np.int64(3)), is_int(True), is_int(3.0)
    (True, True, False, False)
    """
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def is_real(value) -> bool:
    """True for Python and numpy real numbers (ints included), False for bools.

    Examples
    --------
    >>> is_real(0.5), is_real(np.float32(2)), is_real(1), is_real(False), is_real(1j)
    (True, True, True, False, False)
    """
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def integer(func: str, param: str, value, minimum: int = 1, allow_none: bool = False):
    """An int ``>= minimum`` (bools are rejected); ``None`` passes when ``allow_none``.

    Examples
    --------
    >>> integer("diffuse", "steps", 0, minimum=0)
    0
    >>> integer("find_peaks", "max_peaks", None, allow_none=True) is None
    True
    >>> integer("find_peaks", "max_peaks", 0, allow_none=True)
    Traceback (most recent call last):
    ...
    ValueError: find_peaks: parameter 'max_peaks' must be an int >= 1 or None; got 0
    """
    if value is None and allow_none:
        return None
    allowed = f"an int >= {minimum}" + (" or None" if allow_none else "")
    if not is_int(value):
        raise bad_type(func, param, value, allowed)
    if value < minimum:
        raise bad_value(func, param, value, allowed)
    return int(value)


def positive_int(func: str, param: str, value) -> int:
    """An integer ``>= 1`` (bools are rejected).

    Examples
    --------
    >>> positive_int("fit", "epochs", 3)
    3
    >>> positive_int("fit", "epochs", 2.0)
    Traceback (most recent call last):
    ...
    TypeError: fit: parameter 'epochs' must be a positive int; got 2.0
    """
    if not is_int(value):
        raise bad_type(func, param, value, "a positive int")
    if value < 1:
        raise bad_value(func, param, value, "a positive int")
    return int(value)


def real(func: str, param: str, value, what: str = "a finite real number") -> float:
    """A finite real number as a float; ``what`` words the allowed set.

    Examples
    --------
    >>> real("gabor", "theta", 30)
    30.0
    >>> real("gabor", "theta", float("nan"), "a finite real number of degrees")
    Traceback (most recent call last):
    ...
    ValueError: gabor: parameter 'theta' must be a finite real number of degrees; got nan
    """
    if not is_real(value):
        raise bad_type(func, param, value, what)
    value = float(value)
    if not math.isfinite(value):
        raise bad_value(func, param, value, what)
    return value


def positive(func: str, param: str, value, allow_zero: bool = False) -> float:
    """A finite real number ``> 0`` (or ``>= 0`` with ``allow_zero``), as a float.

    Examples
    --------
    >>> positive("gaussian", "sigma", 2)
    2.0
    >>> positive("heat_kernel", "t", -1, allow_zero=True)
    Traceback (most recent call last):
    ...
    ValueError: heat_kernel: parameter 't' must be a finite real number >= 0; got -1.0
    """
    allowed = f"a finite real number {'>=' if allow_zero else '>'} 0"
    if not is_real(value):
        raise bad_type(func, param, value, allowed)
    value = float(value)
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise bad_value(func, param, value, allowed)
    return value


def choice(func: str, param: str, value, options):
    """One of ``options`` (compared by type and value, so ``1`` never matches ``True``).

    A value of a type that no option has is a TypeError; a value of the right type
    that is not an option is a ValueError.

    Examples
    --------
    >>> choice("convolve", "mode", "same", ("full", "same", "valid"))
    'same'
    >>> choice("convolve", "mode", "circular", ("full", "same", "valid"))
    Traceback (most recent call last):
    ...
    ValueError: convolve: parameter 'mode' must be one of 'full', 'same', 'valid'; got 'circular'
    >>> choice("convolve", "mode", 5, ("full", "same", "valid"))
    Traceback (most recent call last):
    ...
    TypeError: convolve: parameter 'mode' must be one of 'full', 'same', 'valid'; got 5
    """
    for option in options:
        if type(value) is type(option) and value == option:
            return option
    allowed = "one of " + ", ".join(map(repr, options))
    if not any(type(value) is type(option) for option in options):
        raise bad_type(func, param, value, allowed)
    raise bad_value(func, param, value, allowed)


# -- pairs and shapes --------------------------------------------------------------

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


def size_pair(func: str, param: str, value, minimum=(1, 1)) -> tuple[int, int]:
    """An int or a pair of ints, each ``>=`` the matching entry of ``minimum``.

    Examples
    --------
    >>> size_pair("filter_spectrum", "size", 8, minimum=(3, 3))
    (8, 8)
    >>> size_pair("filter_spectrum", "size", (8, 2), minimum=(3, 3))
    Traceback (most recent call last):
    ...
    ValueError: filter_spectrum: parameter 'size' must be an int or a pair of ints at least (3, 3); got (8, 2)
    """
    allowed = f"an int or a pair of ints at least {tuple(int(m) for m in minimum)}"
    pair = parse_int_pair(value)
    if pair is None:
        raise bad_type(func, param, value, allowed)
    if pair[0] < minimum[0] or pair[1] < minimum[1]:
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


# -- arrays ------------------------------------------------------------------------

_STANDARD_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_STANDARD_COMPLEX = (np.dtype(np.complex64), np.dtype(np.complex128))


def _dtype_words(complex_: bool, integers: str, bools: bool, floats: str) -> str:
    """``'float32, float64 or an integer type'``: the accepted dtypes, in words."""
    words = ["float32", "float64"] if floats == "standard" else ["float"]
    if complex_:
        words += ["complex64", "complex128"] if floats == "standard" else ["complex"]
    if integers is not None:
        words.append("an integer type")
    if bools:
        words.append("bool")
    return ", ".join(words[:-1]) + " or " + words[-1] if len(words) > 1 else words[0]


def _ndim_words(ndim, min_ndim, max_ndim) -> str | None:
    if ndim is not None:
        return f"a {ndim}-d array"
    if max_ndim == min_ndim:
        return f"a {min_ndim}-d array"
    if max_ndim is None:
        plural = "dimension" if min_ndim == 1 else "dimensions"
        return f"an array with at least {min_ndim} {plural}"
    return f"an array with {min_ndim} to {max_ndim} dimensions"


#: What ``arrays_only`` accepts, in words.
_ARRAY_OBJECT = ("an array (a numpy.ndarray or an object exporting __array__, "
                 "__array_interface__ or __dlpack__, such as a CPU torch tensor)")

#: The attributes by which an object offers numpy its memory (zero-copy where it can).
_ARRAY_PROTOCOLS = ("__array__", "__array_interface__", "__array_struct__", "__dlpack__")


def is_array_object(value) -> bool:
    """Whether ``value`` is an array: an ndarray, or an object that exports its
    memory to numpy through ``__array__``, ``__array_interface__``,
    ``__array_struct__`` or (array-API objects) ``__dlpack__``.

    Nested sequences and Python scalars are not: ``conv2d`` refuses to guess
    a layout from a list.

    Examples
    --------
    >>> is_array_object(np.ones(2)), is_array_object([1.0, 2.0]), is_array_object(2.0)
    (True, False, False)
    """
    return isinstance(value, np.ndarray) or \
        any(hasattr(type(value), name) for name in _ARRAY_PROTOCOLS)


#: DLPack device types whose memory the CPU reads (kDLCPU, kDLCUDAHost, kDLROCMHost).
_DLPACK_HOST = (1, 3, 11)


def _off_cpu_device(value):
    """The device an array object lives on if that is not the CPU, else ``None``.

    Read from a ``device`` attribute with a ``type`` (torch's ``torch.device``:
    ``cuda:0``, ``meta``), else from ``__dlpack_device__()`` (array-API objects);
    an object that says neither is taken to be in host memory.
    """
    device = getattr(value, "device", None)
    kind = getattr(device, "type", None)
    if isinstance(kind, str):
        return None if kind == "cpu" else device
    if hasattr(type(value), "__dlpack_device__"):
        try:
            code, index = value.__dlpack_device__()
        except Exception:                # noqa: BLE001  (then numpy's own error speaks)
            return None
        return None if int(code) in _DLPACK_HOST else f"DLPack device type {code}:{index}"
    return None


def to_ndarray(func: str, param: str, value, noun: str = "an array") -> np.ndarray:
    """``value`` as an ndarray, sharing its memory whenever numpy can.

    One rule for every array argument of fftconv and analysis: an ndarray is
    returned as it is; an object exporting ``__array__``,
    ``__array_interface__`` or ``__array_struct__`` goes through
    :func:`numpy.asarray` (a CPU torch tensor becomes a view of its memory); an
    array-API object exporting only ``__dlpack__`` goes through
    :func:`numpy.from_dlpack` (also a view); anything else (lists, scalars)
    through :func:`numpy.asarray`. So an input is copied at most once, by the
    caller's dtype conversion, never by this function for an array object.

    Raises
    ------
    ValueError
        An array object on a device other than the CPU (``"fftconv runs on the
        CPU; got a tensor on cuda:0"``).
    TypeError
        Anything numpy cannot convert (ragged sequences, a torch tensor that
        requires grad: the message carries the converter's reason).

    Examples
    --------
    >>> a = np.ones(3)
    >>> to_ndarray("f", "x", a) is a
    True
    >>> to_ndarray("f", "x", memoryview(a)).base is not None    # a view, not a copy
    True
    """
    if isinstance(value, np.ndarray):
        return value
    device = _off_cpu_device(value)
    if device is not None:
        raise not_on_cpu(func, param, device)
    cls = type(value)
    try:
        if not any(hasattr(cls, name) for name in _ARRAY_PROTOCOLS[:3]) and \
                hasattr(cls, "__dlpack__"):
            return np.from_dlpack(value)
        return np.asarray(value)
    except (TypeError, ValueError, RuntimeError, BufferError) as exc:
        # ragged sequences; tensors numpy may not view (requires_grad, bfloat16)
        reason = str(exc).split("\n")[0]
        raise bad_type(func, param, value,
                       noun if not is_array_object(value) else f"{noun} numpy can convert "
                       f"({reason})") from exc


def as_array(func: str, param: str, value, *, complex: bool = False,
             integers: str | None = "float64", bools: bool = False, floats: str = "standard",
             ndim: int | None = None, min_ndim: int = 0, max_ndim: int | None = None,
             layout: str = "", finite: bool = False, arrays_only: bool = False,
             noun: str | None = None) -> np.ndarray:
    """Validate a numeric array argument and return it as an ndarray.

    Parameters
    ----------
    func, param : str
        The public function and its parameter, quoted in error messages.
    value : array_like
        The argument (an ``ndarray`` when ``arrays_only``).
    complex : bool
        Accept complex dtypes (else they are a TypeError).
    integers : {'float64', 'keep', None}
        Integer arrays are converted to float64 (``'float64'``, the computation
        dtype of conv2d and the analyses), returned unchanged (``'keep'``: the
        caller chooses its working dtype) or rejected (``None``).
    bools : bool
        Accept (and keep) boolean arrays.
    floats : {'standard', 'any'}
        ``'standard'``: only float32 and float64 (and complex64 / complex128) are
        accepted, so the computation dtype is one the engines support; ``'any'``:
        every floating (and complex) precision is kept as it is.
    ndim, min_ndim, max_ndim : int, optional
        Exactly ``ndim`` dimensions, or between ``min_ndim`` and ``max_ndim``.
    layout : str
        Names the axes in the ndim message, for example ``'(N, C, H, W)'``.
    finite : bool
        Reject NaN and infinities.
    arrays_only : bool
        Require an array object (:func:`is_array_object`: an ndarray or anything
        exporting one of numpy's array protocols, such as a CPU torch tensor), not
        a nested list or a scalar (conv2d's contract: no silent list conversion).
    noun : str, optional
        What the messages call an acceptable argument; by default ``'a real
        array_like'`` (``'a numeric array_like'`` with ``complex``, ``'an array'``
        with ``arrays_only``).

    Returns
    -------
    ndarray
        ``value`` itself (an ndarray) or a view of its memory (another array
        object, :func:`to_ndarray`) when its dtype is kept, so nothing is copied;
        else the one converted copy. Never the caller's type: a torch tensor
        comes back as an ndarray viewing the tensor's memory.

    Raises
    ------
    TypeError
        Not an array (ragged sequences included), or a dtype not allowed.
    ValueError
        Wrong number of dimensions, empty, or (with ``finite``) NaN or inf.

    Examples
    --------
    >>> as_array("f", "x", [1, 2]).dtype
    dtype('float64')
    >>> as_array("f", "x", np.ones(2, np.float16), floats="any").dtype
    dtype('float16')
    >>> as_array("f", "x", [1j])
    Traceback (most recent call last):
    ...
    TypeError: f: parameter 'x' must be a real array_like of dtype float32, float64 or an integer type; got [1j]
    >>> as_array("conv2d", "x", np.ones((2, 3)), ndim=4, layout="(N, C, H, W)", arrays_only=True)
    Traceback (most recent call last):
    ...
    ValueError: conv2d: parameter 'x' must be a 4-d array (N, C, H, W); got ndarray of shape (2, 3) and dtype float64
    >>> as_array("conv2d", "x", [[1.0]], arrays_only=True)
    Traceback (most recent call last):
    ...
    TypeError: conv2d: parameter 'x' must be an array (a numpy.ndarray or an object exporting __array__, __array_interface__ or __dlpack__, such as a CPU torch tensor); got [[1.0]]
    """
    if noun is None:
        noun = ("an array" if arrays_only else
                "a numeric array_like" if complex else "a real array_like")
    if arrays_only and not is_array_object(value):
        raise bad_type(func, param, value, _ARRAY_OBJECT)
    arr = to_ndarray(func, param, value, noun)
    kind = arr.dtype.kind
    if kind in "iu" and integers is not None:
        if integers == "float64":
            arr = arr.astype(np.float64)
    elif kind == "b" and bools:
        pass
    elif not (kind == "f" or (complex and kind == "c")) or \
            (floats == "standard" and arr.dtype not in _STANDARD_FLOATS + _STANDARD_COMPLEX):
        words = _dtype_words(complex, integers, bools, floats)
        raise bad_type(func, param, value, f"{noun} of dtype {words}")
    if arr.ndim < min_ndim or (max_ndim is not None and arr.ndim > max_ndim) or \
            (ndim is not None and arr.ndim != ndim):
        dims = _ndim_words(ndim, min_ndim, max_ndim)
        raise bad_value(func, param, arr, f"{dims} {layout}".rstrip())
    if arr.size == 0:
        raise bad_value(func, param, arr, "a non-empty array")
    if finite and not np.isfinite(arr).all():
        raise bad_value(func, param, arr, "an array of finite values (no NaN or inf)")
    return arr
