"""Tiled FFT correlation (overlap-save): the engine of the signal ops and of matching.

:class:`OverlapSave` computes a batched, grouped, channel-summed *valid*
correlation over ``d`` trailing axes,

.. math::

    y[b, g, k, n] = Σ_c Σ_t x[b, g, c, n + t] · w[g, k, c, t],

for a signal ``x`` of shape ``(B, G, C, *S)`` (optionally zero-padded, without a
copy) and kernels ``w`` of shape ``(G, K, C, *k)``. :func:`fftconv.convolve` and
:func:`fftconv.correlate` reduce every mode and every broadcast to it (``C = 1``,
broadcast axes become ``B``, ``G`` or ``K``); :func:`analysis.matching.match_template`
is ``B = G = K = 1`` with the colour channels as ``C``.

How it runs (the fft backend's recipe, :mod:`fftconv.backends.fft`):

1. **Tiles** from :func:`fftconv.tiling.choose_tiles`, rated by the FFT
   backend's fitted constants (:meth:`OverlapSave.seconds`): the one tile
   planner and the one cost model of every FFT path. A tile of ``T`` samples
   per axis yields ``T - K + 1`` exact outputs; the circular wrap-around lands
   in the discarded rest.
2. **Kernels transformed once** per call, as conjugate spectra at the tile size.
3. **Chunks of tile rows** (bands along the first axis, a few MiB each, so a
   chunk's staging copy, tiles, spectra and outputs stay in cache between the
   stages) are the unit of work: each is copied out of the signal (zero padding
   written, never a padded copy of the whole signal), cut into tiles, batch
   transformed, multiplied per frequency (summing the ``C`` channels *before* the
   one inverse transform per output map), inverted, and its valid outputs
   written in place. With an FFT engine of several threads the chunks are shared
   among the threads of :mod:`fftconv.backends._parallel` (each runs its
   transforms single-threaded), and a caller's per-chunk step (``on_chunk``)
   runs there too, in parallel.
4. **Centring** (``centre=True``): each chunk is correlated minus its own mean
   ``m`` per signal channel, and ``m · Σ_t w`` is put back exactly through the
   spectrum's zero-frequency bin. The FFT's rounding, about ``ε·log₂T·‖x‖·‖w‖``,
   is then relative to the data's variation, not its offset.
5. **Scratch** comes from each thread's :class:`Workspace`, kept between runs
   (fresh memory would page-fault on every call); :func:`release_workspaces`
   frees it. It holds no data a later call reads.

References
----------
* A. V. Oppenheim and R. W. Schafer, *Discrete-Time Signal Processing*,
  overlap-save block convolution (section 8.7.3 of the 3rd edition).
* M. Mathieu, M. Henaff and Y. LeCun, "Fast training of convolutional networks
  through FFTs", ICLR 2014 (tiles whose spectra are products per frequency).

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> x, w = rng.random((1, 1, 1, 300, 200)), rng.random((1, 1, 1, 9, 7))
>>> engine = OverlapSave(w, x.shape)
>>> y = engine.run(x)
>>> y.shape
(1, 1, 1, 292, 194)
>>> import scipy.signal
>>> ref = scipy.signal.correlate(x[0, 0, 0], w[0, 0, 0], mode="valid")
>>> bool(np.allclose(y[0, 0, 0], ref))
True
"""

from __future__ import annotations

import itertools
import math
import threading
import weakref
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from . import constants as _constants
from . import fftlib
from .backends import _parallel
from .backends.base import estimate_seconds, get_memory_budget
from .backends.registry import get_backend
from .errors import bad_type, bad_value
from .tiling import TilePlan, choose_tiles

__all__ = ["OverlapSave", "Chunk", "Workspace", "release_workspaces", "CHUNK_BYTES"]

#: Bytes of working set per chunk of tile rows: a chunk's stages (staging copy,
#: tiles, spectra, products, outputs) then pass their data on through the cache.
CHUNK_BYTES = 4 << 20

