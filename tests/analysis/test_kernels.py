"""Named kernels: each does what its name says, and the text form parses."""

import numpy as np
import pytest

import fftconv
from analysis import kernels
from analysis.spectrum import filter_spectrum


def _layer(image, k):
    """Apply ``k`` the way a conv layer does ('valid' cross-correlation)."""
    return fftconv.conv2d(image[None, None], k[None, None])[0, 0]


ROWS, COLS = np.mgrid[0:12, 0:12].astype(float)


def test_sobel_measures_the_gradient_along_its_axis():
    gx, gy = kernels.sobel("x"), kernels.sobel("y")
    np.testing.assert_allclose(_layer(COLS, gx), 8.0)      # (1+2+1) · (1 - (-1))
    np.testing.assert_allclose(_layer(ROWS, gx), 0.0, atol=1e-12)
    np.testing.assert_allclose(_layer(ROWS, gy), 8.0)
    np.testing.assert_allclose(_layer(COLS, gy), 0.0, atol=1e-12)


@pytest.mark.parametrize("neighbours, value", [(4, -4.0), (8, -12.0)])
def test_laplacian_is_minus_the_second_derivative(neighbours, value):
    k = kernels.laplacian(neighbours)
    assert k.sum() == 0
    np.testing.assert_allclose(_layer(3 * ROWS - 2 * COLS + 1, k), 0.0, atol=1e-12)
    # -∇²(i² + j²) = -4 for the five-point stencil; the 8-neighbour one sums 4·1 + 4·2.
    np.testing.assert_allclose(_layer(ROWS ** 2 + COLS ** 2, k), value)


def test_seed_edge_detector_is_laplacian_8():
    expected = -np.ones((3, 3))
    expected[1, 1] = 8
    np.testing.assert_array_equal(kernels.laplacian(8), expected)


def test_gaussian_is_normalized_isotropic_with_variance_sigma_squared():
    k = kernels.gaussian(21, 2.0)
    assert k.sum() == pytest.approx(1.0, abs=1e-14)
    np.testing.assert_allclose(k, np.rot90(k), atol=1e-17)
    np.testing.assert_allclose(k, k[::-1], atol=1e-17)
    offsets = np.arange(21) - 10
    assert (k.sum(axis=0) * offsets ** 2).sum() == pytest.approx(4.0, rel=1e-4)   # 5σ cut


@pytest.mark.parametrize("theta", [0.0, 25.0, 90.0, 143.0])
def test_gabor_spectrum_peaks_at_its_wave_vector(theta):
    wavelength = 5.0
    spec = filter_spectrum(kernels.gabor(size=21, wavelength=wavelength, theta=theta), 128)
    i, j = np.unravel_index(np.argmax(spec.magnitude), spec.magnitude.shape)
    peak = np.array([spec.fx[j], -spec.fy[i]])
    expected = np.array([np.cos(np.radians(theta)), np.sin(np.radians(theta))]) / wavelength
    step = 1 / 128
    assert min(np.abs(peak - expected).max(), np.abs(peak + expected).max()) <= step


def test_gabor_rotates_and_its_phase_sets_the_parity():
    np.testing.assert_allclose(np.rot90(kernels.gabor(theta=0.0)), kernels.gabor(theta=90.0),
                               atol=1e-12)
    odd = kernels.gabor(phase=90.0)
    np.testing.assert_allclose(odd, -odd[::-1, ::-1], atol=1e-12)
    even = kernels.gabor(phase=0.0)
    np.testing.assert_allclose(even, even[::-1, ::-1], atol=1e-12)


def test_gabor_aspect_narrows_the_envelope_across_the_wave():
    long_ = kernels.gabor(size=15, theta=0.0, aspect=0.5)     # elongated along the stripes
    short = kernels.gabor(size=15, theta=0.0, aspect=2.0)
    assert np.abs(long_[0, 7]) > np.abs(short[0, 7])


