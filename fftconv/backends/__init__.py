"""The convolution backends: the base class, the registry, the built-in four.

* :mod:`~fftconv.backends.base`: :class:`Backend`, the protocol a backend
  implements (applicability, cost features, forward, gradients), and helpers
  the backends share;
* :mod:`~fftconv.backends.registry`: registration and the scoped choice
  (:func:`set_backend`);
* :mod:`~fftconv.backends.direct`, :mod:`~fftconv.backends.im2col`,
  :mod:`~fftconv.backends.fft`, :mod:`~fftconv.backends.winograd`: the built-in backends, registered on import
  (registration order is the preference on ties).

Nothing here imports :mod:`fftconv.select`: ``'auto'`` reads the registry, the
backends never ask it anything.
"""

from .base import Backend, get_memory_budget, set_memory_budget
from .registry import (_REGISTRY, available_backends, current_backend_name, get_backend,
                       register_backend, registered, same_code, set_backend,
                       unregister_backend)
from . import direct, im2col, fft, winograd  # noqa: F401  (built-ins register on import)

__all__ = ["Backend", "register_backend", "unregister_backend", "available_backends",
           "registered", "get_backend", "set_backend", "current_backend_name",
           "set_memory_budget", "get_memory_budget", "same_code"]
