"""Choosing a backend for ``'auto'``: a fitted cost model, and measured autotuning.

This module knows no backend by name. It works over the registry it is handed
(by default every registered backend, :func:`fftconv.backends.registered`), and
asks each backend what it knows about itself (:class:`fftconv.Backend`):

* whether it computes a geometry (:meth:`~fftconv.Backend.applies`);
* the *features* its forward time is proportional to
  (:meth:`~fftconv.Backend.features`), and seconds per unit of each, the
  *constants* (:meth:`~fftconv.Backend.weights`: this machine's calibration,
  else the backend's shipped constants, else a default cost)::

      seconds(backend, spec) = Σ_k  constant[backend][dtype][k] · feature_k(spec)

  in the spirit of Mathieu et al. (2013), who count transform work per input
  map, per kernel and per output map and the per-frequency products separately.

``'auto'`` runs the cheapest backend that applies and memoizes the choice per
geometry, registry, constants and backend settings (:func:`forget_choices`).

Calibration
-----------
``fftconv calibrate`` (:func:`calibrate`) times the registered backends on a
design set of layers (each at the settings it offers,
:meth:`~fftconv.Backend.calibration_cases`: the FFT backend at several tile
sizes, so the fit sees what a tiling costs) and fits the constants by
non-negative least squares on the *relative* error; backends of one
:attr:`~fftconv.Backend.calibration_group` are fitted jointly, sharing the
constants of their :attr:`~fftconv.Backend.shared_features`. The result is
stored as JSON in the user cache directory (:mod:`fftconv.constants`); a
missing, stale or corrupt file never breaks a call.

Autotuning
----------
Inside ``with fftconv.autotune():`` (or with ``choose_backend(spec, autotune=True)``)
``'auto'`` times every supporting backend once per geometry and remembers the
winner, in memory and on disk (``autotune.json`` in the same directory), like
cuDNN's benchmark mode. It names the fastest by the rule ``fftconv bench`` uses
(:func:`fftconv.timing.median_seconds`: medians, near ties timed longer).
Winners are keyed by machine, FFT engine, threads and a digest of fftconv's
source, so edited code measures again. :func:`clear_autotune` (and every
``fftconv calibrate``) forgets the winners, for instance ones measured while the
machine was busy.
"""

from __future__ import annotations

import hashlib
import math
import os
import stat
import threading
import warnings
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from . import constants as _constants
from . import jsonfiles
from ._spec import ConvSpec, make_spec
from .backends.base import Backend, estimate_seconds, get_memory_budget
from .backends.registry import (_REGISTRY, check_name, current_backend_name, get_backend,
                                registered, same_code)
from .errors import bad_type, bad_value
from .timing import changing_weights, median_seconds, time_rounds

__all__ = ["Choice", "choose_backend", "resolve_backend", "forget_choices", "autotune",
           "clear_autotune", "estimate", "features", "calibrate", "calibration_steps",
           "load_constants", "save_constants", "shipped_constants", "constants_source",
           "constants_path", "cache_dir", "DESIGN_LAYERS"]

cache_dir = _constants.cache_dir
constants_path = _constants.constants_path


def _backends(registry) -> dict[str, Backend]:
    return registered() if registry is None else dict(registry)


# -- features and constants ---------------------------------------------------------

def features(name: str, spec: ConvSpec) -> dict:
    """The cost-model features of backend ``name`` for ``spec`` (:meth:`Backend.features`)."""
    return get_backend(name).features(spec)


def estimate(name: str, spec: ConvSpec, constants: dict | None = None) -> float:
    """Estimated forward seconds of backend ``name`` for ``spec``.

    Parameters
    ----------
    name : str
        A registered backend.
    spec : ConvSpec
    constants : dict, optional
        A table ``{backend: {dtype: {feature: seconds}}}`` to price the features
        with (a ``'float64'`` entry serves other dtypes); default: the constants
        in force (:meth:`Backend.cost`).
    """
    backend = get_backend(name)
    if constants is None:
        return backend.cost(spec)
    table = constants[name]
    weights = table.get(spec.dtype.name, table.get("float64", {}))
    return estimate_seconds(backend.features(spec), weights,
                            fallback=Backend.features(backend, spec))


