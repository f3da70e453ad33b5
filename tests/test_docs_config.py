"""The documentation's configuration: offline math, the theme, its packages, and wording.

These read files (``docs/conf.py`` through :mod:`ast`, ``setup.cfg``, the ``.rst``
pages and the source tree); none needs Sphinx, so they run under ``make test``.
Building the pages is ``make docs``'s job.
"""

import ast
import configparser
import importlib
import inspect
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def conf_assignments():
    """The top-level ``name = value`` assignments of ``docs/conf.py`` whose value is a literal."""
    tree = ast.parse((DOCS / "conf.py").read_text(encoding="utf-8"))
    values = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], ast.Name):
            try:
                values[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                values[node.targets[0].id] = node.value
    return values


def test_theme_is_pydata_with_search():
    conf = conf_assignments()
    assert conf["html_theme"] == "pydata_sphinx_theme"
    # the theme's search button lives in navbar_persistent (its default); a
    # configuration that replaces the list must keep it
    options = conf.get("html_theme_options", {})
    persistent = options.get("navbar_persistent", ["search-button-field"])
    assert any("search" in item for item in persistent), persistent
    assert conf.get("html_search", True) is not False


def test_math_is_rendered_by_the_mathjax_copy_shipped_with_the_docs():
    conf = conf_assignments()
    extensions = conf["extensions"]
    assert "sphinx.ext.mathjax" in extensions
    assert "sphinx-mathjax-offline" in extensions
    # the offline extension sets mathjax_path in its setup(); sphinx.ext.mathjax must be
    # listed first or its default (a CDN URL) would be registered after it
    assert extensions.index("sphinx.ext.mathjax") < extensions.index("sphinx-mathjax-offline")
    for name in ("mathjax_path", "mathjax3_config", "mathjax2_config"):
        assert not re.search(r"https?://", repr(conf.get(name, ""))), name
    assert "sphinx.ext.intersphinx" not in extensions, "intersphinx fetches inventories"


def test_external_links_extension_is_local_and_used():
    conf = conf_assignments()
    assert "external_links" in conf["extensions"]
    assert (DOCS / "_ext" / "external_links.py").is_file()


def test_docs_extra_lists_the_packages_conf_py_needs():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg", encoding="utf-8")
    docs = cfg["options.extras_require"]["docs"]
    names = {re.split(r"[<>=!~\[ ]", line.strip(), maxsplit=1)[0].lower()
             for line in docs.splitlines() if line.strip() and not line.strip().startswith("%")}
    for package in ("sphinx", "numpydoc", "sphinx-gallery", "pydata-sphinx-theme",
                    "sphinx-mathjax-offline"):
        assert package in names, f"setup.cfg [docs] extra lacks {package}"


#: Characters that only appear in formulas (operators, Greek letters, super/subscripts).
MATH_CHARS = "·²³⊗∂δΣ√⌊⌋≤≥ᵀ∑βθλσηφ⟨⟩⊙⁻₁½‖"


def test_formulas_in_prose_are_math_not_code_text():
    """A ````code```` span made of formula characters is a formula shown as LaTeX-ish text."""
    offenders = []
    for page in sorted(DOCS.glob("*.rst")):
        for lineno, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            if line.startswith(("    ", "   >>>", ">>>")):
                continue                                    # literal blocks, doctests
            for span in re.findall(r"``([^`]+)``", line):
                if any(c in MATH_CHARS for c in span):
                    offenders.append(f"{page.name}:{lineno}: ``{span}``")
    assert not offenders, "write these with :math: — \n" + "\n".join(offenders)


#: "seed 002", "Seeds 002–004", "shared/seeds/": the project's internal source notes.
SEED = re.compile(r"\b[Ss]eeds?[ -]\d{3}\b|\bseeds/")
USER_FACING = ("fftconv", "analysis", "docs", "benchmarks", "tools", "README.md")
SKIP_DIRS = {"_build", "auto_examples", "generated", "__pycache__"}


def user_facing_files():
    for top in USER_FACING:
        path = ROOT / top
        if path.is_file():
            yield path
            continue
        for file in path.rglob("*"):
            if file.suffix in {".py", ".rst", ".md", ".txt"} and file.is_file() \
                    and not SKIP_DIRS.intersection(file.relative_to(ROOT).parts):
                yield file


def test_no_user_facing_text_says_seed_nnn():
    hits = [f"{file.relative_to(ROOT)}:{lineno}: {line.strip()}"
            for file in user_facing_files()
            for lineno, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1)
            if SEED.search(line)]
    assert not hits, "cite the source (author, title) instead:\n" + "\n".join(hits)


