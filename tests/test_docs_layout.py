"""The documentation hangs together (checked without Sphinx; `make docs` builds it).

Every page is in the index, every gallery example is ordered and titled, every
figure a page shows comes from an example, every link of the README resolves, and
the README's Quickstart is exactly two commands.
"""

import ast
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
EXAMPLES = sorted((DOCS / "examples").glob("plot_*.py"))


def _gallery_order():
    tree = ast.parse((DOCS / "_ext" / "fftconv_gallery.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and node.targets[0].id == "ORDER":
            return ast.literal_eval(node.value)
    raise AssertionError("docs/_ext/fftconv_gallery.py defines no ORDER")


def test_every_page_is_in_the_index():
    index = (DOCS / "index.rst").read_text(encoding="utf-8")
    entries = set(re.findall(r"^   ([\w/]+)$", index, re.M))
    pages = {p.stem for p in DOCS.glob("*.rst")} - {"index", "api", "sg_execution_times"}
    assert pages <= entries, pages - entries
    assert {"api", "auto_examples/index"} <= entries


def test_the_gallery_order_lists_exactly_the_examples():
    assert sorted(_gallery_order()) == sorted(p.name for p in EXAMPLES)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_each_example_compiles_and_has_a_gallery_title(path):
    source = path.read_text(encoding="utf-8")
    docstring = ast.get_docstring(ast.parse(source))
    lines = docstring.splitlines()
    assert lines[0].strip() and set(lines[1]) == {"="} and len(lines[1]) >= len(lines[0])
    assert "pyplot" not in source                      # figures are Figure objects
    compile(source, str(path), "exec")


def test_figures_shown_by_pages_come_from_examples():
    names = {p.stem for p in EXAMPLES}
    for page in DOCS.glob("*.rst"):
        for name in re.findall(r"/auto_examples/images/sphx_glr_(\w+?)_\d{3}\.png",
                               page.read_text(encoding="utf-8")):
            assert name in names, (page.name, name)


def test_readme_links_resolve_and_quickstart_is_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#]+)\)", readme):
        if not target.startswith("http"):
            assert (ROOT / target).exists(), target
    quickstart = readme.split("## Quickstart", 1)[1].split("```")[1]
    assert quickstart.split() == ["make", "demo", "make", "test"]