#: Most candidate tile lengths per axis rated for signals of three or more tiled
#: axes (every combination is rated; thinning keeps the planning cheap).
_MAX_CANDIDATES = 12

_FUNC = "OverlapSave"


class Workspace:
    """Scratch arrays of one thread, reused between chunks and between runs.

    ``array(name, shape, dtype)`` returns a SIMD-aligned C-contiguous array
    (contents undefined) carved from the buffer last used under ``name``, which
    grows only when a larger array is asked for.

    Why the buffers outlive a run: fresh memory costs a page fault per 4 KiB on
    first touch, the faults of concurrent threads are serialized by the kernel,
    and the C allocator returns large freed blocks to the system, so a repeated
    call (matching a stream of images, filtering a stack) would fault on all of
    its scratch every time. Each thread keeps one workspace (the buffers of its
    largest chunk: a few times :data:`CHUNK_BYTES`, plus what a caller's
    ``on_chunk`` asked for); :func:`release_workspaces` frees them. Workspaces
    hold scratch only, never data a later call reads.
    """

    def __init__(self):
        self._buffers: dict = {}
        self.busy = False

    def array(self, name: str, shape, dtype) -> np.ndarray:
        shape, dtype = tuple(int(n) for n in shape), np.dtype(dtype)
        nbytes = math.prod(shape) * dtype.itemsize
        buf = self._buffers.get(name)
        if buf is None or buf.nbytes < nbytes:
            buf = self._buffers[name] = fftlib.empty_aligned(max(nbytes, 1), np.uint8)
        return buf[:nbytes].view(dtype).reshape(shape)

    @property
    def nbytes(self) -> int:
        """Bytes held."""
        return sum(buf.nbytes for buf in self._buffers.values())

    def clear(self) -> int:
        """Free the buffers; return the bytes freed."""
        freed = self.nbytes
        self._buffers.clear()
        return freed


_LOCAL = threading.local()
_WORKSPACES: "weakref.WeakSet[Workspace]" = weakref.WeakSet()
_WORKSPACES_LOCK = threading.Lock()


@contextmanager
def _thread_workspace():
    """This thread's workspace for the duration of a run (a fresh one for a run
    started inside another run's ``on_chunk`` on the same thread)."""
    workspace = getattr(_LOCAL, "workspace", None)
    if workspace is None:
        workspace = _LOCAL.workspace = Workspace()
        with _WORKSPACES_LOCK:
            _WORKSPACES.add(workspace)
    if workspace.busy:
        yield Workspace()
        return
    workspace.busy = True
    try:
        yield workspace
    finally:
        workspace.busy = False


def release_workspaces() -> int:
    """Free the scratch buffers every thread keeps between runs (:class:`Workspace`).

    Call it when no run is in progress; the next run allocates again.

    Returns
    -------
    int
        Bytes freed.

    Examples
    --------
    >>> import numpy as np
    >>> _ = OverlapSave(np.ones((1, 1, 1, 3)), (1, 1, 1, 50)).run(np.ones((1, 1, 1, 50)))
    >>> release_workspaces() > 0, release_workspaces()
    (True, 0)
    """
    with _WORKSPACES_LOCK:
        workspaces = [w for w in _WORKSPACES if not w.busy]
    return sum(w.clear() for w in workspaces)


@dataclass
class Chunk:
    """One band of tile rows, as handed to a caller's ``on_chunk`` step.

    Attributes
    ----------
    rows : slice
        The output rows (first correlated axis) this chunk wrote.
    inputs : slice
        The rows of the *padded* signal they were computed from
        (``rows.start`` to ``rows.stop + K - 1``).
    means : ndarray, shape (B, G, C)
        The mean subtracted from each signal channel (``centre=True``; zeros otherwise).
    workspace : Workspace
        Scratch arrays of the thread running the chunk, for the caller's own use.
    """

    rows: slice
    inputs: slice
    means: np.ndarray
    workspace: Workspace = field(repr=False)


