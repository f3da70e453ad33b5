"""Shape-only layers and models (``allocate=False``), ``conv_spec`` and the RBF layer."""

import numpy as np
import pytest

import fftconv
from fftconv import nn


def test_shape_only_parameters_have_shapes_and_no_arrays():
    layer = nn.Linear(7 * 7 * 512, 4096, allocate=False)          # VGG-16's fc6
    assert layer.weight.data is None and layer.weight.grad is None
    assert layer.weight.shape == (4096, 25088) and layer.weight.size == 102_760_448
    assert layer.num_parameters() == 102_764_544 and not layer.allocated
    assert layer.dtype == np.float32
    assert repr(layer.weight) == "Parameter(shape=(4096, 25088), dtype=float32, shape only)"
    layer.zero_grad()                                              # nothing to clear
    assert layer.astype("float64").dtype == np.float64


@pytest.mark.parametrize("make", [
    lambda a: nn.Conv2d(6, 16, 5, connections=nn.lenet5_connection_table(), seed=0,
                        allocate=a),
    lambda a: nn.Conv2d(4, 6, (3, 2), stride=2, padding=1, groups=2, bias=False, seed=0,
                        allocate=a),
    lambda a: nn.Subsample2d(6, allocate=a),
    lambda a: nn.Linear(120, 84, seed=0, allocate=a),
    lambda a: nn.RBF(84, 10, seed=0, allocate=a),
    lambda a: nn.lenet5(partial_connections=True, output="rbf", allocate=a),
    lambda a: nn.lenet5_modern(dropout=0.5, allocate=a),
])
def test_shape_only_counts_like_the_allocated_layer(make):
    full, empty = make(True), make(False)
    assert full.allocated and not empty.allocated
    assert empty.num_parameters() == full.num_parameters()
    assert [(n, p.shape, p.dtype) for n, p in empty.named_parameters()] == \
        [(n, p.shape, p.dtype) for n, p in full.named_parameters()]
    assert repr(empty) == repr(full)
    if isinstance(full, nn.Sequential):
        shape = (2, *full.input_shape)
        assert nn.summary(empty, shape) == nn.summary(full, shape)


def test_shape_only_models_do_not_run():
    net = nn.lenet5(allocate=False)
    with pytest.raises(RuntimeError, match=r"Sequential.forward: layer 'c1' \(Conv2d\) has "
                                           r"no weights: it was built with allocate=False"):
        net(np.zeros((1, 1, 32, 32), np.float32))
    for layer, x in [(nn.Conv2d(1, 2, 3, allocate=False), np.zeros((1, 1, 5, 5))),
                     (nn.Linear(3, 2, allocate=False), np.zeros((1, 3))),
                     (nn.Subsample2d(1, allocate=False), np.zeros((1, 1, 2, 2))),
                     (nn.RBF(3, 2, allocate=False), np.zeros((1, 3)))]:
        name = type(layer).__name__
        with pytest.raises(RuntimeError, match=rf"{name}.forward: layer {name} has no weights"):
            layer(x)
    mixed = nn.Sequential({"a": nn.Linear(3, 3), "b": nn.Linear(3, 2, allocate=False)})
    with pytest.raises(RuntimeError, match=r"layer 'b' \(Linear\) has no weights"):
        mixed(np.zeros((1, 3), np.float32))
    with pytest.raises(RuntimeError, match=r"Sequential.state_dict: layer 'b' \(Linear\)"):
        mixed.state_dict()
    with pytest.raises(RuntimeError, match=r"Sequential.load_state_dict: layer 'b'"):
        mixed.load_state_dict({})


def test_allocate_must_be_a_bool():
    with pytest.raises(TypeError, match=r"Conv2d: parameter 'allocate' must be a bool"):
        nn.Conv2d(1, 1, 3, allocate=0)
    with pytest.raises(TypeError, match=r"lenet5: parameter 'allocate' must be a bool"):
        nn.lenet5(allocate="no")
    with pytest.raises(ValueError, match=r"lenet5: parameter 'output' must be one of "
                                         r"'linear', 'rbf'; got 'softmax'"):
        nn.lenet5(output="softmax")


