"""Sphinx configuration of fftconv's documentation (``make docs``).

The build is offline (no intersphinx inventories are fetched) and runs with
warnings as errors. Gallery examples in ``docs/examples/plot_*.py`` run during
the build; their figures are ``matplotlib.figure.Figure`` objects picked up by
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
    "numpydoc",
    "sphinx_gallery.gen_gallery",
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
}

# -- HTML ----------------------------------------------------------------------------
html_theme = "alabaster"
html_title = f"fftconv {release}"
html_theme_options = {
    "description": "One convolution API, interchangeable backends, "
                   "frequency analysis and template matching.",
    "page_width": "1100px",
    "sidebar_width": "240px",
}
html_static_path = []
