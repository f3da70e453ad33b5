"""What a filter does in frequency: spectra, descriptors, frequency masks, orientation.

Conventions used throughout
---------------------------
* **Frequencies** are in cycles/pixel, in ``[-0.5, 0.5)`` along each axis
  (``numpy.fft.fftfreq``); ``fy`` runs along axis -2 (rows, downwards) and ``fx``
  along axis -1 (columns). The radius ``|f| = sqrt(fx² + fy²)`` reaches 0.5 on the
  inscribed circle and ``√2/2`` in the corners.
* **Angles** are in degrees, counter-clockwise from the +x axis with the y axis
  pointing *up* as the image is displayed, i.e. ``atan2(-fy, fx)``. Orientation is
  an axial quantity (the power spectrum of a real filter satisfies
  ``S(f) = S(-f)``), so orientations live in ``[0, 180)``. An orientation is the
  direction of the *wave vector*: the direction in which intensity changes. Edges
  and stripes a filter responds to run perpendicular to it.
* **Kernel origin**: a kernel's centre tap ``(kh // 2, kw // 2)`` is the spatial
  origin, as for :mod:`analysis.kernels` and for ``'same'`` convolutions. Its
  transform is ``K(f) = Σ_{p,q} w[p, q] · exp(-2πi (fy·(p - kh//2) + fx·(q - kw//2)))``,
  the DFT of the kernel (convolution convention), so symmetric kernels have real
  spectra. ``fftconv.conv2d`` applies a kernel as a cross-correlation, whose
  frequency response is ``conj(K(f))``: same magnitude, negated phase.
* **Layouts**: "centred" arrays have the zero frequency at index
  ``(P // 2, Q // 2)`` (``numpy.fft.fftshift``), as spectra are displayed.

The spectra themselves are computed with ``scipy.fft``; convolutions go through
``fftconv.convolve``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.fft
import scipy.ndimage

import fftconv
from fftconv.checks import as_array, choice, integer, positive, size_pair
from fftconv.errors import bad_type, bad_value
# Spectral pooling (Rippel, Snoek & Adams 2015) is library code, used by the
# trainer's SpectralPool2d; it is offered here beside the other spectral views.
from fftconv.spectral import spectral_pool, spectral_pool_adjoint

from .windows import separable_window

__all__ = ["Spectrum", "filter_spectrum", "image_spectrum", "dc_gain", "centroid_frequency",
           "spectral_flatness", "radial_profile", "pass_type", "orientation_energy",
           "dominant_orientation", "orientation_selectivity", "filter_descriptors",
           "relative_gain", "relative_dc_gain", "relative_high_gain", "HALF_POWER_GAIN",
           "frequency_grid", "lowpass", "highpass", "bandpass", "apply_frequency_mask",
           "mask_kernel", "circular_convolve", "spectral_pool", "spectral_pool_adjoint",
           "PASS_TYPES", "MASK_KINDS", "descriptor_table", "format_descriptor_table"]

#: Labels returned by :func:`pass_type`.
PASS_TYPES = ("lowpass", "bandpass", "highpass", "allpass", "zero")
#: The passband edge of :func:`pass_type`: a gain (amplitude) of ``1/√2 ≈ 0.7071``
#: relative to the peak, i.e. half the peak power, ``−10·log10(2) ≈ −3.01 dB``.
HALF_POWER_GAIN = float(1 / np.sqrt(2))
#: Profiles accepted by :func:`lowpass`, :func:`highpass` and :func:`bandpass`.
MASK_KINDS = ("ideal", "gaussian", "butterworth")


# -- spectra -----------------------------------------------------------------------

@dataclass(frozen=True)
class Spectrum:
    """The 2-D DFT of a filter (or a stack of filters) or of an image, with its frequencies.

    Attributes
    ----------
    transform : ndarray, complex, shape (..., P, Q)
        The DFT over the last two axes, centred when ``shifted``.
    fy : ndarray, shape (P,)
        Frequency of each row of ``transform`` in cycles/pixel (along axis -2).
    fx : ndarray, shape (Q,)
        Frequency of each column in cycles/pixel (along axis -1).
    shifted : bool
        Whether the zero frequency sits at ``(P // 2, Q // 2)`` rather than ``(0, 0)``.

    Examples
    --------
    >>> from analysis import kernels
    >>> spectrum = filter_spectrum(kernels.sobel(), size=16)
    >>> spectrum.transform.shape, spectrum.dc_index, float(spectrum.fx[spectrum.dc_index[1] + 4])
    ((16, 16), (8, 8), 0.25)
    >>> round(float(spectrum.magnitude[8, 12]), 12)     # |2 sin(2π·0.25) · (2 + 2)| at fx = 0.25
    8.0
    """

    transform: np.ndarray
    fy: np.ndarray
    fx: np.ndarray
    shifted: bool

    @property
    def magnitude(self) -> np.ndarray:
        """``|K(f)|``, shape (..., P, Q)."""
        return np.abs(self.transform)

    @property
    def phase(self) -> np.ndarray:
        """``arg K(f)`` in radians, in ``(-π, π]``, shape (..., P, Q)."""
        return np.angle(self.transform)

    @property
    def log_magnitude(self) -> np.ndarray:
        """``log(1 + |K(f)|)``: finite at spectral zeros, the usual display scale."""
        return np.log1p(self.magnitude)

    @property
    def power(self) -> np.ndarray:
        """``|K(f)|²``, shape (..., P, Q)."""
        return self.transform.real ** 2 + self.transform.imag ** 2

    @property
    def radius(self) -> np.ndarray:
        """``|f|`` in cycles/pixel at every sample, shape (P, Q)."""
        return np.hypot(self.fy[:, None], self.fx[None, :])

    @property
    def orientation(self) -> np.ndarray:
        """Axial angle of every frequency in degrees, ``[0, 180)``, shape (P, Q)."""
        return np.degrees(np.arctan2(-self.fy[:, None], self.fx[None, :])) % 180.0

    @property
    def dc_index(self) -> tuple[int, int]:
        """Index of the zero frequency in the last two axes."""
        return (len(self.fy) // 2, len(self.fx) // 2) if self.shifted else (0, 0)


def frequency_grid(shape, shift=True):
    """Frequencies ``(fy, fx)`` in cycles/pixel of a DFT of ``shape = (P, Q)``.

    Parameters
    ----------
    shape : int or (int, int)
        DFT size ``(P, Q)`` (an int means square).
    shift : bool
        Centred order (``fftshift``) instead of the DFT's natural order.

    Returns
    -------
    fy : ndarray, shape (P,)
    fx : ndarray, shape (Q,)

    Examples
    --------
    >>> fy, fx = frequency_grid((4, 5))
    >>> fy
    array([-0.5 , -0.25,  0.  ,  0.25])
    >>> fx
    array([-0.4, -0.2,  0. ,  0.2,  0.4])
    """
    p, q = size_pair("frequency_grid", "shape", shape)
    fy, fx = np.fft.fftfreq(p), np.fft.fftfreq(q)
    return (np.fft.fftshift(fy), np.fft.fftshift(fx)) if shift else (fy, fx)


def _kernel_on_grid(w: np.ndarray, shape) -> np.ndarray:
    """Place ``w (..., kh, kw)`` on a ``shape`` grid with its centre tap at index (0, 0).

    Taps wrap around (and add up) when the kernel is larger than the grid, which is
    exactly the kernel a circular convolution on that grid applies.
    """
    kh, kw = w.shape[-2:]
    p, q = shape
    grid = np.zeros(w.shape[:-2] + (p, q), dtype=w.dtype)
    rows = (np.arange(kh) - kh // 2) % p
    cols = (np.arange(kw) - kw // 2) % q
    if kh <= p and kw <= q:
        grid[..., rows[:, None], cols[None, :]] = w
    else:
        for i, r in enumerate(rows):
            for j, c in enumerate(cols):
                grid[..., r, c] += w[..., i, j]
    return grid


def filter_spectrum(w, size=None, shift=True):
    """Zero-padded 2-D DFT of a kernel or a stack of kernels.

    Parameters
    ----------
    w : array_like, shape (..., kh, kw)
        One kernel ``(kh, kw)`` or a stack such as conv2d weights
        ``(C_out, C_in, kh, kw)``; the transform runs over the last two axes.
    size : int or (int, int), optional
        DFT size ``(P, Q) >= (kh, kw)``. Zero-padding samples the same continuous
        frequency response ``K(f)`` more densely, so small kernels get smooth
        spectra (64 is a good choice for display and for the descriptors).
        Default: ``(kh, kw)``, the kernel's own DFT.
    shift : bool
        Return the centred layout (zero frequency in the middle).

    Returns
    -------
    Spectrum
        ``transform`` has shape (..., P, Q) and is complex (complex64 for float32
        input); ``magnitude``, ``phase``, ``log_magnitude`` and ``power`` are
        derived from it; ``fy``, ``fx`` are in cycles/pixel.

    Notes
    -----
    ``K(f) = Σ_{p,q} w[p, q] · exp(-2πi (fy·(p - kh//2) + fx·(q - kw//2)))`` at
    ``fy = m / P``, ``fx = n / Q``: the kernel's centre tap is the origin, so a
    kernel symmetric about its centre has a real spectrum and the phase is not
    dominated by the linear ramp of an off-centre origin. Zero-padding adds no
    information; it interpolates the discrete-time Fourier transform between the
    ``kh × kw`` native samples (Oppenheim & Schafer, *Discrete-Time Signal
    Processing*, 3rd ed., §8.6; Gonzalez & Woods, *Digital Image Processing*,
    4th ed., §4.6).

    Examples
    --------
    >>> from analysis import kernels
    >>> s = filter_spectrum(kernels.box(3), size=8)
    >>> s.transform.shape, s.dc_index
    ((8, 8), (4, 4))
    >>> float(s.magnitude.max())          # the DC gain of a normalized box
    1.0
    >>> bool(np.allclose(s.transform.imag, 0))   # symmetric kernel: real spectrum
    True
    """
    w = as_array("filter_spectrum", "w", w, min_ndim=2, layout="(..., kh, kw)", finite=True)
    kh, kw = w.shape[-2:]
    size = (kh, kw) if size is None else size_pair("filter_spectrum", "size", size,
                                                    minimum=(kh, kw))
    transform = scipy.fft.fft2(_kernel_on_grid(w, size))
    fy, fx = frequency_grid(size, shift=False)
    if shift:
        transform = scipy.fft.fftshift(transform, axes=(-2, -1))
        fy, fx = np.fft.fftshift(fy), np.fft.fftshift(fx)
    return Spectrum(transform, fy, fx, bool(shift))


def image_spectrum(image, window="hann", remove_mean=True, shift=True):
    """Spectrum of an image (or a stack of images), for display and orientation analysis.

    Parameters
    ----------
    image : array_like, shape (..., H, W)
        One image or a stack; the transform runs over the last two axes.
    window : {'hann', None}
        Taper applied before the transform (:mod:`analysis.windows`, the same
        tapers as :func:`analysis.phase.phase_correlate`). A periodic Hann window in
        each axis removes the cross-shaped leakage that the image borders (an implicit
        discontinuity for the DFT) would otherwise add along the axes.
    remove_mean : bool
        Subtract each image's (window-weighted) mean first, so the DC term is
        exactly zero and its leakage through the window does not swamp the low
        frequencies.
    shift : bool
        Return the centred layout.

    Returns
    -------
    Spectrum
        ``log_magnitude`` is the centred log-magnitude spectrum to display;
        :func:`orientation_energy` and :func:`dominant_orientation` read the
        orientation from it.

    Notes
    -----
    ``X(f) = Σ_{i,j} (x[i, j] - x̄) · h[i] h[j] · exp(-2πi (fy·i + fx·j))`` with
    ``h`` the Hann window and ``x̄ = Σ x h h / Σ h h``. Oriented structure in the
    image concentrates energy along the line through the origin perpendicular to
    it (Dettmers 2015, after
    Fisher & Koryllos 1998; F. J. Harris, "On the use of windows for harmonic
    analysis with the discrete Fourier transform", Proc. IEEE 66(1), 1978).

    Examples
    --------
    >>> from analysis.images import stripes
    >>> s = image_spectrum(stripes((64, 64), angle=30, wavelength=8))
    >>> round(float(dominant_orientation(s)))
    30
    """
    image = as_array("image_spectrum", "image", image, min_ndim=2,
                     layout="(..., H, W)", finite=True)
    h, w = image.shape[-2:]
    taper = np.ones((h, w), image.dtype) if window is None else separable_window(
        "image_spectrum", "window", window, (h, w), image.dtype)
    if remove_mean:
        image = image - (image * taper).sum(axis=(-2, -1), keepdims=True) / taper.sum()
    transform = scipy.fft.fft2(image * taper)
    fy, fx = frequency_grid((h, w), shift=False)
    if shift:
        transform = scipy.fft.fftshift(transform, axes=(-2, -1))
        fy, fx = np.fft.fftshift(fy), np.fft.fftshift(fx)
    return Spectrum(transform, fy, fx, bool(shift))


def _check_spectrum(func: str, spectrum) -> Spectrum:
    if not isinstance(spectrum, Spectrum):
        raise bad_type(func, "spectrum", spectrum,
                       "a Spectrum (from filter_spectrum or image_spectrum)")
    return spectrum


def _scalar(values: np.ndarray):
    """0-d results become numpy scalars; stacks stay arrays."""
    return values[()] if values.ndim == 0 else values


# -- descriptors -------------------------------------------------------------------

def dc_gain(spectrum):
    """Gain at zero frequency, ``K(0) = Σ w``: the response to a constant image.

    Parameters
    ----------
    spectrum : Spectrum
        From :func:`filter_spectrum`.

    Returns
    -------
    float or ndarray, shape (...)
        Real part of the zero-frequency sample (the imaginary part of a real
        kernel's DC term is zero).

    Notes
    -----
    ``K(0) = Σ_{p,q} w[p, q]``. 1 for a normalized blur (brightness kept), 0 for
    derivative and edge filters (constant regions give zero response).

    Examples
    --------
    >>> from analysis import kernels
    >>> float(dc_gain(filter_spectrum(kernels.sharpen())))
    1.0
    """
    spectrum = _check_spectrum("dc_gain", spectrum)
    i, j = spectrum.dc_index
    return _scalar(np.array(spectrum.transform[..., i, j].real))


def centroid_frequency(spectrum):
    """Power-weighted mean radial frequency, in cycles/pixel.

    Parameters
    ----------
    spectrum : Spectrum
        From :func:`filter_spectrum` (or :func:`image_spectrum`).

    Returns
    -------
    float or ndarray, shape (...)
        ``Σ_f |f|·S(f) / Σ_f S(f)`` with ``S = |K|²`` over the whole DFT grid, in
        ``[0, √2/2]``; NaN for an all-zero filter.

    Notes
    -----
    The spectral centroid (the "centre of mass" of the power spectrum; see
    G. Peeters, "A large set of audio features for sound description", IRCAM
    2004, for the 1-D audio feature). Low for blurs, near the passband for
    band-pass filters, high for edge detectors; a pure impulse (white
    spectrum) gives the mean radius of the grid, about 0.38.

    Examples
    --------
    >>> from analysis import kernels
    >>> wide, narrow = kernels.gaussian(9, 2.0), kernels.gaussian(9, 0.7)
    >>> bool(centroid_frequency(filter_spectrum(wide, 64))
    ...      < centroid_frequency(filter_spectrum(narrow, 64)))
    True
    """
    spectrum = _check_spectrum("centroid_frequency", spectrum)
    power = spectrum.power
    total = power.sum(axis=(-2, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (power * spectrum.radius).sum(axis=(-2, -1)) / total
    return _scalar(np.where(total > 0, out, np.nan))


def spectral_flatness(spectrum):
    """Wiener entropy of the power spectrum: geometric over arithmetic mean, in [0, 1].

    Parameters
    ----------
    spectrum : Spectrum
        From :func:`filter_spectrum` (or :func:`image_spectrum`).

    Returns
    -------
    float or ndarray, shape (...)
        1 for a white spectrum (a single tap: the filter passes every frequency
        alike), towards 0 for a peaked one; scale-invariant; NaN for an all-zero
        filter.

    Notes
    -----
    ``exp(mean_f log(S(f) + ε)) / mean_f S(f)`` with ``S = |K|²`` over the whole
    DFT grid and the floor ``ε = 10⁻¹⁰ · mean_f S(f)``, so exact spectral zeros
    (every zero-DC filter has one) lower the value without sending it to 0
    (the floor librosa uses, relative here to keep scale invariance). By the
    AM–GM inequality the ratio is at most 1, with equality iff ``S`` is
    constant (N. S. Jayant and P. Noll, *Digital Coding of Waveforms*, 1984).

    Examples
    --------
    >>> from analysis import kernels
    >>> impulse = np.zeros((3, 3)); impulse[1, 1] = 1
    >>> round(float(spectral_flatness(filter_spectrum(impulse, 16))), 12)
    1.0
    >>> bool(spectral_flatness(filter_spectrum(kernels.gaussian(5, 1.0), 16)) < 0.5)
    True
    """
    spectrum = _check_spectrum("spectral_flatness", spectrum)
    power = spectrum.power.astype(np.float64)
    mean = power.mean(axis=(-2, -1))
    floor = 1e-10 * mean[..., None, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        geometric_mean = np.exp(np.log(power + floor).mean(axis=(-2, -1)))
        out = np.minimum(geometric_mean / mean, 1.0)
    return _scalar(np.where(mean > 0, out, np.nan))


def radial_profile(spectrum, rings=None):
    """Orientation-averaged power as a function of radial frequency.

    Parameters
    ----------
    spectrum : Spectrum
        From :func:`filter_spectrum` (or :func:`image_spectrum`).
    rings : int, optional
        Number of ring spacings between 0 and 0.5 cycles/pixel. Default
        ``min(P, Q) // 2``: one ring per DFT sample along the shorter axis.

    Returns
    -------
    radii : ndarray, shape (rings + 1,)
        Ring centres ``k / (2·rings)`` for ``k = 0 … rings``, from DC to 0.5.
    profile : ndarray, shape (..., rings + 1)
        Mean of ``|K(f)|²`` over the samples with ``|f|`` rounding to each ring
        centre; ring 0 holds DC only when ``P`` and ``Q`` are within a factor 2.
        Rings without samples are NaN. Corner frequencies with
        ``|f| >= 0.5 + 1/(4·rings)`` lie outside every ring.

    Notes
    -----
    The azimuthal average of the power spectrum (R. C. Gonzalez and R. E. Woods,
    *Digital Image Processing*, 4th ed., §4.9). A mean, not a sum, so a white
    spectrum has a flat profile; only the inscribed disc is used, where every
    direction is sampled.

    Examples
    --------
    >>> impulse = np.zeros((1, 1))
    >>> impulse[0, 0] = 2.0
    >>> radii, profile = radial_profile(filter_spectrum(impulse, 16))
    >>> radii[[0, -1]], np.unique(profile)
    (array([0. , 0.5]), array([4.]))
    """
    spectrum = _check_spectrum("radial_profile", spectrum)
    p, q = spectrum.transform.shape[-2:]
    rings = max(min(p, q) // 2, 1) if rings is None else integer("radial_profile", "rings",
                                                                  rings)
    index = np.rint(spectrum.radius * (2 * rings)).astype(np.int64).ravel()
    inside = index <= rings
    counts = np.bincount(index[inside], minlength=rings + 1).astype(np.float64)
    power = spectrum.power.reshape(spectrum.transform.shape[:-2] + (p * q,))[..., inside]
    sums = np.zeros(power.shape[:-1] + (rings + 1,))
    np.add.at(sums, (..., index[inside]), power)
    with np.errstate(invalid="ignore", divide="ignore"):
        profile = np.where(counts > 0, sums / counts, np.nan)
    return np.arange(rings + 1) / (2 * rings), profile


def relative_gain(spectrum, rings=None):
    """The radial gain profile relative to its peak: ``g(r) = sqrt(P(r) / max_r P(r))``.

    Parameters
    ----------
    spectrum : Spectrum
        From :func:`filter_spectrum` (or :func:`image_spectrum`).
    rings : int, optional
        Passed to :func:`radial_profile`.

    Returns
    -------
    radii : ndarray, shape (rings + 1,)
        Ring centres in cycles/pixel, ``0 … 0.5``.
    gain : ndarray, shape (..., rings + 1)
        The root-mean-square gain ``sqrt(P(r))`` of each ring divided by the largest
        one, in ``[0, 1]``; NaN for an all-zero filter (and for rings without samples).

    Notes
    -----
    ``P(r)`` is the orientation-averaged power of :func:`radial_profile`; ring 0
    holds DC alone, so ``g(0) = |K(0)| / sqrt(max_r P(r))``. The gain of a ring is an
    amplitude: ``20·log10(g)`` is in dB, and half power is ``g = 1/√2``
    (:data:`HALF_POWER_GAIN`).

    Examples
    --------
    >>> from analysis import kernels
    >>> radii, gain = relative_gain(filter_spectrum(kernels.box(3), 64))
    >>> float(gain[0]), bool(np.all(gain <= 1))      # a box passes DC best
    (1.0, True)
    """
    spectrum = _check_spectrum("relative_gain", spectrum)
    radii, profile = radial_profile(spectrum, rings)
    top = np.nanmax(profile, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        gain = np.where(top > 0, np.sqrt(profile / top), np.nan)
    return radii, gain


def relative_dc_gain(spectrum, rings=None):
    """Gain at DC relative to the peak of the radial profile, in [0, 1]: ``g(0)``.

    Parameters
    ----------
    spectrum : Spectrum
        From :func:`filter_spectrum`.
    rings : int, optional
        Passed to :func:`radial_profile`.

    Returns
    -------
    float or ndarray, shape (...)
        ``|K(0)| / sqrt(max_r P(r))`` (:func:`relative_gain` at ``r = 0``): 1 for a
        blur, 0 for an edge detector; NaN for an all-zero filter. One of the two
        numbers :func:`pass_type` reads; compare with :data:`HALF_POWER_GAIN`.

    Examples
    --------
    >>> from analysis import kernels
    >>> float(relative_dc_gain(filter_spectrum(kernels.gaussian(5, 1.0), 64)))
    1.0
    >>> float(relative_dc_gain(filter_spectrum(kernels.laplacian(), 64)))
    0.0
    """
    _, gain = relative_gain(_check_spectrum("relative_dc_gain", spectrum), rings)
    return _scalar(np.array(gain[..., 0]))


def relative_high_gain(spectrum, rings=None):
    """Gain at the highest frequencies (the ring ``|f| = 0.5``) relative to the peak.

    Parameters
    ----------
    spectrum : Spectrum
        From :func:`filter_spectrum`.
    rings : int, optional
        Passed to :func:`radial_profile`.

    Returns
    -------
    float or ndarray, shape (...)
        :func:`relative_gain` at ``r = 0.5``, the root-mean-square gain over the
        inscribed circle at the Nyquist radius divided by the peak, in [0, 1];
        NaN for an all-zero filter. The other number :func:`pass_type` reads.

    Examples
    --------
    >>> from analysis import kernels
    >>> bool(relative_high_gain(filter_spectrum(kernels.laplacian(), 64)) > 0.9)
    True
    """
    _, gain = relative_gain(_check_spectrum("relative_high_gain", spectrum), rings)
    return _scalar(np.array(gain[..., -1]))


def pass_type(spectrum, rings=None):
    """Low-, band-, high- or all-pass, by the half-power (−3 dB) rule at DC and at 0.5.

    Parameters
    ----------
    spectrum : Spectrum
        From :func:`filter_spectrum` (or :func:`image_spectrum`).
    rings : int, optional
        Passed to :func:`radial_profile`.

    Returns
    -------
    str or ndarray of str, shape (...)
        One of :data:`PASS_TYPES`.

    Notes
    -----
    The label is derived from two descriptors only, the gains at the two ends of
    the radial profile relative to its peak: ``g_dc`` = :func:`relative_dc_gain`
    and ``g_high`` = :func:`relative_high_gain`. The passband is where the gain is
    within 3 dB of the peak, ``g >= HALF_POWER_GAIN = 1/√2 ≈ 0.7071`` (the
    half-power point of the usual cut-off definition; Oppenheim & Schafer,
    *Discrete-Time Signal Processing*, 3rd ed., §7.1). Then

    ============  =========================  ============================
    label         ``g_dc >= 1/√2``           ``g_high >= 1/√2``
    ============  =========================  ============================
    ``lowpass``   yes                        no
    ``highpass``  no                         yes
    ``bandpass``  no                         no (Sobel, Gabor: zero at DC
                                             and at the Nyquist radius)
    ``allpass``   yes                        yes (an impulse)
    ``zero``      NaN (an all-zero filter)   NaN
    ============  =========================  ============================

    So a filter whose DC gain is 0.705 of its peak (−3.04 dB) is not low-pass,
    and one at 0.71 (−2.97 dB) passes DC. Figures print ``g_dc`` in dB beside the
    label (:func:`analysis.plots.filter_spectra_figure`).

    Examples
    --------
    >>> from analysis import kernels
    >>> [str(pass_type(filter_spectrum(k, 64))) for k in
    ...  (kernels.gaussian(5, 1.0), kernels.sobel(), kernels.laplacian())]
    ['lowpass', 'bandpass', 'highpass']
    """
    spectrum = _check_spectrum("pass_type", spectrum)
    _, gain = relative_gain(spectrum, rings)
    zero = np.isnan(gain[..., 0])
    with np.errstate(invalid="ignore"):
        low = gain[..., 0] >= HALF_POWER_GAIN
        high = gain[..., -1] >= HALF_POWER_GAIN
    labels = np.where(low, np.where(high, "allpass", "lowpass"),
                      np.where(high, "highpass", "bandpass"))
    return _scalar(np.where(zero, "zero", labels))


def _orientation_moment(spectrum: Spectrum) -> tuple[np.ndarray, np.ndarray]:
    """Mean resultant ``z = Σ S(f) e^{2iθ_f} / Σ S(f)`` over ``0 < |f| <= 0.5``."""
    radius = spectrum.radius
    disc = (radius > 0) & (radius <= 0.5)
    theta = np.radians(spectrum.orientation[disc])
    power = spectrum.power[..., disc]
    total = power.sum(axis=-1)
    resultant = (power * np.exp(2j * theta)).sum(axis=-1)
    return resultant, total


def dominant_orientation(spectrum):
    """Direction in which a filter's (or image's) spectral energy is concentrated, in degrees.

    Parameters
    ----------
    spectrum : Spectrum
        From :func:`filter_spectrum` or :func:`image_spectrum`.

    Returns
    -------
    float or ndarray, shape (...)
        Angle in ``[0, 180)`` of the wave vector the filter responds to most
        (counter-clockwise from +x, y up): 0 for ``sobel('x')`` (it measures
        change along x, i.e. detects vertical edges), 90 for ``sobel('y')``,
        ``theta`` for ``gabor(theta=...)``. The edges or stripes themselves run
        at this angle + 90. NaN when the energy has no preferred axis
        (:func:`orientation_selectivity` below 10⁻¹²) or the filter is zero.

    Notes
    -----
    Orientation is axial (``S(f) = S(-f)``), so angles are doubled before
    averaging (circular statistics of axial data; K. V. Mardia and P. E. Jupp,
    *Directional Statistics*, 2000, §9.3; equivalently the principal axis of
    the spectral orientation tensor of J. Bigün and G. Granlund, 1987):
    ``z = Σ S(f) e^{2iθ_f} / Σ S(f)`` over ``0 < |f| <= 0.5`` and the orientation
    is ``arg(z) / 2``. Restricting to the inscribed disc keeps the square grid's
    corners from favouring the diagonals.

    Examples
    --------
    >>> from analysis import kernels
    >>> [round(float(dominant_orientation(filter_spectrum(k, 64)))) for k in
    ...  (kernels.sobel("x"), kernels.sobel("y"), kernels.gabor(theta=30))]
    [0, 90, 30]
    """
    spectrum = _check_spectrum("dominant_orientation", spectrum)
    resultant, total = _orientation_moment(spectrum)
    with np.errstate(invalid="ignore", divide="ignore"):
        strength = np.abs(resultant) / total
    angle = (np.degrees(np.angle(resultant)) / 2) % 180.0
    angle = np.where(angle > 180.0 - 1e-9, 0.0, angle)     # -0.0000…1° is 0°, not 180°
    return _scalar(np.where((total > 0) & (strength >= 1e-12), angle, np.nan))


def orientation_selectivity(spectrum):
    """How concentrated the spectral energy is around one orientation, in [0, 1].

    Parameters
    ----------
    spectrum : Spectrum
        From :func:`filter_spectrum` (or :func:`image_spectrum`).

    Returns
    -------
    float or ndarray, shape (...)
        ``|z|`` with ``z`` the mean resultant of :func:`dominant_orientation`:
        0 for energy spread evenly over orientations (any spectrum with the
        square's 90° symmetry: box, Gaussian, Laplacian), 1 when all energy lies
        on one line through the origin. NaN for an all-zero filter.

    Notes
    -----
    The mean resultant length of the doubled orientation angles weighted by
    power (Mardia & Jupp, *Directional Statistics*, §2.3.1); it equals the
    coherence ``(λ₁ − λ₂)/(λ₁ + λ₂)`` of the spectral orientation tensor.

    Examples
    --------
    >>> from analysis import kernels
    >>> round(float(orientation_selectivity(filter_spectrum(kernels.box(3), 32))), 12)
    0.0
    >>> bool(orientation_selectivity(filter_spectrum(kernels.sobel(), 32)) > 0.5)
    True
    """
    spectrum = _check_spectrum("orientation_selectivity", spectrum)
    resultant, total = _orientation_moment(spectrum)
    with np.errstate(invalid="ignore", divide="ignore"):
        strength = np.abs(resultant) / total
    return _scalar(np.where(total > 0, strength, np.nan))


def orientation_energy(spectrum, bins=36, band=(0.0, 0.5)):
    """Fraction of spectral energy per orientation bin (the data of an orientation rose).

    Parameters
    ----------
    spectrum : Spectrum
        From :func:`filter_spectrum` or :func:`image_spectrum`.
    bins : int
        Number of bins over ``[0, 180)``; bin ``k`` is centred on ``k·180/bins``
        degrees, so energy exactly along an axis falls in the middle of a bin.
    band : (float, float)
        Radial band ``low < |f| <= high`` in cycles/pixel, ``0 <= low < high <= 0.5``.

    Returns
    -------
    centres : ndarray, shape (bins,)
        Bin centres in degrees.
    energy : ndarray, shape (..., bins)
        Energy in each orientation wedge of the band divided by the energy of the
        whole band (sums to 1; NaN if the band holds no energy).

    Notes
    -----
    ``E_k = ∫_{wedge k} S(f) dA / ∫_{band} S(f) dA`` with ``S = |K|²`` and the
    area element ``dA = r dr dθ``. The integral is taken on a polar grid (radial
    step half the DFT spacing, angular step matching it at the outer radius),
    with ``S`` interpolated bilinearly from the DFT samples: summing the
    Cartesian samples per wedge instead would favour the 0°, 45° and 90° wedges,
    which hold more lattice points near the origin than the others. A stripe
    pattern whose wave vector points at ``θ`` puts its energy in the bin of
    ``θ``: rotating the pattern moves the peak by the same angle (Dettmers 2015).

    Examples
    --------
    >>> from analysis.images import stripes
    >>> centres, energy = orientation_energy(image_spectrum(stripes(64, 60, 6)), bins=12)
    >>> float(centres[np.argmax(energy)])
    60.0
    """
    spectrum = _check_spectrum("orientation_energy", spectrum)
    bins = integer("orientation_energy", "bins", bins)
    lo, hi = _band("orientation_energy", band)
    p, q = spectrum.transform.shape[-2:]
    power = spectrum.power if spectrum.shifted else scipy.fft.fftshift(spectrum.power, axes=(-2, -1))
    step = 0.5 / max(p, q)
    radii = np.arange(lo + step / 2, hi, step)
    per_bin = max(1, int(np.ceil(np.pi * hi / step / bins)))
    width = 180.0 / bins
    theta = (np.arange(bins * per_bin) + 0.5) * (width / per_bin) - width / 2
    r, t = radii[:, None], np.radians(theta)[None, :]
    rows = p // 2 - r * np.sin(t) * p                 # y up is towards row 0
    cols = q // 2 + r * np.cos(t) * q
    flat = power.reshape((-1, p, q))
    energy = np.empty((len(flat), bins))
    for n, plane in enumerate(flat):
        values = scipy.ndimage.map_coordinates(plane, [rows, cols], order=1, mode="grid-wrap")
        energy[n] = (values * r).sum(axis=0).reshape(bins, per_bin).sum(axis=1)
    energy = energy.reshape(power.shape[:-2] + (bins,))
    total = energy.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        energy = np.where(total > 0, energy / total, np.nan)
    return np.arange(bins) * width, energy


def _band(func, band):
    try:
        lo, hi = (float(v) for v in band)
    except (TypeError, ValueError):
        raise bad_value(func, "band", band, "a pair (low, high) of frequencies") from None
    if not 0 <= lo < hi <= 0.5:
        raise bad_value(func, "band", band, "a pair (low, high) with 0 <= low < high <= 0.5")
    return lo, hi


def filter_descriptors(w, size=64):
    """Every descriptor of every filter in ``w``, computed from one spectrum.

    Parameters
    ----------
    w : array_like, shape (..., kh, kw)
        One kernel or a stack (conv2d weights ``(C_out, C_in, kh, kw)``).
    size : int or (int, int)
        DFT size, ``>= (kh, kw)``.

    Returns
    -------
    dict of str to ndarray, each of shape (...)
        ``dc_gain``, ``relative_dc_gain``, ``relative_high_gain``,
        ``dominant_orientation``, ``orientation_selectivity``,
        ``centroid_frequency``, ``pass_type``, ``spectral_flatness``, as defined
        by the functions of those names (``pass_type`` is decided by
        ``relative_dc_gain`` and ``relative_high_gain`` alone).

    Examples
    --------
    >>> from analysis import kernels
    >>> w = kernels.stack_kernels([kernels.gaussian(5, 1.0), kernels.sobel("y")])
    >>> d = filter_descriptors(w)
    >>> [str(t) for t in d["pass_type"]], float(d["dominant_orientation"][1])
    (['lowpass', 'bandpass'], 90.0)
    """
    spectrum = filter_spectrum(w, size)
    funcs = (dc_gain, relative_dc_gain, relative_high_gain, dominant_orientation,
             orientation_selectivity, centroid_frequency, pass_type, spectral_flatness)
    return {f.__name__: np.asarray(f(spectrum)) for f in funcs}


def descriptor_table(labels, table):
    """The filter table ``fftconv spectrum`` prints and the demo shows, as rows.

    Parameters
    ----------
    labels : sequence of str
        One per filter, in the order of ``table``'s entries.
    table : dict of str to ndarray, each of shape (F,)
        From :func:`filter_descriptors` on ``F`` filters.

    Returns
    -------
    header : list of str
    rows : list of list
        Per filter: label, pass type, the two gains :func:`pass_type` reads
        (``g₀``, ``g½``: at DC and at ``|f| = 0.5``, relative to the peak of the
        radial profile), the
        absolute DC gain ``K(0) = Σ w``, dominant orientation (NaN when
        isotropic), orientation selectivity, centroid frequency and spectral
        flatness.
    formats : list of str or None
        A format per column (``'.3f'``, ...), None for text.

    Notes
    -----
    The columns of the rule are headed ``(rule)``: a filter is low-pass when
    ``g₀ >= HALF_POWER_GAIN = 1/√2`` and not ``g½``. The absolute
    ``K(0)`` depends on the filter's scale (a sum of weights) and decides
    nothing; it is shown because it is the response to a flat image.

    Examples
    --------
    >>> from analysis import kernels
    >>> w = kernels.stack_kernels([kernels.gaussian(5, 1.0), kernels.laplacian()])
    >>> header, rows, _ = descriptor_table(["gauss", "lap"], filter_descriptors(w))
    >>> header[:5]
    ['filter', 'pass type', 'g₀ = DC/peak (rule)', 'g½ = |f|=0.5/peak (rule)', 'K(0) = Σw']
    >>> [row[1] for row in rows], [round(row[2], 3) for row in rows]
    (['lowpass', 'highpass'], [1.0, 0.0])
    """
    labels = list(labels)
    keys = ("relative_dc_gain", "relative_high_gain", "dc_gain", "dominant_orientation",
            "orientation_selectivity", "centroid_frequency", "spectral_flatness")
    for key in keys + ("pass_type",):
        if key not in table or np.shape(table[key]) != (len(labels),):
            raise bad_value("descriptor_table", "table", sorted(table),
                            f"filter_descriptors of {len(labels)} filters (one per label), "
                            f"with '{key}' of shape ({len(labels)},)")
    header = ["filter", "pass type", "g₀ = DC/peak (rule)", "g½ = |f|=0.5/peak (rule)",
              "K(0) = Σw", "orientation (deg)", "selectivity", "centroid (cyc/px)",
              "flatness"]
    rows = [[label, str(table["pass_type"][n])] + [float(table[key][n]) for key in keys]
            for n, label in enumerate(labels)]
    return header, rows, [None, None] + [".3f"] * 3 + [".1f"] + [".3f"] * 3


def format_descriptor_table(labels, table) -> str:
    """:func:`descriptor_table` as aligned text, with a line stating the pass-type rule.

    Examples
    --------
    >>> from analysis import kernels
    >>> text = format_descriptor_table(["box"], filter_descriptors(kernels.box(3)[None]))
    >>> print(text.splitlines()[-1])
    pass type: passes DC when g₀ >= 0.707 and |f| = 0.5 when g½ >= 0.707 (gains relative to the peak, −3 dB); K(0) = Σw decides nothing
    """
    header, rows, formats = descriptor_table(labels, table)
    cells = [header] + [["-" if isinstance(v, float) and np.isnan(v) else
                         (format(v, f) if f else str(v)) for v, f in zip(row, formats)]
                        for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) if i < 2 else c.rjust(w)
                       for i, (c, w) in enumerate(zip(row, widths))).rstrip()
             for row in cells]
    lines.append(f"pass type: passes DC when g₀ >= {HALF_POWER_GAIN:.3f} and |f| = 0.5 when "
                 f"g½ >= {HALF_POWER_GAIN:.3f} (gains relative to the peak, −3 dB); "
                 "K(0) = Σw decides nothing")
    return "\n".join(lines)


# -- frequency-domain filtering ------------------------------------------------------

def _radius_grid(func: str, shape) -> np.ndarray:
    fy, fx = frequency_grid(size_pair(func, "shape", shape))
    return np.hypot(fy[:, None], fx[None, :])


def _lowpass_profile(func, radius, cutoff, kind, order):
    cutoff = positive(func, "cutoff", cutoff)
    kind = choice(func, "kind", kind, MASK_KINDS)
    if kind == "ideal":
        return (radius <= cutoff).astype(np.float64)
    if kind == "gaussian":
        return np.exp(-radius ** 2 / (2 * cutoff ** 2))
    order = positive(func, "order", order)
    return 1.0 / (1.0 + (radius / cutoff) ** (2 * order))


def lowpass(shape, cutoff, kind="ideal", order=2):
    """Centred low-pass mask: keeps frequencies with ``|f|`` below ``cutoff``.

    Parameters
    ----------
    shape : int or (int, int)
        ``(H, W)`` of the images to filter.
    cutoff : float
        Cut-off radius ``f_c`` in cycles/pixel, ``> 0``.
    kind : {'ideal', 'gaussian', 'butterworth'}
        ``'ideal'``: ``1`` where ``|f| <= f_c``, else 0 (the circular mask of
        Dettmers 2015); ``'gaussian'``: ``exp(-|f|² / 2f_c²)`` (gain ``e^{-1/2}`` at
        ``f_c``); ``'butterworth'``: ``1 / (1 + (|f| / f_c)^{2n})`` (gain 1/2 at
        ``f_c``).
    order : float
        Butterworth order ``n`` (steepness); ignored by the other kinds.

    Returns
    -------
    mask : ndarray, shape (H, W)
        Real, in ``[0, 1]``, centred (zero frequency at ``(H // 2, W // 2)``),
        a function of ``|f|`` only.

    Notes
    -----
    The ideal mask rings (its spatial kernel is a jinc with slowly decaying
    side lobes); the Gaussian does not ring at all; the Butterworth sits in
    between. Definitions as in Gonzalez & Woods, *Digital Image Processing*,
    4th ed., §4.8.

    Examples
    --------
    >>> lowpass(5, 0.2)
    array([[0., 0., 0., 0., 0.],
           [0., 0., 1., 0., 0.],
           [0., 1., 1., 1., 0.],
           [0., 0., 1., 0., 0.],
           [0., 0., 0., 0., 0.]])
    """
    return _lowpass_profile("lowpass", _radius_grid("lowpass", shape), cutoff, kind, order)


def highpass(shape, cutoff, kind="ideal", order=2):
    """Centred high-pass mask: ``1 - lowpass(shape, cutoff, kind, order)``.

    Parameters
    ----------
    shape : int or (int, int)
        ``(H, W)`` of the images to filter.
    cutoff : float
        Cut-off radius ``f_c`` in cycles/pixel, ``> 0``.
    kind : {'ideal', 'gaussian', 'butterworth'}
        Profile, as in :func:`lowpass`.
    order : float
        Butterworth order ``n``.

    Returns
    -------
    mask : ndarray, shape (H, W)
        Real, in ``[0, 1]``, centred; zero at DC.

    Notes
    -----
    Ideal: ``|f| > f_c``; Gaussian: ``1 - exp(-|f|²/2f_c²)``; Butterworth:
    ``1 / (1 + (f_c/|f|)^{2n})`` (Gonzalez & Woods, §4.9).

    Examples
    --------
    >>> highpass(5, 0.2)[2]
    array([1., 0., 0., 0., 1.])
    """
    return 1.0 - _lowpass_profile("highpass", _radius_grid("highpass", shape), cutoff, kind,
                                  order)


def bandpass(shape, low, high, kind="ideal", order=2):
    """Centred band-pass mask: ``highpass(low) · lowpass(high)``.

    Parameters
    ----------
    shape : int or (int, int)
        ``(H, W)`` of the images to filter.
    low, high : float
        Band edges in cycles/pixel, ``0 < low < high``.
    kind : {'ideal', 'gaussian', 'butterworth'}
        Profile, as in :func:`lowpass`.
    order : float
        Butterworth order ``n``.

    Returns
    -------
    mask : ndarray, shape (H, W)
        Real, in ``[0, 1]``, centred. For ``'ideal'``: 1 where ``low < |f| <= high``.

    Notes
    -----
    The product of a high-pass at ``low`` and a low-pass at ``high``; for the
    ideal kind it equals the difference ``lowpass(high) - lowpass(low)``.

    Examples
    --------
    >>> bandpass(5, 0.1, 0.3)[2]
    array([0., 1., 0., 1., 0.])
    """
    low = positive("bandpass", "low", low)
    high = positive("bandpass", "high", high)
    if high <= low:
        raise bad_value("bandpass", "high", high, f"a frequency above low={low}")
    radius = _radius_grid("bandpass", shape)
    return ((1.0 - _lowpass_profile("bandpass", radius, low, kind, order))
            * _lowpass_profile("bandpass", radius, high, kind, order))


def _image_and_mask(func, image, mask):
    image = as_array(func, "image", image, min_ndim=2, layout="(..., H, W)", finite=True)
    mask = as_array(func, "mask", mask, ndim=2, layout="(H, W)", finite=True)
    if mask.shape != image.shape[-2:]:
        raise bad_value(func, "mask", mask,
                        f"of the images' shape (H, W) = {image.shape[-2:]}")
    return image, mask


def apply_frequency_mask(image, mask):
    """Filter images by multiplying their spectrum with a centred mask.

    Parameters
    ----------
    image : array_like, shape (..., H, W)
        One image or a stack.
    mask : array_like, shape (H, W)
        Real frequency response in the centred layout, such as
        :func:`lowpass`, :func:`highpass` or :func:`bandpass` return.

    Returns
    -------
    filtered : ndarray, shape (..., H, W)
        Real; float32 only if both inputs are float32.

    Notes
    -----
    ``y = Re IDFT( DFT(x) · M )`` with ``M = ifftshift(mask)``. By the
    convolution theorem this is the *circular* convolution of ``x`` with the
    mask's inverse transform (:func:`mask_kernel`), which
    ``circular_convolve(image, mask_kernel(mask))`` computes in the spatial
    domain. Taking the real part amounts to using the symmetrized mask
    ``(M(f) + M(-f)) / 2``; the radial masks of this module are already
    symmetric on the DFT grid.

    Examples
    --------
    >>> from analysis.images import stripes
    >>> fine = stripes(32, angle=0, wavelength=32 / 12)    # 0.375 cycles/pixel
    >>> coarse = stripes(32, angle=90, wavelength=8)       # 0.125 cycles/pixel
    >>> kept = apply_frequency_mask(fine + coarse, lowpass(32, 0.25))
    >>> bool(np.allclose(kept, coarse))
    True
    """
    image, mask = _image_and_mask("apply_frequency_mask", image, mask)
    dtype = np.result_type(image, mask)
    spectrum = scipy.fft.fft2(image) * scipy.fft.ifftshift(mask).astype(dtype)
    return scipy.fft.ifft2(spectrum).real.astype(dtype, copy=False)


def mask_kernel(mask):
    """The spatial kernel of a centred frequency mask: its inverse DFT, centred.

    Parameters
    ----------
    mask : array_like, shape (H, W)
        Real frequency response in the centred layout.

    Returns
    -------
    kernel : ndarray, shape (H, W)
        ``fftshift(Re IDFT(ifftshift(mask)))``: the tap for offset ``(0, 0)`` sits
        at ``(H // 2, W // 2)``, the centre-tap convention of
        :func:`circular_convolve` and :func:`filter_spectrum`, so
        ``filter_spectrum(mask_kernel(mask)).transform`` returns the
        (symmetrized) mask.

    Notes
    -----
    Convolution theorem on the torus: ``IDFT(X · M) = x ⊛ IDFT(M)`` (Oppenheim &
    Schafer, *Discrete-Time Signal Processing*, 3rd ed., §8.6.5). The ideal
    low-pass mask's kernel is a discretized jinc, whose ringing explains the
    ripples an ideal filter adds next to edges.

    Examples
    --------
    >>> k = mask_kernel(lowpass(16, 0.2, kind="gaussian"))
    >>> round(float(k.sum()), 12), np.unravel_index(k.argmax(), k.shape)
    (1.0, (np.int64(8), np.int64(8)))
    """
    mask = as_array("mask_kernel", "mask", mask, ndim=2, layout="(H, W)", finite=True)
    kernel = scipy.fft.ifft2(scipy.fft.ifftshift(mask)).real
    return scipy.fft.fftshift(kernel).astype(mask.dtype, copy=False)


def circular_convolve(image, kernel, method="auto"):
    """Convolution on the torus (periodic boundaries), computed with ``fftconv.convolve``.

    Parameters
    ----------
    image : array_like, shape (..., H, W)
        One image or a stack, periodic in both axes.
    kernel : array_like, shape (kh, kw)
        Any size; taps farther than the image wrap around. Its centre tap
        ``(kh // 2, kw // 2)`` is the origin.
    method : {'auto', 'direct', 'fft'}
        Passed to :func:`fftconv.convolve`.

    Returns
    -------
    out : ndarray, shape (..., H, W)
        ``out[i, j] = Σ_{p,q} k[p, q] · x[(i - p + kh//2) mod H, (j - q + kw//2) mod W]``.

    Notes
    -----
    The image is padded periodically (``kh - 1 - kh//2`` rows before,
    ``kh//2`` after; likewise columns) and convolved in ``'valid'`` mode, which
    leaves exactly the ``H × W`` circular result. This is the convolution that
    the DFT diagonalizes, so masking a spectrum equals circular convolution with
    the mask's kernel, and repeated circular convolution is a power of the
    kernel's spectrum (:func:`analysis.diffusion.diffuse`).

    Examples
    --------
    >>> x = np.zeros((4, 4)); x[0, 0] = 1.0
    >>> circular_convolve(x, np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]]))[0]
    array([0., 1., 0., 0.])
    >>> circular_convolve(x, np.array([[1.0, 0.0, 0.0]]))[0]    # wraps to the last column
    array([0., 0., 0., 1.])
    """
    image = as_array("circular_convolve", "image", image, min_ndim=2,
                     layout="(..., H, W)", finite=True)
    kernel = as_array("circular_convolve", "kernel", kernel, ndim=2,
                      layout="(kh, kw)", finite=True)
    kh, kw = kernel.shape
    pad = [(0, 0)] * (image.ndim - 2) + [(kh - 1 - kh // 2, kh // 2),
                                          (kw - 1 - kw // 2, kw // 2)]
    padded = np.pad(image, pad, mode="wrap")
    k = kernel.reshape((1,) * (image.ndim - 2) + kernel.shape)
    return fftconv.convolve(padded, k, mode="valid", axes=(-2, -1), method=method)
