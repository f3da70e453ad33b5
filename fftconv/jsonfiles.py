"""One reader for fftconv's own JSON files: parse, check a schema, or give up cleanly.

fftconv keeps a few JSON files of its own: the cost-model constants
(:mod:`fftconv.constants`), the autotune winners (:mod:`fftconv.select`),
FFTW wisdom (:func:`fftconv.fftlib.import_wisdom`) and the metadata of
checkpoints (:mod:`fftconv.nn.checkpoint`, read strictly: an error naming the
file and the key). Anything can end up in such a file (a crash mid-write by
another tool, a hand edit, a file of another program
of the same name, hostile bytes), and ``json.load`` alone accepts much that is
not what was written: ``NaN``, numbers that overflow to infinity, a list where a
name was, or nesting so deep that the parser raises ``RecursionError``. Every
such file goes through this module instead:

* :func:`read_cache` (lenient) returns the validated content, or ``None`` after a
  :class:`CacheFileWarning` naming the file and what was wrong: a cache file
  that cannot be used is as if absent and never breaks a call.
* :func:`load` / :func:`parse` (strict) raise :class:`JSONFileError`, a
  ``ValueError`` naming the file and the key path of the first problem, e.g.
  ``model.npz: metadata['architecture']['classes'] must be an integer; got 'ten'``.
* :func:`validate` checks an in-memory value against a schema.
* :func:`write_atomic` writes a file that :func:`read_cache` will accept
  (temporary file, then rename), and :func:`update` does a read-modify-write
  under an advisory lock (:func:`locked`), so that processes writing one file
  at once lose none of each other's entries.

Schemas
-------
A schema is plain data, with no new dependency:

* a type: ``str``, ``int`` (not ``bool``), ``float`` (any *finite* JSON number,
  integers too, not ``bool``), ``bool``, ``None`` (JSON ``null``), ``dict`` or
  ``list`` (any object or array, contents unchecked) or ``object`` (any value);
* a literal ``str``, ``int`` or ``bool``: exactly that value, e.g. ``"fftconv-autotune"``;
* ``{"key": schema, ...}``: an object with exactly these keys, each required
  unless written :func:`optional` ``("key")``; any other key is an error;
* ``{str: schema}``: an object with any string keys, each value matching ``schema``;
* ``{"key": schema, ..., OTHER_KEYS: schema}``: those keys, and any further key
  whose value matches the :data:`OTHER_KEYS` entry (an object open to additions);
* :func:`tagged` ``(key, {tag: schema}, default)``: an object whose ``key`` names
  its schema (a registered architecture, say), else ``default``;
* ``[schema]``: an array whose every item matches ``schema``;
* ``(schema_a, schema_b, ...)``: any one of them, e.g. ``(int, None)``;
* :func:`where` ``(schema, test, text)``: ``schema``, and ``test(value)`` is true.

Whatever the schema, parsed text never holds ``NaN``, ``Infinity``, a number
beyond the float range, a duplicated key, or invalid UTF-8: the parser refuses them.

Examples
--------
>>> from fftconv import jsonfiles
>>> schema = {"name": str, "size": jsonfiles.where(int, lambda n: n > 0, "a positive integer"),
...           jsonfiles.optional("tags"): [str]}
>>> jsonfiles.parse('{"name": "a", "size": 3}', schema, source="example.json")
{'name': 'a', 'size': 3}
>>> jsonfiles.parse('{"name": "a", "size": [3]}', schema, source="example.json", root="spec")
Traceback (most recent call last):
    ...
fftconv.jsonfiles.JSONFileError: example.json: spec['size'] must be a positive integer; got an array of 1 item
"""

from __future__ import annotations

import json
import math
import os
import stat
import threading
import warnings
from contextlib import contextmanager

try:
    import fcntl
except ImportError:                     # pragma: no cover - not POSIX (Windows)
    fcntl = None

__all__ = ["CacheFileWarning", "JSONFileError", "optional", "where", "tagged", "OTHER_KEYS",
           "validate", "parse",
           "load", "read_cache", "write_atomic", "locked", "update", "MAX_BYTES"]

#: Largest file :func:`load` and :func:`read_cache` read. fftconv's own files are
#: far smaller; a larger one is not one of them, and reading it would cost memory.
MAX_BYTES = 32 * 2**20


