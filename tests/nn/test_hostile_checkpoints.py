"""Checkpoints on generated hostile input: random bytes, damaged archives, mutated metadata,
parameters of wrong shape or dtype, huge architectures; and stale temporary files.

Every input must either load correctly or raise a ValueError (an OSError for a
file that cannot be opened) whose message names the file; never another
exception, a large allocation or a hang.
"""

import copy
import io
import json
import math
import os
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from fftconv import nn
from fftconv.nn import checkpoint
from fftconv.testing import traced_peak

FIXTURE = settings(suppress_health_check=[HealthCheck.function_scoped_fixture],
                   max_examples=60)
SMALL_PEAK = 8 << 20

#: A small model keeps every example cheap; its checkpoint is the template.
NET = nn.lenet5(seed=1, partial_connections=True)
STATE = NET.state_dict()
META = {"format": "fftconv-checkpoint", "version": 1, "architecture": NET.architecture,
        "seed": 1, "epoch": 2, "dtype": "float32", "fftconv_version": "0",
        "history": {"loss": [1.0, float("nan")]}, "test_accuracy": 0.5}


def write_npz(path, arrays, metadata=META):
    members = dict(arrays)
    if metadata is not None:
        members["__metadata__"] = np.array(metadata if isinstance(metadata, str)
                                           else json.dumps(metadata))
    with open(path, "wb") as f:
        np.savez(f, **members)
    return path


def template_bytes(tmp_path):
    return write_npz(tmp_path / "template.npz", STATE).read_bytes()


def outcome(call, path):
    """``call()``'s result, or None after checking the error is a ValueError naming ``path``."""
    try:
        return call()
    except ValueError as exc:
        assert str(path) in str(exc), exc
        assert str(exc).startswith(("read_checkpoint: ", "load_checkpoint: ")), exc
        return None


# -- whole files ------------------------------------------------------------------

@FIXTURE
@given(blob=st.one_of(st.binary(max_size=300),
                      st.binary(max_size=300).map(lambda b: b"PK\x03\x04" + b),
                      st.binary(max_size=300).map(lambda b: b"\x93NUMPY" + b)))
def test_random_bytes_are_refused_naming_the_file(tmp_path, blob):
    path = tmp_path / "random.npz"
    path.write_bytes(blob)
    assert outcome(lambda: nn.read_checkpoint(path), path) is None
    assert outcome(lambda: nn.load_checkpoint(path), path) is None


@FIXTURE
@given(data=st.data())
def test_damaged_archives_load_exactly_or_fail_naming_the_file(tmp_path, data):
    blob = bytearray(template_bytes(tmp_path))
    for _ in range(data.draw(st.integers(1, 3))):
        how = data.draw(st.sampled_from(["cut", "flip", "splice"]))
        at = data.draw(st.integers(0, len(blob) - 1))
        if how == "cut":
            del blob[at:]
        elif how == "flip":
            blob[at] ^= data.draw(st.integers(1, 255))
        else:
            blob[at:at] = data.draw(st.binary(min_size=1, max_size=40))
        if not blob:
            break
    path = tmp_path / "damaged.npz"
    path.write_bytes(bytes(blob))
    loaded = outcome(lambda: nn.load_checkpoint(path), path)
    if loaded is not None:               # damage in bytes the reader need not trust
        model, meta = loaded
        assert meta["architecture"] == NET.architecture
        for name, value in model.state_dict().items():
            assert value.shape == STATE[name].shape and value.dtype == np.float32


# -- metadata -----------------------------------------------------------------------

#: Key paths of the fixed part of the metadata, and the closed objects.
KEY_PATHS = ["format", "version", "architecture", "architecture.name", "architecture.kwargs",
             "architecture.kwargs.partial_connections", "architecture.kwargs.in_channels",
             "architecture.kwargs.num_classes", "architecture.kwargs.dtype", "seed", "epoch",
             "dtype", "fftconv_version"]
CLOSED = ["architecture", "architecture.kwargs"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner,
                                                                max_size=3),
    max_leaves=8)


def at(meta, key_path):
    *parents, last = key_path.split(".")
    node = meta
    for key in parents:
        node = node[key]
    return node, last


