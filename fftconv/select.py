"""Choosing a backend for ``'auto'``: a fitted cost model, and measured autotuning.

The model
---------
Each backend's forward time is estimated as a weighted sum of *features* of the
layer, in the spirit of Mathieu et al. (2013), who count transform work per input
map, per kernel and per output map and the per-frequency products separately::

    seconds(backend, spec) = Σ_k  constant[backend][dtype][k] · feature_k(spec)

* ``direct``: GEMM work ``macs·(K + K½)/K`` with inner size ``K = C_in/g`` (small
  inner dimensions cannot keep the BLAS kernels busy), the bytes of the ``kh·kw``
  shifted copies, one Python step per kernel offset (per offset and band of
  output rows, when the layer runs in bands), a fixed call cost;
* ``im2col``: GEMM work with ``K = C_in/g·kh·kw``, the bytes of the column matrix
  and the output, one step per kernel offset and block of rows (the copies
  that unfold a block), a fixed call cost;
* ``fft``: at the tile size :func:`choose_fft_tiles` picks, the FFT work
  ``(input maps + output maps) · points · log₂ points`` and the number of maps
  transformed, the kernels' transform (FFT work too, or the spectrum elements the
  DFT matrices on their support write, when the backend uses those), the
  per-frequency complex GEMMs (flops, and a cost per matrix product), a fixed
  call cost.

The constants are machine-dependent. ``fftconv calibrate`` (:func:`calibrate`)
times the real backends on a design set of layers (the FFT backend at several
tile sizes each, so that the fit sees what a tiling costs) and fits the constants by
non-negative least squares on the *relative* error, then stores them as JSON in
the user cache directory (``$FFTCONV_CACHE_DIR``, else ``$XDG_CACHE_HOME/fftconv``,
else ``~/.cache/fftconv``). Without a valid file for this machine, FFT engine and
thread count, the shipped constants (fitted on a 2-core x86-64 machine) are used;
a missing, stale or corrupt file never breaks a call.

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
import json
import math
import os
import platform
import threading
import warnings
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from ._spec import ConvSpec
from .fftlib import fast_lengths, get_fft_engine, next_fast_len
from .timing import changing_weights, median_seconds, time_rounds

__all__ = ["Choice", "choose_backend", "autotune", "clear_autotune", "estimate", "features",
           "choose_fft_tiles", "calibrate", "load_constants", "save_constants",
           "constants_source", "cache_dir", "SHIPPED_CONSTANTS", "DESIGN_LAYERS"]

K_HALF = 24.0      # GEMM inner size at which BLAS reaches half its peak rate

#: Constants fitted by ``fftconv calibrate --repeats 7`` on the development machine
#: (2-core AMD EPYC VM, pyFFTW engine, 2 threads, 2026-11-23); used until this
#: machine is calibrated. Units: seconds per unit of each feature.
SHIPPED_CONSTANTS = {
    "direct": {
        "float32": {"bytes": 0, "call": 0.0001294, "gemm": 1.457e-11, "taps": 8.57e-08},
        "float64": {"bytes": 0, "call": 0.0001229, "gemm": 2.606e-11, "taps": 4.696e-07},
    },
    "im2col": {
        "float32": {"bytes": 2.796e-11, "call": 3.164e-05, "gemm": 1.457e-11, "taps": 2.152e-06},
        "float64": {"bytes": 2.856e-11, "call": 2.612e-05, "gemm": 2.606e-11, "taps": 2.663e-06},
    },
    "fft": {
        "float32": {"call": 0.0002226, "cgemm_calls": 0, "cgemm_flops": 2.178e-11, "fft": 4.01e-10, "kernel_dft": 2.432e-09, "maps": 9.826e-10},
        "float64": {"call": 0.0001838, "cgemm_calls": 0, "cgemm_flops": 3.21e-11, "fft": 5.225e-10, "kernel_dft": 4.404e-09, "maps": 2.324e-09},
    },
}


# -- features ----------------------------------------------------------------------

def _gemm_work(macs: int, k: int) -> float:
    return macs * (k + K_HALF) / k


def _direct_features(spec: ConvSpec) -> dict:
    from .backends.direct import forward_steps
    taps = spec.kh * spec.kw
    item = spec.dtype.itemsize
    pixels = spec.n * spec.out_h * spec.out_w
    # per tap: the shifted input is read and copied (2), the product written and
    # added into the accumulator (3); "taps" counts the products computed, one
    # per tap and band of output rows
    return {"gemm": _gemm_work(spec.macs, spec.c_in_per_group),
            "bytes": taps * pixels * (2 * spec.c_in + 3 * spec.c_out) * item,
            "taps": forward_steps(spec), "call": 1.0}


def _im2col_features(spec: ConvSpec) -> dict:
    from .backends.base import is_pointwise
    from .backends.im2col import forward_steps
    taps = spec.kh * spec.kw
    item = spec.dtype.itemsize
    pixels = spec.n * spec.out_h * spec.out_w
    # the column matrix is written by the copies and read by the product (2), a
    # block at a time, so from cache; the output written once, in place (1);
    # "taps" counts the copies, one per kernel offset and block of rows
    columns = 0 if is_pointwise(spec) else pixels * spec.c_in * taps * item
    return {"gemm": _gemm_work(spec.macs, spec.c_in_per_group * taps),
            "bytes": 2 * columns + pixels * spec.c_out * item,
            "taps": forward_steps(spec), "call": 1.0}


def _fft_features_at(spec: ConvSpec, th: int, tw: int, kernel_share: float = 1.0) -> dict:
    """FFT features at transform size ``th × tw``; kernel transforms weighted by ``kernel_share``."""
    from .backends.fft import support_dft_pays
    sh, sw = spec.stride
    kh, kw = -(-spec.span_h // sh), -(-spec.span_w // sw)      # polyphase kernel taps
    c_in = spec.c_in * sh * sw                                  # polyphase channels
    tiles = math.ceil(spec.out_h / (th - kh + 1)) * math.ceil(spec.out_w / (tw - kw + 1))
    points = th * tw
    maps = spec.n * (c_in + spec.c_out) * tiles
    kernels = spec.c_out * c_in // spec.groups
    freqs = th * (tw // 2 + 1)
    log_points = math.log2(max(points, 2))
    transforms = maps * points * log_points
    # kernels: by DFT matrices on their support when that pays (the spectra written
    # dominate: measured ∝ kernels × frequencies), else as FFTs of padded maps
    spectrum_elements = 0.0
    if support_dft_pays(kh, kw, th, tw):
        spectrum_elements = kernel_share * kernels * freqs
    else:
        transforms += kernel_share * kernels * points * log_points
        maps += kernel_share * kernels
    return {"fft": transforms, "maps": float(maps), "kernel_dft": spectrum_elements,
            "cgemm_flops": 8.0 * freqs * spec.n * tiles * c_in * spec.c_out / spec.groups,
            "cgemm_calls": freqs * spec.groups, "call": 1.0}


def _tile_candidates(spec: ConvSpec) -> tuple[list, list]:
    """Fast transform lengths per axis, from ``2K - 1`` up to the single tile."""
    sh, sw = spec.stride
    kh, kw = -(-spec.span_h // sh), -(-spec.span_w // sw)
    full_h = next_fast_len(spec.out_h + kh - 1)
    full_w = next_fast_len(spec.out_w + kw - 1)
    return (fast_lengths(min(2 * kh - 1, full_h), full_h) or [full_h],
            fast_lengths(min(2 * kw - 1, full_w), full_w) or [full_w])


def _fft_features(spec: ConvSpec) -> dict:
    """Features at the tiling the backend will run: forced by ``set_tile_size``, or chosen."""
    from .backends.fft import forced_tile_size
    return _fft_features_at(spec, *(forced_tile_size() or choose_fft_tiles(spec)))


_FEATURES = {"direct": _direct_features, "im2col": _im2col_features, "fft": _fft_features}


def features(name: str, spec: ConvSpec) -> dict:
    """The cost-model features of backend ``name`` for ``spec`` (see the module notes)."""
    return _FEATURES[name](spec)


# -- constants: shipped, fitted, stored --------------------------------------------

_LOCK = threading.Lock()
_STATE = {"constants": None, "source": None}


def cache_dir() -> str:
    """Directory of fftconv's calibration and autotune files (created on write)."""
    explicit = os.environ.get("FFTCONV_CACHE_DIR")
    if explicit:
        return explicit
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "fftconv")