@pytest.mark.parametrize("text, found", [
    ("(seed 004)", True), ("Seeds 002–004 teach", True), ("../shared/seeds/000.txt", True),
    ("seed-000 gradients", True),
    ("seed=0", False), ("--seeds 0 1 2", False), ("random seed 0", False),
])
def test_the_seed_pattern(text, found):
    assert bool(SEED.search(text)) is found


# -- See Also sections naming the peers' equivalents ------------------------------------

def _extension_tables():
    """``EQUIVALENTS`` and every name ``docs/_ext/external_links.py`` can link, read
    through :mod:`ast` (the extension imports Sphinx; these tests do not need it)."""
    tree = ast.parse((DOCS / "_ext" / "external_links.py").read_text(encoding="utf-8"))
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            found[node.targets[0].id] = node.value
    linkable = set(ast.literal_eval(found["OPENCV"]))
    for entry in found["LIBRARIES"].values:                 # root: (url maker, names)
        linkable.update(ast.literal_eval(entry.elts[1]))
    return ast.literal_eval(found["EQUIVALENTS"]), linkable


EQUIVALENTS, LINKABLE = _extension_tables()

#: Modules whose public names are matched against the peers' names, and the peer
#: namespaces searched for each: ``fftconv.nn.ReLU`` has an equivalent if
#: ``torch.nn.ReLU`` is linkable.
NAME_MATCHED = {
    "fftconv.nn": ("torch.nn", "torch.nn.functional", "torch.nn.parameter", "torch.optim",
                   "scipy.special", "sklearn.model_selection"),
    "fftconv.dask": ("dask.array", "dask_image.ndfilters"),
    "analysis.arima": ("statsmodels.tsa.stattools", "statsmodels.regression.linear_model",
                       "statsmodels.tsa.arima.model", "statsmodels.tsa.statespace.tools"),
    "analysis.kernels": ("scipy.ndimage", "skimage.filters"),
    "analysis.windows": ("scipy.signal",),
}


def see_also_names(obj):
    """The names a numpydoc docstring's See Also section lists (``a, b : text`` lines)."""
    doc = inspect.getdoc(obj) or ""
    match = re.search(r"^See Also\n-{8}\n(.*?)(?=^\w[\w ]*\n-{3,}\n|\Z)", doc, re.M | re.S)
    if not match:
        return set()
    names = set()
    for line in match.group(1).splitlines():
        if line and not line[0].isspace():          # an entry, not a continuation line
            names.update(n.strip() for n in line.split(" : ", 1)[0].split(","))
    return names


def _resolve(path):
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def test_equivalents_are_linkable_peers():
    unknown = {peer for peers in EQUIVALENTS.values() for peer in peers} - LINKABLE
    assert not unknown, f"add these to LIBRARIES in docs/_ext/external_links.py: {unknown}"


@pytest.mark.parametrize("path", sorted(EQUIVALENTS))
def test_see_also_names_every_equivalent(path):
    missing = set(EQUIVALENTS[path]) - see_also_names(_resolve(path))
    assert not missing, f"{path}'s docstring needs a See Also naming {sorted(missing)}"


@pytest.mark.parametrize("module", sorted(NAME_MATCHED))
def test_public_names_matching_a_peer_are_listed(module):
    """A public object named like a linkable peer object is listed in EQUIVALENTS."""
    mod = importlib.import_module(module)
    unlisted = []
    for name in mod.__all__:
        for space in NAME_MATCHED[module]:
            peer = f"{space}.{name}"
            if peer in LINKABLE and peer not in EQUIVALENTS.get(f"{module}.{name}", ()):
                unlisted.append(f"{module}.{name} -> {peer}")
    assert not unlisted, "list these in EQUIVALENTS (and in the See Also):\n" + \
        "\n".join(unlisted)


@pytest.mark.parametrize("module", sorted(NAME_MATCHED))
def test_see_also_names_of_peers_are_linkable(module):
    """A See Also entry under a linked package must be in the table, or the build warns."""
    roots = {name.split(".", 1)[0] for name in LINKABLE}
    mod = importlib.import_module(module)
    bad = [f"{module}.{name}: {entry}" for name in mod.__all__
           for entry in see_also_names(getattr(mod, name))
           if entry.split(".", 1)[0] in roots and entry not in LINKABLE]
    assert not bad, "\n".join(bad)


def test_see_also_parser():
    def f():
        """Summary.

        See Also
        --------
        torch.nn.ReLU : one.
        numpy.tanh, scipy.special.expit : two
            names, and a continuation line : not a name.

        Notes
        -----
        numpy.diff : not in See Also.
        """
    assert see_also_names(f) == {"torch.nn.ReLU", "numpy.tanh", "scipy.special.expit"}
