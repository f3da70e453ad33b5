"""fftconv: one convolution API with interchangeable backends.

Public API
----------
conv1d, conv2d, conv3d, conv_backward, conv2d_backward, ConvContext
    The deep-learning layer ops (cross-correlation, NCL / NCHW / NCDHW), their
    gradients, and the context a forward hands its backward.
conv_transpose1d, conv_transpose2d, conv_transpose3d, conv_transpose_backward
    Transposed convolutions (the layer ops' input adjoints) and their gradients.
convolve, correlate, convolve2d, correlate2d, choose_conv_method
    N-d signal ops with ``scipy.signal`` semantics (2-D ones with boundary
    conditions) and the ``'auto'`` method's choice.
available_backends, get_backend, set_backend, register_backend, Backend
    The backend registry (a backend of one's own: subclass ``Backend``).
choose_backend, autotune
    the scoped choice, the ``'auto'`` policy (a fitted cost
    model; ``fftconv calibrate``) and measured autotuning.
fftlib
    The FFT engines (numpy, scipy, pyFFTW) and ``set_fft_engine``.
set_memory_budget, get_memory_budget
    The largest working buffer (im2col columns, FFT tile spectra) built at once.
ConvSpec, make_spec
    Canonical, validated convolution geometry.
"""

from ._version import __version__
from ._spec import ConvSpec, make_spec
from .api import (ConvContext, conv1d, conv2d, conv2d_backward, conv3d, conv_backward,
                  conv_transpose1d, conv_transpose2d, conv_transpose3d,
                  conv_transpose_backward, convolve, correlate)
from .api import choose_conv_method, convolve2d, correlate2d
from .backends import (Backend, available_backends, current_backend_name, get_backend,
                       get_memory_budget, register_backend, set_backend, set_memory_budget,
                       unregister_backend)
from . import fftlib
from .select import autotune, choose_backend

__all__ = [
    "conv2d", "conv2d_backward", "convolve", "correlate",
    "choose_conv_method", "convolve2d", "correlate2d",
    "conv1d", "conv3d", "conv_backward", "conv_transpose1d", "conv_transpose2d",
    "conv_transpose3d", "conv_transpose_backward",
    "available_backends", "get_backend", "set_backend", "current_backend_name",
    "register_backend", "unregister_backend", "Backend", "ConvContext", "choose_backend", "ConvSpec", "make_spec",
    "set_memory_budget", "get_memory_budget", "autotune", "fftlib",
    "__version__",
]
