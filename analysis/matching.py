"""Template matching by cross-correlation: the six OpenCV scores, masks, tiling.

:func:`match_template` slides a template over an image and scores every position
with one of OpenCV's six methods (``sqdiff``, ``sqdiff_normed``, ``ccorr``,
``ccorr_normed``, ``ccoeff``, ``ccoeff_normed``); ``ccoeff_normed`` is the normalized
cross-correlation of :func:`skimage.feature.match_template`, with its ``pad_input``
semantics. Peaks of a score map are found by :func:`analysis.peaks.find_peaks`, and
whole-image translations by :func:`analysis.phase.phase_correlate` (both re-exported
here).

How the scores are computed (Lewis 1995; Briechle & Hanebeck 2001; Padfield 2012)
------------------------------------------------------------------------------
Every unmasked score is rewritten in terms of **one** correlation and two window
sums. With ``T' = T − mean(T)`` (per channel) the correlation ``Σ T'·I`` of the image
with the zero-mean template is already the numerator of ``ccoeff``: a zero-mean
template cancels the window mean of the image. It is computed by the
library's tiled FFT correlation (:mod:`fftconv.overlap_save`) at the image's working
precision; this module is the score algebra on top of it.
The window sums ``Σ I`` and ``Σ I²`` come from running sums in **float64** of each
tile minus its mean, so the variance ``Σ I² − (Σ I)²/N`` of a window keeps its
digits. The other methods follow exactly::

    ccorr    = Σ T'·I + mean(T)·Σ I
    sqdiff   = Σ T'² + Σ (I − mean_w I)² − 2 Σ T'·I + N (mean(T) − mean_w I)²

which avoids the cancellation of the textbook ``Σ T² − 2 Σ T·I + Σ I²`` at good
matches. Masked scores (OpenCV's weighted definitions, which reduce to Padfield's
masked NCC for a binary mask) need a few more correlations, all computed in float64
on the image spectrum that is transformed once per tile.

Dask arrays (the ``dask`` extra)
--------------------------------
A dask image gets lazy scores, built on :func:`fftconv.dask.map_regions` (one task
per output block). The score at window corner ``p`` reads the image window
``[p, p + t)`` (``t`` the template's spatial shape), so an output block
``[o0, o1)`` is :func:`match_template` of the image region ``[o0, o1 + t − 1)``:
every window of the block, and each of its window sums (``Σ I``, ``Σ I²``, the
masked correlations), lies whole inside the region, so the sums are exact across
chunk boundaries, and each block is scored by the in-memory code. With
``pad_input`` the scene is padded lazily first (:func:`dask.array.pad`; the
``'median'`` mode, which dask lacks, line by line as :func:`numpy.pad` does).
"""

from __future__ import annotations

import logging
import math
import numbers
from dataclasses import dataclass

import numpy as np
import scipy.ndimage

from fftconv.checks import as_array, choice
from fftconv.errors import bad_type, bad_value
from fftconv.overlap_save import OverlapSave

from .peaks import Peaks, _dask_modules, _is_dask_array, find_peaks, match_boxes, to_xy
from .phase import PhaseCorrelation, phase_correlate

__all__ = ["METHODS", "NORMED_METHODS", "FLAT_POLICIES", "PAD_MODES", "MatchInfo",
           "match_template", "match_templates", "match_images", "find_peaks", "Peaks", "to_xy",
           "match_boxes", "phase_correlate", "PhaseCorrelation"]

log = logging.getLogger(__name__)

#: The six scores of ``cv2.matchTemplate`` (``TM_SQDIFF`` … ``TM_CCOEFF_NORMED``).
METHODS = ("sqdiff", "sqdiff_normed", "ccorr", "ccorr_normed", "ccoeff", "ccoeff_normed")
#: Methods whose score is a ratio that is undefined on flat windows or templates.
NORMED_METHODS = ("sqdiff_normed", "ccorr_normed", "ccoeff_normed")
#: What an undefined normalized score becomes (see :func:`match_template`).
FLAT_POLICIES = ("zero", "one", "nan")
#: ``numpy.pad`` modes accepted with ``pad_input=True``.
PAD_MODES = ("constant", "edge", "reflect", "symmetric", "wrap", "mean", "median",
             "maximum", "minimum")

_FUNC = "match_template"
_EPS64 = np.finfo(np.float64).eps
#: Window sums of squares below this many float64 roundings of their inputs are zero.
_FLAT_ROUNDINGS = 16.0


@dataclass
class MatchInfo:
    """What :func:`match_template` did (returned with ``return_info=True``).

    Attributes
    ----------
    method : str
    dtype : numpy.dtype
        Dtype of the score map.
    transform_shape : tuple of int
        FFT size of one tile (spatial axes).
    tiles : int
        Number of overlap-save tiles the image was cut into.
    chunks : int
        Number of bands of tile rows they were computed in (the unit of work
        the threads share, :class:`fftconv.overlap_save.OverlapSave`).
    flat_template : bool
        The template is flat (constant, or zero for ``ccorr_normed`` /
        ``sqdiff_normed``, under the mask): every normalized score is undefined.
    flat_windows : int
        Image windows whose normalized score is undefined (flat windows).
    clipped : int
        Scores outside their method's range that were clipped back into it:
        ``[-1, 1]`` for ``ccorr_normed`` / ``ccoeff_normed`` and ``>= 0`` for
        ``sqdiff`` (only rounding gets there), ``[0, 1]`` for ``sqdiff_normed``
        (OpenCV's range: it caps this score at 1, a mismatch that large has no
        further meaning).
    """

    method: str
    dtype: np.dtype
    transform_shape: tuple = ()
    tiles: int = 0
    chunks: int = 0
    flat_template: bool = False
    flat_windows: int = 0
    clipped: int = 0


# -- argument checks ---------------------------------------------------------------

