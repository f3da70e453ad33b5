"""The diffusion reading: softmax propagators, the heat kernel, diffusion, sampling, ARMA."""

import numpy as np
import pytest
import scipy.signal

import fftconv
from analysis import diffusion, kernels
from analysis.diffusion import (auto_temperature, diffuse, heat_kernel, moving_average_view,
                                propagator_moments, softmax_kernel, stochastic_convolve)
from analysis.images import demo_image
from analysis.spectrum import circular_convolve, filter_spectrum
from fftconv.testing import assert_conv_close

SEED = 6001


def _random_propagator(shape=(3, 3), seed=SEED):
    return softmax_kernel(np.random.default_rng(seed).standard_normal(shape))


# -- softmax -------------------------------------------------------------------------

def test_softmax_of_dettmers_edge_detector_at_temperature_one():
    p = softmax_kernel(kernels.laplacian(8), temperature=1.0)
    e8, e_1 = np.exp(8.0), np.exp(-1.0)
    assert p[1, 1] == pytest.approx(e8 / (e8 + 8 * e_1))
    assert round(float(p[1, 1]), 3) == 0.999
    np.testing.assert_allclose(p[0], e_1 / (e8 + 8 * e_1))


def test_softmax_is_a_probability_kernel_per_filter():
    w = np.random.default_rng(SEED).standard_normal((4, 3, 5, 5)) * 5
    p = softmax_kernel(w)
    assert (p >= 0).all()
    np.testing.assert_allclose(p.sum(axis=(-2, -1)), 1.0)
    np.testing.assert_allclose(p[2, 1], softmax_kernel(w[2, 1]))
    # Order-preserving and invariant to a constant shift of each kernel.
    assert (np.argsort(p[0, 0], axis=None) == np.argsort(w[0, 0], axis=None)).all()
    np.testing.assert_allclose(softmax_kernel(w + 123.0), p)


def test_softmax_is_stable_for_huge_entries_and_keeps_float32():
    w = np.array([[1000.0, 999.0], [-1000.0, 0.0]])
    p = softmax_kernel(w, temperature=1.0)
    assert np.isfinite(p).all()
    assert p[0, 0] == pytest.approx(1 / (1 + np.exp(-1.0)))
    assert softmax_kernel(w.astype(np.float32), 1.0).dtype == np.float32
    assert softmax_kernel(w.astype(np.float32)).dtype == np.float32
    assert np.isfinite(softmax_kernel(w)).all()


# -- the default temperature -------------------------------------------------------------

def test_auto_temperature_is_half_of_each_kernels_standard_deviation():
    w = np.random.default_rng(SEED).standard_normal((3, 2, 5, 5))
    t = auto_temperature(w)
    assert t.shape == (3, 2)
    np.testing.assert_allclose(t[1, 0], w[1, 0].std() / 2)
    np.testing.assert_allclose(softmax_kernel(w)[1, 0], softmax_kernel(w[1, 0], float(t[1, 0])))
    # A constant kernel: uniform at any temperature, so T falls back to 1.
    assert auto_temperature(np.full((3, 3), 0.7)) == 1.0
    np.testing.assert_allclose(softmax_kernel(np.full((3, 3), 0.7)), 1 / 9)


