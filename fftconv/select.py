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
  GEMM of inner size ``C_in/g·kh·kw``.

GEMM throughput grows with the inner dimension ``K`` as ``peak · K / (K + K_half)``
(small inner dimensions cannot keep the BLAS kernels busy).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ._spec import ConvSpec

__all__ = ["Choice", "choose_backend", "DEFAULT_CONSTANTS", "direct_cost", "im2col_cost"]

#: Machine constants of the cost model (seconds, bytes, multiply-adds).
DEFAULT_CONSTANTS = {
    "gemm_peak_macs_per_s": {"float32": 60e9, "float64": 30e9},
    "gemm_k_half": 24.0,
    "copy_bytes_per_s": 4e9,
    "python_call_s": 4e-6,
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
