"""``fftconv filter`` and ``fftconv match --zarr``: zarr or .npy in, zarr out; the
dask benchmarks' command lines (``bench --dask``, ``match --bench-dask``) and report."""

from importlib.metadata import EntryPoint

import numpy as np
import pytest

import fftconv
from fftconv.cli import GROUP, build_parser
from fftconv.commands.options import UsageError
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
    assert _run(["filter", str(tmp_path / "image.npy"), str(tmp_path / "kernel.npy"),
                 "--out", str(out), "--chunks", "16", "--correlate", "--verbose", "0"]) == 0
    got = da.from_zarr(str(out)).compute()
    assert_conv_close(got, fftconv.correlate(image, kernel, mode="same"))
    captured = capsys.readouterr()
    assert f"wrote {out}" in captured.out and captured.err == ""      # --verbose 0: no bar
    again = tmp_path / "again.zarr"                     # a zarr image in
    assert _run(["filter", str(out), str(tmp_path / "kernel.npy"), "--out", str(again),
                 "--mode", "valid", "-v", "0"]) == 0
    assert_conv_close(da.from_zarr(str(again)).compute(),
                      fftconv.convolve(got, kernel, mode="valid"))
    with pytest.raises(UsageError, match=r"argument --out: '.*out\.zarr' exists; give a path "
                                         "that does not exist yet"):
        _run(["filter", str(tmp_path / "image.npy"), str(tmp_path / "kernel.npy"),
              "--out", str(out)])
    (tmp_path / "image.txt").write_text("not an array")
    with pytest.raises(ValueError, match="fftconv filter: IMAGE.*zarr"):
        _run(["filter", str(tmp_path / "image.txt"), str(tmp_path / "kernel.npy"),
              "--out", str(tmp_path / "x.zarr")])
    with pytest.raises(FileNotFoundError, match="fftconv filter: IMAGE"):
        _run(["filter", str(tmp_path / "none.npy"), str(tmp_path / "kernel.npy"),
              "--out", str(tmp_path / "y.zarr")])


