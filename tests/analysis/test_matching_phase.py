"""phase_correlate: known integer and subpixel shifts, scikit-image's answer, errors."""

import numpy as np
import pytest
import scipy.ndimage

from analysis.matching import phase_correlate

registration = pytest.importorskip("skimage.registration")


def band_limited_shift(a, shift):
    """``a`` translated by ``shift`` (any real shift) through the Fourier shift theorem."""
    freqs = np.meshgrid(*(np.fft.fftfreq(n) for n in a.shape), indexing="ij")
    phase = sum(f * s for f, s in zip(freqs, shift))
    return np.fft.ifftn(np.fft.fftn(a) * np.exp(-2j * np.pi * phase)).real


@pytest.mark.parametrize("upsample", [1, 4, 20, 100])
def test_recovers_subpixel_shifts_within_one_over_upsample(upsample):
    rng = np.random.default_rng(upsample)
    a = rng.standard_normal((63, 75))
    for _ in range(4):
        shift = rng.uniform(-10, 10, size=2)
        result = phase_correlate(a, band_limited_shift(a, shift), upsample_factor=upsample)
        assert np.all(np.abs(result.shift - shift) <= 1.0 / upsample)
        if upsample >= 20:                   # the error is measured at the found shift
            assert result.error < 0.1


def test_integer_shift_of_a_natural_image_with_window():
    rng = np.random.default_rng(1)
    scene = scipy.ndimage.gaussian_filter(rng.random((140, 150)), 2.0)   # non-periodic
    a, b = scene[20:100, 30:120], scene[13:93, 39:129]            # b = a moved by (7, -9)
    for normalization in ("phase", None):
        result = phase_correlate(a, b, normalization=normalization, window="hann")
        np.testing.assert_array_equal(result.shift, [7, -9])


def test_pure_circular_shift_has_unit_peak_and_zero_error():
    rng = np.random.default_rng(2)
    a = rng.random((32, 40))
    shift, peak, error = phase_correlate(a, np.roll(a, (3, -5), axis=(0, 1)))
    np.testing.assert_array_equal(shift, [3, -5])
    assert peak == pytest.approx(1.0, abs=1e-12) and error == pytest.approx(0.0, abs=1e-6)
    unrelated = phase_correlate(a, rng.random((32, 40)), normalization=None)
    assert unrelated.error > 0.3


@pytest.mark.parametrize("upsample", [1, 10])
def test_agrees_with_scikit_image(upsample):
    rng = np.random.default_rng(3)
    a = rng.standard_normal((64, 48))
    b = band_limited_shift(a, (4.37, -2.81))
    ours = phase_correlate(a, b, upsample_factor=upsample)
    theirs, _, _ = registration.phase_cross_correlation(a, b, upsample_factor=upsample)
    np.testing.assert_allclose(ours.shift, -theirs, atol=1e-9)   # theirs moves b onto a


def test_one_and_three_dimensions():
    rng = np.random.default_rng(4)
    signal = rng.standard_normal(101)
    assert phase_correlate(signal, band_limited_shift(signal, (3.25,)),
                           upsample_factor=4).shift[0] == pytest.approx(3.25)
    volume = rng.standard_normal((15, 17, 19))
    np.testing.assert_allclose(phase_correlate(volume, np.roll(volume, (1, -2, 3), (0, 1, 2))).shift,
                               [1, -2, 3])


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(b=np.ones((4, 5))), ValueError, r"phase_correlate: parameter 'b' must be an array of the same shape"),
    (dict(upsample_factor=0), ValueError, r"'upsample_factor' must be a positive int"),
    (dict(upsample_factor=2.5), TypeError, r"'upsample_factor' must be a positive int"),
    (dict(normalization="amplitude"), ValueError, r"'normalization' must be 'phase' or None"),
    (dict(window="hamming"), ValueError, r"'window' must be None, 'hann' or an array"),
    (dict(window=np.ones(3)), ValueError, r"'window' must be None, 'hann' or an array of"),
    (dict(b=np.full((4, 4), np.nan)), ValueError, r"parameter 'b' must be finite"),
    (dict(b=np.array([["x"] * 4] * 4)), TypeError, r"parameter 'b' must be a numeric"),
])
def test_errors(kwargs, error, message):
    args = dict(a=np.ones((4, 4)), b=np.ones((4, 4)))
    args.update(kwargs)
    with pytest.raises(error, match=message):
        phase_correlate(**args)