def _origin() -> dict:
    """What the constants depend on: the machine, the FFT engine and the threads."""
    from . import __version__
    engine = get_fft_engine()
    return {"machine": platform.machine(), "processor": platform.processor(),
            "cores": os.cpu_count(), "engine": engine.name, "threads": engine.threads,
            "fftconv": __version__}


def _valid_constants(table) -> bool:
    try:
        return all(
            set(table[name][dtype]) == set(SHIPPED_CONSTANTS[name][dtype])
            and all(isinstance(v, (int, float)) and math.isfinite(v) and v >= 0
                    for v in table[name][dtype].values())
            for name in SHIPPED_CONSTANTS for dtype in SHIPPED_CONSTANTS[name])
    except (KeyError, TypeError):
        return False


def _atomic_json(path: str, payload) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.tmp-{os.getpid()}-{threading.get_ident()}"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(payload, fh, indent=1, sort_keys=True)
    os.replace(tmp, path)


def _read_json(path: str):
    """Parsed JSON, or ``None`` for a missing or unreadable file."""
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


def constants_path() -> str:
    return os.path.join(cache_dir(), "cost_model.json")


def load_constants(reload: bool = False) -> dict:
    """The constants in force: this machine's calibration if valid, else the shipped ones."""
    with _LOCK:
        if _STATE["constants"] is not None and not reload:
            return _STATE["constants"]
        payload = _read_json(constants_path())
        if (isinstance(payload, dict) and payload.get("format") == "fftconv-cost-model"
                and payload.get("origin") == _origin()
                and _valid_constants(payload.get("constants"))):
            constants, source = payload["constants"], constants_path()
        else:
            constants, source = SHIPPED_CONSTANTS, "shipped defaults"
        _STATE.update(constants=constants, source=source)
        choose_fft_tiles.cache_clear()
        return constants


