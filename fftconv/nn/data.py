"""Data: the embedded digits, an IDX (MNIST / Fashion-MNIST) reader, splits, batches.

Images come out as ``(N, 1, H, W)`` float arrays with values in ``[0, 1]`` and
labels as ``(N,)`` int64 arrays.
"""

from __future__ import annotations

import gzip
import math
import numbers
import os
import zipfile
import zlib

import numpy as np

from ..checks import positive_int
from ..errors import bad_type, bad_value
from ..text import plural
from .init import as_generator
from .module import check_float_dtype

__all__ = ["load_digits", "read_idx", "load_mnist", "idx_splits", "train_test_split",
           "minibatches"]

#: IDX type codes (third magic byte) and their big-endian numpy dtypes.
IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_GZIP_MAGIC = b"\x1f\x8b"


#: The digits shipped with the package (written by ``tools/make_digits.py``).
DIGITS_FILE = "digits.npz"
#: What :data:`DIGITS_FILE` holds: array name → (dtype, shape, largest value).
DIGITS_LAYOUT = {"images": (np.uint8, (1797, 8, 8), 16), "labels": (np.uint8, (1797,), 9)}


def _read_digits(path=None):
    """The shipped digits as ``(images, labels)``, uint8, checked against :data:`DIGITS_LAYOUT`.

    ``path`` (default: the packaged :data:`DIGITS_FILE`) is for tests. A missing,
    unreadable or malformed file raises an error that names it, says what is wrong
    and how to restore it.
    """
    if path is None:
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), DIGITS_FILE)
    fix = ("reinstall fftconv, or regenerate the file with tools/make_digits.py "
           "(needs scikit-learn)")
    problem = None
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in DIGITS_LAYOUT if name in archive.files}
            missing = sorted(set(DIGITS_LAYOUT) - set(arrays))
    except FileNotFoundError:
        raise FileNotFoundError(f"load_digits: the digits file {path} is missing; "
                                f"{fix}") from None
    except (OSError, ValueError, zipfile.BadZipFile, zlib.error) as exc:
        raise ValueError(f"load_digits: the digits file {path} is not a readable .npz "
                         f"archive ({exc}); {fix}") from None
    if missing:
        problem = f"it lacks {plural(len(missing), 'array')}: {', '.join(map(repr, missing))}"
    else:
        for name, (dtype, shape, top) in DIGITS_LAYOUT.items():
            a = arrays[name]
            if a.dtype != dtype or a.shape != shape:
                problem = (f"{name!r} is {a.dtype} of shape {a.shape}, expected "
                           f"{np.dtype(dtype)} of shape {shape}")
                break
            if a.max() > top:
                problem = f"{name!r} has values up to {a.max()}, expected 0 to {top}"
                break
    if problem:
        raise ValueError(f"load_digits: the digits file {path} is malformed: {problem}; "
                         f"{fix}")
    return arrays["images"], arrays["labels"]


def load_digits(size: int = 32, dtype=np.float32):
    """The UCI 8×8 handwritten digits shipped with fftconv, resized for LeNet.

    Parameters
    ----------
    size : int
        Output side length (default 32, LeNet-5's input), ``>= 8``.
    dtype : {float32, float64}

    Returns
    -------
    x : ndarray, shape (1797, 1, size, size)
        Intensities in ``[0, 1]`` (the originals are 0–16).
    y : ndarray of int64, shape (1797,)
        Digit labels 0–9.

    Notes
    -----
    The UCI optical-recognition digits (Alpaydin & Kaynak 1998), the same 1,797
    images and labels as ``sklearn.datasets.load_digits`` (a test checks that),
    ship inside fftconv as ``fftconv/nn/digits.npz``, so neither scikit-learn nor
    a download is needed. Resizing is bilinear
    (``scipy.ndimage.zoom`` with ``order=1``) on the pixel-area grid, so the image
    keeps its extent and centre.

    Examples
    --------
    >>> from fftconv import nn
    >>> x, y = nn.load_digits()
    >>> x.shape, x.dtype, int(y[:10].sum())
    ((1797, 1, 32, 32), dtype('float32'), 45)
    >>> bool(0 <= x.min() and x.max() <= 1)
    True
    """
    import scipy.ndimage

    if not isinstance(size, numbers.Integral) or isinstance(size, bool):
        raise bad_type("load_digits", "size", size, "an int >= 8")
    if size < 8:
        raise bad_value("load_digits", "size", size, "an int >= 8")
    dtype = check_float_dtype("load_digits", dtype)
    images, labels = _read_digits()
    images = images / 16.0                                         # (1797, 8, 8)
    if size != 8:
        images = scipy.ndimage.zoom(images, (1, size / 8, size / 8), order=1,
                                    mode="nearest", grid_mode=True)
    images = np.clip(images, 0.0, 1.0)
    return images[:, None].astype(dtype), labels.astype(np.int64)


