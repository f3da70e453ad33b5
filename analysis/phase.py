"""Phase correlation: the translation between two images, to a fraction of a pixel.

:func:`phase_correlate` finds the shift that best aligns two images from their
cross-power spectrum (Kuglin & Hines 1975), and refines it by evaluating the
cross-correlation on an upsampled grid around the peak with a matrix-multiply DFT
(Guizar-Sicairos, Thurman & Fienup 2008): ``upsample_factor`` = 100 gives 1/100
pixel for the cost of a few small matrix products, not a 100× larger FFT.
With masks of the valid pixels it registers by Padfield's masked normalized
cross-correlation (:func:`masked_correlate`, Padfield 2012) instead, which ignores
invalid pixels exactly rather than treating them as image content.
"""

from __future__ import annotations

import itertools
import math
import numbers
from dataclasses import dataclass

import numpy as np

import fftconv
from fftconv import fftlib
from fftconv.checks import as_array, choice, positive_int
from fftconv.errors import bad_type, bad_value

from .windows import WINDOWS, separable_window

__all__ = ["PhaseCorrelation", "phase_correlate", "masked_correlate"]

_FUNC = "phase_correlate"
NORMALIZATIONS = ("phase", None)
SPACES = ("real", "fourier")
MODES = ("full", "same")


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
        With masks: the masked normalized cross-correlation at the shift, in
        ``[−1, 1]`` (:func:`masked_correlate`).
    error : float
        Guizar-Sicairos' normalized root-mean-square registration error
        ``sqrt(1 − |r_ab(shift)|² / (‖a‖²‖b‖²))``: 0 when ``b`` is exactly ``a``
        translated (circularly), up to 1 when unrelated; NaN when an image is all
        zeros (undefined) and with masks (Padfield's method has no such measure).
    phase : float
        The global phase difference, ``angle(r(shift))`` in radians: ``b ≈
        exp(i·phase)·a[n − shift]`` for complex images (0 or π for real ones); NaN
        with masks. scikit-image's ``phasediff``.
    """

    shift: np.ndarray
    peak: float
    error: float
    phase: float = 0.0

    def __iter__(self):
        """``shift, peak, error`` (unpacking predates ``phase``: read it by name)."""
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


def phase_correlate(a, b, upsample_factor=1, normalization="phase", window=None, *,
                    space="real", disambiguate=False, a_mask=None, b_mask=None,
                    overlap_ratio=0.3):
    r"""Translation between two images by (upsampled) phase correlation.

    Parameters
    ----------
    a, b : array_like, same shape (1-D, 2-D, 3-D, …)
        Reference and moved image (real or complex); with ``space='fourier'``
        their DFTs (``numpy.fft.fftn``). With masks the shapes may differ (same
        number of dimensions).
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
        Real space only.
    space : {'real', 'fourier'}
        Whether ``a`` and ``b`` are images or their DFTs (then no transform is
        taken: useful when the spectra exist already).
    disambiguate : bool
        The DFT sees only circular shifts, so each axis's shift is known modulo
        its size ``N``: ``s`` and ``s − N`` fit equally. With ``True`` the
        candidate whose overlap region agrees best (the highest Pearson
        correlation of ``b`` and the shifted ``a`` over the part of the image the
        translation keeps) is returned, so shifts beyond ``N/2`` come out right
        for non-periodic images.
    a_mask, b_mask : array_like of bool, optional
        The valid pixels of ``a`` and ``b`` (True = valid), each of its image's
        shape. Giving either switches to masked registration (Padfield 2012): the
        shift maximizes :func:`masked_correlate`, integer shifts only
        (``upsample_factor=1``, no window, real space, no ``disambiguate``); a
        missing mask is the other one (then the images must have one shape).
    overlap_ratio : float in [0, 1]
        Masked registration only: shifts whose masks overlap in fewer than this
        fraction of the largest overlap are not considered.

    Returns
    -------
    PhaseCorrelation
        ``shift`` (ndim floats: float32 for float16/float32/complex64 inputs, else
        float64), ``peak``, ``error`` and ``phase``; unpacks as
        ``shift, peak, error``.

    See Also
    --------
    skimage.registration.phase_cross_correlation : the same shift estimate, with upsampling.

    Notes
    -----
    With ``A``, ``B`` the DFTs, the cross-power spectrum ``R = B·conj(A)``
    (``R/|R|`` for phase correlation) is the spectrum of the circular
    cross-correlation ``r(x) = Σ_n b[n]·conj(a[n − x])``, which peaks at the shift.
    The integer peak of ``ifft(R)`` is refined on a grid of
    ``⌈1.5·upsample_factor⌉`` points per axis spaced ``1/upsample_factor`` around
    it, evaluated directly as ``Σ_k R[k] exp(2πi k·x/N)`` by one matrix product per
    axis (Guizar-Sicairos et al. 2008, section 3). Shifts are circular: they lie
    in ``(−N/2, N/2]`` per axis (unless ``disambiguate``); an axis of size 1 has
    shift 0.

    With masks, Padfield's masked normalized cross-correlation is maximized
    over all integer shifts (the full correlation); several equal maxima give
    their mean. Images of different shapes are compared with their centres
    aligned: ``shift`` is relative to that placement (scikit-image's
    convention).

    References
    ----------
    C. D. Kuglin and D. C. Hines, "The phase correlation image alignment method",
    Proc. IEEE Int. Conf. Cybernetics and Society, 1975.
    M. Guizar-Sicairos, S. T. Thurman and J. R. Fienup, "Efficient subpixel image
    registration algorithms", Optics Letters 33(2), 156–158, 2008.
    D. Padfield, "Masked object registration in the Fourier domain", IEEE
    Transactions on Image Processing 21(5), 2706–2718, 2012.

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
    >>> # masked: the pixels of b outside its mask are garbage, and ignored
    >>> mask = np.ones((63, 63), bool)
    >>> mask[:, :20] = False
    >>> rolled = np.where(mask, np.roll(a, (4, 7), axis=(0, 1)), 1e3)
    >>> phase_correlate(a, rolled, b_mask=mask, a_mask=np.ones_like(mask)).shift
    array([4., 7.])
    """
    space = choice(_FUNC, "space", space, SPACES)
    if not isinstance(disambiguate, bool):
        raise bad_type(_FUNC, "disambiguate", disambiguate, "a bool")
    if a_mask is not None or b_mask is not None:
        return _masked_registration(a, b, a_mask, b_mask, overlap_ratio, upsample_factor,
                                    window, space, disambiguate)
    a, b = _images(a, b)
    if a.shape != b.shape:
        raise bad_value(_FUNC, "b", b, f"an array of the same shape as a {a.shape}")
    shift_dtype = _shift_dtype(a, b)
    upsample_factor = positive_int(_FUNC, "upsample_factor", upsample_factor)
    if normalization not in NORMALIZATIONS:
        raise bad_value(_FUNC, "normalization", normalization, "'phase' or None")
    axes = tuple(range(a.ndim))
    images = (a, b)
    if window is not None:
        if space == "fourier":
            raise bad_value(_FUNC, "window", window, "None with space='fourier'")
        a, b = _apply_window(a, b, window)
    if space == "fourier":
        spec_a, spec_b = a.astype(np.complex128), b.astype(np.complex128)
        images = None                       # built from the spectra only if needed
    else:
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
        # a size-1 axis holds no information about its shift: it stays 0 (the
        # interpolant is constant there, and its grid's first point would win)
        grid_points = [s + offsets if n > 1 else np.zeros(1) for s, n in zip(shift, a.shape)]
        grid = _dft_at(surface, grid_points)
        best = np.unravel_index(int(np.argmax(np.abs(grid))), grid.shape)
        shift = np.array([points[i] for points, i in zip(grid_points, best)])
    at_shift = complex(_dft_at(surface, [[s] for s in shift]).ravel()[0])
    value = abs(at_shift) / power
    raw = abs(complex(_dft_at(cross, [[s] for s in shift]).ravel()[0])) / power
    # Parseval: the energies from the spectra, in either space
    energy = (float(np.sum(np.abs(spec_a) ** 2)) * float(np.sum(np.abs(spec_b) ** 2))
              / power ** 2)
    if normalization is None:
        value = raw / math.sqrt(energy) if energy > 0 else 0.0
    error = math.sqrt(max(0.0, 1.0 - raw * raw / energy)) if energy > 0 else math.nan
    phase = math.atan2(at_shift.imag, at_shift.real)
    if disambiguate:
        if images is None:
            images = tuple(_from_spectrum(s, axes) for s in (spec_a, spec_b))
        shift = _disambiguate(*images, shift)
    return PhaseCorrelation(shift=shift.astype(shift_dtype), peak=float(value),
                            error=float(error), phase=float(phase))


def _images(a, b, complex_ok=True):
    out = []
    for name, value in (("a", a), ("b", b)):
        arr = as_array(_FUNC, name, value, complex=complex_ok, integers="keep", floats="any",
                       bools=not complex_ok, min_ndim=1,
                       noun="a numeric array_like" if complex_ok else None)
        if not np.all(np.isfinite(arr)):
            raise bad_value(_FUNC, name, arr, "finite values (no NaN or inf)")
        out.append(arr)
    return out


def _shift_dtype(*arrays) -> np.dtype:
    """float32 when every input is single precision or less, as scipy.fft computes
    them (float16 is transformed in float32); else float64."""
    small = all(arr.dtype.kind in "fc" and np.finfo(arr.dtype).bits <= 32 for arr in arrays)
    return np.dtype(np.float32 if small else np.float64)


def _apply_window(a, b, window):
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
    return (a - a.mean()) * window, (b - b.mean()) * window


def _from_spectrum(spectrum, axes):
    image = fftlib.ifftn(spectrum, axes=axes)
    scale = float(np.max(np.abs(image))) if image.size else 0.0
    # the spectrum of a real image gives a real image, up to round-off
    return image.real if np.all(np.abs(image.imag) <= 1e-12 * max(scale, 1e-300)) else image


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Correlation coefficient of two tiles; −inf when undefined (constant or tiny)."""
    if x.size <= 2:
        return -math.inf
    x, y = x - x.mean(), y - y.mean()
    norm = math.sqrt(float(np.sum(np.abs(x) ** 2)) * float(np.sum(np.abs(y) ** 2)))
    return float(np.real(np.vdot(y, x))) / norm if norm > 0 else -math.inf


def _disambiguate(a, b, shift):
    """The real (non-circular) translation among the ``2^ndim`` ones a circular shift
    stands for.

    Along an axis of size ``N`` the circular shift ``p = shift mod N`` is also the
    translation ``p − N``. ``a`` moved circularly by ``p`` equals ``b`` on the samples
    a true translation by ``p`` keeps (``n ≥ p``) or on those a translation by
    ``p − N`` keeps (``n < p``); the tile, one per axis choice, where the moved ``a``
    and ``b`` correlate best names the translation.
    """
    sizes = np.array(a.shape)
    positive = np.mod(shift, sizes)
    if np.all(positive == np.round(positive)):
        moved = np.roll(a, tuple(int(p) for p in positive), axis=tuple(range(a.ndim)))
    else:                                   # band-limited (Fourier) subpixel shift
        axes = tuple(range(a.ndim))
        freqs = np.meshgrid(*(np.fft.fftfreq(n) for n in a.shape), indexing="ij")
        ramp = np.exp(-2j * np.pi * sum(f * s for f, s in zip(freqs, positive)))
        moved = fftlib.ifftn(fftlib.fftn(a.astype(np.complex128), axes=axes) * ramp, axes=axes)
        moved = moved if np.iscomplexobj(a) else moved.real
    splits = [int(round(p)) for p in positive]
    best, chosen = -math.inf, None
    for choice_ in itertools.product((True, False), repeat=a.ndim):
        tile = tuple(slice(s, None) if keep_positive else slice(0, s)
                     for s, keep_positive in zip(splits, choice_))
        score = _pearson(moved[tile].ravel(), b[tile].ravel())
        if score > best:
            best, chosen = score, choice_
    if chosen is None:                      # no tile defines a correlation: keep the shift
        return shift
    return np.array([p if keep_positive else p - n
                     for p, n, keep_positive in zip(positive, sizes, chosen)])


def _masked_registration(a, b, a_mask, b_mask, overlap_ratio, upsample_factor, window,
                         space, disambiguate):
    for name, value, default in (("upsample_factor", upsample_factor, 1), ("window", window, None),
                                 ("space", space, "real"), ("disambiguate", disambiguate, False)):
        if not (value is default or (name == "upsample_factor" and value == 1)):
            raise bad_value(_FUNC, name, value,
                            f"{default!r} with a_mask/b_mask (masked registration finds "
                            "integer shifts of real-space images)")
    a, b = _images(a, b, complex_ok=False)
    if a.ndim != b.ndim:
        raise bad_value(_FUNC, "b", b, f"an array with as many dimensions as a ({a.ndim})")
    if a_mask is None or b_mask is None:
        if a.shape != b.shape:
            missing = "a_mask" if a_mask is None else "b_mask"
            raise bad_value(_FUNC, missing, None,
                            f"given: the images' shapes differ ({a.shape}, {b.shape}), so the "
                            "other image's mask cannot stand in for it")
        a_mask = b_mask if a_mask is None else a_mask
        b_mask = a_mask if b_mask is None else b_mask
    axes = tuple(range(a.ndim))
    ncc = masked_correlate(a, b, a_mask, b_mask, mode="full", axes=axes,
                           overlap_ratio=overlap_ratio, func=_FUNC)
    best = ncc.max()
    # the mean of equal maxima (a flat top, e.g. a featureless overlap region)
    centre = np.mean(np.stack(np.nonzero(ncc == best), axis=1), axis=0)
    lag = centre - (np.array(b.shape) - 1)           # index B - 1 is lag 0
    shift = -lag + (np.array(a.shape) - np.array(b.shape)) / 2
    return PhaseCorrelation(shift=shift.astype(_shift_dtype(a, b)), peak=float(best),
                            error=math.nan, phase=math.nan)


def masked_correlate(a, b, a_mask, b_mask, mode="full", axes=(-2, -1), overlap_ratio=0.3,
                     func="masked_correlate"):
    r"""Masked normalized cross-correlation (Padfield 2012), over ``axes``.

    Parameters
    ----------
    a, b : array_like, real
        The fixed and the moving array, with the same number of dimensions; along
        axes not in ``axes`` their sizes must be equal.
    a_mask, b_mask : array_like of bool
        Valid pixels (True) of ``a`` and of ``b``, each of its array's shape.
    mode : {'full', 'same'}
        Every lag (size ``A + B − 1`` per axis in ``axes``), or the centred ``A``
        of them (as :func:`fftconv.correlate`).
    axes : int or tuple of int
        The axes correlated; the others are independent (a loop over them).
    overlap_ratio : float in [0, 1]
        Lags whose masks overlap in fewer than ``overlap_ratio`` times the
        largest overlap are set to 0 (a handful of overlapping pixels gives a
        meaningless, often extreme, correlation).

    Returns
    -------
    ncc : ndarray
        In ``[−1, 1]``; float32 when both inputs are single precision or less,
        else float64. Index ``B − 1`` of the full result along an axis is lag 0;
        ``ncc[u]`` compares ``a[n + u]`` with ``b[n]``.

    Notes
    -----
    With ``f = a·a_mask``, ``g = b·b_mask``, the masks ``m_a``, ``m_b`` and ``⋆``
    the full cross-correlation (:func:`fftconv.correlate`), at every lag ``u``:
    ``N = m_a ⋆ m_b`` overlapping valid pixels, and ::

        ncc = (f ⋆ g − (f ⋆ m_b)(m_a ⋆ g)/N)
              / sqrt((f² ⋆ m_b − (f ⋆ m_b)²/N) · (m_a ⋆ g² − (m_a ⋆ g)²/N))

    the Pearson correlation of the two arrays over exactly the pixels valid in
    both, for all lags by six FFT correlations (Padfield 2012, eq. 17). Where the
    denominator is below ``1000·eps`` times its largest value the result is 0.

    References
    ----------
    D. Padfield, "Masked object registration in the Fourier domain", IEEE
    Transactions on Image Processing 21(5), 2706–2718, 2012.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> a = rng.standard_normal((20, 20))
    >>> mask = rng.random((20, 20)) > 0.3
    >>> ncc = masked_correlate(a, a, mask, mask, mode="same")
    >>> bool(np.isclose(ncc.max(), 1.0)), np.unravel_index(np.argmax(ncc), ncc.shape)
    (True, (np.int64(10), np.int64(10)))
    """
    mode = choice(func, "mode", mode, MODES)
    arrays = []
    for name, value in (("a", a), ("b", b)):
        arrays.append(as_array(func, name, value, integers="keep", floats="any", bools=True,
                               min_ndim=1))
    a, b = arrays
    if a.ndim != b.ndim:
        raise bad_value(func, "b", b, f"an array with as many dimensions as a ({a.ndim})")
    masks = []
    for name, value, image in (("a_mask", a_mask, a), ("b_mask", b_mask, b)):
        mask = np.asarray(value)
        if mask.shape != image.shape:
            raise bad_value(func, name, value, f"a mask of its image's shape {image.shape}")
        masks.append(mask.astype(bool))
    if isinstance(axes, numbers.Integral):
        axes = (axes,)
    try:
        axes = tuple(sorted({int(ax) % a.ndim for ax in axes}))
    except TypeError:
        raise bad_type(func, "axes", axes, "an int or a tuple of ints") from None
    for ax in set(range(a.ndim)) - set(axes):
        if a.shape[ax] != b.shape[ax]:
            raise bad_value(func, "b", b, f"of a's size {a.shape[ax]} along the axis {ax}, "
                            "which is not correlated")
    if isinstance(overlap_ratio, bool) or not isinstance(overlap_ratio, numbers.Real) \
            or not 0 <= overlap_ratio <= 1:
        raise bad_value(func, "overlap_ratio", overlap_ratio, "a number in [0, 1]")
    dtype = _shift_dtype(a, b)
    eps = np.finfo(dtype).eps
    # The products are computed in float64 (masks and sums of squares lose most
    # to round-off); the result is returned in the inputs' precision.
    m_a, m_b = (m.astype(np.float64) for m in masks)
    f, g = a.astype(np.float64) * m_a, b.astype(np.float64) * m_b

    def corr(x, y):
        return fftconv.correlate(x, y, mode=mode, axes=axes, method="fft")

    overlap = np.maximum(np.round(corr(m_a, m_b)), eps)
    sum_f, sum_g = corr(f, m_b), corr(m_a, g)
    numerator = corr(f, g) - sum_f * sum_g / overlap
    var_f = np.maximum(corr(f * f, m_b) - sum_f ** 2 / overlap, 0.0)
    var_g = np.maximum(corr(m_a, g * g) - sum_g ** 2 / overlap, 0.0)
    denominator = np.sqrt(var_f * var_g)
    tol = 1e3 * eps * np.max(denominator, axis=axes, keepdims=True)
    valid = denominator > tol
    out = np.zeros(denominator.shape, dtype=dtype)
    out[valid] = np.clip(numerator[valid] / denominator[valid], -1.0, 1.0)
    out[overlap < overlap_ratio * np.max(overlap, axis=axes, keepdims=True)] = 0.0
    return out