class CacheFileWarning(UserWarning):
    """A cache file of fftconv's could not be used and is ignored (as if absent).

    A ``UserWarning``, not a ``RuntimeWarning``: nothing went wrong in the
    computation, a file on disk was not what fftconv writes.
    """


class JSONFileError(ValueError):
    """JSON text or a value that is not what a schema describes.

    Attributes
    ----------
    source : str or None
        The file (or other source) the text came from; ``None`` for :func:`validate`.
    key_path : str or None
        Where in the value the problem is, e.g. ``"metadata['arch']['classes']"``;
        ``None`` when the text did not parse at all.
    problem : str
        What is wrong, e.g. ``"must be an integer; got 'ten'"``.
    """

    def __init__(self, source, key_path, problem):
        self.source, self.key_path, self.problem = source, key_path, problem
        where_ = " ".join(p for p in (key_path, problem) if p)
        super().__init__(f"{source}: {where_}" if source is not None else where_)

    def __reduce__(self):
        return type(self), (self.source, self.key_path, self.problem)


# -- schemas -------------------------------------------------------------------------


class _OptionalKey(str):
    """A key of an object schema that may be absent (see :func:`optional`)."""

    __slots__ = ()


def optional(key: str) -> str:
    """Mark ``key`` of an object schema as optional: ``{optional("report"): dict}``."""
    return _OptionalKey(key)


class _Where:
    __slots__ = ("schema", "test", "text")

    def __init__(self, schema, test, text):
        self.schema, self.test, self.text = schema, test, text

    def __repr__(self):
        return f"where({self.schema!r}, ..., {self.text!r})"


class _OtherKeys:
    """The key of an object schema that stands for every key not named in it."""

    __slots__ = ()

    def __repr__(self):
        return "OTHER_KEYS"


#: In an object schema, the schema of the keys it does not name (:data:`OTHER_KEYS`).
OTHER_KEYS = _OtherKeys()


class _Tagged:
    __slots__ = ("key", "variants", "default")

    def __init__(self, key, variants, default):
        self.key, self.variants, self.default = key, dict(variants), default

    def __repr__(self):
        return f"tagged({self.key!r}, {sorted(self.variants)!r}, ...)"


def tagged(key: str, variants: dict, default):
    """A schema: an object whose string ``key`` chooses its schema among ``variants``,
    and ``default`` for any other value (errors then point inside the variant).

    Examples
    --------
    >>> shape = tagged("kind", {"box": {"kind": "box", "side": int}}, default={"kind": str})
    >>> validate({"kind": "box", "side": 3}, shape)
    {'kind': 'box', 'side': 3}
    >>> validate({"kind": "box", "side": "3"}, shape, root="shape")
    Traceback (most recent call last):
        ...
    fftconv.jsonfiles.JSONFileError: shape['side'] must be an integer; got '3'
    """
    return _Tagged(key, variants, default)


def where(schema, test, text: str):
    """A schema: values matching ``schema`` for which ``test(value)`` is true.

    ``text`` says what is wanted, for messages (``"a finite number >= 0"``).
    """
    if not callable(test):
        raise TypeError(f"where: parameter 'test' must be callable; got {test!r}")
    return _Where(schema, test, text)


_TYPE_NAMES = {str: "a string", int: "an integer", float: "a finite number",
               bool: "true or false", dict: "an object", list: "an array",
               object: "any JSON value"}


def _expected(schema) -> str:
    """What ``schema`` accepts, in words."""
    if schema is None:
        return "null"
    if isinstance(schema, _Where):
        return schema.text
    if isinstance(schema, type):
        return _TYPE_NAMES.get(schema, schema.__name__)
    if isinstance(schema, (str, bool, int)):
        return json.dumps(schema)
    if isinstance(schema, (dict, _Tagged)):
        return "an object"
    if isinstance(schema, list):
        return f"an array (each item {_expected(schema[0])})"
    if isinstance(schema, tuple):
        return " or ".join(_expected(s) for s in schema)
    return repr(schema)


