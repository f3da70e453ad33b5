"""FFT backend specifics: every tiling, chunking, spectrum reuse, stated accuracy."""

import numpy as np
import pytest

import fftconv
from fftconv.backends import fft as fft_backend
from fftconv.backends.direct import conv2d_reference
from fftconv.backends.fft import FFTBackend, set_tile_size
from fftconv.testing import assert_conv_close, relative_error

from .conftest import N_GEOMETRIES, case, conv_kwargs, reference, reference_grads

FFT = FFTBackend()


def _check_at_tile_size(index, th, tw):
    """Forward and both gradients of case ``index`` at transform size ``th × tw``."""
    g, spec, x, w, _, dy = case(index)
    with set_tile_size(th, tw):
        y = fftconv.conv2d(x, w, backend="fft", **conv_kwargs(g))
        dx, dw, _ = fftconv.conv2d_backward(dy, x, w, backend="fft", **conv_kwargs(g))
    assert_conv_close(y, reference(index), err_msg=str(spec))
    dx_ref, dw_ref = reference_grads(index)
    assert_conv_close(dx, dx_ref, err_msg=f"dx {spec}")
    assert_conv_close(dw, dw_ref, err_msg=f"dw {spec}")


@pytest.mark.parametrize("extra", [0, 1, 3])
@pytest.mark.parametrize("index", range(0, N_GEOMETRIES, 5))
def test_every_tile_size_gives_the_same_result(index, extra):
    """Overlap-save tiles from the smallest legal transform (1 output per tile) up."""
    poly, _ = FFT.plan(case(index)[1])
    _check_at_tile_size(index, poly.kh + extra, poly.kw + extra)


@pytest.mark.parametrize("support_dft", [False, True])
@pytest.mark.parametrize("index", range(2, N_GEOMETRIES, 7))
def test_kernel_transforms_by_fft_and_by_support_dft_agree(index, support_dft, monkeypatch):
    """Kernel spectra and the pruned kernel gradient: both ways give the reference."""
    monkeypatch.setattr(fft_backend, "_small_support_pays", lambda plan: support_dft)
    monkeypatch.setattr(fft_backend, "_pruned_inverse_pays", lambda plan: support_dft)
    poly, _ = FFT.plan(case(index)[1])
    for extra in (0, 3):                      # odd and even transform widths
        _check_at_tile_size(index, poly.kh + extra, poly.kw + extra + 1)


@pytest.mark.parametrize("rows", [1, 3])
def test_memory_budget_chunks_images_and_tile_rows(rows):
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((3, 4, 30, 27)), rng.standard_normal((6, 2, 5, 4))
    kwargs = dict(stride=(2, 1), padding=(2, 1), groups=2)
    with set_tile_size(8):            # about `rows` tile rows of one image per chunk
        budget = rows * fftconv.get_backend("fft").working_set(
            fftconv.make_spec("t", x.shape, w.shape, **kwargs))
    y_ref = fftconv.conv2d(x, w, backend="direct", **kwargs)
    dy = rng.standard_normal(y_ref.shape)
    grads_ref = fftconv.conv2d_backward(dy, x, w, backend="direct", **kwargs)
    with fftconv.set_memory_budget(budget), set_tile_size(8):
        assert_conv_close(fftconv.conv2d(x, w, backend="fft", **kwargs), y_ref)
        for got, want in zip(fftconv.conv2d_backward(dy, x, w, backend="fft", **kwargs),
                             grads_ref):
            assert_conv_close(got, want)


def test_forward_keeps_nothing_between_calls():
    """No input, weight or spectrum is kept by the backend between calls (the
    object holds no per-call state), and weights changed in place are always seen."""
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((2, 3, 40, 40)), rng.standard_normal((4, 3, 5, 5))
    backend = fftconv.get_backend("fft")
    state = dict(vars(backend))
    for _ in range(3):
        fftconv.conv2d(rng.standard_normal(x.shape), w, backend="fft")
    assert vars(backend) == state                          # no per-call state on the backend
    x2 = rng.standard_normal(x.shape)
    w[0, 0, 2, 2] += 1.0                                   # change the weights in place
    assert_conv_close(fftconv.conv2d(x2, w, backend="fft"),
                      fftconv.conv2d(x2, w, backend="direct"))


