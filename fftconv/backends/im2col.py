"""The im2col backend: unfold the input into columns, then one GEMM per group.

For each image the receptive fields are laid out as the columns of a matrix
``cols`` of shape ``(g, Cg·kh·kw, OH·OW)`` (CS231n's "im2col"); the convolution is
then ``W_g @ cols_g`` with ``W_g`` the ``(C_out/g) × (Cg·kh·kw)`` weight matrix of
group ``g``. The unfolding loops over the ``kh × kw`` kernel offsets only (as in
Chainer's ``im2col``): each offset is one strided copy per block (below).

Gradients reuse the same matrices::

    dW_g = Σ_n dY_{n,g} @ cols_{n,g}ᵀ          dcols = W_gᵀ @ dY_{n,g}  →  col2im

where ``col2im`` scatter-adds the columns back onto the input (the adjoint of
``im2col``), again one strided add per kernel offset.

The column matrix holds ``kh·kw`` copies of the input, far more than a cache
holds, so the forward never builds it whole: it unfolds and multiplies a block
of images or output rows at a time, each block's columns a few MB
(:data:`IM2COL_BLOCK_BYTES`), so that the product reads them from cache, and
the blocks split across threads (loop tiling, as in the direct backend's bands).
The gradients work in the same blocks: ``grad_weight`` unfolds a block and
adds its product into a sum per thread; ``grad_input`` multiplies a block and
adds its columns back onto the input, each thread into the images no other
thread touches, and into a private copy of an image whose rows two threads
share (the bands of one image overlap on the input by the kernel's height). No
block exceeds :func:`fftconv.get_memory_budget` bytes over the threads (1 GiB by
default; see :func:`fftconv.set_memory_budget`). A pointwise layer (1×1 kernel,
stride 1, no padding) is its own column matrix: its forward is the product alone
(:func:`~fftconv.backends.base.pointwise_forward`, shared with the direct backend).
"""

from __future__ import annotations

import numpy as np

from .._spec import ConvSpec
from . import _nd
from .registry import register_backend
from ._parallel import (add_up, one_blas_thread, row_block_count, row_blocks, run_parts,
                        shares, threads_for)
from .base import (POINTWISE_PATH, Backend, gemm_work, get_memory_budget, is_pointwise, pad_input,
                   pointwise_forward, tap_slices)

__all__ = ["Im2colBackend", "im2col", "col2im", "forward_steps"]


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
        rows, columns = tap_slices(spec, 0, 0, r0, r1)
        return xg[:, :, :, rows, columns].reshape(b, g, cg, (r1 - r0) * spec.out_w)
    cols = np.empty((b, g, cg, spec.kh, spec.kw, r1 - r0, spec.out_w), dtype=xp.dtype)
    for p in range(spec.kh):
        for q in range(spec.kw):
            rows, columns = tap_slices(spec, p, q, r0, r1)
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
            rows, columns = tap_slices(spec, p, q, r0, r1)
            dg[:, :, :, rows, columns] += cols[:, :, :, p, q]


#: Multiply-adds from which im2col splits its work across threads.
IM2COL_SPLIT_MIN_MACS = 1 << 25

#: The forward unfolds and multiplies a block of images or output rows at a time,
#: its column matrix about this size (a core's L2 cache and a share of the
#: last-level cache), so that the columns are still in cache when the product
#: reads them, and the blocks split across threads. ``fftconv bench`` and the asv
#: suite measure what it buys against one column matrix of the whole batch.
IM2COL_BLOCK_BYTES = 4 << 20
#: ... but large enough that each kernel offset's copy into the block moves this
#: much: with many offsets (961 for a 31×31 kernel) a small block makes every
#: copy tiny, and the numpy call per copy then outweighs the cache it saves.
IM2COL_MIN_COPY_BYTES = 64 << 10
#: Blocks that would be larger than this (a last-level cache) gain nothing from
#: the cache: such a layer (31×31 kernels, say) is cut into one block per thread
#: instead, the same work in the fewest numpy calls.
IM2COL_BLOCK_MAX_BYTES = 32 << 20


def _row_bytes(spec: ConvSpec) -> int:
    """Bytes of column matrix per output row (of one image)."""
    return spec.c_in * spec.kh * spec.kw * spec.out_w * spec.dtype.itemsize


