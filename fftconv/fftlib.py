"""FFT engines: one small interface over numpy.fft, scipy.fft and pyFFTW.

Every FFT in fftconv goes through the *current engine*, chosen per thread / task
with :func:`set_fft_engine` (a plain call, or a ``with`` block that restores the
previous engine on exit). The default is pyFFTW when it is importable, else scipy.

* ``numpy``: ``numpy.fft`` (single-threaded; the reference).
* ``scipy``: ``scipy.fft`` with ``workers=threads`` (pocketfft, multithreaded).
* ``pyfftw``: FFTW plans built once per (transform, shape, dtype, axes, size,
  threads, planner effort) and cached **per thread** (an FFTW plan object owns its
  buffers and must not be shared between threads), ``FFTW_MEASURE`` by default,
  16-byte-or-better aligned buffers from ``pyfftw.empty_aligned``. Planning
  knowledge ("wisdom") can be saved with :func:`export_wisdom` and loaded with
  :func:`import_wisdom`; a corrupt file or one from another machine or FFTW
  version gives a :class:`fftconv.jsonfiles.CacheFileWarning` and is ignored.

All engines keep single precision: float32 in → complex64 spectra → float32 out.

:func:`rfftn_into` / :func:`irfftn_into` transform into a caller's array of any
strides (pyFFTW writes it directly: the FFT backend uses them to produce and
consume its frequency-major layout without transpose passes). Their pyFFTW
plans are made for exactly the layouts given and always for SIMD-aligned
memory; arrays from :func:`empty_aligned` are used in place, others through an
aligned copy.

Transform lengths: :func:`next_fast_len` returns the smallest length at or above
``n`` of the form ``2^a · m`` with ``m`` in 1, 3, 5, 9, 15, which every engine
transforms efficiently.
"""

from __future__ import annotations

import base64
import math
import os
import platform
import threading
import warnings
from contextvars import ContextVar

import numpy as np
import scipy.fft

from . import jsonfiles
from .errors import bad_type, bad_value

__all__ = ["ENGINES", "available_engines", "get_fft_engine", "set_fft_engine",
           "rfftn", "irfftn", "fftn", "ifftn", "rfftn_into", "irfftn_into", "empty_aligned",
           "zeros_aligned", "next_fast_len", "fast_lengths", "export_wisdom",
           "import_wisdom", "default_threads"]

ENGINES = ("numpy", "scipy", "pyfftw")
PLANNER_EFFORTS = ("FFTW_ESTIMATE", "FFTW_MEASURE", "FFTW_PATIENT", "FFTW_EXHAUSTIVE")

#: Environment variables with which a user sets how idle OpenMP threads wait; when
#: any is set, :func:`_import_pyfftw` leaves the waiting to the user's choice.
OPENMP_WAIT_VARIABLES = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "KMP_BLOCKTIME")


def _import_pyfftw():
    """Import pyFFTW, its OpenMP threads set to sleep when idle instead of spinning.

    The pyFFTW wheels run FFTW's threads on their own copy of the OpenMP runtime
    (libgomp), which reads ``OMP_WAIT_POLICY`` once, when it is loaded. By
    default its idle threads spin for a while before they sleep, so after every
    threaded transform a worker keeps a core busy, and whatever runs next (our own
    pool, BLAS, another backend) loses that core: the time of everything that
    follows an FFT would depend on whether one had just run. The asv benchmark
    ``FFTWIdleThreads`` (``benchmarks/bench_fftlib.py``) tracks the CPU time idle
    workers use; the tests check the runtime's reported policy.

    So the policy is ``PASSIVE`` while the runtime loads, and the variable is
    removed again afterwards (nothing else in the process, nor its children,
    sees it). A user who sets any of :data:`OPENMP_WAIT_VARIABLES` keeps that
    setting; so does a process that imported pyFFTW before fftconv.
    """
    chosen_by_user = any(name in os.environ for name in OPENMP_WAIT_VARIABLES)
    if not chosen_by_user:
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    try:
        import pyfftw
        import pyfftw.builders  # noqa: F401  (the submodule the engine calls)
    except ImportError:  # pragma: no cover - exercised only where pyfftw is missing
        return None
    finally:
        if not chosen_by_user:
            del os.environ["OMP_WAIT_POLICY"]
    return pyfftw


pyfftw = _import_pyfftw()   # optional dependency (the 'fftw' extra)


