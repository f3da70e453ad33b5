"""The im2col backend: unfold the input into columns, then one GEMM per block and group.

The receptive fields are laid out as the columns of a matrix (CS231n's
"im2col"); the convolution is then ``W_g @ cols_g`` with ``W_g`` the
``(C_out/g) × (Cg·kh·kw)`` weight matrix of group ``g``. The backend never builds
the matrix whole: it works in blocks of images or output rows, each block's
columns a few MiB (:data:`IM2COL_BLOCK_BYTES`) laid out ``(g, Cg·kh·kw, B·L)``
(``B`` images of ``L`` columns each), so that one product per block and group
reads them from cache, and the blocks split across threads (loop tiling, as in
the direct backend's bands). A block is unfolded by *one* strided copy of a view
of the padded input (:func:`_column_source`), not one per kernel offset.

At stride 1 the product may run on the padded row width (:func:`padded_rows`):
each column row is then one contiguous piece of the flattened padded image, the
``Wp − OW`` extra outputs per row are computed and dropped.

Gradients use the same blocks, in one pass for both::

    dWᵀ += cols_b dY_bᵀ          dcols_b = Wᵀ dY_b  →  col2im onto dx

where ``col2im`` adds the columns back onto the input (the adjoint of
``im2col``), one add per kernel offset (their targets overlap), each thread into
the images no other thread touches, and into a private copy of an image whose
rows two threads share. No block exceeds :func:`fftconv.get_memory_budget`
bytes over the threads (1 GiB by default; see :func:`fftconv.set_memory_budget`).
A pointwise layer (1×1 kernel, stride 1, no padding) is its own column matrix:
its forward is the product alone
(:func:`~fftconv.backends.base.pointwise_forward`, shared with the direct backend).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .._spec import ConvSpec
from . import _nd
from .registry import register_backend
from ._parallel import (add_up, one_blas_thread, row_block_count, row_blocks, run_parts,
                        scratch, shares, threads_for)
from .base import (POINTWISE_PATH, Backend, gemm_work, get_memory_budget, is_pointwise, pad_input,
                   pointwise_forward)

__all__ = ["Im2colBackend", "im2col", "col2im", "forward_steps", "padded_rows"]


def _column_source(xp: np.ndarray, spec: ConvSpec, n0: int, n1: int, r0: int, r1: int,
                   padded: bool) -> np.ndarray:
    """A read-only strided view of the columns of images ``n0:n1``, output rows ``[r0, r1)``.

    Shape ``(g, Cg, kh, kw, B, R, OW)`` with ``B = n1 - n0``, ``R = r1 - r0``::

        view[g, c, p, q, b, i, j] = xp[n0 + b, g·Cg + c, (r0 + i)·sh + p·dh, j·sw + q·dw]

    or, on padded rows (``padded``, stride 1 only), ``(g, Cg, kh, kw, B, L)``
    with ``L`` of :func:`_segment`: the ``L`` consecutive elements of the flattened
    padded image from the tap's first one, ``view[..., b, i·Wp + j]`` being the
    entry above for ``j < OW`` (the rest fall in the ``Wp − OW`` columns past
    the last output, whose products are dropped). No element outside image
    ``n0 + b`` is addressed: the last tap's last element is ``Hp·Wp − 1``.
    """
    sn, sc, s_h, s_w = xp.strides
    sh, (dh, dw) = spec.stride[0], spec.dilation
    cg = spec.c_in_per_group
    rows_shape, rows_strides = _output_rows(spec, r1 - r0, padded, s_h, s_w)
    shape = (spec.groups, cg, spec.kh, spec.kw, n1 - n0) + rows_shape
    strides = (cg * sc, sc, dh * s_h, dw * s_w, sn) + rows_strides
    return as_strided(xp[n0:, :, r0 * sh:], shape, strides, writeable=False)


def _column_target(dxp: np.ndarray, spec: ConvSpec, n0: int, n1: int, r0: int, r1: int,
                   p: int, q: int, padded: bool) -> np.ndarray:
    """The writable view of ``dxp`` that kernel offset ``(p, q)`` of
    :func:`_column_source` reads: shape ``(g, Cg, B, R, OW)``, or ``(g, Cg, B, L)``
    on padded rows (its elements are distinct, so ``+=`` adds each once)."""
    sn, sc, s_h, s_w = dxp.strides
    sh, (dh, dw) = spec.stride[0], spec.dilation
    cg = spec.c_in_per_group
    rows_shape, rows_strides = _output_rows(spec, r1 - r0, padded, s_h, s_w)
    shape = (spec.groups, cg, n1 - n0) + rows_shape
    strides = (cg * sc, sc, sn) + rows_strides
    return as_strided(dxp[n0:, :, r0 * sh + p * dh:, q * dw:], shape, strides)


def _output_rows(spec: ConvSpec, rows: int, padded: bool, s_h: int, s_w: int) -> tuple:
    """``(shape, strides)`` of the output-row axes of a column view over an array
    with row and column strides ``s_h``, ``s_w``: one run of ``L`` elements on
    padded rows, else ``rows × OW`` at the convolution's stride."""
    if padded:
        return (_segment(spec, rows, True)[0],), (s_w,)
    (sh, sw) = spec.stride
    return (rows, spec.out_w), (sh * s_h, sw * s_w)


