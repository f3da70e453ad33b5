"""The analysis subcommands of the ``fftconv`` command line, one module each.

Each module defines ``register(subparsers)`` and is declared as an entry point of the
group ``fftconv.commands`` in ``setup.cfg``; ``fftconv.cli`` finds them there, so the
``fftconv`` package itself never imports ``analysis``.
"""
