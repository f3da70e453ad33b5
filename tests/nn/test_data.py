"""Data: digits, the IDX reader on files the tests write, splits and minibatches."""

import gzip
import os

import numpy as np
import pytest

from fftconv import nn
from fftconv.nn import data

from .conftest import make_idx


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32,
                                   np.float64])
def test_read_idx_round_trip(tmp_path, dtype, gz):
    array = (np.arange(2 * 3 * 4) - 7).reshape(2, 3, 4).astype(dtype)
    if dtype == np.uint8:
        array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4) * 10
    path = make_idx(tmp_path / ("data.idx" + (".gz" if gz else "")), array, gz=gz)
    got = nn.read_idx(path)
    assert got.dtype == np.dtype(dtype) and got.dtype.isnative
    np.testing.assert_array_equal(got, array)


def test_read_idx_detects_gzip_by_content(tmp_path):
    path = make_idx(tmp_path / "no-suffix", np.arange(5, dtype=np.uint8), gz=True)
    np.testing.assert_array_equal(nn.read_idx(str(path)), np.arange(5))


@pytest.mark.parametrize("payload, pattern", [
    (bytes([0, 0, 8]), r"truncated: 3 bytes, shorter than the 4-byte magic"),
    (bytes([0x1f, 0x8b, 8, 1]) + b"x" * 4, r"corrupt or truncated gzip data"),
    (bytes([8, 0, 0, 1, 0, 0, 0, 1, 0]), r"bad magic number 0x08000001"),
    (bytes([0, 0, 0x0A, 1, 0, 0, 0, 1, 0]), r"bad magic number 0x00000a01"),
    (bytes([0, 0, 8, 0]), r"bad magic number 0x00000800"),
    (bytes([0, 0, 8, 3, 0, 0, 0, 2]), r"truncated header: 8 bytes, expected 16"),
    (bytes([0, 0, 8, 1, 0, 0, 0, 4, 1, 2]), r"truncated: header \(4,\) needs 12 bytes, file "
                                            r"has 10"),
    (bytes([0, 0, 8, 1, 0, 0, 0, 1, 1, 2]), r"trailing bytes: header \(1,\) needs 9 bytes"),
])
def test_read_idx_errors(tmp_path, payload, pattern):
    path = tmp_path / "bad.idx"
    path.write_bytes(payload)
    with pytest.raises(ValueError, match=r"read_idx: parameter 'path' must be a valid IDX "
                                         r"file \(" + pattern):
        nn.read_idx(path)