def default_threads() -> int:
    """Cores this process may run on (the default thread count of every engine)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


#: Odd parts allowed in a fast transform length (times a power of two).
FAST_ODD_PARTS = (1, 3, 5, 9, 15)


def fast_lengths(lo: int, hi: int) -> list[int]:
    """Fast transform lengths in ``[lo, hi]``, ascending (see :func:`next_fast_len`)."""
    out = set()
    for odd in FAST_ODD_PARTS:
        n = odd
        while n <= hi:
            if n >= lo:
                out.add(n)
            n *= 2
    return sorted(out)


def next_fast_len(n: int) -> int:
    """Smallest length ``>= n`` of the form ``2^a · m`` with ``m`` in 1, 3, 5, 9, 15.

    All engines transform such lengths efficiently; FFTW in particular spends more
    time per point on 5-smooth lengths with a small power-of-two part (243, 405,
    1125), which plain 5-smoothness would allow.

    See Also
    --------
    scipy.fft.next_fast_len : scipy's rule (pocketfft's sizes).

    Examples
    --------
    >>> next_fast_len(1086), next_fast_len(97), next_fast_len(64)
    (1152, 120, 64)
    """
    n = max(int(n), 1)
    return min(m << max(0, (n - 1) // m).bit_length() if m < n else m
               for m in FAST_ODD_PARTS)


def _single(a: np.ndarray) -> bool:
    return a.dtype in (np.float32, np.complex64)


class Engine:
    """One FFT library with a thread count. Subclasses implement the four transforms.

    ``rfftn(a, axes, s)`` transforms real ``a`` over ``axes`` (zero-padding or
    cropping to sizes ``s``), halving the last axis; ``irfftn(A, s, axes)`` inverts
    it to real output of sizes ``s``; ``fftn`` / ``ifftn`` are the complex
    transforms. Inverse transforms are scaled by ``1/prod(s)``.
    """

    name = ""

    def __init__(self, threads: int):
        self.threads = threads

    def __repr__(self) -> str:
        return f"<fftconv FFT engine {self.name!r}, threads={self.threads}>"

    def rfftn_into(self, a, out, axes):
        np.copyto(out, self.rfftn(a, axes))
        return out

    def irfftn_into(self, a, out, axes, scaled=True):
        np.copyto(out, self.irfftn(a, tuple(out.shape[ax] for ax in axes), axes))
        if not scaled:
            out *= math.prod(out.shape[ax] for ax in axes)
        return out


class NumpyEngine(Engine):
    name = "numpy"

    def _keep(self, a, out, real):
        dtype = (np.float32 if real else np.complex64) if _single(a) else None
        return out.astype(dtype, copy=False) if dtype else out

    def rfftn(self, a, axes, s=None):
        return self._keep(a, np.fft.rfftn(a, s, axes), real=False)

    def irfftn(self, a, s, axes):
        return self._keep(a, np.fft.irfftn(a, s, axes), real=True)

    def fftn(self, a, axes, s=None):
        return self._keep(a, np.fft.fftn(a, s, axes), real=False)

    def ifftn(self, a, axes, s=None):
        return self._keep(a, np.fft.ifftn(a, s, axes), real=False)


class ScipyEngine(Engine):
    name = "scipy"

    def rfftn(self, a, axes, s=None):
        return scipy.fft.rfftn(a, s, axes, workers=self.threads)

    def irfftn(self, a, s, axes):
        return scipy.fft.irfftn(a, s, axes, workers=self.threads)

    def irfftn_into(self, a, out, axes, scaled=True):
        shape = tuple(out.shape[ax] for ax in axes)
        np.copyto(out, scipy.fft.irfftn(a, shape, axes, norm=None if scaled else "forward",
                                        workers=self.threads, overwrite_x=True))
        return out

    def fftn(self, a, axes, s=None):
        return scipy.fft.fftn(a, s, axes, workers=self.threads)

    def ifftn(self, a, axes, s=None):
        return scipy.fft.ifftn(a, s, axes, workers=self.threads)


#: Real-side elements below which a pyFFTW transform runs on one thread (2¹⁹:
#: e.g. 8 maps of 256 × 256, 128 maps of 64 × 64). Larger batches, such as the
#: 4 MiB blocks of the streamed signal convolution, gain from the threads.
PARALLEL_MIN_ELEMENTS = 1 << 19


class PyfftwEngine(Engine):
    """FFTW through pyFFTW's builders, with a per-thread plan cache."""

    name = "pyfftw"

    def __init__(self, threads: int, planner_effort: str = "FFTW_MEASURE"):
        super().__init__(threads)
        self.planner_effort = planner_effort
        self._local = threading.local()

    def _threads_for(self, elements: int) -> int:
        """Threads for a transform of ``elements`` real-side values: all only for large batches.

        Waking worker threads costs little on a quiet machine, but on a shared VM
        a woken thread (or one competing with another library's spinning BLAS
        workers) can cost more than a small transform itself, and unpredictably
        so. Below :data:`PARALLEL_MIN_ELEMENTS` the transform runs on the calling
        thread.
        """
        return self.threads if elements >= PARALLEL_MIN_ELEMENTS else 1

    def plan_count(self) -> int:
        """Number of plans cached for the calling thread."""
        return len(getattr(self._local, "plans", {}))

    def _run(self, kind: str, a: np.ndarray, axes, s):
        plans = getattr(self._local, "plans", None)
        if plans is None:
            plans = self._local.plans = {}
        axes = tuple(axes)
        s = None if s is None else tuple(int(n) for n in s)
        key = (kind, a.shape, a.dtype.str, a.strides, axes, s)
        plan = plans.get(key)
        if plan is None:
            builder = getattr(pyfftw.builders, kind)
            real_side = a.size * (2 if kind.startswith("irfft") else 1)
            plan = builder(a, s=s, axes=axes, threads=self._threads_for(real_side),
                           planner_effort=self.planner_effort)
            plans[key] = plan
        # A fresh aligned output for every call: FFTW objects return their internal
        # buffer, which the next call through the same plan would overwrite.
        out = pyfftw.empty_aligned(plan.output_array.shape, dtype=plan.output_array.dtype)
        return plan(a, output_array=out)

    def _run_into(self, inverse: bool, a: np.ndarray, out: np.ndarray, axes, scaled=True):
        """Transform ``a`` straight into ``out`` with a plan made for exactly their layouts.

        FFTW reads and writes any strides, so a transposed ``out`` costs far less
        than a contiguous result followed by a transpose. Plans are made on aligned
        scratch arrays of the same layout (planning overwrites its arrays). An
        array that is not SIMD-aligned goes through an aligned copy of the same
        layout: one plan per layout, never a second, slower ``FFTW_UNALIGNED``
        plan made (and measured) in the middle of a run because an allocation
        happened to land elsewhere. Arrays from :func:`empty_aligned` never copy.
        """
        plans = getattr(self._local, "plans", None)
        if plans is None:
            plans = self._local.plans = {}
        axes = tuple(ax % a.ndim for ax in axes)
        if not _plannable(a):                  # negative or overlapping strides
            a = np.ascontiguousarray(a)
        if not _plannable(out):
            return np.copyto(out, self._run_into(inverse, a, np.empty_like(out, order="C"),
                                                 axes, scaled)) or out
        key = ("into", inverse, a.shape, a.strides, a.dtype.str, out.shape, out.strides,
               out.dtype.str, axes)
        plan = plans.get(key)
        if plan is None:
            # Out-of-place real-to-complex plans preserve their input by default.
            flags = [self.planner_effort] + (["FFTW_DESTROY_INPUT"] if inverse else [])
            plan = pyfftw.FFTW(_scratch_like(a), _scratch_like(out), axes=axes,
                               direction="FFTW_BACKWARD" if inverse else "FFTW_FORWARD",
                               flags=flags, threads=self._threads_for(max(a.size, out.size)))
            plans[key] = plan
        if not _aligned(a):
            a = _copy_like(a)
        target = out if _aligned(out) else _scratch_like(out)
        plan(a, target, normalise_idft=scaled)
        if target is not out:
            np.copyto(out, target)
        return out

    def rfftn_into(self, a, out, axes):
        return self._run_into(False, a, out, axes)

    def irfftn_into(self, a, out, axes, scaled=True):
        return self._run_into(True, a, out, axes, scaled)

    def rfftn(self, a, axes, s=None):
        return self._run("rfftn", a, axes, s)

    def irfftn(self, a, s, axes):
        return self._run("irfftn", a, axes, s)

    def fftn(self, a, axes, s=None):
        return self._run("fftn", a, axes, s)

    def ifftn(self, a, axes, s=None):
        return self._run("ifftn", a, axes, s)


