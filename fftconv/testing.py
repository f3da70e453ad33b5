"""Test support: one tolerance table, random geometries, gradient checks.

Every comparison in the test suite goes through :func:`assert_conv_close` so the
tolerances live in one table, keyed by dtype. The absolute part of a tolerance is
scaled by the largest entry of the reference: the rounding error of a sum of
products grows with the size of its terms, not with the size of each output
element (an output near zero can still carry the error of large terms).
"""

from __future__ import annotations

import tracemalloc
from dataclasses import dataclass

import numpy as np

from ._spec import _same_padding

__all__ = ["Tolerance", "TOLERANCES", "tolerance", "winograd_tolerance", "relative_error",
           "assert_conv_close",
           "random_geometry", "random_conv_inputs", "numerical_gradient",
           "directional_derivative_error", "traced_peak"]


@dataclass(frozen=True)
class Tolerance:
    """``|a - d| <= atol·max|d| + rtol·|d|`` elementwise and ``‖a-d‖/‖d‖ <= norm``."""

    rtol: float
    atol: float
    norm: float


#: Tolerances by computation dtype (the dtype of the result under test).
TOLERANCES = {
    # float16 results: computed in float32 by both methods, rounded to 11 bits
    np.dtype(np.float16): Tolerance(rtol=2e-3, atol=2e-3, norm=2e-3),
    np.dtype(np.float32): Tolerance(rtol=1e-4, atol=2e-6, norm=1e-5),
    np.dtype(np.float64): Tolerance(rtol=1e-10, atol=1e-13, norm=1e-12),
    np.dtype(np.complex64): Tolerance(rtol=1e-4, atol=2e-6, norm=1e-5),
    np.dtype(np.complex128): Tolerance(rtol=1e-10, atol=1e-13, norm=1e-12),
    # Winograd F(m, r) by transformed tile size α = m + r − 1 (the largest of the
    # two axes): the transforms' entries grow with α, and so does the rounding
    # error (measured against float64 direct in docs/algorithms.rst, "Winograd";
    # tracked by the asv benchmark bench_winograd.WinogradError). A tile size and
    # dtype without an entry here uses the dtype's.
    ("winograd", 4, np.dtype(np.float32)): Tolerance(rtol=1e-4, atol=5e-6, norm=3e-6),
    ("winograd", 6, np.dtype(np.float32)): Tolerance(rtol=1e-3, atol=4e-5, norm=2e-5),
    ("winograd", 8, np.dtype(np.float32)): Tolerance(rtol=1e-3, atol=8e-5, norm=4e-5),
    ("winograd", 10, np.dtype(np.float32)): Tolerance(rtol=1e-1, atol=4e-3, norm=2e-3),
    ("winograd", 12, np.dtype(np.float32)): Tolerance(rtol=1.0, atol=1e-1, norm=5e-2),
    ("winograd", 10, np.dtype(np.float64)): Tolerance(rtol=1e-8, atol=1e-11, norm=1e-11),
    ("winograd", 12, np.dtype(np.float64)): Tolerance(rtol=1e-6, atol=1e-9, norm=1e-9),
}


def tolerance(dtype) -> Tolerance:
    """The :class:`Tolerance` for results of ``dtype``."""
    return TOLERANCES[np.dtype(dtype)]


def winograd_tolerance(alpha: int, dtype) -> Tolerance:
    """The :class:`Tolerance` of the Winograd backend at transformed tile size
    ``alpha = m + r − 1`` (``F(m, r)``; the larger of the two axes' sizes) for
    results of ``dtype``: its entry in :data:`TOLERANCES` (the next larger
    tile's entry serves an odd α), else the dtype's (α ≤ 2, which is no
    transform at all, and dtypes without entries)."""
    dtype = np.dtype(dtype)
    for size in (alpha, alpha + 1):
        if ("winograd", size, dtype) in TOLERANCES:
            return TOLERANCES["winograd", size, dtype]
    return TOLERANCES[dtype]


def relative_error(actual, desired) -> float:
    """``‖actual − desired‖ / ‖desired‖`` (Frobenius norms; 0 when both are 0)."""
    actual, desired = np.asarray(actual), np.asarray(desired)
    denom = np.linalg.norm(desired.astype(np.complex128 if np.iscomplexobj(desired)
                                          else np.float64).ravel())
    num = np.linalg.norm((actual.astype(np.complex128) - desired).ravel())
    return float(num / denom) if denom else float(num)


def assert_conv_close(actual, desired, dtype=None, err_msg: str = "",
                      tol: Tolerance | None = None) -> None:
    """Assert that a convolution result matches a reference within the dtype's tolerance.

    Parameters
    ----------
    actual : ndarray
        Result under test; its dtype selects the tolerance unless ``dtype`` is given.
    desired : ndarray
        Reference (ideally computed in float64).
    tol : Tolerance, optional
        An entry of :data:`TOLERANCES` other than the dtype's (a method's own,
        such as :func:`winograd_tolerance`).
    """
    actual, desired = np.asarray(actual), np.asarray(desired)
    if tol is None:
        tol = tolerance(dtype if dtype is not None else actual.dtype)
    assert actual.shape == desired.shape, f"shape {actual.shape} != {desired.shape} {err_msg}"
    finite = np.isfinite(desired)
    scale = float(np.max(np.abs(desired[finite]), initial=0.0)) or 1.0
    np.testing.assert_allclose(actual, desired, rtol=tol.rtol, atol=tol.atol * scale,
                               err_msg=err_msg)
    if finite.all():
        err = relative_error(actual, desired)
        assert err <= tol.norm, f"relative error {err:.3g} > {tol.norm:g} {err_msg}"


