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
place (:func:`atomic_write`), so a crash never leaves a half-written checkpoint;
temporary files that killed writers left behind are removed by the next save of
the same checkpoint (:func:`remove_stale_temporaries`).

Reading treats the file as untrusted. The archive is opened with :mod:`zipfile`
and each member's ``.npy`` header is read first, so shapes, dtypes and sizes
are checked before any array data is read: sizes are Python integers compared
with the member's length and with :data:`MAX_CHECKPOINT_BYTES`, object arrays
(which would need pickle) are refused, the metadata is parsed and checked
against its schema by :mod:`fftconv.jsonfiles`, the one reader of the library's
JSON files (:func:`_parse_metadata`), and :func:`load_checkpoint` compares the
stored shapes with those of the architecture, computed from a shape-only model
(``allocate=False``), before it builds the real one.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import tempfile
import time
import tokenize
import zipfile
import zlib

import numpy as np

from .. import __version__, jsonfiles
from ..errors import bad_type, bad_value, describe
from ..text import plural
from .models import MODELS, build_model
from .module import Module

__all__ = ["FORMAT", "VERSION", "MAX_CHECKPOINT_BYTES", "MAX_METADATA_BYTES",
           "MAX_METADATA_DEPTH", "STALE_TEMP_SECONDS", "atomic_write", "save_checkpoint",
           "read_checkpoint", "load_checkpoint", "remove_stale_temporaries", "read_npy_header"]

FORMAT = "fftconv-checkpoint"
VERSION = 1
METADATA_KEY = "__metadata__"

#: Largest total size in bytes of the parameter arrays a checkpoint may hold (or
#: its architecture may need). Far above any model of :mod:`fftconv.nn` (LeNet-5
#: has 60,000 parameters); a file or architecture asking for more is refused
#: before anything of that size is allocated.
MAX_CHECKPOINT_BYTES = 1 << 30
#: Largest ``__metadata__`` entry in bytes (a JSON text of 4-byte characters).
MAX_METADATA_BYTES = 16 << 20
#: Deepest nesting of JSON arrays and objects accepted in the metadata.
MAX_METADATA_DEPTH = 32
#: A temporary file of a save is removed by a later save when its writer process
#: is gone and it has not changed for :data:`STALE_TEMP_GRACE_SECONDS`, or in any
#: case once it is this old (its pid may have been reused).
STALE_TEMP_SECONDS = 24 * 3600
#: Quiet time before a temporary file whose writer pid is not running here counts
#: as abandoned: a writer on another host sharing the directory is not visible to
#: the pid check, but its file keeps changing while it writes.
STALE_TEMP_GRACE_SECONDS = 60

#: Parameter dtypes :func:`load_checkpoint` accepts (those of fftconv models).
_PARAMETER_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_READ_CHUNK = 1 << 20


# -- writing ---------------------------------------------------------------------

def _temp_prefix(pid: int) -> str:
    return f".tmp-{pid}-"


