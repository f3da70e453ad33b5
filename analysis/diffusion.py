"""A kernel read as diffusion: the softmax propagator, the heat kernel, stochastic convolution.

T. Dettmers ("Understanding convolution in deep learning", 2015) reads a
convolution as diffusion: normalize a kernel into a probability
distribution (a softmax, like a classifier's output) and it becomes a
*propagator*, the law by which each pixel's value spreads to its neighbours in
one step. Repeating the step is diffusion; drawing each move at random and
averaging many draws recovers the deterministic convolution (the statistical
mechanics reading); a 1-D kernel is a weighted moving average, and its inverse
an autoregressive filter.

Conventions
-----------
* **Convolution, not correlation.** A propagator ``p`` moves the value at pixel
  ``m`` to ``m + d`` with probability ``p[c + d]``, ``c = (kh // 2, kw // 2)`` the
  centre tap: one step is the true convolution
  ``y[n] = Σ_d p[c + d] · x[n - d]``. ``fftconv.conv2d`` (a layer) applies its
  weight ``w`` as a cross-correlation, which is the convolution with
  ``w[::-1, ::-1]``; the propagator of a layer is therefore
  ``softmax_kernel(w[..., ::-1, ::-1])``.
* **Circular boundaries.** Images live on a torus, so mass is conserved exactly
  and repeated steps are powers of one spectrum (:func:`diffuse`).
* **Offsets** are reported as ``(x, y)`` in pixels with y pointing *up*, like
  the angles of :mod:`analysis.spectrum`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.fft
import scipy.linalg
import scipy.special

import fftconv
from fftconv.errors import bad_type, bad_value

from fftconv.checks import as_array, integer, is_int, positive
from .spectrum import _kernel_on_grid

__all__ = ["auto_temperature", "softmax_kernel", "heat_kernel", "Moments", "propagator_moments", "diffuse",
           "stochastic_convolve", "MovingAverageView", "moving_average_view"]

#: How far a probability kernel's sum may be from 1 (float32 softmax rounding is ~1e-7).
_MASS_TOLERANCE = 1e-6


def auto_temperature(w):
    """The default softmax temperature of each kernel: half the standard deviation of its entries.

    Parameters
    ----------
    w : array_like, shape (..., kh, kw)
        One kernel or a stack; the statistic runs over the last two axes.

    Returns
    -------
    T : float or ndarray, shape (...)
        ``T = std(w) / 2``, ``std(w) = sqrt(mean((w - mean w)²))`` over each
        kernel's ``kh·kw`` entries; ``1.0`` for a constant kernel, whose softmax
        is uniform at every temperature.

    Notes
    -----
    With this ``T``, ``log p`` is twice the kernel's z-score up to a constant:
    a tap one standard deviation above another is ``e² ≈ 7.4`` times as likely
    a move. The rule is scale equivariant, ``T(c·w) = c·T(w)`` for ``c > 0``,
    hence ``softmax_kernel(c·w) == softmax_kernel(w)``: a trained layer whose
    weights are a few tenths gets as informative a propagator as a named kernel
    with integer taps. A fixed ``T = 1`` makes the softmax of weights of size
    0.1–0.3 nearly uniform (``p ≈ 1/25`` on every tap of a 5×5 kernel). The
    factor 1/2 was chosen on LeNet-5's C1 trained on the bundled digits
    (``fftconv train``, 2 and 10 epochs; weight standard deviation 0.15–0.20):
    the largest tap then gets 4.3–7.8 times the uniform 1/25 (1.3 times at
    ``T = 1``; 2.6–3.7 times at ``T = std``), the spread the demo's former
    fixed ``T = 0.1`` gave to these weights.

    Examples
    --------
    >>> auto_temperature([[0.0, 2.0], [0.0, 2.0]])
    0.5
    >>> auto_temperature(np.ones((2, 3, 3)))
    array([1., 1.])
    """
    w = as_array("auto_temperature", "w", w, min_ndim=2, layout="(..., kh, kw)", finite=True)
    spread = np.asarray(w, dtype=np.float64).std(axis=(-2, -1))
    t = np.where(spread > 0, spread / 2, 1.0)
    return float(t) if t.ndim == 0 else t


def softmax_kernel(w, temperature=None):
    """Numerically stable softmax over each kernel's entries: a probability kernel.

    Parameters
    ----------
    w : array_like, shape (..., kh, kw)
        One kernel or a stack (conv2d weights ``(C_out, C_in, kh, kw)``); the
        softmax runs over the last two axes.
    temperature : float or None
        ``T > 0``. Large ``T`` flattens the distribution towards uniform; small
        ``T`` concentrates it on the largest entry. ``None`` (default): each
        kernel's own :func:`auto_temperature`, half the standard deviation of
        its entries, which makes the result independent of the kernel's scale.

    Returns
    -------
    p : ndarray, shape (..., kh, kw)
        ``p[i, j] = exp(w[i, j] / T) / Σ_{k,l} exp(w[k, l] / T)``: non-negative,
        summing to 1 over each kernel. Same float dtype as ``w``.

    Notes
    -----
    Computed as ``exp((w - max w) / T)`` normalized, which cannot overflow
    (the largest term is exactly 1) and equals the textbook formula because the
    softmax is invariant to adding a constant (I. Goodfellow, Y. Bengio and
    A. Courville, *Deep Learning*, 2016, §4.1). Scaling both ``w`` and ``T`` by
    ``c > 0`` leaves ``p`` unchanged. T. Dettmers ("Understanding convolution in
    deep learning", 2015) normalizes the edge detector with 8 in the centre and
    -1 around it at ``T = 1``: the centre gets ``e⁸ / (e⁸ + 8e⁻¹) ≈ 0.999``, so
    nearly all the information of the neighbourhood flows into the centre
    pixel. For a conv2d weight (a cross-correlation) pass ``w[..., ::-1, ::-1]``
    to get the propagator of the layer's operation.

    Examples
    --------
    >>> from analysis import kernels
    >>> p = softmax_kernel(kernels.laplacian(8), temperature=1.0)
    >>> round(float(p[1, 1]), 4), round(float(p.sum()), 12)
    (0.999, 1.0)
    >>> round(float(softmax_kernel(kernels.laplacian(8))[1, 1]), 3)   # T = std / 2 = 1.414
    0.986
    """
    w = as_array("softmax_kernel", "w", w, min_ndim=2, layout="(..., kh, kw)", finite=True)
    if temperature is None:
        temperature = np.asarray(auto_temperature(w), dtype=w.dtype)[..., None, None]
    else:
        temperature = positive("softmax_kernel", "temperature", temperature)
    z = (w - w.max(axis=(-2, -1), keepdims=True)) / temperature
    e = np.exp(z)
    return e / e.sum(axis=(-2, -1), keepdims=True)


def heat_kernel(t, D=1.0, size=None):
    """Discrete Gaussian: the heat kernel of the pixel grid after time ``t``.

    Parameters
    ----------
    t : float
        Time, ``>= 0`` (``t = 0`` gives the identity kernel).
    D : float
        Diffusion coefficient, ``> 0``.
    size : int, optional
        Odd side length. Default: the smallest odd size whose discarded tail
        holds less than ``1e-12`` of the mass per axis.

    Returns
    -------
    G : ndarray, shape (size, size)
        ``G[i, j] = T(i - c, s) · T(j - c, s)`` with ``s = 2Dt``,
        ``T(n, s) = e^{-s} I_n(s)`` and ``c = size // 2``, normalized to sum 1 (a
        probability kernel; the normalization only redistributes the truncated
        tail).

    Notes
    -----
    ``T(n, s)`` (``I_n`` the modified Bessel function of the first kind) solves
    the semi-discrete heat equation ``∂u/∂t = D (u[n+1] - 2u[n] + u[n-1])`` on
    the integer lattice, so unlike a sampled Gaussian it composes *exactly*:
    ``G_s * G_t = G_{s+t}`` (semigroup), variance ``2Dt`` per axis adding over
    steps, total mass 1, and Fourier transform
    ``Ĝ(f) = exp(-2Dt(1 - cos 2πf_x)) · exp(-2Dt(1 - cos 2πf_y))``, so
    ``|Ĝ(f)| <= Ĝ(0) = 1``. In 2-D the kernel is the product of the 1-D ones
    because the five-point Laplacian is separable (T. Lindeberg, "Scale-space
    for discrete signals", IEEE PAMI 12(3), 1990).

    Examples
    --------
    >>> G = heat_kernel(t=0.5, D=1.0)
    >>> m = propagator_moments(G)
    >>> round(float(m.mass), 12), np.round(m.covariance, 10)        # variance 2Dt = 1
    (1.0, array([[1., 0.],
           [0., 1.]]))
    """
    t = positive("heat_kernel", "t", t, allow_zero=True)
    D = positive("heat_kernel", "D", D)
    s = 2.0 * D * t
    if size is None:
        radius = int(math.ceil(12.0 * math.sqrt(s) + 12.0))
        g = scipy.special.ive(np.arange(radius + 1), s)
        tail = 1.0 - (g[0] + 2.0 * np.cumsum(g[1:]))        # mass beyond radius r
        radius = 1 + int(np.argmax(tail < 1e-12)) if s > 0 else 0
    else:
        size = integer("heat_kernel", "size", size)
        if size % 2 == 0:
            raise bad_value("heat_kernel", "size", size, "an odd int >= 1")
        radius = size // 2
    g = scipy.special.ive(np.abs(np.arange(-radius, radius + 1)), s)
    G = np.outer(g, g)
    return G / G.sum()


@dataclass(frozen=True)
class Moments:
    """Mass, mean offset and covariance of a kernel read as a distribution of moves.

    Attributes
    ----------
    mass : float or ndarray, shape (...)
        ``Σ p``.
    mean : ndarray, shape (..., 2)
        ``(x, y)`` drift per step in pixels (y up).
    covariance : ndarray, shape (..., 2, 2)
        Covariance of the ``(x, y)`` move; an isotropic diffusion with
        coefficient ``D`` has ``2D·I`` per unit time.
    """

    mass: np.ndarray
    mean: np.ndarray
    covariance: np.ndarray


def propagator_moments(p):
    """Mass, drift and spread of a propagator (or any kernel normalized by its mass).

    Parameters
    ----------
    p : array_like, shape (..., kh, kw)
        A kernel in convolution form; the centre tap is offset ``(0, 0)``.

    Returns
    -------
    Moments
        ``mass = Σ p``; ``mean = Σ p·d / Σ p`` and
        ``covariance = Σ p·(d - mean)(d - mean)ᵀ / Σ p`` over the offsets
        ``d = (x, y)`` of the taps (``x`` to the right, ``y`` up).

    Notes
    -----
    For a probability kernel these are the moments of one random step; the
    central limit theorem makes many steps look like a Gaussian with mean
    ``n·mean`` and covariance ``n·covariance`` (drift and diffusion: the
    Fokker–Planck reading, with diffusion coefficient ``trace(covariance)/4``
    per step in 2-D). A zero mass gives NaN mean and covariance.

    Examples
    --------
    >>> p = np.zeros((3, 3)); p[1, 2] = 1.0          # every value moves one pixel right
    >>> propagator_moments(p).mean
    array([1., 0.])
    """
    p = as_array("propagator_moments", "p", p, min_ndim=2,
                 layout="(..., kh, kw)", finite=True).astype(np.float64)
    kh, kw = p.shape[-2:]
    x = np.broadcast_to((np.arange(kw) - kw // 2)[None, :], (kh, kw)).astype(np.float64)
    y = np.broadcast_to(-(np.arange(kh) - kh // 2)[:, None], (kh, kw)).astype(np.float64)
    mass = p.sum(axis=(-2, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        q = p / mass[..., None, None]
    mean = np.stack([(q * x).sum(axis=(-2, -1)), (q * y).sum(axis=(-2, -1))], axis=-1)
    dx = x - mean[..., 0, None, None]
    dy = y - mean[..., 1, None, None]
    cxx, cyy, cxy = ((q * a * b).sum(axis=(-2, -1)) for a, b in ((dx, dx), (dy, dy), (dx, dy)))
    cov = np.stack([np.stack([cxx, cxy], -1), np.stack([cxy, cyy], -1)], -2)
    return Moments(mass[()] if mass.ndim == 0 else mass, mean, cov)


def _steps(func, steps):
    """``steps`` -> ``(int, False)`` or ``([int, ...], True)`` for a sequence."""
    if is_int(steps):
        return integer(func, "steps", steps, minimum=0), False
    if not isinstance(steps, (list, tuple, np.ndarray)) or np.ndim(steps) != 1 \
            or len(steps) == 0 or not all(map(is_int, steps)):
        raise bad_type(func, "steps", steps, "an int >= 0 or a non-empty 1-d sequence of them")
    if min(steps) < 0:
        raise bad_value(func, "steps", steps, "ints >= 0")
    return [int(s) for s in steps], True


def diffuse(image, kernel, steps):
    """Apply a propagator ``steps`` times (circular boundaries) with one pair of FFTs.

    Parameters
    ----------
    image : array_like, shape (..., H, W)
        One image or a stack, periodic in both axes.
    kernel : array_like, shape (kh, kw)
        Convolution kernel; its centre tap is offset ``(0, 0)``. Usually a
        probability kernel (:func:`softmax_kernel`, :func:`heat_kernel`), but any
        kernel is repeated filtering.
    steps : int or sequence of int
        Number of steps ``n >= 0``; a sequence returns every requested time from
        the same forward transform.

    Returns
    -------
    out : ndarray, shape (..., H, W), or (len(steps), ..., H, W) for a sequence
        ``K^{*n} ⊛ x``; float32 only if both inputs are float32.

    Notes
    -----
    By the convolution theorem on the torus, ``n`` circular convolutions with
    ``K`` multiply the spectrum by ``K̂(f)^n``:
    ``out = IDFT(DFT(x) · DFT(K)^n)``, one forward and one inverse transform
    however large ``n`` is. This equals ``n`` successive
    :func:`~analysis.spectrum.circular_convolve` steps. For a probability kernel
    ``|K̂(f)| <= K̂(0) = 1``, so every frequency decays except DC: mass is
    conserved and the image relaxes to its mean (the discrete heat equation,
    J. Crank, *The Mathematics of Diffusion*, 2nd ed., 1975, ch. 2).

    Examples
    --------
    >>> from analysis.spectrum import circular_convolve
    >>> x = np.random.default_rng(0).random((8, 8))
    >>> p = softmax_kernel(np.random.default_rng(1).standard_normal((3, 3)))
    >>> once_twice = circular_convolve(circular_convolve(x, p), p)
    >>> bool(np.allclose(diffuse(x, p, 2), once_twice))
    True
    >>> bool(np.isclose(diffuse(x, p, 50).sum(), x.sum()))     # mass is conserved
    True
    """
    image = as_array("diffuse", "image", image, min_ndim=2, layout="(..., H, W)", finite=True)
    kernel = as_array("diffuse", "kernel", kernel, ndim=2, layout="(kh, kw)", finite=True)
    values, many = _steps("diffuse", steps)
    dtype = np.result_type(image, kernel)
    h, w = image.shape[-2:]
    spectrum = scipy.fft.rfft2(image.astype(dtype, copy=False))
    response = scipy.fft.rfft2(_kernel_on_grid(kernel.astype(dtype, copy=False), (h, w)))
    outs = [image.astype(dtype) if n == 0 else                        # exactly, not via FFT
            scipy.fft.irfft2(spectrum * response ** n, s=(h, w)).astype(dtype, copy=False)
            for n in (values if many else [values])]
    return np.stack(outs) if many else outs[0]


def _probability_kernel(func, kernel):
    kernel = as_array(func, "kernel", kernel, ndim=2, layout="(kh, kw)", finite=True)
    total = float(kernel.sum())
    if kernel.min() < 0 or abs(total - 1.0) > _MASS_TOLERANCE:
        raise bad_value(func, "kernel", kernel,
                        "a probability kernel: entries >= 0 summing to 1 (use "
                        "softmax_kernel or divide a non-negative kernel by its sum)")
    return kernel.astype(np.float64) / total


def stochastic_convolve(image, kernel, samples, seed=None):
    """Monte Carlo convolution: every pixel's value jumps to a random offset, ``samples`` times.

    Parameters
    ----------
    image : array_like, shape (..., H, W)
        One image or a stack, periodic in both axes.
    kernel : array_like, shape (kh, kw)
        Probability kernel (non-negative, sums to 1) in convolution form: the
        value at ``m`` moves to ``m + d`` with probability ``kernel[c + d]``.
    samples : int
        Independent moves per pixel, ``>= 1``; the result is their average.
    seed : int, numpy.random.Generator or None
        Passed to ``numpy.random.default_rng``.

    Returns
    -------
    out : ndarray, shape (..., H, W), float64
        ``(1/S) Σ_s Σ_m x[m] · [m + d_{m,s} = n]`` with circular boundaries. Its
        expectation is ``circular_convolve(image, kernel)`` and mass is conserved
        exactly in every realization.

    Notes
    -----
    Dettmers' (2015) stochastic reading: the propagator gives the probability of
    where a particle (a pixel's value) lands, and the deterministic convolution
    is the average behaviour of many particles. The ``S`` moves of a pixel are
    drawn at once as multinomial counts over the taps — the same distribution
    as ``S`` separate draws, at a cost of ``O(H·W·kh·kw)`` independent of ``S``.
    Counts of different pixels are independent, so the error is unbiased with
    ``E‖out - K ⊛ x‖² = (1 - Σ_d p_d²) · ‖x‖² / S``: the root-mean-square error
    falls as ``1/√S``, the Monte Carlo rate (C. P. Robert and G. Casella,
    *Monte Carlo Statistical Methods*, 2nd ed., 2004, §3.2).

    Examples
    --------
    >>> from analysis.spectrum import circular_convolve
    >>> x = np.random.default_rng(0).random((16, 16))
    >>> p = heat_kernel(1.0)
    >>> exact = circular_convolve(x, p)
    >>> errors = [np.sqrt(np.mean((stochastic_convolve(x, p, s, seed=1) - exact) ** 2))
    ...           for s in (100, 10000)]
    >>> bool(5 < errors[0] / errors[1] < 20)          # ≈ √100 = 10
    True
    """
    image = as_array("stochastic_convolve", "image", image, min_ndim=2,
                     layout="(..., H, W)", finite=True)
    p = _probability_kernel("stochastic_convolve", kernel)
    samples = integer("stochastic_convolve", "samples", samples)
    rng = np.random.default_rng(seed)
    kh, kw = p.shape
    counts = rng.multinomial(samples, p.ravel(), size=image.shape)   # (..., H, W, taps)
    x = image.astype(np.float64)
    out = np.zeros(image.shape)
    for tap, (i, j) in enumerate(np.ndindex(kh, kw)):
        moved = counts[..., tap] * x
        out += np.roll(moved, (i - kh // 2, j - kw // 2), axis=(-2, -1))
    return out / samples


@dataclass(frozen=True)
class MovingAverageView:
    """A 1-D kernel read as a causal weighted moving average, and its autoregressive inverse.

    Attributes
    ----------
    weights : ndarray, shape (K,)
        ``b[0], …, b[K-1]``: the moving average is ``y[n] = Σ_k b[k] x[n - k]``.

    Notes
    -----
    On a finite signal with zero initial conditions the moving average is
    multiplication by the lower-triangular Toeplitz matrix ``T(b)`` (Qiu, *Neural Networks and
    Deep Learning*:
    convolution as a matrix); the autoregressive filter is ``T(b)⁻¹``, which
    has infinitely long impulse response (IIR). They are ``scipy.signal.lfilter``
    with coefficients ``(b, [1])`` and ``([1], b)``; this class computes them
    independently (a convolution and a banded triangular solve) so the
    equivalence can be checked (G. E. P. Box and G. M. Jenkins, *Time Series
    Analysis: Forecasting and Control*, 1970, ch. 3; Oppenheim & Schafer,
    *Discrete-Time Signal Processing*, 3rd ed., §6.1).

    Examples
    --------
    >>> view = moving_average_view([0.5, 0.5])
    >>> view.lfilter_moving_average
    (array([0.5, 0.5]), array([1.]))
    >>> view.poles, view.stable_inverse               # 0.5 y[n] + 0.5 y[n-1] = x[n]
    (array([-1.]), False)
    """

    weights: np.ndarray

    @property
    def lfilter_moving_average(self) -> tuple[np.ndarray, np.ndarray]:
        """``(b, a)`` for ``scipy.signal.lfilter`` computing :meth:`moving_average`."""
        return self.weights.copy(), np.ones(1)

    @property
    def lfilter_autoregressive(self) -> tuple[np.ndarray, np.ndarray]:
        """``(b, a)`` for ``scipy.signal.lfilter`` computing :meth:`autoregressive`."""
        return np.ones(1), self.weights.copy()

    @property
    def poles(self) -> np.ndarray:
        """Poles of the autoregressive filter: the roots of ``Σ_k b[k] z^{K-1-k}``."""
        return np.roots(self.weights) if self.weights[0] != 0 else np.array([np.nan])

    @property
    def stable_inverse(self) -> bool:
        """Whether the autoregressive inverse is stable: ``b[0] ≠ 0`` and every pole
        inside the unit circle (``b`` is minimum phase)."""
        return bool(self.weights[0] != 0 and np.all(np.abs(np.roots(self.weights)) < 1))

    def moving_average(self, x, axis=-1):
        """Weighted moving average ``y[n] = Σ_k b[k] x[n - k]`` (zero before the start).

        Parameters
        ----------
        x : array_like, shape (..., N, ...)
        axis : int
            Time axis.

        Returns
        -------
        y : ndarray, same shape as ``x``
            The first ``N`` samples of the full convolution ``fftconv.convolve(x, b)``:
            ``lfilter(b, [1], x, axis)``.

        Examples
        --------
        >>> moving_average_view([0.5, 0.5]).moving_average([2.0, 4.0, 6.0])
        array([1., 3., 5.])
        """
        x, axis = self._signal("moving_average", x, axis)
        n = x.shape[axis]
        b = self.weights.reshape([-1 if ax == axis else 1 for ax in range(x.ndim)])
        full = fftconv.convolve(x, b, mode="full", axes=axis)
        return np.take(full, np.arange(n), axis=axis)

    def autoregressive(self, x, axis=-1):
        """The inverse (IIR) filter: solve ``Σ_k b[k] y[n - k] = x[n]`` for ``y``, zero before.

        Parameters
        ----------
        x : array_like, shape (..., N, ...)
        axis : int
            Time axis.

        Returns
        -------
        y : ndarray, same shape as ``x``
            ``y[n] = (x[n] - Σ_{k>=1} b[k] y[n - k]) / b[0]``, i.e.
            ``lfilter([1], b, x, axis)``; ``moving_average(autoregressive(x)) == x``.

        Raises
        ------
        ValueError
            If ``b[0] == 0`` (the recursion cannot be solved for ``y[n]``).

        Examples
        --------
        >>> view = moving_average_view([1.0, -0.5])        # y[n] = x[n] + 0.5 y[n-1]
        >>> view.autoregressive([1.0, 0.0, 0.0, 0.0])      # impulse response 0.5ⁿ
        array([1.   , 0.5  , 0.25 , 0.125])
        """
        x, axis = self._signal("autoregressive", x, axis)
        if self.weights[0] == 0:
            raise bad_value("autoregressive", "weights", self.weights,
                            "weights with b[0] != 0 (the leading coefficient is divided by)")
        n = x.shape[axis]
        b = self.weights[:n]
        bands = np.zeros((len(b), n))
        for k, value in enumerate(b):
            bands[k, :n - k] = value                    # k-th sub-diagonal of T(b)
        rhs = np.moveaxis(x.astype(np.float64), axis, 0)
        y = scipy.linalg.solve_banded((len(b) - 1, 0), bands, rhs.reshape(n, -1))
        return np.moveaxis(y.reshape(rhs.shape), 0, axis).astype(x.dtype, copy=False)

    def _signal(self, func, x, axis):
        x = as_array(func, "x", x, min_ndim=1, finite=True)
        if not is_int(axis) or not -x.ndim <= axis < x.ndim:
            raise bad_value(func, "axis", axis, f"an axis of x, in [-{x.ndim}, {x.ndim})")
        return x, int(axis) % x.ndim


def moving_average_view(kernel):
    """Read a 1-D kernel as a weighted moving average (and its inverse as an AR filter).

    Parameters
    ----------
    kernel : array_like, shape (K,)
        Weights ``b`` in convolution order (``b[0]`` multiplies the newest
        sample). For a row ``r`` of a conv2d weight (a cross-correlation) pass
        ``r[::-1]``.

    Returns
    -------
    MovingAverageView
        With :meth:`~MovingAverageView.moving_average`,
        :meth:`~MovingAverageView.autoregressive`, the ``scipy.signal.lfilter``
        coefficients of both, the poles and whether the inverse is stable.

    Notes
    -----
    Dettmers' (2015) statistical reading: a convolution with a normalized kernel is a
    weighted moving average (MA) of its input, and an autoregressive (AR) model
    ``Σ_k b[k] y[n-k] = x[n]`` is the inverse (IIR) filter of the same kernel;
    together they make the ARMA models of time series analysis (Box & Jenkins,
    1970).

    Examples
    --------
    >>> import scipy.signal
    >>> view = moving_average_view([1.0, 0.6, 0.2])
    >>> x = np.random.default_rng(0).standard_normal(50)
    >>> ar = scipy.signal.lfilter(*view.lfilter_autoregressive, x)
    >>> bool(np.allclose(view.autoregressive(x), ar))
    True
    >>> view.stable_inverse
    True
    """
    b = np.array(as_array("moving_average_view", "kernel", kernel, ndim=1,
                          layout="(K,)", finite=True),
                 dtype=np.float64)
    b.setflags(write=False)
    return MovingAverageView(b)
