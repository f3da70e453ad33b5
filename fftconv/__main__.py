"""``python -m fftconv`` is the ``fftconv`` command."""

from .cli import main

raise SystemExit(main())
