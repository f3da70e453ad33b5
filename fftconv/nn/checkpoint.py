"""Checkpoints: ``.npz`` files of parameters plus JSON metadata, never pickle.

The format (version 1), shared with the analysis commands that read trained
filters:

* one array per parameter, keyed by its dotted name from
  :meth:`Module.state_dict`, in model order (LeNet-5: ``c1.weight`` of shape
  ``(6, 1, 5, 5)``, ``c1.bias``, ...), so the first convolution's weight is the
  first 4-d array in key order;
* one entry ``__metadata__``: a 0-d unicode array holding JSON with at least
  ``{"format": "fftconv-checkpoint", "version": 1, "architecture": {"name": ...,
  "kwargs": {...}}, "seed": ..., "epoch": ...}``.

Files are written to a temporary file in the target directory and renamed into
place (:func:`atomic_write`), so a crash never leaves a half-written checkpoint,
and read with ``np.load(path, allow_pickle=False)``.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import zipfile
import zlib

import numpy as np

from .. import __version__
from ..errors import bad_type, bad_value
from .models import MODELS, build_model
from .module import Module

__all__ = ["FORMAT", "VERSION", "atomic_write", "save_checkpoint", "read_checkpoint",
           "load_checkpoint"]

FORMAT = "fftconv-checkpoint"
VERSION = 1
METADATA_KEY = "__metadata__"


@contextlib.contextmanager
def atomic_write(path, suffix: str = ""):
    """Open a temporary binary file next to ``path``; rename it to ``path`` on success.

    The temporary file lives in the same directory (so :func:`os.replace` is an
    atomic rename on POSIX and Windows), is flushed and fsynced before the
    rename, and is removed if the block raises.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "note.txt")
    >>> with atomic_write(path) as f:
    ...     _ = f.write(b"done")
    >>> open(path, "rb").read()
    b'done'
    """
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=suffix or os.path.basename(path),
                               dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)        # mkstemp creates 0600; use the usual mode
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def _json_ready(func: str, name: str, value):
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        raise bad_type(func, name, value, "JSON-serialisable data") from None
    return value


def save_checkpoint(path, model: Module, *, seed=None, epoch=None, architecture=None,
                    extra=None) -> None:
    """Save ``model``'s parameters and metadata to ``path`` (an ``.npz`` file), atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Target file; its directory must exist. Written via a temporary file and
        :func:`os.replace`.
    model : Module
    seed : int, optional
        The seed the run used (recorded in the metadata).
    epoch : int, optional
        Epochs trained so far.
    architecture : dict, optional
        ``{"name": ..., "kwargs": {...}}``; default ``model.architecture`` (set
        by the builders in :mod:`fftconv.nn.models`).
    extra : dict, optional
        More JSON-serialisable metadata (history, accuracy, backend, ...).

    Examples
    --------
    >>> import os, tempfile
    >>> from fftconv import nn
    >>> path = os.path.join(tempfile.mkdtemp(), "lenet.npz")
    >>> nn.save_checkpoint(path, nn.lenet5(seed=3), seed=3, epoch=0)
    >>> state, meta = nn.read_checkpoint(path)
    >>> list(state)[:2], meta["architecture"]["name"], meta["seed"]
    (['c1.weight', 'c1.bias'], 'lenet5', 3)
    """
    func = "save_checkpoint"
    if not isinstance(path, (str, os.PathLike)):
        raise bad_type(func, "path", path, "a str or os.PathLike file path")
    if not isinstance(model, Module):
        raise bad_type(func, "model", model, "a fftconv.nn.Module")
    architecture = architecture if architecture is not None else getattr(
        model, "architecture", None)
    if architecture is not None and not (isinstance(architecture, dict)
                                         and isinstance(architecture.get("name"), str)
                                         and isinstance(architecture.get("kwargs", {}), dict)):
        raise bad_value(func, "architecture", architecture,
                        "None or a dict {'name': str, 'kwargs': dict}")
    if extra is not None and not isinstance(extra, dict):
        raise bad_type(func, "extra", extra, "None or a dict")
    metadata = dict(_json_ready(func, "extra", extra or {}))
    metadata.update({
        "format": FORMAT, "version": VERSION,
        "architecture": _json_ready(func, "architecture", architecture),
        "seed": _json_ready(func, "seed", seed), "epoch": _json_ready(func, "epoch", epoch),
        "dtype": model.dtype.name, "fftconv_version": __version__,
    })
    state = model.state_dict()
    if METADATA_KEY in state:
        raise bad_value(func, "model", METADATA_KEY, "a model without a parameter of that name")
    with atomic_write(path, suffix=".npz") as f:
        np.savez(f, **state, **{METADATA_KEY: np.array(json.dumps(metadata))})


def _corrupt(path, reason: str) -> ValueError:
    return bad_value("read_checkpoint", "path", os.fspath(path),
                     f"an fftconv checkpoint (.npz with JSON metadata): {reason}")


def read_checkpoint(path):
    """Read a checkpoint's arrays and metadata without building a model.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    state : dict of str to ndarray
        The parameters, in file (model) order.
    metadata : dict
        The decoded JSON metadata.

    Raises
    ------
    ValueError
        For a file that is not a valid checkpoint (not a zip/npz, truncated,
        pickled objects, missing or malformed metadata, another format or an
        unsupported version); the message says which.
    OSError
        If the file cannot be opened (for example, it does not exist).
    """
    if not isinstance(path, (str, os.PathLike)):
        raise bad_type("read_checkpoint", "path", path, "a str or os.PathLike file path")
    try:
        loaded = np.load(path, allow_pickle=False)
        # A plain .npy file loads as an array, which is no context manager: check first.
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise _corrupt(path, "a single .npy array, not an .npz archive")
        with loaded as npz:
            arrays = {key: npz[key] for key in npz.files}
    except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
        raise _corrupt(path, f"unreadable archive ({type(exc).__name__}: {exc})") from None
    except ValueError as exc:
        if "read_checkpoint" in str(exc):
            raise
        raise _corrupt(path, f"unreadable content ({exc})") from None
    except OSError as exc:
        if not os.path.exists(path):
            raise
        raise _corrupt(path, f"unreadable content ({exc})") from None
    raw = arrays.pop(METADATA_KEY, None)
    if raw is None or raw.shape != () or raw.dtype.kind != "U":
        raise _corrupt(path, f"no 0-d unicode {METADATA_KEY!r} entry")
    try:
        metadata = json.loads(str(raw))
    except json.JSONDecodeError as exc:
        raise _corrupt(path, f"metadata is not valid JSON ({exc})") from None
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise _corrupt(path, f"metadata 'format' is not {FORMAT!r}")
    if metadata.get("version") != VERSION:
        raise _corrupt(path, f"unsupported version {metadata.get('version')!r} "
                             f"(this fftconv reads version {VERSION})")
    return arrays, metadata


def load_checkpoint(path, model: Module | None = None):
    """Load a checkpoint into ``model``, or rebuild the model it describes.

    Parameters
    ----------
    path : str or os.PathLike
    model : Module, optional
        Receives the parameters (converted to its dtype). Default: the model is
        rebuilt from the metadata's ``architecture`` (see :data:`MODELS`).

    Returns
    -------
    model : Module
    metadata : dict

    Raises
    ------
    ValueError
        A corrupt file (see :func:`read_checkpoint`), an architecture that is
        unknown or differs from ``model.architecture``, or parameters whose names
        or shapes do not match the model.

    Examples
    --------
    >>> import os, tempfile, numpy as np
    >>> from fftconv import nn
    >>> path = os.path.join(tempfile.mkdtemp(), "net.npz")
    >>> net = nn.lenet5(seed=7)
    >>> nn.save_checkpoint(path, net, seed=7, epoch=2)
    >>> again, meta = nn.load_checkpoint(path)
    >>> bool(np.array_equal(again["c1"].weight.data, net["c1"].weight.data)), meta["epoch"]
    (True, 2)
    """
    func = "load_checkpoint"
    state, metadata = read_checkpoint(path)
    arch = metadata.get("architecture")
    if model is None:
        if not isinstance(arch, dict) or arch.get("name") not in MODELS:
            raise bad_value(func, "path", os.fspath(path),
                            f"a checkpoint of a known architecture ({', '.join(MODELS)}) "
                            f"or a model argument; its architecture is {arch!r}")
        try:
            model = build_model(arch["name"], **dict(arch.get("kwargs") or {}))
        except (TypeError, ValueError) as exc:
            raise bad_value(func, "path", os.fspath(path),
                            f"a checkpoint whose architecture can be built ({exc})") from None
    elif not isinstance(model, Module):
        raise bad_type(func, "model", model, "None or a fftconv.nn.Module")
    else:
        own = getattr(model, "architecture", None)
        if own is not None and arch is not None and own.get("name") != arch.get("name"):
            raise bad_value(func, "path", os.fspath(path),
                            f"a checkpoint of architecture {own.get('name')!r} (the model's); "
                            f"the file holds {arch.get('name')!r}")
    try:
        model.load_state_dict(state)
    except (TypeError, ValueError) as exc:
        raise bad_value(func, "path", os.fspath(path),
                        f"a checkpoint matching the model's parameters ({exc})") from None
    return model, metadata
