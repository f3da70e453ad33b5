"""The sweep's summary and crossover figure, from SweepRow data built by hand (no timing)."""

import pytest

from fftconv.bench import (AUTO_MISS, Layer, SweepRow, crossover_figure, crossovers,
                           curve_crossovers, format_sweep, lead_changes, sweep_summary)
from fftconv.style import backend_colour


def _row(k, seconds, auto, quartiles=None, borrowed=()):
    return SweepRow(Layer(f"k{k}", 1, 4, 32, 32, 4, k), seconds, auto, borrowed=borrowed,
                    quartiles=quartiles or {n: (0.9 * t, 1.1 * t) for n, t in seconds.items()})


def test_same_code_is_read_from_the_backends_not_the_timings():
    pointwise, k3 = _row(1, {"direct": 1.0, "im2col": 1.0}, "direct"), _row(3, {}, "fft")
    assert pointwise.same_code("direct", "im2col") and not k3.same_code("direct", "im2col")
    assert not pointwise.same_code("direct", "fft") and not pointwise.same_code("direct", "torch")


def test_a_tie_of_one_code_path_is_no_crossover():
    # at 1x1 direct and im2col run one computation (timed once, equal times); after
    # that im2col stays ahead: no swap anywhere
    rows = [_row(1, {"direct": 1e-3, "im2col": 1e-3}, "direct", borrowed=("im2col",)),
            _row(3, {"direct": 3e-3, "im2col": 2e-3}, "im2col"),
            _row(5, {"direct": 6e-3, "im2col": 4e-3}, "im2col")]
    # noise between two timings of one code path would otherwise look like a swap
    assert len(crossovers([1, 3, 5], [0.9, 3, 6], [1, 2, 4])) == 1
    assert crossovers([1, 3, 5], [0.9, 3, 6], [1, 2, 4], [True, False, False]) == []
    assert curve_crossovers(rows) == []
    fig = crossover_figure([("toy", rows)])
    assert not fig.axes[0].texts and not [l for l in fig.axes[0].lines if l.get_linestyle() == ":"]


def test_crossovers_of_different_code_are_interpolated_and_ties_in_between_count_once():
    assert crossovers([1, 3, 5], [1.0, 2.0, 4.0], [4.0, 2.0, 1.0]) == [3.0]
    assert crossovers([1, 3], [1.0, 2.0], [2.0, 1.0]) == [pytest.approx(2.0)]
    assert crossovers([1, 3, 5], [1.0, 1.0, 1.0], [2.0, 1.0, 2.0]) == []      # a touch
    rows = [_row(k, {"direct": 1e-3 * k, "fft": 4e-3}, "fft") for k in (1, 3, 5, 7)]
    assert [(a, b) for a, b, _ in curve_crossovers(rows)] == [("direct", "fft")]


def test_auto_misses_are_marked_in_the_figure_and_the_table():
    rows = [_row(1, {"direct": 1e-3, "fft": 5e-3}, "direct"),
            _row(3, {"direct": 1.0e-3, "fft": 1.25e-3}, "fft"),        # 1.25x: a miss
            _row(5, {"direct": 1.0e-3, "fft": 1.15e-3}, "fft")]        # 1.15x: fine
    assert AUTO_MISS == 1.2
    ax = crossover_figure([("toy", rows)]).axes[0]
    (triangles,) = [c for c in ax.collections if c.get_label().startswith("auto >")]
    assert triangles.get_label() == "auto > 1.2× slower"
    assert [tuple(p) for p in triangles.get_offsets()] == [(3.0, pytest.approx(1.25))]
    table = format_sweep(rows).splitlines()
    assert "1.25!" in table[3] and "!" not in table[2] and "!" not in table[4]
    assert sweep_summary(rows)["auto_within"] == 2


def test_the_figure_draws_the_spread_of_the_repeats_in_the_backend_colours():
    rows = [_row(k, {"direct": 1e-3 * k, "fft": 4e-3}, "direct") for k in (1, 3, 5)]
    ax = crossover_figure([("toy", rows)]).axes[0]
    lines = {l.get_label(): l for l in ax.lines}
    assert lines["direct"].get_color() == backend_colour("direct")
    assert lines["fft"].get_color() == backend_colour("fft")
    bands = [c for c in ax.collections if c.get_paths() and c.get_label().startswith("_")
             and len(c.get_paths()[0].vertices) > 4]
    assert len(bands) == 2
    top = max(v[1] for v in bands[0].get_paths()[0].vertices)
    assert top == pytest.approx(1.1 * 5)                     # q3 of direct at k = 5, in ms


