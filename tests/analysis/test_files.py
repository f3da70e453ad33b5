"""Checkpoint reading (the trainer's format), image reading, atomic writing."""

import json
import os
import stat

import numpy as np
import pytest

from analysis import files
from analysis.kernels import named_kernel

from .conftest import checkpoint_metadata, write_checkpoint


def test_load_checkpoint_reads_parameters_in_model_order(lenet_checkpoint):
    path, params = lenet_checkpoint
    ck = files.load_checkpoint(path)
    assert list(ck.params) == list(params)
    assert ck.conv_layers == ["c1.weight", "c3.weight", "c5.weight"]
    assert ck.metadata["architecture"]["name"] == "lenet5"
    np.testing.assert_array_equal(ck.conv_weight(), params["c1.weight"])
    np.testing.assert_array_equal(ck.conv_weight("c3"), params["c3.weight"])
    np.testing.assert_array_equal(ck.conv_weight("c3.weight"), params["c3.weight"])
    assert ck.layer_key() == "c1.weight"
    assert files.load_checkpoint(str(path)).path == path


def test_load_kernels_mixes_checkpoints_and_names(lenet_checkpoint):
    path, params = lenet_checkpoint
    pairs = files.load_kernels([str(path), "box:size=3"])
    assert len(pairs) == 6 + 1
    assert pairs[0][0] == "c1.weight[0, 0]" and pairs[5][0] == "c1.weight[5, 0]"
    np.testing.assert_array_equal(pairs[3][1], params["c1.weight"][3, 0])
    assert pairs[-1][0] == "box:size=3"
    np.testing.assert_array_equal(pairs[-1][1], named_kernel("box"))
    c3 = files.load_kernels([str(path)], layer="c3")
    assert len(c3) == 16 * 6 and c3[7][0] == "c3.weight[1, 1]"


INVALID = r"read_checkpoint: parameter 'path' must be an fftconv checkpoint \(\.npz with JSON " \
          r"metadata\): "


@pytest.mark.parametrize("metadata, pattern", [
    (False, r"no 0-d unicode '__metadata__' entry"),
    (checkpoint_metadata(format="keras"), r"metadata 'format' is not 'fftconv-checkpoint'"),
    (checkpoint_metadata(version=2), r"unsupported version 2 \(this fftconv reads version 1\)"),
])
def test_load_checkpoint_rejects_other_formats(tmp_path, metadata, pattern):
    path = write_checkpoint(tmp_path / "bad.npz", {"w": np.ones((1, 1, 3, 3))}, metadata)
    with pytest.raises(ValueError, match=INVALID + pattern):
        files.load_checkpoint(path)


def test_load_checkpoint_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"load_checkpoint: parameter 'path' must be an "
                                                r"existing checkpoint file; got '.*nope\.npz' "
                                                r"\(no such file\)"):
        files.load_checkpoint(tmp_path / "nope.npz")
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(b"PK\x03\x04 this is not a zip archive")
    single = tmp_path / "single.npz"
    with open(single, "wb") as fh:
        np.save(fh, np.ones(3))
    for path in (corrupt, single):
        with pytest.raises(ValueError, match=r"load_checkpoint: parameter 'path' must be an "
                                             r"\.npz checkpoint \(a zip archive\); this file "
                                             r"is not one; got '.*\.npz'"):
            files.load_checkpoint(path)
    truncated = tmp_path / "truncated.npz"
    write_checkpoint(tmp_path / "whole.npz", {"w": np.ones((50, 50))})
    data = (tmp_path / "whole.npz").read_bytes()
    truncated.write_bytes(data[:40] + data[-200:])   # the directory survives, the data not
    with pytest.raises(ValueError, match=INVALID + r"unreadable content"):
        files.load_checkpoint(truncated)
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, w=np.array([{"a": 1}], dtype=object),
             __metadata__=np.array(json.dumps(checkpoint_metadata())))
    with pytest.raises(ValueError, match=INVALID + r"unreadable content.*allow_pickle"):
        files.load_checkpoint(pickled)
    text = write_checkpoint(tmp_path / "text.npz", {"w": np.array(["a", "b"])})
    with pytest.raises(ValueError, match=r"load_checkpoint: parameter 'path' must be a "
                                         r"checkpoint of numeric parameters; 'w' has dtype <U1"):
        files.load_checkpoint(text)
    bad_json = tmp_path / "json.npz"
    np.savez(bad_json, w=np.ones(2), __metadata__=np.array("{not json"))
    with pytest.raises(ValueError, match=INVALID + r"metadata is not valid JSON"):
        files.load_checkpoint(bad_json)
    with pytest.raises(TypeError, match=r"load_checkpoint: parameter 'path' must be a str or "
                                        r"os.PathLike path; got 3"):
        files.load_checkpoint(3)


