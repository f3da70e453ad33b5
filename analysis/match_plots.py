"""Figures of a template match: the image with the matched boxes, and the score map.

Builds :class:`matplotlib.figure.Figure` objects without pyplot state; saving is
the caller's business (``fftconv match`` does it).
"""

from __future__ import annotations

import numpy as np

from fftconv import style
from fftconv.errors import bad_value
from fftconv.optional import require
from fftconv.text import plural

from .peaks import Peaks, match_boxes

__all__ = ["match_figure", "match_layout", "score_extent", "SIDE_BY_SIDE_MAX_ASPECT"]

#: Widest scene (width / height) still drawn beside its score map; a wider one is
#: drawn above it, so that neither panel becomes a thin strip with empty space around.
SIDE_BY_SIDE_MAX_ASPECT = 1.5
#: Font size of the scores on the image and of the legend: readable at 100 dpi.
LABEL_FONTSIZE = 10


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
        (truth, found) below the panels, off the data. The panels sit side by side,
        or one above the other for a scene wider than
        :data:`SIDE_BY_SIDE_MAX_ASPECT`, and the figure's size follows the
        scene's aspect (:func:`match_layout`), so neither leaves large empty margins.

    Examples
    --------
    >>> import numpy as np
    >>> from analysis.matching import match_template, find_peaks
    >>> image = np.random.default_rng(0).random((40, 50))
    >>> score = match_template(image, image[5:15, 20:32])
    >>> fig = match_figure(image, score, find_peaks(score, max_peaks=1), (10, 12))
    >>> [" ".join(ax.get_title().split()) for ax in fig.axes[:2]]   # on one line
    ['image: 1 match', "ccoeff_normed score, drawn at each window's centre"]
    """
    Figure = require("matplotlib.figure", "plots", "match_figure").Figure
    Rectangle = require("matplotlib.patches", "plots", "match_figure").Rectangle
    Line2D = require("matplotlib.lines", "plots", "match_figure").Line2D

    score = np.asarray(score)
    if score.ndim != 2:
        raise bad_value("match_figure", "score", score, "a 2-D score map")
    shape = tuple(template_shape)
    image = np.asarray(image)
    rows, cols, figsize = match_layout(image.shape)
    fig = Figure(figsize=figsize, layout="constrained")
    ax_image, ax_score = fig.subplots(rows, cols, sharex=True, sharey=True)
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
                              textcoords="offset points", fontsize=LABEL_FONTSIZE,
                              va="bottom", color=style.NOTE_GREY,
                              bbox=dict(style.LABEL_BOX, ec=style.FOUND_STYLE["colour"],
                                        lw=0.8, alpha=0.9))
    handles = [Line2D([], [], color=style.FOUND_STYLE["colour"],
                      linestyle=style.FOUND_STYLE["linestyle"],
                      marker=style.FOUND_STYLE["marker"], label="found (score shown)")]
    if truth is not None:
        handles.insert(0, Line2D([], [], color=style.TRUTH_STYLE["colour"],
                                 linestyle=style.TRUTH_STYLE["linestyle"],
                                 label="truth"))
    # below the panels, not on the image
    fig.legend(handles=handles, fontsize=LABEL_FONTSIZE, loc="outside lower center",
               ncols=len(handles))
    ax_image.set_title(f"image: {plural(len(peaks), 'match', 'matches')}")
    # two lines beside a tall scene, whose panels are narrow
    ax_score.set_title(f"{method} score,{' ' if cols == 1 else chr(10)}drawn at each "
                       "window's centre")
    # under a stacked score map, so the two panels keep one width
    style.add_colorbar(ax_score, shown, f"{method} score",
                       orientation="vertical" if cols == 2 else "horizontal")
    for ax in (ax_image, ax_score):
        ax.set_xlabel("x (column)")
        ax.set_ylabel("y (row)")
        ax.label_outer()        # the shared axis is labelled once, where its ticks are
    if title:
        fig.suptitle(title)
    return fig


def match_layout(image_shape):
    """How :func:`match_figure` arranges its two panels for a scene of ``image_shape``.

    Parameters
    ----------
    image_shape : tuple of int
        ``(H, W, ...)`` of the scene.

    Returns
    -------
    rows, cols : int
        ``(1, 2)``, side by side, unless the scene is wider than
        :data:`SIDE_BY_SIDE_MAX_ASPECT`: then ``(2, 1)``, the image above.
    figsize : (float, float)
        Inches: the panels' size follows the scene's aspect, plus room for the
        titles, labels, colour bar and legend.

    Examples
    --------
    >>> match_layout((600, 160))[:2], match_layout((160, 700))[:2]
    ((1, 2), (2, 1))
    >>> match_layout((600, 160))[2][1] > match_layout((600, 160))[2][0]   # tall: tall figure
    True
    """
    height, width = image_shape[:2]
    aspect = width / height
    if aspect <= SIDE_BY_SIDE_MAX_ASPECT:
        panel_height = min(6.0, 4.4 / aspect)          # a panel at most 4.4 x 6 in
        panel_width = max(panel_height * aspect, 2.2)  # room for the two-line titles
        return 1, 2, (2 * panel_width + 2.6, panel_height + 2.2)
    panel_width = 9.0
    panel_height = max(panel_width / aspect, 1.2)
    return 2, 1, (panel_width + 1.4, 2 * panel_height + 3.0)


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
