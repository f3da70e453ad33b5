"""phase_correlate and masked_correlate against scikit-image's registration: one
regression test per class of difference that scikit-image's own suite found
(tools/parity runs that suite; these are the lean, always-on versions)."""

import numpy as np
import pytest
import scipy.ndimage
from skimage.registration import phase_cross_correlation
from skimage.registration._masked_phase_cross_correlation import cross_correlate_masked

from analysis.phase import masked_correlate, phase_correlate


def _texture(shape, seed, sigma=1.5):
    """A smooth, non-periodic random image (registration needs structure)."""
    rng = np.random.default_rng(seed)
    return scipy.ndimage.gaussian_filter(rng.random(shape), sigma)


def _band_limited_shift(a, shift):
    freqs = np.meshgrid(*(np.fft.fftfreq(n) for n in a.shape), indexing="ij")
    return np.fft.ifftn(np.fft.fftn(a) * np.exp(-2j * np.pi * sum(f * s for f, s in
                                                                  zip(freqs, shift))))


@pytest.mark.parametrize("upsample", [1, 20])
def test_a_size_one_axis_has_shift_zero(upsample):
    strip = _texture((40, 1), 0)
    moved = _band_limited_shift(strip, (2.4, 0.0)).real
    ours = phase_correlate(strip, moved, upsample_factor=upsample).shift
    theirs, _, _ = phase_cross_correlation(moved, strip, upsample_factor=upsample)
    assert ours[1] == 0.0
    np.testing.assert_allclose(ours, theirs, atol=1e-12)
    np.testing.assert_allclose(ours, [2.4 if upsample > 1 else 2.0, 0.0], atol=0.5 / upsample)


@pytest.mark.parametrize("normalization", ["phase", None])
def test_fourier_space_input_gives_the_real_space_result(normalization):
    a = _texture((30, 36), 1)
    b = _band_limited_shift(a, (-3.3, 5.6)).real
    real = phase_correlate(a, b, upsample_factor=10, normalization=normalization)
    fourier = phase_correlate(np.fft.fftn(a), np.fft.fftn(b), upsample_factor=10,
                              normalization=normalization, space="fourier")
    np.testing.assert_allclose(fourier.shift, real.shift, atol=1e-12)
    assert fourier.error == pytest.approx(real.error, abs=1e-9)
    theirs, _, _ = phase_cross_correlation(np.fft.fftn(b), np.fft.fftn(a), upsample_factor=10,
                                           space="fourier", normalization=normalization)
    np.testing.assert_allclose(fourier.shift, theirs, atol=1e-12)


@pytest.mark.parametrize("dtype, expected", [(np.float16, np.float32), (np.float32, np.float32),
                                             (np.complex64, np.float32), (np.float64, np.float64),
                                             (np.uint8, np.float64)])
def test_the_shift_dtype_follows_the_input(dtype, expected):
    a = (_texture((16, 18), 2) * 200).astype(dtype)
    b = np.roll(a, (2, -3), axis=(0, 1))
    ours = phase_correlate(a, b, upsample_factor=4).shift
    theirs, _, _ = phase_cross_correlation(b, a, upsample_factor=4)
    assert ours.dtype == theirs.dtype == expected
    np.testing.assert_allclose(ours, [2, -3])


@pytest.mark.parametrize("shift", [(23, 25), (-23, 25), (23, -25), (-23, -25), (-12, 30),
                                   (3, -4), (0, 0)])
def test_disambiguate_finds_shifts_beyond_half_the_size(shift):
    scene = _texture((100, 110), 3, sigma=0.7)          # a highly textured scene
    size = (40, 44)
    start = (30, 33)
    a = scene[start[0]:start[0] + size[0], start[1]:start[1] + size[1]]
    moved_start = (start[0] - shift[0], start[1] - shift[1])       # b[n] = a[n - shift]
    b = scene[moved_start[0]:moved_start[0] + size[0], moved_start[1]:moved_start[1] + size[1]]
    ours = phase_correlate(a, b, disambiguate=True)
    theirs, _, _ = phase_cross_correlation(b, a, disambiguate=True)
    np.testing.assert_array_equal(ours.shift, shift)
    np.testing.assert_array_equal(ours.shift, theirs)
    if abs(shift[1]) > size[1] // 2:       # without it: the circular alias
        circular = phase_correlate(a, b).shift
        assert not np.array_equal(circular, shift)


