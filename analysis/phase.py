"""Phase correlation: the translation between two images, to a fraction of a pixel.

:func:`phase_correlate` finds the shift that best aligns two images from their
cross-power spectrum (Kuglin & Hines 1975), and refines it by evaluating the
cross-correlation on an upsampled grid around the peak with a matrix-multiply DFT
(Guizar-Sicairos, Thurman & Fienup 2008): ``upsample_factor`` = 100 gives 1/100
pixel for the cost of a few small matrix products, not a 100× larger FFT.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from fftconv import fftlib
from fftconv.checks import as_array, positive_int
from fftconv.errors import bad_value

from .windows import WINDOWS, separable_window

__all__ = ["PhaseCorrelation", "phase_correlate"]

_FUNC = "phase_correlate"
NORMALIZATIONS = ("phase", None)


@dataclass(frozen=True)
class PhaseCorrelation:
    """Result of :func:`phase_correlate`.

    Attributes
    ----------
    shift : ndarray, shape (ndim,)
        ``b`` is ``a`` translated by ``shift`` (array-index order, e.g. ``(rows, cols)``):
        ``b[n] ≈ a[n − shift]``, like ``scipy.ndimage.shift(a, shift)``.
    peak : float
        Height of the correlation peak: in ``[0, 1]`` with ``normalization='phase'``
        (1 for a pure circular shift); the cross-correlation divided by
        ``‖a‖·‖b‖`` without normalization.
    error : float
        Guizar-Sicairos' normalized root-mean-square registration error
        ``sqrt(1 − |r_ab(shift)|² / (‖a‖²‖b‖²))``: 0 when ``b`` is exactly ``a``
        translated (circularly), up to 1 when unrelated.
    """

    shift: np.ndarray
    peak: float
    error: float

    def __iter__(self):
        return iter((self.shift, self.peak, self.error))


def _dft_at(spectrum: np.ndarray, points) -> np.ndarray:
    """Inverse DFT of ``spectrum`` at arbitrary positions: one small matrix per axis.

    ``points[d]`` are real positions along axis ``d``; the result has shape
    ``(len(points[0]), …)`` and equals ``Σ_k S[k] exp(2πi Σ_d k_d x_d / N_d)`` with
    signed integer frequencies ``k_d`` (the band-limited interpolation).
    """
    out = spectrum
    for axis, (n, x) in enumerate(zip(spectrum.shape, points)):
        k = np.fft.fftfreq(n) * n
        kernel = np.exp(2j * np.pi * np.outer(np.asarray(x, dtype=np.float64), k) / n)
        out = np.moveaxis(np.tensordot(kernel, out, axes=([1], [axis])), 0, axis)
    return out


def phase_correlate(a, b, upsample_factor=1, normalization="phase", window=None):
    r"""Translation between two images by (upsampled) phase correlation.

    Parameters
    ----------
    a, b : array_like, same shape (1-D, 2-D, 3-D, …)
        Reference and moved image (real or complex).
    upsample_factor : int
        Precision of the shift: ``1 / upsample_factor`` pixel. 1 gives the integer
        peak of the FFT cross-correlation.
    normalization : {'phase', None}
        ``'phase'``: whiten the cross-power spectrum (divide by its magnitude), the
        classic phase correlation, robust to illumination; None: plain
        cross-correlation, better for noisy images.
    window : {None, 'hann'} or ndarray
        Subtract each image's mean and multiply by this window (of the images'
        shape) first; a Hann window suppresses the spectral leakage of the image
        borders, which otherwise biases non-periodic images toward zero shift.
        ``'hann'`` is the periodic Hann window in every axis, the same taper as
        :func:`analysis.spectrum.image_spectrum` uses (:mod:`analysis.windows`).

    Returns
    -------
    PhaseCorrelation
        ``shift`` (ndim floats), ``peak`` and ``error``; also unpacks as a tuple.

    Notes
    -----
    With ``A``, ``B`` the DFTs, the cross-power spectrum ``R = B·conj(A)``
    (``R/|R|`` for phase correlation) is the spectrum of the circular
    cross-correlation ``r(x) = Σ_n b[n]·conj(a[n − x])``, which peaks at the shift.
    The integer peak of ``ifft(R)`` is refined on a grid of
    ``⌈1.5·upsample_factor⌉`` points per axis spaced ``1/upsample_factor`` around
    it, evaluated directly as ``Σ_k R[k] exp(2πi k·x/N)`` by one matrix product per
    axis (Guizar-Sicairos et al. 2008, section 3). Shifts are circular: they lie
    in ``(−N/2, N/2]`` per axis.

    References
    ----------
    C. D. Kuglin and D. C. Hines, "The phase correlation image alignment method",
    Proc. IEEE Int. Conf. Cybernetics and Society, 1975.
    M. Guizar-Sicairos, S. T. Thurman and J. R. Fienup, "Efficient subpixel image
    registration algorithms", Optics Letters 33(2), 156–158, 2008.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> a = rng.standard_normal((64, 64))
    >>> b = np.roll(a, (5, -3), axis=(0, 1))
    >>> phase_correlate(a, b).shift
    array([ 5., -3.])
    >>> # a band-limited subpixel shift (odd sizes: no Nyquist term), to 1/100 pixel
    >>> a = rng.standard_normal((63, 63))
    >>> spectrum = np.fft.fftn(a)
    >>> ky, kx = np.meshgrid(np.fft.fftfreq(63), np.fft.fftfreq(63), indexing="ij")
    >>> moved = np.fft.ifftn(spectrum * np.exp(-2j * np.pi * (ky * 2.37 + kx * -1.61))).real
    >>> phase_correlate(a, moved, upsample_factor=100).shift
    array([ 2.37, -1.61])
    """
    a, b = (as_array(_FUNC, name, value, complex=True, integers="keep", floats="any",
                     min_ndim=1, noun="a numeric array_like")
            for name, value in (("a", a), ("b", b)))
    for name, arr in (("a", a), ("b", b)):
        if not np.all(np.isfinite(arr)):
            raise bad_value(_FUNC, name, arr, "finite values (no NaN or inf)")
    if a.shape != b.shape:
        raise bad_value(_FUNC, "b", b, f"an array of the same shape as a {a.shape}")
    upsample_factor = positive_int(_FUNC, "upsample_factor", upsample_factor)
    if normalization not in NORMALIZATIONS:
        raise bad_value(_FUNC, "normalization", normalization, "'phase' or None")
    if window is not None:
        if isinstance(window, str):
            if window not in WINDOWS:
                raise bad_value(_FUNC, "window", window,
                                f"None, {', '.join(map(repr, WINDOWS))} or an array")
            window = separable_window(_FUNC, "window", window, a.shape)
        else:
            window = np.asarray(window, dtype=np.float64)
            if window.shape != a.shape:
                raise bad_value(_FUNC, "window", window,
                                f"None, 'hann' or an array of the images' shape {a.shape}")
        # Remove the means first: a bright image times the window is a bump of the
        # window's shape in both images, which correlates best at zero shift.
        a, b = (a - a.mean()) * window, (b - b.mean()) * window
    axes = tuple(range(a.ndim))
    spec_a = fftlib.fftn(a.astype(np.complex128), axes=axes)
    spec_b = fftlib.fftn(b.astype(np.complex128), axes=axes)
    cross = spec_b * np.conj(spec_a)                              # spectrum of r(x)
    power = spec_a.size
    if normalization == "phase":
        magnitude = np.abs(cross)
        tiny = np.finfo(np.float64).tiny
        surface = cross / np.maximum(magnitude, max(tiny, 1e-15 * float(magnitude.max())))
    else:
        surface = cross
    corr = np.abs(fftlib.ifftn(surface, axes=axes))
    peak = np.array(np.unravel_index(int(np.argmax(corr)), corr.shape), dtype=np.float64)
    sizes = np.array(a.shape)
    peak[peak > sizes // 2] -= sizes[peak > sizes // 2]
    shift = peak
    if upsample_factor > 1:
        region = math.ceil(1.5 * upsample_factor)
        offsets = (np.arange(region) - region // 2) / upsample_factor
        grid = _dft_at(surface, [s + offsets for s in shift])
        best = np.unravel_index(int(np.argmax(np.abs(grid))), grid.shape)
        shift = np.array([s + offsets[i] for s, i in zip(shift, best)])
    value = abs(complex(_dft_at(surface, [[s] for s in shift]).ravel()[0])) / power
    raw = abs(complex(_dft_at(cross, [[s] for s in shift]).ravel()[0])) / power
    energy = float(np.sum(np.abs(a) ** 2)) * float(np.sum(np.abs(b) ** 2))
    if normalization is None:
        value = raw / math.sqrt(energy) if energy > 0 else 0.0
    error = math.sqrt(max(0.0, 1.0 - raw * raw / energy)) if energy > 0 else 1.0
    return PhaseCorrelation(shift=shift, peak=float(value), error=float(error))
