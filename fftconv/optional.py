"""Optional dependencies: import on use, with one clear error when one is missing.

The install needs only numpy, scipy and threadpoolctl. Figures need matplotlib
(the ``plots`` extra) and progress bars use tqdm (the ``progress`` extra); both
are imported inside the functions that use them, through :func:`require` (or
:func:`progress_bar`), never at module level, so ``import fftconv``,
``import analysis``, ``fftconv --help`` and every function that draws nothing work
without them.

Policies:

- A plotting function called without matplotlib raises :class:`ImportError`
  naming the function, the missing package and the extra that installs it
  (``pip install 'fftconv[plots]'``).
- A progress bar without tqdm is not an error and is not silent either:
  :func:`progress_bar` falls back to :class:`PlainProgress`, which prints one plain
  line per step on standard error, under the same condition a bar would show
  (by default only when standard error is a terminal).
"""

from __future__ import annotations

import importlib
import sys

__all__ = ["EXTRAS", "require", "available", "progress_bar", "PlainProgress"]

#: Optional top-level modules: (the distribution to install, the fftconv extra that
#: pulls it in).
EXTRAS = {
    "matplotlib": ("matplotlib", "plots"),
    "tqdm": ("tqdm", "progress"),
    "sklearn": ("scikit-learn", "test"),
    "torch": ("torch", "bench"),
    "skimage": ("scikit-image", "bench"),
    "dask": ("dask[array]", "dask"),
    "distributed": ("distributed", "dask"),
    "zarr": ("zarr", "dask"),
}


def _missing(exc: ModuleNotFoundError, module: str) -> bool:
    """Whether ``exc`` says that ``module`` (or a parent package of it) is absent,
    rather than that an installed package failed to import something of its own."""
    name = exc.name or ""
    return module == name or module.startswith(name + ".")


def require(module: str, extra: str, func: str):
    """Import and return ``module``; if it is not installed, say who needs it and how
    to get it.

    Parameters
    ----------
    module : str
        Dotted module name, for example ``'matplotlib.figure'``.
    extra : str
        The fftconv extra that installs it, for example ``'plots'``.
    func : str
        The public function (or command) that needs it, for the message.

    Returns
    -------
    module

    Raises
    ------
    ImportError
        ``"{func} needs {package}, which is not installed; install it with
        pip install 'fftconv[{extra}]'"`` when ``module``'s package is missing. An
        installed package that fails to import for another reason raises its own
        error unchanged.

    Examples
    --------
    >>> require("numpy.fft", "plots", "f").__name__
    'numpy.fft'
    >>> require("no_such_module_xyz", "plots", "plot_things")
    Traceback (most recent call last):
        ...
    ImportError: plot_things needs no_such_module_xyz, which is not installed; install it with pip install 'fftconv[plots]'
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if not _missing(exc, module):
            raise
        top = module.partition(".")[0]
        package = EXTRAS.get(top, (top, extra))[0]
        raise ImportError(f"{func} needs {package}, which is not installed; install it "
                          f"with pip install 'fftconv[{extra}]'", name=top) from exc


def available(module: str) -> bool:
    """Whether ``module`` can be imported (it is imported, if it can).

    Examples
    --------
    >>> available("numpy"), available("no_such_module_xyz")
    (True, False)
    """
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if not _missing(exc, module):
            raise
        return False
    return True


class PlainProgress:
    """The stand-in for a tqdm bar when tqdm is not installed: one line per step.

    Implements the part of tqdm's interface fftconv uses (``update``,
    ``set_postfix``, ``close``, a context manager). Each :meth:`update` writes
    ``"{desc}: {n}/{total} {unit}"`` and the last postfix to ``file``.

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> with PlainProgress(4, desc="epoch 1/1", unit="img", file=out) as bar:
    ...     bar.update(2)
    ...     bar.set_postfix(loss="0.5")
    ...     bar.update(2)
    >>> print(out.getvalue(), end="")
    epoch 1/1: 2/4 img
    epoch 1/1: 4/4 img loss=0.5
    """

    def __init__(self, total=None, desc: str = "", unit: str = "it", file=None):
        self.total, self.desc, self.unit = total, desc, unit
        self.file = file
        self.n = 0
        self._postfix = ""

    def update(self, n: int = 1) -> None:
        self.n += n
        head = f"{self.desc}: " if self.desc else ""
        count = f"{self.n}/{self.total}" if self.total is not None else f"{self.n}"
        tail = f" {self._postfix}" if self._postfix else ""
        print(f"{head}{count} {self.unit}{tail}", file=self.file or sys.stderr, flush=True)

    def set_postfix(self, refresh: bool = True, **values) -> None:
        self._postfix = " ".join(f"{key}={value}" for key, value in values.items())

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _NoProgress(PlainProgress):
    """A disabled bar: counts, prints nothing (the user asked for no progress)."""

    def update(self, n: int = 1) -> None:
        self.n += n


def progress_bar(total=None, *, desc: str = "", unit: str = "it", enabled=None,
                 leave: bool = True, notebook: bool = False):
    """A progress bar on standard error: tqdm's if installed, else plain lines.

    Parameters
    ----------
    total : int, optional
        Steps (or items) expected.
    desc, unit : str
        Label and unit, as for tqdm.
    enabled : bool, optional
        Show progress; default (``None``): only when standard error is a terminal
        (silent in logs and CI).
    leave : bool
        Keep the finished bar on screen (tqdm only).
    notebook : bool
        Use ``tqdm.auto`` (a widget in Jupyter) rather than the terminal bar.

    Returns
    -------
    tqdm.tqdm or PlainProgress
        Without tqdm, a :class:`PlainProgress` that prints one line per step
        (or, when not enabled, prints nothing).
    """
    if available("tqdm"):
        tqdm = importlib.import_module("tqdm.auto" if notebook else "tqdm").tqdm
        # disable=None: tqdm itself shows the bar only on a terminal
        return tqdm(total=total, desc=desc or None, unit=unit, leave=leave,
                    disable=None if enabled is None else not enabled)
    if not (sys.stderr.isatty() if enabled is None else enabled):
        return _NoProgress(total, desc, unit)
    return PlainProgress(total, desc, unit)
