"""Choosing a backend for ``'auto'``: a cost model in seconds per backend.

Each backend's :meth:`~fftconv.backends.Backend.cost` estimates the forward time of
a :class:`~fftconv._spec.ConvSpec` from a few machine constants; ``'auto'`` keeps
the backends that support the spec and takes the cheapest. :func:`choose_backend`
returns the choice together with every candidate's estimate, so the reason for a
choice can always be printed.

The model counts, per backend:

* ``direct``: ``kh·kw`` GEMMs of inner size ``C_in/g`` plus one strided copy of the
  input per kernel offset, and a fixed Python overhead per offset;
* ``im2col``: one copy of ``kh·kw`` times the input into the column matrix plus one
  GEMM of inner size ``C_in/g·kh·kw``;
* ``fft`` (Mathieu et al. 2013, with tiles): for the tile size ``T_h × T_w`` that
  minimizes the estimate, the real FFTs of every input and output map of every
  tile and of every kernel (``points · log₂ points`` each), one complex GEMM per
  frequency and group (a fixed call cost plus ``8·M·C·O`` flops), and the memory
  passes that gather tiles and scatter outputs.

GEMM throughput grows with the inner dimension ``K`` as ``peak · K / (K + K_half)``
(small inner dimensions cannot keep the BLAS kernels busy).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ._spec import ConvSpec
from .fftlib import next_fast_len

import math
from functools import lru_cache

__all__ = ["Choice", "choose_backend", "DEFAULT_CONSTANTS", "direct_cost", "im2col_cost",
           "fft_cost", "choose_fft_tiles"]

#: Machine constants of the cost model (seconds, bytes, multiply-adds).
DEFAULT_CONSTANTS = {
    "gemm_peak_macs_per_s": {"float32": 60e9, "float64": 30e9},
    "gemm_k_half": 24.0,
    "copy_bytes_per_s": 4e9,
    "python_call_s": 4e-6,
    # FFT: seconds per (point · log2 points) of a real 2-D transform, by precision.
    "fft_s_per_point_log": {"float32": 0.09e-9, "float64": 0.15e-9},
    # Batched complex GEMM over frequencies: a cost per (frequency, group) matrix
    # product plus its flops at this rate.
    "cgemm_call_s": 0.3e-6,
    "cgemm_flops_per_s": {"float32": 60e9, "float64": 30e9},
}


def _gemm_seconds(macs: float, k: int, dtype_name: str, c=DEFAULT_CONSTANTS) -> float:
    peak = c["gemm_peak_macs_per_s"].get(dtype_name, c["gemm_peak_macs_per_s"]["float64"])
    return macs / (peak * k / (k + c["gemm_k_half"]))


def direct_cost(spec: ConvSpec, c=DEFAULT_CONSTANTS) -> float:
    """Estimated seconds of the direct backend's shift-and-accumulate forward."""
    taps = spec.kh * spec.kw
    shifted_bytes = spec.n * spec.c_in * spec.out_h * spec.out_w * spec.dtype.itemsize
    out_bytes = spec.n * spec.c_out * spec.out_h * spec.out_w * spec.dtype.itemsize
    return (_gemm_seconds(spec.macs, spec.c_in_per_group, spec.dtype.name, c)
            + taps * (shifted_bytes + out_bytes) / c["copy_bytes_per_s"]
            + taps * c["python_call_s"])


def im2col_cost(spec: ConvSpec, c=DEFAULT_CONSTANTS) -> float:
    """Estimated seconds of the im2col backend's unfold + GEMM forward."""
    k = spec.c_in_per_group * spec.kh * spec.kw
    cols_bytes = spec.n * spec.c_in * spec.kh * spec.kw * spec.out_h * spec.out_w \
        * spec.dtype.itemsize
    return (_gemm_seconds(spec.macs, k, spec.dtype.name, c)
            + cols_bytes / c["copy_bytes_per_s"]
            + spec.kh * spec.kw * c["python_call_s"])


