"""fftconv: one convolution API with interchangeable backends.

Public API
----------
conv2d, conv2d_backward
    The deep-learning layer op (cross-correlation, NCHW / OIHW) and its gradients.
convolve, correlate
    N-d signal ops with ``scipy.signal`` semantics.
available_backends, get_backend, set_backend, choose_backend
    The backend registry, the scoped choice and the ``'auto'`` policy.
ConvSpec, make_spec
    Canonical, validated convolution geometry.
"""

__version__ = "0.1.0"

from ._spec import ConvSpec, make_spec
from .api import conv2d, conv2d_backward, convolve, correlate
from .backends import (Backend, available_backends, current_backend_name, get_backend,
                       register_backend, set_backend)
from .select import choose_backend

__all__ = [
    "conv2d", "conv2d_backward", "convolve", "correlate",
    "available_backends", "get_backend", "set_backend", "current_backend_name",
    "register_backend", "Backend", "choose_backend", "ConvSpec", "make_spec",
    "__version__",
]