@FIXTURE
@given(key_path=st.sampled_from(KEY_PATHS), data=st.data())
def test_mutated_metadata_loads_or_names_the_key(tmp_path, key_path, data):
    meta = copy.deepcopy(META)
    parent, last = at(meta, key_path)
    action = data.draw(st.sampled_from(["replace", "delete", "add"]))
    if action == "replace":
        parent[last] = data.draw(json_values)
    elif action == "delete":
        del parent[last]
    elif key_path in CLOSED:
        parent[last][data.draw(st.sampled_from(["extra", "allocate", "seed"]))] = 1
    path = write_npz(tmp_path / "meta.npz", STATE, meta)
    loaded = outcome(lambda: nn.load_checkpoint(path), path)
    if loaded is None:
        try:
            nn.load_checkpoint(path)
        except ValueError as exc:
            message = str(exc)
        if "metadata[" in message or "lacks the key" in message or "unknown key" in message:
            brackets = "".join(f"['{part}']" for part in key_path.split("."))
            parent = "".join(f"['{part}']" for part in key_path.split(".")[:-1])
            assert f"metadata{brackets}" in message or f"metadata{parent} " in message \
                or f"'{last}'" in message, message
    else:
        model, got = loaded
        assert got == json.loads(json.dumps(meta))
        assert [p.shape for p in model.parameters()] == [v.shape for v in STATE.values()]


@pytest.mark.parametrize("depth", [1, 10, checkpoint.MAX_METADATA_DEPTH - 1,
                                   checkpoint.MAX_METADATA_DEPTH + 1, 500, 5000, 100_000])
@pytest.mark.parametrize("where", ["history", "architecture.kwargs.num_classes"])
def test_deep_nesting_is_refused_not_a_recursion_error(tmp_path, depth, where):
    nested = "[" * depth + "1" + "]" * depth
    text = json.dumps(META)
    if where == "history":
        text = text.replace('"history": {"loss": [1.0, NaN]}', '"history": ' + nested)
    else:
        text = text.replace('"num_classes": 10', '"num_classes": ' + nested)
    path = write_npz(tmp_path / "deep.npz", STATE, text)
    total = depth + (1 if where == "history" else 3)     # the keys above count too
    if where == "history" and total <= checkpoint.MAX_METADATA_DEPTH:
        assert nn.read_checkpoint(path)[1]["history"] == json.loads(nested)
        return
    with pytest.raises(ValueError) as info:
        nn.read_checkpoint(path)
    message = str(info.value)
    assert str(path) in message
    if total > checkpoint.MAX_METADATA_DEPTH:
        assert f"metadata is nested {total} levels deep, more than MAX_METADATA_DEPTH = 32" \
            in message
    else:
        assert "metadata['architecture']['kwargs']['num_classes'] must be an int >= 1" in message


@pytest.mark.parametrize("text, pattern", [
    ('{"format": "fftconv-checkpoint", "format": "x"}', r"metadata is not acceptable JSON \(the key 'format' appears twice"),
    ("[]", r"metadata 'format' is not"),
    ("1" * 5000, r"metadata is not acceptable JSON \(Exceeds the limit"),
    (json.dumps({**META, "version": True}), r"unsupported version True"),
    (json.dumps({**META, "epoch": float("nan")}), r"metadata\['epoch'\] must be an int >= 0 "
                                                  r"or null; got nan"),
    (json.dumps({**META, "architecture": {**META["architecture"], "kwargs": {
        **META["architecture"]["kwargs"], "num_classes": float("inf")}}}),
     r"metadata\['architecture'\]\['kwargs'\]\['num_classes'\] must be an int >= 1; "
     r"got inf"),
    (json.dumps({**META, "architecture": {"name": "lenet5", "kwargs": {"allocate": True}}}),
     r"metadata\['architecture'\]\['kwargs'\] has an unknown key 'allocate'"),
    (json.dumps({k: v for k, v in META.items() if k != "seed"}),
     r"metadata lacks the key 'seed'"),
])
def test_malformed_metadata_messages(tmp_path, text, pattern):
    path = write_npz(tmp_path / "meta.npz", STATE, text)
    with pytest.raises(ValueError, match=r"read_checkpoint: parameter 'path' must be an fftconv "
                                         r"checkpoint .*" + pattern + r".*; got '.*meta.npz'"):
        nn.read_checkpoint(path)


def test_metadata_cap(tmp_path, monkeypatch):
    path = write_npz(tmp_path / "big.npz", STATE)
    monkeypatch.setattr(checkpoint, "MAX_METADATA_BYTES", 100)
    with pytest.raises(ValueError, match=r"the '__metadata__' entry is \d+ bytes, beyond the "
                                         r"cap MAX_METADATA_BYTES = 100"):
        nn.read_checkpoint(path)


# -- parameter arrays -----------------------------------------------------------------

BAD_DTYPES = ["complex64", "complex128", "int8", "int32", "int64", "uint8", "bool", "float16",
              "U3", "S2", "datetime64[s]", "timedelta64[ms]", [("a", "f4"), ("b", "i2")]]


