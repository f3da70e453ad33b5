"""The conventions every ``fftconv`` subcommand follows (fftconv.commands.options).

Every option's help states its default; values out of range are refused while
parsing, naming the option as typed, once, with exit status 2; progress follows
Keras' verbose levels; without PyTorch, ``bench`` says what is left out.
"""

import argparse
import io
import re

import numpy as np
import pytest

import fftconv.blas
import fftconv.select
from fftconv import nn, optional
from fftconv.cli import build_parser, main


def _subparsers():
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices


@pytest.mark.parametrize("name", sorted(_subparsers()))
def test_every_option_shows_its_default_in_help(name):
    sub = _subparsers()[name]
    missing = []
    for action in sub._actions:
        if isinstance(action, argparse._HelpAction) or action.help == argparse.SUPPRESS:
            continue
        if not action.option_strings and action.nargs not in ("?", "*"):
            continue                         # a required positional has no default
        text = sub.formatter_class(prog="x")._get_help_string(action) or ""
        if not re.search(r"\bdefault\b", text):
            missing.append(action.option_strings or action.dest)
    assert not missing, f"fftconv {name}: options without a default in --help: {missing}"
    assert "(s)" not in sub.format_help()


def test_commands_that_write_files_share_out_with_a_default():
    subs = _subparsers()
    for name, default in [("bench", "fftconv-bench"), ("train", "fftconv-train"),
                          ("demo", "fftconv-report"), ("spectrum", "fftconv-spectrum"),
                          ("diffuse", "fftconv-diffuse"), ("match", "fftconv-match")]:
        out = subs[name]._option_string_actions["--out"]
        assert out.default == default and out.metavar == "DIR" and not out.required
    out = subs["filter"]._option_string_actions["--out"]          # one zarr array
    assert out.default == "fftconv-filter.zarr" and out.metavar == "PATH"
    assert "must not exist yet" in out.help


@pytest.mark.parametrize("name", ["filter", "match"])
def test_dask_progress_follows_verbose_and_the_old_flag_is_hidden(name):
    sub = _subparsers()[name]
    assert sub.parse_args(["a", "b"]).verbose == 1
    assert sub.parse_args(["a", "b", "--verbose", "0"]).verbose == 0
    assert sub.parse_args(["a", "b", "--no-progress"]).verbose == 0
    assert "--no-progress" not in sub.format_help()


@pytest.mark.parametrize("argv", [["bench", "--dask", "--dask-side", "64"],
                                  ["match", "--bench-dask", "--dask-side", "64"]])
def test_the_dask_benchmarks_are_flags(argv):
    args = build_parser().parse_args(argv)
    assert (args.dask if argv[0] == "bench" else args.bench_dask) == ""
    assert args.dask_side == 64


