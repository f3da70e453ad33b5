"""analysis.windows: one meaning per window name, equal to scipy's periodic windows."""

import numpy as np
import pytest
import scipy.signal

from analysis.phase import phase_correlate
from analysis.spectrum import image_spectrum
from analysis.windows import WINDOWS, separable_window


@pytest.mark.parametrize("name", WINDOWS)
@pytest.mark.parametrize("shape", [(1,), (7,), (8,), (5, 6), (3, 4, 2)])
def test_separable_window_is_the_outer_product_of_scipy_periodic_windows(name, shape):
    expected = np.ones(())
    for n in shape:
        expected = np.multiply.outer(expected, scipy.signal.get_window(name, n, fftbins=True))
    np.testing.assert_allclose(separable_window("f", "window", name, shape), expected,
                               rtol=0, atol=1e-15)


def test_hann_is_periodic_not_symmetric():
    np.testing.assert_allclose(separable_window("f", "window", "hann", (8,)),
                               scipy.signal.windows.hann(8, sym=False), atol=1e-15)
    assert not np.allclose(separable_window("f", "window", "hann", (8,)),
                           scipy.signal.windows.hann(8, sym=True))


def test_dtype_is_honoured():
    assert separable_window("f", "window", "hann", (4, 4), np.float32).dtype == np.float32


def test_image_spectrum_and_phase_correlate_use_the_same_taper(monkeypatch):
    """Both analyses multiply by separable_window's taper for window='hann'."""
    import analysis.phase
    import analysis.spectrum
    seen = []

    def spy(func, param, name, shape, dtype=np.float64):
        window = separable_window(func, param, name, shape, dtype)
        seen.append(window.astype(np.float64))
        return window

    monkeypatch.setattr(analysis.spectrum, "separable_window", spy)
    monkeypatch.setattr(analysis.phase, "separable_window", spy)
    rng = np.random.default_rng(0)
    image = rng.standard_normal((12, 10))
    image_spectrum(image, window="hann")
    phase_correlate(image, np.roll(image, 2, axis=0), window="hann")
    assert len(seen) == 2
    np.testing.assert_array_equal(seen[0], seen[1])
    np.testing.assert_allclose(seen[0], np.outer(scipy.signal.get_window("hann", 12),
                                                 scipy.signal.get_window("hann", 10)))


@pytest.mark.parametrize("name, error", [("hamming", ValueError), (3, TypeError)])
def test_unknown_names_are_rejected(name, error):
    with pytest.raises(error, match=r"f: parameter 'window' must be one of 'hann'"):
        separable_window("f", "window", name, (4,))
