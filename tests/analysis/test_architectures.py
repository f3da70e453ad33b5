"""The seeds' own numbers: LeNet-5 (seed 002), VGG-16 (seed 003), the bottleneck (seed 004)."""

import numpy as np
import pytest

from analysis.architectures import (BOTTLENECK_256, CONV3X3_256, LENET5, MODELS, VGG16,
                                    bottleneck_256, conv3x3_256, get_model, lenet5, vgg16)
from analysis.complexity import network_cost, receptive_field
from fftconv import nn


@pytest.fixture(scope="module")
def lenet():
    return network_cost(LENET5)


@pytest.fixture(scope="module")
def vgg():
    return network_cost(VGG16)


# -- seed 002: LeNet-5 ----------------------------------------------------------

@pytest.mark.parametrize("name, shape, params, connections", [
    # "(5*5+1)*6=156 parameters and (5*5+1)*(28*28)*6=122,304 connections"
    ("c1", (6, 28, 28), 156, 122_304),
    # "S2 has 12 trainable parameters (6*(1+1))"; LeCun: 5,880 connections
    ("s2", (6, 14, 14), 12, 5_880),
    # 60 kernels of the connection table + 16 biases; LeCun: 151,600 connections
    ("c3", (16, 10, 10), 1_516, 151_600),
    # "S4 has 32=(1+1)*16 trainable parameters"; LeCun: 2,000 connections
    ("s4", (16, 5, 5), 32, 2_000),
    # 120 maps of 1x1, fully connected to S4: (5*5*16+1)*120
    ("c5", (120, 1, 1), 48_120, 48_120),
    # "10164 = (120+1)*84 trainable parameters" (an FC layer's output is (N, F))
    ("f6", (84,), 10_164, 10_164),
])
def test_lenet5_layer_counts(lenet, name, shape, params, connections):
    row = lenet.row(name)
    assert row.output_shape == (1, *shape)
    assert row.params == params
    assert row.connections == connections


def test_lenet5_totals(lenet):
    trainable = sum(row.params for row in lenet.rows if row.kind != "rbf")
    assert trainable == 60_000                        # LeCun et al.: 60,000 parameters
    assert lenet.row("output").params == 10 * 84      # hand-set RBF vectors (7x12 bitmaps)
    assert lenet.params == 60_840
    assert lenet.row("output").output_shape == (1, 10)
    assert [row.name for row in lenet.rows] == ["input", "c1", "s2", "c3", "s4", "c5", "f6",
                                                "output"]


def test_lenet5_c3_connection_table():
    """The one table, fftconv.nn's, is the one LeNet-5's C3 is counted with."""
    table = nn.lenet5_connection_table()
    assert table.shape == (16, 6) and table.sum() == 60
    assert list(table.sum(axis=1)) == [3] * 6 + [4] * 9 + [6]
    assert all(table.sum(axis=0) == 10)               # every S2 map feeds 10 C3 maps
    # Seed 002's worked example: C3 map 3 reads S2 maps 3, 4 and 5.
    assert list(np.nonzero(table[3])[0]) == [3, 4, 5]
    np.testing.assert_array_equal(LENET5["c3"].mask[:, :, 0, 0] != 0, table)


def test_lenet5_receptive_fields_reach_the_whole_digit():
    fields = {f.name: f for f in receptive_field(LENET5)}
    assert fields["c1"].size == (5, 5)
    assert fields["s2"].size == (6, 6) and fields["s2"].jump == (2, 2)
    assert fields["c3"].size == (14, 14)
    assert fields["c5"].size == (32, 32) and fields["c5"].jump == (4, 4)


# -- seed 003: VGG-16 (CS231n's table) -----------------------------------------

#: Seed 003 row by row: (layer, output H, W, C as printed, memory, weights).
VGG16_TABLE = [
    ("input", (224, 224, 3), 224 * 224 * 3, 0),
    ("conv1_1", (224, 224, 64), 224 * 224 * 64, (3 * 3 * 3) * 64),
    ("conv1_2", (224, 224, 64), 224 * 224 * 64, (3 * 3 * 64) * 64),
    ("pool1", (112, 112, 64), 112 * 112 * 64, 0),
    ("conv2_1", (112, 112, 128), 112 * 112 * 128, (3 * 3 * 64) * 128),
    ("conv2_2", (112, 112, 128), 112 * 112 * 128, (3 * 3 * 128) * 128),
    ("pool2", (56, 56, 128), 56 * 56 * 128, 0),
    ("conv3_1", (56, 56, 256), 56 * 56 * 256, (3 * 3 * 128) * 256),
    ("conv3_2", (56, 56, 256), 56 * 56 * 256, (3 * 3 * 256) * 256),
    ("conv3_3", (56, 56, 256), 56 * 56 * 256, (3 * 3 * 256) * 256),
    ("pool3", (28, 28, 256), 28 * 28 * 256, 0),
    ("conv4_1", (28, 28, 512), 28 * 28 * 512, (3 * 3 * 256) * 512),
    ("conv4_2", (28, 28, 512), 28 * 28 * 512, (3 * 3 * 512) * 512),
    ("conv4_3", (28, 28, 512), 28 * 28 * 512, (3 * 3 * 512) * 512),
    ("pool4", (14, 14, 512), 14 * 14 * 512, 0),
    ("conv5_1", (14, 14, 512), 14 * 14 * 512, (3 * 3 * 512) * 512),
    ("conv5_2", (14, 14, 512), 14 * 14 * 512, (3 * 3 * 512) * 512),
    ("conv5_3", (14, 14, 512), 14 * 14 * 512, (3 * 3 * 512) * 512),
    ("pool5", (7, 7, 512), 7 * 7 * 512, 0),
    ("fc6", (1, 1, 4096), 4096, 7 * 7 * 512 * 4096),
    ("fc7", (1, 1, 4096), 4096, 4096 * 4096),
    ("fc8", (1, 1, 1000), 1000, 4096 * 1000),
]