#: Largest array an IDX file may hold, in bytes, 2 GiB (MNIST's training images take
#: 44.9 MiB, EMNIST's largest split about 522 MiB). A header claiming more is refused before
#: anything is allocated.
MAX_IDX_BYTES = 1 << 31
#: Most dimensions an IDX header may declare (numpy's own limit is higher; IDX
#: files in use have one to four).
MAX_IDX_DIMS = 32
_IDX_CHUNK = 1 << 20


def _idx_error(path, reason: str) -> ValueError:
    # The shape of fftconv.errors.bad_value, with the path in full.
    return ValueError(f"read_idx: parameter 'path' must be a valid IDX file ({reason}); "
                      f"got {os.fspath(path)!r}")


def _read_up_to(stream, n: int) -> bytes:
    """Up to ``n`` bytes, fewer only at the end of the stream; memory follows what arrives."""
    buffer = bytearray()
    while len(buffer) < n:
        chunk = stream.read(min(_IDX_CHUNK, n - len(buffer)))
        if not chunk:
            break
        buffer += chunk
    return buffer


def _read_idx_stream(stream, path, available, gz):
    """Header, checks and data of an IDX stream; ``available`` is its length if known."""
    where, holder = (" of gzip data", "the gzip stream") if gz else ("", "the file")
    magic = _read_up_to(stream, 4)
    if len(magic) < 4:
        raise _idx_error(path, f"truncated: {len(magic)} bytes{where}, shorter than the "
                               "4-byte magic")
    zero1, zero2, code, ndim = magic
    if zero1 or zero2 or code not in IDX_DTYPES or ndim == 0:
        raise _idx_error(path, f"bad magic number 0x{bytes(magic).hex()}; expected 0x0000TTNN "
                               "with type TT in 08, 09, 0B, 0C, 0D, 0E and NN >= 1 dimensions")
    if ndim > MAX_IDX_DIMS:
        raise _idx_error(path, f"{ndim} dimensions, more than MAX_IDX_DIMS = {MAX_IDX_DIMS}")
    header = 4 + 4 * ndim
    sizes = _read_up_to(stream, 4 * ndim)
    if len(sizes) < 4 * ndim:
        raise _idx_error(path, f"truncated header: {4 + len(sizes)} bytes{where}, expected "
                               f"{header}")
    shape = tuple(int.from_bytes(sizes[i:i + 4], "big") for i in range(0, 4 * ndim, 4))
    dtype = np.dtype(IDX_DTYPES[code])
    # Python ints: a product of up to 32 sizes below 2**32 never wraps. A zero
    # size empties the array, but numpy still needs the others to fit in memory.
    nbytes = math.prod(shape) * dtype.itemsize
    extent = math.prod(s or 1 for s in shape) * dtype.itemsize
    if extent > MAX_IDX_BYTES:
        raise _idx_error(path, f"header {shape} claims {extent} bytes of {dtype.name}, beyond "
                               f"the cap MAX_IDX_BYTES = {MAX_IDX_BYTES}")
    expected = header + nbytes
    if available is not None and available != expected:
        problem = "truncated" if available < expected else "trailing bytes"
        raise _idx_error(path, f"{problem}: header {shape} needs {expected} bytes, "
                               f"file has {available}")
    body = _read_up_to(stream, nbytes)
    if len(body) < nbytes:
        raise _idx_error(path, f"truncated: header {shape} needs {expected} bytes, "
                               f"{holder} holds {header + len(body)}")
    if stream.read(1):
        raise _idx_error(path, f"trailing bytes: header {shape} needs {expected} bytes, "
                               f"{holder} holds more")
    data = np.frombuffer(body, dtype).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