def _describe(value) -> str:
    """A short description of a received value; never the whole of a big one."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        digits = len(str(value)) if value.bit_length() < 10000 else None
        return repr(value) if digits is not None and digits <= 24 else "a very long integer"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        text = repr(value)
        return text if len(text) <= 60 else text[:57] + "..."
    if isinstance(value, dict):
        return f"an object with {len(value)} key{'s' if len(value) != 1 else ''}"
    if isinstance(value, list):
        return f"an array of {len(value)} item{'s' if len(value) != 1 else ''}"
    return f"a {type(value).__name__}"


def _render(root: str, path) -> str:
    return root + "".join(f"[{k!r}]" for k in path)


class _Mismatch(Exception):
    """Internal: the first problem found, with its path inside the value."""

    def __init__(self, path, problem):
        super().__init__(problem)
        self.path, self.problem = path, problem


def _finite(value) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:                      # an int beyond the float range
        return False


_NO_OTHERS = object()


def _check(value, schema, path: tuple) -> None:
    """Raise :class:`_Mismatch` unless ``value`` matches ``schema``.

    Recursion follows the schema, not the value, so it is as deep as the
    schema is, whatever the value holds.
    """
    if isinstance(schema, _Where):
        try:
            _check(value, schema.schema, path)
        except _Mismatch as exc:
            if exc.path != path:
                raise
            raise _Mismatch(path, f"must be {schema.text}; got {_describe(value)}") from None
        try:
            ok = schema.test(value)
        except Exception:                      # a test that cannot judge the value rejects it
            ok = False
        if not ok:
            raise _Mismatch(path, f"must be {schema.text}; got {_describe(value)}")
        return
    if isinstance(schema, _Tagged):
        if not isinstance(value, dict):
            raise _Mismatch(path, f"must be an object; got {_describe(value)}")
        tag = value.get(schema.key)
        variant = schema.variants.get(tag, schema.default) if isinstance(tag, str) \
            else schema.default
        _check(value, variant, path)
        return
    if isinstance(schema, tuple):
        deepest = None
        for option in schema:
            try:
                _check(value, option, path)
                return
            except _Mismatch as exc:
                if len(exc.path) > len(path) and deepest is None:
                    deepest = exc               # the value has the option's shape: say where
        if deepest is not None:
            raise deepest
        raise _Mismatch(path, f"must be {_expected(schema)}; got {_describe(value)}")
    if schema is None:
        ok = value is None
    elif isinstance(schema, type):
        if schema is object:
            ok = True
        elif schema is bool:
            ok = isinstance(value, bool)
        elif schema is int:
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif schema is float:
            ok = (isinstance(value, (int, float)) and not isinstance(value, bool)
                  and _finite(value))
        elif schema in (str, dict, list):
            ok = isinstance(value, schema)
        else:
            raise TypeError(f"jsonfiles: {schema!r} is not a JSON type of a schema")
    elif isinstance(schema, (str, bool, int)):
        ok = type(value) is type(schema) and value == schema
    elif isinstance(schema, dict):
        if not isinstance(value, dict):
            raise _Mismatch(path, f"must be an object; got {_describe(value)}")
        if len(schema) == 1 and next(iter(schema)) is str:
            (item,) = schema.values()
            for key, sub in value.items():
                if not isinstance(key, str):
                    raise _Mismatch(path, f"has a key that is not a string: {_describe(key)}")
                _check(sub, item, path + (key,))
            return
        others = schema.get(OTHER_KEYS, _NO_OTHERS)
        for key in value:
            if key in schema:
                continue
            if others is _NO_OTHERS:
                allowed = ", ".join(repr(str(k)) for k in schema)
                raise _Mismatch(path, f"has an unknown key {_describe(key)} "
                                      f"(known: {allowed})")
            _check(value[key], others, path + (str(key),))
        for key, sub in schema.items():
            if key is OTHER_KEYS:
                continue
            if key in value:
                _check(value[key], sub, path + (str(key),))
            elif not isinstance(key, _OptionalKey):
                raise _Mismatch(path, f"lacks the key {str(key)!r}")
        return
    elif isinstance(schema, list):
        if len(schema) != 1:
            raise TypeError(f"jsonfiles: an array schema holds one item schema; got {schema!r}")
        if not isinstance(value, list):
            raise _Mismatch(path, f"must be {_expected(schema)}; got {_describe(value)}")
        for i, item in enumerate(value):
            _check(item, schema[0], path + (i,))
        return
    else:
        raise TypeError(f"jsonfiles: {schema!r} is not a schema")
    if not ok:
        raise _Mismatch(path, f"must be {_expected(schema)}; got {_describe(value)}")


def validate(value, schema, *, root: str = "value"):
    """Check ``value`` against ``schema``; return it unchanged.

    Parameters
    ----------
    value
        A JSON-like value (dicts, lists, str, int, float, bool, None).
    schema
        A schema (see the module docstring).
    root : str
        The name of ``value`` in messages: ``root['key'][0]``.

    Raises
    ------
    JSONFileError
        (a ``ValueError``) naming the key path of the first problem, with
        ``source`` ``None``.
    TypeError
        If ``schema`` is not a schema.

    Examples
    --------
    >>> validate({"n": 3}, {"n": int}, root="metadata")
    {'n': 3}
    >>> validate({"n": True}, {"n": int}, root="metadata")
    Traceback (most recent call last):
        ...
    fftconv.jsonfiles.JSONFileError: metadata['n'] must be an integer; got true
    """
    try:
        _check(value, schema, ())
    except _Mismatch as exc:
        raise JSONFileError(None, _render(root, exc.path), exc.problem) from None
    return value


# -- parsing -------------------------------------------------------------------------


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a finite number")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"the number {text[:24]} is beyond the float range")
    return number


def _unique_keys(pairs) -> dict:
    out = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"the key {_describe(key)} appears twice in one object")
        out[key] = value
    return out


def _decode(data, allow_nan: bool = False) -> object:
    """Parsed JSON of ``data`` (str or bytes); ``ValueError`` with the reason if not."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        try:
            data = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        if allow_nan:
            return json.loads(data, object_pairs_hook=_unique_keys)
        return json.loads(data, parse_constant=_refuse_constant, parse_float=_finite_float,
                          object_pairs_hook=_unique_keys)
    except RecursionError:
        raise ValueError("nested too deeply to parse") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc})") from None
    except ValueError as exc:              # the hooks', or an integer of too many digits
        raise ValueError(f"not acceptable JSON ({exc})") from None


