"""Figures of a template match: the image with the matched boxes, and the score map.

Builds :class:`matplotlib.figure.Figure` objects without pyplot state; saving is
the caller's business (``fftconv match`` does it).
"""

from __future__ import annotations

import numpy as np

from fftconv.errors import bad_value
from fftconv.optional import require

from .peaks import Peaks, match_boxes

__all__ = ["match_figure"]


def match_figure(image, score, peaks: Peaks, template_shape, method="ccoeff_normed",
                 pad_input=False, title=""):
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

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> from analysis.matching import match_template, find_peaks
    >>> image = np.random.default_rng(0).random((40, 50))
    >>> score = match_template(image, image[5:15, 20:32])
    >>> fig = match_figure(image, score, find_peaks(score, max_peaks=1), (10, 12))
    >>> [ax.get_title() for ax in fig.axes[:2]]
    ['image: 1 match', 'ccoeff_normed score']
    """
    Figure = require("matplotlib.figure", "plots", "match_figure").Figure
    Rectangle = require("matplotlib.patches", "plots", "match_figure").Rectangle

    score = np.asarray(score)
    if score.ndim != 2:
        raise bad_value("match_figure", "score", score, "a 2-D score map")
    fig = Figure(figsize=(11, 4.6), layout="constrained")
    ax_image, ax_score = fig.subplots(1, 2)
    image = np.asarray(image)
    ax_image.imshow(image, cmap="gray" if image.ndim == 2 else None, interpolation="nearest")
    for top, left, bottom, right in match_boxes(peaks.coords, tuple(template_shape), pad_input):
        ax_image.add_patch(Rectangle((left - 0.5, top - 0.5), right - left, bottom - top,
                                     fill=False, edgecolor="tab:red", linewidth=1.5))
    ax_image.set_title(f"image: {len(peaks)} match{'es' if len(peaks) != 1 else ''}")
    shown = ax_score.imshow(score, cmap="viridis", interpolation="nearest")
    if len(peaks):
        ax_score.plot(peaks.coords[:, 1], peaks.coords[:, 0], "r+", markersize=10)
    ax_score.set_title(f"{method} score")
    fig.colorbar(shown, ax=ax_score, shrink=0.85)
    for ax in (ax_image, ax_score):
        ax.set_xlabel("x (column)")
        ax.set_ylabel("y (row)")
    if title:
        fig.suptitle(title)
    return fig
