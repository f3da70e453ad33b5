"""Shared helpers for the analysis tests: a checkpoint written in the trainer's format."""

import json
import os

import numpy as np
import pytest

LENET_SHAPES = {"c1.weight": (6, 1, 5, 5), "c1.bias": (6,), "s2.weight": (6,), "s2.bias": (6,),
                "c3.weight": (16, 6, 5, 5), "c3.bias": (16,), "c5.weight": (120, 16, 5, 5),
                "c5.bias": (120,), "f6.weight": (84, 120), "f6.bias": (84,)}


def checkpoint_metadata(**overrides):
    meta = {"format": "fftconv-checkpoint", "version": 1,
            "architecture": {"name": "lenet5", "kwargs": {}}, "seed": 0, "epoch": 3}
    meta.update(overrides)
    return meta


def write_checkpoint(path, params, metadata=None):
    """Write ``params`` the way the trainer does: np.savez to a temp file, then os.replace."""
    arrays = dict(params)
    if metadata is not False:
        arrays["__metadata__"] = np.array(json.dumps(metadata or checkpoint_metadata()))
    tmp = f"{path}.tmp.npz"
    np.savez(tmp, **arrays)
    os.replace(tmp, path)
    return path


@pytest.fixture
def lenet_checkpoint(tmp_path):
    """A LeNet-5-shaped checkpoint with seeded random parameters; c1's filter 0 is a Sobel."""
    rng = np.random.default_rng(6)
    params = {name: rng.standard_normal(shape) * 0.3 for name, shape in LENET_SHAPES.items()}
    params["c1.weight"][0, 0] = np.pad(np.outer([1.0, 2.0, 1.0], [-1.0, 0.0, 1.0]), 1)
    return write_checkpoint(tmp_path / "lenet5.npz", params), params
