"""Every Examples section in the core fftconv modules runs and prints what it says."""

import doctest
import importlib

import pytest

MODULES = ["api", "errors", "checks", "fftlib", "select", "bench", "timing", "backends",
           "backends.base", "backends._parallel", "backends.direct", "backends.fft",
           "backends.im2col",
           "testing", "optional", "jsonfiles", "torch"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"fftconv.{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
