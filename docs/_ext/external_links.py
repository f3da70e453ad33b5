"""Links to the documentation of scipy, scikit-image, PyTorch and the other peers.

The See Also sections of fftconv's docstrings name the functions of other projects
that compute the same thing (``scipy.signal.fftconvolve``,
``skimage.feature.match_template``, ``torch.nn.functional.conv2d``, ...). Without
intersphinx (the build fetches nothing) those names would stay plain text; this
extension resolves each one to its page by a table kept here, so the build needs no
inventory and a reader's browser loads nothing until a link is followed.

A cross-reference under one of the covered packages that the table does not know is
a warning, so (with ``-W``) a misspelt or new name fails the build instead of
silently rendering unlinked.
"""

from __future__ import annotations

from docutils import nodes
from sphinx.util import logging

logger = logging.getLogger(__name__)


def _generated(base):
    """``base/<name>.html``: one page per object (scipy, numpy, PyTorch, statsmodels)."""
    return lambda name: f"{base}/{name}.html"


def _module_anchor(base):
    """``base/<module>.html#<name>``: one page per module (scikit-image, dask-image)."""
    return lambda name: f"{base}/{name.rsplit('.', 1)[0]}.html#{name}"


#: package root -> (URL of one name, the names documented there)
LIBRARIES = {
    "scipy": (_generated("https://docs.scipy.org/doc/scipy/reference/generated"), (
        "scipy.signal.convolve", "scipy.signal.correlate", "scipy.signal.fftconvolve",
        "scipy.signal.oaconvolve", "scipy.signal.convolve2d", "scipy.signal.correlate2d",
        "scipy.signal.choose_conv_method", "scipy.signal.resample",
        "scipy.signal.get_window", "scipy.ndimage.convolve", "scipy.ndimage.correlate",
        "scipy.ndimage.gaussian_filter", "scipy.ndimage.sobel", "scipy.ndimage.laplace",
        "scipy.ndimage.uniform_filter", "scipy.ndimage.maximum_filter",
        "scipy.fft.rfftn", "scipy.fft.irfftn", "scipy.fft.fftn", "scipy.fft.ifftn",
        "scipy.fft.next_fast_len", "scipy.fft.fftfreq", "scipy.fft.fftshift",
        "scipy.special.softmax", "scipy.special.log_softmax", "scipy.special.expit",
        "scipy.optimize.least_squares",
    )),
    "numpy": (_generated("https://numpy.org/doc/stable/reference/generated"), (
        "numpy.convolve", "numpy.correlate", "numpy.fft.rfftn", "numpy.fft.irfftn",
        "numpy.fft.fftn", "numpy.fft.ifftn", "numpy.fft.fftfreq", "numpy.fft.fftshift",
        "numpy.kron", "numpy.pad", "numpy.asarray", "numpy.from_dlpack", "numpy.tanh",
        "numpy.diff",
    )),
    "skimage": (_module_anchor("https://scikit-image.org/docs/stable/api"), (
        "skimage.feature.match_template", "skimage.feature.peak_local_max",
        "skimage.registration.phase_cross_correlation", "skimage.filters.sobel",
        "skimage.filters.gaussian", "skimage.filters.laplace",
        "skimage.filters.gabor_kernel", "skimage.measure.block_reduce",
        "skimage.transform.resize",
    )),
    "torch": (_generated("https://pytorch.org/docs/stable/generated"), (
        "torch.nn.functional.conv1d", "torch.nn.functional.conv2d",
        "torch.nn.functional.conv3d", "torch.nn.functional.conv_transpose1d",
        "torch.nn.functional.conv_transpose2d", "torch.nn.functional.conv_transpose3d",
        "torch.nn.functional.max_pool2d", "torch.nn.functional.avg_pool2d",
        "torch.nn.functional.unfold", "torch.nn.functional.softmax",
        "torch.nn.functional.log_softmax", "torch.nn.functional.cross_entropy",
        "torch.nn.Conv1d", "torch.nn.Conv2d", "torch.nn.Conv3d",
        "torch.nn.ConvTranspose1d", "torch.nn.ConvTranspose2d",
        "torch.nn.ConvTranspose3d", "torch.nn.MaxPool2d", "torch.nn.AvgPool2d",
        "torch.nn.Linear", "torch.nn.ReLU", "torch.nn.Sigmoid", "torch.nn.Tanh",
        "torch.nn.Flatten", "torch.nn.Dropout", "torch.nn.Sequential",
        "torch.nn.Module", "torch.nn.parameter.Parameter", "torch.nn.CrossEntropyLoss",
        "torch.nn.MSELoss", "torch.optim.SGD", "torch.optim.Adam", "torch.fft.rfftn",
        "torch.fft.irfftn", "torch.fft.fftn", "torch.fft.ifftn", "torch.save",
        "torch.load", "torch.no_grad", "torch.from_numpy", "torch.nn.functional.pad",
        "torch.autograd.gradcheck", "torch.autograd.gradgradcheck",
        "torch.utils.data.random_split", "torch.utils.data.DataLoader",
    )),
    "statsmodels": (_generated("https://www.statsmodels.org/stable/generated"), (
        "statsmodels.tsa.arima.model.ARIMA", "statsmodels.tsa.stattools.acovf",
        "statsmodels.regression.linear_model.yule_walker",
        "statsmodels.tsa.statespace.tools.diff",
    )),
    "dask_image": (_module_anchor("https://image.dask.org/en/latest"), (
        "dask_image.ndfilters.convolve", "dask_image.ndfilters.correlate",
    )),
    "dask": (_generated("https://docs.dask.org/en/stable/generated"), (
        "dask.array.map_overlap", "dask.array.map_blocks", "dask.array.from_zarr",
        "dask.array.to_zarr",
    )),
    "sklearn": (_generated("https://scikit-learn.org/stable/modules/generated"), (
        "sklearn.datasets.load_digits", "sklearn.model_selection.train_test_split",
    )),
}

