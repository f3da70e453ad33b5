"""Thin adapters: scipy.signal's and scikit-image's signatures over fftconv's functions.

Each adapter only renames arguments (and, where the two libraries order a result
differently, re-orders it); the computation is fftconv's.  The one step that is more
than a rename is named where it happens: ``fftconvolve`` / ``oaconvolve`` are scipy's
float FFT convolutions, whose inputs scipy.fft turns into floats (integers and bools
become float64) whenever they transform at all, so their adapters do the same before
calling ``fftconv.convolve(..., method='fft')`` (which, like ``scipy.signal.convolve``,
would otherwise round integer inputs back to their integer dtype).
"""

from __future__ import annotations

import numpy as np

import fftconv
from analysis import matching, phase


def convolve(in1, in2, mode="full", method="auto"):
    return fftconv.convolve(in1, in2, mode=mode, method=method)


def correlate(in1, in2, mode="full", method="auto"):
    return fftconv.correlate(in1, in2, mode=mode, method=method)


def _float_input(x):
    """What scipy.fft does to an input before transforming it."""
    arr = np.asarray(x)
    return arr.astype(np.float64) if arr.dtype.kind in "biu" else x


def _transforms(in1, in2, axes) -> bool:
    """Whether scipy's fftconvolve/oaconvolve transform at all: they drop the axes
    where either input has size 1 and, with none left (0-d inputs, single
    elements), return the plain product ``in1 * in2`` in the inputs' dtype."""
    s1, s2 = np.shape(in1), np.shape(in2)
    if len(s1) == 0 or 0 in s1 or 0 in s2 or len(s1) != len(s2):
        return False
    axes = range(len(s1)) if axes is None else np.atleast_1d(axes)
    return any(s1[int(ax)] != 1 and s2[int(ax)] != 1 for ax in axes)


def fftconvolve(in1, in2, mode="full", axes=None):
    if _transforms(in1, in2, axes):
        in1, in2 = _float_input(in1), _float_input(in2)
    return fftconv.convolve(in1, in2, mode=mode, axes=axes, method="fft")


oaconvolve = fftconvolve


def convolve2d(in1, in2, mode="full", boundary="fill", fillvalue=0):
    return fftconv.convolve2d(in1, in2, mode=mode, boundary=boundary, fillvalue=fillvalue)


def correlate2d(in1, in2, mode="full", boundary="fill", fillvalue=0):
    return fftconv.correlate2d(in1, in2, mode=mode, boundary=boundary, fillvalue=fillvalue)


def choose_conv_method(in1, in2, mode="full", measure=False):
    return fftconv.choose_conv_method(in1, in2, mode=mode, measure=measure)


SCIPY = {"convolve": convolve, "correlate": correlate, "fftconvolve": fftconvolve,
         "oaconvolve": oaconvolve, "convolve2d": convolve2d, "correlate2d": correlate2d,
         "choose_conv_method": choose_conv_method}


def match_template(image, template, pad_input=False, mode="constant", constant_values=0):
    return matching.match_template(image, template, pad_input=pad_input, mode=mode,
                                   constant_values=constant_values)


# scikit-image returns the shift that moves the moving image onto the reference;
# fftconv's phase_correlate(a, b) returns the shift that moves a onto b, so the
# adapter passes (moving, reference) as (a, b).
def phase_cross_correlation(reference_image, moving_image, *, upsample_factor=1,
                            space="real", disambiguate=False, reference_mask=None,
                            moving_mask=None, overlap_ratio=0.3, normalization="phase"):
    options = dict(upsample_factor=upsample_factor, normalization=normalization)
    # the other keywords only when given (defaults are fftconv's defaults too)
    for name, value, default in (("space", space, "real"), ("disambiguate", disambiguate, False),
                                 ("a_mask", moving_mask, None), ("b_mask", reference_mask, None),
                                 ("overlap_ratio", overlap_ratio, 0.3)):
        if value is not default:
            options[name] = value
    result = phase.phase_correlate(moving_image, reference_image, **options)
    return result.shift, result.error, result.phase


def masked_phase_cross_correlation(reference_image, moving_image, reference_mask=None,
                                   moving_mask=None, overlap_ratio=0.3):
    if moving_mask is None:          # scikit-image's default: the reference's mask
        moving_mask = reference_mask
    return phase.phase_correlate(moving_image, reference_image, a_mask=moving_mask,
                                 b_mask=reference_mask, overlap_ratio=overlap_ratio).shift


# cross_correlate_masked(arr1, arr2, m1, m2) correlates arr1 with arr2 (arr2 is the
# moving one); phase.masked_correlate(a, b, ...) is the same quantity.
def cross_correlate_masked(arr1, arr2, m1, m2, mode="full", axes=(-2, -1), overlap_ratio=0.3):
    return phase.masked_correlate(arr1, arr2, m1, m2, mode=mode, axes=axes,
                                  overlap_ratio=overlap_ratio)


SKIMAGE = {"match_template": match_template, "phase_cross_correlation": phase_cross_correlation,
           "masked_register_translation": masked_phase_cross_correlation,
           "cross_correlate_masked": cross_correlate_masked}
