"""Run scipy's and scikit-image's own tests of the functions fftconv mirrors, against fftconv.

Usage (from the repository root; not part of ``make test``: it runs ~12,000 tests)::

    PYTHONPATH=. python -m tools.parity.run [--only scipy|skimage] [--skimage-src DIR] [pytest args]

scipy's tests ship inside the installed package and run from there
(``scipy/signal/tests/test_signaltools.py``, the tests of convolve, correlate,
fftconvolve, oaconvolve, convolve2d, correlate2d and choose_conv_method).
scikit-image's do not ship in its wheel: ``--skimage-src`` names a git checkout of
scikit-image (default ``$SKIMAGE_SRC``), and the three test files and the registration
test data are taken from the tag of the installed version (``v{skimage.__version__}``)
into a temporary directory.  The images scikit-image downloads with pooch
(``data.eagle()``, ``data.brain()``) are not downloaded: without pooch those tests
fail at setup with scikit-image's "requires ... pooch" error and are reported as such.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import subprocess
import sys
import tempfile

from .plugin import SCIPY_SELECTION

SKIMAGE_FILES = ("tests/skimage/feature/test_template.py",
                 "tests/skimage/registration/test_phase_cross_correlation.py",
                 "tests/skimage/registration/test_masked_phase_cross_correlation.py")
SKIMAGE_DATA = "tests/skimage/registration/data"

CONFTEST = '''import pathlib
import pytest


@pytest.fixture
def test_root_dir():
    """The directory above registration/data (the fixture scikit-image's tests use)."""
    return pathlib.Path(__file__).absolute().parent
'''


def _git(src, *args) -> bytes:
    return subprocess.run(["git", "-C", str(src), *args], check=True, capture_output=True).stdout


def skimage_tests(src: pathlib.Path, into: pathlib.Path) -> list[str]:
    import skimage
    tag = f"v{skimage.__version__}"
    (into / "registration" / "data").mkdir(parents=True)
    (into / "feature").mkdir()
    (into / "conftest.py").write_text(CONFTEST)
    paths = []
    for name in SKIMAGE_FILES:
        target = into / pathlib.Path(name).parent.name / pathlib.Path(name).name
        target.write_bytes(_git(src, "show", f"{tag}:{name}"))
        paths.append(str(target))
    for entry in _git(src, "ls-tree", "--name-only", f"{tag}:{SKIMAGE_DATA}").decode().split():
        (into / "registration" / "data" / entry).write_bytes(
            _git(src, "show", f"{tag}:{SKIMAGE_DATA}/{entry}"))
    return paths


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("scipy", "skimage"))
    parser.add_argument("--skimage-src", default=os.environ.get("SKIMAGE_SRC"))
    args, rest = parser.parse_known_args(argv)
    import scipy.signal.tests
    scipy_tests = pathlib.Path(scipy.signal.tests.__file__).parent / "test_signaltools.py"
    site = scipy_tests.parents[3]
    base = [sys.executable, "-m", "pytest", "-p", "tools.parity.plugin", "-q",
            "-o", "addopts=", "-W", "ignore::DeprecationWarning", "--tb=line", "-p", "no:cacheprovider"]
    status = 0
    if args.only in (None, "scipy"):
        # scipy's conftest (its xp fixture) is found from the test file's directory
        status |= subprocess.call(base + ["--rootdir", str(site / "scipy"), "--confcutdir",
                                          str(site), "-k", SCIPY_SELECTION, str(scipy_tests),
                                          *rest])
    if args.only in (None, "skimage"):
        if not args.skimage_src:
            parser.error("scikit-image's tests need --skimage-src (a scikit-image git checkout)")
        with tempfile.TemporaryDirectory(prefix="fftconv-parity-") as tmp:
            paths = skimage_tests(pathlib.Path(args.skimage_src), pathlib.Path(tmp))
            status |= subprocess.call(base + ["--rootdir", tmp, *paths, *rest])
    return status


if __name__ == "__main__":
    sys.exit(main())