@contextlib.contextmanager
def atomic_write(path, suffix: str = ""):
    """Open a temporary binary file next to ``path``; rename it to ``path`` on success.

    The temporary file lives in the same directory (so :func:`os.replace` is an
    atomic rename on POSIX and Windows), is named ``.tmp-<pid>-<random><suffix>``
    (``suffix`` defaults to ``-`` and the name of ``path``, so a later write can
    recognise abandoned temporaries of the same file, see
    :func:`remove_stale_temporaries`), is flushed and fsynced before the rename,
    and is removed if the block raises.

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
    fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(os.getpid()),
                               suffix=suffix or "-" + os.path.basename(path), dir=directory)
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


def _pid_running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError, OSError):
        # PermissionError: alive but another user's. The others: not a pid this
        # system can have, so not a live writer of ours either way; keep to age.
        return True
    return True


def remove_stale_temporaries(path, now=None) -> list:
    """Remove temporary files that killed :func:`atomic_write` calls left beside ``path``.

    Only files named as :func:`atomic_write` names the temporaries of ``path``
    (``.tmp-<pid>-<8 random characters>-<name of path>``) are considered, and
    one is removed only if it is *stale*: its writer ``pid`` is not a running
    process on this machine and the file has not been modified for
    :data:`STALE_TEMP_GRACE_SECONDS`, or it is older than
    :data:`STALE_TEMP_SECONDS` whatever its pid says (pids get reused). A file
    being written by a live process (this one included, from another thread) is
    therefore never touched; files of other names, other checkpoints, or the
    older unnamed ``.tmp-*.npz`` scheme are left alone.

    Parameters
    ----------
    path : str or os.PathLike
        The target file whose temporaries to clean up.
    now : float, optional
        The current time (:func:`time.time`), for tests.

    Returns
    -------
    list of str
        The paths removed. Files that vanish or cannot be removed meanwhile are
        skipped silently (another process may be cleaning up too).
    """
    directory = os.path.dirname(os.path.abspath(path))
    pattern = re.compile(r"\.tmp-(\d{1,10})-[a-z0-9_]{8}-" + re.escape(os.path.basename(path))
                         + r"\Z")
    now = time.time() if now is None else now
    removed = []
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    for name in names:
        match = pattern.match(name)
        if not match:
            continue
        full = os.path.join(directory, name)
        try:
            age = now - os.stat(full).st_mtime
        except OSError:
            continue
        abandoned = age >= STALE_TEMP_GRACE_SECONDS and not _pid_running(int(match.group(1)))
        if abandoned or age >= STALE_TEMP_SECONDS:
            with contextlib.suppress(OSError):
                os.remove(full)
                removed.append(full)
    return removed


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
        :func:`os.replace`; stale temporaries of earlier, killed saves to the
        same path are removed first (:func:`remove_stale_temporaries`).
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
    remove_stale_temporaries(path)
    with atomic_write(path) as f:
        np.savez(f, **state, **{METADATA_KEY: np.array(json.dumps(metadata))})


# -- errors ----------------------------------------------------------------------

def _file_error(func: str, path, allowed: str) -> ValueError:
    # The shape of fftconv.errors.bad_value, with the path in full (describe()
    # shortens long values, and the file is what the reader needs to know).
    return ValueError(f"{func}: parameter 'path' must be {allowed}; got {os.fspath(path)!r}")


def _corrupt(path, reason: str) -> ValueError:
    return _file_error("read_checkpoint", path,
                       f"an fftconv checkpoint (.npz with JSON metadata): {reason}")


# -- the metadata schema ---------------------------------------------------------
#
# Written in the schema language of fftconv.jsonfiles, the one reader of the
# library's JSON files; :func:`_parse_metadata` adds the checkpoint's own caps.

_COUNT = jsonfiles.where(int, lambda n: n >= 1, "an int >= 1")
_DTYPE = ("float32", "float64")


def _architecture(name: str, **kwargs):
    """A registered architecture: its builder's JSON keyword arguments, all optional."""
    return {"name": name,
            "kwargs": {jsonfiles.optional(key): schema for key, schema in kwargs.items()}}


_REGISTERED = {
    "lenet5": _architecture("lenet5", partial_connections=bool, in_channels=_COUNT,
                            num_classes=_COUNT, dtype=_DTYPE, output=("linear", "rbf")),
    "lenet5_modern": _architecture(
        "lenet5_modern", in_channels=_COUNT, num_classes=_COUNT, dtype=_DTYPE,
        dropout=jsonfiles.where(float, lambda p: 0.0 <= p <= 1.0, "a number in [0, 1]")),
}

#: The metadata of a version-1 checkpoint (``architecture`` is null for a model
#: saved without one; an unregistered name is a model of the caller's own, loaded
#: with a model argument). The top level is open: the ``extra`` entries of
#: :func:`save_checkpoint` are stored beside the fixed keys and hold anything JSON
#: (a diverged run's history may hold NaN, which ``json.dumps`` writes; NaN and the
#: infinities are refused in every fixed key).
_METADATA_SCHEMA = {
    "format": str, "version": int,
    "architecture": (None, jsonfiles.tagged(
        "name", _REGISTERED, default={"name": str, jsonfiles.optional("kwargs"): {str: object}})),
    "seed": (int, None),
    "epoch": (jsonfiles.where(int, lambda n: n >= 0, "an int >= 0"), None),
    jsonfiles.optional("dtype"): _DTYPE,
    jsonfiles.optional("fftconv_version"): str,
    jsonfiles.OTHER_KEYS: object,
}