def _features(plan: TilePlan, maps_in: int, maps_out: int, kernels: int,
              products: int) -> dict:
    """Cost features of a run at ``plan``, in the FFT backend's terms.

    Every input and output map of every tile is transformed once (``fft``:
    ``points · log₂ points`` each, and ``maps``), the kernels once; the spectra
    meet in ``products`` complex multiply-adds per frequency and tile
    (``cgemm_flops``, 8 flops each); one call.
    """
    points = math.prod(plan.transform)
    log_points = math.log2(max(points, 2))
    freqs = math.prod(plan.spectrum_shape)
    maps = (maps_in + maps_out) * plan.tiles + kernels
    return {"fft": maps * points * log_points, "maps": float(maps), "kernel_dft": 0.0,
            "cgemm_flops": 8.0 * freqs * plan.tiles * products,
            "cgemm_calls": 0.0, "call": 1.0}


def _balanced(rows: int, threads: int) -> bool:
    """Whether ``rows`` tile rows share out evenly enough among ``threads``: a
    multiple of them, or enough rows that one more on some thread is little."""
    return rows % threads == 0 or rows >= 4 * threads


@lru_cache(maxsize=1024)
def _plan(out_shape: tuple, kernel_shape: tuple, counts: tuple, weights: tuple,
          threads: int, generation: int) -> TilePlan:
    """The cheapest tiling by the FFT backend's constants ``weights``.

    ``counts`` are ``(maps_in, maps_out, kernels, products)``. With several
    threads, plans whose tile rows share out evenly among them
    (:func:`_balanced`) are preferred where the first axis has room for them:
    chunks of tile rows are the unit the threads share. ``generation`` is that
    of :mod:`fftconv.constants`, so a new calibration plans again.
    """
    table = dict(weights)
    return choose_tiles(out_shape, kernel_shape,
                        lambda plan: estimate_seconds(_features(plan, *counts), table),
                        prefer=(lambda plan: _balanced(plan.counts[0], threads))
                        if threads > 1 else None,
                        most=_MAX_CANDIDATES if len(out_shape) >= 3 else None)


