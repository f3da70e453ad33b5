"""The FFT backend: the convolution theorem done the way fast systems do it.

Recipe (Mathieu, Henaff & LeCun 2013, "Fast training of convolutional networks
through FFTs"; Vasilache et al. 2014, "fbfft"; NNPACK's tiled transforms):

1. **Reduce to stride 1.** Dilation is folded into the kernel (zeros between the
   taps, exact). A stride ``s > 1`` becomes a stride-1 problem by a polyphase
   (space-to-depth) split: ``xp[i·s + a]`` for phase ``a`` is its own channel, and
   so is ``w[p·s + a]``, giving ``C·s_h·s_w`` channels and a kernel of
   ``ceil(span / s)`` taps. Only the kept outputs are ever computed.
2. **Tile** (overlap-save). The padded input is cut into overlapping tiles of
   ``T = t + K - 1`` rows/columns (a fast length, ``2^a·m``, m ≤ 15), each of which yields
   ``t`` valid outputs; a tile covering the whole image is the untiled method. The
   tile size is chosen by the backend's cost model (:func:`fftconv.tiling.choose_tiles`
   rating each candidate by the fitted constants), so small
   kernels on large images get small, cache-resident transforms and large
   per-frequency matrix products (NNPACK).
3. **Transform each map once.** Every input tile, every kernel and every output
   gradient tile is transformed exactly once per call with real FFTs (``rfftn``)
   reading its two trailing, contiguous spatial axes (FFTW's fastest layout: unit
   stride along the transformed rows) and writing straight into the
   frequency-major layout ``(F, g, M, C/g)`` with ``F = T_h·(T_w/2+1)`` and
   ``M = N · tiles``; inverse transforms read that layout directly. FFTW takes
   any strides, so no separate transpose pass is needed: a contiguous transform
   followed by a numpy transpose would add a strided copy of every spectrum,
   which thrashes the cache.
4. **Reduce channels per frequency as a complex matrix product**:
   ``Y_f = X_f · conj(W_f)`` with ``(M × C_in/g) @ (C_in/g × C_out/g)`` per frequency
   and group: one batched GEMM, never ``C_in × C_out`` separate convolutions. When
   each product is large enough, the frequencies are split across threads.
5. **Backward reuses the forward's spectra** (fbfft), handed over explicitly. With ``DY`` the spectra of
   ``dy``'s ``t × t`` blocks zero-padded to ``T``::

       DX_f = DY_f · W_fᵀ          (full convolution, overlap-add of the tiles)
       DW_f = Σ_m X_fᵀ · conj(DY_f) (valid correlation, summed over tiles and batch)

   ``W`` and ``X`` come from the forward call (its saved context), ``DY`` is
   transformed once for both gradients.
6. **Kernel-sized transforms by DFT matrices** when cheaper: a kernel's spectrum
   is ``E_h · k · E_wᵀ`` with DFT matrices restricted to its ``kh × kw`` support
   (BLAS speed, frequency-major output), and the kernel gradient's ``kh × kw``
   taps are a pruned inverse the same way (:func:`support_dft_pays`).

Nothing is cached behind the caller's back: :meth:`FFTBackend.forward_saving`
returns the plan, the kernel spectrum and the input spectra with the output, and
the backward takes them from there (a :class:`fftconv.ConvContext` carries them
through :func:`fftconv.conv2d` and :func:`fftconv.conv2d_backward`). float32
stays float32 (complex64 spectra).

Accuracy: the rounding error of an FFT convolution is spread over the whole
output, with ``‖y − y_exact‖ ≲ c · ε · log₂(T) · ‖x‖·‖w‖`` per tile (ε the unit
roundoff) — a bound on the *norm*, not per element: an output much smaller than
the typical output carries the same absolute error. The relative error
``‖y − y_ref‖/‖y_ref‖`` is therefore a small multiple of ε (float32's or
float64's); the tests bound it (``fftconv.testing.tolerance``) and the asv
``NumericalError`` benchmark tracks it.
"""

from __future__ import annotations

import math
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .. import constants as _constants
from .. import fftlib
from .._spec import ConvSpec
from ..checks import is_int
from ..errors import bad_value
from ..tiling import TilePlan, choose_tiles, tile_lengths
from . import _nd
from .registry import register_backend
from ._parallel import even_slices, one_blas_thread, run_parts
from .base import Backend, estimate_seconds, get_memory_budget

__all__ = ["FFTBackend", "set_tile_size", "forced_tile_size", "support_dft_pays",
           "KERNEL_SHARE"]


# -- stride-1 geometry: polyphase split and dilation -----------------------------------