_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)


def _nesting_depth(raw: str) -> int:
    """Deepest nesting of ``[`` and ``{`` outside strings in the JSON text ``raw``.

    Counted on the text, before parsing: deeply nested JSON makes the parser
    raise RecursionError, and walking it would cost as much as it is deep.
    """
    codes = np.frombuffer(_JSON_STRING.sub("", raw).encode("ascii", "replace"), np.uint8)
    deepest = level = 0
    for start in range(0, len(codes), _READ_CHUNK):        # bounded scratch memory
        chunk = codes[start:start + _READ_CHUNK]
        steps = ((chunk == ord("[")) | (chunk == ord("{"))).astype(np.int32) - (
            (chunk == ord("]")) | (chunk == ord("}")))
        levels = level + np.cumsum(steps, dtype=np.int64)
        if len(levels):
            deepest, level = max(deepest, int(levels.max())), int(levels[-1])
    return deepest


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _describe_json(value) -> str:
    # Containers by size only: their repr could be huge or too deep to print.
    if isinstance(value, dict):
        return f"a JSON object with {plural(len(value), 'key')}"
    if isinstance(value, list):
        return f"a JSON array of {plural(len(value), 'item')}"
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"an int of {value.bit_length()} bits"
    return describe(value)


def _parse_metadata(raw: str, path) -> dict:
    """Decode and check the JSON metadata of the checkpoint at ``path``.

    Parameters
    ----------
    raw : str
        The ``__metadata__`` text.
    path : str or os.PathLike
        The file, for error messages.

    Returns
    -------
    dict
        The metadata, fitting :data:`_METADATA_SCHEMA`.

    Raises
    ------
    ValueError
        Naming the file and, for a value that does not fit, its key path
        (``metadata['architecture']['kwargs']['num_classes'] must be an int >= 1``):
        text that is not JSON, duplicate keys, nesting deeper than
        :data:`MAX_METADATA_DEPTH`, another format or version, wrong types,
        missing or unknown keys, NaN or infinity in a fixed key.
    """
    depth = _nesting_depth(raw)
    if depth > MAX_METADATA_DEPTH:
        raise _corrupt(path, f"metadata is nested {depth} levels deep, more than "
                             f"MAX_METADATA_DEPTH = {MAX_METADATA_DEPTH}")
    try:                              # JSON first: format and version have messages of their own
        metadata = jsonfiles.parse(raw, object, source=str(path), root="metadata",
                                   allow_nan=True)
    except jsonfiles.JSONFileError as exc:
        raise _corrupt(path, f"metadata is {exc.problem}") from None
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise _corrupt(path, f"metadata 'format' is not {FORMAT!r}")
    version = metadata.get("version")
    if type(version) is not int or version != VERSION:
        raise _corrupt(path, f"unsupported version {_describe_json(version)} "
                             f"(this fftconv reads version {VERSION})")
    try:
        jsonfiles.validate(metadata, _METADATA_SCHEMA, root="metadata")
    except jsonfiles.JSONFileError as exc:
        raise _corrupt(path, f"{exc.key_path} {exc.problem}") from None
    return metadata


# -- reading ---------------------------------------------------------------------

class _Member:
    """One ``.npy`` member of the archive, known from its header only."""

    __slots__ = ("info", "shape", "fortran", "dtype", "offset")

    def __init__(self, info, shape, fortran, dtype, offset):
        self.info, self.shape, self.fortran, self.dtype = info, shape, fortran, dtype
        self.offset = offset

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize       # Python ints: no wrap


#: What numpy's ``.npy`` header parser raises on bytes that are not a header (the
#: header dictionary is parsed as a Python literal: syntax and tokenize errors too).
_BAD_HEADER = (ValueError, TypeError, SyntaxError, OverflowError, EOFError, KeyError,
               MemoryError, RecursionError, tokenize.TokenError)


