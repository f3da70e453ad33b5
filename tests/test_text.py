"""fftconv.text: the plural rule and the one byte unit system (binary, IEC)."""

import pytest

from fftconv.text import format_bytes, plural


@pytest.mark.parametrize("n, word, many, expected", [
    (1, "epoch", None, "1 epoch"), (0, "epoch", None, "0 epochs"), (2, "repeat", None, "2 repeats"),
    (1, "match", "matches", "1 match"), (3, "match", "matches", "3 matches"),
    (1797, "digit", None, "1,797 digits"), (1.5, "second", None, "1.5 seconds"),
])
def test_plural(n, word, many, expected):
    assert plural(n, word, many) == expected
    assert "(s)" not in plural(n, word, many)


@pytest.mark.parametrize("n, expected", [
    (0, "0 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (1536, "1.5 KiB"),
    (2**20 - 1, "1.0 MiB"), (5 * 2**20, "5.0 MiB"), (2**30, "1.0 GiB"), (3 * 2**40, "3.0 TiB"),
])
def test_format_bytes_uses_binary_units(n, expected):
    assert format_bytes(n) == expected


@pytest.mark.parametrize("bad, error", [(-1, ValueError), (float("inf"), ValueError),
                                        ("1", TypeError), (True, TypeError)])
def test_format_bytes_refuses_bad_input(bad, error):
    with pytest.raises(error, match="format_bytes: parameter 'n'"):
        format_bytes(bad)
