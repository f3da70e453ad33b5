"""Layers: forward definitions, backward against finite differences, dtype, errors."""

import numpy as np
import pytest

import fftconv
from fftconv import nn

from .conftest import check_layer_gradients


def rng_for(*key):
    return np.random.default_rng([20261122, *key])


# -- backward against central differences, every layer --------------------------

CONV_CASES = [
    dict(in_channels=2, out_channels=3, kernel_size=3),
    dict(in_channels=2, out_channels=4, kernel_size=(3, 2), stride=2, padding=1),
    dict(in_channels=4, out_channels=4, kernel_size=3, padding="same", dilation=2, groups=2),
    dict(in_channels=3, out_channels=2, kernel_size=2, bias=False),
]


@pytest.mark.parametrize("backend", fftconv.available_backends())
@pytest.mark.parametrize("index", range(len(CONV_CASES)))
def test_conv2d_backward_matches_finite_differences(backend, index):
    kwargs = CONV_CASES[index]
    rng = rng_for(1, index)
    layer = nn.Conv2d(**kwargs, dtype=np.float64, seed=rng, backend=backend)
    if layer.bias is not None:
        layer.bias.data[:] = rng.standard_normal(layer.bias.shape)
    x = rng.standard_normal((2, kwargs["in_channels"], 7, 6))
    if backend == "winograd" and (kwargs.get("stride", 1) != 1 or kwargs.get("dilation", 1) != 1):
        with pytest.raises(NotImplementedError, match="winograd"):   # stride/dilation 1 only
            layer.forward(x)
        return
    check_layer_gradients(layer, x, rng)


def test_conv2d_with_connection_table_matches_finite_differences_and_keeps_zeros():
    rng = rng_for(2)
    table = nn.lenet5_connection_table()[:4, :5]          # a 4x5 sub-table
    layer = nn.Conv2d(5, 4, 3, connections=table, dtype=np.float64, seed=rng)
    x = rng.standard_normal((2, 5, 6, 6))
    check_layer_gradients(layer, x, rng)
    unconnected = ~table
    assert np.all(layer.weight.data[unconnected] == 0)
    assert np.all(layer.weight.grad[unconnected] == 0)
    # A step of any optimizer leaves the unconnected kernels at exactly zero.
    opt = nn.Adam(layer, lr=0.1, weight_decay=0.1)
    for _ in range(3):
        layer.zero_grad()
        layer.backward(layer.forward(x))
        opt.step()
    assert np.all(layer.weight.data[unconnected] == 0)
    # Outputs depend only on connected inputs.
    x2 = x.copy()
    x2[:, 4] += 100.0                       # input map 4 feeds only outputs with table[:, 4]
    changed = np.abs(layer.forward(x2) - layer.forward(x)).max(axis=(0, 2, 3)) > 0
    np.testing.assert_array_equal(changed, table[:, 4])


@pytest.mark.parametrize("make, shape", [
    (lambda: nn.MaxPool2d(2), (2, 3, 6, 6)),
    (lambda: nn.MaxPool2d(3, stride=2), (2, 2, 7, 8)),        # overlapping windows
    (lambda: nn.MaxPool2d((2, 3)), (1, 2, 5, 7)),             # uncovered rows/cols
    (lambda: nn.AvgPool2d(2), (2, 3, 6, 6)),
    (lambda: nn.AvgPool2d(3, stride=2), (2, 2, 7, 8)),
    (lambda: nn.Subsample2d(3, dtype=np.float64), (2, 3, 6, 6)),
    (lambda: nn.Subsample2d(2, (2, 3), dtype=np.float64), (1, 2, 5, 7)),
    (lambda: nn.ReLU(), (3, 4)),
    (lambda: nn.Sigmoid(), (3, 4)),
    (lambda: nn.Tanh(), (3, 4)),
    (lambda: nn.Tanh(1.7159, 2 / 3), (2, 3, 2, 2)),
    (lambda: nn.Flatten(), (2, 3, 2, 2)),
    (lambda: nn.Linear(5, 3, dtype=np.float64, seed=0), (4, 5)),
    (lambda: nn.Linear(5, 3, bias=False, dtype=np.float64, seed=0), (4, 5)),
    (lambda: nn.RBF(5, 3, dtype=np.float64, seed=0), (4, 5)),
])
def test_layer_backward_matches_finite_differences(make, shape):
    rng = rng_for(3, *shape)
    layer = make()
    for param in layer.parameters():
        param.data[...] = rng.standard_normal(param.shape)
    x = rng.standard_normal(shape)
    if isinstance(layer, nn.ReLU):
        x[np.abs(x) < 1e-3] = 0.5            # keep away from the kink
    check_layer_gradients(layer, x, rng)