#: OpenCV's pages are per module group, its anchors are hashes: listed one by one.
OPENCV = {
    "cv2.matchTemplate": "https://docs.opencv.org/4.x/df/dfb/group__imgproc__object.html"
                         "#ga586ebfb0a7fb604b35a23d85391329be",
    "cv2.filter2D": "https://docs.opencv.org/4.x/d4/d86/group__imgproc__filter.html"
                    "#ga27c049795ce870216ddfb366086b5a04",
}


#: fftconv's public objects -> the peers' objects that compute the same thing. Each
#: object's numpydoc See Also names every peer listed here (``tests/test_docs_config.py``
#: checks it, and that a public name matching a peer's, such as ``fftconv.nn.ReLU`` and
#: ``torch.nn.ReLU``, is listed).
EQUIVALENTS = {
    "fftconv.nn.Conv2d": ("torch.nn.Conv2d",),
    "fftconv.nn.MaxPool2d": ("torch.nn.MaxPool2d", "skimage.measure.block_reduce"),
    "fftconv.nn.AvgPool2d": ("torch.nn.AvgPool2d", "skimage.measure.block_reduce"),
    "fftconv.nn.Linear": ("torch.nn.Linear",),
    "fftconv.nn.ReLU": ("torch.nn.ReLU",),
    "fftconv.nn.Sigmoid": ("torch.nn.Sigmoid", "scipy.special.expit"),
    "fftconv.nn.Tanh": ("torch.nn.Tanh", "numpy.tanh"),
    "fftconv.nn.Dropout": ("torch.nn.Dropout",),
    "fftconv.nn.Flatten": ("torch.nn.Flatten",),
    "fftconv.nn.Sequential": ("torch.nn.Sequential",),
    "fftconv.nn.Module": ("torch.nn.Module",),
    "fftconv.nn.Parameter": ("torch.nn.parameter.Parameter",),
    "fftconv.nn.log_softmax": ("scipy.special.log_softmax", "torch.nn.functional.log_softmax"),
    "fftconv.nn.softmax": ("scipy.special.softmax", "torch.nn.functional.softmax"),
    "fftconv.nn.CrossEntropyLoss": ("torch.nn.CrossEntropyLoss",
                                    "torch.nn.functional.cross_entropy"),
    "fftconv.nn.MSELoss": ("torch.nn.MSELoss",),
    "fftconv.nn.SGD": ("torch.optim.SGD",),
    "fftconv.nn.Adam": ("torch.optim.Adam",),
    "fftconv.nn.train_test_split": ("sklearn.model_selection.train_test_split",),
    "fftconv.dask.conv2d": ("torch.nn.functional.conv2d", "dask.array.map_blocks"),
    "fftconv.dask.signal_op": ("dask_image.ndfilters.convolve", "dask_image.ndfilters.correlate"),
    "fftconv.dask.map_regions": ("dask.array.map_overlap", "dask.array.map_blocks"),
    "fftconv.dask.predict": ("dask.array.map_blocks",),
    "fftconv.dask.open_array": ("dask.array.from_zarr",),
    "fftconv.dask.write_zarr": ("dask.array.to_zarr",),
    "analysis.arima.difference": ("numpy.diff", "statsmodels.tsa.statespace.tools.diff"),
    "analysis.arima.autocovariance": ("statsmodels.tsa.stattools.acovf",),
    "analysis.arima.yule_walker": ("statsmodels.regression.linear_model.yule_walker",),
    "analysis.arima.fit_arima": ("statsmodels.tsa.arima.model.ARIMA",),
    "analysis.kernels.sobel": ("scipy.ndimage.sobel", "skimage.filters.sobel"),
    "analysis.kernels.laplacian": ("scipy.ndimage.laplace", "skimage.filters.laplace"),
    "analysis.kernels.gaussian": ("scipy.ndimage.gaussian_filter", "skimage.filters.gaussian"),
    "analysis.kernels.gabor": ("skimage.filters.gabor_kernel",),
    "analysis.kernels.box": ("scipy.ndimage.uniform_filter",),
    "analysis.windows.separable_window": ("scipy.signal.get_window",),
}


def url_table():
    """Every known name -> the URL of its documentation."""
    table = dict(OPENCV)
    for url, names in LIBRARIES.values():
        table.update((name, url(name)) for name in names)
    return table


URLS = url_table()
ROOTS = frozenset(LIBRARIES) | {"cv2"}


def resolve(app, env, node, contnode):
    """``missing-reference`` handler: link a known external name, warn on an unknown one."""
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "")
    url = URLS.get(target)
    if url is None:
        if target.split(".", 1)[0] in ROOTS:
            logger.warning("external_links: no documentation URL for %r; add it to "
                           "docs/_ext/external_links.py", target, location=node)
        return None
    reference = nodes.reference("", "", internal=False, refuri=url,
                                reftitle=f"{target} (external documentation)")
    reference += contnode
    return reference


def setup(app):
    app.connect("missing-reference", resolve)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
