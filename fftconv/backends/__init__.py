"""Backend registry and the scoped backend choice.

Backends register themselves with the :func:`register_backend` class decorator.
Which one runs a call is decided, in order, by an explicit ``backend=`` argument,
the innermost ``with set_backend(...)`` block of the current thread or task
(a :class:`contextvars.ContextVar`, so threads and asyncio tasks never see each
other's choice), and otherwise ``'auto'``.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

from .._spec import ConvSpec
from ..errors import bad_type, bad_value
from .base import Backend, get_memory_budget, set_memory_budget

__all__ = ["Backend", "register_backend", "available_backends", "get_backend",
           "set_backend", "current_backend_name", "set_memory_budget", "get_memory_budget",
           "same_code"]

_REGISTRY: dict[str, Backend] = {}
_CURRENT: ContextVar[str] = ContextVar("fftconv_backend", default="auto")


def register_backend(cls: type[Backend]) -> type[Backend]:
    """Class decorator: instantiate ``cls`` and register it under ``cls.name``."""
    if not cls.name or cls.name == "auto":
        raise ValueError(f"register_backend: {cls.__name__} needs a name other than 'auto'")
    _REGISTRY[cls.name] = cls()
    return cls


def available_backends() -> list[str]:
    """Names of the registered backends, in registration order.

    Examples
    --------
    >>> import fftconv
    >>> fftconv.available_backends()[:2]
    ['direct', 'im2col']
    """
    return list(_REGISTRY)


def _check_name(func: str, name) -> str:
    if not isinstance(name, str):
        raise bad_type(func, "backend", name, "a backend name (str)")
    if name != "auto" and name not in _REGISTRY:
        choices = ", ".join(repr(n) for n in ["auto", *_REGISTRY])
        raise bad_value(func, "backend", name, f"one of {choices}")
    return name


def get_backend(name: str) -> Backend:
    """The registered backend object called ``name``.

    Raises
    ------
    ValueError
        If no backend has that name (the message lists the registered ones).
    """
    return _REGISTRY[_concrete_name("get_backend", name)]


def _concrete_name(func: str, name) -> str:
    """``name`` if it names a registered backend, else a clear error from ``func``."""
    _check_name(func, name)
    if name == "auto":
        raise bad_value(func, "backend", name,
                        "a concrete backend name ('auto' is a policy; see choose_backend)")
    return name


def same_code(spec, names) -> list[list[str]]:
    """``names`` grouped by the code their forward runs on ``spec``
    (:meth:`Backend.forward_path`), in the order of first appearance.

    Timing one member of a group times them all: autotuning and ``fftconv bench``
    do so, rather than report the noise between two runs of one computation as a
    difference of backends.

    Parameters
    ----------
    spec : ConvSpec
        The layer (:func:`fftconv.make_spec`).
    names : iterable of str
        Registered backend names (``'auto'`` is not one).

    Returns
    -------
    list of list of str
        Every name exactly once; names in one list run the same code on ``spec``.

    Raises
    ------
    TypeError
        If ``spec`` is not a ConvSpec or a name is not a string.
    ValueError
        If a name is not a registered backend.

    Examples
    --------
    >>> import fftconv
    >>> pointwise = fftconv.make_spec("1x1", (8, 64, 32, 32), (64, 64, 1, 1))
    >>> same_code(pointwise, ["direct", "im2col", "fft"])
    [['direct', 'im2col'], ['fft']]
    """
    if not isinstance(spec, ConvSpec):
        raise bad_type("same_code", "spec", spec, "a ConvSpec (see fftconv.make_spec)")
    groups: dict[str, list[str]] = {}
    for name in names:
        backend = _REGISTRY[_concrete_name("same_code", name)]
        groups.setdefault(backend.forward_path(spec), []).append(name)
    return list(groups.values())


def current_backend_name() -> str:
    """The backend name in force in this context (``'auto'`` outside any ``set_backend``)."""
    return _CURRENT.get()


@contextmanager
def set_backend(name: str):
    """Use backend ``name`` for every call inside the ``with`` block.

    Nested blocks stack; an explicit ``backend=`` argument still wins. The choice
    is local to the current thread / asyncio task.

    Parameters
    ----------
    name : str
        ``'auto'`` or one of :func:`available_backends`.

    Examples
    --------
    >>> import numpy as np, fftconv
    >>> x, w = np.ones((1, 1, 4, 4)), np.ones((1, 1, 3, 3))
    >>> with fftconv.set_backend("im2col"):
    ...     fftconv.conv2d(x, w)[0, 0]
    array([[9., 9.],
           [9., 9.]])
    """
    token = _CURRENT.set(_check_name("set_backend", name))
    try:
        yield name
    finally:
        _CURRENT.reset(token)


def resolve_backend(func: str, name, spec) -> Backend:
    """The backend that runs ``spec``: ``name``, else the context's choice, else auto.

    Raises ``NotImplementedError`` when an explicitly named backend cannot compute
    ``spec``; ``'auto'`` always finds one for a valid spec.
    """
    name = current_backend_name() if name is None else _check_name(func, name)
    if name == "auto":
        from ..select import choose_backend
        return _REGISTRY[choose_backend(spec).name]
    backend = _REGISTRY[name]
    if not backend.supports(spec):
        raise NotImplementedError(f"{func}: backend {name!r} does not support {spec}")
    return backend


# Built-in backends register on import (order = preference on ties).
from . import direct, im2col, fft  # noqa: E402,F401