def test_global_phase_difference_as_scikit_image():
    a = _texture((24, 20), 4) + 1j * _texture((24, 20), 5)
    b = np.exp(0.7j) * np.roll(a, (3, 2), axis=(0, 1))
    for upsample in (1, 8):
        ours = phase_correlate(a, b, upsample_factor=upsample)
        _, _, theirs = phase_cross_correlation(b, a, upsample_factor=upsample)
        assert ours.phase == pytest.approx(0.7, abs=1e-9)
        assert ours.phase == pytest.approx(theirs, abs=1e-9)
    zero = phase_correlate(np.zeros((8, 8)), np.zeros((8, 8)))
    np.testing.assert_array_equal(zero.shift, [0, 0])
    assert np.isnan(zero.error) and zero.phase == 0.0


@pytest.mark.parametrize("mode, axes", [("full", (0, 1)), ("same", (0, 1)), ("full", (1, 2)),
                                        ("same", (0, 2))])
def test_masked_correlate_matches_scikit_image(mode, axes):
    rng = np.random.default_rng(6)
    shape1, shape2 = [(9, 8, 7), (5, 6, 7)], [(9, 8, 7), (9, 5, 4)]
    s1, s2 = shape1 if axes == (0, 1) else (shape2 if axes == (1, 2) else [(9, 8, 7), (4, 8, 3)])
    a, b = rng.random(s1) * 4 - 2, rng.random(s2) * 4 - 2
    m1, m2 = rng.random(s1) > 0.25, rng.random(s2) > 0.25
    ours = masked_correlate(a, b, m1, m2, mode=mode, axes=axes)
    theirs = cross_correlate_masked(a, b, m1, m2, mode=mode, axes=axes)
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    np.testing.assert_allclose(ours, theirs, atol=1e-9)
    assert np.all(np.abs(ours) <= 1)


def test_masked_registration_ignores_invalid_pixels_and_matches_scikit_image():
    rng = np.random.default_rng(7)
    a = _texture((48, 52), 8)
    b = np.roll(a, (-4, 6), axis=(0, 1))
    a_mask, b_mask = rng.random(a.shape) > 0.3, rng.random(b.shape) > 0.3
    b_garbage = np.where(b_mask, b, 50.0)          # invalid pixels: wildly wrong values
    ours = phase_correlate(a, b_garbage, a_mask=a_mask, b_mask=b_mask)
    theirs, error, phase = phase_cross_correlation(b_garbage, a, reference_mask=b_mask,
                                                   moving_mask=a_mask)
    np.testing.assert_array_equal(ours.shift, [-4, 6])
    np.testing.assert_array_equal(ours.shift, theirs)
    assert np.isnan(ours.error) and np.isnan(error) and 0.9 < ours.peak <= 1.0
    # different sizes: shifts relative to the centres, as scikit-image's
    crop = b[6:-6, 8:-8]
    ours = phase_correlate(a, crop, a_mask=np.ones(a.shape, bool), b_mask=np.ones(crop.shape, bool))
    theirs, _, _ = phase_cross_correlation(crop, a, reference_mask=np.ones(crop.shape, bool),
                                           moving_mask=np.ones(a.shape, bool))
    np.testing.assert_array_equal(ours.shift, theirs)
    np.testing.assert_array_equal(ours.shift, [-4, 6])


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(space="frank"), ValueError, r"phase_correlate: parameter 'space' must be one of"),
    (dict(disambiguate=1), TypeError, r"parameter 'disambiguate' must be a bool"),
    (dict(space="fourier", window="hann"), ValueError, r"'window' must be None with space='fourier'"),
    (dict(a_mask=np.ones((6, 6), bool), upsample_factor=4), ValueError,
     r"'upsample_factor' must be 1 with a_mask/b_mask"),
    (dict(a_mask=np.ones((5, 6), bool)), ValueError, r"'a_mask' must be a mask of its image's shape"),
    (dict(b_mask=np.ones((6, 6), bool), overlap_ratio=2), ValueError,
     r"'overlap_ratio' must be a number in \[0, 1\]"),
])
def test_errors(kwargs, error, message):
    with pytest.raises(error, match=message):
        phase_correlate(np.ones((6, 6)), np.ones((6, 6)), **kwargs)
    if "a_mask" not in kwargs and "b_mask" not in kwargs:
        return
    with pytest.raises(ValueError, match=r"masked_correlate: parameter 'mode' must be"):
        masked_correlate(np.ones((4, 4)), np.ones((4, 4)), np.ones((4, 4)), np.ones((4, 4)),
                         mode="valid")