_ENGINE_CLASSES = {"numpy": NumpyEngine, "scipy": ScipyEngine, "pyfftw": PyfftwEngine}
_INSTANCES: dict[tuple, Engine] = {}
_INSTANCES_LOCK = threading.Lock()


def available_engines() -> list[str]:
    """Engines usable here (``pyfftw`` only when the package is installed)."""
    return [name for name in ENGINES if name != "pyfftw" or pyfftw is not None]


def _engine(name: str, threads: int | None, planner_effort: str | None) -> Engine:
    threads = default_threads() if threads is None else threads
    effort = (planner_effort or "FFTW_MEASURE") if name == "pyfftw" else None
    key = (name, threads, effort)
    with _INSTANCES_LOCK:
        if key not in _INSTANCES:
            cls = _ENGINE_CLASSES[name]
            _INSTANCES[key] = cls(threads, effort) if effort else cls(threads)
        return _INSTANCES[key]


_CURRENT: ContextVar[Engine | None] = ContextVar("fftconv_fft_engine", default=None)


def get_fft_engine() -> Engine:
    """The engine in force for this thread / task."""
    engine = _CURRENT.get()
    if engine is None:
        engine = _engine("pyfftw" if pyfftw is not None else "scipy", None, None)
    return engine


class set_fft_engine:
    """Choose the FFT engine, for the rest of the context or inside a ``with`` block.

    Parameters
    ----------
    name : {'numpy', 'scipy', 'pyfftw'}
    threads : int, optional
        Threads per transform (default: the cores available to this process).
    planner_effort : str, optional
        pyFFTW only: ``'FFTW_ESTIMATE'``, ``'FFTW_MEASURE'`` (default),
        ``'FFTW_PATIENT'`` or ``'FFTW_EXHAUSTIVE'``.

    Examples
    --------
    >>> import numpy as np
    >>> from fftconv import fftlib
    >>> with fftlib.set_fft_engine("numpy"):
    ...     fftlib.get_fft_engine().name
    'numpy'
    >>> fftlib.rfftn(np.ones(4, np.float32), axes=(0,)).dtype
    dtype('complex64')
    """

    def __init__(self, name: str, threads: int | None = None,
                 planner_effort: str | None = None):
        func = "set_fft_engine"
        if not isinstance(name, str):
            raise bad_type(func, "name", name, "an engine name (str)")
        if name not in ENGINES:
            raise bad_value(func, "name", name, f"one of {', '.join(map(repr, ENGINES))}")
        if name not in available_engines():
            raise bad_value(func, "name", name,
                            f"an installed engine ({', '.join(available_engines())}); "
                            "install the 'fftw' extra for pyfftw")
        if threads is not None and (not isinstance(threads, (int, np.integer))
                                    or isinstance(threads, bool) or threads < 1):
            raise bad_value(func, "threads", threads, "None or a positive int")
        if planner_effort is not None and planner_effort not in PLANNER_EFFORTS:
            raise bad_value(func, "planner_effort", planner_effort,
                            f"one of {', '.join(PLANNER_EFFORTS)}")
        self.engine = _engine(name, threads, planner_effort)
        self._token = _CURRENT.set(self.engine)

    def __enter__(self) -> Engine:
        return self.engine

    def __exit__(self, *exc) -> None:
        _CURRENT.reset(self._token)


