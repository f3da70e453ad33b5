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
   tile size is chosen by the cost model in :mod:`fftconv.select`, so small
   kernels on large images get small, cache-resident transforms and large
   per-frequency matrix products (NNPACK).
3. **Transform each map once.** Every input tile, every kernel and every output
   gradient tile is transformed exactly once per call with real FFTs (``rfftn``)
   reading its two trailing, contiguous spatial axes (FFTW's fastest layout, ~1.7×
   faster than transforming leading axes) and writing straight into the
   frequency-major layout ``(F, g, M, C/g)`` with ``F = T_h·(T_w/2+1)`` and
   ``M = N · tiles``; inverse transforms read that layout directly. FFTW takes
   any strides, and this measured 1.1–3× faster than a contiguous transform
   followed by a numpy transpose (whose strided copies thrash the cache).
4. **Reduce channels per frequency as a complex matrix product**:
   ``Y_f = X_f · conj(W_f)`` with ``(M × C_in/g) @ (C_in/g × C_out/g)`` per frequency
   and group: one batched GEMM, never ``C_in × C_out`` separate convolutions. When
   each product is large enough, the frequencies are split across threads.
5. **Backward reuses the forward's spectra** (fbfft). With ``DY`` the spectra of
   ``dy``'s ``t × t`` blocks zero-padded to ``T``::

       DX_f = DY_f · W_fᵀ          (full convolution, overlap-add of the tiles)
       DW_f = Σ_m X_fᵀ · conj(DY_f) (valid correlation, summed over tiles and batch)

   ``W`` and ``X`` come from the forward call (an exact-content cache), ``DY`` is
   transformed once for both gradients.
6. **Kernel-sized transforms by DFT matrices** when cheaper: a kernel's spectrum
   is ``E_h · k · E_wᵀ`` with DFT matrices restricted to its ``kh × kw`` support
   (BLAS speed, frequency-major output), and the kernel gradient's ``kh × kw``
   taps are a pruned inverse the same way (:func:`support_dft_pays`).

Kernel spectra are cached for inference (same weights, many inputs) and validated
against an exact copy of the weights, so any change to the weights invalidates
them. float32 stays float32 (complex64 spectra).

Accuracy: the rounding error of an FFT convolution is spread over the whole
output, with ``‖y − y_exact‖ ≲ c · ε · log₂(T) · ‖x‖·‖w‖`` per tile (ε the unit
roundoff) — a bound on the *norm*, not per element: an output much smaller than
the typical output carries the same absolute error. Measured relative errors
``‖y − y_ref‖/‖y_ref‖`` are ~1e-7 in float32 and ~1e-16 in float64 (tested ≤ 1e-5
and ≤ 1e-12).
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .. import fftlib
from .._spec import ConvSpec
from ..checks import is_int
from ..errors import bad_value
from . import register_backend
from ._parallel import even_slices, one_blas_thread, run_parts
from .base import Backend, get_memory_budget

__all__ = ["FFTBackend", "TilePlan", "spectrum_cache", "SpectrumCache", "set_tile_size",
           "forced_tile_size", "support_dft_pays"]


@dataclass(frozen=True)
class TilePlan:
    """Overlap-save tiling of a stride-1 valid correlation.

    ``th × tw`` is the transform size, ``t_h × t_w = (th - kh + 1) × (tw - kw + 1)``
    the valid outputs per tile, ``nth × ntw`` the number of tiles.
    """

    th: int
    tw: int
    kh: int
    kw: int
    nth: int
    ntw: int

    @property
    def t_h(self) -> int:
        return self.th - self.kh + 1

    @property
    def t_w(self) -> int:
        return self.tw - self.kw + 1

    @property
    def spectrum_shape(self) -> tuple[int, int]:
        return (self.th, self.tw // 2 + 1)

    @classmethod
    def make(cls, th: int, tw: int, kh: int, kw: int, out_h: int, out_w: int) -> "TilePlan":
        return cls(th, tw, kh, kw, math.ceil(out_h / (th - kh + 1)),
                   math.ceil(out_w / (tw - kw + 1)))


# -- spectrum cache ----------------------------------------------------------------

class SpectrumCache:
    """Small LRU cache of spectra, validated against an exact copy of their source.

    A hit requires the same key *and* an array equal, element for element, to the
    one the spectrum was computed from; so changing weights (or inputs) in place
    can never return a stale spectrum. Entries are evicted least-recently-used
    beyond ``max_bytes``.
    """

    def __init__(self, max_bytes: int = 256 << 20):
        self.max_bytes = max_bytes
        self._entries: OrderedDict = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key, source: np.ndarray):
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0].shape == source.shape \
                    and np.array_equal(entry[0], source):
                self._entries.move_to_end(key)
                self.hits += 1
                return entry[1]
            self.misses += 1
            return None

    def put(self, key, source: np.ndarray, spectrum: np.ndarray) -> None:
        size = source.nbytes + spectrum.nbytes
        if size > self.max_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old[0].nbytes + old[1].nbytes
            self._entries[key] = (source.copy(), spectrum)
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, (src, spec) = self._entries.popitem(last=False)
                self._bytes -= src.nbytes + spec.nbytes

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0
            self.hits = self.misses = 0