def read_npy_header(fp, size: int) -> tuple:
    """Read and check the header of a ``.npy`` stream before any of its data.

    Parameters
    ----------
    fp : binary file
        Positioned at the start of the stream; left after the header.
    size : int
        Bytes of the whole stream (the file's or the archive member's length).

    Returns
    -------
    shape : tuple of int
    fortran_order : bool
    dtype : numpy.dtype
    offset : int
        Header bytes; exactly ``offset + prod(shape)·itemsize == size`` (Python
        integers: no wrap-around).

    Raises
    ------
    ValueError
        Its message completes "the array ...": an unreadable header (the
        parser's error), a format version other than 1.0 and 2.0, a shape that
        is not non-negative ints, an empty dtype, extents beyond numpy's index
        range (even with a zero among them), Python objects (never unpickled), or
        a size the stream does not hold.

    Examples
    --------
    >>> import io
    >>> buffer = io.BytesIO()
    >>> np.save(buffer, np.zeros((2, 3), np.float32))
    >>> size = buffer.tell()
    >>> _ = buffer.seek(0)
    >>> shape, fortran, dtype, offset = read_npy_header(buffer, size)
    >>> shape, dtype, offset + 2 * 3 * 4 == size
    ((2, 3), dtype('float32'), True)
    >>> read_npy_header(io.BytesIO(buffer.getvalue()[:-4]), size - 4)
    Traceback (most recent call last):
        ...
    ValueError: claims shape (2, 3) of float32 (24 bytes) but holds 20 bytes of data
    """
    try:
        version = np.lib.format.read_magic(fp)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(fp)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(fp)
        else:
            raise ValueError(f".npy format version {version} (1.0 and 2.0 are read)")
        offset = fp.tell()
    except _BAD_HEADER as exc:
        raise ValueError(f"has an unreadable header ({type(exc).__name__}: {exc})") from None
    if any(not isinstance(n, int) or n < 0 for n in shape):
        raise ValueError(f"has the shape {shape!r}")
    if dtype.itemsize == 0:
        raise ValueError(f"has the empty dtype {dtype}")
    # numpy cannot make an array whose nonzero extents pass its index range, even
    # an empty one: such a header is no array at all
    if math.prod(n for n in shape if n) * dtype.itemsize > np.iinfo(np.intp).max:
        raise ValueError(f"has the shape {tuple(shape)} of {dtype}, beyond what numpy "
                         "can index")
    if dtype.hasobject:
        raise ValueError("holds Python objects (loading them would need allow_pickle=True; "
                         "fftconv never unpickles)")
    nbytes = math.prod(shape) * dtype.itemsize
    if size != offset + nbytes:
        raise ValueError(f"claims shape {tuple(shape)} of {dtype} ({nbytes} bytes) but "
                         f"holds {size - offset} bytes of data")
    return tuple(shape), bool(fortran), dtype, offset


def _read_header(zf, info, path) -> _Member:
    name = info.filename[:-4]
    try:
        with zf.open(info) as fp:
            shape, fortran, dtype, offset = read_npy_header(fp, info.file_size)
    except (zlib.error, zipfile.BadZipFile) as exc:
        raise _corrupt(path, f"unreadable content: the header of {name!r} "
                             f"({type(exc).__name__}: {exc})") from None
    except ValueError as exc:
        raise _corrupt(path, f"unreadable content: {name!r} {exc}") from None
    return _Member(info, shape, fortran, dtype, offset)


def _read_data(zf, member, path) -> np.ndarray:
    """The member's array, read in chunks so memory follows the bytes that arrive."""
    name = member.info.filename[:-4]
    try:
        with zf.open(member.info) as fp:
            fp.read(member.offset)
            buffer = bytearray()
            while len(buffer) < member.nbytes:
                chunk = fp.read(min(_READ_CHUNK, member.nbytes - len(buffer)))
                if not chunk:
                    break
                buffer += chunk
            trailing = fp.read(1)             # reaching the end checks the CRC
    except (EOFError, zlib.error, zipfile.BadZipFile, OSError, ValueError) as exc:
        raise _corrupt(path, f"unreadable content: the data of {name!r} "
                             f"({type(exc).__name__}: {exc})") from None
    if len(buffer) != member.nbytes or trailing:
        raise _corrupt(path, f"unreadable content: the data of {name!r} is "
                             f"{len(buffer) + len(trailing)} bytes, expected {member.nbytes}")
    flat = np.frombuffer(buffer, member.dtype)
    if member.fortran:
        return flat.reshape(member.shape[::-1]).T
    return flat.reshape(member.shape)


