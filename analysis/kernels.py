"""Named 2-D kernels: sobel, laplacian, gaussian, gabor, box and sharpen.

Every kernel is returned in the form a ``conv2d`` weight takes: an odd-sized
float64 array whose centre tap ``(kh // 2, kw // 2)`` is the origin, applied as a
cross-correlation (``fftconv.conv2d``). Angles are in degrees, measured
counter-clockwise from the +x axis (to the right) as an image is displayed, that
is with the y axis pointing *up* (row indices grow downwards).

:func:`named_kernel` builds a kernel from text such as ``'gabor:theta=30,wavelength=6'``
(the form the ``fftconv spectrum`` and ``fftconv diffuse`` commands accept) and
:func:`stack_kernels` centres kernels of different sizes in one ``(F, k, k)`` stack.
"""

from __future__ import annotations

import inspect
import math

import numpy as np

from fftconv.errors import bad_type, bad_value

from fftconv.checks import as_array, choice, integer, positive, real

__all__ = ["sobel", "laplacian", "gaussian", "gabor", "box", "sharpen", "NAMED_KERNELS",
           "named_kernel", "stack_kernels"]


def _odd_size(func: str, size) -> int:
    size = integer(func, "size", size, minimum=1)
    if size % 2 == 0:
        raise bad_value(func, "size", size, "an odd int >= 1")
    return size


def _offsets(size: int):
    """Column offsets ``x`` (to the right) and upward offsets ``y`` of a size×size grid."""
    r = np.arange(size) - size // 2
    return r[None, :].astype(np.float64), -r[:, None].astype(np.float64)


def sobel(direction="x"):
    """Sobel derivative kernel (Sobel & Feldman 1968).

    Parameters
    ----------
    direction : {'x', 'y'}
        ``'x'``: the derivative along columns (left to right), responding to
        vertical edges; ``'y'``: along rows (top to bottom), responding to
        horizontal edges.

    Returns
    -------
    kernel : ndarray, shape (3, 3)

    See Also
    --------
    scipy.ndimage.sobel : filters an image with this kernel (``axis=1`` for
        ``'x'``, ``axis=0`` for ``'y'``; scipy correlates, as ``fftconv.conv2d`` does).
    skimage.filters.sobel : the edge magnitude from both directions.

    Notes
    -----
    The kernel is the outer product of the smoothing ``[1, 2, 1]`` and the central
    difference ``[-1, 0, 1]``; as a cross-correlation it returns
    ``x[i, j+1] - x[i, j-1]`` smoothed over three rows. Its frequency response is
    ``2i·sin(2πf_x)·(2 + 2cos(2πf_y))``: zero at DC and at the Nyquist frequency of
    the derivative axis, so it is a band-pass filter oriented along that axis.

    References: I. Sobel and G. Feldman, "A 3×3 isotropic gradient operator for
    image processing" (1968); R. C. Gonzalez and R. E. Woods, *Digital Image
    Processing*, 4th ed., §10.2.

    Examples
    --------
    >>> sobel("x")
    array([[-1.,  0.,  1.],
           [-2.,  0.,  2.],
           [-1.,  0.,  1.]])
    """
    direction = choice("sobel", "direction", direction, ("x", "y"))
    k = np.outer([1.0, 2.0, 1.0], [-1.0, 0.0, 1.0])
    return k if direction == "x" else k.T.copy()


def laplacian(neighbours=8):
    """Discrete Laplacian edge detector with a positive centre, ``-∇²``.

    Parameters
    ----------
    neighbours : {4, 8}
        4: ``[[0,-1,0],[-1,4,-1],[0,-1,0]]``; 8: every neighbour ``-1`` and the
        centre ``8`` (the edge detector of Dettmers 2015).

    Returns
    -------
    kernel : ndarray, shape (3, 3)
        Sums to 0: a constant image gives zero response.

    See Also
    --------
    scipy.ndimage.laplace : filters with ``∇²``, the negative of ``laplacian(4)``.
    skimage.filters.laplace : filters with ``laplacian(4)`` (``ksize=3``).

    Notes
    -----
    The 4-neighbour kernel is the five-point stencil of ``-∇²``; the 8-neighbour
    kernel adds the diagonals. The sign (positive centre) is the one used as an
    edge detector in image processing; ``∇²`` itself is its negative. The
    frequency response of the 4-neighbour kernel is
    ``4 - 2cos(2πf_x) - 2cos(2πf_y)``, rising from 0 at DC to 8 at the corner
    frequency: a high-pass filter.

    Reference: R. C. Gonzalez and R. E. Woods, *Digital Image Processing*, 4th ed.,
    §3.6.

    Examples
    --------
    >>> laplacian(4)
    array([[ 0., -1.,  0.],
           [-1.,  4., -1.],
           [ 0., -1.,  0.]])
    """
    if neighbours not in (4, 8) or isinstance(neighbours, bool):
        raise bad_value("laplacian", "neighbours", neighbours, "4 or 8")
    if neighbours == 4:
        return np.array([[0.0, -1.0, 0.0], [-1.0, 4.0, -1.0], [0.0, -1.0, 0.0]])
    k = -np.ones((3, 3))
    k[1, 1] = 8.0
    return k