#: The process-wide cache of kernel and input spectra used by the FFT backend.
spectrum_cache = SpectrumCache()


# -- stride-1 geometry: polyphase split and dilation -----------------------------------

@dataclass(frozen=True)
class _Stride1:
    """The stride-1 valid correlation a ConvSpec is reduced to."""

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
    def of(cls, spec: ConvSpec) -> "_Stride1":
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


def _prepare_input(x: np.ndarray, geo: _Stride1) -> np.ndarray:
    """Pad (and crop unused rows of) ``x``, then split it into stride phases."""
    spec = geo.spec
    (pt, _), (pl, _) = spec.padding
    if spec.stride == (1, 1) and (pt, pl) == (0, 0) and (geo.rows, geo.cols) == (spec.h, spec.w):
        return np.ascontiguousarray(x, dtype=spec.dtype)     # already the stride-1 input
    xp = np.zeros((x.shape[0], spec.c_in, geo.rows, geo.cols), dtype=spec.dtype)
    # Rows past geo.rows are never read (stride remainder): leave them out.
    h = max(0, min(spec.h, geo.rows - pt))
    w = max(0, min(spec.w, geo.cols - pl))
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


def _prepare_kernel(w: np.ndarray, geo: _Stride1) -> np.ndarray:
    """Dilate ``w`` (zeros between taps) and split it into stride phases."""
    spec = geo.spec
    (sh, sw), (dh, dw) = spec.stride, spec.dilation
    k = np.zeros((spec.c_out, spec.c_in_per_group, geo.kh * sh, geo.kw * sw), dtype=spec.dtype)
    k[:, :, :spec.span_h:dh, :spec.span_w:dw] = w
    return _space_to_depth(k, sh, sw)


# -- tiled transforms ----------------------------------------------------------------

def _input_tiles(xq: np.ndarray, plan: TilePlan, a0: int, a1: int) -> np.ndarray:
    """Overlapping tiles of tile rows ``[a0, a1)``, batch-leading.

    ``xq`` is ``(B, C, R, S)`` (stride-1, padded). Returns the contiguous real array
    ``(B, a1-a0, ntw, C, th, tw)``, zero where a tile runs past the input. Rows of a
    tile stay contiguous, so the gather is a near-sequential copy; a single tile
    that is exactly ``xq`` is returned as a view (read-only use).
    """
    b, c, _, _ = xq.shape
    na = a1 - a0
    top = a0 * plan.t_h
    need_h = na * plan.t_h + plan.kh - 1
    need_w = plan.ntw * plan.t_w + plan.kw - 1
    # Pad so every tile lies inside the array; the extra zeros only reach outputs
    # beyond the last real one, which are discarded.
    src = xq[:, :, top:top + need_h, :need_w]
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
#: flops, or the whole too short to repay waking a thread (measured slower than
#: one thread here).
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
    count (measured faster for every kernel from 3 × 3 at 18² to 31 × 31 at
    256², 1.2–3.9×). The pruned inverse of the kernel gradient uses
    ``margin = 1``: it reads every frequency of every kernel (a ``th``-deep
    product) and lost to FFTW's inverse for 31 × 31 kernels at 256².

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


