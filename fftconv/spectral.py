"""Spectral pooling and the spectral parametrization of filters.

Rippel, Snoek & Adams (2015), "Spectral Representations for Convolutional Neural
Networks" (NeurIPS), propose two uses of the DFT inside a network:

* **Spectral pooling** (:func:`spectral_pool`): downsample a map by keeping only
  its lowest ``h × w`` DFT coefficients. It is a linear map ``P`` from
  ``R^{H×W}`` to ``R^{h×w}``; its adjoint (:func:`spectral_pool_adjoint`, the
  backward pass) zero-pads the spectrum back to ``H × W``.
* **Spectral parametrization** (:func:`kernel_to_spectrum`,
  :func:`spectrum_to_kernel`): a filter is stored as its DFT, and the optimizer
  updates the DFT coefficients (:class:`fftconv.nn.SpectralConv2d`).

The conventions, for one axis of length ``n`` cropped to ``m <= n``, with
``X = DFT_n(x)`` (unnormalized) and frequencies ``k`` taken in ``(-n/2, n/2]``::

    Y[k] = (m / n) · X[k]                   for |k| < m/2
    Y[m/2] = (m / n) · (X[m/2] + X[-m/2])   when m is even and m < n
    P x = DFT_m^{-1}(Y)

For a real ``x``, ``X[-m/2] = conj(X[m/2])``, so the Nyquist bin of the result is
``(m/n)·2·Re X[m/2]``: the cropped spectrum stays Hermitian and ``P x`` is real,
which is the care with the Nyquist rows and columns of even sizes that the paper
asks for. This is exactly an ideal low-pass filter with cutoff ``m/2`` (both
Nyquist bins kept) followed by resampling at ``m`` points: for ``n = s·m`` it is
low-pass filtering then taking every ``s``-th sample, and it equals
:func:`scipy.signal.resample` for any ``m`` (the tests check both readings). The
factor ``m / n`` keeps amplitudes (a constant map stays the same constant).

The adjoint follows from ``DFT_n^H = n · DFT_n^{-1}``::

    Pᵀ y = DFT_n^{-1}(Sᴴ DFT_m(y))

where ``Sᴴ`` places each kept bin back at its frequency, the Nyquist bin of an
even ``m < n`` at both ``+m/2`` and ``-m/2``, and zeros elsewhere: zero-padding the
gradient's spectrum, with no extra scale. Two dimensions are the tensor product
of the two axes' maps.
"""

from __future__ import annotations

import numpy as np

from . import fftlib
from .checks import positive_pair
from .errors import bad_type, bad_value

__all__ = ["spectral_pool", "spectral_pool_adjoint", "kernel_to_spectrum",
           "spectrum_to_kernel", "spectrum_gradient"]


# -- argument checks -------------------------------------------------------------

def _real_array(func: str, name: str, x, ndim: int = 2) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype.kind not in "fiu":
        raise bad_type(func, name, x, "a real array (float32 or float64; integers are "
                                      "computed in float64)")
    if x.ndim < ndim:
        raise bad_value(func, name, x, f"an array with at least {ndim} dimensions "
                                       "(pooling acts on the last two)")
    return x if x.dtype in (np.float32, np.float64) else x.astype(np.float64)


def _size_pair(func: str, name: str, value, limit: tuple[int, int], relation: str):
    """``value`` as ``(h, w)``: positive ints, each ``<= limit`` (``>=`` for the adjoint)."""
    pair = positive_pair(func, name, value)
    smaller = relation == "<="
    if any((p > lim) if smaller else (p < lim) for p, lim in zip(pair, limit)):
        word = "at most" if smaller else "at least"
        why = "spectral pooling only downsamples" if smaller else "the adjoint maps back up"
        raise bad_value(func, name, value,
                        f"sizes {word} the map's last two dimensions {limit} ({why})")
    return pair


# -- the pooling map and its adjoint -----------------------------------------------

def _kept(n: int, m: int) -> tuple[int, int, bool]:
    """For a length-``n`` axis cropped to ``m``: (low bins, high bins, split Nyquist).

    The kept frequencies are ``0 … low-1`` and ``-high … -1``; ``split`` is true
    when ``m`` is even and ``m < n``, so frequency ``m/2`` of the result gathers
    input frequencies ``+m/2`` and ``-m/2``.
    """
    if m == n:
        return n, 0, False
    if m % 2:
        return (m + 1) // 2, (m - 1) // 2, False
    return m // 2, m // 2 - 1, True