class _Checkpoint:
    """An open checkpoint archive: member headers and metadata read, no parameter data."""

    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:        # missing or unreadable: that OSError as is
            start = f.read(6)
        if start == b"\x93NUMPY":
            raise _corrupt(path, "a single .npy array, not an .npz archive")
        try:
            self.zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError,
                NotImplementedError) as exc:
            if isinstance(exc, FileNotFoundError):
                raise
            raise _corrupt(path, f"unreadable archive ({type(exc).__name__}: {exc})") from None
        try:
            self._read_index()
        except BaseException:
            self.zip.close()
            raise

    def _read_index(self):
        path, members = self.path, {}
        try:
            infos = self.zip.infolist()
            for info in infos:
                if not info.filename.endswith(".npy"):
                    raise _corrupt(path, f"unreadable content: member {info.filename!r} "
                                         "is not a .npy array")
                name = info.filename[:-4]
                if name in members:
                    raise _corrupt(path, f"unreadable content: {name!r} appears twice")
                members[name] = _read_header(self.zip, info, path)
        except (zipfile.BadZipFile, NotImplementedError, zlib.error, EOFError, OSError,
                ValueError, RuntimeError) as exc:
            # RuntimeError: an encrypted member; OSError: offsets outside the file.
            if isinstance(exc, ValueError) and str(exc).startswith("read_checkpoint:"):
                raise
            raise _corrupt(path, f"unreadable content ({type(exc).__name__}: {exc})") from None
        meta = members.pop(METADATA_KEY, None)
        if meta is None or meta.shape != () or meta.dtype.kind != "U":
            raise _corrupt(path, f"no 0-d unicode {METADATA_KEY!r} entry")
        if meta.nbytes > MAX_METADATA_BYTES:
            raise _corrupt(path, f"the {METADATA_KEY!r} entry is {meta.nbytes} bytes, beyond "
                                 f"the cap MAX_METADATA_BYTES = {MAX_METADATA_BYTES}")
        total = sum(m.nbytes for m in members.values())
        if total > MAX_CHECKPOINT_BYTES:
            raise _corrupt(path, f"its arrays claim {total} bytes, beyond the cap "
                                 f"MAX_CHECKPOINT_BYTES = {MAX_CHECKPOINT_BYTES}")
        self.members = members
        raw = _read_data(self.zip, meta, path)
        self.metadata = _parse_metadata(str(raw[()]), path)

    def arrays(self) -> dict:
        return {name: _read_data(self.zip, m, self.path) for name, m in self.members.items()}

    def close(self):
        self.zip.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _check_path(func, path):
    if not isinstance(path, (str, os.PathLike)):
        raise bad_type(func, "path", path, "a str or os.PathLike file path")


def read_checkpoint(path):
    """Read a checkpoint's arrays and metadata without building a model.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    state : dict of str to ndarray
        The parameters, in file (model) order, with the dtypes stored (any
        non-object dtype; :func:`load_checkpoint` is stricter).
    metadata : dict
        The decoded JSON metadata.

    Raises
    ------
    ValueError
        For a file that is not a valid checkpoint: not a zip/npz, truncated, a
        member that is no ``.npy`` array, object (pickled) arrays, a header whose
        shape does not match its data, arrays of more than
        :data:`MAX_CHECKPOINT_BYTES` in total, missing or malformed metadata (see
        :func:`_parse_metadata`), another format or an unsupported version. The
        message names the file and the problem.
    OSError
        If the file cannot be opened (for example, it does not exist).

    Notes
    -----
    Headers, sizes and metadata are checked before any parameter data is read,
    and data are read in chunks, so a small file claiming huge arrays costs no
    more memory than it holds.
    """
    _check_path("read_checkpoint", path)
    with _Checkpoint(path) as ck:
        return ck.arrays(), ck.metadata


