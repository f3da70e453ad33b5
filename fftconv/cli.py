"""The ``fftconv`` command: one argparse subcommand per entry point.

Subcommands are plugins, found the way pytest and asv find theirs: every entry point
in the group ``fftconv.commands`` (declared under ``[options.entry_points]`` in
``setup.cfg``, or by any other installed distribution) names a function
``register(subparsers)``, which adds its parser and sets ``func`` (called with the
parsed arguments, returning an exit status). fftconv's own commands (bench,
calibrate, train) are declared the same way as the analysis commands, so the
``fftconv`` package never imports ``analysis``. Heavy imports happen inside ``func``
so ``fftconv --help`` stays fast.

A plugin that cannot be loaded or registered does not take the other commands down:
it becomes a subcommand of its name that prints which entry point failed and why.

Conventions every subcommand follows (:mod:`fftconv.commands.options`): each
option's ``--help`` shows its default; a value out of range is refused while
parsing, naming the option as typed, and the command exits with status 2 (argparse's
usage errors, and :class:`~fftconv.commands.options.UsageError` raised by a
command); an error while running (a file that cannot be read, a package that is
missing) is printed once, ``fftconv COMMAND: error: ...``, with status 1. Results
go to standard output and files, progress and notes to standard error.
"""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import entry_points

from . import __version__
from .commands.options import HelpFormatter, UsageError

#: The entry-point group that holds the subcommands.
GROUP = "fftconv.commands"

#: The order ``fftconv --help`` lists the commands in; others follow by name.
HELP_ORDER = ("demo", "bench", "calibrate", "train", "cost", "spectrum", "diffuse", "match")


def command_entry_points() -> list:
    """The entry points of group ``fftconv.commands``, in help order, one per name.

    Returns
    -------
    list of importlib.metadata.EntryPoint
        Ordered as :data:`HELP_ORDER`, then alphabetically; when two distributions
        declare the same name, the first one found is kept.
    """
    found = {}
    for ep in entry_points(group=GROUP):
        found.setdefault(ep.name, ep)
    rank = {name: n for n, name in enumerate(HELP_ORDER)}
    return sorted(found.values(), key=lambda ep: (rank.get(ep.name, len(rank)), ep.name))


def _broken_command(subparsers, ep, exc: BaseException) -> None:
    """Register ``ep.name`` as a command that only reports why its plugin failed."""
    reason = (f"the plugin for command {ep.name!r} (entry point {ep.name} = {ep.value} "
              f"in group {GROUP!r}) failed to load: {type(exc).__name__}: {exc}")
    p = subparsers.add_parser(ep.name, help="(unavailable: its plugin failed to load)",
                              description=reason, add_help=True)
    p.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)

    def run(args) -> int:
        print(f"fftconv {ep.name}: error: {reason}", file=sys.stderr)
        return 1

    p.set_defaults(func=run)


def build_parser(commands=None) -> argparse.ArgumentParser:
    """The ``fftconv`` argument parser, with one subcommand per plugin.

    Parameters
    ----------
    commands : iterable of importlib.metadata.EntryPoint, optional
        The plugins to register (default: :func:`command_entry_points`).

    Returns
    -------
    argparse.ArgumentParser
        A plugin that fails to load or to register is still listed; running it prints
        an error naming its entry point and exits with status 1.
    """
    parser = argparse.ArgumentParser(
        prog="fftconv", formatter_class=HelpFormatter,
        description="FFT-based convolution research toolkit: benchmark backends, "
                    "train small CNNs, analyse filters, match templates.")
    parser.add_argument("--version", action="version", version=f"fftconv {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for ep in command_entry_points() if commands is None else commands:
        # A half-registered plugin may have added its parser already; a failure
        # before add_parser leaves the name free for the error stub.
        try:
            register = ep.load()
            register(subparsers)
        except Exception as exc:               # any plugin bug: report it, keep the rest
            if ep.name in subparsers.choices:
                del subparsers.choices[ep.name]
                subparsers._choices_actions[:] = [
                    a for a in subparsers._choices_actions if a.dest != ep.name]
            _broken_command(subparsers, ep, exc)
    for sub in subparsers.choices.values():
        sub.formatter_class = HelpFormatter        # every option's help shows its default
    return parser


def _message(command: str, exc: BaseException) -> str:
    """``exc``'s text without a leading ``"fftconv COMMAND: "`` (the caller adds it)."""
    text = str(exc)
    head = f"fftconv {command}: "
    return text[len(head):] if text.startswith(head) else text


def main(argv=None) -> int:
    """Entry point of the ``fftconv`` console script and of ``python -m fftconv``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except UsageError as exc:
        # a value refused after parsing: a usage error, as argparse's own (status 2)
        print(f"fftconv {args.command}: error: {_message(args.command, exc)}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (`fftconv cost vgg16 | head`): not an error of ours.
        sys.stderr.close()
        return 0
    except (TypeError, ValueError, NotImplementedError, OSError, ImportError) as exc:
        # ImportError: an optional package a command needs (fftconv.optional.require)
        print(f"fftconv {args.command}: error: {_message(args.command, exc)}",
              file=sys.stderr)
        return 1