def test_sequential_backward_matches_finite_differences():
    rng = rng_for(4)
    net = nn.Sequential(nn.Conv2d(1, 2, 3, dtype=np.float64, seed=rng), nn.Tanh(),
                        nn.Subsample2d(2, dtype=np.float64), nn.Sigmoid(),
                        nn.Conv2d(2, 3, 2, padding=1, dtype=np.float64, seed=rng), nn.ReLU(),
                        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(12, 2, dtype=np.float64,
                                                                 seed=rng))
    check_layer_gradients(net, rng.standard_normal((2, 1, 8, 8)), rng)


def test_first_layer_can_skip_the_input_gradient():
    rng = rng_for(5)
    net = nn.Sequential(nn.Conv2d(1, 2, 3, dtype=np.float64, seed=0), nn.ReLU())
    x = rng.standard_normal((2, 1, 6, 6))
    y = net(x)
    net.zero_grad()
    assert net.backward(np.ones_like(y), input_grad=False) is None
    skipped = net[0].weight.grad.copy()
    net.zero_grad()
    net.forward(x)
    assert net.backward(np.ones_like(y)).shape == x.shape
    np.testing.assert_array_equal(net[0].weight.grad, skipped)


# -- forward definitions ---------------------------------------------------------

def test_conv2d_forward_is_fftconv_conv2d_plus_bias():
    rng = rng_for(6)
    layer = nn.Conv2d(3, 4, 3, stride=2, padding=1, dtype=np.float64, seed=1)
    layer.bias.data[:] = rng.standard_normal(4)
    x = rng.standard_normal((2, 3, 9, 9))
    expected = fftconv.conv2d(x, layer.weight.data, layer.bias.data, stride=2, padding=1)
    np.testing.assert_array_equal(layer(x), expected)


def test_conv2d_backend_per_layer_beats_the_global_choice():
    layer = nn.Conv2d(1, 1, 3, backend="no-such-backend")
    with pytest.raises(ValueError, match=r"conv2d: parameter 'backend' must be one of"):
        layer(np.zeros((1, 1, 5, 5), np.float32))


def test_max_pool_takes_window_maxima_and_first_index_on_ties():
    x = np.array([[[[1.0, 5.0, 2.0, 2.0],
                    [3.0, 0.0, 2.0, 2.0],
                    [7.0, 7.0, -1.0, -4.0],
                    [7.0, 0.0, -3.0, -2.0]]]])
    pool = nn.MaxPool2d(2)
    np.testing.assert_array_equal(pool(x), [[[[5.0, 2.0], [7.0, -1.0]]]])
    np.testing.assert_array_equal(pool.switches, [[[[1, 0], [0, 0]]]])
    dx = pool.backward(np.array([[[[10.0, 20.0], [30.0, 40.0]]]]))
    expected = np.zeros_like(x)
    expected[0, 0, 0, 1], expected[0, 0, 0, 2] = 10, 20
    expected[0, 0, 2, 0], expected[0, 0, 2, 2] = 30, 40
    np.testing.assert_array_equal(dx, expected)


