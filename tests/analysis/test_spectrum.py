"""Filter spectra, descriptors, frequency masks and orientation, each tested for its property."""

import numpy as np
import pytest
import scipy.ndimage

import fftconv
from analysis import kernels, spectrum
from analysis.images import stripes, demo_image
from analysis.spectrum import Spectrum, filter_spectrum, image_spectrum
from fftconv.testing import assert_conv_close

RNG_SEED = 606


def _dtft(w, fy, fx):
    """Brute-force K(f) = Σ w[p, q] exp(-2πi (fy (p - kh//2) + fx (q - kw//2)))."""
    kh, kw = w.shape
    p = (np.arange(kh) - kh // 2)[:, None, None, None]
    q = (np.arange(kw) - kw // 2)[None, :, None, None]
    phase = np.exp(-2j * np.pi * (fy[None, None, :, None] * p + fx[None, None, None, :] * q))
    return (w[:, :, None, None] * phase).sum(axis=(0, 1))


# -- spectra -------------------------------------------------------------------------

@pytest.mark.parametrize("shift", [True, False])
@pytest.mark.parametrize("kshape, size", [((3, 3), None), ((3, 4), (8, 10)), ((5, 2), 9)])
def test_filter_spectrum_is_the_centre_origin_dtft(kshape, size, shift):
    w = np.random.default_rng(RNG_SEED).standard_normal(kshape)
    spec = filter_spectrum(w, size, shift=shift)
    expected_shape = kshape if size is None else np.broadcast_to(size, 2)
    assert spec.transform.shape == tuple(expected_shape)
    assert_conv_close(spec.transform, _dtft(w, spec.fy, spec.fx))
    assert spec.shifted is shift
    assert spec.fy[spec.dc_index[0]] == 0 and spec.fx[spec.dc_index[1]] == 0


def test_filter_spectrum_of_a_stack_is_per_filter_and_keeps_float32():
    w = np.random.default_rng(RNG_SEED).standard_normal((2, 3, 5, 5)).astype(np.float32)
    spec = filter_spectrum(w, 12)
    assert spec.transform.shape == (2, 3, 12, 12)
    assert spec.transform.dtype == np.complex64
    one = filter_spectrum(w[1, 2].astype(np.float64), 12).transform
    assert_conv_close(spec.transform[1, 2], one.astype(np.complex64))


def test_zero_padding_interpolates_the_same_response():
    w = np.random.default_rng(RNG_SEED).standard_normal((5, 5))
    coarse = filter_spectrum(w, 10, shift=False).transform
    fine = filter_spectrum(w, 40, shift=False).transform
    assert_conv_close(fine[::4, ::4], coarse)


def test_parseval_and_derived_views():
    w = np.random.default_rng(RNG_SEED).standard_normal((4, 3))
    spec = filter_spectrum(w, (16, 12))
    assert spec.power.sum() / spec.power[..., :, :].size == pytest.approx((w ** 2).sum())
    np.testing.assert_allclose(spec.magnitude * np.exp(1j * spec.phase), spec.transform)
    np.testing.assert_allclose(spec.log_magnitude, np.log1p(np.abs(spec.transform)))
    assert spec.radius.shape == (16, 12) and spec.radius.max() <= np.sqrt(0.5)
    assert ((spec.orientation >= 0) & (spec.orientation < 180)).all()


def test_symmetric_kernels_have_real_spectra_antisymmetric_imaginary():
    even = filter_spectrum(kernels.gabor(size=9, phase=0), 32).transform
    odd = filter_spectrum(kernels.sobel(), 32).transform
    np.testing.assert_allclose(even.imag, 0, atol=1e-12)
    np.testing.assert_allclose(odd.real, 0, atol=1e-12)


def test_frequency_grid_matches_fftfreq():
    fy, fx = spectrum.frequency_grid((6, 5), shift=False)
    np.testing.assert_array_equal(fy, np.fft.fftfreq(6))
    np.testing.assert_array_equal(fx, np.fft.fftfreq(5))
    fy, _ = spectrum.frequency_grid(7)
    np.testing.assert_array_equal(fy, np.fft.fftshift(np.fft.fftfreq(7)))


# -- descriptors ---------------------------------------------------------------------

def test_dc_gain_is_the_response_to_a_constant_image():
    w = np.random.default_rng(RNG_SEED).standard_normal((3, 2, 5, 5))
    gains = spectrum.dc_gain(filter_spectrum(w, 16))
    np.testing.assert_allclose(gains, w.sum(axis=(-2, -1)))
    response = fftconv.conv2d(np.ones((1, 2, 9, 9)), w)[0, :, 4, 4]
    np.testing.assert_allclose(response, gains.sum(axis=1))
    assert spectrum.dc_gain(filter_spectrum(kernels.box(3), 8, shift=False)) == pytest.approx(1)


def test_centroid_frequency_of_a_narrowband_filter_is_its_frequency():
    narrow = kernels.gabor(size=41, wavelength=5.0, theta=20, sigma=8.0)
    centroid = spectrum.centroid_frequency(filter_spectrum(narrow, 128))
    assert centroid == pytest.approx(0.2, abs=0.01)
    sigmas = [0.6, 1.0, 1.5, 2.5]
    centroids = [spectrum.centroid_frequency(filter_spectrum(kernels.gaussian(15, s), 64))
                 for s in sigmas]
    assert np.all(np.diff(centroids) < 0)        # wider blur, lower frequencies


def test_spectral_flatness_is_one_for_impulses_and_scale_invariant():
    impulse = np.zeros((5, 5))
    impulse[0, 3] = -2.0                        # anywhere, any sign or scale
    assert spectrum.spectral_flatness(filter_spectrum(impulse, 16)) == pytest.approx(1, abs=1e-12)
    w = np.random.default_rng(RNG_SEED).standard_normal((4, 5, 5))
    spec = filter_spectrum(w, 32)
    flat = spectrum.spectral_flatness(spec)
    assert ((flat > 0) & (flat < 1)).all()
    np.testing.assert_allclose(spectrum.spectral_flatness(filter_spectrum(7.5 * w, 32)), flat)
    power = spec.power[2]
    expected = np.exp(np.log(power + 1e-10 * power.mean()).mean()) / power.mean()
    assert flat[2] == pytest.approx(expected)
    assert spectrum.spectral_flatness(filter_spectrum(kernels.gaussian(9, 2.0), 32)) < 0.01


def test_radial_profile_is_the_ring_mean_of_power():
    w = np.random.default_rng(RNG_SEED).standard_normal((3, 3))
    spec = filter_spectrum(w, 16)
    radii, profile = spectrum.radial_profile(spec)
    assert radii[0] == 0 and radii[-1] == 0.5 and len(radii) == 9
    assert profile[0] == pytest.approx(w.sum() ** 2)                  # ring 0: DC only
    ring = np.rint(spec.radius * 16).astype(int)
    for k in (1, 4, 8):
        assert profile[k] == pytest.approx(spec.power[ring == k].mean())
    impulse = np.ones((1, 1))
    np.testing.assert_allclose(spectrum.radial_profile(filter_spectrum(impulse, 20))[1], 1.0)
    _, gauss = spectrum.radial_profile(filter_spectrum(kernels.gaussian(9, 1.5), 64))
    significant = gauss > 1e-4                 # beyond, the 9×9 truncation ripples
    assert significant.sum() > 10 and np.all(np.diff(gauss[significant]) < 0)


@pytest.mark.parametrize("kernel, expected", [
    (kernels.gaussian(5, 1.0), "lowpass"), (kernels.box(3), "lowpass"),
    (kernels.sobel(), "bandpass"), (kernels.gabor(), "bandpass"),
    (kernels.laplacian(4), "highpass"), (kernels.laplacian(8), "highpass"),
    (kernels.sharpen(), "highpass"), (np.ones((1, 1)), "allpass"),
    (np.zeros((3, 3)), "zero"),
])
def test_pass_type_of_named_kernels(kernel, expected):
    assert spectrum.pass_type(filter_spectrum(kernel, 64)) == expected


@pytest.mark.parametrize("mask, expected", [
    (spectrum.lowpass(64, 0.2, "butterworth"), "lowpass"),
    (spectrum.highpass(64, 0.2, "gaussian"), "highpass"),
    (spectrum.bandpass(64, 0.1, 0.3, "ideal"), "bandpass"),
    (0.6 + 0.4 * spectrum.lowpass(64, 0.2), "allpass"),          # never below half power
    (0.2 + 0.8 * spectrum.lowpass(64, 0.2), "lowpass"),
])
def test_pass_type_applies_the_half_power_rule(mask, expected):
    fy, fx = spectrum.frequency_grid(64)
    spec = Spectrum(np.sqrt(mask).astype(complex), fy, fx, True)     # power = mask
    assert spectrum.pass_type(spec) == expected


def _ring_spectrum(gains, size=64):
    """A Spectrum whose magnitude is ``gains[k]`` on every sample of ring ``k``
    (``radial_profile``'s rings), so the relative gains are exactly ``gains / max``."""
    fy, fx = spectrum.frequency_grid(size)
    ring = np.rint(np.hypot(fy[:, None], fx[None, :]) * size).astype(int)
    radii = np.arange(size // 2 + 1) / size
    values = np.interp(radii, np.linspace(0, 0.5, len(gains)), gains)
    transform = np.where(ring <= size // 2, values[np.minimum(ring, size // 2)], 0.0)
    return Spectrum(transform.astype(complex), fy, fx, True)


@pytest.mark.parametrize("dc, high, expected", [
    (0.71, 0.0, "lowpass"), (0.70, 0.0, "bandpass"),
    (0.0, 0.71, "highpass"), (0.0, 0.70, "bandpass"),
    (0.705, 1.0, "highpass"), (0.71, 1.0, "allpass"),
    (1.0, 0.70, "lowpass"), (1.0, 0.71, "allpass"),
])
def test_pass_type_follows_the_relative_gains_on_both_sides_of_half_power(dc, high, expected):
    # the profile rises (or falls) linearly between DC, a peak of 1 at 0.25 and |f| = 0.5
    spec = _ring_spectrum([dc, 1.0, high])
    assert spectrum.relative_dc_gain(spec) == pytest.approx(dc)
    assert spectrum.relative_high_gain(spec) == pytest.approx(high)
    assert spectrum.pass_type(spec) == expected
    assert spectrum.HALF_POWER_GAIN == pytest.approx(0.70710678)


def test_relative_gains_agree_with_the_label_on_textbook_filters():
    w = kernels.stack_kernels([kernels.box(3), kernels.laplacian(), kernels.gabor()])
    spec = filter_spectrum(w, 64)
    dc, high = spectrum.relative_dc_gain(spec), spectrum.relative_high_gain(spec)
    assert list(spectrum.pass_type(spec)) == ["lowpass", "highpass", "bandpass"]
    assert dc[0] == pytest.approx(1.0) and high[0] < spectrum.HALF_POWER_GAIN
    assert dc[1] == pytest.approx(0.0, abs=1e-12) and high[1] >= spectrum.HALF_POWER_GAIN
    assert dc[2] < spectrum.HALF_POWER_GAIN and high[2] < spectrum.HALF_POWER_GAIN
    assert np.isnan(spectrum.relative_dc_gain(filter_spectrum(np.zeros((3, 3)))))


def test_pass_type_of_a_stack_is_an_array():
    w = kernels.stack_kernels([kernels.box(3), kernels.sobel(), kernels.laplacian()])
    assert list(spectrum.pass_type(filter_spectrum(w, 64))) == ["lowpass", "bandpass",
                                                                  "highpass"]


@pytest.mark.parametrize("theta", [0.0, 20.0, 45.0, 75.0, 90.0, 110.0, 160.0])
def test_dominant_orientation_recovers_a_gabor_angle(theta):
    spec = filter_spectrum(kernels.gabor(size=15, wavelength=4.0, theta=theta), 64)
    assert spectrum.dominant_orientation(spec) == pytest.approx(theta, abs=0.5)
    assert spectrum.orientation_selectivity(spec) > 0.8


def test_orientation_follows_rotations_and_reflections():
    w = np.random.default_rng(RNG_SEED).standard_normal((5, 5))
    angle = spectrum.dominant_orientation(filter_spectrum(w, 64))
    rotated = spectrum.dominant_orientation(filter_spectrum(np.rot90(w), 64))
    transposed = spectrum.dominant_orientation(filter_spectrum(w.T, 64))
    assert (rotated - angle - 90) % 180 == pytest.approx(0, abs=1e-9) or \
        (rotated - angle - 90) % 180 == pytest.approx(180, abs=1e-9)
    assert (transposed + angle - 90) % 180 == pytest.approx(0, abs=1e-9) or \
        (transposed + angle - 90) % 180 == pytest.approx(180, abs=1e-9)
    assert spectrum.dominant_orientation(filter_spectrum(kernels.sobel("x"), 64)) == 0
    assert spectrum.dominant_orientation(filter_spectrum(kernels.sobel("y"), 64)) == 90


def test_orientation_selectivity_bounds():
    fy, fx = spectrum.frequency_grid(32)
    line = np.zeros((32, 32), complex)
    line[16, :] = 1.0                                     # energy only on the fx axis
    diagonal = np.zeros((32, 32), complex)
    idx = np.arange(1, 32)
    diagonal[idx, 32 - idx] = 1.0                         # fx = -fy_row: y up = x, 45°
    for power, angle in ((line, 0.0), (diagonal, 45.0)):
        spec = Spectrum(power, fy, fx, True)
        assert spectrum.orientation_selectivity(spec) == pytest.approx(1.0)
        assert spectrum.dominant_orientation(spec) == pytest.approx(angle)
    for k in (kernels.gaussian(5, 1.0), kernels.box(5), kernels.laplacian(8)):
        spec = filter_spectrum(k, 64)
        assert spectrum.orientation_selectivity(spec) == pytest.approx(0, abs=1e-12)
        assert np.isnan(spectrum.dominant_orientation(spec))
    zero = filter_spectrum(np.zeros((3, 3)), 8)
    assert np.isnan(spectrum.orientation_selectivity(zero))
    assert np.isnan(spectrum.centroid_frequency(zero))
    assert np.isnan(spectrum.spectral_flatness(zero))


def test_filter_descriptors_match_the_single_functions():
    w = np.random.default_rng(RNG_SEED).standard_normal((3, 4, 5, 5))
    table = spectrum.filter_descriptors(w, 32)
    spec = filter_spectrum(w, 32)
    assert set(table) == {"dc_gain", "relative_dc_gain", "relative_high_gain",
                          "dominant_orientation", "orientation_selectivity",
                          "centroid_frequency", "pass_type", "spectral_flatness"}
    for name, values in table.items():
        assert values.shape == (3, 4)
        expected = getattr(spectrum, name)(spec)
        if values.dtype.kind == "U":
            np.testing.assert_array_equal(values, expected)
        else:
            np.testing.assert_allclose(values, expected)


# -- image spectra and orientation energy --------------------------------------------------

@pytest.mark.parametrize("angle", [0.0, 15.0, 37.0, 90.0, 128.0])
def test_stripes_show_their_angle(angle):
    spec = image_spectrum(stripes(64, angle, 7.0))
    assert spectrum.dominant_orientation(spec) == pytest.approx(angle, abs=0.05)
    centres, energy = spectrum.orientation_energy(spec, bins=36)
    assert energy.sum() == pytest.approx(1.0)
    nearest = np.argmin(np.abs((centres - angle + 90) % 180 - 90))
    assert abs(int(np.argmax(energy)) - nearest) % 36 in (0, 1, 35)


@pytest.mark.parametrize("rotation", [20.0, 37.0, 120.0])
def test_rotating_an_image_rotates_its_spectrum(rotation):
    """Seed 001: an object turned by 37° is hard to see in pixels, plain in the spectrum."""
    image = stripes(128, 0.0, 8.0)
    rotated = scipy.ndimage.rotate(image, rotation, reshape=False, order=3, mode="reflect")
    before = spectrum.dominant_orientation(image_spectrum(image))
    after = spectrum.dominant_orientation(image_spectrum(rotated))
    assert (after - before) % 180 == pytest.approx(rotation, abs=0.2)


def test_orientation_energy_of_an_isotropic_filter_is_flat():
    _, energy = spectrum.orientation_energy(filter_spectrum(kernels.gaussian(9, 1.5), 64))
    np.testing.assert_allclose(energy * 36, 1.0, atol=0.03)
    centres, sobel = spectrum.orientation_energy(filter_spectrum(kernels.sobel(), 64), bins=4)
    np.testing.assert_array_equal(centres, [0, 45, 90, 135])
    assert np.argmax(sobel) == 0 and sobel[2] < 0.05
    shifted = filter_spectrum(kernels.sobel(), 64, shift=False)
    np.testing.assert_allclose(spectrum.orientation_energy(shifted, bins=4)[1], sobel)


def test_orientation_energy_band_selects_radii():
    image = stripes(64, 30.0, 4.0) + stripes(64, 120.0, 16.0)      # 0.25 and 0.0625 c/px
    spec = image_spectrum(image)
    centres, high = spectrum.orientation_energy(spec, bins=18, band=(0.15, 0.5))
    _, low = spectrum.orientation_energy(spec, bins=18, band=(0.0, 0.15))
    assert centres[np.argmax(high)] == 30.0 and centres[np.argmax(low)] == 120.0


def test_image_spectrum_window_and_mean():
    image = stripes(64, 37.0, 7.0) + 3.0
    spec = image_spectrum(image)
    assert abs(spec.transform[spec.dc_index]) < 1e-9
    raw = image_spectrum(image, window=None, remove_mean=False)
    assert raw.transform[raw.dc_index] == pytest.approx(image.sum())
    # The window suppresses the border leakage along the axes.
    axes = lambda s: s.power[..., s.dc_index[0], :].sum() + s.power[..., :, s.dc_index[1]].sum()
    assert axes(spec) / spec.power.sum() < 0.1 * axes(image_spectrum(image, window=None)) / \
        image_spectrum(image, window=None).power.sum()
    batch = image_spectrum(np.stack([image, 2 * image]))
    np.testing.assert_allclose(batch.transform[1], 2 * spec.transform)


# -- frequency masks --------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(32, 32), (31, 24)])
def test_mask_profiles(shape):
    fy, fx = spectrum.frequency_grid(shape)
    r = np.hypot(fy[:, None], fx[None, :])
    np.testing.assert_array_equal(spectrum.lowpass(shape, 0.2), (r <= 0.2).astype(float))
    np.testing.assert_allclose(spectrum.lowpass(shape, 0.2, "gaussian"),
                               np.exp(-r ** 2 / (2 * 0.2 ** 2)))
    np.testing.assert_allclose(spectrum.lowpass(shape, 0.2, "butterworth", order=3),
                               1 / (1 + (r / 0.2) ** 6))
    for kind in spectrum.MASK_KINDS:
        low = spectrum.lowpass(shape, 0.2, kind)
        assert low[shape[0] // 2, shape[1] // 2] == 1.0
        np.testing.assert_allclose(spectrum.highpass(shape, 0.2, kind), 1 - low)
        band = spectrum.bandpass(shape, 0.1, 0.3, kind)
        assert ((band >= 0) & (band <= 1)).all()
        unshifted = np.fft.ifftshift(low)                 # M[k] == M[-k]: Hermitian grid
        np.testing.assert_array_equal(unshifted, np.roll(unshifted[::-1, ::-1], 1, (0, 1)))
    np.testing.assert_array_equal(spectrum.bandpass(shape, 0.1, 0.3),
                                  spectrum.lowpass(shape, 0.3) - spectrum.lowpass(shape, 0.1))


def test_cutoff_gains():
    fy, fx = spectrum.frequency_grid(40)
    i, j = 20, 20 + 8                                      # fx = 0.2 exactly
    assert spectrum.lowpass(40, 0.2, "gaussian")[i, j] == pytest.approx(np.exp(-0.5))
    assert spectrum.lowpass(40, 0.2, "butterworth")[i, j] == pytest.approx(0.5)
    assert spectrum.lowpass(40, 0.2, "ideal")[i, j] == 1.0
    assert fx[j] == pytest.approx(0.2)


@pytest.mark.parametrize("method", ["direct", "fft"])
@pytest.mark.parametrize("kind", spectrum.MASK_KINDS)
@pytest.mark.parametrize("shape", [(24, 24), (17, 22)])
def test_masking_in_frequency_is_circular_convolution_with_the_mask_kernel(shape, kind, method):
    """The convolution theorem, checked with fftconv's own convolution."""
    images = np.random.default_rng(RNG_SEED).standard_normal((2,) + shape)
    for mask in (spectrum.lowpass(shape, 0.15, kind), spectrum.bandpass(shape, 0.1, 0.3, kind)):
        masked = spectrum.apply_frequency_mask(images, mask)
        convolved = spectrum.circular_convolve(images, spectrum.mask_kernel(mask), method)
        assert_conv_close(masked, convolved)


def test_asymmetric_mask_acts_through_its_symmetric_part():
    mask = np.random.default_rng(RNG_SEED).random((12, 12))
    image = np.random.default_rng(1).standard_normal((12, 12))
    masked = spectrum.apply_frequency_mask(image, mask)
    assert_conv_close(masked, spectrum.circular_convolve(image, spectrum.mask_kernel(mask)))
    unshifted = np.fft.ifftshift(mask)
    mirrored = np.roll(unshifted[::-1, ::-1], 1, (0, 1))
    symmetric = np.fft.fftshift((unshifted + mirrored) / 2)
    assert_conv_close(masked, spectrum.apply_frequency_mask(image, symmetric))


def test_mask_kernel_round_trips_through_filter_spectrum():
    for shape in [(16, 16), (15, 20)]:
        mask = spectrum.bandpass(shape, 0.1, 0.35, "butterworth")
        spec = filter_spectrum(spectrum.mask_kernel(mask))
        np.testing.assert_allclose(spec.transform, mask, atol=1e-12)


def test_ideal_lowpass_removes_exactly_the_frequencies_outside_the_circle():
    fine = stripes(32, 0.0, 32 / 12)        # 0.375 cycles/pixel, on the DFT grid
    coarse = stripes(32, 90.0, 8.0)         # 0.125 cycles/pixel
    kept = spectrum.apply_frequency_mask(fine + coarse, spectrum.lowpass(32, 0.25))
    np.testing.assert_allclose(kept, coarse, atol=1e-12)
    removed = spectrum.apply_frequency_mask(fine + coarse, spectrum.highpass(32, 0.25))
    np.testing.assert_allclose(removed, fine, atol=1e-12)


def test_apply_frequency_mask_dtypes():
    image = demo_image(16).astype(np.float32)
    mask = spectrum.lowpass(16, 0.2).astype(np.float32)
    assert spectrum.apply_frequency_mask(image, mask).dtype == np.float32
    assert spectrum.apply_frequency_mask(image, mask.astype(np.float64)).dtype == np.float64


# -- circular convolution ---------------------------------------------------------------------

def _circular_reference(x, k):
    h, w = x.shape
    kh, kw = k.shape
    out = np.zeros_like(x)
    for i in range(h):
        for j in range(w):
            for p in range(kh):
                for q in range(kw):
                    out[i, j] += k[p, q] * x[(i - p + kh // 2) % h, (j - q + kw // 2) % w]
    return out


@pytest.mark.parametrize("method", ["direct", "fft", "auto"])
@pytest.mark.parametrize("kshape", [(3, 3), (2, 4), (7, 9), (1, 1)])
def test_circular_convolve_matches_the_definition(kshape, method):
    rng = np.random.default_rng(RNG_SEED)
    x, k = rng.standard_normal((5, 6)), rng.standard_normal(kshape)
    assert_conv_close(spectrum.circular_convolve(x, k, method), _circular_reference(x, k))
    batch = spectrum.circular_convolve(np.stack([x, -x, 2 * x]), k, method)
    assert batch.shape == (3, 5, 6)
    assert_conv_close(batch[2], 2 * _circular_reference(x, k))


# -- errors -------------------------------------------------------------------------------

_SPEC = filter_spectrum(kernels.box(3), 8)


@pytest.mark.parametrize("call, exc, pattern", [
    (lambda: filter_spectrum(np.ones(3)), ValueError,
     r"filter_spectrum: parameter 'w' must be an array with at least 2 dimensions "
     r"\(\.\.\., kh, kw\)"),
    (lambda: filter_spectrum(np.ones((5, 5)), 4), ValueError,
     r"filter_spectrum: parameter 'size' must be an int or a pair of ints at least "
     r"\(5, 5\); got 4"),
    (lambda: filter_spectrum(np.ones((3, 3)), 8.0), TypeError, r"parameter 'size'"),
    (lambda: filter_spectrum(np.full((3, 3), np.nan)), ValueError,
     r"parameter 'w' must be an array of finite values"),
    (lambda: filter_spectrum(np.ones((3, 3), complex)), TypeError,
     r"parameter 'w' must be a real array_like"),
    (lambda: filter_spectrum(np.ones((0, 3))), ValueError, r"must be a non-empty array"),
    (lambda: filter_spectrum([[1, 2], [3]]), TypeError,
     r"parameter 'w' must be a real array_like"),
    (lambda: image_spectrum(np.ones((8, 8)), window="hamming"), ValueError,
     r"image_spectrum: parameter 'window' must be one of 'hann'; got 'hamming'"),
    (lambda: spectrum.dc_gain(np.ones((3, 3))), TypeError,
     r"dc_gain: parameter 'spectrum' must be a Spectrum \(from filter_spectrum or "
     r"image_spectrum\); got ndarray of shape \(3, 3\)"),
    (lambda: spectrum.radial_profile(_SPEC, rings=0), ValueError,
     r"radial_profile: parameter 'rings' must be an int >= 1; got 0"),
    (lambda: spectrum.orientation_energy(_SPEC, bins=0), ValueError,
     r"orientation_energy: parameter 'bins' must be an int >= 1"),
    (lambda: spectrum.orientation_energy(_SPEC, band=(0.3, 0.2)), ValueError,
     r"parameter 'band' must be a pair \(low, high\) with 0 <= low < high <= 0.5; "
     r"got \(0.3, 0.2\)"),
    (lambda: spectrum.orientation_energy(_SPEC, band=0.3), ValueError,
     r"parameter 'band' must be a pair \(low, high\) of frequencies"),
    (lambda: spectrum.lowpass(8, 0), ValueError,
     r"lowpass: parameter 'cutoff' must be a finite real number > 0; got 0"),
    (lambda: spectrum.lowpass(8, 0.2, kind="box"), ValueError,
     r"lowpass: parameter 'kind' must be one of 'ideal', 'gaussian', 'butterworth'; got 'box'"),
    (lambda: spectrum.highpass(8, 0.2, "butterworth", order=-1), ValueError,
     r"highpass: parameter 'order' must be a finite real number > 0"),
    (lambda: spectrum.lowpass((8, 0), 0.2), ValueError, r"lowpass: parameter 'shape'"),
    (lambda: spectrum.bandpass(8, 0.3, 0.2), ValueError,
     r"bandpass: parameter 'high' must be a frequency above low=0.3; got 0.2"),
    (lambda: spectrum.apply_frequency_mask(np.ones((8, 8)), np.ones((8, 9))), ValueError,
     r"apply_frequency_mask: parameter 'mask' must be of the images' shape \(H, W\) = \(8, 8\)"),
    (lambda: spectrum.apply_frequency_mask(np.ones((8, 8)), np.ones((2, 8, 8))), ValueError,
     r"parameter 'mask' must be a 2-d array \(H, W\)"),
    (lambda: spectrum.mask_kernel(np.ones(8)), ValueError, r"mask_kernel: parameter 'mask'"),
    (lambda: spectrum.circular_convolve(np.ones((4, 4)), np.ones((2, 2, 2))), ValueError,
     r"circular_convolve: parameter 'kernel' must be a 2-d array \(kh, kw\)"),
    (lambda: spectrum.circular_convolve(np.ones((4, 4)), np.ones((3, 3)), method="x"), ValueError,
     r"convolve: parameter 'method' must be one of 'auto', 'direct', 'fft'"),
])
def test_errors(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()


@pytest.mark.parametrize("backend", fftconv.available_backends())
def test_convolution_theorem_through_every_conv2d_backend(backend):
    """Masking equals the layer op (a correlation with the flipped kernel) on a wrapped image."""
    image = np.random.default_rng(RNG_SEED).standard_normal((20, 20))
    mask = spectrum.lowpass(image.shape, 0.2, "butterworth")
    kernel = spectrum.mask_kernel(mask)
    kh, kw = kernel.shape
    wrapped = np.pad(image, ((kh - 1 - kh // 2, kh // 2), (kw - 1 - kw // 2, kw // 2)), "wrap")
    spec = fftconv.make_spec("mask", (1, 1) + wrapped.shape, (1, 1, kh, kw))
    if not fftconv.get_backend(backend).supports(spec):       # Winograd: kernels ≤ 7 taps
        with pytest.raises(NotImplementedError, match="does not support"):
            fftconv.conv2d(wrapped[None, None], kernel[None, None].copy(), backend=backend)
        return
    layer = fftconv.conv2d(wrapped[None, None], kernel[::-1, ::-1][None, None].copy(),
                           backend=backend)[0, 0]
    assert_conv_close(layer, spectrum.apply_frequency_mask(image, mask))


def test_the_descriptor_table_shows_the_relative_gains_the_rule_uses():
    # a blur scaled by 0.3 has K(0) = 0.3 (an absolute DC gain that looks "low")
    # but passes DC: the rule reads g_dc = 1 relative to its peak, and says so
    w = kernels.stack_kernels([0.3 * kernels.gaussian(5, 1.0), kernels.laplacian()])
    table = spectrum.filter_descriptors(w, 64)
    header, rows, formats = spectrum.descriptor_table(["blur", "lap"], table)
    rule = [i for i, name in enumerate(header) if "(rule)" in name]
    assert [header[i] for i in rule] == ["g₀ = DC/peak (rule)", "g½ = |f|=0.5/peak (rule)"]
    assert rows[0][1] == "lowpass" and rows[0][rule[0]] == pytest.approx(1.0)
    assert rows[0][header.index("K(0) = Σw")] == pytest.approx(0.3)
    assert rows[1][1] == "highpass" and rows[1][rule[1]] >= spectrum.HALF_POWER_GAIN
    assert len(formats) == len(header) == len(rows[0])
    text = spectrum.format_descriptor_table(["blur", "lap"], table).splitlines()
    assert "(rule)" in text[0] and text[1].startswith("blur") and "lowpass" in text[1]
    assert text[-1].startswith("pass type: passes DC when g₀ >= 0.707")
    with pytest.raises(ValueError, match=r"descriptor_table: parameter 'table'.*3 filters"):
        spectrum.descriptor_table(["a", "b", "c"], table)
