"""Uniform error messages for bad input.

Every user-facing check in fftconv (and in the ``analysis`` package) builds its
message here, so each text has one home and every message has the same shape::

    conv2d: parameter 'stride' must be a positive int or a pair of positive ints; got (0, 1)

The function name, the parameter, what is allowed and what was received are
always present. These helpers *return* the exception so the caller writes
``raise bad_value(...)`` and the traceback points at the caller.
"""

from __future__ import annotations

__all__ = ["bad_type", "bad_value", "not_on_cpu", "describe"]


def describe(value, limit: int = 80) -> str:
    """Short, unambiguous description of a received value for an error message.

    Arrays are described by type, shape and dtype instead of their contents.

    Examples
    --------
    >>> import numpy as np
    >>> describe(np.zeros((2, 3), np.float32))
    'ndarray of shape (2, 3) and dtype float32'
    >>> describe("same")
    "'same'"
    """
    if isinstance(value, type):                 # a class such as np.float16
        return f"type {value.__module__}.{value.__qualname__}"
    shape = getattr(value, "shape", None)
    dtype = getattr(value, "dtype", None)
    if isinstance(shape, tuple) and dtype is not None:
        return f"{type(value).__name__} of shape {tuple(shape)} and dtype {dtype}"
    text = repr(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    if not isinstance(value, (int, float, str, tuple, list, type(None))):
        text = f"{type(value).__name__} {text}"
    return text


def bad_type(func: str, param: str, value, allowed: str) -> TypeError:
    """TypeError for ``param`` of ``func``: it must be ``allowed``; ``value`` was given.

    Examples
    --------
    >>> bad_type("conv2d", "x", [1, 2], "a numpy.ndarray")
    TypeError("conv2d: parameter 'x' must be a numpy.ndarray; got [1, 2]")
    """
    return TypeError(f"{func}: parameter {param!r} must be {allowed}; got {describe(value)}")


def bad_value(func: str, param: str, value, allowed: str) -> ValueError:
    """ValueError for ``param`` of ``func``: it must be ``allowed``; ``value`` was given.

    Examples
    --------
    >>> bad_value("conv2d", "groups", 3, "a positive divisor of C_in=4 and C_out=8")
    ValueError("conv2d: parameter 'groups' must be a positive divisor of C_in=4 and C_out=8; got 3")
    """
    return ValueError(f"{func}: parameter {param!r} must be {allowed}; got {describe(value)}")


def not_on_cpu(func: str, param: str, device) -> ValueError:
    """ValueError for an array or tensor argument that lives on another device.

    Examples
    --------
    >>> not_on_cpu("fftconv.torch.conv2d", "input", "cuda:0")
    ValueError("fftconv.torch.conv2d: parameter 'input' must be on the CPU: fftconv runs on the CPU; got a tensor on cuda:0")
    """
    return ValueError(f"{func}: parameter {param!r} must be on the CPU: fftconv runs on the "
                      f"CPU; got a tensor on {device}")
