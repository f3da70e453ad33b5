"""convolve / correlate / convolve2d / correlate2d / choose_conv_method against scipy.signal:
one regression test per class of difference that scipy's own suite found
(tools/parity runs that suite; these are the lean, always-on versions)."""

import numpy as np
import pytest
import scipy.signal

import fftconv
from fftconv.testing import assert_conv_close

METHODS = ["direct", "fft", "auto"]
MODES = ["full", "same", "valid"]


def _values(shape, dtype, rng):
    """Small values of ``dtype`` (integers in [-3, 3], or [0, 3] when unsigned)."""
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return rng.integers(0, 2, shape).astype(bool)
    if dtype.kind in "iu":
        return rng.integers(0 if dtype.kind == "u" else -3, 4, shape).astype(dtype)
    x = rng.standard_normal(shape)
    return (x + 1j * rng.standard_normal(shape) if dtype.kind == "c" else x).astype(dtype)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("dtypes", [("int8", "int8"), ("uint8", "int16"), ("int64", "int32"),
                                    ("bool", "bool"), ("bool", "uint8"), ("float16", "float16"),
                                    ("int16", "float32"), ("complex64", "float32")])
@pytest.mark.parametrize("op", ["convolve", "correlate"])
def test_result_dtype_and_values_follow_scipy_on_every_method(op, dtypes, method):
    rng = np.random.default_rng(0)
    # 1-D: scipy's direct method supports bool and float16 there (np.convolve)
    a, b = _values((17,), dtypes[0], rng), _values((4,), dtypes[1], rng)
    for mode in MODES:
        got = getattr(fftconv, op)(a, b, mode=mode, method=method)
        want = getattr(scipy.signal, op)(a, b, mode=mode, method="direct")
        assert got.dtype == want.dtype, (mode, got.dtype, want.dtype)
        if got.dtype.kind in "biu":
            np.testing.assert_array_equal(got, want)       # exact, also from the FFT
        else:
            assert_conv_close(got, want.astype(got.dtype), err_msg=mode)


@pytest.mark.parametrize("method", ["direct", "fft"])
def test_integer_overflow_wraps_as_scipy_direct_on_both_methods(method):
    a = np.array([100, 100, 100], dtype=np.int8)
    b = np.array([2, 2], dtype=np.int8)
    got = fftconv.convolve(a, b, method=method)
    want = scipy.signal.convolve(a, b, method="direct")      # int8 arithmetic wraps
    assert got.dtype == np.int8
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(got, [-56, -112, -112, -56])
    z = np.array([2 ** 33], dtype=np.int64)                  # 2**66 wraps to 0 in int64
    np.testing.assert_array_equal(fftconv.convolve(z, z, method=method),
                                  scipy.signal.convolve(z, z, method="direct"))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("shapes, axes", [(((1, 6), (3, 4)), 1), (((3, 5), (1, 2)), 1),
                                          (((2, 1, 7), (2, 4, 3)), (0, 2)),
                                          (((4, 1, 5), (1, 3, 5)), 0)])
def test_same_with_axes_gives_in1s_size_on_the_other_axes_as_scipy(shapes, axes, method):
    rng = np.random.default_rng(1)
    a, b = (rng.standard_normal(s) for s in shapes)
    for mode in MODES:
        got = fftconv.convolve(a, b, mode=mode, axes=axes, method=method)
        want = scipy.signal.fftconvolve(a, b, mode=mode, axes=axes)
        assert_conv_close(got, want, err_msg=f"{mode} {shapes}")


@pytest.mark.parametrize("method", METHODS)
def test_zero_dimensional_and_empty_inputs_as_scipy(method):
    for x, y in [(np.int8(3), np.int16(4)), (np.array(2.5), np.array(1 - 1j))]:
        got = fftconv.convolve(np.asarray(x), np.asarray(y), method=method)
        want = scipy.signal.convolve(np.asarray(x), np.asarray(y), method=method)
        assert got.shape == want.shape == () and got.dtype == want.dtype and got == want
    with pytest.raises(ValueError, match="in2' must be an array with in1.ndim = 0"):
        fftconv.convolve(np.array(2.0), np.ones(3), method=method)
    for a, b in [([], []), ([5.0, 6.0], []), ([], [7.0])]:
        for mode in MODES:
            got = fftconv.convolve(a, b, mode=mode, method=method)
            want = scipy.signal.fftconvolve(np.asarray(a), np.asarray(b), mode=mode)
            assert got.shape == want.shape == (0,) and got.dtype == want.dtype
    assert fftconv.correlate(np.zeros((0, 3)), np.ones((2, 3)), axes=0).shape == (0, 3)