def test_read_idx_truncated_gzip(tmp_path):
    good = gzip.compress(bytes([0, 0, 8, 1, 0, 0, 0, 200]) + bytes(range(200)))
    path = tmp_path / "cut.gz"
    path.write_bytes(good[:len(good) // 2])
    with pytest.raises(ValueError, match=r"corrupt or truncated gzip"):
        nn.read_idx(path)
    with pytest.raises(FileNotFoundError):
        nn.read_idx(tmp_path / "missing.idx")
    with pytest.raises(TypeError, match=r"read_idx: parameter 'path' must be a str"):
        nn.read_idx(3)


def write_mnist(directory, split, n, gz=True, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    ext = ".gz" if gz else ""
    make_idx(os.path.join(directory, f"{split}-images-idx3-ubyte{ext}"), images, gz)
    make_idx(os.path.join(directory, f"{split}-labels-idx1-ubyte{ext}"), labels, gz)
    return images, labels


def test_load_mnist_pads_to_32_and_scales(tmp_path):
    images, labels = write_mnist(tmp_path, "t10k", 7)
    x, y = nn.load_mnist(tmp_path)
    assert x.shape == (7, 1, 32, 32) and x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_allclose(x[:, 0, 2:30, 2:30], images / 255.0, rtol=1e-6)
    assert not x[:, :, :2].any() and not x[:, :, :, 30:].any()
    np.testing.assert_array_equal(y, labels)
    x28, _ = nn.load_mnist(tmp_path, size=28, dtype=np.float64)
    np.testing.assert_array_equal(x28[:, 0], images / 255.0)


def test_load_mnist_prefers_train_and_finds_raw_files(tmp_path):
    write_mnist(tmp_path, "t10k", 3, gz=False)
    write_mnist(tmp_path, "train", 5, gz=True, seed=1)
    assert set(nn.idx_splits(tmp_path)) == {"train", "t10k"}
    assert len(nn.load_mnist(tmp_path)[0]) == 5
    assert len(nn.load_mnist(tmp_path, "t10k")[0]) == 3


def test_load_mnist_errors(tmp_path):
    with pytest.raises(ValueError, match=r"load_mnist: parameter 'directory' must be a "
                                         r"directory holding \{train,t10k\}"):
        nn.load_mnist(tmp_path)
    with pytest.raises(ValueError, match=r"parameter 'directory' must be a directory"):
        nn.load_mnist(tmp_path / "nope")
    write_mnist(tmp_path, "t10k", 3)
    with pytest.raises(ValueError, match=r"parameter 'split' must be one of \['t10k'\]"):
        nn.load_mnist(tmp_path, "train")
    with pytest.raises(ValueError, match=r"parameter 'size' must be an int >= the image size"):
        nn.load_mnist(tmp_path, size=20)
    make_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(4, np.uint8), gz=True)
    with pytest.raises(ValueError, match=r"matching IDX files: images \(3, 28, 28\).*\(4,\)"):
        nn.load_mnist(tmp_path)


def test_the_shipped_digits_are_scikit_learns_exactly():
    """fftconv/nn/digits.npz (tools/make_digits.py) holds sklearn's images and targets."""
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    reference = sklearn_datasets.load_digits()
    images, labels = data._read_digits()
    assert images.dtype == np.uint8 and labels.dtype == np.uint8
    np.testing.assert_array_equal(images, reference.images)
    np.testing.assert_array_equal(labels, reference.target)
    x8, y = nn.load_digits(size=8, dtype=np.float64)
    np.testing.assert_array_equal(x8[:, 0], reference.images / 16.0)
    np.testing.assert_array_equal(y, reference.target)
    assert y.dtype == np.int64


def test_the_digits_file_is_package_data():
    import configparser
    import pathlib

    assert os.path.isfile(os.path.join(os.path.dirname(data.__file__), data.DIGITS_FILE))
    cfg = configparser.ConfigParser()
    cfg.read(pathlib.Path(__file__).parents[2] / "setup.cfg")
    assert data.DIGITS_FILE in cfg["options.package_data"]["fftconv.nn"].split()


@pytest.mark.parametrize("arrays, pattern", [
    (dict(images=np.zeros((1797, 8, 8), np.uint8)), r"it lacks 1 array: 'labels'"),
    (dict(images=np.zeros((1797, 8, 8), np.float64), labels=np.zeros(1797, np.uint8)),
     r"'images' is float64 of shape \(1797, 8, 8\), expected uint8 of shape \(1797, 8, 8\)"),
    (dict(images=np.zeros((100, 8, 8), np.uint8), labels=np.zeros(1797, np.uint8)),
     r"'images' is uint8 of shape \(100, 8, 8\)"),
    (dict(images=np.zeros((1797, 8, 8), np.uint8), labels=np.zeros((1797, 1), np.uint8)),
     r"'labels' is uint8 of shape \(1797, 1\), expected uint8 of shape \(1797,\)"),
    (dict(images=np.full((1797, 8, 8), 17, np.uint8), labels=np.zeros(1797, np.uint8)),
     r"'images' has values up to 17, expected 0 to 16"),
])
def test_a_malformed_digits_file_is_named_with_its_problem(tmp_path, arrays, pattern):
    path = tmp_path / "digits.npz"
    np.savez_compressed(path, **arrays)
    with pytest.raises(ValueError, match=r"load_digits: the digits file .*digits.npz is "
                                         r"malformed: " + pattern + r".*tools/make_digits.py"):
        data._read_digits(path)


def test_a_missing_or_unreadable_digits_file_says_how_to_restore_it(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"load_digits: the digits file .*nope.npz "
                                                r"is missing; reinstall fftconv"):
        data._read_digits(tmp_path / "nope.npz")
    (tmp_path / "bad.npz").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ValueError, match=r"is not a readable .npz archive"):
        data._read_digits(tmp_path / "bad.npz")
    np.savez(tmp_path / "objects.npz", images=np.array([None]), labels=np.zeros(3))
    with pytest.raises(ValueError, match=r"is not a readable .npz archive"):
        data._read_digits(tmp_path / "objects.npz")          # pickles are never loaded


def test_load_digits():
    x, y = nn.load_digits()
    assert x.shape == (1797, 1, 32, 32) and x.dtype == np.float32
    assert 0 <= x.min() and x.max() <= 1 and x.max() > 0.9
    assert np.array_equal(np.bincount(y), np.bincount(y, minlength=10)) and y.max() == 9
    x8, _ = nn.load_digits(size=8, dtype=np.float64)
    # Resizing keeps the picture: block means of the 32x32 image track the 8x8 one.
    blocks = x[:, 0].reshape(-1, 8, 4, 8, 4).mean(axis=(2, 4))
    assert np.corrcoef(blocks.ravel(), x8[:, 0].ravel())[0, 1] > 0.95
    with pytest.raises(ValueError, match=r"load_digits: parameter 'size' must be an int >= 8"):
        nn.load_digits(size=4)


def test_train_test_split_properties():
    x, y = np.arange(100).reshape(100, 1), np.arange(100) * 2
    x_tr, x_te, y_tr, y_te = nn.train_test_split(x, y, 0.25, seed=3)
    assert len(x_te) == 25 and len(x_tr) == 75
    assert sorted(np.concatenate([x_tr, x_te]).ravel()) == list(range(100))
    np.testing.assert_array_equal(y_te, x_te.ravel() * 2)               # pairs stay paired
    again = nn.train_test_split(x, y, 0.25, seed=3)
    np.testing.assert_array_equal(again[1], x_te)
    assert not np.array_equal(nn.train_test_split(x, y, 0.25, seed=4)[1], x_te)
    ordered = nn.train_test_split(x, y, 20, shuffle=False)
    np.testing.assert_array_equal(ordered[0].ravel(), np.arange(80))
    np.testing.assert_array_equal(ordered[1].ravel(), np.arange(80, 100))


@pytest.mark.parametrize("kwargs, pattern", [
    (dict(test_size=0), r"parameter 'test_size' must be a fraction or count leaving 1 to 9"),
    (dict(test_size=10), r"leaving 1 to 9 of 10"),
    (dict(test_size=1.5), r"parameter 'test_size' must be a fraction in \(0, 1\)"),
    (dict(test_size=0.01), r"leaving 1 to 9"),
])
def test_train_test_split_errors(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        nn.train_test_split(np.zeros(10), np.zeros(10), **kwargs)
    with pytest.raises(ValueError, match=r"parameter 'y' must be an array of length"):
        nn.train_test_split(np.zeros(10), np.zeros(9))


def test_minibatches_visit_every_example_once():
    x, y = np.arange(23), np.arange(23) + 100
    batches = list(nn.minibatches(x, y, 5, shuffle=True, seed=1))
    assert [len(b) for b, _ in batches] == [5, 5, 5, 5, 3]
    seen = np.concatenate([b for b, _ in batches])
    assert sorted(seen) == list(range(23)) and not np.array_equal(seen, x)
    for xb, yb in batches:
        np.testing.assert_array_equal(yb, xb + 100)
    with pytest.raises(ValueError, match=r"minibatches: parameter 'batch_size' must be a "
                                         r"positive int; got 0"):
        list(nn.minibatches(x, y, 0))
