"""Reading checkpoints and images, writing figures and tables atomically.

A checkpoint is the trainer's ``.npz`` file (format ``fftconv-checkpoint``,
version 1; see :mod:`fftconv.nn.checkpoint`): one array per parameter keyed by its
dotted name in model order (``c1.weight``, ``c1.bias``, ...) and an entry
``__metadata__`` holding JSON (``format``, ``version``, ``architecture``, ``seed``,
``epoch``, ...). It is read with ``allow_pickle=False``; nothing here ever
unpickles.

Files are written to a temporary file in the target directory and renamed into
place (``os.replace``), so a reader never sees half a file. Only the command line
calls the writers: the analysis functions themselves return arrays and figures.
"""

from __future__ import annotations

import json
import os
import tempfile
import tokenize
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fftconv import nn
from fftconv.errors import bad_type, bad_value
from fftconv.optional import require

__all__ = ["Checkpoint", "load_checkpoint", "load_kernels", "load_image", "write_atomic",
           "save_figure", "write_json"]


@dataclass(frozen=True)
class Checkpoint:
    """Parameters and metadata of a trained model, as read from a checkpoint file.

    Attributes
    ----------
    path : pathlib.Path
    params : dict of str to ndarray
        Every parameter, keyed by its dotted name, in model order.
    metadata : dict
        The decoded JSON metadata.
    """

    path: Path
    params: dict = field(repr=False)
    metadata: dict

    @property
    def conv_layers(self) -> list[str]:
        """Names of the 4-d parameters (conv weights ``(C_out, C_in, kh, kw)``), in model order."""
        return [name for name, value in self.params.items() if value.ndim == 4]

    def layer_key(self, layer=None) -> str:
        """The parameter name of a convolution layer's weight.

        Parameters
        ----------
        layer : str, optional
            A parameter name (``'c1.weight'``) or a layer name (``'c1'``, meaning
            ``'c1.weight'``). Default: the first 4-d parameter, i.e. the first
            convolution layer.

        Returns
        -------
        str

        Raises
        ------
        ValueError
            If the checkpoint has no such 4-d parameter; the message lists the
            ones it has.
        """
        layers = self.conv_layers
        if not layers:
            raise bad_value("conv_weight", "layer", layer,
                            f"the name of a 4-d parameter, but {self.path} has none")
        if layer is None:
            return layers[0]
        if not isinstance(layer, str):
            raise bad_type("conv_weight", "layer", layer, "a str naming a conv layer")
        for name in (layer, f"{layer}.weight"):
            if name in layers:
                return name
        raise bad_value("conv_weight", "layer", layer,
                        "one of the 4-d parameters " + ", ".join(map(repr, layers)) +
                        " (or a layer name such as " + repr(layers[0].rsplit(".", 1)[0]) + ")")

    def conv_weight(self, layer=None):
        """The weight of a convolution layer, shape (C_out, C_in, kh, kw).

        ``layer`` as in :meth:`layer_key` (default: the first conv layer).
        """
        return self.params[self.layer_key(layer)]


def load_checkpoint(path):
    """Read a trainer checkpoint (``.npz``, ``fftconv-checkpoint`` version 1).

    Parameters
    ----------
    path : str or os.PathLike
        The ``.npz`` file written by ``fftconv train``.

    Returns
    -------
    Checkpoint

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not a zip archive, not a valid checkpoint (truncated,
        holding pickled objects, missing or malformed metadata, another format
        or version: the message of :func:`fftconv.nn.read_checkpoint` says
        which), or holds non-numeric parameters.

    Notes
    -----
    The file is parsed by :func:`fftconv.nn.read_checkpoint`, the trainer's own
    reader (``np.load`` with ``allow_pickle=False``), so the writer and the
    analyses share one definition of the format.

    Examples
    --------
    >>> import os, tempfile
    >>> from fftconv import nn
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = os.path.join(d, "model.npz")
    ...     nn.save_checkpoint(path, nn.lenet5(seed=0), seed=0, epoch=0)
    ...     ck = load_checkpoint(path)
    >>> ck.conv_layers[:2], ck.conv_weight("c1").shape
    (['c1.weight', 'c3.weight'], (6, 1, 5, 5))
    """
    func = "load_checkpoint"
    if not isinstance(path, (str, os.PathLike)):
        raise bad_type(func, "path", path, "a str or os.PathLike path")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{func}: parameter 'path' must be an existing checkpoint "
                                f"file; got {str(path)!r} (no such file)")
    if not zipfile.is_zipfile(path):            # also guards read_checkpoint against .npy
        raise bad_value(func, "path", str(path),
                        "an .npz checkpoint (a zip archive); this file is not one")
    params, metadata = nn.read_checkpoint(path)
    for name, value in params.items():
        if value.dtype.kind not in "fiu":
            raise bad_value(func, "path", str(path),
                            f"a checkpoint of numeric parameters; {name!r} has dtype "
                            f"{value.dtype}")
    return Checkpoint(path, params, metadata)