def shipped_constants(registry=None) -> dict:
    """``{backend: {dtype: {feature: seconds}}}``: what the backends ship with."""
    return {name: b.shipped_constants for name, b in _backends(registry).items()
            if b.shipped_constants}


def load_constants(reload: bool = False, registry=None) -> dict:
    """The constants in force, ``{backend: {dtype: {feature: seconds}}}``.

    Per backend and dtype: this machine's calibration if valid, else the shipped
    constants, else the default cost (:data:`fftconv.backends.base.DEFAULT_CONSTANTS`).
    ``reload`` reads the calibration file again.
    """
    if reload:
        _constants.reload()
    fitted = _constants.fitted()
    table = {}
    for name, backend in _backends(registry).items():
        dtypes = set(backend.shipped_constants) | set(fitted.get(name, {})) or {"float64"}
        table[name] = {dtype: backend.weights(dtype) for dtype in sorted(dtypes)}
    return table


def constants_source() -> str:
    """Where the fitted constants came from: a file path or ``'shipped defaults'``."""
    return _constants.source()


def save_constants(constants: dict, report: dict | None = None, registry=None) -> str:
    """Store fitted constants for this machine (atomically) and use them from now on.

    Parameters
    ----------
    constants : dict
        ``{backend: {dtype: {feature: seconds}}}``: registered backends, each
        with at least one dtype, whose features are those the backend prices
        (the keys of its shipped constants, when it has some), with finite
        non-negative values.
    report : dict, optional
        The fit's quality, stored beside the constants.

    Returns
    -------
    str
        The file written (:func:`constants_path`).
    """
    backends = _backends(registry)
    allowed = ("a table {backend: {dtype: {feature: seconds}}} of registered backends "
               "with their features and finite non-negative values")

    def valid(name, per_dtype):
        backend = backends.get(name)
        if backend is None or not isinstance(per_dtype, dict) or not per_dtype:
            return False
        for dtype, weights in per_dtype.items():
            if not (isinstance(dtype, str) and _constants.valid_weights(weights) and weights):
                return False
            shipped = backend.shipped_constants
            expected = shipped.get(dtype, shipped.get("float64"))
            if expected is not None and set(weights) != set(expected):
                return False
        return True

    if not isinstance(constants, dict) or not constants or not all(
            valid(name, per_dtype) for name, per_dtype in constants.items()):
        raise bad_value("save_constants", "constants", constants, allowed)
    path = _constants.save(constants, report)
    forget_choices()
    return path


# -- choosing ---------------------------------------------------------------------

@dataclass(frozen=True)
class Choice:
    """A backend choice and the evidence: seconds per candidate, and how they were had.

    ``skipped`` maps the backends that were not candidates to the reason
    (they do not apply to the geometry, or their cost could not be estimated).
    """

    name: str
    costs: dict = field(default_factory=dict)
    measured: bool = False
    skipped: dict = field(default_factory=dict)
    #: whether ``costs`` are of the forward and the backward (a training step)
    backward: bool = False

    @property
    def reason(self) -> str:
        ranked = sorted(self.costs.items(), key=lambda item: item[1])
        kind = "measured" if self.measured else "estimated"
        what = "forward+backward" if self.backward else "forward"
        parts = ", ".join(f"{name} {seconds * 1e3:.3g} ms" for name, seconds in ranked)
        return f"chose {self.name!r}: {kind} {what} time {parts}"


def _why_not(backend: Backend, spec: ConvSpec) -> str | None:
    """``None`` if ``backend`` computes ``spec``, else the reason it does not."""
    if spec.rank not in backend.ranks:
        return (f"it computes convolutions over {backend.ranks} spatial axes, "
                f"not {spec.rank}")
    if not backend.supports(spec):
        return backend.applies(spec) or "it does not support this geometry"
    if _over_budget(backend, spec):
        return (f"its smallest unit of work needs {backend.working_set(spec):,} bytes, "
                f"more than the memory budget of {get_memory_budget():,} bytes")
    return None