@FIXTURE
@given(name=st.sampled_from(sorted(STATE)),
       dtype=st.sampled_from(BAD_DTYPES + ["float32", "float64", ">f4", ">f8"]))
def test_parameter_dtypes(tmp_path, name, dtype):
    dtype = np.dtype(dtype)
    state = dict(STATE)
    state[name] = np.zeros(STATE[name].shape, dtype)
    path = write_npz(tmp_path / "dtype.npz", state)
    if dtype.kind == "f" and dtype.itemsize in (4, 8):
        model, _ = nn.load_checkpoint(path)
        assert model.dtype == np.float32 and not dict(model.named_parameters())[name].data.any()
        return
    with pytest.raises(ValueError) as info:
        nn.load_checkpoint(path)
    assert str(info.value).startswith(f"load_checkpoint: parameter 'path' must be a "
                                      f"checkpoint of float32 or float64 parameters: {name!r} "
                                      f"is stored with dtype {dtype}")
    assert str(path) in str(info.value)
    assert nn.read_checkpoint(path)[0][name].dtype == dtype      # the raw reader keeps it


@FIXTURE
@given(name=st.sampled_from(sorted(STATE)),
       shape=st.lists(st.integers(0, 7), max_size=4).map(tuple))
def test_parameter_shapes(tmp_path, name, shape):
    state = dict(STATE)
    state[name] = np.zeros(shape, np.float32)
    path = write_npz(tmp_path / "shape.npz", state)
    if shape == STATE[name].shape:
        nn.load_checkpoint(path)
        return
    with pytest.raises(ValueError, match=rf"load_checkpoint: .*{name!r} is stored with shape "
                                         rf"{shape!r}, the architecture expects "
                                         rf"{STATE[name].shape!r}.*".replace("(", r"\(")
                                         .replace(")", r"\)") + str(path)):
        nn.load_checkpoint(path)


def test_object_arrays_and_stray_members_are_refused(tmp_path):
    path = write_npz(tmp_path / "objects.npz", {**STATE, "c1.bias": np.array([None] * 6)})
    with pytest.raises(ValueError, match=r"'c1.bias' holds Python objects .*allow_pickle"):
        nn.read_checkpoint(path)
    path = write_npz(tmp_path / "stray.npz", STATE)
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("notes.txt", "hello")
    with pytest.raises(ValueError, match=r"member 'notes.txt' is not a \.npy array"):
        nn.read_checkpoint(path)


# -- sizes: huge architectures and huge claims ------------------------------------------

def npy_member(shape, descr="<f4", data=b""):
    out = io.BytesIO()
    np.lib.format.write_array_header_1_0(out, {"descr": descr, "fortran_order": False,
                                               "shape": tuple(shape)})
    return out.getvalue() + data


@FIXTURE
@given(key=st.sampled_from(["num_classes", "in_channels"]),
       value=st.integers(10**5, 10**30), model=st.sampled_from(["lenet5", "lenet5_modern"]))
def test_huge_architecture_kwargs_are_refused_before_building(tmp_path, key, value, model):
    meta = copy.deepcopy(META)
    template = nn.build_model(model, seed=0)
    meta["architecture"] = copy.deepcopy(template.architecture)
    meta["architecture"]["kwargs"][key] = value
    path = write_npz(tmp_path / "huge.npz", template.state_dict(), meta)

    def load():
        with pytest.raises(ValueError, match=r"load_checkpoint: .*(is stored with shape|beyond "
                                             r"|MAX_CHECKPOINT_BYTES).*" + str(path)):
            nn.load_checkpoint(path)
    assert traced_peak(load) < SMALL_PEAK


@FIXTURE
@example(shape=(0, 203440459, 2833560027), descr="<c16", data=b"", name="output.weight")
@given(shape=st.lists(st.integers(0, 2**40), min_size=1, max_size=4).map(tuple),
       descr=st.sampled_from(["<f4", "<f8", "<c16", "|u1"]),
       data=st.binary(max_size=64), name=st.sampled_from(["output.weight", "c1.weight"]))
