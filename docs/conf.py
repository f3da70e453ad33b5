"""Sphinx configuration of fftconv's documentation (``make docs``).

The build is offline and so are the pages it writes: no intersphinx inventories
are fetched, MathJax is copied into ``_static/mathjax`` (``sphinx-mathjax-offline``)
instead of being loaded from a CDN, the theme (pydata-sphinx-theme) ships its own
fonts and scripts, and the See Also links to scipy, scikit-image and PyTorch are
plain hyperlinks resolved by ``_ext/external_links.py`` (``tests/test_docs_config.py``
checks this configuration). It runs with warnings as errors. Gallery examples in
``docs/examples/plot_*.py`` run during the build; their figures are ``matplotlib.figure.Figure`` objects picked up by
``_ext/fftconv_gallery.py``.
"""

import os
import sys

import fftconv

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "_ext"))
os.environ.setdefault("MPLBACKEND", "Agg")

project = "fftconv"
author = "the fftconv developers"
copyright = "the fftconv developers"
version = release = fftconv.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    # after sphinx.ext.mathjax: sets mathjax_path to the copy it ships
    "sphinx-mathjax-offline",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "external_links",
]

root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build", "_ext", "_templates", "examples", "auto_examples/*.ipynb",
                    "auto_examples/*.py", "auto_examples/*.zip", "**/*.md5",
                    "**/*.codeobj.json"]
default_role = "literal"

# -- API reference -----------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_typehints = "none"
autodoc_member_order = "bysource"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# -- the gallery -------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "image_scrapers": ("fftconv_gallery.scrape_figures",),
    "within_subsection_order": "fftconv_gallery.ExampleOrder",
    "reset_modules": (),
    "backreferences_dir": None,
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    # no sg_execution_times page: build timings of a loaded machine tell a reader nothing
    "write_computation_times": False,
}

# -- HTML ----------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"fftconv {release}"
html_theme_options = {
    # nothing fetched when a page is read: no version switcher, no analytics, no
    # icons from a CDN (the theme's Font Awesome is bundled)
    "navbar_end": ["theme-switcher", "navbar-icon-links"],
    "icon_links": [],
    "search_bar_text": "Search the fftconv docs",
    "navigation_depth": 3,
    "show_toc_level": 2,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_sidebars = {"auto_examples/**": [], "api": []}
html_static_path = []
html_show_sourcelink = False