@pytest.mark.parametrize("c", [1e-3, 0.1, 7.0, 250.0])
def test_softmax_is_scale_equivariant(c):
    """softmax(c·w, c·T) = softmax(w, T); with the default T, softmax(c·w) = softmax(w)."""
    w = np.random.default_rng(SEED).standard_normal((4, 5, 5))
    np.testing.assert_allclose(softmax_kernel(c * w, c * 0.4), softmax_kernel(w, 0.4),
                               rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(softmax_kernel(c * w), softmax_kernel(w), rtol=1e-10,
                               atol=1e-15)
    np.testing.assert_allclose(auto_temperature(c * w), c * auto_temperature(w))


def test_default_temperature_says_something_for_trained_scale_weights():
    """Weights of a few tenths (a trained LeNet-5 C1) are nearly uniform at T = 1
    (p ≈ 1/25 everywhere); the default T gives the largest tap several times that,
    even for the lightest-tailed (uniform) weights."""
    rng = np.random.default_rng(SEED)
    for w in (rng.uniform(0.1, 0.3, (6, 5, 5)), 0.2 * rng.standard_normal((6, 5, 5)),
              0.3 * kernels.gabor(5, wavelength=4, theta=30)[None]):
        assert softmax_kernel(w, 1.0).max(axis=(-2, -1)).max() < 2 / 25
        assert (softmax_kernel(w).max(axis=(-2, -1)) >= 3 / 25).all()
        # ... and still far from a point mass: it is a spread, not an argmax.
        assert (softmax_kernel(w).max(axis=(-2, -1)) < 0.8).all()


def test_softmax_temperature_limits():
    w = np.random.default_rng(SEED).standard_normal((5, 5))
    np.testing.assert_allclose(softmax_kernel(w, 1e6), 1 / 25, rtol=1e-5)
    top, second = np.sort(w, axis=None)[[-1, -2]]
    cold = softmax_kernel(w, 1e-3 * (top - second))
    assert cold.max() == pytest.approx(1.0) and np.argmax(cold) == np.argmax(w)
    entropies = [-(p * np.log(p)).sum() for p in (softmax_kernel(w, t) for t in (0.3, 1, 3))]
    assert entropies[0] < entropies[1] < entropies[2]


# -- heat kernel -----------------------------------------------------------------------

def _embed(small, size):
    pad = (size - small.shape[0]) // 2
    return np.pad(small, pad)


@pytest.mark.parametrize("s, t", [(0.3, 0.7), (1.0, 2.5), (0.0, 1.2)])
def test_heat_kernel_semigroup(s, t):
    """G_s * G_t = G_{s+t}, exactly (up to the 1e-12 tail) for the discrete Gaussian."""
    composed = fftconv.convolve(heat_kernel(s), heat_kernel(t))
    target = heat_kernel(s + t)
    size = max(composed.shape[0], target.shape[0])
    np.testing.assert_allclose(_embed(composed, size), _embed(target, size), atol=1e-12)


@pytest.mark.parametrize("t, D", [(0.5, 1.0), (2.0, 0.3), (7.0, 1.5)])
def test_heat_kernel_variance_mass_and_symmetry(t, D):
    G = heat_kernel(t, D)
    m = propagator_moments(G)
    assert m.mass == pytest.approx(1.0, abs=1e-14)
    np.testing.assert_allclose(m.mean, 0.0, atol=1e-13)
    np.testing.assert_allclose(m.covariance, 2 * D * t * np.eye(2), atol=1e-10)
    np.testing.assert_allclose(G, G.T, atol=1e-17)
    np.testing.assert_allclose(G, G[::-1], atol=1e-17)


def test_heat_kernel_transform_is_the_lattice_gaussian():
    t, D = 1.3, 0.8
    spec = filter_spectrum(heat_kernel(t, D), 64)
    fy, fx = np.meshgrid(spec.fy, spec.fx, indexing="ij")
    expected = np.exp(-2 * D * t * (2 - np.cos(2 * np.pi * fx) - np.cos(2 * np.pi * fy)))
    np.testing.assert_allclose(spec.transform, expected, atol=1e-12)
    assert spec.magnitude.max() == pytest.approx(spec.magnitude[spec.dc_index]) == \
        pytest.approx(1.0)


def test_heat_kernel_default_size_drops_less_than_the_stated_tail():
    G = heat_kernel(3.0)
    wide = heat_kernel(3.0, size=G.shape[0] + 20)
    np.testing.assert_allclose(_embed(G, wide.shape[0]), wide, atol=1e-12)
    np.testing.assert_array_equal(heat_kernel(0.0), [[1.0]])
    assert heat_kernel(0.4, size=3).shape == (3, 3)


@pytest.mark.parametrize("seed", range(5))
def test_probability_kernels_have_fourier_bound_one(seed):
    """|K̂(f)| <= K̂(0) = 1 for any probability kernel (the triangle inequality)."""
    p = _random_propagator((5, 4), seed)
    mag = filter_spectrum(p, 32).magnitude
    assert mag.max() <= 1 + 1e-12
    assert filter_spectrum(p, 32).transform[16, 16] == pytest.approx(1.0)


# -- moments -------------------------------------------------------------------------

def test_propagator_moments_of_single_moves():
    up_left = np.zeros((3, 5))
    up_left[0, 0] = 2.0                                # row 0 is up; column 0 is 2 left
    m = propagator_moments(up_left)
    assert m.mass == 2.0
    np.testing.assert_array_equal(m.mean, [-2.0, 1.0])
    np.testing.assert_array_equal(m.covariance, np.zeros((2, 2)))
    split = np.zeros((3, 3))
    split[1, 0] = split[1, 2] = 0.5
    np.testing.assert_allclose(propagator_moments(split).covariance, [[1, 0], [0, 0]])
    stack = propagator_moments(np.stack([up_left, np.pad(split, ((0, 0), (1, 1)))]))
    assert stack.mean.shape == (2, 2) and stack.covariance.shape == (2, 2, 2)


def test_variance_adds_over_repeated_steps():
    """After n steps the spread of a delta has mean n·μ and covariance n·Σ of one step."""
    p = _random_propagator((3, 3))
    one = propagator_moments(p)
    delta = np.zeros((64, 64))
    delta[32, 32] = 1.0
    for n in (1, 4, 10):
        m = propagator_moments(diffuse(delta, p, n))
        np.testing.assert_allclose(m.mean, n * one.mean, atol=1e-10)
        np.testing.assert_allclose(m.covariance, n * one.covariance, atol=1e-9)


# -- diffuse ---------------------------------------------------------------------------

@pytest.mark.parametrize("kshape", [(3, 3), (2, 5), (5, 5)])
def test_diffuse_equals_step_by_step_direct_convolution(kshape):
    image = np.random.default_rng(SEED).random((20, 17))
    p = _random_propagator(kshape)
    stepwise = image
    frames = diffuse(image, p, [0, 1, 2, 3, 7])
    for n in range(8):
        if n:
            stepwise = circular_convolve(stepwise, p, method="direct")
        if n in (0, 1, 2, 3, 7):
            assert_conv_close(frames[[0, 1, 2, 3, 7].index(n)], stepwise)
    assert_conv_close(diffuse(image, p, 7), stepwise)


def test_diffuse_with_any_kernel_is_repeated_filtering():
    image = np.random.default_rng(SEED).random((12, 12))
    k = kernels.sharpen()
    assert_conv_close(diffuse(image, k, 2),
                      circular_convolve(circular_convolve(image, k, "direct"), k, "direct"))


def test_diffuse_conserves_mass_and_relaxes_to_the_mean():
    image = demo_image(32)
    p = _random_propagator((3, 3))
    for n in (1, 10, 100):
        assert diffuse(image, p, n).sum() == pytest.approx(image.sum(), rel=1e-12)
    np.testing.assert_allclose(diffuse(image, p, 20000), image.mean(), atol=1e-9)


def test_diffuse_by_heat_kernels_is_the_semigroup_in_action():
    image = demo_image(64)
    np.testing.assert_allclose(diffuse(image, heat_kernel(0.25), 8),
                               circular_convolve(image, heat_kernel(2.0)), atol=1e-11)


def test_diffuse_batches_dtypes_and_large_kernels():
    images = np.random.default_rng(SEED).random((2, 3, 8, 9)).astype(np.float32)
    p = _random_propagator((3, 3)).astype(np.float32)
    out = diffuse(images, p, 3)
    assert out.shape == (2, 3, 8, 9) and out.dtype == np.float32
    assert_conv_close(out[1, 2], diffuse(images[1, 2].astype(np.float64), p, 3).astype(
        np.float32))
    big = _random_propagator((11, 13))                      # larger than the 8×9 image
    assert_conv_close(diffuse(images[0, 0].astype(float), big, 2),
                      circular_convolve(circular_convolve(images[0, 0].astype(float), big), big))


# -- stochastic convolution ---------------------------------------------------------------

def test_stochastic_convolve_conserves_mass_in_every_realization():
    image = demo_image(32)
    p = heat_kernel(0.7)
    for seed in range(3):
        out = stochastic_convolve(image, p, 7, seed=seed)
        assert out.sum() == pytest.approx(image.sum(), rel=1e-12)


def test_a_deterministic_propagator_just_shifts():
    image = np.random.default_rng(SEED).random((6, 7))
    p = np.zeros((3, 3))
    p[0, 2] = 1.0                                 # everything moves one up and one right
    np.testing.assert_allclose(stochastic_convolve(image, p, 5, seed=0),
                               np.roll(image, (-1, 1), axis=(0, 1)))
    np.testing.assert_allclose(circular_convolve(image, p), np.roll(image, (-1, 1), (0, 1)))


def test_stochastic_convolve_is_unbiased():
    image = np.random.default_rng(SEED).random((16, 16))
    p = _random_propagator((3, 3))
    exact = circular_convolve(image, p)
    mean = np.mean([stochastic_convolve(image, p, 50, seed=s) for s in range(40)], axis=0)
    # 40 × 50 = 2000 moves per pixel: the per-pixel standard error is about 0.01.
    assert np.abs(mean - exact).max() < 0.06
    assert abs((mean - exact).mean()) < 0.005


def test_stochastic_convolve_error_falls_as_one_over_sqrt_samples():
    """Measured RMS error against S: slope -1/2 and the predicted constant."""
    image = demo_image(64)
    p = heat_kernel(0.6)
    exact = circular_convolve(image, p)
    samples = np.array([10, 100, 1000, 10000])
    rms = np.array([np.sqrt(np.mean((stochastic_convolve(image, p, s, seed=SEED) - exact) ** 2))
                    for s in samples])
    slope = np.polyfit(np.log(samples), np.log(rms), 1)[0]
    assert slope == pytest.approx(-0.5, abs=0.05)
    predicted = np.sqrt((1 - np.sum(p ** 2)) * np.mean(image ** 2) / samples)
    np.testing.assert_allclose(rms / predicted, 1.0, atol=0.1)


def test_stochastic_convolve_seeds_and_batches():
    image = np.random.default_rng(SEED).random((2, 8, 8))
    p = heat_kernel(0.5, size=3)
    a = stochastic_convolve(image, p, 20, seed=3)
    np.testing.assert_array_equal(a, stochastic_convolve(image, p, 20, seed=3))
    assert not np.array_equal(a, stochastic_convolve(image, p, 20, seed=4))
    rng = np.random.default_rng(3)
    np.testing.assert_array_equal(a, stochastic_convolve(image, p, 20, seed=rng))
    assert a.shape == (2, 8, 8)


# -- moving average / autoregressive -------------------------------------------------------------

@pytest.mark.parametrize("b", [[0.25, 0.5, 0.25], [1.0, -0.9], [2.0, 0.3, -0.4, 0.1], [0.0, 1.0]])
def test_moving_average_is_lfilter_fir(b):
    x = np.random.default_rng(SEED).standard_normal(40)
    view = moving_average_view(b)
    np.testing.assert_allclose(view.moving_average(x), scipy.signal.lfilter(b, [1.0], x),
                               atol=1e-12)
    np.testing.assert_allclose(view.moving_average(x),
                               scipy.signal.lfilter(*view.lfilter_moving_average, x), atol=1e-12)


@pytest.mark.parametrize("b", [[1.0, 0.5], [1.0, -0.9], [2.0, 0.3, -0.4, 0.1], [1.0, -2.0]])
def test_autoregressive_is_lfilter_iir_and_inverts_the_moving_average(b):
    x = np.random.default_rng(SEED).standard_normal(30)
    view = moving_average_view(b)
    y = view.autoregressive(x)
    expected = scipy.signal.lfilter([1.0], b, x)
    np.testing.assert_allclose(y, expected, rtol=1e-10, atol=1e-10 * np.abs(expected).max())
    np.testing.assert_allclose(view.moving_average(y), x, atol=1e-8 * np.abs(y).max())
    if view.stable_inverse:              # an unstable inverse amplifies rounding as |pole|ⁿ
        np.testing.assert_allclose(view.autoregressive(view.moving_average(x)), x, atol=1e-10)


def test_stability_follows_the_poles():
    stable, unstable = moving_average_view([1.0, -0.5]), moving_average_view([1.0, -2.0])
    assert stable.stable_inverse and not unstable.stable_inverse
    impulse = np.zeros(12)
    impulse[0] = 1.0
    np.testing.assert_allclose(stable.autoregressive(impulse), 0.5 ** np.arange(12))
    np.testing.assert_allclose(unstable.autoregressive(impulse), 2.0 ** np.arange(12))
    np.testing.assert_allclose(unstable.poles, [2.0])
    assert not moving_average_view([0.0, 1.0]).stable_inverse


def test_arma_views_work_along_any_axis_and_for_long_kernels():
    x = np.random.default_rng(SEED).standard_normal((3, 25, 2))
    view = moving_average_view([1.0, 0.4, 0.2])
    np.testing.assert_allclose(view.moving_average(x, axis=1),
                               scipy.signal.lfilter([1.0, 0.4, 0.2], [1.0], x, axis=1), atol=1e-12)
    np.testing.assert_allclose(view.autoregressive(x, axis=-2),
                               scipy.signal.lfilter([1.0], [1.0, 0.4, 0.2], x, axis=1), atol=1e-12)
    long_view = moving_average_view(np.r_[1.0, 0.1 * np.ones(9)])
    short = np.arange(4.0)
    np.testing.assert_allclose(long_view.autoregressive(short),
                               scipy.signal.lfilter([1.0], long_view.weights, short))
    np.testing.assert_allclose(long_view.moving_average(short),
                               scipy.signal.lfilter(long_view.weights, [1.0], short))
    with pytest.raises(ValueError, match="read-only"):
        view.weights[0] = 3.0


# -- errors --------------------------------------------------------------------------------

@pytest.mark.parametrize("call, exc, pattern", [
    (lambda: softmax_kernel(np.ones(3)), ValueError,
     r"softmax_kernel: parameter 'w' must be an array with at least 2 dimensions"),
    (lambda: softmax_kernel(np.ones((3, 3)), temperature=0), ValueError,
     r"softmax_kernel: parameter 'temperature' must be a finite real number > 0; got 0"),
    (lambda: softmax_kernel(np.ones((3, 3)), temperature="hot"), TypeError,
     r"parameter 'temperature' must be a finite real number > 0; got 'hot'"),
    (lambda: softmax_kernel(np.ones((3, 3)), temperature=-0.5), ValueError,
     r"softmax_kernel: parameter 'temperature' must be a finite real number > 0; got -0.5"),
    (lambda: auto_temperature(np.ones(3)), ValueError,
     r"auto_temperature: parameter 'w' must be an array with at least 2 dimensions"),
    (lambda: heat_kernel(-1.0), ValueError,
     r"heat_kernel: parameter 't' must be a finite real number >= 0; got -1.0"),
    (lambda: heat_kernel(1.0, D=0), ValueError, r"heat_kernel: parameter 'D' must be a finite"),
    (lambda: heat_kernel(1.0, size=4), ValueError,
     r"heat_kernel: parameter 'size' must be an odd int >= 1; got 4"),
    (lambda: diffuse(np.ones((4, 4)), np.ones((3, 3)) / 9, -1), ValueError,
     r"diffuse: parameter 'steps' must be an int >= 0; got -1"),
    (lambda: diffuse(np.ones((4, 4)), np.ones((3, 3)) / 9, 1.5), TypeError,
     r"diffuse: parameter 'steps' must be an int >= 0 or a non-empty 1-d sequence of them"),
    (lambda: diffuse(np.ones((4, 4)), np.ones((3, 3)) / 9, [1, -2]), ValueError,
     r"diffuse: parameter 'steps' must be ints >= 0"),
    (lambda: diffuse(np.ones((4, 4)), np.ones((3, 3)) / 9, []), TypeError,
     r"parameter 'steps'"),
    (lambda: diffuse(np.ones(4), np.ones((3, 3)), 1), ValueError,
     r"diffuse: parameter 'image' must be an array with at least 2 dimensions"),
    (lambda: stochastic_convolve(np.ones((4, 4)), np.ones((3, 3)), 10), ValueError,
     r"stochastic_convolve: parameter 'kernel' must be a probability kernel: entries >= 0 "
     r"summing to 1"),
    (lambda: stochastic_convolve(np.ones((4, 4)), np.array([[1.5, -0.5]]), 10), ValueError,
     r"parameter 'kernel' must be a probability kernel"),
    (lambda: stochastic_convolve(np.ones((4, 4)), np.ones((3, 3)) / 9, 0), ValueError,
     r"stochastic_convolve: parameter 'samples' must be an int >= 1; got 0"),
    (lambda: moving_average_view(np.ones((2, 2))), ValueError,
     r"moving_average_view: parameter 'kernel' must be a 1-d array \(K,\)"),
    (lambda: moving_average_view([0.0, 1.0]).autoregressive(np.ones(5)), ValueError,
     r"autoregressive: parameter 'weights' must be weights with b\[0\] != 0"),
    (lambda: moving_average_view([1.0]).moving_average(np.ones(5), axis=1), ValueError,
     r"moving_average: parameter 'axis' must be an axis of x, in \[-1, 1\); got 1"),
    (lambda: propagator_moments(np.ones(3)), ValueError, r"propagator_moments: parameter 'p'"),
])
def test_errors(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()


def test_module_exports():
    assert set(diffusion.__all__) >= {"auto_temperature", "softmax_kernel", "heat_kernel", "diffuse",
                                      "stochastic_convolve", "moving_average_view"}