def constants_source() -> str:
    """Where the constants in force came from (a file path or ``'shipped defaults'``)."""
    load_constants()
    return _STATE["source"]


def save_constants(constants: dict, report: dict | None = None) -> str:
    """Store fitted constants for this machine (atomically) and use them from now on."""
    if not _valid_constants(constants):
        raise ValueError("save_constants: parameter 'constants' must have the shape of "
                         "SHIPPED_CONSTANTS with finite non-negative values")
    _atomic_json(constants_path(), {"format": "fftconv-cost-model", "version": 1,
                                    "origin": _origin(), "constants": constants,
                                    "report": report or {}})
    load_constants(reload=True)
    return constants_path()


def estimate(name: str, spec: ConvSpec, constants: dict | None = None) -> float:
    """Estimated forward seconds of backend ``name`` for ``spec``."""
    table = (constants or load_constants())[name]
    weights = table.get(spec.dtype.name, table["float64"])
    return sum(weights[k] * v for k, v in features(name, spec).items())


# -- FFT tile size -----------------------------------------------------------------

#: Weight of the kernel transforms when choosing the tile size. Kernel spectra
#: are reused: for every call with the same weights (inference, from the
#: cache) and, in training, by the backward pass, which does about three times
#: the forward's map work with them. Counting them in full favoured narrow
#: tiles with small kernel spectra, measured 1.5× slower than one tile once the
#: spectra are cached (16×32×64² 7×7 and 8×16×128² 11×11 layers).
KERNEL_SHARE = 0.25


@lru_cache(maxsize=4096)
def choose_fft_tiles(spec: ConvSpec) -> tuple[int, int]:
    """Transform size ``(T_h, T_w)`` of the FFT backend for ``spec``.

    Candidates are the fast lengths (:func:`fftconv.fftlib.fast_lengths`) from
    ``2K - 1`` (each tile yields at least ``K`` outputs, ``K`` the polyphase kernel
    size) up to the single tile covering the whole image; the pair with the lowest
    estimate wins, the kernel transforms counted at :data:`KERNEL_SHARE`.
    """
    weights = load_constants()["fft"]
    weights = weights.get(spec.dtype.name, weights["float64"])
    cand_h, cand_w = _tile_candidates(spec)

    def seconds(hw):
        feats = _fft_features_at(spec, *hw, kernel_share=KERNEL_SHARE)
        return sum(weights[k] * v for k, v in feats.items())
    return min(((th, tw) for th in cand_h for tw in cand_w), key=seconds)


