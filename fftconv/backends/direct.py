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

  Every offset reads the shifted input and adds into the whole accumulator, so
  a large layer streams its working set through memory ``kh·kw`` times. Above
  :data:`DIRECT_BAND_MIN_BYTES` the forward therefore works in bands of output
  rows that fit in a core's cache (:data:`DIRECT_BAND_BYTES`), all offsets on
  one band before the next ("loop tiling"; Lam, Rothberg & Wolf, *The cache
  performance and optimizations of blocked algorithms*, ASPLOS 1991).
"""

from __future__ import annotations

import math

import numpy as np

from .._spec import ConvSpec
from . import _nd
from .registry import register_backend
from ._parallel import (add_up, one_blas_thread, row_block_count, row_blocks, run_parts,
                        shares, threads_for)
from .base import (POINTWISE_PATH, Backend, gemm_work, is_pointwise, pad_input, pointwise_forward,
                   tap_slices)

__all__ = ["DirectBackend", "conv2d_reference", "conv2d_backward_reference", "forward_steps"]


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


def _offsets(spec: ConvSpec) -> list:
    """The kernel offsets ``(p, q)``, row by row."""
    return [(p, q) for p in range(spec.kh) for q in range(spec.kw)]


#: Multiply-adds from which the direct forward splits its work across threads
#: (smaller layers run on the calling thread).
DIRECT_SPLIT_MIN_MACS = 1 << 25

#: Working set (shifted input, accumulator and product of every output pixel)
#: from which the forward runs in bands of output rows, and the working set of
#: one band: about a core's L2 cache. Below the first, the working set already
#: sits in the last-level cache, so banding would only add numpy calls per band.
DIRECT_BAND_MIN_BYTES = 4 << 20
DIRECT_BAND_BYTES = 1 << 20
#: The same for depthwise layers, whose products are one multiply per element:
#: there the numpy calls per band and offset weigh more against the little
#: arithmetic saved, so banding starts at a larger working set.
DIRECT_BAND_MIN_BYTES_DEPTHWISE = 16 << 20


def _column_bytes(spec: ConvSpec) -> int:
    """Working-set bytes per output pixel: its shifted input, accumulator and product."""
    return (spec.c_in + 2 * spec.c_out) * spec.dtype.itemsize


def _bands(spec: ConvSpec, threads: int) -> list:
    """Output bands ``(n0, n1, i0, i1)`` whose working set is at most about
    :data:`DIRECT_BAND_BYTES`, in a count that suits ``threads``
    (:func:`~fftconv.backends._parallel.row_blocks`)."""
    return row_blocks(spec.n, spec.out_h, _column_bytes(spec) * spec.out_w,
                      DIRECT_BAND_BYTES, threads)


def _dealt(offsets: list, threads: int) -> list:
    """``offsets`` dealt round-robin to ``threads`` parts (fewer when there are fewer
    offsets), so that each part spans the kernel's rows alike."""
    count = min(threads, len(offsets))
    return [offsets[i::count] for i in range(count)]


def _banded(spec: ConvSpec) -> bool:
    """Whether the forward runs in bands: its working set reaches
    :data:`DIRECT_BAND_MIN_BYTES` (:data:`DIRECT_BAND_MIN_BYTES_DEPTHWISE` for a
    depthwise layer)."""
    least = DIRECT_BAND_MIN_BYTES_DEPTHWISE if spec.c_in_per_group == 1 else \
        DIRECT_BAND_MIN_BYTES
    return spec.n * spec.out_h * spec.out_w * _column_bytes(spec) >= least


def _threads(spec: ConvSpec) -> int:
    """Threads for one pass over ``spec`` (1 below :data:`DIRECT_SPLIT_MIN_MACS`)."""
    return threads_for(spec.macs, DIRECT_SPLIT_MIN_MACS)