def test_max_pool_matches_a_window_by_window_loop():
    rng = rng_for(7)
    x = rng.standard_normal((2, 3, 9, 8))
    pool = nn.MaxPool2d(3, stride=2)
    y = pool(x)
    for i in range(y.shape[2]):
        for j in range(y.shape[3]):
            window = x[:, :, 2 * i:2 * i + 3, 2 * j:2 * j + 3]
            np.testing.assert_array_equal(y[:, :, i, j], window.max(axis=(2, 3)))


def test_avg_pool_and_subsample_relation():
    rng = rng_for(8)
    x = rng.standard_normal((2, 3, 6, 6))
    sub = nn.Subsample2d(3, dtype=np.float64)
    sub.weight.data[:] = [1.0, -2.0, 0.5]
    sub.bias.data[:] = [0.0, 1.0, -1.0]
    avg = nn.AvgPool2d(2)(x)
    expected = 4 * avg * sub.weight.data[:, None, None] + sub.bias.data[:, None, None]
    np.testing.assert_allclose(sub(x), expected, rtol=1e-12, atol=1e-12)
    # Fresh subsampling starts as average pooling.
    np.testing.assert_allclose(nn.Subsample2d(3, dtype=np.float64)(x), avg, rtol=1e-12)


def test_subsample_input_gradient_is_the_kronecker_upsampling():
    """Seed 002: ∂E/∂x = β · up(δ), up(δ) = δ ⊗ 1_{2×2}."""
    rng = rng_for(9)
    sub = nn.Subsample2d(1, dtype=np.float64)
    sub.weight.data[:] = 3.0
    sub(rng.standard_normal((1, 1, 4, 6)))
    delta = rng.standard_normal((1, 1, 2, 3))
    np.testing.assert_allclose(sub.backward(delta)[0, 0],
                               3.0 * np.kron(delta[0, 0], np.ones((2, 2))), rtol=1e-14)


def test_activations_values():
    x = np.array([-700.0, -1.0, 0.0, 1.0, 800.0])
    np.testing.assert_array_equal(nn.ReLU()(x), [0, 0, 0, 1, 800])
    with np.errstate(all="raise"):                     # no overflow for huge inputs
        s = nn.Sigmoid()(x)
    # Full relative accuracy even in the far tail (exp(-700) ≈ 1e-304).
    np.testing.assert_allclose(s, 1 / (1 + np.exp(-x)), rtol=1e-15)
    lecun = nn.Tanh(1.7159, 2 / 3)(np.array([-1.0, 1.0]))
    np.testing.assert_allclose(lecun, [-1.0, 1.0], atol=2e-5)      # f(±1) = ±1


def test_dropout_is_scaled_bernoulli_and_its_own_adjoint():
    rng = rng_for(10)
    drop = nn.Dropout(0.25, seed=3)
    x = rng.standard_normal((400, 50))
    y = drop(x)
    kept = y != 0
    assert abs(kept.mean() - 0.75) < 0.01
    np.testing.assert_allclose(y[kept], x[kept] / 0.75)
    r = rng.standard_normal(x.shape)
    # The map x -> y is linear with this mask, so <y, r> = <x, backward(r)>.
    np.testing.assert_allclose(np.sum(y * r), np.sum(x * drop.backward(r)), rtol=1e-12)
    drop.eval()
    assert drop(x) is x
    np.testing.assert_array_equal(drop.backward(r), r)
    # Same seed, same masks.
    np.testing.assert_array_equal(nn.Dropout(0.5, seed=1)(x), nn.Dropout(0.5, seed=1)(x))


def test_linear_forward():
    layer = nn.Linear(3, 2, dtype=np.float64, seed=0)
    x = np.arange(6.0).reshape(2, 3)
    layer.bias.data[:] = [1.0, -1.0]
    np.testing.assert_allclose(layer(x), x @ layer.weight.data.T + [1.0, -1.0])


