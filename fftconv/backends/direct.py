"""The direct backend: the literal definition (the test oracle) and a fast path.

Two implementations of the same sum live here::

    y[n, o, i, j] = Σ_{c, p, q} xp[n, g(o)·Cg + c, i·sh + p·dh, j·sw + q·dw] · w[o, c, p, q]

* :func:`conv2d_reference` and :func:`conv2d_backward_reference` loop over output
  positions and evaluate the sum window by window. They are written to be read and
  trusted, not to be fast; every other backend is tested against them.
* The registered ``direct`` backend loops only over the ``kh × kw`` kernel offsets
  ("shift and accumulate"): for each offset ``(p, q)`` the shifted, strided view of
  the input is one ``(C_in/g) × (N·OH·OW)`` matrix and the offset's weights one
  ``(C_out/g) × (C_in/g)`` matrix, so each offset costs one BLAS matrix product.
  Its gradients use the same offset loop (the adjoint scatter and the weight
  products), which is both exact and much faster than a zero-stuffed convolution.
"""

from __future__ import annotations

import numpy as np

from .._spec import ConvSpec
from . import register_backend
from ._parallel import blas_threads, one_blas_thread, run_parts, split_matmul
from .base import Backend, pad_input

__all__ = ["DirectBackend", "conv2d_reference", "conv2d_backward_reference"]


def _window(spec: ConvSpec, i: int, j: int) -> tuple[slice, slice]:
    """Rows and columns of the padded input read by output position ``(i, j)``."""
    (sh, sw), (dh, dw) = spec.stride, spec.dilation
    return (slice(i * sh, i * sh + spec.span_h, dh), slice(j * sw, j * sw + spec.span_w, dw))


def conv2d_reference(x: np.ndarray, w: np.ndarray, spec: ConvSpec) -> np.ndarray:
    """Cross-correlation straight from its definition, one output position at a time.

    Parameters
    ----------
    x : ndarray, shape (N, C_in, H, W)
    w : ndarray, shape (C_out, C_in/groups, kh, kw)
    spec : ConvSpec

    Returns
    -------
    y : ndarray, shape (N, C_out, OH, OW), in the dtype of ``x``.
    """
    xp = pad_input(x, spec.padding)
    cg, og = spec.c_in_per_group, spec.c_out_per_group
    y = np.zeros(spec.output_shape, dtype=x.dtype)
    for g in range(spec.groups):
        x_g, w_g = xp[:, g * cg:(g + 1) * cg], w[g * og:(g + 1) * og]
        for i in range(spec.out_h):
            for j in range(spec.out_w):
                rows, cols = _window(spec, i, j)
                window = x_g[:, :, rows, cols]                       # (N, Cg, kh, kw)
                y[:, g * og:(g + 1) * og, i, j] = np.tensordot(
                    window, w_g, axes=([1, 2, 3], [1, 2, 3]))
    return y


def conv2d_backward_reference(dy: np.ndarray, x: np.ndarray, w: np.ndarray,
                              spec: ConvSpec) -> tuple[np.ndarray, np.ndarray]:
    """Input and weight gradients straight from the definition (window by window).

    Each output position ``(i, j)`` scatters ``dy[:, :, i, j]·w`` back onto the input
    window it read and adds ``dy[:, :, i, j]·window`` to the weight gradient.

    Returns
    -------
    dx : ndarray, shape (N, C_in, H, W)
    dw : ndarray, shape (C_out, C_in/groups, kh, kw)
    """
    xp = pad_input(x, spec.padding)
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    cg, og = spec.c_in_per_group, spec.c_out_per_group
    for g in range(spec.groups):
        cs, os_ = slice(g * cg, (g + 1) * cg), slice(g * og, (g + 1) * og)
        for i in range(spec.out_h):
            for j in range(spec.out_w):
                rows, cols = _window(spec, i, j)
                d = dy[:, os_, i, j]                                  # (N, Og)
                dxp[:, cs, rows, cols] += np.tensordot(d, w[os_], axes=([1], [0]))
                dw[os_] += np.tensordot(d, xp[:, cs, rows, cols], axes=([0], [0]))
    (pt, _), (pl, _) = spec.padding
    return dxp[:, :, pt:pt + spec.h, pl:pl + spec.w], dw


def _offset_view(spec: ConvSpec, p: int, q: int) -> tuple[slice, slice]:
    """Rows and columns of the padded input that kernel tap ``(p, q)`` meets."""
    (sh, sw), (dh, dw) = spec.stride, spec.dilation
    return (slice(p * dh, p * dh + (spec.out_h - 1) * sh + 1, sh),
            slice(q * dw, q * dw + (spec.out_w - 1) * sw + 1, sw))


#: Multiply-adds from which the direct forward splits its kernel offsets across
#: threads (smaller layers run on the calling thread).
DIRECT_SPLIT_MIN_MACS = 1 << 25


def _pointwise(spec: ConvSpec) -> bool:
    """A 1×1 kernel at stride 1 without padding: every output is one input pixel's mix."""
    return (spec.kh, spec.kw, spec.stride) == (1, 1, (1, 1)) and \
        spec.padding == ((0, 0), (0, 0))