def forward_steps(spec: ConvSpec) -> int:
    """Products the forward computes, one per kernel offset and band of output rows.

    Each costs a few numpy calls beyond its arithmetic, which the cost model
    (:mod:`fftconv.select`) counts per step.

    Examples
    --------
    >>> import fftconv
    >>> forward_steps(fftconv.make_spec("s", (1, 3, 32, 32), (8, 3, 5, 5)))   # one band
    25
    """
    if is_pointwise(spec):
        return 1
    taps = spec.kh * spec.kw
    if not _banded(spec):
        return taps
    return taps * row_block_count(spec.n, spec.out_h, _column_bytes(spec) * spec.out_w,
                                  DIRECT_BAND_BYTES, _threads(spec))


def _accumulate(xg, taps, spec: ConvSpec, offsets, band, buffers) -> np.ndarray:
    """``Σ`` over ``offsets`` of one product each, for the outputs in ``band``.

    Parameters
    ----------
    xg : ndarray, shape (g, C_in/g, N, H + pads, W + pads)
        The padded input, channel-major.
    taps : ndarray, shape (kh, kw, g, C_out/g, C_in/g)
        The weights, one contiguous matrix per offset.
    offsets : list of (p, q)
    band : (n0, n1, i0, i1)
        Images and output rows to compute (:func:`_bands`).
    buffers : (ndarray, ndarray, ndarray)
        Flat scratch for the shifted input, the accumulator and one product,
        large enough for the band.

    Returns
    -------
    ndarray, shape (g, C_out/g, (n1 - n0)·(i1 - i0)·OW)
        A view of the accumulator buffer, columns in ``(n, i, j)`` order.
    """
    g, cg, og = spec.groups, spec.c_in_per_group, spec.c_out_per_group
    n0, n1, i0, i1 = band
    shape = (n1 - n0, i1 - i0, spec.out_w)
    m = shape[0] * shape[1] * shape[2]
    shifted, acc, term = (buf[:g * k * m].reshape(g, k, m)
                          for buf, k in zip(buffers, (cg, og, og)))
    for t, (p, q) in enumerate(offsets):
        rows, columns = tap_slices(spec, p, q, i0, i1)
        np.copyto(shifted.reshape(g, cg, *shape), xg[:, :, n0:n1, rows, columns])
        out = acc if t == 0 else term          # the first offset writes, the rest add
        if cg == 1:      # depthwise: an outer product is cheaper than a K=1 GEMM
            np.multiply(taps[p, q], shifted, out=out)
        else:
            np.matmul(taps[p, q], shifted, out=out)
        if t:
            acc += term
    return acc


def _band_buffers(spec: ConvSpec, columns: int) -> tuple:
    """Scratch for :func:`_accumulate` on bands of up to ``columns`` output pixels."""
    g, cg, og = spec.groups, spec.c_in_per_group, spec.c_out_per_group
    return tuple(np.empty(g * k * columns, dtype=spec.dtype) for k in (cg, og, og))


def _store_band(y: np.ndarray, acc: np.ndarray, band) -> None:
    """Write a band's accumulator ``(g, C_out/g, columns)`` into ``y`` ``(N, g, C_out/g, OH, OW)``."""
    n0, n1, i0, i1 = band
    g, og = acc.shape[:2]
    y[n0:n1, :, :, i0:i1] = acc.reshape(g, og, n1 - n0, i1 - i0, -1).transpose(2, 0, 1, 3, 4)