def read_array(func: str, param: str, path, suffixes=(".npy", ".png")) -> np.ndarray:
    """An array from a ``.npy`` file (never unpickled) or an image file (``.png``).

    The one reader of the command line's input files: every failure is an
    ``OSError`` or ``ValueError`` whose message names ``func``, ``param``, the file
    and what was wrong (a missing file, a directory, a truncated or corrupt
    ``.npy``, an object array, an image the reader cannot decode), never a bare
    numpy or PIL message.

    Parameters
    ----------
    func, param : str
        Who asks, for the messages (``'fftconv match'``, ``'IMAGE'``).
    path : str or os.PathLike
    suffixes : tuple of str
        The extensions accepted.

    Returns
    -------
    ndarray
        As stored (``.npy``), or as :func:`matplotlib.image.imread` returns it.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "scene.npy")
    >>> np.save(path, np.eye(3))
    >>> read_array("demo", "IMAGE", path).shape
    (3, 3)
    >>> with open(path, "r+b") as fh:
    ...     _ = fh.truncate(140)                 # a 128-byte header, 12 of 72 data bytes
    >>> read_array("demo", "IMAGE", path)
    Traceback (most recent call last):
        ...
    ValueError: demo: parameter 'IMAGE' must be a readable .npy file of numbers (the array claims shape (3, 3) of float64 (72 bytes) but holds 12 bytes of data); got '...scene.npy'
    """
    if not isinstance(path, (str, os.PathLike)):
        raise bad_type(func, param, path, "a str or os.PathLike path")
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{func}: parameter {param!r} must be an existing file; "
                                f"got {str(path)!r} (no such file)")
    if not path.is_file():
        raise IsADirectoryError(f"{func}: parameter {param!r} must be a file; got "
                                f"{str(path)!r} (a directory or special file)")
    suffix = path.suffix.lower()
    if suffix not in suffixes:
        raise bad_value(func, param, str(path), "a " + " or ".join(suffixes) + " file")
    if suffix == ".npy":
        _check_npy_header(func, param, path)     # before numpy allocates what it claims
    try:
        if suffix == ".npy":
            return np.load(path, allow_pickle=False)
        return require("matplotlib.image", "plots", func).imread(path)
    except ImportError:
        raise
    except _UNREADABLE as exc:
        # numpy: "EOF: reading array header", "Object arrays cannot be loaded ...";
        # PIL: "broken PNG file", "cannot identify image file"
        raise bad_value(func, param, str(path),
                        f"a readable {suffix} file ({type(exc).__name__}: {exc})") from exc


#: What numpy's and PIL's readers raise on a file that is not what it claims
#: (PIL parses the chunks of a PNG it is handed; a corrupt one can raise any of these).
_UNREADABLE = (OSError, ValueError, TypeError, SyntaxError, EOFError, KeyError, OverflowError,
               MemoryError, RecursionError, tokenize.TokenError)


def _check_npy_header(func: str, param: str, path: Path) -> None:
    """Read the ``.npy`` header only (:func:`fftconv.nn.read_npy_header`): object
    arrays and sizes the file does not hold are refused before any allocation."""
    with open(path, "rb") as fp:
        try:
            nn.read_npy_header(fp, os.path.getsize(path))
        except ValueError as exc:
            raise bad_value(func, param, str(path),
                            f"a readable .npy file of numbers (the array {exc})") from None


