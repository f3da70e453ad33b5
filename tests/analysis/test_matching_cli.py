"""``fftconv match``: matches printed, the figure written; --bench prints the table."""

import os

import numpy as np
import pytest

from fftconv.cli import main

pytest.importorskip("cv2")
pytest.importorskip("skimage")


def run(capsys, *argv):
    status = main(["match", *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_npy_files_two_matches_and_figure(tmp_path, capsys):
    rng = np.random.default_rng(0)
    image = rng.random((80, 90))
    template = image[10:22, 15:30].copy()
    image[50:62, 60:75] = template                            # a second copy
    np.save(tmp_path / "scene.npy", image)
    np.save(tmp_path / "part.npy", template)
    status, out, _ = run(capsys, str(tmp_path / "scene.npy"), str(tmp_path / "part.npy"),
                         "--threshold", "0.9", "--out", str(tmp_path / "out"))
    assert status == 0
    lines = out.splitlines()
    assert lines[0].endswith("ccoeff_normed: 2 matches")
    rows = [[float(v) for v in line.split()] for line in lines[2:4]]
    assert {(r[0], r[1]) for r in rows} == {(10.0, 15.0), (50.0, 60.0)}
    for r in rows:
        assert (r[2], r[3]) == (r[1], r[0])                    # x = col, y = row
        assert r[4] == pytest.approx(1, abs=1e-6) and r[4] <= 1
    png = tmp_path / "out" / "scene_ccoeff_normed.png"
    assert lines[-1] == f"wrote {png}" and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_png_colour_and_sqdiff(tmp_path, capsys):
    import matplotlib.image

    rng = np.random.default_rng(1)
    image = rng.random((40, 50, 3)).astype(np.float32)
    matplotlib.image.imsave(tmp_path / "scene.png", image)
    scene = matplotlib.image.imread(tmp_path / "scene.png")[..., :3]
    matplotlib.image.imsave(tmp_path / "part.png", scene[5:15, 20:32])
    status, out, _ = run(capsys, str(tmp_path / "scene.png"), str(tmp_path / "part.png"),
                         "--method", "sqdiff", "--max-peaks", "1", "--no-figure")
    assert status == 0
    row = [float(v) for v in out.splitlines()[2].split()]
    assert row[:2] == [5.0, 20.0] and row[4] == pytest.approx(0, abs=1e-6)
    assert not os.path.exists("fftconv-match")


def test_bench_prints_the_side_by_side_table(capsys):
    status, out, _ = run(capsys, "--bench", "--case", "64:8", "--repeats", "1",
                         "--threads", "1")
    assert status == 0
    lines = out.splitlines()                  # the "timing ..." note is on stderr
    assert lines[0].split()[:5] == ["case", "method", "fftconv", "ms", "opencv"]
    assert lines[2].startswith("64x64 / 8x8  ccoeff_normed")
    assert len(lines[2].split()) == 9                       # 3 timings and 2 ratios
    assert "1 thread, median of 1 run after" in out


@pytest.mark.parametrize("argv, message", [
    (["missing.npy", "other.npy"],
     "fftconv match: error: parameter 'IMAGE' must be an existing file; got 'missing.npy'"),
])
def test_errors(capsys, argv, message):
    status, _, err = run(capsys, *argv)
    assert status == 1
    assert message in err and err.count("fftconv match:") == 1


@pytest.mark.parametrize("argv, message", [
    ([], "fftconv match: error: the arguments IMAGE TEMPLATE are required"),
    (["a.npy", "b.npy", "--threshold", "2"],
     "argument --threshold: must be in [-1, 1] for --method ccoeff_normed"),
    (["a.npy", "b.npy", "--method", "sqdiff_normed", "--threshold", "-0.5"],
     "argument --threshold: must be in [0, 2] for --method sqdiff_normed"),
])
def test_usage_errors_after_parsing_exit_2(capsys, argv, message):
    status, _, err = run(capsys, *argv)
    assert status == 2
    assert message in err and err.count("fftconv match:") == 1


@pytest.mark.parametrize("argv, message", [
    (["--bench", "--case", "8:64"], "argument --case: must be IMAGE:TEMPLATE"),
    (["--bench", "--repeats", "0"], "argument --repeats: must be an int >= 1; got '0'"),
    (["--max-peaks", "0"], "argument --max-peaks: must be an int >= 1; got '0'"),
])
def test_option_errors_exit_2_naming_the_option(capsys, argv, message):
    with pytest.raises(SystemExit) as exc:
        run(capsys, *argv)
    err = capsys.readouterr().err
    assert exc.value.code == 2 and message in err and "parameter 'text'" not in err


def test_swapped_image_and_template_are_named(tmp_path, capsys):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "scene.npy", rng.random((40, 50)))
    np.save(tmp_path / "part.npy", rng.random((8, 9)))
    status, _, err = run(capsys, str(tmp_path / "part.npy"), str(tmp_path / "scene.npy"),
                         "--no-figure")
    assert status == 2
    assert "TEMPLATE 40x50 is larger than IMAGE 8x9: the arguments look swapped" in err
