"""The im2col backend: unfold the input into columns, then one GEMM per group.

For each image the receptive fields are laid out as the columns of a matrix
``cols`` of shape ``(g, Cg·kh·kw, OH·OW)`` (CS231n's "im2col"); the convolution is
then ``W_g @ cols_g`` with ``W_g`` the ``(C_out/g) × (Cg·kh·kw)`` weight matrix of
group ``g``. The unfolding loops over the ``kh × kw`` kernel offsets only (as in
Chainer's ``im2col``): each offset is one strided copy of the whole batch.

Gradients reuse the same matrices::

    dW_g = Σ_n dY_{n,g} @ cols_{n,g}ᵀ          dcols = W_gᵀ @ dY_{n,g}  →  col2im

where ``col2im`` scatter-adds the columns back onto the input (the adjoint of
``im2col``), again one strided add per kernel offset.

The column matrix holds ``kh·kw`` copies of the input, so its size is guarded: when
it would exceed :func:`fftconv.get_memory_budget` bytes (1 GiB by default; see
:func:`fftconv.set_memory_budget`) the batch is processed in chunks, and a single
image too large on its own is processed in bands of output rows.
"""

from __future__ import annotations

import numpy as np

from .._spec import ConvSpec
from . import register_backend
from ._parallel import split_matmul, threads_for
from .base import Backend, get_memory_budget, pad_input

__all__ = ["Im2colBackend", "im2col", "col2im"]

def _tap_slices(spec: ConvSpec, p: int, q: int, r0: int, r1: int) -> tuple[slice, slice]:
    """Padded-input rows/columns that tap ``(p, q)`` reads for output rows ``[r0, r1)``."""
    (sh, sw), (dh, dw) = spec.stride, spec.dilation
    top = p * dh + r0 * sh
    left = q * dw
    return (slice(top, top + (r1 - r0 - 1) * sh + 1, sh),
            slice(left, left + (spec.out_w - 1) * sw + 1, sw))


def im2col(xp: np.ndarray, spec: ConvSpec, r0: int = 0, r1: int | None = None) -> np.ndarray:
    """Unfold padded images into receptive-field columns.

    Parameters
    ----------
    xp : ndarray, shape (B, C_in, H + pad_top + pad_bottom, W + pad_left + pad_right)
        Padded input (any batch size ``B``).
    spec : ConvSpec
        Geometry (its batch size is ignored).
    r0, r1 : int
        Range of output rows to unfold (default: all ``OH``).

    Returns
    -------
    cols : ndarray, shape (B, g, Cg·kh·kw, (r1 - r0)·OW)
        ``cols[b, g, (c, p, q), (i, j)] = xp[b, g·Cg + c, (r0+i)·sh + p·dh, j·sw + q·dw]``.
    """
    r1 = spec.out_h if r1 is None else r1
    b, g, cg = xp.shape[0], spec.groups, spec.c_in_per_group
    xg = xp.reshape(b, g, cg, *xp.shape[2:])
    if spec.kh == spec.kw == 1:
        # a 1×1 kernel's columns are the input itself: a view (read-only use)
        # when the tap covers whole rows, as at stride 1 without padding
        rows, columns = _tap_slices(spec, 0, 0, r0, r1)
        return xg[:, :, :, rows, columns].reshape(b, g, cg, (r1 - r0) * spec.out_w)
    cols = np.empty((b, g, cg, spec.kh, spec.kw, r1 - r0, spec.out_w), dtype=xp.dtype)
    for p in range(spec.kh):
        for q in range(spec.kw):
            rows, columns = _tap_slices(spec, p, q, r0, r1)
            cols[:, :, :, p, q] = xg[:, :, :, rows, columns]
    return cols.reshape(b, g, cg * spec.kh * spec.kw, (r1 - r0) * spec.out_w)


def col2im(cols: np.ndarray, dxp: np.ndarray, spec: ConvSpec, r0: int = 0,
           r1: int | None = None) -> None:
    """Adjoint of :func:`im2col`: scatter-add ``cols`` onto ``dxp`` in place.

    ``cols`` has the layout returned by :func:`im2col` for output rows ``[r0, r1)``;
    ``dxp`` is the padded-input-shaped gradient buffer, shape ``(B, C_in, Hp, Wp)``.
    """
    r1 = spec.out_h if r1 is None else r1
    b, g, cg = dxp.shape[0], spec.groups, spec.c_in_per_group
    cols = cols.reshape(b, g, cg, spec.kh, spec.kw, r1 - r0, spec.out_w)
    dg = dxp.reshape(b, g, cg, *dxp.shape[2:])
    for p in range(spec.kh):
        for q in range(spec.kw):
            rows, columns = _tap_slices(spec, p, q, r0, r1)
            dg[:, :, :, rows, columns] += cols[:, :, :, p, q]