def test_unknown_layer_lists_the_conv_layers(lenet_checkpoint):
    ck = files.load_checkpoint(lenet_checkpoint[0])
    with pytest.raises(ValueError, match=r"conv_weight: parameter 'layer' must be one of the "
                                         r"4-d parameters 'c1.weight', 'c3.weight', "
                                         r"'c5.weight' \(or a layer name such as 'c1'\); "
                                         r"got 'f6'"):
        ck.conv_weight("f6")
    with pytest.raises(TypeError, match=r"parameter 'layer' must be a str naming a conv layer"):
        ck.conv_weight(1)


def test_checkpoint_without_conv_layers(tmp_path):
    path = write_checkpoint(tmp_path / "mlp.npz", {"f.weight": np.ones((3, 2))})
    ck = files.load_checkpoint(path)
    with pytest.raises(ValueError, match=r"the name of a 4-d parameter, but .*mlp.npz has none"):
        ck.conv_weight()


def test_load_kernels_errors(tmp_path):
    with pytest.raises(ValueError, match=r"load_kernels: parameter 'sources' must be a "
                                         r"checkpoint \.npz path or a kernel name among sobel"):
        files.load_kernels(["prewitt"])
    with pytest.raises(FileNotFoundError, match=r"missing\.npz"):
        files.load_kernels([str(tmp_path / "missing.npz")])
    with pytest.raises(TypeError, match=r"parameter 'sources' must be a sequence of str"):
        files.load_kernels("sobel")


def test_load_image_npy_and_png(tmp_path):
    import matplotlib.image

    image = np.random.default_rng(0).random((12, 10))
    np.save(tmp_path / "img.npy", image)
    np.testing.assert_array_equal(files.load_image(tmp_path / "img.npy"), image)
    rgb = np.stack([image, image, image], axis=-1)
    matplotlib.image.imsave(tmp_path / "img.png", rgb)
    grey = files.load_image(tmp_path / "img.png")
    assert grey.shape == (12, 10)
    np.testing.assert_allclose(grey, image, atol=1 / 255)
    np.save(tmp_path / "cube.npy", np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match=r"load_image: parameter 'path' must be a 2-d numeric "
                                         r"image; it holds 3-d float64 data"):
        files.load_image(tmp_path / "cube.npy")
    with pytest.raises(ValueError, match=r"must be a \.npy or \.png file; got '.*img\.jpg'"):
        (tmp_path / "img.jpg").write_bytes(b"x")
        files.load_image(tmp_path / "img.jpg")
    with pytest.raises(FileNotFoundError, match=r"load_image: parameter 'path' must be an "
                                                r"existing file"):
        files.load_image(tmp_path / "none.png")
    (tmp_path / "broken.png").write_bytes(b"not a png")
    with pytest.raises(ValueError,
                       match=r"must be a readable \.png file \(SyntaxError: not a PNG file\)"):
        files.load_image(tmp_path / "broken.png")


def test_write_atomic_leaves_no_partial_files(tmp_path):
    target = tmp_path / "out.json"
    files.write_json({"a": np.float64(np.nan), "b": np.arange(3), "c": (1.5, np.int64(2))},
                     target)
    assert json.loads(target.read_text()) == {"a": None, "b": [0, 1, 2], "c": [1.5, 2]}
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o666 & ~umask    # not mkstemp's 0600

    def boom(fh):
        fh.write(b"half")
        raise RuntimeError("disk full")
    with pytest.raises(RuntimeError, match="disk full"):
        files.write_atomic(target, boom)
    assert json.loads(target.read_text())["b"] == [0, 1, 2]       # old content intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_save_figure_writes_a_png(tmp_path):
    from matplotlib.figure import Figure

    fig = Figure()
    fig.subplots().plot([0, 1], [1, 0])
    path = files.save_figure(fig, tmp_path / "line.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["line.png"]


def test_reads_the_checkpoints_the_trainer_writes(tmp_path):
    from fftconv import nn

    model = nn.lenet5(seed=3)
    nn.save_checkpoint(tmp_path / "model.npz", model, seed=3, epoch=0)
    ck = files.load_checkpoint(tmp_path / "model.npz")
    state = model.state_dict()
    assert list(ck.params) == list(state)
    assert ck.metadata["seed"] == 3 and ck.metadata["architecture"]["name"] == "lenet5"
    np.testing.assert_array_equal(ck.conv_weight(), state["c1.weight"])
    assert ck.conv_weight().shape == (6, 1, 5, 5)