def _over_budget(backend: Backend, spec: ConvSpec) -> bool:
    return backend.supports(spec) and int(backend.working_set(spec)) > get_memory_budget()


def _refuse_memory(func: str, spec: ConvSpec, backends: dict) -> None:
    """A ``MemoryError`` naming the layer, the bytes it needs and the budget, when
    every backend that computes ``spec`` is over the budget."""
    needs = {name: int(b.working_set(spec)) for name, b in backends.items()
             if _over_budget(b, spec)}
    if needs and all(_over_budget(b, spec) for b in backends.values() if b.supports(spec)):
        raise MemoryError(
            f"{func}: the layer {spec.input_shape} -> {spec.output_shape} with "
            f"{'x'.join(map(str, spec.kernel))} kernels needs "
            f"at least {min(needs.values()):,} bytes of working memory at once ("
            + ", ".join(f"{n}: {v:,}" for n, v in needs.items())
            + f"), more than the memory budget of {get_memory_budget():,} bytes "
            "(fftconv.set_memory_budget)")


def resolve_backend(func: str, name, spec: ConvSpec) -> Backend:
    """The backend that runs ``spec``: ``name``, else the context's choice, else ``'auto'``.

    Raises
    ------
    NotImplementedError
        When an explicitly named backend does not compute ``spec`` (with its
        reason); ``'auto'`` always finds one for a valid spec.
    MemoryError
        When the backend (for ``'auto'``: every backend) needs more working
        memory at once than :func:`fftconv.get_memory_budget`, with the bytes.
    """
    name = current_backend_name() if name is None else check_name(func, name)
    if name == "auto":
        return _REGISTRY[choose_backend(spec).name]
    backend = _REGISTRY[name]
    _refuse_memory(func, spec, {name: backend})
    reason = _why_not(backend, spec)
    if reason is not None:
        raise NotImplementedError(f"{func}: backend {name!r} does not support {spec}: {reason}")
    return backend


_CHOICES: dict = {}
_CHOICES_LIMIT = 4096


def forget_choices() -> None:
    """Forget the memoized ``'auto'`` choices (they are keyed by everything they
    depend on; this is for a backend whose :meth:`~Backend.cost` was changed in place)."""
    _CHOICES.clear()


def _estimated(spec: ConvSpec, backends: dict, backward: bool = False) -> Choice:
    costs, skipped = {}, {}
    for name, backend in backends.items():
        reason = _why_not(backend, spec)
        if reason is None:
            try:
                seconds = float(backend.training_cost(spec) if backward else backend.cost(spec))
            except Exception as exc:    # a user's backend must never break 'auto'
                reason = f"its cost raised {type(exc).__name__}: {exc}"
            else:
                if math.isfinite(seconds) and seconds >= 0:
                    costs[name] = seconds
                    continue
                reason = f"its cost is {seconds!r}, not a finite number of seconds"
            warnings.warn(f"choose_backend: backend {name!r} left out of 'auto' for {spec}: "
                          f"{reason}", RuntimeWarning, stacklevel=4)
        skipped[name] = reason
    if not costs:
        _refuse_memory("choose_backend", spec, backends)
        raise bad_value("choose_backend", "spec", spec,
                        "a geometry some registered backend computes ("
                        + "; ".join(f"{n}: {r}" for n, r in skipped.items()) + ")")
    return Choice(min(costs, key=costs.get), costs, skipped=skipped, backward=backward)


_AUTOTUNE: ContextVar[bool] = ContextVar("fftconv_autotune", default=False)