def _channel_major(a: np.ndarray, groups: int) -> np.ndarray:
    """View ``(N, C, H, W)`` as ``(g, C/g, N, H, W)`` (no copy)."""
    n, c, h, w = a.shape
    return a.reshape(n, groups, c // groups, h, w).transpose(1, 2, 0, 3, 4)


def _from_channel_major(acc: np.ndarray, spec_shape) -> np.ndarray:
    """``(g, C/g, N·H·W)`` accumulator back to a contiguous ``(N, C, H, W)``."""
    n, c, h, w = spec_shape
    return np.ascontiguousarray(acc.reshape(c, n, h, w).transpose(1, 0, 2, 3))


@register_backend
class DirectBackend(Backend):
    """Shift-and-accumulate: one BLAS product per kernel offset (``kh·kw`` in all)."""

    name = "direct"

    def forward(self, x, w, spec):
        g, cg, og = spec.groups, spec.c_in_per_group, spec.c_out_per_group
        if _pointwise(spec):
            # one offset reading every pixel: a product per image, already in
            # (N, C_out, H, W) order, without the channel-major round trip
            y = np.empty((spec.n, g, og, spec.h * spec.w), dtype=spec.dtype)
            threads = blas_threads() if spec.macs >= DIRECT_SPLIT_MIN_MACS else 1
            split_matmul(w.reshape(g, og, cg), x.reshape(spec.n, g, cg, spec.h * spec.w), y,
                         threads)
            return y.reshape(spec.output_shape)
        xg = _channel_major(pad_input(x, spec.padding), g)
        wg = w.reshape(g, og, cg, spec.kh, spec.kw)
        m = spec.n * spec.out_h * spec.out_w
        offsets = [(p, q) for p in range(spec.kh) for q in range(spec.kw)]

        def accumulate(part):
            """Σ over the offsets in ``part`` of one product each, ``(g, Og, M)``."""
            acc = np.empty((g, og, m), dtype=spec.dtype)
            term = np.empty_like(acc) if len(part) > 1 else None
            for i, (p, q) in enumerate(part):
                rows, cols = _offset_view(spec, p, q)
                shifted = xg[:, :, :, rows, cols].reshape(g, cg, m)
                out = acc if i == 0 else term      # the first offset writes, the rest add
                if cg == 1:  # depthwise: an outer product is cheaper than a K=1 GEMM
                    np.multiply(wg[:, :, :, p, q], shifted, out=out)
                else:
                    np.matmul(wg[:, :, :, p, q], shifted, out=out)
                if i:
                    acc += term
            return acc

        threads = min(blas_threads(), len(offsets)) if spec.macs >= DIRECT_SPLIT_MIN_MACS else 1
        # The offsets split across threads, each product on one BLAS thread: one
        # hand-off per call instead of a BLAS wake-up per offset (_parallel).
        with one_blas_thread():
            partial = run_parts(accumulate, [offsets[i::threads] for i in range(threads)])
        acc = partial[0]
        for more in partial[1:]:
            acc += more
        return _from_channel_major(acc, spec.output_shape)

    def grad_input(self, dy, w, spec):
        g, cg, og = spec.groups, spec.c_in_per_group, spec.c_out_per_group
        oh, ow = spec.out_h, spec.out_w
        dyg = np.ascontiguousarray(_channel_major(dy, g)).reshape(g, og, -1)
        wt = w.reshape(g, og, cg, spec.kh, spec.kw).transpose(0, 2, 1, 3, 4)  # (g, Cg, Og, ..)
        dxp = np.zeros((g, cg, spec.n, spec.padded_h, spec.padded_w), dtype=spec.dtype)
        for p in range(spec.kh):
            for q in range(spec.kw):
                rows, cols = _offset_view(spec, p, q)
                scatter = np.matmul(wt[:, :, :, p, q], dyg)             # (g, Cg, N·OH·OW)
                dxp[:, :, :, rows, cols] += scatter.reshape(g, cg, spec.n, oh, ow)
        (pt, _), (pl, _) = spec.padding
        dx = dxp[:, :, :, pt:pt + spec.h, pl:pl + spec.w]
        return _from_channel_major(dx.reshape(g, cg, -1), spec.input_shape)

    def grad_weight(self, dy, x, spec):
        g, cg, og = spec.groups, spec.c_in_per_group, spec.c_out_per_group
        xg = _channel_major(pad_input(x, spec.padding), g)
        dyg = np.ascontiguousarray(_channel_major(dy, g)).reshape(g, og, -1)
        dw = np.empty((g, og, cg, spec.kh, spec.kw), dtype=spec.dtype)
        m = dyg.shape[-1]
        for p in range(spec.kh):
            for q in range(spec.kw):
                rows, cols = _offset_view(spec, p, q)
                shifted = xg[:, :, :, rows, cols].reshape(g, cg, m)
                dw[:, :, :, p, q] = np.matmul(dyg, shifted.transpose(0, 2, 1))
        return dw.reshape(spec.weight_shape)
