"""The backend registry and the scoped backend choice.

Backends register themselves with the :func:`register_backend` class decorator
(a user's backend the same way, see :class:`~fftconv.Backend`). Which one runs a
call is decided, in order, by an explicit ``backend=`` argument, the innermost
``with set_backend(...)`` block of the current thread or task (a
:class:`contextvars.ContextVar`, so threads and asyncio tasks never see each
other's choice), and otherwise ``'auto'`` (:mod:`fftconv.select`, which reads
this registry; nothing here knows how ``'auto'`` chooses).
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

from .._spec import ConvSpec
from ..errors import bad_type, bad_value
from .base import Backend

__all__ = ["register_backend", "unregister_backend", "available_backends", "registered",
           "get_backend", "set_backend", "current_backend_name", "same_code"]

_REGISTRY: dict[str, Backend] = {}
_CURRENT: ContextVar[str] = ContextVar("fftconv_backend", default="auto")


def register_backend(cls: type[Backend]) -> type[Backend]:
    """Class decorator: instantiate ``cls`` and register it under ``cls.name``.

    A name already registered is replaced (so a module reloaded in a notebook
    registers its new class). The backend is usable at once under
    ``backend=cls.name`` and is a candidate of ``'auto'``, priced by its
    :meth:`~fftconv.Backend.cost` (a default cost until ``fftconv calibrate``).

    Raises
    ------
    TypeError
        If ``cls`` is not a subclass of :class:`~fftconv.Backend`.
    ValueError
        If its ``name`` is empty, not a string, or ``'auto'``.
    """
    if not (isinstance(cls, type) and issubclass(cls, Backend)):
        raise bad_type("register_backend", "cls", cls, "a subclass of fftconv.Backend")
    if not isinstance(cls.name, str) or not cls.name or cls.name == "auto":
        raise bad_value("register_backend", "cls.name", cls.name,
                        f"a non-empty name other than 'auto' for {cls.__name__}")
    _REGISTRY[cls.name] = cls()
    return cls


def unregister_backend(name: str) -> None:
    """Remove the backend registered as ``name`` (the reverse of :func:`register_backend`).

    Raises
    ------
    ValueError
        If no backend has that name.
    """
    del _REGISTRY[_concrete_name("unregister_backend", name)]


def available_backends() -> list[str]:
    """Names of the registered backends, in registration order.

    Examples
    --------
    >>> import fftconv
    >>> fftconv.available_backends()[:2]
    ['direct', 'im2col']
    """
    return list(_REGISTRY)


def registered() -> dict[str, Backend]:
    """A snapshot ``{name: backend}`` of the registry, in registration order."""
    return dict(_REGISTRY)


def _check_name(func: str, name) -> str:
    if not isinstance(name, str):
        raise bad_type(func, "backend", name, "a backend name (str)")
    if name != "auto" and name not in _REGISTRY:
        choices = ", ".join(repr(n) for n in ["auto", *_REGISTRY])
        raise bad_value(func, "backend", name, f"one of {choices}")
    return name


def check_name(func: str, name) -> str:
    """``name`` if it is ``'auto'`` or a registered backend, else a clear error from ``func``."""
    return _check_name(func, name)


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
