"""Suite-wide settings."""

import os

import pytest

try:
    from hypothesis import settings
except ImportError:                      # pragma: no cover - hypothesis is in the test extra
    pass
else:
    # No test depends on the clock: hypothesis's per-example deadline would make a
    # property test fail on a loaded machine, so it is off for every test.
    settings.register_profile("fftconv", deadline=None)
    settings.load_profile("fftconv")


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache_dir(tmp_path_factory):
    """A private cache directory: the suite never reads or writes this machine's
    calibration or autotune files, so 'auto' decides from the shipped constants."""
    from fftconv import select
    old = os.environ.get("FFTCONV_CACHE_DIR")
    os.environ["FFTCONV_CACHE_DIR"] = str(tmp_path_factory.mktemp("fftconv-cache"))
    select.load_constants(reload=True)
    yield
    if old is None:
        os.environ.pop("FFTCONV_CACHE_DIR", None)
    else:
        os.environ["FFTCONV_CACHE_DIR"] = old
    select.load_constants(reload=True)


@pytest.fixture(autouse=True, scope="session")
def _fast_fftw_planning(_isolated_cache_dir):
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


@pytest.fixture(autouse=True)
def _forget_auto_choices():
    """'auto' memoizes its choices; a test that patches a backend's cost in place
    must not leave its choices to the next test."""
    yield
    from fftconv import select
    select.forget_choices()


@pytest.fixture(scope="session")
def dask_client():
    """One ``distributed.LocalCluster`` (2 workers of 1 thread, in this process) for
    every test of the dask paths: started once, closed at the end of the session.

    In-process workers share this interpreter's settings (the cache directory
    above); the FFT engine travels in the graph (``fftconv.dask``)."""
    distributed = pytest.importorskip("distributed")  # the test extra installs it
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster, set_as_default=False) as client:
        yield client
