"""``fftconv cost``: the counting literature's tables from the command line."""

import re

import pytest

import fftconv
from fftconv.cli import main


def run(capsys, *argv):
    status = main(["cost", *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def row_cells(out, name):
    line = next(line for line in out.splitlines() if line.split()[:1] == [name])
    return line.split()


def test_lenet5_table_matches_seed_002(capsys):
    status, out, _ = run(capsys, "lenet5")
    assert status == 0
    assert out.splitlines()[0] == "LeNet-5 (LeCun et al. 1998): batch 1, float32"
    # columns: layer, output, weights, params, connections, MACs, ...
    assert row_cells(out, "c1")[1:5] == ["6x28x28", "150", "156", "122,304"]
    assert row_cells(out, "s2")[3] == "12"
    assert row_cells(out, "c3")[3:5] == ["1,516", "151,600"]
    assert row_cells(out, "s4")[3] == "32"
    assert row_cells(out, "c5")[3] == "48,120"
    assert row_cells(out, "f6")[3] == "10,164"
    assert "parameters: 60,840 (60,592 weights + 248 biases)" in out
    assert row_cells(out, "c1")[7:10] == ["18.4", "KiB", "76.6"]       # binary units
    assert "9,118 values = 35.6 KiB at 4 bytes" in out
    assert out.splitlines()[-1] == (
        'source: Y. LeCun, L. Bottou, Y. Bengio and P. Haffner, "Gradient-based learning '
        'applied to document recognition", Proc. IEEE 86(11), 1998')
    assert not re.search(r"\bseed\b|\bkB\b|\bMB\b", out, re.I)


def test_vgg16_table_matches_seed_003(capsys):
    status, out, _ = run(capsys, "vgg16")
    assert status == 0
    assert row_cells(out, "conv1_1")[1:3] == ["64x224x224", "1,728"]
    assert row_cells(out, "fc6")[2] == "102,760,448"
    assert row_cells(out, "pool5")[-1] == "212/32"
    assert "(138,344,128 weights + 13,416 biases)" in out
    assert "15,237,608 values = 58.1 MiB at 4 bytes" in out     # CS231n's sum, in binary units
    assert out.splitlines()[-1].startswith("source: K. Simonyan and A. Zisserman, "
                                           '"Very deep convolutional networks')


def test_bottleneck_tables_match_seed_004(capsys):
    _, plain, _ = run(capsys, "conv3x3-256")
    _, reduced, _ = run(capsys, "bottleneck-256")
    assert "multiply-adds: 5,898,240,000;" in plain
    assert "multiply-adds: 1,638,400,000;" in reduced
    assert "space (parameters + layer outputs): 3,150,080 values" in plain
    assert "space (parameters + layer outputs): 3,364,160 values" in reduced


def test_backend_costs_add_one_column_per_backend(capsys):
    status, out, _ = run(capsys, "lenet5", "--backend-costs", "--batch", "8")
    assert status == 0
    lines = out.splitlines()
    assert lines[0].endswith("batch 8, float32")
    for name in fftconv.available_backends():
        assert f"{name} ms" in lines[1]
    assert lines[1].split()[-1] == "auto"
    assert row_cells(out, "c1")[-1] in fftconv.available_backends()
    assert row_cells(out, "f6")[-1] == "-"
    assert "not measurements" in lines[-2] and lines[-1].startswith("source: Y. LeCun")


def test_one_layer_spec(capsys):
    status, out, _ = run(capsys, "N=2,C=3,H=11,W=11,O=4,K=3,S=2", "--dtype", "float64")
    assert status == 0
    assert out.splitlines()[0] == "2x3x11x11 -> 4@3x3 s=2: batch 2, float64"
    assert row_cells(out, "conv")[1:4] == ["4x5x5", "108", "112"]
    assert re.search(r"multiply-adds: 5,400;", out)


@pytest.mark.parametrize("argv, message", [
    (["N=1,C=1,H=10,W=10,O=1,K=3,S=2"],
     "fftconv cost: error: network_cost (conv): parameter 'padding' must be a padding "
     "with which the windows tile"),
])
def test_errors_are_reported(capsys, argv, message):
    status, _, err = run(capsys, *argv)
    assert status == 1
    assert message in err


@pytest.mark.parametrize("argv, message", [
    (["alexnet"], "fftconv cost: error: argument MODEL|SPEC: must be a network name "
                  "(lenet5, vgg16, conv3x3-256, bottleneck-256) or a layer such as "
                  "N=1,C=3,H=32,W=32,O=16,K=3; got 'alexnet'"),
    (["N=1,C=1"], "fftconv cost: error: argument MODEL|SPEC: must be comma-separated "
                  "KEY=INT with keys N, C, H, W, O, K and optionally S, P, D, G; got 'N=1,C=1'"),
])
def test_a_bad_model_is_a_usage_error_naming_the_argument(capsys, argv, message):
    status, _, err = run(capsys, *argv)
    assert status == 2
    assert err.strip() == message and "parameter '" not in err


def test_fit_option_floor_and_pad(capsys):
    _, floor, _ = run(capsys, "N=1,C=1,H=10,W=10,O=1,K=3,S=2", "--fit", "floor")
    _, pad, _ = run(capsys, "N=1,C=1,H=10,W=10,O=1,K=3,S=2", "--fit", "pad")
    assert row_cells(floor, "conv")[1] == "1x4x4"
    assert row_cells(pad, "conv")[1] == "1x5x5"
