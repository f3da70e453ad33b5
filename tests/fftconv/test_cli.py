"""The fftconv command line."""

import dataclasses
import subprocess
import sys

import pytest

from fftconv.bench import (DEFAULT_LAYERS, Layer, format_table, parse_layer, run_layer_bench,
                           time_calls)
from fftconv.cli import main


def test_bench_prints_a_table_for_every_backend(capsys):
    status = main(["bench", "--layer", "N=1,C=2,H=8,W=8,O=2,K=3,P=1", "--repeats", "1",
                   "--no-peers", "--backward"])
    out = capsys.readouterr().out
    assert status == 0
    assert "1x2x8x8 -> 2@3x3 p=1" in out
    assert "forward+backward" in out
    for name in ("direct", "im2col"):
        assert name in out.splitlines()[0]


def test_bench_reports_bad_layer_text_naming_the_option(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["bench", "--layer", "N=1,C=2"])
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert "fftconv bench: error: argument --layer: must be comma-separated KEY=INT" in err
    assert "parameter 'text'" not in err and err.count("fftconv bench:") == 1


def test_python_dash_m_works_like_the_console_script():
    out = subprocess.run([sys.executable, "-m", "fftconv", "--help"], capture_output=True,
                         text=True, check=True).stdout
    assert "bench" in out and "demo" in out


def test_format_table_ratios():
    rows = run_layer_bench([Layer("tiny", 1, 1, 6, 6, 1, 3)], repeats=1, peers=())
    table = format_table(rows)
    assert "(1.00x)" in table
    assert table.splitlines()[-1] == ("Each cell: the median of 1 repeat, in ms; in brackets, "
                                      "that time ÷ the fastest in its row.")
    three = format_table([dataclasses.replace(rows[0], repeats=3)])
    assert "the median of 3 repeats, in ms" in three
    assert parse_layer("n=2,c=3,h=4,w=5,o=6,k=3,s=2,g=3").groups == 3
    assert len(DEFAULT_LAYERS) >= 5


def test_time_calls_interleaves_rounds_in_rotated_order(monkeypatch):
    import types

    from fftconv import timing
    now = [0.0]                          # a clock that moves only when a call runs
    monkeypatch.setattr(timing, "time", types.SimpleNamespace(perf_counter=lambda: now[0]))
    order = []
    cost = {"a": 0.5, "b": 0.25, "c": 2.0}

    def call(name):
        order.append(name)
        now[0] += cost[name]
    calls = {name: (lambda name=name: call(name)) for name in "abc"}
    medians = time_calls(calls, repeats=3, warmup=1, settle=0)
    assert medians == cost
    assert order[:3] == list("abc")                               # warmups
    assert order[3:] == list("abc") + list("bca") + list("cab")  # rotated rounds
    order.clear()
    time_calls(calls, repeats=2, warmup=0)                        # settle=1: steady state
    assert order == list("aabbcc") + list("bbccaa")


class _BrokenEntryPoint:
    """Stands in for an importlib.metadata.EntryPoint whose module does not import."""

    name, value, group = "broken", "nowhere.commands.broken:register", "fftconv.commands"

    def load(self):
        raise ImportError("No module named 'nowhere'")


def test_a_broken_plugin_names_its_entry_point_and_spares_the_others(capsys):
    from fftconv.cli import build_parser, command_entry_points

    parser = build_parser([*command_entry_points(), _BrokenEntryPoint()])
    args = parser.parse_args(["broken"])
    assert args.func(args) == 1
    err = capsys.readouterr().err
    assert "entry point broken = nowhere.commands.broken:register" in err
    assert "fftconv.commands" in err and "No module named 'nowhere'" in err
    assert parser.parse_args(["bench", "--layer", "N=1,C=1,H=4,W=4,O=1,K=3"]).command == "bench"


def test_a_plugin_that_fails_half_way_through_register_is_replaced_by_its_error(capsys):
    from fftconv.cli import build_parser

    class HalfRegistered(_BrokenEntryPoint):
        name, value = "half", "somewhere:register"

        def load(self):
            def register(subparsers):
                subparsers.add_parser("half")
                raise RuntimeError("register crashed")
            return register

    args = build_parser([HalfRegistered()]).parse_args(["half"])
    assert args.func(args) == 1
    assert "RuntimeError: register crashed" in capsys.readouterr().err
