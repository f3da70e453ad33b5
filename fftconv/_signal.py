"""N-d signal convolution (scipy.signal conventions): validation, direct and FFT methods.

``convolve(a, b)`` is the true convolution ``Σ_k a[k] b[n - k]`` over the chosen
axes; the other axes broadcast (each must be equal in both inputs or 1 in one of
them). Output sizes per convolved axis, with ``A = a.shape[ax]``, ``B = b.shape[ax]``:

* ``'full'``: ``A + B - 1``;
* ``'same'``: ``A``, centred in the full result (it starts at ``(A + B - 1 - A) // 2``,
  as in ``scipy.signal``);
* ``'valid'``: ``max(A, B) - min(A, B) + 1``, the positions where one input lies
  entirely inside the other (every axis must agree on which input is larger).

Along the other axes the result has the broadcast size, except in ``'same'`` mode,
where it has ``in1``'s (``scipy.signal.fftconvolve``'s rule: a size-1 axis of
``in1`` keeps the centre entry ``(B - 1) // 2`` of ``in2``'s).

Correlation is convolution with the reversed, conjugated second input.

The result dtype is ``numpy.result_type(in1, in2)`` on every method, as in
``scipy.signal.convolve``: integer (and bool) inputs give integers, which the
direct method accumulates in that dtype (wrapping on overflow, as numpy does)
and the FFT method rounds from a float64 computation (wrapping likewise);
float16 is computed in float32, extended precision (longdouble) in float64 on
the FFT path.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .backends.base import estimate_seconds, gemm_work
from .backends.registry import get_backend
from .checks import is_int, to_ndarray
from .errors import bad_type, bad_value
from .overlap_save import OverlapSave

MODES = ("full", "same", "valid")
METHODS = ("auto", "direct", "fft")


def normalize_axes(func: str, axes, ndim: int) -> tuple[int, ...]:
    """``None`` → every axis; ints (negative allowed) → sorted, distinct, in range."""
    if axes is None:
        return tuple(range(ndim))
    if is_int(axes):
        items = [int(axes)]
    elif isinstance(axes, (tuple, list)) and all(map(is_int, axes)):
        items = [int(a) for a in axes]
    else:
        raise bad_type(func, "axes", axes, "None, an int or a sequence of ints")
    out = []
    for a in items:
        if not -ndim <= a < ndim:
            raise bad_value(func, "axes", axes, f"axes in range [-{ndim}, {ndim})")
        out.append(a % ndim)
    if len(set(out)) != len(out) or not out:
        raise bad_value(func, "axes", axes, "a non-empty sequence of distinct axes")
    return tuple(sorted(out))


def signal_array(func: str, param: str, value) -> np.ndarray:
    """``value`` as an ndarray of a numeric dtype (bool, integer, float of any
    precision, complex); empty and 0-d arrays are accepted, as scipy does."""
    arr = to_ndarray(func, param, value, "a numeric array_like")   # views array objects
    if arr.dtype.kind not in "biufc":
        raise bad_type(func, param, value,
                       "a numeric array_like (bool, integer, float or complex)")
    return arr


def check_signal_args(func: str, in1, in2, mode: str, axes, method: str):
    """Validate everything once; return ``(in1, in2, axes)`` ready for the computation."""
    a = signal_array(func, "in1", in1)
    b = signal_array(func, "in2", in2)
    if not isinstance(mode, str) or mode not in MODES:
        raise bad_value(func, "mode", mode, "one of 'full', 'same', 'valid'")
    if not isinstance(method, str) or method not in METHODS:
        raise bad_value(func, "method", method, "one of 'auto', 'direct', 'fft'")
    if a.ndim != b.ndim:
        raise bad_value(func, "in2", b, f"an array with in1.ndim = {a.ndim} dimensions")
    if a.ndim == 0:
        return a, b, ()
    axes = normalize_axes(func, axes, a.ndim)
    for ax in range(a.ndim):
        if ax not in axes and a.shape[ax] != b.shape[ax] and 1 not in (a.shape[ax], b.shape[ax]):
            raise bad_value(func, "in2", b,
                            f"of size {a.shape[ax]} or 1 along the non-convolved axis {ax} "
                            f"(in1 has shape {a.shape})")
    if mode == "valid" and a.size and b.size:
        a_larger = all(a.shape[ax] >= b.shape[ax] for ax in axes)
        b_larger = all(b.shape[ax] >= a.shape[ax] for ax in axes)
        if not (a_larger or b_larger):
            raise bad_value(func, "in2", b,
                            f"no larger than in1 {a.shape} along every convolved axis, or no "
                            "smaller along every one, for mode='valid'")
    return a, b, axes


def empty_result(a, b, axes) -> np.ndarray:
    """The result of an empty input: size 0 along the convolved axes (scipy's
    ``fftconvolve`` returns an empty array), the broadcast size elsewhere."""
    shape = tuple(0 if ax in axes else max(sa, sb)
                  for ax, (sa, sb) in enumerate(zip(a.shape, b.shape)))
    return np.zeros(shape, dtype=np.result_type(a, b))


def same_on_other_axes(a, b, axes) -> np.ndarray:
    """``b`` cut to what mode ``'same'`` keeps along the non-convolved axes.

    There the output has ``a``'s size; where ``a`` has size 1 and ``b`` more,
    scipy keeps the centre entry ``(B - 1) // 2`` of the broadcast result, which
    is that entry of ``b``: take it before computing rather than crop after.
    """
    index = [slice(None)] * b.ndim
    for ax in range(b.ndim):
        if ax not in axes and a.shape[ax] == 1 and b.shape[ax] > 1:
            centre = (b.shape[ax] - 1) // 2
            index[ax] = slice(centre, centre + 1)
    return b[tuple(index)]


def fft_working_dtype(a, b) -> np.dtype:
    """The FFT method's precision: float32 (complex64) when every input is single
    precision or less (float16 included), else float64 (complex128); integers
    and bools float64, so integer results up to 2**53 are exact."""
    single = all(x.dtype.kind in "fc" and x.dtype.itemsize <= (4 if x.dtype.kind == "f" else 8)
                 for x in (a, b))
    complex_ = a.dtype.kind == "c" or b.dtype.kind == "c"
    return np.dtype(("complex64" if single else "complex128") if complex_ else
                    ("float32" if single else "float64"))


def fft_input(x, working: np.dtype) -> np.ndarray:
    """``x`` in the working precision (real inputs stay real)."""
    target = working if x.dtype.kind == "c" else np.finfo(working).dtype
    return x.astype(target, copy=False)


def to_result_dtype(out: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """The FFT result in the result dtype: floats and complex cast; integers
    rounded and wrapped modulo ``2**bits`` as integer arithmetic (the direct
    method) wraps; bools are ``!= 0``."""
    if dtype.kind == "b":
        return np.round(out) != 0
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        values = np.round(out)
        # float64 has no integers next to 2**63 - 1: the largest castable one
        top = np.nextafter(float(info.max) + 1.0, 0.0) if info.bits == 64 else float(info.max)
        outside = (values < info.min) | (values > top)
        if outside.any():            # only these wrap (mod 2**bits: exact, a power of two)
            modulus = 2.0 ** info.bits
            wrapped = np.mod(values[outside], modulus)
            if info.min < 0:
                wrapped[wrapped >= modulus / 2] -= modulus
            values[outside] = np.clip(wrapped, float(info.min), top)
        return values.astype(dtype)
    return out.astype(dtype, copy=False)


def _largest(x):
    """``max |x|``, exactly for integers (a Python int: no overflow)."""
    if x.size == 0:
        return 0
    if x.dtype.kind in "iub":
        return max(abs(int(x.max())), abs(int(x.min())))
    return float(np.max(np.abs(x)))


def exact_needs_direct(a, b) -> bool:
    """scipy's exactness rules of ``choose_conv_method``: bool inputs, extended
    precision, and integers whose products could exceed float64's 2**52 go direct."""
    if a.dtype.kind == b.dtype.kind == "b":
        return True
    if any(x.dtype.kind in "fc" and np.finfo(x.dtype).bits > 64 for x in (a, b)):
        return True
    if any(x.dtype.kind in "iu" for x in (a, b)):
        bound = _largest(a) * _largest(b) * min(a.size, b.size)
        if bound > 2 ** np.finfo(np.float64).nmant - 1:
            return True
    return False


