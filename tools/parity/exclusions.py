"""The upstream tests the parity run leaves out, each with its reason.

Only tests of the upstream library's own internals are excluded: the exact texts of
its error messages, the warnings it emits, and its private helpers.  Everything else
runs against fftconv through :mod:`tools.parity.adapters`.
"""

from __future__ import annotations

import re

EXCLUDED = [
    # scipy.signal
    (r"TestAllFreqConvolves::test_invalid_shapes\[",
     "matches scipy's exact ValueError text ('For 'valid' mode, one must be ...')"),
    (r"TestAllFreqConvolves::test_invalid_shapes_axes",
     "matches scipy's exact ValueError text ('incompatible shapes for in1 and in2 ...')"),
    (r"TestAllFreqConvolves::test_mismatched_dims",
     "matches scipy's exact ValueError text ('in1 and in2 should have the same ...')"),
    (r"TestAllFreqConvolves::test_invalid_flags",
     "matches scipy's exact ValueError texts ('acceptable mode flags are ...')"),
    (r"TestConvolve2d::test_fillvalue_errors",
     "matches scipy's exact ValueError texts ('could not cast `fillvalue` directly ...'); "
     "fftconv raises ValueError for both cases too (tests/fftconv/test_errors.py)"),
    (r"TestFFTConvolve::test_fft_nan",
     "checks the RuntimeWarning scipy emits for NaN/inf input on the FFT path"),
    # scikit-image
    (r"test_phase_cross_correlation\.py::test_mismatch_(upsampled_region|offsets)_size",
     "tests scikit-image's private helper _upsampled_dft"),
    (r"test_phase_cross_correlation\.py::test_disambiguate_empty_image",
     "checks the texts, count and stacklevel of scikit-image's UserWarnings"),
]


def reason(nodeid: str) -> str | None:
    for pattern, why in EXCLUDED:
        if re.search(pattern, nodeid):
            return why
    return None
