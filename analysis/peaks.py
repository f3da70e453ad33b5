"""Peaks of a score map: local extrema, non-maximum suppression, subpixel refinement.

:func:`find_peaks` turns a :func:`~analysis.matching.match_template` score map into
a short list of matches: local maxima (minima for the ``sqdiff`` methods) above a
threshold, at least ``min_distance + 1`` pixels apart, refined to subpixel
positions by a quadratic fit through each peak and its neighbours. Coordinates
are array indices ``(row, col)``; :func:`to_xy` converts to image ``(x, y)``.

Dask score maps
---------------
For a dask score map (the ``dask`` extra) :func:`find_peaks` takes, per block
of the map, the block extended by ``min_distance + 1`` samples on each side (clipped at the map's
border, which is what ``mode='nearest'`` of the in-memory maximum filter
amounts to): the block's candidates (extrema of their neighbourhood, above the
threshold) and, for the subpixel fit, their neighbours' scores. Only the
candidates are brought into memory; the greedy non-maximum suppression then
runs over all of them in the in-memory order (best first, ties in row-major
order) with a grid of cells of ``min_distance + 1`` samples in place of a
boolean map of the whole score map, so the result is the in-memory result.
Without a ``threshold`` every local extremum is a candidate (on noise about
one sample in ``(2·min_distance + 1)^d``): pass one for large maps.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
import scipy.ndimage

from fftconv.checks import integer
from fftconv.errors import bad_type, bad_value
from fftconv.optional import require

__all__ = ["Peaks", "find_peaks", "to_xy", "match_boxes"]

_SCORE_METHODS = ("sqdiff", "sqdiff_normed", "ccorr", "ccorr_normed", "ccoeff",
                  "ccoeff_normed")
_PEAK_METHODS = _SCORE_METHODS + ("max", "min")


@dataclass(frozen=True)
class Peaks:
    """Peaks found by :func:`find_peaks`, best first.

    Attributes
    ----------
    coords : ndarray, shape (k, ndim), float
        Subpixel positions as array indices ``(row, col)`` (``(plane, row, col)``
        in 3-D).
    scores : ndarray, shape (k,)
        Score at each refined position (the vertex of the fitted parabola).
    indices : ndarray, shape (k, ndim), int
        Integer positions of the peaks in the score map.
    """

    coords: np.ndarray
    scores: np.ndarray
    indices: np.ndarray

    def __len__(self) -> int:
        return len(self.scores)

    @property
    def xy(self) -> np.ndarray:
        """Positions as ``(x, y)`` (``(x, y, z)`` in 3-D): :func:`to_xy` of ``coords``."""
        return to_xy(self.coords)


def to_xy(coords) -> np.ndarray:
    """Array indices ``(row, col)`` → image coordinates ``(x, y)`` (reverse the axes).

    Works both ways: ``to_xy(to_xy(rc)) == rc``.

    Parameters
    ----------
    coords : array_like, shape (k, ndim) or (ndim,)

    Returns
    -------
    ndarray, same shape, the last axis reversed.

    Examples
    --------
    >>> to_xy([[12, 30], [4.5, 7.25]])
    array([[30.  , 12.  ],
           [ 7.25,  4.5 ]])
    """
    coords = np.asarray(coords, dtype=np.float64)
    if coords.ndim not in (1, 2) or coords.shape[-1] < 1:
        raise bad_value("to_xy", "coords", coords, "an array of shape (k, ndim) or (ndim,)")
    return coords[..., ::-1].copy()


def match_boxes(coords, template_shape, pad_input: bool = False) -> np.ndarray:
    """Image boxes of the template at score-map positions (2-D).

    Parameters
    ----------
    coords : array_like, shape (k, 2)
        ``(row, col)`` positions in a score map, e.g. ``Peaks.coords``.
    template_shape : tuple of int
        ``(h, w)`` of the template (spatial axes).
    pad_input : bool
        As given to :func:`~analysis.matching.match_template`: False means a
        position is the window's top-left corner, True its centre pixel
        (the corner is ``(row − h//2, col − w//2)``).

    Returns
    -------
    ndarray, shape (k, 4)
        ``(top, left, bottom, right)`` of each window, half-open in pixel indices.

    Examples
    --------
    >>> match_boxes([[12, 30]], (8, 11))
    array([[12., 30., 20., 41.]])
    >>> match_boxes([[16, 35]], (8, 11), pad_input=True)
    array([[12., 30., 20., 41.]])
    """
    coords = np.asarray(coords, dtype=np.float64).reshape(-1, 2)
    if (not isinstance(template_shape, (tuple, list)) or len(template_shape) != 2
            or not all(isinstance(t, numbers.Integral) and t > 0 for t in template_shape)):
        raise bad_value("match_boxes", "template_shape", template_shape,
                        "a pair of positive ints (h, w)")
    h, w = (int(t) for t in template_shape)
    top_left = coords - (np.array([h // 2, w // 2]) if pad_input else 0)
    return np.concatenate([top_left, top_left + [h, w]], axis=1)


def find_peaks(score, threshold=None, min_distance=1, max_peaks=None,
               method="ccoeff_normed", subpixel=True) -> Peaks:
    """Local maxima of a score map (minima for ``sqdiff``), suppressed and refined.

    Parameters
    ----------
    score : array_like, shape (H, W) or (D, H, W)
        A score map; NaN entries are never peaks. A dask array is searched block by
        block, never whole in memory (module notes, "Dask score maps").
    threshold : float, optional
        Keep peaks scoring at least ``threshold`` (at most, for minima).
        Default: every local extremum.
    min_distance : int
        Peaks are more than ``min_distance`` pixels apart along some axis
        (Chebyshev distance); of two closer ones the better survives. A peak must
        also be the extremum of its ``(2·min_distance + 1)``-wide neighbourhood.
    max_peaks : int, optional
        Keep at most this many (the best).
    method : str
        The :func:`~analysis.matching.match_template` method that produced
        ``score``: minima for ``'sqdiff'`` and ``'sqdiff_normed'``, maxima for the
        others; or ``'max'`` / ``'min'``.
    subpixel : bool
        Refine each peak by a parabola through it and its two neighbours along each
        axis (skipped at the border and where a neighbour is NaN). The refined
        score stays in the method's range (at most 1 for the normalized
        correlations, at least 0 for the squared differences).

    Returns
    -------
    Peaks
        ``coords`` (row, col), ``scores`` and integer ``indices``, best first.

    See Also
    --------
    skimage.feature.peak_local_max : local maxima of an image (``min_distance``,
        ``threshold_abs``).

    Notes
    -----
    Along each axis the parabola through ``(−1, f₋)``, ``(0, f₀)``, ``(1, f₊)`` has its
    vertex at ``δ = (f₋ − f₊) / (2 (f₋ − 2f₀ + f₊))`` (clipped to ``[−½, ½]``) with
    value ``f₀ + (f₊ − f₋) δ / 4``; the axes are refined independently and their
    gains added. For a correlation peak sampled finely enough this recovers the
    position to a small fraction of a pixel (see e.g. Debella-Gilo & Kääb 2011,
    "Sub-pixel precision image matching for measuring surface displacements",
    Remote Sensing of Environment 115).

    Examples
    --------
    >>> import numpy as np
    >>> y, x = np.mgrid[0:20, 0:30]
    >>> score = np.exp(-((y - 5.3) ** 2 + (x - 20.0) ** 2) / 8)
    >>> score += 0.5 * np.exp(-((y - 14) ** 2 + (x - 6) ** 2) / 8)
    >>> peaks = find_peaks(score, threshold=0.2, min_distance=3)
    >>> peaks.indices.tolist()
    [[5, 20], [14, 6]]
    >>> np.round(peaks.coords[0], 1)
    array([ 5.3, 20. ])
    """
    func = "find_peaks"
    if _is_dask_array(score):
        return _find_peaks_dask(score, threshold, min_distance, max_peaks, method, subpixel)
    try:
        score = np.asarray(score)
    except (TypeError, ValueError) as exc:
        raise bad_type(func, "score", score, "a real array_like") from exc
    if score.dtype.kind not in "fiu":
        raise bad_type(func, "score", score, "a real array_like")
    if score.ndim not in (2, 3) or score.size == 0:
        raise bad_value(func, "score", score, "a non-empty 2-D or 3-D array")
    min_distance, max_peaks, threshold, sign = _check_options(func, min_distance, max_peaks,
                                                              threshold, method)
    s = sign * score.astype(np.float64)
    s[np.isnan(s)] = -np.inf
    best = scipy.ndimage.maximum_filter(s, size=2 * min_distance + 1, mode="nearest")
    candidate = (s == best) & np.isfinite(s)
    if threshold is not None:
        candidate &= s >= sign * float(threshold)
    index = np.flatnonzero(candidate)
    index = index[np.argsort(-s.ravel()[index], kind="stable")]
    suppressed = np.zeros(s.shape, dtype=bool)
    kept = []
    for flat in index:
        pos = np.unravel_index(flat, s.shape)
        if suppressed[pos]:
            continue
        kept.append(pos)
        if max_peaks is not None and len(kept) == max_peaks:
            break
        suppressed[tuple(slice(max(p - min_distance, 0), p + min_distance + 1)
                         for p in pos)] = True
    indices = np.array(kept, dtype=np.intp).reshape(-1, s.ndim)
    values = s[tuple(indices.T)] if len(kept) else np.empty(0)
    neighbours = np.full((len(kept), s.ndim, 2), -np.inf)
    for axis in range(s.ndim):
        for side, step in enumerate((-1, 1)):
            at = indices.copy()
            at[:, axis] += step
            ok = (at[:, axis] >= 0) & (at[:, axis] < s.shape[axis])
            neighbours[ok, axis, side] = s[tuple(at[ok].T)]
    return _refined(indices, values, neighbours, s.shape, sign, method, subpixel)


def _dask_modules(func: str):
    """``(dask.array, fftconv.dask)``, or the ImportError naming the ``dask`` extra."""
    require("dask.array", "dask", func)
    import dask.array as da
    from fftconv import dask as fdask
    return da, fdask


def _is_dask_array(x) -> bool:
    """A dask array (:mod:`analysis.dask_matching` finds its peaks), without importing dask."""
    import sys
    module = sys.modules.get("dask.array")
    return module is not None and isinstance(x, module.Array)


def _check_options(func, min_distance, max_peaks, threshold, method):
    """Checked ``(min_distance, max_peaks, threshold, sign)``: sign −1 for minima."""
    if not isinstance(method, str):
        raise bad_type(func, "method", method, f"one of {', '.join(map(repr, _PEAK_METHODS))}")
    if method not in _PEAK_METHODS:
        raise bad_value(func, "method", method, f"one of {', '.join(map(repr, _PEAK_METHODS))}")
    min_distance = integer(func, "min_distance", min_distance, 1)
    max_peaks = integer(func, "max_peaks", max_peaks, 1, allow_none=True)
    if threshold is not None and (not isinstance(threshold, numbers.Real)
                                  or isinstance(threshold, bool) or np.isnan(threshold)):
        raise bad_type(func, "threshold", threshold, "a real number or None")
    minimize = method in ("sqdiff", "sqdiff_normed", "min")
    return min_distance, max_peaks, threshold, -1.0 if minimize else 1.0


def _refined(indices, values, neighbours, shape, sign, method, subpixel) -> Peaks:
    """The :class:`Peaks` of kept ``indices`` (k, d) with their signed ``values`` and
    the signed values of their neighbours ``(k, d, 2)`` (−1 and +1 along each axis;
    −inf outside the map or where NaN): the parabola fit of the Notes."""
    coords = indices.astype(np.float64)
    k = len(indices)
    if subpixel and k:
        f0 = values
        values = values.copy()
        for axis in range(len(shape)):
            inner = (indices[:, axis] > 0) & (indices[:, axis] < shape[axis] - 1)
            fm, fp = neighbours[:, axis, 0], neighbours[:, axis, 1]
            with np.errstate(invalid="ignore"):
                curve = fm - 2 * f0 + fp
            ok = inner & np.isfinite(fm) & np.isfinite(fp) & (curve < 0)
            delta = np.zeros(k)
            delta[ok] = np.clip((fm[ok] - fp[ok]) / (2 * curve[ok]), -0.5, 0.5)
            coords[:, axis] += delta
            values[ok] += (fp[ok] - fm[ok]) * delta[ok] / 4
    scores = sign * values
    # the parabola's vertex may overshoot a bounded score (an exact match is 1, not 1.00002)
    if method in ("ccorr_normed", "ccoeff_normed"):
        np.minimum(scores, 1.0, out=scores)
    elif method in ("sqdiff", "sqdiff_normed"):
        np.maximum(scores, 0.0, out=scores)
    return Peaks(coords=coords, scores=scores, indices=indices)


# -- dask score maps -------------------------------------------------------------------------
@dataclass(frozen=True)
class _CandidateBlock:
    """The candidates of one block of a score map (module notes): an object array
    holding ``(global indices (k, d), values (k,), neighbours (k, d, 2))``."""

    margin: int
    min_distance: int
    sign: float
    threshold: float | None
    bounds: tuple               # per axis, per block: (start, stop) of the block
    shape: tuple                # the whole map

    def __call__(self, region, index):
        import scipy.ndimage
        block = [self.bounds[ax][i] for ax, i in enumerate(index)]
        # the region is the block widened by `margin`, clipped to the map
        lo = [max(b0 - self.margin, 0) for b0, _ in block]
        hi = [min(b1 + self.margin, n) for (_, b1), n in zip(block, self.shape)]
        s = self.sign * region[tuple(slice(l0 - (b0 - self.margin), h0 - (b0 - self.margin))
                                     for l0, h0, (b0, _) in zip(lo, hi, block))]
        s = s.astype(np.float64)
        s[np.isnan(s)] = -np.inf
        best = scipy.ndimage.maximum_filter(s, size=2 * self.min_distance + 1, mode="nearest")
        candidate = (s == best) & np.isfinite(s)
        if self.threshold is not None:
            candidate &= s >= self.sign * self.threshold
        inner = tuple(slice(b0 - l0, b1 - l0) for (b0, b1), l0 in zip(block, lo))
        local = np.argwhere(candidate[inner]) + [b0 - l0 for (b0, _), l0 in zip(block, lo)]
        values = s[tuple(local.T)] if len(local) else np.empty(0)
        neighbours = np.full((len(local), s.ndim, 2), -np.inf)
        for ax in range(s.ndim):
            for side, step in enumerate((-1, 1)):
                at = local.copy()
                at[:, ax] += step
                ok = (at[:, ax] >= 0) & (at[:, ax] < s.shape[ax])
                neighbours[ok, ax, side] = s[tuple(at[ok].T)]
        global_index = local + np.array(lo)
        out = np.empty((1,) * s.ndim, dtype=object)
        out[(0,) * s.ndim] = (global_index, values, neighbours)
        return out


def _find_peaks_dask(score, threshold=None, min_distance=1, max_peaks=None,
                     method="ccoeff_normed", subpixel=True) -> Peaks:
    """:func:`find_peaks` of a dask score map (module notes, "Dask score maps"): the
    same peaks, without the map in memory (only the candidates are).

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> peaks_of = find_peaks
    >>> y, x = np.mgrid[0:20, 0:30]
    >>> score = np.exp(-((y - 5.3) ** 2 + (x - 20.0) ** 2) / 8)
    >>> score += 0.5 * np.exp(-((y - 14) ** 2 + (x - 6) ** 2) / 8)
    >>> peaks = peaks_of(da.from_array(score, chunks=(6, 7)), threshold=0.2, min_distance=3)
    >>> peaks.indices.tolist()
    [[5, 20], [14, 6]]
    """
    func = "find_peaks"
    da, fdask = _dask_modules(func)
    if score.dtype.kind not in "fiu":
        raise bad_type(func, "score", score, "a real array_like")
    if score.ndim not in (2, 3) or score.size == 0:
        raise bad_value(func, "score", score, "a non-empty 2-D or 3-D array")
    min_distance, max_peaks, threshold, sign = _check_options(
        func, min_distance, max_peaks, threshold, method)
    margin = min_distance + 1
    bounds = tuple(tuple(fdask.chunk_bounds(c)) for c in score.chunks)
    regions = [[(b0 - margin, b1 + margin) for b0, b1 in per_axis] for per_axis in bounds]
    chunks = tuple((1,) * len(c) for c in score.chunks)
    block = _CandidateBlock(margin, min_distance, sign,
                            None if threshold is None else float(threshold), bounds,
                            score.shape)
    parts = fdask.map_regions(block, score, chunks, regions, object,
                              in_dtype=score.dtype, name="analysis-peaks").compute()
    found = [item for item in parts.ravel()]
    index = np.concatenate([f[0] for f in found]).reshape(-1, score.ndim)
    values = np.concatenate([f[1] for f in found])
    neighbours = np.concatenate([f[2] for f in found]).reshape(-1, score.ndim, 2)
    flat = np.ravel_multi_index(tuple(index.T), score.shape) if len(index) else \
        np.empty(0, dtype=np.intp)
    order = np.lexsort((flat, -values))             # best first, ties in row-major order
    kept = _suppress_on_grid(index[order], min_distance, max_peaks)
    chosen = order[kept]
    return _refined(index[chosen], values[chosen], neighbours[chosen], score.shape,
                           sign, method, subpixel)


def _suppress_on_grid(index: np.ndarray, min_distance: int, max_peaks) -> list:
    """Greedy suppression of ``index`` (best first): a candidate within Chebyshev
    distance ``min_distance`` of a kept one is dropped. Kept positions are filed
    in cells of ``min_distance + 1`` samples, so only the 3^d cells around a
    candidate are searched."""
    cell = min_distance + 1
    grid: dict = {}
    kept = []
    d = index.shape[1] if index.ndim == 2 else 0
    offsets = list(np.ndindex(*(3,) * d))
    for n, pos in enumerate(index):
        home = tuple(int(p) // cell for p in pos)
        near = False
        for off in offsets:
            for other in grid.get(tuple(h + o - 1 for h, o in zip(home, off)), ()):
                if max(abs(int(a) - int(b)) for a, b in zip(pos, other)) <= min_distance:
                    near = True
                    break
            if near:
                break
        if near:
            continue
        kept.append(n)
        grid.setdefault(home, []).append(pos)
        if max_peaks is not None and len(kept) == max_peaks:
            break
    return kept
