"""fftconv.text: the plural rule and the one byte unit system (binary, IEC); and a
scan of the project's own strings for the two (no "worker(s)", no "MB")."""

import ast
import re
from pathlib import Path

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


# -- the rules hold in the project's own text --------------------------------------------

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("fftconv", "analysis", "benchmarks", "tools")

#: A plural hedged as "worker(s)": write plural(n, "worker") instead.
HEDGED_PLURAL = re.compile(r"[A-Za-z]\(s\)")
#: A decimal byte unit (kB = 1000 B): fftconv prints binary units (format_bytes).
DECIMAL_UNIT = re.compile(r"(?:\d|\{[^}]*\}|^)\s?(?:kB|KB|MB|GB|TB)\b")


def _strings(path):
    """``(lineno, text, is_docstring)`` of every string literal in ``path``, with
    ````code```` spans and doctest lines removed (``prod(s)`` there is code, not a
    plural)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings, parts_seen = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):        # an f-string: its literal parts, joined
            parts = [v for v in node.values if isinstance(v, ast.Constant)]
            parts_seen.update(id(v) for v in parts)   # not seen again on their own
            text = "{}".join(v.value for v in parts)
            yield node.lineno, re.sub(r"``[^`]*``", "", text), False
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and id(node) not in parts_seen:
            text = re.sub(r"^\s*(>>>|\.\.\.) .*$", "", node.value, flags=re.M)
            yield node.lineno, re.sub(r"``[^`]*``", "", text), id(node) in docstrings


def _hits(pattern, docstrings):
    for top in SOURCES:
        for path in sorted((ROOT / top).rglob("*.py")):
            for lineno, text, is_doc in _strings(path):
                if (docstrings or not is_doc) and pattern.search(text):
                    yield f"{path.relative_to(ROOT)}:{lineno}: {pattern.search(text)[0]!r}"


def test_no_string_hedges_a_plural_with_s_in_parentheses():
    hits = list(_hits(HEDGED_PLURAL, docstrings=True))
    assert not hits, "use fftconv.text.plural:\n" + "\n".join(hits)


def test_no_message_prints_a_decimal_byte_unit():
    hits = list(_hits(DECIMAL_UNIT, docstrings=False))
    assert not hits, "use fftconv.text.format_bytes (KiB, MiB, GiB):\n" + "\n".join(hits)


@pytest.mark.parametrize("text, pattern, found", [
    ("{n} worker(s)", HEDGED_PLURAL, True), ("item(s)", HEDGED_PLURAL, True),
    ("int(s) for s in shape", HEDGED_PLURAL, True), ("2 workers", HEDGED_PLURAL, False),
    ("60.95 MB at 4 bytes", DECIMAL_UNIT, True), ("{n / 1e6:.1f} MB", DECIMAL_UNIT, True),
    ("MB", DECIMAL_UNIT, True), ("{v:.1f} GB", DECIMAL_UNIT, True),
    ("58.1 MiB", DECIMAL_UNIT, False), ("a few MB of columns", DECIMAL_UNIT, False),
])
def test_the_patterns(text, pattern, found):
    assert bool(pattern.search(text)) is found


def test_the_scan_sees_f_strings_and_skips_code_spans(tmp_path):
    path = tmp_path / "m.py"
    path.write_text('"""Doc with ``prod(s)``.\n\n>>> int(s)\n"""\nx = f"{n} key(s)"\n'
                    'y = "3 MB"\n')
    assert [(n, HEDGED_PLURAL.search(t) is not None, d) for n, t, d in _strings(path)] == [
        (1, False, True), (5, True, False), (6, False, False)]