def full_shape(a_shape, b_shape, axes) -> tuple[int, ...]:
    return tuple(sa + sb - 1 if ax in axes else max(sa, sb)
                 for ax, (sa, sb) in enumerate(zip(a_shape, b_shape)))


def crop_to_mode(full: np.ndarray, a_shape, b_shape, axes, mode: str) -> np.ndarray:
    """Cut the ``'same'`` or ``'valid'`` part out of a full convolution."""
    if mode == "full":
        return full
    index = []
    for ax in range(full.ndim):
        if ax not in axes:
            index.append(slice(None))
            continue
        sa, sb = a_shape[ax], b_shape[ax]
        size = sa if mode == "same" else max(sa, sb) - min(sa, sb) + 1
        start = (full.shape[ax] - size) // 2 if mode == "same" else min(sa, sb) - 1
        index.append(slice(start, start + size))
    return full[tuple(index)]


def direct_full(a: np.ndarray, b: np.ndarray, axes) -> np.ndarray:
    """Full convolution by shift-and-accumulate over the smaller input's taps."""
    if math.prod(b.shape[ax] for ax in axes) > math.prod(a.shape[ax] for ax in axes):
        a, b = b, a
    dtype = np.result_type(a, b)
    # float16 sums lose most of their digits: accumulate in float32 (the result
    # is cast back by the caller), as the FFT method computes
    accumulate = np.float32 if dtype == np.float16 else dtype
    a, b = a.astype(accumulate, copy=False), b.astype(accumulate, copy=False)
    out = np.zeros(full_shape(a.shape, b.shape, axes), dtype=accumulate)
    for tap in np.ndindex(*(b.shape[ax] for ax in axes)):
        target, weight = [], [slice(None)] * b.ndim
        shift = dict(zip(axes, tap))
        for ax in range(a.ndim):
            if ax in shift:
                target.append(slice(shift[ax], shift[ax] + a.shape[ax]))
                weight[ax] = slice(shift[ax], shift[ax] + 1)
            else:
                target.append(slice(None))
        out[tuple(target)] += a * b[tuple(weight)]
    return out