def test_sweep_json_keeps_the_quartiles_and_reads_back_the_same_rows(tmp_path):
    from fftconv.bench import read_sweep, write_sweep
    from fftconv.jsonfiles import JSONFileError

    rows = [SweepRow(Layer("resnet", 8, 64, 28, 28, 64, 3, padding=1), {"direct": 2e-3,
                                                                       "fft": 3e-3},
                     "direct", tuned="fft", skipped=("winograd",),
                     quartiles={"direct": (1.9e-3, 2.2e-3), "fft": (2.8e-3, 3.5e-3)})]
    curve = [_row(1, {"direct": 1e-3, "im2col": 1e-3}, "direct", borrowed=("im2col",)),
             _row(3, {"direct": 3e-3, "im2col": 2e-3}, "im2col")]
    path = write_sweep(tmp_path / "sweep.json", rows, [((1, 4, 32), curve)], threads=2)
    back = read_sweep(path)
    assert back["dtype"] == "float32" and back["threads"] == 2
    assert back["rows"] == rows                       # layer, medians, quartiles, choices
    assert back["curves"] == [((1, 4, 32), curve)]
    assert back["curves"][0][1][0].quartiles["im2col"] == pytest.approx((0.9e-3, 1.1e-3))
    # the figure redraws from the file: the bands are the written quartiles
    ax = crossover_figure([("toy", back["curves"][0][1])]).axes[0]
    assert any(c.get_paths() and max(v[1] for v in c.get_paths()[0].vertices)
               == pytest.approx(1.1 * 3) for c in ax.collections)
    text = path.read_text()
    path.write_text(text.replace("0.0022", "0.0011"))     # q3 below q1: not what was written
    with pytest.raises(JSONFileError, match=r"sweep\['rows'\]\[0\]\['quartiles'\]\['direct'\]"):
        read_sweep(path)


def test_fftconv_bench_writes_a_sweep_json_that_reads_back(tmp_path, capsys):
    from fftconv.bench import read_sweep
    from fftconv.cli import main

    status = main(["bench", "--kernels", "1", "--sizes", "8", "--channels", "1", "--repeats",
                   "1", "--no-figure", "--no-autotune-check", "--out", str(tmp_path),
                   "--verbose", "0"])
    assert status == 0
    back = read_sweep(tmp_path / "sweep.json")
    (row,) = back["rows"]
    assert row.layer.k == 1 and back["curves"] == []
    assert set(row.quartiles) == set(row.seconds)
    assert all(q1 <= row.seconds[n] <= q3 for n, (q1, q3) in row.quartiles.items())


def test_only_changes_of_the_fastest_are_labelled_the_rest_are_axis_ticks():
    # fft takes the lead from direct between 3 and 5; im2col passes direct between
    # 5 and 7, behind fft: a crossover, but not where the lowest line changes
    rows = [_row(1, {"direct": 1e-3, "im2col": 1e-3, "fft": 8e-3}, "direct",
                 borrowed=("im2col",)),
            _row(3, {"direct": 2e-3, "im2col": 3e-3, "fft": 4e-3}, "direct"),
            _row(5, {"direct": 5e-3, "im2col": 6e-3, "fft": 3e-3}, "fft"),
            _row(7, {"direct": 9e-3, "im2col": 7e-3, "fft": 3e-3}, "fft")]
    changes, others = lead_changes(rows)
    assert [(a, b) for a, b, _ in changes] == [("direct", "fft")]
    assert 3 < changes[0][2] < 5
    assert sorted((a, b) for a, b, _ in others) == [("direct", "im2col"), ("im2col", "fft")]
    assert all(k > 1 for _, _, k in others)            # nothing at the shared 1x1 point
    fig = crossover_figure([("toy", rows)])
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts] == [f"direct→fft\nk≈{changes[0][2]:.1f}"]
    (ticks,) = [l for l in ax.lines if l.get_label().startswith("other crossovers")]
    assert list(ticks.get_xdata()) == pytest.approx(sorted(k for _, _, k in others))
    # the legend sits outside the axes, not on the data
    assert ax.get_legend() is None and len(fig.legends) == 1
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels[:3] == ["direct", "im2col", "fft"] and "auto's choice" in labels