def _working_dtype(image: np.ndarray) -> np.dtype:
    """float32 stays float32 (so do small ints and float16); everything else is float64."""
    if image.dtype in (np.float32, np.float16) or image.dtype.kind in "iub" \
            and image.dtype.itemsize <= 2:
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def _check_channel_axis(channel_axis, ndim: int):
    if channel_axis is None:
        return None
    if not isinstance(channel_axis, numbers.Integral) or isinstance(channel_axis, bool):
        raise bad_type(_FUNC, "channel_axis", channel_axis, "None or an int")
    if not -ndim <= channel_axis < ndim:
        raise bad_value(_FUNC, "channel_axis", channel_axis,
                        f"None or an axis of the image, in [-{ndim}, {ndim})")
    return int(channel_axis) % ndim


def _prepare(image, template, mask, channel_axis, pad_input, mode, constant_values):
    """Validated ``(image, template, mask)`` as ``(C, *spatial)`` arrays of the work dtype."""
    image = as_array(_FUNC, "image", image, integers="keep", bools=True, floats="any",
                     noun="a real numeric array_like")
    template = as_array(_FUNC, "template", template, integers="keep", bools=True, floats="any",
                        noun="a real numeric array_like")
    if template.ndim != image.ndim:
        raise bad_value(_FUNC, "template", template,
                        f"an array with as many dimensions as the image ({image.ndim})")
    channel_axis = _check_channel_axis(channel_axis, image.ndim)
    spatial_ndim = image.ndim - (channel_axis is not None)
    if spatial_ndim not in (2, 3):
        allowed = ("a 2-D or 3-D image (plus the channel axis)" if channel_axis is not None
                   else "a 2-D or 3-D image (pass channel_axis for colour)")
        raise bad_value(_FUNC, "image", image, allowed)
    if channel_axis is not None:
        if template.shape[channel_axis] != image.shape[channel_axis]:
            raise bad_value(_FUNC, "template", template,
                            f"{image.shape[channel_axis]} channels along axis {channel_axis},"
                            " like the image")
        image = np.moveaxis(image, channel_axis, 0)
        template = np.moveaxis(template, channel_axis, 0)
    else:
        image, template = image[None], template[None]
    if any(t > i for t, i in zip(template.shape[1:], image.shape[1:])):
        raise bad_value(_FUNC, "template", template,
                        f"no larger than the image {image.shape[1:]} along every spatial axis")
    dtype = _working_dtype(image)
    if mask is not None:
        mask = as_array(_FUNC, "mask", mask, integers="keep", bools=True, floats="any",
                        noun="a real numeric array_like")
        spatial = template.shape[1:]
        if mask.shape == spatial:
            mask = mask[None]
        elif channel_axis is not None and mask.ndim == template.ndim \
                and np.moveaxis(mask, channel_axis, 0).shape == template.shape:
            mask = np.moveaxis(mask, channel_axis, 0)
        else:
            raise bad_value(_FUNC, "mask", mask,
                            f"an array of the template's spatial shape {spatial}"
                            + (" or of the template's shape" if channel_axis is not None else ""))
        mask = mask.astype(np.float64)
        if not np.all(np.isfinite(mask)) or np.any(mask < 0):
            raise bad_value(_FUNC, "mask", mask, "finite, non-negative weights")
        if np.any(mask.reshape(mask.shape[0], -1).sum(axis=1) <= 0):
            raise bad_value(_FUNC, "mask", mask, "weights with a positive sum (per channel)")
    if not isinstance(pad_input, (bool, np.bool_)):
        raise bad_type(_FUNC, "pad_input", pad_input, "a bool")
    mode = choice(_FUNC, "mode", mode, PAD_MODES)
    if not isinstance(constant_values, numbers.Real) or isinstance(constant_values, bool):
        raise bad_type(_FUNC, "constant_values", constant_values, "a finite real number")
    if not math.isfinite(constant_values):       # would make every padded score NaN
        raise bad_value(_FUNC, "constant_values", constant_values, "a finite real number")
    for name, arr in (("image", image), ("template", template)):
        # min and max propagate NaN: two passes without a boolean temporary
        if arr.dtype.kind == "f" and not (np.isfinite(arr.min()) and np.isfinite(arr.max())):
            raise bad_value(_FUNC, name, arr, "finite values (no NaN or inf)")
    image = image.astype(dtype, copy=False)
    if pad_input:
        widths = [(0, 0)] + [(t // 2, (t - 1) // 2) for t in template.shape[1:]]
        kwargs = {"constant_values": constant_values} if mode == "constant" else {}
        image = np.pad(image, widths, mode=mode, **kwargs)
    return image, template.astype(np.float64), mask


# -- the correlation engine -------------------------------------------------------

def _engine(kernels: np.ndarray, signal_shape, dtype, centre: bool) -> OverlapSave:
    """The library's overlap-save correlation of a ``(1, G, C, *S)`` signal with
    ``(G, K, C, *t)`` kernels, at the working precision; the chunks always shared
    among the FFT engine's threads, since the scores computed on each chunk
    (window sums, normalization) cost more than its transforms."""
    return OverlapSave(kernels, signal_shape, dtype=dtype, centre=centre, parallel=True)


def _window_sums(z: np.ndarray, window, workspace):
    """Window sums of ``z`` over its spatial axes, *divided by* ``window[-1]`` (destroys ``z``).

    Returns the window sums and the totals of each of the K quantities over ``z``.

    ``z`` has layout ``(*spatial[:-1], K, spatial[-1])`` (K stacked quantities); each
    spatial axis shrinks by ``window - 1``. Float64 throughout. The leading axes:
    running sums by one vectorized addition per row, in place, then the window
    differences in one subtraction. The last axis: :func:`scipy.ndimage.uniform_filter1d`,
    a float64 running sum along each line that returns the window *mean* (twice as
    fast as ``cumsum`` and a difference, and it releases the GIL); callers fold the
    factor ``window[-1]`` into their formulas instead of spending a pass on it.
    """
    nd = len(window)
    totals = None
    for ax in range(nd - 1):
        n, w = z.shape[ax], window[ax]
        lead = (slice(None),) * ax
        for i in range(1, n):                                  # running sums
            np.add(z[lead + (i,)], z[lead + (i - 1,)], out=z[lead + (i,)])
        if ax == 0:                                            # the last row: the totals
            last = z[n - 1]
            totals = last.sum(axis=tuple(a for a in range(last.ndim) if a != nd - 2))
        diff = workspace.array(f"rows{ax}", z.shape[:ax] + (n - w + 1,) + z.shape[ax + 1:],
                               np.float64)
        diff[lead + (0,)] = z[lead + (w - 1,)]
        np.subtract(z[lead + (slice(w, None),)], z[lead + (slice(0, n - w),)],
                    out=diff[lead + (slice(1, None),)])
        z = diff
    w = window[-1]
    means = workspace.array("window_sums", z.shape, np.float64)
    # output i of the running mean averages [i - w//2, i - w//2 + w)
    scipy.ndimage.uniform_filter1d(z, w, axis=-1, output=means, mode="constant")
    return means[..., w // 2: w // 2 + z.shape[-1] - w + 1], totals


# -- the scores --------------------------------------------------------------------

def match_template(image, template, method="ccoeff_normed", pad_input=False,
                   mode="constant", constant_values=0, mask=None, flat="zero",
                   channel_axis=None, return_info=False):
    r"""Score every position of a template in an image (OpenCV's six methods).

    Parameters
    ----------
    image : array_like, shape (H, W) or (D, H, W), plus a channel axis if ``channel_axis``
        Real values (float, int or bool). float32, float16, bool and 8/16-bit
        integers are scored in float32, everything else in float64. A dask array
        gets a lazy dask score map, exact across its chunks (module notes, "Dask
        arrays"; not with ``return_info``).
    template : array_like
        Same number of dimensions (and channels) as ``image``, no larger along any
        spatial axis.
    method : {'ccoeff_normed', 'ccoeff', 'ccorr_normed', 'ccorr', 'sqdiff_normed', 'sqdiff'}
        The score (formulas under Notes). Maxima are matches, except for the
        ``sqdiff`` methods, where minima are.
    pad_input : bool
        False (default): scores only where the template lies inside the image; the
        output has size ``image − template + 1`` per spatial axis and entry ``[i, j]``
        is the window whose top-left corner is ``(i, j)``. True: the image is padded
        (with ``mode``) so the output has the image's size and entry ``[i, j]`` is
        the window *centred* on ``(i, j)`` (its corner is ``(i − h//2, j − w//2)``),
        as in :func:`skimage.feature.match_template`.
    mode : str
        :func:`numpy.pad` mode for ``pad_input``: ``'constant'`` (default),
        ``'edge'``, ``'reflect'``, ``'symmetric'``, ``'wrap'``, ``'mean'``,
        ``'median'``, ``'maximum'`` or ``'minimum'``.
    constant_values : float
        Padding value for ``mode='constant'``.
    mask : array_like, optional
        Non-negative weights ``M`` of the template's spatial shape (or of its full
        shape, per channel). Pixels of weight 0 are ignored; OpenCV's masked
        formulas (Notes). A binary mask gives Padfield's masked NCC.
    flat : {'zero', 'one', 'nan'}
        The normalized scores divide by the template's and the window's spread
        (``ccoeff_normed``: standard deviations; ``ccorr_normed`` and
        ``sqdiff_normed``: root energies). Where either is zero (a *flat* window or
        template) the score is undefined, and becomes: ``'zero'`` (default) — the
        score of no similarity: correlation 0, ``sqdiff_normed`` 1 (scikit-image's
        and OpenCV's value for flat windows); ``'one'`` — the score of a perfect
        match: correlation 1, ``sqdiff_normed`` 0 (OpenCV's value for a flat
        template with ``ccoeff_normed``); ``'nan'`` — NaN. No NaN or inf appears
        otherwise. Ignored by the unnormalized methods.
    channel_axis : int, optional
        Axis of the colour channels of ``image`` and ``template``. Each channel
        is centred by its own mean and the products are summed over channels, as
        ``cv2.matchTemplate`` does for colour images.
    return_info : bool
        Also return a :class:`MatchInfo` (tiles, flat windows, clipped values).

    Returns
    -------
    score : ndarray, shape (H − h + 1, W − w + 1) (or (H, W) with ``pad_input``)
        float32 for float32 input, else float64. 3-D images give a 3-D map.
    info : MatchInfo
        Only with ``return_info=True``.

    See Also
    --------
    skimage.feature.match_template : the same scores (``method='ccoeff_normed'``).
    cv2.matchTemplate : OpenCV's six methods, which ``method`` names.
    match_templates : several templates at once.

    Notes
    -----
    With ``T`` the template, ``I`` the image window at a position, ``N`` the number
    of template pixels, ``T' = T − mean(T)`` and ``I' = I − mean(I)`` (per channel;
    sums run over pixels and channels)::

        sqdiff        = Σ (T − I)²
        sqdiff_normed = Σ (T − I)² / sqrt(Σ T² · Σ I²)
        ccorr         = Σ T·I
        ccorr_normed  = Σ T·I / sqrt(Σ T² · Σ I²)
        ccoeff        = Σ T'·I'
        ccoeff_normed = Σ T'·I' / sqrt(Σ T'² · Σ I'²)

    These are OpenCV's definitions (``TM_SQDIFF`` … ``TM_CCOEFF_NORMED``);
    ``ccoeff_normed`` is the normalized cross-correlation of Lewis (1995) that
    scikit-image computes. With a mask ``M`` the products are weighted by ``M²``
    and the means by ``M``: ``Σ (M(T − I))²``, ``Σ M²·T·I``, and for ``ccoeff``
    ``T' = T − Σ M T / Σ M``, ``I' = I − Σ M I / Σ M`` with ``Σ M² T' I'`` over
    ``sqrt(Σ M² T'² · Σ M² I'²)`` (Padfield 2012 for binary ``M``).

    The correlation is computed by FFT, one zero-mean template correlation per
    position, by the library's overlap-save engine
    (:class:`fftconv.overlap_save.OverlapSave`: no padding to image + template,
    each transform only as large as a tile; with an FFT engine of several threads
    the chunks of tiles, and the scores on them, run in parallel), and the window sums by running sums in
    float64 of each tile minus its mean (Lewis 1995; Briechle & Hanebeck 2001 for
    integral-image sums). A window is *flat* when its sum of squared deviations
    (or of squares) is below 16 float64 roundings of the sums it came from.
    Normalized scores are clipped to their range (``[-1, 1]``; ``[0, 1]`` for
    ``sqdiff_normed``, which can exceed 1 between windows of very different energy
    and which OpenCV caps at 1); ``return_info`` reports how many.

    References
    ----------
    * J. P. Lewis, "Fast normalized cross-correlation", Vision Interface, 1995.
    * K. Briechle and U. D. Hanebeck, "Template matching using fast normalized cross
      correlation", Proc. SPIE 4387, 2001.
    * D. Padfield, "Masked object registration in the Fourier domain", IEEE Trans.
      Image Processing 21(5), 2012.
    * G. Bradski, "The OpenCV Library", Dr. Dobb's Journal, 2000 (``matchTemplate``).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> image = rng.random((40, 50))
    >>> template = image[12:20, 30:41].copy()
    >>> score = match_template(image, template)
    >>> score.shape
    (33, 40)
    >>> [int(i) for i in np.unravel_index(np.argmax(score), score.shape)]
    [12, 30]
    >>> round(float(score.max()), 6)
    1.0
    >>> d = match_template(image, template, method="sqdiff")
    >>> [int(i) for i in np.unravel_index(np.argmin(d), d.shape)], round(float(d.min()), 9)
    ([12, 30], 0.0)
    """
    method = choice(_FUNC, "method", method, METHODS)
    flat = choice(_FUNC, "flat", flat, FLAT_POLICIES)
    if not isinstance(return_info, (bool, np.bool_)):
        raise bad_type(_FUNC, "return_info", return_info, "a bool")
    if _is_dask_array(image):
        if return_info:
            raise bad_value(_FUNC, "return_info", return_info,
                            "False for a dask image (the counts need the scores)")
        return _match_dask(_FUNC, image, template, method, pad_input, mode, constant_values,
                           mask, flat, channel_axis)
    img, tpl, msk = _prepare(image, template, mask, channel_axis, pad_input, mode,
                             constant_values)
    dtype = img.dtype
    info = MatchInfo(method=method, dtype=dtype)
    score = _scores(img, tpl[None], msk, method, flat, info)[0]
    if info.clipped:
        log.debug("match_template: %d %s scores clipped to their range", info.clipped,
                  method)
    return (score, info) if return_info else score


def _undefined_value(method: str, flat: str) -> float:
    if flat == "nan":
        return np.nan
    perfect = flat == "one"
    if method == "sqdiff_normed":
        return 0.0 if perfect else 1.0
    return 1.0 if perfect else 0.0


#: Lower end of each normalized score's range (the upper end is 1).
_LOW = {"ccorr_normed": -1.0, "ccoeff_normed": -1.0, "sqdiff_normed": 0.0}


def _clip(out: np.ndarray, low: float, info: MatchInfo) -> None:
    """Clip ``out`` (no NaN) into ``[low, 1]`` in place, counting what moved."""
    if out.size and (out.max() > 1 or out.min() < low):
        info.clipped += int(np.count_nonzero((out > 1) | (out < low)))
        np.clip(out, low, 1, out=out)


def _finish(out: np.ndarray, method: str, info: MatchInfo) -> None:
    """``sqdiff`` is a sum of squares: clip rounding below zero (the normalized
    scores are clipped by :func:`_normalize`)."""
    if method == "sqdiff" and out.size and out.min() < 0:
        info.clipped += int(np.count_nonzero(out < 0))
        np.maximum(out, 0, out=out)


def _flat_template(tpl, msk, method) -> bool:
    """Exact test: constant per channel (ccoeff_normed) or all zero (the others)."""
    weight = np.ones_like(tpl) if msk is None else np.broadcast_to(msk, tpl.shape)
    if method == "ccoeff_normed":
        return all(np.ptp(t[w > 0]) == 0 for t, w in zip(tpl, weight))
    if method in ("ccorr_normed", "sqdiff_normed"):
        return not np.any(tpl * weight)
    return False


def _empty_scores(img, tpls, msk, method, flat, info):
    """The score array ``(K, *positions)`` of K templates, the value of an undefined
    score, and which templates are flat (their maps filled with it, nothing to compute)."""
    out_shape = tuple(s - t + 1 for s, t in zip(img.shape[1:], tpls.shape[2:]))
    score = np.empty((len(tpls),) + out_shape, dtype=img.dtype)
    undefined = _undefined_value(method, flat)
    flats = [_flat_template(tpl, msk, method) for tpl in tpls]
    info.flat_template = any(flats)
    for k, is_flat in enumerate(flats):
        if is_flat:
            score[k].fill(undefined)
            info.flat_windows += score[k].size
    return score, undefined, flats


def _scores(img, tpls, msk, method, flat, info):
    """Scores ``(K, *positions)`` of K templates ``(K, C, *t)`` in one image ``(C, *S)``:
    one engine run, so each tile of the image is transformed once for all of them,
    and (unmasked) its window sums computed once."""
    score, undefined, flats = _empty_scores(img, tpls, msk, method, flat, info)
    live = [k for k, is_flat in enumerate(flats) if not is_flat]
    if not live:
        return score
    target = score if len(live) == len(tpls) else np.empty((len(live),) + score.shape[1:],
                                                          dtype=score.dtype)
    if msk is None:
        _score_unmasked(img, tpls[live], method, undefined, info, target)
    else:
        _score_masked(img, tpls[live], msk, method, undefined, info, target)
    if target is not score:
        score[live] = target
    return score


def _score_unmasked(img, tpls, method, undefined, info, score):
    """Scores of the (not flat) templates ``tpls`` ``(K, C, *t)`` into ``score``."""
    count, channels, window = tpls.shape[0], img.shape[0], tpls.shape[2:]
    nd, n = len(window), math.prod(window)
    t_mean = tpls.reshape(count, channels, -1).mean(axis=2)                 # (K, C)
    t_zero = tpls - t_mean.reshape((count, channels) + (1,) * nd)           # T' per channel
    t_ssd = [float(np.sum(t ** 2)) for t in t_zero]
    t_energy = [float(np.sum(t ** 2)) for t in tpls]
    squares = method != "ccorr"               # ccorr needs Σ I only; ccoeff needs neither
    # ccoeff_normed: a unit template (T' / sqrt(Σ T'² · w)) puts the template's norm
    # and the running mean's 1/w into the correlation for free.
    if method == "ccoeff_normed":
        unit = np.stack([t / math.sqrt(e * window[-1]) for t, e in zip(t_zero, t_ssd)])
    else:
        unit = t_zero
    # Each chunk is centred on its own mean c (the engine's centre=True): Σ T' = 0,
    # so the correlation Σ T'·(I − c) = Σ T'·I, and the FFT's rounding (relative
    # to ‖I − c‖·‖T'‖) is free of the image's offset. The window sums use the same c.
    engine = _engine(unit[None], (1, 1) + img.shape, img.dtype, centre=True)
    _record(info, engine)
    counts = []

    def scores(chunk):
        if method == "ccoeff":
            return
        tally = MatchInfo(method=method, dtype=info.dtype)
        counts.append(tally)
        centre = chunk.means[0, 0]
        rows = score[0, chunk.rows].shape[0]
        sums = _centred_sums(img[:, chunk.inputs], centre, window, rows, squares,
                             chunk.workspace)
        for k in range(count):                    # the window sums serve every template
            target = score[k, chunk.rows]
            res = _combine(method, target, sums, centre, t_mean[k], t_ssd[k], t_energy[k],
                           n, undefined, tally, chunk.workspace, out=target)
            if res is not target:
                target[...] = res
            _finish(target, method, tally)

    engine.run(img[None, None], out=score[None, None], on_chunk=scores)
    info.flat_windows += sum(c.flat_windows for c in counts)
    info.clipped += sum(c.clipped for c in counts)
    return score


def _record(info: MatchInfo, engine: OverlapSave) -> None:
    info.transform_shape, info.tiles = engine.plan.transform, engine.plan.tiles
    info.chunks = len(engine.chunks())


@dataclass
class _Sums:
    """Float64 window sums of ``z = I − c`` of one tile, per channel, and rounding scales."""

    s1: list          # Σ z over each window, divided by ``scale``
    s2: list | None   # Σ z² over each window, divided by ``scale``
    energy: list      # Σ z² over the tile (the scale of the running sums)
    absolute: list    # a bound of Σ |z| over the tile
    scale: float      # the window sums are ``scale`` times s1, s2


def _centred_sums(tile, centre, window, rows, squares: bool, workspace) -> _Sums:
    """Float64 window sums of ``tile − centre`` per channel (``rows`` output rows)."""
    nd = len(window)
    per = 2 if squares else 1
    channels = tile.shape[0]
    z = workspace.array("centred", tile.shape[1:-1] + (per * channels, tile.shape[-1]),
                        np.float64)
    lead = (slice(None),) * (nd - 1)
    for c in range(channels):
        zc = z[lead + (per * c,)]
        np.subtract(tile[c], centre[c], out=zc, dtype=np.float64)
        if squares:
            np.square(zc, out=z[lead + (per * c + 1,)])
    sums, totals = _window_sums(z, window, workspace)
    if not squares:                       # Σ z² is only needed for the rounding bounds
        energy = [float(np.sum(np.square(tile[c] - np.float32(centre[c]), dtype=np.float64)))
                  for c in range(channels)]
    else:
        energy = [float(totals[per * c + 1]) for c in range(channels)]
    size = math.prod(tile.shape[1:])
    sums = [sums[lead + (k,)][:rows] for k in range(per * channels)]
    return _Sums(s1=sums[::per], s2=sums[1::per] if squares else None, energy=energy,
                 absolute=[math.sqrt(size * e) for e in energy],       # Cauchy–Schwarz
                 scale=float(window[-1]))


def _combine(method, corr, sums, centre, t_mean, t_ssd, t_energy, n, undefined, info,
             workspace, out=None):
    """One tile's scores from ``Σ T'·I`` and the float64 window sums of ``I − c``.

    ``Σ I = s1 + n·c``, ``Σ (I − mean_w I)² = s2 − s1²/n``, ``Σ I² = s2 + 2c·s1 + n·c²``
    per channel. The rounding error of a window's ``s2 − s1²/n`` is at most about
    ``ε·(E + 2|s1|/n·A)`` with ``E = Σ z²`` and ``A = Σ |z|`` over the tile (the
    running sums it is the difference of); 16 times that is the flatness threshold.
    For ``ccoeff_normed`` ``corr`` is already divided by ``sqrt(Σ T'² · scale)`` (the
    template was scaled before its transform), so the window sums are used as they
    come (divided by ``scale``). Normalized scores are written to ``out`` when given.
    """
    channels = len(sums.s1)
    tol = _FLAT_ROUNDINGS * _EPS64
    k = sums.scale
    if method == "ccoeff_normed":
        var = workspace.array("variance", corr.shape, np.float64)   # (Σ s2 − s1²/n) / k
        for c in range(channels):
            s1 = sums.s1[c]
            if c == 0:
                np.multiply(s1, s1, out=var)
                var *= -k / n
            else:
                var -= s1 * s1 * (k / n)
            var += sums.s2[c]
        bound_const = tol * sum(sums.energy) / k
        slope = [2.0 * tol / n * a for a in sums.absolute]
        # |Σ_w z| <= sqrt(n Σ_w z²) <= sqrt(n E): the largest bound, without a pass
        largest = bound_const + sum(q * math.sqrt(n * e) / k
                                    for q, e in zip(slope, sums.energy))

        def bound_at(where):
            return bound_const + sum(q * np.abs(s1[where]) for q, s1 in zip(slope, sums.s1))

        return _normalize(corr, var, largest, bound_at, 1.0, undefined, info, _LOW[method],
                          workspace, out)
    s1 = [k * s for s in sums.s1]
    s2 = [k * s for s in sums.s2] if sums.s2 is not None else None
    if method in ("sqdiff", "sqdiff_normed"):
        var = np.zeros(corr.shape)
        for c in range(channels):
            var += s2[c] - s1[c] * s1[c] / n
        res = t_ssd + np.maximum(var, 0) - 2.0 * corr
        for c in range(channels):
            gap = t_mean[c] - (s1[c] / n + centre[c])             # mean(T) − mean_w(I)
            res += n * gap * gap
        if method == "sqdiff":
            return res
    else:
        res = corr.astype(np.float64)                             # Σ T·I = Σ T'·I + …
        for c in range(channels):
            res += t_mean[c] * (s1[c] + n * centre[c])            # … + mean(T)·Σ I
        if method == "ccorr":
            return res
    energy = np.zeros(corr.shape)
    for c in range(channels):
        energy += s2[c] + 2.0 * centre[c] * s1[c] + n * centre[c] ** 2
    bound = tol * sum(e + 2.0 * abs(centre[c]) * a
                      for c, (e, a) in enumerate(zip(sums.energy, sums.absolute)))
    return _normalize(res, energy, bound, lambda where: bound, t_energy, undefined, info,
                      _LOW[method], workspace, out)


def _normalize(numerator, window_term, largest, bound_at, template_term, undefined, info,
               low, workspace=None, out=None):
    """``numerator / sqrt(window_term · template_term)``, clipped to ``[low, 1]``.

    A window is flat where ``window_term`` (its sum of squared deviations, or of
    squares) is at most its rounding error ``bound_at(where)``; the bound is only
    evaluated when some window is below ``largest``, the largest bound of the tile.
    Flat windows get ``undefined``. ``window_term`` (float64) is overwritten; the
    result goes to ``out`` (any float dtype) or to ``window_term``.
    """
    flat = None
    if window_term.size and window_term.min() <= largest:
        candidates = window_term <= largest
        flat = np.zeros(window_term.shape, dtype=bool)
        flat[candidates] = window_term[candidates] <= bound_at(candidates)
        if flat.any():
            info.flat_windows += int(np.count_nonzero(flat))
            window_term[flat] = 1.0
        else:
            flat = None
    if template_term != 1.0:
        window_term *= template_term
    if out is not None and out.dtype == np.float32:
        den = np.sqrt(window_term, out=workspace.array("denominator", out.shape, np.float32))
    else:
        den = np.sqrt(window_term, out=window_term)
    res = window_term if out is None else out
    np.divide(numerator, den, out=res)
    if flat is not None:
        res[flat] = 0.0
    _clip(res, low, info)
    if flat is not None:
        res[flat] = undefined
    return res


def _score_masked(img, tpls, msk, method, undefined, info, score):
    """OpenCV's masked scores of the (not flat) templates ``tpls`` ``(K, C, *t)``,
    sharing one mask, into ``score``; every window sum a float64 FFT correlation
    (Padfield 2012).

    Per channel, with ``z = I − c`` (``c`` the channel's mean) and ``K`` the method's
    kernel (``M²·T'``, ``M²·(T − c)`` or ``M²·T``)::

        p = Σ K z      a = Σ M z      b = Σ M² z      q = Σ M² z²

    over each window, from the tile's spectra of ``z`` and ``z²`` (each transformed
    once, for every template) and the spectra of each template's ``K`` and of ``M``
    and ``M²`` (once per call; ``M² = M`` for a binary mask). The FFT's rounding,
    about ``ε·log₂P·‖z²‖·‖M²‖`` per window, is the flatness threshold.
    """
    count, channels, window = tpls.shape[0], img.shape[0], tpls.shape[2:]
    nd = len(window)
    col = (-1,) + (1,) * nd

    def per_channel(x):
        return x.reshape(channels, -1).sum(axis=1)

    img64 = img.astype(np.float64, copy=False)
    centre = np.array([float(np.mean(img64[c])) for c in range(channels)])
    m = np.ascontiguousarray(np.broadcast_to(msk, tpls.shape[1:]))
    m2 = m * m
    binary = bool(np.all((msk == 0) | (msk == 1)))
    kernels_k, t_ssd, kernel_sum, t_energy = [], [], [], []
    for tpl in tpls:
        if method.startswith("ccoeff"):
            t_bar = per_channel(m * tpl) / per_channel(m)       # M-weighted template mean
            kernel = m2 * (tpl - t_bar.reshape(col))              # M²·T'
            ssd = float(np.sum(kernel * (tpl - t_bar.reshape(col))))
        elif method.startswith("sqdiff"):
            kernel = m2 * (tpl - centre.reshape(col))             # M²·(T − c)
            ssd = float(np.sum(kernel * (tpl - centre.reshape(col))))   # Σ M²(T − c)²
        else:
            kernel = m2 * tpl                                     # M²·T
            ssd = 0.0
        kernels_k.append(kernel)
        t_ssd.append(ssd)
        kernel_sum.append(per_channel(kernel))
        t_energy.append(float(np.sum(m2 * tpl * tpl)))            # Σ (M T)²
    s_m, s_m2 = per_channel(m), per_channel(m2)
    need_a = method.startswith("ccoeff")
    need_q = method not in ("ccorr", "ccoeff")
    need_b = method in ("ccorr_normed", "sqdiff_normed", "ccoeff_normed")

    # One engine run: per channel (a group), the signals z and z² against the
    # kernel of each window sum (zero where a sum does not read that signal).
    m2_on_z = need_b and not (binary and need_a)            # else b = a (M² = M)
    names = [f"k{k}" for k in range(count)] + (["m"] if need_a else []) \
        + (["b"] if m2_on_z else [])
    of_z = {**{f"k{k}": kernel for k, kernel in enumerate(kernels_k)}, "m": m, "b": m2}
    none = np.zeros_like(m)
    stack = [np.stack([of_z[name], none], axis=1) for name in names]
    if need_q:
        names.append("q")
        stack.append(np.stack([none, m2], axis=1))
    kernels = np.stack(stack, axis=1)                           # (C, sums, 2, *t)
    z = img64 - centre.reshape(col)
    signal = np.stack([z, z * z], axis=1)[None]                 # (1, C, 2, *S)
    engine = _engine(kernels, signal.shape, np.float64, centre=False)
    _record(info, engine)
    sums = np.empty(engine.out_shape)
    log_p = math.log2(max(math.prod(engine.plan.transform), 2))
    norm_m2 = np.sqrt(per_channel(m2 * m2))
    counts = []

    def scores(chunk):
        tally = MatchInfo(method=method, dtype=info.dtype)
        counts.append(tally)
        rows = chunk.rows

        def corr(name):
            """Per-channel window sums with kernel ``name``: (C, rows, …)."""
            return sums[0, :, names.index(name), rows]

        if need_q:
            q = corr("q")
            z2 = signal[0, :, 1, chunk.inputs]
            q_round = _FLAT_ROUNDINGS * log_p * _EPS64 * np.sqrt(per_channel(z2 * z2)) * norm_m2
        if need_a:
            a = corr("m")
            i_bar = a / s_m.reshape(col)                                    # M-weighted mean
        for k in range(count):
            p = corr(f"k{k}")
            if method in ("ccorr", "ccorr_normed"):
                res = (p + (kernel_sum[k] * centre).reshape(col)).sum(0)    # Σ M² T I
            elif method.startswith("sqdiff"):
                res = t_ssd[k] - 2.0 * p.sum(0) + q.sum(0)                  # Σ M²(T − I)²
            else:
                res = (p - i_bar * kernel_sum[k].reshape(col)).sum(0)       # Σ M² T' I'
            if method in ("ccorr_normed", "sqdiff_normed"):
                b = corr("b")
                energy = (q + 2.0 * centre.reshape(col) * b                 # Σ M² I²
                          + (s_m2 * centre ** 2).reshape(col)).sum(0)
                bound = float(np.sum(q_round * (1 + 2 * np.abs(centre))))
                res = _normalize(res, energy, bound, lambda where: bound, t_energy[k],
                                 undefined, tally, _LOW[method])
            elif method == "ccoeff_normed":
                b = a if binary else corr("b")
                var = (q - 2.0 * i_bar * b + i_bar * i_bar * s_m2.reshape(col)).sum(0)
                bound = float(np.sum(q_round))                              # Σ M² I'² above
                res = _normalize(res, var, bound, lambda where: bound, t_ssd[k], undefined,
                                 tally, _LOW[method])
            _finish(res, method, tally)
            score[k, rows] = res

    engine.run(signal, out=sums, on_chunk=scores)
    info.flat_windows += sum(c.flat_windows for c in counts)
    info.clipped += sum(c.clipped for c in counts)
    return score


# -- batches: many templates, or a stack of images ------------------------------

def _template_stack(func: str, templates, image_ndim: int) -> np.ndarray:
    templates = as_array(func, "templates", templates, integers="keep", bools=True,
                         floats="any", noun="a real numeric array_like")
    if templates.ndim != image_ndim + 1 or len(templates) == 0:
        raise bad_value(func, "templates", templates,
                        f"a non-empty stack (K, ...) of templates with the image's "
                        f"{image_ndim} dimensions each")
    return templates


def _prepared_templates(dtype, templates, mask, channel_axis, pad_input, mode,
                        constant_values):
    """Every template checked as :func:`match_template` checks one (on a stand-in
    image of the template's size): ``(K, C, *t)`` float64, and the mask."""
    prepared, msk = [], None
    for tpl in templates:
        _, t, msk = _prepare(np.zeros(tpl.shape, dtype=dtype), tpl, mask, channel_axis,
                             pad_input, mode, constant_values)
        prepared.append(t)
    return np.stack(prepared), msk


def match_templates(image, templates, method="ccoeff_normed", pad_input=False,
                    mode="constant", constant_values=0, mask=None, flat="zero",
                    channel_axis=None):
    """Scores of K templates of one shape in one image, in one pass over the image.

    Parameters
    ----------
    image : array_like or dask array
        As for :func:`match_template`.
    templates : array_like, shape (K, ...)
        K templates, each as :func:`match_template`'s ``template`` (same shape).
    method, pad_input, mode, constant_values, mask, flat, channel_axis
        As for :func:`match_template`; the mask is shared by the templates.

    Returns
    -------
    scores : ndarray (or lazy dask array), shape (K, ...)
        ``scores[k]`` is ``match_template(image, templates[k], ...)``.

    See Also
    --------
    match_template : one template.
    skimage.feature.match_template, cv2.matchTemplate : one template at a time.

    Notes
    -----
    One overlap-save run correlates all K templates
    (:class:`fftconv.overlap_save.OverlapSave` with K kernels): each tile of the
    image is transformed once, its spectrum multiplied by every template's, and
    its window sums (the template-independent part of every score) computed
    once, instead of once per template.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> image = rng.random((40, 50))
    >>> templates = np.stack([image[5:13, 7:15], image[20:28, 30:38]])
    >>> scores = match_templates(image, templates)
    >>> scores.shape
    (2, 33, 43)
    >>> [[int(i) for i in np.unravel_index(np.argmax(s), s.shape)] for s in scores]
    [[5, 7], [20, 30]]
    """
    func = "match_templates"
    method = choice(func, "method", method, METHODS)
    flat = choice(func, "flat", flat, FLAT_POLICIES)
    if _is_dask_array(image):
        return _match_dask(func, image, templates, method, pad_input, mode, constant_values,
                           mask, flat, channel_axis, many_templates=True)
    image = np.asarray(image)
    templates = _template_stack(func, templates, image.ndim)
    img, _, msk = _prepare(image, templates[0], mask, channel_axis, pad_input, mode,
                           constant_values)
    tpls, _ = _prepared_templates(image.dtype, templates, mask, channel_axis,
                                  pad_input, mode, constant_values)
    return _scores(img, tpls, msk, method, flat, MatchInfo(method=method, dtype=img.dtype))


def match_images(images, template, method="ccoeff_normed", pad_input=False,
                 mode="constant", constant_values=0, mask=None, flat="zero",
                 channel_axis=None):
    """Scores of one template in each image of a stack ``(N, ...)``.

    Parameters
    ----------
    images : array_like or dask array, shape (N, ...)
        N images of one shape, each as :func:`match_template`'s ``image`` (a
        ``(2, H, W)`` stack is two 2-D images here, where :func:`match_template`
        would take it for one volume). ``channel_axis`` counts the axes of one
        image. A dask stack may be chunked along every axis.
    template, method, pad_input, mode, constant_values, mask, flat, channel_axis
        As for :func:`match_template`.

    Returns
    -------
    scores : ndarray (or lazy dask array), shape (N, ...)
        ``scores[n]`` is ``match_template(images[n], template, ...)``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> images = rng.random((3, 30, 30))
    >>> template = images[1, 10:18, 4:12]
    >>> scores = match_images(images, template)
    >>> scores.shape, int(np.argmax(scores.reshape(3, -1).max(axis=1)))
    ((3, 23, 23), 1)
    """
    func = "match_images"
    method = choice(func, "method", method, METHODS)
    flat = choice(func, "flat", flat, FLAT_POLICIES)
    if _is_dask_array(images):
        return _match_dask(func, images, template, method, pad_input, mode, constant_values,
                           mask, flat, channel_axis, many_images=True)
    images = as_array(func, "images", images, integers="keep", bools=True, floats="any",
                      noun="a real numeric array_like")
    if images.ndim < 3 or len(images) == 0:
        raise bad_value(func, "images", images, "a non-empty stack (N, ...) of images")
    return np.stack([match_template(one, template, method, pad_input, mode, constant_values,
                                    mask, flat, channel_axis) for one in images])


# -- dask images -----------------------------------------------------------------

@dataclass(frozen=True)
class _ScoreBlock:
    """One block of scores: the in-memory scores of its region (channels first;
    a leading axis of images when ``many_images``), ``(K, *positions)`` per image."""

    method: str
    flat: str
    dtype: np.dtype
    many_images: bool

    def __call__(self, region, index, templates, mask):
        def one(image):
            # the in-memory checks (the region's values finite), channels first
            img, _, msk = _prepare(image, templates[0], mask, 0, False, "constant", 0)
            info = MatchInfo(method=self.method, dtype=self.dtype)
            return _scores(img.astype(self.dtype, copy=False), templates, msk, self.method,
                           self.flat, info)
        if self.many_images:
            return np.stack([one(image) for image in region])
        return one(region)


def _match_dask(func, image, template, method, pad_input, mode, constant_values, mask, flat,
                channel_axis, many_templates=False, many_images=False):
    """Lazy scores of a dask image (or stack of images, ``many_images``) with one
    template (or a stack, ``many_templates``); module notes, "Dask arrays".

    The templates and mask are checked at once, the image's values (finite) when
    its blocks are computed.
    """
    da, fdask = _dask_modules(func)
    if fdask.is_dask_array(template):
        template = template.compute()
    if fdask.is_dask_array(mask):
        mask = mask.compute()
    one_ndim = image.ndim - many_images
    if many_images and (image.ndim < 3 or image.shape[0] == 0):
        raise bad_value(func, "images", image, "a non-empty stack (N, ...) of images")
    if many_templates:
        templates = _template_stack(func, template, one_ndim)
    else:
        templates = as_array(func, "template", template, integers="keep", bools=True,
                             floats="any", noun="a real numeric array_like")
        if templates.ndim != one_ndim:
            raise bad_value(_FUNC, "template", templates,
                            f"an array with as many dimensions as the image ({one_ndim})")
        templates = templates[None]
    tpls, msk = _prepared_templates(image.dtype, templates, mask, channel_axis,
                                    pad_input, mode, constant_values)
    ca = _check_channel_axis(channel_axis, one_ndim)
    x = image if many_images else image[None]
    x = x[:, None] if ca is None else da.moveaxis(x, ca + 1, 1)      # (N, C, *S)
    x = x.rechunk({1: -1})
    spatial = tpls.shape[2:]
    if any(t > n for t, n in zip(spatial, x.shape[2:])):
        raise bad_value(_FUNC, "template", template,
                        f"no larger than the image {x.shape[2:]} along every spatial axis")
    dtype = _working_dtype(np.zeros(1, dtype=image.dtype))
    x = x.astype(dtype)
    if pad_input:
        widths = [(0, 0), (0, 0)] + [(t // 2, (t - 1) // 2) for t in spatial]
        if mode == "median":
            x = _pad_median(da, x, widths)
        else:
            kwargs = {"constant_values": constant_values} if mode == "constant" else {}
            x = da.pad(x, widths, mode=mode, **kwargs)
    chunks = [x.chunks[0] if many_images else (1,), (len(tpls),)]
    regions = [fdask.chunk_bounds(chunks[0]), [(0, x.shape[1])]]
    for ax, t in enumerate(spatial, start=2):
        out = fdask.output_chunks(x.chunks[ax], x.shape[ax] - t + 1, 0, t)
        chunks.append(out)
        regions.append([(o0, o1 + t - 1) for o0, o1 in fdask.chunk_bounds(out)])
    if msk is not None and msk.shape[0] == 1:
        msk = msk[0]              # one mask for every channel: the template's spatial shape
    block = _ScoreBlock(method, flat, dtype, True)
    score = fdask.map_regions(block, x, tuple(chunks), regions, dtype, shared=(tpls, msk),
                              name="analysis-match")                  # (N, K, *positions)
    if many_images:
        return score[:, 0]
    return score[0] if many_templates else score[0, 0]


def _pad_median(da, x, widths):
    """``numpy.pad(x, widths, mode='median')``, which dask's pad lacks: axis by axis,
    each line padded with its median (of the array padded along the earlier axes)."""
    for ax, (lo, hi) in enumerate(widths):
        if not lo and not hi:
            continue
        median = da.median(x, axis=ax, keepdims=True).astype(x.dtype)
        parts = [da.repeat(median, lo, axis=ax)] if lo else []
        parts.append(x)
        if hi:
            parts.append(da.repeat(median, hi, axis=ax))
        x = da.concatenate(parts, axis=ax)
    return x