@contextmanager
def autotune(enabled: bool = True):
    """Make ``'auto'`` time the candidates once per geometry inside the ``with`` block.

    The winner of each geometry is remembered in memory and in ``autotune.json`` in
    :func:`cache_dir` (keyed by the layer, this machine, the FFT engine and threads),
    so later calls, and later processes, pay nothing.

    Examples
    --------
    >>> import numpy as np, fftconv
    >>> x, w = np.ones((1, 1, 16, 16)), np.ones((1, 1, 3, 3))
    >>> with fftconv.autotune():
    ...     y = fftconv.conv2d(x, w)       # times the backends once for this layer
    >>> y.shape
    (1, 1, 14, 14)
    """
    token = _AUTOTUNE.set(bool(enabled))
    try:
        yield
    finally:
        _AUTOTUNE.reset(token)


_TUNED: dict = {}
_TUNED_LOCK = threading.Lock()


@lru_cache(maxsize=None)
def _source_digest() -> str:
    """A digest of fftconv's own source files (12 hex digits).

    An autotune winner holds only for the code that was timed: an edited or
    upgraded backend can change which one is fastest, and the version number
    does not change with every edit. Winners are therefore keyed by this digest,
    and those of any other source are dropped when the file is next written.
    """
    root = os.path.dirname(os.path.abspath(__file__))
    digest = hashlib.sha256()
    for folder, subfolders, files in os.walk(root):
        subfolders.sort()                      # a fixed order, whatever the file system
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                digest.update(os.path.relpath(path, root).encode())
                with open(path, "rb") as fh:
                    digest.update(fh.read())
    return digest.hexdigest()[:12]


def _tune_key(spec: ConvSpec, backward: bool = False) -> str:
    origin = _constants.origin()
    return (f"{spec}{' +backward' if backward else ''} @ {origin['machine']}/"
            f"{origin['engine']}x{origin['threads']} #{_source_digest()}")


def autotune_path() -> str:
    """The autotune file, ``autotune.json`` in :func:`cache_dir`."""
    return os.path.join(cache_dir(), "autotune.json")


#: What :func:`autotune_path` holds: per key (:func:`_tune_key`), the winner's name
#: and the median seconds of each candidate.
AUTOTUNE_SCHEMA = {
    "format": "fftconv-autotune", "version": 1,
    "winners": {str: {"name": str, "seconds": {str: float}}},
}


def _load_tuned() -> dict:
    payload = jsonfiles.read_cache(autotune_path(), AUTOTUNE_SCHEMA, root="autotune",
                                   context="autotune", stacklevel=3)
    return payload["winners"] if payload is not None else {}


def clear_autotune() -> int:
    """Forget every remembered autotune winner (in memory and on disk).

    Winners measured while the machine was busy stay until cleared; ``fftconv
    calibrate`` clears them, since it re-measures the machine. Returns how many
    winners were forgotten.

    If the cache path (:func:`cache_dir`) is not a directory (``$FFTCONV_CACHE_DIR``
    naming a regular file, say), no autotune file can exist under it: only the
    winners in memory are forgotten, with a
    :class:`~fftconv.jsonfiles.CacheFileWarning` naming the path.

    Raises
    ------
    OSError
        If the autotune file exists and cannot be removed (a directory in its
        place, no permission): its winners would still be remembered.

    Examples
    --------
    >>> import fftconv
    >>> n = fftconv.select.clear_autotune()     # the next autotuned call measures again
    >>> n >= 0
    True
    """
    path = autotune_path()
    with _TUNED_LOCK:
        known = set(_TUNED)
        _TUNED.clear()
        problem = _not_a_directory(cache_dir())
        if problem is not None:
            if problem:
                warnings.warn(f"clear_autotune: the cache path {cache_dir()} {problem}, so "
                              "no autotune file can be there; only the winners in memory "
                              "were forgotten", jsonfiles.CacheFileWarning, stacklevel=2)
            return len(known)
        with jsonfiles.locked(path):     # no writer re-adds what it read before the removal
            known |= set(_load_tuned())
            try:
                os.remove(path)
            except FileNotFoundError:
                pass
            except OSError as exc:
                what = "it is a directory" if os.path.isdir(path) else exc.strerror
                raise type(exc)(exc.errno, f"clear_autotune: cannot remove the autotune "
                                f"file {path}: {what}; its winners are still "
                                "remembered") from exc
    return len(known)