def test_connection_table_is_lecun_table_one():
    """Rows of LeCun et al. (1998), Table I: which C3 maps read each S2 map."""
    paper = {0: "X...XXX..XXXX.XX", 1: "XX...XXX..XXXX.X", 2: "XXX...XXX..X.XXX",
             3: ".XXX..XXXX..X.XX", 4: "..XXX..XXXX.XX.X", 5: "...XXX..XXXX.XXX"}
    table = nn.lenet5_connection_table()
    for s2_map, row in paper.items():
        assert "".join("X" if c else "." for c in table[:, s2_map]) == row


@pytest.mark.parametrize("make", [
    lambda dt: nn.Conv2d(2, 3, 3, dtype=dt, seed=0),
    lambda dt: nn.Subsample2d(2, dtype=dt),
    lambda dt: nn.Linear(8, 3, dtype=dt, seed=0),
    lambda dt: nn.lenet5(dtype=dt),
])
def test_float32_stays_float32(make):
    for dt in (np.float32, np.float64):
        layer = make(dt)
        shape = (2, 1, 32, 32) if isinstance(layer, nn.Sequential) else (
            (2, 8) if isinstance(layer, nn.Linear) else (2, 2, 6, 6))
        x = np.ones(shape, dt)
        y = layer(x)
        assert y.dtype == dt
        layer.zero_grad()
        dx = layer.backward(np.ones_like(y))
        assert dx.dtype == dt
        assert all(p.grad.dtype == dt for p in layer.parameters())


def test_same_seed_same_weights_across_dtypes():
    a, b = nn.lenet5(seed=5, dtype="float64"), nn.lenet5(seed=5, dtype="float32")
    for (name, pa), (_, pb) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(pa.data.astype(np.float32), pb.data, err_msg=name)
    c = nn.lenet5(seed=6, dtype="float64")
    assert not np.array_equal(a["c1"].weight.data, c["c1"].weight.data)


def test_initialisation_variance():
    layer = nn.Linear(400, 300, dtype=np.float64, seed=0)
    assert abs(layer.weight.data.var() * 400 - 1.0) < 0.02          # lecun: 1/fan_in
    he = nn.Conv2d(16, 64, 5, init="he", dtype=np.float64, seed=0)
    assert abs(he.weight.data.var() * 16 * 25 - 2.0) < 0.05           # he: 2/fan_in
    assert np.all(he.bias.data == 0)


def test_repr_is_readable():
    text = repr(nn.lenet5(partial_connections=True))
    assert "(c3): Conv2d(6, 16, kernel_size=(5, 5), connections=60/96)" in text
    assert "(s2): Subsample2d(6, kernel_size=(2, 2))" in text
    assert repr(nn.MaxPool2d(3, 2)) == "MaxPool2d(kernel_size=(3, 3), stride=(2, 2))"
    assert repr(nn.Conv2d(1, 2, 3, padding="same", backend="im2col")) == \
        "Conv2d(1, 2, kernel_size=(3, 3), padding='same', backend='im2col')"


# -- errors ----------------------------------------------------------------------