@pytest.mark.parametrize("kwargs", [dict(), dict(stride=2, padding=1),
                                    dict(padding="same", dilation=2), dict(groups=2)])
def test_conv_spec_is_the_layer_geometry(kwargs):
    layer = nn.Conv2d(4, 6, 3, seed=0, dtype=np.float64, **kwargs)
    x = np.random.default_rng(0).standard_normal((2, 4, 9, 11))
    spec = layer.conv_spec(x.shape)
    assert isinstance(spec, fftconv.ConvSpec) and spec.dtype == np.float64
    assert spec.output_shape == layer(x).shape == layer.output_shape(x.shape)
    assert layer.conv_spec(x.shape, dtype="float32").dtype == np.float32
    assert nn.Conv2d(4, 6, 3, allocate=False, **kwargs).conv_spec(x.shape) == \
        layer.conv_spec(x.shape, dtype="float32")


@pytest.mark.parametrize("layer", [nn.MaxPool2d(2), nn.MaxPool2d(3, stride=2),
                                   nn.AvgPool2d((2, 3)), nn.Subsample2d(3, allocate=False)])
def test_pool_conv_spec_is_a_depthwise_window(layer):
    shape = (2, 3, 9, 8)
    spec = layer.conv_spec(shape)
    assert spec.groups == 3 and spec.weight_shape == (3, 1, *layer.kernel_size)
    assert spec.output_shape == layer.output_shape(shape)


def test_rbf_is_the_squared_distance_to_each_centre():
    rng = np.random.default_rng(1)
    rbf = nn.RBF(6, 4, dtype=np.float64, seed=0)
    assert set(np.unique(rbf.weight.data)) == {-1.0, 1.0}
    x = rng.standard_normal((5, 6))
    expected = ((x[:, None, :] - rbf.weight.data[None]) ** 2).sum(axis=2)
    np.testing.assert_allclose(rbf(x), expected, rtol=1e-12, atol=1e-12)
    rbf.weight.data[2] = x[3]
    assert 0 <= rbf(x)[3, 2] < 1e-12                # clipped at 0: never negative
    with pytest.raises(ValueError, match=r"RBF: parameter 'x' must be an array of shape "
                                         r"\(N, 6\)"):
        rbf(np.ones((1, 5)))


def test_paper_lenet5_counts_and_runs():
    net = nn.lenet5(partial_connections=True, output="rbf", dtype="float64")
    assert net.input_shape == (1, 32, 32) and net.name == "LeNet-5 (LeCun et al. 1998)"
    assert net.num_parameters() == 60_000 + 840
    y = net(np.zeros((2, 1, 32, 32)))
    assert y.shape == (2, 10) and (y >= 0).all()
    assert net.architecture["kwargs"]["output"] == "rbf"
    assert "output" not in nn.lenet5().architecture["kwargs"]
    assert nn.build_model("lenet5", **net.architecture["kwargs"]).num_parameters() == 60_840


def test_sequential_input_shape_and_name_errors():
    with pytest.raises(ValueError, match=r"Sequential: parameter 'input_shape' must be None "
                                         r"or a non-empty tuple of positive ints"):
        nn.Sequential(nn.ReLU(), input_shape=(1, 0))
    with pytest.raises(TypeError, match=r"Sequential: parameter 'name' must be a str"):
        nn.Sequential(nn.ReLU(), name=3)
    assert nn.Sequential(nn.ReLU()).input_shape is None


def test_optimizers_refuse_shape_only_parameters():
    with pytest.raises(ValueError, match=r"SGD: parameter 'params' must be parameters with "
                                         r"values \(these were built with allocate=False\)"):
        nn.SGD(nn.Linear(3, 2, allocate=False), lr=0.1)