def _not_a_directory(path: str):
    """``None`` if ``path`` is a directory, ``''`` if it is missing, else what it is."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return ""
    except NotADirectoryError:
        return "lies under a file that is not a directory"
    except OSError as exc:
        return f"cannot be examined ({exc.strerror})"
    return None if stat.S_ISDIR(mode) else "is not a directory"


def _forward_calls(spec: ConvSpec, candidates) -> tuple:
    """The code paths that ``candidates`` run on ``spec``, and a call of each.

    Returns ``(groups, calls)``: the backends grouped by the code they run
    (:func:`~fftconv.backends.same_code`), and for the first of each group a
    function that runs its forward on random data of ``spec``'s shape. Backends
    that run the same code are timed once.
    """
    rng = np.random.default_rng(0)
    x = rng.standard_normal(spec.input_shape).astype(spec.dtype)
    w = rng.standard_normal(spec.weight_shape).astype(spec.dtype)
    groups = same_code(spec, candidates)
    calls = {}
    for first, *_ in groups:
        # New weights for every run, as in training: no backend may profit from a
        # cache of the weights that the model does not count (the FFT kernel spectra).
        weights = changing_weights(w)
        calls[first] = (lambda backend=candidates[first], weights=weights:
                        backend.forward(x, next(weights), spec))
    return groups, calls


def _measure(spec: ConvSpec, candidates, repeats: int = 3) -> dict:
    """Minimum forward seconds of each candidate, for fitting the constants.

    One warm-up run each (plans, buffers), then ``repeats`` interleaved rounds
    (:func:`fftconv.timing.time_rounds`). The *minimum*, since interference from
    other processes only ever adds time (a 2-thread BLAS or FFT call whose
    partner thread is descheduled waits a whole time slice): it is the robust
    estimate of a backend's own cost.
    """
    groups, calls = _forward_calls(spec, candidates)
    runs = time_rounds(calls, repeats)
    return {name: float(np.min(runs[group[0]])) for group in groups for name in group}


def _training_calls(spec: ConvSpec, candidates) -> tuple:
    """Like :func:`_forward_calls`, for a training step: each candidate's
    :meth:`~Backend.forward_saving` and its :meth:`~Backend.backward` of both
    gradients. Every candidate is its own group: backends that share a forward
    (a pointwise layer) need not share a backward."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(spec.input_shape).astype(spec.dtype)
    w = rng.standard_normal(spec.weight_shape).astype(spec.dtype)
    dy = rng.standard_normal(spec.output_shape).astype(spec.dtype)
    calls = {}
    for name, backend in candidates.items():
        weights = changing_weights(w)

        def step(backend=backend, weights=weights):
            wk = next(weights)
            _, saved = backend.forward_saving(x, wk, spec)
            backend.backward(dy, x, wk, spec, ("input", "weight"), saved)
        calls[name] = step
    return [(name,) for name in candidates], calls


def _autotune_seconds(spec: ConvSpec, candidates, backward: bool = False) -> dict:
    """Median forward seconds of each candidate, as autotuning compares them.

    Unlike :func:`_measure`, the *median* of steady-state runs, by the rule
    ``fftconv bench`` names the fastest with (:func:`fftconv.timing.median_seconds`:
    a near tie timed longer): the backend that is usually fastest is wanted, and
    a backend with a bimodal time (one whose threads are now and then
    descheduled, say) can have the better minimum and the worse median.
    """
    groups, calls = (_training_calls if backward else _forward_calls)(spec, candidates)
    seconds = median_seconds(calls, AUTOTUNE_REPEATS, min_seconds=AUTOTUNE_SECONDS)
    return {name: seconds[group[0]] for group in groups for name in group}


#: Autotune times every candidate for at least this many rounds and seconds; a
#: near tie is then timed longer (:func:`fftconv.timing.median_seconds`).
AUTOTUNE_REPEATS, AUTOTUNE_SECONDS = 7, 0.2