def test_filter_writes_to_its_default_out_and_shows_progress_at_verbose_1(
        tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    np.save("image.npy", np.ones((20, 20), np.float32))
    np.save("kernel.npy", np.ones((3, 3)))
    assert _run(["filter", "image.npy", "kernel.npy"]) == 0
    np.testing.assert_allclose(da.from_zarr("fftconv-filter.zarr").compute()[5:15, 5:15], 9)
    assert "100%" in capsys.readouterr().err                # dask's progress bar
    with pytest.raises(UsageError, match="argument --out: 'fftconv-filter.zarr' exists"):
        _run(["filter", "image.npy", "kernel.npy"])


def test_filter_old_spellings_still_work_with_a_note(tmp_path, capsys):
    np.save(tmp_path / "image.npy", np.ones((12, 12), np.float32))
    np.save(tmp_path / "kernel.npy", np.ones((3, 3)))
    out = tmp_path / "old.zarr"
    assert _run(["filter", str(tmp_path / "image.npy"), str(tmp_path / "kernel.npy"), str(out),
                 "--no-progress"]) == 0
    assert da.from_zarr(str(out)).shape == (12, 12)
    err = capsys.readouterr().err
    assert err == ("fftconv filter: note: the positional OUT is deprecated and will be "
                   "removed; use --out OUT\n")              # and --no-progress: no bar
    with pytest.raises(UsageError, match="OUT .* and --out .* both given; give --out only"):
        _run(["filter", str(tmp_path / "image.npy"), str(tmp_path / "kernel.npy"),
              str(tmp_path / "a.zarr"), "--out", str(tmp_path / "b.zarr")])


def _scene(tmp_path):
    rng = np.random.default_rng(1)
    image = rng.random((90, 80)).astype(np.float32)
    np.save(tmp_path / "scene.npy", image)
    np.save(tmp_path / "template.npy", image[50:62, 20:35])
    return image, [str(tmp_path / "scene.npy"), str(tmp_path / "template.npy")]


def _first_match(text):
    lines = text.splitlines()
    row = lines[lines.index(next(l for l in lines if l.strip().startswith("row"))) + 1]
    return [round(float(v)) for v in row.split()[:2]]


def test_match_zarr_writes_scores_under_out(tmp_path, capsys):
    from analysis.matching import match_template
    image, files = _scene(tmp_path)
    out = tmp_path / "results"
    assert _run(["match", *files, "--zarr", "--out", str(out), "--chunks", "32",
                 "--verbose", "0"]) == 0
    np.testing.assert_allclose(da.from_zarr(str(out / "scores.zarr")).compute(),
                               match_template(image, image[50:62, 20:35]), rtol=0, atol=1e-4)
    captured = capsys.readouterr()
    assert "1 match" in captured.out and f"wrote {out / 'scores.zarr'}" in captured.out
    assert _first_match(captured.out) == [50, 20]
    assert captured.err == ""                                 # no note, no bar
    assert sorted(p.name for p in out.iterdir()) == ["scores.zarr"]      # no figure
    with pytest.raises(UsageError, match=r"argument --out: '.*scores\.zarr' exists; give "
                                         "--out a directory without a scores.zarr"):
        _run(["match", *files, "--zarr", "--out", str(out)])


def test_match_zarr_default_out_refused_when_taken_names_zarr(tmp_path, monkeypatch, capsys):
    _, files = _scene(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert _run(["match", *files, "--zarr", "-v", "0"]) == 0
    assert da.from_zarr("fftconv-match/scores.zarr").shape == (79, 66)
    with pytest.raises(UsageError, match="argument --zarr: 'fftconv-match/scores.zarr' exists"):
        _run(["match", *files, "--zarr"])


def test_match_zarr_out_the_old_spelling_still_works_with_a_note(tmp_path, capsys):
    from analysis.matching import match_template
    image, files = _scene(tmp_path)
    out = tmp_path / "scores.zarr"
    assert _run(["match", *files, "--zarr-out", str(out), "--chunks", "32",
                 "--verbose", "0"]) == 0
    np.testing.assert_allclose(da.from_zarr(str(out)).compute(),
                               match_template(image, image[50:62, 20:35]), rtol=0, atol=1e-4)
    captured = capsys.readouterr()
    assert _first_match(captured.out) == [50, 20]
    assert captured.err == ("fftconv match: note: --zarr-out PATH is deprecated and will be "
                            "removed; use --zarr --out DIR (the scores go to "
                            "DIR/scores.zarr)\n")
    with pytest.raises(UsageError, match=r"argument --zarr-out: '.*scores\.zarr' exists"):
        _run(["match", *files, "--zarr-out", str(out)])
    with pytest.raises(UsageError, match="--zarr-out .* and --zarr both given; give --zarr "
                                         "--out DIR only"):
        _run(["match", *files, "--zarr-out", str(tmp_path / "new.zarr"), "--zarr"])
    with pytest.raises(UsageError, match="--zarr-out .* and --out .* both given"):
        _run(["match", *files, "--zarr-out", str(tmp_path / "new.zarr"), "--out", "x"])


def test_match_help_shows_zarr_not_the_old_spelling():
    text = build_parser([EntryPoint(name="match", value="analysis.commands.match:register",
                                    group=GROUP)])._subparsers._group_actions[0] \
        .choices["match"].format_help()
    assert "--zarr " in text and "--out/scores.zarr" in text and "--zarr-out" not in text


def _large_run(workers):
    from fftconv.dask_bench import LargeRun
    return LargeRun("convolve 31x31", workers, 2 << 30, 12.34,
                    {f"tcp://w{n}": (300 + n) * 2**20 for n in range(workers)})


def _report():
    return {"machine": {"cores": 2, "load_before": (1.5, 0, 0), "load_after": (2.25, 0, 0)},
            "large": [_large_run(2), _large_run(1)],
            "peers": [{"kernel": (15, 15), "seconds": {"fftconv": 2.0, "dask_image": 5.0},
                       "ratio": 2.5, "max_relative_difference": 1.5e-6}],
            "overhead": {"side": 4096, "chunks": 4, "kernel": 31, "repeats": 1, "ratio": 1.25,
                         "medians": {"in_memory": 0.5, "dask": 0.625}}}


def test_format_dask_bench_uses_binary_units_and_plurals():
    from fftconv.dask_bench import format_dask_bench
    assert format_dask_bench(_report()).splitlines() == [
        "machine: 2 cores, load average before 1.5, after 2.2 (shared: timings are noisy)",
        "convolve 31x31: 2 workers, limit 2.0 GiB in total: 12.3 s; peak RSS per worker: "
        "300.0 MiB, 301.0 MiB",
        "convolve 31x31: 1 worker, limit 2.0 GiB in total: 12.3 s; peak RSS per worker: "
        "300.0 MiB",
        "vs dask_image 15x15: fftconv 2.0 s, dask_image 5.0 s, ratio 2.5x, max relative "
        "difference 1.5e-06",
        "overhead 4096² in 4 chunks, 31x31: in-memory 0.500 s, dask 0.625 s, ratio 1.25 "
        "(median of 1 run)"]


def _bench_parser():
    commands = [EntryPoint(name="bench", value="fftconv.commands.bench:register", group=GROUP),
                EntryPoint(name="match", value="analysis.commands.match:register", group=GROUP)]
    return build_parser(commands)


def test_bench_dask_is_a_flag_writing_under_out(tmp_path, monkeypatch, capsys):
    from fftconv import dask_bench
    seen = []

    def fake(workdir, *, side, peer_side, log):
        seen.append((workdir, side, peer_side))
        log("a progress line")
        return _report()

    monkeypatch.setattr(dask_bench, "run_dask_bench", fake)
    out = tmp_path / "results"
    args = _bench_parser().parse_args(["bench", "--dask", "--dask-side", "256", "--out",
                                       str(out)])
    assert args.func(args) == 0
    assert seen == [(str(out / "dask"), 256, None)]
    captured = capsys.readouterr()
    assert captured.err == "a progress line\n"                 # progress on stderr
    assert (out / "dask.txt").read_text() == format_report()
    assert captured.out == format_report() + f"wrote {out / 'dask.txt'}\n"
    old = tmp_path / "old"                                      # the former --dask DIR
    old.mkdir()
    args = _bench_parser().parse_args(["bench", "--dask", str(old), "--verbose", "0"])
    assert args.func(args) == 0
    assert seen[-1][0] == str(old) and (old / "dask.txt").exists()
    assert capsys.readouterr().err == (
        "fftconv bench: note: --dask DIR is deprecated and will be removed; use --dask "
        "--out DIR (the files go to DIR/dask)\n")


def format_report():
    from fftconv.dask_bench import format_dask_bench
    return format_dask_bench(_report()) + "\n"


def test_match_bench_dask_is_a_flag_writing_under_out(tmp_path, monkeypatch, capsys):
    from fftconv import dask_bench
    calls = []

    def fake_time_large(op, src, dst, *, label):
        calls.append((src, dst))
        return _large_run(2)

    monkeypatch.setattr(dask_bench, "time_large", fake_time_large)
    out = tmp_path / "m"
    args = _bench_parser().parse_args(["match", "--bench-dask", "--dask-side", "64",
                                       "--out", str(out)])
    assert args.func(args) == 0
    assert calls == [(str(out / "bench-dask" / "image-64.zarr"),
                      str(out / "bench-dask" / "scores.zarr"))]
    assert da.from_zarr(calls[0][0]).shape == (64, 64)
    assert ("64² float32 zarr, 2 workers, 2.0 GiB in total: 12.3 s; peak RSS per worker: "
            "300.0 MiB, 301.0 MiB") in capsys.readouterr().out
    args = _bench_parser().parse_args(["match", "--bench-dask", str(tmp_path / "old"),
                                       "--dask-side", "64"])
    assert args.func(args) == 0
    assert calls[-1][1] == str(tmp_path / "old" / "scores.zarr")
    assert "--bench-dask DIR is deprecated" in capsys.readouterr().err
