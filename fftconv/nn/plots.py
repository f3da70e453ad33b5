"""Figures of a training run: learning curves and the first layer's filters.

Both functions build and return a :class:`matplotlib.figure.Figure` without
touching pyplot's global state; saving is the caller's business (the CLI).
matplotlib is optional (the ``plots`` extra): without it these functions raise an
ImportError saying so, and the rest of :mod:`fftconv.nn` works.
"""

from __future__ import annotations

import numpy as np

from ..optional import require
from ..errors import bad_type, bad_value
from .train import History

__all__ = ["training_curves_figure", "filters_figure"]


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

    Examples
    --------
    >>> from fftconv import nn
    >>> h = nn.History(loss=[1.0, 0.5], accuracy=[0.6, 0.8], seconds=[1.0, 1.0])
    >>> [ax.get_ylabel() for ax in training_curves_figure(h).axes]
    ['loss', 'accuracy']
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
        ax.plot(epochs, getattr(history, key), marker="o", label="train")
        val = getattr(history, f"val_{key}")
        if val:
            ax.plot(epochs[:len(val)], val, marker="s", label="test")
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
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
        Each kernel drawn with a symmetric grey scale (0 is mid-grey), so the
        sign of the weights is visible; rows are output maps.

    Examples
    --------
    >>> import numpy as np
    >>> len(filters_figure(np.ones((6, 1, 5, 5))).axes)
    6
    """
    Figure = require("matplotlib.figure", "plots", "filters_figure").Figure

    if not isinstance(weight, np.ndarray) or weight.ndim != 4:
        raise bad_value("filters_figure", "weight", weight,
                        "a 4-d array (C_out, C_in, kh, kw)")
    c_out, c_in = weight.shape[:2]
    cols = c_in if c_in > 1 else min(c_out, 8)
    rows = c_out if c_in > 1 else -(-c_out // cols)
    fig = Figure(figsize=(1.1 * cols + 0.4, 1.1 * rows + 0.5), layout="constrained")
    kernels = weight.reshape(c_out * c_in, *weight.shape[2:])
    for index, kernel in enumerate(kernels):
        ax = fig.add_subplot(rows, cols, index + 1)
        limit = float(np.abs(kernel).max()) or 1.0
        ax.imshow(kernel, cmap="gray", vmin=-limit, vmax=limit, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        if c_in == 1:
            ax.set_title(str(index), fontsize=8)
    fig.suptitle(title or f"first-layer filters {weight.shape}")
    return fig
