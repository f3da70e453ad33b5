"""The `fftconv spectrum` and `fftconv diffuse` commands, run headless."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from fftconv.cli import main

PNG = b"\x89PNG\r\n\x1a\n"


def _assert_png(path, min_bytes=10_000):
    data = path.read_bytes()
    assert data[:8] == PNG and len(data) > min_bytes, path


def test_spectrum_and_diffuse_run_headless_as_a_subprocess(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["MPLBACKEND"] = "Agg"
    for command, files in (("spectrum", ["filters.png", "orientation_rose.png",
                                         "radial_profiles.png", "descriptors.json"]),
                           ("diffuse", ["diffusion.png", "stochastic.png",
                                        "propagators.json"])):
        out = tmp_path / command
        result = subprocess.run([sys.executable, "-m", "fftconv", command, "sobel",
                                 "gabor:theta=30", "--out", str(out)], env=env,
                                capture_output=True, text=True, check=True)
        assert sorted(p.name for p in out.iterdir()) == sorted(files)
        for name in files:
            if name.endswith(".png"):
                _assert_png(out / name)
        assert f"wrote {out / files[0]}" in result.stdout


def test_spectrum_of_named_kernels_writes_their_descriptors(tmp_path, capsys):
    assert main(["spectrum", "--out", str(tmp_path)]) == 0
    table = json.loads((tmp_path / "descriptors.json").read_text())
    by_label = {row["label"]: row for row in table["filters"]}
    assert list(by_label) == ["sobel", "laplacian", "gaussian", "gabor", "box", "sharpen"]
    assert by_label["gaussian"]["pass_type"] == "lowpass"
    assert by_label["sobel"]["dominant_orientation"] == 0.0
    assert by_label["box"]["dominant_orientation"] is None            # isotropic: NaN -> null
    assert by_label["sharpen"]["dc_gain"] == pytest.approx(1.0)
    out = capsys.readouterr().out
    assert "gabor" in out and "bandpass" in out


def test_spectrum_of_a_checkpoint_layer(lenet_checkpoint, tmp_path, capsys):
    path, params = lenet_checkpoint
    status = main(["spectrum", str(path), "--layer", "c3", "--out", str(tmp_path),
                   "--size", "32", "--max-filters", "4"])
    assert status == 0
    table = json.loads((tmp_path / "descriptors.json").read_text())
    assert len(table["filters"]) == 96 and table["layer"] == "c3"
    assert table["filters"][7]["label"] == "c3.weight[1, 1]"
    assert table["filters"][7]["dc_gain"] == pytest.approx(params["c3.weight"][1, 1].sum())
    assert "figures show the first 4 of 96 filters" in capsys.readouterr().out
    _assert_png(tmp_path / "filters.png")


def test_first_layer_is_the_default_and_its_sobel_is_found(lenet_checkpoint, tmp_path):
    assert main(["spectrum", str(lenet_checkpoint[0]), "--out", str(tmp_path)]) == 0
    rows = json.loads((tmp_path / "descriptors.json").read_text())["filters"]
    assert len(rows) == 6
    assert rows[0]["label"] == "c1.weight[0, 0]"
    assert rows[0]["pass_type"] == "bandpass" and rows[0]["dominant_orientation"] == 0.0


def test_diffuse_of_a_checkpoint_reports_propagators(lenet_checkpoint, tmp_path):
    path, params = lenet_checkpoint
    image = np.random.default_rng(0).random((24, 20))
    np.save(tmp_path / "img.npy", image)
    status = main(["diffuse", str(path), "--out", str(tmp_path / "out"), "--image",
                   str(tmp_path / "img.npy"), "--steps", "0,2,5", "--samples", "1,10",
                   "--temperature", "0.5", "--max-filters", "2"])
    assert status == 0
    rows = json.loads((tmp_path / "out" / "propagators.json").read_text())["filters"]
    assert len(rows) == 6
    for row, w in zip(rows, params["c1.weight"][:, 0]):
        p = np.array(row["propagator"])
        assert p.sum() == pytest.approx(1.0)
        e = np.exp((w - w.max()) / 0.5)
        np.testing.assert_allclose(p, e / e.sum())
    # The Sobel filter (a cross-correlation) pulls from the right: values move left.
    assert rows[0]["drift_xy"][0] < -0.5
    _assert_png(tmp_path / "out" / "diffusion.png")


@pytest.mark.parametrize("argv, message", [
    (["spectrum", "missing.npz"], "argument CHECKPOINT|KERNEL-NAME: must be an existing "
                                  "checkpoint file"),
    (["spectrum", "prewitt"], "argument CHECKPOINT|KERNEL-NAME: must be a checkpoint .npz "
                              "path or a kernel name"),
    (["diffuse", "gabor:angle=3"], "argument CHECKPOINT|KERNEL-NAME: must be 'gabor' with "
                                   "parameters among"),
    (["spectrum", "box", "--size", "2"], "argument --size: must be an int"),
    (["diffuse", "box", "--image", "nothing.png"], "argument --image: must be an "
                                                   "existing file"),
])
def test_command_errors_exit_1_with_the_message(argv, message, tmp_path, capsys):
    assert main(argv + ["--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert message in err and "parameter '" not in err


def test_unknown_layer_is_reported(lenet_checkpoint, tmp_path, capsys):
    assert main(["diffuse", str(lenet_checkpoint[0]), "--layer", "c9",
                 "--out", str(tmp_path)]) == 1
    assert "must be one of the 4-d parameters 'c1.weight', 'c3.weight', 'c5.weight'" in \
        capsys.readouterr().err


def test_bad_steps_is_an_argparse_error(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["diffuse", "box", "--steps", "1,x", "--out", str(tmp_path)])
    assert "argument --steps: must be comma-separated ints >= 0; got '1,x'" in \
        capsys.readouterr().err


def test_max_filters_must_be_positive(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["spectrum", "box", "--max-filters", "0", "--out", str(tmp_path)])
    assert "argument --max-filters: must be an int >= 1; got '0'" in capsys.readouterr().err

def test_diffuse_default_temperature_is_auto_and_scale_free(tmp_path):
    """Without --temperature each kernel's T is half its standard deviation, so a layer of
    small weights and the same layer scaled up give the same propagators."""
    from analysis.diffusion import auto_temperature

    from .conftest import write_checkpoint

    rng = np.random.default_rng(3)
    small = 0.2 * rng.standard_normal((2, 1, 5, 5))
    for name, w in (("small", small), ("large", 40 * small)):
        write_checkpoint(tmp_path / f"{name}.npz", {"c1.weight": w})
        assert main(["diffuse", str(tmp_path / f"{name}.npz"), "--out", str(tmp_path / name),
                     "--steps", "0,1", "--samples", "1,10", "--image-size", "16"]) == 0
    runs = [json.loads((tmp_path / name / "propagators.json").read_text())
            for name in ("small", "large")]
    assert runs[0]["temperature"] == "auto"
    for a, b, w in zip(runs[0]["filters"], runs[1]["filters"], small[:, 0]):
        np.testing.assert_allclose(a["propagator"], b["propagator"], rtol=1e-9)
        assert a["temperature"] == pytest.approx(auto_temperature(w))
        assert np.max(a["propagator"]) >= 3 / 25


@pytest.mark.parametrize("value", ["0", "-0.5", "hot", "inf"])
def test_diffuse_temperature_must_be_positive_or_auto(value, tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["diffuse", "box", "--temperature", value, "--out", str(tmp_path)])
    assert (f"argument --temperature: expected 'auto' or a finite number > 0; got {value!r}"
            in capsys.readouterr().err)
