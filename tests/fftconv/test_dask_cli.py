"""``fftconv filter`` and ``fftconv match --zarr-out``: zarr or .npy in, zarr out."""

from importlib.metadata import EntryPoint

import numpy as np
import pytest

import fftconv
from fftconv.cli import GROUP, build_parser
from fftconv.testing import assert_conv_close

da = pytest.importorskip("dask.array")
pytest.importorskip("zarr")


def _run(argv):
    commands = [EntryPoint(name="filter", value="fftconv.commands.filter:register", group=GROUP),
                EntryPoint(name="match", value="analysis.commands.match:register", group=GROUP)]
    args = build_parser(commands).parse_args(argv)
    return args.func(args)


def test_filter_npy_and_zarr_in_zarr_out(tmp_path, capsys):
    rng = np.random.default_rng(0)
    image, kernel = rng.random((70, 50)).astype(np.float32), rng.random((9, 7))
    np.save(tmp_path / "image.npy", image)
    np.save(tmp_path / "kernel.npy", kernel)
    out = tmp_path / "out.zarr"
    assert _run(["filter", str(tmp_path / "image.npy"), str(tmp_path / "kernel.npy"), str(out),
                 "--chunks", "16", "--correlate", "--no-progress"]) == 0
    got = da.from_zarr(str(out)).compute()
    assert_conv_close(got, fftconv.correlate(image, kernel, mode="same"))
    assert "wrote" in capsys.readouterr().out
    again = tmp_path / "again.zarr"                     # a zarr image in
    assert _run(["filter", str(out), str(tmp_path / "kernel.npy"), str(again), "--mode", "valid",
                 "--no-progress"]) == 0
    assert_conv_close(da.from_zarr(str(again)).compute(),
                      fftconv.convolve(got, kernel, mode="valid"))
    with pytest.raises(ValueError, match="fftconv filter.*OUT"):
        _run(["filter", str(tmp_path / "image.npy"), str(tmp_path / "kernel.npy"), str(out)])
    (tmp_path / "image.txt").write_text("not an array")
    with pytest.raises(ValueError, match="fftconv filter: IMAGE.*zarr"):
        _run(["filter", str(tmp_path / "image.txt"), str(tmp_path / "kernel.npy"),
              str(tmp_path / "x.zarr")])
    with pytest.raises(FileNotFoundError, match="fftconv filter: IMAGE"):
        _run(["filter", str(tmp_path / "none.npy"), str(tmp_path / "kernel.npy"),
              str(tmp_path / "y.zarr")])


def test_match_to_zarr(tmp_path, capsys):
    from analysis.matching import match_template
    rng = np.random.default_rng(1)
    image = rng.random((90, 80)).astype(np.float32)
    np.save(tmp_path / "scene.npy", image)
    np.save(tmp_path / "template.npy", image[50:62, 20:35])
    out = tmp_path / "scores.zarr"
    assert _run(["match", str(tmp_path / "scene.npy"), str(tmp_path / "template.npy"),
                 "--zarr-out", str(out), "--chunks", "32", "--no-progress"]) == 0
    np.testing.assert_allclose(da.from_zarr(str(out)).compute(),
                               match_template(image, image[50:62, 20:35]), rtol=0, atol=1e-4)
    text = capsys.readouterr().out
    assert "1 match" in text
    row = text.splitlines()[text.splitlines().index(next(l for l in text.splitlines()
                                                         if l.strip().startswith("row"))) + 1]
    assert [round(float(v)) for v in row.split()[:2]] == [50, 20]
