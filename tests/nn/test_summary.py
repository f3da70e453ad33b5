"""summary(): LeNet-5's published counts (seed 002) and seed 004's complexity formula."""

import numpy as np
import pytest

import fftconv
from fftconv import nn

#: LeCun et al. (1998), section II.B: trainable parameters and connections per layer.
LENET5_COUNTS = {"c1": (156, 122_304), "s2": (12, 5_880), "c3": (1_516, 151_600),
                 "s4": (32, 2_000), "c5": (48_120, 48_120), "f6": (10_164, 10_164)}


def test_lenet5_matches_the_paper():
    s = nn.summary(nn.lenet5(partial_connections=True), (1, 1, 32, 32))
    for name, (params, connections) in LENET5_COUNTS.items():
        assert (s[name].params, s[name].connections) == (params, connections), name
    shapes = {name: s[name].output_shape[1:] for name in LENET5_COUNTS}
    assert shapes == {"c1": (6, 28, 28), "s2": (6, 14, 14), "c3": (16, 10, 10),
                      "s4": (16, 5, 5), "c5": (120, 1, 1), "f6": (84,)}
    assert s.params == sum(p for p, _ in LENET5_COUNTS.values()) + 850
    assert s.params == nn.lenet5(partial_connections=True).num_parameters()


def test_conv_macs_are_the_spec_macs_and_scale_with_batch():
    net = nn.lenet5_modern()
    s1, s8 = nn.summary(net, (1, 1, 32, 32)), nn.summary(net, (8, 1, 32, 32))
    spec = fftconv.make_spec("test", (1, 6, 16, 16), (16, 6, 5, 5), padding=2)
    assert s1["c3"].macs == spec.macs == 16 * 16 * 16 * 5 * 5 * 6
    assert s8.macs == 8 * s1.macs and s8.params == s1.params
    assert s1["f5"].macs == 1024 * 120


def test_activation_memory_is_output_size_times_itemsize():
    s32 = nn.summary(nn.lenet5(), (2, 1, 32, 32))
    s64 = nn.summary(nn.lenet5(dtype="float64"), (2, 1, 32, 32))
    assert s32["c1"].activation_bytes == 2 * 6 * 28 * 28 * 4
    assert s64.activation_bytes == 2 * s32.activation_bytes


def test_summary_table_text():
    text = str(nn.summary(nn.lenet5(), (1, 1, 32, 32)))
    lines = text.splitlines()
    assert lines[0] == "input (1, 1, 32, 32)"
    assert lines[1].split() == ["layer", "type", "output", "shape", "params", "MACs",
                                "connections", "activations"]
    assert lines[-1].split()[:2] == ["total", "61,750"]
    assert any(line.split()[:2] == ["c1", "Conv2d"] and "122,304" in line for line in lines)


def test_summary_of_a_single_layer_and_errors():
    s = nn.summary(nn.Linear(10, 4), (3, 10))
    assert len(s.rows) == 1 and s.rows[0].output_shape == (3, 4) and s.macs == 120
    with pytest.raises(ValueError, match=r"summary: parameter 'input_shape' must be a "
                                         r"non-empty tuple of positive ints"):
        nn.summary(nn.lenet5(), (1, 1, 0, 32))
    with pytest.raises(TypeError, match=r"summary: parameter 'model' must be a fftconv.nn"):
        nn.summary("lenet5", (1, 1, 32, 32))
    with pytest.raises(ValueError, match=r"Linear: parameter 'x' must be a shape \(N, 120\)"):
        nn.summary(nn.lenet5(), (1, 1, 36, 36))
    with pytest.raises(KeyError):
        s["nope"]
    assert np.isscalar(s.activation_bytes)