def read_idx(path) -> np.ndarray:
    """Read an IDX file (the MNIST format), gzip-compressed or raw.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.gz`` or uncompressed IDX file; compression is detected from the
        content, not the name.

    Returns
    -------
    array : ndarray
        Shape and dtype from the header (native byte order), for example
        ``(10000, 28, 28)`` uint8 for MNIST images and ``(10000,)`` for labels.

    Raises
    ------
    ValueError
        For a bad magic number, more than :data:`MAX_IDX_DIMS` dimensions, a
        header claiming more than :data:`MAX_IDX_BYTES`, a truncated file or
        stream, bytes beyond what the header promises, or a corrupt gzip
        stream; the message names the file and the problem.
    OSError
        If the file cannot be read.

    Notes
    -----
    The format (LeCun et al., "THE MNIST DATABASE"): a 4-byte magic number
    ``0x00 0x00 TYPE NDIM``, then ``NDIM`` big-endian uint32 sizes, then the data
    in row-major order, big-endian. ``TYPE`` is ``0x08`` (uint8), ``0x09`` (int8),
    ``0x0B`` (int16), ``0x0C`` (int32), ``0x0D`` (float32) or ``0x0E`` (float64).

    The file is untrusted: the header is read first and the size it claims is
    computed with Python integers, checked against :data:`MAX_IDX_BYTES` and,
    for a raw file, against the file's length, before the data are read. A gzip
    file is decompressed as a stream: the header, then exactly the bytes it
    promises, read in chunks (memory grows only with data that actually
    arrive), so a small file that claims or inflates to a huge array costs no
    more than the cap. A stream that ends early is an error, and so is one that
    holds more than the header promises (as for raw files; MNIST's files hold
    exactly their array); a CRC mismatch or garbage after the gzip data is a
    corrupt gzip stream.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "labels.idx")
    >>> with open(path, "wb") as f:
    ...     _ = f.write(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1]))
    >>> read_idx(path)
    array([7, 2, 1], dtype=uint8)
    """
    if not isinstance(path, (str, os.PathLike)):
        raise bad_type("read_idx", "path", path, "a str or os.PathLike file path")
    with open(path, "rb") as f:
        if f.read(2) != _GZIP_MAGIC:
            f.seek(0)
            return _read_idx_stream(f, path, os.fstat(f.fileno()).st_size, False)
        f.seek(0)
        try:
            with gzip.GzipFile(fileobj=f, mode="rb") as stream:
                return _read_idx_stream(stream, path, None, True)
        except (OSError, EOFError, zlib.error) as exc:
            raise _idx_error(path, f"corrupt or truncated gzip data: {exc}") from None


def idx_splits(directory) -> dict:
    """The IDX image/label file pairs in ``directory``, by split name.

    Looks for ``{split}-images-idx3-ubyte`` and ``{split}-labels-idx1-ubyte``
    (each optionally ``.gz``) for ``split`` in ``'train'`` and ``'t10k'``, the
    names used by MNIST and Fashion-MNIST.

    Returns
    -------
    dict
        ``{split: (images_path, labels_path)}`` for every complete pair found.
    """
    found = {}
    for split in ("train", "t10k"):
        pair = []
        for stem in (f"{split}-images-idx3-ubyte", f"{split}-labels-idx1-ubyte"):
            paths = [os.path.join(directory, stem + ext) for ext in ("", ".gz")]
            pair.append(next((p for p in paths if os.path.isfile(p)), None))
        if all(pair):
            found[split] = tuple(pair)
    return found


def load_mnist(directory, split=None, size: int = 32, dtype=np.float32):
    """Load an MNIST or Fashion-MNIST split from local IDX files.

    Parameters
    ----------
    directory : str or os.PathLike
        Folder holding the IDX files (see :func:`idx_splits`).
    split : {'train', 't10k'}, optional
        Default: ``'train'`` if present, else ``'t10k'``.
    size : int
        Output side length; the 28×28 images are zero-padded symmetrically (32,
        the default, is LeNet-5's input: LeCun et al. 1998 centre the 28×28 field
        in 32×32 so strokes reach the centre of C1's receptive fields).
    dtype : {float32, float64}

    Returns
    -------
    x : ndarray, shape (N, 1, size, size)
        Intensities in ``[0, 1]``.
    y : ndarray of int64, shape (N,)

    Raises
    ------
    ValueError
        No IDX pair in ``directory``, an unknown split, malformed files, or image
        and label counts that differ.

    Examples
    --------
    >>> import os, tempfile, numpy as np
    >>> d = tempfile.mkdtemp()
    >>> with open(os.path.join(d, "t10k-images-idx3-ubyte"), "wb") as f:
    ...     _ = f.write(bytes([0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 28, 0, 0, 0, 28]) + bytes(784))
    >>> with open(os.path.join(d, "t10k-labels-idx1-ubyte"), "wb") as f:
    ...     _ = f.write(bytes([0, 0, 8, 1, 0, 0, 0, 1, 5]))
    >>> x, y = load_mnist(d)
    >>> x.shape, y
    ((1, 1, 32, 32), array([5]))
    """
    if not isinstance(directory, (str, os.PathLike)) or not os.path.isdir(directory):
        raise bad_value("load_mnist", "directory", directory,
                        "a directory holding IDX files such as t10k-images-idx3-ubyte.gz")
    splits = idx_splits(directory)
    if not splits:
        raise bad_value("load_mnist", "directory", os.fspath(directory),
                        "a directory holding {train,t10k}-images-idx3-ubyte[.gz] and the "
                        "matching -labels-idx1-ubyte[.gz]")
    if split is None:
        split = "train" if "train" in splits else "t10k"
    if split not in splits:
        raise bad_value("load_mnist", "split", split, f"one of {sorted(splits)}")
    dtype = check_float_dtype("load_mnist", dtype)
    images_path, labels_path = splits[split]
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise bad_value("load_mnist", "directory", os.fspath(directory),
                        f"matching IDX files: images {images.shape} (N, H, W) and labels "
                        f"{labels.shape} (N,)")
    h, w = images.shape[1:]
    if not isinstance(size, numbers.Integral) or size < max(h, w):
        raise bad_value("load_mnist", "size", size, f"an int >= the image size {max(h, w)}")
    top, left = (size - h) // 2, (size - w) // 2
    x = np.zeros((len(images), 1, size, size), dtype)
    x[:, 0, top:top + h, left:left + w] = images / np.asarray(255, dtype)
    return x, labels.astype(np.int64)