def _calibration_tilings(spec: ConvSpec) -> list:
    """Tilings :func:`calibrate` times the FFT backend at for ``spec``.

    The single tile, the smallest and a middle square-ish tile, and the current
    model's choice: timing several tilings of each layer lets the fit see what a
    tile size costs, which the tile choice then depends on.
    """
    cand_h, cand_w = _tile_candidates(spec)
    picks = {(cand_h[-1], cand_w[-1]), (cand_h[0], cand_w[0]),
             (cand_h[len(cand_h) // 2], cand_w[len(cand_w) // 2]), choose_fft_tiles(spec)}
    return sorted(picks)


# -- choosing ---------------------------------------------------------------------

@dataclass(frozen=True)
class Choice:
    """A backend choice and the evidence: seconds per candidate, and how they were had."""

    name: str
    costs: dict = field(default_factory=dict)
    measured: bool = False

    @property
    def reason(self) -> str:
        ranked = sorted(self.costs.items(), key=lambda item: item[1])
        kind = "measured" if self.measured else "estimated"
        parts = ", ".join(f"{name} {seconds * 1e3:.3g} ms" for name, seconds in ranked)
        return f"chose {self.name!r}: {kind} forward time {parts}"


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


def _tune_key(spec: ConvSpec) -> str:
    origin = _origin()
    return (f"{spec} @ {origin['machine']}/{origin['engine']}x{origin['threads']}"
            f" #{_source_digest()}")


def autotune_path() -> str:
    return os.path.join(cache_dir(), "autotune.json")


def _load_tuned() -> dict:
    payload = _read_json(autotune_path())
    if isinstance(payload, dict) and payload.get("format") == "fftconv-autotune" \
            and isinstance(payload.get("winners"), dict):
        return payload["winners"]
    return {}


def clear_autotune() -> int:
    """Forget every remembered autotune winner (in memory and on disk).

    Winners measured while the machine was busy stay until cleared; ``fftconv
    calibrate`` clears them, since it re-measures the machine. Returns how many
    winners were forgotten.

    Examples
    --------
    >>> import fftconv
    >>> n = fftconv.select.clear_autotune()     # the next autotuned call measures again
    >>> n >= 0
    True
    """
    with _TUNED_LOCK:
        known = set(_TUNED) | set(_load_tuned())
        _TUNED.clear()
        try:
            os.remove(autotune_path())
        except FileNotFoundError:
            pass
    return len(known)


def _forward_calls(spec: ConvSpec, candidates) -> tuple:
    """The code paths that ``candidates`` run on ``spec``, and a call of each.

    Returns ``(groups, calls)``: the backends grouped by the code they run
    (:func:`~fftconv.backends.same_code`), and for the first of each group a
    function that runs its forward on random data of ``spec``'s shape. Backends
    that run the same code are timed once.
    """
    from .backends import same_code
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


def _autotune_seconds(spec: ConvSpec, candidates) -> dict:
    """Median forward seconds of each candidate, as autotuning compares them.

    Unlike :func:`_measure`, the *median* of steady-state runs, by the rule
    ``fftconv bench`` names the fastest with (:func:`fftconv.timing.median_seconds`:
    a near tie timed longer): the backend that is usually fastest is wanted, and
    a backend with a bimodal time (2-thread BLAS here) can have the better
    minimum and the worse median.
    """
    groups, calls = _forward_calls(spec, candidates)
    seconds = median_seconds(calls, AUTOTUNE_REPEATS, min_seconds=AUTOTUNE_SECONDS)
    return {name: seconds[group[0]] for group in groups for name in group}


#: Autotune times every candidate for at least this many rounds and seconds; a
#: near tie is then timed longer (:func:`fftconv.timing.median_seconds`).
AUTOTUNE_REPEATS, AUTOTUNE_SECONDS = 7, 0.2


def _autotuned(spec: ConvSpec, candidates) -> Choice:
    key = _tune_key(spec)
    with _TUNED_LOCK:
        if key not in _TUNED:
            _TUNED.update(_load_tuned())
        known = _TUNED.get(key)
    if isinstance(known, dict) and known.get("name") in candidates \
            and isinstance(known.get("seconds"), dict):
        return Choice(known["name"], dict(known["seconds"]), measured=True)
    times = _autotune_seconds(spec, candidates)
    winner = min(times, key=times.get)
    with _TUNED_LOCK:
        _TUNED[key] = {"name": winner, "seconds": times}
        # winners timed with other source are stale: dropped, not kept forever
        merged = {k: v for k, v in _load_tuned().items()
                  if k.endswith(f" #{_source_digest()}")}
        merged[key] = _TUNED[key]
        try:
            _atomic_json(autotune_path(), {"format": "fftconv-autotune", "version": 1,
                                           "winners": merged})
        except OSError as exc:     # a read-only cache directory costs only persistence
            warnings.warn(f"autotune: cannot write {autotune_path()}: {exc}",
                          RuntimeWarning, stacklevel=3)
    return Choice(winner, times, measured=True)


def choose_backend(spec: ConvSpec, autotune: bool | None = None) -> Choice:
    """The backend ``'auto'`` runs for ``spec``, with the evidence for the choice.

    Parameters
    ----------
    spec : ConvSpec
    autotune : bool, optional
        Time the candidates (once per geometry, remembered on disk) instead of
        estimating. Default: whether an :func:`autotune` block is active.

    Returns
    -------
    Choice
        ``.name``, ``.costs`` (seconds per candidate) and ``.reason``.

    Examples
    --------
    >>> import fftconv
    >>> spec = fftconv.make_spec("demo", (4, 8, 256, 256), (8, 8, 31, 31))
    >>> choice = fftconv.choose_backend(spec)
    >>> choice.name, sorted(choice.costs)
    ('fft', ['direct', 'fft', 'im2col'])
    """
    from .backends import _REGISTRY
    candidates = {name: b for name, b in _REGISTRY.items() if b.supports(spec)}
    if autotune if autotune is not None else _AUTOTUNE.get():
        return _autotuned(spec, candidates)
    costs = {name: b.cost(spec) for name, b in candidates.items()}
    return Choice(min(costs, key=costs.get), costs)


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


def _calibration_cases(name: str, spec: ConvSpec) -> list:
    """``(tiling, features)`` to time ``name`` at on ``spec`` (the FFT at several tilings)."""
    if name != "fft":
        return [(None, features(name, spec))]
    return [((th, tw), _fft_features_at(spec, th, tw)) for th, tw in _calibration_tilings(spec)]


def _time_case(name: str, backend, spec: ConvSpec, tiling, repeats: int) -> float:
    from .backends.fft import set_tile_size
    if tiling is None:
        return _measure(spec, {name: backend}, repeats)[name]
    with set_tile_size(*tiling):
        return _measure(spec, {name: backend}, repeats)[name]


#: Passes over the whole design set in :func:`calibrate`; each case keeps its
#: fastest pass. A shared machine has slow spells lasting seconds, longer than
#: one case's repeats, which several passes apart step around: fits from one
#: pass varied enough to move 'auto' on 3–5 of the 36 sweep layers.
CALIBRATION_PASSES = 3


def calibrate(dtypes=("float32", "float64"), repeats: int = 3, layers=DESIGN_LAYERS,
              progress=None, save: bool = True) -> tuple[dict, dict]:
    """Time every backend on ``layers`` and fit the cost-model constants.

    Returns
    -------
    constants : dict
        ``{backend: {dtype: {feature: seconds per unit}}}``.
    report : dict
        Per backend and dtype, the median and worst relative error of the fit.
    """
    from ._spec import make_spec
    from .backends import _REGISTRY
    constants = {name: {} for name in SHIPPED_CONSTANTS}
    report = {}
    # direct and im2col run the same BLAS: their GEMM constant is fitted jointly,
    # so the two are ranked on one scale. Their bytes are not alike (im2col's
    # column gather is a strided copy, direct's shifts are contiguous adds), and a
    # shared byte constant underestimated im2col 3–4× on large kernels.
    groups = ((("direct", "im2col"), ("gemm",)), (("fft",), ()))
    for dtype in dtypes:
        specs = [make_spec("calibrate", d["x"], d["w"], dtype=dtype, **d["kwargs"])
                 for d in layers]
        for names, shared in groups:
            cases = [(name, spec, tiling, feats) for name in names for spec in specs
                     if _REGISTRY[name].supports(spec)
                     for tiling, feats in _calibration_cases(name, spec)]
            times = [math.inf] * len(cases)
            for _ in range(CALIBRATION_PASSES):
                for i, (name, spec, tiling, _) in enumerate(cases):
                    times[i] = min(times[i], _time_case(name, _REGISTRY[name], spec, tiling,
                                                        repeats))
                    if progress and (i + 1 == len(cases) or cases[i + 1][:2] != (name, spec)):
                        progress()                     # one layer of one backend done
            rows = [(name, feats) for name, _, _, feats in cases]
            fitted = _fit(rows, times, shared)
            for name in names:
                constants[name][dtype] = fitted[name]
                pairs = [(f, t) for (n, f), t in zip(rows, times) if n == name]
                rel = np.array([abs(sum(fitted[name][k] * f[k] for k in f) / t - 1)
                                for f, t in pairs])
                report[f"{name}/{dtype}"] = {"median_rel_error": float(np.median(rel)),
                                             "max_rel_error": float(rel.max())}
    for name in constants:          # dtypes not calibrated keep the shipped values
        for dtype in SHIPPED_CONSTANTS[name]:
            constants[name].setdefault(dtype, SHIPPED_CONSTANTS[name][dtype])
    if save:
        save_constants(constants, report)
        clear_autotune()        # winners measured before this calibration may be stale
    return constants, report
