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

from . import fftlib

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


def _block_plan(signal: int, kernel: int) -> tuple[int, int, int]:
    """``(block, transform, nblocks)`` of overlap-add along one axis.

    Blocks of ``block = T - K + 1`` samples of the signal are transformed at length
    ``T`` (a fast length, at least ``2K - 1`` so a block's tail spills into the next
    block only); ``T`` minimizes ``nblocks · T · log₂T``. A single block (``T`` the
    fast length of the full output) is the plain FFT convolution.
    """
    single = fftlib.next_fast_len(signal + kernel - 1)
    best = (single, single, 1)
    best_cost = single * math.log2(max(single, 2))
    t = fftlib.next_fast_len(2 * kernel - 1)
    while t < single:
        block = t - kernel + 1
        nblocks = -(-signal // block)
        cost = nblocks * t * math.log2(t) * 1.05      # a little per-block overhead
        if cost < best_cost:
            best, best_cost = (block, t, nblocks), cost
        t = fftlib.next_fast_len(t + 1)
    return best


def _split_blocks(a: np.ndarray, axis: int, block: int, transform: int, nblocks: int):
    """Replace ``axis`` by ``(nblocks, transform)``: zero-padded blocks of ``block``."""
    pad = [(0, 0)] * a.ndim
    pad[axis] = (0, nblocks * block - a.shape[axis])
    a = np.pad(a, pad) if pad[axis][1] else a
    a = a.reshape(a.shape[:axis] + (nblocks, block) + a.shape[axis + 1:])
    if transform > block:
        pad = [(0, 0)] * a.ndim
        pad[axis + 1] = (0, transform - block)
        a = np.pad(a, pad)
    return a


def _fold_blocks(y: np.ndarray, axis: int, block: int, nblocks: int, length: int):
    """Overlap-add ``(..., nblocks, T, ...)`` at ``axis`` back to ``length`` samples."""
    transform = y.shape[axis + 1]
    shape = y.shape[:axis] + ((nblocks + 1) * block,) + y.shape[axis + 2:]
    out = np.zeros(shape, dtype=y.dtype)
    view = out.reshape(y.shape[:axis] + (nblocks + 1, block) + y.shape[axis + 2:])
    lead = (slice(None),) * axis
    view[lead + (slice(0, nblocks), slice(0, min(block, transform)))] += \
        y[lead + (slice(None), slice(0, min(block, transform)))]
    if transform > block:
        view[lead + (slice(1, nblocks + 1), slice(0, transform - block))] += \
            y[lead + (slice(None), slice(block, transform))]
    return out[lead + (slice(0, length),)]


def fft_full(a: np.ndarray, b: np.ndarray, axes) -> np.ndarray:
    """Full convolution by the convolution theorem, overlap-add where it pays.

    The larger input is cut into blocks along each convolved axis where that is
    cheaper (a long signal and a short kernel, like ``scipy.signal.oaconvolve``).
    The block axes are moved in front, so all blocks form one batch of transforms
    over trailing axes (the fastest layout for FFTW), multiplied by the kernel's
    spectrum, inverted and overlap-added. Real inputs use real transforms.
    """
    if math.prod(b.shape[ax] for ax in axes) > math.prod(a.shape[ax] for ax in axes):
        a, b = b, a
    out_shape = full_shape(a.shape, b.shape, axes)
    dtype = np.result_type(a, b)
    plans = {ax: _block_plan(a.shape[ax], b.shape[ax]) for ax in axes}
    # Each convolved axis becomes (blocks, transform); walk from the last axis so
    # the positions of the earlier ones stay valid.
    sig, ker = a, b
    for ax in sorted(axes, reverse=True):
        block, transform, nblocks = plans[ax]
        sig = _split_blocks(sig, ax, block, transform, nblocks)
        ker = _split_blocks(ker, ax, transform, transform, 1)
    # Block axis of convolved axis ax sits at ax + (number of convolved axes before ax).
    block_axes = [ax + i for i, ax in enumerate(sorted(axes))]
    rest = [d for d in range(sig.ndim) if d not in block_axes]
    order = block_axes + rest
    sig = np.ascontiguousarray(sig.transpose(order))
    ker = ker.transpose(order)
    k = len(block_axes)
    fft_axes = [k + rest.index(ax + 1) for ax in block_axes]
    sizes = [sig.shape[ax] for ax in fft_axes]
    if np.iscomplexobj(sig) or np.iscomplexobj(ker):
        y = fftlib.ifftn(fftlib.fftn(sig, fft_axes) * fftlib.fftn(ker, fft_axes), fft_axes)
    else:
        y = fftlib.irfftn(fftlib.rfftn(sig, fft_axes) * fftlib.rfftn(ker, fft_axes),
                          sizes, fft_axes)
    y = y.transpose(np.argsort(order))                    # back to (..., blocks, T, ...)
    for ax in sorted(axes, reverse=True):
        pos = ax + sum(1 for other in axes if other < ax)
        block, _, nblocks = plans[ax]
        y = _fold_blocks(y, pos, block, nblocks, out_shape[ax])
    return y.astype(dtype, copy=False)


def choose_method(a: np.ndarray, b: np.ndarray, axes) -> str:
    """'direct' or 'fft' by estimated time (taps × array passes vs. three transforms)."""
    taps = min(math.prod(a.shape[ax] for ax in axes), math.prod(b.shape[ax] for ax in axes))
    full = math.prod(full_shape(a.shape, b.shape, axes))
    direct_s = taps * (3e-6 + full * 1.5e-9)
    fft_s = 3e-5 + 3 * full * max(math.log2(full), 1.0) * 1.2e-9
    return "direct" if direct_s <= fft_s else "fft"
