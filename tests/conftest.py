"""Suite-wide settings."""

import pytest


@pytest.fixture(autouse=True, scope="session")
def _fast_fftw_planning():
    """Plan FFTW transforms with FFTW_ESTIMATE during tests.

    The suite meets hundreds of distinct transform shapes once each, where
    FFTW_MEASURE's timing runs would dominate; every planner effort computes the
    same exact transform. ``tests/fftconv/test_fftlib.py`` checks the default
    (FFTW_MEASURE) explicitly.
    """
    from fftconv import fftlib
    if "pyfftw" in fftlib.available_engines():
        with fftlib.set_fft_engine("pyfftw", planner_effort="FFTW_ESTIMATE"):
            yield
    else:
        yield
