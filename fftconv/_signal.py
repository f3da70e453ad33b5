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

import itertools
import math

import numpy as np

from . import fftlib

from .checks import as_array, is_int
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
    a = as_array(func, "a", a, complex=True)
    b = as_array(func, "b", b, complex=True)
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


#: Cache size beyond which a transform's points cost more (this machine: 1 MiB L2).
CACHE_BYTES = 1 << 20


def _block_plan(signal: int, kernel: int, ndim: int = 1) -> tuple[int, int, int]:
    """``(block, transform, nblocks)`` of overlap-add along one axis.

    Blocks of ``block = T - K + 1`` samples of the signal are transformed at length
    ``T`` (a fast length, at least ``2K - 1`` so a block's tail spills into the
    next block only); ``T`` minimizes ``nblocks · T · log₂T`` times a cache factor
    ``1 + ¼·log₂(spectrum bytes / CACHE_BYTES)`` for ``ndim``-dimensional
    transforms whose complex spectrum outgrows the cache (measured: a 576² block is
    slower per point than a 320² one here). A single block (``T`` the fast length
    of the full output) is the plain FFT convolution.
    """
    def cost(t, nblocks):
        spill = max(0.0, math.log2(t ** ndim * 8 / CACHE_BYTES))
        return nblocks * t * math.log2(max(t, 2)) * (1 + 0.25 * spill)

    single = fftlib.next_fast_len(signal + kernel - 1)
    best, best_cost = (single, single, 1), cost(single, 1)
    for t in fftlib.fast_lengths(2 * kernel - 1, single - 1):
        block = t - kernel + 1
        nblocks = -(-signal // block)
        c = cost(t, nblocks) * 1.05                     # a little per-block overhead
        if c < best_cost:
            best, best_cost = (block, t, nblocks), c
    block, t, nblocks = best
    # The same blocks, evened out: the signal often divides exactly then (1024 =
    # 4 × 256 rather than 4 × 258), which saves padding it first. A tail must
    # still spill into the next block only.
    even = -(-signal // nblocks)
    return (even, t, nblocks) if nblocks > 1 and t <= 2 * even else best


def _blocked(a: np.ndarray, axes, blocks, transform, nblocks, other) -> np.ndarray:
    """``a`` cut into zero-padded blocks, laid out ``(blocks..., other..., transform...)``.

    Along convolved axis ``axes[i]`` the array is cut into ``nblocks[i]`` pieces of
    ``blocks[i]`` samples, each placed at the start of a ``transform[i]``-long slot;
    ``other`` are the remaining axes, in order. Two passes over the data.
    """
    padded_shape = list(a.shape)
    for ax, b, n in zip(axes, blocks, nblocks):
        padded_shape[ax] = b * n
    if tuple(padded_shape) != a.shape:
        padded = np.zeros(padded_shape, dtype=a.dtype)
        padded[tuple(slice(0, s) for s in a.shape)] = a
    else:
        padded = a
    # (..., n_i, b_i, ...) view, then move blocks first and samples last.
    split = []
    for ax in range(a.ndim):
        split += [nblocks[axes.index(ax)], blocks[axes.index(ax)]] if ax in axes \
            else [a.shape[ax]]
    view = padded.reshape(split)
    pos, block_pos, sample_pos, other_pos = 0, [], [], []
    for ax in range(a.ndim):
        if ax in axes:
            block_pos.append(pos)
            sample_pos.append(pos + 1)
            pos += 2
        else:
            other_pos.append(pos)
            pos += 1
    view = view.transpose(block_pos + other_pos + sample_pos)
    out = fftlib.zeros_aligned(tuple(nblocks) + tuple(a.shape[ax] for ax in other)
                               + tuple(transform), a.dtype)
    out[(Ellipsis,) + tuple(slice(0, b) for b in blocks)] = view
    return out


def _overlap_add(y: np.ndarray, blocks, nblocks, out: np.ndarray) -> None:
    """Add blocks ``(blocks..., other..., T...)`` into ``out`` ``(other..., L...)``.

    Block ``j`` along an axis starts at sample ``j·block``; its ``T`` samples
    spill into the next block's range only (``T ≤ 2·block`` unless there is a
    single block). All ``2^d`` parts are added with one vectorized add each.
    ``out`` must hold at least ``max((nblocks + 1)·block, T)`` samples per axis.
    """
    d = len(blocks)
    other = y.shape[d:y.ndim - d]
    span = [(n + 1) * b for n, b in zip(nblocks, blocks)]
    transform = y.shape[y.ndim - d:]
    k = len(other)
    for parts in itertools.product((0, 1), repeat=d):
        src_index = [slice(None)] * y.ndim
        dst_index = [slice(None)] * k
        view_shape = list(other)
        valid = True
        for i, (part, b, n, t) in enumerate(zip(parts, blocks, nblocks, transform)):
            lo, hi = (0, min(b, t)) if part == 0 else (b, t)
            if hi <= lo:
                valid = False
                break
            src_index[y.ndim - d + i] = slice(lo, hi)
            view_shape += [n + 1, b]
            dst_index += [slice(part, part + n), slice(0, hi - lo)]
        if not valid:
            continue
        # out viewed as (other..., n_0 + 1, b_0, ...): block j, offset u ↔ sample j·b + u
        target = out[(Ellipsis,) + tuple(slice(0, s) for s in span)].reshape(view_shape)
        src = y[tuple(src_index)]
        order = list(range(d, d + k))
        for i in range(d):
            order += [i, d + k + i]
        target[tuple(dst_index)] += src.transpose(order)


#: Bytes of blocked signal processed at once: small enough that the blocks, their
#: spectra and the inverse stay in cache between the stages (one pass over memory).
STREAM_BYTES = 4 << 20


def fft_full(a: np.ndarray, b: np.ndarray, axes) -> np.ndarray:
    """Full convolution by the convolution theorem, overlap-add where it pays.

    The larger input is cut into blocks along each convolved axis where that is
    cheaper (a long signal and a short kernel, like ``scipy.signal.oaconvolve``),
    laid out ``(blocks..., other axes..., samples...)`` so that blocks form
    batches of transforms over trailing axes (the fastest layout for FFTW). The
    kernel is transformed once; the signal is streamed through in rows of blocks
    (:data:`STREAM_BYTES` at a time), each transformed, multiplied in place,
    inverted and overlap-added straight into the output, so the intermediate
    arrays stay in cache and memory sees little more than the input and output.
    Real inputs use real transforms.
    """
    if math.prod(b.shape[ax] for ax in axes) > math.prod(a.shape[ax] for ax in axes):
        a, b = b, a
    axes = list(axes)
    other = [ax for ax in range(a.ndim) if ax not in axes]
    plans = [_block_plan(a.shape[ax], b.shape[ax], len(axes)) for ax in axes]
    blocks = [p[0] for p in plans]
    transform = [p[1] for p in plans]
    nblocks = [p[2] for p in plans]
    complex_input = np.iscomplexobj(a) or np.iscomplexobj(b)
    d = len(axes)

    def forward(blocks_, axes_):
        if complex_input:
            return fftlib.fftn(blocks_, axes_)
        half = blocks_.shape[:-1] + (blocks_.shape[-1] // 2 + 1,)
        return fftlib.rfftn_into(blocks_, fftlib.empty_aligned(
            half, np.result_type(blocks_.dtype, np.complex64)), axes_)

    fft_axes = list(range(-d, 0))
    kernel_spectrum = forward(_blocked(b, axes, transform, transform, [1] * d, other), fft_axes)
    dtype = np.result_type(a, b)
    other_shape = np.broadcast_shapes(tuple(a.shape[ax] for ax in other),
                                      tuple(b.shape[ax] for ax in other))
    out = np.zeros(other_shape + tuple(max((n + 1) * bl, t)
                                       for n, bl, t in zip(nblocks, blocks, transform)),
                   dtype=dtype)
    # rows of blocks along the first convolved axis per step
    row_bytes = (math.prod(nblocks[1:]) * math.prod(other_shape) * math.prod(transform)
                 * np.dtype(dtype).itemsize)
    rows = max(1, STREAM_BYTES // max(row_bytes, 1))
    first, b0 = axes[0], blocks[0]
    for j0 in range(0, nblocks[0], rows):
        n = min(rows, nblocks[0] - j0)
        part = a[(slice(None),) * first + (slice(j0 * b0, (j0 + n) * b0),)]
        sig = _blocked(part, axes, blocks, transform, [n] + nblocks[1:], other)
        spectrum = forward(sig, fft_axes)
        if np.broadcast_shapes(spectrum.shape, kernel_spectrum.shape) == spectrum.shape:
            spectrum *= kernel_spectrum              # in place: one pass fewer
        else:                                        # the kernel broadcasts up an axis
            spectrum = spectrum * kernel_spectrum
        if complex_input:
            y = fftlib.ifftn(spectrum, fft_axes)
        else:                                        # the spectrum is scratch now
            y = fftlib.irfftn_into(spectrum, fftlib.empty_aligned(
                spectrum.shape[:-d] + tuple(transform), np.finfo(spectrum.dtype).dtype),
                fft_axes)
        start = j0 * b0
        target = out[(slice(None),) * len(other_shape)
                     + (slice(start, start + max((n + 1) * b0, transform[0])),)]
        _overlap_add(y, blocks, [n] + nblocks[1:], target)
    lengths = [a.shape[ax] + b.shape[ax] - 1 for ax in axes]
    full = out[(Ellipsis,) + tuple(slice(0, length) for length in lengths)]
    # back to the original axis order
    return np.moveaxis(full, list(range(len(other_shape), full.ndim)), axes)


def choose_method(a: np.ndarray, b: np.ndarray, axes) -> str:
    """'direct' or 'fft' by estimated time (taps × array passes vs. three transforms)."""
    taps = min(math.prod(a.shape[ax] for ax in axes), math.prod(b.shape[ax] for ax in axes))
    full = math.prod(full_shape(a.shape, b.shape, axes))
    direct_s = taps * (3e-6 + full * 1.5e-9)
    fft_s = 3e-5 + 3 * full * max(math.log2(full), 1.0) * 1.2e-9
    return "direct" if direct_s <= fft_s else "fft"
