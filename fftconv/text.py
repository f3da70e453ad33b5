"""Words and units in user-facing text: one rule each, used by every message.

* :func:`plural`: ``"1 repeat"``, ``"5 repeats"`` (never ``"repeat(s)"``).
* :func:`format_bytes`: sizes in binary (IEC 80000-13) units, ``B``, ``KiB``,
  ``MiB``, ``GiB``, ``TiB``: powers of 1024, the units memory is allocated in.
  fftconv shows every byte count with it, so a table, a log line and an error
  never mix ``kB`` (1000) with ``KiB`` (1024).
"""

from __future__ import annotations

import math
import numbers

from .errors import bad_type, bad_value

__all__ = ["plural", "format_bytes", "BYTE_UNITS"]

#: The binary units of :func:`format_bytes`, each 1024 times the one before.
BYTE_UNITS = ("B", "KiB", "MiB", "GiB", "TiB")


def plural(n, word: str, many: str | None = None) -> str:
    """``n`` and ``word``, in the plural unless ``n`` is one.

    Parameters
    ----------
    n : int or float
        The count; an int is written with thousands separators.
    word : str
        The singular, for example ``'epoch'``.
    many : str, optional
        The plural when it is not ``word + 's'`` (``plural(2, 'match', 'matches')``).

    Returns
    -------
    str
        ``f"{n} {word}"`` for ``n == 1``, else ``f"{n} {many or word + 's'}"``.

    Examples
    --------
    >>> plural(1, "epoch"), plural(3, "repeat"), plural(0, "layer")
    ('1 epoch', '3 repeats', '0 layers')
    >>> plural(2, "match", "matches"), plural(1797, "digit")
    ('2 matches', '1,797 digits')
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Real):
        raise bad_type("plural", "n", n, "an int or a float")
    if not isinstance(word, str) or not word:
        raise bad_type("plural", "word", word, "a non-empty str")
    count = f"{n:,}" if isinstance(n, numbers.Integral) else f"{n:g}"
    return f"{count} {word if n == 1 else (many or word + 's')}"


def format_bytes(n) -> str:
    """A byte count in binary units, with one decimal above a kibibyte.

    Parameters
    ----------
    n : int or float
        Bytes, at least 0.

    Returns
    -------
    str
        ``"{n} B"`` below 1024 bytes, else ``n / 1024**k`` with one decimal and the
        unit of :data:`BYTE_UNITS` that keeps it below 1024 (after rounding).

    Examples
    --------
    >>> format_bytes(0), format_bytes(1023), format_bytes(1024), format_bytes(4704 * 4)
    ('0 B', '1023 B', '1.0 KiB', '18.4 KiB')
    >>> format_bytes(2**30), format_bytes(16 * 2**20 - 1)
    ('1.0 GiB', '16.0 MiB')
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Real):
        raise bad_type("format_bytes", "n", n, "an int or a float number of bytes")
    if not math.isfinite(n) or n < 0:
        raise bad_value("format_bytes", "n", n, "a finite number of bytes >= 0")
    if n < 1024:
        return f"{n:.0f} B"
    value, unit = float(n), 0
    # move up while the value, as printed, would reach 1024 of this unit
    while unit + 1 < len(BYTE_UNITS) and round(value, 1) >= 1024:
        value /= 1024
        unit += 1
    return f"{value:.1f} {BYTE_UNITS[unit]}"
