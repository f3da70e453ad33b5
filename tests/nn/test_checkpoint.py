"""Checkpoints: the format contract, round trips, atomic writes, clear errors."""

import json
import os
import zipfile

import numpy as np
import pytest

from fftconv import nn


@pytest.fixture
def saved(tmp_path):
    net = nn.lenet5(seed=4, partial_connections=True)
    path = tmp_path / "model.npz"
    nn.save_checkpoint(path, net, seed=4, epoch=3, extra={"test_accuracy": 0.98})
    return net, path


def test_file_follows_the_format_contract(saved):
    net, path = saved
    with np.load(path, allow_pickle=False) as npz:
        keys = list(npz.files)
        assert keys[:-1] == list(net.state_dict()) and keys[-1] == "__metadata__"
        first_4d = next(k for k in keys if npz[k].ndim == 4)
        assert first_4d == "c1.weight" and npz[first_4d].shape == (6, 1, 5, 5)
        raw = npz["__metadata__"]
        assert raw.shape == () and raw.dtype.kind == "U"
        meta = json.loads(str(raw))
    assert meta["format"] == "fftconv-checkpoint" and meta["version"] == 1
    assert meta["architecture"] == {"name": "lenet5", "kwargs": {
        "partial_connections": True, "in_channels": 1, "num_classes": 10,
        "dtype": "float32"}}
    assert (meta["seed"], meta["epoch"], meta["test_accuracy"]) == (4, 3, 0.98)


def test_round_trip_rebuilds_the_model(saved):
    net, path = saved
    again, meta = nn.load_checkpoint(path)
    assert again.architecture == net.architecture and meta["epoch"] == 3
    x = np.random.default_rng(0).random((2, 1, 32, 32)).astype(np.float32)
    np.testing.assert_array_equal(again(x), net(x))
    into = nn.lenet5(seed=99, partial_connections=True)
    nn.load_checkpoint(path, into)
    np.testing.assert_array_equal(into(x), net(x))


def test_write_is_atomic(saved, tmp_path, monkeypatch):
    net, path = saved
    before = path.read_bytes()

    def explode(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", explode)
    with pytest.raises(OSError, match="disk full"):
        nn.save_checkpoint(path, nn.lenet5(seed=5))
    assert path.read_bytes() == before                       # the old file is intact
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]     # no temporary left behind


def test_written_file_has_normal_permissions(saved):
    _, path = saved
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask


def rewrite(path, arrays):
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def meta_array(**changes):
    meta = {"format": "fftconv-checkpoint", "version": 1,
            "architecture": {"name": "lenet5", "kwargs": {}}, "seed": 0, "epoch": 1}
    meta.update(changes)
    return np.array(json.dumps(meta))


@pytest.mark.parametrize("corrupt, pattern", [
    (lambda p: p.write_bytes(b"not a zip file at all"), r"unreadable"),
    (lambda p: p.write_bytes(p.read_bytes()[:500]), r"unreadable"),
    (lambda p: rewrite(p, {"c1.weight": np.zeros((6, 1, 5, 5))}),
     r"no 0-d unicode '__metadata__' entry"),
    (lambda p: rewrite(p, {"__metadata__": np.array("{not json")}), r"not valid JSON"),
    (lambda p: rewrite(p, {"__metadata__": meta_array(format="keras")}),
     r"metadata 'format' is not 'fftconv-checkpoint'"),
    (lambda p: rewrite(p, {"__metadata__": meta_array(version=7)}),
     r"unsupported version 7 \(this fftconv reads version 1\)"),
    (lambda p: rewrite(p, {"__metadata__": np.array([b"x"], dtype=object)}), r"unreadable"),
])
def test_corrupt_files_give_a_clear_error(saved, corrupt, pattern):
    _, path = saved
    corrupt(path)
    with pytest.raises(ValueError, match=r"read_checkpoint: parameter 'path' must be an "
                                         r"fftconv checkpoint .*" + pattern):
        nn.load_checkpoint(path)


def test_truncated_member_is_reported(saved):
    _, path = saved
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("c5.weight.npy")
    start = info.header_offset + 30 + len(info.filename) + 200
    data[start:start + 64] = bytes(64)                         # damage stored bytes
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"read_checkpoint: .*unreadable"):
        nn.read_checkpoint(path)


def test_mismatched_model_or_architecture(saved):
    _, path = saved
    with pytest.raises(ValueError, match=r"load_checkpoint: parameter 'path' must be a "
                                         r"checkpoint of architecture 'lenet5_modern'"):
        nn.load_checkpoint(path, nn.lenet5_modern())
    plain = nn.Sequential(nn.Linear(3, 2))
    with pytest.raises(ValueError, match=r"a checkpoint matching the model's parameters "
                                         r"\(keys missing \['0.weight', '0.bias'\], "
                                         r"unexpected \['c1.weight'"):
        nn.load_checkpoint(path, plain)
    state, meta = nn.read_checkpoint(path)
    state["c3.weight"] = np.zeros((16, 6, 3, 3), np.float32)
    rewrite(path, {**state, "__metadata__": np.array(json.dumps(meta))})
    with pytest.raises(ValueError, match=r"'c3.weight' is stored with shape \(16, 6, 3, 3\), "
                                         r"the architecture expects \(16, 6, 5, 5\); "
                                         r"got '.*model.npz'"):
        nn.load_checkpoint(path)
    rewrite(path, {"__metadata__": meta_array(architecture={"name": "resnet", "kwargs": {}})})
    with pytest.raises(ValueError, match=r"a checkpoint of a known architecture"):
        nn.load_checkpoint(path)


def test_save_errors(tmp_path):
    net = nn.lenet5()
    with pytest.raises(TypeError, match=r"save_checkpoint: parameter 'seed' must be "
                                        r"JSON-serialisable"):
        nn.save_checkpoint(tmp_path / "a.npz", net, seed=object())
    with pytest.raises(ValueError, match=r"save_checkpoint: parameter 'architecture' must be "
                                         r"None or a dict"):
        nn.save_checkpoint(tmp_path / "a.npz", net, architecture="lenet5")
    with pytest.raises(TypeError, match=r"save_checkpoint: parameter 'model'"):
        nn.save_checkpoint(tmp_path / "a.npz", {"w": np.ones(2)})
    with pytest.raises(FileNotFoundError):
        nn.load_checkpoint(tmp_path / "missing.npz")
    assert os.listdir(tmp_path) == []


def test_plain_npy_file_is_reported_not_crashed_on(tmp_path):
    path = tmp_path / "model.npz"
    with open(path, "wb") as fh:            # a single array saved under an .npz name
        np.save(fh, np.zeros(3))
    with pytest.raises(ValueError, match=r"a single \.npy array, not an \.npz archive"):
        nn.read_checkpoint(path)