def _block_geometry(spec: ConvSpec) -> tuple:
    """``(n, rows, row_bytes, block_bytes, threads)`` of :func:`_blocks`.

    Each block holds :data:`IM2COL_BLOCK_BYTES` of columns, or more to give every
    offset's copy :data:`IM2COL_MIN_COPY_BYTES`; one per thread if that is more
    than :data:`IM2COL_BLOCK_MAX_BYTES`; and within the memory budget
    (:func:`fftconv.get_memory_budget`) with a block per thread alive.
    """
    threads = threads_for(spec.macs, IM2COL_SPLIT_MIN_MACS)
    wanted = max(IM2COL_BLOCK_BYTES, spec.kh * spec.kw * IM2COL_MIN_COPY_BYTES)
    if wanted > IM2COL_BLOCK_MAX_BYTES:
        wanted = -(-_row_bytes(spec) * spec.out_h * spec.n // threads)
    block_bytes = min(wanted, max(1, get_memory_budget() // threads))
    return spec.n, spec.out_h, _row_bytes(spec), block_bytes, threads


def _blocks(spec: ConvSpec) -> list:
    """Blocks ``(n0, n1, r0, r1)`` of images and output rows, the unit of work of
    the forward and of both gradients (:func:`~fftconv.backends._parallel.row_blocks`
    over :func:`_block_geometry`)."""
    return row_blocks(*_block_geometry(spec))


def _thread_parts(spec: ConvSpec) -> list:
    """:func:`_blocks` in one run of consecutive blocks per thread."""
    return shares(_blocks(spec), threads_for(spec.macs, IM2COL_SPLIT_MIN_MACS))


def forward_steps(spec: ConvSpec) -> int:
    """Strided copies the forward makes, one per kernel offset and block of rows.

    Each costs a numpy call beyond the bytes it moves, which the cost model
    (:mod:`fftconv.select`) counts per step.

    Examples
    --------
    >>> import fftconv
    >>> forward_steps(fftconv.make_spec("s", (1, 3, 32, 32), (8, 3, 5, 5)))   # one block
    25
    """
    if is_pointwise(spec):
        return 0
    return spec.kh * spec.kw * row_block_count(*_block_geometry(spec))


@register_backend
class Im2colBackend(Backend):
    """im2col + GEMM (one matrix product per image and group, batched by numpy)."""

    name = "im2col"
    #: Fitted by ``fftconv calibrate --repeats 7`` on a 2-core x86-64 machine
    #: (pyFFTW engine, 2 threads); seconds per unit of each of :meth:`features`.
    shipped_constants = {
        "float32": {"bytes": 2.796e-11, "call": 3.164e-05, "gemm": 1.457e-11, "taps": 2.152e-06},
        "float64": {"bytes": 2.856e-11, "call": 2.612e-05, "gemm": 2.606e-11, "taps": 2.663e-06},
    }
    # The same BLAS as direct: one GEMM constant. The bytes are not alike (the
    # column gather is a strided copy, direct's shifts contiguous adds), so
    # each keeps its own byte constant.
    calibration_group = "blas"
    shared_features = ("gemm",)
    #: conv1d and conv3d unfold with the rank-generic :func:`._nd.im2col_nd`
    ranks = (1, 2, 3)

    def working_set(self, spec):
        """The column matrix of one output row (the smallest block; one image's on
        ranks other than 2)."""
        if is_pointwise(spec):
            return 0
        return _row_bytes(spec) if spec.rank == 2 else _nd.column_bytes_per_image(spec)

    def features(self, spec):
        """GEMM work with inner size ``C_in/g·kh·kw``, the bytes of the column
        matrix and the output, one step per copy (kernel offset and block of
        rows), one call."""
        if spec.rank != 2:
            return _nd.columns_features(spec)
        pixels = spec.n * spec.out_h * spec.out_w
        item = spec.dtype.itemsize
        # the columns are written by the copies and read by the product (2), a
        # block at a time, so from cache; the output is written once, in place (1)
        columns = 0 if is_pointwise(spec) else pixels * spec.c_in * spec.kh * spec.kw * item
        return {"gemm": gemm_work(spec.macs, spec.c_in_per_group * spec.kh * spec.kw),
                "bytes": 2 * columns + pixels * spec.c_out * item,
                "taps": forward_steps(spec), "call": 1.0}

    def backward_features(self, spec):
        """Both gradients in the forward's units: ``dcols = Wᵀ dY`` (inner size
        ``C_out/g``) and ``dW = dY colsᵀ`` (inner size a block's pixels), the
        column matrix written and read twice (unfolded again for ``dW``,
        scatter-added back by ``col2im`` for ``dx``), a copy per offset and block
        in each, two calls. (Other ranks and pointwise layers: the seed
        formulas' two forwards.)"""
        if spec.rank != 2 or is_pointwise(spec):
            return super().backward_features(spec)
        fwd = self.features(spec)
        blocks = max(row_block_count(*_block_geometry(spec)), 1)
        pixels = spec.n * spec.out_h * spec.out_w
        return {"gemm": gemm_work(spec.macs, spec.c_out_per_group)
                + gemm_work(spec.macs, max(pixels / blocks, 1.0)),
                "bytes": 2.0 * fwd["bytes"], "taps": 2.0 * fwd["taps"], "call": 2.0}

    def _weight_matrix(self, w: np.ndarray, spec: ConvSpec) -> np.ndarray:
        return w.reshape(spec.groups, spec.c_out_per_group, -1)      # (g, Og, Cg·kh·kw)

    def forward_path(self, spec):
        return POINTWISE_PATH if is_pointwise(spec) else self.name

    def forward(self, x, w, spec):
        if is_pointwise(spec):
            return pointwise_forward(x, w, spec)     # the input is its own column matrix
        if spec.rank != 2:
            return _nd.columns_forward(x, w, spec)
        xp = pad_input(x, spec.padding)
        wm = self._weight_matrix(w, spec)
        ow = spec.out_w
        # (N, g, Og, OH·OW): a block's product lands in its own columns, in place
        y = np.empty((spec.n, spec.groups, spec.c_out_per_group, spec.out_h * ow),
                     dtype=spec.dtype)

        def run(part):
            for n0, n1, r0, r1 in part:
                np.matmul(wm, im2col(xp[n0:n1], spec, r0, r1),
                          out=y[n0:n1, :, :, r0 * ow:r1 * ow])
        # Threads take whole blocks, unfolding and multiplying them on one BLAS
        # thread each (no BLAS workers left spinning next to other threads).
        with one_blas_thread():
            run_parts(run, _thread_parts(spec))
        return y.reshape(spec.output_shape)

    # The gradients work in the forward's blocks, split across threads the same
    # way, each thread on one BLAS thread: a product on BLAS's own threads leaves
    # its workers spinning for a while afterwards, a core taken from what runs
    # next.

    def grad_input(self, dy, w, spec):
        if spec.rank != 2:
            return _nd.columns_grad_input(dy, w, spec)
        wt = self._weight_matrix(w, spec).transpose(0, 2, 1)         # (g, Cg·kh·kw, Og)
        dxp = np.zeros((spec.n, spec.c_in, spec.padded_h, spec.padded_w), dtype=spec.dtype)
        parts = _thread_parts(spec)
        shared = _shared_images(parts)

        def run(part):
            # An image whose rows two threads share gets a private buffer in each
            # (col2im adds into rows that neighbouring bands overlap); the rest
            # are added straight into dxp, which no other thread touches there.
            private = {}
            for n0, n1, r0, r1 in part:
                d = dy[n0:n1, :, r0:r1].reshape(n1 - n0, spec.groups, spec.c_out_per_group, -1)
                if n0 in shared:              # a block of rows of this one image
                    target = private.setdefault(n0, np.zeros((1,) + dxp.shape[1:], dxp.dtype))
                else:
                    target = dxp[n0:n1]
                col2im(np.matmul(wt, d), target, spec, r0, r1)
            return private
        with one_blas_thread():
            privates = run_parts(run, parts)
        for private in privates:
            for n, image in private.items():
                dxp[n:n + 1] += image
        (pt, _), (pl, _) = spec.padding
        return np.ascontiguousarray(dxp[:, :, pt:pt + spec.h, pl:pl + spec.w])

    def grad_weight(self, dy, x, spec):
        if spec.rank != 2:
            return _nd.columns_grad_weight(dy, x, spec)
        xp = pad_input(x, spec.padding)
        parts = _thread_parts(spec)

        def run(part):
            # dW_g = Σ over the blocks of this thread of dY_g @ cols_gᵀ
            dw = np.zeros((spec.groups, spec.c_out_per_group,
                           spec.c_in_per_group * spec.kh * spec.kw), dtype=spec.dtype)
            for n0, n1, r0, r1 in part:
                cols = im2col(xp[n0:n1], spec, r0, r1)
                d = dy[n0:n1, :, r0:r1].reshape(n1 - n0, spec.groups, spec.c_out_per_group, -1)
                dw += np.matmul(d, cols.transpose(0, 1, 3, 2)).sum(axis=0)
            return dw
        with one_blas_thread():
            partial = run_parts(run, parts)
        return add_up(partial).reshape(spec.weight_shape)


def _shared_images(parts: list) -> set:
    """Images whose output rows fall in more than one of ``parts`` (runs of blocks)."""
    seen, shared = {}, set()
    for index, part in enumerate(parts):
        for n0, n1, _, _ in part:
            for n in range(n0, n1):
                if seen.setdefault(n, index) != index:
                    shared.add(n)
    return shared
