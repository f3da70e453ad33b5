"""Every Examples section in fftconv.nn runs and prints what it says."""

import doctest
import importlib

import pytest

MODULES = ["module", "init", "layers", "losses", "optim", "data", "models", "train",
           "checkpoint", "summary", "compare", "plots"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"fftconv.nn.{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
