"""convolve / correlate against scipy.signal in 1-D, 2-D and 3-D, every mode and method."""

import numpy as np
import pytest
import scipy.signal

import fftconv
from fftconv.testing import assert_conv_close

MODES = ["full", "same", "valid"]
METHODS = ["direct", "fft", "auto"]
SHAPES = [((17,), (5,)), ((4,), (9,)), ((12, 9), (3, 4)), ((6, 7), (6, 7)),
          ((3, 5), (4, 8)), ((6, 5, 7), (2, 3, 2)), ((4, 4, 3), (5, 6, 4))]


def _inputs(shapes, dtype, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for shape in shapes:
        a = rng.standard_normal(shape)
        if np.issubdtype(dtype, np.complexfloating):
            a = a + 1j * rng.standard_normal(shape)
        out.append(a.astype(dtype))
    return out


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128])
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shapes", SHAPES)
@pytest.mark.parametrize("op", ["convolve", "correlate"])
def test_matches_scipy(op, shapes, mode, method, dtype):
    a, b = _inputs(shapes, dtype)
    wide = np.complex128 if np.iscomplexobj(a) else np.float64
    expected = getattr(scipy.signal, op)(a.astype(wide), b.astype(wide), mode=mode,
                                         method="direct")
    got = getattr(fftconv, op)(a, b, mode=mode, method=method)
    assert got.dtype == dtype
    assert_conv_close(got, expected, dtype=dtype, err_msg=f"{op} {shapes} {mode} {method}")


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("mode", MODES)
def test_axes_batch_matches_scipy_fftconvolve(mode, method):
    """A stack of 2-D images convolved with one kernel, over axes (1, 2)."""
    a, b = _inputs([(3, 10, 11), (1, 4, 3)], np.float64)
    expected = scipy.signal.fftconvolve(a, b, mode=mode, axes=(1, 2))
    got = fftconv.convolve(a, b, mode=mode, axes=(1, 2), method=method)
    assert_conv_close(got, expected)
    one = fftconv.convolve(a[1], b[0], mode=mode, method=method)
    assert_conv_close(got[1], one)


def test_batched_1d_with_negative_axis():
    a, b = _inputs([(4, 20), (4, 5)], np.float64)
    got = fftconv.correlate(a, b, mode="same", axes=-1)
    for i in range(4):
        assert_conv_close(got[i], scipy.signal.correlate(a[i], b[i], mode="same"))


def test_lists_and_integers_are_accepted():
    out = fftconv.convolve([1, 2, 3], [0, 1, 1])
    assert out.dtype == np.asarray([1]).dtype            # scipy's rule: integers stay
    np.testing.assert_array_equal(out, [0, 1, 3, 5, 3])


def test_nan_stays_local_with_direct_method():
    a = np.ones(10)
    a[4] = np.nan
    out = fftconv.convolve(a, np.ones(3), mode="valid", method="direct")
    np.testing.assert_array_equal(np.isnan(out), [False, False, True, True, True, False,
                                                  False, False])


@pytest.mark.parametrize("engine", fftconv.fftlib.available_engines())
@pytest.mark.parametrize("shapes, axes", [
    (((3000,), (7,)), None),
    (((230, 190), (9, 5)), None),
    (((2, 300), (1, 11)), (1,)),
    (((120, 7, 3), (5, 7, 3)), None),
])
@pytest.mark.parametrize("op", ["convolve", "correlate"])
def test_overlap_save_tiles_for_long_signals_match_scipy(op, shapes, axes, engine):
    """A long signal and a short kernel are cut into overlap-save tiles."""
    from fftconv._signal import _Reduction
    a, b = _inputs(shapes, np.float64, seed=2)
    for mode in MODES:
        reduction = _Reduction.of(a, b, axes or tuple(range(a.ndim)), mode)
        assert reduction.dtype == np.float64
        assert reduction.engine().plan.tiles > 1                       # really tiled
    # correlation = convolution with the kernel reversed along the convolved axes
    kernel = b if op == "convolve" else np.flip(b, axis=axes)
    with fftconv.fftlib.set_fft_engine(engine, planner_effort="FFTW_ESTIMATE"):
        for mode in MODES:
            got = getattr(fftconv, op)(a, b, mode=mode, axes=axes, method="fft")
            want = scipy.signal.fftconvolve(a, kernel, mode=mode, axes=axes)
            assert_conv_close(got, want, err_msg=f"{op} {shapes} {mode}")


@pytest.mark.parametrize("method", METHODS)
def test_kernel_broadcasting_up_a_non_convolved_axis(method):
    """One image, a stack of kernels: the image broadcasts along the stack axis
    ('full'); 'same' keeps in1's size there, the centre kernel (scipy's rule)."""
    a, b = _inputs([(1, 40, 30), (4, 5, 3)], np.float64, seed=5)
    got = fftconv.convolve(a, b, mode="full", axes=(1, 2), method=method)
    assert got.shape == (4, 44, 32) and got.flags.c_contiguous
    for i in range(4):
        assert_conv_close(got[i], scipy.signal.convolve(a[0], b[i], mode="full"))
    same = fftconv.convolve(a, b, mode="same", axes=(1, 2), method=method)
    assert same.shape == (1, 40, 30)
    assert_conv_close(same[0], scipy.signal.convolve(a[0], b[1], mode="same"))


@pytest.mark.parametrize("shapes, axes", [
    (((230, 190), (9, 5)), None),
    (((3, 300, 40), (1, 11, 7)), (1, 2)),
    (((4, 120, 60), (1, 9, 5)), (1, 2)),
])
def test_chunks_of_one_tile_row_give_the_same_result(monkeypatch, shapes, axes):
    """With a tiny chunk size every row of tiles is its own chunk."""
    from fftconv import overlap_save
    monkeypatch.setattr(overlap_save, "CHUNK_BYTES", 1)
    a, b = _inputs(shapes, np.float64, seed=3)
    for mode in MODES:
        got = fftconv.convolve(a, b, mode=mode, axes=axes, method="fft")
        want = scipy.signal.fftconvolve(a, b, mode=mode, axes=axes)
        assert_conv_close(got, want, err_msg=f"{shapes} {mode}")


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("mode", MODES)
def test_zero_dimensional_inputs_give_a_zero_dimensional_product_as_scipy(mode, method):
    got = fftconv.convolve(np.array(2.0), np.array(3.0), mode=mode, method=method)
    want = scipy.signal.convolve(np.array(2.0), np.array(3.0), mode=mode)
    assert np.ndim(got) == np.ndim(want) == 0 and got == want
    got = fftconv.correlate(np.array(2.0), np.array(3.0 + 1j), mode=mode, method=method)
    assert np.ndim(got) == 0 and got == scipy.signal.correlate(np.array(2.0),
                                                               np.array(3.0 + 1j), mode=mode)