def gaussian(size=5, sigma=1.0):
    """Sampled Gaussian blur kernel, normalized to sum 1.

    Parameters
    ----------
    size : int
        Odd side length.
    sigma : float
        Standard deviation in pixels, ``> 0``.

    Returns
    -------
    kernel : ndarray, shape (size, size)
        ``exp(-(x² + y²) / 2σ²) / Σ exp(-(x² + y²) / 2σ²)`` over the integer
        offsets ``|x|, |y| <= size // 2``.

    See Also
    --------
    scipy.ndimage.gaussian_filter : the same blur of an image;
        ``gaussian(size, sigma)`` is its kernel for ``truncate = (size // 2) / sigma``.
    skimage.filters.gaussian : scikit-image's Gaussian blur.

    Notes
    -----
    A low-pass filter: its frequency response is close to
    ``exp(-2π²σ²|f|²)`` when ``size`` covers several ``σ``. For the exact
    discrete analogue of the Gaussian (the heat kernel on the pixel grid) see
    :func:`analysis.diffusion.heat_kernel`.

    Examples
    --------
    >>> k = gaussian(3, 1.0)
    >>> round(float(k.sum()), 12), bool(k[1, 1] > k[0, 1] > k[0, 0])
    (1.0, True)
    """
    size = _odd_size("gaussian", size)
    sigma = positive("gaussian", "sigma", sigma)
    x, y = _offsets(size)
    k = np.exp(-(x ** 2 + y ** 2) / (2 * sigma ** 2))
    return k / k.sum()


def gabor(size=11, wavelength=4.0, theta=0.0, sigma=None, phase=0.0, aspect=1.0):
    """Gabor kernel: a cosine wave under a Gaussian envelope.

    Parameters
    ----------
    size : int
        Odd side length.
    wavelength : float
        Period of the wave in pixels, ``>= 2`` (the Nyquist limit).
    theta : float
        Direction of the wave vector in degrees (counter-clockwise from +x with y
        up): the stripes run perpendicular to it, and the magnitude spectrum
        peaks at ``±(cos θ, sin θ) / wavelength``.
    sigma : float, optional
        Standard deviation of the envelope along the wave vector, in pixels.
        Default ``0.56 · wavelength`` (a one-octave bandwidth).
    phase : float
        Phase offset of the wave in degrees (0: even, cosine; 90: odd, sine).
    aspect : float
        Spatial aspect ratio ``γ``: the envelope's standard deviation across the
        wave vector is ``sigma / γ``.

    Returns
    -------
    kernel : ndarray, shape (size, size)
        ``exp(-(u² + γ²v²) / 2σ²) · cos(2πu / λ + φ)`` with
        ``u = x cos θ + y sin θ`` and ``v = -x sin θ + y cos θ``.

    See Also
    --------
    skimage.filters.gabor_kernel : scikit-image's complex Gabor kernel
        (parametrized by ``frequency = 1 / wavelength``, ``sigma_x``, ``sigma_y``).

    Notes
    -----
    Gabor filters are the classical model of simple cells in the visual cortex
    and resemble the first-layer filters that CNNs learn. The one-octave
    default follows ``σ/λ = (1/π)·sqrt(ln 2 / 2)·(2^b + 1)/(2^b - 1)`` with
    ``b = 1``.

    References: J. G. Daugman, "Uncertainty relation for resolution in space,
    spatial frequency, and orientation optimized by two-dimensional visual
    cortical filters", JOSA A 2(7), 1985; N. Petkov, "Biologically motivated
    computationally intensive approaches to image pattern recognition", 1995.

    Examples
    --------
    >>> k = gabor(size=7, wavelength=4.0, theta=0.0)
    >>> k.shape, bool(np.allclose(k, k[::-1]))
    ((7, 7), True)
    """
    size = _odd_size("gabor", size)
    wavelength = positive("gabor", "wavelength", wavelength)
    if wavelength < 2:
        raise bad_value("gabor", "wavelength", wavelength, "a wavelength >= 2 pixels")
    if sigma is None:
        sigma = wavelength / math.pi * math.sqrt(math.log(2) / 2) * 3.0
    sigma = positive("gabor", "sigma", sigma)
    aspect = positive("gabor", "aspect", aspect)
    theta, phase = (real("gabor", name, value, "a finite real number of degrees")
                    for name, value in (("theta", theta), ("phase", phase)))
    t, ph = math.radians(theta), math.radians(phase)
    x, y = _offsets(size)
    u = x * math.cos(t) + y * math.sin(t)
    v = -x * math.sin(t) + y * math.cos(t)
    return np.exp(-(u ** 2 + (aspect * v) ** 2) / (2 * sigma ** 2)) * np.cos(
        2 * math.pi * u / wavelength + ph)