def direct_seconds(a_shape, b_shape, axes, dtype) -> float:
    """Estimated seconds of :func:`direct_full`, by the direct backend's constants:
    one shifted multiply-add pass over the full output per tap of the smaller input."""
    taps = min(math.prod(a_shape[ax] for ax in axes), math.prod(b_shape[ax] for ax in axes))
    macs = taps * math.prod(full_shape(a_shape, b_shape, axes))
    weights = get_backend("direct").weights(_real_dtype(dtype))
    return estimate_seconds({"gemm": gemm_work(macs, 1), "taps": float(taps), "call": 1.0},
                            weights)


def _real_dtype(dtype) -> str:
    return np.finfo(np.dtype(dtype)).dtype.name


@dataclass(frozen=True)
class _Reduction:
    """A convolution in one mode as :class:`~fftconv.overlap_save.OverlapSave`'s valid
    correlation of ``(B, G, 1, *S)`` signals with ``(G, K, 1, *k)`` kernels.

    The larger input is the signal; the smaller, flipped along the convolved
    axes, the kernel. ``crop`` (slices of the signal) and ``pad`` (zeros) place
    the requested outputs: output ``f`` of the full convolution reads signal
    samples ``f - k + 1 … f``. The non-convolved axes are sorted into batch
    (``B``: only the signal has them), groups (``G``: both) and kernel stacks
    (``K``: only the kernel), and restored afterwards.
    """

    signal: np.ndarray
    kernels: np.ndarray
    pad: tuple
    dtype: np.dtype           # the working precision, at least float32
    out_order: tuple          # engine output axes -> original axes (a permutation)
    out_shape: tuple          # engine output, axes split back out

    @classmethod
    def of(cls, a, b, axes, mode) -> "_Reduction":
        sizes = [(a.shape[ax], b.shape[ax]) for ax in axes]
        if mode == "valid":
            swap = not all(sa >= sb for sa, sb in sizes)
        else:
            swap = math.prod(sb for _, sb in sizes) > math.prod(sa for sa, _ in sizes)
        big, small = (b, a) if swap else (a, b)
        crop, pad = [slice(None)] * a.ndim, []
        for ax, (sa, sb) in zip(axes, sizes):
            length = {"full": sa + sb - 1, "same": sa, "valid": abs(sa - sb) + 1}[mode]
            start = {"full": 0, "same": (sb - 1) // 2, "valid": min(sa, sb) - 1}[mode]
            k, n = small.shape[ax], big.shape[ax]
            lo, hi = start - (k - 1), start + length      # signal samples read: [lo, hi)
            crop[ax] = slice(max(lo, 0), min(hi, n))
            pad.append((max(-lo, 0), max(hi - n, 0)))
        other = [ax for ax in range(a.ndim) if ax not in axes]
        batch = [ax for ax in other if big.shape[ax] > 1 and small.shape[ax] == 1]
        groups = [ax for ax in other if big.shape[ax] > 1 and small.shape[ax] > 1]
        stacks = [ax for ax in other if big.shape[ax] == 1 and small.shape[ax] > 1]
        ones = [ax for ax in other if big.shape[ax] == small.shape[ax] == 1]
        conv = list(axes)

        def sizes_of(arr, axs):
            return math.prod(arr.shape[ax] for ax in axs)

        signal = big[tuple(crop)].transpose(batch + groups + ones + stacks + conv)
        signal = signal.reshape((sizes_of(big, batch), sizes_of(big, groups), 1)
                                + signal.shape[len(other):])
        kernels = np.flip(small, axis=tuple(axes)).transpose(groups + stacks + ones + batch
                                                             + conv)
        kernels = kernels.reshape((sizes_of(small, groups), sizes_of(small, stacks), 1)
                                  + kernels.shape[len(other):])
        order = batch + groups + stacks + ones + conv
        lengths = []
        for ax, (lo, hi), k in zip(axes, pad, [small.shape[ax] for ax in axes]):
            lengths.append(crop[ax].stop - crop[ax].start + lo + hi - k + 1)
        split = tuple(max(a.shape[ax], b.shape[ax]) for ax in batch + groups + stacks + ones)
        return cls(signal, kernels, tuple(pad), np.result_type(a, b, np.float32),
                   tuple(np.argsort(order)), split + tuple(lengths))

    def engine(self) -> OverlapSave:
        return OverlapSave(self.kernels, self.signal.shape, pad=self.pad, dtype=self.dtype)

    def restore(self, y: np.ndarray) -> np.ndarray:
        """Engine output ``(B, G, K, *L)`` in the inputs' axis order."""
        return y.reshape(self.out_shape).transpose(self.out_order)


def fft_convolve(reduction: _Reduction) -> np.ndarray:
    """The convolution ``reduction`` stands for, by overlap-save FFT correlation
    (:class:`~fftconv.overlap_save.OverlapSave`): only the requested outputs are
    computed, and neither input is padded or copied whole."""
    return reduction.restore(reduction.engine().run(reduction.signal))


def fft_seconds(reduction: _Reduction) -> float:
    """Estimated seconds of :func:`fft_convolve` (the FFT backend's constants)."""
    return OverlapSave.estimate(reduction.kernels.shape, reduction.signal.shape,
                                pad=reduction.pad, dtype=reduction.dtype)


def choose_method(a: np.ndarray, b: np.ndarray, axes, reduction: _Reduction) -> str:
    """'direct' or 'fft', whichever the fitted constants of the direct and FFT
    backends rate faster (``reduction``: the FFT method's form of the same op)."""
    direct = direct_seconds(a.shape, b.shape, axes, reduction.dtype)
    return "direct" if direct <= fft_seconds(reduction) else "fft"
