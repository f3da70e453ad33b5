"""Spectral pooling and the spectral parametrization (fftconv.spectral).

Oracles: scipy.signal.resample (the same map along each axis), the ideal
low-pass filter followed by decimation (integer factors), and the identities
that define the backward passes (adjoint, exact inverse, directional derivative).
"""

import numpy as np
import pytest
import scipy.signal
from hypothesis import given, settings
from hypothesis import strategies as st

from fftconv import spectral
from fftconv.testing import assert_conv_close, directional_derivative_error

sizes = st.tuples(st.integers(1, 11), st.integers(1, 11)).flatmap(
    lambda hw: st.tuples(st.just(hw), st.integers(1, hw[0]), st.integers(1, hw[1])))


@settings(max_examples=60, deadline=None)
@given(sizes, st.integers(0, 2**32 - 1))
def test_pool_is_scipy_resample_along_each_axis_and_real(case, seed):
    (H, W), h, w = case
    x = np.random.default_rng(seed).standard_normal((2, 3, H, W))
    y = spectral.spectral_pool(x, (h, w))
    assert y.shape == (2, 3, h, w) and y.dtype == np.float64
    expected = scipy.signal.resample(scipy.signal.resample(x, h, axis=-2), w, axis=-1)
    assert_conv_close(y, expected)


@settings(max_examples=60, deadline=None)
@given(sizes, st.integers(0, 2**32 - 1))
def test_adjoint_identity(case, seed):
    (H, W), h, w = case
    rng = np.random.default_rng(seed)
    x, y = rng.standard_normal((2, H, W)), rng.standard_normal((2, h, w))
    back = spectral.spectral_pool_adjoint(y, (H, W))
    assert back.shape == (2, H, W)
    lhs, rhs = np.vdot(spectral.spectral_pool(x, (h, w)), y), np.vdot(x, back)
    assert abs(lhs - rhs) <= 1e-12 * max(1.0, np.abs(x).sum() * np.abs(y).sum())


@pytest.mark.parametrize("n, s", [(8, 2), (12, 3), (12, 4), (15, 3), (16, 8)])
def test_pool_is_ideal_lowpass_then_decimation_for_integer_factors(n, s):
    """Keep |k| < m/2 and both k = ±m/2 bins, go back to space, take every s-th sample."""
    m = n // s
    x = np.random.default_rng(n * s).standard_normal((n, n))
    k = np.fft.fftfreq(n, 1 / n)
    keep = np.abs(k) <= m / 2
    lowpassed = np.fft.ifft2(np.fft.fft2(x) * np.outer(keep, keep)).real
    assert_conv_close(spectral.spectral_pool(x, m), lowpassed[::s, ::s])


def test_band_limited_map_is_sampled_exactly_and_constants_are_kept():
    t = np.arange(24) / 24
    x = np.cos(2 * np.pi * 3 * t)[:, None] + np.sin(2 * np.pi * 2 * t)[None, :]
    y = spectral.spectral_pool(x, (8, 12))       # frequencies 3 and 2 < Nyquist of 8, 12
    assert_conv_close(y, x[::3, ::2])
    np.testing.assert_allclose(spectral.spectral_pool(np.full((7, 9), 2.5), (3, 4)), 2.5)


def test_float32_stays_float32_and_identity_size_copies():
    x = np.random.default_rng(0).standard_normal((3, 10, 10)).astype(np.float32)
    y = spectral.spectral_pool(x, 6)
    assert y.dtype == np.float32
    assert_conv_close(y, spectral.spectral_pool(x.astype(np.float64), 6).astype(np.float32))
    same = spectral.spectral_pool(x, (10, 10))
    assert np.array_equal(same, x) and not np.shares_memory(same, x)
    assert spectral.spectral_pool_adjoint(y, 10).dtype == np.float32


@pytest.mark.parametrize("call, pattern", [
    (lambda: spectral.spectral_pool(np.ones((4, 4)), 5), r"spectral_pool: .*output_size.*at most"),
    (lambda: spectral.spectral_pool(np.ones((4, 4)), (2, 0)), r"output_size.*positive"),
    (lambda: spectral.spectral_pool(np.ones(4), 2), r"parameter 'x'.*at least 2 dimensions"),
    (lambda: spectral.spectral_pool(np.ones((4, 4), complex), 2), r"parameter 'x'.*real array"),
    (lambda: spectral.spectral_pool_adjoint(np.ones((4, 4)), 3), r"input_size.*at least"),
    (lambda: spectral.spectrum_to_kernel(np.ones((3, 3, 2)), 3), r"theta.*\(\.\.\., 3, 2, 2\)"),
])
def test_errors_name_function_parameter_and_what_is_allowed(call, pattern):
    with pytest.raises((TypeError, ValueError), match=pattern):
        call()


@pytest.mark.parametrize("kernel", [(5, 5), (3, 4), (1, 1), (2, 7)])
def test_kernel_spectrum_round_trip_and_its_gradient(kernel):
    rng = np.random.default_rng(sum(kernel))
    w = rng.standard_normal((3, 2) + kernel)
    theta = spectral.kernel_to_spectrum(w)
    assert theta.shape == (3, 2, kernel[0], kernel[1] // 2 + 1, 2)
    assert_conv_close(spectral.spectrum_to_kernel(theta, kernel), w)
    # Gradient: exact for a linear map, in any direction, Hermitian or not.
    g = rng.standard_normal(w.shape)
    grad = spectral.spectrum_gradient(g)

    def f(t):
        return float(np.vdot(g, spectral.spectrum_to_kernel(t, kernel)))

    # f is linear: central differences are exact for any step, so take a large one.
    assert directional_derivative_error(f, grad, theta, rng, directions=4, eps=0.5) < 1e-10
    # ... and Hermitian: it is the spectrum of a real array, so steps keep θ Hermitian.
    step = theta - 0.1 * grad
    assert_conv_close(spectral.kernel_to_spectrum(spectral.spectrum_to_kernel(step, kernel)),
                      step)