def _expected_shapes(model) -> dict:
    """``{name: (shape, dtype)}`` of ``model``'s parameters (shape-only models too)."""
    return {name: (tuple(param.shape), param.dtype) for name, param in model.named_parameters()}


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
        A corrupt file (see :func:`read_checkpoint`); an architecture that is
        unknown, differs from ``model.architecture``, or needs more than
        :data:`MAX_CHECKPOINT_BYTES` of parameters; parameters whose names or
        shapes differ from the model's, or whose dtype is not float32 or float64
        (complex, integer, bool, strings ...). Messages name the file, the
        parameter, what is stored and what is expected.
    OSError
        If the file cannot be opened.

    Notes
    -----
    Nothing is allocated before the file is known to fit: the expected
    parameter shapes come from the architecture built shape-only
    (``allocate=False``), and are compared with the shapes in the file's
    ``.npy`` headers; only then are the data read and the model built.

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
    _check_path(func, path)
    if model is not None and not isinstance(model, Module):
        raise bad_type(func, "model", model, "None or a fftconv.nn.Module")
    with _Checkpoint(path) as ck:
        metadata = ck.metadata
        arch = metadata["architecture"]                 # null or an object (the schema)
        kwargs = dict(arch.get("kwargs") or {}) if arch is not None else {}
        if model is None:
            if arch is None or arch["name"] not in MODELS:
                raise _file_error(func, path, f"a checkpoint of a known architecture "
                                              f"({', '.join(MODELS)}) or a model argument; "
                                              f"its architecture is {arch!r}")
            try:
                shape_only = build_model(arch["name"], **kwargs, allocate=False)
            except (TypeError, ValueError) as exc:
                raise _file_error(func, path, f"a checkpoint whose architecture can be "
                                              f"built ({exc})") from None
            expected = _expected_shapes(shape_only)
        else:
            own = getattr(model, "architecture", None)
            if own is not None and arch is not None and own.get("name") != arch["name"]:
                raise _file_error(func, path, f"a checkpoint of architecture "
                                              f"{own.get('name')!r} (the model's); the file "
                                              f"holds {arch.get('name')!r}")
            expected = _expected_shapes(model)
        _check_members(func, path, ck.members, expected)
        state = ck.arrays()
    if model is None:
        model = build_model(arch["name"], **kwargs)
    try:
        model.load_state_dict(state)
    except (TypeError, ValueError) as exc:
        raise _file_error(func, path, f"a checkpoint matching the model's parameters "
                                      f"({exc})") from None
    return model, metadata


def _check_members(func, path, members, expected) -> None:
    """Names, total size, shapes and dtypes of the stored arrays against ``expected``."""
    need = sum(math.prod(shape) * dtype.itemsize for shape, dtype in expected.values())
    if need > MAX_CHECKPOINT_BYTES:
        raise _file_error(func, path, f"a checkpoint of a model of at most "
                                      f"MAX_CHECKPOINT_BYTES = {MAX_CHECKPOINT_BYTES} bytes "
                                      f"of parameters; its architecture needs {need} bytes")
    missing = [name for name in expected if name not in members]
    unexpected = [name for name in members if name not in expected]
    if missing or unexpected:
        raise _file_error(func, path, f"a checkpoint matching the model's parameters (keys "
                                      f"missing {missing}, unexpected {unexpected})")
    for name, (shape, _) in expected.items():
        stored = members[name]
        if stored.shape != shape:
            raise _file_error(func, path, f"a checkpoint matching the model's parameters: "
                                          f"{name!r} is stored with shape {stored.shape}, "
                                          f"the architecture expects {shape}")
        if stored.dtype.newbyteorder("=") not in _PARAMETER_DTYPES:
            raise _file_error(func, path, f"a checkpoint of float32 or float64 parameters: "
                                          f"{name!r} is stored with dtype {stored.dtype}")