def box(size=3):
    """Box (mean) filter: every tap ``1 / size²``.

    Parameters
    ----------
    size : int
        Odd side length.

    Returns
    -------
    kernel : ndarray, shape (size, size)

    See Also
    --------
    scipy.ndimage.uniform_filter : the same mean filter of an image (``size``).

    Notes
    -----
    The normalized moving average of Dettmers's first example. Its frequency
    response is the Dirichlet kernel
    ``sin(πnf_x) sin(πnf_y) / (n² sin(πf_x) sin(πf_y))``: a low-pass filter with
    side lobes (and exact zeros at multiples of ``1/n``).

    Examples
    --------
    >>> box(3)[0]
    array([0.11111111, 0.11111111, 0.11111111])
    """
    size = _odd_size("box", size)
    return np.full((size, size), 1.0 / size ** 2)


def sharpen(amount=1.0):
    """Unsharp-style sharpening: identity plus ``amount`` times the 4-neighbour ``-∇²``.

    Parameters
    ----------
    amount : float
        Strength, ``>= 0`` (0 is the identity).

    Returns
    -------
    kernel : ndarray, shape (3, 3)
        ``δ + amount · laplacian(4)``; ``amount=1`` is the classic
        ``[[0,-1,0],[-1,5,-1],[0,-1,0]]``.

    Notes
    -----
    Frequency response ``1 + amount·(4 - 2cos 2πf_x - 2cos 2πf_y)``: gain 1 at
    DC rising to ``1 + 8·amount`` at the corner frequency (a high-boost filter).
    Reference: Gonzalez & Woods, *Digital Image Processing*, 4th ed., §3.6.

    Examples
    --------
    >>> sharpen()
    array([[ 0., -1.,  0.],
           [-1.,  5., -1.],
           [ 0., -1.,  0.]])
    """
    amount = positive("sharpen", "amount", amount, allow_zero=True)
    k = amount * laplacian(4)
    k[1, 1] += 1.0
    return k


#: The named kernels, by the name ``named_kernel`` and the CLI accept.
NAMED_KERNELS = {"sobel": sobel, "laplacian": laplacian, "gaussian": gaussian,
                 "gabor": gabor, "box": box, "sharpen": sharpen}


def _parse_value(text: str):
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return text


def named_kernel(text):
    """Build a named kernel from text ``'NAME'`` or ``'NAME:key=value,key=value'``.

    Parameters
    ----------
    text : str
        A name from :data:`NAMED_KERNELS` and optionally its keyword arguments;
        values are read as int, then float, else kept as text.

    Returns
    -------
    kernel : ndarray, shape (kh, kw)

    Raises
    ------
    ValueError
        Unknown name, malformed text, or a parameter the kernel does not take
        (the message lists the ones it does).

    Examples
    --------
    >>> named_kernel("box:size=3").shape
    (3, 3)
    >>> named_kernel("gabor:theta=45,wavelength=6,size=9").shape
    (9, 9)
    """
    if not isinstance(text, str):
        raise bad_type("named_kernel", "text", text, "a str")
    name, _, rest = text.partition(":")
    name = name.strip().lower()
    if name not in NAMED_KERNELS:
        raise bad_value("named_kernel", "text", text,
                        "a kernel name among " + ", ".join(NAMED_KERNELS) +
                        " (optionally followed by ':key=value,...')")
    factory = NAMED_KERNELS[name]
    params = list(inspect.signature(factory).parameters)
    kwargs = {}
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq or key not in params:
            raise bad_value("named_kernel", "text", text,
                            f"'{name}' with parameters among {', '.join(params) or 'none'} "
                            "written as key=value")
        kwargs[key] = _parse_value(value.strip())
    return factory(**kwargs)


def stack_kernels(kernels):
    """Stack 2-D kernels of different sizes, centred in a common ``(F, k, k)`` array.

    Parameters
    ----------
    kernels : sequence of array_like, each of shape (kh_i, kw_i)
        Two-dimensional kernels, in any sizes.

    Returns
    -------
    stack : ndarray, shape (F, k, k)
        ``k`` is the largest side, made odd; each kernel's centre tap
        ``(kh_i // 2, kw_i // 2)`` lands on the common centre ``(k // 2, k // 2)``
        and the rest is zero, so each kernel's magnitude spectrum (and, about the
        centre, its phase) is unchanged.

    Examples
    --------
    >>> stack_kernels([box(3), gaussian(5)]).shape
    (2, 5, 5)
    """
    if isinstance(kernels, np.ndarray) or not hasattr(kernels, "__len__") or not kernels:
        raise bad_type("stack_kernels", "kernels", kernels,
                       "a non-empty sequence of 2-d array_likes")
    arrays = [as_array("stack_kernels", f"kernels[{i}]", k, ndim=2, layout="(kh, kw)", finite=True)
              for i, k in enumerate(kernels)]
    side = max(max(a.shape) for a in arrays)
    side += 1 - side % 2
    out = np.zeros((len(arrays), side, side), dtype=np.result_type(*arrays))
    for dst, a in zip(out, arrays):
        top, left = side // 2 - a.shape[0] // 2, side // 2 - a.shape[1] // 2
        dst[top:top + a.shape[0], left:left + a.shape[1]] = a
    return out
