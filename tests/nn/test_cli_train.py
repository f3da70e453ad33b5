"""``fftconv train`` end to end on a tiny IDX data set the test writes."""

import json
import re
import sys

import numpy as np
import pytest

from fftconv import nn
from fftconv.cli import main

from .test_data import write_mnist


@pytest.fixture
def idx_dir(tmp_path):
    directory = tmp_path / "data"
    directory.mkdir()
    write_mnist(directory, "t10k", 48)
    return directory


def test_train_writes_checkpoint_history_and_figures(idx_dir, tmp_path, capsys):
    out = tmp_path / "run"
    status = main(["train", "--data", str(idx_dir), "--epochs", "2", "--batch-size", "16",
                   "--test-size", "12", "--ordered-split", "--backend", "im2col",
                   "--partial-connections", "--out", str(out)])
    captured = capsys.readouterr()
    text = captured.out
    assert status == 0
    assert "36 train / 12 test images" in text and "the last 12" in text
    assert "test accuracy" in text and "s per epoch" in text
    # progress, one line per epoch, goes to standard error (not a terminal here)
    lines = [l for l in captured.err.splitlines() if l.startswith("epoch ")]
    assert [l.split(":")[0] for l in lines] == ["epoch 1/2", "epoch 2/2"]
    model, meta = nn.load_checkpoint(out / "model.npz")
    assert meta["epoch"] == 2 and meta["seed"] == 0 and meta["backend"] == "im2col"
    assert meta["architecture"]["kwargs"]["partial_connections"] is True
    history = json.loads((out / "history.json").read_text())
    assert len(history["history"]["loss"]) == 2
    assert history["test_accuracy"] == meta["test_accuracy"]
    for png in ("training_curves.png", "filters.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in out.iterdir()) == [
        "filters.png", "history.json", "model.npz", "training_curves.png"]


def test_train_is_reproducible(idx_dir, tmp_path, capsys):
    args = ["train", "--data", str(idx_dir), "--epochs", "1", "--test-size", "0.25",
            "--model", "lenet5_modern", "--optimizer", "sgd", "--dtype", "float64"]
    for name in ("a", "b"):
        assert main(args + ["--out", str(tmp_path / name)]) == 0
    a, _ = nn.read_checkpoint(tmp_path / "a" / "model.npz")
    b, _ = nn.read_checkpoint(tmp_path / "b" / "model.npz")
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])


@pytest.mark.parametrize("args, pattern", [
    (["--data", "/no/such/dir"], r"^fftconv train: error: argument --data: must be a directory "
                                 r"holding IDX files .*; got '/no/such/dir'$"),
])
def test_train_errors(args, pattern, capsys):
    assert main(["train", *args]) == 1
    assert re.search(pattern, capsys.readouterr().err)


@pytest.mark.parametrize("args, pattern", [
    (["--backend", "cudnn"], r"argument --backend: must be one of 'auto'"),
    (["--epochs", "0"], r"argument --epochs: must be an int >= 1; got '0'"),
    (["--epochs", "-1"], r"argument --epochs: must be an int >= 1; got '-1'"),
    (["--lr", "0"], r"argument --lr: must be a number > 0; got '0'"),
    (["--momentum", "1"], r"argument --momentum: must be a number in \[0, 1\); got '1'"),
    (["--test-size", "1.5"], r"argument --test-size: must be a fraction in \(0, 1\)"),
])
def test_train_option_errors_are_usage_errors_printed_once(args, pattern, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["train", *args])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and re.search(pattern, err)
    assert err.count("fftconv train:") == 1


def test_compare_torch_without_torch_is_a_clear_error(idx_dir, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)          # import torch -> ImportError
    assert main(["train", "--data", str(idx_dir), "--compare-torch"]) == 1
    assert ("compare_epoch_times needs torch, which is not installed; install it with "
            "pip install 'fftconv[bench]'") in capsys.readouterr().err


def test_compare_torch_prints_every_backend_and_torch(idx_dir, capsys):
    pytest.importorskip("torch")
    assert main(["train", "--data", str(idx_dir), "--compare-torch", "--compare-epochs", "1",
                 "--batch-size", "16"]) == 0
    lines = capsys.readouterr().out.splitlines()
    table = lines[lines.index(next(l for l in lines if l.startswith("entry"))):]
    names = [line.split()[0] for line in table[1:-1]]
    assert names == [*nn.compare.available_backends(), "torch"]
    assert "batch size 16, 2 threads" in table[-1]