def test_huge_claims_in_tiny_archives_allocate_nothing_big(tmp_path, shape, descr, data, name):
    path = tmp_path / "claims.npz"
    with zipfile.ZipFile(path, "w") as z:
        for key, value in STATE.items():
            z.writestr(key + ".npy", npy_member(value.shape, data=value.tobytes())
                       if key != name else npy_member(shape, descr, data))
        z.writestr("__metadata__.npy", _npy_bytes(np.array(json.dumps(META))))
    claimed = math.prod(shape) * np.dtype(descr).itemsize
    # the raw reader takes any consistent array numpy can make (extents within its
    # index range, even when a zero makes the array empty)
    indexable = math.prod(n for n in shape if n) * np.dtype(descr).itemsize \
        <= np.iinfo(np.intp).max
    read_ok = len(data) == claimed and indexable
    load_ok = read_ok and shape == STATE[name].shape and descr == "<f4"
    for reader, ok in ((nn.read_checkpoint, read_ok), (nn.load_checkpoint, load_ok)):
        def read(reader=reader, ok=ok):
            if ok:
                reader(path)
            else:
                assert outcome(lambda: reader(path), path) is None
        assert traced_peak(read) < SMALL_PEAK


def _npy_bytes(array):
    out = io.BytesIO()
    np.save(out, array)
    return out.getvalue()


def test_the_parameter_cap(tmp_path, monkeypatch):
    path = write_npz(tmp_path / "capped.npz", STATE)
    total = sum(v.nbytes for v in STATE.values())
    monkeypatch.setattr(checkpoint, "MAX_CHECKPOINT_BYTES", total - 1)
    with pytest.raises(ValueError, match=rf"its arrays claim {total} bytes, beyond the cap "
                                         rf"MAX_CHECKPOINT_BYTES = {total - 1}"):
        nn.read_checkpoint(path)


# -- stale temporaries of killed saves --------------------------------------------------

def dead_pid():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_killed_save_leaves_a_temporary_that_the_next_save_removes(tmp_path):
    target = tmp_path / "model.npz"
    code = ("import os, sys; from fftconv.nn.checkpoint import atomic_write\n"
            "with atomic_write(sys.argv[1]) as f:\n"
            "    f.write(b'half a checkpoint'); f.flush(); os._exit(9)\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    subprocess.run([sys.executable, "-c", code, str(target)], env=env, check=False)
    (left,) = [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]
    assert left.name.endswith("-model.npz")
    nn.save_checkpoint(target, NET)
    assert left.exists()                       # too fresh: its writer might be on another host
    old = time.time() - checkpoint.STALE_TEMP_GRACE_SECONDS - 5
    os.utime(left, (old, old))
    nn.save_checkpoint(target, NET)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]
    nn.load_checkpoint(target)


def test_only_our_own_stale_temporaries_are_removed(tmp_path):
    now = time.time()
    grace = checkpoint.STALE_TEMP_GRACE_SECONDS
    files = {  # name -> (age in seconds, expected to be removed)
        f".tmp-{dead_pid()}-abcd_123-model.npz": (grace + 5, True),
        f".tmp-{dead_pid()}-abcd_124-model.npz": (grace - 30, False),       # still fresh
        f".tmp-{os.getpid()}-abcd_125-model.npz": (grace + 5, False),       # a live writer
        f".tmp-{os.getppid()}-abcd_126-model.npz": (checkpoint.STALE_TEMP_SECONDS + 5, True),
        f".tmp-{dead_pid()}-abcd_127-other.npz": (grace + 5, False),        # another file
        f".tmp-{dead_pid()}-abcd_128-model.npz.bak": (grace + 5, False),
        ".tmp-k3j2h1g0.npz": (checkpoint.STALE_TEMP_SECONDS + 5, False),   # older scheme
        "model.npz.tmp": (checkpoint.STALE_TEMP_SECONDS + 5, False),
    }
    for name, (age, _) in files.items():
        (tmp_path / name).write_bytes(b"x")
        os.utime(tmp_path / name, (now - age, now - age))
    removed = checkpoint.remove_stale_temporaries(tmp_path / "model.npz", now=now)
    expect = sorted(str(tmp_path / n) for n, (_, gone) in files.items() if gone)
    assert sorted(removed) == expect
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        n for n, (_, gone) in files.items() if not gone)


def test_a_model_saved_without_architecture_loads_into_a_given_model(tmp_path):
    plain = nn.Sequential(nn.Linear(3, 2, seed=0))
    path = tmp_path / "plain.npz"
    nn.save_checkpoint(path, plain)
    assert nn.read_checkpoint(path)[1]["architecture"] is None
    into = nn.Sequential(nn.Linear(3, 2, seed=5))
    nn.load_checkpoint(path, into)
    np.testing.assert_array_equal(into.state_dict()["0.weight"], plain.state_dict()["0.weight"])
    with pytest.raises(ValueError, match=r"a checkpoint of a known architecture .*its "
                                         r"architecture is None"):
        nn.load_checkpoint(path)