def _fast_lengths(lo: int, hi: int) -> list[int]:
    """5-smooth integers in ``[lo, hi]`` (the FFT sizes worth considering)."""
    out = []
    p2 = 1
    while p2 <= hi:
        p3 = p2
        while p3 <= hi:
            p5 = p3
            while p5 <= hi:
                if p5 >= lo:
                    out.append(p5)
                p5 *= 5
            p3 *= 3
        p2 *= 2
    return sorted(out)


def _fft_seconds(spec: ConvSpec, th: int, tw: int, c=DEFAULT_CONSTANTS) -> float:
    """Estimated forward seconds of the FFT backend with ``th × tw`` transforms."""
    sh, sw = spec.stride
    kh, kw = -(-spec.span_h // sh), -(-spec.span_w // sw)      # polyphase kernel taps
    c_in = spec.c_in * sh * sw                                  # polyphase channels
    tiles = math.ceil(spec.out_h / (th - kh + 1)) * math.ceil(spec.out_w / (tw - kw + 1))
    points = th * tw
    per_fft = points * math.log2(max(points, 2)) * c["fft_s_per_point_log"].get(
        spec.dtype.name, c["fft_s_per_point_log"]["float64"])
    maps = spec.n * (c_in + spec.c_out) * tiles
    kernels = spec.c_out * c_in // spec.groups
    freqs = th * (tw // 2 + 1)
    m = spec.n * tiles
    flops = 8.0 * freqs * m * c_in * spec.c_out / spec.groups
    rate = c["cgemm_flops_per_s"].get(spec.dtype.name, c["cgemm_flops_per_s"]["float64"])
    gemm = freqs * spec.groups * c["cgemm_call_s"] + flops / rate
    moved = maps * points * spec.dtype.itemsize * 4      # gather, spectra, scatter
    return (maps + kernels) * per_fft + gemm + moved / c["copy_bytes_per_s"]


@lru_cache(maxsize=4096)
def choose_fft_tiles(spec: ConvSpec) -> tuple[int, int]:
    """Transform size ``(T_h, T_w)`` of the FFT backend for ``spec``.

    Candidates are the 5-smooth lengths from ``2K - 1`` (each tile yields at least
    ``K`` outputs) up to the single tile covering the whole (polyphase) image; the
    pair with the lowest :func:`fft_cost` estimate wins.
    """
    sh, sw = spec.stride
    kh, kw = -(-spec.span_h // sh), -(-spec.span_w // sw)
    full_h = next_fast_len(spec.out_h + kh - 1)
    full_w = next_fast_len(spec.out_w + kw - 1)
    cand_h = [t for t in _fast_lengths(min(2 * kh - 1, full_h), full_h)] or [full_h]
    cand_w = [t for t in _fast_lengths(min(2 * kw - 1, full_w), full_w)] or [full_w]
    return min(((th, tw) for th in cand_h for tw in cand_w),
               key=lambda hw: _fft_seconds(spec, *hw))


def fft_cost(spec: ConvSpec, c=DEFAULT_CONSTANTS) -> float:
    """Estimated seconds of the FFT backend's forward at its chosen tile size."""
    return _fft_seconds(spec, *choose_fft_tiles(spec), c)


@dataclass(frozen=True)
class Choice:
    """A backend choice and the estimates it was made from (seconds per backend)."""

    name: str
    costs: dict = field(default_factory=dict)

    @property
    def reason(self) -> str:
        ranked = sorted(self.costs.items(), key=lambda item: item[1])
        parts = ", ".join(f"{name} {seconds * 1e3:.3g} ms" for name, seconds in ranked)
        return f"chose {self.name!r}: estimated forward time {parts}"


def choose_backend(spec: ConvSpec) -> Choice:
    """The cheapest registered backend that supports ``spec``, with the estimates.

    Examples
    --------
    >>> from fftconv._spec import make_spec
    >>> spec = make_spec("demo", (8, 64, 32, 32), (64, 64, 1, 1))
    >>> choose_backend(spec).name in ("direct", "im2col")
    True
    """
    from .backends import _REGISTRY
    costs = {name: backend.cost(spec) for name, backend in _REGISTRY.items()
             if backend.supports(spec)}
    return Choice(min(costs, key=costs.get), costs)
