"""Subcommands of the ``fftconv`` command line, one module each (see ``fftconv.cli``)."""

#: Module names under ``fftconv.commands``, in the order ``fftconv --help`` lists them.
COMMANDS = ["demo", "bench", "calibrate", "train", "cost", "spectrum", "diffuse", "match"]