def rfftn(a, axes, s=None):
    """Real-input N-d FFT over ``axes`` with the current engine (sizes ``s``)."""
    return get_fft_engine().rfftn(a, axes, s)


def irfftn(a, s, axes):
    """Inverse of :func:`rfftn`: real output of sizes ``s`` over ``axes``."""
    return get_fft_engine().irfftn(a, s, axes)


def _check_into(func: str, a, out, axes, inverse: bool) -> tuple:
    """Validate the arrays of :func:`rfftn_into` / :func:`irfftn_into`; return normalized axes."""
    for name, arr in (("a", a), ("out", out)):
        if not isinstance(arr, np.ndarray):
            raise bad_type(func, name, arr, "a numpy.ndarray")
    real, cplx = (out, a) if inverse else (a, out)
    if real.dtype not in (np.float32, np.float64):
        raise bad_type(func, "out" if inverse else "a", real, "a float32 or float64 array")
    if cplx.dtype != np.result_type(real.dtype, np.complex64):
        raise bad_type(func, "a" if inverse else "out", cplx,
                       f"a {np.result_type(real.dtype, np.complex64)} array")
    try:
        axes = tuple(int(ax) % real.ndim for ax in axes)
    except (TypeError, ValueError, ZeroDivisionError):
        raise bad_value(func, "axes", axes, "a sequence of axis indices") from None
    if len(set(axes)) != len(axes) or not axes:
        raise bad_value(func, "axes", axes, "distinct axis indices")
    half = list(real.shape)
    half[axes[-1]] = real.shape[axes[-1]] // 2 + 1
    if cplx.shape != tuple(half):
        name = "a" if inverse else "out"
        raise bad_value(func, name, cplx, f"shape {tuple(half)} (the real shape "
                        f"{real.shape} with axis {axes[-1]} halved to n//2 + 1)")
    return axes


