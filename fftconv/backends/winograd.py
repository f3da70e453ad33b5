"""The Winograd backend: minimal filtering ``F(m_h × m_w, r_h × r_w)`` with one GEMM
per transformed position.

Lavin & Gray (2016), *Fast Algorithms for Convolutional Neural Networks*: the
padded input is cut into overlapping tiles of ``α_h × α_w`` (``α = m + r − 1``)
at a step of ``m_h × m_w``; each tile ``d`` and each kernel ``g`` are transformed
(:mod:`~fftconv.backends._winograd_transforms`), multiplied elementwise, and the
product transformed back to an ``m_h × m_w`` block of outputs::

    Y = A_hᵀ [ (G_h g G_wᵀ) ⊙ (B_hᵀ d B_w) ] A_w

The sum over input channels commutes with the output transform, so, as the FFT
backend does per frequency, the channel reduction is one matrix product per
transformed position ``ξ`` (and group)::

    M_ξ = U_ξ · V_ξ      (C_out/g × C_in/g) @ (C_in/g × tiles)

``α_h·α_w`` products of the channels instead of ``r_h·r_w·m_h·m_w`` per output
block: F(4×4, 3×3) does 36 multiplications where direct does 144, 4× fewer.

Layout and blocking. The input is padded once into channel-major order
``(C, N, H', W')``, so that the per-position products see ``(C_in/g) × (images ·
tiles)`` matrices. Each 2-D transform is two 1-D passes, each one GEMM with
the ``α × α`` (or ``m × α``) matrix over a contiguous array: the row pass reads
``α_h`` strided row copies of the padded input (before the columns are tiled,
so the column overlap is not yet paid), the column pass ``α_w`` strided
column copies of its result. No Python loop runs over tiles: a loop runs over
the ``α`` taps of a pass only. The work is cut into blocks of images or tile
rows of a few MiB (:data:`BLOCK_BYTES`, a core's L2 cache share) so that each
block's transforms and products stay in cache; the blocks are split across the
pool (:mod:`~fftconv.backends._parallel`), each thread on one BLAS thread.
Wide layers on small maps (few tiles, large channel matrices: 8 × 512 × 7²) are
one block split by channel slabs instead (:meth:`_Plan.by_channels`): each
thread the products and output transform of its output channels, and in the
backward the ``dV`` and input adjoint of its input channels and the ``dU`` and
``dw`` rows of its output channels. Every intermediate lives in per-thread
scratch reused between blocks and calls
(:data:`~fftconv.backends._parallel.SCRATCH_BYTES`).

Gradients are the exact adjoints of the same linear maps, in the transformed
domain (nothing is re-derived from the seed formulas)::

    dM_ξ = A-transform of dy's m×m blocks      (A_h dY A_wᵀ)
    dV_ξ = U_ξᵀ · dM_ξ        → dx: B_h dV B_wᵀ overlap-added onto the padded input
    dU_ξ = Σ_blocks dM_ξ · V_ξᵀ → dw: G_hᵀ dU G_w

``dy`` is transformed once for both; ``U`` is built once per call and read by
every block's ``dV``, and each block's ``V`` is rebuilt for ``dU``: on the
2-core machine first touching fresh memory for kept transforms cost more than
rebuilding them in reused scratch (:func:`_scratch`). The tile offsets'
overlap-add of ``dx`` is ``⌈α/m⌉`` strided adds per pass, one per offset class
(:meth:`WinogradBackend._overlap_add`).

Numerics: the transforms' entries grow with ``α`` (powers of the points), so the
rounding error grows with the tile size: in float32, F(2×2, 3×3) is as accurate
as direct summation, F(4×4, 3×3) about six times less (≈ 10⁻⁶ relative),
F(6×6, 3×3) and F(4×4, 5×5) about twice that again, and tiles of ``α = 10``
(which need the points ±3) lose three digits (measured in ``docs/algorithms.rst``;
the tolerance per tile size is :func:`fftconv.testing.winograd_tolerance`). The
tile size is chosen by the cost model among those allowed for the dtype
(:data:`MAX_ALPHA_BY_DTYPE`), or forced with :func:`set_tile_size`.

Stride 1 and dilation 1 only (a strided layer would compute and discard most
outputs; dilated kernels are not minimal): :meth:`WinogradBackend.applies`
gives the reason for anything else, and ``'auto'`` does not consider it there.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from functools import lru_cache

import numpy as np

from .._spec import ConvSpec
from ..checks import is_int
from ..errors import bad_value
from ._parallel import SCRATCH_BYTES, add_up, even_slices, one_blas_thread, row_block_count, \
    row_blocks, run_parts, scratch, shares, split_matmul, threads_for
from ._winograd_transforms import MAX_ALPHA, transform_matrices
from .base import (POINTWISE_PATH, Backend, estimate_seconds, gemm_work, get_memory_budget,
                   is_pointwise, pointwise_forward)
from .registry import register_backend

__all__ = ["WinogradBackend", "set_tile_size", "forced_tile_size", "tile_options",
           "MAX_ALPHA_BY_DTYPE", "BLOCK_BYTES", "SCRATCH_BYTES"]

#: Largest tile ``α = m + r − 1`` the cost model may choose, per dtype: α = 8
#: (F(6, 3), F(4, 5), F(2, 7)) keeps float32's relative error near 2·10⁻⁶ with
#: these points, while α = 10 (the points ±3) costs three digits.
#: :func:`set_tile_size` may force any ``α`` up to the construction's limit.
MAX_ALPHA_BY_DTYPE = {"float32": 8, "float64": 8}

#: Output tile sizes ``m`` considered per axis (``r = 1``: ``m = 1``, no transform).
TILE_SIZES = (2, 4, 6)

#: Working bytes of one block (transformed tiles of its inputs and outputs): a
#: core's share of the L2 cache and some of L3, so the products read the
#: transforms from cache.
BLOCK_BYTES = 2 << 20

#: Columns (images × tiles) a block gives each per-position product at least:
#: every block reads the whole kernel transform ``U``, which for wide layers
#: (512 × 512 channels) is tens of MiB; fewer columns would make the products
#: memory-bound on it. Also the threshold of the channel-slab split
#: (:meth:`_Plan.by_channels`). 256 made blocks of whole 56² images (9 MiB at 64
#: channels) and sent 8×128×28² and 4×32×64² to the slab split, whose input
#: transform runs on one thread: 128 took 0.63–0.92 of their time (2 threads).
MIN_BLOCK_COLUMNS = 128

#: Tile-channels (columns × input channels) a block holds at least: each block
#: costs about twenty numpy calls, which with few channels outweigh its
#: transforms (16 channels: blocks of 128 columns took 1.15–1.4× the time of
#: 256-column ones at the same tile size; 1×4×512² 5×5 took 0.7 of its time with
#: 1024-column blocks rather than 256).
MIN_BLOCK_TILE_CHANNELS = 4096

#: Multiply-adds from which the blocks are split across threads.
SPLIT_MIN_MACS = 1 << 23

#: A larger tile is chosen only where its estimate is below this fraction of the
#: best smaller tile's: it costs accuracy (the error grows with α), and the cost
#: model's fit is not finer than this (measured on 8×64×56² → 64, F(4×4, 3×3)
#: took 0.7–0.9 of F(6×6, 3×3)'s time although the two estimates were within 3 %).
LARGER_TILE_GAIN = 0.85

_TILE: ContextVar = ContextVar("fftconv_winograd_tile", default=None)


def forced_tile_size() -> tuple[int, int] | None:
    """The ``(m_h, m_w)`` forced by an enclosing :func:`set_tile_size`, else None."""
    return _TILE.get()


@contextmanager
def set_tile_size(m_h: int, m_w: int | None = None):
    """Force the Winograd output tile ``F(m_h × m_w, ·)`` inside the ``with`` block.

    For studying the speed/accuracy trade-off of the tile size; an axis whose
    kernel has one tap always uses ``m = 1`` (no transform). Raises
    ``NotImplementedError`` on a layer where ``m + r − 1`` exceeds the largest
    tile the construction offers.

    Examples
    --------
    >>> import numpy as np, fftconv
    >>> from fftconv.backends.winograd import set_tile_size
    >>> x, w = np.ones((1, 1, 10, 10)), np.ones((1, 1, 3, 3))
    >>> with set_tile_size(2):
    ...     y = fftconv.conv2d(x, w, backend="winograd")
    >>> bool(np.allclose(y, 9.0))
    True
    """
    m_w = m_h if m_w is None else m_w
    for name, value in (("m_h", m_h), ("m_w", m_w)):
        if not is_int(value) or value < 1:
            raise bad_value("set_tile_size", name, value, "a positive int")
    token = _TILE.set((int(m_h), int(m_w)))
    try:
        yield (int(m_h), int(m_w))
    finally:
        _TILE.reset(token)


def tile_options(r: int, dtype) -> list:
    """Output tile sizes ``m`` the cost model may choose for an ``r``-tap axis."""
    if r == 1:
        return [1]
    limit = MAX_ALPHA_BY_DTYPE.get(np.dtype(dtype).name, MAX_ALPHA_BY_DTYPE["float64"])
    return [m for m in TILE_SIZES if m + r - 1 <= limit]


class _Plan:
    """Tile sizes, transforms and tile counts of one layer."""

    def __init__(self, spec: ConvSpec, m_h: int, m_w: int):
        self.spec, self.m_h, self.m_w = spec, m_h, m_w
        self.r_h, self.r_w = spec.kh, spec.kw
        self.a_h, self.a_w = m_h + spec.kh - 1, m_w + spec.kw - 1
        self.nth, self.ntw = -(-spec.out_h // m_h), -(-spec.out_w // m_w)
        # padded input extent the tiles read (zeros past the real padding)
        self.rows = self.nth * m_h + spec.kh - 1
        self.cols = self.ntw * m_w + spec.kw - 1
        dtype = spec.dtype
        self.at_h, self.g_h, self.bt_h = transform_matrices(m_h, spec.kh, dtype)
        self.at_w, self.g_w, self.bt_w = transform_matrices(m_w, spec.kw, dtype)

    @property
    def positions(self) -> int:
        return self.a_h * self.a_w

    @property
    def tiles(self) -> int:
        return self.nth * self.ntw

    def row_bytes(self) -> int:
        """Working bytes per tile row of one image (the unit of a block)."""
        s = self.spec
        per_tile = self.positions * (s.c_in + s.c_out)
        rowpass = self.a_h * s.c_in * self.cols + self.m_w * self.a_h * s.c_out * self.ntw
        return (2 * per_tile * self.ntw + rowpass) * s.dtype.itemsize

    def block_geometry(self) -> tuple:
        s = self.spec
        threads = threads_for(s.macs, SPLIT_MIN_MACS)
        budget = max(1, get_memory_budget() // threads)
        row_bytes = self.row_bytes()
        columns = max(MIN_BLOCK_COLUMNS, -(-MIN_BLOCK_TILE_CHANNELS // s.c_in))
        wanted = max(BLOCK_BYTES, row_bytes * -(-columns // self.ntw))
        return s.n, self.nth, row_bytes, min(wanted, budget), threads

    def by_channels(self) -> bool:
        """Whether the pool splits the layer by channel slabs (:meth:`slabs`) rather
        than by blocks: when blocks shared among the threads would give each fewer
        than :data:`MIN_BLOCK_COLUMNS` columns (wide layers on small maps: at 7²
        and F(2×2) eight images have 128 tiles, 64 per thread), so one block
        holds every tile,
        if it fits the threads' budgets. Each thread then reads only its slab of
        ``U`` (``α²·C·K`` floats, 36 MiB at 512 × 512 and F(4×4)), with every
        column."""
        n, rows, row_bytes, budget, threads = self.block_geometry()
        s = self.spec
        return (threads > 1 and s.groups == 1 and min(s.c_in, s.c_out) >= threads
                and n * self.tiles < threads * MIN_BLOCK_COLUMNS
                and n * rows * row_bytes <= budget * threads)

    def blocks(self) -> list:
        if self.by_channels():
            return [(0, self.spec.n, 0, self.nth)]
        return row_blocks(*self.block_geometry())

    def block_count(self) -> int:
        """``len(self.blocks())`` without building the list (any layer size)."""
        return 1 if self.by_channels() else row_block_count(*self.block_geometry())

    def slabs(self) -> list:
        """Channel slabs ``(o0, o1, c0, c1)``, one per thread, when
        :meth:`by_channels`, else ``[]``: each slab's products and transforms are
        independent of the others' (output channels ``o0:o1`` of the forward and
        of ``dU``, input channels ``c0:c1`` of ``dV`` and ``dx``)."""
        if not self.by_channels():
            return []
        s, threads = self.spec, self.block_geometry()[-1]
        outs, ins = even_slices(s.c_out, threads), even_slices(s.c_in, threads)
        return [(o.start, o.stop, c.start, c.stop) for o, c in zip(outs, ins)]


def _kronecker(plan: _Plan) -> np.ndarray:
    """``K[(q, p), (u, v)] = G_w[q, v] · G_h[p, u]``: the 2-D kernel transform
    ``G_h g G_wᵀ`` of the flattened ``r_h × r_w`` kernel ``g`` as one matrix
    (a permuted ``G_w ⊗ G_h``), ``(α_w·α_h) × (r_h·r_w)``, read-only and cached."""
    return _kronecker_of(plan.m_h, plan.r_h, plan.m_w, plan.r_w, plan.spec.dtype.name)


@lru_cache(maxsize=None)
def _kronecker_of(m_h: int, r_h: int, m_w: int, r_w: int, dtype: str) -> np.ndarray:
    _, g_h, _ = transform_matrices(m_h, r_h, dtype)
    _, g_w, _ = transform_matrices(m_w, r_w, dtype)
    k = np.einsum("qv,pu->qpuv", g_w, g_h).reshape(g_w.shape[0] * g_h.shape[0], r_h * r_w)
    k = np.ascontiguousarray(k, dtype=dtype)
    k.flags.writeable = False
    return k


def _scratch(name: str, shape: tuple, dtype) -> np.ndarray:
    """The calling thread's work array ``winograd.<name>``
    (:func:`~fftconv.backends._parallel.scratch`, within the memory budget)."""
    return scratch("winograd." + name, shape, dtype, get_memory_budget())


def _split_last(a: np.ndarray, count: int, size: int) -> np.ndarray:
    """View of ``a`` with its last axis (length ``count·size``) split in two; never a
    copy (writes through it reach ``a``)."""
    view = a.view()
    view.shape = a.shape[:-1] + (count, size)
    return view


def _features_at(plan: _Plan) -> dict:
    """Cost features of the forward at ``plan``.

    ``gemm``: the per-position products' multiply-adds, weighted by their inner
    size (:func:`~fftconv.backends.base.gemm_work`); ``transform``: the elements
    the transform passes write (each pass a strided copy with the channels
    contiguous and a small-inner GEMM, so memory-bound); ``kernel``: the kernel
    transform's elements, written once and read by every block's products;
    ``runs``: the contiguous runs those passes copy (the elements over the
    channel count: with few channels, channels-last copies move a few bytes per
    step and their count, not their bytes, sets the time); ``blocks``: one step
    per block (its numpy calls); ``call``: one.
    """
    s = plan.spec
    cols = s.n * plan.tiles
    blocks = plan.block_count()
    products = plan.positions * cols * s.c_in_per_group * s.c_out * 1.0
    height = s.n * plan.nth * plan.m_h + blocks * (plan.r_h - 1)   # block rows, all blocks
    moved_in = s.c_in * (height * plan.cols                          # padded blocks
                         + 2 * plan.a_w * height * plan.ntw          # column pass
                         + cols * plan.positions)                    # row pass
    moved_out = s.c_out * (cols * plan.positions                     # products
                           + plan.a_w * s.n * plan.nth * plan.m_h * plan.ntw   # row pass
                           + 2 * s.n * s.out_h * s.out_w)            # column pass, y
    moved = moved_in + moved_out
    runs = moved_in / s.c_in + moved_out / s.c_out
    return {"gemm": gemm_work(products, s.c_in_per_group), "transform": float(moved),
            "runs": float(runs),
            "kernel": float(plan.positions * s.c_out * s.c_in_per_group * (1 + blocks)),
            "blocks": float(blocks), "call": 1.0}


@register_backend
class WinogradBackend(Backend):
    """Winograd minimal filtering (Lavin & Gray 2016), one GEMM per transformed position."""

    name = "winograd"
    #: The GEMM constant is the BLAS group's (im2col's shipped value: the same
    #: BLAS, fitted jointly with direct and im2col by ``fftconv calibrate``); the
    #: others were fitted with it held fixed (non-negative least squares on the
    #: relative error, every design layer it applies to at each tile size it may
    #: choose, best of 3 passes of 3 repeats) on the 2-core x86-64 machine of the
    #: other backends' constants, while it was shared by other jobs (load 8–16):
    #: a first fit (median relative error of the fit 0.45 in float32, 0.69 in
    #: float64), to be refitted
    #: by ``fftconv calibrate`` on a quiet machine.
    shipped_constants = {
        "float32": {"gemm": 1.457e-11, "transform": 2.813e-10, "runs": 3.035e-10,
                    "kernel": 9.003e-10, "blocks": 0.0, "call": 2.005e-4},
        "float64": {"gemm": 2.606e-11, "transform": 4.59e-10, "runs": 4.158e-10,
                    "kernel": 9.452e-10, "blocks": 0.0, "call": 1.844e-4},
    }
    # The per-position products run on the BLAS direct and im2col use.
    calibration_group = "blas"
    shared_features = ("gemm",)

    # -- what it applies to, and what it costs ------------------------------------
    def applies(self, spec):
        if getattr(spec, "rank", 2) != 2:
            return f"it computes 2-D convolutions only (rank {spec.rank})"
        if spec.stride != (1, 1):
            return f"it computes stride 1 only (stride {spec.stride})"
        if spec.dilation != (1, 1):
            return f"it computes dilation 1 only (dilation {spec.dilation})"
        largest = MAX_ALPHA - 1            # m = 2 needs α = r + 1
        if max(spec.kh, spec.kw) > largest:
            return (f"no F(m, r) tile for a {spec.kh}×{spec.kw} kernel "
                    f"(at most {largest} taps per axis)")
        forced = _TILE.get()
        if forced is not None:
            for m, r in zip(forced, (spec.kh, spec.kw)):
                if r > 1 and m + r - 1 > MAX_ALPHA:
                    return f"the forced tile F({m}, {r}) exceeds α = {MAX_ALPHA}"
        return None

    def plan(self, spec: ConvSpec) -> _Plan:
        """The tiling: forced by :func:`set_tile_size`, else the cheapest estimate
        among :func:`tile_options` per axis."""
        forced = _TILE.get()
        if forced is not None:
            m_h = 1 if spec.kh == 1 else forced[0]
            m_w = 1 if spec.kw == 1 else forced[1]
            return _Plan(spec, m_h, m_w)
        return self._cheapest(spec)

    def _cheapest(self, spec: ConvSpec) -> _Plan:
        """The cheapest tiling by the estimate, except that a larger tile (larger
        rounding error) must be estimated at least :data:`LARGER_TILE_GAIN`
        cheaper than the best smaller one to be taken."""
        weights = self.weights(spec.dtype)
        plans = sorted((_Plan(spec, m_h, m_w)
                        for m_h in tile_options(spec.kh, spec.dtype) or [2]
                        for m_w in tile_options(spec.kw, spec.dtype) or [2]),
                       key=lambda plan: (max(plan.a_h, plan.a_w), plan.a_h + plan.a_w))
        best, best_cost = None, float("inf")
        for plan in plans:
            cost = estimate_seconds(_features_at(plan), weights, fallback={"call": 1.0})
            if best is None or cost < LARGER_TILE_GAIN * best_cost:
                best, best_cost = plan, cost
        return best

    def working_set(self, spec):
        """The kernel transform and one tile row of one image."""
        if not self.supports(spec):
            return 0
        plan = self.plan(spec)
        return (plan.positions * spec.c_out * spec.c_in_per_group * spec.dtype.itemsize
                + plan.row_bytes())

    def features(self, spec):
        """:func:`_features_at` the tiling it runs; a pointwise layer is one product
        and the output it writes."""
        if is_pointwise(spec):
            return {"gemm": gemm_work(spec.macs, spec.c_in_per_group),
                    "transform": float(spec.n * spec.c_out * spec.out_h * spec.out_w),
                    "runs": 0.0, "kernel": 0.0, "blocks": 0.0, "call": 1.0}
        return _features_at(self.plan(spec))

    def backward_features(self, spec):
        """:meth:`backward`'s work in the forward's units: per block, ``dy``'s
        A-transform and ``dx``'s B-adjoint move what the forward's output and
        input passes move (``transform``, ``runs``, as in the forward), the two
        products ``dV = dM U`` (inner size ``C_out/g``) and ``dU = dMᵀ V``
        (inner size the block's tiles) run the forward's multiply-adds each, each
        block's input transform is rebuilt for ``dU`` (nothing is kept from the
        forward: half the forward's passes again, so ``transform`` and ``runs``
        are 1.5 times the forward's), and ``U`` is rebuilt and ``dU`` read once by
        the kernel adjoint (``kernel``: twice its elements). A pointwise layer: the two
        products of the seed formulas (:meth:`Backend.backward_features`)."""
        if is_pointwise(spec):
            return super().backward_features(spec)
        plan = self.plan(spec)
        fwd = _features_at(plan)
        s = spec
        products = plan.positions * s.n * plan.tiles * s.c_in_per_group * s.c_out * 1.0
        block_cols = s.n * plan.tiles / max(fwd["blocks"], 1.0)
        return {"gemm": gemm_work(products, s.c_out_per_group)
                + gemm_work(products, max(block_cols, 1.0)),
                "transform": fwd["transform"] * 1.5,
                "runs": fwd["runs"] * 1.5,
                "kernel": 2.0 * plan.positions * s.c_out * s.c_in_per_group,
                "blocks": fwd["blocks"], "call": 1.0}

    def context_key(self):
        return _TILE.get()

    def calibration_cases(self, spec):
        """Every tile size the cost model may choose (and F(2, ·)), so the fit sees
        what a tile size costs (a pointwise layer, which has no tile: one case)."""
        if is_pointwise(spec):
            return [(None, self.features(spec))]
        cases = []
        opts_h = tile_options(spec.kh, spec.dtype) or [2]
        opts_w = tile_options(spec.kw, spec.dtype) or [2]
        for m in sorted(set(opts_h) | set(opts_w)):
            m_h = m if m in opts_h else opts_h[-1]
            m_w = m if m in opts_w else opts_w[-1]
            cases.append(((m_h, m_w), _features_at(_Plan(spec, m_h, m_w))))
        return cases

    def calibration_setting(self, setting):
        return nullcontext() if setting is None else set_tile_size(*setting)

    # -- transforms ---------------------------------------------------------------
    # Layout: channels last. A block's padded input is (nb, rows, cols, C); its
    # transformed tiles are V[(q, p), (n, ti, tj), c], position-major, each
    # position a (tiles × C) matrix; the products M[(q, p), (n, ti, tj), o].
    # Every pass is one GEMM whose operands have unit inner stride, reading
    # either a strided copy with C contiguous (the column pass) or a strided
    # view handed to BLAS directly (the row pass, written straight into the
    # position-major layout), so no pass transposes element by element. Every
    # intermediate lives in the calling thread's scratch (:func:`_scratch`).

    @staticmethod
    def _kernel_transform(w: np.ndarray, plan: _Plan, out=None) -> np.ndarray:
        """``U[(q, p), g, o, c] = Σ_{u,v} G_w[q, v] G_h[p, u] w[g·Og + o, c, u, v]``,
        shape ``(α_w·α_h, g, O/g, C/g)``, into ``out`` (scratch when None).

        One GEMM: the Kronecker product ``G_w ⊗ G_h`` (:func:`_kronecker`,
        ``(α_w·α_h) × (r_h·r_w)``) times the flattened kernels, read as the
        transposed view ``(r_h·r_w) × (O·C/g)`` of the weight (BLAS's transpose
        flag, no copy), and written in ``U``'s final, position-major order: for
        each position the ``O/g × C/g`` matrix its product reads, contiguous.
        Two passes of the small ``G`` matrices would be two calls with inner
        sizes ``r`` plus a taps-major copy of the weight in between.
        """
        s = plan.spec
        flat = np.asarray(w, dtype=s.dtype).reshape(s.c_out * s.c_in_per_group, s.kh * s.kw)
        shape = (plan.positions, s.groups, s.c_out_per_group, s.c_in_per_group)
        u = _scratch("u", shape, s.dtype) if out is None else out
        np.matmul(_kronecker(plan), flat.T, out=u.reshape(plan.positions, -1))
        return u

    @staticmethod
    def _kernel_adjoint(du: np.ndarray, plan: _Plan) -> np.ndarray:
        """Adjoint of :meth:`_kernel_transform`: ``dw = G_hᵀ dU G_w`` per kernel, as
        the one GEMM ``dUᵀ (G_w ⊗ G_h)``, from ``dU`` ``(P, g, O'/g, C/g)`` (or
        ``(P, O', C)``): ``(O', C/g, r_h, r_w)``."""
        s = plan.spec
        dw = np.matmul(du.reshape(plan.positions, -1).T, _kronecker(plan))   # (O'·Cg, r_h·r_w)
        return np.ascontiguousarray(dw, dtype=s.dtype).reshape(-1, *s.weight_shape[1:])

    @staticmethod
    def _padded_block(x: np.ndarray, plan: _Plan, n0, n1, t0, t1) -> np.ndarray:
        """Rows of tile rows ``t0:t1`` of images ``n0:n1`` of the zero-padded input,
        channels last ``(nb, nt·m_h + r_h − 1, cols, C)``, in scratch: each thread
        transposes its own block, in cache, rather than the whole input in one
        pass; only the padding is zeroed (the rest is overwritten)."""
        s = plan.spec
        (pt, _), (pl, _) = s.padding
        top, height = t0 * plan.m_h, (t1 - t0) * plan.m_h + plan.r_h - 1
        block = _scratch("pad", (n1 - n0, height, plan.cols, s.c_in), s.dtype)
        lo = min(max(top, pt), top + height)                          # padded-row range of x
        hi = max(lo, min(top + height, pt + s.h))
        wd = max(0, min(s.w, plan.cols - pl))
        block[:, :lo - top] = 0
        block[:, hi - top:] = 0
        block[:, lo - top:hi - top, :pl] = 0
        block[:, lo - top:hi - top, pl + wd:] = 0
        if hi > lo:
            np.copyto(block[:, lo - top:hi - top, pl:pl + wd],
                      x[n0:n1, :, lo - pt:hi - pt, :wd].transpose(0, 2, 3, 1))
        return block

    @staticmethod
    def _row_view(a: np.ndarray, step: int, count: int, taps: int) -> np.ndarray:
        """``(lead, nb, R, L) → (lead, nb, count, taps, L)`` view with
        ``[..., t, k, :] = a[..., t·step + k, :]`` (overlapping tile rows)."""
        s = a.strides
        return np.lib.stride_tricks.as_strided(
            a, shape=a.shape[:2] + (count, taps, a.shape[3]),
            strides=(s[0], s[1], s[2] * step, s[2], s[3]), writeable=False)

    @staticmethod
    def _offset_class(a: np.ndarray, axis: int, step: int, count: int, first: int,
                      taps: int) -> np.ndarray:
        """Writeable view of ``a`` with ``axis`` replaced by ``(count, taps)``:
        ``[…, t, k, …] = a[…, first + t·step + k, …]``. With ``taps ≤ step`` no two
        entries share an element, so one ``+=`` on it is one non-overlapping
        strided add (the tile offsets ``first … first + taps − 1`` of every tile)."""
        s = a.strides
        shape = a.shape[:axis] + (count, taps) + a.shape[axis + 1:]
        strides = s[:axis] + (s[axis] * step, s[axis]) + s[axis + 1:]
        start = a[(slice(None),) * axis + (slice(first, None),)]
        return np.lib.stride_tricks.as_strided(start, shape=shape, strides=strides)

    @classmethod
    def _overlap_add(cls, target: np.ndarray, source: np.ndarray, axis: int, step: int):
        """``target[…, t·step + k, …] = Σ source[…, t, k, …]`` over the tiles ``t`` and
        offsets ``k < α`` that land there (``source`` has ``(count, α)`` at
        ``axis``, ``target`` the extent ``(count − 1)·step + α`` there).

        The offsets fall in ``⌈α/step⌉`` classes ``[j·step, (j + 1)·step)``; within
        a class no two tiles overlap, so the first class is one strided copy and
        each other one strided add (instead of ``α`` adds of one offset each)."""
        count, alpha = source.shape[axis], source.shape[axis + 1]
        covered = count * step                   # rows the first class writes
        tail = (slice(None),) * axis + (slice(covered, None),)
        target[tail] = 0
        for first in range(0, alpha, step):
            taps = min(step, alpha - first)
            view = cls._offset_class(target, axis, step, count, first, taps)
            part = source[(slice(None),) * (axis + 1) + (slice(first, first + taps),)]
            if first == 0:
                np.copyto(view, part)
            else:
                view += part

    @staticmethod
    def _position_view(buf: np.ndarray, plan_a: int, lead: int, nb: int, nt: int,
                       inner: int) -> np.ndarray:
        """``buf`` ``(lead, plan_a, nb, nt, inner)`` viewed as ``(lead, nb, nt, plan_a, inner)``."""
        b = buf.reshape(lead, plan_a, nb, nt, inner)
        return b.transpose(0, 2, 3, 1, 4)

    def _split_transform(self, transform, source, plan: _Plan, block, channels: int,
                         name: str, threads: int) -> np.ndarray:
        """``transform`` (:meth:`_input_transform` or :meth:`_output_adjoint`) of one
        block, its images (or, with fewer images than threads, its tile rows)
        shared among the pool, each part written straight into its place of one
        ``(α_w·α_h, cols, channels)`` array: the channel-slab split's transforms
        would otherwise run on the calling thread alone."""
        n0, n1, t0, t1 = block
        aw, ah, nb, nt = plan.a_w, plan.a_h, n1 - n0, t1 - t0
        out = _scratch(name, (aw, ah, nb, nt, plan.ntw * channels), plan.spec.dtype)
        if nb >= threads:
            parts = [((n0 + p.start, n0 + p.stop, t0, t1), out[:, :, p])
                     for p in even_slices(nb, threads)]
        else:
            parts = [((n0, n1, t0 + p.start, t0 + p.stop), out[:, :, :, p])
                     for p in even_slices(nt, min(threads, nt))]
        run_parts(lambda part: transform(source, plan, *part[0], out=part[1]), parts)
        return out.reshape(aw * ah, nb * nt * plan.ntw, channels)

    def _input_transform(self, x: np.ndarray, plan: _Plan, n0, n1, t0, t1,
                         out=None) -> np.ndarray:
        """``V[(q, p), (n, ti, tj), c] = (B_hᵀ d B_w)[p, q]`` of the tiles of images
        ``n0:n1``, tile rows ``t0:t1``: shape ``(α_w·α_h, cols, C)`` in scratch;
        or written into ``out``, a ``(α_w, α_h, nb, nt, ntw·C)`` view (a part of a
        larger ``V``, :meth:`_split_transform`), and ``out`` returned."""
        c, nb, nt, ntw = plan.spec.c_in, n1 - n0, t1 - t0, plan.ntw
        mh, mw, ah, aw = plan.m_h, plan.m_w, plan.a_h, plan.a_w
        height = nt * mh + plan.r_h - 1
        xp = self._padded_block(x, plan, n0, n1, t0, t1)
        # column pass: X2[b] = columns tj·m_w + b of the block's rows (one strided
        # copy of the overlapping column windows), then Bᵀ_w over b
        s = xp.strides
        windows = np.lib.stride_tricks.as_strided(
            xp, shape=(aw, nb, height, ntw, c), strides=(s[2], s[0], s[1], s[2] * mw, s[3]),
            writeable=False)
        x2 = _scratch("x2", windows.shape, xp.dtype)
        np.copyto(x2, windows)
        r = _scratch("r", (aw, nb, height, ntw * c), xp.dtype)
        np.matmul(plan.bt_w, x2.reshape(aw, -1), out=r.reshape(aw, -1))
        # row pass: Bᵀ_h on overlapping row windows (a view), into position-major V
        v = _scratch("v", (aw, ah, nb, nt, ntw * c), xp.dtype) if out is None else out
        np.matmul(plan.bt_h, self._row_view(r, mh, nt, ah), out=v.transpose(0, 2, 3, 1, 4))
        return v.reshape(aw * ah, nb * nt * ntw, c) if out is None else out

    def _output_transform(self, m: np.ndarray, plan: _Plan, y: np.ndarray, n0, n1, t0, t1):
        """``y`` rows of tile rows ``t0:t1`` of images ``n0:n1`` from the products
        ``M`` ``(α_w·α_h, cols, O')``: ``A_hᵀ M A_w`` per tile, written in place
        (``y`` holds the ``O'`` channels ``M`` has)."""
        s = plan.spec
        o, nb, nt, ntw = m.shape[-1], n1 - n0, t1 - t0, plan.ntw
        mh, mw, ah, aw = plan.m_h, plan.m_w, plan.a_h, plan.a_w
        z1 = _scratch("z1", (aw, nb, nt, mh, ntw * o), s.dtype)
        np.matmul(plan.at_h, self._position_view(m, ah, aw, nb, nt, ntw * o), out=z1)
        z = _scratch("z2", (mw, nb, nt * mh, ntw, o), s.dtype)
        np.matmul(plan.at_w, z1.reshape(aw, -1), out=z.reshape(mw, -1))
        r0, r1 = t0 * mh, min(s.out_h, t1 * mh)
        tiles = z[:, :, :r1 - r0].transpose(1, 4, 2, 3, 0)          # (nb, O', rows, ntw, m_w)
        full, rest = s.out_w // mw, s.out_w % mw
        np.copyto(_split_last(y[n0:n1, :, r0:r1, :full * mw], full, mw), tiles[:, :, :, :full])
        if rest:                              # the last tile column is cut short
            y[n0:n1, :, r0:r1, full * mw:] = tiles[:, :, :, full, :rest]

    @staticmethod
    def _grouped(a: np.ndarray, groups: int) -> np.ndarray:
        """``(P, cols, g·k)`` viewed as ``(P, g, cols, k)`` (unit inner stride, for BLAS)."""
        p, cols, gk = a.shape
        return a.reshape(p, cols, groups, gk // groups).transpose(0, 2, 1, 3)

    def _products(self, u: np.ndarray, v: np.ndarray, plan: _Plan) -> np.ndarray:
        """``M_ξ = V_ξ U_ξᵀ`` per position and group: ``(P, cols, O')`` in scratch,
        for the ``O'`` output channels ``u`` ``(P, g, O'/g, C/g)`` holds."""
        s = plan.spec
        p, cols, _ = v.shape
        o = u.shape[1] * u.shape[2]
        m = _scratch("m", (p, cols, o), v.dtype)
        if s.c_in_per_group == 1:          # depthwise-like: an outer product per group
            np.multiply(v.reshape(p, cols, s.groups, 1), u.reshape(p, 1, s.groups, -1),
                        out=m.reshape(p, cols, s.groups, -1))
        else:
            np.matmul(self._grouped(v, s.groups), u.transpose(0, 1, 3, 2),
                      out=self._grouped(m, s.groups))
        return m

    # -- computing ----------------------------------------------------------------
    def forward_path(self, spec):
        """F(1×1, 1×1) has no transform: a pointwise layer is the product the
        direct and im2col backends run (:func:`~fftconv.backends.base.pointwise_forward`)."""
        return POINTWISE_PATH if is_pointwise(spec) else self.name

    def forward(self, x, w, spec):
        if is_pointwise(spec):
            return pointwise_forward(x, w, spec)
        return self._forward(x, w, spec, save=False)[0]

    def forward_saving(self, x, w, spec):
        """The forward and the plan its backward reuses. The transforms are not kept:
        the backward rebuilds ``U`` and each block's ``V`` in scratch, which costs
        less than first touching fresh memory for them (``U`` alone is
        ``α²·C·K`` floats) and keeps nothing of the size of the input alive."""
        if is_pointwise(spec):
            return pointwise_forward(x, w, spec), {}
        return self._forward(x, w, spec, save=True)

    def _kernel_transform_split(self, w, plan: _Plan, threads: int) -> np.ndarray:
        """:meth:`_kernel_transform` with its columns (kernels) split across the pool
        when the layer is large enough to be split."""
        s = plan.spec
        if threads < 2:
            return self._kernel_transform(w, plan)
        flat = np.asarray(w, dtype=s.dtype).reshape(s.c_out * s.c_in_per_group, s.kh * s.kw)
        shape = (plan.positions, s.groups, s.c_out_per_group, s.c_in_per_group)
        u = _scratch("u", shape, s.dtype)
        split_matmul(_kronecker(plan), flat.T, u.reshape(plan.positions, -1), threads)
        return u

    def _forward(self, x, w, spec, save: bool):
        plan = self.plan(spec)
        xp = np.asarray(x, dtype=spec.dtype)
        y = np.empty(spec.output_shape, dtype=spec.dtype)
        threads = plan.block_geometry()[-1]
        blocks, slabs = plan.blocks(), plan.slabs()
        with one_blas_thread():
            u = self._kernel_transform_split(w, plan, threads)
            if slabs:
                for block in blocks:
                    v = self._split_transform(self._input_transform, xp, plan, block,
                                              spec.c_in, "v_all", threads)

                    def run(slab, v=v, block=block):
                        o0, o1 = slab[:2]
                        m = self._products(u[:, :, o0:o1], v, plan)
                        self._output_transform(m, plan, y[:, o0:o1], *block)
                    run_parts(run, slabs)
            else:
                def run(part):
                    for block in part:
                        v = self._input_transform(xp, plan, *block)
                        self._output_transform(self._products(u, v, plan), plan, y, *block)
                run_parts(run, shares(blocks, threads))
        return y, ({"plan": (plan.m_h, plan.m_w)} if save else {})

    def grad_input(self, dy, w, spec):
        return self.backward(dy, None, w, spec, ("input",))[0]

    def grad_weight(self, dy, x, spec):
        return self.backward(dy, x, None, spec, ("weight",))[1]

    def backward(self, dy, x, w, spec, needs, saved=None):
        """Both gradients from one transform of ``dy`` per block (module notes):
        ``U`` is built once, in scratch, for ``dx``; each block's ``V`` is rebuilt
        for ``dw``."""
        saved = saved or {}
        plan = _Plan(spec, *saved["plan"]) if "plan" in saved else self.plan(spec)
        want_dx, want_dw = "input" in needs, "weight" in needs
        if not (want_dx or want_dw):
            return None, None
        threads = plan.block_geometry()[-1]
        blocks, slabs = plan.blocks(), plan.slabs()
        xp = np.asarray(x, dtype=spec.dtype) if want_dw else None
        dy = np.asarray(dy, dtype=spec.dtype)
        dx = np.zeros(spec.input_shape, dtype=spec.dtype) if want_dx else None
        with one_blas_thread():
            u = self._kernel_transform_split(w, plan, threads) if want_dx else None
            if slabs:
                dw = self._backward_by_slabs(dy, xp, u, dx, plan, blocks, slabs, want_dw)
            else:
                lock = threading.Lock()

                parts = shares(blocks, threads)

                def run(index):
                    du = None
                    for block in parts[index]:
                        dm = self._output_adjoint(dy, plan, *block)        # (P, cols, O)
                        if want_dx:
                            strip = self._input_adjoint(self._dv(dm, u, plan), plan, *block)
                            with lock:
                                self._add_strip(dx, strip, plan, block)
                        if want_dw:
                            du = self._du(dm, self._input_transform(xp, plan, *block), plan,
                                          du, f"du{index}")
                    return du
                dus = [d for d in run_parts(run, list(range(len(parts)))) if d is not None]
                dw = self._kernel_adjoint(add_up(dus), plan) if want_dw else None
        return dx, dw

    def _backward_by_slabs(self, dy, xp, u, dx, plan: _Plan, blocks, slabs, want_dw):
        """:meth:`backward` for few blocks, each split by channels (:meth:`_Plan.slabs`):
        per block, ``dM`` and ``V`` once, then each slab ``(o0, o1, c0, c1)`` its
        ``dV = dM U[:, :, c0:c1]`` and the input adjoint of those input channels,
        and ``dU[:, o0:o1] = Σ_blocks dM[:, :, o0:o1]ᵀ V`` and from it the rows
        ``o0:o1`` of ``dw``: disjoint parts of ``dx`` and ``dw``. Returns ``dw``
        (None without it)."""
        s = plan.spec
        dw = np.empty(s.weight_shape, dtype=s.dtype) if want_dw else None
        sums = [_scratch(f"du{j}", (plan.positions, o1 - o0, s.c_in), s.dtype)
                for j, (o0, o1, _, _) in enumerate(slabs)] if want_dw else None
        threads = len(slabs)
        for k, block in enumerate(blocks):
            dm = self._split_transform(self._output_adjoint, dy, plan, block, s.c_out,
                                       "dm_all", threads)
            v = (self._split_transform(self._input_transform, xp, plan, block, s.c_in,
                                       "v_all", threads) if want_dw else None)

            def run(j, dm=dm, v=v, block=block, first=k == 0, last=k == len(blocks) - 1):
                o0, o1, c0, c1 = slabs[j]
                if dx is not None:
                    strip = self._input_adjoint(self._dv(dm, u[..., c0:c1], plan), plan, *block)
                    self._add_strip(dx[:, c0:c1], strip, plan, block)
                if v is not None:
                    a = dm[:, :, o0:o1].transpose(0, 2, 1)                 # (P, o', cols)
                    if first:
                        np.matmul(a, v, out=sums[j])
                    else:
                        sums[j] += np.matmul(a, v, out=_scratch("du_part", sums[j].shape,
                                                                s.dtype))
                    if last:
                        dw[o0:o1] = self._kernel_adjoint(sums[j], plan)
            run_parts(run, list(range(len(slabs))))
        return dw

    def _dv(self, dm: np.ndarray, u: np.ndarray, plan: _Plan) -> np.ndarray:
        """``dV_ξ = dM_ξ U_ξ`` per position and group, ``(P, cols, C')`` in scratch,
        for the ``C'`` input channels ``u`` ``(P, g, O/g, C'/g)`` holds."""
        s, g = plan.spec, plan.spec.groups
        p, cols, _ = dm.shape
        dv = _scratch("dv", (p, cols, g * u.shape[-1]), s.dtype)
        if s.c_in_per_group == 1:
            np.sum(dm.reshape(p, cols, g, -1) * u.reshape(p, 1, g, -1), axis=-1, out=dv)
        else:
            np.matmul(self._grouped(dm, g), u, out=self._grouped(dv, g))
        return dv

    def _du(self, dm: np.ndarray, v: np.ndarray, plan: _Plan, du, name: str):
        """``du + dM_ξᵀ V_ξ`` per position and group ``(P, g, O/g, C/g)``, into the
        thread's scratch ``name`` (``du`` None: the first block's product alone;
        one name per share of blocks, since one pool thread may run two shares)."""
        s, g = plan.spec, plan.spec.groups
        shape = (plan.positions, g, s.c_out_per_group, s.c_in_per_group)
        a, b = self._grouped(dm, g).transpose(0, 1, 3, 2), self._grouped(v, g)
        if du is None:
            return np.matmul(a, b, out=_scratch(name, shape, s.dtype))
        du += np.matmul(a, b, out=_scratch("du_part", shape, s.dtype))
        return du

    @staticmethod
    def _add_strip(dx: np.ndarray, strip: np.ndarray, plan: _Plan, block):
        """Add a block's strip of the padded input's gradient (channels last,
        :meth:`_input_adjoint`) to ``dx`` ``(N, C', H, W)``, cropping the padding."""
        s = plan.spec
        n0, n1, t0, _ = block
        (pt, _), (pl, _) = s.padding
        top = t0 * plan.m_h
        lo, hi = max(top, pt), min(top + strip.shape[1], pt + s.h)
        wd = max(0, min(s.w, plan.cols - pl))
        if hi > lo and wd > 0:
            dx[n0:n1, :, lo - pt:hi - pt, :wd] += \
                strip[:, lo - top:hi - top, pl:pl + wd].transpose(0, 3, 1, 2)

    def _output_adjoint(self, dy, plan: _Plan, n0, n1, t0, t1, out=None) -> np.ndarray:
        """Adjoint of :meth:`_output_transform`: ``dM = A_h dY A_wᵀ`` per tile of
        the block's ``m_h × m_w`` blocks of ``dy``, ``(P, cols, O)`` in scratch;
        or written into ``out`` as :meth:`_input_transform` does."""
        s = plan.spec
        o, nb, nt, ntw = s.c_out, n1 - n0, t1 - t0, plan.ntw
        mh, mw, ah, aw = plan.m_h, plan.m_w, plan.a_h, plan.a_w
        r0, r1 = t0 * mh, min(s.out_h, t1 * mh)
        d = _scratch("d", (mw, nb, nt * mh, ntw, o), s.dtype)         # D[j, n, row, tj, o]
        d[:, :, r1 - r0:] = 0
        if s.out_w == ntw * mw:
            src = _split_last(dy[n0:n1, :, r0:r1], ntw, mw)
            np.copyto(d[:, :, :r1 - r0], src.transpose(4, 0, 2, 3, 1))
        else:                                 # the last tile column is cut short
            full, rest = s.out_w // mw, s.out_w % mw
            d[rest:, :, :r1 - r0, full] = 0
            np.copyto(d[:, :, :r1 - r0, :full],
                      _split_last(dy[n0:n1, :, r0:r1, :full * mw], full, mw)
                      .transpose(4, 0, 2, 3, 1))
            np.copyto(d[:rest, :, :r1 - r0, full],
                      dy[n0:n1, :, r0:r1, full * mw:].transpose(3, 0, 2, 1))
        z = _scratch("dz", (aw, nb, nt * mh, ntw * o), s.dtype)
        np.matmul(plan.at_w.T, d.reshape(mw, -1), out=z.reshape(aw, -1))
        dm = _scratch("dm", (aw, ah, nb, nt, ntw * o), s.dtype) if out is None else out
        np.matmul(plan.at_h.T, self._row_view(z, mh, nt, mh), out=dm.transpose(0, 2, 3, 1, 4))
        return dm.reshape(aw * ah, nb * nt * ntw, o) if out is None else out

    def _input_adjoint(self, dv, plan: _Plan, n0, n1, t0, t1) -> np.ndarray:
        """Adjoint of :meth:`_input_transform`: ``B_h dV B_wᵀ`` per tile, overlap-added
        (:meth:`_overlap_add`: a few strided adds, by offset class) into a strip of
        the padded input, channels last ``(nb, nt·m_h + r_h − 1, cols, C')``, in
        scratch."""
        s = plan.spec
        c, nb, nt, ntw = dv.shape[-1], n1 - n0, t1 - t0, plan.ntw
        mh, mw, ah, aw = plan.m_h, plan.m_w, plan.a_h, plan.a_w
        height = nt * mh + plan.r_h - 1
        rows = _scratch("rows", (aw, nb, nt, ah, ntw * c), s.dtype)
        np.matmul(plan.bt_h.T, self._position_view(dv, ah, aw, nb, nt, ntw * c), out=rows)
        r = _scratch("ra", (aw, nb, height, ntw * c), s.dtype)
        self._overlap_add(r, rows, 2, mh)
        z = _scratch("za", (aw, nb, height, ntw, c), s.dtype)
        np.matmul(plan.bt_w.T, r.reshape(aw, -1), out=z.reshape(aw, -1))
        strip = _scratch("strip", (nb, height, plan.cols, c), s.dtype)
        self._overlap_add(strip, z.transpose(1, 2, 3, 0, 4), 2, mw)
        return strip
