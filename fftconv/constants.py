"""Where the cost-model constants of this machine are kept, and which are in force.

Every backend estimates its forward time as a weighted sum of its own features
(:meth:`fftconv.Backend.features`); the weights, seconds per unit of each
feature and dtype, are the *constants*. A backend ships constants of its own
(:attr:`fftconv.Backend.shipped_constants`); ``fftconv calibrate``
(:func:`fftconv.select.calibrate`) fits them to this machine and stores them
here, as JSON in :func:`cache_dir`. This module knows no backend: it keeps a
table ``{backend name: {dtype: {feature: seconds}}}`` and says whether it was
fitted on this machine, FFT engine and thread count (:func:`origin`); a
missing, stale or corrupt file is as if absent, and never breaks a call.

:func:`generation` changes whenever the table in force changes, so that what is
derived from it (tile choices, ``'auto'``'s memoized choices) can be keyed by it.
"""

from __future__ import annotations

import json
import math
import os
import platform
import threading

from ._version import __version__
from .errors import bad_value
from .fftlib import get_fft_engine

__all__ = ["cache_dir", "constants_path", "origin", "fitted", "reload", "save",
           "source", "generation", "valid_weights", "read_json", "write_json_atomic"]

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


def read_json(path: str):
    """Parsed JSON, or ``None`` for a missing or unreadable file."""
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


def write_json_atomic(path: str, payload) -> None:
    """Write ``payload`` as JSON to a temporary file beside ``path``, then rename it."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.tmp-{os.getpid()}-{threading.get_ident()}"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(payload, fh, indent=1, sort_keys=True)
    os.replace(tmp, path)


def valid_weights(weights) -> bool:
    """Whether ``weights`` is ``{feature name: finite number >= 0}``."""
    return isinstance(weights, dict) and all(
        isinstance(k, str) and isinstance(v, (int, float)) and not isinstance(v, bool)
        and math.isfinite(v) and v >= 0 for k, v in weights.items())


def _valid_table(table) -> bool:
    return isinstance(table, dict) and all(
        isinstance(name, str) and isinstance(per_dtype, dict)
        and all(isinstance(d, str) and valid_weights(w) for d, w in per_dtype.items())
        for name, per_dtype in table.items())


def fitted() -> dict:
    """This machine's fitted table ``{backend: {dtype: {feature: seconds}}}``, or ``{}``.

    Read from :func:`constants_path` once (and again after :func:`reload`); a file
    fitted for another machine, FFT engine or thread count counts as absent.
    """
    with _LOCK:
        if _STATE["table"] is None:
            payload = read_json(constants_path())
            if (isinstance(payload, dict) and payload.get("format") == _FORMAT
                    and payload.get("origin") == origin()
                    and _valid_table(payload.get("constants"))):
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
    write_json_atomic(constants_path(), {"format": _FORMAT, "version": 1, "origin": origin(),
                                         "constants": table, "report": report or {}})
    reload()
    return constants_path()