def rfftn_into(a, out, axes):
    """Real FFT of ``a`` over ``axes``, written into ``out``; returns ``out``.

    ``out`` may have any strides (for example a transposed view of a
    frequency-major array): pyFFTW writes it directly, the other engines copy the
    result in.

    Parameters
    ----------
    a : ndarray, float32 or float64, shape ``(..., n_1, ..., n_k)``
    out : ndarray, complex64 or complex128
        ``a``'s shape with the last of ``axes`` halved to ``n_k // 2 + 1``:
        ``out[..., f] = Σ_t a[..., t] e^{-2πi f·t/n}`` over ``axes``.
    axes : sequence of int

    Examples
    --------
    >>> import numpy as np
    >>> from fftconv import fftlib
    >>> a = np.arange(8.0).reshape(2, 4)
    >>> out = fftlib.empty_aligned((3, 2), np.complex128).T     # a transposed view
    >>> bool(np.allclose(fftlib.rfftn_into(a, out, axes=(-1,)), np.fft.rfft(a)))
    True
    """
    axes = _check_into("rfftn_into", a, out, axes, inverse=False)
    return get_fft_engine().rfftn_into(a, out, axes)


def irfftn_into(a, out, axes, scaled=True):
    """Inverse real FFT of ``a`` into real ``out`` (sizes from ``out``); returns ``out``.

    ``a`` is used as scratch and left **undefined** (FFTW's multi-dimensional
    complex-to-real transforms overwrite their input); pass a copy to keep it.

    Parameters
    ----------
    a : ndarray, complex64 or complex128
        Half spectrum: ``out``'s shape with the last of ``axes`` halved.
    out : ndarray, float32 or float64, shape ``(..., n_1, ..., n_k)``
        ``out[..., t] = (1/Π n_i) Σ_f A[..., f] e^{+2πi f·t/n}`` over ``axes``
        (Hermitian completion of ``a``).
    axes : sequence of int
    scaled : bool
        ``False`` leaves out the ``1/Π n_i`` factor, for callers that have folded
        it into a spectrum already (it saves a pass over ``out``).

    Examples
    --------
    >>> import numpy as np
    >>> from fftconv import fftlib
    >>> x = np.arange(6.0)
    >>> back = fftlib.irfftn_into(np.fft.rfft(x), np.empty(6), axes=(0,))
    >>> bool(np.allclose(back, x))
    True
    """
    axes = _check_into("irfftn_into", a, out, axes, inverse=True)
    return get_fft_engine().irfftn_into(a, out, axes, scaled)


def empty_aligned(shape, dtype) -> np.ndarray:
    """An uninitialised array aligned for SIMD transforms (plain ``np.empty`` without pyFFTW).

    Examples
    --------
    >>> import numpy as np
    >>> from fftconv import fftlib
    >>> fftlib.empty_aligned((2, 3), np.float32).shape
    (2, 3)
    """
    if pyfftw is None:
        return np.empty(shape, dtype)
    return pyfftw.empty_aligned(shape, dtype=dtype)


def zeros_aligned(shape, dtype) -> np.ndarray:
    """Like :func:`empty_aligned`, filled with zeros.

    Examples
    --------
    >>> import numpy as np
    >>> from fftconv import fftlib
    >>> float(fftlib.zeros_aligned(4, np.float64).sum())
    0.0
    """
    out = empty_aligned(shape, dtype)
    out.fill(0)
    return out