def test_box_is_the_local_mean():
    image = np.random.default_rng(0).random((9, 9))
    out = _layer(image, kernels.box(3))
    assert out[2, 3] == pytest.approx(image[2:5, 3:6].mean())


def test_sharpen_is_identity_plus_laplacian_and_keeps_constants():
    np.testing.assert_array_equal(kernels.sharpen(0.0), np.pad([[1.0]], 1))
    np.testing.assert_allclose(kernels.sharpen(2.5),
                               np.pad([[1.0]], 1) + 2.5 * kernels.laplacian(4))
    np.testing.assert_allclose(_layer(np.full((6, 6), 3.0), kernels.sharpen()), 3.0)


def test_named_kernel_reads_parameters():
    np.testing.assert_array_equal(kernels.named_kernel("sobel:direction=y"), kernels.sobel("y"))
    np.testing.assert_array_equal(kernels.named_kernel(" Gabor : theta=30, wavelength=6.5 "),
                                  kernels.gabor(theta=30, wavelength=6.5))
    np.testing.assert_array_equal(kernels.named_kernel("laplacian:neighbours=4"),
                                  kernels.laplacian(4))
    for name in kernels.NAMED_KERNELS:
        assert kernels.named_kernel(name).ndim == 2


def test_stack_kernels_centres_and_keeps_spectra():
    ks = [kernels.box(3), kernels.gabor(size=7, phase=45), kernels.sobel()]
    stack = kernels.stack_kernels(ks)
    assert stack.shape == (3, 7, 7)
    for k, s in zip(ks, stack):
        assert s[3, 3] == k[k.shape[0] // 2, k.shape[1] // 2]
        np.testing.assert_allclose(filter_spectrum(s, 16).transform,
                                   filter_spectrum(k, 16).transform, atol=1e-12)
    assert kernels.stack_kernels([np.ones((2, 4))]).shape == (1, 5, 5)


@pytest.mark.parametrize("call, exc, pattern", [
    (lambda: kernels.sobel("z"), ValueError,
     r"sobel: parameter 'direction' must be one of 'x', 'y'; got 'z'"),
    (lambda: kernels.laplacian(6), ValueError,
     r"laplacian: parameter 'neighbours' must be 4 or 8; got 6"),
    (lambda: kernels.gaussian(4), ValueError,
     r"gaussian: parameter 'size' must be an odd int >= 1; got 4"),
    (lambda: kernels.gaussian(5, sigma=0), ValueError,
     r"gaussian: parameter 'sigma' must be a finite real number > 0"),
    (lambda: kernels.gaussian(2.5), TypeError,
     r"gaussian: parameter 'size' must be an int >= 1; got 2.5"),
    (lambda: kernels.gabor(wavelength=1.5), ValueError,
     r"gabor: parameter 'wavelength' must be a wavelength >= 2 pixels"),
    (lambda: kernels.gabor(theta="north"), TypeError,
     r"gabor: parameter 'theta' must be a finite real number of degrees"),
    (lambda: kernels.box(0), ValueError, r"box: parameter 'size' must be an int >= 1; got 0"),
    (lambda: kernels.sharpen(-1), ValueError,
     r"sharpen: parameter 'amount' must be a finite real number >= 0"),
    (lambda: kernels.named_kernel("prewitt"), ValueError,
     r"named_kernel: parameter 'text' must be a kernel name among sobel, laplacian"),
    (lambda: kernels.named_kernel("box:width=3"), ValueError,
     r"must be 'box' with parameters among size written as key=value; got 'box:width=3'"),
    (lambda: kernels.named_kernel("box:3"), ValueError, r"parameters among size"),
    (lambda: kernels.named_kernel(3), TypeError,
     r"named_kernel: parameter 'text' must be a str; got 3"),
    (lambda: kernels.stack_kernels([]), TypeError,
     r"stack_kernels: parameter 'kernels' must be a non-empty sequence"),
    (lambda: kernels.stack_kernels([np.ones((2, 2, 2))]), ValueError,
     r"parameter 'kernels\[0\]' must be a 2-d array"),
])
def test_errors(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()