def _kernel_spectrum(kq: np.ndarray, plan: TilePlan, groups: int) -> np.ndarray:
    """``conj(W) / (th·tw)``, frequency-major ``(F, g, C/g, O/g)``, cached.

    The conjugate is what the forward correlation multiplies by, and the inverse
    transform's ``1/(th·tw)`` is folded in, so inference uses the cached array as
    it is and the inverse transforms of products with it skip their scaling
    pass. ``kq`` is ``(O, C/g, kh, kw)``; each of its ``O·C/g`` kernels is
    transformed once, by DFT matrices on its support when that is cheaper
    (:func:`_small_support_pays`), else as a zero-padded ``th × tw`` map.
    """
    key = ("kernel", plan, groups, kq.dtype.str)
    spectrum = spectrum_cache.get(key, kq)
    if spectrum is None:
        o, cg, kh, kw = kq.shape
        # (O, C/g) → (g, C/g, O/g) so that "maps" are the group's input channels.
        maps = kq.reshape(groups, o // groups, cg, kh, kw).transpose(0, 2, 1, 3, 4)
        cdtype = np.result_type(kq.dtype, np.complex64)
        if _small_support_pays(plan):
            spectra = _support_spectra(maps, plan, cdtype)
        else:
            padded = fftlib.zeros_aligned(maps.shape[:3] + (plan.th, plan.tw), kq.dtype)
            padded[..., :kh, :kw] = maps
            spectra = _spectra(padded.reshape(groups * cg, o // groups, plan.th, plan.tw), 1)
            np.conjugate(spectra, out=spectra)
            spectra *= 1.0 / (plan.th * plan.tw)
        spectrum = spectra.reshape(-1, groups, cg, o // groups)
        spectrum_cache.put(key, kq, spectrum)
    return spectrum


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

    By default the cost model picks it per layer (:func:`fftconv.select.choose_fft_tiles`);
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


@register_backend
class FFTBackend(Backend):
    """Convolution theorem with tiling, per-frequency GEMMs and spectrum reuse."""

    name = "fft"

    # -- planning --------------------------------------------------------------
    def plan(self, spec: ConvSpec) -> tuple[_Stride1, TilePlan]:
        """The stride-1 reduction and the tiling the cost model prefers for ``spec``."""
        from ..select import choose_fft_tiles
        geo = _Stride1.of(spec)
        forced = _TILE_SIZE.get()
        if forced is not None:
            th, tw = forced
            if th < geo.kh or tw < geo.kw:
                raise bad_value("set_tile_size", "th, tw", forced,
                                f"at least the polyphase kernel size ({geo.kh}, {geo.kw}) "
                                f"of {spec}")
        else:
            th, tw = choose_fft_tiles(spec)
        return geo, TilePlan.make(th, tw, geo.kh, geo.kw, spec.out_h, spec.out_w)

    def _tile_bytes(self, spec: ConvSpec, geo: _Stride1, plan: TilePlan) -> int:
        fh, fw = plan.spectrum_shape
        itemsize = np.dtype(spec.dtype).itemsize
        # real tiles + complex spectra of the input and output maps of one tile
        return (geo.channels + spec.c_out) * (plan.th * plan.tw + 2 * fh * fw) * itemsize

    # -- forward ---------------------------------------------------------------
    def forward(self, x, w, spec):
        geo, plan = self.plan(spec)
        g = spec.groups
        xq = _prepare_input(x, geo)
        kspec = _kernel_spectrum(_prepare_kernel(w, geo), plan, g)          # conj(W)
        chunks = list(_chunks(spec.n, plan, self._tile_bytes(spec, geo, plan),
                              get_memory_budget()))
        cache_inputs = len(chunks) == 1
        y = np.empty(spec.output_shape, dtype=spec.dtype)
        for n0, n1, a0, a1 in chunks:
            xspec = _spectra(_input_tiles(xq[n0:n1], plan, a0, a1), g)   # (F, g, M, Cg)
            if cache_inputs:
                spectrum_cache.put(("input", plan, g, spec), x, xspec)
            product = _per_frequency_matmul(xspec, kspec)                   # (F, g, M, Og)
            tiles = _maps(product, plan, scaled=False)                      # (M, O, th, tw)
            self._write_valid(tiles, plan, spec, y, n0, n1, a0, a1)
        return y

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

    # -- backward --------------------------------------------------------------
    def grad_input(self, dy, w, spec):
        return self.backward(dy, None, w, spec, ("input",))[0]

    def grad_weight(self, dy, x, spec):
        return self.backward(dy, x, None, spec, ("weight",))[1]

    def backward(self, dy, x, w, spec, needs):
        """Both gradients from one transform of ``dy`` (see the module notes)."""
        geo, plan = self.plan(spec)
        g = spec.groups
        want_dx, want_dw = "input" in needs, "weight" in needs
        kspec_t = None
        if want_dx:                                       # Wᵀ/(th·tw): (F, g, Og, Cg)
            kspec = _kernel_spectrum(_prepare_kernel(w, geo), plan, g)
            kspec_t = np.conj(kspec).swapaxes(-1, -2)
        xq = _prepare_input(x, geo) if want_dw else None
        chunks = list(_chunks(spec.n, plan, self._tile_bytes(spec, geo, plan),
                              get_memory_budget()))
        cached_x = (spectrum_cache.get(("input", plan, g, spec), x)
                    if want_dw and len(chunks) == 1 else None)
        cq = geo.channels // g
        dxq = (np.zeros((spec.n, geo.channels, (plan.nth + 1) * plan.t_h + plan.kh,
                         (plan.ntw + 1) * plan.t_w + plan.kw), dtype=spec.dtype)
               if want_dx else None)
        dwspec = None
        for n0, n1, a0, a1 in chunks:
            dyspec = _spectra(_output_blocks(dy[n0:n1], plan, a0, a1), g)   # (F, g, M, Og)
            if want_dx:
                full = _maps(_per_frequency_matmul(dyspec, kspec_t), plan, scaled=False)
                self._add_full(full, plan, dxq, n0, n1, a0, a1)
            if want_dw:
                xspec = cached_x if cached_x is not None else \
                    _spectra(_input_tiles(xq[n0:n1], plan, a0, a1), g)
                part = _per_frequency_matmul(xspec.swapaxes(-1, -2),
                                             np.conjugate(dyspec, out=dyspec))
                if dwspec is None:
                    dwspec = part                                      # (F, g, Cg, Og)
                else:
                    dwspec += part
        dx = dw = None
        if want_dx:
            dxp = _depth_to_space(dxq[:, :, :geo.rows // spec.stride[0],
                                      :geo.cols // spec.stride[1]], *spec.stride)
            (pt, _), (pl, _) = spec.padding
            dx = np.zeros(spec.input_shape, dtype=spec.dtype)
            h = max(0, min(spec.h, geo.rows - pt))
            wd = max(0, min(spec.w, geo.cols - pl))
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
    def _add_full(tiles, plan: TilePlan, dxq, n0, n1, a0, a1):
        """Overlap-add full-convolution tiles ``(M, C, th, tw)`` into ``dxq``.

        Tile ``(a, b)`` covers rows ``[a·t_h, a·t_h + th)``: its rows are cut into
        ``t_h``-high parts that land in consecutive blocks (likewise columns).
        """
        b = n1 - n0
        c = dxq.shape[1]
        na = a1 - a0
        if (plan.nth, plan.ntw) == (1, 1):          # one tile: nothing overlaps
            dxq[n0:n1, :, :plan.th, :plan.tw] = tiles.reshape(b, c, plan.th, plan.tw)
            return
        t = tiles.reshape(b, na, plan.ntw, c, plan.th, plan.tw).transpose(0, 3, 1, 4, 2, 5)
        for u in range(0, plan.th, plan.t_h):
            hu = min(plan.t_h, plan.th - u)
            for v in range(0, plan.tw, plan.t_w):
                wv = min(plan.t_w, plan.tw - v)
                row0 = a0 * plan.t_h + u
                target = dxq[n0:n1, :, row0:row0 + na * plan.t_h, v:v + plan.ntw * plan.t_w]
                target = target.reshape(b, c, na, plan.t_h, plan.ntw, plan.t_w)
                target[:, :, :, :hu, :, :wv] += t[:, :, :, u:u + hu, :, v:v + wv]
