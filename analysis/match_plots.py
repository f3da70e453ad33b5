"""Figures of a template match: the image with the matched boxes, and the score map.

Builds :class:`matplotlib.figure.Figure` objects without pyplot state; saving is
the caller's business (``fftconv match`` does it).
"""

from __future__ import annotations

import numpy as np

from fftconv import style
from fftconv.errors import bad_value
from fftconv.optional import require

from .peaks import Peaks, match_boxes

__all__ = ["match_figure", "score_extent"]


def match_figure(image, score, peaks: Peaks, template_shape, method="ccoeff_normed",
                 pad_input=False, title="", truth=None):
    """The image with a box per match, beside the score map with the peaks marked.

    Parameters
    ----------
    image : ndarray, shape (H, W) or (H, W, 3|4)
        Grey or RGB(A) image, shown as is (grey with the ``gray`` colour map).
    score : ndarray, shape (H', W')
        Score map from :func:`~analysis.matching.match_template`.
    peaks : Peaks
        From :func:`~analysis.peaks.find_peaks` on ``score``.
    template_shape : (int, int)
        ``(h, w)`` of the template.
    method : str
        Names the score in the colour bar.
    pad_input : bool
        As given to ``match_template`` (where a score position sits in the image).
    title : str
    truth : sequence of (int, int), optional
        Top-left corners ``(row, col)`` of the true copies, outlined in
        :data:`fftconv.style.TRUTH_STYLE` (found matches: ``FOUND_STYLE``).

    Returns
    -------
    matplotlib.figure.Figure
        Two panels sharing the image's pixel frame: the image and the score map
        (:func:`score_extent`), each with the boxes, the peaks at their window
        centres and, on the image, each score as ``{:.3f}``; the legend
        (truth, found) below the panels, off the data.

    Examples
    --------
    >>> import numpy as np
    >>> from analysis.matching import match_template, find_peaks
    >>> image = np.random.default_rng(0).random((40, 50))
    >>> score = match_template(image, image[5:15, 20:32])
    >>> fig = match_figure(image, score, find_peaks(score, max_peaks=1), (10, 12))
    >>> [ax.get_title() for ax in fig.axes[:2]]
    ['image: 1 match', "ccoeff_normed score, drawn at each window's centre"]
    """
    Figure = require("matplotlib.figure", "plots", "match_figure").Figure
    Rectangle = require("matplotlib.patches", "plots", "match_figure").Rectangle
    Line2D = require("matplotlib.lines", "plots", "match_figure").Line2D

    score = np.asarray(score)
    if score.ndim != 2:
        raise bad_value("match_figure", "score", score, "a 2-D score map")
    shape = tuple(template_shape)
    fig = Figure(figsize=(11, 4.8), layout="constrained")
    ax_image, ax_score = fig.subplots(1, 2, sharex=True, sharey=True)
    image = np.asarray(image)
    ax_image.imshow(image, cmap=style.IMAGE_CMAP if image.ndim == 2 else None,
                    interpolation="nearest")
    signed = method.endswith("_normed") and not method.startswith("sqdiff")
    shown = ax_score.imshow(score, cmap=style.SIGNED_CMAP if signed else style.MAGNITUDE_CMAP,
                            vmin=-1 if signed else None, vmax=1 if signed else None,
                            extent=score_extent(score.shape, shape, pad_input),
                            interpolation="nearest")
    ax_score.set_xlim(-0.5, image.shape[1] - 0.5)
    ax_score.set_ylim(image.shape[0] - 0.5, -0.5)
    centre = _centre_offset(shape, pad_input)
    for kind, st, boxes in (("truth", style.TRUTH_STYLE,
                             [] if truth is None else match_boxes(truth, shape)),
                            ("found", style.FOUND_STYLE,
                             match_boxes(peaks.coords, shape, pad_input))):
        for ax in (ax_image, ax_score):
            for top, left, bottom, right in boxes:
                ax.add_patch(Rectangle((left - 0.5, top - 0.5), right - left, bottom - top,
                                       fill=False, edgecolor=st["colour"],
                                       linestyle=st["linestyle"], linewidth=1.5))
    if len(peaks):
        for ax in (ax_image, ax_score):
            ax.plot(peaks.coords[:, 1] + centre[1], peaks.coords[:, 0] + centre[0],
                    linestyle="none", marker=style.FOUND_STYLE["marker"],
                    color=style.FOUND_STYLE["colour"], markersize=9, markeredgewidth=1.5)
        for (top, left, _, _), value in zip(match_boxes(peaks.coords, shape, pad_input),
                                            peaks.scores):
            # on a white patch above the box: readable on any grey level
            ax_image.annotate(f"{value:.3f}", (left - 0.5, top - 0.5), xytext=(0, 3),
                              textcoords="offset points", fontsize=8, va="bottom",
                              color="black", bbox=dict(boxstyle="round,pad=0.15", fc="white",
                                                       ec=style.FOUND_STYLE["colour"],
                                                       lw=0.8, alpha=0.9))
    handles = [Line2D([], [], color=style.FOUND_STYLE["colour"],
                      linestyle=style.FOUND_STYLE["linestyle"],
                      marker=style.FOUND_STYLE["marker"], label="found (score shown)")]
    if truth is not None:
        handles.insert(0, Line2D([], [], color=style.TRUTH_STYLE["colour"],
                                 linestyle=style.TRUTH_STYLE["linestyle"],
                                 label="truth"))
    # below the panels, not on the image
    fig.legend(handles=handles, fontsize=8, loc="outside lower center", ncols=len(handles))
    ax_image.set_title(f"image: {len(peaks)} match{'es' if len(peaks) != 1 else ''}")
    ax_score.set_title(f"{method} score, drawn at each window's centre")
    style.add_colorbar(ax_score, shown, f"{method} score")
    for ax in (ax_image, ax_score):
        ax.set_xlabel("x (column)")
        ax.set_ylabel("y (row)")
    if title:
        fig.suptitle(title)
    return fig


def _centre_offset(template_shape, pad_input):
    """Score position -> the centre of its window in image pixels, ``(dr, dc)``."""
    h, w = template_shape
    return ((h - 1) / 2 - (h // 2 if pad_input else 0),
            (w - 1) / 2 - (w // 2 if pad_input else 0))


def score_extent(score_shape, template_shape, pad_input=False):
    """``imshow`` extent that draws a score map in its image's pixel frame.

    Parameters
    ----------
    score_shape : (int, int)
    template_shape : (int, int)
    pad_input : bool
        As given to ``match_template``.

    Returns
    -------
    (left, right, bottom, top) : tuple of float
        Entry ``(i, j)`` is drawn at the centre of the window it scores,
        ``(i + (h − 1)/2, j + (w − 1)/2)`` (minus ``(h//2, w//2)`` with
        ``pad_input``), exactly to the half pixel, so a peak lies in its box.

    Examples
    --------
    >>> score_extent((31, 39), (10, 12))
    (5.0, 44.0, 35.0, 4.0)
    """
    dr, dc = _centre_offset(template_shape, pad_input)
    rows, cols = score_shape
    return (dc - 0.5, dc + cols - 0.5, dr + rows - 0.5, dr - 0.5)