@pytest.mark.parametrize("make, exc, pattern", [
    (lambda: nn.Conv2d(0, 2, 3), ValueError, r"Conv2d: parameter 'in_channels' must be a "
                                             r"positive int; got 0"),
    (lambda: nn.Conv2d(2, 2, 3.0), TypeError, r"Conv2d: parameter 'kernel_size'"),
    (lambda: nn.Conv2d(2, 2, 3, stride=0), ValueError, r"Conv2d: parameter 'stride'"),
    (lambda: nn.Conv2d(2, 2, 3, padding="full"), ValueError, r"Conv2d: parameter 'padding'"),
    (lambda: nn.Conv2d(3, 2, 3, groups=2), ValueError, r"Conv2d: parameter 'groups'"),
    (lambda: nn.Conv2d(2, 2, 3, dtype=np.float16), ValueError,
     r"Conv2d: parameter 'dtype' must be float32 or float64"),
    (lambda: nn.Conv2d(2, 2, 3, init="xavier"), ValueError,
     r"Conv2d: parameter 'init' must be one of 'lecun', 'he'; got 'xavier'"),
    (lambda: nn.Conv2d(2, 2, 3, connections=np.ones((2, 3), bool)), ValueError,
     r"parameter 'connections' must be a boolean array of shape .* \(2, 2\)"),
    (lambda: nn.Conv2d(2, 2, 3, connections=np.array([[1, 0], [0, 1]], bool), groups=2),
     ValueError, r"parameter 'groups' must be 1 when a connection table is given"),
    (lambda: nn.Conv2d(2, 2, 3, connections=np.array([[1, 1], [0, 0]], bool)), ValueError,
     r"every output map reads at least one input"),
    (lambda: nn.Conv2d(2, 2, 3, backend=3), TypeError, r"Conv2d: parameter 'backend'"),
    (lambda: nn.Conv2d(2, 2, 3, seed=-1), ValueError, r"Conv2d: parameter 'seed'"),
    (lambda: nn.Conv2d(2, 2, 3, seed="x"), TypeError, r"Conv2d: parameter 'seed'"),
    (lambda: nn.MaxPool2d(0), ValueError, r"MaxPool2d: parameter 'kernel_size'"),
    (lambda: nn.AvgPool2d(2, stride=(1, 0)), ValueError, r"AvgPool2d: parameter 'stride'"),
    (lambda: nn.Subsample2d(0), ValueError, r"Subsample2d: parameter 'channels'"),
    (lambda: nn.Tanh(amplitude=-1), ValueError, r"Tanh: parameter 'amplitude' must be a "
                                                r"positive real"),
    (lambda: nn.Tanh(slope="1"), TypeError, r"Tanh: parameter 'slope'"),
    (lambda: nn.Dropout(1.0), ValueError, r"Dropout: parameter 'p' must be a probability"),
    (lambda: nn.Dropout(None), TypeError, r"Dropout: parameter 'p'"),
    (lambda: nn.Linear(3, 0), ValueError, r"Linear: parameter 'out_features'"),
    (lambda: nn.Sequential(nn.ReLU(), "relu"), TypeError,
     r"Sequential: parameter 'modules' must be Module instances; got 'relu'"),
    (lambda: nn.Sequential({"a.b": nn.ReLU()}), ValueError, r"names without dots"),
    (lambda: nn.Sequential({"forward": nn.ReLU()}), ValueError, r"not Sequential attributes"),
])
def test_construction_errors(make, exc, pattern):
    with pytest.raises(exc, match=pattern):
        make()


@pytest.mark.parametrize("layer, x, pattern", [
    (nn.MaxPool2d(2), np.ones((1, 2, 4)), r"MaxPool2d: parameter 'x' must be a 4-d array"),
    (nn.MaxPool2d(3), np.ones((1, 1, 2, 5)), r"MaxPool2d: parameter 'x' must be an input of "
                                             r"at least the window size \(3, 3\)"),
    (nn.Subsample2d(3), np.ones((1, 2, 4, 4)), r"Subsample2d: parameter 'x' must be an array "
                                               r"with 3 channels"),
    (nn.Linear(3, 2), np.ones((2, 4)), r"Linear: parameter 'x' must be an array of shape "
                                       r"\(N, 3\)"),
    (nn.Linear(3, 2), [[1.0, 2.0, 3.0]], r"Linear: parameter 'x' must be a numpy.ndarray"),
    (nn.Conv2d(2, 1, 3), np.ones((1, 3, 5, 5), np.float32), r"conv2d: parameter 'w'"),
])
def test_forward_errors(layer, x, pattern):
    exc = TypeError if not isinstance(x, np.ndarray) else ValueError
    with pytest.raises(exc, match=pattern):
        layer(x)


def test_backward_before_forward_is_an_error():
    with pytest.raises(RuntimeError, match=r"Linear.backward: call forward first"):
        nn.Linear(2, 2).backward(np.ones((1, 2)))
