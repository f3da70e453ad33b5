"""Overlap-save tiling: the one tile planner of every FFT path in fftconv.

A valid correlation of a signal with a kernel of ``K`` taps along an axis yields
``L`` outputs from ``L + K - 1`` inputs. Overlap-save cuts the input into tiles
of ``T`` samples (a fast transform length) that overlap by ``K - 1``; each
tile's circular correlation at length ``T`` is exact in its first
``t = T - K + 1`` outputs (the wrap-around lands in the last ``K - 1``, which
are discarded), so ``ceil(L / t)`` tiles cover the output. ``T`` is the trade:
small tiles keep transforms in cache and make the per-frequency products large
(NNPACK; Mathieu et al. 2013), large tiles recompute fewer overlapping inputs;
one tile of ``next_fast_len(L + K - 1)`` samples is the untiled method.

This module only plans: :func:`tile_lengths` lists the candidate lengths of an
axis, :func:`choose_tiles` takes the candidate shape a caller's cost function
rates cheapest, and :class:`TilePlan` holds the resulting geometry. The cost
functions belong to the callers (the FFT backend's fitted model, the signal
ops' model), so the planner is the same for every one of them.

Examples
--------
>>> plan = TilePlan.make((16, 32), (3, 3), (100, 100))
>>> plan.valid, plan.counts, plan.tiles
((14, 30), (8, 4), 32)
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from .fftlib import fast_lengths, next_fast_len

__all__ = ["TilePlan", "tile_lengths", "choose_tiles"]


@dataclass(frozen=True)
class TilePlan:
    """Overlap-save tiles of a valid correlation over ``d`` axes.

    Attributes
    ----------
    transform : tuple of int
        Transform (tile) length ``T`` per axis.
    kernel : tuple of int
        Kernel taps ``K`` per axis (``K <= T``).
    counts : tuple of int
        Tiles per axis, ``ceil(L / (T - K + 1))`` for ``L`` outputs.

    The 2-D accessors ``th, tw, kh, kw, nth, ntw, t_h, t_w`` name the entries
    of a two-axis plan the way the FFT backend's formulas do.
    """

    transform: tuple
    kernel: tuple
    counts: tuple

    @classmethod
    def make(cls, transform, kernel, out_shape) -> "TilePlan":
        """The plan covering ``out_shape`` outputs with tiles of ``transform`` samples."""
        transform, kernel = tuple(int(t) for t in transform), tuple(int(k) for k in kernel)
        counts = tuple(math.ceil(n / (t - k + 1))
                       for n, t, k in zip(out_shape, transform, kernel))
        return cls(transform, kernel, counts)

    @property
    def valid(self) -> tuple:
        """Exact outputs per tile and axis, ``T - K + 1``."""
        return tuple(t - k + 1 for t, k in zip(self.transform, self.kernel))

    @property
    def tiles(self) -> int:
        """Number of tiles in all."""
        return math.prod(self.counts)

    @property
    def spectrum_shape(self) -> tuple:
        """Shape of one tile's real-FFT spectrum (the last axis halved)."""
        return self.transform[:-1] + (self.transform[-1] // 2 + 1,)

    # two-axis names, as in the FFT backend's formulas
    th = property(lambda self: self.transform[0])
    tw = property(lambda self: self.transform[1])
    kh = property(lambda self: self.kernel[0])
    kw = property(lambda self: self.kernel[1])
    nth = property(lambda self: self.counts[0])
    ntw = property(lambda self: self.counts[1])
    t_h = property(lambda self: self.valid[0])
    t_w = property(lambda self: self.valid[1])


def tile_lengths(out_len: int, kernel_len: int) -> list[int]:
    """Candidate tile lengths of one axis, ascending.

    The fast lengths (:func:`fftconv.fftlib.fast_lengths`) from ``2K - 1``, where
    a tile yields at least ``K`` outputs, up to the single tile
    ``next_fast_len(L + K - 1)`` that covers the whole axis.

    Examples
    --------
    >>> tile_lengths(30, 3)
    [5, 6, 8, 9, 10, 12, 15, 16, 18, 20, 24, 30, 32]
    >>> tile_lengths(4, 5)             # a short axis: the single tile only
    [8]
    """
    full = next_fast_len(out_len + kernel_len - 1)
    return fast_lengths(min(2 * kernel_len - 1, full), full) or [full]


def _thin(lengths: list, most: int) -> list:
    """At most ``most`` of ``lengths``, spread evenly, keeping both ends.

    Examples
    --------
    >>> _thin([5, 6, 8, 9, 10, 12, 15, 16], 4)
    [5, 8, 12, 16]
    """
    if len(lengths) <= most:
        return lengths
    picks = {round(i * (len(lengths) - 1) / (most - 1)) for i in range(most)}
    return [lengths[i] for i in sorted(picks)]


def choose_tiles(out_shape, kernel_shape, seconds, prefer=None, most=None) -> TilePlan:
    """The tiling that ``seconds`` rates cheapest among the candidate shapes.

    Parameters
    ----------
    out_shape : tuple of int
        Valid outputs ``L`` per tiled axis.
    kernel_shape : tuple of int
        Kernel taps ``K`` per tiled axis.
    seconds : callable
        ``seconds(plan) -> float``, the caller's cost of running a
        :class:`TilePlan`; ties go to the smaller transform.
    prefer : callable, optional
        ``prefer(plan) -> bool``: only plans it accepts are rated, unless it
        accepts none (a caller's structural wish, such as a tile-row count that
        its threads share evenly).
    most : int, optional
        Rate at most this many lengths per axis (spread over the candidates,
        both ends kept): every combination is rated, so signals of three or
        more axes need fewer per axis.

    Returns
    -------
    TilePlan

    Examples
    --------
    >>> points = lambda plan: plan.tiles * math.prod(plan.transform)
    >>> choose_tiles((100,), (3,), points)               # fewest points transformed
    TilePlan(transform=(36,), kernel=(3,), counts=(3,))
    >>> choose_tiles((100,), (3,), points, prefer=lambda p: p.counts[0] % 4 == 0).counts
    (8,)
    """
    candidates = [tile_lengths(n, k) for n, k in zip(out_shape, kernel_shape)]
    if most is not None:
        candidates = [_thin(c, most) for c in candidates]
    plans = [TilePlan.make(shape, kernel_shape, out_shape)
             for shape in itertools.product(*candidates)]
    if prefer is not None:
        plans = [plan for plan in plans if prefer(plan)] or plans
    return min(plans, key=seconds)
