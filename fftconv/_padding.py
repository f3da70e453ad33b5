"""Padding modes of the layer ops and their adjoints.

``torch.nn.Conv1d/2d/3d(padding_mode=...)`` pads the input with ``F.pad`` by the
layer's padding and then convolves it without padding; :func:`fftconv.conv2d`
and friends do the same with :func:`pad_by_mode`. Along one axis of length
``n``, padded index ``i`` (``-before <= i < n + after``) reads input index

* ``'reflect'``: ``|i|`` mirrored at both ends without repeating the edge
  (``-i`` below 0, ``2(n-1) - i`` above ``n-1``; each pad ``< n``);
* ``'replicate'``: ``clip(i, 0, n-1)``, the edge repeated;
* ``'circular'``: ``i mod n``, the other end of the axis (each pad ``<= n``);

so the padding is a linear map ``P`` and the input gradient of the layer is
``Pᵀ`` of the padded input's gradient: :func:`fold_padding` adds each padded
entry's gradient to the entry it copies, axis by axis (the map is separable).
"""

from __future__ import annotations

import numpy as np

from .errors import bad_type, bad_value

__all__ = ["PADDING_MODES", "check_padding_mode", "pad_by_mode", "fold_padding", "source_index"]

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
_NUMPY_MODE = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}
_ALLOWED = "one of 'zeros', 'reflect', 'replicate', 'circular'"


def check_padding_mode(func: str, mode) -> str:
    """``mode`` if it is one of :data:`PADDING_MODES`, else a clear error from ``func``."""
    if not isinstance(mode, str):
        raise bad_type(func, "padding_mode", mode, _ALLOWED)
    if mode not in PADDING_MODES:
        raise bad_value(func, "padding_mode", mode, _ALLOWED)
    return mode


def source_index(i: int, n: int, mode: str) -> int:
    """The input index that padded index ``i`` of an axis of length ``n`` copies.

    Examples
    --------
    >>> [source_index(i, 4, "reflect") for i in (-2, -1, 4, 5)]
    [2, 1, 2, 1]
    >>> [source_index(i, 4, "circular") for i in (-1, 4)]
    [3, 0]
    """
    if mode == "reflect":
        return -i if i < 0 else (2 * (n - 1) - i if i >= n else i)
    if mode == "replicate":
        return min(max(i, 0), n - 1)
    return i % n


def pad_by_mode(func: str, x: np.ndarray, pads, mode: str) -> np.ndarray:
    """Pad the spatial axes of ``(N, C, *size)`` by ``pads`` (one ``(before, after)``
    pair per axis), filling by ``mode`` (module notes).

    Raises
    ------
    ValueError
        'reflect' with a pad not smaller than its axis, 'circular' with a pad
        larger than its axis (PyTorch refuses both).
    """
    for axis, ((before, after), n) in enumerate(zip(pads, x.shape[2:])):
        largest = max(before, after)
        if mode == "reflect" and largest >= n:
            raise bad_value(func, "padding", pads,
                            f"pads smaller than the input along each axis for "
                            f"padding_mode='reflect' (axis {axis} has length {n})")
        if mode == "circular" and largest > n:
            raise bad_value(func, "padding", pads,
                            f"pads at most the input's length along each axis for "
                            f"padding_mode='circular' (axis {axis} has length {n})")
    return np.pad(x, ((0, 0), (0, 0), *pads), mode=_NUMPY_MODE[mode])


def fold_padding(g: np.ndarray, pads, size, mode: str) -> np.ndarray:
    """The adjoint of :func:`pad_by_mode`: ``(N, C, *padded)`` → ``(N, C, *size)``.

    Each padded entry's value is added to the input entry it copies, one axis
    at a time (a slab per padded index, so the cost is that of the pads).
    """
    for axis, ((before, after), n) in enumerate(zip(pads, size)):
        ax = axis + 2
        lead = (slice(None),) * ax
        out = np.array(g[lead + (slice(before, before + n),)], copy=True)
        for j in (*range(before), *range(before + n, before + n + after)):
            out[lead + (source_index(j - before, n, mode),)] += g[lead + (j,)]
        g = out
    return np.ascontiguousarray(g)
