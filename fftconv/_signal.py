"""N-d signal convolution (scipy.signal conventions): validation, direct and FFT methods.

``convolve(a, b)`` is the true convolution ``Σ_k a[k] b[n - k]`` over the chosen
axes; the other axes broadcast (each must be equal in both inputs or 1 in one of
them). Output sizes per convolved axis, with ``A = a.shape[ax]``, ``B = b.shape[ax]``:

* ``'full'``: ``A + B - 1``;
* ``'same'``: ``A``, centred in the full result (it starts at ``(A + B - 1 - A) // 2``,
  as in ``scipy.signal``);
* ``'valid'``: ``max(A, B) - min(A, B) + 1``, the positions where one input lies
  entirely inside the other (every axis must agree on which input is larger).

Correlation is convolution with the reversed, conjugated second input.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.fft

from ._spec import _is_int as is_int
from .errors import bad_type, bad_value

MODES = ("full", "same", "valid")
METHODS = ("auto", "direct", "fft")


def as_signal_array(func: str, param: str, value) -> np.ndarray:
    """Array-like → ndarray of dtype float32/64 or complex64/128 (integers → float64)."""
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:       # ragged sequences and the like
        raise bad_type(func, param, value, "a numeric array_like") from exc
    kind = arr.dtype.kind
    if kind in "iu":
        arr = arr.astype(np.float64)
    elif arr.dtype not in (np.float32, np.float64, np.complex64, np.complex128):
        raise bad_type(func, param, value,
                       "a numeric array_like of float, complex or integer dtype")
    if arr.size == 0:
        raise bad_value(func, param, arr, "a non-empty array")
    return arr


def normalize_axes(func: str, axes, ndim: int) -> tuple[int, ...]:
    """``None`` → every axis; ints (negative allowed) → sorted, distinct, in range."""
    if axes is None:
        return tuple(range(ndim))
    if is_int(axes):
        items = [int(axes)]
    elif isinstance(axes, (tuple, list)) and all(map(is_int, axes)):
        items = [int(a) for a in axes]
    else:
        raise bad_type(func, "axes", axes, "None, an int or a sequence of ints")
    out = []
    for a in items:
        if not -ndim <= a < ndim:
            raise bad_value(func, "axes", axes, f"axes in range [-{ndim}, {ndim})")
        out.append(a % ndim)
    if len(set(out)) != len(out) or not out:
        raise bad_value(func, "axes", axes, "a non-empty sequence of distinct axes")
    return tuple(sorted(out))


def check_signal_args(func: str, a, b, mode: str, axes, method: str):
    """Validate everything once; return ``(a, b, axes)`` ready for the computation."""
    a = as_signal_array(func, "a", a)
    b = as_signal_array(func, "b", b)
    if not isinstance(mode, str) or mode not in MODES:
        raise bad_value(func, "mode", mode, "one of 'full', 'same', 'valid'")
    if not isinstance(method, str) or method not in METHODS:
        raise bad_value(func, "method", method, "one of 'auto', 'direct', 'fft'")
    if a.ndim != b.ndim:
        raise bad_value(func, "b", b, f"an array with a.ndim = {a.ndim} dimensions")
    axes = normalize_axes(func, axes, a.ndim)
    for ax in range(a.ndim):
        if ax not in axes and a.shape[ax] != b.shape[ax] and 1 not in (a.shape[ax], b.shape[ax]):
            raise bad_value(func, "b", b,
                            f"of size {a.shape[ax]} or 1 along the non-convolved axis {ax} "
                            f"(a has shape {a.shape})")
    if mode == "valid":
        a_larger = all(a.shape[ax] >= b.shape[ax] for ax in axes)
        b_larger = all(b.shape[ax] >= a.shape[ax] for ax in axes)
        if not (a_larger or b_larger):
            raise bad_value(func, "b", b,
                            f"no larger than a {a.shape} along every convolved axis, or no "
                            "smaller along every one, for mode='valid'")
    return a, b, axes


def full_shape(a_shape, b_shape, axes) -> tuple[int, ...]:
    return tuple(sa + sb - 1 if ax in axes else max(sa, sb)
                 for ax, (sa, sb) in enumerate(zip(a_shape, b_shape)))


def crop_to_mode(full: np.ndarray, a_shape, b_shape, axes, mode: str) -> np.ndarray:
    """Cut the ``'same'`` or ``'valid'`` part out of a full convolution."""
    if mode == "full":
        return full
    index = []
    for ax in range(full.ndim):
        if ax not in axes:
            index.append(slice(None))
            continue
        sa, sb = a_shape[ax], b_shape[ax]
        size = sa if mode == "same" else max(sa, sb) - min(sa, sb) + 1
        start = (full.shape[ax] - size) // 2 if mode == "same" else min(sa, sb) - 1
        index.append(slice(start, start + size))
    return full[tuple(index)]


def direct_full(a: np.ndarray, b: np.ndarray, axes) -> np.ndarray:
    """Full convolution by shift-and-accumulate over the smaller input's taps."""
    if math.prod(b.shape[ax] for ax in axes) > math.prod(a.shape[ax] for ax in axes):
        a, b = b, a
    out = np.zeros(full_shape(a.shape, b.shape, axes), dtype=np.result_type(a, b))
    for tap in np.ndindex(*(b.shape[ax] for ax in axes)):
        target, weight = [], [slice(None)] * b.ndim
        shift = dict(zip(axes, tap))
        for ax in range(a.ndim):
            if ax in shift:
                target.append(slice(shift[ax], shift[ax] + a.shape[ax]))
                weight[ax] = slice(shift[ax], shift[ax] + 1)
            else:
                target.append(slice(None))
        out[tuple(target)] += a * b[tuple(weight)]
    return out


def fft_full(a: np.ndarray, b: np.ndarray, axes) -> np.ndarray:
    """Full convolution by the convolution theorem at fast transform lengths."""
    shape = full_shape(a.shape, b.shape, axes)
    complex_input = np.iscomplexobj(a) or np.iscomplexobj(b)
    fast = [scipy.fft.next_fast_len(shape[ax], real=not complex_input) for ax in axes]
    if complex_input:
        spec = scipy.fft.fftn(a, fast, axes=axes) * scipy.fft.fftn(b, fast, axes=axes)
        out = scipy.fft.ifftn(spec, fast, axes=axes)
    else:
        spec = scipy.fft.rfftn(a, fast, axes=axes) * scipy.fft.rfftn(b, fast, axes=axes)
        out = scipy.fft.irfftn(spec, fast, axes=axes)
    out = out[tuple(slice(0, shape[ax]) if ax in axes else slice(None)
                    for ax in range(out.ndim))]
    return out.astype(np.result_type(a, b), copy=False)


def choose_method(a: np.ndarray, b: np.ndarray, axes) -> str:
    """'direct' or 'fft' by estimated time (taps × array passes vs. three transforms)."""
    taps = min(math.prod(a.shape[ax] for ax in axes), math.prod(b.shape[ax] for ax in axes))
    full = math.prod(full_shape(a.shape, b.shape, axes))
    direct_s = taps * (3e-6 + full * 1.5e-9)
    fft_s = 3e-5 + 3 * full * max(math.log2(full), 1.0) * 1.2e-9
    return "direct" if direct_s <= fft_s else "fft"