def load_image(path):
    """Read a grey-level image from ``.npy`` (a 2-d array) or ``.png`` (averaged over colour).

    Parameters
    ----------
    path : str or os.PathLike
        A ``.npy`` file holding a 2-d array, or a ``.png``.

    Returns
    -------
    image : ndarray, shape (H, W), float64

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        Another extension, an unreadable file or not a 2-d image
        (:func:`read_array`).
    """
    func = "load_image"
    image = read_array(func, "path", path)
    if str(path).lower().endswith(".png") and image.ndim == 3:
        image = image[..., :3].mean(axis=-1)              # drop alpha, average colour
    if image.ndim != 2 or image.dtype.kind not in "fiub" or image.size == 0:
        raise bad_value(func, "path", str(path),
                        f"a 2-d numeric image; it holds {image.ndim}-d {image.dtype} data")
    return image.astype(np.float64)


def write_atomic(path, write) -> Path:
    """Call ``write(file)`` on a temporary file beside ``path``, then rename it into place.

    Parameters
    ----------
    path : str or os.PathLike
        Destination; its directory must exist.
    write : callable
        Receives an open binary file object.

    Returns
    -------
    pathlib.Path
        The destination.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.chmod(tmp, 0o666 & ~_umask())          # mkstemp's 0600 -> the usual 0644
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0o22)
    os.umask(mask)
    return mask


def save_figure(fig, path, dpi=110) -> Path:
    """Save a ``matplotlib.figure.Figure`` as PNG, atomically.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure to save.
    path : str or os.PathLike
        Destination; its directory must exist.
    dpi : float
        Resolution.

    Returns
    -------
    pathlib.Path
        The destination.

    Notes
    -----
    Uses the Agg canvas directly, so no display and no ``pyplot`` state is
    involved.
    """
    require("matplotlib.backends.backend_agg", "plots", "save_figure").FigureCanvasAgg(fig)
    return write_atomic(path, lambda fh: fig.savefig(fh, format="png", dpi=dpi))


def write_json(obj, path) -> Path:
    """Write ``obj`` as indented JSON, atomically.

    Parameters
    ----------
    obj : dict, list or scalar
        May hold numpy arrays and scalars; NaN and infinities become ``null``.
    path : str or os.PathLike
        Destination; its directory must exist.

    Returns
    -------
    pathlib.Path
        The destination.
    """
    def clean(value):
        if isinstance(value, dict):
            return {str(k): clean(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [clean(v) for v in value]
        if isinstance(value, np.ndarray):
            return clean(value.tolist())
        if isinstance(value, np.generic):
            return clean(value.item())
        if isinstance(value, float) and not np.isfinite(value):
            return None
        return value
    text = json.dumps(clean(obj), indent=2) + "\n"
    return write_atomic(path, lambda fh: fh.write(text.encode()))


def load_kernels(sources, layer=None):
    """Resolve kernel sources (named kernels and checkpoint files) into labelled 2-d kernels.

    Parameters
    ----------
    sources : sequence of str
        Each either a checkpoint path (an existing file, or any path ending in
        ``.npz``) or a named kernel such as ``'gabor:theta=30'``
        (:func:`analysis.kernels.named_kernel`).
    layer : str, optional
        Conv layer to read from checkpoints (:meth:`Checkpoint.conv_weight`);
        default the first.

    Returns
    -------
    list of (str, ndarray)
        ``(label, kernel)`` pairs. A checkpoint contributes every filter of the
        layer, ``C_out × C_in`` of them, labelled ``'c1.weight[o, i]'``; a named
        kernel is labelled by its text.

    Raises
    ------
    FileNotFoundError
        A ``.npz`` path that does not exist.
    ValueError
        A source that is neither a file nor a kernel name, or any error of
        :func:`load_checkpoint` and :func:`analysis.kernels.named_kernel`.
    """
    from .kernels import NAMED_KERNELS, named_kernel

    if isinstance(sources, str) or not all(isinstance(s, str) for s in sources):
        raise bad_type("load_kernels", "sources", sources, "a sequence of str")
    out = []
    for source in sources:
        name = source.partition(":")[0].strip().lower()
        if source.lower().endswith(".npz") or Path(source).is_file():
            ck = load_checkpoint(source)
            key = ck.layer_key(layer)
            w = ck.params[key]
            out += [(f"{key}[{o}, {i}]", w[o, i].astype(np.float64))
                    for o, i in np.ndindex(*w.shape[:2])]
        elif name in NAMED_KERNELS:
            out.append((source, named_kernel(source)))
        else:
            raise bad_value("load_kernels", "sources", source,
                            "a checkpoint .npz path or a kernel name among " +
                            ", ".join(NAMED_KERNELS))
    return out