def _segment(spec: ConvSpec, rows: int, padded: bool) -> tuple[int, int]:
    """``(L, pitch)``: the columns per image of a block of ``rows`` output rows, and the
    distance between the starts of consecutive output rows among them.

    ``rows·OW`` and ``OW``, or on padded rows ``(rows − 1)·Wp + OW`` and ``Wp`` (the
    last row needs no overhang, so the last tap ends on the image's last element).
    """
    if padded:
        return (rows - 1) * spec.padded_w + spec.out_w, spec.padded_w
    return rows * spec.out_w, spec.out_w


def _segments(a: np.ndarray, spec: ConvSpec, images: int, rows: int,
              padded: bool) -> np.ndarray:
    """The output pixels of the columns of ``a`` (shape ``(g, m, ≥ B·L)``, unit
    column stride) as a view ``(g, m, B, R, OW)``: the overhang columns of padded
    rows are left out."""
    length, pitch = _segment(spec, rows, padded)
    s0, s1, s2 = a.strides
    return as_strided(a, a.shape[:2] + (images, rows, spec.out_w),
                      (s0, s1, length * s2, pitch * s2, s2), writeable=a.flags.writeable)


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

    Notes
    -----
    One strided copy of :func:`_column_source`'s view; the backend itself lays
    a block's columns out as ``(g, Cg·kh·kw, B·L)`` instead, one product per
    block and group.
    """
    r1 = spec.out_h if r1 is None else r1
    b = xp.shape[0]
    view = _column_source(xp, spec, 0, b, r0, r1, padded=False)
    cols = np.ascontiguousarray(view.transpose(4, 0, 1, 2, 3, 5, 6))
    return cols.reshape(b, spec.groups, -1, (r1 - r0) * spec.out_w)


def col2im(cols: np.ndarray, dxp: np.ndarray, spec: ConvSpec, r0: int = 0,
           r1: int | None = None) -> None:
    """Adjoint of :func:`im2col`: scatter-add ``cols`` onto ``dxp`` in place.

    ``cols`` has the layout returned by :func:`im2col` for output rows ``[r0, r1)``;
    ``dxp`` is the padded-input-shaped gradient buffer, shape ``(B, C_in, Hp, Wp)``.
    The offsets' targets overlap, so this is one add per kernel offset.
    """
    r1 = spec.out_h if r1 is None else r1
    b, g, cg = dxp.shape[0], spec.groups, spec.c_in_per_group
    cols = cols.reshape(b, g, cg, spec.kh, spec.kw, r1 - r0, spec.out_w)
    for p in range(spec.kh):
        for q in range(spec.kw):
            target = _column_target(dxp, spec, 0, b, r0, r1, p, q, padded=False)
            target += cols[:, :, :, p, q].transpose(1, 2, 0, 3, 4)


#: The product runs on the padded row width (:func:`padded_rows`) when the
#: copies' fixed cost per contiguous run that this saves outweighs the extra
#: products of the overhang columns; both in multiply-adds of the product
#: (measured on one thread here: a run costs about 6 ns, a copied element
#: 0.14 ns, a multiply-add of these products 0.027 ns).
IM2COL_RUN_MACS = 220
IM2COL_ELEMENT_MACS = 5


def padded_rows(spec: ConvSpec) -> bool:
    """Whether im2col runs ``spec``'s product on the padded row width.

    At stride 1 the column row of channel ``c`` and offset ``(p, q)`` for output
    rows ``[r0, r1)`` is one contiguous piece of the flattened padded image,
    ``xp[c].flat[(r0 + p·dh)·Wp + q·dw :][:L]``, if every output row is extended
    to the padded width ``Wp`` (the extra ``Wp − OW`` outputs per row are
    computed and dropped). Per output row this copies ``K = C_in/g·kh·kw`` long
    runs instead of ``K`` runs of ``OW`` (each with a fixed cost, ``R``
    multiply-adds' time) and scatters the product in ``C_out/g`` runs of ``OW``
    instead of writing it in place, for ``(Wp − OW)·K·(C_out/g + E)`` more
    multiply-adds and copied elements (``E`` multiply-adds per element)::

        R·(K − C_out/g) > (Wp − OW)·K·(C_out/g + E)

    with ``R`` = :data:`IM2COL_RUN_MACS`, ``E`` = :data:`IM2COL_ELEMENT_MACS`.

    Examples
    --------
    >>> import fftconv
    >>> padded_rows(fftconv.make_spec("stem", (64, 3, 32, 32), (16, 3, 5, 5), padding=2))
    True
    >>> padded_rows(fftconv.make_spec("c5", (8, 512, 7, 7), (512, 512, 3, 3), padding=1))
    False
    """
    if spec.rank != 2 or spec.stride != (1, 1) or is_pointwise(spec):
        return False
    k, og = spec.c_in_per_group * spec.kh * spec.kw, spec.c_out_per_group
    overhang = spec.padded_w - spec.out_w
    return IM2COL_RUN_MACS * (k - og) > overhang * k * (og + IM2COL_ELEMENT_MACS)


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


def _row_bytes(spec: ConvSpec, padded: bool | None = None) -> int:
    """Bytes of column matrix per output row (of one image): ``OW`` columns, or
    ``Wp`` on padded rows (default: as :func:`padded_rows` decides)."""
    padded = padded_rows(spec) if padded is None else padded
    width = spec.padded_w if padded else spec.out_w
    return spec.c_in * spec.kh * spec.kw * width * spec.dtype.itemsize


def _block_geometry(spec: ConvSpec, padded: bool | None = None) -> tuple:
    """``(n, rows, row_bytes, block_bytes, threads)`` of :func:`_blocks`.

    Each block holds :data:`IM2COL_BLOCK_BYTES` of columns, or more to give every
    offset's copy :data:`IM2COL_MIN_COPY_BYTES`; one per thread if that is more
    than :data:`IM2COL_BLOCK_MAX_BYTES`; and within the memory budget
    (:func:`fftconv.get_memory_budget`) with a block per thread alive.
    """
    threads = threads_for(spec.macs, IM2COL_SPLIT_MIN_MACS)
    row_bytes = _row_bytes(spec, padded)
    wanted = max(IM2COL_BLOCK_BYTES, spec.kh * spec.kw * IM2COL_MIN_COPY_BYTES)
    if wanted > IM2COL_BLOCK_MAX_BYTES:
        wanted = -(-row_bytes * spec.out_h * spec.n // threads)
    block_bytes = min(wanted, max(1, get_memory_budget() // threads))
    return spec.n, spec.out_h, row_bytes, block_bytes, threads


def _blocks(spec: ConvSpec, padded: bool | None = None) -> list:
    """Blocks ``(n0, n1, r0, r1)`` of images and output rows, the unit of work of
    the forward and of both gradients (:func:`~fftconv.backends._parallel.row_blocks`
    over :func:`_block_geometry`)."""
    return row_blocks(*_block_geometry(spec, padded))


def _thread_parts(spec: ConvSpec, padded: bool | None = None) -> list:
    """:func:`_blocks` in one run of consecutive blocks per thread."""
    return shares(_blocks(spec, padded), threads_for(spec.macs, IM2COL_SPLIT_MIN_MACS))


def forward_steps(spec: ConvSpec) -> int:
    """numpy calls the forward makes beyond its products: per block of images or
    rows one strided copy that unfolds all its columns, and one that moves its
    product into place (none where the product is written in place, as for a
    block of rows of one image at the output's width).

    Each costs a numpy call beyond the bytes it moves, which the cost model
    (:mod:`fftconv.select`) counts per step.

    Examples
    --------
    >>> import fftconv
    >>> forward_steps(fftconv.make_spec("s", (1, 3, 32, 32), (8, 3, 5, 5), stride=2))
    1
    >>> forward_steps(fftconv.make_spec("s", (1, 3, 32, 32), (8, 3, 5, 5)))   # padded rows
    2
    >>> forward_steps(fftconv.make_spec("s", (4, 3, 32, 32), (8, 3, 5, 5), padding=2))
    2
    """
    if is_pointwise(spec):
        return 0
    padded = padded_rows(spec)
    blocks = row_block_count(*_block_geometry(spec, padded))
    moved = padded or blocks < spec.n          # blocks of several images, or overhang
    return blocks * (2 if moved else 1)


def _pitch(columns: int, itemsize: int) -> int:
    """A row length for buffers of ``columns`` columns that is not a multiple of
    1 KiB: a product whose rows lie a power of two apart runs at 0.55–0.65 of its
    speed here (the rows of a panel collide in the same cache sets)."""
    return columns + (64 // itemsize if (columns * itemsize) % 1024 == 0 else 0)


@register_backend
class Im2colBackend(Backend):
    """im2col + GEMM (one matrix product per block of images and group)."""

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
        """GEMM work with inner size ``C_in/g·kh·kw`` (over the padded row width
        where the product runs on it), the bytes of the column matrix and the
        output, the steps of :func:`forward_steps`, one call."""
        if spec.rank != 2:
            return _nd.columns_features(spec)
        item = spec.dtype.itemsize
        pixels = spec.n * spec.out_h * spec.out_w
        output = pixels * spec.c_out * item
        if is_pointwise(spec):
            return {"gemm": gemm_work(spec.macs, spec.c_in_per_group), "bytes": output,
                    "taps": 0, "call": 1.0}
        waste = self._overhang(spec)
        # the columns are written by the copy and read by the product (2), a
        # block at a time, so from cache; the output is written once by the
        # product (1), and moved into place by a copy (2 more) unless the
        # product writes it in place
        columns = waste * pixels * spec.c_in * spec.kh * spec.kw * item
        moved = forward_steps(spec) > row_block_count(*_block_geometry(spec))
        return {"gemm": gemm_work(waste * spec.macs, spec.c_in_per_group * spec.kh * spec.kw),
                "bytes": 2 * columns + output * (1 + (2 * waste if moved else 0)),
                "taps": forward_steps(spec), "call": 1.0}

    @staticmethod
    def _overhang(spec) -> float:
        """Columns computed per output pixel: ``((OH − 1)·Wp + OW) / (OH·OW)`` on
        padded rows (blocks of whole images), else 1."""
        if not padded_rows(spec):
            return 1.0
        return _segment(spec, spec.out_h, True)[0] / (spec.out_h * spec.out_w)

    def backward_features(self, spec):
        """Both gradients in the forward's units, in one pass over the forward's
        blocks: ``dcols = Wᵀ dY`` (inner size ``C_out/g``) and ``dWᵀ = cols dYᵀ``
        (inner size a block's columns); the columns unfolded again (written and
        read), their gradient written and read, and added back by ``col2im`` (read
        and written), ``dy`` copied into the blocks' layout where it is not a
        view, and read by both products; one copy per block for the columns and
        for ``dy``, one add per kernel offset and block; two calls. (Other ranks:
        the seed formulas' two forwards.)"""
        if spec.rank != 2:
            return super().backward_features(spec)
        item = spec.dtype.itemsize
        padded = padded_rows(spec)
        blocks = max(row_block_count(*_block_geometry(spec, padded)), 1)
        waste = self._overhang(spec)
        pixels = waste * spec.n * spec.out_h * spec.out_w
        columns = pixels * spec.c_in * spec.kh * spec.kw * item
        in_place = not padded and blocks >= spec.n      # blocks of one image's rows
        return {"gemm": gemm_work(waste * spec.macs, spec.c_out_per_group)
                + gemm_work(waste * spec.macs, max(pixels / blocks, 1.0)),
                "bytes": 6.0 * columns + pixels * spec.c_out * item * (2 if in_place else 4),
                "taps": blocks * (spec.kh * spec.kw + (1 if in_place else 2)), "call": 2.0}

    def _weight_matrix(self, w: np.ndarray, spec: ConvSpec) -> np.ndarray:
        return w.reshape(spec.groups, spec.c_out_per_group, -1)      # (g, Og, Cg·kh·kw)

    def forward_path(self, spec):
        return POINTWISE_PATH if is_pointwise(spec) else self.name

    def forward(self, x, w, spec):
        if is_pointwise(spec):
            return pointwise_forward(x, w, spec)     # the input is its own column matrix
        if spec.rank != 2:
            return _nd.columns_forward(x, w, spec)
        padded = padded_rows(spec)
        xp = _padded_input(x, spec, padded)
        wm = self._weight_matrix(w, spec)
        g, og, k = spec.groups, spec.c_out_per_group, wm.shape[2]
        # (N, g, Og, OH, OW); a block of rows of one image at the output's width
        # is multiplied straight into its place
        y = np.empty((spec.n, g, og, spec.out_h, spec.out_w), dtype=spec.dtype)
        flat = y.reshape(spec.n, g, og, -1)

        def run(part):
            buffers = _Buffers(spec, part, padded, (("cols", k), ("out", og)))
            for n0, n1, r0, r1 in part:
                cols = buffers.unfold(xp, n0, n1, r0, r1)
                if n1 - n0 == 1 and not padded:
                    np.matmul(wm, cols, out=flat[n0, :, :, r0 * spec.out_w:r1 * spec.out_w])
                    continue
                out = np.matmul(wm, cols, out=buffers.take("out", n0, n1, r0, r1))
                y[n0:n1, :, :, r0:r1] = _segments(out, spec, n1 - n0, r1 - r0,
                                                  padded).transpose(2, 0, 1, 3, 4)
        # Threads take whole blocks, unfolding and multiplying them on one BLAS
        # thread each (no BLAS workers left spinning next to other threads).
        with one_blas_thread():
            run_parts(run, _thread_parts(spec, padded))
        return y.reshape(spec.output_shape)

    # The gradients work in the forward's blocks, split across threads the same
    # way, each thread on one BLAS thread: a product on BLAS's own threads leaves
    # its workers spinning for a while afterwards, a core taken from what runs
    # next.

    def grad_input(self, dy, w, spec):
        if spec.rank != 2:
            return _nd.columns_grad_input(dy, w, spec)
        return self.backward(dy, None, w, spec, ("input",))[0]

    def grad_weight(self, dy, x, spec):
        if spec.rank != 2:
            return _nd.columns_grad_weight(dy, x, spec)
        return self.backward(dy, x, None, spec, ("weight",))[1]

    def backward(self, dy, x, w, spec, needs, saved=None):
        """Both gradients in one pass over the forward's blocks, per block and group
        one product for each::

            dY_b = dy of the block as a (C_out/g) × B·L matrix
            dWᵀ += cols_b dY_bᵀ          dcols_b = Wᵀ dY_b  →  col2im onto dx

        (other ranks: :func:`._nd.columns_grad_input` and
        :func:`._nd.columns_grad_weight`)."""
        want_dx, want_dw = "input" in needs, "weight" in needs
        if spec.rank != 2:
            return (_nd.columns_grad_input(dy, w, spec) if want_dx else None,
                    _nd.columns_grad_weight(dy, x, spec) if want_dw else None)
        if not (want_dx or want_dw):
            return None, None
        # On padded rows the overhang columns of dY_b are zero, so that they add
        # nothing, exactly, unless what they multiply is not finite (0·inf).
        padded = padded_rows(spec) and (not want_dw or bool(np.isfinite(x).all())) \
            and (not want_dx or bool(np.isfinite(w).all()))
        g, og = spec.groups, spec.c_out_per_group
        k = spec.c_in_per_group * spec.kh * spec.kw
        xp = _padded_input(x, spec, padded) if want_dw else None
        wt = self._weight_matrix(w, spec).transpose(0, 2, 1) if want_dx else None
        dxp = np.zeros((spec.n, spec.c_in, spec.padded_h, spec.padded_w), dtype=spec.dtype) \
            if want_dx else None
        dy5 = dy.reshape(spec.n, g, og, spec.out_h, spec.out_w)
        parts = _thread_parts(spec, padded)
        shared = _shared_images(parts) if want_dx else set()

        def run(part):
            names = (("dy", og),) + ((("cols", k),) if want_dw else ()) \
                + ((("dcols", k),) if want_dx else ())
            buffers = _Buffers(spec, part, padded, names)
            dwt = np.zeros((g, k, og), dtype=spec.dtype) if want_dw else None
            product = np.empty_like(dwt) if want_dw else None
            # An image whose rows two threads share gets a private buffer in each
            # (col2im adds into rows that neighbouring bands overlap); the rest
            # are added straight into dxp, which no other thread touches there.
            private = {}
            for n0, n1, r0, r1 in part:
                d = buffers.gradient(dy5, n0, n1, r0, r1)
                if want_dw:
                    cols = buffers.unfold(xp, n0, n1, r0, r1)
                    # dWᵀ: the product with the long inner size this way round
                    # runs at 1.2–1.7× the speed of dY colsᵀ here
                    dwt += np.matmul(cols, d.transpose(0, 2, 1), out=product)
                if want_dx:
                    if n0 in shared:              # a block of rows of this one image
                        target = private.setdefault(n0, np.zeros((1,) + dxp.shape[1:],
                                                                 dxp.dtype))
                        base = n0
                    else:
                        target, base = dxp, 0
                    dcols = np.matmul(wt, d, out=buffers.take("dcols", n0, n1, r0, r1))
                    _col2im_block(dcols, target, spec, n0 - base, n1 - base, r0, r1, padded)
            return dwt, private
        with one_blas_thread():
            results = run_parts(run, parts)
        dx = dw = None
        if want_dw:
            dw = np.ascontiguousarray(add_up([r[0] for r in results]).transpose(0, 2, 1))
            dw = dw.reshape(spec.weight_shape)
        if want_dx:
            for _, private in results:
                for n, image in private.items():
                    dxp[n:n + 1] += image
            (pt, _), (pl, _) = spec.padding
            dx = np.ascontiguousarray(dxp[:, :, pt:pt + spec.h, pl:pl + spec.w])
        return dx, dw


def _padded_input(x: np.ndarray, spec: ConvSpec, padded: bool) -> np.ndarray:
    """The zero-padded input; on padded rows with its image rows contiguous (the
    flattened image is what the columns slice)."""
    xp = pad_input(x, spec.padding)
    if padded and (xp.strides[3] != xp.itemsize or xp.strides[2] != xp.shape[3] * xp.itemsize):
        xp = np.ascontiguousarray(xp)
    return xp


def _col2im_block(dcols: np.ndarray, dxp: np.ndarray, spec: ConvSpec, n0: int, n1: int,
                  r0: int, r1: int, padded: bool) -> None:
    """Add a block's column gradient ``dcols`` (``(g, Cg·kh·kw, B·L)``) onto the
    padded input gradient ``dxp`` (images ``n0:n1``), one add per kernel offset
    (the offsets' targets overlap)."""
    length, _ = _segment(spec, r1 - r0, padded)
    b = n1 - n0
    shape = (spec.groups, spec.c_in_per_group, spec.kh, spec.kw, b)
    shape += (length,) if padded else (r1 - r0, spec.out_w)
    cols = dcols.reshape(shape)
    for p in range(spec.kh):
        for q in range(spec.kw):
            target = _column_target(dxp, spec, n0, n1, r0, r1, p, q, padded)
            target += cols[:, :, p, q]


class _Buffers:
    """One thread's working matrices for its run of blocks.

    Each named buffer has ``g × rows`` rows of :func:`_pitch` columns, enough for
    the largest block of the run; :meth:`take` gives a block's ``(g, rows, B·L)``
    view of it. The buffers are the thread's scratch
    (:func:`~fftconv.backends._parallel.scratch`), kept between calls: fresh ones
    cost a page fault per 4 KiB on every call.
    """

    def __init__(self, spec: ConvSpec, part: list, padded: bool, names) -> None:
        self.spec, self.padded = spec, padded
        widest = max((n1 - n0) * _segment(spec, r1 - r0, padded)[0] for n0, n1, r0, r1 in part)
        pitch = _pitch(widest, spec.dtype.itemsize)
        budget = get_memory_budget()
        self.arrays = {name: scratch("im2col." + name, (spec.groups, rows, pitch), spec.dtype,
                                     budget) for name, rows in names}
        if padded and "dy" in self.arrays:
            # dY's overhang columns must be zero: kept zero between blocks of one shape
            self.arrays["dy"].fill(0)
        self.dy_shape = None

    def take(self, name: str, n0: int, n1: int, r0: int, r1: int) -> np.ndarray:
        return self.arrays[name][:, :, :(n1 - n0) * _segment(self.spec, r1 - r0, self.padded)[0]]

    def unfold(self, xp: np.ndarray, n0: int, n1: int, r0: int, r1: int) -> np.ndarray:
        """The block's columns ``(g, Cg·kh·kw, B·L)``: one strided copy."""
        spec = self.spec
        if n1 - n0 == 1 and is_pointwise(spec):   # the image is its own column matrix
            return xp[n0].reshape(spec.groups, spec.c_in_per_group, -1)[
                :, :, r0 * spec.out_w:r1 * spec.out_w]
        cols = self.take("cols", n0, n1, r0, r1)
        source = _column_source(xp, spec, n0, n1, r0, r1, self.padded)
        np.copyto(cols.reshape(source.shape), source)
        return cols

    def gradient(self, dy5: np.ndarray, n0: int, n1: int, r0: int, r1: int) -> np.ndarray:
        """``dY_b``, shape ``(g, C_out/g, B·L)``: dy of the block (``dy5`` shape
        ``(N, g, Og, OH, OW)``) in the columns' layout, zero in overhang columns.
        A block of one image's rows at the output's width is a view of ``dy``."""
        spec, rows = self.spec, r1 - r0
        if n1 - n0 == 1 and not self.padded:
            view = dy5[n0, :, :, r0:r1].reshape(spec.groups, spec.c_out_per_group, -1)
            return view
        d = self.take("dy", n0, n1, r0, r1)
        if self.padded and self.dy_shape not in (None, (n1 - n0, rows)):
            self.arrays["dy"].fill(0)         # the overhang moved: clear it
        self.dy_shape = (n1 - n0, rows)
        _segments(d, spec, n1 - n0, rows, self.padded)[...] = \
            dy5[n0:n1, :, :, r0:r1].transpose(1, 2, 0, 3, 4)
        return d


def _shared_images(parts: list) -> set:
    """Images whose output rows fall in more than one of ``parts`` (runs of blocks)."""
    seen, shared = {}, set()
    for index, part in enumerate(parts):
        for n0, n1, _, _ in part:
            for n in range(n0, n1):
                if seen.setdefault(n, index) != index:
                    shared.add(n)
    return shared
