"""The Examples of the complexity modules and of docs/complexity.rst run as written."""

import doctest
import pathlib

import pytest

import analysis.architectures
import analysis.complexity
import analysis.conv_matrix
from fftconv.cli import main

DOC = pathlib.Path(__file__).resolve().parents[2] / "docs" / "complexity.rst"
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


@pytest.mark.parametrize("module", [analysis.complexity, analysis.architectures,
                                    analysis.conv_matrix])
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=FLAGS)
    assert result.failed == 0 and result.attempted > 0


def test_rst_examples():
    result = doctest.testfile(str(DOC), module_relative=False, optionflags=FLAGS)
    assert result.failed == 0 and result.attempted > 0


def test_rst_shows_the_current_lenet5_table(capsys):
    assert main(["cost", "lenet5"]) == 0
    printed = capsys.readouterr().out.splitlines()
    text = DOC.read_text(encoding="utf-8").splitlines()
    start = text.index("    $ fftconv cost lenet5") + 1
    shown = [line[4:] for line in text[start:start + len(printed)]]
    assert shown == printed
