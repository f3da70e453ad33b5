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
- Progress follows Keras' ``verbose`` convention (:func:`resolve_verbose`):
  0 is silent; 1 (and ``'auto'``) is a tqdm bar when standard error is a terminal
  and one plain line per step when it is not (a log, CI), so logs are useful; 2 is
  one line per step always. :func:`progress` builds the one object every long
  loop of fftconv reports through (:class:`Progress`). Without tqdm a bar is not
  an error: it becomes the plain lines.
- :func:`progress_bar` and :class:`PlainProgress` are the older interface (a bar
  on a terminal, nothing otherwise), kept for callers of the tqdm-like object.
"""

from __future__ import annotations

import importlib
import sys
import time

from .errors import bad_value

__all__ = ["EXTRAS", "require", "available", "resolve_verbose", "progress_mode",
           "progress", "Progress", "progress_bar", "PlainProgress"]

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


# -- one progress facility: Keras' verbose levels ---------------------------------------

#: The accepted ``verbose`` values and what they mean (for messages and ``--help``).
VERBOSE_LEVELS = {0: "silent", 1: "a bar on a terminal, one line per step otherwise",
                  2: "one line per step"}


def resolve_verbose(verbose, func: str = "verbose", param: str = "verbose") -> int:
    """Keras' ``verbose`` convention, checked: 0, 1 or 2 (``'auto'`` is 1).

    Parameters
    ----------
    verbose : {0, 1, 2, 'auto'} or bool
        0: silent. 1: a tqdm bar when standard error is a terminal (and tqdm is
        installed), one plain line per step otherwise. 2: one plain line per step
        always. ``'auto'``: 1. ``True`` and ``False`` are read as 1 and 0 (the
        older ``progress=`` flags).
    func, param : str
        Who asks, for the error message.

    Returns
    -------
    int
        0, 1 or 2.

    Raises
    ------
    ValueError
        Any other value.

    Examples
    --------
    >>> resolve_verbose("auto"), resolve_verbose(2), resolve_verbose(False)
    (1, 2, 0)
    >>> resolve_verbose(3, "fit")
    Traceback (most recent call last):
        ...
    ValueError: fit: parameter 'verbose' must be 0 (silent), 1 (a bar on a terminal, one line per step otherwise), 2 (one line per step) or 'auto' (1); got 3
    """
    if isinstance(verbose, bool):
        return int(verbose)
    if isinstance(verbose, str) and verbose == "auto":
        return 1
    if isinstance(verbose, int) and verbose in VERBOSE_LEVELS:
        return int(verbose)
    allowed = ", ".join(f"{k} ({v})" for k, v in list(VERBOSE_LEVELS.items())[:-1])
    raise bad_value(func, param, verbose, f"{allowed}, 2 ({VERBOSE_LEVELS[2]}) or 'auto' (1)")


def _is_terminal(file) -> bool:
    isatty = getattr(file, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:                          # a closed stream
        return False


def progress_mode(verbose, file=None, func: str = "verbose") -> str:
    """What ``verbose`` shows on ``file`` (default standard error), as one word.

    Returns
    -------
    {'off', 'bar', 'lines'}
        ``'bar'`` only for level 1 on a terminal with tqdm installed.

    Examples
    --------
    >>> import io
    >>> progress_mode(0), progress_mode(1, io.StringIO()), progress_mode(2)
    ('off', 'lines', 'lines')
    """
    level = resolve_verbose(verbose, func)
    if level == 0:
        return "off"
    if level == 1 and _is_terminal(file or sys.stderr) and available("tqdm"):
        return "bar"
    return "lines"


class Progress:
    """Progress over ``total`` steps: a tqdm bar, one plain line per step, or nothing.

    Built by :func:`progress`. :meth:`update` advances by ``n`` steps and says what
    the step gave (``detail``); in ``'lines'`` mode it writes::

        {desc} {done}/{total}: {detail}, time {seconds since the last update:.2f} s

    for example ``epoch 3/10: loss 0.412, accuracy 0.873, time 1.23 s``. In
    ``'bar'`` mode the detail is the bar's postfix. A context manager.

    Attributes
    ----------
    mode : {'off', 'bar', 'lines'}
    n : int
        Steps done so far.

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> with progress(2, desc="layer", verbose=2, file=out, clock=lambda: 0.0) as p:
    ...     p.update(detail="3x3: direct")
    ...     p.update(detail="5x5: fft")
    >>> print(out.getvalue(), end="")
    layer 1/2: 3x3: direct, time 0.00 s
    layer 2/2: 5x5: fft, time 0.00 s
    """

    def __init__(self, total, desc: str, unit: str, mode: str, file=None, leave: bool = True,
                 notebook: bool = False, timed: bool = True, clock=time.perf_counter):
        self.total, self.desc, self.unit, self.mode = total, desc, unit, mode
        self.file = file
        self.timed = timed
        self.n = 0
        self._clock = clock
        self._last = clock()
        self._bar = None
        if mode == "bar":
            tqdm = importlib.import_module("tqdm.auto" if notebook else "tqdm").tqdm
            self._bar = tqdm(total=total, desc=desc or None, unit=unit, leave=leave,
                             file=file or sys.stderr)

    def update(self, n: int = 1, detail: str = "") -> None:
        """``n`` more steps done; ``detail``: what they gave, as text."""
        self.n += n
        if self.mode == "bar":
            if detail:
                self._bar.set_postfix_str(detail, refresh=False)
            self._bar.update(n)
        elif self.mode == "lines":
            now = self._clock()
            parts = [detail] if detail else []
            if self.timed:
                parts.append(f"time {now - self._last:.2f} s")
            self._last = now
            count = f"{self.n}/{self.total}" if self.total is not None else f"{self.n}"
            head = f"{self.desc} {count}" if self.desc else count
            self.write(f"{head}: {', '.join(parts)}" if parts else head)

    def set_detail(self, detail: str) -> None:
        """Replace the bar's postfix (``'bar'`` mode only: lines are already written)."""
        if self._bar is not None:
            self._bar.set_postfix_str(detail, refresh=True)

    def write(self, text: str) -> None:
        """One line of text (not in ``'off'`` mode), without breaking a bar."""
        if self.mode == "off":
            return
        out = self.file or sys.stderr
        if self._bar is not None:
            self._bar.write(text, file=out)
        else:
            print(text, file=out, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def progress(total=None, *, desc: str = "", unit: str = "it", verbose="auto", file=None,
             leave: bool = True, notebook: bool = False, timed: bool = True,
             func: str = "verbose", clock=time.perf_counter) -> Progress:
    """The progress reporter of one long loop, by Keras' ``verbose`` levels.

    Parameters
    ----------
    total : int, optional
        Steps expected.
    desc, unit : str
        What a step is: ``desc`` heads each line (``'epoch'``, ``'sweep'``) and
        labels the bar; ``unit`` is the bar's unit.
    verbose : {0, 1, 2, 'auto'}
        See :func:`resolve_verbose`.
    file : file-like, optional
        Default: standard error (results go to standard output).
    leave : bool
        Keep the finished bar on screen.
    notebook : bool
        Use ``tqdm.auto`` (a widget in Jupyter).
    timed : bool
        End each line with the seconds since the previous step.
    func : str
        Who asks, for the error message of a bad ``verbose``.
    clock : callable
        Seconds, for the lines' times (:func:`time.perf_counter`).

    Returns
    -------
    Progress
    """
    return Progress(total, desc, unit, progress_mode(verbose, file, func), file=file,
                    leave=leave, notebook=notebook, timed=timed, clock=clock)