def _channel_major(a: np.ndarray, groups: int) -> np.ndarray:
    """View ``(N, C, H, W)`` as ``(g, C/g, N, H, W)`` (no copy)."""
    n, c, h, w = a.shape
    return a.reshape(n, groups, c // groups, h, w).transpose(1, 2, 0, 3, 4)


def _from_channel_major(acc: np.ndarray, spec_shape) -> np.ndarray:
    """``(g, C/g, N·H·W)`` accumulator back to a contiguous ``(N, C, H, W)``."""
    n, c, h, w = spec_shape
    return np.ascontiguousarray(acc.reshape(c, n, h, w).transpose(1, 0, 2, 3))


def _forward_by_offsets(xg, taps, spec: ConvSpec, y, threads: int) -> None:
    """The whole output at once, the offsets split across ``threads``, partial sums added
    (a working set that sits in cache as it is)."""
    offsets = _offsets(spec)
    whole = (0, spec.n, 0, spec.out_h)
    columns = spec.n * spec.out_h * spec.out_w
    partial = run_parts(lambda part: _accumulate(xg, taps, spec, part, whole,
                                                 _band_buffers(spec, columns)),
                        _dealt(offsets, threads))
    _store_band(y, add_up(partial), whole)


def _forward_by_bands(xg, taps, spec: ConvSpec, y, threads: int) -> None:
    """Band by band (:func:`_bands`), every offset on a band, the bands split across
    ``threads``."""
    offsets = _offsets(spec)
    bands = _bands(spec, threads)

    def run(part):
        largest = max((n1 - n0) * (i1 - i0) for n0, n1, i0, i1 in part)
        buffers = _band_buffers(spec, largest * spec.out_w)
        for band in part:
            _store_band(y, _accumulate(xg, taps, spec, offsets, band, buffers), band)
    run_parts(run, shares(bands, threads))


@register_backend
class DirectBackend(Backend):
    """Shift-and-accumulate: one BLAS product per kernel offset (``kh·kw`` in all)."""

    name = "direct"
    #: Fitted by ``fftconv calibrate --repeats 7`` on a 2-core x86-64 machine
    #: (pyFFTW engine, 2 threads); seconds per unit of each of :meth:`features`.
    shipped_constants = {
        "float32": {"bytes": 0, "call": 0.0001294, "gemm": 1.457e-11, "taps": 8.57e-08},
        "float64": {"bytes": 0, "call": 0.0001229, "gemm": 2.606e-11, "taps": 4.696e-07},
    }
    calibration_group = "blas"          # the same BLAS as im2col: one GEMM constant
    shared_features = ("gemm",)
    #: conv1d and conv3d run the rank-generic offset loop of :mod:`._nd`
    ranks = (1, 2, 3)

    def working_set(self, spec):
        """One band of a single output row: its shifted input, accumulator and product
        (on ranks other than 2, those of the whole output: one pass per offset)."""
        if is_pointwise(spec):
            return 0
        if spec.rank != 2:
            return _column_bytes(spec) * spec.n * math.prod(spec.out_size)
        return _column_bytes(spec) * spec.out_w

    def features(self, spec):
        """GEMM work with inner size ``C_in/g`` (:func:`~fftconv.backends.base.gemm_work`),
        the bytes of the shifted copies, one step per product (per kernel offset,
        and band of output rows when the layer runs in bands), one call."""
        if spec.rank != 2:
            return _nd.taps_features(spec)
        taps = spec.kh * spec.kw
        pixels = spec.n * spec.out_h * spec.out_w
        # per offset: the shifted input is read and copied (2), the product
        # written and added into the accumulator (3)
        return {"gemm": gemm_work(spec.macs, spec.c_in_per_group),
                "bytes": taps * pixels * (2 * spec.c_in + 3 * spec.c_out) * spec.dtype.itemsize,
                "taps": forward_steps(spec), "call": 1.0}

    def backward_features(self, spec):
        """Both gradients in the forward's units: per kernel offset one product
        for ``dx`` (inner size ``C_out/g``) scatter-added onto the input's
        gradient (read, add, write), and one for ``dw`` (inner size every output
        pixel) of the shifted input (read, copy); two calls. (Other ranks and
        pointwise layers: the seed formulas' two forwards.)"""
        if spec.rank != 2 or is_pointwise(spec):
            return super().backward_features(spec)
        taps = spec.kh * spec.kw
        pixels = spec.n * spec.out_h * spec.out_w
        return {"gemm": gemm_work(spec.macs, spec.c_out_per_group)
                + gemm_work(spec.macs, pixels),
                "bytes": taps * pixels * (5 * spec.c_in + 2 * spec.c_out) * spec.dtype.itemsize,
                "taps": 2.0 * taps, "call": 2.0}

    def forward_path(self, spec):
        return POINTWISE_PATH if is_pointwise(spec) else self.name

    def forward(self, x, w, spec):
        g, cg, og = spec.groups, spec.c_in_per_group, spec.c_out_per_group
        if is_pointwise(spec):
            # one offset reading every pixel: a product per image, already in
            # (N, C_out, H, W) order, without the channel-major round trip
            return pointwise_forward(x, w, spec)
        if spec.rank != 2:
            return _nd.taps_forward(x, w, spec)
        xg = _channel_major(pad_input(x, spec.padding), g)
        taps = np.ascontiguousarray(
            w.reshape(g, og, cg, spec.kh, spec.kw).transpose(3, 4, 0, 1, 2))
        y = np.empty((spec.n, g, og, spec.out_h, spec.out_w), dtype=spec.dtype)
        threads = _threads(spec)
        # Threads get whole pieces, each product on one BLAS thread: one hand-off
        # per call instead of a BLAS wake-up per offset (_parallel).
        with one_blas_thread():
            if _banded(spec):
                _forward_by_bands(xg, taps, spec, y, threads)
            else:
                _forward_by_offsets(xg, taps, spec, y, threads)
        return y.reshape(spec.output_shape)

    def grad_input(self, dy, w, spec):
        if spec.rank != 2:
            return _nd.taps_grad_input(dy, w, spec)
        g, cg, og = spec.groups, spec.c_in_per_group, spec.c_out_per_group
        oh, ow = spec.out_h, spec.out_w
        dyg = np.ascontiguousarray(_channel_major(dy, g)).reshape(g, og, -1)
        wt = np.ascontiguousarray(                                   # (kh, kw, g, Cg, Og)
            w.reshape(g, og, cg, spec.kh, spec.kw).transpose(3, 4, 0, 2, 1))
        offsets = _offsets(spec)

        def scatter(part):
            """The offsets in ``part`` scatter-added onto a zeroed padded gradient."""
            dxp = np.zeros((g, cg, spec.n, spec.padded_h, spec.padded_w), dtype=spec.dtype)
            for p, q in part:
                rows, cols = tap_slices(spec, p, q)
                dxp[:, :, :, rows, cols] += np.matmul(wt[p, q], dyg).reshape(
                    g, cg, spec.n, oh, ow)
            return dxp
        # the offsets split across threads as in the forward, each with its own
        # gradient buffer, the buffers added at the end
        with one_blas_thread():
            partial = run_parts(scatter, _dealt(offsets, _threads(spec)))
        dxp = add_up(partial)
        (pt, _), (pl, _) = spec.padding
        dx = dxp[:, :, :, pt:pt + spec.h, pl:pl + spec.w]
        return _from_channel_major(dx.reshape(g, cg, -1), spec.input_shape)

    def grad_weight(self, dy, x, spec):
        if spec.rank != 2:
            return _nd.taps_grad_weight(dy, x, spec)
        g, cg, og = spec.groups, spec.c_in_per_group, spec.c_out_per_group
        xg = _channel_major(pad_input(x, spec.padding), g)
        dyg = np.ascontiguousarray(_channel_major(dy, g)).reshape(g, og, -1)
        dw = np.empty((spec.kh, spec.kw, g, og, cg), dtype=spec.dtype)
        m = dyg.shape[-1]
        offsets = _offsets(spec)

        def products(part):
            """``dw`` at the offsets in ``part``: one product each, written in place."""
            for p, q in part:
                rows, cols = tap_slices(spec, p, q)
                shifted = xg[:, :, :, rows, cols].reshape(g, cg, m)
                np.matmul(dyg, shifted.transpose(0, 2, 1), out=dw[p, q])
        with one_blas_thread():
            run_parts(products, _dealt(offsets, _threads(spec)))
        return np.ascontiguousarray(dw.transpose(2, 3, 4, 0, 1)).reshape(spec.weight_shape)