def train_test_split(x, y, test_size=0.2, shuffle=True, seed=0):
    """Split arrays into a training and a test (or validation) part.

    Parameters
    ----------
    x, y : ndarray
        Same length along axis 0.
    test_size : float or int
        Fraction in ``(0, 1)`` or a count in ``[1, N)`` of examples to hold out.
    shuffle : bool
        Shuffle with ``seed`` before splitting; if false, the *last*
        ``test_size`` examples are held out (for example the last 2,000 MNIST
        test images).
    seed : int or numpy.random.Generator

    Returns
    -------
    x_train, x_test, y_train, y_test : ndarray

    See Also
    --------
    sklearn.model_selection.train_test_split : the same split of arrays
        (a different random permutation for the same seed).

    Examples
    --------
    >>> import numpy as np
    >>> x, y = np.arange(10), np.arange(10) * 10
    >>> x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=3, shuffle=False)
    >>> x_te, y_te
    (array([7, 8, 9]), array([70, 80, 90]))
    >>> len(train_test_split(x, y, 0.2, seed=1)[1])
    2
    """
    for name, a in (("x", x), ("y", y)):
        if not isinstance(a, np.ndarray) or a.ndim == 0:
            raise bad_type("train_test_split", name, a, "a numpy.ndarray with ndim >= 1")
    n = len(x)
    if len(y) != n:
        raise bad_value("train_test_split", "y", y, f"an array of length len(x) = {n}")
    if isinstance(test_size, numbers.Integral) and not isinstance(test_size, bool):
        n_test = int(test_size)
    elif isinstance(test_size, numbers.Real) and not isinstance(test_size, bool) \
            and 0 < test_size < 1:
        n_test = int(round(test_size * n))
    else:
        raise bad_value("train_test_split", "test_size", test_size,
                        "a fraction in (0, 1) or a count in [1, N)")
    if not 1 <= n_test < n:
        raise bad_value("train_test_split", "test_size", test_size,
                        f"a fraction or count leaving 1 to {n - 1} of {n} examples for testing")
    order = as_generator("train_test_split", seed).permutation(n) if shuffle else np.arange(n)
    train, test = order[:n - n_test], order[n - n_test:]
    return x[train], x[test], y[train], y[test]


def minibatches(x, y, batch_size: int, shuffle: bool = False, seed=None):
    """Yield ``(x_batch, y_batch)`` pairs covering every example once.

    Parameters
    ----------
    x, y : ndarray
        Same length along axis 0.
    batch_size : int
        Examples per batch; the last batch may be smaller.
    shuffle : bool
        Visit the examples in a random order drawn from ``seed``.
    seed : None, int or numpy.random.Generator

    Examples
    --------
    >>> import numpy as np
    >>> [yb.tolist() for _, yb in minibatches(np.zeros(5), np.arange(5), 2)]
    [[0, 1], [2, 3], [4]]
    """
    batch_size = positive_int("minibatches", "batch_size", batch_size)
    n = len(x)
    if len(y) != n:
        raise bad_value("minibatches", "y", y, f"an array of length len(x) = {n}")
    order = as_generator("minibatches", seed).permutation(n) if shuffle else None
    for start in range(0, n, batch_size):
        if order is None:
            yield x[start:start + batch_size], y[start:start + batch_size]
        else:
            index = order[start:start + batch_size]
            yield x[index], y[index]
