"""Sphinx-Gallery hooks for fftconv's documentation.

The library and the examples build :class:`matplotlib.figure.Figure` objects and
never touch ``pyplot`` state, so Sphinx-Gallery's default scraper (which asks
``pyplot`` for its open figures) would find nothing. :func:`scrape_figures` looks
instead for figures bound to names in the example's namespace.
"""

from __future__ import annotations

from pathlib import Path

#: The examples in reading order (file names); any others follow alphabetically.
ORDER = (
    "plot_getting_started.py",
    "plot_two_conventions.py",
    "plot_convolution_theorem.py",
    "plot_backprop_stride_dilation.py",
    "plot_crossover.py",
    "plot_complexity.py",
    "plot_winograd_error.py",
    "plot_lenet5.py",
    "plot_pytorch_bridge.py",
    "plot_filter_spectra.py",
    "plot_diffusion.py",
    "plot_template_matching.py",
    "plot_larger_than_memory.py",
    "plot_spectral_pooling.py",
    "plot_spectral_parametrization.py",
    "plot_arima.py",
)

_SEEN = "_fftconv_scraped_figures"


def scrape_figures(block, block_vars, gallery_conf, **kwargs):
    """Save every new ``Figure`` in the example's globals; return the reST that shows them.

    A figure is new if no earlier block of the same example saved it. Figures are
    saved in the order their names were first bound.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from sphinx_gallery.scrapers import figure_rst

    seen = block_vars.setdefault(_SEEN, [])
    fresh = [value for value in block_vars["example_globals"].values()
             if isinstance(value, Figure) and not any(value is old for old in seen)]
    paths = []
    for fig, path in zip(fresh, block_vars["image_path_iterator"]):
        FigureCanvasAgg(fig)
        fig.savefig(path, dpi=100)
        seen.append(fig)
        paths.append(path)
    return figure_rst(paths, gallery_conf["src_dir"]) if paths else ""


class ExampleOrder:
    """Sort key for ``within_subsection_order``: :data:`ORDER` first, then by name."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        name = Path(filename).name
        return (ORDER.index(name), "") if name in ORDER else (len(ORDER), name)

    def __repr__(self):
        return "ExampleOrder"