def parse(data, schema, *, source: str, root: str = "value", allow_nan: bool = False):
    """Parse JSON text (``str`` or UTF-8 ``bytes``) and check it against ``schema``.

    Parameters
    ----------
    data : str or bytes
        The JSON text, e.g. a checkpoint's metadata entry.
    schema
        A schema (see the module docstring).
    source : str
        Where the text came from, for messages (a path).
    root : str
        The name of the parsed value in messages: ``root['key'][0]``.
    allow_nan : bool
        Parse ``NaN`` and the infinities (as :func:`json.dumps` writes them) as
        floats; the ``float`` schema still refuses them where it applies, so they
        pass only in free-form parts (``object``, ``dict``, ``list``).

    Returns
    -------
    The parsed value.

    Raises
    ------
    JSONFileError
        (a ``ValueError``) naming ``source`` and, if the text parsed, the key path.
    """
    try:
        value = _decode(data, allow_nan)
    except ValueError as exc:
        raise JSONFileError(source, None, str(exc)) from None
    try:
        _check(value, schema, ())
    except _Mismatch as exc:
        raise JSONFileError(source, _render(root, exc.path), exc.problem) from None
    return value


def _read_bytes(path: str, max_bytes: int) -> bytes:
    """The bytes of the regular file ``path``; ``OSError`` or ``ValueError`` if not."""
    # Non-blocking open, so a FIFO in the file's place cannot hang the reader; the
    # descriptor is then checked to be a regular file before anything is read.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        regular = stat.S_ISREG(os.fstat(fd).st_mode)
    except BaseException:
        os.close(fd)
        raise
    if not regular:
        os.close(fd)
        raise ValueError("not a regular file")
    with os.fdopen(fd, "rb") as fh:
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ValueError(f"larger than {max_bytes} bytes")
    return data


def load(path, schema, *, root: str = "value", max_bytes: int = MAX_BYTES):
    """Read the JSON file ``path`` and check it against ``schema`` (strict).

    Parameters
    ----------
    path : str or os.PathLike
    schema
        A schema (see the module docstring).
    root : str
        The name of the file's value in messages: ``root['key'][0]``.
    max_bytes : int
        Larger files are refused.

    Returns
    -------
    The parsed value.

    Raises
    ------
    OSError
        If the file cannot be opened or read (``FileNotFoundError`` if missing).
    JSONFileError
        (a ``ValueError``) naming the file and the key path, if the content is
        not a regular file of at most ``max_bytes`` of UTF-8 JSON matching ``schema``.
    """
    path = os.fspath(path)
    try:
        data = _read_bytes(path, max_bytes)
    except ValueError as exc:
        raise JSONFileError(path, None, str(exc)) from None
    return parse(data, schema, source=path, root=root)