#: Multiply-adds from which im2col splits its products across threads.
IM2COL_SPLIT_MIN_MACS = 1 << 25


def _chunks(spec: ConvSpec):
    """Yield ``(n0, n1, r0, r1)`` blocks whose column matrix fits the memory budget."""
    row_bytes = spec.c_in * spec.kh * spec.kw * spec.out_w * spec.dtype.itemsize
    image_bytes = row_bytes * spec.out_h
    budget = get_memory_budget()
    if image_bytes <= budget:
        step = max(1, budget // image_bytes)
        for n0 in range(0, spec.n, step):
            yield n0, min(n0 + step, spec.n), 0, spec.out_h
    else:
        rows = max(1, budget // row_bytes)
        for n0 in range(spec.n):
            for r0 in range(0, spec.out_h, rows):
                yield n0, n0 + 1, r0, min(r0 + rows, spec.out_h)


@register_backend
class Im2colBackend(Backend):
    """im2col + GEMM (one matrix product per image and group, batched by numpy)."""

    name = "im2col"

    def _weight_matrix(self, w: np.ndarray, spec: ConvSpec) -> np.ndarray:
        return w.reshape(spec.groups, spec.c_out_per_group, -1)      # (g, Og, Cg·kh·kw)

    def forward(self, x, w, spec):
        xp = pad_input(x, spec.padding)
        wm = self._weight_matrix(w, spec)
        y = np.empty(spec.output_shape, dtype=spec.dtype)
        threads = threads_for(spec.macs, IM2COL_SPLIT_MIN_MACS)
        for n0, n1, r0, r1 in _chunks(spec):
            cols = im2col(xp[n0:n1], spec, r0, r1)
            shape = cols.shape[:2] + (spec.c_out_per_group, cols.shape[-1])  # (B, g, Og, rows·OW)
            whole_images = (r0, r1) == (0, spec.out_h)
            # whole images: the product lands in the output itself (a view), no copy
            block = y[n0:n1].reshape(shape) if whole_images else np.empty(shape, spec.dtype)
            # The product's columns split across threads, each on one BLAS thread
            # (no BLAS workers left spinning next to the other backends' threads).
            split_matmul(wm, cols, block, threads)
            if not whole_images:
                y[n0:n1, :, r0:r1] = block.reshape(n1 - n0, spec.c_out, r1 - r0, spec.out_w)
        return y

    # The gradients' products split across threads like the forward's, each on one
    # BLAS thread: a product on BLAS's own threads leaves its workers spinning
    # for ~100 ms afterwards (OpenBLAS 0.3.31 here), a core taken from what runs next.

    def grad_input(self, dy, w, spec):
        wt = self._weight_matrix(w, spec).transpose(0, 2, 1)         # (g, Cg·kh·kw, Og)
        dxp = np.zeros((spec.n, spec.c_in, spec.padded_h, spec.padded_w), dtype=spec.dtype)
        threads = threads_for(spec.macs, IM2COL_SPLIT_MIN_MACS)
        for n0, n1, r0, r1 in _chunks(spec):
            d = dy[n0:n1, :, r0:r1].reshape(n1 - n0, spec.groups, spec.c_out_per_group, -1)
            dcols = np.empty(d.shape[:2] + wt.shape[1:2] + d.shape[-1:], dtype=spec.dtype)
            col2im(split_matmul(wt, d, dcols, threads), dxp[n0:n1], spec, r0, r1)
        (pt, _), (pl, _) = spec.padding
        return np.ascontiguousarray(dxp[:, :, pt:pt + spec.h, pl:pl + spec.w])

    def grad_weight(self, dy, x, spec):
        xp = pad_input(x, spec.padding)
        dw = np.zeros((spec.groups, spec.c_out_per_group,
                       spec.c_in_per_group * spec.kh * spec.kw), dtype=spec.dtype)
        threads = threads_for(spec.macs, IM2COL_SPLIT_MIN_MACS)
        for n0, n1, r0, r1 in _chunks(spec):
            cols = im2col(xp[n0:n1], spec, r0, r1)
            d = dy[n0:n1, :, r0:r1].reshape(n1 - n0, spec.groups, spec.c_out_per_group, -1)
            per_image = np.empty(d.shape[:3] + cols.shape[2:3], dtype=spec.dtype)
            dw += split_matmul(d, cols.transpose(0, 1, 3, 2), per_image, threads).sum(axis=0)
        return dw.reshape(spec.weight_shape)
