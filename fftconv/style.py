"""One visual style for every figure fftconv and analysis draw.

Every figure takes its colours, colormaps and markers from here, so that a
backend has the same colour in the crossover plot, the report and the gallery,
and so that every choice is colour-blind safe:

- images in perceptually uniform maps: ``viridis`` for magnitudes and scores,
  ``cividis`` for probabilities, grey for photographs and digits;
- signed data (kernels, gradients, correlation scores in [-1, 1]) in a diverging
  map centred on 0 (``RdBu_r``: red and blue differ in lightness, so it survives
  deuteranopia; Crameri et al., "The misuse of colour in science
  communication", Nature Communications 11, 2020);
- lines in the Okabe & Ito palette (Okabe and Ito, "Color Universal Design",
  2008), eight colours distinguishable under every common colour-vision deficiency;
- "truth" and "found" told apart by marker shape and line style, not by colour
  alone.

The module needs no matplotlib itself (names and numbers only) except
:func:`add_colorbar`, which takes an existing axes and mappable.
"""

from __future__ import annotations

__all__ = ["IMAGE_CMAP", "MAGNITUDE_CMAP", "PROBABILITY_CMAP", "SIGNED_CMAP",
           "OKABE_ITO", "BACKEND_COLOURS", "backend_colour", "line_colour",
           "TRUTH_STYLE", "FOUND_STYLE", "GUIDE_GREY", "NOTE_GREY", "OUTLINE_COLOUR",
           "PAPER_COLOUR", "HOLLOW", "LABEL_BOX", "add_colorbar"]

#: Greyscale photographs, digits, scenes.
IMAGE_CMAP = "gray"
#: Non-negative magnitudes: spectra, score maps, activations.
MAGNITUDE_CMAP = "viridis"
#: Probabilities (diffusion propagators): a map readable by dichromats too.
PROBABILITY_CMAP = "cividis"
#: Signed values centred on zero: kernels, gradients, normalized correlation.
SIGNED_CMAP = "RdBu_r"

#: Okabe & Ito's qualitative palette: blue, orange, bluish green, vermillion,
#: reddish purple, sky blue, yellow, black.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442",
             "#000000")

#: One colour per backend and peer, the same in every figure.
BACKEND_COLOURS = {
    "direct": OKABE_ITO[0],
    "im2col": OKABE_ITO[1],
    "fft": OKABE_ITO[2],
    "winograd": OKABE_ITO[3],
    "auto": OKABE_ITO[7],
    "torch": OKABE_ITO[4],
    "scipy": OKABE_ITO[5],
}

#: Ground truth: solid outline, "+" marker.
TRUTH_STYLE = {"linestyle": "-", "marker": "+", "colour": OKABE_ITO[2]}
#: What a method found: dashed outline, "x" marker.
FOUND_STYLE = {"linestyle": "--", "marker": "x", "colour": OKABE_ITO[3]}

#: Guides drawn over data without being data: crossover lines, axis ticks.
GUIDE_GREY = "0.45"
#: Text set on the data (annotations), dark enough to read on a light box.
NOTE_GREY = "0.2"
#: Rings and outlines that mark a point (auto's pick): Okabe & Ito's black.
OUTLINE_COLOUR = OKABE_ITO[7]
#: The figure background, used to fill hollow markers and label boxes.
PAPER_COLOUR = "white"
#: Face colour of a marker drawn as an outline only.
HOLLOW = "none"
#: Keywords of ``bbox=`` for a label on data: a light, borderless box that keeps
#: the text readable over lines and images.
LABEL_BOX = {"boxstyle": "round,pad=0.15", "fc": PAPER_COLOUR, "ec": HOLLOW, "alpha": 0.85}


def line_colour(i: int) -> str:
    """The ``i``-th line colour (Okabe & Ito, cycling after eight).

    Examples
    --------
    >>> line_colour(0), line_colour(8)
    ('#0072B2', '#0072B2')
    """
    return OKABE_ITO[i % len(OKABE_ITO)]


def backend_colour(name: str, index: int = 0) -> str:
    """The colour of backend or peer ``name``; unknown names take line colour ``index``.

    Examples
    --------
    >>> backend_colour("fft")
    '#009E73'
    >>> backend_colour("mine", 1)
    '#E69F00'
    """
    return BACKEND_COLOURS.get(name, line_colour(index))


def add_colorbar(ax, mappable, label: str = "", **kwargs):
    """A colorbar beside ``ax`` for ``mappable`` (an image), labelled with its unit.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The image's axes; the bar takes space from it so grids stay aligned.
    mappable : matplotlib.cm.ScalarMappable
        What ``ax.imshow`` returned.
    label : str
        Quantity and unit, for example ``'|H| (dB)'``.
    **kwargs
        Passed to ``Figure.colorbar`` (``shrink``, ``orientation``...).

    Returns
    -------
    matplotlib.colorbar.Colorbar
    """
    kwargs.setdefault("fraction", 0.046)
    kwargs.setdefault("pad", 0.04)
    bar = ax.figure.colorbar(mappable, ax=ax, **kwargs)
    if label:
        bar.set_label(label)
    return bar
