"""The ``fftconv`` command: one argparse subcommand per module in ``fftconv.commands``.

Each command module defines ``register(subparsers)``, which adds its parser and
sets ``func`` (called with the parsed arguments, returning an exit status). Heavy
imports happen inside ``func`` so ``fftconv --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from . import __version__
from .commands import COMMANDS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fftconv",
        description="FFT-based convolution research toolkit: benchmark backends, "
                    "train small CNNs, analyse filters, match templates.")
    parser.add_argument("--version", action="version", version=f"fftconv {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"fftconv.commands.{name}").register(subparsers)
    return parser


def main(argv=None) -> int:
    """Entry point of the ``fftconv`` console script and of ``python -m fftconv``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:
        # The reader went away (`fftconv cost vgg16 | head`): not an error of ours.
        sys.stderr.close()
        return 0
    except (TypeError, ValueError, NotImplementedError, OSError) as exc:
        print(f"fftconv {args.command}: error: {exc}", file=sys.stderr)
        return 1