@dataclass(frozen=True)
class _Polyphase:
    """The stride-1 valid correlation a ConvSpec reduces to (module notes, step 1).

    ``rows × cols`` of the padded input are kept (a multiple of the stride), split
    into ``sh·sw`` phases of ``C_in`` channels each, against a kernel of ``kh × kw``
    polyphase taps.
    """

    spec: ConvSpec
    rows: int          # padded-input rows/cols kept (a multiple of the stride)
    cols: int
    kh: int            # taps of the polyphase kernel
    kw: int

    @property
    def phases(self) -> int:
        return self.spec.stride[0] * self.spec.stride[1]

    @property
    def channels(self) -> int:
        return self.spec.c_in * self.phases

    @classmethod
    def of(cls, spec: ConvSpec) -> "_Polyphase":
        (sh, sw) = spec.stride
        kh, kw = -(-spec.span_h // sh), -(-spec.span_w // sw)
        return cls(spec, (spec.out_h - 1 + kh) * sh, (spec.out_w - 1 + kw) * sw, kh, kw)


def _space_to_depth(a: np.ndarray, sh: int, sw: int) -> np.ndarray:
    """``(B, C, H·sh, W·sw) → (B, C·sh·sw, H, W)`` with ``[b, (c, i, j), y, x] = a[b, c, y·sh+i, x·sw+j]``."""
    b, c, h, w = a.shape
    if sh == sw == 1:
        return a
    a = a.reshape(b, c, h // sh, sh, w // sw, sw).transpose(0, 1, 3, 5, 2, 4)
    return a.reshape(b, c * sh * sw, h // sh, w // sw)


def _depth_to_space(a: np.ndarray, sh: int, sw: int) -> np.ndarray:
    """Inverse of :func:`_space_to_depth`."""
    if sh == sw == 1:
        return a
    b, c, h, w = a.shape
    a = a.reshape(b, c // (sh * sw), sh, sw, h, w).transpose(0, 1, 4, 2, 5, 3)
    return a.reshape(b, c // (sh * sw), h * sh, w * sw)


def _prepare_input(x: np.ndarray, poly: _Polyphase) -> np.ndarray:
    """Pad (and crop unused rows of) ``x``, then split it into stride phases."""
    spec = poly.spec
    (pt, _), (pl, _) = spec.padding
    if spec.stride == (1, 1) and (pt, pl) == (0, 0) and (poly.rows, poly.cols) == (spec.h, spec.w):
        return np.ascontiguousarray(x, dtype=spec.dtype)     # already the stride-1 input
    xp = np.zeros((x.shape[0], spec.c_in, poly.rows, poly.cols), dtype=spec.dtype)
    # Rows past poly.rows are never read (stride remainder): leave them out.
    h = max(0, min(spec.h, poly.rows - pt))
    w = max(0, min(spec.w, poly.cols - pl))
    xp[:, :, pt:pt + h, pl:pl + w] = x[:, :, :h, :w]
    return _space_to_depth(xp, *spec.stride)


def _covered(spec: ConvSpec) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks of the input rows and columns some window reads.

    Row ``u`` is read when ``u + pad_top = i·s + p·d`` for an output row ``i`` and a
    tap ``p``; stride remainders and stride/dilation lattices leave gaps.
    """
    masks = []
    for size, out, stride, dil, k, pad in ((spec.h, spec.out_h, spec.stride[0],
                                           spec.dilation[0], spec.kh, spec.padding[0][0]),
                                          (spec.w, spec.out_w, spec.stride[1],
                                           spec.dilation[1], spec.kw, spec.padding[1][0])):
        read = (np.arange(out)[:, None] * stride + np.arange(k)[None, :] * dil - pad).ravel()
        mask = np.zeros(size, dtype=bool)
        mask[read[(read >= 0) & (read < size)]] = True
        masks.append(mask)
    return masks[0], masks[1]


def _prepare_kernel(w: np.ndarray, poly: _Polyphase) -> np.ndarray:
    """Dilate ``w`` (zeros between taps) and split it into stride phases."""
    spec = poly.spec
    (sh, sw), (dh, dw) = spec.stride, spec.dilation
    k = np.zeros((spec.c_out, spec.c_in_per_group, poly.kh * sh, poly.kw * sw), dtype=spec.dtype)
    k[:, :, :spec.span_h:dh, :spec.span_w:dw] = w
    return _space_to_depth(k, sh, sw)


# -- tiled transforms ----------------------------------------------------------------

def _input_tiles(x_phases: np.ndarray, plan: TilePlan, a0: int, a1: int) -> np.ndarray:
    """Overlapping tiles of tile rows ``[a0, a1)``, batch-leading.

    ``x_phases`` is ``(B, C, R, S)`` (stride-1, padded). Returns the contiguous real array
    ``(B, a1-a0, ntw, C, th, tw)``, zero where a tile runs past the input. Rows of a
    tile stay contiguous, so the gather is a near-sequential copy; a single tile
    that is exactly ``x_phases`` is returned as a view (read-only use).
    """
    b, c, _, _ = x_phases.shape
    na = a1 - a0
    top = a0 * plan.t_h
    need_h = na * plan.t_h + plan.kh - 1
    need_w = plan.ntw * plan.t_w + plan.kw - 1
    # Pad so every tile lies inside the array; the extra zeros only reach outputs
    # beyond the last real one, which are discarded.
    src = x_phases[:, :, top:top + need_h, :need_w]
    if (plan.nth, plan.ntw) == (1, 1) and src.shape[2:] == (plan.th, plan.tw) \
            and src.flags.c_contiguous:
        return src.reshape(b, 1, 1, c, plan.th, plan.tw)
    if src.shape[2] < need_h or src.shape[3] < need_w:
        src = np.pad(src, ((0, 0), (0, 0), (0, need_h - src.shape[2]),
                           (0, need_w - src.shape[3])))
    s = src.strides
    view = np.lib.stride_tricks.as_strided(
        src, shape=(b, na, plan.ntw, c, plan.th, plan.tw),
        strides=(s[0], s[2] * plan.t_h, s[3] * plan.t_w, s[1], s[2], s[3]), writeable=False)
    tiles = fftlib.empty_aligned(view.shape, view.dtype)   # a fresh, aligned copy
    np.copyto(tiles, view)
    return tiles


def _output_blocks(dy: np.ndarray, plan: TilePlan, a0: int, a1: int) -> np.ndarray:
    """Non-overlapping ``t_h × t_w`` blocks of ``dy`` zero-padded to ``th × tw``.

    Returns ``(B, a1-a0, ntw, C_out, th, tw)``, aligned with :func:`_input_tiles`.
    """
    b, o, _, ow = dy.shape
    na = a1 - a0
    blocks = np.zeros((b, o, na * plan.t_h, plan.ntw * plan.t_w), dtype=dy.dtype)
    part = dy[:, :, a0 * plan.t_h:a1 * plan.t_h]
    blocks[:, :, :part.shape[2], :ow] = part
    blocks = blocks.reshape(b, o, na, plan.t_h, plan.ntw, plan.t_w)
    out = fftlib.zeros_aligned((b, na, plan.ntw, o, plan.th, plan.tw), dy.dtype)
    out[..., :plan.t_h, :plan.t_w] = blocks.transpose(0, 2, 4, 1, 3, 5)
    return out


def _spectra(tiles: np.ndarray, groups: int) -> np.ndarray:
    """Real FFT of ``(..., C, th, tw)`` maps, returned frequency-major ``(F, g, M, C/g)``.

    The transform reads the maps over their trailing, contiguous axes and writes
    straight into the frequency-major layout (FFTW takes any output strides), so
    every frequency gets its own ``M × C/g`` matrix for the per-frequency products
    without a separate transpose pass (``M`` = all leading axes).
    """
    c, th, tw = tiles.shape[-3:]
    m = tiles.size // (c * th * tw)
    fh, fw = th, tw // 2 + 1
    spectra = fftlib.empty_aligned((fh, fw, groups, m, c // groups),
                                   np.result_type(tiles.dtype, np.complex64))
    fftlib.rfftn_into(tiles.reshape(m, groups, c // groups, th, tw),
                      spectra.transpose(3, 2, 4, 0, 1), axes=(-2, -1))
    return spectra.reshape(fh * fw, groups, m, c // groups)


def _inverse(spectra: np.ndarray, plan: TilePlan, order: tuple,
             scaled: bool = True) -> np.ndarray:
    """Real inverse transforms of the frequency-major ``(F, a, b, c)`` ``spectra``.

    Returns the contiguous real maps ``(a, b, c)`` permuted by ``order`` (a
    permutation of ``(0, 1, 2)``), each ``th × tw``. ``spectra`` is consumed
    (FFTW's complex-to-real transforms overwrite their input). ``scaled=False``
    when the ``1/(th·tw)`` is already in the spectra (the cached kernel's).
    """
    fh, fw = plan.spectrum_shape
    maps = spectra.reshape(fh, fw, *spectra.shape[1:]).transpose(*(2 + i for i in order), 0, 1)
    out = fftlib.empty_aligned(maps.shape[:3] + (plan.th, plan.tw),
                               np.finfo(spectra.dtype).dtype)
    return fftlib.irfftn_into(maps, out, axes=(-2, -1), scaled=scaled)


def _maps(spectra: np.ndarray, plan: TilePlan, scaled: bool = True) -> np.ndarray:
    """Inverse of :func:`_spectra`: ``(F, g, M, C/g)`` → real ``(M, C, th, tw)``.

    ``spectra`` is consumed; ``scaled`` as for :func:`_inverse`.
    """
    _, g, m, cg = spectra.shape
    return _inverse(spectra, plan, (1, 0, 2), scaled).reshape(m, g * cg, plan.th, plan.tw)


#: Complex multiply-adds per frequency, and in all, above which the per-frequency
#: products are split across threads. Below them each product is a few hundred
#: flops, or the whole too short to repay waking a thread.
THREADED_PRODUCT_MIN_MACS = 1024
THREADED_PRODUCT_MIN_TOTAL = 1 << 23


def _per_frequency_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` for stacks ``(F, g, m, k) @ (F, g, k, n)``, one product per frequency.

    numpy runs the ``F·g`` small BLAS products one after another on one core; when
    each is large enough, the frequency axis is split across the FFT engine's
    threads (numpy releases the GIL inside ``matmul``).
    """
    f, g, m, k = a.shape
    out = fftlib.empty_aligned((f, g, m, b.shape[-1]), np.result_type(a, b))
    threads = min(fftlib.get_fft_engine().threads, f)
    # Many small GEMMs: BLAS workers woken for them cost more than they give and
    # keep spinning next to FFTW's threads; split the frequencies instead.
    with one_blas_thread():
        macs = g * m * k * b.shape[-1]
        if threads < 2 or macs < THREADED_PRODUCT_MIN_MACS \
                or f * macs < THREADED_PRODUCT_MIN_TOTAL:
            return np.matmul(a, b, out=out)
        run_parts(lambda p: np.matmul(a[p], b[p], out=out[p]), even_slices(f, threads))
    return out


@lru_cache(maxsize=64)
def _twiddles(n: int, taps: int, sign: int, dtype: str) -> np.ndarray:
    """``exp(sign·2πi·f·t/n)`` for frequencies ``f < n`` and taps ``t < taps``, ``(n, taps)``."""
    f = np.arange(n)[:, None]
    t = np.arange(taps)[None, :]
    matrix = np.exp(sign * 2j * np.pi * ((f * t) % n) / n).astype(dtype)
    matrix.flags.writeable = False
    return matrix


def support_dft_pays(kh: int, kw: int, th: int, tw: int, margin: float = 2.0) -> bool:
    """Whether the kernel-sized transforms are cheaper as matrix products.

    A kernel occupies ``kh × kw`` of its ``th × tw`` transform: its spectrum is
    ``E_h · k · E_wᵀ`` with DFT matrices restricted to the support, about
    ``kh·fw·(kw + th)`` multiply-adds per map (``fw = tw//2 + 1``) against
    ``th·tw·log₂(th·tw)`` for an FFT of the zero-padded map. The products run at
    BLAS speed while FFTW has to write these tiny transforms strided into the
    frequency-major layout, so the matrices win even at ``margin = 2`` times the
    count. The pruned inverse of the kernel gradient uses ``margin = 1``: it
    reads every frequency of every kernel (a ``th``-deep product), which leaves it
    no advantage beyond its count.

    Examples
    --------
    >>> support_dft_pays(3, 3, 18, 18), support_dft_pays(31, 31, 256, 256, margin=1)
    (True, False)
    """
    return kh * (tw // 2 + 1) * (kw + th) <= margin * th * tw * math.log2(max(th * tw, 2))


def _small_support_pays(plan: TilePlan) -> bool:
    return support_dft_pays(plan.kh, plan.kw, plan.th, plan.tw)


def _pruned_inverse_pays(plan: TilePlan) -> bool:
    return support_dft_pays(plan.kh, plan.kw, plan.th, plan.tw, margin=1.0)


def _kernel_spectrum(k_phases: np.ndarray, plan: TilePlan, groups: int) -> np.ndarray:
    """``conj(W) / (th·tw)``, frequency-major ``(F, g, C/g, O/g)``.

    The conjugate is what the forward correlation multiplies by, and the inverse
    transform's ``1/(th·tw)`` is folded in, so the inverse transforms of products
    with it skip their scaling pass. ``k_phases`` is ``(O, C/g, kh, kw)``; each of
    its ``O·C/g`` kernels is transformed once, by DFT matrices on its support
    when that is cheaper (:func:`_small_support_pays`), else as a zero-padded
    ``th × tw`` map.
    """
    o, cg, kh, kw = k_phases.shape
    # (O, C/g) → (g, C/g, O/g) so that "maps" are the group's input channels.
    maps = k_phases.reshape(groups, o // groups, cg, kh, kw).transpose(0, 2, 1, 3, 4)
    cdtype = np.result_type(k_phases.dtype, np.complex64)
    if _small_support_pays(plan):
        spectra = _support_spectra(maps, plan, cdtype)
    else:
        padded = fftlib.zeros_aligned(maps.shape[:3] + (plan.th, plan.tw), k_phases.dtype)
        padded[..., :kh, :kw] = maps
        spectra = _spectra(padded.reshape(groups * cg, o // groups, plan.th, plan.tw), 1)
        np.conjugate(spectra, out=spectra)
        spectra *= 1.0 / (plan.th * plan.tw)
    return spectra.reshape(-1, groups, cg, o // groups)


def _support_spectra(maps: np.ndarray, plan: TilePlan, cdtype) -> np.ndarray:
    """``conj(DFT(maps)) / (th·tw)`` of ``(a, b, c, kh, kw)`` maps, as ``(F, a·b·c)``.

    ``Ŵ[u, v] = Σ_{p,q} w[p, q] e^{-2πi(up/th + vq/tw)}``: one product with the
    ``(kw × fw)`` DFT matrix over the columns, one with ``(th × kh)`` over the
    rows, which leaves the result frequency-major without a transpose of the
    output. Conjugate twiddles give ``conj(Ŵ)`` directly.
    """
    *lead, kh, kw = maps.shape
    n = math.prod(lead)
    fw = plan.tw // 2 + 1
    e_w = _twiddles(plan.tw, kw, +1, np.dtype(cdtype).str)[:fw]        # (fw, kw)
    e_h = _twiddles(plan.th, kh, +1, np.dtype(cdtype).str)              # (th, kh)
    with one_blas_thread():
        cols = np.ascontiguousarray(maps, dtype=cdtype).reshape(n * kh, kw) @ e_w.T
        # (n, kh, fw) → (kh, fw·n), then the row transform lands on (th, fw, n)
        rows = np.ascontiguousarray(cols.reshape(n, kh, fw).transpose(1, 2, 0))
        spectra = (e_h * (1.0 / (plan.th * plan.tw))) @ rows.reshape(kh, fw * n)
    return spectra.reshape(plan.th * fw, n)


def _support_inverse(spectra: np.ndarray, plan: TilePlan) -> np.ndarray:
    """The first ``kh × kw`` taps of the real inverse of ``(F, a, b, c)`` spectra.

    A pruned inverse by DFT matrices: rows ``p < kh`` first
    (``(kh × th) @ (th × fw·maps)``), then the half-spectrum columns for
    ``q < kw``, where every frequency ``0 < v < tw/2`` stands for itself and its
    Hermitian mirror (weight 2). Returns real ``(a, c, b, kh, kw)`` — the maps
    in kernel order ``(g, O/g, C/g)`` as :func:`_inverse` with ``(0, 2, 1)``.
    """
    f, a, b, c = spectra.shape
    fw = plan.tw // 2 + 1
    n = a * b * c
    cdtype = spectra.dtype
    e_h = _twiddles(plan.th, plan.kh, +1, cdtype.str).T                 # (kh, th)
    weights = np.full(fw, 2.0)
    weights[0] = 1.0
    if plan.tw % 2 == 0:
        weights[-1] = 1.0
    e_w = (_twiddles(plan.tw, plan.kw, +1, cdtype.str)[:fw]
           * weights[:, None]).astype(cdtype)                             # (fw, kw)
    with one_blas_thread():
        rows = e_h @ spectra.reshape(plan.th, fw * n)                     # (kh, fw·n)
        per_map = np.ascontiguousarray(rows.reshape(plan.kh, fw, a, b, c)
                                       .transpose(0, 2, 4, 3, 1))         # (kh, a, c, b, fw)
        taps = (per_map.reshape(-1, fw) @ e_w).real                       # (kh·a·c·b, kw)
    taps = taps.reshape(plan.kh, a, c, b, plan.kw).transpose(1, 2, 3, 0, 4)
    return taps * (1.0 / (plan.th * plan.tw))


def _chunks(batch: int, plan: TilePlan, bytes_per_tile: int, budget: int):
    """``(n0, n1, a0, a1)`` blocks of images / tile rows whose spectra fit ``budget``."""
    row_bytes = bytes_per_tile * plan.ntw
    image_bytes = row_bytes * plan.nth
    if image_bytes <= budget:
        step = max(1, budget // image_bytes)
        for n0 in range(0, batch, step):
            yield n0, min(n0 + step, batch), 0, plan.nth
    else:
        rows = max(1, budget // row_bytes)
        for n0 in range(batch):
            for a0 in range(0, plan.nth, rows):
                yield n0, n0 + 1, a0, min(a0 + rows, plan.nth)


_TILE_SIZE: ContextVar = ContextVar("fftconv_fft_tile_size", default=None)


def forced_tile_size() -> tuple[int, int] | None:
    """The ``(th, tw)`` forced by an enclosing :func:`set_tile_size`, else None.

    Examples
    --------
    >>> with set_tile_size(16, 32):
    ...     forced_tile_size()
    (16, 32)
    >>> forced_tile_size() is None
    True
    """
    return _TILE_SIZE.get()


@contextmanager
def set_tile_size(th: int, tw: int | None = None):
    """Force the FFT transform (tile) size inside the ``with`` block.

    By default the cost model picks it per layer (:meth:`FFTBackend.plan`);
    forcing it is for studying the tiling trade-off. ``th`` / ``tw`` must be at least
    the (polyphase) kernel size of every layer run inside the block; results do not
    depend on the tile size beyond rounding.

    Examples
    --------
    >>> import numpy as np, fftconv
    >>> from fftconv.backends.fft import set_tile_size
    >>> x, w = np.ones((1, 1, 40, 40)), np.ones((1, 1, 3, 3))
    >>> with set_tile_size(8):          # 6 x 6 outputs per 8 x 8 transform
    ...     y = fftconv.conv2d(x, w, backend="fft")
    >>> bool(np.allclose(y, 9.0))
    True
    """
    tw = th if tw is None else tw
    for name, value in (("th", th), ("tw", tw)):
        if not is_int(value) or value < 1:
            raise bad_value("set_tile_size", name, value, "a positive int")
    token = _TILE_SIZE.set((int(th), int(tw)))
    try:
        yield (int(th), int(tw))
    finally:
        _TILE_SIZE.reset(token)


#: Weight of the kernel transforms when choosing the tile size. Kernel spectra
#: are reused by the backward pass (from the forward's context), which does
#: about three times the forward's map work with them; counting them in full
#: favours narrow tiles with small kernel spectra, which lose once the spectra
#: are shared.
KERNEL_SHARE = 0.25


def _features_at(spec: ConvSpec, plan: TilePlan, kernel_share: float = 1.0) -> dict:
    """Cost features of the FFT forward of ``spec`` at tiling ``plan``.

    The map transforms ``(input + output maps) · points · log₂ points`` and the
    number of maps, the kernels' transforms (FFT work too, or the spectrum
    elements that DFT matrices on their support write, :func:`support_dft_pays`)
    weighted by ``kernel_share``, the per-frequency complex GEMMs (flops, and
    one product per frequency and group), one call (Mathieu et al. 2013 count
    the same terms).
    """
    poly = _Polyphase.of(spec)
    c_in = poly.channels
    points = plan.th * plan.tw
    maps = spec.n * (c_in + spec.c_out) * plan.tiles
    kernels = spec.c_out * c_in // spec.groups
    freqs = plan.th * (plan.tw // 2 + 1)
    log_points = math.log2(max(points, 2))
    transforms = maps * points * log_points
    spectrum_elements = 0.0
    if _small_support_pays(plan):       # the spectra written dominate: ∝ kernels × freqs
        spectrum_elements = kernel_share * kernels * freqs
    else:
        transforms += kernel_share * kernels * points * log_points
        maps += kernel_share * kernels
    return {"fft": transforms, "maps": float(maps), "kernel_dft": spectrum_elements,
            "cgemm_flops": 8.0 * freqs * spec.n * plan.tiles * c_in * spec.c_out / spec.groups,
            "cgemm_calls": freqs * spec.groups, "call": 1.0}


@lru_cache(maxsize=4096)
def _cheapest_tiles(spec: ConvSpec, weights: tuple, generation: int) -> TilePlan:
    """The tiling of ``spec`` with the lowest estimate (kernels at :data:`KERNEL_SHARE`).

    ``weights`` are the constants in force as sorted ``(feature, seconds)`` pairs
    and ``generation`` that of :mod:`fftconv.constants`, so a new calibration
    plans again.
    """
    poly = _Polyphase.of(spec)
    table = dict(weights)
    return choose_tiles((spec.out_h, spec.out_w), (poly.kh, poly.kw),
                        lambda plan: estimate_seconds(_features_at(spec, plan, KERNEL_SHARE),
                                                      table))


@register_backend
class FFTBackend(Backend):
    """Convolution theorem with tiling, per-frequency GEMMs and spectrum reuse."""

    name = "fft"
    #: Fitted by ``fftconv calibrate --repeats 7`` on a 2-core x86-64 machine
    #: (pyFFTW engine, 2 threads); seconds per unit of each of :meth:`features`.
    shipped_constants = {
        "float32": {"call": 0.0002226, "cgemm_calls": 0, "cgemm_flops": 2.178e-11,
                    "fft": 4.01e-10, "kernel_dft": 2.432e-09, "maps": 9.826e-10},
        "float64": {"call": 0.0001838, "cgemm_calls": 0, "cgemm_flops": 3.21e-11,
                    "fft": 5.225e-10, "kernel_dft": 4.404e-09, "maps": 2.324e-09},
    }
    #: conv1d and conv3d run the untiled N-d transform of :mod:`._nd` (one
    #: transform over all spatial axes; the 2-D path tiles)
    ranks = (1, 2, 3)

    # -- planning --------------------------------------------------------------
    def plan(self, spec: ConvSpec) -> tuple[_Polyphase, TilePlan]:
        """The stride-1 reduction of ``spec`` and its tiling: forced by
        :func:`set_tile_size`, else the cheapest by the cost model."""
        poly = _Polyphase.of(spec)
        forced = _TILE_SIZE.get()
        if forced is None:
            weights = tuple(sorted(self.weights(spec.dtype).items()))
            return poly, _cheapest_tiles(spec, weights, _constants.generation())
        if forced[0] < poly.kh or forced[1] < poly.kw:
            raise bad_value("set_tile_size", "th, tw", forced,
                            f"at least the polyphase kernel size ({poly.kh}, {poly.kw}) "
                            f"of {spec}")
        return poly, TilePlan.make(forced, (poly.kh, poly.kw), (spec.out_h, spec.out_w))

    def working_set(self, spec):
        """The kernel spectra and the tiles of one tile row of one image (the
        smallest chunk), at the tiling the backend runs."""
        if spec.rank != 2:      # the whole spectra: input, output and kernel maps
            plan = _nd.SpectralPlan.of(spec)
            maps = spec.n * (plan.channels + spec.c_out) + spec.c_out * plan.channels // spec.groups
            return maps * plan.frequencies * 2 * spec.dtype.itemsize
        poly, plan = self.plan(spec)
        fh, fw = plan.spectrum_shape
        kernels = spec.c_out * poly.channels // spec.groups * fh * fw * 2 * spec.dtype.itemsize
        return kernels + self._tile_bytes(spec, poly, plan) * plan.ntw

    def features(self, spec):
        """Features at the tiling the backend runs (:func:`_features_at`; the
        untiled transform's, :func:`._nd.spectral_features`, on other ranks)."""
        if spec.rank != 2:
            return _nd.spectral_features(spec)
        return _features_at(spec, self.plan(spec)[1])

    def backward_features(self, spec):
        """Both gradients in the forward's units (:meth:`backward`): ``dy``'s
        spectra and the inverse transforms of ``dx`` and ``dw`` are as many
        transforms as the forward's, the input spectra and kernel spectrum come
        from it, and the per-frequency products run twice (``dX = dY Wᴴ``,
        ``dW = dYᵀ X̄``). (Other ranks: the seed formulas' two forwards.)"""
        if spec.rank != 2:
            return super().backward_features(spec)
        fwd = self.features(spec)
        return {**fwd, "cgemm_flops": 2.0 * fwd["cgemm_flops"],
                "cgemm_calls": 2.0 * fwd["cgemm_calls"]}

    def context_key(self):
        return _TILE_SIZE.get()

    def calibration_cases(self, spec):
        """The single tile, the smallest, a middle square-ish one and the model's
        choice: timing several tilings of each layer lets the fit see what a tile
        size costs, which the tile choice then depends on."""
        poly = _Polyphase.of(spec)
        cand_h, cand_w = tile_lengths(spec.out_h, poly.kh), tile_lengths(spec.out_w, poly.kw)
        chosen = _cheapest_tiles(spec, tuple(sorted(self.weights(spec.dtype).items())),
                                 _constants.generation()).transform
        picks = {(cand_h[-1], cand_w[-1]), (cand_h[0], cand_w[0]),
                 (cand_h[len(cand_h) // 2], cand_w[len(cand_w) // 2]), chosen}
        out = (spec.out_h, spec.out_w)
        return [(pick, _features_at(spec, TilePlan.make(pick, (poly.kh, poly.kw), out)))
                for pick in sorted(picks)]

    def calibration_setting(self, setting):
        """``set_tile_size(*setting)``, or the backend as it is for ``None``."""
        return nullcontext() if setting is None else set_tile_size(*setting)

    def _tile_bytes(self, spec: ConvSpec, poly: _Polyphase, plan: TilePlan) -> int:
        fh, fw = plan.spectrum_shape
        itemsize = np.dtype(spec.dtype).itemsize
        # real tiles + complex spectra of the input and output maps of one tile
        return (poly.channels + spec.c_out) * (plan.th * plan.tw + 2 * fh * fw) * itemsize

    # -- forward ---------------------------------------------------------------
    def forward(self, x, w, spec):
        if spec.rank != 2:
            return _nd.spectral_forward(x, w, spec)[0]
        return self._forward(x, w, spec, save=False)[0]

    def forward_saving(self, x, w, spec):
        """The forward, and the plan and spectra its backward reuses: the kernel
        spectrum, and the input's spectra when they were computed in one piece."""
        if spec.rank != 2:
            return _nd.spectral_forward(x, w, spec, save=True)
        return self._forward(x, w, spec, save=True)

    def _forward(self, x, w, spec, save: bool):
        poly, plan = self.plan(spec)
        g = spec.groups
        x_phases = _prepare_input(x, poly)
        kspec = _kernel_spectrum(_prepare_kernel(w, poly), plan, g)          # conj(W)
        chunks = list(_chunks(spec.n, plan, self._tile_bytes(spec, poly, plan),
                              get_memory_budget()))
        saved = {"plan": plan, "kernel_spectrum": kspec} if save else {}
        y = np.empty(spec.output_shape, dtype=spec.dtype)
        for n0, n1, a0, a1 in chunks:
            xspec = _spectra(_input_tiles(x_phases[n0:n1], plan, a0, a1), g)   # (F, g, M, Cg)
            if save and len(chunks) == 1:
                saved["input_spectra"] = xspec
            product = _per_frequency_matmul(xspec, kspec)                   # (F, g, M, Og)
            tiles = _maps(product, plan, scaled=False)                      # (M, O, th, tw)
            self._write_valid(tiles, plan, spec, y, n0, n1, a0, a1)
        return y, saved

    @staticmethod
    def _write_valid(tiles, plan: TilePlan, spec: ConvSpec, y, n0, n1, a0, a1):
        """Scatter the valid ``t_h × t_w`` corner of every ``(M, O, th, tw)`` tile into ``y``."""
        na = a1 - a0
        valid = tiles[:, :, :plan.t_h, :plan.t_w].reshape(
            n1 - n0, na, plan.ntw, spec.c_out, plan.t_h, plan.t_w)
        block = valid.transpose(0, 3, 1, 4, 2, 5).reshape(
            n1 - n0, spec.c_out, na * plan.t_h, plan.ntw * plan.t_w)
        r0 = a0 * plan.t_h
        r1 = min(spec.out_h, a1 * plan.t_h)
        y[n0:n1, :, r0:r1] = block[:, :, :r1 - r0, :spec.out_w]

    # -- circular padding ----------------------------------------------------------
    def circular(self, spec: ConvSpec) -> str | None:
        """``None`` when the layer ``spec`` with its padding read as *circular*
        (``padding_mode='circular'``) is one cyclic correlation of the input's own
        size (:func:`._nd.cyclic_applies`: stride 1, the dilated kernel within
        each axis, at most as many outputs as inputs), else why not. The DFT is
        already circular, so then nothing is padded."""
        return _nd.cyclic_applies(spec)

    def forward_circular(self, x, w, spec, save=False):
        """``(y, saved)`` of the circularly padded layer ``spec`` on the unpadded ``x``."""
        return _nd.cyclic_forward(x, w, spec, save=save)

    def backward_circular(self, dy, x, w, spec, needs, saved=None):
        """``(dx, dw)`` of :meth:`forward_circular` (``dx`` of the unpadded ``x``)."""
        return _nd.cyclic_backward(dy, x, w, spec, needs, saved)

    # -- backward --------------------------------------------------------------
    def grad_input(self, dy, w, spec):
        return self.backward(dy, None, w, spec, ("input",))[0]

    def grad_weight(self, dy, x, spec):
        return self.backward(dy, x, None, spec, ("weight",))[1]

    def backward(self, dy, x, w, spec, needs, saved=None):
        """Both gradients from one transform of ``dy`` (see the module notes); the
        plan, kernel spectrum and input spectra of ``saved`` are reused."""
        if spec.rank != 2:
            return _nd.spectral_backward(dy, x, w, spec, needs, saved)
        saved = saved or {}
        poly = _Polyphase.of(spec)
        plan = saved.get("plan") or self.plan(spec)[1]
        g = spec.groups
        want_dx, want_dw = "input" in needs, "weight" in needs
        kspec_t = None
        if want_dx:                                       # Wᵀ/(th·tw): (F, g, Og, Cg)
            kspec = saved.get("kernel_spectrum")
            if kspec is None:
                kspec = _kernel_spectrum(_prepare_kernel(w, poly), plan, g)
            kspec_t = np.conj(kspec).swapaxes(-1, -2)
        saved_x = saved.get("input_spectra") if want_dw else None
        x_phases = _prepare_input(x, poly) if want_dw and saved_x is None else None
        chunks = list(_chunks(spec.n, plan, self._tile_bytes(spec, poly, plan),
                              get_memory_budget()))
        cq = poly.channels // g
        dx_phases = (np.zeros((spec.n, poly.channels, (plan.nth + 1) * plan.t_h + plan.kh,
                         (plan.ntw + 1) * plan.t_w + plan.kw), dtype=spec.dtype)
               if want_dx else None)
        dwspec = None
        for n0, n1, a0, a1 in chunks:
            dyspec = _spectra(_output_blocks(dy[n0:n1], plan, a0, a1), g)   # (F, g, M, Og)
            if want_dx:
                full = _maps(_per_frequency_matmul(dyspec, kspec_t), plan, scaled=False)
                self._add_full(full, plan, dx_phases, n0, n1, a0, a1)
            if want_dw:
                xspec = saved_x if saved_x is not None else \
                    _spectra(_input_tiles(x_phases[n0:n1], plan, a0, a1), g)
                part = _per_frequency_matmul(xspec.swapaxes(-1, -2),
                                             np.conjugate(dyspec, out=dyspec))
                if dwspec is None:
                    dwspec = part                                      # (F, g, Cg, Og)
                else:
                    dwspec += part
        dx = dw = None
        if want_dx:
            dxp = _depth_to_space(dx_phases[:, :, :poly.rows // spec.stride[0],
                                      :poly.cols // spec.stride[1]], *spec.stride)
            (pt, _), (pl, _) = spec.padding
            dx = np.zeros(spec.input_shape, dtype=spec.dtype)
            h = max(0, min(spec.h, poly.rows - pt))
            wd = max(0, min(spec.w, poly.cols - pl))
            dx[:, :, :h, :wd] = dxp[:, :, pt:pt + h, pl:pl + wd]
            # Inputs no window reads get exactly zero, as autograd returns (the
            # transforms would leave rounding noise there).
            rows, cols = _covered(spec)
            if not (rows.all() and cols.all()):
                dx *= rows[:, None] & cols[None, :]
        if want_dw:
            # (F, g, Cq/g, O/g) → inverse per kernel (g, O/g, Cq/g) → first kh × kw taps
            if _pruned_inverse_pays(plan):
                kq = _support_inverse(dwspec, plan).reshape(spec.c_out, cq, plan.kh, plan.kw)
            else:
                kq = _inverse(dwspec, plan, (0, 2, 1)).reshape(
                    spec.c_out, cq, plan.th, plan.tw)[:, :, :plan.kh, :plan.kw]
            full = _depth_to_space(kq, *spec.stride)
            (dh, dwl) = spec.dilation
            dw = np.ascontiguousarray(full[:, :, :spec.span_h:dh, :spec.span_w:dwl])
        return dx, dw

    @staticmethod
    def _add_full(tiles, plan: TilePlan, dx_phases, n0, n1, a0, a1):
        """Overlap-add full-convolution tiles ``(M, C, th, tw)`` into ``dx_phases``.

        Tile ``(a, b)`` covers rows ``[a·t_h, a·t_h + th)``: its rows are cut into
        ``t_h``-high parts that land in consecutive blocks (likewise columns).
        """
        b = n1 - n0
        c = dx_phases.shape[1]
        na = a1 - a0
        if (plan.nth, plan.ntw) == (1, 1):          # one tile: nothing overlaps
            dx_phases[n0:n1, :, :plan.th, :plan.tw] = tiles.reshape(b, c, plan.th, plan.tw)
            return
        t = tiles.reshape(b, na, plan.ntw, c, plan.th, plan.tw).transpose(0, 3, 1, 4, 2, 5)
        for u in range(0, plan.th, plan.t_h):
            hu = min(plan.t_h, plan.th - u)
            for v in range(0, plan.tw, plan.t_w):
                wv = min(plan.t_w, plan.tw - v)
                row0 = a0 * plan.t_h + u
                target = dx_phases[n0:n1, :, row0:row0 + na * plan.t_h, v:v + plan.ntw * plan.t_w]
                target = target.reshape(b, c, na, plan.t_h, plan.ntw, plan.t_w)
                target[:, :, :, :hu, :, :wv] += t[:, :, :, u:u + hu, :, v:v + wv]