def test_vgg16_rows_match_seed_003(vgg):
    assert [row.name for row in vgg.rows] == [name for name, *_ in VGG16_TABLE]
    for row, (name, (h, w, c), memory, weights) in zip(vgg.rows, VGG16_TABLE):
        # FC layers' outputs are (N, F): CS231n's 1x1xF.
        assert row.output_shape == ((1, c) if name.startswith("fc") else (1, c, h, w)), name
        assert row.activations == memory, name
        assert row.weights == weights, name
    # The seed's printed weights of the FC layers.
    assert [vgg.row(n).weights for n in ("fc6", "fc7", "fc8")] == [102_760_448, 16_777_216,
                                                                    4_096_000]


def test_vgg16_totals(vgg):
    # "TOTAL params: 138M parameters": CS231n counts weights only; biases add 13,416.
    assert vgg.weights == 138_344_128 and round(vgg.weights / 1e6) == 138
    assert vgg.params == 138_357_544 and round(vgg.params / 1e6) == 138
    # "the first FC layer contains 100M weights" of the ~140M.
    assert vgg.row("fc6").weights > 100e6
    # Forward activations, input included, at 4 bytes per value. The seed prints
    # "TOTAL memory: 24M * 4 bytes ~= 93MB / image", but its own memory column sums to
    # 15.2M values (a known slip of the CS231n notes: cs231n.github.io issue #88).
    assert vgg.activations == sum(memory for _, _, memory, _ in VGG16_TABLE) == 15_237_608
    assert vgg.activation_bytes == 4 * 15_237_608           # 58.1 MiB
    # "most of the memory is used in the early CONV layers, most parameters in the FC layers"
    early = sum(r.activations for r in vgg.rows[:7])      # input and the first 2 of 5 blocks
    assert early > 0.7 * vgg.activations
    assert sum(r.weights for r in vgg.rows if r.kind == "linear") > 0.85 * vgg.weights


def test_vgg16_receptive_field():
    # Araujo, Norris and Sim (Distill 2019): conv5_3 sees 196 pixels, pool5 212.
    fields = {f.name: f for f in receptive_field(VGG16)}
    assert fields["conv5_3"].size == (196, 196)
    assert fields["pool5"].size == (212, 212) and fields["pool5"].jump == (32, 32)


# -- seed 004: the 1x1 bottleneck ------------------------------------------------

def test_bottleneck_time_and_space_match_seed_004():
    plain, reduced = network_cost(CONV3X3_256), network_cost(BOTTLENECK_256)
    # Time complexity OH·OW·C_out·KH·KW·C_in: 100·100·256·3·3·256 = 5.89824e9 ...
    assert plain.macs == 100 * 100 * 256 * 3 * 3 * 256 == 5_898_240_000
    # ... vs 100·100·64·1·1·256 + 100·100·256·3·3·64 = 1.6384e9.
    assert reduced.macs == 100 * 100 * 64 * 256 + 100 * 100 * 256 * 9 * 64 == 1_638_400_000
    # Space complexity KH·KW·C_in·C_out + C_out (bias) + OH·OW·C_out: 3.15008e6 vs 3.36416e6.
    assert plain.space == 3_150_080
    assert reduced.space == 3_364_160
    assert plain.flops == 2 * plain.macs


def test_the_seeds_networks_are_shape_only_nn_models():
    for model in MODELS.values():
        assert isinstance(model, nn.Sequential) and not model.allocated
        assert all(p.data is None for p in model.parameters())
    fresh = vgg16()
    assert fresh is not VGG16 and fresh.num_parameters() == 138_357_544 and not fresh.allocated
    with pytest.raises(RuntimeError, match=r"Sequential.forward: layer 'conv1_1' \(Conv2d\) "
                                           r"has no weights"):
        VGG16(np.zeros((1, 3, 224, 224), np.float32))


def test_allocated_builds_run_and_count_the_same():
    for build in (lenet5, conv3x3_256, bottleneck_256):
        shape_only, full = build(), build(allocate=True)
        assert full.allocated
        assert network_cost(full).rows == network_cost(shape_only).rows
    y = lenet5(allocate=True)(np.zeros((2, 1, 32, 32), np.float32))
    assert y.shape == (2, 10)


def test_model_registry():
    assert set(MODELS) == {"lenet5", "vgg16", "conv3x3-256", "bottleneck-256"}
    assert get_model("vgg16") is VGG16
    with pytest.raises(ValueError, match=r"get_model: parameter 'name' must be one of "
                                         r"'lenet5', 'vgg16'.*; got 'alexnet'"):
        get_model("alexnet")
    with pytest.raises(TypeError, match=r"get_model: parameter 'name'"):
        get_model(None)