def _count_transforms(monkeypatch):
    """Count the FFT backend's map and kernel transforms."""
    counts = {"maps": 0, "kernels": 0}
    spectra, kernel = fft_backend._spectra, fft_backend._kernel_spectrum

    def counted_spectra(*args):
        counts["maps"] += 1
        return spectra(*args)

    def counted_kernel(*args):
        counts["kernels"] += 1
        return kernel(*args)
    monkeypatch.setattr(fft_backend, "_spectra", counted_spectra)
    monkeypatch.setattr(fft_backend, "_kernel_spectrum", counted_kernel)
    return counts


def test_backward_reuses_forward_spectra_through_the_context(monkeypatch):
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal((2, 3, 24, 24)), rng.standard_normal((4, 3, 7, 7))
    dy = rng.standard_normal((2, 4, 18, 18))
    counts = _count_transforms(monkeypatch)
    y, ctx = fftconv.conv2d(x, w, backend="fft", return_context=True)
    assert counts == {"maps": 1, "kernels": 1}
    assert ctx.backend == "fft" and ctx.spec == fftconv.make_spec("t", x.shape, w.shape)
    dx, dw, _ = fftconv.conv2d_backward(dy, x, w, context=ctx)
    assert counts == {"maps": 2, "kernels": 1}             # only dy is transformed
    ref_dx, ref_dw, _ = fftconv.conv2d_backward(dy, x, w, backend="direct")
    assert_conv_close(y, fftconv.conv2d(x, w, backend="direct"))
    assert_conv_close(dx, ref_dx)
    assert_conv_close(dw, ref_dw)
    fftconv.conv2d_backward(dy, x, w, backend="fft")      # without it: everything again
    assert counts == {"maps": 4, "kernels": 2}


@pytest.mark.parametrize("engine", fftconv.fftlib.available_engines())
@pytest.mark.parametrize("layer", [
    dict(x=(2, 8, 64, 64), w=(8, 8, 11, 11), kwargs={}),
    dict(x=(1, 4, 96, 80), w=(6, 4, 31, 31), kwargs=dict(padding="same")),
    dict(x=(3, 6, 50, 50), w=(6, 3, 5, 5), kwargs=dict(stride=2, groups=2, dilation=2)),
])
def test_stated_accuracy_against_float64_direct(engine, layer):
    """‖y − y_ref‖/‖y_ref‖ ≤ 1e-5 in float32 and ≤ 1e-12 in float64 (module notes)."""
    rng = np.random.default_rng(6)
    x, w = rng.standard_normal(layer["x"]), rng.standard_normal(layer["w"])
    ref = fftconv.conv2d(x, w, backend="direct", **layer["kwargs"])
    with fftconv.fftlib.set_fft_engine(engine, planner_effort="FFTW_ESTIMATE"):
        y32 = fftconv.conv2d(x.astype(np.float32), w.astype(np.float32), backend="fft",
                             **layer["kwargs"])
        y64 = fftconv.conv2d(x, w, backend="fft", **layer["kwargs"])
    assert y32.dtype == np.float32 and y64.dtype == np.float64
    assert relative_error(y32, ref) <= 1e-5
    assert relative_error(y64, ref) <= 1e-12


def test_tile_size_errors():
    x, w = np.ones((1, 1, 20, 20)), np.ones((1, 1, 5, 5))
    with pytest.raises(ValueError, match=r"set_tile_size: parameter 'th, tw' must be at least "
                                         r"the polyphase kernel size \(5, 5\)"):
        with set_tile_size(4):
            fftconv.conv2d(x, w, backend="fft")
    with pytest.raises(ValueError, match=r"set_tile_size: parameter 'th' must be a positive int"):
        with set_tile_size(0):
            pass


@pytest.mark.parametrize("threshold", [0, 10**9])
def test_per_frequency_products_split_across_threads_agree(threshold, monkeypatch):
    """The threaded split of the per-frequency products is the same product."""
    rng = np.random.default_rng(3)
    a = (rng.standard_normal((37, 2, 5, 6)) + 1j * rng.standard_normal((37, 2, 5, 6)))
    b = (rng.standard_normal((37, 2, 6, 4)) + 1j * rng.standard_normal((37, 2, 6, 4)))
    monkeypatch.setattr(fft_backend, "THREADED_PRODUCT_MIN_MACS", threshold)
    monkeypatch.setattr(fft_backend, "THREADED_PRODUCT_MIN_TOTAL", threshold)
    with fftconv.fftlib.set_fft_engine("scipy", threads=3):
        got = fft_backend._per_frequency_matmul(a.astype(np.complex64), b.swapaxes(-1, -2)
                                                .astype(np.complex64).swapaxes(-1, -2))
    np.testing.assert_allclose(got, a @ b, rtol=1e-5, atol=1e-5)