class OverlapSave:
    """Valid correlation of ``(B, G, C, *S)`` signals with fixed ``(G, K, C, *k)`` kernels.

    Parameters
    ----------
    kernels : ndarray, shape (G, K, C, k_1, ..., k_d)
        Real or complex; correlated as given (not conjugated, not flipped).
    signal_shape : tuple of int
        ``(B, G, C, S_1, ..., S_d)``: the shape of the signals :meth:`run` takes.
    pad : sequence of (int, int), optional
        Zeros ``(before, after)`` around the signal per correlated axis (default
        none), never materialized: ``before + S + after - k + 1`` outputs.
    dtype : dtype, optional
        Working precision, float32/float64 or complex64/complex128 (default: the
        result type of the kernels and float32 signals, promoted to at least
        float32).
    centre : bool
        Correlate each chunk minus its mean per signal channel and add the mean's
        contribution back exactly (module notes, step 4). Real signals only.
    tiles : tuple of int, optional
        Tile (transform) lengths per axis instead of the cost model's choice.
    parallel : bool, optional
        Share the chunks among the FFT engine's threads: by default when there are
        enough transformed points that waking threads pays
        (:data:`fftconv.fftlib.PARALLEL_MIN_ELEMENTS`); ``True`` whenever there are
        several threads (a caller whose ``on_chunk`` work outweighs the
        transforms); ``False`` never.

    Attributes
    ----------
    plan : TilePlan
        The tiling.
    out_shape : tuple of int
        ``(B, G, K, L_1, ..., L_d)``.
    threads : int
        The FFT engine's thread count at construction, which the plan and the
        chunks are made for (:meth:`run` shares the chunks among that many).
    """

    def __init__(self, kernels, signal_shape, *, pad=None, dtype=None, centre=False,
                 tiles=None, parallel=None):
        if not isinstance(kernels, np.ndarray) or kernels.ndim < 4:
            raise bad_type(_FUNC, "kernels", kernels, "an ndarray of shape (G, K, C, *k)")
        self._configure(kernels.shape, kernels.dtype, signal_shape, pad, dtype, centre, tiles)
        if parallel not in (None, True, False):
            raise bad_type(_FUNC, "parallel", parallel, "None, True or False")
        self._share = parallel
        self._spectra = self._kernel_spectra(kernels)
        if self.centre:
            # Σ_t w per (g, k, c), what a unit offset adds: of the kernels as given
            # (a zero-sum kernel in float64 stays zero-sum, not its rounded copy's sum)
            g, k, c = kernels.shape[:3]
            self._kernel_sums = kernels.reshape(g, k, c, -1).sum(axis=-1, dtype=np.float64)

    @classmethod
    def estimate(cls, kernel_shape, signal_shape, *, pad=None, dtype=np.float64,
                 tiles=None) -> float:
        """Estimated seconds of :meth:`run` for these shapes, without transforming
        anything (the arguments as for the constructor; ``kernel_shape`` for the
        kernels)."""
        engine = cls.__new__(cls)
        engine._share = None
        engine._configure(tuple(kernel_shape), np.dtype(dtype), signal_shape, pad, dtype,
                          False, tiles)
        return engine.seconds()

    def _configure(self, kernel_shape, kernel_dtype, signal_shape, pad, dtype, centre,
                   tiles) -> None:
        """Check the geometry, and plan the tiles (everything but the transforms)."""
        if len(kernel_shape) < 4:
            raise bad_value(_FUNC, "kernels", kernel_shape, "a shape (G, K, C, *k)")
        d = len(kernel_shape) - 3
        signal_shape = tuple(int(n) for n in signal_shape)
        g, k, c = kernel_shape[:3]
        if len(signal_shape) != d + 3 or signal_shape[1:3] != (g, c):
            raise bad_value(_FUNC, "signal_shape", signal_shape,
                            f"(B, {g}, {c}, S_1, ..., S_{d}) for kernels of shape "
                            f"{tuple(kernel_shape)}")
        pad = ((0, 0),) * d if pad is None else tuple((int(lo), int(hi)) for lo, hi in pad)
        if len(pad) != d or any(lo < 0 or hi < 0 for lo, hi in pad):
            raise bad_value(_FUNC, "pad", pad, f"{d} pairs of non-negative ints")
        self.dtype = np.dtype(dtype if dtype is not None
                              else np.result_type(kernel_dtype, np.float32))
        if self.dtype not in (np.float32, np.float64, np.complex64, np.complex128):
            raise bad_type(_FUNC, "dtype", dtype, "float32, float64, complex64 or complex128")
        if centre and self.dtype.kind == "c":
            raise bad_value(_FUNC, "centre", centre, "False for complex signals")
        self.kernel_shape = tuple(kernel_shape[3:])
        self.signal_shape, self.pad, self.centre = signal_shape, pad, bool(centre)
        padded = [lo + s + hi for (lo, hi), s in zip(pad, signal_shape[3:])]
        out = tuple(p - kk + 1 for p, kk in zip(padded, self.kernel_shape))
        if min(out) < 1:
            raise bad_value(_FUNC, "kernels", tuple(kernel_shape),
                            f"kernels no larger than the padded signal {tuple(padded)}")
        self.out_shape = (signal_shape[0], g, k) + out
        self.threads = max(1, int(getattr(fftlib.get_fft_engine(), "threads", 1)))
        if tiles is None:
            weights = tuple(sorted(self._weights().items()))
            self.plan = _plan(out, self.kernel_shape, self._counts(), weights,
                              self.threads, _constants.generation())
        else:
            tiles = tuple(int(t) for t in tiles)
            if len(tiles) != d or any(t < kk for t, kk in zip(tiles, self.kernel_shape)):
                raise bad_value(_FUNC, "tiles", tiles,
                                f"{d} lengths, each at least the kernel's {self.kernel_shape}")
            self.plan = TilePlan.make(tiles, self.kernel_shape, out)

    # -- planning ----------------------------------------------------------------
    def _counts(self) -> tuple:
        b, g, c = self.signal_shape[:3]
        k = self.out_shape[2]
        return (b * g * c, b * g * k, g * k * c, b * g * k * c)

    def _weights(self) -> dict:
        return get_backend("fft").weights(np.finfo(self.dtype).dtype.name)

    def seconds(self) -> float:
        """Estimated seconds of :meth:`run` at :attr:`plan` (the FFT backend's constants)."""
        return estimate_seconds(_features(self.plan, *self._counts()), self._weights())

    def _kernel_spectra(self, kernels) -> np.ndarray:
        """``conj(FFT(conj w))`` at the tile size, shape ``(G, K, C, 1^d, *F)``: a
        product with it is a correlation with ``w``.

        Pruned: the last axis is transformed first, over the kernel's own extent
        along the others; each further axis then transforms only the columns
        already made. A large tile costs about one map's transform less than
        transforming the zero-padded kernel at once.
        """
        d, transform = len(self.kernel_shape), self.plan.transform
        axes = tuple(range(3, 3 + d))
        w = np.ascontiguousarray(kernels, dtype=self.dtype)
        if self.dtype.kind == "c":
            spectrum = fftlib.fftn(np.conj(w), axes=axes[-1:], s=transform[-1:])
        else:
            spectrum = fftlib.rfftn(w, axes=axes[-1:], s=transform[-1:])
        if d > 1:
            spectrum = fftlib.fftn(spectrum, axes=axes[:-1], s=transform[:-1])
        np.conj(spectrum, out=spectrum)
        return spectrum.reshape(spectrum.shape[:3] + (1,) * d + spectrum.shape[3:])

    def _parallel(self) -> bool:
        """Whether the chunks are shared among threads (the ``parallel`` argument;
        by default with several threads and enough transformed points that waking
        them pays, the FFT engine's own threshold
        :data:`fftconv.fftlib.PARALLEL_MIN_ELEMENTS`)."""
        if self.threads == 1 or self._share is False:
            return False
        points = self.plan.tiles * math.prod(self.plan.transform) * math.prod(
            self.signal_shape[:3])
        return self._share is True or points >= fftlib.PARALLEL_MIN_ELEMENTS

    def chunks(self) -> list:
        """Tile-row ranges ``(i0, i1)``: about :data:`CHUNK_BYTES` each (within the
        memory budget shared by the threads), a multiple of the threads in count."""
        plan, (b, g, c), k = self.plan, self.signal_shape[:3], self.out_shape[2]
        item = self.dtype.itemsize
        points, freqs = math.prod(plan.transform), math.prod(plan.spectrum_shape)
        complex_item = np.dtype(np.result_type(self.dtype, np.complex64)).itemsize
        per_tile = (b * g * c * (2 * points * item + freqs * complex_item)
                    + b * g * k * (freqs * complex_item + points * item))
        per_row = per_tile * math.prod(plan.counts[1:])
        budget = min(CHUNK_BYTES, get_memory_budget() // self.threads)
        rows = plan.counts[0]
        count = min(rows, max(-(-rows * per_row // budget), 1))
        if self._parallel() and rows >= self.threads:
            count = min(rows, -(-count // self.threads) * self.threads)
        return [(s.start, s.stop) for s in _parallel.even_slices(rows, count)]

    # -- running -----------------------------------------------------------------
    def run(self, signal, out=None, on_chunk=None) -> np.ndarray:
        """Correlate ``signal`` with the kernels.

        Parameters
        ----------
        signal : ndarray, shape ``signal_shape``
            Any strides; read once per chunk.
        out : ndarray, shape ``out_shape``, optional
            Where to write (any real or complex dtype the result casts to);
            default a new array of the working dtype.
        on_chunk : callable, optional
            ``on_chunk(chunk)`` after each :class:`Chunk`'s outputs are written
            (on the thread that computed them): a caller's further work on
            ``out[..., chunk.rows, ...]`` while it is still in cache.

        Returns
        -------
        out : ndarray, shape ``out_shape``
        """
        if not isinstance(signal, np.ndarray) or signal.shape != self.signal_shape:
            raise bad_value("OverlapSave.run", "signal", signal,
                            f"an ndarray of shape {self.signal_shape}")
        if out is None:
            out = np.empty(self.out_shape, dtype=self.dtype)
        elif not isinstance(out, np.ndarray) or out.shape != self.out_shape:
            raise bad_value("OverlapSave.run", "out", out,
                            f"an ndarray of shape {self.out_shape}")
        chunks = self.chunks()
        engine = fftlib.get_fft_engine()
        if not self._parallel() or len(chunks) == 1:
            with _thread_workspace() as workspace:
                for i0, i1 in chunks:
                    self._run_chunk(signal, out, i0, i1, workspace, on_chunk)
            return out
        effort = getattr(engine, "planner_effort", None)

        def share(part):
            with _thread_workspace() as workspace, \
                    fftlib.set_fft_engine(engine.name, threads=1, planner_effort=effort):
                for i0, i1 in part:
                    self._run_chunk(signal, out, i0, i1, workspace, on_chunk)

        _parallel.run_parts(share, _parallel.shares(chunks, self.threads))
        return out

    def _run_chunk(self, signal, out, i0, i1, workspace, on_chunk) -> None:
        plan, d = self.plan, len(self.kernel_shape)
        lead = self.signal_shape[:3]
        counts = (i1 - i0,) + plan.counts[1:]
        valid = plan.valid
        # the padded signal's samples this chunk reads, per axis
        extent = [(n - 1) * t + size for n, t, size in zip(counts, valid, plan.transform)]
        start = [i0 * valid[0]] + [0] * (d - 1)
        staging = workspace.array("staging", lead + tuple(extent), self.dtype)
        means = self._stage(signal, staging, start, extent)
        # tiles (lead, counts..., transform...) cut from the staging copy
        steps = tuple(t * s for t, s in zip(valid, staging.strides[3:]))
        view = np.lib.stride_tricks.as_strided(
            staging, shape=lead + counts + plan.transform,
            strides=staging.strides[:3] + steps + staging.strides[3:], writeable=False)
        tiles = workspace.array("tiles", view.shape, self.dtype)
        np.copyto(tiles, view)
        axes = tuple(range(3 + d, 3 + 2 * d))
        spectrum = self._forward(tiles, axes, workspace)
        product = self._multiply(spectrum, means, workspace)
        result = self._inverse(product, axes, workspace)
        rows = self._write_valid(result, out, i0, counts)
        if on_chunk is not None:
            on_chunk(Chunk(rows=rows, inputs=slice(rows.start, rows.stop + plan.kernel[0] - 1),
                           means=means, workspace=workspace))

    def _stage(self, signal, staging, start, extent) -> np.ndarray:
        """Copy the padded signal's ``[start, start + extent)`` into ``staging``; return
        the means subtracted (zeros unless centring).

        Zero padding is written as ``0 - mean`` when centring (the outputs that
        read it need it so); samples past the padded signal's end, read by
        discarded outputs only, are written as zeros, which adds no rounding.
        """
        lead = staging.shape[:3]
        src, dst, box = [], [], []
        for (lo, hi), s, st, ex in zip(self.pad, self.signal_shape[3:], start, extent):
            a, b = max(st - lo, 0), min(st + ex - lo, s)          # signal indices
            src.append(slice(a, max(a, b)))
            dst.append(slice(a + lo - st, a + lo - st + max(b - a, 0)))
            box.append(slice(0, min(lo + s + hi - st, ex)))       # the padded signal
        region = signal[(Ellipsis,) + tuple(src)]
        means = np.zeros(lead)
        if self.centre and region.size:
            # the means as subtracted (in the working dtype), so the correction is exact
            means = region.mean(axis=tuple(range(3, region.ndim)), dtype=np.float64)
            means = means.astype(self.dtype).astype(np.float64)
        shift = means.astype(self.dtype).reshape(lead + (1,) * len(extent))
        inside = (Ellipsis,) + tuple(dst)
        if any(sl.stop - sl.start != n for sl, n in zip(dst, staging.shape[3:])):
            staging.fill(0)
            if self.centre and any(lo or hi for lo, hi in self.pad):
                staging[(Ellipsis,) + tuple(box)] = -shift
        if self.centre:
            np.subtract(region, shift, out=staging[inside], casting="unsafe")
        else:
            np.copyto(staging[inside], region, casting="unsafe")
        return means

    def _forward(self, tiles, axes, workspace):
        if self.dtype.kind == "c":
            return fftlib.fftn(tiles, axes=axes)
        half = tiles.shape[:-1] + (tiles.shape[-1] // 2 + 1,)
        spectrum = workspace.array("spectrum", half, np.result_type(self.dtype, np.complex64))
        return fftlib.rfftn_into(tiles, spectrum, axes)

    def _multiply(self, spectrum, means, workspace):
        """``Σ_c X[b, g, c] · conj(W[g, k, c])`` per frequency, ``(B, G, K, counts, F)``;
        the centring's ``m · Σ w`` goes into the zero-frequency bins."""
        b, g, c = spectrum.shape[:3]
        k = self._spectra.shape[1]
        if c == 1 and k == 1:
            spectrum *= self._spectra[:, 0]                # (B, G, 1, …) in place
            product = spectrum
        else:
            shape = (b, g, k) + spectrum.shape[3:]
            product = workspace.array("product", shape, spectrum.dtype)
            np.multiply(spectrum[:, :, None, 0], self._spectra[None, :, :, 0], out=product)
            for ch in range(1, c):
                product += spectrum[:, :, None, ch] * self._spectra[None, :, :, ch]
        if self.centre:
            d = len(self.kernel_shape)
            offset = np.einsum("bgc,gkc->bgk", means, self._kernel_sums)
            zero = (Ellipsis,) + (0,) * d               # every tile's DC bin
            product[zero] += (offset * math.prod(self.plan.transform)).reshape(
                offset.shape + (1,) * d)
        return product

    def _inverse(self, product, axes, workspace):
        if self.dtype.kind == "c":
            return fftlib.ifftn(product, axes=axes)
        shape = product.shape[:-len(axes)] + self.plan.transform
        result = workspace.array("result", shape, self.dtype)
        return fftlib.irfftn_into(product, result, axes)

    def _write_valid(self, result, out, i0, counts) -> slice:
        """Write the tiles' valid outputs ``result[..., i, u]`` to
        ``out[..., i·t + u]``; a last tile cut short by the output's end in its
        own part (``2^d`` parts: whole tiles and the short one per axis)."""
        plan, d = self.plan, len(self.kernel_shape)
        valid = plan.valid
        first = i0 * valid[0]
        lengths = [min(counts[0] * valid[0], self.out_shape[3] - first)] + \
            list(self.out_shape[4:])
        region = out[(slice(None),) * 3 + (slice(first, first + lengths[0]),)]
        lead = result.shape[:3]
        for parts in itertools.product((0, 1), repeat=d):
            src, dst, view_shape, empty = [], [], [], False
            for axis, part in enumerate(parts):
                whole, short = divmod(lengths[axis], valid[axis])
                if part == 0:          # whole tiles 0 … whole - 1
                    n, width, first_tile = whole, valid[axis], 0
                else:                  # the one short tile
                    n, width, first_tile = (1 if short else 0), short, whole
                if n == 0:
                    empty = True
                    break
                src.append((slice(first_tile, first_tile + n), slice(0, width)))
                dst.append(slice(first_tile * valid[axis],
                                 first_tile * valid[axis] + n * width))
                view_shape += [n, width]
            if empty:
                continue
            target = region[(Ellipsis,) + tuple(dst)].reshape(lead + tuple(view_shape))
            tiles = result[(Ellipsis,) + tuple(s for s, _ in src) + tuple(w for _, w in src)]
            # (lead, n_1, …, n_d, u_1, …, u_d) → (lead, n_1, u_1, …, n_d, u_d)
            order = [0, 1, 2] + [i for a in range(d) for i in (3 + a, 3 + d + a)]
            target[...] = tiles.transpose(order)
        return slice(first, first + lengths[0])
