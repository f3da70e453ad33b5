"""Every file the command line reads fails in one line naming the file, exit code 1.

The bad files are generated: truncations and byte flips of valid ``.npy`` and
``.png`` files, random bytes, object arrays, directories, missing paths.
"""

import contextlib
import io
import os
import tempfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from fftconv.cli import main

SCENE = np.random.default_rng(0).random((40, 40)).astype(np.float32)


def _valid_npy() -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, SCENE[:8, :8])
    return buffer.getvalue()


def _valid_png() -> bytes:
    pytest.importorskip("matplotlib")
    import matplotlib.image

    buffer = io.BytesIO()
    matplotlib.image.imsave(buffer, SCENE[:8, :8], format="png")
    return buffer.getvalue()


def _run(*argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(argv))
    return status, out.getvalue(), err.getvalue()


@st.composite
def broken_files(draw):
    """``(suffix, bytes)`` of a file that is not a usable image."""
    suffix = draw(st.sampled_from([".npy", ".png"]))
    valid = _valid_npy() if suffix == ".npy" else _valid_png()
    kind = draw(st.sampled_from(["truncated", "flipped", "random", "empty", "huge"]))
    if kind == "huge" and suffix == ".npy":       # a header claiming far more than it holds
        side = draw(st.integers(10 ** 5, 10 ** 12))
        buffer = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            buffer, {"descr": "<f8", "fortran_order": False, "shape": (side, side)})
        return suffix, buffer.getvalue() + b"\0" * 64
    if kind == "truncated":
        return suffix, valid[:draw(st.integers(0, len(valid) - 1))]
    if kind == "flipped":                         # a corrupt header (the data may survive)
        at = draw(st.integers(0, min(len(valid), 60) - 1))
        return suffix, valid[:at] + bytes([valid[at] ^ 0xFF]) + valid[at + 1:]
    if kind == "random":
        return suffix, draw(st.binary(min_size=1, max_size=400))
    return suffix, b""


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(broken=broken_files(), role=st.sampled_from(["IMAGE", "TEMPLATE"]))
def test_match_names_every_broken_file_in_one_line(broken, role):
    suffix, payload = broken
    with tempfile.TemporaryDirectory() as tmp:
        bad = os.path.join(tmp, "broken" + suffix)
        good = os.path.join(tmp, "scene.npy")
        with open(bad, "wb") as fh:
            fh.write(payload)
        np.save(good, SCENE)
        args = [bad, good] if role == "IMAGE" else [good, bad]
        status, _, err = _run("match", *args, "--no-figure", "--out", tmp)
        readable = _loads(bad)
    if status == 0:                               # the flip left a usable image
        assert readable
        return
    # A file that reads but is unfit for its role (an IMAGE smaller than the TEMPLATE)
    # is a usage error (status 2); a file that does not read is an error (status 1).
    assert status == (2 if readable else 1) or (readable and status == 1)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err
    if not readable:                              # a file error names the file and role
        assert bad in lines[0] and f"parameter '{role}'" in lines[0]


def _loads(path) -> bool:
    """Whether numpy / matplotlib read the file at all (its content may still be unfit)."""
    try:
        if path.endswith(".npy"):
            np.load(path, allow_pickle=False)
        else:
            import matplotlib.image
            matplotlib.image.imread(path)
    except Exception:
        return False
    return True


@pytest.mark.parametrize("make, words", [
    (lambda tmp: os.path.join(tmp, "missing.npy"), "no such file"),
    (lambda tmp: tmp, "a directory"),
    (lambda tmp: _save(tmp, np.array([object()], dtype=object)), "Python objects"),
])
def test_missing_files_directories_and_pickles_are_named(make, words):
    with tempfile.TemporaryDirectory() as tmp:
        bad = make(tmp)
        good = os.path.join(tmp, "scene.npy")
        np.save(good, SCENE)
        status, _, err = _run("match", bad, good, "--no-figure", "--out", tmp)
    assert status == 1 and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and words in err and "IMAGE" in err


def _save(tmp, array):
    path = os.path.join(tmp, "objects.npy")
    np.save(path, array, allow_pickle=True)
    return path
