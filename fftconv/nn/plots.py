"""Figures of a training run: learning curves and the first layer's filters.

Both functions build and return a :class:`matplotlib.figure.Figure` without
touching pyplot's global state; saving is the caller's business (the CLI).
matplotlib is optional (the ``plots`` extra): without it these functions raise an
ImportError saying so, and the rest of :mod:`fftconv.nn` works.
"""

from __future__ import annotations

import numpy as np

from .. import style
from ..optional import require
from ..errors import bad_type, bad_value
from .train import History

__all__ = ["training_curves_figure", "filters_figure", "CURVE_LABELS", "WEIGHT_LABEL"]

#: The y-axis label of each learning curve: the quantity and its unit.
CURVE_LABELS = {"loss": "loss (mean per sample)", "accuracy": "accuracy (fraction correct)"}
#: The filters' colour bar: a weight scales an input value into an output value, so it
#: carries no unit of its own.
WEIGHT_LABEL = "weight (unitless)"


def training_curves_figure(history: History, title: str = ""):
    """Loss and accuracy per epoch, training and validation, side by side.

    Parameters
    ----------
    history : History
        As returned by :func:`~fftconv.nn.fit`.
    title : str
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        Two axes, loss and accuracy against the epoch (1, 2, ...). Training is
        drawn in :func:`fftconv.style.line_colour` ``(0)`` with circles, the
        held-out set in ``line_colour(1)`` with squares (shape tells them apart
        too); accuracy, a fraction of the samples, is on a fixed 0-1 axis.

    Examples
    --------
    >>> from fftconv import nn
    >>> h = nn.History(loss=[1.0, 0.5], accuracy=[0.6, 0.8], seconds=[1.0, 1.0])
    >>> [ax.get_ylabel() for ax in training_curves_figure(h).axes]
    ['loss (mean per sample)', 'accuracy (fraction correct)']
    """
    Figure = require("matplotlib.figure", "plots", "training_curves_figure").Figure

    if not isinstance(history, History):
        raise bad_type("training_curves_figure", "history", history, "a fftconv.nn.History")
    if not history.loss:
        raise bad_value("training_curves_figure", "history", history,
                        "a history of at least one epoch")
    epochs = np.arange(1, history.epochs + 1)
    fig = Figure(figsize=(9, 3.6), layout="constrained")
    for ax, key in zip(fig.subplots(1, 2), ("loss", "accuracy")):
        ax.plot(epochs, getattr(history, key), marker="o", color=style.line_colour(0),
                label="train")
        val = getattr(history, f"val_{key}")
        if val:
            ax.plot(epochs[:len(val)], val, marker="s", color=style.line_colour(1),
                    label="test")
        ax.set_xlabel("epoch")
        ax.set_ylabel(CURVE_LABELS[key])
        if key == "accuracy":
            ax.set_ylim(0, 1.02)
        # epochs are whole numbers: no tick at 1.5
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    return fig


def filters_figure(weight, title: str = ""):
    """A grid of first-layer kernels, one image per (output, input) channel pair.

    Parameters
    ----------
    weight : ndarray, shape (C_out, C_in, kh, kw)
        For example ``model["c1"].weight.data``.
    title : str

    Returns
    -------
    matplotlib.figure.Figure
        One image per kernel, rows are output maps, all on one symmetric scale
        ``[-m, m]`` with ``m = max |weight|`` in :data:`fftconv.style.SIGNED_CMAP`
        (0 is white, so the sign of a weight shows and kernels compare), and one
        colour bar labelled :data:`WEIGHT_LABEL` for the whole grid.

    Examples
    --------
    >>> import numpy as np
    >>> fig = filters_figure(np.ones((6, 1, 5, 5)))
    >>> len(fig.axes), fig.axes[-1].get_ylabel()        # six kernels and the colour bar
    (7, 'weight (unitless)')
    """
    Figure = require("matplotlib.figure", "plots", "filters_figure").Figure

    if not isinstance(weight, np.ndarray) or weight.ndim != 4:
        raise bad_value("filters_figure", "weight", weight,
                        "a 4-d array (C_out, C_in, kh, kw)")
    c_out, c_in = weight.shape[:2]
    cols = c_in if c_in > 1 else min(c_out, 8)
    rows = c_out if c_in > 1 else -(-c_out // cols)
    # at least 2.2 in tall, so that one row still has room for the bar's label
    fig = Figure(figsize=(1.1 * cols + 1.2, max(2.2, 1.1 * rows + 0.6)), layout="constrained")
    kernels = weight.reshape(c_out * c_in, *weight.shape[2:])
    limit = float(np.abs(kernels).max()) or 1.0
    axes = []
    for index, kernel in enumerate(kernels):
        ax = fig.add_subplot(rows, cols, index + 1)
        shown = ax.imshow(kernel, cmap=style.SIGNED_CMAP, vmin=-limit, vmax=limit,
                          interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        if c_in == 1:
            ax.set_title(str(index), fontsize=8)
        else:                           # name the channel pair on the grid's edges
            if index < c_in:
                ax.set_title(f"in {index}", fontsize=8)
            if index % c_in == 0:
                ax.set_ylabel(f"out {index // c_in}", fontsize=8)
        axes.append(ax)
    bar = fig.colorbar(shown, ax=axes, fraction=0.05, pad=0.03)
    bar.set_label(WEIGHT_LABEL)
    fig.suptitle(title or f"first-layer filters {weight.shape}")
    return fig