def read_cache(path, schema, *, root: str = "value", context: str = "fftconv",
               missing_ok: bool = True, max_bytes: int = MAX_BYTES, stacklevel: int = 2):
    """Read a cache file of fftconv's (lenient): its content, or ``None`` if unusable.

    A missing file gives ``None`` (silently, if ``missing_ok``). Anything else
    that :func:`load` refuses (unreadable, not a regular file, too large, not
    UTF-8, invalid or too deeply nested JSON, ``NaN``, a wrong type, an unknown
    or missing key) gives a :class:`CacheFileWarning` naming the file and the
    problem, and ``None``: the file is to be treated as absent.

    Parameters
    ----------
    path : str or os.PathLike
    schema
        A schema (see the module docstring).
    root : str
        The name of the file's value in messages.
    context : str
        Who reads, first in the warning (a function name).
    missing_ok : bool
        Whether a missing file is ``None`` without a warning.
    max_bytes : int
        Larger files are refused.
    stacklevel : int
        Passed to :func:`warnings.warn`, counted from the caller of this function.
    """
    path = os.fspath(path)
    try:
        return load(path, schema, root=root, max_bytes=max_bytes)
    except FileNotFoundError as exc:
        if missing_ok:
            return None
        reason = exc.strerror or "no such file"
    except OSError as exc:
        reason = exc.strerror or str(exc)
    except JSONFileError as exc:
        reason = " ".join(p for p in (exc.key_path, exc.problem) if p)
    warnings.warn(f"{context}: cannot use {path}: {reason}; ignored (as if absent)",
                  CacheFileWarning, stacklevel=stacklevel + 1)
    return None


# -- writing ---------------------------------------------------------------------------


def write_atomic(path, payload, *, schema=None, root: str = "value") -> None:
    """Write ``payload`` as JSON to ``path``: a temporary file beside it, then a rename.

    Readers see the old file or the new one, never a part. ``NaN`` and infinities
    are refused (:func:`read_cache` would refuse them), and with ``schema`` the
    payload is validated first, so nothing is written that would not be read back.

    Raises
    ------
    JSONFileError
        (a ``ValueError``) if ``payload`` does not match ``schema``.
    ValueError
        If ``payload`` holds a non-finite number.
    OSError
        If the file cannot be written; no temporary file is left behind.
    """
    path = os.fspath(path)
    if schema is not None:
        validate(payload, schema, root=root)
    text = json.dumps(payload, indent=1, sort_keys=True, allow_nan=False)
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    tmp = f"{path}.tmp-{os.getpid()}-{threading.get_ident()}"
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise


@contextmanager
def locked(path):
    """Hold an exclusive advisory lock for a read-modify-write of ``path``.

    The lock is ``fcntl.flock`` on ``path + ".lock"`` (created if needed and left
    in place: removing a lock file that another process has open would let two
    processes hold "the" lock at once). Only writers that take it are excluded;
    readers need not, since :func:`write_atomic` replaces the file whole. Where
    there is no ``fcntl`` (Windows), or the lock file cannot be created or locked
    (a read-only directory, a file system without locks), nothing is locked and
    the ``with`` block runs anyway: concurrent writers may then drop each other's
    entries, though the file stays whole. Yields whether the lock is held.
    """
    fd = None
    if fcntl is not None:
        try:
            fd = os.open(f"{os.fspath(path)}.lock", os.O_RDWR | os.O_CREAT, 0o666)
        except OSError:
            fd = None
    try:
        held = False
        if fd is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                held = True
            except OSError:
                held = False
        yield held
    finally:
        if fd is not None:
            os.close(fd)                        # closing releases the lock


def update(path, schema, change, *, root: str = "value", context: str = "fftconv"):
    """Read-modify-write ``path`` under :func:`locked`; return what was written.

    ``change`` gets the current content (:func:`read_cache`: ``None`` if the file
    is missing or unusable, with a warning if unusable) and returns the new one,
    which is validated against ``schema`` and written by :func:`write_atomic`.
    Held around the read and the write, the lock makes concurrent updates (other
    threads or processes) apply one after another, so none is lost.

    Raises
    ------
    OSError
        If the file cannot be written.
    ValueError
        If the new content does not match ``schema`` or holds a non-finite number.
    """
    path = os.fspath(path)
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    with locked(path):
        current = read_cache(path, schema, root=root, context=context, stacklevel=3)
        new = change(current)
        write_atomic(path, new, schema=schema, root=root)
    return new