def _crop_rows(z: np.ndarray, m: int) -> np.ndarray:
    """Axis -2 (a full-length DFT axis) cropped to ``m`` bins."""
    n = z.shape[-2]
    low, high, split = _kept(n, m)
    out = np.empty(z.shape[:-2] + (m, z.shape[-1]), dtype=z.dtype)
    out[..., :low, :] = z[..., :low, :]
    if high:
        out[..., m - high:, :] = z[..., n - high:, :]
    if split:
        out[..., m // 2, :] = z[..., m // 2, :] + z[..., n - m // 2, :]
    return out


def _pad_rows(z: np.ndarray, n: int) -> np.ndarray:
    """The adjoint of :func:`_crop_rows`: ``m`` bins placed back in ``n``."""
    m = z.shape[-2]
    low, high, split = _kept(n, m)
    out = np.zeros(z.shape[:-2] + (n, z.shape[-1]), dtype=z.dtype)
    out[..., :low, :] = z[..., :low, :]
    if high:
        out[..., n - high:, :] = z[..., m - high:, :]
    if split:
        out[..., m // 2, :] = z[..., m // 2, :]
        out[..., n - m // 2, :] = z[..., m // 2, :]
    return out


def spectral_pool(x, output_size):
    """Downsample the last two axes by cropping the DFT to its lowest frequencies.

    Parameters
    ----------
    x : array_like, shape (..., H, W), real
        Maps to pool (float32 stays float32; other real types compute in float64).
    output_size : int or (int, int)
        ``(h, w)`` with ``1 <= h <= H`` and ``1 <= w <= W``; any sizes, not only
        integer factors.

    Returns
    -------
    ndarray, shape (..., h, w)
        ``P x``: the ``h × w`` lowest frequencies of ``x`` (Nyquist bins of even
        sizes gathered so the result is real), scaled by ``hw / (HW)`` so that
        amplitudes are kept. See the module notes for the formula.

    Notes
    -----
    One real 2-D FFT of ``x`` and one inverse real FFT of the small ``h × w``
    spectrum, through the current engine (:func:`fftconv.set_fft_engine`):
    ``O(HW log(HW))`` per map. Rippel, Snoek & Adams (2015), §3.

    See Also
    --------
    spectral_pool_adjoint : the backward pass (zero-padding the spectrum).
    scipy.signal.resample : the same map along one axis.

    Examples
    --------
    >>> import numpy as np
    >>> from fftconv.spectral import spectral_pool
    >>> x = np.cos(2 * np.pi * np.arange(8) / 8)[None, :] * np.ones((8, 1))
    >>> np.round(spectral_pool(x, (4, 4))[0], 12)    # a low frequency survives intact
    array([ 1.,  0., -1., -0.])
    >>> spectral_pool(np.ones((5, 7)), 3)             # a constant stays a constant
    array([[1., 1., 1.],
           [1., 1., 1.],
           [1., 1., 1.]])
    """
    func = "spectral_pool"
    x = _real_array(func, "x", x)
    (H, W) = x.shape[-2:]
    h, w = _size_pair(func, "output_size", output_size, (H, W), "<=")
    if (h, w) == (H, W):
        return x.copy()
    z = fftlib.rfftn(x, axes=(-2, -1))                  # (..., H, W//2 + 1)
    z = _crop_rows(z, h)                                # rows: full-length DFT axis
    # Columns: rfft keeps frequencies 0 … W/2; the kept ones are 0 … w//2. For even
    # w < W, bin w/2 gathers +w/2 and -w/2; X[r, -w/2] = conj(X[-r, w/2]) because the
    # row-cropped map is still the spectrum of a real map (with -r taken mod h).
    cols = w // 2 + 1
    y = z[..., :cols].copy()
    if w % 2 == 0 and w < W:
        mirror = (-np.arange(h)) % h
        y[..., w // 2] = z[..., w // 2] + np.conj(z[..., mirror, w // 2])
    y *= np.asarray(h * w / (H * W), dtype=y.real.dtype)
    return fftlib.irfftn(y, s=(h, w), axes=(-2, -1))


def spectral_pool_adjoint(y, input_size):
    """The adjoint (transpose) of :func:`spectral_pool`: the backward pass.

    Parameters
    ----------
    y : array_like, shape (..., h, w), real
        Gradient with respect to the pooled maps.
    input_size : int or (int, int)
        ``(H, W)`` of the maps that were pooled, ``H >= h``, ``W >= w``.

    Returns
    -------
    ndarray, shape (..., H, W)
        ``Pᵀ y = DFT^{-1}(Sᴴ DFT(y))``: the spectrum of ``y`` zero-padded to
        ``H × W`` (the Nyquist bins of even ``h < H`` / ``w < W`` placed at both
        ``±h/2``), so ``⟨P x, y⟩ = ⟨x, Pᵀ y⟩`` for all ``x`` and ``y``.

    Examples
    --------
    >>> import numpy as np
    >>> from fftconv.spectral import spectral_pool, spectral_pool_adjoint
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.standard_normal((6, 9)), rng.standard_normal((4, 5))
    >>> bool(np.isclose(np.vdot(spectral_pool(x, (4, 5)), y),
    ...                 np.vdot(x, spectral_pool_adjoint(y, (6, 9)))))
    True
    """
    func = "spectral_pool_adjoint"
    y = _real_array(func, "y", y)
    (h, w) = y.shape[-2:]
    H, W = _size_pair(func, "input_size", input_size, (h, w), ">=")
    if (h, w) == (H, W):
        return y.copy()
    z = _pad_rows(fftlib.rfftn(y, axes=(-2, -1)), H)   # (..., H, w//2 + 1)
    # Columns: in the half spectrum the Nyquist column w/2 already stands for both
    # +w/2 and -w/2 (the result is real), so zero-padding the columns is the adjoint.
    out = np.zeros(z.shape[:-1] + (W // 2 + 1,), dtype=z.dtype)
    out[..., :z.shape[-1]] = z
    return fftlib.irfftn(out, s=(H, W), axes=(-2, -1))


# -- the spectral parametrization of filters ------------------------------------------

def kernel_to_spectrum(w):
    """The DFT of filters, as the real parameter array a spectral layer stores.

    Parameters
    ----------
    w : ndarray, shape (..., kh, kw), float32 or float64
        Spatial filters.

    Returns
    -------
    ndarray, shape (..., kh, kw // 2 + 1, 2), same dtype
        ``θ[..., u, v, 0] + i·θ[..., u, v, 1] = Σ_{p,q} w[..., p, q] e^{-2πi(up/kh + vq/kw)}``,
        the half spectrum of ``numpy.fft.rfft2`` as (real, imaginary) pairs. It is
        Hermitian along the first axis in columns ``0`` and ``kw/2`` (even ``kw``);
        :func:`spectrum_to_kernel` inverts it exactly.
    """
    w = np.asarray(w)
    if w.dtype not in (np.float32, np.float64) or w.ndim < 2:
        raise bad_type("kernel_to_spectrum", "w", w,
                       "a float32 or float64 array of filters, shape (..., kh, kw)")
    # The filters are tiny: numpy's transform, whose real-output inverse is the one
    # :func:`spectrum_gradient` is the exact adjoint of, whatever engine is current.
    z = np.fft.rfft2(w)
    return np.stack([z.real, z.imag], axis=-1).astype(w.dtype)


def spectrum_to_kernel(theta, kernel_size):
    """Spatial filters from their stored DFT (the inverse of :func:`kernel_to_spectrum`).

    Parameters
    ----------
    theta : ndarray, shape (..., kh, kw // 2 + 1, 2)
        (real, imaginary) pairs of the half spectrum.
    kernel_size : int or (int, int)
        ``(kh, kw)`` (``kw`` is not determined by the half spectrum's width).

    Returns
    -------
    ndarray, shape (..., kh, kw), real, theta's dtype
        ``w = irfft2(θ, s=(kh, kw))``. The result is real by construction: the
        inverse real transform uses only the Hermitian part of ``θ`` (it ignores
        the imaginary parts of the self-conjugate bins), so whatever the
        optimizer does to ``θ``, the filters it stands for are real.
    """
    func = "spectrum_to_kernel"
    kh, kw = positive_pair(func, "kernel_size", kernel_size)
    theta = np.asarray(theta)
    if (theta.dtype not in (np.float32, np.float64) or theta.ndim < 3
            or theta.shape[-3:] != (kh, kw // 2 + 1, 2)):
        raise bad_value(func, "theta", theta,
                        f"a float32/float64 array of shape (..., {kh}, {kw // 2 + 1}, 2) "
                        f"for kernel_size ({kh}, {kw})")
    z = theta[..., 0] + 1j * theta[..., 1]
    return np.fft.irfft2(z, s=(kh, kw)).astype(theta.dtype)


def spectrum_gradient(grad_w):
    """Gradient with respect to the stored spectrum, from the gradient of the filters.

    Parameters
    ----------
    grad_w : ndarray, shape (..., kh, kw)
        ``∂L/∂w`` for ``w = spectrum_to_kernel(θ, (kh, kw))``.

    Returns
    -------
    ndarray, shape (..., kh, kw // 2 + 1, 2)
        ``∂L/∂θ``: the adjoint of the inverse real transform,
        ``c_v · rfft2(∂L/∂w)[u, v] / (kh·kw)`` as (real, imaginary) pairs with
        ``c_v = 1`` for columns ``0`` and ``kw/2`` (even ``kw``) and ``2`` for the
        others, which stand for a conjugate pair of full-spectrum bins. It is
        Hermitian where ``θ`` is, so a gradient step keeps the filters' spectra
        Hermitian.
    """
    g = np.asarray(grad_w)
    if g.dtype not in (np.float32, np.float64) or g.ndim < 2:
        raise bad_type("spectrum_gradient", "grad_w", g,
                       "a float32 or float64 array of filter gradients, shape (..., kh, kw)")
    kh, kw = g.shape[-2:]
    z = np.fft.rfft2(g) / (kh * kw)
    z[..., 1:(kw + 1) // 2] *= 2
    return np.stack([z.real, z.imag], axis=-1).astype(g.dtype)
