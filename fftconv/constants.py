"""Where the cost-model constants of this machine are kept, and which are in force.

Every backend estimates its forward time as a weighted sum of its own features
(:meth:`fftconv.Backend.features`); the weights, seconds per unit of each
feature and dtype, are the *constants*. A backend ships constants of its own
(:attr:`fftconv.Backend.shipped_constants`); ``fftconv calibrate``
(:func:`fftconv.select.calibrate`) fits them to this machine and stores them
here, as JSON in :func:`cache_dir`. This module knows no backend: it keeps a
table ``{backend name: {dtype: {feature: seconds}}}`` and says whether it was
fitted on this machine, FFT engine and thread count (:func:`origin`); a
missing or stale file is as if absent, and so is a corrupt one, after a
:class:`fftconv.jsonfiles.CacheFileWarning` (the file is read by
:func:`fftconv.jsonfiles.read_cache` against :data:`COST_MODEL_SCHEMA`): none
ever breaks a call.

:func:`generation` changes whenever the table in force changes, so that what is
derived from it (tile choices, ``'auto'``'s memoized choices) can be keyed by it.
"""

from __future__ import annotations

import math
import os
import platform
import threading

from . import jsonfiles
from ._version import __version__
from .errors import bad_value
from .fftlib import get_fft_engine

__all__ = ["cache_dir", "constants_path", "origin", "fitted", "reload", "save",
           "source", "generation", "valid_weights", "COST_MODEL_SCHEMA"]

_FORMAT = "fftconv-cost-model"
_LOCK = threading.Lock()
_STATE = {"table": None, "source": None, "generation": 0}


def cache_dir() -> str:
    """Directory of fftconv's calibration and autotune files (created on write).

    ``$FFTCONV_CACHE_DIR``, else ``$XDG_CACHE_HOME/fftconv``, else ``~/.cache/fftconv``.
    """
    explicit = os.environ.get("FFTCONV_CACHE_DIR")
    if explicit:
        return explicit
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "fftconv")


def constants_path() -> str:
    """The calibration file, ``cost_model.json`` in :func:`cache_dir`."""
    return os.path.join(cache_dir(), "cost_model.json")


def origin() -> dict:
    """What fitted constants depend on: the machine, the FFT engine and its threads."""
    engine = get_fft_engine()
    return {"machine": platform.machine(), "processor": platform.processor(),
            "cores": os.cpu_count(), "engine": engine.name, "threads": engine.threads,
            "fftconv": __version__}


def _nonnegative(v) -> bool:
    return v >= 0


#: ``{feature name: finite number >= 0}``: the weights of one backend and dtype.
WEIGHTS_SCHEMA = {str: jsonfiles.where(float, _nonnegative, "a finite number >= 0")}

#: ``{backend name: {dtype: weights}}``.
TABLE_SCHEMA = {str: {str: WEIGHTS_SCHEMA}}

#: What :func:`save` writes to :func:`constants_path` and :func:`fitted` accepts.
COST_MODEL_SCHEMA = {
    "format": _FORMAT, "version": 1,
    "origin": {"machine": str, "processor": str, "cores": (int, None), "engine": str,
               "threads": (int, None), "fftconv": str},
    "constants": TABLE_SCHEMA,
    jsonfiles.optional("report"): {str: {str: (float, None)}},
}


def _matches(value, schema) -> bool:
    try:
        jsonfiles.validate(value, schema)
    except ValueError:
        return False
    return True


def valid_weights(weights) -> bool:
    """Whether ``weights`` is ``{feature name: finite number >= 0}``."""
    return _matches(weights, WEIGHTS_SCHEMA)


def _valid_table(table) -> bool:
    return _matches(table, TABLE_SCHEMA)


def fitted() -> dict:
    """This machine's fitted table ``{backend: {dtype: {feature: seconds}}}``, or ``{}``.

    Read from :func:`constants_path` once (and again after :func:`reload`); a file
    fitted for another machine, FFT engine or thread count counts as absent.
    """
    with _LOCK:
        if _STATE["table"] is None:
            payload = jsonfiles.read_cache(constants_path(), COST_MODEL_SCHEMA,
                                           root="cost_model", context="fftconv constants",
                                           stacklevel=4)
            # a valid file fitted elsewhere is stale, not corrupt: absent, silently
            if payload is not None and payload["origin"] == origin():
                _STATE.update(table=payload["constants"], source=constants_path())
            else:
                _STATE.update(table={}, source="shipped defaults")
        return _STATE["table"]


def source() -> str:
    """Where the fitted constants in force came from: a file path or ``'shipped defaults'``."""
    fitted()
    return _STATE["source"]


def generation() -> int:
    """A number that changes whenever the table in force may have changed."""
    return _STATE["generation"]


def reload() -> dict:
    """Forget the table read so far and read the file again; returns the new table."""
    with _LOCK:
        _STATE.update(table=None, source=None, generation=_STATE["generation"] + 1)
    return fitted()


def _finite_report(report: dict) -> dict:
    """``report`` with each number that JSON cannot hold (NaN, inf) as ``None``."""
    return {name: {k: (float(v) if math.isfinite(v) else None) for k, v in entry.items()}
            for name, entry in report.items()}


def save(table: dict, report: dict | None = None) -> str:
    """Store a fitted table for this machine (atomically) and use it from now on.

    Raises
    ------
    ValueError
        If ``table`` is not ``{backend: {dtype: {feature: finite number >= 0}}}``.
    """
    if not _valid_table(table) or not table:
        raise bad_value("save_constants", "constants", table,
                        "a table {backend: {dtype: {feature: seconds}}} with finite "
                        "non-negative values")
    jsonfiles.write_atomic(constants_path(),
                           {"format": _FORMAT, "version": 1, "origin": origin(),
                            "constants": table, "report": _finite_report(report or {})},
                           schema=COST_MODEL_SCHEMA, root="cost_model")
    reload()
    return constants_path()