def _autotuned(spec: ConvSpec, candidates, backward: bool = False) -> Choice:
    key = _tune_key(spec, backward)
    with _TUNED_LOCK:
        if key not in _TUNED:
            _TUNED.update(_load_tuned())
        known = _TUNED.get(key)
    if isinstance(known, dict) and known.get("name") in candidates \
            and isinstance(known.get("seconds"), dict):
        return Choice(known["name"], dict(known["seconds"]), measured=True,
                      backward=backward)
    # (the forward's call keeps its two-argument form, which tests stand in for)
    times = (_autotune_seconds(spec, candidates, True) if backward
             else _autotune_seconds(spec, candidates))
    winner = min(times, key=times.get)
    with _TUNED_LOCK:
        _TUNED[key] = {"name": winner, "seconds": times}
        try:
            _remember(key, _TUNED[key])
        except (OSError, ValueError) as exc:  # an unwritable cache costs only persistence
            warnings.warn(f"autotune: cannot write {autotune_path()}: {exc}",
                          RuntimeWarning, stacklevel=3)
    return Choice(winner, times, measured=True, backward=backward)


def _remember(key: str, winner: dict) -> None:
    """Add ``winner`` under ``key`` to the autotune file.

    A read-modify-write under the file's lock (:func:`fftconv.jsonfiles.update`):
    processes autotuning at once each add their winners, and none is lost to
    another's write. Winners timed with other source are stale, and dropped
    rather than kept forever.
    """
    suffix = f" #{_source_digest()}"

    def merge(payload):
        winners = {k: v for k, v in (payload["winners"] if payload else {}).items()
                   if k.endswith(suffix)}
        winners[key] = winner
        return {"format": "fftconv-autotune", "version": 1, "winners": winners}
    jsonfiles.update(autotune_path(), AUTOTUNE_SCHEMA, merge, root="autotune",
                     context="autotune")


def choose_backend(spec: ConvSpec, autotune: bool | None = None, registry=None,
                   backward: bool = False) -> Choice:
    """The backend ``'auto'`` runs for ``spec``, with the evidence for the choice.

    Parameters
    ----------
    spec : ConvSpec
    autotune : bool, optional
        Time the candidates (once per geometry, remembered on disk) instead of
        estimating. Default: whether an :func:`autotune` block is active.
    registry : mapping of str to Backend, optional
        The candidates; default: every registered backend.
    backward : bool
        Price a training step, the forward and both gradients
        (:meth:`~Backend.training_cost`; autotuning times
        :meth:`~Backend.forward_saving` and :meth:`~Backend.backward`), instead of
        the forward alone: a backend whose backward is slow is then passed over
        where it would win inference. :class:`fftconv.nn.Conv2d` in training mode
        chooses this way.

    Returns
    -------
    Choice
        ``.name``, ``.costs`` (seconds per candidate), ``.skipped`` (the
        backends that do not apply, with the reason) and ``.reason``.

    Notes
    -----
    Estimated choices are memoized per geometry, candidate set, constants in
    force (:func:`fftconv.constants.generation`) and each candidate's
    :meth:`~Backend.context_key` (the FFT backend's forced tile size), so a
    repeated layer costs a dictionary lookup.

    Examples
    --------
    >>> import fftconv
    >>> spec = fftconv.make_spec("demo", (4, 8, 256, 256), (8, 8, 31, 31))
    >>> choice = fftconv.choose_backend(spec)
    >>> choice.name, sorted(choice.costs)
    ('fft', ['direct', 'fft', 'im2col'])
    """
    if not isinstance(spec, ConvSpec):
        raise bad_type("choose_backend", "spec", spec, "a ConvSpec (see fftconv.make_spec)")
    if not isinstance(backward, (bool, np.bool_)):
        raise bad_type("choose_backend", "backward", backward, "a bool")
    backends = _backends(registry)
    if autotune if autotune is not None else _AUTOTUNE.get():
        candidates = {name: b for name, b in backends.items() if _why_not(b, spec) is None}
        if not candidates:
            _refuse_memory("choose_backend", spec, backends)
        return _autotuned(spec, candidates, bool(backward))
    key = (spec, bool(backward), _constants.generation(), get_memory_budget(),
           tuple((name, id(b), b.context_key()) for name, b in backends.items()))
    choice = _CHOICES.get(key)
    if choice is None:
        choice = _estimated(spec, backends, bool(backward))
        if len(_CHOICES) >= _CHOICES_LIMIT:
            _CHOICES.clear()
        _CHOICES[key] = choice
    return choice