def random_geometry(rng: np.random.Generator, max_extra: int = 8) -> dict:
    """A random valid conv2d geometry covering every feature of the API.

    Stride and dilation 1–3 per axis, groups 1/2/4/depthwise, int, pair,
    asymmetric, ``'valid'`` and ``'same'`` padding, non-square kernels 1–5 and
    images, batch 1–4.

    Returns
    -------
    dict
        ``x_shape``, ``w_shape`` and the ``stride``, ``padding``, ``dilation``,
        ``groups`` keyword arguments of :func:`fftconv.conv2d`.
    """
    kind = rng.choice(["1", "2", "4", "depthwise"])
    if kind == "depthwise":
        groups = c_in = int(rng.integers(1, 5))
        c_out = c_in * int(rng.integers(1, 3))
    else:
        groups = int(kind)
        c_in, c_out = groups * int(rng.integers(1, 3)), groups * int(rng.integers(1, 3))
    kh, kw = (int(k) for k in rng.integers(1, 6, size=2))
    stride = tuple(int(s) for s in rng.integers(1, 4, size=2))
    dilation = tuple(int(d) for d in rng.integers(1, 4, size=2))
    style = int(rng.integers(0, 5))
    if style == 0:
        p = int(rng.integers(0, 3))
        padding, pads = p, ((p, p), (p, p))
    elif style == 1:
        ph, pw = (int(v) for v in rng.integers(0, 3, size=2))
        padding, pads = (ph, pw), ((ph, ph), (pw, pw))
    elif style == 2:
        t, b, l, r = (int(v) for v in rng.integers(0, 4, size=4))
        padding = pads = ((t, b), (l, r))
    elif style == 3:
        padding, pads = "valid", ((0, 0), (0, 0))
    else:
        stride = (1, 1)
        padding = "same"
        pads = (_same_padding(kh, dilation[0]), _same_padding(kw, dilation[1]))
    span_h, span_w = dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1
    h = max(1, span_h - sum(pads[0])) + int(rng.integers(0, max_extra))
    w = max(1, span_w - sum(pads[1])) + int(rng.integers(0, max_extra))
    n = int(rng.integers(1, 5))
    return dict(x_shape=(n, c_in, h, w), w_shape=(c_out, c_in // groups, kh, kw),
                stride=stride, padding=padding, dilation=dilation, groups=groups)


def random_conv_inputs(rng: np.random.Generator, geometry: dict, dtype=np.float64):
    """Standard-normal ``x``, ``w`` and ``bias`` for a :func:`random_geometry`."""
    x = rng.standard_normal(geometry["x_shape"]).astype(dtype)
    w = rng.standard_normal(geometry["w_shape"]).astype(dtype)
    bias = rng.standard_normal(geometry["w_shape"][0]).astype(dtype)
    return x, w, bias


def numerical_gradient(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of a scalar function ``f`` at ``x`` (float64).

    ``(f(x + ε·e_i) − f(x − ε·e_i)) / 2ε`` for every element ``i``: exact up to
    rounding for functions linear in ``x``, ``O(ε²)`` in general.
    """
    x = np.array(x, dtype=np.float64)
    grad = np.empty_like(x)
    flat, g = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        up = f(x)
        flat[i] = old - eps
        down = f(x)
        flat[i] = old
        g[i] = (up - down) / (2 * eps)
    return grad


def directional_derivative_error(f, grad: np.ndarray, x: np.ndarray,
                                 rng: np.random.Generator, directions: int = 3,
                                 eps: float = 1e-6) -> float:
    """Largest relative mismatch between ``<grad, v>`` and the central difference
    of ``f`` along random unit directions ``v`` (autograd's random-projection check).
    """
    worst = 0.0
    for _ in range(directions):
        v = rng.standard_normal(x.shape)
        v /= np.linalg.norm(v)
        numeric = (f(x + eps * v) - f(x - eps * v)) / (2 * eps)
        analytic = float(np.sum(grad * v))
        worst = max(worst, abs(numeric - analytic) / max(abs(analytic), abs(numeric), 1e-12))
    return worst


def traced_peak(call, warm_up: bool = True) -> int:
    """Peak bytes of Python-visible allocations (:mod:`tracemalloc`) while ``call()`` runs.

    Memory, not time: a test that a reader of a tiny file claiming huge sizes
    never allocates them asserts a bound on this, whatever the machine's load.

    Parameters
    ----------
    call : callable
        Called without arguments (wrap what it raises yourself, if that is expected).
    warm_up : bool
        Call it once before measuring, so imports and first-call caches are not
        counted; ``False`` when the first call is what is measured (a memoized
        estimate, say).

    Returns
    -------
    int

    Examples
    --------
    >>> traced_peak(lambda: bytearray(10 ** 6)) >= 10 ** 6
    True
    """
    if warm_up:
        call()
    tracemalloc.start()
    try:
        call()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak
