"""Rank-generic computation for the 1-D and 3-D layers (``conv1d``, ``conv3d``).

The 2-D backends are tuned for ``conv2d`` (bands, blocks, tiles, threads); this
module holds what they run on the other ranks, written once over any number of
spatial axes so that no rank gets a copy of its own:

* **taps** (:func:`taps_forward`, :func:`taps_grad_input`, :func:`taps_grad_weight`):
  shift and accumulate, one BLAS product per kernel offset, as the direct
  backend does in 2-D; the gradients are the adjoint scatter and the per-offset
  weight products.
* **columns** (:func:`im2col_nd`, :func:`col2im_nd` and the ``columns_*``
  functions): the receptive fields of a chunk of images unfolded into one
  column matrix per group, then one GEMM per chunk (CS231n's im2col), chunked
  over the batch to stay within :func:`~fftconv.backends.base.get_memory_budget`.
* **spectra** (:class:`SpectralPlan` and the ``spectral_*`` functions): the
  convolution theorem over all spatial axes at once, untiled. The stride is
  removed by the same polyphase (space-to-depth) split as the 2-D FFT
  backend, dilation by zeros between the taps; a valid correlation needs a
  transform only as long as the (polyphase) input, since the circular wrap
  lands in outputs that are discarded (Mathieu, Henaff & LeCun 2013). Channels
  are reduced per frequency as a complex matrix product, and the backward
  reuses the forward's spectra: ``DX = DY·Wᵀ`` and ``DW = Σ_n Xᵀ·conj(DY)``.

Every function takes the arrays in ``spec.dtype`` and a validated
:class:`~fftconv._spec.ConvSpec` of any rank; they are tested against
``torch.nn.functional.conv1d/conv3d`` (tests/fftconv/test_conv_nd.py).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from .. import fftlib
from .._spec import ConvSpec
from ._parallel import add_up, even_slices, one_blas_thread, run_parts, threads_for
from .base import gemm_work, get_memory_budget, pad_input, tap_window

__all__ = ["offsets", "taps_forward", "taps_grad_input", "taps_grad_weight", "im2col_nd",
           "col2im_nd", "columns_forward", "columns_grad_input", "columns_grad_weight",
           "column_bytes_per_image", "SpectralPlan", "spectral_forward", "spectral_backward",
           "taps_features", "columns_features", "spectral_features", "cyclic_applies",
           "cyclic_forward", "cyclic_backward"]


def offsets(spec: ConvSpec) -> list:
    """Every kernel offset, one index per spatial axis, in C order."""
    return list(itertools.product(*(range(k) for k in spec.kernel)))


#: Multiply-adds from which the offset loops split the offsets across threads.
SPLIT_MIN_MACS = 1 << 25


def _dealt(spec: ConvSpec) -> list:
    """The offsets dealt round-robin to the threads a pass of ``spec`` gets."""
    every = offsets(spec)
    count = min(threads_for(spec.macs, SPLIT_MIN_MACS), len(every))
    return [every[i::count] for i in range(count)]


def _over_offsets(fn, spec: ConvSpec) -> list:
    """``fn(part)`` for each thread's part of the offsets, each product on one BLAS
    thread (many small products: waking BLAS's own threads for each costs more
    than it gives, and leaves them spinning next to ours)."""
    with one_blas_thread():
        return run_parts(fn, _dealt(spec))


def _every(spec: ConvSpec, window) -> tuple:
    """The index of ``window`` (spatial slices) on a ``(g, C/g, N, *spatial)`` array."""
    return (slice(None), slice(None), slice(None), *window)


def _channel_major(a: np.ndarray, groups: int) -> np.ndarray:
    """View ``(N, C, *spatial)`` as ``(g, C/g, N, *spatial)`` (no copy)."""
    n, c, *spatial = a.shape
    return np.moveaxis(a.reshape(n, groups, c // groups, *spatial), 0, 2)


def _tap_matrices(w: np.ndarray, spec: ConvSpec, transpose: bool = False) -> np.ndarray:
    """``(*kernel, g, C_out/g, C_in/g)`` (or ``(..., C_in/g, C_out/g)``): one
    contiguous matrix per kernel offset."""
    g, cg, og = spec.groups, spec.c_in_per_group, spec.c_out_per_group
    wg = w.reshape(g, og, cg, *spec.kernel)
    if transpose:
        wg = wg.swapaxes(1, 2)
    return np.ascontiguousarray(np.moveaxis(wg, (0, 1, 2), (-3, -2, -1)))


# -- shift and accumulate -----------------------------------------------------------

def taps_forward(x: np.ndarray, w: np.ndarray, spec: ConvSpec) -> np.ndarray:
    """``y = Σ_offsets W_offset @ shifted_offset(x)`` per group, any rank.

    Returns ``(N, C_out, *out)``.
    """
    g, cg, og = spec.groups, spec.c_in_per_group, spec.c_out_per_group
    xg = _channel_major(pad_input(x, spec.padding), g)
    taps = _tap_matrices(w, spec)
    m = spec.n * math.prod(spec.out_size)

    def part_sum(part):
        shifted = np.empty((g, cg, m), dtype=spec.dtype)
        acc = np.zeros((g, og, m), dtype=spec.dtype)
        term = np.empty_like(acc)
        for offset in part:
            np.copyto(shifted.reshape(g, cg, spec.n, *spec.out_size),
                      xg[_every(spec, tap_window(spec, offset))])
            if cg == 1:       # depthwise: an outer product is cheaper than a K=1 GEMM
                np.multiply(taps[offset], shifted, out=term)
            else:
                np.matmul(taps[offset], shifted, out=term)
            acc += term
        return acc
    y = add_up(_over_offsets(part_sum, spec)).reshape(spec.c_out, spec.n, *spec.out_size)
    return np.ascontiguousarray(np.moveaxis(y, 1, 0))


def taps_grad_input(dy: np.ndarray, w: np.ndarray, spec: ConvSpec) -> np.ndarray:
    """The adjoint of :func:`taps_forward`: each offset's ``Wᵀ @ dy`` added back onto
    the input positions it read. Returns ``(N, C_in, *size)``."""
    g, cg, og = spec.groups, spec.c_in_per_group, spec.c_out_per_group
    dyg = np.ascontiguousarray(_channel_major(dy, g)).reshape(g, og, -1)
    taps_t = _tap_matrices(w, spec, transpose=True)

    def scatter(part):
        dxp = np.zeros((g, cg, spec.n, *spec.padded_size), dtype=spec.dtype)
        for offset in part:
            dxp[_every(spec, tap_window(spec, offset))] += np.matmul(
                taps_t[offset], dyg).reshape(g, cg, spec.n, *spec.out_size)
        return dxp
    dxp = add_up(_over_offsets(scatter, spec))
    crop = tuple(slice(a, a + n) for (a, _), n in zip(spec.padding, spec.size))
    dx = dxp[_every(spec, crop)].reshape(spec.c_in, spec.n, *spec.size)
    return np.ascontiguousarray(np.moveaxis(dx, 1, 0))


def taps_grad_weight(dy: np.ndarray, x: np.ndarray, spec: ConvSpec) -> np.ndarray:
    """``dW_offset = dy @ shifted_offset(x)ᵀ`` per group. Returns ``(C_out, C_in/g, *k)``."""
    g, cg, og = spec.groups, spec.c_in_per_group, spec.c_out_per_group
    xg = _channel_major(pad_input(x, spec.padding), g)
    dyg = np.ascontiguousarray(_channel_major(dy, g)).reshape(g, og, -1)
    dw = np.empty((*spec.kernel, g, og, cg), dtype=spec.dtype)

    def products(part):
        for offset in part:
            shifted = xg[_every(spec, tap_window(spec, offset))].reshape(g, cg, -1)
            np.matmul(dyg, shifted.swapaxes(1, 2), out=dw[offset])
    _over_offsets(products, spec)
    dw = np.moveaxis(dw, (-3, -2, -1), (0, 1, 2))
    return np.ascontiguousarray(dw).reshape(spec.weight_shape)


def taps_features(spec: ConvSpec) -> dict:
    """The direct backend's cost features (GEMM work, bytes moved, one step per
    offset, one call) for any rank."""
    pixels = spec.n * math.prod(spec.out_size)
    return {"gemm": gemm_work(spec.macs, spec.c_in_per_group),
            "bytes": spec.taps * pixels * (2 * spec.c_in + 3 * spec.c_out) * spec.dtype.itemsize,
            "taps": spec.taps, "call": 1.0}


# -- im2col -------------------------------------------------------------------------

def _slab_window(spec: ConvSpec, offset, r0: int, r1: int) -> tuple:
    """:func:`~fftconv.backends.base.tap_window` for outputs ``[r0, r1)`` of the
    first spatial axis (and all of the others)."""
    window = tap_window(spec, offset)
    first = window[0]
    s = spec.stride[0]
    return (slice(first.start + r0 * s, first.start + (r1 - 1) * s + 1, s), *window[1:])


def im2col_nd(xp: np.ndarray, spec: ConvSpec, r0: int = 0, r1: int | None = None) -> np.ndarray:
    """Unfold padded images ``(B, C_in, *padded)`` into ``(B, g, C_in/g·prod(k), M)``
    for outputs ``[r0, r1)`` of the first spatial axis (default all; ``M`` the
    outputs of that slab): ``cols[b, g, (c, offset), i] = xp[b, g·C_in/g + c,
    offset·dilation + i·stride]``."""
    r1 = spec.out_size[0] if r1 is None else r1
    b, g, cg = xp.shape[0], spec.groups, spec.c_in_per_group
    xg = xp.reshape(b, g, cg, *xp.shape[2:])
    cols = np.empty((b, g, cg, spec.taps, r1 - r0, *spec.out_size[1:]), dtype=xp.dtype)
    for t, offset in enumerate(offsets(spec)):
        cols[:, :, :, t] = xg[_every(spec, _slab_window(spec, offset, r0, r1))]
    return cols.reshape(b, g, cg * spec.taps, -1)


def col2im_nd(cols: np.ndarray, dxp: np.ndarray, spec: ConvSpec, r0: int = 0,
              r1: int | None = None) -> None:
    """Adjoint of :func:`im2col_nd`: scatter-add ``cols`` onto ``dxp`` ``(B, C_in, *padded)``."""
    r1 = spec.out_size[0] if r1 is None else r1
    b, g, cg = dxp.shape[0], spec.groups, spec.c_in_per_group
    cols = cols.reshape(b, g, cg, spec.taps, r1 - r0, *spec.out_size[1:])
    dg = dxp.reshape(b, g, cg, *dxp.shape[2:])
    for t, offset in enumerate(offsets(spec)):
        dg[_every(spec, _slab_window(spec, offset, r0, r1))] += cols[:, :, :, t]


def column_bytes_per_image(spec: ConvSpec) -> int:
    """Bytes of one output entry of the first spatial axis of one image's column
    matrix (the smallest chunk im2col builds)."""
    return spec.c_in * spec.taps * math.prod(spec.out_size[1:]) * spec.dtype.itemsize


def _image_chunks(spec: ConvSpec):
    """Chunks ``(n0, n1, r0, r1)``: runs of whole images whose column matrix fits the
    memory budget, or slabs ``[r0, r1)`` of the first output axis of one image."""
    budget, slab = get_memory_budget(), max(1, column_bytes_per_image(spec))
    rows = spec.out_size[0]
    if slab * rows <= budget:
        step = max(1, budget // (slab * rows))
        for n0 in range(0, spec.n, step):
            yield n0, min(n0 + step, spec.n), 0, rows
    else:
        step = max(1, budget // slab)
        for n0 in range(spec.n):
            for r0 in range(0, rows, step):
                yield n0, n0 + 1, r0, min(r0 + step, rows)


def columns_forward(x: np.ndarray, w: np.ndarray, spec: ConvSpec) -> np.ndarray:
    """im2col then one GEMM per chunk of images. Returns ``(N, C_out, *out)``."""
    xp = pad_input(x, spec.padding)
    wm = w.reshape(spec.groups, spec.c_out_per_group, -1)
    rows, inner = spec.out_size[0], math.prod(spec.out_size[1:])
    y = np.empty((spec.n, spec.groups, spec.c_out_per_group, rows * inner), dtype=spec.dtype)
    for n0, n1, r0, r1 in _image_chunks(spec):
        np.matmul(wm, im2col_nd(xp[n0:n1], spec, r0, r1),
                  out=y[n0:n1, :, :, r0 * inner:r1 * inner])
    return y.reshape(spec.output_shape)


def columns_grad_input(dy: np.ndarray, w: np.ndarray, spec: ConvSpec) -> np.ndarray:
    """``dcols = Wᵀ @ dY`` then :func:`col2im_nd`, chunk by chunk."""
    wt = w.reshape(spec.groups, spec.c_out_per_group, -1).swapaxes(1, 2)
    dxp = np.zeros((spec.n, spec.c_in, *spec.padded_size), dtype=spec.dtype)
    for n0, n1, r0, r1 in _image_chunks(spec):
        d = dy[n0:n1, :, r0:r1].reshape(n1 - n0, spec.groups, spec.c_out_per_group, -1)
        col2im_nd(np.matmul(wt, d), dxp[n0:n1], spec, r0, r1)
    crop = tuple(slice(a, a + n) for (a, _), n in zip(spec.padding, spec.size))
    return np.ascontiguousarray(dxp[(slice(None), slice(None), *crop)])


def columns_grad_weight(dy: np.ndarray, x: np.ndarray, spec: ConvSpec) -> np.ndarray:
    """``dW_g = Σ_n dY_{n,g} @ cols_{n,g}ᵀ``, chunk by chunk."""
    xp = pad_input(x, spec.padding)
    dw = np.zeros((spec.groups, spec.c_out_per_group, spec.c_in_per_group * spec.taps),
                  dtype=spec.dtype)
    for n0, n1, r0, r1 in _image_chunks(spec):
        d = dy[n0:n1, :, r0:r1].reshape(n1 - n0, spec.groups, spec.c_out_per_group, -1)
        dw += np.matmul(d, im2col_nd(xp[n0:n1], spec, r0, r1).swapaxes(2, 3)).sum(axis=0)
    return dw.reshape(spec.weight_shape)


def columns_features(spec: ConvSpec) -> dict:
    """The im2col backend's cost features for any rank (GEMM work with inner size
    ``C_in/g·prod(k)``, the bytes of the columns and the output, one copy per
    offset and chunk, one call)."""
    pixels = spec.n * math.prod(spec.out_size)
    item = spec.dtype.itemsize
    columns = pixels * spec.c_in * spec.taps * item
    chunks = sum(1 for _ in _image_chunks(spec))
    return {"gemm": gemm_work(spec.macs, spec.c_in_per_group * spec.taps),
            "bytes": 2 * columns + pixels * spec.c_out * item,
            "taps": spec.taps * chunks, "call": 1.0}


# -- the convolution theorem, untiled -----------------------------------------------

def _space_to_depth(a: np.ndarray, stride) -> np.ndarray:
    """``(B, C, *(m·s)) → (B, C·prod(s), *m)``, phases after the channel (c-major)."""
    if all(s == 1 for s in stride):
        return a
    b, c, *spatial = a.shape
    d = len(stride)
    split = [v for m, s in zip(spatial, stride) for v in (m // s, s)]
    a = a.reshape(b, c, *split)
    order = (0, 1, *(3 + 2 * i for i in range(d)), *(2 + 2 * i for i in range(d)))
    return a.transpose(order).reshape(b, c * math.prod(stride), *(m // s for m, s in
                                                                   zip(spatial, stride)))


def _depth_to_space(a: np.ndarray, stride) -> np.ndarray:
    """Inverse of :func:`_space_to_depth`."""
    if all(s == 1 for s in stride):
        return a
    b, cs, *spatial = a.shape
    d = len(stride)
    a = a.reshape(b, cs // math.prod(stride), *stride, *spatial)
    order = (0, 1, *(v for i in range(d) for v in (2 + d + i, 2 + i)))
    return a.transpose(order).reshape(b, cs // math.prod(stride),
                                      *(m * s for m, s in zip(spatial, stride)))


@dataclass(frozen=True)
class SpectralPlan:
    """The stride-1 valid correlation a spec reduces to, and its transform lengths.

    Along each axis the padded input keeps ``rows = (out - 1 + kq)·s`` entries
    (a multiple of the stride ``s``), split into ``s`` phases of ``out - 1 + kq``
    against a polyphase kernel of ``kq = ceil(span / s)`` taps; the transform
    length is the next fast length of ``out - 1 + kq``.
    """

    spec: ConvSpec
    rows: tuple
    kq: tuple
    lengths: tuple

    @classmethod
    def of(cls, spec: ConvSpec) -> "SpectralPlan":
        kq = tuple(-(-span // s) for span, s in zip(spec.span, spec.stride))
        rows = tuple((o - 1 + k) * s for o, k, s in zip(spec.out_size, kq, spec.stride))
        lengths = tuple(fftlib.next_fast_len(r // s) for r, s in zip(rows, spec.stride))
        return cls(spec, rows, kq, lengths)

    @property
    def channels(self) -> int:
        return self.spec.c_in * math.prod(self.spec.stride)

    @property
    def axes(self) -> tuple:
        return tuple(range(-self.spec.rank, 0))

    @property
    def frequencies(self) -> int:
        return math.prod(self.lengths[:-1]) * (self.lengths[-1] // 2 + 1)

    def kept(self) -> tuple:
        """Per axis, how many input entries are inside the kept rows (after the
        padding before them)."""
        return tuple(max(0, min(n, r - a)) for n, r, (a, _) in
                     zip(self.spec.size, self.rows, self.spec.padding))


def _prepared_input(x: np.ndarray, plan: SpectralPlan) -> np.ndarray:
    """Zero-pad ``x`` to the kept rows and split it into stride phases."""
    spec = plan.spec
    xp = np.zeros((x.shape[0], spec.c_in, *plan.rows), dtype=spec.dtype)
    kept = plan.kept()
    xp[(slice(None), slice(None), *(slice(a, a + k) for (a, _), k in
                                    zip(spec.padding, kept)))] = \
        x[(slice(None), slice(None), *(slice(k) for k in kept))]
    return _space_to_depth(xp, spec.stride)


def _prepared_kernel(w: np.ndarray, plan: SpectralPlan) -> np.ndarray:
    """Dilate ``w`` (zeros between taps) and split it into stride phases."""
    spec = plan.spec
    k = np.zeros((spec.c_out, spec.c_in_per_group,
                  *(q * s for q, s in zip(plan.kq, spec.stride))), dtype=spec.dtype)
    k[(slice(None), slice(None), *(slice(0, span, d) for span, d in
                                   zip(spec.span, spec.dilation)))] = w
    return _space_to_depth(k, spec.stride)


def _padded_to(a: np.ndarray, lengths) -> np.ndarray:
    """``a`` ``(B, C, *spatial)`` zero-padded at the end of each spatial axis to
    ``lengths`` (the transform lengths), contiguous."""
    if a.shape[2:] == tuple(lengths) and a.flags.c_contiguous:
        return a
    # aligned, so that the FFT engine plans on it without a copy of its own
    out = fftlib.zeros_aligned(a.shape[:2] + tuple(lengths), a.dtype)
    out[(slice(None), slice(None), *(slice(n) for n in a.shape[2:]))] = a
    return out


def _half_shape(plan) -> tuple:
    return (*plan.lengths[:-1], plan.lengths[-1] // 2 + 1)


def _spectra(maps: np.ndarray, plan, groups: int, order: tuple) -> np.ndarray:
    """Real FFT of ``maps`` ``(A, B, *spatial)`` (zero-padded to the transform
    lengths), written straight into a frequency-major ``(F, g, ·, ·)`` layout:
    the transform writes any strides (FFTW), so no transposing copy of the
    spectra is made (a strided copy of every spectrum thrashes the cache).

    ``order`` names the layout: ``'image'`` for maps ``(B, C)`` giving
    ``(F, g, B, C/g)``; ``'kernel'`` for kernels ``(O, C/g)`` giving
    ``(F, g, C/g, O/g)`` (the transposed kernel the forward multiplies by).
    """
    a, b = maps.shape[:2]
    r = plan.spec.rank
    real = _padded_to(maps, plan.lengths)
    half = _half_shape(plan)
    dtype = np.result_type(real.dtype, np.complex64)
    freq = tuple(range(r))
    if order == "image":                       # (B, g, C/g, *spatial) → (*F, g, B, C/g)
        out = fftlib.empty_aligned((*half, groups, a, b // groups), dtype)
        view = out.transpose(r + 1, r, r + 2, *freq)
        fftlib.rfftn_into(real.reshape(a, groups, b // groups, *plan.lengths), view,
                          axes=plan.axes)
        return out.reshape(-1, groups, a, b // groups)
    out = fftlib.empty_aligned((*half, groups, b, a // groups), dtype)    # kernels
    view = out.transpose(r, r + 2, r + 1, *freq)                          # (g, O/g, C/g, *F)
    fftlib.rfftn_into(real.reshape(groups, a // groups, b, *plan.lengths), view,
                      axes=plan.axes)
    return out.reshape(-1, groups, b, a // groups)


def _inverse(matrices: np.ndarray, plan, order: str) -> np.ndarray:
    """Real inverse transforms of frequency-major ``(F, g, ·, ·)`` ``matrices``
    (consumed), read through a transposed view: ``'image'`` ``(F, g, B, C/g)`` →
    ``(B, C, *lengths)``; ``'kernel'`` ``(F, g, O/g, C/g)`` → ``(O, C/g, *lengths)``."""
    f, g, a, b = matrices.shape
    r = plan.spec.rank
    freq = tuple(range(r))
    spectra = matrices.reshape(*_half_shape(plan), g, a, b)
    real_dtype = np.finfo(matrices.dtype).dtype
    if order == "image":
        view = spectra.transpose(r + 1, r, r + 2, *freq)                  # (B, g, C/g, *F)
        out = fftlib.empty_aligned((a, g, b, *plan.lengths), real_dtype)
        return fftlib.irfftn_into(view, out, axes=plan.axes).reshape(a, g * b, *plan.lengths)
    view = spectra.transpose(r, r + 1, r + 2, *freq)                      # (g, O/g, C/g, *F)
    out = fftlib.empty_aligned((g, a, b, *plan.lengths), real_dtype)
    return fftlib.irfftn_into(view, out, axes=plan.axes).reshape(g * a, b, *plan.lengths)


#: Complex multiply-adds per frequency, and in all, from which the per-frequency
#: products split the frequencies across the FFT engine's threads.
THREADED_PRODUCT_MIN_MACS = 1024
THREADED_PRODUCT_MIN_TOTAL = 1 << 23


def _per_frequency(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` for ``(F, g, m, k) @ (F, g, k, n)``: many small products, on one BLAS
    thread each, the frequencies split across the FFT engine's threads when the
    products are large enough (as the 2-D FFT path does)."""
    f, g, m, k = a.shape
    out = np.empty((f, g, m, b.shape[-1]), np.result_type(a, b))
    threads = min(fftlib.get_fft_engine().threads, f)
    macs = g * m * k * b.shape[-1]
    with one_blas_thread():
        if threads < 2 or macs < THREADED_PRODUCT_MIN_MACS \
                or f * macs < THREADED_PRODUCT_MIN_TOTAL:
            return np.matmul(a, b, out=out)
        run_parts(lambda p: np.matmul(a[p], b[p], out=out[p]), even_slices(f, threads))
    return out


