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


MATCHING_DOC = pathlib.Path(__file__).resolve().parents[2] / "docs" / "matching.rst"


def test_matching_docstring_examples():
    import analysis.match_bench
    import analysis.match_plots
    import analysis.matching
    import analysis.peaks
    import analysis.phase

    for module in (analysis.matching, analysis.peaks, analysis.phase, analysis.match_plots,
                   analysis.match_bench):
        result = doctest.testmod(module, optionflags=FLAGS)
        assert result.failed == 0 and result.attempted > 0, module.__name__


def test_matching_rst_examples():
    result = doctest.testfile(str(MATCHING_DOC), module_relative=False, optionflags=FLAGS)
    assert result.failed == 0 and result.attempted > 0
