"""The gallery takes every colour and colour map from :mod:`fftconv.style`.

Issue 23 asks for one style module, not per-figure choices. An example that writes
``color="C0"``, ``cmap="magma"``, ``"k-"`` or ``"#D55E00"`` makes its own choice,
so this test reads each example's syntax tree (and those of the library modules
that draw figures, :data:`FIGURE_MODULES`) and refuses colour and colour-map
literals in the places matplotlib reads them: colour keywords, format strings of
``plot``-like calls, and string constants naming a colour or a colour map. Names
from ``fftconv.style`` (``style.SIGNED_CMAP``, ``style.backend_colour(name)``) are
expressions, not literals, so they pass.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import matplotlib
import matplotlib.colors
import pytest

from fftconv import style

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "docs" / "examples").glob("plot_*.py"))
#: Library modules that draw figures, held to the same rule as the examples.
FIGURE_MODULES = [ROOT / "fftconv" / "bench.py", ROOT / "analysis" / "match_plots.py"]

#: Keywords through which matplotlib takes a colour or a colour map.
COLOUR_KEYWORDS = {"color", "colors", "c", "ec", "edgecolor", "edgecolors", "fc", "facecolor",
                   "facecolors", "mec", "markeredgecolor", "mfc", "markerfacecolor", "cmap",
                   "colour", "ecolor"}
#: Calls whose positional string arguments may be a format such as ``"r--"``.
FORMAT_CALLS = {"plot", "semilogx", "semilogy", "loglog", "errorbar", "step"}
#: A format string's colour: one of matplotlib's single letters or ``C<n>``.
FORMAT_COLOUR = re.compile(r"C\d|(?<![A-Za-z])[bgrcmykw](?![A-Za-z])")

#: String constants that are colour-map or colour names, spelled as matplotlib spells
#: them ("Spectral" is a map, "spectral" a parametrization); single letters are left
#: to the keyword and format checks, as "x" and "y" also name axes.
NAMED = (set(matplotlib.colormaps)
         | {name for name in matplotlib.colors.get_named_colors_mapping()
            if len(name) > 1 and ":" not in name})


def _literal_strings(node):
    """The string constants of ``node`` if it is a literal (str, f-string, list/tuple of them)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return ["".join(v.value for v in node.values if isinstance(v, ast.Constant)) + "C0"]
    if isinstance(node, (ast.List, ast.Tuple)):
        return [s for element in node.elts for s in _literal_strings(element)]
    return []


def _docstrings(tree):
    """Ids of the docstring constants (prose may name colours)."""
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def style_violations(source: str) -> list[str]:
    """Every colour or colour-map literal in ``source``, as ``'line N: what'``."""
    tree = ast.parse(source)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        for keyword in node.keywords:
            if keyword.arg in COLOUR_KEYWORDS and _literal_strings(keyword.value):
                found.append(f"line {node.lineno}: {keyword.arg}="
                             f"{ast.get_source_segment(source, keyword.value)}")
        name = getattr(node.func, "attr", getattr(node.func, "id", ""))
        if name in FORMAT_CALLS:
            for arg in node.args:
                for text in _literal_strings(arg):
                    if FORMAT_COLOUR.search(text):
                        found.append(f"line {node.lineno}: format {text!r} in {name}()")
    skip = _docstrings(tree)
    for node in ast.walk(tree):
        if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                and id(node) not in skip):
            text = node.value.strip()
            if text in NAMED or (re.fullmatch(r"#[0-9a-fA-F]{3,8}|(tab|xkcd):\w+",
                                                      text)):
                found.append(f"line {node.lineno}: colour or colour map {text!r}")
    return sorted(set(found))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_take_colours_from_fftconv_style(path):
    assert style_violations(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("path", FIGURE_MODULES, ids=lambda p: p.name)
def test_figure_modules_take_colours_from_fftconv_style(path):
    assert style_violations(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("snippet", [
    'ax.plot(x, y, color="C0")',
    "ax.imshow(a, cmap='viridis')",
    'ax.plot(x, y, "k-")',
    'ax.plot(x, y, "C1--", lw=2)',
    'ax.add_patch(Rectangle((0, 0), 1, 1, ec="tab:red"))',
    'ax.bar(x, y, color=["C0", "C2"])',
    'ax.loglog(x, y, "o-", color=f"C{i}")',
    'ax.axhline(1.0, color="0.4")',
    'colours = {"fft": "#009E73"}',
    'CMAP = "magma"',
    'ax.imshow(a, cmap="Greys")',
    'ax.scatter(x, y, facecolors="none", edgecolors="k")',
    'ax.annotate("a", (0, 0), bbox=dict(fc="white", ec="none"))',
])
def test_the_scan_catches_each_kind_of_literal(snippet):
    assert style_violations(snippet), snippet


@pytest.mark.parametrize("snippet", [
    "ax.imshow(a, cmap=style.SIGNED_CMAP)",
    'ax.plot(x, y, "o-", color=style.backend_colour(name, i))',
    'ax.plot(x, y, "s--", label="x (column)")',
    'ax.semilogy(ks, ops, "o-", label="direct / im2col")',
    'kernels.named_kernel("sobel:direction=y")',
    '"""A docstring may say viridis, gray or tab:red."""',
    "ax.bar(x, y, color=[style.line_colour(0), style.line_colour(2)])",
    "ax.scatter(x, y, facecolors=style.HOLLOW, edgecolors=style.OUTLINE_COLOUR)",
    "ax.annotate('a', (0, 0), color=style.NOTE_GREY, bbox=dict(style.LABEL_BOX))",
])
def test_the_scan_passes_style_names_and_ordinary_strings(snippet):
    assert style_violations(snippet) == []


def test_what_the_style_module_exports_is_what_matplotlib_draws():
    """The names the examples use instead of literals resolve to real maps and colours."""
    for cmap in (style.IMAGE_CMAP, style.MAGNITUDE_CMAP, style.PROBABILITY_CMAP,
                 style.SIGNED_CMAP):
        assert cmap in matplotlib.colormaps
    colours = [*style.OKABE_ITO, *style.BACKEND_COLOURS.values(),
               style.TRUTH_STYLE["colour"], style.FOUND_STYLE["colour"], style.GUIDE_GREY,
               style.NOTE_GREY, style.OUTLINE_COLOUR, style.PAPER_COLOUR,
               style.LABEL_BOX["fc"]]
    assert all(matplotlib.colors.is_color_like(c) for c in colours)
    assert set(style.BACKEND_COLOURS.values()) <= set(style.OKABE_ITO)