def spectral_forward(x: np.ndarray, w: np.ndarray, spec: ConvSpec,
                     save: bool = False) -> tuple:
    """``(y, saved)``: the forward by the convolution theorem, and (``save``) the
    plan and the input and kernel spectra the backward reuses."""
    plan = SpectralPlan.of(spec)
    g = spec.groups
    xs = _spectra(_prepared_input(x, plan), plan, g, "image")            # (F, g, N, Cq/g)
    kt = _spectra(_prepared_kernel(w, plan), plan, g, "kernel")          # (F, g, Cq/g, O/g)
    np.conjugate(kt, out=kt)                                             # conj(W)ᵀ
    maps = _inverse(_per_frequency(xs, kt), plan, "image")               # (N, O, *L)
    y = np.ascontiguousarray(maps[(slice(None), slice(None),
                                   *(slice(o) for o in spec.out_size))], dtype=spec.dtype)
    saved = {"nd_plan": plan, "input_spectra": xs, "kernel_spectra": kt} if save else {}
    return y, saved


def spectral_backward(dy, x, w, spec: ConvSpec, needs, saved=None) -> tuple:
    """``(dx, dw)`` from one transform of ``dy`` (module notes), reusing ``saved``."""
    saved = saved or {}
    plan = saved.get("nd_plan") or SpectralPlan.of(spec)
    g = spec.groups
    dys = _spectra(dy, plan, g, "image")                                 # (F, g, N, O/g)
    dx = dw = None
    if "input" in needs:
        kt = saved.get("kernel_spectra")                                 # conj(W)ᵀ
        if kt is None:
            kt = np.conjugate(_spectra(_prepared_kernel(w, plan), plan, g, "kernel"))
        ks = np.ascontiguousarray(np.conj(kt).swapaxes(-1, -2))          # (F, g, O/g, Cq/g)
        phases = _inverse(_per_frequency(dys, ks), plan, "image")        # (N, Cq, *L)
        dxp = _depth_to_space(phases[(slice(None), slice(None),
                                      *(slice(r // s) for r, s in
                                        zip(plan.rows, spec.stride)))], spec.stride)
        dx = np.zeros(spec.input_shape, dtype=spec.dtype)
        kept = plan.kept()
        dx[(slice(None), slice(None), *(slice(k) for k in kept))] = \
            dxp[(slice(None), slice(None), *(slice(a, a + k) for (a, _), k in
                                             zip(spec.padding, kept)))]
        # inputs no window reads get exactly zero (not the transforms' rounding)
        for axis, mask in enumerate(_covered(spec)):
            if not mask.all():
                shape = [1] * spec.rank
                shape[axis] = -1
                dx *= mask.reshape(shape)
    if "weight" in needs:
        xs = saved.get("input_spectra")
        if xs is None:
            xs = _spectra(_prepared_input(x, plan), plan, g, "image")
        dys_h = np.ascontiguousarray(np.conj(dys).swapaxes(-1, -2))      # (F, g, O/g, N)
        dws = _per_frequency(dys_h, xs)                                  # (F, g, O/g, Cq/g)
        taps = _inverse(dws, plan, "kernel")                             # (O, Cq/g, *L)
        kq = taps[(slice(None), slice(None), *(slice(k) for k in plan.kq))]
        full = _depth_to_space(np.ascontiguousarray(kq), spec.stride)   # (O, C/g, *kq·s)
        dw = np.ascontiguousarray(full[(slice(None), slice(None),
                                        *(slice(0, span, d) for span, d in
                                          zip(spec.span, spec.dilation)))], dtype=spec.dtype)
    return dx, dw


def _covered(spec: ConvSpec) -> list:
    """Per axis, a boolean mask of the input entries some window reads."""
    masks = []
    for n, o, s, d, k, (a, _) in zip(spec.size, spec.out_size, spec.stride, spec.dilation,
                                     spec.kernel, spec.padding):
        read = (np.arange(o)[:, None] * s + np.arange(k)[None, :] * d - a).ravel()
        mask = np.zeros(n, dtype=bool)
        mask[read[(read >= 0) & (read < n)]] = True
        masks.append(mask)
    return masks


def spectral_features(spec: ConvSpec) -> dict:
    """The FFT backend's cost features for the untiled transform of any rank: the
    map transforms (input, output and kernel maps) ``points·log₂ points`` each,
    the number of maps, the per-frequency complex GEMM flops and one call."""
    plan = SpectralPlan.of(spec)
    points = math.prod(plan.lengths)
    kernels = spec.c_out * plan.channels // spec.groups
    maps = spec.n * (plan.channels + spec.c_out) + kernels
    return {"fft": maps * points * math.log2(max(points, 2)), "maps": float(maps),
            "kernel_dft": 0.0,
            "cgemm_flops": 8.0 * plan.frequencies * spec.n * plan.channels * spec.c_out
            / spec.groups,
            "cgemm_calls": plan.frequencies * spec.groups, "call": 1.0}


# -- circular padding as a cyclic convolution -------------------------------------------

@dataclass(frozen=True)
class _Cyclic:
    """Transform lengths of a cyclic correlation: the input's own lengths."""

    spec: ConvSpec
    lengths: tuple

    @property
    def axes(self) -> tuple:
        return tuple(range(-self.spec.rank, 0))


def cyclic_applies(spec: ConvSpec) -> str | None:
    """``None`` when circular padding by ``spec.padding`` makes the layer an exact
    cyclic correlation of the unpadded input, else why not.

    With circular padding ``(a, b)`` along an axis of length ``n`` and stride 1,
    output ``i`` is ``c[(i − a) mod n]`` where ``c[j] = Σ_p x[(j + p·d) mod n]·w[p]``
    is the cyclic correlation of length ``n``; it holds for every output when the
    dilated kernel fits the axis (``d·(k − 1) + 1 <= n``) and there are at most
    ``n`` outputs (``a + b <= d·(k − 1)``; equality is ``'same'``). Then a
    transform of the input's own size replaces padding it.
    """
    if spec.stride != (1,) * spec.rank:
        return "the stride is not 1"
    for n, span, (a, b) in zip(spec.size, spec.span, spec.padding):
        if span > n:
            return f"the dilated kernel ({span}) is longer than an input axis ({n})"
        if a + b > span - 1:
            return f"the padding {(a, b)} gives more outputs than an input axis has ({n})"
    return None


def _roll_crop(c: np.ndarray, spec: ConvSpec) -> np.ndarray:
    """``y[i] = c[(i − a) mod n]`` for ``i < out`` along every spatial axis."""
    shifts = tuple(a for a, _ in spec.padding)
    rolled = np.roll(c, shifts, axis=tuple(range(2, 2 + spec.rank)))
    return rolled[(slice(None), slice(None), *(slice(o) for o in spec.out_size))]


def _unroll(dy: np.ndarray, spec: ConvSpec) -> np.ndarray:
    """The adjoint of :func:`_roll_crop`: ``dy`` zero-padded to the input's size and
    rolled back."""
    full = np.zeros(dy.shape[:2] + spec.size, dtype=dy.dtype)
    full[(slice(None), slice(None), *(slice(o) for o in spec.out_size))] = dy
    return np.roll(full, tuple(-a for a, _ in spec.padding), axis=tuple(range(2, 2 + spec.rank)))


def _cyclic_kernel(w: np.ndarray, spec: ConvSpec) -> np.ndarray:
    """The dilated kernel on the input's grid (zeros between and after the taps)."""
    k = np.zeros((spec.c_out, spec.c_in_per_group, *spec.size), dtype=spec.dtype)
    k[(slice(None), slice(None), *(slice(0, span, d) for span, d in
                                   zip(spec.span, spec.dilation)))] = w
    return k


def cyclic_forward(x: np.ndarray, w: np.ndarray, spec: ConvSpec, save: bool = False) -> tuple:
    """``(y, saved)``: the circularly padded layer of ``spec`` (``x`` unpadded; see
    :func:`cyclic_applies`) as one cyclic correlation of the input's own size."""
    plan = _Cyclic(spec, spec.size)
    g = spec.groups
    xs = _spectra(x, plan, g, "image")
    kt = _spectra(_cyclic_kernel(w, spec), plan, g, "kernel")
    np.conjugate(kt, out=kt)
    c = _inverse(_per_frequency(xs, kt), plan, "image")
    y = np.ascontiguousarray(_roll_crop(c, spec), dtype=spec.dtype)
    saved = {"cyclic_spec": spec, "input_spectra": xs, "kernel_spectra": kt} if save else {}
    return y, saved


def cyclic_backward(dy, x, w, spec: ConvSpec, needs, saved=None) -> tuple:
    """``(dx, dw)`` of :func:`cyclic_forward` (``dx`` of the unpadded input), reusing
    the spectra in ``saved``: ``DX = DC·W`` and ``DW = Σ_n Xᵀ·conj(DC)`` with ``dc``
    the output gradient rolled back onto the cyclic grid."""
    saved = saved or {}
    plan = _Cyclic(spec, spec.size)
    g = spec.groups
    dcs = _spectra(_unroll(dy, spec), plan, g, "image")
    dx = dw = None
    if "input" in needs:
        kt = saved.get("kernel_spectra")
        if kt is None:
            kt = np.conjugate(_spectra(_cyclic_kernel(w, spec), plan, g, "kernel"))
        ks = np.ascontiguousarray(np.conj(kt).swapaxes(-1, -2))
        dx = np.ascontiguousarray(_inverse(_per_frequency(dcs, ks), plan, "image"),
                                  dtype=spec.dtype)
    if "weight" in needs:
        xs = saved.get("input_spectra")
        if xs is None:
            xs = _spectra(x, plan, g, "image")
        dcs_h = np.ascontiguousarray(np.conj(dcs).swapaxes(-1, -2))
        full = _inverse(_per_frequency(dcs_h, xs), plan, "kernel")
        dw = np.ascontiguousarray(full[(slice(None), slice(None),
                                        *(slice(0, span, d) for span, d in
                                          zip(spec.span, spec.dilation)))], dtype=spec.dtype)
    return dx, dw