def test_auto_keeps_exact_inputs_exact_as_scipys_chooser():
    rng = np.random.default_rng(2)
    for n, k in [(8, 6), (40, 40), (300, 60)]:
        a, b = rng.integers(-5, 6, n), rng.integers(-5, 6, k)
        np.testing.assert_array_equal(fftconv.convolve(a, b), np.convolve(a, b))
    big = np.array([2 ** 51], dtype=np.int64)
    for x, y in [(big, big), (np.ones(50, bool), np.ones(40, bool)),
                 (np.ones(30, np.longdouble), np.ones(30, np.longdouble))]:
        assert fftconv.choose_conv_method(x, y) == scipy.signal.choose_conv_method(x, y) == "direct"
    assert fftconv.choose_conv_method(np.ones(8), np.ones(6), mode="same") == "direct"
    method, times = fftconv.choose_conv_method(np.ones(20), np.ones(5), measure=True)
    assert method in ("fft", "direct") and set(times) == {"fft", "direct"}
    assert method == min(times, key=times.get)


def test_extended_precision_on_the_fft_path_returns_its_dtype():
    rng = np.random.default_rng(3)
    for dtype in (np.longdouble, np.clongdouble):
        a, b = (rng.random(s).astype(dtype) for s in ((9, 7), (3, 2)))
        got = fftconv.convolve(a, b, method="fft")
        assert got.dtype == dtype
        assert_conv_close(got, scipy.signal.convolve(a, b, method="direct"),
                          dtype=np.complex128 if dtype == np.clongdouble else np.float64)


def test_scipy_keyword_names():
    a, b = np.arange(5.0), np.array([1.0, -1.0])
    np.testing.assert_array_equal(fftconv.convolve(in1=a, in2=b, mode="valid"),
                                  scipy.signal.convolve(in1=a, in2=b, mode="valid"))
    np.testing.assert_array_equal(fftconv.correlate(in1=a, in2=b),
                                  scipy.signal.correlate(in1=a, in2=b))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("boundary", ["fill", "wrap", "symm"])
@pytest.mark.parametrize("op", ["convolve2d", "correlate2d"])
def test_convolve2d_boundaries_exactly_scipy(op, boundary, method):
    rng = np.random.default_rng(4)
    cases = [(rng.integers(-4, 5, (5, 7)), rng.integers(-4, 5, (3, 2))),
             (np.array([[2, -1, 3, 4]]), np.ones((1, 21), int)),         # kernel >> image
             (rng.integers(-4, 5, (3, 3)), rng.integers(-4, 5, (6, 6)))]
    for a, b in cases:
        for mode in MODES:
            if mode == "valid" and not (a.shape[0] >= b.shape[0]) == (a.shape[1] >= b.shape[1]):
                continue
            for fill in ([0, 3] if boundary == "fill" else [0]):
                got = getattr(fftconv, op)(a, b, mode, boundary, fill, method=method)
                want = getattr(scipy.signal, op)(a, b, mode, boundary, fill)
                assert got.dtype == want.dtype
                np.testing.assert_array_equal(got, want, err_msg=f"{a.shape} {b.shape} {mode}")
    z = rng.standard_normal((6, 5)) + 1j * rng.standard_normal((6, 5))
    k = rng.standard_normal((3, 4)) - 1j * rng.standard_normal((3, 4))
    assert_conv_close(getattr(fftconv, op)(z, k, "same", boundary, 1 + 2j, method=method),
                      getattr(scipy.signal, op)(z, k, "same", boundary, 1 + 2j))