@pytest.mark.parametrize("argv, option", [
    (["train", "--epochs", "-1"], "--epochs"), (["train", "--batch-size", "0"], "--batch-size"),
    (["train", "--weight-decay", "-1"], "--weight-decay"), (["train", "--seed", "-2"], "--seed"),
    (["bench", "--repeats", "0"], "--repeats"), (["bench", "--layer", "foo"], "--layer"),
    (["bench", "--threads", "0"], "--threads"), (["bench", "--kernels", "0"], "--kernels"),
    (["bench", "--verbose", "3"], "--verbose"), (["calibrate", "--repeats", "0"], "--repeats"),
    (["demo", "--epochs", "0"], "--epochs"), (["demo", "--seed", "-1"], "--seed"),
    (["cost", "lenet5", "--batch", "0"], "--batch"), (["spectrum", "--bins", "0"], "--bins"),
    (["diffuse", "--temperature", "0"], "--temperature"),
    (["diffuse", "--samples", "0"], "--samples"), (["match", "--chunks", "0"], "--chunks"),
    (["match", "--threshold", "nan"], "--threshold"),
    (["filter", "a", "b", "--chunks", "0"], "--chunks"), (["filter", "a", "b", "-v", "3"], "--verbose"),
    (["cost", "lenet5", "--dtype", "float16"], "--dtype"),
])
def test_out_of_range_values_are_refused_naming_the_option_once(argv, option, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert f"argument {option}" in err.splitlines()[-1]
    assert err.count(f"fftconv {argv[0]}:") == 1 and "parameter '" not in err


def test_a_normalized_threshold_out_of_its_range_is_refused(capsys):
    assert main(["match", "a.npy", "b.npy", "--threshold", "2"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == ("fftconv match: error: argument --threshold: must be in [-1, 1] "
                           "for --method ccoeff_normed (the range of its score); got 2")


def _data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 4)).astype(np.float32)
    return x, (x[:, 0] > 0).astype(np.int64)


def test_fit_verbose_0_is_silent_and_2_prints_one_line_per_epoch(capsys):
    x, y = _data()
    nn.fit(nn.Sequential(nn.Linear(4, 2, seed=0)), x, y, epochs=3, batch_size=8, verbose=0)
    assert capsys.readouterr().err == ""
    nn.fit(nn.Sequential(nn.Linear(4, 2, seed=0)), x, y, epochs=3, batch_size=8, verbose=2,
           validation_data=(x, y))
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 3
    for n, line in enumerate(lines, start=1):
        assert re.fullmatch(rf"epoch {n}/3: loss \d\.\d{{4}}, accuracy \d\.\d{{3}}, val loss "
                            r"\d\.\d{4}, val accuracy \d\.\d{3}, time \d+\.\d\d s", line), line


def test_fit_progress_alias_still_works_and_bad_verbose_is_refused(capsys):
    x, y = _data()
    nn.fit(nn.Sequential(nn.Linear(4, 2, seed=0)), x, y, epochs=2, progress=False)
    assert capsys.readouterr().err == ""
    with pytest.raises(ValueError, match=r"fit: parameter 'verbose' must be 0 \(silent\)"):
        nn.fit(nn.Sequential(nn.Linear(4, 2, seed=0)), x, y, verbose=3)


def test_verbose_1_is_lines_when_not_a_terminal_and_a_bar_on_one():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    assert optional.progress_mode(1, io.StringIO()) == "lines"
    assert optional.progress_mode("auto", Terminal()) == "bar"
    assert optional.progress_mode(2, Terminal()) == "lines"
    assert optional.progress_mode(0, Terminal()) == "off"


def test_bench_without_torch_says_the_torch_column_is_left_out(monkeypatch, capsys):
    real = optional.available
    monkeypatch.setattr(optional, "available", lambda m: False if m == "torch" else real(m))
    assert main(["bench", "--layer", "N=1,C=1,H=6,W=6,O=1,K=3", "--backend", "direct",
                 "--repeats", "1", "--verbose", "0"]) == 0
    captured = capsys.readouterr()
    assert ("PyTorch is not installed, so the torch column is left out; install it with "
            "pip install 'fftconv[bench]'") in captured.err
    assert "torch" not in captured.out.splitlines()[0]


def test_bench_verbose_2_prints_one_line_per_layer(monkeypatch, capsys):
    monkeypatch.setattr(fftconv.blas, "kernel_advice", lambda: None)    # no BLAS note line
    assert main(["bench", "--layer", "N=1,C=1,H=6,W=6,O=1,K=3", "--layer",
                 "N=1,C=1,H=8,W=8,O=1,K=3", "--backend", "direct", "--no-peers",
                 "--repeats", "1", "--verbose", "2"]) == 0
    lines = capsys.readouterr().err.splitlines()
    assert [l.split(":")[0] for l in lines] == ["layer 1/2", "layer 2/2"]
    assert all("fastest direct" in l and l.endswith(" s") for l in lines)


@pytest.mark.parametrize("argv", [
    ["bench", "--layer", "N=1,C=1,H=6,W=6,O=1,K=3", "--backend", "direct", "--no-peers",
     "--repeats", "1", "--verbose", "0"],
    ["calibrate", "--dry-run", "--dtype", "float32", "--repeats", "1", "--verbose", "0"],
])
def test_bench_and_calibrate_say_when_blas_runs_kernels_below_the_cpu(monkeypatch, capsys,
                                                                       argv):
    monkeypatch.setattr(fftconv.blas, "kernel_advice", lambda: "OpenBLAS runs its X kernels")
    if argv[0] == "calibrate":              # the note comes first; the fit is not the point
        monkeypatch.setattr(fftconv.select, "calibrate",
                            lambda *a, **k: ({}, {}))
        monkeypatch.setattr(fftconv.select, "calibration_steps", lambda dtypes: 1)
    assert main(argv) == 0
    first = capsys.readouterr().err.splitlines()[0]
    assert first == f"fftconv {argv[0]}: note: OpenBLAS runs its X kernels"