# -- calibration -------------------------------------------------------------------

def _design(n, c, h, o, k, **kw):
    return dict(x=(n, c, h, h), w=(o, c // kw.get("groups", 1), k, k), kwargs=kw)


#: Layers timed by :func:`calibrate` (each backend finishes each in well under a second).
DESIGN_LAYERS = (
    _design(8, 1, 28, 6, 5), _design(16, 3, 32, 16, 3, padding=1),
    _design(4, 16, 16, 32, 3), _design(8, 32, 32, 32, 1), _design(2, 64, 16, 64, 3),
    _design(1, 128, 14, 128, 3, padding=1), _design(4, 8, 64, 8, 9),
    _design(2, 4, 96, 4, 15), _design(1, 2, 128, 2, 21), _design(8, 16, 24, 16, 7),
    _design(4, 32, 28, 32, 5, stride=2), _design(4, 32, 28, 32, 3, padding=1, groups=32),
    _design(16, 8, 12, 8, 3), _design(1, 16, 64, 16, 11), _design(2, 64, 8, 128, 3),
    _design(1, 1, 200, 1, 31), _design(4, 4, 12, 4, 5), _design(2, 96, 32, 96, 1),
    _design(2, 48, 48, 48, 3, padding=1, groups=48),
    # tiny layers with many taps (per-offset overheads), large images with few
    # channels (column matrices and FFT tiles far beyond the cache)
    _design(2, 4, 20, 4, 7), _design(1, 16, 160, 16, 3, padding=1),
    _design(1, 4, 320, 4, 5), _design(1, 1, 384, 1, 3), _design(2, 64, 48, 64, 1),
    # the commonest CNN layer, 3×3 "same", at mid sizes where direct and im2col meet
    _design(4, 32, 48, 32, 3, padding=1), _design(8, 48, 24, 48, 3, padding=1),
    _design(2, 24, 96, 24, 3, padding=1),
)


def _fit(rows: list, times: list, shared=()) -> list:
    """Non-negative least squares on relative error: ``min Σ ((f·c − t)/t)²``, ``c ≥ 0``.

    ``rows`` is a list of ``(backend, features)``. Features named in ``shared`` get
    one constant for every backend (the same BLAS, the same memory), the others one
    per backend. Returns ``{backend: {feature: constant}}``.
    """
    from scipy.optimize import nnls
    columns = []
    for name, feats in rows:
        for k in feats:
            col = k if k in shared else (name, k)
            if col not in columns:
                columns.append(col)
    a = np.zeros((len(rows), len(columns)))
    for i, (name, feats) in enumerate(rows):
        for k, v in feats.items():
            a[i, columns.index(k if k in shared else (name, k))] = v
    t = np.asarray(times, dtype=float)
    a /= t[:, None]
    scale = np.linalg.norm(a, axis=0)
    scale[scale == 0] = 1.0
    coef, _ = nnls(a / scale, np.ones(len(t)))
    coef = coef / scale
    fitted = {}
    for name, feats in rows:
        fitted.setdefault(name, {k: float(coef[columns.index(k if k in shared else (name, k))])
                                 for k in feats})
    return fitted


def _calibration_groups(backends: dict) -> list:
    """``[(names, shared features)]``: backends of one :attr:`~Backend.calibration_group`
    are fitted together, each other backend alone."""
    groups: dict = {}
    for name, backend in backends.items():
        key = backend.calibration_group or ("own", name)
        names, shared = groups.setdefault(key, ([], set()))
        names.append(name)
        shared.update(backend.shared_features)
    return [(tuple(names), tuple(sorted(shared))) for names, shared in groups.values()]


def _time_case(name: str, backend: Backend, spec: ConvSpec, setting, repeats: int) -> float:
    with backend.calibration_setting(setting):
        return _measure(spec, {name: backend}, repeats)[name]


#: Passes over the whole design set in :func:`calibrate`; each case keeps its
#: fastest pass. A shared machine has slow spells lasting seconds, longer than
#: one case's repeats, which several passes apart step around.
CALIBRATION_PASSES = 3


def _design_specs(dtype, layers) -> list:
    return [make_spec("calibrate", d["x"], d["w"], dtype=dtype, **d["kwargs"]) for d in layers]


def calibration_steps(dtypes=("float32", "float64"), layers=DESIGN_LAYERS,
                      registry=None) -> int:
    """How many times :func:`calibrate` calls its ``progress`` (one per layer,
    backend and pass)."""
    backends = _backends(registry)
    return CALIBRATION_PASSES * sum(
        b.supports(spec) for dtype in dtypes for spec in _design_specs(dtype, layers)
        for b in backends.values())


def calibrate(dtypes=("float32", "float64"), repeats: int = 3, layers=DESIGN_LAYERS,
              progress=None, save: bool = True, registry=None) -> tuple[dict, dict]:
    """Time every backend on ``layers`` and fit the cost-model constants.

    Parameters
    ----------
    dtypes : sequence of str
        The dtypes to fit constants for; others keep the shipped ones.
    repeats : int
        Timed runs per case and pass (:data:`CALIBRATION_PASSES` passes, each
        case keeping its fastest).
    layers : sequence of dict
        The design set (default :data:`DESIGN_LAYERS`).
    progress : callable, optional
        Called once per layer, backend and pass (:func:`calibration_steps` times).
    save : bool
        Store the constants (:func:`save_constants`) and forget autotune winners.
    registry : mapping of str to Backend, optional
        The backends to calibrate; default: every registered one.

    Returns
    -------
    constants : dict
        ``{backend: {dtype: {feature: seconds per unit}}}``.
    report : dict
        Per backend and dtype, the median and worst relative error of the fit.
    """
    backends = _backends(registry)
    constants = {name: {} for name in backends}
    report = {}
    for dtype in dtypes:
        specs = _design_specs(dtype, layers)
        for names, shared in _calibration_groups(backends):
            cases = [(name, spec, setting, feats) for name in names for spec in specs
                     if backends[name].supports(spec)
                     for setting, feats in backends[name].calibration_cases(spec)]
            if not cases:
                continue
            times = [math.inf] * len(cases)
            for _ in range(CALIBRATION_PASSES):
                for i, (name, spec, setting, _) in enumerate(cases):
                    times[i] = min(times[i], _time_case(name, backends[name], spec, setting,
                                                        repeats))
                    if progress and (i + 1 == len(cases) or cases[i + 1][:2] != (name, spec)):
                        progress()                     # one layer of one backend done
            rows = [(name, feats) for name, _, _, feats in cases]
            fitted = _fit(rows, times, shared)
            for name in fitted:
                constants[name][dtype] = fitted[name]
                pairs = [(f, t) for (n, f), t in zip(rows, times) if n == name]
                rel = np.array([abs(sum(fitted[name][k] * f[k] for k in f) / t - 1)
                                for f, t in pairs])
                report[f"{name}/{dtype}"] = {"median_rel_error": float(np.median(rel)),
                                             "max_rel_error": float(rel.max())}
    for name, backend in backends.items():     # dtypes not calibrated keep the shipped values
        for dtype, weights in backend.shipped_constants.items():
            constants[name].setdefault(dtype, weights)
    constants = {name: table for name, table in constants.items() if table}
    if save:
        save_constants(constants, report, registry=backends)
        clear_autotune()        # winners measured before this calibration may be stale
    return constants, report
