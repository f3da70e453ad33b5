"""Learning in the frequency domain: the two studies of Rippel, Snoek & Adams (2015).

* :func:`pooling_information` — at equal output size, how much of a map does
  each pooling keep? Pool, reconstruct at the original size, and measure the
  relative error ``‖x − R(pool(x))‖ / ‖x‖`` (their §3 and Figure 3).
* :func:`parametrization_study` — does storing filters as their DFT make the
  same optimizer converge faster (their §4)? Train the same network with
  :class:`fftconv.nn.Conv2d` and :class:`fftconv.nn.SpectralConv2d` from the same
  seeds, over a small learning-rate grid, and keep the loss curves.

Reconstructions (each pooling's least-squares inverse on its own terms):

* spectral pooling → Fourier interpolation (the retained ``h × w`` frequencies,
  zero-padded: ``scipy.signal.resample`` back up), the least-squares signal
  with those low frequencies;
* average pooling → each block filled with its mean (the least-squares
  piecewise-constant signal with those block means);
* max pooling → each block filled with its maximum (nothing better is known
  from the maxima alone).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.signal

from fftconv import nn
from fftconv.checks import as_array, is_int
from fftconv.errors import bad_type, bad_value
from fftconv.optional import require
from fftconv.spectral import spectral_pool

__all__ = ["POOLINGS", "photo_patches", "pool_and_reconstruct", "pooling_information", "PoolingCurve",
           "parametrization_study", "ParametrizationRun"]

#: The poolings :func:`pooling_information` compares.
POOLINGS = ("spectral", "max", "average")


def photo_patches(side=48):
    """Non-overlapping ``side × side`` patches of eight photographs scikit-image ships.

    The natural images of the information study: camera, astronaut, coins,
    moon, coffee, brick, grass and gravel (colour ones converted to grey), cut
    into a grid of patches from the top-left corner (a partial last row or
    column is left out).

    Parameters
    ----------
    side : int >= 1

    Returns
    -------
    ndarray, shape (M, side, side), float64
        Grey levels as scikit-image returns them (0–255 for the uint8 images,
        0–1 for the converted colour ones); :func:`pooling_information` removes
        each patch's mean, and its errors are relative, so the scale does not
        matter.

    Raises
    ------
    ImportError
        Without scikit-image (the ``bench`` extra).

    Examples
    --------
    >>> photo_patches(48).shape
    (744, 48, 48)
    """
    func = "photo_patches"
    if not is_int(side) or side < 1:
        raise bad_value(func, "side", side, "an int >= 1")
    data = require("skimage.data", "bench", func)
    grey = require("skimage.color", "bench", func).rgb2gray
    photos = [data.camera(), grey(data.astronaut()), data.coins(), data.moon(),
              grey(data.coffee()), data.brick(), data.grass(), data.gravel()]
    return np.array([np.asarray(p, float)[i:i + side, j:j + side] for p in photos
                     for i in range(0, p.shape[0] - side + 1, side)
                     for j in range(0, p.shape[1] - side + 1, side)])


def _blocks(x: np.ndarray, s: int) -> np.ndarray:
    """``x`` of shape (..., H, W) with H, W multiples of s as (..., H/s, W/s, s·s)."""
    *lead, H, W = x.shape
    b = x.reshape(*lead, H // s, s, W // s, s)
    return np.moveaxis(b, -3, -2).reshape(*lead, H // s, W // s, s * s)


def pool_and_reconstruct(x, factor, method):
    """Pool ``x`` by an integer ``factor`` with ``method`` and reconstruct it at full size.

    Parameters
    ----------
    x : array_like, shape (..., H, W)
        ``H`` and ``W`` multiples of ``factor``.
    factor : int >= 1
    method : {'spectral', 'max', 'average'}

    Returns
    -------
    pooled : ndarray, shape (..., H / factor, W / factor)
    reconstruction : ndarray, shape (..., H, W)
        See the module notes for each method's reconstruction.
    """
    func = "pool_and_reconstruct"
    x = as_array(func, "x", x).astype(np.float64)
    if x.ndim < 2:
        raise bad_value(func, "x", x, "an array of maps, shape (..., H, W)")
    if not is_int(factor) or factor < 1:
        raise bad_value(func, "factor", factor, "an int >= 1")
    H, W = x.shape[-2:]
    if H % factor or W % factor:
        raise bad_value(func, "factor", factor,
                        f"a divisor of both map sides {H} and {W}")
    if method not in POOLINGS:
        raise bad_value(func, "method", method, f"one of {', '.join(map(repr, POOLINGS))}")
    h, w = H // factor, W // factor
    if method == "spectral":
        pooled = spectral_pool(x, (h, w))
        up = scipy.signal.resample(scipy.signal.resample(pooled, H, axis=-2), W, axis=-1)
        return pooled, up
    blocks = _blocks(x, factor)
    pooled = blocks.max(axis=-1) if method == "max" else blocks.mean(axis=-1)
    return pooled, np.repeat(np.repeat(pooled, factor, axis=-2), factor, axis=-1)


@dataclass(frozen=True)
class PoolingCurve:
    """Reconstruction error of one pooling over output sizes.

    Attributes
    ----------
    method : str
    factors : tuple of int
        Downsampling factors (output side = input side / factor).
    mean, std : ndarray, shape (len(factors),)
        Mean and standard deviation over the maps of the relative error
        ``‖x − R(pool(x))‖ / ‖x‖``.
    """

    method: str
    factors: tuple
    mean: np.ndarray
    std: np.ndarray


def pooling_information(maps, factors, methods=POOLINGS):
    """Relative reconstruction error of each pooling, at each output size.

    Parameters
    ----------
    maps : array_like, shape (M, H, W)
        The maps (digits, image patches). Each map and each reconstruction is
        centred on its own mean, so the error measures structure, not brightness:
        ``‖(x − x̄) − (R − R̄)‖ / ‖x − x̄‖``.
    factors : sequence of int
        Downsampling factors, each dividing ``H`` and ``W`` (2 … 8 for the
        issue's 1/2 … 1/8).
    methods : sequence of str
        Among :data:`POOLINGS`.

    Returns
    -------
    dict of str to PoolingCurve

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(16) / 16
    >>> smooth = np.cos(2 * np.pi * t)[None, :, None] * np.cos(2 * np.pi * t)[None, None, :]
    >>> curves = pooling_information(smooth, [2, 4])
    >>> float(curves["spectral"].mean[0]) < 1e-12 < float(curves["average"].mean[0])
    True
    """
    func = "pooling_information"
    maps = as_array(func, "maps", maps).astype(np.float64)
    if maps.ndim != 3:
        raise bad_value(func, "maps", maps, "an array of maps, shape (M, H, W)")
    if not isinstance(factors, (list, tuple)) or not factors:
        raise bad_type(func, "factors", factors, "a non-empty sequence of ints")
    maps = maps - maps.mean(axis=(-2, -1), keepdims=True)
    norms = np.linalg.norm(maps, axis=(-2, -1))
    keep = norms > 0
    if not keep.any():
        raise bad_value(func, "maps", maps, "maps that are not all constant")
    maps, norms = maps[keep], norms[keep]
    curves = {}
    for method in methods:
        errors = []
        for f in factors:
            up = pool_and_reconstruct(maps, f, method)[1]
            # Brightness is not structure: the reconstruction's mean is removed too
            # (spectral and average pooling keep the mean exactly; max pooling
            # would otherwise be charged for the offset of its maxima).
            up = up - up.mean(axis=(-2, -1), keepdims=True)
            errors.append(np.linalg.norm(maps - up, axis=(-2, -1)) / norms)
        errors = np.array(errors)
        curves[method] = PoolingCurve(method, tuple(int(f) for f in factors),
                                      errors.mean(axis=1), errors.std(axis=1))
    return curves


@dataclass
class ParametrizationRun:
    """One training run of :func:`parametrization_study`.

    Attributes
    ----------
    parametrization : {'spatial', 'spectral'}
    lr : float
    seed : int
    batch_loss : list of float
        Training loss of every step.
    val_accuracy : list of float
        Validation accuracy after each epoch.
    seconds : float
        Training time (all epochs).
    """

    parametrization: str
    lr: float
    seed: int
    batch_loss: list = field(default_factory=list)
    val_accuracy: list = field(default_factory=list)
    seconds: float = 0.0

    def final_loss(self, window: int = 20) -> float:
        """Mean training loss of the last ``window`` steps."""
        return float(np.mean(self.batch_loss[-window:]))


def parametrization_study(x, y, validation, *, seeds=(0, 1, 2), learning_rates=(1e-3, 3e-3),
                          epochs=3, batch_size=32, optimizer="adam", model="lenet5_modern",
                          parametrizations=("spatial", "spectral"), dtype="float32",
                          on_run=None):
    """Train one network both ways, from the same seeds, over a learning-rate grid.

    Parameters
    ----------
    x : ndarray, shape (N, 1, 32, 32)
    y : ndarray of int, shape (N,)
    validation : (ndarray, ndarray)
        Held-out ``(x, y)`` for the accuracy after each epoch.
    seeds : sequence of int
        Each seed draws the same initial filters for both parametrizations
        (:class:`~fftconv.nn.SpectralConv2d` stores the DFT of the filters
        :class:`~fftconv.nn.Conv2d` would draw) and the same minibatch order.
    learning_rates : sequence of float
        The grid searched for each parametrization separately.
    epochs, batch_size : int
    optimizer : {'adam', 'sgd'}
        SGD uses momentum 0.9.
    model : {'lenet5', 'lenet5_modern'}
    parametrizations : sequence of str
    dtype : {'float32', 'float64'}
    on_run : callable, optional
        Called with each finished :class:`ParametrizationRun` (progress).

    Returns
    -------
    list of ParametrizationRun
        One per (parametrization, learning rate, seed). Choose each
        parametrization's best rate by its mean :meth:`~ParametrizationRun.final_loss`
        over the seeds, then compare curves at those rates.
    """
    func = "parametrization_study"
    if optimizer not in ("adam", "sgd"):
        raise bad_value(func, "optimizer", optimizer, "'adam' or 'sgd'")
    runs = []
    for parametrization in parametrizations:
        for lr in learning_rates:
            for seed in seeds:
                net = nn.build_model(model, seed=seed, dtype=dtype,
                                     parametrization=parametrization)
                opt = (nn.Adam(net, lr=lr) if optimizer == "adam"
                       else nn.SGD(net, lr=lr, momentum=0.9))
                history = nn.fit(net, x, y, epochs=epochs, batch_size=batch_size, seed=seed,
                                 optimizer=opt, validation_data=validation, progress=False)
                run = ParametrizationRun(parametrization, float(lr), int(seed),
                                         list(history.batch_loss),
                                         list(history.val_accuracy), float(sum(history.seconds)))
                runs.append(run)
                if on_run is not None:
                    on_run(run)
    return runs
