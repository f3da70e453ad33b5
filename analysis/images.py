"""Synthetic test images: oriented stripes and a small test card.

Angles follow :mod:`analysis.kernels`: degrees counter-clockwise from the +x axis
with the y axis pointing up as the image is displayed.
"""

from __future__ import annotations

import math

import numpy as np

from fftconv.checks import integer, positive, real, size_pair

__all__ = ["stripes", "demo_image"]


def stripes(shape, angle, wavelength, phase=0.0):
    """A cosine stripe pattern whose wave vector points at ``angle`` degrees.

    Parameters
    ----------
    shape : int or (int, int)
        ``(H, W)`` (an int means square).
    angle : float
        Direction of the wave vector (across the stripes) in degrees; the
        stripes themselves run at ``angle + 90``.
    wavelength : float
        Period in pixels, ``> 0``.
    phase : float
        Phase offset in degrees.

    Returns
    -------
    image : ndarray, shape (H, W)
        ``cos(2π (x cos θ + y sin θ) / λ + φ)`` with ``x`` the column and ``y``
        the upward row coordinate, in ``[-1, 1]``.

    Notes
    -----
    The spectrum of this image is a pair of peaks at ``±(cos θ, sin θ)/λ``
    cycles/pixel (Dettmers 2015: the Fourier transform shows an image's orientation).

    Examples
    --------
    >>> img = stripes((4, 4), angle=0, wavelength=4)
    >>> np.round(img[0], 6)
    array([ 1.,  0., -1., -0.])
    """
    h, w = size_pair("stripes", "shape", shape)
    wavelength = positive("stripes", "wavelength", wavelength)
    angle, phase = (real("stripes", name, value, "a finite real number of degrees")
                    for name, value in (("angle", angle), ("phase", phase)))
    t = math.radians(angle)
    x = np.arange(w, dtype=np.float64)[None, :]
    y = -np.arange(h, dtype=np.float64)[:, None]
    return np.cos(2 * math.pi * (x * math.cos(t) + y * math.sin(t)) / wavelength
                  + math.radians(phase))


def demo_image(size=64):
    """A small grey-level test card: a bright square, a dark disc, a bar and a point.

    Parameters
    ----------
    size : int
        Side length, ``>= 16``.

    Returns
    -------
    image : ndarray, shape (size, size)
        Values in ``[0, 1]`` on a mid-grey background of 0.5: sharp horizontal,
        vertical and curved edges, a thin diagonal bar and a single bright pixel,
        so blurring, diffusion and edge filters all show something.

    Examples
    --------
    >>> img = demo_image(32)
    >>> img.shape, float(img.min()), float(img.max())
    ((32, 32), 0.0, 1.0)
    """
    size = integer("demo_image", "size", size, minimum=16)
    img = np.full((size, size), 0.5)
    s = size / 32.0
    rows, cols = np.mgrid[0:size, 0:size].astype(np.float64)
    img[int(4 * s):int(14 * s), int(4 * s):int(14 * s)] = 1.0                # square
    disc = (rows - 22 * s) ** 2 + (cols - 10 * s) ** 2 <= (5 * s) ** 2
    img[disc] = 0.0                                                          # disc
    bar = (np.abs((rows - 20 * s) + (cols - 22 * s)) <= 0.75 * s) & \
          (np.abs(cols - 22 * s) <= 7 * s)
    img[bar] = 0.9                                                           # diagonal bar
    img[int(8 * s), int(24 * s)] = 1.0                                       # point
    return img