def _scratch_like(a: np.ndarray) -> np.ndarray:
    """An aligned array with exactly ``a``'s shape, dtype and strides (to plan on).

    The strides must be non-negative and must not overlap, as for any view of an
    array the backends own.
    """
    if any(st < 0 or st % a.itemsize for st in a.strides):
        raise ValueError(f"fftlib: cannot plan for strides {a.strides} of {a.dtype}")
    extent = 1 + sum((n - 1) * st for n, st in zip(a.shape, a.strides)) // a.itemsize
    base = pyfftw.empty_aligned(extent, dtype=a.dtype)
    return np.lib.stride_tricks.as_strided(base, shape=a.shape, strides=a.strides)


def _plannable(a: np.ndarray) -> bool:
    """Whether ``a``'s layout can be reproduced for planning: non-negative strides,
    multiples of the item size, no two elements sharing memory."""
    if any(st < 0 or st % a.itemsize for st in a.strides):
        return False
    extent = 1 + sum((n - 1) * st for n, st in zip(a.shape, a.strides)) // a.itemsize
    return extent >= a.size


def _aligned(a: np.ndarray) -> bool:
    return a.ctypes.data % pyfftw.simd_alignment == 0


def _copy_like(a: np.ndarray) -> np.ndarray:
    """An aligned copy of ``a`` with the same strides."""
    copy = _scratch_like(a)
    np.copyto(copy, a)
    return copy


def fftn(a, axes, s=None):
    """Complex N-d FFT over ``axes`` with the current engine."""
    return get_fft_engine().fftn(a, axes, s)


def ifftn(a, axes, s=None):
    """Complex inverse N-d FFT over ``axes`` with the current engine."""
    return get_fft_engine().ifftn(a, axes, s)


# -- FFTW wisdom -----------------------------------------------------------------

_WISDOM_FORMAT = "fftconv-fftw-wisdom"


def _machine_id() -> dict:
    return {"machine": platform.machine(), "processor": platform.processor(),
            "fftw": getattr(pyfftw, "__version__", None), "cores": os.cpu_count()}


#: What :func:`export_wisdom` writes and :func:`import_wisdom` accepts.
_WISDOM_SCHEMA = {
    "format": _WISDOM_FORMAT, "version": 1,
    "origin": {"machine": str, "processor": str, "fftw": (str, None), "cores": (int, None)},
    "wisdom": [str],
}


def export_wisdom(path) -> None:
    """Save FFTW's accumulated planning knowledge to ``path`` (JSON, written atomically).

    The file records the machine and pyFFTW version it was measured on;
    :func:`import_wisdom` ignores it elsewhere.
    """
    if pyfftw is None:
        raise bad_value("export_wisdom", "engine", "pyfftw", "an installed pyfftw")
    payload = {"format": _WISDOM_FORMAT, "version": 1, "origin": _machine_id(),
               "wisdom": [base64.b64encode(w).decode("ascii")
                          for w in pyfftw.export_wisdom()]}
    jsonfiles.write_atomic(os.fspath(path), payload, schema=_WISDOM_SCHEMA, root="wisdom")


def import_wisdom(path) -> bool:
    """Load wisdom saved by :func:`export_wisdom`; return whether it was used.

    A missing, corrupt or foreign (other machine or pyFFTW version) file gives a
    :class:`fftconv.jsonfiles.CacheFileWarning` naming it and is ignored: planning
    simply starts from scratch. The file is read by
    :func:`fftconv.jsonfiles.read_cache` against the schema of what
    :func:`export_wisdom` writes.
    """
    if pyfftw is None:
        return False
    path = os.fspath(path)
    payload = jsonfiles.read_cache(path, _WISDOM_SCHEMA, root="wisdom",
                                   context="import_wisdom", missing_ok=False)
    if payload is None:
        return False
    if payload["origin"] != _machine_id():
        warnings.warn(f"import_wisdom: {path} was measured on another machine or FFTW "
                      f"version ({payload['origin']}); ignored", jsonfiles.CacheFileWarning,
                      stacklevel=2)
        return False
    try:
        wisdom = tuple(base64.b64decode(w.encode("ascii"), validate=True)
                       for w in payload["wisdom"])
        if len(wisdom) != 3 or not all(pyfftw.import_wisdom(wisdom)):
            raise ValueError("FFTW rejected the wisdom")
    except (ValueError, TypeError) as exc:   # base64's binascii.Error is a ValueError
        warnings.warn(f"import_wisdom: cannot use {path}: {exc}; ignored",
                      jsonfiles.CacheFileWarning, stacklevel=2)
        return False
    return True
