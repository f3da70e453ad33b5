"""What every subcommand of ``fftconv`` shares: help with defaults, checked values.

* :class:`HelpFormatter`: every option's help ends with its default
  (``(default: 15)``, ``(default: off)`` for a flag) unless the help states it.
  :func:`fftconv.cli.build_parser` gives it to every subcommand, plugins included.
* Argument types that refuse a value out of range *at parse time*, so the error
  names the option as typed and exits with status 2, as argparse's own errors do:
  ``fftconv train: error: argument --epochs: must be an int >= 1; got '-1'``
  (:func:`int_range`, :func:`float_range`, :func:`int_list`, :func:`parsed_by`).
* :class:`UsageError`: a bad combination of options found after parsing
  (``--threshold 2`` with a normalized ``--method``); :func:`fftconv.cli.main`
  prints it the same way and exits with status 2.
* :func:`out_option`: the one ``--out`` option of the commands that write
  files, with a default ``fftconv-<command>``: a directory (created if missing),
  or for ``filter`` a zarr array ``fftconv-filter.zarr`` that must not exist yet.
* :func:`verbose_option`: ``--verbose {0,1,2}``, Keras' levels
  (:func:`fftconv.optional.resolve_verbose`).
"""

from __future__ import annotations

import argparse
import math
import re

__all__ = ["HelpFormatter", "UsageError", "int_range", "float_range", "int_list",
           "parsed_by", "out_option", "verbose_option", "default_out", "check_new_path",
           "deprecated", "as_option_error"]


class HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, adding each option's default to its help.

    A help that already says ``default`` is left alone (it explains a default
    that depends on other options); a flag's default is ``off``; a list default
    is written comma-separated, as it is typed.
    """

    def _get_help_string(self, action):
        text = action.help
        if not text or text == argparse.SUPPRESS or re.search(r"\bdefault\b", text, re.I):
            return text
        if action.default is argparse.SUPPRESS:
            return text
        if not action.option_strings and action.nargs not in ("?", "*"):
            return text                            # a required positional has no default
        if action.nargs == 0:
            return f"{text} (default: off)"
        default = action.default
        if default is None:
            return text
        if isinstance(default, (list, tuple)):
            default = ",".join(map(str, default))
        return f"{text} (default: {str(default).replace('%', '%%')})"


class UsageError(ValueError):
    """A command-line value refused after parsing, naming the option as typed.

    :func:`fftconv.cli.main` prints ``fftconv COMMAND: error: MESSAGE`` once and
    exits with status 2 (as for argparse's own errors).
    """


def _bound(minimum, maximum, lo_open=False, hi_open=False) -> str:
    if minimum is not None and maximum is not None:
        return (f"in {'(' if lo_open else '['}{minimum:g}, {maximum:g}"
                f"{')' if hi_open else ']'}")
    if minimum is not None:
        return f"{'>' if lo_open else '>='} {minimum:g}"
    if maximum is not None:
        return f"{'<' if hi_open else '<='} {maximum:g}"
    return ""


def int_range(minimum: int | None = 1, maximum: int | None = None):
    """An argparse ``type``: an int in ``[minimum, maximum]`` (either end optional).

    Examples
    --------
    >>> int_range(1)("3"), int_range(0, 2)("0")
    (3, 0)
    >>> int_range(1)("-1")
    Traceback (most recent call last):
        ...
    argparse.ArgumentTypeError: must be an int >= 1; got '-1'
    """
    allowed = " ".join(filter(None, ["an int", _bound(minimum, maximum)]))

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {allowed}; got {text!r}") from None
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            raise argparse.ArgumentTypeError(f"must be {allowed}; got {text!r}")
        return value

    parse.__name__ = "int"
    return parse


def float_range(minimum: float | None = None, maximum: float | None = None, *,
                lo_open: bool = False, hi_open: bool = False):
    """An argparse ``type``: a finite float within the bounds (open ends if asked).

    Examples
    --------
    >>> float_range(0, lo_open=True)("0.5")
    0.5
    >>> float_range(-1, 1)("2")
    Traceback (most recent call last):
        ...
    argparse.ArgumentTypeError: must be a number in [-1, 1]; got '2'
    """
    allowed = " ".join(filter(None, ["a number", _bound(minimum, maximum, lo_open, hi_open)]))

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        bad = not math.isfinite(value)
        if minimum is not None:
            bad |= value <= minimum if lo_open else value < minimum
        if maximum is not None:
            bad |= value >= maximum if hi_open else value > maximum
        if bad:
            raise argparse.ArgumentTypeError(f"must be {allowed}; got {text!r}")
        return value

    parse.__name__ = "float"
    return parse


def int_list(minimum: int = 1):
    """An argparse ``type``: comma-separated ints, each at least ``minimum``.

    Examples
    --------
    >>> int_list(0)("0,1, 4")
    [0, 1, 4]
    >>> int_list(1)("3,0")
    Traceback (most recent call last):
        ...
    argparse.ArgumentTypeError: must be comma-separated ints >= 1; got '3,0'
    """
    def parse(text: str) -> list[int]:
        try:
            values = [int(v) for v in text.split(",") if v.strip()]
        except ValueError:
            values = []
        if not values or min(values) < minimum:
            raise argparse.ArgumentTypeError(
                f"must be comma-separated ints >= {minimum}; got {text!r}")
        return values

    parse.__name__ = "int list"
    return parse


#: ``"parse_layer: parameter 'text' "``: the head of an fftconv error message, which
#: names a Python parameter the command-line user never typed.
_HEAD = re.compile(r"^[\w.]+(?: \([^)]*\))?: parameter '[^']*' ")


def parsed_by(parse, name: str = "value"):
    """An argparse ``type`` that calls ``parse(text)`` (a library parser such as
    :func:`fftconv.bench.parse_layer`) and reports its error as the option's.

    ``parse`` is looked up on use, so the module holding it is imported only when
    the option is given (``fftconv --help`` stays fast): pass a zero-argument
    callable returning it.

    Examples
    --------
    >>> from fftconv import bench
    >>> parsed_by(lambda: bench.parse_layer)("N=1,C=2")
    Traceback (most recent call last):
        ...
    argparse.ArgumentTypeError: must be comma-separated KEY=INT with keys N, C, H, W, O, K and optionally S, P, D, G; got 'N=1,C=2'
    """
    def run(text: str):
        try:
            return parse()(text)
        except (TypeError, ValueError) as exc:
            raise argparse.ArgumentTypeError(_HEAD.sub("", str(exc))) from None

    run.__name__ = name
    return run


def as_option_error(exc: Exception, option: str) -> Exception:
    """``exc`` (a library error) reworded to name ``option`` as the user typed it.

    ``load_mnist: parameter 'directory' must be ...`` becomes ``argument --data: must
    be ...``; the exception keeps its type (a missing file stays a
    ``FileNotFoundError``, exit status 1).
    """
    return type(exc)(f"argument {option}: {_HEAD.sub('', str(exc))}")


def default_out(command: str, suffix: str = "") -> str:
    """The default output of ``fftconv COMMAND``: ``fftconv-COMMAND`` and ``suffix``
    (``fftconv-report`` for the demo's report; ``fftconv-filter.zarr`` for
    ``default_out("filter", ".zarr")``)."""
    return ("fftconv-report" if command == "demo" else f"fftconv-{command}") + suffix


def out_option(parser, command: str, what: str, aliases=(), *, zarr: bool = False) -> None:
    """Add ``--out`` with the default :func:`default_out`.

    Parameters
    ----------
    parser : argparse.ArgumentParser
    command : str
        The subcommand's name.
    what : str
        What goes into the directory (or the zarr array), for the help.
    aliases : sequence of str
        Older option names kept working.
    zarr : bool
        ``False``: ``--out DIR``, a directory created if missing. ``True``:
        ``--out PATH``, one zarr array ``fftconv-COMMAND.zarr`` by default, which
        the command refuses if it exists (:func:`check_new_path`).
    """
    if zarr:
        default = default_out(command, ".zarr")
        parser.add_argument("--out", *aliases, default=default, metavar="PATH",
                            help=f"zarr array for {what}; must not exist yet "
                                 f"(default: ./{default})")
        return
    default = default_out(command)
    parser.add_argument("--out", *aliases, default=default, metavar="DIR",
                        help=f"directory for {what}, created if missing "
                             f"(default: ./{default})")


def check_new_path(option: str, path: str) -> None:
    """Refuse, as a :class:`UsageError` naming ``option``, an output ``path`` that exists
    (a zarr array is never overwritten: it may be another run's result)."""
    import os

    if os.path.exists(path):
        raise UsageError(f"argument {option}: {path!r} exists; give a path that does not "
                         "exist yet (a zarr array is never overwritten)")


def deprecated(command: str, old: str, new: str) -> None:
    """Tell, on standard error, that ``old`` still works but ``new`` replaces it."""
    import sys

    print(f"fftconv {command}: note: {old} is deprecated and will be removed; use {new}",
          file=sys.stderr)


def verbose_option(parser, what: str, *, dask: bool = False) -> None:
    """Add ``--verbose {0,1,2}`` (default 1): progress of ``what`` on standard error.

    ``dask=True`` is for a command whose progress is dask's own bar, which has no
    one-line-per-step form: 1 and 2 both show it. Such a command also keeps its
    older ``--no-progress`` working (hidden from the help), as ``--verbose 0``.
    """
    levels = ("0 none, 1 and 2 dask's progress bar" if dask else
              "0 none, 1 a bar on a terminal and one line per step otherwise (a log), "
              "2 one line per step")
    parser.add_argument("--verbose", "-v", type=int, choices=(0, 1, 2), default=1,
                        help=f"progress of {what} on standard error: {levels}")
    if dask:
        parser.add_argument("--no-progress", dest="verbose", action="store_const", const=0,
                            help=argparse.SUPPRESS)

