"""Tapers for the analyses: one meaning per window name, from ``scipy.signal.get_window``.

:func:`separable_window` is the only place a window name becomes numbers, so
``window='hann'`` means the same taper in :func:`analysis.spectrum.image_spectrum`
and :func:`analysis.phase.phase_correlate`.

The windows are **periodic** (``scipy.signal.get_window(..., fftbins=True)``, its
default): the length-``n`` periodic Hann window is the symmetric one of length
``n + 1`` without its last sample. Both analyses feed the tapered image to a DFT,
which treats the image as one period of a periodic signal; the periodic window is
the one whose DFT is exact on that grid (for Hann three non-zero bins,
``n/2 · (1/2, 1, 1/2)`` up to sign), so its leakage is the textbook one (F. J.
Harris, "On the use of windows for harmonic analysis with the discrete Fourier
transform", Proc. IEEE 66(1), 1978). A symmetric window is the choice for filter
design, not for spectral analysis.
"""

from __future__ import annotations

import numpy as np
import scipy.signal

from fftconv.checks import choice, int_tuple

__all__ = ["WINDOWS", "separable_window"]

WINDOWS = ("hann",)
"""The window names the analyses accept."""


def separable_window(func: str, param: str, name: str, shape, dtype=np.float64) -> np.ndarray:
    """N-d taper ``h[i0, i1, ...] = h0[i0] · h1[i1] · ...`` of the named periodic window.

    Parameters
    ----------
    func, param : str
        The public function and its parameter, quoted in error messages.
    name : str
        One of :data:`WINDOWS`.
    shape : tuple of int
        The shape of the arrays to taper (each axis >= 1).
    dtype : dtype
        Dtype of the result.

    Returns
    -------
    ndarray, shape ``shape``
        The outer product of ``scipy.signal.get_window(name, n)`` over the axes
        (periodic windows, see the module notes).

    See Also
    --------
    scipy.signal.get_window : the 1-D window of each axis (``fftbins=True``:
        periodic).

    Examples
    --------
    >>> separable_window("f", "window", "hann", (4,))
    array([0. , 0.5, 1. , 0.5])
    >>> separable_window("f", "window", "hann", (4, 2))[1]
    array([0. , 0.5])
    """
    name = choice(func, param, name, WINDOWS)
    shape = int_tuple(func, "shape", tuple(shape), len(shape))
    window = np.ones(shape, dtype=np.float64)
    for axis, n in enumerate(shape):
        profile = scipy.signal.get_window(name, n)
        window *= profile.reshape((-1,) + (1,) * (len(shape) - axis - 1))
    return window.astype(dtype, copy=False)
